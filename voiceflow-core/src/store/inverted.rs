//! The persistent blind index: for each token, the ids of the records that
//! have it, in chunks.
//!
//! A write stores, in the same transaction as the record, a *pending* mark
//! whose value is the record's token list: two keys whatever the number of
//! words (one index key per word would cost an update of the index each,
//! and every tree a transaction touches costs a copy of its changed
//! pages). Pending records are folded into the index in bulk ("merged") by
//! a background thread after every [`MERGE_AFTER`] writes; the merge moves
//! each token list into [`Tree::Tokens`], where deletions find it. A pending
//! mark without a value (written by earlier versions, and by a rebuild)
//! means the token list is in [`Tree::Tokens`] already. A query reads the
//! merged chunks and the token lists of the records still pending, so it
//! sees every record written before it without starting a merge round of its
//! own (a round per query would make the rounds, and the keys every lookup
//! reads, grow with the number of queries); only a backlog of more than
//! [`QUERY_READS_PENDING`] records is merged first. Each
//! round of a merge gets a new number (one above the last), recorded in a
//! small tree, and adds, for every token it saw, one chunk: `merge number ‖
//! token` → the ids of up to [`MERGE_BATCH`] records. Keys of a round follow
//! those of the rounds before, so they are appended instead of rewriting old
//! pages; looking a token up reads one key per round.
//!
//! A round (its number, its chunks, its token lists, and the removal of its
//! records' pending marks) is one transaction. Merging is idempotent anyway:
//! ids are deduplicated, so records both merged and pending are found once.
//! Deleting a record takes its id out of the chunks of its tokens in the
//! same transaction as the record, so no token of a deleted record stays
//! behind; a record whose pending mark holds its token list was never
//! merged, so its deletion looks up no chunks. Merges and deletions hold
//! the index lock; writes and reads do not.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};
use std::thread::JoinHandle;

use std::ops::Bound;

use crossbeam::channel::{self, Sender};

use super::db::record_id;
use super::id::{RecordId, ID_LEN};
use super::index::{split_tokens, Token};
use super::kv::{self, Kv, Scan, Tree};
use crate::{Error, Result};

/// Writes after which the background thread merges.
const MERGE_AFTER: usize = 1024;
/// Pending records merged per round, and so the most ids a chunk holds
/// (16 KiB of ids).
const MERGE_BATCH: usize = 1024;
/// Pending records whose token lists a query reads itself; a larger
/// backlog (after a burst of writes the merge thread has not caught up
/// with) is merged first.
const QUERY_READS_PENDING: usize = 4 * MERGE_BATCH;

/// A change to one chunk: its key and its new value (`None` removes it).
pub(super) type ChunkWrite = (Vec<u8>, Option<Vec<u8>>);

/// The blind index (in the trees [`Tree::Tokens`], [`Tree::Pending`],
/// [`Tree::Chunks`] and [`Tree::Rounds`]) and the lock of its merges.
pub(super) struct InvertedIndex {
    /// The store's database.
    kv: Arc<dyn Kv>,
    /// Held for writing by merges and deletions, for reading by queries.
    lock: RwLock<()>,
    /// Records written since the last merge was requested.
    writes_since_merge: AtomicUsize,
}

/// Proof that the index lock is held for writing.
pub(super) type IndexGuard<'a> = RwLockWriteGuard<'a, ()>;

impl InvertedIndex {
    /// The index kept in `kv`'s trees.
    pub(super) fn open(kv: Arc<dyn Kv>) -> Result<Self> {
        Ok(InvertedIndex {
            writes_since_merge: AtomicUsize::new(kv.len(Tree::Pending)?),
            kv,
            lock: RwLock::new(()),
        })
    }

