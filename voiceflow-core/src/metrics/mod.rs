//! Crate-wide metrics: counters, gauges and histograms in one registry, with
//! a [`MetricsSnapshot`] (P50/P95/P99 from HDR histograms) and the
//! Prometheus (OpenMetrics) text exposition.
//!
//! A [`Metrics`] registry holds named series, each with optional labels (for
//! example `enhance_wait_seconds{context="email"}`). Asking the registry for a
//! series returns a shared handle ([`Counter`], [`Gauge`], [`Histogram`]);
//! recording through a handle is an atomic operation (counters, gauges) or a
//! few nanoseconds under an uncontended lock (histograms), so hot paths look
//! their handles up once and keep them. The registry is `Send + Sync` and is
//! meant to be shared (`Arc<Metrics>`) by every stage that reports: the engine
//! ([`EngineMetrics`], see [`Engine::with_metrics`](crate::Engine::with_metrics)),
//! the enhancement pipeline and the store, so that one scrape shows them all.
//!
//! Latencies are histograms in seconds with [`LATENCY_BUCKETS`]; other
//! distributions (batch sizes, seconds of audio) take their own buckets
//! ([`Metrics::histogram_with_buckets`]). The exposition writes histograms as
//! Prometheus histograms, which sum across processes (summaries do not).
//!
//! ```
//! use std::time::Duration;
//! use voiceflow_core::metrics::Metrics;
//!
//! let metrics = Metrics::new();
//! let wait = metrics.histogram("enhance_wait_seconds", &[("context", "email")]);
//! wait.record(Duration::from_micros(250));
//! metrics.counter("enhance_requests_total", &[("outcome", "completed")]).inc();
//!
//! let snapshot = metrics.snapshot();
//! let sample = snapshot.histogram("enhance_wait_seconds", &[("context", "email")]).unwrap();
//! assert_eq!(sample.count, 1);
//! assert!(metrics.to_prometheus().contains("enhance_requests_total{outcome=\"completed\"} 1"));
//! ```

mod engine;
mod exposition;
mod instruments;
mod snapshot;

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use prometheus_client::registry::Registry;

pub use engine::{EngineMetrics, RequestOutcome, AUDIO_SECONDS_BUCKETS, BATCH_SIZE_BUCKETS};
pub use instruments::{Counter, Gauge, Histogram, HistogramValues};
pub use snapshot::{CounterSample, GaugeSample, HistogramSample, MetricsSnapshot};

/// Bucket upper bounds (seconds) of latency histograms: 1-2.5-5 steps from
/// 100 µs (a store read, a decoder step) to 500 s (a long file end to end).
pub const LATENCY_BUCKETS: [f64; 22] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0,
];

/// Resolution (seconds) at which latency histograms keep values for
/// quantiles: one nanosecond.
pub const LATENCY_RESOLUTION: f64 = 1e-9;

/// Label names and values of one series, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// The series of one name, by labels.
type Family<T> = BTreeMap<Labels, Arc<T>>;

/// Every series of a registry, by kind and name.
#[derive(Debug, Default)]
struct Tables {
    counters: BTreeMap<String, Family<Counter>>,
    gauges: BTreeMap<String, Family<Gauge>>,
    histograms: BTreeMap<String, Family<Histogram>>,
    help: BTreeMap<String, String>,
}

impl Tables {
    /// Whether `name` is already used by a kind other than `kind`.
    fn taken_by_another_kind(&self, name: &str, kind: Kind) -> bool {
        [
            (Kind::Counter, self.counters.contains_key(name)),
            (Kind::Gauge, self.gauges.contains_key(name)),
            (Kind::Histogram, self.histograms.contains_key(name)),
        ]
        .iter()
        .any(|&(k, used)| used && k != kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

type Shared = Arc<RwLock<Tables>>;

fn read(tables: &Shared) -> RwLockReadGuard<'_, Tables> {
    tables.read().unwrap_or_else(PoisonError::into_inner)
}

/// A registry of named, labelled counters, gauges and histograms.
#[derive(Debug)]
pub struct Metrics {
    tables: Shared,
    /// prometheus-client's registry, holding one collector that reads
    /// `tables` when it is encoded.
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        let tables = Shared::default();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(exposition::Exporter(Arc::clone(&tables))));
        Metrics { tables, registry }
    }

    /// Sets the `# HELP` text of the series called `name` (of any kind).
    pub fn describe(&self, name: &str, help: &str) {
        let mut tables = self.tables.write().unwrap_or_else(PoisonError::into_inner);
        tables.help.insert(sanitize_name(name), help.to_string());
    }

