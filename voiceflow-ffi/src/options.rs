//! Options of engines and transcriptions as C structs, and the segment
//! callback.

use std::ffi::{c_char, c_void};
use std::ops::ControlFlow;
use std::time::Duration;

use voiceflow_core::vad::VadOptions;
use voiceflow_core::{EngineConfig, Progress, Segment, Task, TranscribeOptions};

use crate::boundary::{guard, optional_utf8, slice, FfiError, FfiResult};
use crate::handle::c_string;
use crate::status::VfStatus;
use crate::transcript::VfSegment;
use crate::versioned::{read_versioned, write_defaults, Versioned};

/// How an engine is set up; fill it with
/// `vf_engine_options_default(&options, sizeof options)` first.
/// Size-versioned: `struct_size` is set by `vf_engine_options_default`, and
/// new fields are only ever appended (see "ABI policy" at the top).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfEngineOptions {
    /// `sizeof(VfEngineOptions)` as the caller was compiled; set by
    /// `vf_engine_options_default`. Fields past it take their defaults.
    pub struct_size: usize,
    /// Path of the ONNX Runtime shared library; NULL looks at
    /// `ORT_DYLIB_PATH`, then `runtime/` beside the working directory and
    /// the executable.
    pub runtime_library: *const c_char,
    /// ONNX Runtime threads per model instance, 1 to 1024 (default: all
    /// cores).
    pub threads: usize,
    /// Encoder/decoder session pairs, 1 to 256, each batching the work of
    /// every caller (default 1; a second pair runs beside the first).
    pub instances: usize,
    /// Longest audio accepted, in seconds: a positive number, `INFINITY`
    /// for no limit (default four hours).
    pub max_audio_duration_s: f64,
    /// Transcriptions running at once (default 50).
    pub max_concurrent: usize,
    /// Callers that may wait for a turn beyond those (default 100); any more
    /// get `VF_ERROR_OVERLOADED` at once.
    pub max_queued: usize,
    /// Batch the work of different callers (default true).
    pub batching: bool,
    /// Where the model runs: `"auto"` (NULL, the default: CUDA when the
    /// library was built with it and it can take the model, else the CPU),
    /// `"cpu"`, `"cuda"` or `"cuda:N"` (that GPU only: `vf_engine_new` fails
    /// with `VF_ERROR_DEVICE_UNAVAILABLE` when it cannot be used).
    /// `vf_engine_providers` says where each graph runs.
    pub device: *const c_char,
}

/// The first released layout of [`VfEngineOptions`], before `device`: its
/// size in [`Versioned::SIZES`].
#[repr(C)]
#[allow(dead_code)] // Only its size is used.
struct VfEngineOptionsV1 {
    struct_size: usize,
    runtime_library: *const c_char,
    threads: usize,
    instances: usize,
    max_audio_duration_s: f64,
    max_concurrent: usize,
    max_queued: usize,
    batching: bool,
}

/// Transcribe or translate, as `VfTranscribeOptions::task`.
pub type VfTask = u32;
/// Write down what was said, in the spoken language.
pub const VF_TASK_TRANSCRIBE: VfTask = 0;
/// Translate into English (multilingual models only).
pub const VF_TASK_TRANSLATE: VfTask = 1;

/// What a segment callback returns: `VF_CONTINUE`, or any other value
/// (`VF_STOP`) to stop the transcription after this segment.
pub type VfControl = u32;
/// Go on transcribing.
pub const VF_CONTINUE: VfControl = 0;
/// Stop: the transcription returns `VF_OK` with the segments so far.
pub const VF_STOP: VfControl = 1;

/// How far a transcription has come, passed to the segment callback.
/// Frozen: made by the library and passed by value, it never changes
/// within a SONAME.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct VfProgress {
    /// Seconds of audio transcribed so far.
    pub done_s: f64,
    /// Seconds of audio in total.
    pub total_s: f64,
}

/// Called on the transcribing thread with each segment as soon as it is
/// decoded. `segment` and its text are valid only during the call. Return
/// `VF_CONTINUE` to go on or `VF_STOP` to stop. Do not start another
/// transcription on the same engine from inside the callback. It runs only
/// during the transcribe call it was given to, so its `user_data` needs no
/// finalizer: the caller owns it before, during and after the call.
pub type VfSegmentCallback = Option<
    unsafe extern "C" fn(
        segment: *const VfSegment,
        progress: VfProgress,
        user_data: *mut c_void,
    ) -> VfControl,
