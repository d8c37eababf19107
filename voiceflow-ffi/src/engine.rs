//! The engine handle: load a model, transcribe PCM, audio files (WAV, FLAC,
//! MP3, Ogg Vorbis, MP4/M4A AAC) and their bytes.

use std::ffi::{c_char, CString};
use std::path::Path;
use std::sync::Arc;

use voiceflow_core::engine::Audio;
use voiceflow_core::{Engine, Transcript};

use crate::boundary::{arg, guard, out, slice, utf8, FfiError, FfiResult};
use crate::handle::{c_string, free_handle, into_handle, owned_string};
use crate::options::{engine_config, transcribe_call, VfEngineOptions, VfTranscribeOptions};
use crate::status::VfStatus;
use crate::transcript::VfTranscript;

/// A loaded Whisper model (opaque). Thread-safe: one engine may be used from
/// many threads at once (`VfEngineOptions::instances` of them transcribe in
/// parallel, the others wait).
pub struct VfEngine {
    /// Shared with the streaming sessions started on it.
    pub(crate) engine: Arc<Engine>,
    /// The execution providers of the encoder and the decoder, for
    /// `vf_engine_providers`.
    providers: [CString; 2],
}

/// Loads the model in the folder `model_dir` with ONNX Runtime; `options`
/// may be NULL for the defaults. On success `*out_engine` is a new engine
/// to free with `vf_engine_free`; on failure it is NULL.
///
/// `model_dir` may also name an installed model: `"tiny.en"` is the folder
/// `whisper-tiny.en` of the models directory (`$VOICEFLOW_MODELS`, else
/// `$XDG_DATA_HOME/voiceflow/models`, else `~/.local/share/voiceflow/models`),
/// where `voiceflow models install tiny.en` puts it; an existing folder of
/// that name wins.
///
/// ```c
/// VfEngine *engine = NULL;
/// if (vf_engine_new("tiny.en", NULL, &engine) != VF_OK)
///     fprintf(stderr, "%s\n", vf_last_error_message());  // says how to install it
/// ```
///
/// Errors: `VF_ERROR_MODEL_NOT_FOUND` (for a name that is not installed,
/// the message says how to install it), `VF_ERROR_MODEL_MALFORMED`,
/// `VF_ERROR_RUNTIME_NOT_FOUND` (the message lists where it looked),
/// `VF_ERROR_INVALID_ARGUMENT` (threads outside 1..=1024, instances outside
/// 1..=256, a maximum duration that is not a positive number, a bad
/// `struct_size`).
///
/// # Safety
/// - `model_dir` is NULL or a NUL-terminated string.
/// - `options` is NULL or points to a `VfEngineOptions` initialised by
///   `vf_engine_options_default` (its `struct_size` bytes readable, every
///   field in them set), whose `runtime_library` is NULL or a
///   NUL-terminated string.
/// - `out_engine` is NULL or points to a writable `VfEngine *`.
///
/// All of them stay valid and unchanged during the call.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_new(
    model_dir: *const c_char,
    options: *const VfEngineOptions,
    out_engine: *mut *mut VfEngine,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_engine` is NULL or writable, apart from the other
        // arguments (# Safety).
        let out_engine = unsafe { out(out_engine, "out_engine", std::ptr::null_mut())? };
        // SAFETY: `model_dir` is NULL or a NUL-terminated string (# Safety).
        let model_dir = unsafe { utf8(model_dir, "model_dir")? };
        // SAFETY: `options` is NULL or initialised options with valid
        // strings (# Safety), as `engine_config` requires.
        let config = unsafe { engine_config(model_dir, options)? };
        let engine = Engine::new(config)?;
        let info = engine.model_info();
        let providers = [
            c_string(&info.encoder_provider)?,
            c_string(&info.decoder_provider)?,
        ];
        *out_engine = into_handle(VfEngine {
            engine: Arc::new(engine),
            providers,
        });
        Ok(())
    })
}

/// Where the engine's graphs run: sets `*out_encoder` and `*out_decoder` to
/// the ONNX Runtime execution providers of the encoder and the decoder
/// (`"CPU"`, `"CUDA"`; `"CUDA/CPU"` when the two graphs of a split decoder
/// ended up apart). The strings belong to the engine and stay valid until
/// `vf_engine_free`; do not free them.
///
/// # Safety
/// `engine` is NULL or an engine from `vf_engine_new` not freed before the
/// call returns; `out_encoder` and `out_decoder` are NULL or point to
/// writable `const char *`s apart from each other.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_providers(
    engine: *const VfEngine,
    out_encoder: *mut *const c_char,
    out_decoder: *mut *const c_char,
) -> VfStatus {
    guard(|| {
        // SAFETY: NULL or writable and apart from each other (# Safety).
        let out_encoder = unsafe { out(out_encoder, "out_encoder", std::ptr::null())? };
        // SAFETY: as above.
        let out_decoder = unsafe { out(out_decoder, "out_decoder", std::ptr::null())? };
        // SAFETY: `engine` is NULL or a live engine for the call (# Safety).
        let engine = unsafe { arg(engine, "engine")? };
        *out_encoder = engine.providers[0].as_ptr();
        *out_decoder = engine.providers[1].as_ptr();
        Ok(())
    })
}

/// Transcribes `audio` on `engine` into a new transcript at `*out_transcript`.
///
/// # Safety
/// For the duration of the call: `engine` is NULL or a live engine (as for
/// [`arg`]); `options` is NULL or valid transcription options (as for
/// [`transcribe_call`]); `out_transcript` is NULL or writable and overlaps
/// nothing else (as for [`out`]).
unsafe fn transcribe(
    engine: *const VfEngine,
    audio: Audio<'_>,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> FfiResult {
    // SAFETY: `out_transcript` is NULL or writable and unaliased (our contract).
    let out_transcript = unsafe { out(out_transcript, "out_transcript", std::ptr::null_mut())? };
    // SAFETY: `engine` and `options` are as `run` requires (our contract).
    let (transcript, engine) = unsafe { run(engine, audio, options)? };
    *out_transcript = into_handle(VfTranscript::new(transcript, &engine.model_info().name)?);
    Ok(())
}

/// Transcribes `audio` on `engine` with the C options (their `on_segment`
/// callback included); returns the transcript and the engine.
///
/// # Safety
/// For the duration of the call: `engine` is NULL or a live engine (as for
/// [`arg`]); `options` is NULL or valid transcription options (as for
/// [`transcribe_call`]).
pub(crate) unsafe fn run<'a>(
    engine: *const VfEngine,
    audio: Audio<'_>,
    options: *const VfTranscribeOptions,
) -> FfiResult<(Transcript, &'a Engine)> {
    // SAFETY: `engine` is NULL or a live engine for the call (our contract).
    let engine: &Engine = &unsafe { arg(engine, "engine")? }.engine;
    // SAFETY: `options` is NULL or valid options (our contract).
    let (options, mut sink) = unsafe { transcribe_call(options)? };
    let transcript = engine.transcribe_with(audio, &options, &mut |s, p| sink.on_segment(s, p))?;
    sink.failure()?;
    Ok((transcript, engine))
}

/// Transcribes `sample_count` float samples (full scale at ±1; peaks up to
/// ±8 are accepted) at any `sample_rate`, interleaved when `channels` > 1
/// (mixed down to mono).
/// `options` may be NULL. On success `*out_transcript` is a new transcript
/// to free with `vf_transcript_free`.
///
/// Errors: `VF_ERROR_INVALID_AUDIO` (no samples, NaN/infinite samples, a
/// peak beyond ±8 (integer PCM passed unscaled), a count that is not a
/// multiple of `channels`, too long),
/// `VF_ERROR_INVALID_ARGUMENT` (sample rate 0 or above 384 kHz, 0 channels,
/// bad options, a bad `struct_size`), `VF_ERROR_CLOSED`, `VF_ERROR_INFERENCE`.
///
/// # Safety
/// - `engine` is NULL or an engine from `vf_engine_new` that is not freed
///   before the call returns.
/// - `samples` points to `sample_count` floats (NULL when `sample_count`
///   is 0) that are not written during the call.
/// - `options` is NULL or points to a `VfTranscribeOptions` initialised by
///   `vf_transcribe_options_default` (its `struct_size` bytes readable,
///   every field in them set): `language` and
///   `initial_prompt` NULL or NUL-terminated strings, `on_segment` NULL or a
///   function that may be called on this thread, during the call, with
///   `user_data`.
/// - `out_transcript` is NULL or points to a writable `VfTranscript *`
///   apart from the other arguments.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_transcribe_pcm(
    engine: *const VfEngine,
    samples: *const f32,
    sample_count: usize,
    sample_rate: u32,
    channels: u16,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    guard(|| {
        // SAFETY: `samples` has `sample_count` readable floats, or the count
        // is 0 (# Safety).
        let samples = unsafe { slice(samples, sample_count, "samples")? };
        let audio = Audio::Pcm {
            samples,
            sample_rate,
            channels,
        };
        // SAFETY: `engine`, `options` and `out_transcript` are as
        // `transcribe` requires, for the call (# Safety).
        unsafe { transcribe(engine, audio, options, out_transcript) }
    })
}

/// Transcribes the audio file at `path` (UTF-8): WAV, FLAC, MP3, Ogg Vorbis
/// or MP4/M4A AAC, told apart by content; also a pipe or a device, read up
/// to the engine's longest duration. Like `vf_engine_transcribe_pcm`, plus
/// `VF_ERROR_IO` (cannot be opened or read) and `VF_ERROR_INVALID_WAV` (not
/// a supported audio file, corrupt, or a header whose fields contradict each
/// other, in any format: the name is older than the other formats);
/// `VF_ERROR_INVALID_AUDIO` also when it is longer than the engine allows.
///
/// ```c
/// VfTranscript *transcript = NULL;
/// if (vf_engine_transcribe_file(engine, "speech.mp3", NULL, &transcript) == VF_OK) { ... }
/// vf_transcript_free(transcript);
/// ```
///
/// # Safety
/// As for `vf_engine_transcribe_pcm`, with `path` NULL or a NUL-terminated
/// string in place of `samples`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_transcribe_file(
    engine: *const VfEngine,
    path: *const c_char,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    guard(|| {
        // SAFETY: `path` is NULL or a NUL-terminated string (# Safety).
        let path = Path::new(unsafe { utf8(path, "path")? });
        // SAFETY: `engine`, `options` and `out_transcript` are as
        // `transcribe` requires, for the call (# Safety).
        unsafe { transcribe(engine, Audio::File(path), options, out_transcript) }
    })
}

