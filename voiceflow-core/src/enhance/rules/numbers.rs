//! Numbers said as words, written as digits where that is the convention:
//! 10 and above, percentages ("twenty five percent" -> "25%"), money ("five
//! dollars" -> "$5"), times ("three thirty pm" -> "3:30 PM"), years ("nineteen
//! ninety nine" -> "1999"), decimals and ordinals from 10th on. One to nine
//! stay words in prose; in code every cardinal becomes digits. Number words
//! right next to other number words ("five five five", "three thirty") are
//! left as said: they are digit strings or times the rule cannot place.

use super::doc::{eq_ci, is_any, is_word, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// 0..=9
    Unit(u64),
    /// 10..=19
    Teen(u64),
    /// 20, 30, ..., 90
    Tens(u64),
    Hundred,
    /// 1_000, 1_000_000, ...
    Scale(u64),
}

const UNITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const TEENS: [&str; 10] = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(&str, u64); 4] = [
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
    ("trillion", 1_000_000_000_000),
];
const ORD_UNITS: [&str; 10] = [
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
];
const ORD_TEENS: [&str; 10] = [
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];
const ORD_TENS: [&str; 8] = [
    "twentieth",
    "thirtieth",
    "fortieth",
    "fiftieth",
    "sixtieth",
    "seventieth",
    "eightieth",
    "ninetieth",
];
const ORD_SCALES: [(&str, u64); 4] = [
    ("thousandth", 1_000),
    ("millionth", 1_000_000),
    ("billionth", 1_000_000_000),
    ("trillionth", 1_000_000_000_000),
];

fn position(list: &[&str], word: &str) -> Option<u64> {
    list.iter().position(|w| eq_ci(w, word)).map(|i| i as u64)
}

fn scale(list: &[(&str, u64)], word: &str) -> Option<u64> {
    list.iter().find(|(w, _)| eq_ci(w, word)).map(|&(_, v)| v)
}

/// The class of one number word and whether it is an ordinal.
fn classify(word: &str) -> Option<(Class, bool)> {
    let cardinal = position(&UNITS, word)
        .map(Class::Unit)
        .or_else(|| position(&TEENS, word).map(|v| Class::Teen(v + 10)))
        .or_else(|| position(&TENS, word).map(|v| Class::Tens(v * 10 + 20)))
        .or_else(|| eq_ci(word, "hundred").then_some(Class::Hundred))
        .or_else(|| scale(&SCALES, word).map(Class::Scale));
    if let Some(class) = cardinal {
        return Some((class, false));
    }
    let ordinal = position(&ORD_UNITS, word)
        .map(Class::Unit)
        .or_else(|| position(&ORD_TEENS, word).map(|v| Class::Teen(v + 10)))
        .or_else(|| position(&ORD_TENS, word).map(|v| Class::Tens(v * 10 + 20)))
        .or_else(|| eq_ci(word, "hundredth").then_some(Class::Hundred))
        .or_else(|| scale(&ORD_SCALES, word).map(Class::Scale));
    ordinal.map(|class| (class, true))
}

/// Whether `word` is a number word ("seven", "twenty-first", "hundred").
pub(crate) fn is_number_word(word: &str) -> bool {
    word.split('-').all(|part| classify(part).is_some())
}

