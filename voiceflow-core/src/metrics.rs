//! Crate-wide metrics: counters, gauges and latency histograms with
//! P50/P95/P99, a [`MetricsSnapshot`] and Prometheus text output.
//!
//! A [`Metrics`] registry holds named series, each with optional labels (for
//! example `enhance_wait_seconds{context="email"}`). Asking the registry for a
//! series returns a shared handle ([`Counter`], [`Gauge`], [`Histogram`]);
//! recording through a handle is a few atomic operations and takes no lock, so
//! hot paths look their handles up once and keep them. The registry is
//! `Send + Sync` and is meant to be shared (`Arc<Metrics>`) by every stage that
//! reports: the enhancement pipeline today, the engine and the store later.
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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (a queue's depth, open connections), with
/// the highest value it has had.
#[derive(Debug, Default)]
pub struct Gauge {
    value: AtomicI64,
    peak: AtomicI64,
}

impl Gauge {
    /// Adds `delta` (negative to subtract) and returns the new value.
    pub fn add(&self, delta: i64) -> i64 {
        let now = self.value.fetch_add(delta, Ordering::Relaxed) + delta;
        self.peak.fetch_max(now, Ordering::Relaxed);
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
        self.value.store(value, Ordering::Relaxed);
        self.peak.fetch_max(value, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    /// The highest value since the gauge was created.
    pub fn peak(&self) -> i64 {
        self.peak.load(Ordering::Relaxed)
    }
}

/// Sub-buckets per power of two: 2^5 = 32, so a reported quantile is at most
/// about 3% above the true value.
const SUB_BITS: u32 = 5;
const SUB_COUNT: u64 = 1 << SUB_BITS;
const BUCKETS: usize = ((64 - SUB_BITS + 1) as usize) * SUB_COUNT as usize;

/// A latency histogram over nanoseconds with log-linear buckets (32 per power
/// of two, from 1 ns up to `u64::MAX` ns). Recording is lock-free; quantiles
/// are read from the buckets and are never below the true value by more than
/// one bucket's width (about 3%).
#[derive(Debug)]
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }
}

fn bucket_index(ns: u64) -> usize {
    if ns < SUB_COUNT {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros();
    let sub = (ns >> (exp - SUB_BITS)) & (SUB_COUNT - 1);
    ((exp - SUB_BITS + 1) as u64 * SUB_COUNT + sub) as usize
}

/// The largest value that falls into bucket `index`.
fn bucket_upper(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB_COUNT {
        return index;
    }
    let exp = index / SUB_COUNT + u64::from(SUB_BITS) - 1;
    let sub = index % SUB_COUNT;
    let width = 1u64 << (exp - u64::from(SUB_BITS));
    ((SUB_COUNT + sub) << (exp - u64::from(SUB_BITS))).saturating_add(width - 1)
}

impl Histogram {
    /// Records one observation.
    pub fn record(&self, value: Duration) {
        let ns = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_index(ns)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    /// How many observations were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The value at quantile `q` (0.0..=1.0), or zero when nothing was
    /// recorded. The answer is the upper edge of the bucket holding the
    /// quantile, capped at the largest value recorded.
    pub fn quantile(&self, q: f64) -> Duration {
        let max = self.max_ns.load(Ordering::Relaxed);
        Duration::from_nanos(quantile_of(&self.counts(), q, max))
    }

    fn counts(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    /// Everything this histogram holds, with P50, P95 and P99.
    fn sample(&self) -> HistogramValues {
        let counts = self.counts();
        let max = self.max_ns.load(Ordering::Relaxed);
        let at = |q| Duration::from_nanos(quantile_of(&counts, q, max));
        HistogramValues {
            count: counts.iter().sum(),
            sum: Duration::from_nanos(self.sum_ns.load(Ordering::Relaxed)),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: Duration::from_nanos(max),
        }
    }
}

fn quantile_of(counts: &[u64], q: f64, max: u64) -> u64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let q = if q.is_nan() { 1.0 } else { q.clamp(0.0, 1.0) };
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0u64;
    for (index, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return bucket_upper(index).min(max);
        }
    }
    max
}

/// A series' name and labels (label names sorted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SeriesKey {
    name: String,
    labels: Vec<(String, String)>,
}

impl SeriesKey {
    fn new(name: &str, labels: &[(&str, &str)]) -> Self {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (sanitize_name(k), (*v).to_string()))
            .collect();
        labels.sort();
        SeriesKey {
            name: sanitize_name(name),
            labels,
        }
    }

    fn matches(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        *self == SeriesKey::new(name, labels)
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

type Family<T> = RwLock<BTreeMap<SeriesKey, Arc<T>>>;

fn get_or_insert<T: Default>(family: &Family<T>, name: &str, labels: &[(&str, &str)]) -> Arc<T> {
    let key = SeriesKey::new(name, labels);
    if let Some(found) = family
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Arc::clone(found);
    }
    let mut map = family.write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(map.entry(key).or_default())
}

fn read_family<T, S>(family: &Family<T>, f: impl Fn(&SeriesKey, &T) -> S) -> Vec<S> {
    family
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(k, v)| f(k, v))
        .collect()
}

