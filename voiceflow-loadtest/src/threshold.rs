//! Thresholds, as k6 has them: `TARGET.SCENARIO.METRIC OP NUMBER`, for
//! example `ws.progressive.p95_ms < 2000` or `store.volume.success_rate >= 0.999`.
//! A threshold that fails makes the run exit non-zero.

use serde::Serialize;
use voiceflow_core::{Error, Result};

use crate::stats::Summary;

/// The targets a threshold can name.
pub const TARGETS: [&str; 4] = ["engine", "enhance", "store", "ws"];
/// The scenarios a threshold can name.
pub const SCENARIOS: [&str; 6] = [
    "progressive",
    "sustained",
    "spike",
    "stress",
    "volume",
    "connections",
];
/// The metrics of a scenario's summary a threshold can name.
pub const METRICS: [&str; 9] = [
    "success_rate",
    "count",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "throughput_rps",
];

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
}

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// As written.
    pub text: String,
    /// `engine`, `enhance`, `store` or `ws`.
    pub target: String,
    /// The scenario whose summary it reads.
    pub scenario: String,
    /// The summary's metric.
    pub metric: String,
    /// How the metric compares with the limit.
    pub comparison: Comparison,
    /// The limit.
    pub limit: f64,
}

/// A threshold against a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The threshold.
    pub threshold: Threshold,
    /// The measured value; `None` when the run did not measure it (its
    /// target was not selected).
    pub value: Option<f64>,
    /// Whether it holds; `None` when not measured.
    pub passed: Option<bool>,
}

impl Threshold {
    /// Parses `TARGET.SCENARIO.METRIC OP NUMBER`.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |why: String| {
            Err(Error::InvalidArgument(format!(
                "threshold {text:?}: {why} (write TARGET.SCENARIO.METRIC OP NUMBER, \
                 such as \"ws.progressive.p95_ms < 2000\")"
            )))
        };
        let Some(at) = text.find(['<', '>']) else {
            return invalid("no comparison (<, <=, >, >=)".into());
        };
        let (name, rest) = text.split_at(at);
        let (comparison, number) = match rest.as_bytes() {
            [b'<', b'=', ..] => (Comparison::LessOrEqual, &rest[2..]),
            [b'>', b'=', ..] => (Comparison::GreaterOrEqual, &rest[2..]),
            [b'<', ..] => (Comparison::Less, &rest[1..]),
            _ => (Comparison::Greater, &rest[1..]),
        };
        let Ok(limit) = number.trim().parse::<f64>() else {
            return invalid(format!("{:?} is not a number", number.trim()));
        };
        if !limit.is_finite() {
            return invalid("the limit must be finite".into());
        }
        let parts: Vec<&str> = name.trim().split('.').collect();
        let [target, scenario, metric] = parts[..] else {
            return invalid("the name needs three parts".into());
        };
        for (part, known, what) in [
            (target, &TARGETS[..], "target"),
            (scenario, &SCENARIOS[..], "scenario"),
            (metric, &METRICS[..], "metric"),
        ] {
            if !known.contains(&part) {
                return invalid(format!(
                    "unknown {what} {part:?} (one of {})",
                    known.join(", ")
                ));
            }
        }
        Ok(Threshold {
            text: text.trim().to_string(),
            target: target.into(),
            scenario: scenario.into(),
            metric: metric.into(),
            comparison,
            limit,
        })
    }

    /// Whether `value` is within the threshold.
    pub fn holds(&self, value: f64) -> bool {
        match self.comparison {
            Comparison::Less => value < self.limit,
            Comparison::LessOrEqual => value <= self.limit,
            Comparison::Greater => value > self.limit,
            Comparison::GreaterOrEqual => value >= self.limit,
        }
    }

    /// Judges the threshold on the summary of its scenario, when measured.
    pub fn judge(&self, summary: Option<&Summary>) -> Verdict {
        let value = summary.and_then(|summary| summary.metric(&self.metric));
        Verdict {
            threshold: self.clone(),
            value,
            passed: value.map(|value| self.holds(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_comparison() {
        let t = Threshold::parse(" ws.progressive.p95_ms<=2000 ").unwrap();
        assert_eq!(
            (t.target.as_str(), t.scenario.as_str(), t.metric.as_str()),
            ("ws", "progressive", "p95_ms")
        );
        assert_eq!((t.comparison, t.limit), (Comparison::LessOrEqual, 2000.0));
        assert!(t.holds(2000.0) && !t.holds(2000.1));
        let t = Threshold::parse("store.volume.success_rate > 0.5").unwrap();
        assert!(t.holds(0.6) && !t.holds(0.5));
        assert!(Threshold::parse("a.b.c")
            .unwrap_err()
            .to_string()
            .contains("comparison"));
    }

    #[test]
    fn unknown_names_and_bad_numbers_are_refused_by_name() {
        for (text, word) in [
            ("web.progressive.p95_ms < 1", "target"),
            ("ws.ramp.p95_ms < 1", "scenario"),
            ("ws.spike.p42 < 1", "metric"),
            ("ws.spike.p95_ms < fast", "number"),
            ("ws.p95_ms < 1", "three parts"),
            ("ws.spike.p95_ms < inf", "finite"),
        ] {
            let error = Threshold::parse(text).unwrap_err().to_string();
            assert!(error.contains(word), "{text}: {error}");
        }
    }

    #[test]
    fn an_unmeasured_metric_is_neither_passed_nor_failed() {
        let t = Threshold::parse("ws.spike.p95_ms < 1").unwrap();
        assert_eq!(t.judge(None).passed, None);
    }
}
