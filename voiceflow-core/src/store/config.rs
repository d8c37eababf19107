//! How a store is opened: durability, limits and key-derivation cost.

use std::sync::Arc;
use std::time::Duration;

use super::keys::KdfParams;
use super::kv::Backend;
use crate::metrics::Metrics;

/// When writes reach the disk (`fsync`).
///
/// Whatever the policy, [`Store::flush`](super::Store::flush) makes every
/// write that returned before it durable, and dropping the store flushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushPolicy {
    /// Only explicit [`Store::flush`](super::Store::flush) calls (and drop)
    /// write to disk: the fastest, and a crash loses what was not flushed.
    Manual,
    /// A background thread flushes at this interval (when something was
    /// written): a crash loses at most about one interval of writes.
    Periodic(Duration),
    /// Every write call flushes before it returns: nothing acknowledged is
    /// lost, at the price of one `fsync` per call (batch writes with
    /// [`Store::put_batch`](super::Store::put_batch) to share it).
    EveryWrite,
}

impl Default for FlushPolicy {
    /// Background flushes every 500 ms.
    fn default() -> Self {
        FlushPolicy::Periodic(Duration::from_millis(500))
    }
}

/// Settings of [`Store::open`](super::Store::open).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The key-value engine of a *new* store (default [`Backend::Redb`]).
    /// An existing store opens with the engine its folder holds, whatever
    /// this says.
    pub backend: Backend,
    /// When writes reach the disk.
    pub flush: FlushPolicy,
    /// The largest serialized record accepted, in bytes; larger ones are
    /// rejected with [`Error::RecordTooLarge`](crate::Error::RecordTooLarge).
    pub max_record_bytes: usize,
    /// Argon2id cost for passphrases, used when a passphrase slot is created
    /// (new store, key rotation). Opening uses the parameters kept in the
    /// store.
    pub kdf: KdfParams,
    /// Create a new store when the folder does not exist or is empty. When
    /// `false`, opening such a path fails with
    /// [`Error::StoreFormat`](crate::Error::StoreFormat).
    pub create_if_missing: bool,
    /// Memory the key-value engine may use for its page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// The registry the store reports into (operation latencies, errors,
    /// records written and deleted; see [`Store::metrics`](super::Store::metrics)).
    /// Share one with the engine and the enhancer to export them together;
    /// `None` gives the store a registry of its own.
    pub metrics: Option<Arc<Metrics>>,
}

/// The default largest record: 4 MiB (hours of transcript).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: Backend::default(),
            flush: FlushPolicy::default(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            kdf: KdfParams::default(),
            create_if_missing: true,
            cache_capacity_bytes: 64 * 1024 * 1024,
            metrics: None,
        }
    }
}

impl FlushPolicy {
    /// The interval of sled's background flusher under this policy (redb's
    /// flusher is the store's own thread).
    pub(crate) fn background_interval_ms(&self) -> Option<u64> {
        match self {
            FlushPolicy::Periodic(every) => {
                Some(u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1))
            }
            FlushPolicy::Manual | FlushPolicy::EveryWrite => None,
        }
    }
}
