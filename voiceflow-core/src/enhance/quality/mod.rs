//! Quality of finished text, measured on a benchmark of dictation.
//!
//! A benchmark is a list of [`Case`]s: a transcript (as Whisper writes it,
//! or as raw spoken words), its destination [`Context`] and the text a
//! careful editor would produce. [`score`] runs any [`Enhancer`] on every
//! case and reports, per context, exact matches, the mean normalised edit
//! similarity and the meaning errors (a number, a name or a negation changed
//! or lost; see [`meaning_errors`]) apart from mere formatting misses.
//!
//! The project's benchmark is `voiceflow-core/tests/data/enhance_bench.tsv`;
//! `make bench-enhance-quality` prints its table and a test holds the floor.

mod meaning;

pub use meaning::{meaning_errors, MeaningError};

use std::fmt::Write as _;

use super::request::EnhanceRequest;
use super::Enhancer;
use crate::Context;
use crate::{Error, Result};

/// How the input of a case was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As Whisper writes it: punctuated, capitalised, numbers in digits.
    Whisper,
    /// Raw spoken words: no punctuation, numbers as words.
    Spoken,
}

/// One benchmark case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The line of the benchmark file it came from (1-based).
    pub line: usize,
    /// The destination.
    pub context: Context,
    /// How the input is written.
    pub style: Style,
    /// What the case covers (`filler`, `correction`, `money`, ...).
    pub tags: Vec<String>,
    /// The transcript.
    pub input: String,
    /// The finished text a careful editor would write.
    pub expected: String,
}

/// Reads a benchmark: one case a line, five tab-separated fields
/// `context  style  tags  input  expected` (`style` is `whisper` or
/// `spoken`, `tags` comma-separated; `\n` in a field is a line break). Blank
/// lines and lines starting with `#` are skipped. A malformed line is an
/// [`Error::InvalidArgument`] naming it.
pub fn parse_cases(text: &str) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let bad = |why: &str| Error::InvalidArgument(format!("benchmark line {line}: {why}"));
        let fields: Vec<&str> = raw.split('\t').collect();
        let [context, style, tags, input, expected] = fields[..] else {
            return Err(bad(&format!("{} fields, want 5", fields.len())));
        };
        let context = Context::ALL
            .into_iter()
            .find(|c| c.as_str() == context)
            .ok_or_else(|| bad(&format!("unknown context {context:?}")))?;
        let style = match style {
            "whisper" => Style::Whisper,
            "spoken" => Style::Spoken,
            other => return Err(bad(&format!("unknown style {other:?}"))),
        };
        let unescape = |s: &str| s.replace("\\n", "\n");
        cases.push(Case {
            line,
            context,
            style,
            tags: tags.split(',').map(|t| t.trim().to_string()).collect(),
            input: unescape(input),
            expected: unescape(expected),
        });
    }
    Ok(cases)
}

/// Similarity of two texts: 1 minus the character edit distance over the
/// longer length (1.0 when equal, 0.0 when nothing is shared).
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::normalized_levenshtein(a, b)
}

/// What one case came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case.
    pub case: Case,
    /// What the enhancer wrote.
    pub output: String,
    /// [`similarity`] of output and expected text.
    pub similarity: f64,
    /// Numbers, names and negations changed or lost.
    pub meaning: Vec<MeaningError>,
}

impl Outcome {
    /// Whether the output is exactly the expected text.
    pub fn exact(&self) -> bool {
        self.output == self.case.expected
    }
}

/// The totals of one context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextScore {
    /// The context.
    pub context: Context,
    /// Cases scored.
    pub cases: usize,
    /// Cases whose output is exactly the expected text.
    pub exact: usize,
    /// Mean [`similarity`].
    pub mean_similarity: f64,
    /// Meaning errors over all cases.
    pub meaning_errors: usize,
}

