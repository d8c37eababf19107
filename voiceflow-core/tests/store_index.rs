//! The blind index over many records: merged in rounds, kept exact across
//! deletions and reopening, and free of deleted records.

mod store_support;

use store_support::{contains, open, passphrase, sample, with_raw_tree};
use voiceflow_core::store::Query;
use voiceflow_core::Context;

const RECORDS: usize = 2_500; // more than two merge rounds of 1,024

#[test]
fn search_stays_exact_over_merge_rounds_deletions_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<_> = (0..RECORDS).map(sample).collect();
    let ids = {
        let store = open(dir.path(), passphrase());
        let ids: Vec<_> = data
            .chunks(700)
            .flat_map(|chunk| store.put_batch(chunk).unwrap())
            .collect();
        assert_eq!(
            store.search("quarterly", RECORDS + 1).unwrap().len(),
            RECORDS
        );
        for n in [0, 1023, 1024, 2047, 2048, RECORDS - 1] {
            let hits = store.search(&format!("item{n}"), 5).unwrap();
            assert_eq!(hits.len(), 1, "item{n}");
            assert_eq!(hits[0].id, ids[n]);
        }
        for n in (0..RECORDS).step_by(10) {
            store.delete(&ids[n]).unwrap();
        }
        ids
    };

    let store = open(dir.path(), passphrase());
    let left = RECORDS - RECORDS / 10;
    assert_eq!(store.search("quarterly", RECORDS).unwrap().len(), left);
    assert!(store.search("item1000", 5).unwrap().is_empty());
    assert_eq!(store.search("item1001", 5).unwrap()[0].id, ids[1001]);
    // Context filter over the index: a third of the records are e-mails.
    let emails = store
        .query(&Query::new().context(Context::Email).limit(RECORDS))
        .unwrap();
    let expected = (0..RECORDS).filter(|n| n % 3 == 1 && n % 10 != 0).count();
    assert_eq!(emails.records.len(), expected);
}

#[test]
fn a_deleted_record_leaves_nothing_in_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, deleted) = {
        let store = open(dir.path(), passphrase());
        // More records pending than a search reads one by one: the search
        // merges them all into the index first. Then one is deleted.
        let data: Vec<_> = (0..4_200).map(sample).collect();
        let ids: Vec<_> = data
            .chunks(700)
            .flat_map(|chunk| store.put_batch(chunk).unwrap())
            .collect();
        assert_eq!(store.search("item1", 5).unwrap().len(), 1);
        store.delete(&ids[1]).unwrap();
        assert!(store.search("item1", 5).unwrap().is_empty());
        (ids[0], ids[1])
    };
    for name in ["records", "tokens", "pending", "index"] {
        with_raw_tree(dir.path(), name, |tree| {
            let mut bytes = Vec::new();
            for (key, value) in tree.iter() {
                bytes.extend_from_slice(key);
                bytes.extend_from_slice(value);
            }
            assert!(
                !contains(&bytes, deleted.as_bytes()),
                "{name} holds the deleted id"
            );
            if name != "pending" {
                assert!(contains(&bytes, kept.as_bytes()), "{name} lost the kept id");
            }
        });
    }
}
