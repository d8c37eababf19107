//! Chat: short and casual. No forced final period on a one-sentence message,
//! and emoji words as emoticons when asked ("smiley face" -> ":)").

use super::doc::{longest, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

/// Emoji words and their emoticons.
const EMOJI: &[(&[&str], &str)] = &[
    (&["smiley", "face"], ":)"),
    (&["smiling", "face"], ":)"),
    (&["happy", "face"], ":)"),
    (&["sad", "face"], ":("),
    (&["frowny", "face"], ":("),
    (&["winky", "face"], ";)"),
    (&["wink", "face"], ";)"),
    (&["winking", "face"], ";)"),
    (&["laughing", "face"], ":D"),
    (&["tongue", "face"], ":P"),
    (&["heart", "emoji"], "<3"),
];

/// Turns emoji words into emoticons (option `emoji_words`, not in code),
/// unless they name a thing ("draw a smiley face").
pub(crate) struct EmojiWords;

impl Rule for EmojiWords {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.options.emoji_words && request.is_english() && request.context != Context::Code
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if let Some((n, &emoticon)) = longest(p.rest(), EMOJI) {
                if !p.spoken_as_word(n) {
                    let token = Token::new(Kind::Symbol, emoticon);
                    p.replace_next(n, vec![token], EditKind::Emoji);
                }
            }
        });
    }
}

/// Drops the closing period of a one-sentence chat message unless it was
/// dictated ("sounds good." -> "sounds good").
pub(crate) struct NoFinalPeriod;

impl Rule for NoFinalPeriod {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.context == Context::Chat
    }

    fn apply(&self, doc: &mut Doc) {
        let tokens = &doc.tokens;
        let Some(last) = tokens.iter().rposition(|t| !t.is_break()) else {
            return;
        };
        let single_sentence = !tokens[..last]
            .iter()
            .any(|t| t.is_terminal() || t.is_break());
        let end = &tokens[last];
        if single_sentence && end.text == "." && end.kind == Kind::Punct && !end.dictated {
            let gone = doc.tokens.remove(last);
            doc.record(EditKind::Punctuation, &[gone], &[]);
        }
    }
}
