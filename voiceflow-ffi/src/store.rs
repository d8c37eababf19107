//! The store handle: an encrypted transcript store on disk.

use std::ffi::c_char;

use voiceflow_core::store::{RecordContext, RecordData, RecordId, Store, StoreConfig, StoreKey};

use crate::boundary::{arg, guard, optional_utf8, out, slice, utf8, FfiError, FfiResult};
use crate::handle::{free_handle, into_handle, owned_string, read};
use crate::record::{VfRecord, VfRecordList};
use crate::status::VfStatus;
use crate::transcript::VfTranscript;

/// An open transcript store (opaque). Thread-safe: one store may be used
/// from many threads at once. A store folder can be open in one process at
/// a time; freeing the handle flushes and closes it.
pub struct VfStore {
    pub(crate) store: Store,
}

/// Opens the store in the folder `path` (created when missing or empty) and
/// writes the new handle to `*out_store`.
///
/// # Safety
/// For the call: `path` is NULL or a NUL-terminated string (as for
/// [`utf8`]); `out_store` is NULL or writable and overlaps nothing else (as
/// for [`out`]).
unsafe fn open(path: *const c_char, key: StoreKey, out_store: *mut *mut VfStore) -> FfiResult {
    // SAFETY: `out_store` is NULL or writable and unaliased (our contract).
    let out_store = unsafe { out(out_store, "out_store", std::ptr::null_mut())? };
    // SAFETY: `path` is NULL or a NUL-terminated string (our contract).
    let path = unsafe { utf8(path, "path")? };
    *out_store = into_handle(VfStore {
        store: Store::open(path, key, StoreConfig::default())?,
    });
    Ok(())
}

/// Opens (or creates) the store in the folder `path`, encrypted under a key
/// derived from `passphrase` (Argon2id). Free it with `vf_store_free`.
///
/// Errors: `VF_ERROR_WRONG_KEY`, `VF_ERROR_STORE_FORMAT` (not a store),
/// `VF_ERROR_INVALID_ARGUMENT` (empty passphrase), `VF_ERROR_IO` (folder
/// unreadable or open in another process).
///
/// # Safety
/// `path` and `passphrase` are NULL or NUL-terminated strings;
/// `out_store` is NULL or points to a writable `VfStore *` apart from them.
#[no_mangle]
pub unsafe extern "C" fn vf_store_open(
    path: *const c_char,
    passphrase: *const c_char,
    out_store: *mut *mut VfStore,
) -> VfStatus {
    guard(|| {
        // SAFETY: `passphrase` is NULL or a NUL-terminated string (# Safety).
        let key = StoreKey::passphrase(unsafe { utf8(passphrase, "passphrase")? });
        // SAFETY: `path` and `out_store` are as `open` requires (# Safety).
        unsafe { open(path, key, out_store) }
    })
}

/// Opens (or creates) the store in `path` under a raw key of exactly 32
/// bytes (`key_length` must be 32). Errors as `vf_store_open`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `key` is NULL or points to 32
/// readable bytes when `key_length` is 32 (with any other length it is not
/// read); `out_store` is NULL or points to a writable `VfStore *` apart
/// from them.
#[no_mangle]
pub unsafe extern "C" fn vf_store_open_with_key(
    path: *const c_char,
    key: *const u8,
    key_length: usize,
    out_store: *mut *mut VfStore,
) -> VfStatus {
    guard(|| {
        // The length first: a wrong one never reads the caller's buffer.
        let wrong_length =
            || FfiError::invalid(format!("a store key has 32 bytes, not {key_length}"));
        if key_length != 32 {
            return Err(wrong_length());
        }
        // SAFETY: `key_length` is 32, so `key` is NULL or has 32 readable
        // bytes (# Safety).
        let key = unsafe { slice(key, key_length, "key")? };
        let key: [u8; 32] = key.try_into().map_err(|_| wrong_length())?;
        // SAFETY: `path` and `out_store` are as `open` requires (# Safety).
        unsafe { open(path, StoreKey::raw(key), out_store) }
    })
}

/// Opens (or creates) an unencrypted store in `path`: anyone with the
/// files can read it. Errors as `vf_store_open`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out_store` is NULL or points
/// to a writable `VfStore *` apart from it.
#[no_mangle]
pub unsafe extern "C" fn vf_store_open_unencrypted(
    path: *const c_char,
    out_store: *mut *mut VfStore,
) -> VfStatus {
    // SAFETY: `path` and `out_store` are as `open` requires (# Safety).
    guard(|| unsafe { open(path, StoreKey::unencrypted(), out_store) })
}

