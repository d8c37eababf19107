//! Capital letters: the first word of every sentence, line and paragraph, and
//! the pronoun "I" ("i", "i'm", "i'll", ...). Nothing is ever lower-cased.

use super::doc::{capitalize, Doc};
use super::token::Kind;
use super::Rule;
use crate::enhance::request::{Context, EnhanceRequest};
use crate::enhance::result::{Edit, EditKind};

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
        for t in &mut doc.tokens {
            match t.kind {
                Kind::Word => {
                    let lower_start = t.text.starts_with(char::is_lowercase);
                    let may_change = !t.protected || !t.text.chars().any(char::is_uppercase);
                    let pronoun = english && !t.protected && is_pronoun_i(&t.text);
                    if lower_start && may_change && (at_start || pronoun) {
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
