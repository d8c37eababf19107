//! Helpers shared by the store's integration tests.

#![allow(dead_code)] // each test file uses a different part

use std::path::Path;

use voiceflow_core::store::{Context, KdfParams, RecordData, Store, StoreConfig, StoreKey};
use voiceflow_core::{Segment, Timings};

/// Argon2id cost small enough for tests (the default is 19 MiB, 2 passes).
pub const FAST_KDF: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// A store configuration with a cheap passphrase KDF.
pub fn config() -> StoreConfig {
    StoreConfig {
        kdf: FAST_KDF,
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

/// Runs `change` on sled's raw tree `tree` in the closed store at `path`
/// (to damage it as a fault on disk would), then waits until sled's
/// background I/O has released the folder's lock.
pub fn with_raw_tree(path: &Path, tree: &str, change: impl FnOnce(&sled::Tree)) {
    {
        let db = sled::open(path).expect("raw sled opens");
        change(&db.open_tree(tree).expect("tree opens"));
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
