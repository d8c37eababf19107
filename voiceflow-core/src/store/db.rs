//! The [`Store`] handle: opening, writing, reading and deleting records.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::codec::{self, DecodeError};
use super::config::{FlushPolicy, StoreConfig};
use super::id::{unix_ms, RecordId};
use super::inverted::{InvertedIndex, Merger};
use super::keyring::Keyring;
use super::keys::StoreKey;
use super::kv::{self, Backend, Folder, Kv, Scan, Tree, Writes};
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
/// the key-value engine (redb, or sled for older stores) runs inside this
/// process and every call goes straight to its tables. A store folder can be open in one process at a time. Each open
/// store runs one background thread that folds new records into the
/// keyword index; dropping the store stops it, flushes, and releases the
/// folder.
pub struct Store {
    /// Declared first so that its thread stops before the trees close.
    pub(super) merger: Merger,
    pub(super) path: PathBuf,
    /// The key-value database (shared with the index).
    pub(super) kv: Arc<dyn Kv>,
    pub(super) keyring: Keyring,
    pub(super) config: StoreConfig,
    pub(super) metrics: StoreMetrics,
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

impl Store {
    /// Opens the store in the folder `path`, or creates it there when the
    /// folder does not exist or is empty (and `config.create_if_missing`).
    ///
    /// A new store uses `config.backend`. An existing one is opened with the
    /// engine whose files the folder holds, whatever `config.backend` says:
    /// a store made with sled by an earlier version keeps opening (and
    /// [`Store::migrate`] moves it to redb).
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
        // Before anything is created: a refused key leaves no database behind.
        key.validate()?;
        let (kv, new) = open_kv(path, &config)?;
        let (keyring, pending_rotation) = match meta::read(&*kv, path)? {
            Some(protection) => {
                let unlocked = Keyring::unlock(&protection, &key, path)?;
                (unlocked.keyring, unlocked.pending_rotation)
            }
            None if new => {
                let keyring = Keyring::create(&key, &config)?;
                meta::write(&*kv, &keyring.protection()?)?;
                (keyring, false)
            }
            None => {
                return Err(format_error(
                    path,
                    &format!("a {} database without VoiceFlow metadata", kv.backend()),
                ))
            }
        };
        let kv: Arc<dyn Kv> = Arc::from(kv);
        let mut store = Store {
            merger: Merger::start(Arc::new(InvertedIndex::open(Arc::clone(&kv))?))?,
            path: path.to_path_buf(),
            kv,
            keyring,
            metrics: StoreMetrics::new(config.metrics.clone().unwrap_or_default()),
            config,
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

    /// The key-value engine the store is kept in.
    pub fn backend(&self) -> Backend {
        self.kv.backend()
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
                .kv
                .get(Tree::Records, id.as_bytes())?
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
                let scan = Scan::keys(Tree::Records)
                    .within(Bound::Unbounded, Bound::Excluded(end.as_bytes()))
                    .take(DELETE_BATCH);
                let batch = self
                    .kv
                    .scan(&scan)?
                    .iter()
                    .map(|(key, _)| record_id(key))
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

    /// How many records the store holds (redb keeps the number; sled
    /// counts them, linear in the number of records). 0 when the engine
    /// fails to read it: [`Store::try_count`] reports that failure.
    pub fn count(&self) -> usize {
        self.try_count().unwrap_or(0)
    }

    /// How many records the store holds.
    ///
    /// # Errors
    /// [`Error::Storage`] when the engine fails to read the number.
    pub fn try_count(&self) -> Result<usize> {
        self.kv.len(Tree::Records)
    }

    /// Makes every write that returned before this call durable (`fsync`).
    pub fn flush(&self) -> Result<()> {
        self.metrics.timed(Op::Flush, || self.kv.flush())
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
        let mut written = 0;
        self.kv.write(&mut |tx| {
            written = 0;
            for record in prepared {
                // Rejecting needs no lookup first: the error drops the
                // transaction, and with it the overwrite.
                if existing == Existing::Skip
                    && tx.get(Tree::Records, record.id.as_bytes())?.is_some()
                {
                    continue;
                }
                if insert_record(tx, record)? {
                    return Err(Error::storage(format!(
                        "record id {} is already in use",
                        record.id
                    )));
                }
                written += 1;
            }
            Ok(())
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
        let mut removed = 0;
        self.kv.write(&mut |tx| {
            for (key, value) in &chunk_writes {
                match value {
                    Some(ids) => tx.insert(Tree::Chunks, key, ids)?,
                    None => tx.remove(Tree::Chunks, key)?,
                };
            }
            removed = 0;
            for id in ids {
                let key = id.as_bytes().as_slice();
                removed += usize::from(tx.remove(Tree::Records, key)?);
                tx.remove(Tree::Tokens, key)?;
                tx.remove(Tree::Pending, key)?;
            }
            Ok(())
        })?;
        self.metrics.deleted(removed);
        Ok(removed)
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

/// Writes `record` and its pending mark, which holds its token list until
/// the index thread merges it, in `tx`; whether a record with its id was
/// there (and is replaced).
pub(super) fn insert_record(tx: &mut dyn Writes, record: &Prepared) -> Result<bool> {
    let key = record.id.as_bytes().as_slice();
    let replaced = tx.insert(Tree::Records, key, &record.value)?;
    tx.insert(Tree::Pending, key, &record.tokens)?;
    Ok(replaced)
}

/// The record id that is the stored key `key`.
pub(super) fn record_id(key: &[u8]) -> Result<RecordId> {
    RecordId::from_slice(key).ok_or_else(|| {
        Error::storage(format!(
            "a stored key of {} bytes is not a record id",
            key.len()
        ))
    })
}

/// Opens the key-value database in the store folder `path`: the one there,
/// or a new one of `config.backend` (then `true`).
pub(super) fn open_kv(path: &Path, config: &StoreConfig) -> Result<(Box<dyn Kv>, bool)> {
    match Folder::inspect(path)? {
        Folder::Existing(backend) => Ok((kv::open(path, backend, config)?, false)),
        Folder::New if config.create_if_missing => {
            Ok((kv::open(path, config.backend, config)?, true))
        }
        Folder::New => Err(format_error(path, "no store here")),
    }
}

/// The [`Error::StoreFormat`] for `path`.
pub(crate) fn format_error(path: &Path, reason: &str) -> Error {
    Error::StoreFormat {
        path: path.to_path_buf(),
        reason: reason.to_string(),
        source: None,
    }
}