/// A registry of named, labelled counters, gauges and histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Family<Counter>,
    gauges: Family<Gauge>,
    histograms: Family<Histogram>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Metrics::default()
    }

    /// The counter `name` with `labels`, created at zero on first use.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Arc<Counter> {
        get_or_insert(&self.counters, name, labels)
    }

    /// The gauge `name` with `labels`, created at zero on first use.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Arc<Gauge> {
        get_or_insert(&self.gauges, name, labels)
    }

    /// The histogram `name` with `labels`, created empty on first use. By
    /// convention histogram names end in `_seconds`.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Arc<Histogram> {
        get_or_insert(&self.histograms, name, labels)
    }

    /// A consistent-enough copy of every series (each value is read
    /// atomically; series are read one after another).
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            counters: read_family(&self.counters, |k, c| CounterSample {
                name: k.name.clone(),
                labels: k.labels.clone(),
                value: c.get(),
            }),
            gauges: read_family(&self.gauges, |k, g| GaugeSample {
                name: k.name.clone(),
                labels: k.labels.clone(),
                value: g.get(),
                peak: g.peak(),
            }),
            histograms: read_family(&self.histograms, |k, h| HistogramSample {
                name: k.name.clone(),
                labels: k.labels.clone(),
                values: h.sample(),
            }),
        }
    }

    /// Every series in the Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        self.snapshot().to_prometheus()
    }
}

/// A counter's value at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterSample {
    /// The series name.
    pub name: String,
    /// Its labels, sorted by label name.
    pub labels: Vec<(String, String)>,
    /// The count.
    pub value: u64,
}

/// A gauge's value at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaugeSample {
    /// The series name.
    pub name: String,
    /// Its labels, sorted by label name.
    pub labels: Vec<(String, String)>,
    /// The current value.
    pub value: i64,
    /// The highest value it has had.
    pub peak: i64,
}

/// A histogram's summary at snapshot time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistogramValues {
    /// Number of observations.
    pub count: u64,
    /// Sum of all observations.
    pub sum: Duration,
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest observation.
    pub max: Duration,
}

/// A labelled histogram's summary at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramSample {
    /// The series name.
    pub name: String,
    /// Its labels, sorted by label name.
    pub labels: Vec<(String, String)>,
    /// Count, sum and quantiles.
    #[serde(flatten)]
    pub values: HistogramValues,
}

/// A copy of every series of a [`Metrics`] registry, sorted by name and labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// All counters.
    pub counters: Vec<CounterSample>,
    /// All gauges.
    pub gauges: Vec<GaugeSample>,
    /// All histograms.
    pub histograms: Vec<HistogramSample>,
}

fn find<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> (&str, &[(String, String)]),
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a T> {
    items.iter().find(|item| {
        let (n, l) = key(item);
        SeriesKey {
            name: n.to_string(),
            labels: l.to_vec(),
        }
        .matches(name, labels)
    })
}

impl MetricsSnapshot {
    /// The counter `name` with exactly `labels`, if it exists.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        find(&self.counters, |c| (&c.name, &c.labels), name, labels).map(|c| c.value)
    }

    /// The sum of every counter called `name`, whatever its labels, for which
    /// `filter` holds on the labels.
    pub fn counter_sum(&self, name: &str, filter: impl Fn(&[(String, String)]) -> bool) -> u64 {
        self.counters
            .iter()
            .filter(|c| c.name == name && filter(&c.labels))
            .map(|c| c.value)
            .sum()
    }

    /// The gauge `name` with exactly `labels`, if it exists.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<&GaugeSample> {
        find(&self.gauges, |g| (&g.name, &g.labels), name, labels)
    }

    /// The histogram `name` with exactly `labels`, if it exists.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<&HistogramValues> {
        find(&self.histograms, |h| (&h.name, &h.labels), name, labels).map(|h| &h.values)
    }

    /// The snapshot in the Prometheus text exposition format (version 0.0.4).
    /// Histograms are written as summaries (quantiles 0.5, 0.95, 0.99, `_sum`
    /// and `_count`, in seconds); each gauge also gets a `<name>_peak` gauge.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut typed = TypeLines::default();
        for c in &self.counters {
            typed.declare(&mut out, &c.name, "counter");
            write_line(&mut out, &c.name, &c.labels, None, &c.value.to_string());
        }
        for g in &self.gauges {
            typed.declare(&mut out, &g.name, "gauge");
            write_line(&mut out, &g.name, &g.labels, None, &g.value.to_string());
        }
        for g in &self.gauges {
            let peak = format!("{}_peak", g.name);
            typed.declare(&mut out, &peak, "gauge");
            write_line(&mut out, &peak, &g.labels, None, &g.peak.to_string());
        }
        for h in &self.histograms {
            typed.declare(&mut out, &h.name, "summary");
            let v = &h.values;
            for (q, d) in [("0.5", v.p50), ("0.95", v.p95), ("0.99", v.p99)] {
                let seconds = d.as_secs_f64().to_string();
                write_line(&mut out, &h.name, &h.labels, Some(q), &seconds);
            }
            let sum = v.sum.as_secs_f64().to_string();
            write_line(&mut out, &format!("{}_sum", h.name), &h.labels, None, &sum);
            let count = v.count.to_string();
            write_line(
                &mut out,
                &format!("{}_count", h.name),
                &h.labels,
                None,
                &count,
            );
        }
        out
    }
}

