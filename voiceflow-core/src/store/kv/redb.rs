//! The redb backend, the default: one file, `store.redb`, in the store's
//! folder.
//!
//! Every write is one redb write transaction committed with
//! [`Durability::None`]: atomic and isolated, but not synced, so that
//! single puts do not each wait for the disk. [`Kv::flush`] commits with
//! [`Durability::Immediate`], which makes it and every commit before it
//! durable. After a crash, redb opens at the last durable commit: a write
//! is kept whole or not at all. Under [`FlushPolicy::Periodic`] a
//! background thread flushes at the interval when something was written.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ::redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    StorageError, Table, TableDefinition, WriteTransaction,
};
use crossbeam::channel::{self, RecvTimeoutError, Sender};

use super::{Backend, Body, Entry, Kv, Scan, Tree, Writes};
use crate::store::config::{FlushPolicy, StoreConfig};
use crate::{Error, Result};

/// The database file in a store's folder.
const FILE: &str = "store.redb";

/// Whether a folder whose file names pass `has` holds a redb database.
pub(super) fn holds_database(has: &dyn Fn(&str) -> bool) -> bool {
    has(FILE)
}

/// The table of `tree`: byte-string keys and values.
fn table(tree: Tree) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(tree.name())
}

/// The redb database of a store, shared with its flusher thread.
struct Shared {
    db: Database,
    /// Whether something was committed since the last flush.
    dirty: AtomicBool,
}

impl Shared {
    /// Commits an empty transaction durably: every commit before it
    /// becomes durable too.
    fn flush(&self) -> Result<()> {
        let dirty = self.dirty.swap(false, Ordering::AcqRel);
        let result = (|| {
            let mut txn = self.db.begin_write().map_err(storage_error)?;
            txn.set_durability(Durability::Immediate)
                .map_err(storage_error)?;
            txn.commit().map_err(storage_error)
        })();
        if result.is_err() && dirty {
            self.dirty.store(true, Ordering::Release);
        }
        result
    }
}

/// An open redb store database.
pub(super) struct RedbKv {
    shared: Arc<Shared>,
    /// Stops the background flusher when dropped.
    stop: Option<Sender<()>>,
    flusher: Option<JoinHandle<()>>,
}

impl RedbKv {
    /// Opens or creates the database in the folder `path` (creating the
    /// folder), with every table the store uses.
    pub(super) fn open(path: &Path, config: &StoreConfig) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let file = path.join(FILE);
        let db = Database::builder()
            .set_cache_size(usize::try_from(config.cache_capacity_bytes).unwrap_or(usize::MAX))
            .create(&file)
            .map_err(|e| open_error(&file, e))?;
        let txn = db.begin_write().map_err(storage_error)?;
        for tree in Tree::ALL {
            txn.open_table(table(tree)).map_err(storage_error)?;
        }
        txn.commit().map_err(storage_error)?;
        let shared = Arc::new(Shared {
            db,
            dirty: AtomicBool::new(false),
        });
        let mut kv = RedbKv {
            shared,
            stop: None,
            flusher: None,
        };
        if let FlushPolicy::Periodic(every) = config.flush {
            kv.start_flusher(every)?;
        }
        Ok(kv)
    }

    /// Starts the thread that flushes every `every` when something was
    /// written.
    fn start_flusher(&mut self, every: Duration) -> Result<()> {
        let (stop, stopped) = channel::bounded::<()>(0);
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("voiceflow-store-flush".into())
            .spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {
                        if shared.dirty.load(Ordering::Acquire) {
                            // A failure leaves the writes dirty: the next
                            // round, or the next explicit flush (which
                            // reports it), tries again.
                            let _ = shared.flush();
                        }
                    }
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            })
            .map_err(|e| Error::storage_from("cannot start the store's flush thread", e))?;
        self.stop = Some(stop);
        self.flusher = Some(thread);
        Ok(())
    }

    /// A write transaction that commits without syncing.
    fn begin(&self) -> Result<WriteTransaction> {
        let mut txn = self.shared.db.begin_write().map_err(storage_error)?;
        txn.set_durability(Durability::None)
            .map_err(storage_error)?;
        Ok(txn)
    }

    /// The committed value of every read below, from one read transaction.
    fn read<T>(
        &self,
        tree: Tree,
        read: impl FnOnce(&::redb::ReadOnlyTable<&'static [u8], &'static [u8]>) -> Result<T>,
    ) -> Result<T> {
        let txn = self.shared.db.begin_read().map_err(storage_error)?;
        let table = txn.open_table(table(tree)).map_err(storage_error)?;
        read(&table)
    }
}

