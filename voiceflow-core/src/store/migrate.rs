//! Moving a store to another key-value engine (from sled to redb, say)
//! without its key: the stored bytes are copied as they are.

use std::path::Path;

use super::config::{FlushPolicy, StoreConfig};
use super::db::{format_error, Store};
use super::kv::{self, Backend, Folder, Kv, Scan, Tree};
use super::meta;
use crate::{Error, Result};

/// Keys copied per transaction.
const COPY_BATCH: usize = 1024;

/// What [`Store::migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// The engine of the source store.
    pub from: Backend,
    /// The engine of the new store.
    pub to: Backend,
    /// Records copied.
    pub records: usize,
    /// Keys copied in all (records, index entries, metadata).
    pub keys: usize,
}

impl Store {
    /// Copies the closed store in the folder `from` into a new store in the
    /// folder `to` (missing or empty) kept in `backend`: for example a store
    /// made with sled by an earlier version into redb.
    ///
    /// Needs no key: records, index and metadata are copied byte for byte
    /// (sealed values stay sealed, and the same key opens the new store).
    /// The source is only read. The metadata is copied last and made
    /// durable, after every other key, and every tree's number of keys is
    /// checked; a migration cut short leaves a target without metadata,
    /// which does not open as a store: delete it and migrate again.
    ///
    /// # Errors
    /// [`Error::StoreFormat`] when `from` is not a store (or has a newer
    /// format) or `to` holds files; [`Error::Io`] when either is open
    /// elsewhere; [`Error::Storage`] when a copied tree's size differs.
    pub fn migrate(
        from: impl AsRef<Path>,
        to: impl AsRef<Path>,
        backend: Backend,
    ) -> Result<MigrationReport> {
        let (from, to) = (from.as_ref(), to.as_ref());
        let config = StoreConfig {
            flush: FlushPolicy::Manual,
            ..StoreConfig::default()
        };
        let Folder::Existing(source_backend) = Folder::inspect(from)? else {
            return Err(format_error(from, "no store here"));
        };
        if !matches!(Folder::inspect(to)?, Folder::New) {
            return Err(format_error(
                to,
                "the migration's target must be a missing or empty folder",
            ));
        }
        let source = kv::open(from, source_backend, &config)?;
        if meta::read(&*source, from)?.is_none() {
            return Err(format_error(
                from,
                &format!("a {source_backend} database without VoiceFlow metadata"),
            ));
        }
        let target = kv::open(to, backend, &config)?;
        let mut keys = 0;
        let trees = Tree::ALL.iter().filter(|tree| **tree != Tree::Meta);
        for tree in trees.chain(&[Tree::Meta]) {
            keys += copy_tree(&*source, &*target, *tree)?;
            if *tree != Tree::Meta {
                target.flush()?;
            }
        }
        target.flush()?;
        Ok(MigrationReport {
            from: source_backend,
            to: backend,
            records: target.len(Tree::Records)?,
            keys,
        })
    }
}

/// Copies every key of `tree` from `source` to `target`; how many there
/// were, checked against both trees' sizes.
fn copy_tree(source: &dyn Kv, target: &dyn Kv, tree: Tree) -> Result<usize> {
    let mut entries = kv::entries(source, &Scan::keys(tree).with_values()).peekable();
    let mut copied = 0;
    while entries.peek().is_some() {
        let batch = entries
            .by_ref()
            .take(COPY_BATCH)
            .collect::<Result<Vec<_>>>()?;
        target.write(&mut |tx| {
            batch
                .iter()
                .try_for_each(|(key, value)| tx.insert(tree, key, value).map(drop))
        })?;
        copied += batch.len();
    }
    let (had, has) = (source.len(tree)?, target.len(tree)?);
    if had != copied || has != copied {
        return Err(Error::storage(format!(
            "migrating the {} tree: {had} keys in the source, {copied} copied, {has} in the target",
            tree.name()
        )));
    }
    Ok(copied)
}
