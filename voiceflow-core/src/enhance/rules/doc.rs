//! The text being enhanced ([`Doc`]), the one-pass rewriter every rule uses
//! ([`Pass`]) and word matching shared by the rules.

use super::token::{render_edit, Kind, Token};
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::{Edit, EditKind};

/// Tokens, the edits made so far and the request they are made for.
pub(crate) struct Doc<'r> {
    /// The current tokens.
    pub tokens: Vec<Token>,
    /// Every edit so far.
    pub edits: Vec<Edit>,
    /// The request being served.
    pub request: &'r EnhanceRequest,
}

impl Doc<'_> {
    /// Rewrites the tokens in one pass: `step` looks at the head of
    /// [`Pass::rest`] and may consume it; a head it leaves is kept as it is.
    pub fn rewrite(&mut self, mut step: impl FnMut(&mut Pass)) {
        let tokens = std::mem::take(&mut self.tokens);
        let mut pass = Pass {
            out: Vec::with_capacity(tokens.len() + 4),
            rest: tokens.into_iter(),
            edits: &mut self.edits,
        };
        while !pass.rest().is_empty() {
            let before = pass.rest().len();
            step(&mut pass);
            if pass.rest().len() == before {
                pass.keep(1);
            }
        }
        self.tokens = pass.out;
    }

    /// Records an edit.
    pub fn record(&mut self, kind: EditKind, before: &[Token], after: &[Token]) {
        record(&mut self.edits, kind, before, after);
    }
}

fn record(edits: &mut Vec<Edit>, kind: EditKind, before: &[Token], after: &[Token]) {
    edits.push(Edit {
        kind,
        before: render_edit(before),
        after: render_edit(after),
    });
}

/// One rewriting pass: tokens already written (`out`) and those still to read.
pub(crate) struct Pass<'e> {
    /// The tokens written so far.
    pub out: Vec<Token>,
    rest: std::vec::IntoIter<Token>,
    edits: &'e mut Vec<Edit>,
}

impl Pass<'_> {
    /// The tokens not yet read; the first is the one under consideration.
    pub fn rest(&self) -> &[Token] {
        self.rest.as_slice()
    }

    /// Moves the next `n` tokens to the output unchanged.
    pub fn keep(&mut self, n: usize) {
        self.out.extend(self.rest.by_ref().take(n));
    }

    /// Takes the next `n` tokens out of the input.
    pub fn take(&mut self, n: usize) -> Vec<Token> {
        self.rest.by_ref().take(n).collect()
    }

    /// Removes the output from index `from` on and returns it.
    pub fn take_back(&mut self, from: usize) -> Vec<Token> {
        self.out.split_off(from.min(self.out.len()))
    }

    /// Records an edit.
    pub fn record(&mut self, kind: EditKind, before: &[Token], after: &[Token]) {
        record(self.edits, kind, before, after);
    }

    /// Drops the next `n` tokens, recording the removal.
    pub fn drop_next(&mut self, n: usize, kind: EditKind) {
        let gone = self.take(n);
        self.record(kind, &gone, &[]);
    }

    /// Replaces the next `n` tokens with `with`, recording the change when
    /// the text differs.
    pub fn replace_next(&mut self, n: usize, with: Vec<Token>, kind: EditKind) {
        let gone = self.take(n);
        if render_edit(&gone) != render_edit(&with) {
            self.record(kind, &gone, &with);
        }
        self.out.extend(with);
    }

    /// Whether the next token starts a sentence: nothing written yet, or the
    /// last written token ends a sentence or a line.
    pub fn at_sentence_start(&self) -> bool {
        self.out
            .last()
            .is_none_or(|t| t.is_terminal() || t.is_break())
    }

    /// Whether the next token starts a clause (a sentence, or after `,;:`).
    pub fn at_clause_start(&self) -> bool {
        self.at_sentence_start() || self.out.last().is_some_and(Token::is_soft)
    }

    /// Whether the command phrase of `n` tokens at the head is meant as a
    /// word: after a determiner ("a new line of", "the period") or before "of".
    pub fn spoken_as_word(&self, n: usize) -> bool {
        is_any(self.out.last(), DETERMINERS)
            || is_any(self.out.last(), COMPOUND_HEADS)
            || is_word(self.rest().get(n), "of")
    }

    /// Ends the sentence written so far (see [`close_sentence`]), recording it.
    pub fn close_sentence(&mut self) {
        if let Some((before, after)) = close_sentence(&mut self.out) {
            self.record(EditKind::Punctuation, &before, &after);
        }
    }

    /// Drops the next `n` tokens (a spoken filler or command) with the commas
    /// that set them off: both commas when it stands between two (but the
    /// first after an interjection: "Hey, um, are you" -> "Hey, are you"),
    /// the comma after it when it opens a sentence.
    pub fn drop_set_off(&mut self, n: usize, kind: EditKind) {
        let comma_after = self.rest().get(n).is_some_and(Token::is_comma);
        let comma_before = self.out.last().is_some_and(Token::is_comma);
        let after_interjection = comma_before
            && is_any(
                self.out.len().checked_sub(2).and_then(|i| self.out.get(i)),
                INTERJECTIONS,
            );
        let mut gone = Vec::new();
        if comma_before && comma_after && !after_interjection {
            gone = self.take_back(self.out.len() - 1);
        }
        let take_after = comma_after && (comma_before || self.at_sentence_start());
        gone.extend(self.take(n + usize::from(take_after)));
        self.record(kind, &gone, &[]);
    }
}

