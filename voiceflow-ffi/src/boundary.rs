//! The boundary between C and Rust: the one panic guard every exported
//! function body runs in, and the one place where pointers from C are
//! checked (NULL, UTF-8, lengths) and turned into Rust values.
//!
//! Each helper below checks what can be checked (NULL, UTF-8, that a
//! length fits a Rust slice) and states in its `# Safety` what cannot: that
//! a non-NULL pointer is aligned and valid for the access for `'a`. The
//! exported functions pass that on to C as their own `# Safety` contract,
//! and keep what the helpers return no longer than the call.

use std::ffi::{c_char, CStr};
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use voiceflow_core::Error;

use crate::last_error::set_last_error;
use crate::status::{status_of, VfStatus};

/// Why a call failed: a core error, or a problem with the arguments that
/// only exists at the C boundary.
#[derive(Debug)]
pub(crate) enum FfiError {
    /// An error from `voiceflow-core`.
    Core(Error),
    /// The named pointer argument was NULL.
    Null(&'static str),
    /// The named string argument is not UTF-8.
    Utf8(&'static str),
}

impl From<Error> for FfiError {
    fn from(error: Error) -> Self {
        FfiError::Core(error)
    }
}

impl FfiError {
    /// An out-of-range argument, reported as the core's `InvalidArgument`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        FfiError::Core(Error::InvalidArgument(message.into()))
    }

    fn status(&self) -> VfStatus {
        match self {
            FfiError::Core(error) => status_of(error),
            FfiError::Null(_) => VfStatus::VF_ERROR_NULL_POINTER,
            FfiError::Utf8(_) => VfStatus::VF_ERROR_INVALID_UTF8,
        }
    }

    fn message(&self) -> String {
        match self {
            FfiError::Core(error) => voiceflow_core::error::chain(error),
            FfiError::Null(name) => format!("NULL pointer passed as `{name}`"),
            FfiError::Utf8(name) => format!("`{name}` is not valid UTF-8"),
        }
    }
}

/// What the functions behind the boundary return.
pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

/// Runs the body of an exported function: a panic becomes
/// `VF_ERROR_PANIC`, an error its status; either way the message is kept as
/// the thread's last error. Every `extern "C"` function runs in here.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> VfStatus {
    let error = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return VfStatus::VF_OK,
        Ok(Err(error)) => (error.status(), error.message()),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            (VfStatus::VF_ERROR_PANIC, format!("internal panic: {what}"))
        }
    };
    set_last_error(error.1);
    error.0
}

/// The one NULL check: `pointer`, or `VF_ERROR_NULL_POINTER` naming `name`.
fn non_null<T>(pointer: *const T, name: &'static str) -> FfiResult<NonNull<T>> {
    NonNull::new(pointer.cast_mut()).ok_or(FfiError::Null(name))
}

/// A borrowed argument (a handle or a struct) behind a non-NULL pointer.
///
/// # Safety
/// `pointer` must be NULL or aligned and point to an initialised `T` (for a
/// handle: one made by `into_handle` with this `T`) that stays alive and is
/// not written (other than through its own locks) for `'a`.
pub(crate) unsafe fn arg<'a, T>(pointer: *const T, name: &'static str) -> FfiResult<&'a T> {
    let pointer = non_null(pointer, name)?;
    // SAFETY: `pointer` is not NULL (checked just above); that it is aligned,
    // initialised and alive without writes for `'a` is the caller's contract.
    Ok(unsafe { pointer.as_ref() })
}

/// An out-pointer, first set to `cleared` so that the caller finds that
/// value (NULL, 0) when the call fails later. `T: Copy`: the value there
/// before (possibly uninitialised) is overwritten, never dropped.
///
/// # Safety
/// `pointer` must be NULL or aligned and valid for writes of a `T` for `'a`,
/// and nothing else may read or write that `T` for `'a` (it overlaps no
/// other argument of the call).
pub(crate) unsafe fn out<'a, T: Copy>(
    pointer: *mut T,
    name: &'static str,
    cleared: T,
) -> FfiResult<&'a mut T> {
    let mut pointer = non_null(pointer, name)?;
    // SAFETY: not NULL (checked above), aligned and valid for writes (the
    // caller's contract); `write` does not read or drop the old value, so
    // uninitialised memory is fine.
    unsafe { pointer.as_ptr().write(cleared) };
    // SAFETY: the `T` there is initialised now (just written), and the
    // caller guarantees that nothing else accesses it for `'a`.
    Ok(unsafe { pointer.as_mut() })
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `pointer` must be NULL or point to a NUL-terminated string that is valid
/// for reads up to and including its NUL and not written for `'a`.
pub(crate) unsafe fn utf8<'a>(pointer: *const c_char, name: &'static str) -> FfiResult<&'a str> {
    let pointer = non_null(pointer, name)?;
    // SAFETY: not NULL (checked above); NUL-terminated, readable up to the
    // NUL and unchanged for `'a`: the caller's contract.
    let bytes = unsafe { CStr::from_ptr(pointer.as_ptr()) };
    bytes.to_str().map_err(|_| FfiError::Utf8(name))
}

/// A string argument that may be NULL (meaning "none").
///
/// # Safety
/// As for [`utf8`].
pub(crate) unsafe fn optional_utf8<'a>(
    pointer: *const c_char,
    name: &'static str,
) -> FfiResult<Option<&'a str>> {
    if pointer.is_null() {
        Ok(None)
    } else {
        // SAFETY: the same contract as ours (see [`utf8`]), passed on.
        unsafe { utf8(pointer, name) }.map(Some)
    }
}

