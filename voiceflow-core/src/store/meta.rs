//! The store's metadata: what makes a folder a VoiceFlow store, its format
//! version and how it is protected. One sled key in the default tree holds
//! it as JSON, so every change of it is a single atomic write.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::keys::KeySlot;
use crate::{Error, Result};

/// The key of the metadata in sled's default tree.
const META_KEY: &[u8] = b"voiceflow/meta";
/// Marks a sled database as a VoiceFlow store.
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

/// The protection recorded in `db`; `None` when the database has no
/// VoiceFlow metadata.
pub(crate) fn read(db: &sled::Db, path: &Path) -> Result<Option<Protection>> {
    let format_error = |reason: String| Error::StoreFormat {
        path: path.to_path_buf(),
        reason,
    };
    let Some(bytes) = db.get(META_KEY).map_err(super::db::storage_error)? else {
        return Ok(None);
    };
    let header: Header = serde_json::from_slice(&bytes)
        .map_err(|e| format_error(format!("unreadable store metadata: {e}")))?;
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
    let meta: Meta = serde_json::from_slice(&bytes)
        .map_err(|e| format_error(format!("damaged store metadata: {e}")))?;
    Ok(Some(meta.protection))
}

/// Records `protection` in `db` and makes it durable before returning.
pub(crate) fn write(db: &sled::Db, protection: &Protection) -> Result<()> {
    let meta = Meta {
        magic: MAGIC.to_string(),
        format: STORE_FORMAT,
        protection: protection.clone(),
    };
    let bytes = serde_json::to_vec(&meta)
        .map_err(|e| Error::Storage(format!("cannot serialize store metadata: {e}")))?;
    db.insert(META_KEY, bytes)
        .map_err(super::db::storage_error)?;
    db.flush().map_err(super::db::storage_error)?;
    Ok(())
}