/// Writes each `# TYPE` line once, before the first sample of its series.
#[derive(Default)]
struct TypeLines(Vec<String>);

impl TypeLines {
    fn declare(&mut self, out: &mut String, name: &str, kind: &str) {
        if !self.0.iter().any(|n| n == name) {
            self.0.push(name.to_string());
            let _ = writeln!(out, "# TYPE {name} {kind}");
        }
    }
}

fn write_line(
    out: &mut String,
    name: &str,
    labels: &[(String, String)],
    quantile: Option<&str>,
    value: &str,
) {
    out.push_str(name);
    let extra = quantile.map(|q| ("quantile".to_string(), q.to_string()));
    let all: Vec<&(String, String)> = labels.iter().chain(extra.as_ref()).collect();
    if !all.is_empty() {
        out.push('{');
        for (i, (k, v)) in all.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_their_values() {
        for ns in (0..5000u64).chain([1 << 20, (1 << 40) + 12345, u64::MAX]) {
            let i = bucket_index(ns);
            assert!(bucket_upper(i) >= ns, "value {ns} above its bucket {i}");
            if i > 0 {
                assert!(bucket_upper(i - 1) < ns, "value {ns} fits bucket {}", i - 1);
            }
        }
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_three_percent() {
        let h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        let v = h.sample();
        assert_eq!(v.count, 1000);
        for (got, want) in [(v.p50, 500.0), (v.p95, 950.0), (v.p99, 990.0)] {
            let got = got.as_secs_f64() * 1e6;
            assert!(
                got >= want && got <= want * 1.035,
                "got {got} µs, want {want}"
            );
        }
        assert_eq!(v.max, Duration::from_micros(1000));
        assert_eq!(v.sum, Duration::from_micros(500_500));
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let h = Histogram::default();
        assert_eq!(h.quantile(0.99), Duration::ZERO);
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn gauge_keeps_its_peak() {
        let g = Gauge::default();
        g.inc();
        g.inc();
        g.dec();
        g.add(-1);
        assert_eq!((g.get(), g.peak()), (0, 2));
    }

    #[test]
    fn same_name_and_labels_share_one_series_in_any_label_order() {
        let m = Metrics::new();
        m.counter("hits", &[("a", "1"), ("b", "2")]).inc();
        m.counter("hits", &[("b", "2"), ("a", "1")]).add(2);
        m.counter("hits", &[("a", "other")]).inc();
        let s = m.snapshot();
        assert_eq!(s.counter("hits", &[("b", "2"), ("a", "1")]), Some(3));
        assert_eq!(s.counter_sum("hits", |_| true), 4);
        assert_eq!(s.counter("hits", &[]), None);
    }

    #[test]
    fn prometheus_text_has_types_escaped_labels_and_summaries() {
        let m = Metrics::new();
        m.counter("jobs total", &[("kind", "a\"b")]).inc();
        m.gauge("depth", &[]).set(3);
        m.histogram("wait_seconds", &[("context", "chat")])
            .record(Duration::from_millis(2));
        let text = m.to_prometheus();
        let want = "# TYPE jobs_total counter\n\
                    jobs_total{kind=\"a\\\"b\"} 1\n\
                    # TYPE depth gauge\n\
                    depth 3\n\
                    # TYPE depth_peak gauge\n\
                    depth_peak 3\n\
                    # TYPE wait_seconds summary\n\
                    wait_seconds{context=\"chat\",quantile=\"0.5\"} 0.002\n\
                    wait_seconds{context=\"chat\",quantile=\"0.95\"} 0.002\n\
                    wait_seconds{context=\"chat\",quantile=\"0.99\"} 0.002\n\
                    wait_seconds_sum{context=\"chat\"} 0.002\n\
                    wait_seconds_count{context=\"chat\"} 1\n";
        assert_eq!(text, want);
    }
}
