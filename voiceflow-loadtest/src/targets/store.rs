//! The encrypted store in-process (sled on disk, AES-256-GCM): each request
//! puts a record, reads it back and compares the bytes, and every fourth
//! also searches by a word.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use voiceflow_core::enhance::Context;
use voiceflow_core::store::{RecordData, RecordId, Store};
use voiceflow_core::Timings;

use crate::profile::Profile;
use crate::scenario::{Request, Runner, ScenarioResult, Target};
use crate::stats::{Failure, Outcome, Sample};

use super::failure_of;

/// Users of one shared store.
pub struct StoreTarget {
    store: Store,
    texts: Arc<[String]>,
    ids: Mutex<Vec<RecordId>>,
}

impl StoreTarget {
    /// Users writing records of `texts` into `store` and reading them.
    pub fn new(store: Store, texts: Arc<[String]>) -> Self {
        StoreTarget {
            store,
            texts,
            ids: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, n: usize) -> RecordData {
        let context = [Context::Email, Context::Chat, Context::Document][n % 3];
        let text = &self.texts[n % self.texts.len()];
        RecordData {
            context: context.into(),
            raw_text: format!("{text} (note {n})"),
            enhanced_text: Some(text.clone()),
            segments: Vec::new(),
            language: "en".into(),
            model: "tiny.en".into(),
            audio_duration_s: 4.0,
            timings: Timings::default(),
            metadata: [("load".to_string(), "test".to_string())].into(),
        }
    }

    /// Times `op` on the store.
    fn timed<T>(
        op: &'static str,
        f: impl FnOnce() -> voiceflow_core::Result<T>,
    ) -> (Outcome, Option<T>) {
        let started = Instant::now();
        let result = f();
        let took = started.elapsed().as_secs_f64();
        match result {
            Ok(value) => (Outcome::ok(op, took), Some(value)),
            Err(e) => (Outcome::failed(op, took, failure_of(&e)), None),
        }
    }

    /// Puts record `n`.
    fn put(&self, n: usize) -> (Outcome, Option<RecordId>) {
        let data = self.record(n);
        let (outcome, id) = Self::timed("put", || self.store.put(&data));
        if let Some(id) = id {
            self.ids
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(id);
        }
        (outcome, id)
    }

    /// Gets `id` and checks it holds record `n`'s text.
    fn get(&self, id: &RecordId, n: usize) -> Outcome {
        let (outcome, record) = Self::timed("get", || self.store.get(id));
        match record {
            Some(record) if record.data.raw_text != self.record(n).raw_text => Outcome::failed(
                "get",
                outcome.latency_s,
                Failure::Error("record read back differs from what was put".into()),
            ),
            _ => outcome,
        }
    }

    /// Searches one word of text `n`: at least one record must match.
    fn search(&self, n: usize) -> Outcome {
        let text = &self.texts[n % self.texts.len()];
        let word = text
            .split_whitespace()
            .max_by_key(|w| w.len())
            .unwrap_or("note");
        let word: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        let (outcome, found) = Self::timed("search", || self.store.search(&word, 20));
        match found {
            Some(records) if records.is_empty() => Outcome::failed(
                "search",
                outcome.latency_s,
                Failure::Error(format!("no record found for {word:?}")),
            ),
            _ => outcome,
        }
    }

    /// One user request: put, get back, and every fourth a search.
    fn round_trip(&self, n: usize) -> Vec<Outcome> {
        let (put, id) = self.put(n);
        let mut outcomes = vec![put];
        if let Some(id) = id {
            outcomes.push(self.get(&id, n));
            if n.is_multiple_of(4) {
                outcomes.push(self.search(n));
            }
        }
        outcomes
    }

    /// Volume: writers putting records at once while readers get and search.
    pub async fn volume(self: &Arc<Self>, runner: &Runner, profile: &Profile) -> ScenarioResult {
        let volume = &profile.volume;
        let (writers, per_writer) = (volume.store_writers, volume.store_ops_per_writer);
        let before = self.store.count();
        let started = Instant::now();
        let writing = Arc::new(std::sync::atomic::AtomicUsize::new(writers));
        let mut tasks = Vec::new();
        for writer in 0..writers {
            let (this, runner, writing) = (self.clone(), runner.clone(), writing.clone());
            tasks.push(tokio::task::spawn_blocking(move || {
                let samples: Vec<Sample> = (0..per_writer)
                    .map(|i| {
                        let (outcome, _) = this.put(1_000_000 + writer * per_writer + i);
                        Sample::of(outcome, runner.now_s(), writers)
                    })
                    .collect();
                writing.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                samples
            }));
        }
        for reader in 0..volume.store_readers {
            let (this, runner, writing) = (self.clone(), runner.clone(), writing.clone());
            tasks.push(tokio::task::spawn_blocking(move || {
                let mut samples = Vec::new();
                let mut n = reader;
                while writing.load(std::sync::atomic::Ordering::SeqCst) > 0
                    && samples.len() < 1_000_000
                {
                    let id = {
                        let ids = this.ids.lock().unwrap_or_else(PoisonError::into_inner);
                        ids.get(n.wrapping_mul(2_654_435_761) % ids.len().max(1))
                            .copied()
                    };
                    let outcome = match (n % 4, id) {
                        (0, _) | (_, None) => this.search(n),
                        (_, Some(id)) => Self::timed("get", || this.store.get(&id)).0,
                    };
                    samples.push(Sample::of(outcome, runner.now_s(), writers));
                    n += 1;
                }
                samples
            }));
        }
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.unwrap_or_default());
        }
        samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        let wall_s = started.elapsed().as_secs_f64();
        let inserted = self.store.count() - before;
        let mut result = ScenarioResult::new("store", "volume", samples, wall_s);
        result.notes.push(format!(
            "{writers} writers x {per_writer} puts with {} readers: {inserted} records inserted in {wall_s:.1} s; the store held {} records at the end",
            volume.store_readers,
            self.store.count()
        ));
        result
    }
}

impl Target for StoreTarget {
    fn name(&self) -> &'static str {
        "store"
    }

    fn state(&self) -> Option<String> {
        Some(format!(
            "the store held {} records afterwards (each request puts one)",
            self.store.count()
        ))
    }

    fn request(self: Arc<Self>, user: usize, seq: u64) -> Request {
        Box::pin(async move {
            let n = user * 100_003 + seq as usize;
            tokio::task::spawn_blocking(move || self.round_trip(n))
                .await
                .unwrap_or_else(|e| {
                    vec![Outcome::failed("put", 0.0, Failure::Error(e.to_string()))]
                })
        })
    }
}
