//! A copy of a registry's series at one moment: [`MetricsSnapshot`].

use serde::Serialize;

use super::{counter_name, label_set, sanitize_name, HistogramValues, Labels, Tables};

/// A counter's value at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterSample {
    /// The series name (ending in `_total`).
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// The count.
    pub value: u64,
}

/// A gauge's value at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaugeSample {
    /// The series name.
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// The current value.
    pub value: i64,
    /// The highest value it has had.
    pub peak: i64,
}

/// A histogram's summary at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramSample {
    /// The series name.
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// Count, sum, mean, quantiles and max.
    #[serde(flatten)]
    pub values: HistogramValues,
}

/// A copy of every series of a [`Metrics`](super::Metrics) registry, sorted
/// by name and labels. Serializes (serde) as
/// `{"counters": [{"name", "labels": {..}, "value"}], "gauges": [.. "value",
/// "peak"], "histograms": [.. "count", "sum", "mean", "p50", "p95", "p99",
/// "max"]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// All counters.
    pub counters: Vec<CounterSample>,
    /// All gauges.
    pub gauges: Vec<GaugeSample>,
    /// All histograms.
    pub histograms: Vec<HistogramSample>,
}

/// Every series of `families` as `sample(name, labels, series)`.
fn samples<T, S>(
    families: &std::collections::BTreeMap<String, super::Family<T>>,
    sample: impl Fn(String, Labels, &T) -> S,
) -> Vec<S> {
    families
        .iter()
        .flat_map(|(name, series)| {
            series
                .iter()
                .map(|(labels, s)| sample(name.clone(), labels.clone(), s))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The item of `items` called `name` with exactly `labels`.
fn find<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> (&str, &Labels),
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a T> {
    let labels = label_set(labels);
    items.iter().find(|item| key(item) == (name, &labels))
}

impl MetricsSnapshot {
    pub(super) fn of(tables: &Tables) -> Self {
        MetricsSnapshot {
            counters: samples(&tables.counters, |name, labels, c| CounterSample {
                name,
                labels,
                value: c.get(),
            }),
            gauges: samples(&tables.gauges, |name, labels, g| GaugeSample {
                name,
                labels,
                value: g.get(),
                peak: g.peak(),
            }),
            histograms: samples(&tables.histograms, |name, labels, h| HistogramSample {
                name,
                labels,
                values: h.values(),
            }),
        }
    }

    /// The counter `name` (`_total` added when missing) with exactly
    /// `labels`, if it exists.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        let name = counter_name(name);
        find(
            &self.counters,
            |c| (c.name.as_str(), &c.labels),
            &name,
            labels,
        )
        .map(|c| c.value)
    }

    /// The sum of every counter called `name` (`_total` added when missing),
    /// whatever its labels, for which `filter` holds on the labels.
    pub fn counter_sum(&self, name: &str, filter: impl Fn(&Labels) -> bool) -> u64 {
        let name = counter_name(name);
        self.counters
            .iter()
            .filter(|c| c.name == name && filter(&c.labels))
            .map(|c| c.value)
            .sum()
    }

    /// The gauge `name` with exactly `labels`, if it exists.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<&GaugeSample> {
        let name = sanitize_name(name);
        find(
            &self.gauges,
            |g| (g.name.as_str(), &g.labels),
            &name,
            labels,
        )
    }

    /// The histogram `name` with exactly `labels`, if it exists.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<&HistogramValues> {
        let name = sanitize_name(name);
        find(
            &self.histograms,
            |h| (h.name.as_str(), &h.labels),
            &name,
            labels,
        )
        .map(|h| &h.values)
    }
}