impl Drop for RedbKv {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.flusher.take() {
            let _ = thread.join();
        }
        // Dropping the store flushes; there is no caller to report to.
        let _ = self.shared.flush();
    }
}

impl Kv for RedbKv {
    fn backend(&self) -> Backend {
        Backend::Redb
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read(tree, |table| {
            let value = table.get(key).map_err(storage_error)?;
            Ok(value.map(|value| value.value().to_vec()))
        })
    }

    fn scan(&self, scan: &Scan<'_>) -> Result<Vec<Entry>> {
        self.read(scan.tree, |table| {
            let range = table
                .range::<&[u8]>((scan.lower, scan.upper))
                .map_err(storage_error)?;
            super::collect_scan(range, scan, |entry| {
                let (key, value) = entry.map_err(storage_error)?;
                // Only copied out when the scan wants values.
                let value = if scan.values {
                    value.value().to_vec()
                } else {
                    Vec::new()
                };
                Ok((key.value().to_vec(), value))
            })
        })
    }

    fn len(&self, tree: Tree) -> Result<usize> {
        self.read(tree, |table| {
            let len = table.len().map_err(storage_error)?;
            Ok(usize::try_from(len).unwrap_or(usize::MAX))
        })
    }

    fn write(&self, body: &mut Body<'_>) -> Result<()> {
        let txn = self.begin()?;
        {
            let mut writes = RedbWrites {
                txn: &txn,
                tables: Default::default(),
            };
            // On an error, dropping `txn` uncommitted aborts it.
            body(&mut writes)?;
        }
        txn.commit().map_err(storage_error)?;
        self.shared.dirty.store(true, Ordering::Release);
        Ok(())
    }

    fn clear(&self, tree: Tree) -> Result<()> {
        let txn = self.begin()?;
        txn.delete_table(table(tree)).map_err(storage_error)?;
        txn.open_table(table(tree)).map_err(storage_error)?;
        txn.commit().map_err(storage_error)?;
        self.shared.dirty.store(true, Ordering::Release);
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.shared.flush()
    }
}

/// The tables of one write transaction, opened when first used.
struct RedbWrites<'t> {
    txn: &'t WriteTransaction,
    tables: [Option<Table<'t, &'static [u8], &'static [u8]>>; Tree::ALL.len()],
}

impl<'t> RedbWrites<'t> {
    fn table(&mut self, tree: Tree) -> Result<&mut Table<'t, &'static [u8], &'static [u8]>> {
        let slot = &mut self.tables[tree.slot()];
        if slot.is_none() {
            *slot = Some(self.txn.open_table(table(tree)).map_err(storage_error)?);
        }
        Ok(slot.as_mut().expect("the table was just opened"))
    }
}

impl Writes for RedbWrites<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.table(tree)?.get(key).map_err(storage_error)?;
        Ok(value.map(|value| value.value().to_vec()))
    }

    fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool> {
        let old = self
            .table(tree)?
            .insert(key, value)
            .map_err(storage_error)?;
        Ok(old.is_some())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<bool> {
        let old = self.table(tree)?.remove(key).map_err(storage_error)?;
        Ok(old.is_some())
    }
}

/// A redb failure while opening the database file `file`.
fn open_error(file: &Path, error: DatabaseError) -> Error {
    let unreadable = |error: DatabaseError| Error::StoreFormat {
        path: file.to_path_buf(),
        reason: "unreadable redb database".to_string(),
        source: Some(error.into()),
    };
    match error {
        DatabaseError::DatabaseAlreadyOpen => Error::io(
            file,
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "the store is open elsewhere (in this or another process)",
            ),
        ),
        DatabaseError::Storage(StorageError::Io(e)) => Error::io(file, e),
        error @ (DatabaseError::Storage(StorageError::Corrupted(_))
        | DatabaseError::UpgradeRequired(_)) => unreadable(error),
        other => storage_error(other),
    }
}

/// A redb failure during an operation.
fn storage_error(error: impl Into<::redb::Error>) -> Error {
    Error::storage_from("redb reported an error", error.into())
}
