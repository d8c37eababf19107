//! Keys: what the user supplies ([`StoreKey`]), the key-encryption keys made
//! from it, and the data keys that seal records.
//!
//! Records are sealed with a random *data key*. The user's key (a raw 32-byte
//! key, or a passphrase stretched with Argon2id under a random salt) gives a
//! *key-encryption key* (KEK) that wraps the data key with AES-256-GCM. The
//! store's metadata holds one *key slot* per KEK: how to derive it (kind,
//! Argon2 parameters and salt), a key-check value (HMAC-SHA256 of a fixed
//! label under the KEK, compared in constant time) and the data keys it wraps.
//! A wrong key fails the check at open with [`Error::WrongKey`].
//!
//! Normally there is one slot that wraps one data key. During a key rotation
//! there are two slots (old and new KEK), each wrapping both data keys, so
//! either key opens the store and reads every record whatever its generation.

use std::fmt;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use hmac::Mac;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::crypto::{self, DataKey, Secret};
use super::hex;
use crate::{Error, Result};

/// Length of an Argon2id salt in bytes.
const SALT_LEN: usize = 16;
/// The label whose HMAC under a KEK is its key-check value.
const CHECK_LABEL: &[u8] = b"voiceflow-store/key-check/v1";
/// The largest Argon2 memory cost a store's metadata may ask for (4 GiB).
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// The largest Argon2 time cost a store's metadata may ask for.
const MAX_ITERATIONS: u32 = 64;
/// The largest Argon2 parallelism a store's metadata may ask for.
const MAX_PARALLELISM: u32 = 64;

/// How a store is protected: a raw key, a passphrase, or no encryption.
///
/// The secret is wiped from memory when the `StoreKey` is dropped, and is
/// never printed by `Debug`.
pub struct StoreKey(Material);

enum Material {
    Raw(Secret),
    Passphrase(Zeroizing<String>),
    Unencrypted,
}

impl StoreKey {
    /// A raw 256-bit key (for example from the operating system's key
    /// store). Wipe your own copy of `bytes` when you are done with it.
    pub fn raw(bytes: [u8; 32]) -> Self {
        StoreKey(Material::Raw(Zeroizing::new(bytes)))
    }

    /// A passphrase, stretched with Argon2id (parameters from
    /// [`KdfParams`] when the store or slot is created).
    pub fn passphrase(passphrase: impl Into<String>) -> Self {
        StoreKey(Material::Passphrase(Zeroizing::new(passphrase.into())))
    }

    /// No encryption: records are stored in the clear (with a checksum). An
    /// explicit choice, for data that needs no protection or to measure what
    /// encryption costs.
    pub fn unencrypted() -> Self {
        StoreKey(Material::Unencrypted)
    }

    /// Whether this is [`StoreKey::unencrypted`].
    pub fn is_unencrypted(&self) -> bool {
        matches!(self.0, Material::Unencrypted)
    }

    /// Rejects an empty passphrase.
    pub(super) fn validate(&self) -> Result<()> {
        match &self.0 {
            Material::Passphrase(passphrase) if passphrase.is_empty() => {
                Err(Error::InvalidArgument("the passphrase is empty".into()))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Material::Raw(_) => "raw key",
            Material::Passphrase(_) => "passphrase",
            Material::Unencrypted => "unencrypted",
        };
        write!(f, "StoreKey({kind})")
    }
}

/// Argon2id cost parameters for passphrases.
///
/// They are used when a passphrase slot is created (a new store or a key
/// rotation) and then kept in the store's metadata, so opening always uses
/// the parameters the slot was made with. The default follows the OWASP
/// recommendation: 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB (at least 8 × `parallelism`).
    pub memory_kib: u32,
    /// Number of passes (at least 1).
    pub iterations: u32,
    /// Degree of parallelism (lanes, at least 1).
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    fn argon2(&self) -> std::result::Result<Argon2<'static>, String> {
        if self.memory_kib > MAX_MEMORY_KIB
            || self.iterations > MAX_ITERATIONS
            || self.parallelism > MAX_PARALLELISM
        {
            return Err(format!(
                "Argon2 parameters {self:?} exceed the supported maximum"
            ));
        }
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| format!("invalid Argon2 parameters {self:?}: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// How a slot's KEK is derived from the user's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KekSpec {
    /// The raw key is the KEK.
    Raw,
    /// Argon2id of the passphrase.
    Argon2id {
        /// Cost parameters.
        #[serde(flatten)]
        params: KdfParams,
        /// Random salt, hex.
        salt: String,
    },
}

/// A data key wrapped (AES-256-GCM) under a slot's KEK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct WrappedKey {
    generation: u32,
    /// `nonce ‖ ciphertext ‖ tag` of the data key's root, hex.
    sealed: String,
}

