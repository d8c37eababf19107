//! The store's key-value layer: the few operations the store needs, over
//! two engines.
//!
//! - [redb](https://docs.rs/redb) (the default, [`Backend::Redb`]): one file,
//!   `store.redb`, in the store's folder. Copy-on-write B-trees with
//!   checksummed commit slots: a commit is all or nothing across every
//!   table, and a crash leaves the last durable commit.
//! - [sled](https://docs.rs/sled) 0.34 ([`Backend::Sled`]), the engine of
//!   earlier versions: the files `conf` and `db` (and more) in the folder.
//!   sled 0.34.7 can deadlock under sustained writes (a writer growing the
//!   file waits for a truncation queued in sled's I/O pool behind writes
//!   that wait for that writer); no 0.34 release has the fix. Kept so that
//!   existing stores open; [`Store::migrate`](super::Store::migrate) moves
//!   them to redb.
//!
//! A store's data lives in named trees ([`Tree`]). Writes go through
//! [`Kv::write`], one atomic transaction across trees. Writes are not
//! durable on their own: [`Kv::flush`] makes every write that returned
//! before it durable.

mod redb;
mod sled;

use std::ops::Bound;
use std::path::Path;

use super::config::StoreConfig;
use super::db::format_error;
use crate::Result;

/// The key-value engine of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// redb, crash-safe by design: the default for new stores.
    #[default]
    Redb,
    /// sled 0.34, the engine of stores made by earlier versions. Under
    /// sustained heavy writes it can deadlock (see the [store's
    /// docs](super#the-key-value-engine)); prefer redb for new stores.
    Sled,
}

impl Backend {
    /// The backend's name: `"redb"` or `"sled"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Redb => "redb",
            Backend::Sled => "sled",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = crate::Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "redb" => Ok(Backend::Redb),
            "sled" => Ok(Backend::Sled),
            other => Err(crate::Error::InvalidArgument(format!(
                "unknown store backend {other:?} (expected \"redb\" or \"sled\")"
            ))),
        }
    }
}

/// A named tree (a redb table, a sled tree) of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tree {
    /// The store's metadata (one key).
    Meta,
    /// Record id → sealed value.
    Records,
    /// Record id → the record's index tokens, concatenated (for records
    /// merged into the index).
    Tokens,
    /// Record id → the record's index tokens (or empty, when they are in
    /// [`Tree::Tokens`]), for records not merged into the index yet.
    Pending,
    /// `merge round ‖ token` → record ids.
    Chunks,
    /// Merge round → empty.
    Rounds,
}

impl Tree {
    /// Every tree, in the order of their [`Tree::slot`].
    pub(crate) const ALL: [Tree; 6] = [
        Tree::Meta,
        Tree::Records,
        Tree::Tokens,
        Tree::Pending,
        Tree::Chunks,
        Tree::Rounds,
    ];

    /// The tree's name on disk (sled keeps [`Tree::Meta`] in its default
    /// tree instead).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Records => "records",
            Tree::Tokens => "tokens",
            Tree::Pending => "pending",
            Tree::Chunks => "index",
            Tree::Rounds => "index-rounds",
        }
    }

    /// The tree's position in [`Tree::ALL`].
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// A key and its value (empty when a [`Scan`] asked for keys only).
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// The entries of a range as `scan` asks for them, whichever engine's
/// iterator holds them: reversed when asked, cut to the limit, values left
/// empty unless asked for. `bytes` reads one item's key and value.
pub(super) fn collect_scan<I, T, K, V>(
    range: I,
    scan: &Scan<'_>,
    bytes: impl Fn(T) -> Result<(K, V)>,
) -> Result<Vec<Entry>>
where
    I: DoubleEndedIterator<Item = T>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let entries: Box<dyn Iterator<Item = T>> = if scan.reverse {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    entries
        .take(scan.limit)
        .map(|item| {
            let (key, value) = bytes(item)?;
            let value = if scan.values {
                value.as_ref().to_vec()
            } else {
                Vec::new()
            };
            Ok((key.as_ref().to_vec(), value))
        })
        .collect()
}

/// An ordered read of a key range of one tree.
#[derive(Debug, Clone)]
pub(crate) struct Scan<'a> {
    pub(crate) tree: Tree,
    pub(crate) lower: Bound<&'a [u8]>,
    pub(crate) upper: Bound<&'a [u8]>,
    /// Descending key order instead of ascending.
    pub(crate) reverse: bool,
    /// The most entries returned.
    pub(crate) limit: usize,
    /// Whether values are read (else each entry's value is empty).
    pub(crate) values: bool,
}

impl<'a> Scan<'a> {
    /// Every key of `tree`, ascending, without values.
    pub(crate) fn keys(tree: Tree) -> Self {
        Scan {
            tree,
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            reverse: false,
            limit: usize::MAX,
            values: false,
        }
    }

    /// This scan over keys within `lower..upper`.
    pub(crate) fn within(self, lower: Bound<&'a [u8]>, upper: Bound<&'a [u8]>) -> Self {
        Scan {
            lower,
            upper,
            ..self
        }
    }

    /// This scan reading at most `limit` entries.
    pub(crate) fn take(self, limit: usize) -> Self {
        Scan { limit, ..self }
    }

