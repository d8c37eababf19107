//! Benchmarks of the encrypted transcript store (`cargo bench --bench store`).
//!
//! - `insert_encrypted`, `insert_plain`: one `put` of a dictation-sized
//!   record into an open store (default flush policy: background flush every
//!   500 ms). Each put is also timed on its own; the latency percentiles and
//!   the encrypted/plain ratio are printed at the end.
//! - `get`: one record by id from a store of 10,000.
//! - `range_query`: a page of 20 records in a time range, from 10,000.
//! - `search/*`: keyword search over 10,000 records (one hit; a page of 20
//!   hits of a word in 1 % of the records; two words).
//! - `volume_10000_encrypted/{redb,sled}`: one iteration = 10,000 encrypted
//!   `put`s into a fresh store on that key-value engine, then `flush`.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use tempfile::TempDir;
use voiceflow_core::store::{Backend, Query, RecordData, RecordId, Store, StoreConfig, StoreKey};
use voiceflow_core::Context;
use voiceflow_core::{Segment, Timings};

const STORE_RECORDS: usize = 10_000;

/// A record the size of a 15-second dictation, unique through `n`.
fn dictation(n: usize) -> RecordData {
    let raw = format!(
        "okay so for the project update number {n} we finished the migration of the billing \
         service and the tests are green the next step is to review the dashboard with the \
         design team on thursday and then send the summary to the client group{}",
        n % 100
    );
    let segment = |start: f32, text: &str| Segment {
        start,
        end: start + 7.5,
        text: text.to_string(),
        tokens: (0..30).map(|t| 400 + t * 13).collect(),
        avg_logprob: -0.21,
        no_speech_prob: 0.02,
        temperature: 0.0,
        words: vec![],
    };
    RecordData {
        context: [Context::Email, Context::Chat, Context::Document][n % 3].into(),
        enhanced_text: Some(format!(
            "Project update {n}: the billing migration is done."
        )),
        segments: vec![segment(0.0, &raw[..80]), segment(7.5, &raw[80..])],
        raw_text: raw,
        language: "en".into(),
        model: "base.en".into(),
        audio_duration_s: 15.0,
        timings: Timings {
            decode_audio_s: 0.004,
            mel_s: 0.01,
            encoder_s: 0.12,
            decoder_s: 0.35,
            total_s: 0.49,
        },
        metadata: [
            ("app".to_string(), "mail".to_string()),
            ("device".to_string(), "laptop".to_string()),
        ]
        .into(),
    }
}

/// A new store in a temporary folder on the default engine (the passphrase
/// uses the default, OWASP-level Argon2id cost).
fn fresh_store(encrypted: bool) -> (Store, TempDir) {
    fresh_store_on(encrypted, Backend::default())
}

/// A new store in a temporary folder on `backend`.
fn fresh_store_on(encrypted: bool, backend: Backend) -> (Store, TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let key = if encrypted {
        StoreKey::passphrase("benchmark passphrase")
    } else {
        StoreKey::unencrypted()
    };
    let config = StoreConfig {
        backend,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path().join("store"), key, config).expect("store opens");
    (store, dir)
}

/// A store of 10,000 records, one a second up to now; their ids, oldest
/// first.
fn filled_store() -> (Store, TempDir, Vec<RecordId>) {
    let (store, dir) = fresh_store(true);
    let now = SystemTime::now();
    let ids = (0..STORE_RECORDS)
        .map(|n| {
            let age = Duration::from_secs((STORE_RECORDS - n) as u64);
            store.put_at(&dictation(n), now - age).expect("put")
        })
        .collect();
    store.flush().expect("flush");
    (store, dir, ids)
}

/// Latencies of single puts, per benchmark, for the summary.
static LATENCIES: Mutex<Vec<(&str, Vec<Duration>)>> = Mutex::new(Vec::new());

fn inserts(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    for (name, encrypted) in [("insert_encrypted", true), ("insert_plain", false)] {
        let (store, _dir) = fresh_store(encrypted);
        let records: Vec<RecordData> = (0..1000).map(dictation).collect();
        let mut latencies = Vec::new();
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for i in 0..iterations {
                    let record = &records[i as usize % records.len()];
                    let start = Instant::now();
                    store.put(record).expect("put");
                    let took = start.elapsed();
                    latencies.push(took);
                    total += took;
                }
                total
            })
        });
        // A filtered run (`cargo bench --bench store -- volume`) skips this
        // benchmark: nothing was timed, so there is nothing to summarise.
        if !latencies.is_empty() {
            LATENCIES.lock().unwrap().push((name, latencies));
        }
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    let (store, _dir, ids) = filled_store();
    let mut group = c.benchmark_group("store");
    let mut next = 0;
    group.bench_function("get", |b| {
        b.iter(|| {
            next = (next + 7_919) % ids.len();
            store.get(&ids[next]).expect("get")
        })
    });
    let now = SystemTime::now();
    let range = Query::new()
        .since(now - Duration::from_secs(3_000))
        .until(now - Duration::from_secs(2_000))
        .limit(20);
    group.bench_function("range_query", |b| {
        b.iter(|| {
            let page = store.query(&range).expect("query");
            assert_eq!(page.records.len(), 20);
        })
    });
    for (name, words, hits) in [
        ("search/one_hit", "update 4321", 1),
        ("search/page_of_20", "group42", 20),
        ("search/two_words", "group42 thursday", 20),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| assert_eq!(store.search(words, 20).expect("search").len(), hits))
        });
    }
    group.finish();
}

fn volume(c: &mut Criterion) {
    let records: Vec<RecordData> = (0..10_000).map(dictation).collect();
    let mut group = c.benchmark_group("store");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for backend in [Backend::Redb, Backend::Sled] {
        group.bench_function(format!("volume_10000_encrypted/{backend}"), |b| {
            b.iter_batched(
                || fresh_store_on(true, backend),
                |(store, dir)| {
                    for record in &records {
                        store.put(record).expect("put");
                    }
                    store.flush().expect("flush");
                    (store, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// The `p` quantile of a non-empty sorted list (nearest rank).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[at - 1]
}

/// Prints latency percentiles of single puts and the encryption overhead.
fn summary(_: &mut Criterion) {
    let mut medians = Vec::new();
    // A filtered run (`cargo bench --bench store -- volume`) times no puts.
    for (name, latencies) in LATENCIES.lock().unwrap().iter_mut() {
        if latencies.is_empty() {
            continue;
        }
        latencies.sort_unstable();
        let median = percentile(latencies, 0.5);
        medians.push(median);
        println!(
            "{name}: {} puts timed one by one: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
            latencies.len(),
            median,
            percentile(latencies, 0.99),
            percentile(latencies, 0.999),
            latencies.last().copied().unwrap_or_default(),
        );
    }
    if let [encrypted, plain] = medians[..] {
        println!(
            "encryption overhead (median put, encrypted / plain): {:.2}",
            encrypted.as_secs_f64() / plain.as_secs_f64()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = inserts, reads, volume, summary
}
criterion_main!(benches);
