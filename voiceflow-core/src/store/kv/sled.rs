//! The sled 0.34 backend: the engine of stores made by earlier versions.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::Transactional;

use super::{Backend, Body, Entry, Kv, Scan, Tree, Writes};
use crate::store::config::StoreConfig;
use crate::{Error, Result};

/// Whether a folder whose file names pass `has` holds a sled database.
pub(super) fn holds_database(has: &dyn Fn(&str) -> bool) -> bool {
    has("conf") && has("db")
}

/// A sled database and its trees, indexed by [`Tree::slot`] ([`Tree::Meta`]
/// is sled's default tree, where earlier versions kept the metadata).
pub(super) struct SledKv {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    /// Declared last so that it drops after sled's handles above.
    _release: LockRelease,
}

impl SledKv {
    /// Opens or creates the sled database in the folder `path`.
    pub(super) fn open(path: &Path, config: &StoreConfig) -> Result<Self> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(config.cache_capacity_bytes)
            .flush_every_ms(config.flush.background_interval_ms())
            .open()
            .map_err(|e| open_error(path, e))?;
        let trees = Tree::ALL
            .iter()
            .map(|tree| match tree {
                Tree::Meta => Ok((*db).clone()),
                other => db.open_tree(other.name()).map_err(storage_error),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SledKv {
            db,
            trees,
            _release: LockRelease {
                lock_file: path.join("db"),
            },
        })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.slot()]
    }
}

impl Kv for SledKv {
    fn backend(&self) -> Backend {
        Backend::Sled
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.tree(tree).get(key).map_err(storage_error)?;
        Ok(value.map(|value| value.to_vec()))
    }

    fn scan(&self, scan: &Scan<'_>) -> Result<Vec<Entry>> {
        let range = self
            .tree(scan.tree)
            .range::<&[u8], _>((scan.lower, scan.upper));
        super::collect_scan(range, scan, |entry| entry.map_err(storage_error))
    }

    fn len(&self, tree: Tree) -> Result<usize> {
        Ok(self.tree(tree).len())
    }

    fn write(&self, body: &mut Body<'_>) -> Result<()> {
        // `transaction` wants a `Fn`: the body runs (again, on a conflict)
        // behind this cell, only ever on this thread.
        let body = std::cell::RefCell::new(body);
        self.trees
            .as_slice()
            .transaction(|trees| {
                let mut writes = SledWrites {
                    trees,
                    failure: None,
                };
                let result = (body.borrow_mut())(&mut writes);
                match (result, writes.failure) {
                    (Ok(()), _) => Ok(()),
                    // A conflict (sled retries) or sled's own failure.
                    (Err(_), Some(failure)) => Err(failure.into()),
                    (Err(e), None) => Err(ConflictableTransactionError::Abort(e)),
                }
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => storage_error(e),
            })
    }

    fn clear(&self, tree: Tree) -> Result<()> {
        self.tree(tree).clear().map_err(storage_error)
    }

    fn flush(&self) -> Result<()> {
        self.db.flush().map_err(storage_error)?;
        Ok(())
    }
}

/// The trees of one sled transaction.
struct SledWrites<'t> {
    trees: &'t [TransactionalTree],
    /// The first failure of sled itself, which the transaction reports
    /// instead of the body's error (so that conflicts are retried).
    failure: Option<UnabortableTransactionError>,
}

impl SledWrites<'_> {
    /// Runs `op` on `tree`, keeping sled's failure for the transaction.
    fn on<T>(
        &mut self,
        tree: Tree,
        op: impl FnOnce(&TransactionalTree) -> std::result::Result<T, UnabortableTransactionError>,
    ) -> Result<T> {
        op(&self.trees[tree.slot()]).map_err(|e| {
            let error = Error::storage(format!("sled transaction failed: {e}"));
            self.failure.get_or_insert(e);
            error
        })
    }
}

impl Writes for SledWrites<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.on(tree, |t| t.get(key))?;
        Ok(value.map(|value| value.to_vec()))
    }

    fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool> {
        self.on(tree, |t| t.insert(key, value))
            .map(|old| old.is_some())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<bool> {
        self.on(tree, |t| t.remove(key)).map(|old| old.is_some())
    }
}

/// Waits, when the database is dropped, until sled's background I/O has
/// let go of the folder's lock (at most a second), so that a dropped store
/// can be opened again at once.
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

/// A sled failure while opening `path`.
fn open_error(path: &Path, error: sled::Error) -> Error {
    match error {
        sled::Error::Io(e) => Error::io(path, e),
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => Error::StoreFormat {
            path: path.to_path_buf(),
            reason: "unreadable sled database".to_string(),
            source: Some(error.into()),
        },
        other => storage_error(other),
    }
}

/// A sled failure during an operation.
fn storage_error(error: sled::Error) -> Error {
    Error::storage_from("sled reported an error", error)
}
