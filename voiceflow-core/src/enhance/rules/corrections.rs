//! Spoken corrections: "scratch that" removes the sentence it follows; "no
//! wait", "no I mean", "sorry I mean" replace the words they correct with the
//! words that follow, an amount replacing the whole amount ("twenty five
//! thousand dollars, no wait, thirty thousand" -> "thirty thousand").
//! "I mean" and "actually" are corrections only when what follows is plainly
//! of a kind with what precedes (an amount for an amount, a name for a name,
//! a day for a day, or the same phrase with one word changed); elsewhere
//! they are left, for the filler rule or as words.

use super::casing::{is_month, is_weekday};
use super::doc::{eq_ci, is_any, longest, phrase_len, Doc, Pass};
use super::numbers::is_numeric;
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

/// Whether a marker only corrects what it plainly matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// "no wait", "sorry I mean": always a correction.
    Plain,
    /// "I mean", "actually": a correction only of a matching kind.
    Strict,
}

/// Markers that introduce a replacement, longest first.
const MARKERS: &[(&[&str], Marker)] = &[
    (&["no", "wait", "i", "mean"], Marker::Plain),
    (&["wait", "i", "mean"], Marker::Plain),
    (&["no", "i", "mean"], Marker::Plain),
    (&["sorry", "i", "mean"], Marker::Plain),
    (&["oops", "i", "mean"], Marker::Plain),
    (&["no", "wait"], Marker::Plain),
    (&["wait", "no"], Marker::Plain),
    (&["i", "mean"], Marker::Strict),
    (&["actually"], Marker::Strict),
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
            } else if let Some((n, &marker)) = longest(p.rest(), MARKERS) {
                replace_corrected(p, n, marker);
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

/// Words that open a greeting ("Hi Raj, ..."): a correction of the
/// sentence after the greeting leaves the greeting.
const GREETINGS: &[&str] = &["hi", "hello", "hey", "dear"];

/// Past a greeting that opens the sentence at `start` ("Hi Raj," and up to
/// two more words before its comma).
fn after_greeting(out: &[Token], start: usize) -> usize {
    if !is_any(out.get(start), GREETINGS) {
        return start;
    }
    out[start..]
        .iter()
        .take(5)
        .position(Token::is_comma)
        .map_or(start, |i| start + i + 1)
}

fn scratch_that(p: &mut Pass, n: usize) {
    let start = after_greeting(&p.out, corrected_sentence_start(&p.out));
    let mark_after = p
        .rest()
        .get(n)
        .is_some_and(|t| t.kind == Kind::Punct && (t.is_terminal() || t.is_soft()));
    let mut gone = p.take_back(start);
    gone.extend(p.take(n + usize::from(mark_after)));
    p.record(EditKind::Correction, &gone, &[]);
}

/// Units that may stand between an amount and a correction of it.
const UNITS: &[&str] = &[
    "dollars", "dollar", "percent", "cents", "pm", "am", "p.m.", "a.m.", "o'clock", "%",
];

fn is_amount_part(t: &Token) -> bool {
    is_numeric(Some(t)) || (t.kind == Kind::Symbol && t.text == "$") || eq_ci(&t.text, "and")
}

/// The amount just before a correction marker: where it starts, and how
/// many tokens after its number are a unit (a comma excluded). The unit is a
/// word of [`UNITS`], `%`, or any word the replacement repeats ("12 chairs,
/// no wait, 15 chairs") or leaves out ("4 tickets, actually 5"); the amount
/// is taken back over the words of the same number ("twenty five
/// thousand", "$25,000").
fn amount_before(out: &[Token], window: usize, repl: &[Token]) -> Option<(usize, usize)> {
    let mut end = out.len();
    if out[window..end].last().is_some_and(Token::is_comma) {
        end -= 1;
    }
    let bare = repl.iter().all(is_amount_part);
    let is_unit = |t: &Token| {
        is_any(Some(t), UNITS)
            || (t.kind == Kind::Symbol && t.text == "%")
            || (t.kind == Kind::Word
                && !is_numeric(Some(t))
                && (bare || repl.iter().any(|r| eq_ci(&r.text, &t.text))))
    };
    let units = out[window..end]
        .iter()
        .rev()
        .take_while(|t| is_unit(t))
        .count();
    let last = end.checked_sub(units + 1).filter(|&i| i >= window)?;
    if units > 1 || !is_numeric(out.get(last)) {
        return None;
    }
    let run = out[window..=last]
        .iter()
        .rev()
        .take_while(|t| is_amount_part(t))
        .count();
    let start = last + 1 - run;
    // "and" joins number words; it does not start an amount.
    let start = start
        + out[start..]
            .iter()
            .take_while(|t| eq_ci(&t.text, "and"))
            .count();
    Some((start, units))
}

/// Whether a word is a capitalised name (not opening its sentence).
fn is_name(out: &[Token], i: usize) -> bool {
    let opens = i == 0 || out[i - 1].is_terminal() || out[i - 1].is_break();
    let t = &out[i];
    t.kind == Kind::Word && !opens && t.text.starts_with(char::is_uppercase) && t.text != "I"
}

/// Whether `a` and `b` are both days of the week or both months.
fn same_calendar_kind(a: &Token, b: &Token) -> bool {
    (is_weekday(&a.text) && is_weekday(&b.text)) || (is_month(&a.text) && is_month(&b.text))
}

/// The replacement after a marker: how many tokens it spans, up to the next
/// mark or break.
fn replacement_len(rest: &[Token]) -> usize {
    rest.iter()
        .take_while(|t| !(t.is_terminal() || t.is_soft() || t.is_break()))
        .count()
}

/// What a replacement corrects: where it starts in `out`, and the unit
/// after a corrected amount that a bare number replacement keeps ("4
/// tickets, actually 5": "tickets"); `None` when the marker is not a
/// correction here.
fn corrected(
    out: &[Token],
    window: usize,
    repl: &[Token],
    marker: Marker,
) -> Option<(usize, usize)> {
    corrected_start(out, window, repl, marker).map(|start| {
        let kept = amount_before(out, window, repl)
            .filter(|&(s, units)| s == start && units == 1)
            .filter(|_| repl.iter().all(is_amount_part))
            .map_or(0, |_| 1);
        (start, kept)
    })
}

/// Where the words a replacement corrects start in `out`.
fn corrected_start(out: &[Token], window: usize, repl: &[Token], marker: Marker) -> Option<usize> {
    let first = repl.first()?;
    let before = out[window..]
        .iter()
        .rposition(|t| t.kind == Kind::Word)
        .map(|i| i + window)?;
    let starts_amount = is_numeric(Some(first))
        || (first.kind == Kind::Symbol && first.text == "$" && is_numeric(repl.get(1)));
    if starts_amount {
        if let Some((start, _)) = amount_before(out, window, repl) {
            return Some(start);
        }
    }
    if first.kind != Kind::Word {
        return None;
    }
    if first.text.starts_with(char::is_uppercase) && is_name(out, before) {
        let run = out[window..=before]
            .iter()
            .rev()
            .enumerate()
            .take_while(|&(k, _)| is_name(out, before - k))
            .count();
        return Some(before + 1 - run);
    }
    if same_calendar_kind(first, &out[before]) {
        return Some(before);
    }
    let same_word = out[window..]
        .iter()
        .rposition(|t| t.kind == Kind::Word && eq_ci(&t.text, &first.text))
        .map(|i| i + window);
    match marker {
        Marker::Plain => same_word.or(Some(before)),
        // The same phrase again with a word changed, and nothing more.
        Marker::Strict => same_word.filter(|&i| {
            let span = &out[i..=before];
            span.len() == repl.len() && span.len() <= 4
        }),
    }
}

/// Replaces what a correction marker corrects. The replacement is the words
/// after the marker up to the next mark; it replaces an amount before the
/// marker when it is an amount, a name when it is a name, a day or month
/// when it is one; else the words back to the latest earlier occurrence of
/// its first word, or else the one word before the marker. A marker with
/// nothing to correct or nothing after it is left.
fn replace_corrected(p: &mut Pass, n: usize, marker: Marker) {
    let rest = p.rest();
    let is_no_wait = phrase_len(rest, &["no", "wait"]) == Some(n);
    if is_no_wait
        && (is_any(p.out.last(), NO_WAIT_LITERAL_AFTER)
            || is_any(rest.get(n), NO_WAIT_LITERAL_BEFORE))
    {
        return;
    }
    let comma_after = rest.get(n).is_some_and(Token::is_comma);
    // "I mean," and "actually," set off by a comma are fillers or asides.
    if marker == Marker::Strict && comma_after {
        return;
    }
    let skip_comma = usize::from(comma_after);
    let repl = &rest[n + skip_comma..];
    let repl_len = replacement_len(repl);
    if repl_len == 0 {
        return;
    }
    let window = p
        .out
        .len()
        .saturating_sub(LOOK_BACK)
        .max(corrected_sentence_start(&p.out));
    if window >= p.out.len() {
        return;
    }
    let Some((anchor, kept_unit)) = corrected(&p.out, window, &repl[..repl_len], marker) else {
        return;
    };
    let aside = p.out.last().is_some_and(Token::is_comma);
    // "Tom, I mean Tim, to call me": the comma closing the aside goes too.
    let closing_comma = aside
        && repl.get(repl_len).is_some_and(Token::is_comma)
        && repl.get(repl_len + 1).is_some_and(|t| t.kind == Kind::Word);
    let mut gone = p.take_back(anchor);
    gone.extend(p.take(n + skip_comma));
    let mut after = Vec::new();
    if kept_unit > 0 {
        // The new number, then the unit it left out.
        p.keep(repl_len);
        let amount_len = gone.len() - n - skip_comma - usize::from(aside) - kept_unit;
        let unit = gone[amount_len..amount_len + kept_unit].to_vec();
        after = p.out[p.out.len() - repl_len..].to_vec();
        after.extend(unit.iter().cloned());
        p.out.extend(unit);
    }
    p.record(EditKind::Correction, &gone, &after);
    if closing_comma && kept_unit == 0 {
        p.keep(repl_len);
        p.drop_next(1, EditKind::Punctuation);
    }
}
