//! Documents: headings said as "heading ..." ("# ...") or "subheading ..."
//! ("## ..."), each a paragraph of its own.

use super::doc::{is_word, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

/// Turns "heading <words>" at the start of a line into a Markdown heading
/// that runs to the next sentence end or break, then a blank line.
pub(crate) struct Headings;

impl Rule for Headings {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.context == Context::Document && request.is_english()
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let rest = p.rest();
            let level = if is_word(rest.first(), "heading") {
                1
            } else if is_word(rest.first(), "subheading") {
                2
            } else {
                return;
            };
            let line_start = p.out.last().is_none_or(Token::is_break);
            // A mark the transcriber put after the command ("Heading. Results.").
            let mark = usize::from(
                rest.get(1)
                    .is_some_and(|t| !t.dictated && (t.is_terminal() || t.is_soft())),
            );
            let first = 1 + mark;
            if !line_start || rest.get(first).is_none_or(|t| t.kind != Kind::Word) {
                return;
            }
            let words = rest[first..]
                .iter()
                .take_while(|t| !(t.is_terminal() || t.is_break()))
                .count();
            let mut before = p.take(first + words);
            let mut after = vec![Token::new(Kind::Symbol, "#".repeat(level))];
            after.extend(before[first..].iter().cloned());
            while p
                .rest()
                .first()
                .is_some_and(|t| t.text == "." && t.kind == Kind::Punct || t.is_break())
            {
                before.extend(p.take(1));
            }
            if !p.rest().is_empty() {
                after.push(Token::new(Kind::Paragraph, "\n\n"));
            }
            p.record(EditKind::Layout, &before, &after);
            p.out.extend(after);
        });
    }
}