/// Whether `token` is a number: a number word or digits ("five", "25,000").
pub(crate) fn is_numeric(token: Option<&Token>) -> bool {
    token.is_some_and(|t| {
        t.kind == Kind::Word
            && (is_number_word(&t.text) || t.text.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// A number phrase read from the start of some tokens.
#[derive(Debug, Default)]
struct Phrase {
    /// Tokens it spans.
    tokens: usize,
    value: u64,
    ordinal: bool,
    /// Digits after "point".
    decimal: String,
    /// Set when the phrase is exactly "<n> <scale word>" (two million).
    short_scale: Option<(u64, String)>,
}

/// Reads number words one by one, refusing orders that do not make one number
/// ("five five", "thirty three hundred thousand million").
#[derive(Debug, Clone, Copy)]
struct Reader {
    last: Option<Class>,
    total: u64,
    current: u64,
    smallest_scale: u64,
    ordinal: bool,
}

impl Reader {
    fn new() -> Self {
        Reader {
            last: None,
            total: 0,
            current: 0,
            smallest_scale: u64::MAX,
            ordinal: false,
        }
    }

    fn value(&self) -> u64 {
        self.total.saturating_add(self.current)
    }

    /// Takes one word; false (and no change) when it cannot continue the number.
    fn push(&mut self, word: &str) -> bool {
        let Some((class, ordinal)) = classify(word) else {
            return false;
        };
        if self.ordinal {
            return false;
        }
        let after_group = matches!(self.last, None | Some(Class::Hundred | Class::Scale(_)));
        let next = match class {
            Class::Unit(v) if after_group || matches!(self.last, Some(Class::Tens(_))) => {
                self.current.checked_add(v)
            }
            Class::Teen(v) | Class::Tens(v) if after_group => self.current.checked_add(v),
            Class::Hundred
                if (1..100).contains(&self.current)
                    && !matches!(self.last, Some(Class::Hundred) | None) =>
            {
                Some(self.current * 100)
            }
            Class::Scale(s) if self.current > 0 && s < self.smallest_scale => {
                let group = self.current.checked_mul(s);
                self.total = match group.and_then(|g| self.total.checked_add(g)) {
                    Some(t) => t,
                    None => return false,
                };
                self.smallest_scale = s;
                Some(0)
            }
            _ => None,
        };
        let Some(current) = next else {
            return false;
        };
        self.current = current;
        self.last = Some(class);
        self.ordinal = ordinal;
        true
    }
}

/// Reads the longest number phrase at the start of `tokens`: number words
/// (hyphenated or not, "and" after hundred or a scale), an optional ordinal
/// ending, or "point" and digit words; or one token of plain digits.
fn read_phrase(tokens: &[Token]) -> Option<Phrase> {
    let first = tokens
        .first()
        .filter(|t| t.kind == Kind::Word && !t.protected)?;
    if let Ok(value) = first.text.parse::<u64>() {
        return Some(Phrase {
            tokens: 1,
            value,
            ..Phrase::default()
        });
    }
    let mut reader = Reader::new();
    let mut used = 0;
    let mut words_in_phrase = Vec::new();
    let mut i = 0;
    while let Some(t) = tokens
        .get(i)
        .filter(|t| t.kind == Kind::Word && !t.protected)
    {
        let and_joins = eq_ci(&t.text, "and")
            && matches!(reader.last, Some(Class::Hundred | Class::Scale(_)))
            && !reader.ordinal;
        if and_joins {
            i += 1;
            continue;
        }
        let saved = reader;
        if !t.text.split('-').all(|part| reader.push(part)) {
            reader = saved;
            break;
        }
        words_in_phrase.push(t.text.as_str());
        i += 1;
        used = i;
    }
    if used == 0 {
        return None;
    }
    let mut phrase = Phrase {
        tokens: used,
        value: reader.value(),
        ordinal: reader.ordinal,
        ..Phrase::default()
    };
    if let [count, scale_word] = words_in_phrase[..] {
        let is_large =
            matches!(classify(scale_word), Some((Class::Scale(s), false)) if s >= 1_000_000);
        if is_large && !count.contains('-') {
            let count = reader.value() / scale(&SCALES, scale_word).unwrap_or(1);
            phrase.short_scale = Some((count, scale_word.to_lowercase()));
        }
    }
    if !phrase.ordinal && is_word(tokens.get(used), "point") {
        let digits: String = tokens[used + 1..]
            .iter()
            .map_while(|t| match classify(&t.text) {
                Some((Class::Unit(d), false)) if t.kind == Kind::Word => {
                    char::from_digit(d as u32, 10)
                }
                _ => None,
            })
            .collect();
        if !digits.is_empty() {
            phrase.tokens = used + 1 + digits.len();
            phrase.decimal = digits;
        }
    }
    Some(phrase)
}

/// `n` with a comma between thousands from `from` up: 10,000 for counts
/// (2500 stays as is), 1,000 for money ($1,250).
fn grouped(n: u64, from: u64) -> String {
    let digits = n.to_string();
    if n < from {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ordinal_suffix(n: u64) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Words after which a bare "three thirty" is a time ("at three thirty").
const TIME_PREPOSITIONS: &[&str] = &[
    "at", "by", "until", "till", "from", "around", "before", "after", "since", "to",
];

/// "am", "a.m." or the spelled "a m" after an hour: the mark and the
/// tokens it takes.
fn meridiem(tokens: &[Token]) -> Option<(&'static str, usize)> {
    let spelled = |letter| is_word(tokens.first(), letter) && is_word(tokens.get(1), "m");
    if is_any(tokens.first(), &["am", "a.m.", "a.m"]) {
        Some(("AM", 1))
    } else if is_any(tokens.first(), &["pm", "p.m.", "p.m"]) {
        Some(("PM", 1))
    } else if spelled("a") {
        Some(("AM", 2))
    } else if spelled("p") {
        Some(("PM", 2))
    } else {
        None
    }
}

/// One number word of `class` range, as a value, from a token.
fn single(token: Option<&Token>) -> Option<Class> {
    let t = token.filter(|t| t.kind == Kind::Word && !t.protected)?;
    match classify(&t.text) {
        Some((class, false)) => Some(class),
        _ => None,
    }
}

/// Minutes after an hour: "oh five", "fifteen", "thirty", "forty five",
/// "forty-five". Returns tokens used and the two digits.
fn minutes(tokens: &[Token]) -> Option<(usize, u64)> {
    if is_word(tokens.first(), "oh") {
        return match single(tokens.get(1)) {
            Some(Class::Unit(d)) if d > 0 => Some((2, d)),
            _ => None,
        };
    }
    if let Some((tens, unit)) = tokens.first().and_then(|t| t.text.split_once('-')) {
        return match (classify(tens), classify(unit)) {
            (Some((Class::Tens(t), false)), Some((Class::Unit(u), false))) if t <= 50 && u > 0 => {
                Some((1, t + u))
            }
            _ => None,
        };
    }
    match single(tokens.first())? {
        Class::Teen(v) => Some((1, v)),
        Class::Tens(t) if t <= 50 => match single(tokens.get(1)) {
            Some(Class::Unit(u)) if u > 0 => Some((2, t + u)),
            _ => Some((1, t)),
        },
        _ => None,
    }
}

/// "three thirty pm" -> "3:30 PM", "seven am" -> "7 AM", "at three thirty"
/// -> "at 3:30", "five o'clock" -> "5 o'clock", "3:30 p.m." -> "3:30 PM".
fn read_time(tokens: &[Token], after_preposition: bool) -> Option<(usize, Vec<Token>)> {
    let head = tokens.first()?;
    let clock_digits = head.text.split_once(':').filter(|(h, m)| {
        h.len() <= 2 && m.len() == 2 && h.chars().chain(m.chars()).all(|c| c.is_ascii_digit())
    });
    let (hour, mut used, mut minute) = if let Some((h, m)) = clock_digits {
        (h.parse::<u64>().ok()?, 1, Some(m.parse::<u64>().ok()?))
    } else if let Ok(h) = head.text.parse::<u64>() {
        (h, 1, None)
    } else {
        match single(Some(head))? {
            Class::Unit(h) | Class::Teen(h) => (h, 1, None),
            _ => return None,
        }
    };
    if !(1..=12).contains(&hour) {
        return None;
    }
    if is_any(tokens.get(used), &["o'clock", "o’clock", "oclock"]) {
        let out = vec![Token::word(hour.to_string()), Token::word("o'clock")];
        return Some((used + 1, out));
    }
    if minute.is_none() {
        if let Some((n, m)) = minutes(&tokens[used..]) {
            used += n;
            minute = Some(m);
        }
    }
    let am_pm = meridiem(&tokens[used..]);
    if am_pm.is_none() && !(minute.is_some() && after_preposition) {
        return None;
    }
    let clock = match minute {
        Some(m) => format!("{hour}:{m:02}"),
        None => hour.to_string(),
    };
    let mut out = vec![Token::word(clock)];
    if let Some((mark, taken)) = am_pm {
        out.push(Token::word(mark));
        // "p.m." carries the sentence's full stop when a sentence follows.
        used += taken;
        let dotted = tokens[used - 1].text.ends_with('.');
        let next = tokens.get(used);
        if dotted && next.is_none_or(|t| t.is_break() || t.text.starts_with(char::is_uppercase)) {
            out.push(Token::new(Kind::Punct, "."));
        }
    }
    Some((used, out))
}

/// "nineteen ninety nine" -> 1999, "twenty twenty four" -> 2024, "nineteen
/// oh five" -> 1905, "nineteen hundred" -> 1900 (centuries 17 to 20).
fn read_year(tokens: &[Token]) -> Option<(usize, u64)> {
    let century = match single(tokens.first())? {
        Class::Teen(c @ 17..=19) | Class::Tens(c @ 20) => c,
        _ => return None,
    };
    let (used, rest) = match (tokens.get(1), single(tokens.get(1))) {
        (_, Some(Class::Hundred)) => (2, 0),
        (_, Some(Class::Teen(v))) => (2, v),
        (_, Some(Class::Tens(t))) => match single(tokens.get(2)) {
            Some(Class::Unit(u)) if u > 0 => (3, t + u),
            _ => (2, t),
        },
        (t, None) if is_word(t, "oh") => match single(tokens.get(2)) {
            Some(Class::Unit(u)) if u > 0 => (3, u),
            _ => return None,
        },
        (Some(t), None) => {
            let (tens, unit) = t.text.split_once('-')?;
            match (classify(tens), classify(unit)) {
                (Some((Class::Tens(t), false)), Some((Class::Unit(u), false))) => (2, t + u),
                _ => return None,
            }
        }
        _ => return None,
    };
    let followed_by_number = is_numeric(tokens.get(used));
    let unit_follows = is_any(tokens.get(used), &["percent", "dollars", "dollar"]);
    (!followed_by_number && !unit_follows).then_some((used, century * 100 + rest))
}

/// "and fifty cents" after "dollars": tokens used and the cents.
fn cents(tokens: &[Token]) -> Option<(usize, u64)> {
    if !is_word(tokens.first(), "and") {
        return None;
    }
    let phrase = read_phrase(&tokens[1..])?;
    let unit = tokens.get(1 + phrase.tokens);
    let ok = is_any(unit, &["cents", "cent"]) && phrase.value < 100 && phrase.decimal.is_empty();
    ok.then_some((phrase.tokens + 2, phrase.value))
}

/// Writes numbers as digits by the conventions above.
pub(crate) struct Numbers;

impl Rule for Numbers {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.is_english() && request.options.numbers_to_digits
    }

    fn apply(&self, doc: &mut Doc) {
        let code = doc.request.context == Context::Code;
        doc.rewrite(|p| {
            if !is_numeric(p.rest().first()) || is_numeric(p.out.last()) {
                return;
            }
            let after_preposition = is_any(p.out.last(), TIME_PREPOSITIONS);
            if let Some((n, out)) = read_time(p.rest(), after_preposition) {
                p.replace_next(n, out, EditKind::Number);
            } else if let Some((n, year)) = read_year(p.rest()) {
                p.replace_next(n, vec![Token::word(year.to_string())], EditKind::Number);
            } else if let Some(phrase) = read_phrase(p.rest()) {
                match written(&phrase, &p.rest()[phrase.tokens..], code) {
                    Some((extra, text))
                        if !(phrase.tokens == 1 && extra == 0 && text == p.rest()[0].text) =>
                    {
                        let joined = p.rest()[0].joined;
                        let token = Token {
                            joined,
                            ..Token::word(text)
                        };
                        p.replace_next(phrase.tokens + extra, vec![token], EditKind::Number);
                    }
                    _ => p.keep(phrase.tokens),
                }
            }
        });
    }
}

/// How a phrase is written, given what follows it: extra tokens used (a unit
/// word) and the text; `None` to leave the words as said.
fn written(phrase: &Phrase, after: &[Token], code: bool) -> Option<(usize, String)> {
    if is_numeric(after.first()) {
        return None;
    }
    let money = is_any(after.first(), &["dollars", "dollar"]);
    let digits = if phrase.decimal.is_empty() {
        if code {
            phrase.value.to_string()
        } else {
            grouped(phrase.value, if money { 1_000 } else { 10_000 })
        }
    } else {
        format!("{}.{}", phrase.value, phrase.decimal)
    };
    if phrase.ordinal {
        let suffix = ordinal_suffix(phrase.value);
        return (phrase.value >= 10).then(|| (0, format!("{}{suffix}", phrase.value)));
    }
    if is_word(after.first(), "percent") {
        return Some((1, format!("{digits}%")));
    }
    if is_word(after.first(), "per") && is_word(after.get(1), "cent") {
        return Some((2, format!("{digits}%")));
    }
    if money {
        if let Some((count, word)) = &phrase.short_scale {
            return Some((1, format!("${count} {word}")));
        }
        return Some(match cents(&after[1..]) {
            Some((n, c)) if phrase.decimal.is_empty() => (1 + n, format!("${digits}.{c:02}")),
            _ => (1, format!("${digits}")),
        });
    }
    if let Some((count, word)) = &phrase.short_scale {
        return Some((0, format!("{count} {word}")));
    }
    let as_digits = phrase.value >= 10 || code || !phrase.decimal.is_empty();
    as_digits.then_some((0, digits))
}
