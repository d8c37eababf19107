//! The registry against known data: quantiles within hdrhistogram's
//! precision, and the text exposition parsed back.

use std::collections::BTreeMap;
use std::time::Duration;

use super::instruments::SIGNIFICANT_FIGURES;
use super::*;

/// The largest relative error of a reported quantile above the true value.
/// hdrhistogram keeps 2^ceil(log2(2 * 10^sigfig)) sub-buckets per power of
/// two; the upper half of them spans one power of two, so a bucket is at
/// most 1 / (half the sub-buckets) of the values in it wide, and a quantile
/// is reported as its bucket's highest value.
fn relative_error() -> f64 {
    let sub_buckets = (2.0 * 10f64.powi(i32::from(SIGNIFICANT_FIGURES)))
        .log2()
        .ceil()
        .exp2();
    1.0 / (sub_buckets / 2.0)
}

#[test]
fn latency_quantiles_are_within_the_precision_of_the_significant_figures() {
    let m = Metrics::new();
    let h = m.histogram("wait_seconds", &[]);
    // 1..=1000 µs in a scrambled order: the p-th quantile is p * 1000 µs.
    for i in 0..1000u64 {
        h.record(Duration::from_micros((i * 337) % 1000 + 1));
    }
    let v = h.values();
    assert_eq!(v.count, 1000);
    let tolerance = relative_error();
    assert!(tolerance < 0.01, "{tolerance}");
    for (got, want_us) in [(v.p50, 500.0), (v.p95, 950.0), (v.p99, 990.0)] {
        let want = want_us * 1e-6;
        assert!(
            got >= want && got <= want * (1.0 + tolerance),
            "got {got}, want {want} (+{tolerance})"
        );
    }
    assert_eq!(v.max, 1e-3);
    // The sum of 1..=1000 µs, added in f64 (a few ulps of 0.5 s).
    assert!((v.sum - 0.5005).abs() < 1e-12, "{}", v.sum);
    assert!((v.mean - 0.0005005).abs() < 1e-15, "{}", v.mean);
    assert_eq!(h.quantile(1.0), v.max);
}

#[test]
fn whole_number_values_at_unit_resolution_have_exact_quantiles() {
    let m = Metrics::new();
    let sizes = m.histogram_with_buckets("batch_size", &[], &BATCH_SIZE_BUCKETS, 1.0);
    for size in 1..=100 {
        sizes.observe(f64::from(size));
    }
    let v = sizes.values();
    assert_eq!((v.p50, v.p95, v.p99, v.max), (50.0, 95.0, 99.0, 100.0));
    assert_eq!((v.count, v.sum, v.mean), (100, 5050.0, 50.5));
}

#[test]
fn empty_histograms_report_zero_and_nan_is_ignored() {
    let m = Metrics::new();
    let h = m.histogram("idle_seconds", &[]);
    h.observe(f64::NAN);
    assert_eq!(h.values(), HistogramValues::default());
    assert_eq!(h.quantile(0.99), 0.0);
}

#[test]
fn gauges_keep_their_peak() {
    let m = Metrics::new();
    let g = m.gauge("depth", &[]);
    g.inc();
    g.inc();
    g.dec();
    g.add(-1);
    assert_eq!((g.get(), g.peak()), (0, 2));
    g.set(5);
    assert_eq!((g.get(), g.peak()), (5, 5));
}

#[test]
fn same_name_and_labels_share_one_series_in_any_label_order() {
    let m = Metrics::new();
    m.counter("hits", &[("a", "1"), ("b", "2")]).inc();
    m.counter("hits_total", &[("b", "2"), ("a", "1")]).add(2);
    m.counter("hits", &[("a", "other")]).inc();
    let s = m.snapshot();
    assert_eq!(s.counter("hits", &[("b", "2"), ("a", "1")]), Some(3));
    assert_eq!(s.counter("hits_total", &[("a", "1"), ("b", "2")]), Some(3));
    assert_eq!(s.counter_sum("hits", |_| true), 4);
    assert_eq!(s.counter("hits", &[]), None);
    assert_eq!(s.counters[0].name, "hits_total");
}

