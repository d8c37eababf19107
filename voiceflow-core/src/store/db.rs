//! The [`Store`] handle: opening, writing, reading and deleting records.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};
use sled::Transactional;

use super::codec::{self, DecodeError};
use super::config::{FlushPolicy, StoreConfig};
use super::id::{unix_ms, RecordId};
use super::inverted::{InvertedIndex, Merger};
use super::keyring::Keyring;
use super::keys::StoreKey;
use super::meta;
use super::record::{Record, RecordData};
use super::stats::{Op, StoreMetrics};
use crate::metrics::Metrics;
use crate::{Error, Result};

/// Records removed per transaction by deletions of many records.
const DELETE_BATCH: usize = 512;

/// An encrypted, embedded transcript store (see the [module docs](super)).
///
/// `Store` is `Send + Sync`: share one handle as `Arc<Store>` or `&Store`
/// across threads. There is no connection pool because there is no server:
/// sled runs inside this process and every call goes straight to its
/// trees. A store folder can be open in one process at a time. Each open
/// store runs one background thread that folds new records into the
/// keyword index; dropping the store stops it, flushes, and releases the
/// folder.
pub struct Store {
    /// Declared first so that its thread stops before the trees close.
    pub(super) merger: Merger,
    pub(super) path: PathBuf,
    pub(super) db: sled::Db,
    /// Record id → sealed value.
    pub(super) records: sled::Tree,
    pub(super) keyring: Keyring,
    pub(super) config: StoreConfig,
    pub(super) metrics: StoreMetrics,
    /// Declared last so that it drops after sled's handles above.
    _release: LockRelease,
}

/// Waits, when the store is dropped, until sled's background I/O has let go
/// of the folder's lock (at most a second), so that a dropped store can be
/// opened again at once.
struct LockRelease {
    lock_file: PathBuf,
}

impl Drop for LockRelease {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        let Ok(file) = File::open(&self.lock_file) else {
            return;
        };
        while let Err(TryLockError::WouldBlock) = file.try_lock() {
            if Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // Closing `file` releases the lock just taken.
    }
}

/// A record ready to be written: its sealed value and index tokens.
pub(super) struct Prepared {
    pub(super) id: RecordId,
    pub(super) value: Vec<u8>,
    /// The record's tokens, concatenated (its token list).
    pub(super) tokens: Vec<u8>,
}

/// What a write does with a record whose id is already stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Existing {
    /// Leave the stored record; do not count it as written.
    Skip,
    /// Fail the whole write.
    Reject,
}

/// The trees of a transaction: records, tokens, pending, index.
pub(super) type TxTrees = (
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
    TransactionalTree,
);

impl Store {
    /// Opens the store in the folder `path`, or creates it there when the
    /// folder does not exist or is empty (and `config.create_if_missing`).
    ///
    /// `key` decides how a new store is protected, and must fit an existing
    /// one. If a key rotation was interrupted, the store finishes it towards
    /// the key given here (the old or the new one) before returning.
    ///
    /// # Errors
    /// [`Error::WrongKey`] when the key or passphrase does not open the store;
    /// [`Error::StoreFormat`] when `path` is not a store, has a newer format,
    /// or has damaged metadata; [`Error::InvalidArgument`] for an empty
    /// passphrase or a key given to an unencrypted store; [`Error::Io`] when
    /// the folder cannot be read or is open in another process.
    pub fn open(path: impl AsRef<Path>, key: StoreKey, config: StoreConfig) -> Result<Store> {
        let path = path.as_ref();
        check_folder(path, config.create_if_missing)?;
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(config.cache_capacity_bytes)
            .flush_every_ms(config.flush.background_interval_ms())
            .open()
            .map_err(|e| open_error(path, e))?;
        let (keyring, pending_rotation) = match meta::read(&db, path)? {
            Some(protection) => {
                let unlocked = Keyring::unlock(&protection, &key, path)?;
                (unlocked.keyring, unlocked.pending_rotation)
            }
            None if db.is_empty() && db.tree_names().len() == 1 => {
                let keyring = Keyring::create(&key, &config)?;
                meta::write(&db, &keyring.protection()?)?;
                (keyring, false)
            }
            None => {
                return Err(format_error(
                    path,
                    "a sled database without VoiceFlow metadata",
                ))
            }
        };
        let tree = |name: &str| db.open_tree(name).map_err(storage_error);
        let mut store = Store {
            merger: Merger::start(Arc::new(InvertedIndex::open(&db)?))?,
            path: path.to_path_buf(),
            records: tree("records")?,
            db,
            keyring,
            metrics: StoreMetrics::new(config.metrics.clone().unwrap_or_default()),
            config,
            _release: LockRelease {
                lock_file: path.join("db"),
            },
        };
        if pending_rotation {
            store.converge(&mut |_, _| {})?;
        }
        Ok(store)
    }

    /// The store's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The registry the store reports into ([`StoreConfig::metrics`]).
    pub fn metrics(&self) -> &Arc<Metrics> {
        self.metrics.registry()
    }