    /// The counter `name` with `labels`, created at zero on first use. Its
    /// name ends in `_total` (added when missing).
    ///
    /// A name belongs to the kind that used it first: asking for it as
    /// another kind is a programming error (a debug build panics; a release
    /// build returns a handle that is exported nowhere). The same holds for
    /// [`Metrics::gauge`] and the histograms.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Arc<Counter> {
        self.series(
            Kind::Counter,
            &counter_name(name),
            labels,
            |t| &t.counters,
            |t| &mut t.counters,
            |_| Counter::default(),
        )
    }

    /// The gauge `name` with `labels`, created at zero on first use.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Arc<Gauge> {
        self.series(
            Kind::Gauge,
            &sanitize_name(name),
            labels,
            |t| &t.gauges,
            |t| &mut t.gauges,
            |_| Gauge::default(),
        )
    }

    /// The latency histogram `name` with `labels` (seconds, with
    /// [`LATENCY_BUCKETS`] and [`LATENCY_RESOLUTION`]), created empty on
    /// first use. By convention its name ends in `_seconds`.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Arc<Histogram> {
        self.histogram_with_buckets(name, labels, &LATENCY_BUCKETS, LATENCY_RESOLUTION)
    }

    /// The histogram `name` with `labels`, for values that are not
    /// latencies: Prometheus buckets with the upper bounds `buckets`
    /// (ascending; `+Inf` is implied; unsorted or non-finite bounds are
    /// dropped), and quantiles kept at `resolution` (the smallest difference
    /// that matters: 1 for batch sizes, whose quantiles are then exact).
    /// All series of one name share the buckets and resolution given when
    /// the name was first used.
    pub fn histogram_with_buckets(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        buckets: &[f64],
        resolution: f64,
    ) -> Arc<Histogram> {
        self.series(
            Kind::Histogram,
            &sanitize_name(name),
            labels,
            |t| &t.histograms,
            |t| &mut t.histograms,
            |sibling| match sibling {
                Some(sibling) => sibling.sibling(),
                None => Histogram::new(ascending(buckets), scale(resolution)),
            },
        )
    }

    /// Looks a series up, or creates it with `make` (given another series of
    /// the same name, if there is one).
    fn series<T>(
        &self,
        kind: Kind,
        name: &str,
        labels: &[(&str, &str)],
        family: fn(&Tables) -> &BTreeMap<String, Family<T>>,
        family_mut: fn(&mut Tables) -> &mut BTreeMap<String, Family<T>>,
        make: impl FnOnce(Option<&Arc<T>>) -> T,
    ) -> Arc<T> {
        let labels = label_set(labels);
        if let Some(found) = family(&read(&self.tables))
            .get(name)
            .and_then(|series| series.get(&labels))
        {
            return Arc::clone(found);
        }
        let mut tables = self.tables.write().unwrap_or_else(PoisonError::into_inner);
        if tables.taken_by_another_kind(name, kind) {
            debug_assert!(false, "metric {name} is already used by another kind");
            return Arc::new(make(None));
        }
        let series = family_mut(&mut tables).entry(name.to_string()).or_default();
        if let Some(found) = series.get(&labels) {
            return Arc::clone(found);
        }
        let created = Arc::new(make(series.values().next()));
        series.insert(labels, Arc::clone(&created));
        created
    }

    /// A copy of every series (each histogram is read under its lock; series
    /// are read one after another).
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot::of(&read(&self.tables))
    }

    /// Every series in the OpenMetrics 1.0 text format, which Prometheus
    /// scrapes (content type `application/openmetrics-text; version=1.0.0`):
    /// `# HELP` and `# TYPE` lines, counters as `<name>_total`, gauges with a
    /// `<name>_peak` gauge, histograms as cumulative `<name>_bucket{le}` with
    /// `_sum` and `_count`, then `# EOF`.
    pub fn to_prometheus(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail, and the collector only fails
        // when its writer does.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Prometheus names allow `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`.
fn sanitize_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A counter's name: sanitized, ending in `_total`.
fn counter_name(name: &str) -> String {
    let name = sanitize_name(name);
    if name.ends_with("_total") {
        name
    } else {
        name + "_total"
    }
}

/// Labels with sanitized names (values are kept as they are, and escaped
/// when exported).
fn label_set(labels: &[(&str, &str)]) -> Labels {
    labels
        .iter()
        .map(|(k, v)| (sanitize_name(k), (*v).to_string()))
        .collect()
}

/// Quantile-histogram units per unit of value for `resolution` (a whole
/// number when the resolution is a unit fraction such as 1e-9); a resolution
/// that is not positive and finite falls back to one nanosecond.
fn scale(resolution: f64) -> f64 {
    let resolution = if resolution.is_finite() && resolution > 0.0 {
        resolution
    } else {
        LATENCY_RESOLUTION
    };
    let scale = 1.0 / resolution;
    if scale >= 1.0 {
        scale.round()
    } else {
        scale
    }
}

/// The finite bounds of `buckets` that are above all bounds before them.
fn ascending(buckets: &[f64]) -> Arc<[f64]> {
    let mut bounds: Vec<f64> = Vec::with_capacity(buckets.len());
    for &b in buckets {
        if b.is_finite() && bounds.last().is_none_or(|&last| b > last) {
            bounds.push(b);
        }
    }
    bounds.into()
}

#[cfg(test)]
mod tests;
