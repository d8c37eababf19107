//! Many threads on one store at once.

mod store_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use store_support::{open, passphrase, sample};
use voiceflow_core::store::{Query, RecordId};

const WRITERS: usize = 20;
const RECORDS_PER_WRITER: usize = 1_000;

#[test]
fn twenty_writers_of_a_thousand_records_each_all_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path(), passphrase()));
    let writing = Arc::new(AtomicBool::new(true));

    // Readers list and search while the writers write.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, writing) = (Arc::clone(&store), Arc::clone(&writing));
            thread::spawn(move || {
                let mut rounds = 0;
                while writing.load(Ordering::Relaxed) {
                    let page = store.query(&Query::new().limit(20)).unwrap();
                    assert!(page.unreadable.is_empty());
                    for record in store.search("transcript", 10).unwrap() {
                        assert!(record.data.raw_text.starts_with("Transcript item"));
                    }
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                (0..RECORDS_PER_WRITER)
                    .map(|i| {
                        let n = writer * RECORDS_PER_WRITER + i;
                        (n, store.put(&sample(n)).unwrap())
                    })
                    .collect::<Vec<(usize, RecordId)>>()
            })
        })
        .collect();
    let written: Vec<(usize, RecordId)> = writers
        .into_iter()
        .flat_map(|writer| writer.join().unwrap())
        .collect();
    writing.store(false, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    store.flush().unwrap();

    let total = WRITERS * RECORDS_PER_WRITER;
    assert_eq!(written.len(), total);
    let unique: HashSet<RecordId> = written.iter().map(|(_, id)| *id).collect();
    assert_eq!(unique.len(), total, "ids must be unique");
    assert_eq!(store.count(), total);
    for (n, id) in &written {
        assert_eq!(store.get(id).unwrap().data, sample(*n), "record {n}");
    }
    let listed = store.query(&Query::new().limit(total + 1)).unwrap();
    assert_eq!(listed.records.len(), total);
    assert!(listed.unreadable.is_empty());
    assert_eq!(store.search("item12345", 5).unwrap().len(), 1);
}
