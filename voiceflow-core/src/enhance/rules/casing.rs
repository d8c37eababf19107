//! Capital letters: the first word of every sentence, line and paragraph, the
//! pronoun "I" ("i", "i'm", "i'll", ...), days of the week and months ("may"
//! and "march" only next to a date: "in may", "march 21st"). Nothing is ever
//! lower-cased.

use super::doc::{capitalize, eq_ci, is_any, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::{Edit, EditKind};
use crate::Context;

/// Whether `word` is the pronoun "i", alone or contracted ("i'm", "i’d").
fn is_pronoun_i(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next() == Some('i')
        && match chars.next() {
            None => true,
            Some('\'' | '’') => matches!(chars.as_str(), "m" | "ll" | "ve" | "d"),
            Some(_) => false,
        }
}

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Months that are also common words ("you may", "march on").
const AMBIGUOUS_MONTHS: &[&str] = &["may", "march"];

/// Words before "may" or "march" that make it the month.
const BEFORE_MONTH: &[&str] = &[
    "in", "of", "since", "until", "early", "late", "mid", "next", "last",
];

/// Whether `word` is a day of the week (any case).
pub(crate) fn is_weekday(word: &str) -> bool {
    WEEKDAYS.iter().any(|d| eq_ci(d, word))
}

/// Whether `word` is a month (any case).
pub(crate) fn is_month(word: &str) -> bool {
    MONTHS.iter().any(|m| eq_ci(m, word))
}

/// Whether the word at `i` is a day or month name to capitalise: always,
/// but "may" and "march" only after "in", "of", ... or before a number.
fn is_calendar_name(tokens: &[Token], i: usize) -> bool {
    let word = &tokens[i].text;
    if is_weekday(word) {
        return true;
    }
    if !is_month(word) {
        return false;
    }
    let ambiguous = AMBIGUOUS_MONTHS.iter().any(|m| eq_ci(m, word));
    !ambiguous
        || (i > 0 && is_any(tokens.get(i - 1), BEFORE_MONTH))
        || tokens.get(i + 1).is_some_and(|t| {
            t.kind == Kind::Word && t.text.starts_with(|c: char| c.is_ascii_digit())
        })
}

/// Capitalises sentence starts and "I" everywhere but in code. A dictionary
/// word is capitalised only when it is all lower case (so "iPhone" stays).
pub(crate) struct Capitalize;

impl Rule for Capitalize {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.context != Context::Code
    }

    fn apply(&self, doc: &mut Doc) {
        let english = doc.request.is_english();
        let mut at_start = true;
        let mut edits = Vec::new();
        let calendar: Vec<bool> = (0..doc.tokens.len())
            .map(|i| english && !doc.tokens[i].protected && is_calendar_name(&doc.tokens, i))
            .collect();
        for (t, calendar) in doc.tokens.iter_mut().zip(calendar) {
            match t.kind {
                Kind::Word => {
                    let lower_start = t.text.starts_with(char::is_lowercase);
                    // A word cased on purpose ("iPhone", "eBay") keeps its casing.
                    let may_change = !t.text.chars().any(char::is_uppercase);
                    let pronoun = english && !t.protected && is_pronoun_i(&t.text);
                    if lower_start && may_change && (at_start || pronoun || calendar) {
                        let fixed = capitalize(&t.text);
                        edits.push(Edit {
                            kind: EditKind::Capitalization,
                            before: std::mem::replace(&mut t.text, fixed),
                            after: t.text.clone(),
                        });
                    }
                    at_start = false;
                }
                Kind::Line | Kind::Paragraph => at_start = true,
                Kind::Punct if t.is_terminal() => at_start = true,
                _ => {}
            }
        }
        doc.edits.extend(edits);
    }
}

#[cfg(test)]
mod tests {
    use super::is_pronoun_i;

    #[test]
    fn pronoun_i_and_its_contractions() {
        for (word, want) in [
            ("i", true),
            ("i'm", true),
            ("i’ll", true),
            ("i'd", true),
            ("it", false),
            ("i's", false),
            ("I", false),
        ] {
            assert_eq!(is_pronoun_i(word), want, "{word}");
        }
    }
}
