//! Samples (one per operation) and their summaries: success rate, latency
//! percentiles from an HDR histogram, throughput.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Why an operation failed, as the report sorts failures.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Refused at once with a clear error (queue full, overloaded, too many
    /// connections): graceful degradation.
    Rejected(String),
    /// No answer in time.
    Timeout,
    /// The connection failed or closed abnormally.
    Connection(String),
    /// An answer, but the wrong words: counted as a failure, not a success.
    WrongTranscript(String),
    /// Any other error answered.
    Error(String),
}

impl Failure {
    /// Whether this is the graceful kind of failure: a clear refusal.
    pub fn is_graceful(&self) -> bool {
        matches!(self, Failure::Rejected(_))
    }

    /// A short label for tables: the kind and its first words.
    pub fn label(&self) -> String {
        let short = |text: &str| text.chars().take(60).collect::<String>();
        match self {
            Failure::Rejected(why) => format!("rejected: {}", short(why)),
            Failure::Timeout => "timeout".into(),
            Failure::Connection(why) => format!("connection: {}", short(why)),
            Failure::WrongTranscript(_) => "wrong transcript".into(),
            Failure::Error(why) => format!("error: {}", short(why)),
        }
    }
}

/// One operation's result, as a target reports it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The operation (`transcribe`, `put`, `stream`, ...).
    pub op: &'static str,
    /// How long it took (for streams: the last final after the end of speech).
    pub latency_s: f64,
    /// Success, or why not.
    pub result: Result<(), Failure>,
}

impl Outcome {
    /// A success.
    pub fn ok(op: &'static str, latency_s: f64) -> Self {
        Outcome {
            op,
            latency_s,
            result: Ok(()),
        }
    }

    /// A failure.
    pub fn failed(op: &'static str, latency_s: f64, failure: Failure) -> Self {
        Outcome {
            op,
            latency_s,
            result: Err(failure),
        }
    }
}

/// One operation of a run, as results.json keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds from the start of the run to the end of the operation.
    pub t_s: f64,
    /// Concurrent users of the level that made it.
    pub users: usize,
    /// The operation.
    pub op: &'static str,
    /// Latency in milliseconds.
    pub latency_ms: f64,
    /// Whether it succeeded.
    pub ok: bool,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

impl Sample {
    /// The sample of `outcome`, which ended `t_s` seconds into the run
    /// under `users` concurrent users.
    pub fn of(outcome: Outcome, t_s: f64, users: usize) -> Self {
        Sample {
            t_s,
            users,
            op: outcome.op,
            latency_ms: outcome.latency_s * 1000.0,
            ok: outcome.result.is_ok(),
            failure: outcome.result.err(),
        }
    }
}

/// Counts, latency percentiles and throughput of a set of samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Operations.
    pub count: u64,
    /// Operations that succeeded.
    pub ok: u64,
    /// `ok / count` (1 when there were none).
    pub success_rate: f64,
    /// Latency of successful operations, milliseconds.
    pub mean_ms: f64,
    /// Minimum.
    pub min_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// Successful operations per second over `wall_s`.
    pub throughput_rps: f64,
    /// Seconds the samples span.
    pub wall_s: f64,
    /// Failures by label.
    pub failures: BTreeMap<String, u64>,
    /// Failures that were clear refusals (graceful).
    pub graceful_failures: u64,
}

impl Summary {
    /// Summarises `samples`, which took `wall_s` seconds.
    pub fn of<'a>(samples: impl IntoIterator<Item = &'a Sample>, wall_s: f64) -> Self {
        // Microseconds, up to an hour, three significant digits.
        let mut histogram =
            Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        let mut summary = Summary {
            wall_s,
            ..Summary::default()
        };
        for sample in samples {
            summary.count += 1;
            match &sample.failure {
                None => {
                    summary.ok += 1;
                    histogram
                        .saturating_record((sample.latency_ms * 1000.0).round().max(1.0) as u64);
                }
                Some(failure) => {
                    *summary.failures.entry(failure.label()).or_default() += 1;
                    summary.graceful_failures += u64::from(failure.is_graceful());
                }
            }
        }
        summary.success_rate = if summary.count == 0 {
            1.0
        } else {
            summary.ok as f64 / summary.count as f64
        };
        if summary.ok > 0 {
            let ms = |us: u64| us as f64 / 1000.0;
            summary.mean_ms = histogram.mean() / 1000.0;
            summary.min_ms = ms(histogram.min());
            summary.p50_ms = ms(histogram.value_at_quantile(0.50));
            summary.p90_ms = ms(histogram.value_at_quantile(0.90));
            summary.p95_ms = ms(histogram.value_at_quantile(0.95));
            summary.p99_ms = ms(histogram.value_at_quantile(0.99));
            summary.max_ms = ms(histogram.max());
        }
        if wall_s > 0.0 {
            summary.throughput_rps = summary.ok as f64 / wall_s;
        }
        summary
    }

    /// A metric by its threshold name (see [`crate::threshold::METRICS`]).
    pub fn metric(&self, name: &str) -> Option<f64> {
        Some(match name {
            "success_rate" => self.success_rate,
            "count" => self.count as f64,
            "mean_ms" => self.mean_ms,
            "p50_ms" => self.p50_ms,
            "p90_ms" => self.p90_ms,
            "p95_ms" => self.p95_ms,
            "p99_ms" => self.p99_ms,
            "max_ms" => self.max_ms,
            "throughput_rps" => self.throughput_rps,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(latency_ms: f64, failure: Option<Failure>) -> Sample {
        Sample {
            t_s: 0.0,
            users: 1,
            op: "op",
            latency_ms,
            ok: failure.is_none(),
            failure,
        }
    }

    #[test]
    fn percentiles_count_only_successes() {
        let mut samples: Vec<Sample> = (1..=100).map(|ms| sample(ms as f64, None)).collect();
        samples.push(sample(5.0, Some(Failure::Rejected("queue full".into()))));
        samples.push(sample(60_000.0, Some(Failure::Timeout)));
        let summary = Summary::of(&samples, 10.0);
        assert_eq!(
            (summary.count, summary.ok, summary.graceful_failures),
            (102, 100, 1)
        );
        assert!((summary.success_rate - 100.0 / 102.0).abs() < 1e-12);
        // Three significant digits: within 0.1% of the exact ranks.
        for (got, want) in [
            (summary.p50_ms, 50.0),
            (summary.p95_ms, 95.0),
            (summary.p99_ms, 99.0),
            (summary.max_ms, 100.0),
            (summary.min_ms, 1.0),
            (summary.mean_ms, 50.5),
        ] {
            assert!((got - want).abs() <= want * 1e-3, "{got} vs {want}");
        }
        assert_eq!(summary.throughput_rps, 10.0);
        assert_eq!(summary.failures["timeout"], 1);
        assert_eq!(summary.failures["rejected: queue full"], 1);
    }

    #[test]
    fn no_samples_is_a_full_success_of_nothing() {
        let summary = Summary::of(&[], 0.0);
        assert_eq!(
            (summary.count, summary.success_rate, summary.p99_ms),
            (0, 1.0, 0.0)
        );
        assert_eq!(summary.metric("count"), Some(0.0));
        assert_eq!(summary.metric("p42"), None);
    }
}
