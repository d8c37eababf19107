//! Stored records and lists of them, as handles with accessors.

use std::ffi::{c_char, CString};

use voiceflow_core::store::Record;

use crate::boundary::{FfiError, FfiResult};
use crate::handle::{c_string, free_handle, read};
use crate::status::VfStatus;

/// One stored transcript (opaque), from `vf_store_get` (free it with
/// `vf_record_free`) or borrowed from a `VfRecordList`. Strings read from it
/// live as long as it does.
pub struct VfRecord {
    id: CString,
    created_at_ms: u64,
    context: CString,
    raw_text: CString,
    enhanced_text: Option<CString>,
    language: CString,
    duration_s: f64,
}

impl VfRecord {
    /// The handle for `record`.
    pub(crate) fn new(record: &Record) -> FfiResult<Self> {
        let data = &record.data;
        Ok(VfRecord {
            id: c_string(&record.id.to_string())?,
            created_at_ms: record.created_at_ms,
            context: c_string(data.context.label())?,
            raw_text: c_string(&data.raw_text)?,
            enhanced_text: data.enhanced_text.as_deref().map(c_string).transpose()?,
            language: c_string(&data.language)?,
            duration_s: data.audio_duration_s,
        })
    }
}

/// Records found by `vf_store_search` or `vf_store_query` (opaque), newest
/// first; free it with `vf_record_list_free`.
pub struct VfRecordList {
    records: Vec<VfRecord>,
}

impl VfRecordList {
    /// The handle for `records`.
    pub(crate) fn new(records: &[Record]) -> FfiResult<Self> {
        let records = records
            .iter()
            .map(VfRecord::new)
            .collect::<FfiResult<_>>()?;
        Ok(VfRecordList { records })
    }
}

/// The record's id: 32 hexadecimal digits.
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_id` is NULL or points to a writable `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_id(
    record: *const VfRecord,
    out_id: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_id` NULL or
    // writable (# Safety), as `read` requires.
    unsafe { read(record, out_id, std::ptr::null(), |r| Ok(r.id.as_ptr())) }
}

/// When the record was created, in milliseconds since the Unix epoch.
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_ms` is NULL or points to a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_created_at_ms(
    record: *const VfRecord,
    out_ms: *mut u64,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_ms` NULL or
    // writable (# Safety), as `read` requires.
    unsafe { read(record, out_ms, 0, |r| Ok(r.created_at_ms)) }
}

/// The context label (`"email"`, or the caller's own label).
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_context` is NULL or points to a writable
/// `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_context(
    record: *const VfRecord,
    out_context: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_context` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(record, out_context, std::ptr::null(), |r| {
            Ok(r.context.as_ptr())
        })
    }
}

/// The transcript as the model wrote it.
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_text` is NULL or points to a writable `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_raw_text(
    record: *const VfRecord,
    out_text: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_text` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(record, out_text, std::ptr::null(), |r| {
            Ok(r.raw_text.as_ptr())
        })
    }
}

/// The enhanced text; `*out_text` is NULL when the record has none.
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_text` is NULL or points to a writable `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_enhanced_text(
    record: *const VfRecord,
    out_text: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_text` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(record, out_text, std::ptr::null(), |r| {
            Ok(r.enhanced_text
                .as_ref()
                .map_or(std::ptr::null(), |t| t.as_ptr()))
        })
    }
}

/// The language code (empty when unknown).
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_language` is NULL or points to a writable
/// `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_language(
    record: *const VfRecord,
    out_language: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_language` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(record, out_language, std::ptr::null(), |r| {
            Ok(r.language.as_ptr())
        })
    }
}

/// The duration of the transcribed audio in seconds (0 for text stored
/// with `vf_store_put_text`).
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get` (not freed) or from
/// `vf_record_list_get` (its list not freed), and is not freed before the
/// call returns; `out_seconds` is NULL or points to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_duration(
    record: *const VfRecord,
    out_seconds: *mut f64,
) -> VfStatus {
    // SAFETY: `record` is NULL or live for the call and `out_seconds` NULL or
    // writable (# Safety), as `read` requires.
    unsafe { read(record, out_seconds, 0.0, |r| Ok(r.duration_s)) }
}

/// Frees a record from `vf_store_get`; NULL does nothing. Never pass a
/// record borrowed from a list.
///
/// # Safety
/// `record` is NULL or a record from `vf_store_get`, not freed before, that
/// no other thread is using; never one from `vf_record_list_get`. It must not
/// be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_record_free(record: *mut VfRecord) {
    // SAFETY: NULL or an unfreed record of `vf_store_get`, made by
    // `into_handle`, with no other user (# Safety).
    unsafe { free_handle(record) }
}

/// The number of records in the list.
///
/// # Safety
/// `list` is NULL or a list from `vf_store_search` or `vf_store_query` not
/// freed before the call returns; `out_count` is NULL or points to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_list_count(
    list: *const VfRecordList,
    out_count: *mut usize,
) -> VfStatus {
    // SAFETY: `list` is NULL or live for the call and `out_count` NULL or
    // writable (# Safety), as `read` requires.
    unsafe { read(list, out_count, 0, |l| Ok(l.records.len())) }
}

/// Record `index` (0-based) of the list, borrowed: valid until the list is
/// freed, not to be freed itself. `VF_ERROR_INVALID_ARGUMENT` past the end.
///
/// # Safety
/// `list` is NULL or a list from `vf_store_search` or `vf_store_query` not
/// freed before the call returns; `out_record` is NULL or points to a
/// writable `const VfRecord *`.
#[no_mangle]
pub unsafe extern "C" fn vf_record_list_get(
    list: *const VfRecordList,
    index: usize,
    out_record: *mut *const VfRecord,
) -> VfStatus {
    // SAFETY: `list` is NULL or live for the call and `out_record` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(list, out_record, std::ptr::null(), |l| {
            let count = l.records.len();
            l.records
                .get(index)
                .map(|r| r as *const VfRecord)
                .ok_or_else(|| {
                    FfiError::invalid(format!(
                        "record index {index} is out of range (the list has {count})"
                    ))
                })
        })
    }
}

/// Frees a record list and the records borrowed from it; NULL does nothing.
///
/// # Safety
/// `list` is NULL or a list from `vf_store_search` or `vf_store_query`, not
/// freed before, that no other thread is using. Neither it nor its records
/// may be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_record_list_free(list: *mut VfRecordList) {
    // SAFETY: NULL or an unfreed list made by `into_handle`, with no
    // other user (# Safety).
    unsafe { free_handle(list) }
}
