//! Key rotation: every record re-encrypted under a new key, safely across
//! crashes.
//!
//! 1. A new key slot and a new random data key are made. The metadata is
//!    rewritten (one atomic, flushed write) with two slots, the old and the
//!    new key-encryption key, each wrapping both data keys. From here on,
//!    either key opens the store and reads every record, whichever data key
//!    sealed it (the generation is in each value's header).
//! 2. New writes use the new data key. Every record still sealed with
//!    another key is re-encrypted, and its token list re-made with the new
//!    index key, in transactions of up to 256 records. Then the blind index
//!    is rebuilt from the token lists.
//! 3. Everything is flushed; then the metadata is rewritten with only the
//!    new slot and data key, and the old key no longer opens the store.
//!
//! A crash anywhere leaves the metadata of step 1 or step 3. Opening with
//! the new key after a crash in step 2 finishes the rotation; opening with
//! the old key rolls it back (records move back to the old data key): the
//! store converges to the key it was opened with, by the same steps 2 and 3.

use std::ops::Bound;

use super::crypto::DataKey;
use super::db::{insert_record, record_id, Prepared, Store};
use super::id::RecordId;
use super::keyring::Keyring;
use super::keys::{Lock, StoreKey};
use super::kv::{Scan, Tree};
use super::meta::{self, Protection};
use crate::{Error, Result};

/// Records re-encrypted per transaction.
const ROTATION_BATCH: usize = 256;

/// What a key rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Records re-encrypted under the new key.
    pub reencrypted: usize,
    /// Records that failed the integrity check and were left as they were;
    /// they stay unreadable (and can be deleted).
    pub unreadable: Vec<RecordId>,
}

impl Store {
    /// Re-encrypts every record under `new_key` (a raw key or a passphrase;
    /// passphrases use `config.kdf`) and rebuilds the keyword index under
    /// the new index key. Afterwards only `new_key` opens the store.
    ///
    /// Crash-safe: the metadata first records both keys, each able to
    /// unwrap both data keys; records are then re-encrypted in batches; the
    /// old key is dropped from the metadata last. A store that crashed
    /// part-way opens with either key, reads every record, and finishes the
    /// rotation towards the key it was opened with (forward with the new
    /// key, back with the old one).
    ///
    /// Takes `&mut self`: no other call can use the store meanwhile.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unencrypted store or
    /// [`StoreKey::unencrypted`] as the new key.
    pub fn rotate_key(&mut self, new_key: StoreKey) -> Result<RotationReport> {
        self.rotate_key_with_progress(new_key, |_, _| {})
    }

    /// [`Store::rotate_key`], calling `progress(done, total)` after each
    /// batch of records.
    pub fn rotate_key_with_progress(
        &mut self,
        new_key: StoreKey,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<RotationReport> {
        let Keyring::Encrypted {
            lock,
            active,
            older,
        } = &mut self.keyring
        else {
            return Err(Error::InvalidArgument(
                "an unencrypted store has no key to rotate".into(),
            ));
        };
        if new_key.is_unencrypted() {
            return Err(Error::InvalidArgument(
                "rotation needs a new key or passphrase, not StoreKey::unencrypted()".into(),
            ));
        }
        let generation = active
            .generation()
            .checked_add(1)
            .ok_or_else(|| Error::InvalidArgument("no key generation is left".into()))?;
        let new_lock = Lock::create(&new_key, &self.config.kdf, generation)?;
        let new_active = DataKey::random(generation);
        let both = [&**active, &new_active];
        let slots = vec![lock.slot(&both)?, new_lock.slot(&both)?];
        meta::write(&*self.kv, &Protection::Aes256Gcm { slots })?;
        *lock = new_lock;
        older.push(*std::mem::replace(active, Box::new(new_active)));
        self.converge(&mut progress)
    }

    /// Brings every record to the active data key, then records the keyring
    /// with that key alone (steps 2 and 3 of a rotation).
    pub(super) fn converge(
        &mut self,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<RotationReport> {
        let total = self.count();
        let mut report = RotationReport::default();
        let mut done = 0;
        let mut start: Option<RecordId> = None;
        loop {
            let lower = start.as_ref().map_or(Bound::Unbounded, |last| {
                Bound::Excluded(last.as_bytes().as_slice())
            });
            let scan = Scan::keys(Tree::Records)
                .within(lower, Bound::Unbounded)
                .take(ROTATION_BATCH)
                .with_values();
            let batch = self
                .kv
                .scan(&scan)?
                .into_iter()
                .map(|(key, value)| Ok((record_id(&key)?, value)))
                .collect::<Result<Vec<_>>>()?;
            let Some((last, _)) = batch.last() else {
                break;
            };
            start = Some(*last);
            let mut resealed = Vec::new();
            for (id, value) in &batch {
                match self.reseal(id, value) {
                    Ok(Some(prepared)) => resealed.push(prepared),
                    Ok(None) => {}
                    Err(Error::Integrity { .. }) => report.unreadable.push(*id),
                    Err(e) => return Err(e),
                }
            }
            self.kv.write(&mut |tx| {
                resealed
                    .iter()
                    .try_for_each(|record| insert_record(tx, record).map(drop))
            })?;
            report.reencrypted += resealed.len();
            done += batch.len();
            progress(done, total);
        }
        self.merger.index().rebuild()?;
        self.flush()?;
        if let Keyring::Encrypted { older, .. } = &mut self.keyring {
            older.clear();
        }
        meta::write(&*self.kv, &self.keyring.protection()?)?;
        Ok(report)
    }

    /// The record `id` sealed with the active key; `None` when it already is.
    fn reseal(&self, id: &RecordId, value: &[u8]) -> Result<Option<Prepared>> {
        if self.keyring.is_current(id, value)? {
            return Ok(None);
        }
        let payload = self.keyring.open(id, value)?;
        let data = self.decode_payload(id, &payload)?;
        self.seal_payload(*id, &payload, &data).map(Some)
    }
}
