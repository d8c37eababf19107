//! C ABI over `voiceflow-core`. The full API (engine, transcript, store,
//! enhancer handles) is built on top of this crate's conventions: status codes,
//! out-pointers and a thread-local last-error message.

use std::ffi::c_char;

/// The library version as a NUL-terminated string, valid for the life of the process.
#[no_mangle]
pub extern "C" fn vf_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
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
