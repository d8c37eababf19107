//! Lists said with ordinals: "we need three things first milk second eggs
//! third bread" -> "we need three things: first, milk; second, eggs; third,
//! bread". Only in unpunctuated speech, only when "first" follows a word
//! that can end a lead-in (not "the first", "at first") and at least
//! "second" follows, each item one to six words.

use super::doc::{is_any, is_word, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

/// The ordinals that open items, in order.
const ORDINALS: &[&str] = &["first", "second", "third", "fourth", "fifth"];

/// Words before "first" that make it part of a phrase ("the first step",
/// "at first", "come first").
const NOT_LEAD_IN: &[&str] = &[
    "the", "a", "at", "my", "your", "our", "their", "his", "her", "its", "this", "that", "is",
    "was", "be", "are", "were", "come", "comes", "came", "go", "goes", "went", "put", "puts",
    "and", "or", "love", "sight", "aid", "very",
];

/// The longest an item may be, in words.
const LONGEST_ITEM: usize = 6;

/// The items of a list at the start of `tokens` (which starts with
/// "first"): the length of each item in words, or `None` when it is not a
/// list.
fn items(tokens: &[Token]) -> Option<Vec<usize>> {
    let mut lengths = Vec::new();
    let mut i = 0;
    while let Some(ordinal) = ORDINALS.get(lengths.len()) {
        if !is_word(tokens.get(i), ordinal) {
            break;
        }
        let item = tokens[i + 1..]
            .iter()
            .take_while(|t| {
                t.kind == Kind::Word
                    && !is_word(Some(t), ORDINALS.get(lengths.len() + 1).unwrap_or(&""))
            })
            .count();
        if item == 0 || item > LONGEST_ITEM || is_word(tokens.get(i + 1), "of") {
            return None;
        }
        lengths.push(item);
        i += 1 + item;
    }
    let ends = tokens
        .get(i)
        .is_none_or(|t| t.is_terminal() || t.is_break());
    (lengths.len() >= 2 && ends).then_some(lengths)
}

/// Writes spoken ordinal lists inline with a colon and semicolons (not in
/// code).
pub(crate) struct Lists;

impl Rule for Lists {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.is_english() && request.context != Context::Code
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let lead_in = p
                .out
                .last()
                .is_some_and(|t| t.kind == Kind::Word && !is_any(Some(t), NOT_LEAD_IN));
            if !lead_in || !is_word(p.rest().first(), "first") {
                return;
            }
            let Some(lengths) = items(p.rest()) else {
                return;
            };
            let spoken: usize = lengths.iter().map(|n| n + 1).sum();
            let before = p.take(spoken);
            let mut after = vec![Token::new(Kind::Punct, ":")];
            let mut i = 0;
            for (k, n) in lengths.iter().enumerate() {
                if k > 0 {
                    after.push(Token::new(Kind::Punct, ";"));
                }
                after.push(before[i].clone());
                after.push(Token::new(Kind::Punct, ","));
                after.extend(before[i + 1..i + 1 + n].iter().cloned());
                i += 1 + n;
            }
            p.record(EditKind::Punctuation, &before, &after);
            p.out.extend(after);
        });
    }
}
