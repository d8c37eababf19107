//! Who owns what across the boundary: the one place that creates and frees
//! handles.
//!
//! Every handle (`VfEngine`, `VfStream`, `VfTranscript`, `VfStore`, `VfRecord`,
//! `VfRecordList`, `VfEnhancer`) is a `Box` the library allocates and hands
//! out as an opaque pointer with [`into_handle`]; the caller gives it back
//! exactly once to the handle's `vf_*_free` function, which calls
//! [`free_handle`] (NULL is accepted and ignored). There is no reference
//! counting: the engine, store and enhancer are `Sync`, so one box is shared
//! by pointer between threads, and the caller must not free a handle while
//! another thread still uses it. Borrowed results (strings and records read
//! from a handle) live as long as the handle they came from. Owned strings
//! (`char *`) are freed with `vf_string_free`.

use std::ffi::{c_char, CString};

use crate::boundary::{arg, guard, out, FfiError, FfiResult};
use crate::status::VfStatus;

/// Moves `value` to the heap and hands it to C as an opaque handle.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

// C may use any handle from any thread (the thread-safe ones from several
// at once, through `&T` from `arg`) and free it on another thread than the
// one that made it: every handle type must be `Send + Sync`. Checked here at
// compile time, so that the `# Safety` contracts need not say more.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<crate::engine::VfEngine>();
    shared_between_threads::<crate::stream::VfStream>();
    shared_between_threads::<crate::transcript::VfTranscript>();
    shared_between_threads::<crate::store::VfStore>();
    shared_between_threads::<crate::record::VfRecord>();
    shared_between_threads::<crate::record::VfRecordList>();
    shared_between_threads::<crate::enhancer::VfEnhancer>();
};

/// Frees a handle made by [`into_handle`]; NULL does nothing. Runs in the
/// panic guard, so a panicking destructor does not cross the boundary.
///
/// # Safety
/// `handle` must be NULL or come from [`into_handle`] with the same `T` and
/// not be freed yet; no other thread may be using it, and it must not be
/// used afterwards.
pub(crate) unsafe fn free_handle<T>(handle: *mut T) {
    guard(|| {
        if !handle.is_null() {
            // SAFETY: not NULL (checked above); it came from `Box::into_raw`
            // in `into_handle` with this `T` and is freed once, with no other
            // user left: the caller's contract.
            drop(unsafe { Box::from_raw(handle) });
        }
        Ok(())
    });
}

/// `text` as a C string; text holding a NUL byte cannot cross the boundary.
pub(crate) fn c_string(text: &str) -> FfiResult<CString> {
    CString::new(text).map_err(|_| FfiError::invalid("text contains a NUL byte"))
}

/// `text` as a string the caller owns and frees with `vf_string_free`.
pub(crate) fn owned_string(text: &str) -> FfiResult<*mut c_char> {
    Ok(c_string(text)?.into_raw())
}

/// Frees a string the library returned as `char *` (a record id, an
/// enhanced text). NULL does nothing.
///
/// # Safety
/// `string` must be NULL or a `char *` this library returned as the
/// caller's own (`vf_store_put` ids, `vf_enhancer_enhance` texts, metrics),
/// not freed before and unchanged in length (no NUL written into it). Never
/// pass a `const char *` borrowed from a handle or `vf_last_error_message`.
/// The string must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_string_free(string: *mut c_char) {
    guard(|| {
        if !string.is_null() {
            // SAFETY: not NULL (checked above); the caller guarantees it came
            // from `CString::into_raw` in `owned_string`, unfreed and with
            // its NUL where it was (see # Safety).
            drop(unsafe { CString::from_raw(string) });
        }
        Ok(())
    });
}

/// The body of an accessor: reads one value from a handle into `out_value`
/// (set to `cleared` first, so a failed call leaves NULL or 0 there).
///
/// # Safety
/// `handle` as for [`arg`] and `out_value` as for [`out`], both for the
/// duration of the call; `out_value` does not point into the handle.
pub(crate) unsafe fn read<H, T: Copy>(
    handle: *const H,
    out_value: *mut T,
    cleared: T,
    get: impl FnOnce(&H) -> FfiResult<T>,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_value` is NULL or writable and unaliased for the call
        // (our contract, passed on).
        let value = unsafe { out(out_value, "out", cleared)? };
        // SAFETY: `handle` is NULL or a live `H` for the call (our contract).
        let handle = unsafe { arg(handle, "handle")? };
        *value = get(handle)?;
        Ok(())
    })
}