#[test]
fn later_series_of_a_histogram_name_keep_its_first_buckets() {
    let m = Metrics::new();
    m.histogram_with_buckets("rows", &[("k", "a")], &[1.0, 2.0], 1.0);
    m.histogram_with_buckets("rows", &[("k", "b")], &[10.0], 1.0)
        .observe(1.5);
    let text = m.to_prometheus();
    assert!(
        text.contains("rows_bucket{le=\"2.0\",k=\"b\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("le=\"10.0\""), "{text}");
}

#[test]
fn the_snapshot_serializes_labels_as_objects_and_histograms_flat() {
    let m = Metrics::new();
    m.histogram("op_seconds", &[("op", "get")])
        .record(Duration::from_millis(2));
    let json = serde_json::to_value(m.snapshot()).unwrap();
    let h = &json["histograms"][0];
    assert_eq!(h["name"], "op_seconds");
    assert_eq!(h["labels"]["op"], "get");
    assert_eq!(h["count"], 1);
    assert_eq!(h["max"], 0.002);
    assert_eq!(h["p99"], 0.002);
}

/// One sample line of the text format: name, labels (unescaped), value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the sample lines of an OpenMetrics text (skipping `#` lines),
/// undoing the label escapes.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap();
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => (name.to_string(), parse_labels(rest)),
        };
        samples.push((name, labels, value));
    }
    samples
}

fn parse_labels(rest: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = rest.chars();
    loop {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next().unwrap() {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key, value);
        match chars.next() {
            Some(',') => continue,
            Some('}') => return labels,
            other => panic!("unexpected {other:?} after a label"),
        }
    }
}

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|(n, l, _)| n == name && *l == labels)
        .map(|s| s.2)
}

#[test]
fn the_exposition_parses_back_with_cumulative_buckets_sum_count_and_escaped_labels() {
    let m = Metrics::new();
    m.describe("jobs_total", "Jobs done");
    let tricky = "a\"b\\c\nd";
    m.counter("jobs total", &[("kind", tricky)]).add(3);
    m.gauge("depth", &[]).set(4);
    m.gauge("depth", &[]).dec();
    let wait = m.histogram("wait_seconds", &[("context", "chat")]);
    for ms in [0.2, 3.0, 3.0, 40.0, 2000.0] {
        wait.record(Duration::from_secs_f64(ms / 1e3));
    }
    let text = m.to_prometheus();
    assert!(text.ends_with("# EOF\n"), "{text}");
    for line in [
        "# HELP jobs Jobs done\n",
        "# TYPE jobs counter\n",
        "# TYPE depth gauge\n",
        "# TYPE depth_peak gauge\n",
        "# TYPE wait_seconds histogram\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    let samples = parse(&text);
    assert_eq!(
        value_of(&samples, "jobs_total", &[("kind", tricky)]),
        Some(3.0)
    );
    assert_eq!(value_of(&samples, "depth", &[]), Some(3.0));
    assert_eq!(value_of(&samples, "depth_peak", &[]), Some(4.0));

    // Buckets are cumulative, end with +Inf = _count, and _sum adds up.
    let buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(n, l, _)| n == "wait_seconds_bucket" && l["context"] == "chat")
        .map(|(_, l, v)| (l["le"].parse::<f64>().unwrap(), *v))
        .collect();
    assert_eq!(buckets.len(), LATENCY_BUCKETS.len() + 1);
    assert!(buckets
        .windows(2)
        .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    let at = |le: f64| buckets.iter().find(|b| b.0 == le).unwrap().1;
    assert_eq!(
        (at(0.00025), at(0.0025), at(0.005), at(0.05), at(2.5)),
        (1.0, 1.0, 3.0, 4.0, 5.0)
    );
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, 5.0));
    let context = [("context", "chat")];
    assert_eq!(
        value_of(&samples, "wait_seconds_count", &context),
        Some(5.0)
    );
    let sum = value_of(&samples, "wait_seconds_sum", &context).unwrap();
    assert!((sum - 2.0462).abs() < 1e-9, "{sum}");
}

#[test]
#[cfg_attr(
    debug_assertions,
    should_panic(expected = "already used by another kind")
)]
fn a_name_keeps_the_kind_that_used_it_first() {
    let m = Metrics::new();
    m.counter("thing", &[]).inc();
    m.gauge("thing_total", &[]).set(1);
    assert_eq!(m.snapshot().gauges, vec![]);
}
