//! The key material an open store holds in memory, and how it is unlocked
//! from the metadata.

use std::path::Path;

use zeroize::Zeroizing;

use super::config::StoreConfig;
use super::crypto::{self, DataKey, Sealing};
use super::id::RecordId;
use super::index::IndexKey;
use super::keys::{Lock, StoreKey};
use super::meta::Protection;
use crate::{Error, Result};

/// The first data-key generation of a new encrypted store.
const FIRST_GENERATION: u32 = 1;

/// Everything needed to seal, open and index records.
pub(crate) enum Keyring {
    /// Records in the clear; the index uses a fixed, public key.
    Unencrypted {
        /// The fixed index key.
        index: IndexKey,
    },
    /// Records sealed with AES-256-GCM.
    Encrypted {
        /// The key-encryption key the store was opened with.
        lock: Lock,
        /// The data key new values are sealed with (the lock's generation).
        active: Box<DataKey>,
        /// Other generations still present while a rotation is pending.
        older: Vec<DataKey>,
    },
}

/// An unlocked keyring and whether the store must converge to its active
/// generation (an interrupted rotation).
pub(crate) struct Unlocked {
    pub(crate) keyring: Keyring,
    pub(crate) pending_rotation: bool,
}

impl Keyring {
    /// The keyring of a new store protected by `key`.
    pub(crate) fn create(key: &StoreKey, config: &StoreConfig) -> Result<Self> {
        if key.is_unencrypted() {
            return Ok(Self::unencrypted());
        }
        Ok(Keyring::Encrypted {
            lock: Lock::create(key, &config.kdf, FIRST_GENERATION)?,
            active: Box::new(DataKey::random(FIRST_GENERATION)),
            older: Vec::new(),
        })
    }

    fn unencrypted() -> Self {
        Keyring::Unencrypted {
            index: IndexKey::new(Zeroizing::new([0; 32])),
        }
    }

    /// Unlocks an existing store with `key`.
    pub(crate) fn unlock(protection: &Protection, key: &StoreKey, path: &Path) -> Result<Unlocked> {
        match protection {
            Protection::Unencrypted if key.is_unencrypted() => Ok(Unlocked {
                keyring: Self::unencrypted(),
                pending_rotation: false,
            }),
            Protection::Unencrypted => Err(Error::InvalidArgument(format!(
                "the store at {} is not encrypted; open it with StoreKey::unencrypted()",
                path.display()
            ))),
            Protection::Aes256Gcm { slots } => {
                let (lock, keys) = Lock::open(slots, key, path)?;
                let (mut active, older): (Vec<DataKey>, Vec<DataKey>) = keys
                    .into_iter()
                    .partition(|data_key| data_key.generation() == lock.generation());
                let active = active
                    .pop()
                    .map(Box::new)
                    .ok_or_else(|| Error::StoreFormat {
                        path: path.to_path_buf(),
                        reason: "the key slot does not hold its own data key".into(),
                        source: None,
                    })?;
                Ok(Unlocked {
                    pending_rotation: slots.len() > 1 || !older.is_empty(),
                    keyring: Keyring::Encrypted {
                        lock,
                        active,
                        older,
                    },
                })
            }
        }
    }

    /// The protection to record in the metadata for this keyring, with every
    /// generation it holds wrapped under its lock.
    pub(crate) fn protection(&self) -> Result<Protection> {
        match self {
            Keyring::Unencrypted { .. } => Ok(Protection::Unencrypted),
            Keyring::Encrypted { lock, .. } => {
                let keys: Vec<&DataKey> = self.data_keys().collect();
                Ok(Protection::Aes256Gcm {
                    slots: vec![lock.slot(&keys)?],
                })
            }
        }
    }

    /// The data keys held: the active one first.
    fn data_keys(&self) -> impl Iterator<Item = &DataKey> {
        let (active, older) = match self {
            Keyring::Unencrypted { .. } => (None, &[][..]),
            Keyring::Encrypted { active, older, .. } => (Some(&**active), older.as_slice()),
        };
        active.into_iter().chain(older)
    }

    /// The key that makes index tokens for new entries.
    pub(crate) fn index_key(&self) -> &IndexKey {
        match self {
            Keyring::Unencrypted { index } => index,
            Keyring::Encrypted { active, .. } => active.index_key(),
        }
    }

    /// Whether records are encrypted.
    pub(crate) fn is_encrypted(&self) -> bool {
        matches!(self, Keyring::Encrypted { .. })
    }

    /// Whether the value of record `id` is sealed the way new values are.
    pub(crate) fn is_current(&self, id: &RecordId, value: &[u8]) -> Result<bool> {
        let current = match self {
            Keyring::Unencrypted { .. } => Sealing::Plain,
            Keyring::Encrypted { active, .. } => Sealing::Encrypted(active.generation()),
        };
        Ok(crypto::sealing_of(id, value)? == current)
    }

    /// The value to store for `payload` under `id`.
    pub(crate) fn seal(&self, id: &RecordId, payload: &[u8]) -> Result<Vec<u8>> {
        match self {
            Keyring::Unencrypted { .. } => Ok(crypto::seal_plain(id, payload)),
            Keyring::Encrypted { active, .. } => active.seal(id, payload),
        }
    }

    /// The payload of the value stored under `id`; an integrity error when it
    /// was altered, moved, or sealed with a key this keyring does not hold.
    pub(crate) fn open(&self, id: &RecordId, value: &[u8]) -> Result<Vec<u8>> {
        match (self, crypto::sealing_of(id, value)?) {
            (Keyring::Unencrypted { .. }, Sealing::Plain) => crypto::open_plain(id, value),
            (Keyring::Encrypted { .. }, Sealing::Encrypted(generation)) => self
                .data_keys()
                .find(|key| key.generation() == generation)
                .ok_or_else(|| crypto::integrity_error(id))?
                .open(id, value),
            _ => Err(crypto::integrity_error(id)),
        }
    }
}
