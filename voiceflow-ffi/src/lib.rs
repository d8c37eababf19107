//! The C ABI of VoiceFlow: a thin layer over `voiceflow-core` that converts
//! types and errors and nothing else. The header `include/voiceflow.h` is
//! generated from this crate by cbindgen.
//!
//! Conventions, the same for every function:
//! - Every function returns a [`VfStatus`] (`VF_OK` = 0) and writes its
//!   results through out-pointers, which it first sets to NULL / 0, so a
//!   failed call leaves NULL there. The message of the last failure on the
//!   calling thread is [`vf_last_error_message`]. The exceptions return a
//!   value that cannot fail: [`vf_version`], [`vf_status_name`],
//!   [`vf_last_error_message`] and the `vf_*_free` functions.
//! - NULL pointers, strings that are not UTF-8, bad lengths, out-of-range
//!   values and panics come back as status codes; nothing unwinds into C.
//! - Handles are opaque, made by the library and freed by one `vf_*_free`
//!   function each, which accepts NULL (the `handle` module spells out
//!   ownership).
//!
//! Safety, for every `unsafe extern "C"` function: each pointer argument is
//! NULL (where a NULL is allowed, or to be reported) or valid for what its
//! type says for the duration of the call; strings are NUL-terminated;
//! handles come from this library and are not yet freed.

#![allow(clippy::missing_safety_doc)]

mod boundary;
mod engine;
mod enhancer;
mod handle;
mod last_error;
mod options;
mod query;
mod record;
mod status;
mod store;
mod stream;
mod transcript;

use std::ffi::c_char;

pub use engine::*;
pub use enhancer::*;
pub use handle::vf_string_free;
pub use last_error::*;
pub use options::*;
pub use query::*;
pub use record::*;
pub use status::*;
pub use store::*;
pub use stream::*;
pub use transcript::*;

/// The library version as a NUL-terminated string (`"0.1.0"`), valid for
/// the life of the process.
#[no_mangle]
pub extern "C" fn vf_version() -> *const c_char {
    let mut version = std::ptr::null();
    boundary::guard(|| {
        version = concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast();
        Ok(())
    });
    version
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_is_the_crate_version() {
        let v = unsafe { CStr::from_ptr(vf_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
