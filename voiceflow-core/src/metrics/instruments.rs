//! The handles a stage records through: [`Counter`], [`Gauge`] and
//! [`Histogram`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter as PromCounter;
use prometheus_client::metrics::gauge::Gauge as PromGauge;
use serde::Serialize;

/// A monotonically increasing count (exported as a Prometheus counter).
#[derive(Debug, Default)]
pub struct Counter(pub(super) PromCounter<u64>);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.inc_by(n);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A value that goes up and down (a queue's depth, active sequences), with
/// the highest value it has had (exported as `<name>` and `<name>_peak`).
#[derive(Debug, Default)]
pub struct Gauge {
    pub(super) value: PromGauge<i64>,
    pub(super) peak: PromGauge<i64>,
}

impl Gauge {
    /// Adds `delta` (negative to subtract) and returns the new value.
    pub fn add(&self, delta: i64) -> i64 {
        let now = self.value.inc_by(delta).wrapping_add(delta);
        self.raise_peak(now);
        now
    }

    /// Adds one and returns the new value.
    pub fn inc(&self) -> i64 {
        self.add(1)
    }

    /// Subtracts one and returns the new value.
    pub fn dec(&self) -> i64 {
        self.add(-1)
    }

    /// Sets the value.
    pub fn set(&self, value: i64) {
        self.value.set(value);
        self.raise_peak(value);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.value.get()
    }

    /// The highest value since the gauge was created.
    pub fn peak(&self) -> i64 {
        self.peak.get()
    }

    fn raise_peak(&self, value: i64) {
        self.peak.inner().fetch_max(value, Ordering::Relaxed);
    }
}

/// Significant decimal figures the quantile histogram keeps. hdrhistogram
/// then uses 2^ceil(log2(2 * 10^2)) = 256 sub-buckets per power of two, so a
/// reported quantile is at most 1/128 (under 1%) above the true value (and
/// exact below 256 units of resolution), for about 25 KiB per histogram of
/// latencies up to a second at 1 ns resolution.
pub(super) const SIGNIFICANT_FIGURES: u8 = 2;

/// What one histogram has recorded.
#[derive(Debug)]
struct Recorded {
    /// Observations per Prometheus bucket (not cumulative); the last one is
    /// `+Inf`.
    buckets: Vec<u64>,
    sum: f64,
    max: f64,
    quantiles: hdrhistogram::Histogram<u64>,
}

/// A distribution of observations: latencies in seconds (see
/// [`Histogram::record`]) or plain values such as batch sizes
/// ([`Histogram::observe`]).
///
/// Exported as a Prometheus histogram (cumulative `_bucket{le}`, `_sum`,
/// `_count`), which sums across processes; snapshots add P50/P95/P99 from an
/// HDR histogram. Recording takes one uncontended mutex for a few
/// nanoseconds: the bucket, the sum and the HDR counts must change together,
/// and the busiest series (a decoder step every few milliseconds) is far
/// from making that lock contended. Per-thread recorders would save the lock
/// at the price of a reader that has to gather them.
#[derive(Debug)]
pub struct Histogram {
    bounds: Arc<[f64]>,
    /// Units of the quantile histogram per unit of value (1 / resolution).
    scale: f64,
    recorded: Mutex<Recorded>,
}

impl Histogram {
    /// An empty histogram with the bucket upper bounds `bounds` (ascending,
    /// finite; `+Inf` is implied), keeping values for quantiles in integer
    /// units of `1 / scale`.
    pub(super) fn new(bounds: Arc<[f64]>, scale: f64) -> Self {
        let quantiles = hdrhistogram::Histogram::new(SIGNIFICANT_FIGURES)
            .expect("2 significant figures are within hdrhistogram's 0..=5");
        Histogram {
            recorded: Mutex::new(Recorded {
                buckets: vec![0; bounds.len() + 1],
                sum: 0.0,
                max: 0.0,
                quantiles,
            }),
            bounds,
            scale,
        }
    }

    /// A new empty histogram with the same buckets and resolution.
    pub(super) fn sibling(&self) -> Self {
        Histogram::new(Arc::clone(&self.bounds), self.scale)
    }

    /// Records a latency, in seconds.
    pub fn record(&self, value: Duration) {
        self.observe(value.as_secs_f64());
    }

    /// Records a plain value (a batch size, seconds of audio). Negative
    /// values count as zero; NaN is ignored.
    pub fn observe(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        let value = value.max(0.0);
        let bucket = self.bounds.partition_point(|&bound| bound < value);
        // `as` saturates: +Inf and huge values land on u64::MAX.
        let scaled = (value * self.scale).round() as u64;
        let mut recorded = self.lock();
        recorded.buckets[bucket] += 1;
        recorded.sum += value;
        recorded.max = recorded.max.max(value);
        if recorded.quantiles.record(scaled).is_err() {
            recorded.quantiles.saturating_record(scaled);
        }
    }

    /// How many observations were recorded.
    pub fn count(&self) -> u64 {
        self.lock().buckets.iter().sum()
    }

    /// The value at quantile `q` (0.0..=1.0), or zero when nothing was
    /// recorded: rounded to the histogram's resolution, then at most 1/128
    /// above the true value and never above the largest value recorded.
    pub fn quantile(&self, q: f64) -> f64 {
        let recorded = self.lock();
        self.quantile_of(&recorded, q)
    }

    /// Count, sum, mean, P50/P95/P99 and max.
    pub fn values(&self) -> HistogramValues {
        let recorded = self.lock();
        let count: u64 = recorded.buckets.iter().sum();
        HistogramValues {
            count,
            sum: recorded.sum,
            mean: if count > 0 {
                recorded.sum / count as f64
            } else {
                0.0
            },
            p50: self.quantile_of(&recorded, 0.50),
            p95: self.quantile_of(&recorded, 0.95),
            p99: self.quantile_of(&recorded, 0.99),
            max: recorded.max,
        }
    }

    /// Sum, count and `(upper bound, count)` per bucket (not cumulative;
    /// `f64::MAX` stands for `+Inf`), as prometheus-client encodes them.
    pub(super) fn exposition(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let recorded = self.lock();
        let buckets = self
            .bounds
            .iter()
            .copied()
            .chain([f64::MAX])
            .zip(recorded.buckets.iter().copied())
            .collect();
        (recorded.sum, recorded.buckets.iter().sum(), buckets)
    }

    fn quantile_of(&self, recorded: &Recorded, q: f64) -> f64 {
        if recorded.quantiles.is_empty() {
            return 0.0;
        }
        let q = if q.is_nan() { 1.0 } else { q.clamp(0.0, 1.0) };
        (recorded.quantiles.value_at_quantile(q) as f64 / self.scale).min(recorded.max)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        // Every update leaves `Recorded` consistent, so a panic elsewhere
        // while it was held cannot have broken it.
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A histogram's summary, in the unit it records (seconds for latencies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HistogramValues {
    /// Number of observations.
    pub count: u64,
    /// Sum of all observations.
    pub sum: f64,
    /// `sum / count` (zero when empty).
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest observation.
    pub max: f64,
}
