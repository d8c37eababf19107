//! The enhancement quality benchmark: every case of
//! `voiceflow-core/tests/data/enhance_bench.tsv` (the cases the rules were
//! written against) and of `enhance_heldout.tsv` (cases written after the
//! rules, by someone who had not read them) through the rule enhancer,
//! and through an LLM server when one is named, scored per context (exact
//! match %, mean normalised edit similarity, meaning errors).
//!
//! Run: `make bench-enhance-quality`. Environment:
//! - `VOICEFLOW_LLM_URL` (`http://127.0.0.1:11434/v1`) and `VOICEFLOW_LLM_MODEL`:
//!   also score that OpenAI-compatible server, behind the rules as fallback
//!   (the `llm` feature, which the make target turns on);
//! - `VOICEFLOW_QUALITY_MISSES=1`: list every case that is not exact.

use voiceflow_core::enhance::quality::{self, Report};
use voiceflow_core::enhance::{Enhancer, RuleEnhancer};

fn print(report: &Report) {
    println!("{}", report.table());
    if std::env::var_os("VOICEFLOW_QUALITY_MISSES").is_some() {
        for o in report.misses() {
            println!(
                "line {} ({}): {:?}\n  want {:?}\n  got  {:?} {:?}",
                o.case.line, o.case.context, o.case.input, o.case.expected, o.output, o.meaning
            );
        }
    }
}

#[cfg(feature = "llm")]
fn llm() -> Option<Box<dyn Enhancer>> {
    use voiceflow_core::enhance::{
        BreakerConfig, CircuitBreaker, FallbackEnhancer, LlmConfig, LlmEnhancer,
    };
    let url = std::env::var("VOICEFLOW_LLM_URL").ok()?;
    let model = std::env::var("VOICEFLOW_LLM_MODEL").ok()?;
    let llm = LlmEnhancer::new(LlmConfig::new(url, model)).expect("LLM configuration");
    let breaker = CircuitBreaker::new(BreakerConfig::default());
    Some(Box::new(FallbackEnhancer::new(llm, breaker)))
}

#[cfg(not(feature = "llm"))]
fn llm() -> Option<Box<dyn Enhancer>> {
    None
}

fn main() {
    // `cargo bench` passes `--bench`; this program takes no arguments.
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/voiceflow-core/tests/data");
    // The benchmark the rules were written against, then cases written after them.
    for name in ["enhance_bench.tsv", "enhance_heldout.tsv"] {
        let path = format!("{data}/{name}");
        let text = std::fs::read_to_string(&path).expect("the benchmark file");
        let cases = quality::parse_cases(&text).expect("a well-formed benchmark");
        println!("{} cases from {path}\n", cases.len());
        print(&quality::score(&RuleEnhancer, &cases).expect("the rules never fail"));
        if let Some(llm) = llm() {
            print(&quality::score(llm.as_ref(), &cases).expect("the fallback never fails"));
        }
    }
}
