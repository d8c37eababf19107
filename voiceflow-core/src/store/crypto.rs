//! Sealing record values: AES-256-GCM bound to the record, or a checksummed
//! plain form for unencrypted stores.
//!
//! Every value starts with a 6-byte header: the value format (1), the mode
//! (0 plain, 1 AES-256-GCM) and a 4-byte field. For AES-256-GCM the field is
//! the generation of the data key that sealed the value, followed by a fresh
//! random 96-bit nonce, the ciphertext and the 16-byte tag; the associated
//! data is the record id and the header, so a value copied under another id,
//! or relabelled with another format or key generation, fails to decrypt. For
//! plain values the field is a CRC-32 of the id, the header's first two bytes
//! and the payload, which catches accidental damage (not tampering).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::id::{RecordId, ID_LEN};
use super::index::IndexKey;
use crate::{Error, Result};

/// Length of the header in front of every value.
const HEADER_LEN: usize = 6;
/// The value format this version writes and reads.
const VALUE_FORMAT: u8 = 1;
const MODE_PLAIN: u8 = 0;
const MODE_AES_GCM: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A 256-bit secret that is wiped from memory when dropped.
pub(crate) type Secret = Zeroizing<[u8; 32]>;

/// A fresh random 256-bit secret from the operating system.
pub(crate) fn random_secret() -> Secret {
    let mut secret = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(secret.as_mut());
    secret
}

/// HMAC-SHA256 of `label` under `key`: a sub-key or check value for one
/// purpose, independent of those for other labels.
pub(crate) fn derive(key: &[u8; 32], label: &[u8]) -> Secret {
    let mut mac = keyed_mac(key);
    mac.update(label);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// HMAC-SHA256 keyed with `key`, ready for input.
pub(crate) fn keyed_mac(key: &[u8; 32]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// An AES-256-GCM instance (its key schedule is zeroized on drop).
pub(crate) fn cipher(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
}

/// Appends `nonce ‖ ciphertext ‖ tag` of `plaintext` to `out`, under a fresh
/// random nonce, authenticating `aad` too.
pub(crate) fn seal_into(
    cipher: &Aes256Gcm,
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    out.reserve(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut out[start..])
        .map_err(|_| Error::InvalidArgument("value too large for AES-GCM".into()))?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// The plaintext of `nonce ‖ ciphertext ‖ tag`; `None` when it does not
/// authenticate under this key and `aad`.
pub(crate) fn open_sealed(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut plaintext = ciphertext.to_vec();
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            &mut plaintext,
            Tag::from_slice(tag),
        )
        .ok()?;
    Some(plaintext)
}

/// The keys of one generation, all derived from one random 256-bit root:
/// the AES-256-GCM key for record values and the blind-index key.
pub(crate) struct DataKey {
    generation: u32,
    root: Secret,
    cipher: Aes256Gcm,
    index: IndexKey,
}

impl DataKey {
    /// The keys of `generation` derived from `root`.
    pub(crate) fn from_root(generation: u32, root: Secret) -> Self {
        let encryption = derive(&root, b"voiceflow-store/record-encryption/v1");
        DataKey {
            generation,
            cipher: cipher(&encryption),
            index: IndexKey::new(derive(&root, b"voiceflow-store/blind-index/v1")),
            root,
        }
    }

    /// Keys of `generation` from a fresh random root.
    pub(crate) fn random(generation: u32) -> Self {
        Self::from_root(generation, random_secret())
    }

    /// The key generation (the number in the header of the values it seals).
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    /// The root secret, to be wrapped under a key-encryption key.
    pub(crate) fn root(&self) -> &[u8; 32] {
        &self.root
    }

    /// The blind-index key of this generation.
    pub(crate) fn index_key(&self) -> &IndexKey {
        &self.index
    }

    /// The value stored for `payload` under `id`.
    pub(crate) fn seal(&self, id: &RecordId, payload: &[u8]) -> Result<Vec<u8>> {
        let header = header(MODE_AES_GCM, self.generation.to_be_bytes());
        let mut value = Vec::with_capacity(HEADER_LEN + NONCE_LEN + payload.len() + TAG_LEN);
        value.extend_from_slice(&header);
        seal_into(&self.cipher, &record_aad(id, &header), payload, &mut value)?;
        Ok(value)
    }

    /// The payload of a value this key sealed for `id`.
    pub(crate) fn open(&self, id: &RecordId, value: &[u8]) -> Result<Vec<u8>> {
        let (header, sealed) = split_header(id, value)?;
        open_sealed(&self.cipher, &record_aad(id, &header), sealed)
            .ok_or_else(|| integrity_error(id))
    }
}

/// Which key sealed a stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sealing {
    /// Stored unencrypted.
    Plain,
    /// Encrypted under the data key of this generation.
    Encrypted(u32),
}

/// How the value stored for `id` was sealed; an integrity error when its
/// header is not one this version writes.
pub(crate) fn sealing_of(id: &RecordId, value: &[u8]) -> Result<Sealing> {
    let (header, _) = split_header(id, value)?;
    let field = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
    match header[1] {
        MODE_PLAIN => Ok(Sealing::Plain),
        MODE_AES_GCM => Ok(Sealing::Encrypted(field)),
        _ => Err(integrity_error(id)),
    }
}

/// The value stored unencrypted for `payload` under `id`.
pub(crate) fn seal_plain(id: &RecordId, payload: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(HEADER_LEN + payload.len());
    value.extend_from_slice(&header(MODE_PLAIN, plain_checksum(id, payload)));
    value.extend_from_slice(payload);
    value
}

/// The payload of an unencrypted value stored under `id`.
pub(crate) fn open_plain(id: &RecordId, value: &[u8]) -> Result<Vec<u8>> {
    let (header, payload) = split_header(id, value)?;
    if header[1] != MODE_PLAIN || header[2..] != plain_checksum(id, payload) {
        return Err(integrity_error(id));
    }
    Ok(payload.to_vec())
}

fn header(mode: u8, field: [u8; 4]) -> [u8; HEADER_LEN] {
    [VALUE_FORMAT, mode, field[0], field[1], field[2], field[3]]
}

fn split_header<'v>(id: &RecordId, value: &'v [u8]) -> Result<([u8; HEADER_LEN], &'v [u8])> {
    match value.split_first_chunk::<HEADER_LEN>() {
        Some((header, rest)) if header[0] == VALUE_FORMAT => Ok((*header, rest)),
        _ => Err(integrity_error(id)),
    }
}

