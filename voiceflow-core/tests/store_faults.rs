//! Bad input and damaged data: each gives a typed error, never garbage or a
//! panic, and a damaged record does not stop the others from reading.

mod store_support;

use std::path::Path;

use store_support::{config, open, passphrase, sample, with_raw_tree, META_TREE};
use voiceflow_core::store::{Query, RecordData, RecordId, Store, StoreConfig, StoreKey};
use voiceflow_core::Error;

/// A store at `path` holding `sample(0..n)`; returns the ids.
fn store_with(path: &Path, key: StoreKey, n: usize) -> Vec<RecordId> {
    let store = open(path, key);
    store
        .put_batch(&(0..n).map(sample).collect::<Vec<_>>())
        .unwrap()
}

/// The key of the store's metadata.
const META_KEY: &str = "voiceflow/meta";

fn open_error(path: &Path, key: StoreKey) -> Error {
    match Store::open(path, key, config()) {
        Ok(_) => panic!("the store opened"),
        Err(e) => e,
    }
}

#[test]
fn a_wrong_passphrase_or_key_fails_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let by_passphrase = dir.path().join("p");
    let by_key = dir.path().join("k");
    store_with(&by_passphrase, passphrase(), 1);
    store_with(&by_key, StoreKey::raw([1; 32]), 1);

    for (path, key) in [
        (
            &by_passphrase,
            StoreKey::passphrase("correct horse battery stable"),
        ),
        (&by_passphrase, StoreKey::raw([1; 32])),
        (&by_passphrase, StoreKey::unencrypted()),
        (&by_key, StoreKey::raw([2; 32])),
        (&by_key, StoreKey::passphrase("anything")),
    ] {
        let error = open_error(path, key);
        assert!(matches!(error, Error::WrongKey), "{error}");
    }
    assert!(matches!(
        open_error(&by_key, StoreKey::passphrase("")),
        Error::InvalidArgument(_)
    ));
    // The right keys still open them.
    assert_eq!(open(&by_passphrase, passphrase()).count(), 1);
    assert_eq!(open(&by_key, StoreKey::raw([1; 32])).count(), 1);
}

#[test]
fn a_key_given_to_an_unencrypted_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), StoreKey::unencrypted(), 1);
    let error = open_error(dir.path(), passphrase());
    assert!(matches!(error, Error::InvalidArgument(_)), "{error}");
}

#[test]
fn an_altered_record_fails_alone_with_an_integrity_error() {
    let dir = tempfile::tempdir().unwrap();
    let ids = store_with(dir.path(), passphrase(), 5);
    with_raw_tree(dir.path(), "records", |records| {
        let mut value = records.get(ids[2].as_bytes()).unwrap();
        let middle = value.len() / 2;
        value[middle] ^= 0x01;
        records.insert(ids[2].as_bytes(), value);
    });

    let store = open(dir.path(), passphrase());
    match store.get(&ids[2]) {
        Err(Error::Integrity { id }) => assert_eq!(id, ids[2].to_string()),
        other => panic!("expected an integrity error, got {other:?}"),
    }
    for n in [0, 1, 3, 4] {
        assert_eq!(store.get(&ids[n]).unwrap().data, sample(n));
    }
    let page = store.query(&Query::new()).unwrap();
    assert_eq!(page.records.len(), 4);
    assert_eq!(page.unreadable, [ids[2]]);
    let export = store.export_jsonl(dir.path().join("out.jsonl")).unwrap();
    assert_eq!((export.exported, export.unreadable), (4, vec![ids[2]]));
    // A damaged record can still be deleted, index entries included.
    store.delete(&ids[2]).unwrap();
    assert!(store.search("item2", 5).unwrap().is_empty());
}

#[test]
fn a_damaged_unencrypted_record_fails_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let ids = store_with(dir.path(), StoreKey::unencrypted(), 2);
    with_raw_tree(dir.path(), "records", |records| {
        let mut value = records.get(ids[0].as_bytes()).unwrap();
        let at = value.len() - 10;
        value[at] = value[at].wrapping_add(1);
        records.insert(ids[0].as_bytes(), value);
    });
    let store = open(dir.path(), StoreKey::unencrypted());
    assert!(matches!(store.get(&ids[0]), Err(Error::Integrity { .. })));
    assert_eq!(store.get(&ids[1]).unwrap().data, sample(1));
}