/// One way into an encrypted store, as kept in its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeySlot {
    /// The data-key generation this slot's KEK stands for: the store
    /// converges to it when opened with this slot's key.
    generation: u32,
    kek: KekSpec,
    /// HMAC-SHA256 of a fixed label under the KEK, hex.
    check: String,
    /// The data keys this KEK unlocks.
    wrapped: Vec<WrappedKey>,
}

/// A key-encryption key with the description of its slot (everything but
/// the wrapped data keys).
pub(crate) struct Lock {
    generation: u32,
    spec: KekSpec,
    kek: Secret,
}

impl Lock {
    /// A new lock for `key` that stands for data-key `generation`, with a
    /// fresh salt for passphrases.
    pub(crate) fn create(key: &StoreKey, kdf: &KdfParams, generation: u32) -> Result<Self> {
        key.validate()?;
        let spec = match key.0 {
            Material::Raw(_) => KekSpec::Raw,
            Material::Passphrase(_) => {
                let mut salt = [0u8; SALT_LEN];
                OsRng.fill_bytes(&mut salt);
                KekSpec::Argon2id {
                    params: *kdf,
                    salt: hex::encode(&salt),
                }
            }
            Material::Unencrypted => {
                return Err(Error::InvalidArgument(
                    "an unencrypted key cannot protect an encrypted store".into(),
                ))
            }
        };
        let kek = derive_kek(key, &spec)
            .map_err(Error::InvalidArgument)?
            .ok_or_else(|| Error::InvalidArgument("key kind does not fit the slot".into()))?;
        Ok(Lock {
            generation,
            spec,
            kek,
        })
    }