fn record_aad(id: &RecordId, header: &[u8; HEADER_LEN]) -> [u8; ID_LEN + HEADER_LEN] {
    let mut aad = [0u8; ID_LEN + HEADER_LEN];
    aad[..ID_LEN].copy_from_slice(id.as_bytes());
    aad[ID_LEN..].copy_from_slice(header);
    aad
}

fn plain_checksum(id: &RecordId, payload: &[u8]) -> [u8; 4] {
    let mut crc = crc32fast::Hasher::new();
    crc.update(id.as_bytes());
    crc.update(&[VALUE_FORMAT, MODE_PLAIN]);
    crc.update(payload);
    crc.finalize().to_be_bytes()
}

/// The integrity error for the record `id`.
pub(crate) fn integrity_error(id: &RecordId) -> Error {
    Error::Integrity { id: id.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (RecordId, RecordId) {
        (
            RecordId::generate(10).unwrap(),
            RecordId::generate(11).unwrap(),
        )
    }

    #[test]
    fn encrypted_values_hide_the_payload_and_read_back() {
        let (id, _) = ids();
        let key = DataKey::random(3);
        let payload = b"the quick brown fox".repeat(4);
        let value = key.seal(&id, &payload).unwrap();
        assert_eq!(
            value.len(),
            HEADER_LEN + NONCE_LEN + payload.len() + TAG_LEN
        );
        assert!(!value.windows(9).any(|w| w == b"quick bro"));
        assert_eq!(sealing_of(&id, &value).unwrap(), Sealing::Encrypted(3));
        assert_eq!(key.open(&id, &value).unwrap(), payload);
        assert_ne!(
            key.seal(&id, &payload).unwrap(),
            value,
            "nonces must differ"
        );
    }

    #[test]
    fn encrypted_values_fail_under_another_id_key_or_header() {
        let (id, other_id) = ids();
        let key = DataKey::random(1);
        let value = key.seal(&id, b"secret").unwrap();
        assert!(matches!(
            key.open(&other_id, &value),
            Err(Error::Integrity { .. })
        ));
        assert!(DataKey::random(1).open(&id, &value).is_err());
        let mut relabelled = value.clone();
        relabelled[5] ^= 1; // generation field
        assert!(key.open(&id, &relabelled).is_err());
        let mut flipped = value.clone();
        *flipped.last_mut().unwrap() ^= 0x80;
        assert!(key.open(&id, &flipped).is_err());
        assert!(key.open(&id, &value[..10]).is_err());
    }

    #[test]
    fn plain_values_detect_damage_and_moves() {
        let (id, other_id) = ids();
        let value = seal_plain(&id, b"visible text");
        assert!(value.windows(7).any(|w| w == b"visible"));
        assert_eq!(open_plain(&id, &value).unwrap(), b"visible text");
        assert_eq!(sealing_of(&id, &value).unwrap(), Sealing::Plain);
        assert!(open_plain(&other_id, &value).is_err());
        let mut damaged = value.clone();
        damaged[8] ^= 4;
        assert!(open_plain(&id, &damaged).is_err());
    }

    #[test]
    fn data_keys_from_one_root_are_equal() {
        let (id, _) = ids();
        let root = random_secret();
        let first = DataKey::from_root(7, Zeroizing::new(*root));
        let second = DataKey::from_root(7, root);
        let value = first.seal(&id, b"same keys").unwrap();
        assert_eq!(second.open(&id, &value).unwrap(), b"same keys");
    }
}
