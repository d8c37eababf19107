//! Store queries: records by time range, context and words, a page at a time.

use std::ffi::c_char;
use std::time::{Duration, UNIX_EPOCH};

use voiceflow_core::store::{Cursor, Query, RecordContext, DEFAULT_PAGE_SIZE};

use crate::boundary::{arg, guard, optional_utf8, out, FfiResult};
use crate::handle::into_handle;
use crate::record::VfRecordList;
use crate::status::VfStatus;
use crate::store::VfStore;

/// Which records `vf_store_query` returns; fill it with `vf_query_default`
/// first. Strings are borrowed for the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfQuery {
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

/// Fills `*out_query` with a query for the newest 50 records of any kind.
#[no_mangle]
pub unsafe extern "C" fn vf_query_default(out_query: *mut VfQuery) -> VfStatus {
    guard(|| {
        let defaults = VfQuery {
            since_ms: 0,
            until_ms: 0,
            context: std::ptr::null(),
            words: std::ptr::null(),
            limit: DEFAULT_PAGE_SIZE,
            after: std::ptr::null(),
        };
        unsafe { out(out_query, "out_query", defaults)? };
        Ok(())
    })
}

/// The core query for `query` (NULL: the defaults).
///
/// # Safety
/// `query` is NULL or points to an initialised query whose strings are valid.
unsafe fn core_query(query: *const VfQuery) -> FfiResult<Query> {
    let Some(query) = (unsafe { query.as_ref() }) else {
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
    if let Some(label) = unsafe { optional_utf8(query.context, "query.context")? } {
        core = core.context(RecordContext::from_label(label));
    }
    if let Some(words) = unsafe { optional_utf8(query.words, "query.words")? } {
        core = core.words(words);
    }
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
/// `words` with no word in it).
///
/// ```c
/// VfQuery query;
/// vf_query_default(&query);
/// query.context = "email";
/// query.since_ms = now_ms - 7 * 24 * 3600 * 1000ULL;
/// VfRecordList *list = NULL;
/// if (vf_store_query(store, &query, &list) == VF_OK) { ... }
/// vf_record_list_free(list);
/// ```
#[no_mangle]
pub unsafe extern "C" fn vf_store_query(
    store: *const VfStore,
    query: *const VfQuery,
    out_list: *mut *mut VfRecordList,
) -> VfStatus {
    guard(|| {
        let out_list = unsafe { out(out_list, "out_list", std::ptr::null_mut())? };
        let store = unsafe { arg(store, "store")? };
        let page = store.store.query(&unsafe { core_query(query)? })?;
        *out_list = into_handle(VfRecordList::new(&page.records)?);
        Ok(())
    })
}