/// Words a comma follows on its own ("Hey, ...", "Okay, ...").
const INTERJECTIONS: &[&str] = &[
    "hey", "hi", "hello", "okay", "ok", "yes", "yeah", "well", "oh", "lol",
];

/// Determiners and possessives: after one, a command phrase names a thing.
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "each", "every", "per", "any", "some",
    "which", "what", "whose", "my", "your", "his", "her", "its", "our", "their", "another",
];

/// Words that make a compound noun with a command word ("trial period",
/// "grace period"): after one, the command word is meant as a word.
const COMPOUND_HEADS: &[&str] = &[
    "trial",
    "grace",
    "time",
    "waiting",
    "cooling",
    "notice",
    "billing",
    "reporting",
    "probation",
    "probationary",
    "transition",
    "transitional",
    "holiday",
    "rest",
    "free",
    "study",
    "menstrual",
    "sigmoid",
];

/// Ends the sentence that `tokens` ends with: a period after a final word,
/// `)` or closing quote, or a final undictated comma or semicolon turned into a period.
/// Returns what was replaced and what replaced it.
pub(crate) fn close_sentence(tokens: &mut Vec<Token>) -> Option<(Vec<Token>, Vec<Token>)> {
    let last = tokens.last()?;
    let period = Token::new(Kind::Punct, ".");
    let closer = last.kind == Kind::Punct && matches!(last.text.as_str(), ")" | "\"");
    if last.kind == Kind::Word || closer {
        tokens.push(period.clone());
        Some((Vec::new(), vec![period]))
    } else if matches!(last.text.as_str(), "," | ";") && last.kind == Kind::Punct && !last.dictated
    {
        let gone = tokens.pop().map(|t| vec![t]).unwrap_or_default();
        tokens.push(period.clone());
        Some((gone, vec![period]))
    } else {
        None
    }
}

/// Case-insensitive equality (full Unicode lowercase, ASCII fast paths: the
/// rules compare every word with many phrases, and most differ at once).
pub(crate) fn eq_ci(a: &str, b: &str) -> bool {
    let (Some(&x), Some(&y)) = (a.as_bytes().first(), b.as_bytes().first()) else {
        return a.is_empty() && b.is_empty();
    };
    // Two ASCII first letters decide a mismatch: nothing else lowercases to ASCII
    // that an ASCII letter does.
    if x.is_ascii() && y.is_ascii() && !x.eq_ignore_ascii_case(&y) {
        return false;
    }
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Whether `token` is the word `word` (any case) and not protected.
pub(crate) fn is_word(token: Option<&Token>, word: &str) -> bool {
    token.is_some_and(|t| t.kind == Kind::Word && !t.protected && eq_ci(&t.text, word))
}

/// Whether `token` is one of `words` (any case) and not protected.
pub(crate) fn is_any(token: Option<&Token>, words: &[&str]) -> bool {
    words.iter().any(|w| is_word(token, w))
}

/// How many tokens at the start of `tokens` spell `phrase` (a comma may stand
/// between its words), if they do.
pub(crate) fn phrase_len<S: AsRef<str>>(tokens: &[Token], phrase: &[S]) -> Option<usize> {
    let mut i = 0;
    for (n, word) in phrase.iter().enumerate() {
        if n > 0 && tokens.get(i).is_some_and(Token::is_comma) {
            i += 1;
        }
        if !is_word(tokens.get(i), word.as_ref()) {
            return None;
        }
        i += 1;
    }
    Some(i)
}

/// The longest entry of `table` whose phrase starts `tokens`, with how many
/// tokens it spans.
pub(crate) fn longest<'t, T>(
    tokens: &[Token],
    table: &'t [(&[&str], T)],
) -> Option<(usize, &'t T)> {
    table
        .iter()
        .filter_map(|(phrase, value)| phrase_len(tokens, phrase).map(|n| (n, value)))
        .max_by_key(|(n, _)| *n)
}

/// Upper-cases the first letter of `word` (the rest stays).
pub(crate) fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::token::{render, tokenize};
    use super::*;

    #[test]
    fn phrases_match_across_a_comma_and_in_any_case() {
        let tokens = tokenize("No, wait six");
        assert_eq!(phrase_len(&tokens, &["no", "wait"]), Some(3));
        assert_eq!(phrase_len(&tokens, &["no", "six"]), None);
    }

    #[test]
    fn unicode_case_folding() {
        assert!(eq_ci("ÉCOLE", "école"));
        assert!(!eq_ci("ecole", "école"));
        assert!(
            eq_ci("\u{212a}elvin", "kelvin"),
            "the Kelvin sign lowercases to k"
        );
        assert!(eq_ci("", "") && !eq_ci("", "a") && !eq_ci("a", ""));
        assert!(eq_ci("Period", "period") && !eq_ci("periods", "period"));
        assert_eq!(capitalize("éa"), "Éa");
    }

    #[test]
    fn drop_set_off_takes_the_commas_around_a_filler() {
        let request = EnhanceRequest::default();
        for (text, want) in [
            ("I, uh, think", "I think"),
            ("Uh, so", "so"),
            ("fine, uh.", "fine,."),
        ] {
            let mut doc = Doc {
                tokens: tokenize(text),
                edits: Vec::new(),
                request: &request,
            };
            doc.rewrite(|p| {
                if is_word(p.rest().first(), "uh") {
                    p.drop_set_off(1, EditKind::Filler);
                }
            });
            assert_eq!(render(&doc.tokens), want);
            assert_eq!(doc.edits.len(), 1);
        }
    }
}
