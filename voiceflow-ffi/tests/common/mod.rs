//! Shared by the C API's test binaries: where the repository's model and
//! ONNX Runtime's library are, as the C strings the API takes.

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// ONNX Runtime from `ORT_DYLIB_PATH` (the Makefile sets it) or `runtime/`.
pub fn runtime_library() -> CString {
    let path = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("runtime/libonnxruntime.so"));
    CString::new(path.to_str().unwrap()).unwrap()
}

/// The float32 tiny.en folder (`scripts/setup.sh model tiny.en-float32`,
/// which `make test` runs).
pub fn model_path() -> CString {
    let dir = repo().join("models/whisper-tiny.en-float32");
    CString::new(dir.to_str().unwrap()).unwrap()
}