#[test]
fn a_value_moved_to_another_id_does_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let ids = store_with(dir.path(), passphrase(), 2);
    with_raw_tree(dir.path(), "records", |records| {
        let first = records.get(ids[0].as_bytes()).unwrap();
        records.insert(ids[1].as_bytes(), first);
    });
    let store = open(dir.path(), passphrase());
    assert!(store.get(&ids[0]).is_ok());
    assert!(matches!(store.get(&ids[1]), Err(Error::Integrity { .. })));
}

#[test]
fn paths_that_are_not_stores_are_refused() {
    let dir = tempfile::tempdir().unwrap();

    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();

    let foreign = dir.path().join("photos");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("cat.jpg"), [0xff, 0xd8]).unwrap();

    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("conf"), b"not a sled config").unwrap();
    std::fs::write(garbage.join("db"), vec![0x5a; 4096]).unwrap();

    let other_sled = dir.path().join("other-sled");
    with_raw_tree(&other_sled, META_TREE, |tree| {
        tree.insert("k", "v");
    });

    for path in [&file, &foreign, &garbage, &other_sled] {
        let error = open_error(path, passphrase());
        assert!(
            matches!(error, Error::StoreFormat { .. }),
            "{}: {error}",
            path.display()
        );
    }
    // Nothing was written into the foreign folder.
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);

    let missing = dir.path().join("missing");
    let no_create = StoreConfig {
        create_if_missing: false,
        ..config()
    };
    assert!(matches!(
        Store::open(&missing, passphrase(), no_create),
        Err(Error::StoreFormat { .. })
    ));
    assert!(!missing.exists());
}

#[test]
fn a_store_of_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), passphrase(), 1);
    with_raw_tree(dir.path(), META_TREE, |meta| {
        let bytes = meta.get(META_KEY).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        json["format"] = 2.into();
        json["protection"] = serde_json::json!({"mode": "something-new"});
        meta.insert(META_KEY, serde_json::to_vec(&json).unwrap());
    });
    match open_error(dir.path(), passphrase()) {
        Error::StoreFormat { reason, .. } => assert!(reason.contains("newer"), "{reason}"),
        other => panic!("expected a format error, got {other}"),
    }
}

#[test]
fn damaged_metadata_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), passphrase(), 1);
    with_raw_tree(dir.path(), META_TREE, |meta| {
        meta.insert(META_KEY, &b"{\"magic\": \"voiceflow-st"[..]);
    });
    assert!(matches!(
        open_error(dir.path(), passphrase()),
        Error::StoreFormat { .. }
    ));
}

#[test]
fn oversized_records_are_rejected_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 10_000;
    let store = Store::open(
        dir.path(),
        passphrase(),
        StoreConfig {
            max_record_bytes: limit,
            ..config()
        },
    )
    .unwrap();
    let big = RecordData {
        raw_text: "word ".repeat(3_000),
        ..Default::default()
    };
    match store.put(&big) {
        Err(Error::RecordTooLarge { size, limit: told }) => {
            assert_eq!(told, limit);
            assert!(size > limit);
        }
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    // A batch with one oversized record writes nothing.
    assert!(store.put_batch(&[sample(0), big]).is_err());
    assert_eq!(store.count(), 0);
    assert!(store.put(&sample(1)).is_ok());
}

#[test]
fn records_with_non_finite_numbers_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let mut data = sample(0);
    data.segments[0].no_speech_prob = f32::NAN;
    assert!(matches!(store.put(&data), Err(Error::InvalidArgument(_))));
    assert_eq!(store.count(), 0);
}

#[test]
fn a_store_open_elsewhere_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), passphrase());
    let error = open_error(dir.path(), passphrase());
    assert!(matches!(error, Error::Io { .. }), "{error}");
}

#[test]
fn a_refused_key_leaves_no_store_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let error = open_error(&path, StoreKey::passphrase(""));
    assert!(matches!(error, Error::InvalidArgument(_)), "{error}");
    // Nothing was created, so the folder still takes a new store.
    assert!(!path.exists() || std::fs::read_dir(&path).unwrap().next().is_none());
    assert_eq!(open(&path, passphrase()).count(), 0);
}
