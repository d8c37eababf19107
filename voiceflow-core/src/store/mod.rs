//! The encrypted transcript store: transcripts kept on disk, unreadable
//! without the key, searchable by keyword, safe against crashes.
//!
//! # Overview
//!
//! A [`Store`] is a folder holding an embedded key-value database
//! ([redb](https://docs.rs/redb) by default, see [the key-value
//! engine](#the-key-value-engine)). Each [`Record`] (a transcript with its context, texts, segments,
//! timings and user metadata) gets a time-ordered [`RecordId`] and is kept as
//! one value sealed with AES-256-GCM. The key is a raw 32-byte key or a
//! passphrase ([`StoreKey`]); a wrong one fails at [`Store::open`] with
//! [`Error::WrongKey`](crate::Error::WrongKey). Unencrypted stores are an
//! explicit choice ([`StoreKey::unencrypted`]).
//!
//! ```
//! use voiceflow_core::store::{RecordData, Store, StoreConfig, StoreKey};
//! use voiceflow_core::Context;
//!
//! # fn main() -> voiceflow_core::Result<()> {
//! # let folder = tempfile::tempdir().unwrap();
//! let store = Store::open(
//!     folder.path().join("transcripts"),
//!     StoreKey::passphrase("correct horse battery staple"),
//!     StoreConfig::default(),
//! )?;
//!
//! let id = store.put(&RecordData {
//!     context: Context::Email.into(),
//!     raw_text: "Let's move the budget meeting to Friday".into(),
//!     language: "en".into(),
//!     model: "base.en".into(),
//!     ..Default::default()
//! })?;
//! store.flush()?; // durable from here on
//!
//! let hits = store.search("budget friday", 10)?;
//! assert_eq!(hits[0].id, id);
//! let record = store.get(&id)?;
//! assert_eq!(record.data.raw_text, "Let's move the budget meeting to Friday");
//! # Ok(())
//! # }
//! ```
//!
//! # Threads and durability
//!
//! `Store` is `Send + Sync`. Share one handle as `Arc<Store>` (or `&Store`)
//! between threads; every method but [`Store::rotate_key`] takes `&self`.
//! No connection pool exists or is needed: the database is embedded, so
//! there is no server to connect to, and concurrent calls go straight to
//! its tables. A store folder can be open once at a time (the engine locks
//! it).
//!
//! Every write (a record with its index entries) is one atomic
//! transaction. [`FlushPolicy`] decides when writes reach the disk;
//! [`Store::flush`] makes everything written before it durable, so a record
//! that was written and flushed survives `kill -9`. Batch writes with
//! [`Store::put_batch`].
//!
//! # Encryption
//!
//! Records are sealed with a random 256-bit data key. The user's key (a raw
//! key, or a passphrase stretched with Argon2id under a random salt, its
//! parameters kept in the store's metadata, see [`KdfParams`]) gives a
//! key-encryption key that wraps the data key; a key-check value in the
//! metadata makes a wrong key fail at open with a clear error. Each value is
//! sealed under a fresh random 96-bit nonce, with the record id, the value
//! format and the key generation as associated data: a value moved to
//! another id fails to decrypt with
//! [`Error::Integrity`](crate::Error::Integrity). A damaged record is
//! reported on its own; the others still read. Key material is zeroized on
//! drop. [`Store::rotate_key`] re-encrypts everything under a new key; a
//! crash part-way leaves a store that opens with the old key or the new one
//! and reads every record.
//!
//! # Queries and the blind index
//!
//! [`Store::get`] by id; [`Store::query`] lists newest first by time range
//! and [`RecordContext`], a page at a time with a [`Cursor`], and searches by
//! keywords; [`Store::delete`], retention with [`Store::delete_older_than`],
//! [`Store::count`]; export and import as JSON Lines.
//!
//! Keyword search uses a *blind index*: keyed HMACs of normalised words map
//! to record ids. A record's tokens are written in the same transaction as
//! the record; a background thread folds them into the inverted index in
//! bulk, and every search also reads the token lists still pending, so a
//! search sees every record written before it (and none deleted). No word is
//! stored in plaintext, but **equal words map to equal index keys**: someone
//! holding the files, without the key, can tell which records share a word
//! or a context, how many distinct words each has and how often each
//! (unknown) word occurs, and may guess frequent words from their frequency.
//! Words are split at every character that is not a letter or digit,
//! lowercased and cut to [`MAX_WORD_CHARS`] characters; a search matches
//! records whose raw or enhanced text has every query word.
//!
//! # The key-value engine
//!
//! New stores are kept in [redb](https://docs.rs/redb) ([`Backend::Redb`],
//! the file `store.redb`): copy-on-write B-trees with checksummed commit
//! slots, so a crash leaves the last durable commit, whole. A write commits
//! without `fsync` (so that single puts stay fast: 10,000 encrypted puts
//! and a flush take well under a second); [`Store::flush`], the
//! [`FlushPolicy`] and dropping the store make it durable.
//!
//! Stores made by earlier versions are kept in sled 0.34 ([`Backend::Sled`],
//! the files `conf` and `db`); [`Store::open`] opens a folder with the
//! engine whose files it holds, so they keep working, and
//! [`StoreConfig::backend`] chooses the engine of new stores. sled 0.34.7
//! can deadlock under long bursts of writes at full speed (a writer growing
//! the file waits, holding sled's segment accountant, for a truncation
//! queued in sled's I/O pool behind log writes that wait for that
//! accountant; spacejam/sled issue 1412, fixed after 0.34.7 by pull request
//! 1269, in no 0.34 release). [`Store::migrate`] copies a store into redb
//! (or back) without its key.
//!
//! # Formats
//!
//! The metadata carries a store format number (a newer one is refused with
//! [`Error::StoreFormat`](crate::Error::StoreFormat)), every value a value
//! format number, and every payload a schema number, so that later versions
//! can keep reading older records.

mod codec;
mod config;
mod crypto;
mod db;
mod hex;
mod id;
mod index;
mod inverted;
mod keyring;
mod keys;
mod kv;
mod meta;
mod migrate;
mod query;
mod record;
mod rotation;
mod stats;
mod transfer;

pub use crate::Context;
pub use config::{FlushPolicy, StoreConfig, DEFAULT_MAX_RECORD_BYTES};
pub use db::Store;
pub use id::RecordId;
pub use index::MAX_WORD_CHARS;
pub use keys::{KdfParams, StoreKey};
pub use kv::Backend;
pub use migrate::MigrationReport;
pub use query::{Cursor, Page, Query, DEFAULT_PAGE_SIZE};
pub use record::{Record, RecordContext, RecordData, MAX_CONTEXT_LABEL_BYTES};
pub use rotation::RotationReport;
pub use transfer::{ExportReport, ImportReport};
