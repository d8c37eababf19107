//! The pipeline's metrics: queue depth, wait and processing time per context
//! (P50/P95/P99) and request counts by outcome, kept in a shared
//! [`Metrics`] registry.
//!
//! Series (all in one registry, so they export together with other stages):
//! - `enhance_queue_depth` (gauge, with `enhance_queue_depth_peak`)
//! - `enhance_wait_seconds{context}`, `enhance_process_seconds{context}`
//!   (latency histograms)
//! - `enhance_requests_total{context, outcome}` with outcome `accepted`,
//!   `completed`, `failed`, `rejected`, `timed_out` or `cancelled`
//! - `enhance_fallback_total{context}`: completed by a fallback backend

use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{Counter, Gauge, Histogram, Metrics};
use crate::Context;

/// What happened to one request (in the order of [`OUTCOME_LABELS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    Completed,
    Failed,
    Rejected,
    TimedOut,
    Cancelled,
}

const OUTCOME_LABELS: [&str; 6] = [
    "accepted",
    "completed",
    "failed",
    "rejected",
    "timed_out",
    "cancelled",
];

/// Help texts of the pipeline's series.
const HELP: [(&str, &str); 5] = [
    (
        "enhance_queue_depth",
        "Enhancement requests accepted and not yet started",
    ),
    (
        "enhance_wait_seconds",
        "Time an enhancement request waited in the queue",
    ),
    (
        "enhance_process_seconds",
        "Time the enhancer took for one request",
    ),
    (
        "enhance_requests_total",
        "Enhancement requests by context and outcome",
    ),
    (
        "enhance_fallback_total",
        "Enhancement requests completed by a fallback backend",
    ),
];

struct PerContext {
    wait: Arc<Histogram>,
    process: Arc<Histogram>,
    outcomes: [Arc<Counter>; OUTCOME_LABELS.len()],
    fallback: Arc<Counter>,
}

/// Handles on the pipeline's series, looked up once.
pub(crate) struct PipelineMetrics {
    registry: Arc<Metrics>,
    depth: Arc<Gauge>,
    contexts: [PerContext; Context::ALL.len()],
}

impl PipelineMetrics {
    pub fn new(registry: Arc<Metrics>) -> Self {
        for (name, help) in HELP {
            registry.describe(name, help);
        }
        let contexts = Context::ALL.map(|c| {
            let label = [("context", c.as_str())];
            PerContext {
                wait: registry.histogram("enhance_wait_seconds", &label),
                process: registry.histogram("enhance_process_seconds", &label),
                outcomes: OUTCOME_LABELS.map(|outcome| {
                    registry.counter(
                        "enhance_requests_total",
                        &[("context", c.as_str()), ("outcome", outcome)],
                    )
                }),
                fallback: registry.counter("enhance_fallback_total", &label),
            }
        });
        PipelineMetrics {
            depth: registry.gauge("enhance_queue_depth", &[]),
            registry,
            contexts,
        }
    }

    fn of(&self, context: Context) -> &PerContext {
        &self.contexts[context.index()]
    }

    pub fn registry(&self) -> &Arc<Metrics> {
        &self.registry
    }

    pub fn depth(&self) -> &Gauge {
        &self.depth
    }

    pub fn count(&self, context: Context, outcome: Outcome) {
        self.of(context).outcomes[outcome as usize].inc();
    }

    pub fn fallback(&self, context: Context) {
        self.of(context).fallback.inc();
    }

    pub fn waited(&self, context: Context, wait: Duration) {
        self.of(context).wait.record(wait);
    }

    pub fn processed(&self, context: Context, took: Duration) {
        self.of(context).process.record(took);
    }

    fn total(&self, outcome: Outcome) -> u64 {
        let i = outcome as usize;
        self.contexts.iter().map(|c| c.outcomes[i].get()).sum()
    }

    pub fn stats(&self) -> PipelineStats {
        PipelineStats {
            depth: usize::try_from(self.depth.get()).unwrap_or(0),
            peak_depth: usize::try_from(self.depth.peak()).unwrap_or(0),
            accepted: self.total(Outcome::Accepted),
            completed: self.total(Outcome::Completed),
            failed: self.total(Outcome::Failed),
            rejected: self.total(Outcome::Rejected),
            timed_out: self.total(Outcome::TimedOut),
            cancelled: self.total(Outcome::Cancelled),
            fallback: self.contexts.iter().map(|c| c.fallback.get()).sum(),
        }
    }
}

/// The pipeline's counts over all contexts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Requests accepted and not yet started.
    pub depth: usize,
    /// The highest `depth` so far.
    pub peak_depth: usize,
    /// Requests accepted.
    pub accepted: u64,
    /// Requests answered with a result (fallbacks included).
    pub completed: u64,
    /// Requests answered with the backend's error.
    pub failed: u64,
    /// Requests refused because the queue was full (never accepted).
    pub rejected: u64,
    /// Requests whose deadline passed while queued (answered `Timeout`).
    pub timed_out: u64,
    /// Requests answered `Cancelled` (shutdown without draining).
    pub cancelled: u64,
    /// Completed requests that a fallback backend produced.
    pub fallback: u64,
}

impl PipelineStats {
    /// Accepted requests not answered yet (queued or running).
    pub fn in_flight(&self) -> u64 {
        self.accepted
            .saturating_sub(self.completed + self.failed + self.timed_out + self.cancelled)
    }
}
