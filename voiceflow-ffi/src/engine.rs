//! The engine handle: load a model, transcribe PCM, WAV files and WAV bytes.

use std::ffi::c_char;
use std::path::Path;
use std::sync::Arc;

use voiceflow_core::engine::Audio;
use voiceflow_core::Engine;

use crate::boundary::{arg, guard, out, slice, utf8, FfiError, FfiResult};
use crate::handle::{free_handle, into_handle, owned_string};
use crate::options::{engine_config, transcribe_call, VfEngineOptions, VfTranscribeOptions};
use crate::status::VfStatus;
use crate::transcript::VfTranscript;

/// A loaded Whisper model (opaque). Thread-safe: one engine may be used from
/// many threads at once (`VfEngineOptions::instances` of them transcribe in
/// parallel, the others wait).
pub struct VfEngine {
    /// Shared with the streaming sessions started on it.
    pub(crate) engine: Arc<Engine>,
}

/// Loads the model in the folder `model_dir` with ONNX Runtime; `options`
/// may be NULL for the defaults. On success `*out_engine` is a new engine
/// to free with `vf_engine_free`; on failure it is NULL.
///
/// Errors: `VF_ERROR_MODEL_NOT_FOUND`, `VF_ERROR_MODEL_MALFORMED`,
/// `VF_ERROR_RUNTIME_NOT_FOUND` (the message lists where it looked),
/// `VF_ERROR_INVALID_ARGUMENT` (threads outside 1..=1024, instances outside
/// 1..=256, a maximum duration that is not a positive number).
#[no_mangle]
pub unsafe extern "C" fn vf_engine_new(
    model_dir: *const c_char,
    options: *const VfEngineOptions,
    out_engine: *mut *mut VfEngine,
) -> VfStatus {
    guard(|| {
        let out_engine = unsafe { out(out_engine, "out_engine", std::ptr::null_mut())? };
        let config = unsafe { engine_config(utf8(model_dir, "model_dir")?, options)? };
        *out_engine = into_handle(VfEngine {
            engine: Arc::new(Engine::new(config)?),
        });
        Ok(())
    })
}

/// Transcribes `audio` on `engine` into a new transcript at `*out_transcript`.
///
/// # Safety
/// As for the exported functions that call it.
unsafe fn transcribe(
    engine: *const VfEngine,
    audio: Audio<'_>,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> FfiResult {
    let out_transcript = unsafe { out(out_transcript, "out_transcript", std::ptr::null_mut())? };
    let engine = &unsafe { arg(engine, "engine")? }.engine;
    let (options, mut sink) = unsafe { transcribe_call(options)? };
    let transcript = engine.transcribe_with(audio, &options, &mut |s, p| sink.on_segment(s, p))?;
    sink.failure()?;
    let model = &engine.model_info().name;
    *out_transcript = into_handle(VfTranscript::new(transcript, model)?);
    Ok(())
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
/// bad options), `VF_ERROR_CLOSED`, `VF_ERROR_INFERENCE`.
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
        let samples = unsafe { slice(samples, sample_count, "samples")? };
        let audio = Audio::Pcm {
            samples,
            sample_rate,
            channels,
        };
        unsafe { transcribe(engine, audio, options, out_transcript) }
    })
}

/// Transcribes the WAV file at `path` (UTF-8). Like
/// `vf_engine_transcribe_pcm`, plus `VF_ERROR_IO` and `VF_ERROR_INVALID_WAV`.
///
/// ```c
/// VfTranscript *transcript = NULL;
/// if (vf_engine_transcribe_file(engine, "speech.wav", NULL, &transcript) == VF_OK) { ... }
/// vf_transcript_free(transcript);
/// ```
#[no_mangle]
pub unsafe extern "C" fn vf_engine_transcribe_file(
    engine: *const VfEngine,
    path: *const c_char,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    guard(|| {
        let path = Path::new(unsafe { utf8(path, "path")? });
        unsafe { transcribe(engine, Audio::WavFile(path), options, out_transcript) }
    })
}

/// Transcribes a WAV file held in memory (`length` bytes at `bytes`). Like
/// `vf_engine_transcribe_file`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_transcribe_wav_bytes(
    engine: *const VfEngine,
    bytes: *const u8,
    length: usize,
    options: *const VfTranscribeOptions,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    guard(|| {
        let bytes = unsafe { slice(bytes, length, "bytes")? };
        unsafe { transcribe(engine, Audio::WavBytes(bytes), options, out_transcript) }
    })
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
#[no_mangle]
pub unsafe extern "C" fn vf_engine_metrics_prometheus(
    engine: *const VfEngine,
    out_text: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        let out_text = unsafe { out(out_text, "out_text", std::ptr::null_mut())? };
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
#[no_mangle]
pub unsafe extern "C" fn vf_engine_metrics_json(
    engine: *const VfEngine,
    out_json: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        let out_json = unsafe { out(out_json, "out_json", std::ptr::null_mut())? };
        let engine = &unsafe { arg(engine, "engine")? }.engine;
        let json = serde_json::to_string(&engine.metrics().snapshot())
            .map_err(|e| FfiError::invalid(format!("metrics snapshot as JSON: {e}")))?;
        *out_json = owned_string(&json)?;
        Ok(())
    })
}

/// Closes the engine: later transcriptions fail with `VF_ERROR_CLOSED`;
/// running ones finish. The handle must still be freed with `vf_engine_free`.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_close(engine: *const VfEngine) -> VfStatus {
    guard(|| {
        unsafe { arg(engine, "engine")? }.engine.close();
        Ok(())
    })
}

/// Frees an engine; NULL does nothing. No other thread may still use it.
#[no_mangle]
pub unsafe extern "C" fn vf_engine_free(engine: *mut VfEngine) {
    unsafe { free_handle(engine) }
}
