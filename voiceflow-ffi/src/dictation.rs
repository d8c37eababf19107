//! The dictation path in one call: transcribe a file, finish the text for a
//! context, keep both in the store.

use std::ffi::c_char;
use std::path::Path;

use voiceflow_core::dictation;
use voiceflow_core::engine::Audio;
use voiceflow_core::enhance::RuleEnhancer;

use crate::boundary::{arg, guard, out, utf8};
use crate::engine::{run, VfEngine};
use crate::enhancer::{core_context, VfContext};
use crate::handle::owned_string;
use crate::options::VfTranscribeOptions;
use crate::status::VfStatus;
use crate::store::VfStore;

/// Transcribes the audio file `path` (any format `vf_engine_transcribe_file`
/// reads) with `engine` (`options` may be NULL), finishes the text for `context` with the rule enhancer, and stores the
/// record (raw and finished text, segments, language, model, duration,
/// timings) in `store`, flushed to disk before the call returns. On success
/// `*out_id` is the new record's id, a string to free with `vf_string_free`
/// (`vf_store_get` reads the record back). Nothing is stored when the
/// transcription or the enhancement fails.
///
/// ```c
/// char *id = NULL;
/// if (vf_dictate_file(engine, store, "note.wav", NULL, VF_CONTEXT_EMAIL, &id) == VF_OK) {
///     VfRecord *record = NULL;
///     vf_store_get(store, id, &record);  /* vf_record_enhanced_text(record, ...) */
///     vf_record_free(record);
/// }
/// vf_string_free(id);
/// ```
///
/// Errors: those of `vf_engine_transcribe_file` and `vf_store_put_text`,
/// and `VF_ERROR_INVALID_ARGUMENT` for an unknown `context`.
///
/// # Safety
/// - `engine` is NULL or an engine from `vf_engine_new`, and `store` NULL or
///   a store from `vf_store_open*`, neither freed before the call returns.
/// - `path` is NULL or a NUL-terminated string.
/// - `options` is NULL or as for `vf_engine_transcribe_pcm`.
/// - `out_id` is NULL or points to a writable `char *` that overlaps no
///   other argument.
#[no_mangle]
pub unsafe extern "C" fn vf_dictate_file(
    engine: *const VfEngine,
    store: *const VfStore,
    path: *const c_char,
    options: *const VfTranscribeOptions,
    context: VfContext,
    out_id: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_id` is NULL or writable and unaliased (# Safety).
        let out_id = unsafe { out(out_id, "out_id", std::ptr::null_mut())? };
        // SAFETY: `store` is NULL or a live store for the call (# Safety).
        let store = &unsafe { arg(store, "store")? }.store;
        // SAFETY: `path` is NULL or a NUL-terminated string (# Safety).
        let path = Path::new(unsafe { utf8(path, "path")? });
        let context = core_context(context)?;
        // SAFETY: `engine` is NULL or a live engine and `options` NULL or
        // valid options, for the call (# Safety).
        let (transcript, engine) = unsafe { run(engine, Audio::File(path), options)? };
        let model = &engine.model_info().name;
        let done = dictation::finish(&RuleEnhancer, store, model, transcript, context)?;
        *out_id = owned_string(&done.id.to_string())?;
        Ok(())
    })
}