>;

/// Options of one transcription; fill it with
/// `vf_transcribe_options_default(&options, sizeof options)` first. Strings
/// are borrowed for the call. Size-versioned: `struct_size` is set by
/// `vf_transcribe_options_default`, and new fields are only ever appended
/// (see "ABI policy" at the top).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfTranscribeOptions {
    /// `sizeof(VfTranscribeOptions)` as the caller was compiled; set by
    /// `vf_transcribe_options_default`. Fields past it take their defaults.
    pub struct_size: usize,
    /// Language code such as `"en"`; NULL or `"auto"` detects it
    /// (multilingual models) on 30 s from the first speech.
    pub language: *const c_char,
    /// `VF_TASK_TRANSCRIBE` or `VF_TASK_TRANSLATE`.
    pub task: VfTask,
    /// Beam width, 1 to 128; 1 (the default) is greedy decoding.
    pub beam_size: usize,
    /// Text that primes the first window (names, spelling); NULL for none.
    pub initial_prompt: *const c_char,
    /// Predict timestamps (timed segments); default true.
    pub timestamps: bool,
    /// Called with each segment as it is produced; NULL for none.
    pub on_segment: VfSegmentCallback,
    /// Passed unchanged to `on_segment`; borrowed for the call (the
    /// callback never runs after it returns, so there is no finalizer).
    pub user_data: *mut c_void,
    /// The longest the call may take, waiting for a turn included, in
    /// milliseconds; then it fails with `VF_ERROR_TIMEOUT`. 0: no limit.
    pub timeout_ms: u64,
    /// Encode a window with less than 30 s of audio at its own length
    /// (rounded up to 5 s) instead of padding it to 30 s: faster; the text
    /// may differ from Whisper's. Default false.
    pub short_windows: bool,
    /// Word-level timestamps from the decoder's cross-attention alignment;
    /// default false.
    pub word_timestamps: bool,
    /// Beam search stops when `round(beam_size * patience)` beams finished:
    /// a positive number (default 1).
    pub patience: f32,
    /// Samples drawn at each temperature above 0, 1 to 128 (default 5).
    pub best_of: usize,
    /// `temperature_count` temperatures (finite, >= 0) tried in order until
    /// a decoding passes the thresholds; borrowed for the call. NULL (the
    /// default) keeps openai/whisper's 0, 0.2, 0.4, 0.6, 0.8, 1.
    pub temperatures: *const f32,
    /// Number of floats at `temperatures` (at least 1 when it is not NULL).
    pub temperature_count: usize,
    /// Fall back to the next temperature when the text's zlib compression
    /// ratio exceeds this (default 2.4); `NAN`: no such check.
    pub compression_ratio_threshold: f32,
    /// Fall back when the average log-probability is below this (default
    /// -1); `NAN`: no such check.
    pub logprob_threshold: f32,
    /// A window counts as silence above this no-speech probability (default
    /// 0.6); `NAN`: never.
    pub no_speech_threshold: f32,
    /// A window whose decoding failed the thresholds at every temperature is
    /// dropped when its no-speech probability exceeds this (default 0.5);
    /// `NAN` keeps its text, as openai/whisper does.
    pub unreliable_no_speech_threshold: f32,
    /// Prompt each window with the previous window's text; default true.
    pub condition_on_previous_text: bool,
    /// Seed for sampling at temperatures above 0; default 0.
    pub seed: u64,
    /// Transcribe only the speech Silero voice activity detection finds
    /// (the `vad_*` fields tune it); default false.
    pub vad_filter: bool,
    /// Path of `silero_vad.onnx`; NULL looks at `VOICEFLOW_VAD_MODEL`, then
    /// `silero-vad/` beside the model folder.
    pub vad_model: *const c_char,
    /// A frame at or above this speech probability is speech, 0 to 1
    /// (default 0.5).
    pub vad_threshold: f32,
    /// While in speech, a frame below this probability is silence, 0 to
    /// `vad_threshold`; `NAN` (the default): `vad_threshold - 0.15`.
    pub vad_neg_threshold: f32,
    /// Speech shorter than this is dropped, in ms (default 0).
    pub vad_min_speech_duration_ms: u32,
    /// Speech ends after this much silence, in ms (default 2000).
    pub vad_min_silence_duration_ms: u32,
    /// Each span of speech is widened by this much on both sides, in ms
    /// (default 400).
    pub vad_speech_pad_ms: u32,
    /// Longer speech is cut, at its longest pause, in seconds: positive
    /// (default `INFINITY`: never).
    pub vad_max_speech_duration_s: f32,
    /// Shortest pause counted as a place to cut over-long speech, in ms
    /// (default 98).
    pub vad_min_silence_at_max_speech_ms: u32,
}

