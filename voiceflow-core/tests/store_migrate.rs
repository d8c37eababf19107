//! The key-value engines: a sled store (as earlier versions made) keeps
//! opening whatever the configured backend, and `Store::migrate` moves it
//! to redb and back without its key.

mod store_support;

use std::path::Path;

use store_support::{open, passphrase, sample, FAST_KDF};
use voiceflow_core::store::{Backend, Query, RecordId, Store, StoreConfig};
use voiceflow_core::Error;

fn config(backend: Backend) -> StoreConfig {
    StoreConfig {
        kdf: FAST_KDF,
        backend,
        ..StoreConfig::default()
    }
}

/// A store of `n` records on `backend`, a few deleted; the ids kept.
fn fill(path: &Path, backend: Backend, n: usize) -> Vec<RecordId> {
    let store = Store::open(path, passphrase(), config(backend)).unwrap();
    let data: Vec<_> = (0..n).map(sample).collect();
    let mut ids: Vec<_> = data
        .chunks(500)
        .flat_map(|chunk| store.put_batch(chunk).unwrap())
        .collect();
    // Enough records for merge rounds in the index; then deletions.
    assert_eq!(store.search("item7", 5).unwrap().len(), 1);
    for id in ids.drain(..3) {
        store.delete(&id).unwrap();
    }
    store.flush().unwrap();
    assert_eq!(store.backend(), backend);
    ids
}

fn assert_holds(store: &Store, ids: &[RecordId]) {
    assert_eq!(store.count(), ids.len());
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(store.get(id).unwrap().data, sample(n + 3));
    }
    assert_eq!(store.search("item1234", 5).unwrap().len(), 1);
    assert!(
        store.search("item1", 5).unwrap().is_empty(),
        "item1 was deleted"
    );
    let page = store.query(&Query::new().limit(10)).unwrap();
    assert_eq!(page.records[0].id, *ids.last().unwrap());
}

#[test]
fn an_existing_sled_store_opens_whatever_the_configured_backend() {
    let dir = tempfile::tempdir().unwrap();
    let ids = fill(dir.path(), Backend::Sled, 1_500);
    let store = Store::open(dir.path(), passphrase(), config(Backend::Redb)).unwrap();
    assert_eq!(store.backend(), Backend::Sled);
    assert_holds(&store, &ids);
}

#[test]
fn a_sled_store_migrates_to_redb_and_back_with_every_record_and_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let (sled, redb, back) = (
        dir.path().join("sled"),
        dir.path().join("redb"),
        dir.path().join("back"),
    );
    let ids = fill(&sled, Backend::Sled, 2_500);

    let report = Store::migrate(&sled, &redb, Backend::Redb).unwrap();
    assert_eq!((report.from, report.to), (Backend::Sled, Backend::Redb));
    assert_eq!(report.records, ids.len());
    assert!(report.keys > 2 * ids.len(), "{report:?}");
    {
        let store = open(&redb, passphrase());
        assert_eq!(store.backend(), Backend::Redb);
        assert_holds(&store, &ids);
        // The migrated store takes writes and deletions.
        let id = store.put(&sample(99_999)).unwrap();
        store.delete(&ids[0]).unwrap();
        assert_eq!(store.search("item99999", 5).unwrap()[0].id, id);
    }
    // The source is untouched.
    assert_holds(&open(&sled, passphrase()), &ids);

    Store::migrate(&redb, &back, Backend::Sled).unwrap();
    let store = open(&back, passphrase());
    assert_eq!(store.backend(), Backend::Sled);
    assert_eq!(store.count(), ids.len());
}

#[test]
fn migration_needs_a_store_and_an_empty_target_and_keeps_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    fill(&source, Backend::Sled, 10);
    let missing = dir.path().join("missing");
    assert!(matches!(
        Store::migrate(&missing, &target, Backend::Redb),
        Err(Error::StoreFormat { .. })
    ));
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        Store::migrate(&source, &target, Backend::Redb),
        Err(Error::StoreFormat { .. })
    ));
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);

    let fresh = dir.path().join("fresh");
    Store::migrate(&source, &fresh, Backend::Redb).unwrap();
    let wrong = Store::open(
        &fresh,
        voiceflow_core::store::StoreKey::passphrase("wrong"),
        config(Backend::Redb),
    );
    assert!(matches!(wrong, Err(Error::WrongKey)), "{:?}", wrong.err());
}