/// Stores `data` in `store`; its new id goes to `*out_id`.
///
/// # Safety
/// For the call: `store` is NULL or a live store (as for [`arg`]);
/// `out_id` is NULL or writable and overlaps nothing else (as for [`out`]).
unsafe fn put(
    store: *const VfStore,
    data: impl FnOnce() -> FfiResult<RecordData>,
    out_id: *mut *mut c_char,
) -> FfiResult {
    // SAFETY: `out_id` is NULL or writable and unaliased (our contract).
    let out_id = unsafe { out(out_id, "out_id", std::ptr::null_mut())? };
    // SAFETY: `store` is NULL or a live store for the call (our contract).
    let store = unsafe { arg(store, "store")? };
    let id = store.store.put(&data()?)?;
    *out_id = owned_string(&id.to_string())?;
    Ok(())
}

/// Stores a transcript (text, segments, language, duration, model) under
/// the context label `context` (`"email"`, `"chat"`, ... or 1 to 64 bytes of
/// the caller's own) with the optional `enhanced_text` (NULL for none). The
/// new record's id is written to `*out_id`, a string to free with
/// `vf_string_free`.
///
/// # Safety
/// - `store` is NULL or a store from `vf_store_open*` and `transcript` NULL
///   or a transcript from `vf_engine_transcribe_*` or `vf_stream_finish`,
///   neither freed before the call returns.
/// - `context` and `enhanced_text` are NULL or NUL-terminated strings.
/// - `out_id` is NULL or points to a writable `char *` apart from the other
///   arguments.
#[no_mangle]
pub unsafe extern "C" fn vf_store_put(
    store: *const VfStore,
    transcript: *const VfTranscript,
    context: *const c_char,
    enhanced_text: *const c_char,
    out_id: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        let data = || {
            // SAFETY: `transcript` is NULL or live for the call (# Safety).
            let transcript = unsafe { arg(transcript, "transcript")? };
            // SAFETY: `context` is NULL or a NUL-terminated string (# Safety).
            let context = unsafe { utf8(context, "context")? };
            let mut data = RecordData::from_transcript(
                &transcript.transcript,
                RecordContext::from_label(context),
                transcript.model.as_str(),
            );
            // SAFETY: `enhanced_text` is NULL or a NUL-terminated string (# Safety).
            let enhanced_text = unsafe { optional_utf8(enhanced_text, "enhanced_text")? };
            data.enhanced_text = enhanced_text.map(Into::into);
            Ok(data)
        };
        // SAFETY: `store` and `out_id` are as `put` requires (# Safety).
        unsafe { put(store, data, out_id) }
    })
}

/// Stores text that did not come from a transcription (typed or edited),
/// like `vf_store_put`.
///
/// # Safety
/// - `store` is NULL or a store from `vf_store_open*` not freed before the
///   call returns.
/// - `context`, `raw_text` and `enhanced_text` are NULL or NUL-terminated
///   strings.
/// - `out_id` is NULL or points to a writable `char *` apart from the other
///   arguments.
#[no_mangle]
pub unsafe extern "C" fn vf_store_put_text(
    store: *const VfStore,
    context: *const c_char,
    raw_text: *const c_char,
    enhanced_text: *const c_char,
    out_id: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        let data = || {
            // SAFETY: `context` is NULL or a NUL-terminated string (# Safety).
            let context = unsafe { utf8(context, "context")? };
            // SAFETY: `raw_text` is NULL or a NUL-terminated string (# Safety).
            let raw_text = unsafe { utf8(raw_text, "raw_text")? };
            // SAFETY: `enhanced_text` is NULL or a NUL-terminated string (# Safety).
            let enhanced_text = unsafe { optional_utf8(enhanced_text, "enhanced_text")? };
            Ok(RecordData {
                context: RecordContext::from_label(context),
                raw_text: raw_text.into(),
                enhanced_text: enhanced_text.map(Into::into),
                ..RecordData::default()
            })
        };
        // SAFETY: `store` and `out_id` are as `put` requires (# Safety).
        unsafe { put(store, data, out_id) }
    })
}

/// Parses a record id argument.
///
/// # Safety
/// As for [`utf8`].
unsafe fn record_id(id: *const c_char) -> FfiResult<RecordId> {
    // SAFETY: `id` is NULL or a NUL-terminated string (our contract).
    Ok(unsafe { utf8(id, "id")? }.parse()?)
}