/// Transcribes an audio file held in memory (`length` bytes at `bytes`), in
/// any format `vf_engine_transcribe_file` reads. Like
/// `vf_engine_transcribe_file`.
///
/// ```c
/// VfTranscript *transcript = NULL;
/// if (vf_engine_transcribe_bytes(engine, flac, flac_length, NULL, &transcript) == VF_OK) { ... }
/// vf_transcript_free(transcript);
/// ```
///
/// # Safety
/// As for `vf_engine_transcribe_pcm`, with `bytes` pointing to `length`
/// bytes (NULL when `length` is 0), not written during the call, in place
/// of `samples`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_transcribe_bytes(
    engine: *const VfEngine,
    bytes: *const u8,
    length: usize,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    guard(|| {
        // SAFETY: `bytes` has `length` readable bytes, or `length` is 0
        // (# Safety).
        let bytes = unsafe { slice(bytes, length, "bytes")? };
        // SAFETY: `engine`, `options` and `out_transcript` are as
        // `transcribe` requires, for the call (# Safety).
        unsafe { transcribe(engine, Audio::Bytes(bytes), options, out_transcript) }
    })
}

/// The older name of `vf_engine_transcribe_bytes`, kept so that programs
/// built against it keep working: the same call, any supported format.
///
/// # Safety
/// As for `vf_engine_transcribe_bytes`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_transcribe_wav_bytes(
    engine: *const VfEngine,
    bytes: *const u8,
    length: usize,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    // SAFETY: the arguments are as `vf_engine_transcribe_bytes` requires
    // (# Safety).
    unsafe { vf_engine_transcribe_bytes(engine, bytes, length, options, out_transcript) }
}

