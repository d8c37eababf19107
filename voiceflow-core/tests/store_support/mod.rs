//! Helpers shared by the store's integration tests.

#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::path::Path;

use voiceflow_core::store::{Backend, KdfParams, RecordData, Store, StoreConfig, StoreKey};
use voiceflow_core::Context;
use voiceflow_core::{Segment, Timings};

/// Argon2id cost small enough for tests (the default is 19 MiB, 2 passes).
pub const FAST_KDF: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// The backend the tests make stores with: `VOICEFLOW_TEST_STORE_BACKEND`
/// (`redb`, the default, or `sled`), so that every suite runs on either.
pub fn backend() -> Backend {
    match std::env::var("VOICEFLOW_TEST_STORE_BACKEND") {
        Ok(name) => name
            .parse()
            .expect("VOICEFLOW_TEST_STORE_BACKEND is redb or sled"),
        Err(_) => Backend::default(),
    }
}

/// A store configuration with a cheap passphrase KDF, on [`backend`].
pub fn config() -> StoreConfig {
    StoreConfig {
        kdf: FAST_KDF,
        backend: backend(),
        ..StoreConfig::default()
    }
}

/// The passphrase most tests use.
pub fn passphrase() -> StoreKey {
    StoreKey::passphrase("correct horse battery staple")
}

/// Opens (or creates) the store at `path` with `key` and [`config`].
pub fn open(path: &Path, key: StoreKey) -> Store {
    Store::open(path, key, config()).expect("store opens")
}

/// A realistic record, different for every `n`: its text holds the word
/// `item<n>` and the shared word `transcript`.
pub fn sample(n: usize) -> RecordData {
    let text = format!("Transcript item{n}: please review the quarterly numbers by Friday");
    RecordData {
        context: [Context::General, Context::Email, Context::Chat][n % 3].into(),
        raw_text: text.clone(),
        enhanced_text: n.is_multiple_of(2).then(|| format!("{text}. Thanks!")),
        segments: vec![Segment {
            start: 0.0,
            end: 2.5,
            text,
            tokens: vec![50364, 1000 + n as u32, 50489],
            avg_logprob: -0.25,
            no_speech_prob: 0.01,
            temperature: 0.0,
            words: vec![],
        }],
        language: "en".into(),
        model: "base.en".into(),
        audio_duration_s: 2.5,
        timings: Timings {
            decode_audio_s: 0.01,
            mel_s: 0.02,
            encoder_s: 0.1,
            decoder_s: 0.2,
            total_s: 0.33,
        },
        metadata: [("n".to_string(), n.to_string())].into(),
    }
}

/// The `n` in a record made by [`sample`], read from its metadata.
pub fn sample_number(data: &RecordData) -> usize {
    data.metadata["n"]
        .parse()
        .expect("sample records carry their number")
}

/// The raw keys and values of one tree of a closed store, for tests that
/// read or damage the files as a fault on disk would.
#[derive(Default)]
pub struct RawTree {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl RawTree {
    /// The value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<Vec<u8>> {
        self.entries.get(key.as_ref()).cloned()
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.entries
            .insert(key.as_ref().to_vec(), value.as_ref().to_vec());
    }

    /// Every key and value, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }
}

/// The tree that holds the store's metadata (sled's default tree).
pub const META_TREE: &str = "meta";

/// Runs `change` on the raw tree `tree` (a store tree's name, or
/// [`META_TREE`]) of the closed store at `path`, made with [`backend`]
/// (created when missing), and writes back the keys it set.
pub fn with_raw_tree(path: &Path, tree: &str, change: impl FnOnce(&mut RawTree)) {
    match backend() {
        Backend::Redb => with_raw_redb_table(path, tree, change),
        Backend::Sled => with_raw_sled_tree(path, tree, change),
    }
}

fn with_raw_redb_table(path: &Path, tree: &str, change: impl FnOnce(&mut RawTree)) {
    use redb::{ReadableDatabase, ReadableTable};
    std::fs::create_dir_all(path).expect("folder is made");
    let db = redb::Database::create(path.join("store.redb")).expect("raw redb opens");
    let table = redb::TableDefinition::<&[u8], &[u8]>::new(tree);
    let mut raw = RawTree::default();
    {
        let txn = db.begin_read().expect("read transaction");
        if let Ok(table) = txn.open_table(table) {
            for entry in table.iter().expect("table iterates") {
                let (key, value) = entry.expect("entry reads");
                raw.insert(key.value(), value.value());
            }
        }
    }
    let before = raw.entries.clone();
    change(&mut raw);
    let txn = db.begin_write().expect("write transaction");
    {
        let mut table = txn.open_table(table).expect("table opens");
        for (key, value) in raw
            .iter()
            .filter(|(k, v)| before.get(*k).map(Vec::as_slice) != Some(*v))
        {
            table.insert(key, value).expect("raw insert");
        }
    }
    txn.commit().expect("raw commit");
}

fn with_raw_sled_tree(path: &Path, tree: &str, change: impl FnOnce(&mut RawTree)) {
    {
        let db = sled::open(path).expect("raw sled opens");
        let tree = if tree == META_TREE {
            (*db).clone()
        } else {
            db.open_tree(tree).expect("tree opens")
        };
        let mut raw = RawTree::default();
        for entry in tree.iter() {
            let (key, value) = entry.expect("entry reads");
            raw.insert(key, value);
        }
        let before = raw.entries.clone();
        change(&mut raw);
        for (key, value) in raw
            .iter()
            .filter(|(k, v)| before.get(*k).map(Vec::as_slice) != Some(*v))
        {
            tree.insert(key, value).expect("raw insert");
        }
        db.flush().expect("raw sled flushes");
    }
    let lock_file = std::fs::File::open(path.join("db")).expect("sled's db file opens");
    for _ in 0..1000 {
        if lock_file.try_lock().is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("sled kept {} locked", path.display());
}

/// Every byte of every file under `dir`, concatenated.
pub fn all_file_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder lists") {
        let path = entry.expect("entry reads").path();
        if path.is_dir() {
            bytes.extend(all_file_bytes(&path));
        } else {
            bytes.extend(std::fs::read(&path).expect("file reads"));
        }
    }
    bytes
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