    /// This scan in descending key order.
    pub(crate) fn rev(self) -> Self {
        Scan {
            reverse: true,
            ..self
        }
    }

    /// This scan reading values too.
    pub(crate) fn with_values(self) -> Self {
        Scan {
            values: true,
            ..self
        }
    }
}

/// The writes of one transaction.
pub(crate) trait Writes {
    /// The value of `key` in `tree`, as this transaction sees it.
    fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Sets `key` in `tree` to `value`; whether `key` held a value before.
    fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<bool>;
    /// Removes `key` from `tree`; whether it was there.
    fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<bool>;
}

/// The body of a transaction. It may run more than once (sled retries a
/// transaction that conflicted with another), so it must not keep effects
/// of a run that failed.
pub(crate) type Body<'b> = dyn FnMut(&mut dyn Writes) -> Result<()> + 'b;

/// An open key-value database: the operations the store uses.
pub(crate) trait Kv: Send + Sync {
    /// Which engine this is.
    fn backend(&self) -> Backend;
    /// The value of `key` in `tree`.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The entries `scan` selects, in its order.
    fn scan(&self, scan: &Scan<'_>) -> Result<Vec<Entry>>;
    /// How many keys `tree` holds.
    fn len(&self, tree: Tree) -> Result<usize>;
    /// Runs `body` as one atomic transaction: every write it made is kept,
    /// or none when it (or the commit) fails. Not durable before
    /// [`Kv::flush`].
    fn write(&self, body: &mut Body<'_>) -> Result<()>;
    /// Removes every key of `tree` (not atomic with other writes).
    fn clear(&self, tree: Tree) -> Result<()>;
    /// Makes every write that returned before this call durable.
    fn flush(&self) -> Result<()>;
}

/// What a store folder holds.
pub(crate) enum Folder {
    /// Nothing yet (missing or empty): a new store goes there.
    New,
    /// The files of a database of this backend.
    Existing(Backend),
}

impl Folder {
    /// Looks at the folder `path`: new, or which backend's files it holds.
    ///
    /// # Errors
    /// [`Error::StoreFormat`](crate::Error::StoreFormat) for a file, or a
    /// folder holding other files.
    pub(crate) fn inspect(path: &Path) -> Result<Folder> {
        let metadata = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Folder::New),
            other => other.map_err(|e| crate::Error::io(path, e))?,
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
            .map_err(|e| crate::Error::io(path, e))?;
        let has = |file: &str| names.iter().any(|name| name == file);
        match (redb::holds_database(&has), sled::holds_database(&has)) {
            _ if names.is_empty() => Ok(Folder::New),
            (true, false) => Ok(Folder::Existing(Backend::Redb)),
            (false, true) => Ok(Folder::Existing(Backend::Sled)),
            (true, true) => Err(format_error(
                path,
                "the folder holds both a redb and a sled database",
            )),
            (false, false) => Err(format_error(
                path,
                "not a VoiceFlow store (the folder holds other files)",
            )),
        }
    }
}

/// Opens (creating when `new`) the `backend` database in the folder `path`.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) when the files cannot be read or are
/// open in another process; [`Error::StoreFormat`](crate::Error::StoreFormat)
/// when they are not a readable database.
pub(crate) fn open(path: &Path, backend: Backend, config: &StoreConfig) -> Result<Box<dyn Kv>> {
    Ok(match backend {
        Backend::Redb => Box::new(redb::RedbKv::open(path, config)?),
        Backend::Sled => Box::new(sled::SledKv::open(path, config)?),
    })
}

/// The entries of `scan` (its limit is ignored), read lazily in batches.
pub(crate) fn entries<'k>(
    kv: &'k dyn Kv,
    scan: &Scan<'_>,
) -> impl Iterator<Item = Result<Entry>> + 'k {
    Batches {
        kv,
        tree: scan.tree,
        lower: owned(scan.lower),
        upper: owned(scan.upper),
        reverse: scan.reverse,
        values: scan.values,
        batch: Vec::new().into_iter(),
        done: false,
    }
}

/// Entries read per batch by [`entries`].
const BATCH: usize = 256;

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

/// The iterator of [`entries`].
struct Batches<'k> {
    kv: &'k dyn Kv,
    tree: Tree,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    reverse: bool,
    values: bool,
    batch: std::vec::IntoIter<Entry>,
    done: bool,
}

impl Batches<'_> {
    /// Reads the next batch; `false` at the end.
    fn refill(&mut self) -> Result<bool> {
        let scan = Scan {
            tree: self.tree,
            lower: self.lower.as_ref().map(Vec::as_slice),
            upper: self.upper.as_ref().map(Vec::as_slice),
            reverse: self.reverse,
            limit: BATCH,
            values: self.values,
        };
        let batch = self.kv.scan(&scan)?;
        self.done = batch.len() < BATCH;
        if let Some((last, _)) = batch.last() {
            let next = Bound::Excluded(last.clone());
            if self.reverse {
                self.upper = next;
            } else {
                self.lower = next;
            }
        }
        self.batch = batch.into_iter();
        Ok(self.batch.len() > 0)
    }
}

impl Iterator for Batches<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.batch.next() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        match self.refill() {
            Ok(true) => self.batch.next().map(Ok),
            Ok(false) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