/// Rejects a length whose byte size does not fit a Rust slice.
fn check_length<T>(length: usize, name: &'static str) -> FfiResult {
    if length.saturating_mul(size_of::<T>()) > isize::MAX as usize {
        return Err(FfiError::invalid(format!(
            "length {length} of `{name}` is larger than any buffer can be"
        )));
    }
    Ok(())
}

/// `length` elements at `pointer`; NULL is allowed for an empty buffer
/// (and any pointer is: an empty buffer is never read).
///
/// # Safety
/// When `length` > 0, `pointer` must be NULL or aligned and point to
/// `length` consecutive initialised `T`s that are valid for reads and not
/// written for `'a`.
pub(crate) unsafe fn slice<'a, T>(
    pointer: *const T,
    length: usize,
    name: &'static str,
) -> FfiResult<&'a [T]> {
    check_length::<T>(length, name)?;
    if length == 0 {
        return Ok(&[]);
    }
    let pointer = non_null(pointer, name)?;
    // SAFETY: not NULL (checked above); `length` elements fit in `isize::MAX`
    // bytes (`check_length`); aligned, initialised, readable and unchanged
    // for `'a`: the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(pointer.as_ptr(), length) })
}

/// A buffer of `length` elements at `pointer` for the library to fill (not
/// NULL). Its elements may be uninitialised, as in a C array on the stack,
/// hence `MaybeUninit`: they are written, never read.
///
/// # Safety
/// `pointer` must be NULL or aligned and valid for writes of `length`
/// consecutive `T`s for `'a`, and nothing else may read or write them for
/// `'a` (the buffer overlaps no other argument).
pub(crate) unsafe fn buffer<'a, T>(
    pointer: *mut T,
    length: usize,
    name: &'static str,
) -> FfiResult<&'a mut [MaybeUninit<T>]> {
    check_length::<T>(length, name)?;
    let pointer = non_null(pointer, name)?;
    // SAFETY: not NULL (checked above); `length` elements fit in `isize::MAX`
    // bytes (`check_length`); aligned, writable and not accessed otherwise
    // for `'a`: the caller's contract. `MaybeUninit<T>` has the layout of
    // `T` and needs no initialisation.
    Ok(unsafe { std::slice::from_raw_parts_mut(pointer.as_ptr().cast(), length) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::last_error::vf_last_error_message;

    fn last_error() -> String {
        // SAFETY: `vf_last_error_message` never returns NULL, and its string
        // stays valid until the next failing call on this thread.
        let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
        message.to_str().unwrap().to_string()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard(|| panic!("boom {}", 42));
        assert_eq!(status, VfStatus::VF_ERROR_PANIC);
        assert_eq!(last_error(), "internal panic: boom 42");
        let status = guard(|| std::panic::panic_any(7_u8));
        assert_eq!(status, VfStatus::VF_ERROR_PANIC);
        assert_eq!(last_error(), "internal panic: unknown cause");
    }

    #[test]
    fn null_and_bad_utf8_are_reported_with_the_argument_name() {
        // SAFETY: NULL is allowed (reported, never dereferenced).
        let status = guard(|| unsafe { arg(std::ptr::null::<u32>(), "engine") }.map(drop));
        assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
        assert_eq!(last_error(), "NULL pointer passed as `engine`");

        // SAFETY: a C string literal: NUL-terminated and static.
        let status = guard(|| unsafe { utf8(c"caf\xe9".as_ptr(), "path") }.map(drop));
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_UTF8);
        assert_eq!(last_error(), "`path` is not valid UTF-8");
    }

    #[test]
    fn success_keeps_the_previous_message() {
        guard(|| Err(Error::WrongKey.into()));
        assert_eq!(guard(|| Ok(())), VfStatus::VF_OK);
        assert_eq!(last_error(), "wrong key or passphrase for this store");
    }

    #[test]
    fn slices_accept_null_only_when_empty_and_reject_absurd_lengths() {
        // SAFETY: a length of 0 allows any pointer, NULL included.
        let empty = unsafe { slice(std::ptr::null::<f32>(), 0, "samples") }.unwrap();
        assert!(empty.is_empty());
        assert!(matches!(
            // SAFETY: NULL is allowed (reported, never dereferenced).
            unsafe { slice(std::ptr::null::<f32>(), 3, "samples") },
            Err(FfiError::Null("samples"))
        ));
        let one = [1.0f32];
        // SAFETY: outside the contract on purpose (one element, not
        // usize::MAX / 2): `slice` rejects the length before it uses the
        // pointer, which is what this checks; nothing is read.
        let huge = unsafe { slice(one.as_ptr(), usize::MAX / 2, "samples") };
        assert!(matches!(
            huge,
            Err(FfiError::Core(Error::InvalidArgument(_)))
        ));
    }

    #[test]
    fn an_out_pointer_is_cleared_before_the_work() {
        let mut value = 5_u64;
        // SAFETY: a pointer made from `&mut value`: aligned, writable and
        // not used otherwise while `slot` lives.
        let slot = unsafe { out(&mut value, "out", 0) }.unwrap();
        assert_eq!(*slot, 0);
        assert!(matches!(
            // SAFETY: NULL is allowed (reported, never dereferenced).
            unsafe { out(std::ptr::null_mut::<u64>(), "out", 0) },
            Err(FfiError::Null("out"))
        ));
    }
}
