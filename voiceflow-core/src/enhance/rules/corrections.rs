//! Spoken corrections: "scratch that" removes the sentence it follows; "no
//! wait", "no I mean", "sorry I mean" replace the words they correct with the
//! words that follow.

use super::doc::{eq_ci, is_any, longest, phrase_len, Doc, Pass};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;

/// Words before "scratch that" that make it literal ("don't scratch that").
const SCRATCH_LITERAL_AFTER: &[&str] = &[
    "to",
    "don't",
    "not",
    "never",
    "didn't",
    "can't",
    "won't",
    "cannot",
    "shouldn't",
];

/// Markers that introduce a replacement, longest first.
const MARKERS: &[(&[&str], ())] = &[
    (&["no", "wait", "i", "mean"], ()),
    (&["wait", "i", "mean"], ()),
    (&["no", "i", "mean"], ()),
    (&["sorry", "i", "mean"], ()),
    (&["oops", "i", "mean"], ()),
    (&["no", "wait"], ()),
    (&["wait", "no"], ()),
];

/// Words before "no wait" that make "no" a determiner ("there is no wait").
const NO_WAIT_LITERAL_AFTER: &[&str] = &[
    "is", "was", "be", "been", "there's", "with", "had", "have", "has", "'s",
];
/// Words after "no wait" that make it a noun phrase ("no wait time").
const NO_WAIT_LITERAL_BEFORE: &[&str] = &["time", "times", "list", "for"];

/// How far back (in tokens) a replacement looks for the word it corrects.
const LOOK_BACK: usize = 12;

/// Applies "scratch that" and "no wait ... I mean" corrections.
pub(crate) struct Corrections;

impl Rule for Corrections {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.is_english() && request.options.spoken_corrections
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if let Some(n) = phrase_len(p.rest(), &["scratch", "that"]) {
                if !is_any(p.out.last(), SCRATCH_LITERAL_AFTER) {
                    scratch_that(p, n);
                }
            } else if let Some((n, _)) = longest(p.rest(), MARKERS) {
                replace_corrected(p, n);
            }
        });
    }
}

/// The longest sentence (in tokens) a correction reaches back over.
const LONGEST_SENTENCE: usize = 256;

/// Index just after the last sentence end or break in `tokens`, looking at
/// most [`LONGEST_SENTENCE`] tokens back.
fn sentence_start(tokens: &[Token]) -> usize {
    let from = tokens.len().saturating_sub(LONGEST_SENTENCE);
    tokens[from..]
        .iter()
        .rposition(|t| t.is_terminal() || t.is_break())
        .map_or(from, |i| from + i + 1)
}

/// Removes the sentence before the marker (the previous one when the marker
/// opens a sentence), the marker and a mark right after it.
/// Where the sentence being corrected starts: the current one, or the
/// previous one when the marker opens a sentence.
fn corrected_sentence_start(out: &[Token]) -> usize {
    let start = sentence_start(out);
    if start == out.len() {
        sentence_start(&out[..start.saturating_sub(1)])
    } else {
        start
    }
}

fn scratch_that(p: &mut Pass, n: usize) {
    let start = corrected_sentence_start(&p.out);
    let mark_after = p
        .rest()
        .get(n)
        .is_some_and(|t| t.kind == Kind::Punct && (t.is_terminal() || t.is_soft()));
    let mut gone = p.take_back(start);
    gone.extend(p.take(n + usize::from(mark_after)));
    p.record(EditKind::Correction, &gone, &[]);
}

/// Replaces what a correction marker corrects. The replacement is the words
/// after the marker up to the next mark; it replaces the words back to the
/// latest earlier occurrence of its first word, or else the one word before
/// the marker. A marker with nothing to correct or nothing after it is left.
fn replace_corrected(p: &mut Pass, n: usize) {
    let rest = p.rest();
    let is_no_wait = phrase_len(rest, &["no", "wait"]) == Some(n);
    if is_no_wait
        && (is_any(p.out.last(), NO_WAIT_LITERAL_AFTER)
            || is_any(rest.get(n), NO_WAIT_LITERAL_BEFORE))
    {
        return;
    }
    let skip_comma = usize::from(rest.get(n).is_some_and(Token::is_comma));
    let Some(first) = rest
        .get(n + skip_comma)
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.clone())
    else {
        return;
    };
    let window = p
        .out
        .len()
        .saturating_sub(LOOK_BACK)
        .max(corrected_sentence_start(&p.out));
    let anchor = p.out[window..]
        .iter()
        .rposition(|t| t.kind == Kind::Word && eq_ci(&t.text, &first))
        .or_else(|| p.out[window..].iter().rposition(|t| t.kind == Kind::Word))
        .map(|i| i + window);
    let Some(anchor) = anchor else {
        return;
    };
    let mut gone = p.take_back(anchor);
    gone.extend(p.take(n + skip_comma));
    p.record(EditKind::Correction, &gone, &[]);
}
