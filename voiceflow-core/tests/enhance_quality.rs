//! The enhancement quality benchmark (tests/data/enhance_bench.tsv) scored on
//! the rule enhancer: every context must keep the exact-match floor reached
//! and no output may change a number, a name or a negation.
//!
//! Where a rule cannot know more than the words say, the expected text keeps
//! what was said: names said in lower case stay lower case, a comma after a
//! spoken "hey" or "okay" is not guessed, and words after `import` are not
//! joined into an identifier ("default dict"): the benchmark rewards leaving
//! such text alone.

use std::collections::HashMap;

use voiceflow_core::enhance::quality::{self, Case, MeaningError, Style};
use voiceflow_core::enhance::{Context, EnhanceRequest, Enhanced, Enhancer, RuleEnhancer};

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/enhance_bench.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    quality::parse_cases(&text).unwrap()
}

/// The exact-match floor per context, in percent. The aim is 90;
/// these are what the rules reach, so that any regression fails.
const FLOOR: &[(Context, f64)] = &[
    (Context::General, 90.0),
    (Context::Email, 90.0),
    (Context::Chat, 90.0),
    (Context::Document, 90.0),
    (Context::Code, 90.0),
];

#[test]
fn the_benchmark_covers_every_context_in_both_styles() {
    let cases = cases();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    for context in Context::ALL {
        let of: Vec<&Case> = cases.iter().filter(|c| c.context == context).collect();
        assert!(of.len() >= 40, "{context}: {} cases", of.len());
        for style in [Style::Whisper, Style::Spoken] {
            assert!(
                of.iter().filter(|c| c.style == style).count() >= 5,
                "{context}: few {style:?} cases"
            );
        }
    }
    for tag in [
        "filler",
        "repetition",
        "correction",
        "punctuation",
        "number",
        "money",
        "date",
        "time",
        "percent",
        "email_address",
        "url",
        "name",
        "list",
        "greeting",
        "signoff",
        "tone",
        "heading",
        "paragraph",
        "identifier",
        "operator",
        "call",
        "negation",
        "literal",
    ] {
        assert!(
            cases.iter().any(|c| c.tags.iter().any(|t| t == tag)),
            "no case tagged {tag}"
        );
    }
}

#[test]
fn rules_reach_the_floor_with_no_meaning_errors() {
    let report = quality::score(&RuleEnhancer, &cases()).unwrap();
    let misses: String = report
        .misses()
        .map(|o| {
            format!(
                "line {} ({}): {:?}\n  want {:?}\n  got  {:?} {:?}\n",
                o.case.line, o.case.context, o.case.input, o.case.expected, o.output, o.meaning
            )
        })
        .collect();
    println!("{}\n{misses}", report.table());
    for score in report.per_context() {
        let floor = FLOOR.iter().find(|(c, _)| *c == score.context).unwrap().1;
        assert!(
            score.exact_percent() >= floor,
            "{}: {:.1}% exact, floor {floor}%\n{misses}",
            score.context,
            score.exact_percent()
        );
        assert_eq!(score.meaning_errors, 0, "{}\n{misses}", score.context);
    }
}

/// Answers each case's input with a fixed text: the scorer's ground truth.
struct Table(HashMap<String, String>);

impl Enhancer for Table {
    fn name(&self) -> &str {
        "table"
    }

    fn enhance(&self, text: &str, _: &EnhanceRequest) -> voiceflow_core::Result<Enhanced> {
        let text = self
            .0
            .get(text)
            .cloned()
            .unwrap_or_else(|| text.to_string());
        Ok(Enhanced {
            text,
            edits: Vec::new(),
            backend: "table".into(),
            fallback: None,
        })
    }
}

#[test]
fn the_scorer_gives_full_marks_to_the_expected_text_and_counts_meaning_errors() {
    let cases = cases();
    let perfect = Table(
        cases
            .iter()
            .map(|c| (c.input.clone(), c.expected.clone()))
            .collect(),
    );
    let report = quality::score(&perfect, &cases).unwrap();
    for s in report.per_context() {
        assert_eq!((s.exact, s.meaning_errors), (s.cases, 0), "{s:?}");
        assert_eq!(s.mean_similarity, 1.0);
    }

    // Echoing the transcript keeps "$25,000, no wait, $30,000": a meaning error.
    let report = quality::score(&Table(HashMap::new()), &cases).unwrap();
    let budget = report
        .outcomes
        .iter()
        .find(|o| o.case.input == "So the budget is $25,000, no wait, $30,000.")
        .unwrap();
    assert!(
        budget
            .meaning
            .iter()
            .any(|e| matches!(e, MeaningError::Number { .. })),
        "{:?}",
        budget.meaning
    );
    assert!(report.per_context().iter().all(|s| s.exact < s.cases));
    assert!(
        report.table().contains("| general | 48 |"),
        "{}",
        report.table()
    );
}
