//! The message of the last failed call on each thread.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use crate::boundary::{guard, out};
use crate::status::VfStatus;

thread_local! {
    /// The message of the last call on this thread that failed.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Keeps `message` as this thread's last error (NUL bytes become spaces).
pub(crate) fn set_last_error(message: String) {
    let bytes: Vec<u8> = message
        .into_bytes()
        .into_iter()
        .map(|b| if b == 0 { b' ' } else { b })
        .collect();
    let message = CString::new(bytes).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// The message of the last call on this thread that failed (empty before
/// any failure). Successful calls leave it as it is, like `errno`.
///
/// Never NULL. The string belongs to the library and stays valid until the
/// next failing call on the same thread; copy it (`vf_last_error_copy`) to
/// keep it.
#[no_mangle]
pub extern "C" fn vf_last_error_message() -> *const c_char {
    let mut message: *const c_char = c"".as_ptr();
    guard(|| {
        message = LAST_ERROR.with(|last| last.borrow().as_ptr());
        Ok(())
    });
    message
}

/// Copies the last error message of this thread into `buffer`, which has
/// room for `capacity` bytes: at most `capacity - 1` bytes of the message
/// (cut at a character boundary) and a terminating NUL. Writes the full
/// message length in bytes (without the NUL) to `out_length`, so that
/// `vf_last_error_copy(NULL, 0, &length)` asks for the size needed.
///
/// `buffer` may be NULL only when `capacity` is 0. Like any failing call, a
/// failure here (NULL `out_length`) replaces the message.
///
/// ```c
/// char message[256];
/// size_t length;
/// vf_last_error_copy(message, sizeof message, &length);
/// ```
///
/// # Safety
/// - `buffer` is NULL or points to `capacity` bytes writable during the
///   call (they need not be initialised); it may be NULL only when
///   `capacity` is 0.
/// - `out_length` is NULL or points to a writable `size_t`.
/// - The two do not overlap each other or the string from
///   `vf_last_error_message`.
#[no_mangle]
pub unsafe extern "C" fn vf_last_error_copy(
    buffer: *mut c_char,
    capacity: usize,
    out_length: *mut usize,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_length` is NULL or writable and overlaps nothing else
        // for the call (# Safety).
        let out_length = unsafe { out(out_length, "out_length", 0)? };
        let target = if capacity == 0 {
            &mut [][..]
        } else {
            // SAFETY: `buffer` is NULL or has `capacity` writable bytes that
            // overlap neither `out_length` nor the message (# Safety).
            unsafe { crate::boundary::buffer(buffer.cast::<u8>(), capacity, "buffer")? }
        };
        LAST_ERROR.with(|last| {
            let last = last.borrow();
            let message = last.to_str().unwrap_or_default();
            *out_length = message.len();
            if let Some(room) = target.len().checked_sub(1) {
                let mut end = message.len().min(room);
                while !message.is_char_boundary(end) {
                    end -= 1;
                }
                for (slot, byte) in target.iter_mut().zip(&message.as_bytes()[..end]) {
                    slot.write(*byte);
                }
                target[end].write(0);
            }
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn the_copy_is_cut_at_a_character_boundary_and_terminated() {
        set_last_error("größe\0x".to_string());
        // SAFETY: never NULL; valid until the next failing call on this thread.
        let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
        assert_eq!(message.to_str().unwrap(), "größe x");

        let mut buffer = [0x7f as c_char; 4];
        let mut length = 0;
        // SAFETY: a local array of 4 bytes and a local `usize`, distinct.
        let status = unsafe { vf_last_error_copy(buffer.as_mut_ptr(), 4, &mut length) };
        assert_eq!(status, VfStatus::VF_OK);
        assert_eq!(length, "größe x".len());
        // "grö" would need 4 bytes: only "gr" fits before the NUL.
        // SAFETY: the call succeeded, so `buffer` holds a terminating NUL.
        let copied = unsafe { CStr::from_ptr(buffer.as_ptr()) };
        assert_eq!(copied.to_str().unwrap(), "gr");

        // SAFETY: NULL with capacity 0 is allowed; `length` is a local.
        let status = unsafe { vf_last_error_copy(std::ptr::null_mut(), 0, &mut length) };
        assert_eq!(status, VfStatus::VF_OK);
        assert_eq!(length, "größe x".len());
    }

    #[test]
    fn messages_are_per_thread() {
        set_last_error("main thread".into());
        std::thread::spawn(|| {
            // SAFETY: never NULL; valid until the next failing call here.
            let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
            assert_eq!(message.to_bytes(), b"");
        })
        .join()
        .unwrap();
        // SAFETY: never NULL; valid until the next failing call here.
        let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
        assert_eq!(message.to_bytes(), b"main thread");
    }
}
