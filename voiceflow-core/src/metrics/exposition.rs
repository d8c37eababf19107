//! The OpenMetrics text exposition: a prometheus-client collector that reads
//! the registry's tables when a scrape encodes it.

use std::fmt::{self, Write as _};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeLabelValue, EncodeMetric,
    LabelSetEncoder, LabelValueEncoder, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;

use super::{read, Family, Labels, Shared};

/// Encodes every series of the shared tables.
#[derive(Debug)]
pub(super) struct Exporter(pub(super) Shared);

impl Collector for Exporter {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let tables = read(&self.0);
        let help = |name: &str| tables.help.get(name).map_or("", String::as_str);
        for (name, series) in &tables.counters {
            // prometheus-client writes the `_total` suffix of counters itself.
            let family = name.strip_suffix("_total").unwrap_or(name);
            let metric =
                encoder.encode_descriptor(family, help(name), None, MetricType::Counter)?;
            each(metric, series, |counter, m| counter.0.encode(m))?;
        }
        for (name, series) in &tables.gauges {
            let metric = encoder.encode_descriptor(name, help(name), None, MetricType::Gauge)?;
            each(metric, series, |gauge, m| gauge.value.encode(m))?;
            let peak = format!("{name}_peak");
            let peak_help = format!("The highest value of {name} so far");
            let metric = encoder.encode_descriptor(&peak, &peak_help, None, MetricType::Gauge)?;
            each(metric, series, |gauge, m| gauge.peak.encode(m))?;
        }
        for (name, series) in &tables.histograms {
            let metric =
                encoder.encode_descriptor(name, help(name), None, MetricType::Histogram)?;
            each(metric, series, |histogram, mut m| {
                let (sum, count, buckets) = histogram.exposition();
                m.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
            })?;
        }
        Ok(())
    }
}

/// Encodes every series of a family with `encode`. A family whose only
/// series has no labels is written without braces (`name 1`, not
/// `name{} 1`).
fn each<T>(
    mut metric: MetricEncoder,
    series: &Family<T>,
    encode: impl Fn(&T, MetricEncoder) -> fmt::Result,
) -> fmt::Result {
    if let [(labels, only)] = series.iter().collect::<Vec<_>>()[..] {
        if labels.is_empty() {
            return encode(only, metric);
        }
    }
    for (labels, s) in series {
        encode(s, metric.encode_family(&LabelSet(labels))?)?;
    }
    Ok(())
}

/// A series' labels, with their values escaped (prometheus-client writes
/// label values as they are).
struct LabelSet<'a>(&'a Labels);

impl EncodeLabelSet for LabelSet<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        for (name, value) in self.0 {
            (name.as_str(), Escaped(value)).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// A label value with `\`, `"` and newlines escaped as the text format asks.
struct Escaped<'a>(&'a str);

impl EncodeLabelValue for Escaped<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}