    /// Whether records are encrypted (false for [`StoreKey::unencrypted`]).
    pub fn is_encrypted(&self) -> bool {
        self.keyring.is_encrypted()
    }

    /// Stores a record created now; returns its new id.
    ///
    /// The record, its index tokens and its mark for the index thread are
    /// written in one transaction: all or nothing. Durable once [`Store::flush`] returns,
    /// or before this returns under [`FlushPolicy::EveryWrite`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a non-finite number or a bad context
    /// label; [`Error::RecordTooLarge`] above `max_record_bytes`.
    pub fn put(&self, data: &RecordData) -> Result<RecordId> {
        self.put_at(data, SystemTime::now())
    }

    /// Stores a record with the creation time `created_at` (for example a
    /// transcript made before it was stored); returns its new id.
    pub fn put_at(&self, data: &RecordData, created_at: SystemTime) -> Result<RecordId> {
        self.metrics.timed(Op::Put, || {
            let id = RecordId::generate(unix_ms(created_at)?)?;
            self.write(&[self.prepare(id, data)?], Existing::Reject)?;
            Ok(id)
        })
    }

    /// Stores many records created now in one transaction (all or nothing,
    /// one flush under [`FlushPolicy::EveryWrite`]); returns their ids in
    /// order. Much faster than one `put` per record.
    pub fn put_batch(&self, items: &[RecordData]) -> Result<Vec<RecordId>> {
        self.metrics.timed(Op::PutBatch, || {
            let ids = RecordId::generate_run(unix_ms(SystemTime::now())?, items.len())?;
            let prepared = ids
                .into_iter()
                .zip(items)
                .map(|(id, data)| self.prepare(id, data))
                .collect::<Result<Vec<_>>>()?;
            self.write(&prepared, Existing::Reject)?;
            Ok(prepared.iter().map(|record| record.id).collect())
        })
    }

    /// The record with id `id`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is none; [`Error::Integrity`] when its
    /// stored bytes were altered or do not belong to this id or key.
    pub fn get(&self, id: &RecordId) -> Result<Record> {
        self.metrics.timed(Op::Get, || {
            let value = self
                .records
                .get(id.as_bytes())
                .map_err(storage_error)?
                .ok_or_else(|| Error::NotFound(id.to_string()))?;
            self.read_value(id, &value)
        })
    }

    /// Deletes the record `id` with its index entries (also a damaged one).
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such record.
    pub fn delete(&self, id: &RecordId) -> Result<()> {
        self.metrics.timed(Op::Delete, || {
            if self.remove(&[*id])? == 0 {
                return Err(Error::NotFound(id.to_string()));
            }
            self.after_write()
        })
    }

    /// Retention: deletes every record created more than `age` ago; returns
    /// how many were deleted.
    pub fn delete_older_than(&self, age: Duration) -> Result<usize> {
        match SystemTime::now().checked_sub(age) {
            Some(cutoff) => self.delete_before(cutoff),
            None => Ok(0),
        }
    }

    /// Deletes every record created before `cutoff`; returns how many were
    /// deleted.
    pub fn delete_before(&self, cutoff: SystemTime) -> Result<usize> {
        self.metrics.timed(Op::DeleteBefore, || {
            let end = RecordId::first_of_ms(unix_ms(cutoff)?);
            let mut deleted = 0;
            loop {
                let batch = self
                    .records
                    .range(..end.as_bytes().as_slice())
                    .keys()
                    .take(DELETE_BATCH)
                    .map(|key| record_id(&key.map_err(storage_error)?))
                    .collect::<Result<Vec<_>>>()?;
                if batch.is_empty() {
                    break;
                }
                deleted += self.remove(&batch)?;
            }
            self.after_write()?;
            Ok(deleted)
        })
    }

    /// How many records the store holds (counts them: linear in the number
    /// of records).
    pub fn count(&self) -> usize {
        self.records.len()
    }

    /// Makes every write that returned before this call durable (`fsync`).
    pub fn flush(&self) -> Result<()> {
        self.metrics.timed(Op::Flush, || {
            self.db.flush().map_err(storage_error)?;
            Ok(())
        })
    }

    /// Validates, serializes, seals and indexes `data` under `id`.
    pub(super) fn prepare(&self, id: RecordId, data: &RecordData) -> Result<Prepared> {
        data.validate()?;
        let payload = codec::encode(data);
        let limit = self.config.max_record_bytes;
        if payload.len() > limit {
            return Err(Error::RecordTooLarge {
                size: payload.len(),
                limit,
            });
        }
        self.seal_payload(id, &payload, data)
    }

    /// Seals the `payload` of `data` under `id` with the active key, and
    /// makes its index tokens.
    pub(super) fn seal_payload(
        &self,
        id: RecordId,
        payload: &[u8],
        data: &RecordData,
    ) -> Result<Prepared> {
        Ok(Prepared {
            id,
            value: self.keyring.seal(&id, payload)?,
            tokens: self.keyring.index_key().record_tokens(data).concat(),
        })
    }

