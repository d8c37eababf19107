//! Words and tokens of the blind index: keyword search and context
//! filtering over encrypted records without storing their words.
//!
//! Text is normalised into words: split at every character that is not a
//! letter or digit, lowercased, and cut to [`MAX_WORD_CHARS`] characters. Each
//! distinct word of a record's raw and enhanced text, and the record's context
//! label, becomes a 64-bit token: HMAC-SHA256 under the store's index key
//! (with a prefix that keeps words and contexts apart), truncated. A record's
//! tokens are stored next to it, and the inverted index maps each token to
//! the records that have it (see `inverted.rs`).
//!
//! Leakage: tokens are deterministic, so equal words map to equal index keys.
//! Someone who can read the files (but has no key) learns which records share
//! a word or a context, how many distinct words each record has, and how
//! often each (unknown) word occurs; with outside knowledge of word
//! frequencies, frequent words may be guessed. They do not learn the words
//! themselves or their order. Query words are checked against the decrypted
//! records, so two words sharing a truncated token never give a false hit.

use std::borrow::Cow;

use hmac::Mac;

use super::crypto::{keyed_mac, Secret};
use super::record::{RecordContext, RecordData};

/// Length of an index token in bytes.
pub(crate) const TOKEN_LEN: usize = 8;
/// Words longer than this are cut to their first `MAX_WORD_CHARS` characters.
pub const MAX_WORD_CHARS: usize = 64;

/// A blind-index token: the keyed hash of a word or context.
pub(crate) type Token = [u8; TOKEN_LEN];

/// The normalised words of `text`, in order, repeats included (borrowed
/// from `text` when a word is normalised already).
pub(crate) fn words(text: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(normalise)
}

/// `word` (letters and digits only) cut to [`MAX_WORD_CHARS`] characters
/// and lowercased; without copying when it is lowercase ASCII.
fn normalise(word: &str) -> Cow<'_, str> {
    if !word.is_ascii() {
        return Cow::Owned(
            word.chars()
                .take(MAX_WORD_CHARS)
                .flat_map(char::to_lowercase)
                .collect(),
        );
    }
    // One byte per character, and `char::to_lowercase` of an ASCII
    // character is its ASCII lowercase.
    let word = &word[..word.len().min(MAX_WORD_CHARS)];
    if word.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Owned(word.to_ascii_lowercase())
    } else {
        Cow::Borrowed(word)
    }
}

/// The distinct normalised words of a record's searchable texts, sorted.
pub(crate) fn record_words(data: &RecordData) -> Vec<Cow<'_, str>> {
    let mut words: Vec<Cow<'_, str>> = data.searchable_texts().flat_map(words).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The tokens held in a record's token list (the postings tree's value).
pub(crate) fn split_tokens(list: &[u8]) -> impl Iterator<Item = &Token> {
    list.as_chunks::<TOKEN_LEN>().0.iter()
}

/// The key that makes index tokens. The HMAC state built from it lives only
/// for one call (the hmac crate does not zeroize it); the key itself is
/// zeroized on drop.
pub(crate) struct IndexKey(Secret);

/// What a token stands for; the tag keeps words and contexts apart.
enum Term<'a> {
    Word(&'a str),
    Context(&'a RecordContext),
}

impl IndexKey {
    /// The index key `key`.
    pub(crate) fn new(key: Secret) -> Self {
        IndexKey(key)
    }

    /// The tokens of `terms`, in the same order.
    fn tokens<'a>(&self, terms: impl IntoIterator<Item = Term<'a>>) -> Vec<Token> {
        let keyed = keyed_mac(&self.0);
        terms
            .into_iter()
            .map(|term| {
                let mut mac = keyed.clone();
                match term {
                    Term::Word(word) => {
                        mac.update(b"w\0");
                        mac.update(word.as_bytes());
                    }
                    Term::Context(context) => {
                        mac.update(b"c\0");
                        mac.update(context.label().as_bytes());
                    }
                }
                let digest = mac.finalize().into_bytes();
                let mut token = [0u8; TOKEN_LEN];
                token.copy_from_slice(&digest[..TOKEN_LEN]);
                token
            })
            .collect()
    }

    /// The tokens of normalised `words`, in the same order.
    pub(crate) fn word_tokens<'a>(&self, words: impl IntoIterator<Item = &'a str>) -> Vec<Token> {
        self.tokens(words.into_iter().map(Term::Word))
    }

    /// The token of a context.
    pub(crate) fn context_token(&self, context: &RecordContext) -> Token {
        self.tokens([Term::Context(context)])[0]
    }

    /// Every token of a record: its context, then each distinct word. These
    /// are its index entries and its token list.
    pub(crate) fn record_tokens(&self, data: &RecordData) -> Vec<Token> {
        let words = record_words(data);
        self.tokens(
            std::iter::once(Term::Context(&data.context))
                .chain(words.iter().map(|word| Term::Word(word))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::crypto::random_secret;
    use crate::Context;
    use zeroize::Zeroizing;

    #[test]
    fn words_are_split_lowercased_and_cut() {
        let long = "x".repeat(MAX_WORD_CHARS + 10);
        let shouted = "Y".repeat(MAX_WORD_CHARS + 1);
        let text = format!("Hello, WORLD! It's 2024 — Straße;{long} {shouted} ÉCOLE");
        let found: Vec<Cow<'_, str>> = words(&text).collect();
        assert_eq!(
            found,
            [
                "hello",
                "world",
                "it",
                "s",
                "2024",
                "straße",
                &"x".repeat(MAX_WORD_CHARS),
                &"y".repeat(MAX_WORD_CHARS),
                "école",
            ]
        );
    }

    #[test]
    fn equal_words_give_equal_tokens_and_other_keys_other_tokens() {
        let secret = random_secret();
        let key = IndexKey::new(Zeroizing::new(*secret));
        let same = IndexKey::new(secret);
        let other = IndexKey::new(random_secret());
        let tokens = key.word_tokens(["alpha", "beta", "alpha"]);
        assert_eq!(tokens[0], tokens[2]);
        assert_ne!(tokens[0], tokens[1]);
        assert_eq!(same.word_tokens(["alpha"])[0], tokens[0]);
        assert_ne!(other.word_tokens(["alpha"])[0], tokens[0]);
    }

    #[test]
    fn a_context_and_a_word_with_the_same_text_differ() {
        let key = IndexKey::new(random_secret());
        assert_ne!(
            key.context_token(&Context::Email.into()),
            key.word_tokens(["email"])[0]
        );
    }

    #[test]
    fn record_tokens_cover_context_and_distinct_words_of_both_texts() {
        let key = IndexKey::new(random_secret());
        let data = RecordData {
            context: Context::Chat.into(),
            raw_text: "see you see you".into(),
            enhanced_text: Some("See you tomorrow.".into()),
            ..Default::default()
        };
        let tokens = key.record_tokens(&data);
        assert_eq!(tokens.len(), 1 + 3);
        assert_eq!(tokens[0], key.context_token(&Context::Chat.into()));
        for token in key.word_tokens(["see", "you", "tomorrow"]) {
            assert!(tokens.contains(&token));
        }
    }
}
