//! The store's everyday behaviour: records in and out, listing, search,
//! deletion, retention, export/import, and what reaches the disk.

mod store_support;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use store_support::{all_file_bytes, contains, open, passphrase, sample, sample_number};
use voiceflow_core::store::{Context, Query, RecordContext, RecordData, Store, StoreKey};
use voiceflow_core::Error;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn store_is_send_and_sync() {
    assert_send_sync::<Store>();
}

#[test]
fn a_record_reads_back_with_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let data = sample(7);
    let before = SystemTime::now();
    let id = store.put(&data).unwrap();
    let record = store.get(&id).unwrap();
    assert_eq!(record.data, data);
    assert_eq!(record.id, id);
    assert_eq!(record.created_at_ms, id.created_at_ms());
    let created = SystemTime::UNIX_EPOCH + Duration::from_millis(record.created_at_ms);
    assert!(created + Duration::from_millis(1) >= before && created <= SystemTime::now());
    assert!(matches!(
        store.get(&"0".repeat(32).parse().unwrap()),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn records_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let ids = {
        let store = open(dir.path(), passphrase());
        store
            .put_batch(&(0..10).map(sample).collect::<Vec<_>>())
            .unwrap()
    };
    let store = open(dir.path(), passphrase());
    assert_eq!(store.count(), 10);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(store.get(id).unwrap().data, sample(n));
    }
}

#[test]
fn listing_is_newest_first_and_pages_cover_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let mut ids = store
        .put_batch(&(0..23).map(sample).collect::<Vec<_>>())
        .unwrap();
    ids.reverse();

    let mut listed = Vec::new();
    let mut query = Query::new().limit(5);
    loop {
        let page = store.query(&query).unwrap();
        assert!(page.records.len() <= 5 && page.unreadable.is_empty());
        listed.extend(page.records.iter().map(|record| record.id));
        match page.next {
            Some(cursor) => query = query.after(cursor.to_string().parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(listed, ids);
    assert!(matches!(
        store.query(&Query::new().limit(0)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn time_ranges_select_by_creation_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let day = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    let ages = [10, 5, 3, 1];
    let ids: Vec<_> = ages
        .iter()
        .enumerate()
        .map(|(n, age)| store.put_at(&sample(n), now - day * *age).unwrap())
        .collect();

    let page = store
        .query(&Query::new().since(now - day * 6).until(now - day * 2))
        .unwrap();
    let found: Vec<_> = page.records.iter().map(|record| record.id).collect();
    assert_eq!(found, [ids[2], ids[1]]);

    let recent = store.query(&Query::new().since(now - day * 2)).unwrap();
    assert_eq!(recent.records.len(), 1);
    assert_eq!(recent.records[0].id, ids[3]);
}

#[test]
fn context_filter_returns_only_that_context() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    store
        .put_batch(&(0..12).map(sample).collect::<Vec<_>>())
        .unwrap();
    let custom = RecordData {
        context: RecordContext::Custom("standup".into()),
        raw_text: "yesterday I fixed the build".into(),
        ..Default::default()
    };
    let custom_id = store.put(&custom).unwrap();

    let emails = store.query(&Query::new().context(Context::Email)).unwrap();
    let numbers: Vec<usize> = emails
        .records
        .iter()
        .map(|r| sample_number(&r.data))
        .collect();
    assert_eq!(numbers, [10, 7, 4, 1]);

    let standup = store
        .query(&Query::new().context(RecordContext::from_label("standup")))
        .unwrap();
    assert_eq!(standup.records.len(), 1);
    assert_eq!(standup.records[0].id, custom_id);

    let email_page = store
        .query(&Query::new().context(Context::Email).limit(3))
        .unwrap();
    let rest = store
        .query(
            &Query::new()
                .context(Context::Email)
                .after(email_page.next.unwrap()),
        )
        .unwrap();
    assert_eq!(email_page.records.len() + rest.records.len(), 4);
}

#[test]
fn keyword_search_needs_every_word_and_ignores_case_and_punctuation() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let ids = store
        .put_batch(&(0..6).map(sample).collect::<Vec<_>>())
        .unwrap();
    let meeting = store
        .put(&RecordData {
            raw_text: "the budget meeting moves".into(),
            enhanced_text: Some("The budget meeting moves to Friday.".into()),
            ..Default::default()
        })
        .unwrap();

    let hits = store.search("ITEM3", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, ids[3]);

    // "friday" appears in every record; "budget" only in one.
    assert_eq!(store.search("friday", 100).unwrap().len(), 7);
    let both: Vec<_> = store
        .search("Budget, friday!", 10)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(both, [meeting]);
    assert!(store.search("budget item3", 10).unwrap().is_empty());
    assert!(store.search("nonexistent", 10).unwrap().is_empty());

    // Words and context combine; the newest hits come first.
    let chats = store
        .query(&Query::new().words("transcript").context(Context::Chat))
        .unwrap();
    let numbers: Vec<usize> = chats
        .records
        .iter()
        .map(|r| sample_number(&r.data))
        .collect();
    assert_eq!(numbers, [5, 2]);

    assert!(matches!(
        store.search(" ,.;", 10),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn deleting_removes_the_record_and_its_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let ids = store
        .put_batch(&(0..3).map(sample).collect::<Vec<_>>())
        .unwrap();
    store.delete(&ids[1]).unwrap();
    assert_eq!(store.count(), 2);
    assert!(matches!(store.get(&ids[1]), Err(Error::NotFound(_))));
    assert!(store.search("item1", 10).unwrap().is_empty());
    assert_eq!(store.search("transcript", 10).unwrap().len(), 2);
    assert!(matches!(store.delete(&ids[1]), Err(Error::NotFound(_))));
}

#[test]
fn retention_deletes_only_records_older_than_the_age() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let day = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    for (n, age) in [40, 31, 29, 2].iter().enumerate() {
        store.put_at(&sample(n), now - day * *age).unwrap();
    }
    let fresh = store.put(&sample(4)).unwrap();
    assert_eq!(store.delete_older_than(day * 30).unwrap(), 2);
    assert_eq!(store.count(), 3);
    let left: HashSet<usize> = store
        .query(&Query::new())
        .unwrap()
        .records
        .iter()
        .map(|r| sample_number(&r.data))
        .collect();
    assert_eq!(left, HashSet::from([2, 3, 4]));
    assert!(store.search("item0", 10).unwrap().is_empty());
    assert_eq!(store.delete_older_than(day * 30).unwrap(), 0);
    assert!(store.get(&fresh).is_ok());
}

#[test]
fn export_then_import_into_another_store_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let source = open(&dir.path().join("a"), passphrase());
    let ids = source
        .put_batch(&(0..20).map(sample).collect::<Vec<_>>())
        .unwrap();
    let file = dir.path().join("export.jsonl");
    let exported = source.export_jsonl(&file).unwrap();
    assert_eq!(exported.exported, 20);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 20);
    assert!(text.lines().next().unwrap().contains(&ids[0].to_string()));

    let target = open(&dir.path().join("b"), StoreKey::raw([9; 32]));
    let report = target.import_jsonl(&file).unwrap();
    assert_eq!((report.imported, report.skipped), (20, 0));
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            target.get(id).unwrap(),
            source.get(id).unwrap(),
            "record {n}"
        );
    }
    assert_eq!(target.search("item12", 5).unwrap()[0].id, ids[12]);

    let again = target.import_jsonl(&file).unwrap();
    assert_eq!((again.imported, again.skipped), (0, 20));
    assert_eq!(target.count(), 20);
}

