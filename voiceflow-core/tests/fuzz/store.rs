//! Store queries with arbitrary time ranges, limits, words, contexts and
//! cursors, against the same question asked of the records in memory.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use tempfile::TempDir;
use voiceflow_core::store::{
    Cursor, Query, RecordContext, RecordData, RecordId, Store, StoreConfig, StoreKey,
};
use voiceflow_core::Error;

use super::{cases, DEFAULT_CASES};

const WORDS: &[&str] = &["apple", "river", "Blue", "stone", "café", "over", "x"];
const LABELS: &[&str] = &["email", "chat", "meeting notes", "code"];
/// The records' creation times: 1 s apart from this many ms after the epoch.
const FIRST_MS: u64 = 1_700_000_000_000;
const RECORDS: u64 = 60;

/// One record as the test knows it.
struct Known {
    id: RecordId,
    ms: u64,
    label: &'static str,
    words: Vec<String>,
}

/// A store of [`RECORDS`] records (raw-key encryption, so the blind index is
/// in use), shared by every case, and what each holds.
fn fixture() -> &'static (Store, TempDir, Vec<Known>) {
    static FIXTURE: OnceLock<(Store, TempDir, Vec<Known>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path().join("store"),
            StoreKey::raw([7; 32]),
            StoreConfig::default(),
        )
        .unwrap();
        let known = (0..RECORDS)
            .map(|n| {
                let n = n as usize;
                let text: Vec<&str> = (0..3)
                    .map(|k| WORDS[(n * 5 + k * 3 + n / 7) % WORDS.len()])
                    .collect();
                let label = LABELS[n % LABELS.len()];
                let data = RecordData {
                    context: RecordContext::from_label(label),
                    raw_text: format!("{}, {}. {}!", text[0], text[1], text[2]),
                    ..RecordData::default()
                };
                let ms = FIRST_MS + 1000 * n as u64;
                let id = store
                    .put_at(&data, UNIX_EPOCH + Duration::from_millis(ms))
                    .unwrap();
                let words = text.iter().map(|w| w.to_lowercase()).collect();
                Known {
                    id,
                    ms,
                    label,
                    words,
                }
            })
            .collect();
        (store, dir, known)
    })
}

/// A time near the records', at the epoch's edges, or anywhere.
fn time() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        4 => (0..(RECORDS + 2) * 1000).prop_map(|ms| UNIX_EPOCH + Duration::from_millis(FIRST_MS - 1000 + ms)),
        1 => Just(UNIX_EPOCH),
        1 => any::<u64>().prop_map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
        1 => (1u64..1_000_000).prop_map(|ms| UNIX_EPOCH - Duration::from_millis(ms)),
    ]
}

fn words() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(WORDS), 1..3).prop_map(|w| w.join(" ")),
        1 => Just("?!, ...".to_string()),
        1 => "\\PC{0,8}",
    ]
}

/// The records `query` should return, newest first, by looking at each.
#[allow(clippy::too_many_arguments)]
fn expected<'k>(
    known: &'k [Known],
    since: Option<u64>,
    until: Option<u64>,
    label: Option<&str>,
    words: &[String],
    after: Option<RecordId>,
    limit: usize,
) -> Vec<&'k Known> {
    known
        .iter()
        .rev()
        .filter(|k| since.is_none_or(|s| k.ms >= s) && until.is_none_or(|u| k.ms < u))
        .filter(|k| after.is_none_or(|a| k.id < a))
        .filter(|k| label.is_none_or(|l| RecordContext::from_label(l).label() == k.label))
        .filter(|k| words.iter().all(|w| k.words.contains(w)))
        .take(limit)
        .collect()
}

fn unix_ms(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as u64)
}

proptest! {
    #![proptest_config(cases(DEFAULT_CASES))]

    #[test]
    fn fuzz_queries_return_what_a_scan_of_the_records_finds(
        since in prop::option::of(time()),
        until in prop::option::of(time()),
        label in prop::option::of(prop::sample::select(LABELS)),
        words in prop::option::of(words()),
        after in prop::option::of(prop_oneof![(0..RECORDS as usize).prop_map(Some), Just(None)]),
        limit in prop_oneof![Just(0usize), 1usize..80, Just(usize::MAX)],
    ) {
        let (store, _, known) = fixture();
        let mut query = Query::new().limit(limit);
        if let Some(time) = since { query = query.since(time); }
        if let Some(time) = until { query = query.until(time); }
        if let Some(label) = label { query = query.context(RecordContext::from_label(label)); }
        if let Some(words) = &words { query = query.words(words.clone()); }
        // A cursor at a record, or at an id no record has.
        let after_id = after.map(|a| a.map_or_else(
            || "0000018bcfe5680000000000000000aa".parse::<RecordId>().unwrap(),
            |i| known[i].id,
        ));
        if let Some(id) = after_id { query = query.after(id.to_string().parse::<Cursor>().unwrap()); }

        let normalised: Option<Vec<String>> = words.as_ref().map(|w| {
            w.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
        });
        let before_epoch = [since, until].iter().flatten().any(|t| t.duration_since(UNIX_EPOCH).is_err());
        match store.query(&query) {
            Ok(page) => {
                prop_assert!(limit > 0 && !before_epoch);
                let words = normalised.unwrap_or_default();
                prop_assert!(words.iter().all(|w| !w.is_empty()));
                let want = expected(known, since.and_then(unix_ms), until.and_then(unix_ms), label, &words, after_id, limit);
                let got: Vec<RecordId> = page.records.iter().map(|r| r.id).collect();
                let want_ids: Vec<RecordId> = want.iter().map(|k| k.id).collect();
                prop_assert_eq!(got, want_ids);
                prop_assert!(page.unreadable.is_empty());
            }
            Err(Error::InvalidArgument(_)) => prop_assert!(
                limit == 0 || before_epoch || normalised.is_some_and(|w| w.is_empty())
            ),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn fuzz_search_with_any_limit_finds_every_holder_of_the_words(
        words in words(),
        limit in prop_oneof![Just(0usize), 1usize..80, Just(usize::MAX)],
    ) {
        let (store, _, known) = fixture();
        let normalised: Vec<String> = words
            .split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        match store.search(&words, limit) {
            Ok(found) => {
                let want = expected(known, None, None, None, &normalised, None, limit);
                prop_assert_eq!(found.len(), want.len());
                prop_assert!(found.iter().zip(&want).all(|(r, k)| r.id == k.id && r.data.context.label() == k.label));
            }
            Err(Error::InvalidArgument(_)) => prop_assert!(limit == 0 || normalised.is_empty()),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

#[test]
fn the_fixture_holds_every_context() {
    let (_, _, known) = fixture();
    for label in LABELS {
        assert!(known.iter().any(|k| k.label == *label));
    }
}