    /// Writes prepared records with their token lists and pending marks in
    /// one transaction; returns how many were written.
    pub(super) fn write(&self, prepared: &[Prepared], existing: Existing) -> Result<usize> {
        let written = self.transaction(|(records, tokens, pending, _)| {
            let mut written = 0;
            for record in prepared {
                let key = record.id.as_bytes().as_slice();
                if records.get(key)?.is_some() {
                    match existing {
                        Existing::Skip => continue,
                        Existing::Reject => {
                            return Err(ConflictableTransactionError::Abort(Error::Storage(
                                format!("record id {} is already in use", record.id),
                            )))
                        }
                    }
                }
                records.insert(key, record.value.as_slice())?;
                tokens.insert(key, record.tokens.as_slice())?;
                pending.insert(key, &[][..])?;
                written += 1;
            }
            Ok(written)
        })?;
        self.metrics.written(written);
        self.after_write()?;
        self.merger.note_written(written);
        Ok(written)
    }

    /// Removes records, their token lists and their ids in the index in one
    /// transaction; returns how many records existed.
    fn remove(&self, ids: &[RecordId]) -> Result<usize> {
        let index = self.merger.index();
        let guard = index.lock();
        let chunk_writes = index.unindex(ids, &guard)?;
        let removed = self.transaction(|(records, tokens, pending, index)| {
            for (key, value) in &chunk_writes {
                match value {
                    Some(ids) => index.insert(key.as_slice(), ids.as_slice())?,
                    None => index.remove(key.as_slice())?,
                };
            }
            let mut removed = 0;
            for id in ids {
                let key = id.as_bytes().as_slice();
                removed += usize::from(records.remove(key)?.is_some());
                tokens.remove(key)?;
                pending.remove(key)?;
            }
            Ok(removed)
        })?;
        self.metrics.deleted(removed);
        Ok(removed)
    }

    /// Runs `body` as one sled transaction over the store's four trees.
    pub(super) fn transaction<T>(
        &self,
        body: impl Fn(&TxTrees) -> ConflictableTransactionResult<T, Error>,
    ) -> Result<T> {
        let index = self.merger.index();
        (&self.records, &index.tokens, &index.pending, &index.chunks)
            .transaction(|trees| body(trees))
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => storage_error(e),
            })
    }

    /// Flushes when the policy asks for it after every write.
    pub(super) fn after_write(&self) -> Result<()> {
        match self.config.flush {
            FlushPolicy::EveryWrite => self.flush(),
            FlushPolicy::Manual | FlushPolicy::Periodic(_) => Ok(()),
        }
    }

    /// Opens and decodes the stored `value` of record `id`.
    pub(super) fn read_value(&self, id: &RecordId, value: &[u8]) -> Result<Record> {
        let payload = self.keyring.open(id, value)?;
        Ok(Record::new(*id, self.decode_payload(id, &payload)?))
    }

    /// Decodes the opened `payload` of record `id`.
    pub(super) fn decode_payload(&self, id: &RecordId, payload: &[u8]) -> Result<RecordData> {
        codec::decode(payload).map_err(|e| match e {
            DecodeError::NewerSchema(schema) => format_error(
                &self.path,
                &format!("record {id} has schema {schema}, newer than this version reads"),
            ),
            DecodeError::Malformed => Error::Integrity { id: id.to_string() },
        })
    }
}

/// The record id that is the sled key `key`.
pub(super) fn record_id(key: &[u8]) -> Result<RecordId> {
    RecordId::from_slice(key).ok_or_else(|| {
        Error::Storage(format!(
            "a stored key of {} bytes is not a record id",
            key.len()
        ))
    })
}

/// Checks that `path` is a store folder, or a place for a new one.
fn check_folder(path: &Path, create_if_missing: bool) -> Result<()> {
    let new_store = || {
        if create_if_missing {
            Ok(())
        } else {
            Err(format_error(path, "no store here"))
        }
    };
    let metadata = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return new_store(),
        other => other.map_err(|e| Error::io(path, e))?,
    };
    if !metadata.is_dir() {
        return Err(format_error(path, "not a folder"));
    }
    let names = std::fs::read_dir(path)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|e| e.file_name()))
                .collect::<std::io::Result<Vec<_>>>()
        })
        .map_err(|e| Error::io(path, e))?;
    if names.is_empty() {
        return new_store();
    }
    if ["conf", "db"]
        .iter()
        .all(|file| names.iter().any(|name| name == file))
    {
        return Ok(());
    }
    Err(format_error(
        path,
        "not a VoiceFlow store (the folder holds other files)",
    ))
}

/// The [`Error::StoreFormat`] for `path`.
pub(super) fn format_error(path: &Path, reason: &str) -> Error {
    Error::StoreFormat {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// A sled failure while opening `path`.
fn open_error(path: &Path, error: sled::Error) -> Error {
    match error {
        sled::Error::Io(e) => Error::io(path, e),
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => {
            format_error(path, &format!("unreadable sled database: {error}"))
        }
        other => storage_error(other),
    }
}

/// A sled failure during an operation.
pub(crate) fn storage_error(error: sled::Error) -> Error {
    Error::Storage(error.to_string())
}
