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
//! Safety contracts: every `unsafe extern "C"` function states its own in a
//! `# Safety` section, which the header repeats. They share one pattern:
//! each pointer argument is NULL (reported as `VF_ERROR_NULL_POINTER`
//! unless NULL is allowed) or aligned and valid for what its type says for
//! the duration of the call, and not written by anyone else meanwhile;
//! strings are NUL-terminated; structs that C fills are initialised by
//! their `*_default` function (which sets `struct_size`) and then changed
//! field by field; out-pointers overlap no other argument;
//! handles come from this library and are not freed before the call
//! returns; `vf_*_free` takes a handle no other thread still uses. What the
//! library cannot check (a dangling or misaligned pointer, a missing NUL, a
//! short buffer) is undefined behaviour, as in any C library; what it can
//! check is checked in the `boundary` module.
//!
//! ABI policy (the header states it in full, at the top, from
//! `cbindgen.toml`): the SONAME is `libvoiceflow.so.` [`VF_ABI_VERSION`].
//! Within it, functions, enum values and fields appended to the
//! size-versioned structs (the `versioned` module) may be added; anything
//! else that changes what a compiled caller relies on bumps it.

mod boundary;
mod dictation;
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
mod versioned;

use std::ffi::c_char;

pub use dictation::*;
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

/// The ABI generation: the number after `libvoiceflow.so.` in the SONAME.
/// It changes only with a change that breaks compiled callers (see "ABI
/// policy" at the top of the header); additions keep it.
pub const VF_ABI_VERSION: u32 = 0;

/// The library version as a NUL-terminated string (`"0.1.0"`), valid for
/// the life of the process. Compatible additions raise its minor (or, at
/// 0.x, patch) number; a program needs a library at least as new as the
/// header it was built with.
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
        // SAFETY: `vf_version` returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(vf_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
