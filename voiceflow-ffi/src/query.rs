//! Store queries: records by time range, context and words, a page at a time.

use std::ffi::c_char;
use std::time::{Duration, UNIX_EPOCH};

use voiceflow_core::store::{Cursor, Query, RecordContext, DEFAULT_PAGE_SIZE};

use crate::boundary::{arg, guard, optional_utf8, out, FfiResult};
use crate::handle::into_handle;
use crate::record::VfRecordList;
use crate::status::VfStatus;
use crate::store::VfStore;
use crate::versioned::{read_versioned, write_defaults, Versioned};

/// Which records `vf_store_query` returns; fill it with
/// `vf_query_default(&query, sizeof query)` first. Strings are borrowed for
/// the call. Size-versioned: `struct_size` is set by `vf_query_default`, and
/// new fields are only ever appended (see "ABI policy" at the top).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfQuery {
    /// `sizeof(VfQuery)` as the caller was compiled; set by
    /// `vf_query_default`. Fields past it take their defaults.
    pub struct_size: usize,
    /// Only records created at or after this time, in milliseconds since
    /// the Unix epoch; 0 for no lower bound.
    pub since_ms: u64,
    /// Only records created before this time, in milliseconds since the
    /// Unix epoch; 0 for no upper bound.
    pub until_ms: u64,
    /// Only records of this context label (`"email"`, or your own); NULL
    /// for any.
    pub context: *const c_char,
    /// Only records whose raw or enhanced text has every one of these words
    /// (case and punctuation do not matter); NULL for any.
    pub words: *const c_char,
    /// At most this many records (default 50).
    pub limit: usize,
    /// The id of the last record of the previous page, for the next page;
    /// NULL for the first page.
    pub after: *const c_char,
}

/// Fills `*out_query`, `struct_size` bytes long (pass `sizeof(VfQuery)`),
/// with a query for the newest 50 records of any kind and sets its
/// `struct_size`. A size that no release of the header had is
/// `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
///
/// # Safety
/// `out_query` is NULL or points to `struct_size` writable bytes, aligned
/// for a `VfQuery` (their old contents need not be initialised).
#[no_mangle]
pub unsafe extern "C" fn vf_query_default(out_query: *mut VfQuery, struct_size: usize) -> VfStatus {
    guard(|| {
        // SAFETY: `out_query` is NULL or `struct_size` writable bytes
        // (# Safety).
        unsafe { write_defaults(out_query, struct_size, "out_query") }
    })
}

// SAFETY: `repr(C)` with `struct_size` first; one released layout, this one;
// every field is a pointer or an integer, valid for any bytes.
unsafe impl Versioned for VfQuery {
    const NAME: &'static str = "VfQuery";
    const SIZES: &'static [usize] = &[size_of::<VfQuery>()];
    fn defaults() -> Self {
        VfQuery {
            struct_size: size_of::<VfQuery>(),
            since_ms: 0,
            until_ms: 0,
            context: std::ptr::null(),
            words: std::ptr::null(),
            limit: DEFAULT_PAGE_SIZE,
            after: std::ptr::null(),
        }
    }
}

/// The core query for `query` (NULL: the defaults).
///
/// # Safety
/// `query` is NULL or aligned and points to a query whose `struct_size`
/// bytes are readable and initialised, whose `context`, `words` and `after`
/// are NULL or NUL-terminated strings; all unchanged during the call.
unsafe fn core_query(query: *const VfQuery) -> FfiResult<Query> {
    // SAFETY: NULL (handled) or an aligned query, initialised for its
    // `struct_size` (our contract).
    let Some(query) = (unsafe { read_versioned(query, "query")? }) else {
        return Ok(Query::new());
    };
    let time = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
    let mut core = Query::new().limit(query.limit);
    if query.since_ms > 0 {
        core = core.since(time(query.since_ms));
    }
    if query.until_ms > 0 {
        core = core.until(time(query.until_ms));
    }
    // SAFETY: `context` is NULL or a NUL-terminated string (our contract).
    if let Some(label) = unsafe { optional_utf8(query.context, "query.context")? } {
        core = core.context(RecordContext::from_label(label));
    }
    // SAFETY: `words` is NULL or a NUL-terminated string (our contract).
    if let Some(words) = unsafe { optional_utf8(query.words, "query.words")? } {
        core = core.words(words);
    }
    // SAFETY: `after` is NULL or a NUL-terminated string (our contract).
    if let Some(after) = unsafe { optional_utf8(query.after, "query.after")? } {
        core = core.after(after.parse::<Cursor>()?);
    }
    Ok(core)
}

/// The records `query` selects (NULL: the newest 50), newest first, as a
/// new list at `*out_list` (free it with `vf_record_list_free`). Records
/// that fail the integrity check are left out. For the next page, set
/// `after` to the id of the list's last record; a page shorter than `limit`
/// is the last.
///
/// Errors: `VF_ERROR_INVALID_ARGUMENT` (`after` is not a record id, a
/// `words` with no word in it, a bad `struct_size`).
///
/// ```c
/// VfQuery query;
/// vf_query_default(&query, sizeof query);
/// query.context = "email";
/// query.since_ms = now_ms - 7 * 24 * 3600 * 1000ULL;
/// VfRecordList *list = NULL;
/// if (vf_store_query(store, &query, &list) == VF_OK) { ... }
/// vf_record_list_free(list);
/// ```
///
/// # Safety
/// - `store` is NULL or a store from `vf_store_open*` not freed before the
///   call returns.
/// - `query` is NULL or points to a `VfQuery` initialised by
///   `vf_query_default` (its `struct_size` bytes readable, every field in
///   them set) whose `context`, `words` and `after` are NULL or
///   NUL-terminated strings, unchanged during the call. A `struct_size` no
///   release had (0: uninitialised) is `VF_ERROR_INVALID_ARGUMENT`.
/// - `out_list` is NULL or points to a writable `VfRecordList *` apart from
///   the other arguments.
#[no_mangle]
pub unsafe extern "C" fn vf_store_query(
    store: *const VfStore,
    query: *const VfQuery,
    out_list: *mut *mut VfRecordList,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_list` is NULL or writable and unaliased (# Safety).
        let out_list = unsafe { out(out_list, "out_list", std::ptr::null_mut())? };
        // SAFETY: `store` is NULL or a live store for the call (# Safety).
        let store = unsafe { arg(store, "store")? };
        // SAFETY: `query` is NULL or a valid query for the call (# Safety).
        let query = unsafe { core_query(query)? };
        let page = store.store.query(&query)?;
        *out_list = into_handle(VfRecordList::new(&page.records)?);
        Ok(())
    })
}