    /// Opens the first slot that `key` fits; the lock and the data keys it
    /// unwraps. [`Error::WrongKey`] when no slot fits.
    pub(crate) fn open(
        slots: &[KeySlot],
        key: &StoreKey,
        path: &Path,
    ) -> Result<(Lock, Vec<DataKey>)> {
        key.validate()?;
        let format_error = |reason: String| Error::StoreFormat {
            path: path.to_path_buf(),
            reason,
            source: None,
        };
        for slot in slots {
            let Some(kek) = derive_kek(key, &slot.kek).map_err(format_error)? else {
                continue;
            };
            let check = hex::decode(&slot.check)
                .ok_or_else(|| format_error("key-check value is not hex".into()))?;
            let mut mac = crypto::keyed_mac(&kek);
            mac.update(CHECK_LABEL);
            if mac.verify_slice(&check).is_err() {
                continue;
            }
            let lock = Lock {
                generation: slot.generation,
                spec: slot.kek.clone(),
                kek,
            };
            let keys = slot
                .wrapped
                .iter()
                .map(|wrapped| lock.unwrap(wrapped))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    format_error("a wrapped data key does not authenticate under its key".into())
                })?;
            return Ok((lock, keys));
        }
        Err(Error::WrongKey)
    }

    /// The data-key generation this lock stands for.
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    /// This lock's slot, wrapping `keys`.
    pub(crate) fn slot(&self, keys: &[&DataKey]) -> Result<KeySlot> {
        let kek = crypto::cipher(&self.kek);
        let wrapped = keys
            .iter()
            .map(|key| {
                let mut sealed = Vec::new();
                crypto::seal_into(&kek, &wrap_aad(key.generation()), key.root(), &mut sealed)?;
                Ok(WrappedKey {
                    generation: key.generation(),
                    sealed: hex::encode(&sealed),
                })
            })
            .collect::<Result<_>>()?;
        Ok(KeySlot {
            generation: self.generation,
            kek: self.spec.clone(),
            check: hex::encode(crypto::derive(&self.kek, CHECK_LABEL).as_ref()),
            wrapped,
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> Option<DataKey> {
        let sealed = hex::decode(&wrapped.sealed)?;
        let kek = crypto::cipher(&self.kek);
        let root = Zeroizing::new(crypto::open_sealed(
            &kek,
            &wrap_aad(wrapped.generation),
            &sealed,
        )?);
        let root: [u8; 32] = root.as_slice().try_into().ok()?;
        Some(DataKey::from_root(wrapped.generation, Zeroizing::new(root)))
    }
}

/// The associated data of a wrapped data key: binds it to its generation.
fn wrap_aad(generation: u32) -> [u8; 24] {
    let mut aad = [0u8; 24];
    aad[..20].copy_from_slice(b"voiceflow-store/dek/");
    aad[20..].copy_from_slice(&generation.to_be_bytes());
    aad
}

/// The KEK of `key` for a slot described by `spec`; `None` when the key's
/// kind does not fit the slot (a raw key for a passphrase slot, or the
/// reverse). An error (its reason) when the slot's Argon2 parameters or salt
/// cannot be used.
fn derive_kek(key: &StoreKey, spec: &KekSpec) -> std::result::Result<Option<Secret>, String> {
    match (&key.0, spec) {
        (Material::Raw(raw), KekSpec::Raw) => Ok(Some(Zeroizing::new(**raw))),
        (Material::Passphrase(passphrase), KekSpec::Argon2id { params, salt }) => {
            let salt = hex::decode(salt).ok_or("the Argon2 salt is not hex")?;
            let mut kek = Zeroizing::new([0u8; 32]);
            params
                .argon2()?
                .hash_password_into(passphrase.as_bytes(), &salt, kek.as_mut())
                .map_err(|e| format!("Argon2id failed: {e}"))?;
            Ok(Some(kek))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::id::RecordId;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn slot_for(key: &StoreKey, data_key: &DataKey) -> KeySlot {
        Lock::create(key, &FAST, data_key.generation())
            .unwrap()
            .slot(&[data_key])
            .unwrap()
    }

    #[test]
    fn the_right_passphrase_unwraps_the_data_key() {
        let data_key = DataKey::random(1);
        let slot = slot_for(&StoreKey::passphrase("correct horse"), &data_key);
        let (lock, keys) = Lock::open(
            &[slot],
            &StoreKey::passphrase("correct horse"),
            Path::new("s"),
        )
        .unwrap();
        assert_eq!(lock.generation(), 1);
        let id = RecordId::generate(5).unwrap();
        let value = data_key.seal(&id, b"hello").unwrap();
        assert_eq!(keys[0].open(&id, &value).unwrap(), b"hello");
    }

    #[test]
    fn wrong_keys_and_kinds_fail_the_check() {
        let data_key = DataKey::random(1);
        let slots = [slot_for(&StoreKey::passphrase("right"), &data_key)];
        for key in [
            StoreKey::passphrase("wrong"),
            StoreKey::raw([7; 32]),
            StoreKey::unencrypted(),
        ] {
            assert!(matches!(
                Lock::open(&slots, &key, Path::new("s")),
                Err(Error::WrongKey)
            ));
        }
        let raw_slots = [slot_for(&StoreKey::raw([1; 32]), &data_key)];
        assert!(Lock::open(&raw_slots, &StoreKey::raw([1; 32]), Path::new("s")).is_ok());
        assert!(matches!(
            Lock::open(&raw_slots, &StoreKey::raw([2; 32]), Path::new("s")),
            Err(Error::WrongKey)
        ));
    }

    #[test]
    fn either_of_two_slots_opens_both_generations() {
        let old = DataKey::random(1);
        let new = DataKey::random(2);
        let old_key = StoreKey::raw([1; 32]);
        let new_key = StoreKey::passphrase("new one");
        let slots = [
            Lock::create(&old_key, &FAST, 1)
                .unwrap()
                .slot(&[&old, &new])
                .unwrap(),
            Lock::create(&new_key, &FAST, 2)
                .unwrap()
                .slot(&[&old, &new])
                .unwrap(),
        ];
        for (key, generation) in [(old_key, 1), (new_key, 2)] {
            let (lock, keys) = Lock::open(&slots, &key, Path::new("s")).unwrap();
            assert_eq!(lock.generation(), generation);
            let generations: Vec<u32> = keys.iter().map(DataKey::generation).collect();
            assert_eq!(generations, [1, 2]);
        }
    }

    #[test]
    fn tampered_metadata_is_a_format_error_not_a_panic() {
        let data_key = DataKey::random(1);
        let key = StoreKey::raw([3; 32]);
        let mut slot = slot_for(&key, &data_key);
        slot.wrapped[0].sealed.replace_range(0..2, "00");
        slot.wrapped[0].generation = 9;
        assert!(matches!(
            Lock::open(&[slot], &key, Path::new("s")),
            Err(Error::StoreFormat { .. })
        ));
        let absurd = KdfParams {
            memory_kib: u32::MAX,
            ..FAST
        };
        assert!(absurd.argon2().is_err());
        assert!(matches!(
            Lock::create(&StoreKey::passphrase(""), &FAST, 1),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let text = format!("{:?}", StoreKey::passphrase("hunter2"));
        assert_eq!(text, "StoreKey(passphrase)");
    }
}