/// `VfTranscribeOptions` as the first released header had it, for its
/// size in [`Versioned::SIZES`].
#[repr(C)]
#[allow(dead_code)] // Only its size is used.
struct VfTranscribeOptionsV1 {
    struct_size: usize,
    language: *const c_char,
    task: VfTask,
    beam_size: usize,
    initial_prompt: *const c_char,
    timestamps: bool,
    on_segment: VfSegmentCallback,
    user_data: *mut c_void,
    timeout_ms: u64,
    short_windows: bool,
}

/// Fills `*out_options`, `struct_size` bytes long (pass
/// `sizeof(VfEngineOptions)`), with the default engine options and sets its
/// `struct_size`. A size that no release of the header had is
/// `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
///
/// # Safety
/// `out_options` is NULL or points to `struct_size` writable bytes, aligned
/// for a `VfEngineOptions` (their old contents need not be initialised).
#[no_mangle]
pub unsafe extern "C" fn vf_engine_options_default(
    out_options: *mut VfEngineOptions,
    struct_size: usize,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_options` is NULL or `struct_size` writable bytes
        // (# Safety).
        unsafe { write_defaults(out_options, struct_size, "out_options") }
    })
}

// SAFETY: `repr(C)` with `struct_size` first; two released layouts,
// `VfEngineOptionsV1` (whose fields, in order, begin this one) and this one;
// pointers, integers and floats are valid for any bytes, and the `bool` is
// 0 or 1 by the contracts of `vf_engine_new`.
unsafe impl Versioned for VfEngineOptions {
    const NAME: &'static str = "VfEngineOptions";
    const SIZES: &'static [usize] = &[size_of::<VfEngineOptionsV1>(), size_of::<VfEngineOptions>()];
    fn defaults() -> Self {
        engine_options(&EngineConfig::new(""))
    }
}

/// The C view of an engine configuration.
fn engine_options(config: &EngineConfig) -> VfEngineOptions {
    VfEngineOptions {
        struct_size: size_of::<VfEngineOptions>(),
        runtime_library: std::ptr::null(),
        threads: config.intra_op_threads,
        instances: config.instances,
        max_audio_duration_s: config.max_audio_duration_s,
        max_concurrent: config.scheduler.max_concurrent,
        max_queued: config.scheduler.max_queued,
        batching: config.scheduler.batching,
        device: std::ptr::null(),
    }
}

/// Fills `*out_options`, `struct_size` bytes long (pass
/// `sizeof(VfTranscribeOptions)`), with the default transcription options
/// (those of the core's `TranscribeOptions::default()`: language detected,
/// transcribe, greedy with temperature fallback, no prompt, timestamps on,
/// no VAD filter, no callback) and sets its `struct_size`. A size that no release of the
/// header had is `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
///
/// # Safety
/// `out_options` is NULL or points to `struct_size` writable bytes, aligned
/// for a `VfTranscribeOptions` (their old contents need not be
/// initialised).
#[no_mangle]
pub unsafe extern "C" fn vf_transcribe_options_default(
    out_options: *mut VfTranscribeOptions,
    struct_size: usize,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_options` is NULL or `struct_size` writable bytes
        // (# Safety).
        unsafe { write_defaults(out_options, struct_size, "out_options") }
    })
}

// SAFETY: `repr(C)` with `struct_size` first; two released layouts,
// `VfTranscribeOptionsV1` (whose fields, in order, begin this one) and this
// one; pointers, integers, floats and `Option`s of function pointers are
// valid for any bytes, and the `bool`s are 0 or 1 by the contracts of the
// transcribe functions.
unsafe impl Versioned for VfTranscribeOptions {
    const NAME: &'static str = "VfTranscribeOptions";
    const SIZES: &'static [usize] = &[
        size_of::<VfTranscribeOptionsV1>(),
        size_of::<VfTranscribeOptions>(),
    ];
    fn defaults() -> Self {
        transcribe_options(&TranscribeOptions::default())
    }
}

/// The C view of transcription options (no strings, no callback, the
/// default temperatures; the VAD fields hold [`VadOptions::filter`]'s
/// values, used when `vad_filter` is set).
fn transcribe_options(options: &TranscribeOptions) -> VfTranscribeOptions {
    let vad = options
        .vad_filter
        .clone()
        .unwrap_or_else(VadOptions::filter);
    let off = |threshold: Option<f32>| threshold.unwrap_or(f32::NAN);
    VfTranscribeOptions {
        struct_size: size_of::<VfTranscribeOptions>(),
        language: std::ptr::null(),
        task: VF_TASK_TRANSCRIBE,
        beam_size: options.beam_size,
        initial_prompt: std::ptr::null(),
        timestamps: options.timestamps,
        on_segment: None,
        user_data: std::ptr::null_mut(),
        timeout_ms: options.timeout.map_or(0, |t| t.as_millis() as u64),
        short_windows: options.short_windows,
        word_timestamps: options.word_timestamps,
        patience: options.patience,
        best_of: options.best_of,
        temperatures: std::ptr::null(),
        temperature_count: 0,
        compression_ratio_threshold: off(options.compression_ratio_threshold),
        logprob_threshold: off(options.logprob_threshold),
        no_speech_threshold: off(options.no_speech_threshold),
        unreliable_no_speech_threshold: off(options.unreliable_no_speech_threshold),
        condition_on_previous_text: options.condition_on_previous_text,
        seed: options.seed,
        vad_filter: options.vad_filter.is_some(),
        vad_model: std::ptr::null(),
        vad_threshold: vad.threshold,
        vad_neg_threshold: off(vad.neg_threshold),
        vad_min_speech_duration_ms: vad.min_speech_duration_ms,
        vad_min_silence_duration_ms: vad.min_silence_duration_ms,
        vad_speech_pad_ms: vad.speech_pad_ms,
        vad_max_speech_duration_s: vad.max_speech_duration_s,
        vad_min_silence_at_max_speech_ms: vad.min_silence_at_max_speech_ms,
    }
}

/// `NAN` (a C caller's "off") as `None`.
fn threshold(value: f32) -> Option<f32> {
    (!value.is_nan()).then_some(value)
}

/// The engine configuration for `model_dir` with `options` (NULL: defaults).
///
/// # Safety
/// `options` is NULL or aligned and points to options whose `struct_size`
/// bytes are readable with every field in them initialised (`bool`s 0 or
/// 1), whose `runtime_library` is NULL or a NUL-terminated string; all
/// unchanged during the call.
pub(crate) unsafe fn engine_config(
    model_dir: &str,
    options: *const VfEngineOptions,
) -> FfiResult<EngineConfig> {
    let mut config = EngineConfig::new(model_dir);
    // SAFETY: NULL (handled) or aligned options, initialised for their
    // `struct_size` (our contract).
    let Some(options) = (unsafe { read_versioned(options, "options")? }) else {
        return Ok(config);
    };
    // SAFETY: `runtime_library` is NULL or a NUL-terminated string (our contract).
    let runtime_library =
        unsafe { optional_utf8(options.runtime_library, "options.runtime_library")? };
    config.runtime_library = runtime_library.map(Into::into);
    config.intra_op_threads = options.threads;
    config.instances = options.instances;
    config.max_audio_duration_s = options.max_audio_duration_s;
    config.scheduler.max_concurrent = options.max_concurrent;
    config.scheduler.max_queued = options.max_queued;
    config.scheduler.batching = options.batching;
    // SAFETY: `device` is NULL or a NUL-terminated string (our contract).
    if let Some(device) = unsafe { optional_utf8(options.device, "options.device")? } {
        config.device = device.parse()?;
    }
    Ok(config)
}

/// The caller's segment callback with its user data. Not `Send` (it holds
/// a raw pointer), so it stays on the thread that made it, as the callback
/// is promised in `transcribe_call`'s contract.
pub(crate) struct SegmentSink {
    callback: VfSegmentCallback,
    user_data: *mut c_void,
    /// A segment that could not be handed over (its text held a NUL byte).
    failure: Option<FfiError>,
}

/// The core options and the segment callback of `options` (NULL: defaults,
/// no callback).
///
/// # Safety
/// `options` is NULL or aligned and points to options whose `struct_size`
/// bytes are readable with every field in them initialised (`bool`s 0 or
/// 1), whose `language`, `initial_prompt` and `vad_model` are NULL or
/// NUL-terminated strings, whose `temperatures` is NULL or points to
/// `temperature_count` floats, all unchanged during the call, and whose
/// `on_segment` is NULL or a function that may be called with `user_data`
/// on the calling thread while the returned sink lives.
pub(crate) unsafe fn transcribe_call(
    options: *const VfTranscribeOptions,
) -> FfiResult<(TranscribeOptions, SegmentSink)> {
    let mut core = TranscribeOptions::default();
    let mut sink = SegmentSink {
        callback: None,
        user_data: std::ptr::null_mut(),
        failure: None,
    };
    // SAFETY: NULL (handled) or aligned options, initialised for their
    // `struct_size` (our contract).
    let Some(options) = (unsafe { read_versioned(options, "options")? }) else {
        return Ok((core, sink));
    };
    // SAFETY: `language` is NULL or a NUL-terminated string (our contract).
    let language = unsafe { optional_utf8(options.language, "options.language")? };
    core.language = language.map(str::to_string);
    core.task = match options.task {
        VF_TASK_TRANSCRIBE => Task::Transcribe,
        VF_TASK_TRANSLATE => Task::Translate,
        other => return Err(FfiError::invalid(format!("unknown task {other}"))),
    };
    core.beam_size = options.beam_size;
    // SAFETY: `initial_prompt` is NULL or a NUL-terminated string (our contract).
    let initial_prompt =
        unsafe { optional_utf8(options.initial_prompt, "options.initial_prompt")? };
    core.initial_prompt = initial_prompt.map(str::to_string);
    core.timestamps = options.timestamps;
    core.timeout = (options.timeout_ms > 0).then(|| Duration::from_millis(options.timeout_ms));
    core.short_windows = options.short_windows;
    core.word_timestamps = options.word_timestamps;
    core.patience = options.patience;
    core.best_of = options.best_of;
    if !options.temperatures.is_null() {
        // SAFETY: `temperatures` is not NULL and points to
        // `temperature_count` floats (our contract).
        let temperatures = unsafe {
            slice(
                options.temperatures,
                options.temperature_count,
                "options.temperatures",
            )?
        };
        core.temperatures = temperatures.to_vec();
    }
    core.compression_ratio_threshold = threshold(options.compression_ratio_threshold);
    core.logprob_threshold = threshold(options.logprob_threshold);
    core.no_speech_threshold = threshold(options.no_speech_threshold);
    core.unreliable_no_speech_threshold = threshold(options.unreliable_no_speech_threshold);
    core.condition_on_previous_text = options.condition_on_previous_text;
    core.seed = options.seed;
    if options.vad_filter {
        // SAFETY: `vad_model` is NULL or a NUL-terminated string (our contract).
        let model = unsafe { optional_utf8(options.vad_model, "options.vad_model")? };
        core.vad_filter = Some(VadOptions {
            model: model.map(Into::into),
            threshold: options.vad_threshold,
            neg_threshold: threshold(options.vad_neg_threshold),
            min_speech_duration_ms: options.vad_min_speech_duration_ms,
            min_silence_duration_ms: options.vad_min_silence_duration_ms,
            speech_pad_ms: options.vad_speech_pad_ms,
            max_speech_duration_s: options.vad_max_speech_duration_s,
            min_silence_at_max_speech_ms: options.vad_min_silence_at_max_speech_ms,
        });
    }
    sink.callback = options.on_segment;
    sink.user_data = options.user_data;
    Ok((core, sink))
}

impl SegmentSink {
    /// Hands `segment` to the caller's callback, if any; whether to go on.
    pub(crate) fn on_segment(&mut self, segment: &Segment, progress: Progress) -> ControlFlow<()> {
        let Some(callback) = self.callback else {
            return ControlFlow::Continue(());
        };
        let text = match c_string(&segment.text) {
            Ok(text) => text,
            Err(error) => {
                self.failure = Some(error);
                return ControlFlow::Break(());
            }
        };
        let segment = VfSegment {
            start: segment.start,
            end: segment.end,
            text: text.as_ptr(),
        };
        let progress = VfProgress {
            done_s: progress.done_s,
            total_s: progress.total_s,
        };
        // SAFETY: `callback` may be called with `user_data` on this thread
        // while the sink lives (`transcribe_call`'s contract, which the
        // exported functions pass on to C); `segment` and `text` outlive the
        // call, as the callback's documentation promises C.
        match unsafe { callback(&segment, progress, self.user_data) } {
            VF_CONTINUE => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    }

    /// The error that stopped the callbacks, if any.
    pub(crate) fn failure(self) -> FfiResult {
        self.failure.map_or(Ok(()), Err)
    }
}
