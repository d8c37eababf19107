//! The store's metadata: what makes a folder a VoiceFlow store, its format
//! version and how it is protected. One key of the metadata tree holds it
//! as JSON, so every change of it is a single atomic write.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::keys::KeySlot;
use super::kv::{Kv, Tree};
use crate::{Error, Result};

/// The key of the metadata in [`Tree::Meta`].
const META_KEY: &[u8] = b"voiceflow/meta";
/// Marks a database as a VoiceFlow store.
const MAGIC: &str = "voiceflow-store";
/// The store format this version writes and reads.
pub(crate) const STORE_FORMAT: u32 = 1;

/// How the records of a store are protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub(crate) enum Protection {
    /// Records are stored in the clear.
    Unencrypted,
    /// Records are sealed with AES-256-GCM under data keys wrapped in the
    /// slots.
    Aes256Gcm {
        /// One slot a key-encryption key; two while a rotation is pending.
        slots: Vec<KeySlot>,
    },
}

/// The fields every format has, read first so that a newer format is told
/// apart from damaged metadata.
#[derive(Deserialize)]
struct Header {
    magic: String,
    format: u32,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    magic: String,
    format: u32,
    protection: Protection,
}

/// The protection recorded in `kv`; `None` when the database has no
/// VoiceFlow metadata.
pub(crate) fn read(kv: &dyn Kv, path: &Path) -> Result<Option<Protection>> {
    let format_error = |reason: String| Error::StoreFormat {
        path: path.to_path_buf(),
        reason,
        source: None,
    };
    let damaged = |reason: &str, e: serde_json::Error| Error::StoreFormat {
        path: path.to_path_buf(),
        reason: reason.to_string(),
        source: Some(e.into()),
    };
    let Some(bytes) = kv.get(Tree::Meta, META_KEY)? else {
        return Ok(None);
    };
    let header: Header =
        serde_json::from_slice(&bytes).map_err(|e| damaged("unreadable store metadata", e))?;
    if header.magic != MAGIC {
        return Err(format_error("not a VoiceFlow store".into()));
    }
    if header.format != STORE_FORMAT {
        let age = if header.format > STORE_FORMAT {
            "newer"
        } else {
            "unknown"
        };
        return Err(format_error(format!(
            "the store has a {age} format ({}); this version reads format {STORE_FORMAT}",
            header.format
        )));
    }
    let meta: Meta =
        serde_json::from_slice(&bytes).map_err(|e| damaged("damaged store metadata", e))?;
    Ok(Some(meta.protection))
}

/// Records `protection` in `kv` and makes it durable before returning.
pub(crate) fn write(kv: &dyn Kv, protection: &Protection) -> Result<()> {
    let meta = Meta {
        magic: MAGIC.to_string(),
        format: STORE_FORMAT,
        protection: protection.clone(),
    };
    let bytes = serde_json::to_vec(&meta)
        .map_err(|e| Error::storage_from("cannot serialize store metadata", e))?;
    kv.write(&mut |tx| tx.insert(Tree::Meta, META_KEY, &bytes).map(drop))?;
    kv.flush()
}
