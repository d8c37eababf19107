//! Key rotation in one process: every record re-encrypted, the old key
//! retired, the index rebuilt. (Crashes during rotation: store_crash.rs.)

mod store_support;

use std::collections::HashMap;
use std::path::Path;

use store_support::{config, open, passphrase, sample, with_raw_tree};
use voiceflow_core::store::{Store, StoreKey};
use voiceflow_core::Error;

/// The raw stored values of the closed store at `path`, by key.
fn raw_values(path: &Path) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut values = HashMap::new();
    with_raw_tree(path, "records", |records| {
        for (key, value) in records.iter() {
            values.insert(key.to_vec(), value.to_vec());
        }
    });
    values
}

#[test]
fn rotation_re_encrypts_everything_and_retires_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600; // more than two rotation batches
    let ids = {
        let store = open(dir.path(), passphrase());
        store
            .put_batch(&(0..n).map(sample).collect::<Vec<_>>())
            .unwrap()
    };
    let before = raw_values(dir.path());

    let new_key = || StoreKey::passphrase("a brand new passphrase");
    let mut progress = Vec::new();
    {
        let mut store = open(dir.path(), passphrase());
        let report = store
            .rotate_key_with_progress(new_key(), |done, total| progress.push((done, total)))
            .unwrap();
        assert_eq!(report.reencrypted, n);
        assert!(report.unreadable.is_empty());
        // The same handle goes on working under the new key.
        assert_eq!(store.get(&ids[5]).unwrap().data, sample(5));
        let id = store.put(&sample(n)).unwrap();
        assert_eq!(store.search(&format!("item{n}"), 1).unwrap()[0].id, id);
    }
    assert_eq!(progress.first(), Some(&(256, n)));
    assert_eq!(progress.last(), Some(&(n, n)));

    let after = raw_values(dir.path());
    for (key, value) in &before {
        assert_ne!(&after[key], value, "every value must be sealed anew");
    }
    assert!(matches!(
        Store::open(dir.path(), passphrase(), config()),
        Err(Error::WrongKey)
    ));
    let store = open(dir.path(), new_key());
    assert_eq!(store.count(), n + 1);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(store.get(id).unwrap().data, sample(i));
    }
    assert_eq!(store.search("item123", 5).unwrap()[0].id, ids[123]);
    assert_eq!(store.search("transcript", 1000).unwrap().len(), n + 1);
}

#[test]
fn rotation_works_between_key_kinds_and_repeatedly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), StoreKey::raw([1; 32]));
    let id = store.put(&sample(1)).unwrap();
    store.rotate_key(passphrase()).unwrap();
    store.rotate_key(StoreKey::raw([2; 32])).unwrap();
    drop(store);
    for old in [StoreKey::raw([1; 32]), passphrase()] {
        assert!(matches!(
            Store::open(dir.path(), old, config()),
            Err(Error::WrongKey)
        ));
    }
    let store = open(dir.path(), StoreKey::raw([2; 32]));
    assert_eq!(store.get(&id).unwrap().data, sample(1));
    assert_eq!(store.search("item1", 1).unwrap().len(), 1);
}

#[test]
fn a_damaged_record_is_reported_and_the_rest_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let ids = {
        let store = open(dir.path(), passphrase());
        store
            .put_batch(&(0..3).map(sample).collect::<Vec<_>>())
            .unwrap()
    };
    with_raw_tree(dir.path(), "records", |records| {
        let mut value = records.get(ids[1].as_bytes()).unwrap();
        let last = value.len() - 1;
        value[last] ^= 0x40;
        records.insert(ids[1].as_bytes(), value);
    });
    let mut store = open(dir.path(), passphrase());
    let report = store.rotate_key(StoreKey::raw([5; 32])).unwrap();
    assert_eq!(report.reencrypted, 2);
    assert_eq!(report.unreadable, [ids[1]]);
    assert!(matches!(store.get(&ids[1]), Err(Error::Integrity { .. })));
    assert_eq!(store.get(&ids[2]).unwrap().data, sample(2));
}

#[test]
fn unencrypted_stores_and_keys_cannot_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = open(&dir.path().join("plain"), StoreKey::unencrypted());
    assert!(matches!(
        plain.rotate_key(passphrase()),
        Err(Error::InvalidArgument(_))
    ));
    let mut encrypted = open(&dir.path().join("enc"), passphrase());
    assert!(matches!(
        encrypted.rotate_key(StoreKey::unencrypted()),
        Err(Error::InvalidArgument(_))
    ));
    drop(encrypted);
    assert!(Store::open(dir.path().join("enc"), passphrase(), config()).is_ok());
}