#[test]
fn import_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("s"), passphrase());
    let file = dir.path().join("bad.jsonl");
    std::fs::write(&file, "\n{\"id\": \"zz\"}\n").unwrap();
    let Err(Error::InvalidArgument(message)) = store.import_jsonl(&file) else {
        panic!("a bad line was accepted");
    };
    assert!(message.contains("bad.jsonl:2"), "{message}");
    assert_eq!(store.count(), 0);
}

#[test]
fn encrypted_files_hold_no_plaintext_while_unencrypted_ones_do() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "zanzibarquokka";
    let data = RecordData {
        raw_text: format!("the secret word is {marker}"),
        metadata: [("client".to_string(), "Acme Anvils".to_string())].into(),
        ..Default::default()
    };
    for (name, key, readable) in [
        ("encrypted", passphrase(), false),
        ("plain", StoreKey::unencrypted(), true),
    ] {
        let path = dir.path().join(name);
        {
            let store = open(&path, key);
            assert_eq!(store.is_encrypted(), !readable);
            let id = store.put(&data).unwrap();
            store.flush().unwrap();
            assert_eq!(store.get(&id).unwrap().data, data);
            assert_eq!(store.search(marker, 1).unwrap().len(), 1);
        }
        let bytes = all_file_bytes(&path);
        assert_eq!(contains(&bytes, marker.as_bytes()), readable, "{name}");
        assert_eq!(contains(&bytes, b"Acme Anvils"), readable, "{name}");
    }
}