/// Reads the record `id` into a new handle at `*out_record` (free it with
/// `vf_record_free`).
///
/// Errors: `VF_ERROR_NOT_FOUND`, `VF_ERROR_INVALID_ARGUMENT` (not an id),
/// `VF_ERROR_INTEGRITY` (its stored bytes were altered).
///
/// # Safety
/// `store` is NULL or a store from `vf_store_open*` not freed before the
/// call returns; `id` is NULL or a NUL-terminated string; `out_record` is
/// NULL or points to a writable `VfRecord *` apart from them.
#[no_mangle]
pub unsafe extern "C" fn vf_store_get(
    store: *const VfStore,
    id: *const c_char,
    out_record: *mut *mut VfRecord,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_record` is NULL or writable and unaliased (# Safety).
        let out_record = unsafe { out(out_record, "out_record", std::ptr::null_mut())? };
        // SAFETY: `store` is NULL or a live store for the call (# Safety).
        let store = unsafe { arg(store, "store")? };
        // SAFETY: `id` is NULL or a NUL-terminated string (# Safety).
        let id = unsafe { record_id(id)? };
        let record = store.store.get(&id)?;
        *out_record = into_handle(VfRecord::new(&record)?);
        Ok(())
    })
}

/// Finds up to `limit` records whose raw or enhanced text has every word of
/// `words`, newest first, as a new list at `*out_list` (free it with
/// `vf_record_list_free`).
///
/// # Safety
/// `store` is NULL or a store from `vf_store_open*` not freed before the
/// call returns; `words` is NULL or a NUL-terminated string; `out_list` is
/// NULL or points to a writable `VfRecordList *` apart from them.
#[no_mangle]
pub unsafe extern "C" fn vf_store_search(
    store: *const VfStore,
    words: *const c_char,
    limit: usize,
    out_list: *mut *mut VfRecordList,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_list` is NULL or writable and unaliased (# Safety).
        let out_list = unsafe { out(out_list, "out_list", std::ptr::null_mut())? };
        // SAFETY: `store` is NULL or a live store for the call (# Safety).
        let store = unsafe { arg(store, "store")? };
        // SAFETY: `words` is NULL or a NUL-terminated string (# Safety).
        let words = unsafe { utf8(words, "words")? };
        let found = store.store.search(words, limit)?;
        *out_list = into_handle(VfRecordList::new(&found)?);
        Ok(())
    })
}

/// Deletes the record `id`. Errors: `VF_ERROR_NOT_FOUND`,
/// `VF_ERROR_INVALID_ARGUMENT` (not an id).
///
/// # Safety
/// `store` is NULL or a store from `vf_store_open*` not freed before the
/// call returns; `id` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vf_store_delete(store: *const VfStore, id: *const c_char) -> VfStatus {
    guard(|| {
        // SAFETY: `store` is NULL or a live store for the call (# Safety).
        let store = unsafe { arg(store, "store")? };
        // SAFETY: `id` is NULL or a NUL-terminated string (# Safety).
        let id = unsafe { record_id(id)? };
        store.store.delete(&id)?;
        Ok(())
    })
}

/// The number of records in the store.
///
/// # Safety
/// `store` is NULL or a store from `vf_store_open*` not freed before the
/// call returns; `out_count` is NULL or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn vf_store_count(store: *const VfStore, out_count: *mut usize) -> VfStatus {
    // SAFETY: `store` is NULL or live for the call and `out_count` NULL or
    // writable (# Safety), as `read` requires.
    unsafe { read(store, out_count, 0, |s| Ok(s.store.count())) }
}

/// Makes every write that returned before this call durable on disk.
///
/// # Safety
/// `store` is NULL or a store from `vf_store_open*` not freed before the
/// call returns.
#[no_mangle]
pub unsafe extern "C" fn vf_store_flush(store: *const VfStore) -> VfStatus {
    guard(|| {
        // SAFETY: `store` is NULL or a live store for the call (# Safety).
        unsafe { arg(store, "store")? }.store.flush()?;
        Ok(())
    })
}

/// Flushes and closes a store; NULL does nothing.
///
/// # Safety
/// `store` is NULL or a store from `vf_store_open*`, not freed before, that
/// no other thread is using; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_store_free(store: *mut VfStore) {
    // SAFETY: NULL or an unfreed store made by `into_handle`, with no other
    // user (# Safety).
    unsafe { free_handle(store) }
}
