//! The store's metrics, kept in a shared [`Metrics`] registry (given with
//! [`StoreConfig::metrics`](super::StoreConfig::metrics)):
//! - `voiceflow_store_operation_seconds{op}`: latency of every call, failed
//!   ones included (its `_count` counts the calls), with `op` one of
//!   [`Op`]'s labels
//! - `voiceflow_store_errors_total{op}`: calls that returned an error
//! - `voiceflow_store_records_written_total`, `voiceflow_store_records_deleted_total`

use std::sync::Arc;
use std::time::Instant;

use crate::metrics::{Counter, Histogram, Metrics};
use crate::Result;

/// A timed store operation (its `op` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Put,
    PutBatch,
    Get,
    Query,
    Delete,
    DeleteBefore,
    Flush,
}

const OP_LABELS: [&str; 7] = [
    "put",
    "put_batch",
    "get",
    "query",
    "delete",
    "delete_before",
    "flush",
];

/// Handles on the store's series, looked up once.
pub(super) struct StoreMetrics {
    registry: Arc<Metrics>,
    latency: [Arc<Histogram>; OP_LABELS.len()],
    errors: [Arc<Counter>; OP_LABELS.len()],
    written: Arc<Counter>,
    deleted: Arc<Counter>,
}

impl StoreMetrics {
    pub(super) fn new(registry: Arc<Metrics>) -> Self {
        for (name, help) in [
            (
                "voiceflow_store_operation_seconds",
                "Latency of store calls by operation",
            ),
            (
                "voiceflow_store_errors_total",
                "Store calls that returned an error, by operation",
            ),
            (
                "voiceflow_store_records_written_total",
                "Records written to the store",
            ),
            (
                "voiceflow_store_records_deleted_total",
                "Records deleted from the store",
            ),
        ] {
            registry.describe(name, help);
        }
        StoreMetrics {
            latency: OP_LABELS
                .map(|op| registry.histogram("voiceflow_store_operation_seconds", &[("op", op)])),
            errors: OP_LABELS
                .map(|op| registry.counter("voiceflow_store_errors_total", &[("op", op)])),
            written: registry.counter("voiceflow_store_records_written_total", &[]),
            deleted: registry.counter("voiceflow_store_records_deleted_total", &[]),
            registry,
        }
    }

    pub(super) fn registry(&self) -> &Arc<Metrics> {
        &self.registry
    }

    /// Runs `body` as the operation `op`: records its latency, and counts it
    /// as an error when it fails.
    pub(super) fn timed<T>(&self, op: Op, body: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = Instant::now();
        let result = body();
        self.latency[op as usize].record(started.elapsed());
        if result.is_err() {
            self.errors[op as usize].inc();
        }
        result
    }

    pub(super) fn written(&self, records: usize) {
        self.written.add(records as u64);
    }

    pub(super) fn deleted(&self, records: usize) {
        self.deleted.add(records as u64);
    }
}
