//! Shared by the C API's test binaries: where the repository's model and
//! ONNX Runtime's library are, as the C strings the API takes.

#![allow(dead_code)] // each test binary uses its own subset

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `path` as the NUL-terminated string the C API takes.
pub fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().unwrap()).unwrap()
}

/// ONNX Runtime from `ORT_DYLIB_PATH` (the Makefile sets it) or `runtime/`.
pub fn runtime_library() -> CString {
    let path = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("runtime/libonnxruntime.so"));
    c_path(&path)
}

/// The float32 tiny.en folder: `VOICEFLOW_MODEL_DIR`, else
/// `models/whisper-tiny.en-float32` (`scripts/setup.sh model
/// tiny.en-float32`, which `make test` runs).
pub fn model_dir() -> PathBuf {
    std::env::var_os("VOICEFLOW_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/whisper-tiny.en-float32"))
}

/// [`model_dir`] as a C string.
pub fn model_path() -> CString {
    c_path(&model_dir())
}