    /// The token list of the pending record `id` whose mark has the value
    /// `mark`: the mark itself, or for an empty one the record's entry in
    /// [`Tree::Tokens`].
    fn pending_tokens<'m>(&self, id: &RecordId, mark: &'m [u8]) -> Result<Option<Cow<'m, [u8]>>> {
        if mark.is_empty() {
            Ok(self.kv.get(Tree::Tokens, id.as_bytes())?.map(Cow::Owned))
        } else {
            Ok(Some(Cow::Borrowed(mark)))
        }
    }

    /// Takes the index lock for writing.
    pub(super) fn lock(&self) -> IndexGuard<'_> {
        self.lock.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `written` new pending records; whether a merge is due.
    fn merge_due(&self, written: usize) -> bool {
        let before = self
            .writes_since_merge
            .fetch_add(written, Ordering::Relaxed);
        if before + written < MERGE_AFTER {
            return false;
        }
        self.writes_since_merge.store(0, Ordering::Relaxed);
        true
    }

    /// The ids, ascending, of the records that have every one of `tokens`:
    /// from the merged chunks and from the token lists of pending records.
    pub(super) fn ids_with_all(&self, tokens: &[Token]) -> Result<Vec<RecordId>> {
        // No merge or deletion moves ids between the chunks and the
        // pending records while the lock is held for reading.
        let mut merged = false;
        let (_reading, pending) = loop {
            let reading = self.lock.read().unwrap_or_else(PoisonError::into_inner);
            let limit = if merged {
                usize::MAX
            } else {
                QUERY_READS_PENDING + 1
            };
            let scan = Scan::keys(Tree::Pending).take(limit).with_values();
            let pending = self.kv.scan(&scan)?;
            if merged || pending.len() <= QUERY_READS_PENDING {
                break (reading, pending);
            }
            drop(reading);
            self.merge(&self.lock())?;
            merged = true;
        };
        let rounds = self.rounds()?;
        let mut sets = tokens
            .iter()
            .map(|token| self.ids_with_token(&rounds, token))
            .collect::<Result<Vec<_>>>()?;
        sets.sort_by_key(Vec::len);
        let mut ids = sets.swap_remove(0);
        for set in &sets {
            ids.retain(|id| set.binary_search(id).is_ok());
        }
        for (key, mark) in pending {
            let id = record_id(&key)?;
            if let Some(list) = self.pending_tokens(&id, &mark)? {
                let have: Vec<&Token> = split_tokens(&list).collect();
                if tokens.iter().all(|token| have.contains(&token)) {
                    ids.push(id);
                }
            }
        }
        // A merge cut short leaves its records both merged and pending.
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Folds the records pending when it starts into the chunks (records
    /// written meanwhile wait for the next merge, so that a steady stream
    /// of writes cannot keep it, and the lock, busy).
    fn merge(&self, _guard: &IndexGuard<'_>) -> Result<()> {
        let Some((last, _)) = self
            .kv
            .scan(&Scan::keys(Tree::Pending).rev().take(1))?
            .pop()
        else {
            return Ok(());
        };
        let mut round = self.last_round()?;
        loop {
            let scan = Scan::keys(Tree::Pending)
                .within(Bound::Unbounded, Bound::Included(&last))
                .take(MERGE_BATCH)
                .with_values();
            let marks = self
                .kv
                .scan(&scan)?
                .into_iter()
                .map(|(key, mark)| Ok((record_id(&key)?, mark)))
                .collect::<Result<Vec<_>>>()?;
            if marks.is_empty() {
                return Ok(());
            }
            let mut by_token: BTreeMap<Token, Vec<RecordId>> = BTreeMap::new();
            for (id, mark) in &marks {
                if let Some(list) = self.pending_tokens(id, mark)? {
                    for token in split_tokens(&list) {
                        by_token.entry(*token).or_default().push(*id);
                    }
                }
            }
            round = round
                .checked_add(1)
                .ok_or_else(|| Error::storage("no merge round number is left"))?;
            let number = round.to_be_bytes();
            self.kv.write(&mut |tx| {
                tx.insert(Tree::Rounds, &number, &[])?;
                for (token, ids) in &by_token {
                    tx.insert(Tree::Chunks, &chunk_key(&number, token), &encode_ids(ids))?;
                }
                for (id, mark) in &marks {
                    let key = id.as_bytes().as_slice();
                    if !mark.is_empty() {
                        tx.insert(Tree::Tokens, key, mark)?;
                    }
                    tx.remove(Tree::Pending, key)?;
                }
                Ok(())
            })?;
        }
    }

    /// The number of the last merge round (0 before the first).
    fn last_round(&self) -> Result<u64> {
        let Some((key, _)) = self.kv.scan(&Scan::keys(Tree::Rounds).rev().take(1))?.pop() else {
            return Ok(0);
        };
        let bytes = <[u8; 8]>::try_from(key.as_slice())
            .map_err(|_| Error::storage(format!("a merge round key of {} bytes", key.len())))?;
        Ok(u64::from_be_bytes(bytes))
    }

    /// The numbers of every merge round, as stored (keys of
    /// [`Tree::Rounds`]).
    fn rounds(&self) -> Result<Vec<Vec<u8>>> {
        let rounds = self.kv.scan(&Scan::keys(Tree::Rounds))?;
        Ok(rounds.into_iter().map(|(round, _)| round).collect())
    }

    /// The chunks of `token` (key and ids), one per round of `rounds` that
    /// saw it.
    fn chunks_of(&self, rounds: &[Vec<u8>], token: &Token) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut chunks = Vec::new();
        for round in rounds {
            let key = chunk_key(round, token);
            if let Some(ids) = self.kv.get(Tree::Chunks, &key)? {
                chunks.push((key, ids));
            }
        }
        Ok(chunks)
    }

    /// The ids in the chunks of `token` (of `rounds`), ascending.
    fn ids_with_token(&self, rounds: &[Vec<u8>], token: &Token) -> Result<Vec<RecordId>> {
        let mut ids = Vec::new();
        for (_, chunk) in self.chunks_of(rounds, token)? {
            ids.extend(decode_ids(&chunk)?);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The chunk changes that take `ids` out of the index, to apply in the
    /// transaction that deletes the records.
    pub(super) fn unindex(
        &self,
        ids: &[RecordId],
        _guard: &IndexGuard<'_>,
    ) -> Result<Vec<ChunkWrite>> {
        let mut tokens = BTreeSet::new();
        for id in ids {
            let key = id.as_bytes().as_slice();
            match self.kv.get(Tree::Pending, key)? {
                // Written with its record and not merged since: in no chunk.
                Some(mark) if !mark.is_empty() => {}
                _ => {
                    if let Some(list) = self.kv.get(Tree::Tokens, key)? {
                        tokens.extend(split_tokens(&list).copied());
                    }
                }
            }
        }
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let rounds = self.rounds()?;
        let mut gone: Vec<&[u8]> = ids.iter().map(|id| id.as_bytes().as_slice()).collect();
        gone.sort_unstable();
        let is_gone = |id: &[u8]| gone.binary_search(&id).is_ok();
        let mut writes = Vec::new();
        for token in &tokens {
            for (key, value) in self.chunks_of(&rounds, token)? {
                // A common word has a chunk in most rounds, and most of them
                // hold none of the ids: those are checked as stored.
                if !value.chunks(ID_LEN).any(is_gone) {
                    continue;
                }
                let kept: Vec<RecordId> = decode_ids(&value)?
                    .into_iter()
                    .filter(|id| !is_gone(id.as_bytes()))
                    .collect();
                writes.push((key, (!kept.is_empty()).then(|| encode_ids(&kept))));
            }
        }
        Ok(writes)
    }

    /// Rebuilds the chunks from the token lists of every record (after a
    /// key rotation changed every token): all records become pending (a
    /// pending mark that holds a token list stays), the old chunks go, and
    /// everything is merged again.
    pub(super) fn rebuild(&self) -> Result<()> {
        let guard = self.lock();
        let keys: Vec<Vec<u8>> = kv::entries(&*self.kv, &Scan::keys(Tree::Records))
            .map(|entry| entry.map(|(key, _)| key))
            .collect::<Result<_>>()?;
        for batch in keys.chunks(MERGE_BATCH) {
            self.kv.write(&mut |tx| {
                for key in batch {
                    if tx.get(Tree::Pending, key)?.is_none() {
                        tx.insert(Tree::Pending, key, &[])?;
                    }
                }
                Ok(())
            })?;
        }
        self.kv.clear(Tree::Chunks)?;
        self.kv.clear(Tree::Rounds)?;
        self.merge(&guard)
    }
}

/// The background thread that merges pending records.
pub(super) struct Merger {
    index: Arc<InvertedIndex>,
    requests: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Merger {
    /// Starts the merge thread of `index`.
    pub(super) fn start(index: Arc<InvertedIndex>) -> Result<Self> {
        let (requests, received) = channel::bounded::<()>(1);
        let shared = Arc::clone(&index);
        let thread = std::thread::Builder::new()
            .name("voiceflow-store-index".into())
            .spawn(move || {
                for () in received {
                    // A failed merge leaves its records pending; the next
                    // merge (or query) tries again and reports the error.
                    let _ = shared.merge(&shared.lock());
                }
            })
            .map_err(|e| Error::storage_from("cannot start the index thread", e))?;
        Ok(Merger {
            index,
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    /// The index this thread merges into.
    pub(super) fn index(&self) -> &InvertedIndex {
        &self.index
    }

    /// Counts `written` new pending records, and asks the thread for a
    /// merge when one is due.
    pub(super) fn note_written(&self, written: usize) {
        if self.index.merge_due(written) {
            if let Some(requests) = &self.requests {
                // A full channel means a merge is requested already.
                let _ = requests.try_send(());
            }
        }
    }
}

impl Drop for Merger {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn chunk_key(round: &[u8], token: &Token) -> Vec<u8> {
    [round, token].concat()
}

fn encode_ids(ids: &[RecordId]) -> Vec<u8> {
    ids.iter().flat_map(|id| id.as_bytes()).copied().collect()
}

fn decode_ids(value: &[u8]) -> Result<Vec<RecordId>> {
    value.chunks(ID_LEN).map(record_id).collect()
}

#[cfg(test)]
mod tests {
    use super::ID_LEN;
    use crate::store::kv::{Scan, Tree};
    use crate::store::{RecordData, RecordId, Store, StoreConfig, StoreKey};

    fn note(text: &str) -> RecordData {
        RecordData {
            raw_text: text.into(),
            ..RecordData::default()
        }
    }

    #[test]
    fn searches_between_writes_see_every_record_and_start_no_merge_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(dir.path(), StoreKey::unencrypted(), StoreConfig::default()).unwrap();
        for n in 1..=50 {
            store.put(&note(&format!("meeting note {n}"))).unwrap();
            assert_eq!(store.search("meeting", 100).unwrap().len(), n);
            assert_eq!(store.search(&format!("note {n}"), 100).unwrap().len(), 1);
        }
        // 50 writes are far from a background merge; before, every search
        // merged what was pending into a round of its own.
        assert_eq!(store.kv.len(Tree::Rounds).unwrap(), 0);
        assert_eq!(store.kv.len(Tree::Pending).unwrap(), 50);
        let gone = store.search("note 7", 1).unwrap()[0].id;
        store.delete(&gone).unwrap();
        assert_eq!(store.search("meeting", 100).unwrap().len(), 49);
        assert!(store.search("note 7", 100).unwrap().is_empty());
    }

    #[test]
    fn records_kept_the_earlier_way_are_found_merged_and_deleted() {
        // Earlier versions kept a pending record's token list in the tokens
        // tree, under an empty pending mark.
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(dir.path(), StoreKey::unencrypted(), StoreConfig::default()).unwrap();
        let old = store
            .prepare(
                RecordId::generate(1_000).unwrap(),
                &note("budget review friday"),
            )
            .unwrap();
        let key = old.id.as_bytes().as_slice();
        store
            .kv
            .write(&mut |tx| {
                tx.insert(Tree::Records, key, &old.value)?;
                tx.insert(Tree::Tokens, key, &old.tokens)?;
                tx.insert(Tree::Pending, key, &[]).map(drop)
            })
            .unwrap();
        let new = store.put(&note("budget review monday")).unwrap();
        let found = |words: &str| -> Vec<RecordId> {
            let records = store.search(words, 10).unwrap();
            records.iter().map(|record| record.id).collect()
        };
        assert_eq!(found("budget review"), [new, old.id]);

        let index = store.merger.index();
        index.merge(&index.lock()).unwrap();
        assert_eq!(store.kv.len(Tree::Pending).unwrap(), 0);
        assert_eq!(store.kv.len(Tree::Tokens).unwrap(), 2);
        assert_eq!(found("friday"), [old.id]);
        assert_eq!(found("budget"), [new, old.id]);

        store.delete(&old.id).unwrap();
        assert_eq!(found("budget"), [new]);
        assert!(found("friday").is_empty());
        let chunks = store
            .kv
            .scan(&Scan::keys(Tree::Chunks).with_values())
            .unwrap();
        assert!(!chunks.is_empty());
        for (_, ids) in chunks {
            assert!(ids.chunks(ID_LEN).all(|id| id != key), "a deleted id stays");
        }
    }
}