impl ContextScore {
    /// Exact matches as a percentage of the cases (0 when there are none).
    pub fn exact_percent(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            100.0 * self.exact as f64 / self.cases as f64
        }
    }
}

/// Every case's outcome, with the totals per context.
#[derive(Debug, Clone)]
pub struct Report {
    /// The backend's name.
    pub backend: String,
    /// One outcome per case, in benchmark order.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// Totals for each context that has cases, in [`Context::ALL`] order.
    pub fn per_context(&self) -> Vec<ContextScore> {
        Context::ALL
            .into_iter()
            .filter_map(|context| {
                let of: Vec<&Outcome> = self
                    .outcomes
                    .iter()
                    .filter(|o| o.case.context == context)
                    .collect();
                (!of.is_empty()).then(|| ContextScore {
                    context,
                    cases: of.len(),
                    exact: of.iter().filter(|o| o.exact()).count(),
                    mean_similarity: of.iter().map(|o| o.similarity).sum::<f64>() / of.len() as f64,
                    meaning_errors: of.iter().map(|o| o.meaning.len()).sum(),
                })
            })
            .collect()
    }

    /// The outcomes that are not exact.
    pub fn misses(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.exact())
    }

    /// The per-context table as Markdown: cases, exact %, mean similarity,
    /// meaning errors, and a total row.
    pub fn table(&self) -> String {
        let mut out = format!(
            "backend: {}\n\n| context | cases | exact % | mean similarity | meaning errors |\n|---|---:|---:|---:|---:|\n",
            self.backend
        );
        let rows = self.per_context();
        for s in &rows {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {:.3} | {} |",
                s.context,
                s.cases,
                s.exact_percent(),
                s.mean_similarity,
                s.meaning_errors
            );
        }
        let cases: usize = rows.iter().map(|s| s.cases).sum();
        if cases > 0 {
            let exact: usize = rows.iter().map(|s| s.exact).sum();
            let sim: f64 = self.outcomes.iter().map(|o| o.similarity).sum::<f64>() / cases as f64;
            let errors: usize = rows.iter().map(|s| s.meaning_errors).sum();
            let _ = writeln!(
                out,
                "| all | {cases} | {:.1} | {sim:.3} | {errors} |",
                100.0 * exact as f64 / cases as f64
            );
        }
        out
    }
}

/// Runs `enhancer` on every case (an English request for the case's
/// context, default options) and scores the outputs. The first error an
/// enhancer returns ends the run.
pub fn score(enhancer: &dyn Enhancer, cases: &[Case]) -> Result<Report> {
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let request = EnhanceRequest::new(case.context).language("en");
        let output = enhancer.enhance(&case.input, &request)?.text;
        outcomes.push(Outcome {
            similarity: similarity(&output, &case.expected),
            meaning: meaning_errors(&case.expected, &output),
            output,
            case: case.clone(),
        });
    }
    Ok(Report {
        backend: enhancer.name().to_string(),
        outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cases_and_names_a_bad_line() {
        let text = "# comment\n\ncode\tspoken\tcall, snake\tprint x\tprint(x)\nemail\twhisper\tgreeting\tHi.\tHi,\\n\\nBye.\n";
        let cases = parse_cases(text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].line, 3);
        assert_eq!(cases[0].context, Context::Code);
        assert_eq!(cases[0].tags, ["call", "snake"]);
        assert_eq!(cases[1].expected, "Hi,\n\nBye.");
        let err = parse_cases("chat\tspoken\tx\tonly four").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = parse_cases("letter\tspoken\tx\ta\tb").unwrap_err();
        assert!(err.to_string().contains("letter"), "{err}");
    }

    #[test]
    fn similarity_is_one_minus_edits_over_length() {
        assert_eq!(similarity("abcd", "abcd"), 1.0);
        assert_eq!(similarity("abcd", "abcx"), 0.75);
        assert_eq!(similarity("ab", "xy"), 0.0);
    }
}
