//! `vf_engine_new` with a model name instead of a folder: found in
//! `$VOICEFLOW_MODELS`, or `VF_ERROR_MODEL_NOT_FOUND` saying how to install
//! it. One test in its own binary: it sets the process's environment.

use std::ffi::{CStr, CString};
use std::ptr::null_mut;

mod common;

use common::{repo, runtime_library};
use voiceflow::*;

/// `vf_engine_new(model, ...)` with ONNX Runtime from `ORT_DYLIB_PATH` (the
/// Makefile sets it) or `runtime/`: its status, engine and error message.
fn new_engine(model: &str) -> (VfStatus, *mut VfEngine, String) {
    let model = CString::new(model).unwrap();
    let runtime = runtime_library();
    // SAFETY: all-zero bytes are a valid `VfEngineOptions` (NULL, zeros,
    // `false`); the `*_default` call below fills it.
    let mut options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
    // SAFETY: `&mut options` is a writable local.
    let status = unsafe { vf_engine_options_default(&mut options, size_of::<VfEngineOptions>()) };
    assert_eq!(status, VfStatus::VF_OK);
    options.runtime_library = runtime.as_ptr();
    options.threads = 1;
    let mut engine = null_mut();
    // SAFETY: `model` is a NUL-terminated string; `&options` is initialised
    // options whose `runtime_library` outlives the call; `&mut engine` is a
    // writable local.
    let status = unsafe { vf_engine_new(model.as_ptr(), &options, &mut engine) };
    // SAFETY: `vf_last_error_message` never returns NULL; the string stays
    // valid until the next failing call on this thread, after this copy.
    let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
    (status, engine, message.to_string_lossy().into_owned())
}

#[test]
fn a_name_loads_the_installed_model_or_says_how_to_install_it() {
    let models = tempfile::tempdir().unwrap();
    // The only test of this binary: nothing else reads the environment.
    std::env::set_var("VOICEFLOW_MODELS", models.path());

    let (status, engine, message) = new_engine("tiny.en");
    assert_eq!(status, VfStatus::VF_ERROR_MODEL_NOT_FOUND, "{message}");
    assert!(engine.is_null());
    assert!(
        message.contains("`voiceflow models install tiny.en`"),
        "{message}"
    );

    std::os::unix::fs::symlink(
        repo()
            .join("models/whisper-tiny.en")
            .canonicalize()
            .unwrap(),
        models.path().join("whisper-tiny.en"),
    )
    .unwrap();
    let (status, engine, message) = new_engine("tiny.en");
    assert_eq!(status, VfStatus::VF_OK, "{message}");
    // SAFETY: `engine` is the live engine just made, freed once.
    unsafe { vf_engine_free(engine) };
}
