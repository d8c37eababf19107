//! Punctuation: spoken marks and layout commands ("comma", "new paragraph"),
//! tidying marks left next to each other or at a sentence start, and full
//! stops at the end of paragraphs.

use super::doc::{longest, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

/// Spoken marks and commands with the token each one becomes.
const SPOKEN: &[(&[&str], (Kind, &str))] = &[
    (&["comma"], (Kind::Punct, ",")),
    (&["period"], (Kind::Punct, ".")),
    (&["full", "stop"], (Kind::Punct, ".")),
    (&["dot", "dot", "dot"], (Kind::Punct, "...")),
    (&["ellipsis"], (Kind::Punct, "...")),
    (&["question", "mark"], (Kind::Punct, "?")),
    (&["exclamation", "point"], (Kind::Punct, "!")),
    (&["exclamation", "mark"], (Kind::Punct, "!")),
    (&["colon"], (Kind::Punct, ":")),
    (&["semicolon"], (Kind::Punct, ";")),
    (&["semi", "colon"], (Kind::Punct, ";")),
    (&["new", "line"], (Kind::Line, "\n")),
    (&["newline"], (Kind::Line, "\n")),
    (&["next", "line"], (Kind::Line, "\n")),
    (&["new", "paragraph"], (Kind::Paragraph, "\n\n")),
    (&["next", "paragraph"], (Kind::Paragraph, "\n\n")),
    (&["open", "quote"], (Kind::Open, "\"")),
    (&["begin", "quote"], (Kind::Open, "\"")),
    (&["close", "quote"], (Kind::Punct, "\"")),
    (&["end", "quote"], (Kind::Punct, "\"")),
    (&["unquote"], (Kind::Punct, "\"")),
    (&["open", "paren"], (Kind::Open, "(")),
    (&["open", "parenthesis"], (Kind::Open, "(")),
    (&["close", "paren"], (Kind::Punct, ")")),
    (&["close", "parenthesis"], (Kind::Punct, ")")),
];

/// Turns spoken punctuation and layout commands into marks and breaks,
/// unless the words name a thing ("a new line of products", "the trial period").
pub(crate) struct SpokenPunctuation;

impl Rule for SpokenPunctuation {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.is_english() && request.options.spoken_punctuation
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if let Some((n, &(kind, text))) = longest(p.rest(), SPOKEN) {
                if !p.spoken_as_word(n) {
                    p.replace_next(n, vec![Token::dictated(kind, text)], EditKind::Punctuation);
                }
            }
        });
    }
}

/// Which of two adjacent marks to keep: dictated beats undictated, a
/// sentence end beats a clause mark.
fn strength(t: &Token) -> u8 {
    u8::from(t.dictated) * 2 + u8::from(t.is_terminal())
}

/// Tidies marks: drops an undictated mark that opens a sentence, the weaker
/// of two adjacent marks (", ." -> "."), and an undictated comma ending the text.
pub(crate) struct Tidy;

impl Rule for Tidy {
    fn applies(&self, _: &EnhanceRequest) -> bool {
        true
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let Some(head) = p.rest().first().filter(|t| t.is_soft() || t.is_terminal()) else {
                return;
            };
            let prev = p.out.last().filter(|t| t.is_soft() || t.is_terminal());
            if let Some(prev) = prev {
                let (a, b) = (strength(prev), strength(head));
                if a > b || (a == b && prev.text == head.text) {
                    p.drop_next(1, EditKind::Punctuation);
                } else {
                    let gone = p.take_back(p.out.len() - 1);
                    p.record(EditKind::Punctuation, &gone, &[]);
                }
            } else if !head.dictated
                && (p.at_sentence_start() || (head.is_comma() && p.rest().len() == 1))
            {
                p.drop_next(1, EditKind::Punctuation);
            }
        });
    }
}

/// Ends every paragraph with a full stop when it ends with a word (plain
/// dictation, email and documents).
pub(crate) struct EndSentences;

impl Rule for EndSentences {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        matches!(
            request.context,
            Context::General | Context::Email | Context::Document
        )
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let rest = p.rest();
            if rest[0].kind == Kind::Paragraph || rest.iter().all(Token::is_break) {
                p.close_sentence();
            } else if rest.len() == 1 {
                p.keep(1);
                p.close_sentence();
            }
        });
    }
}