/// Writes the engine's metrics (request counts by outcome, per-stage
/// latency histograms, batch sizes, audio seconds) in the Prometheus text
/// format (OpenMetrics 1.0, ending in `# EOF`) to `*out_text`, a string to
/// free with `vf_string_free`.
///
/// ```c
/// char *text = NULL;
/// if (vf_engine_metrics_prometheus(engine, &text) == VF_OK) fputs(text, stdout);
/// vf_string_free(text);
/// ```
///
/// # Safety
/// `engine` is NULL or an engine from `vf_engine_new` not freed before the
/// call returns; `out_text` is NULL or points to a writable `char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_metrics_prometheus(
    engine: *const VfEngine,
    out_text: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_text` is NULL or writable, apart from `engine` (# Safety).
        let out_text = unsafe { out(out_text, "out_text", std::ptr::null_mut())? };
        // SAFETY: `engine` is NULL or a live engine for the call (# Safety).
        let engine = &unsafe { arg(engine, "engine")? }.engine;
        *out_text = owned_string(&engine.metrics().to_prometheus())?;
        Ok(())
    })
}

/// Writes a snapshot of the engine's metrics as JSON to `*out_json`, a
/// string to free with `vf_string_free`: `{"counters": [{"name", "labels":
/// {..}, "value"}], "gauges": [{.., "value", "peak"}], "histograms": [{..,
/// "count", "sum", "mean", "p50", "p95", "p99", "max"}]}`, latencies in
/// seconds.
///
/// # Safety
/// `engine` is NULL or an engine from `vf_engine_new` not freed before the
/// call returns; `out_json` is NULL or points to a writable `char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_metrics_json(
    engine: *const VfEngine,
    out_json: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_json` is NULL or writable, apart from `engine` (# Safety).
        let out_json = unsafe { out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: `engine` is NULL or a live engine for the call (# Safety).
        let engine = &unsafe { arg(engine, "engine")? }.engine;
        let json = serde_json::to_string(&engine.metrics().snapshot())
            .map_err(|e| FfiError::invalid(format!("metrics snapshot as JSON: {e}")))?;
        *out_json = owned_string(&json)?;
        Ok(())
    })
}

/// Closes the engine: later transcriptions fail with `VF_ERROR_CLOSED`;
/// running ones finish. The handle must still be freed with `vf_engine_free`.
///
/// # Safety
/// `engine` is NULL or an engine from `vf_engine_new` not freed before the
/// call returns.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_close(engine: *const VfEngine) -> VfStatus {
    guard(|| {
        // SAFETY: `engine` is NULL or a live engine for the call (# Safety).
        unsafe { arg(engine, "engine")? }.engine.close();
        Ok(())
    })
}

/// Frees an engine; NULL does nothing. Streaming sessions started on it
/// keep what they need and may go on.
///
/// # Safety
/// `engine` is NULL or an engine from `vf_engine_new` not freed before. No
/// other thread may be using it, and it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_free(engine: *mut VfEngine) {
    // SAFETY: NULL or an unfreed engine from `into_handle` with no other
    // user, freed once (# Safety).
    unsafe { free_handle(engine) }
}
