//! Disfluencies: filler words, "you know" / "I mean" used as fillers,
//! stutters and immediately repeated words.

use super::doc::{eq_ci, is_any, is_word, phrase_len, Doc};
use super::numbers::{is_number_word, is_numeric};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;

/// Words that are only ever fillers.
const FILLERS: &[&str] = &[
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "hmm", "mm", "mmm",
];

/// Words after which "you know" is meant literally ("do you know", "as you know").
const KNOW_LITERAL_AFTER: &[&str] = &[
    "do", "did", "does", "don't", "didn't", "doesn't", "if", "as", "what", "whatever", "how",
    "that", "all", "because", "than", "unless", "when", "whether", "who", "whom", "which",
];

/// Words that are often repeated on purpose ("had had", "bye bye", "very very").
const REPEATABLE: &[&str] = &[
    "had", "that", "is", "no", "bye", "very", "really", "so", "ha", "haha", "ho", "la", "yeah",
    "yes", "knock", "go", "blah", "na", "tsk", "boo", "hey", "well", "now", "again", "more",
];

fn english_fillers_on(request: &EnhanceRequest) -> bool {
    request.is_english() && request.options.remove_fillers
}

/// Words after which "like" before a number is a filler ("at like three").
const LIKE_FILLER_AFTER: &[&str] = &["at", "on", "for", "around", "about", "by", "until", "in"];

/// Whether the "like" at the head of the pass is a filler: set off by
/// commas (", like,"), opening a sentence before a comma ("Like, ..."), or
/// between a preposition and a number ("at like three"). "I like it",
/// "looks like rain" are left.
fn like_is_filler(p: &super::doc::Pass) -> bool {
    let rest = p.rest();
    if !is_word(rest.first(), "like") {
        return false;
    }
    let comma_after = rest.get(1).is_some_and(Token::is_comma);
    let comma_before = p.out.last().is_some_and(Token::is_comma);
    (comma_after && (comma_before || p.at_sentence_start()))
        || (is_any(p.out.last(), LIKE_FILLER_AFTER) && is_numeric(rest.get(1)))
}

/// Removes um, uh, er, ah and their kin, and "like" used as a filler, with
/// the commas that set them off.
pub(crate) struct Fillers;

impl Rule for Fillers {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_fillers_on(request)
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if is_any(p.rest().first(), FILLERS) || like_is_filler(p) {
                p.drop_set_off(1, EditKind::Filler);
            }
        });
    }
}

/// Removes "you know" and "I mean" where they are fillers: set off by
/// commas or closing a sentence ("it was, you know, fine"; "I mean, sure").
/// "Do you know", "you know him", "what I mean is" are left alone.
pub(crate) struct DiscourseFillers;

impl Rule for DiscourseFillers {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_fillers_on(request)
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let rest = p.rest();
            let you_know = phrase_len(rest, &["you", "know"]);
            let i_mean = phrase_len(rest, &["i", "mean"]);
            let Some(n) = you_know.or(i_mean) else {
                return;
            };
            let after = rest.get(n);
            let ends_clause = after.is_none_or(|t| t.is_terminal() || t.is_break());
            let comma_after = after.is_some_and(Token::is_comma);
            let filler = if you_know.is_some() {
                (ends_clause || comma_after) && !is_any(p.out.last(), KNOW_LITERAL_AFTER)
            } else {
                (p.at_clause_start() && comma_after)
                    || (p.out.last().is_some_and(Token::is_comma) && ends_clause)
            };
            if filler {
                p.drop_set_off(n, EditKind::Filler);
            }
        });
    }
}

/// Collapses stutters ("I-I", "w-what", "th- the"), immediately repeated
/// words ("the the", "the, the") and word pairs ("are you are you"),
/// except numbers and words often repeated on purpose.
pub(crate) struct Repetitions;

impl Rule for Repetitions {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_fillers_on(request)
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let rest = p.rest();
            let Some(head) = rest
                .first()
                .filter(|t| t.kind == Kind::Word && !t.protected)
            else {
                return;
            };
            if let Some(word) = hyphen_stutter(&head.text) {
                let fixed = Token {
                    text: word.to_string(),
                    ..head.clone()
                };
                p.replace_next(1, vec![fixed], EditKind::Repetition);
            } else if is_fragment_stutter(rest) || is_repeated_pair(&p.out, rest) {
                p.drop_next(2, EditKind::Repetition);
            } else {
                let len = p.out.len();
                let same = |i: usize| is_word(p.out.get(i), &head.text);
                let repeated = len >= 1 && same(len - 1);
                let repeated_after_comma = !repeated
                    && len >= 2
                    && p.out[len - 1].is_comma()
                    && !p.out[len - 1].dictated
                    && same(len - 2);
                if !(repeated || repeated_after_comma) || is_repeatable(&head.text) {
                    return;
                }
                if repeated {
                    p.drop_next(1, EditKind::Repetition);
                } else {
                    let mut gone = p.take_back(len - 1);
                    gone.extend(p.take(1));
                    p.record(EditKind::Repetition, &gone, &[]);
                }
            }
        });
    }
}

fn is_repeatable(word: &str) -> bool {
    is_number_word(word)
        || word.starts_with(|c: char| c.is_ascii_digit())
        || REPEATABLE.iter().any(|w| eq_ci(w, word))
}

/// "I-I" -> "I", "w-what" -> "what": every part before the last is the last
/// part again, or its first letter (lowercase).
fn hyphen_stutter(word: &str) -> Option<&str> {
    let (head, last) = word.rsplit_once('-')?;
    let first = last.chars().next()?;
    let stutter = head.split('-').all(|part| {
        eq_ci(part, last) || (first.is_lowercase() && part.chars().eq(std::iter::once(first)))
    });
    (stutter && !is_repeatable(last)).then_some(last)
}

/// "are you are you": the two words just written, said again.
fn is_repeated_pair(out: &[Token], rest: &[Token]) -> bool {
    let (Some(written), Some(next)) = (out.last_chunk::<2>(), rest.first_chunk::<2>()) else {
        return false;
    };
    let plain = |t: &Token| t.kind == Kind::Word && !t.protected && !is_repeatable(&t.text);
    written.iter().chain(next).all(plain)
        && eq_ci(&written[0].text, &next[0].text)
        && eq_ci(&written[1].text, &next[1].text)
}

/// "th- the": a word, a hyphen glued to it, then a word it begins.
fn is_fragment_stutter(rest: &[Token]) -> bool {
    let [fragment, dash, next, ..] = rest else {
        return false;
    };
    dash.kind == Kind::Symbol
        && dash.text == "-"
        && dash.joined
        && !next.joined
        && next.kind == Kind::Word
        && next.text.len() > fragment.text.len()
        && next
            .text
            .to_lowercase()
            .starts_with(&fragment.text.to_lowercase())
}
