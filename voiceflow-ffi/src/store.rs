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
/// As for the exported functions that call it.
unsafe fn open(path: *const c_char, key: StoreKey, out_store: *mut *mut VfStore) -> FfiResult {
    let out_store = unsafe { out(out_store, "out_store", std::ptr::null_mut())? };
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
#[no_mangle]
pub unsafe extern "C" fn vf_store_open(
    path: *const c_char,
    passphrase: *const c_char,
    out_store: *mut *mut VfStore,
) -> VfStatus {
    guard(|| {
        let key = StoreKey::passphrase(unsafe { utf8(passphrase, "passphrase")? });
        unsafe { open(path, key, out_store) }
    })
}

/// Opens (or creates) the store in `path` under a raw key of exactly 32
/// bytes (`key_length` must be 32). Errors as `vf_store_open`.
#[no_mangle]
pub unsafe extern "C" fn vf_store_open_with_key(
    path: *const c_char,
    key: *const u8,
    key_length: usize,
    out_store: *mut *mut VfStore,
) -> VfStatus {
    guard(|| {
        let key = unsafe { slice(key, key_length, "key")? };
        let key: [u8; 32] = key.try_into().map_err(|_| {
            FfiError::invalid(format!("a store key has 32 bytes, not {key_length}"))
        })?;
        unsafe { open(path, StoreKey::raw(key), out_store) }
    })
}

/// Opens (or creates) an unencrypted store in `path`: anyone with the
/// files can read it. Errors as `vf_store_open`.
#[no_mangle]
pub unsafe extern "C" fn vf_store_open_unencrypted(
    path: *const c_char,
    out_store: *mut *mut VfStore,
) -> VfStatus {
    guard(|| unsafe { open(path, StoreKey::unencrypted(), out_store) })
}

/// Stores `data` in `store`; its new id goes to `*out_id`.
///
/// # Safety
/// As for the exported functions that call it.
unsafe fn put(
    store: *const VfStore,
    data: impl FnOnce() -> FfiResult<RecordData>,
    out_id: *mut *mut c_char,
) -> FfiResult {
    let out_id = unsafe { out(out_id, "out_id", std::ptr::null_mut())? };
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
#[no_mangle]
pub unsafe extern "C" fn vf_store_put(
    store: *const VfStore,
    transcript: *const VfTranscript,
    context: *const c_char,
    enhanced_text: *const c_char,
    out_id: *mut *mut c_char,
) -> VfStatus {
    guard(|| unsafe {
        let data = || {
            let transcript = arg(transcript, "transcript")?;
            let mut data = RecordData::from_transcript(
                &transcript.transcript,
                RecordContext::from_label(utf8(context, "context")?),
                transcript.model.as_str(),
            );
            data.enhanced_text = optional_utf8(enhanced_text, "enhanced_text")?.map(Into::into);
            Ok(data)
        };
        put(store, data, out_id)
    })
}

/// Stores text that did not come from a transcription (typed or edited),
/// like `vf_store_put`.
#[no_mangle]
pub unsafe extern "C" fn vf_store_put_text(
    store: *const VfStore,
    context: *const c_char,
    raw_text: *const c_char,
    enhanced_text: *const c_char,
    out_id: *mut *mut c_char,
) -> VfStatus {
    guard(|| unsafe {
        let data = || {
            Ok(RecordData {
                context: RecordContext::from_label(utf8(context, "context")?),
                raw_text: utf8(raw_text, "raw_text")?.into(),
                enhanced_text: optional_utf8(enhanced_text, "enhanced_text")?.map(Into::into),
                ..RecordData::default()
            })
        };
        put(store, data, out_id)
    })
}

/// Parses a record id argument.
///
/// # Safety
/// As for [`utf8`].
unsafe fn record_id(id: *const c_char) -> FfiResult<RecordId> {
    Ok(unsafe { utf8(id, "id")? }.parse()?)
}

/// Reads the record `id` into a new handle at `*out_record` (free it with
/// `vf_record_free`).
///
/// Errors: `VF_ERROR_NOT_FOUND`, `VF_ERROR_INVALID_ARGUMENT` (not an id),
/// `VF_ERROR_INTEGRITY` (its stored bytes were altered).
#[no_mangle]
pub unsafe extern "C" fn vf_store_get(
    store: *const VfStore,
    id: *const c_char,
    out_record: *mut *mut VfRecord,
) -> VfStatus {
    guard(|| {
        let out_record = unsafe { out(out_record, "out_record", std::ptr::null_mut())? };
        let store = unsafe { arg(store, "store")? };
        let record = store.store.get(&unsafe { record_id(id)? })?;
        *out_record = into_handle(VfRecord::new(&record)?);
        Ok(())
    })
}

/// Finds up to `limit` records whose raw or enhanced text has every word of
/// `words`, newest first, as a new list at `*out_list` (free it with
/// `vf_record_list_free`).
#[no_mangle]
pub unsafe extern "C" fn vf_store_search(
    store: *const VfStore,
    words: *const c_char,
    limit: usize,
    out_list: *mut *mut VfRecordList,
) -> VfStatus {
    guard(|| {
        let out_list = unsafe { out(out_list, "out_list", std::ptr::null_mut())? };
        let store = unsafe { arg(store, "store")? };
        let found = store
            .store
            .search(unsafe { utf8(words, "words")? }, limit)?;
        *out_list = into_handle(VfRecordList::new(&found)?);
        Ok(())
    })
}

/// Deletes the record `id`. Errors: `VF_ERROR_NOT_FOUND`,
/// `VF_ERROR_INVALID_ARGUMENT` (not an id).
#[no_mangle]
pub unsafe extern "C" fn vf_store_delete(store: *const VfStore, id: *const c_char) -> VfStatus {
    guard(|| {
        let store = unsafe { arg(store, "store")? };
        store.store.delete(&unsafe { record_id(id)? })?;
        Ok(())
    })
}

/// The number of records in the store.
#[no_mangle]
pub unsafe extern "C" fn vf_store_count(store: *const VfStore, out_count: *mut usize) -> VfStatus {
    unsafe { read(store, out_count, 0, |s| Ok(s.store.count())) }
}

/// Makes every write that returned before this call durable on disk.
#[no_mangle]
pub unsafe extern "C" fn vf_store_flush(store: *const VfStore) -> VfStatus {
    guard(|| {
        unsafe { arg(store, "store")? }.store.flush()?;
        Ok(())
    })
}

/// Flushes and closes a store; NULL does nothing. No other thread may still
/// use it.
#[no_mangle]
pub unsafe extern "C" fn vf_store_free(store: *mut VfStore) {
    unsafe { free_handle(store) }
}
