//! Meaning errors: what a reader would take differently from the output than
//! from the expected text. Formatting ("five" or "5", "Hi John," on one line
//! or two) is not a meaning error; a number, a name or a negation changed or
//! lost is.

/// One way the output means something other than the expected text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeaningError {
    /// The numbers differ (as multisets of values, however written).
    Number {
        /// The expected text's numbers.
        expected: Vec<String>,
        /// The output's numbers.
        got: Vec<String>,
    },
    /// A name of the expected text (a capitalised word inside a sentence)
    /// is missing from the output.
    Name(String),
    /// The count of negations (not, no, never, -n't, ...) differs.
    Negation {
        /// In the expected text.
        expected: usize,
        /// In the output.
        got: usize,
    },
}

/// The meaning errors of `output` against `expected`.
pub fn meaning_errors(expected: &str, output: &str) -> Vec<MeaningError> {
    let mut errors = Vec::new();
    let (want, got) = (numbers(expected), numbers(output));
    let (mut want_sorted, mut got_sorted) = (want.clone(), got.clone());
    want_sorted.sort();
    got_sorted.sort();
    if want_sorted != got_sorted {
        errors.push(MeaningError::Number {
            expected: want,
            got,
        });
    }
    let out_words: Vec<String> = words(output).map(|w| w.to_lowercase()).collect();
    for name in names(expected) {
        if !out_words.contains(&name.to_lowercase()) {
            errors.push(MeaningError::Name(name));
        }
    }
    let (n_want, n_got) = (negations(expected), negations(output));
    if n_want != n_got {
        errors.push(MeaningError::Negation {
            expected: n_want,
            got: n_got,
        });
    }
    errors
}

/// The words of `text`, trimmed of the marks around them.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "()[]{}\"“”".contains(c))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
}

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "nothing", "nobody", "none", "nor", "neither", "cannot", "without",
];

fn negations(text: &str) -> usize {
    words(text)
        .filter(|w| {
            let w = w.to_lowercase();
            NEGATIONS.contains(&w.as_str()) || w.ends_with("n't") || w.ends_with("n’t")
        })
        .count()
}

/// Capitalised words that do not open a sentence or line (so capitalised
/// because they are names), other than "I" and its contractions.
fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at_start = true;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let is_i = word == "I" || word.starts_with("I'") || word.starts_with("I’");
        if !at_start && !is_i && word.starts_with(char::is_uppercase) {
            out.push(word.to_string());
        }
        at_start = raw.ends_with(['.', '?', '!', ':']) || word.is_empty() && raw.starts_with('#');
    }
    // A line break opens a line: the word after one is not a name by place.
    let line_starts: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    out.retain(|w| !line_starts.contains(&w.as_str()));
    out
}

/// Cardinal number words and their values.
const CARDINALS: &[(&str, u64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Ordinals that are not a cardinal plus "th".
const ORDINALS: &[(&str, u64)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fifth", 5),
    ("eighth", 8),
    ("ninth", 9),
    ("twelfth", 12),
];

const SCALES: &[(&str, u64)] = &[
    ("hundred", 100),
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
];

fn lookup(table: &[(&str, u64)], word: &str) -> Option<u64> {
    table.iter().find(|(w, _)| *w == word).map(|&(_, v)| v)
}

/// The value of one number word, cardinal or ordinal ("twentieth" = 20).
fn word_value(word: &str) -> Option<u64> {
    lookup(CARDINALS, word)
        .or_else(|| lookup(ORDINALS, word))
        .or_else(|| {
            let stem = word.strip_suffix("ieth").map(|s| format!("{s}y"));
            let stem = stem.or_else(|| word.strip_suffix("th").map(str::to_string))?;
            lookup(CARDINALS, &stem)
        })
}

/// The value of a written number ("25,000", "$5", "21st", "50%"), split at
/// `.`, `:` and `-` into its parts ("3:30" is 3 and 30, "5.50" 5 and 50).
fn digit_parts(word: &str) -> Option<Vec<u64>> {
    let body = word
        .trim_start_matches('$')
        .trim_end_matches('%')
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let parts: Option<Vec<u64>> = body
        .split(['.', ':', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| p.replace(',', "").parse::<u64>().ok())
        .collect();
    let mut parts = parts?;
    // "3:00" and "5.00" say no more than "3" and "5".
    if parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// Every number in `text` as a value string, in order: digits, number words
/// read as one number ("twenty five thousand" = 25000), a digit count with a
/// scale word ("2 million").
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // The number being read: (total, current group, last word was a tens word).
    let mut reading: Option<(u64, u64, bool)> = None;
    let flush = |reading: &mut Option<(u64, u64, bool)>, out: &mut Vec<String>| {
        if let Some((total, current, _)) = reading.take() {
            out.push((total + current).to_string());
        }
    };
    for word in words(text) {
        let lower = word.to_lowercase();
        for part in lower.split('-') {
            if let Some(scale) = lookup(SCALES, part) {
                if let Some((total, current, _)) = reading.as_mut() {
                    if scale == 100 {
                        *current *= 100;
                    } else {
                        *total += *current * scale;
                        *current = 0;
                    }
                    continue;
                }
            }
            if part == "and" && reading.is_some_and(|(_, c, tens)| c % 100 == 0 && !tens) {
                continue;
            }
            if let Some(v) = word_value(part) {
                let tens = (20..100).contains(&v) && v % 10 == 0;
                reading = match reading {
                    Some((t, c, true)) if v < 10 => Some((t, c + v, false)),
                    Some((t, c, _)) if c > 0 && c % 100 == 0 && v < 100 => Some((t, c + v, tens)),
                    Some((t, 0, _)) if t > 0 => Some((t, v, tens)),
                    other => {
                        let mut other = other;
                        flush(&mut other, &mut out);
                        Some((0, v, tens))
                    }
                };
                continue;
            }
            flush(&mut reading, &mut out);
            if let Some(parts) = digit_parts(part) {
                if let [single] = parts[..] {
                    reading = Some((0, single, false));
                } else {
                    out.extend(parts.iter().map(u64::to_string));
                }
            }
        }
    }
    flush(&mut reading, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_values_however_written() {
        assert_eq!(numbers("twenty five thousand dollars"), ["25000"]);
        assert_eq!(numbers("$25,000 and 2 million"), ["25000", "2000000"]);
        assert_eq!(
            numbers("three thirty pm, 3:30 PM, 5:00"),
            ["3", "30", "3", "30", "5"]
        );
        assert_eq!(numbers("the twenty first, the 21st"), ["21", "21"]);
        assert_eq!(numbers("one hundred and five"), ["105"]);
        assert_eq!(numbers("five five five"), ["5", "5", "5"]);
    }

    #[test]
    fn a_changed_amount_is_a_meaning_error_and_format_is_not() {
        assert!(meaning_errors("It is $30,000.", "It is thirty thousand dollars").is_empty());
        let errors = meaning_errors("It is $30,000.", "It is $25,000 $30,000.");
        assert!(
            matches!(errors[..], [MeaningError::Number { .. }]),
            "{errors:?}"
        );
    }

    #[test]
    fn names_and_negations() {
        assert_eq!(
            meaning_errors("Send it to Mike.", "Send it to John."),
            [MeaningError::Name("Mike".into())]
        );
        assert!(meaning_errors("Hi John,\n\nThanks.", "hi john thanks").is_empty());
        assert_eq!(
            meaning_errors("I don't agree.", "I agree."),
            [MeaningError::Negation {
                expected: 1,
                got: 0
            }]
        );
    }
}
