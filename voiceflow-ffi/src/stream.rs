//! Streaming sessions: push audio as it arrives, hear partial and final
//! text through callbacks, finish with a transcript.

use std::ffi::{c_char, c_void, CString};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use voiceflow_core::stream::{Partial, StreamObserver, StreamOptions, StreamingSession};
use voiceflow_core::{Error, Segment};

use crate::boundary::{arg, guard, optional_utf8, out, slice, FfiError, FfiResult};
use crate::engine::VfEngine;
use crate::handle::{c_string, free_handle, into_handle};
use crate::options::{VfControl, VF_CONTINUE};
use crate::status::{status_of, VfStatus};
use crate::transcript::{VfSegment, VfTranscript};
use crate::versioned::{read_versioned, write_defaults, Versioned};

/// How a streaming session finds utterances; fill it with
/// `vf_stream_options_default(&options, sizeof options)` first. Strings are
/// borrowed for the call. Size-versioned: `struct_size` is set by
/// `vf_stream_options_default`, and new fields are only ever appended (see
/// "ABI policy" at the top).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfStreamOptions {
    /// `sizeof(VfStreamOptions)` as the caller was compiled; set by
    /// `vf_stream_options_default`. Fields past it take their defaults.
    pub struct_size: usize,
    /// Language code such as `"en"`; NULL detects it (multilingual models).
    pub language: *const c_char,
    /// Beam width of the finals; 1 (the default) is greedy.
    pub beam_size: usize,
    /// Voice activity detection (default true); false treats all audio as
    /// speech cut into utterances of `max_speech_s`.
    pub detect_speech: bool,
    /// Path of `silero_vad.onnx`; NULL: `silero-vad/silero_vad.onnx` beside
    /// the model folder (`scripts/setup.sh vad`).
    pub vad_model: *const c_char,
    /// Speech probability threshold (default 0.5; silence below it - 0.15).
    pub vad_threshold: f32,
    /// Silence that ends an utterance, in ms (default 500).
    pub min_silence_ms: u32,
    /// Padding around each utterance, in ms (default 100).
    pub speech_pad_ms: u32,
    /// Longest utterance, cut at its longest pause, in seconds (default 20, at most 29).
    pub max_speech_s: f32,
    /// Milliseconds between partials (default 500); 0: no partials.
    pub partial_interval_ms: u32,
    /// Seconds of audio that may wait before pushes fail with
    /// `VF_ERROR_QUEUE_FULL` (default 60).
    pub max_backlog_s: f64,
}

/// The open utterance's current, unstable text. Frozen: made by the
/// library for the partial callback, it never changes within a SONAME.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfPartial {
    /// Start of the utterance, in seconds from the start of the stream.
    pub start: f32,
    /// End of the audio it covers, in seconds.
    pub end: f32,
    /// The text (UTF-8), valid during the call.
    pub text: *const c_char,
}

/// Called with each new partial; return `VF_CONTINUE`, or `VF_STOP` to stop
/// the session.
pub type VfPartialCallback =
    Option<unsafe extern "C" fn(partial: *const VfPartial, user_data: *mut c_void) -> VfControl>;
/// Called with each committed segment (times from the start of the stream;
/// the text is valid during the call and will not change); return
/// `VF_CONTINUE`, or `VF_STOP` to stop the session.
pub type VfFinalCallback =
    Option<unsafe extern "C" fn(segment: *const VfSegment, user_data: *mut c_void) -> VfControl>;
/// Called once if the session fails, with the status and message that
/// `vf_stream_finish` will also return.
pub type VfErrorCallback =
    Option<unsafe extern "C" fn(status: VfStatus, message: *const c_char, user_data: *mut c_void)>;
/// Frees `user_data` once no callback can run any more.
pub type VfUserDataFinalizer = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// What a session calls; every callback may be NULL. Fill it with
/// `vf_stream_callbacks_default(&callbacks, sizeof callbacks)` (all NULL)
/// first, then set the callbacks you want. Size-versioned: `struct_size` is
/// set by `vf_stream_callbacks_default`, and new fields are only ever
/// appended (see "ABI policy" at the top).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfStreamCallbacks {
    /// `sizeof(VfStreamCallbacks)` as the caller was compiled; set by
    /// `vf_stream_callbacks_default`. Fields past it are NULL.
    pub struct_size: usize,
    /// Partials of the open utterance.
    pub on_partial: VfPartialCallback,
    /// Committed segments.
    pub on_final: VfFinalCallback,
    /// The session's failure.
    pub on_error: VfErrorCallback,
    /// Called exactly once with `user_data` after the last callback, when
    /// the library is done with it: when the session ends (in
    /// `vf_stream_finish` or `vf_stream_free`), or before `vf_stream_new`
    /// returns an error, so the caller hands `user_data` over at
    /// `vf_stream_new` whatever it returns. The one exception: a
    /// `VfStreamCallbacks` rejected for its `struct_size` is not read at all,
    /// so its finalizer is not called and `user_data` stays the caller's.
    /// NULL: nothing to free.
    pub free_user_data: VfUserDataFinalizer,
}

/// A live transcription (opaque). `vf_stream_push_pcm*` may be called from
/// any thread (one at a time keeps chunks in order), also from inside a
/// callback; callbacks run on the session's own thread, one at a time.
pub struct VfStream {
    session: Mutex<Option<StreamingSession>>,
    model: String,
}

impl VfStream {
    fn session(&self) -> MutexGuard<'_, Option<StreamingSession>> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The C callbacks and their `user_data` as an observer.
struct Callbacks {
    callbacks: VfStreamCallbacks,
    user_data: *mut c_void,
}

// SAFETY: the only field that is not `Send` is `user_data`. The caller of
// `vf_stream_new` guarantees (its # Safety) that the callbacks may be called
// with it on the session's thread, and `free_user_data` on whichever thread
// ends the session; the observer is moved there and nowhere else, and runs
// one callback at a time.
unsafe impl Send for Callbacks {}

/// `VF_CONTINUE` goes on; anything else stops.
fn flow(control: VfControl) -> ControlFlow<()> {
    if control == VF_CONTINUE {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
}

/// Text for a callback; text holding a NUL byte (never from Whisper's
/// tokenizer) is cut there.
fn callback_text(text: &str) -> CString {
    c_string(text)
        .unwrap_or_else(|_| c_string(text.split('\0').next().unwrap_or("")).unwrap_or_default())
}

impl StreamObserver for Callbacks {
    fn on_partial(&mut self, partial: &Partial) -> ControlFlow<()> {
        let Some(callback) = self.callbacks.on_partial else {
            return ControlFlow::Continue(());
        };
        let text = callback_text(&partial.text);
        let partial = VfPartial {
            start: partial.start,
            end: partial.end,
            text: text.as_ptr(),
        };
        // SAFETY: a function of the declared type that may be called with
        // `user_data` on this thread (`vf_stream_new`'s # Safety); `partial`
        // and its text outlive the call, as `VfPartial` promises.
        flow(unsafe { callback(&partial, self.user_data) })
    }

    fn on_final(&mut self, segment: &Segment) -> ControlFlow<()> {
        let Some(callback) = self.callbacks.on_final else {
            return ControlFlow::Continue(());
        };
        let text = callback_text(&segment.text);
        let segment = VfSegment {
            start: segment.start,
            end: segment.end,
            text: text.as_ptr(),
        };
        // SAFETY: as in `on_partial`: a callable function (the caller's
        // contract); `segment` and its text outlive the call.
        flow(unsafe { callback(&segment, self.user_data) })
    }

    fn on_error(&mut self, error: &Error) {
        if let Some(callback) = self.callbacks.on_error {
            let message = callback_text(&voiceflow_core::error::chain(error));
            // SAFETY: as in `on_partial`: a callable function (the caller's
            // contract); `message` outlives the call.
            unsafe { callback(status_of(error), message.as_ptr(), self.user_data) }
        }
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        if let Some(finalize) = self.callbacks.free_user_data {
            // SAFETY: the caller's finalizer, which may be called on any
            // thread (`vf_stream_new`'s # Safety); `drop` runs once, after the
            // last callback (the observer is gone with it), so `user_data` is
            // not used after it is freed.
            unsafe { finalize(self.user_data) }
        }
    }
}

/// The default stream options.
fn stream_options(defaults: &StreamOptions) -> VfStreamOptions {
    VfStreamOptions {
        struct_size: size_of::<VfStreamOptions>(),
        language: std::ptr::null(),
        beam_size: defaults.transcribe.beam_size,
        detect_speech: defaults.detect_speech,
        vad_model: std::ptr::null(),
        vad_threshold: defaults.vad.threshold,
        min_silence_ms: defaults.vad.min_silence_duration_ms,
        speech_pad_ms: defaults.vad.speech_pad_ms,
        max_speech_s: defaults.vad.max_speech_duration_s,
        partial_interval_ms: defaults
            .partial_interval
            .map_or(0, |d| d.as_millis() as u32),
        max_backlog_s: defaults.max_backlog_s,
    }
}

// SAFETY: `repr(C)` with `struct_size` first; one released layout, this one;
// pointers, integers and floats are valid for any bytes, and the `bool` is 0
// or 1 by the contract of `vf_stream_new`.
unsafe impl Versioned for VfStreamOptions {
    const NAME: &'static str = "VfStreamOptions";
    const SIZES: &'static [usize] = &[size_of::<VfStreamOptions>()];
    fn defaults() -> Self {
        stream_options(&StreamOptions::default())
    }
}

// SAFETY: `repr(C)` with `struct_size` first; one released layout, this one;
// the other fields are `Option`s of function pointers, valid for any bytes.
unsafe impl Versioned for VfStreamCallbacks {
    const NAME: &'static str = "VfStreamCallbacks";
    const SIZES: &'static [usize] = &[size_of::<VfStreamCallbacks>()];
    fn defaults() -> Self {
        VfStreamCallbacks {
            struct_size: size_of::<VfStreamCallbacks>(),
            on_partial: None,
            on_final: None,
            on_error: None,
            free_user_data: None,
        }
    }
}

/// Fills `*out_options`, `struct_size` bytes long (pass
/// `sizeof(VfStreamOptions)`), with the default stream options (voice
/// activity detection on, 500 ms of silence ends an utterance, partials
/// every 500 ms) and sets its `struct_size`. A size that no release of the
/// header had is `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
///
/// # Safety
/// `out_options` is NULL or points to `struct_size` writable bytes, aligned
/// for a `VfStreamOptions` (their old contents need not be initialised).
#[no_mangle]
pub unsafe extern "C" fn vf_stream_options_default(
    out_options: *mut VfStreamOptions,
    struct_size: usize,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_options` is NULL or `struct_size` writable bytes
        // (# Safety).
        unsafe { write_defaults(out_options, struct_size, "out_options") }
    })
}

/// Fills `*out_callbacks`, `struct_size` bytes long (pass
/// `sizeof(VfStreamCallbacks)`), with no callbacks and no finalizer (all
/// NULL) and sets its `struct_size`. A size that no release of the header
/// had is `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
///
/// # Safety
/// `out_callbacks` is NULL or points to `struct_size` writable bytes,
/// aligned for a `VfStreamCallbacks` (their old contents need not be
/// initialised).
#[no_mangle]
pub unsafe extern "C" fn vf_stream_callbacks_default(
    out_callbacks: *mut VfStreamCallbacks,
    struct_size: usize,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_callbacks` is NULL or `struct_size` writable bytes
        // (# Safety).
        unsafe { write_defaults(out_callbacks, struct_size, "out_callbacks") }
    })
}

/// The core options for `options` (NULL: defaults).
///
/// # Safety
/// `options` is NULL or aligned and points to options whose `struct_size`
/// bytes are readable with every field in them initialised (`bool`s 0 or
/// 1), whose `language` and `vad_model` are NULL or NUL-terminated strings;
/// all unchanged during the call.
unsafe fn core_options(options: *const VfStreamOptions) -> FfiResult<StreamOptions> {
    let mut core = StreamOptions::default();
    // SAFETY: NULL (handled) or aligned options, initialised for their
    // `struct_size` (our contract).
    let Some(o) = (unsafe { read_versioned(options, "options")? }) else {
        return Ok(core);
    };
    // SAFETY: `language` is NULL or a NUL-terminated string (our contract).
    let language = unsafe { optional_utf8(o.language, "options.language")? };
    core.transcribe.language = language.map(str::to_string);
    core.transcribe.beam_size = o.beam_size;
    core.detect_speech = o.detect_speech;
    // SAFETY: `vad_model` is NULL or a NUL-terminated string (our contract).
    let vad_model = unsafe { optional_utf8(o.vad_model, "options.vad_model")? };
    core.vad.model = vad_model.map(PathBuf::from);
    core.vad.threshold = o.vad_threshold;
    core.vad.min_silence_duration_ms = o.min_silence_ms;
    core.vad.speech_pad_ms = o.speech_pad_ms;
    core.vad.max_speech_duration_s = o.max_speech_s;
    core.partial_interval = (o.partial_interval_ms > 0)
        .then(|| Duration::from_millis(u64::from(o.partial_interval_ms)));
    core.max_backlog_s = o.max_backlog_s;
    Ok(core)
}

/// Starts a streaming session on `engine` (the session keeps the engine
/// alive: `vf_engine_free` may come first).
/// `options` and `callbacks` may be NULL; `user_data` is passed to every
/// callback and, at the end, to `callbacks->free_user_data`. On success
/// `*out_stream` is a session to end with `vf_stream_finish` and free with
/// `vf_stream_free`; on failure it is NULL (and `free_user_data` was called,
/// unless `callbacks` itself was rejected for its `struct_size`).
///
/// Errors: `VF_ERROR_INVALID_ARGUMENT` (bad options, a bad `struct_size`),
/// `VF_ERROR_MODEL_NOT_FOUND` (no Silero VAD graph), `VF_ERROR_CLOSED`
/// (closed engine).
///
/// ```c
/// VfStream *stream = NULL;
/// VfStreamCallbacks callbacks;
/// vf_stream_callbacks_default(&callbacks, sizeof callbacks);
/// callbacks.on_final = print_final;
/// if (vf_stream_new(engine, NULL, &callbacks, NULL, &stream) == VF_OK) {
///     vf_stream_push_pcm_i16(stream, pcm, n, 48000, 2);   /* as audio arrives */
///     VfTranscript *transcript = NULL;
///     vf_stream_finish(stream, &transcript);
///     vf_transcript_free(transcript);
/// }
/// vf_stream_free(stream);
/// ```
///
/// # Safety
/// - `engine` is NULL or an engine from `vf_engine_new` not freed before
///   the call returns.
/// - `options` is NULL or points to a `VfStreamOptions` initialised by
///   `vf_stream_options_default` (its `struct_size` bytes readable, every
///   field in them set) whose `language` and `vad_model` are NULL or
///   NUL-terminated strings.
/// - `callbacks` is NULL or points to a `VfStreamCallbacks` initialised by
///   `vf_stream_callbacks_default` (its `struct_size` bytes readable) whose
///   members are NULL or functions of the declared types. The callbacks are called
///   with `user_data` on the session's own thread, not the caller's, until
///   the session ends; `free_user_data` once, on the thread that ends it
///   (or in this call, when it fails). `user_data` must be usable there,
///   alongside whatever the caller's threads do with it.
/// - `out_stream` is NULL or points to a writable `VfStream *` apart from
///   the other arguments.
#[no_mangle]
pub unsafe extern "C" fn vf_stream_new(
    engine: *const VfEngine,
    options: *const VfStreamOptions,
    callbacks: *const VfStreamCallbacks,
    user_data: *mut c_void,
    out_stream: *mut *mut VfStream,
) -> VfStatus {
    guard(|| {
        // The observer first, so that its finalizer runs whatever fails below
        // (callbacks with a bad `struct_size` have no finalizer to trust).
        // SAFETY: `callbacks` is NULL (handled) or points to callbacks
        // initialised for their `struct_size` (# Safety); they are copied out.
        let callbacks = unsafe { read_versioned(callbacks, "callbacks")? }
            .unwrap_or_else(VfStreamCallbacks::defaults);
        let observer = Callbacks {
            callbacks,
            user_data,
        };
        // SAFETY: `out_stream` is NULL or writable and unaliased (# Safety).
        let out_stream = unsafe { out(out_stream, "out_stream", std::ptr::null_mut())? };
        // SAFETY: `engine` is NULL or a live engine for the call (# Safety).
        let engine = &unsafe { arg(engine, "engine")? }.engine;
        // SAFETY: `options` is NULL or valid stream options (# Safety).
        let options = unsafe { core_options(options)? };
        let session = engine.stream(options, observer)?;
        *out_stream = into_handle(VfStream {
            session: Mutex::new(Some(session)),
            model: engine.model_info().name.clone(),
        });
        Ok(())
    })
}

/// Pushes `samples` to the session.
///
/// # Safety
/// `stream` is NULL or a session from `vf_stream_new` not freed before the
/// call returns (as for [`arg`]).
unsafe fn push(
    stream: *const VfStream,
    samples: &[f32],
    sample_rate: u32,
    channels: u16,
) -> FfiResult {
    // SAFETY: `stream` is NULL or a live session for the call (our contract);
    // pushes from several threads meet at its mutex.
    let stream = unsafe { arg(stream, "stream")? };
    match stream.session().as_ref() {
        Some(session) => Ok(session.push(samples, sample_rate, channels)?),
        None => Err(FfiError::Core(Error::Closed("stream"))),
    }
}

/// Hands `sample_count` float samples in [-1, 1] (interleaved when
/// `channels` > 1, at any `sample_rate`; rate and channels may change
/// between calls) to the session and returns at once.
///
/// Errors: `VF_ERROR_QUEUE_FULL` when more than `max_backlog_s` of audio
/// waits (the chunk was not taken: push it again later),
/// `VF_ERROR_INVALID_AUDIO`, `VF_ERROR_INVALID_ARGUMENT`, `VF_ERROR_CLOSED`
/// (the session stopped, failed or finished).
///
/// # Safety
/// `stream` is NULL or a session from `vf_stream_new` not freed before the
/// call returns; `samples` points to `sample_count` floats (NULL when
/// `sample_count` is 0) not written during the call.
#[no_mangle]
pub unsafe extern "C" fn vf_stream_push_pcm(
    stream: *const VfStream,
    samples: *const f32,
    sample_count: usize,
    sample_rate: u32,
    channels: u16,
) -> VfStatus {
    guard(|| {
        // SAFETY: `samples` has `sample_count` readable floats, or the count
        // is 0 (# Safety).
        let samples = unsafe { slice(samples, sample_count, "samples")? };
        // SAFETY: `stream` is NULL or a live session for the call (# Safety).
        unsafe { push(stream, samples, sample_rate, channels) }
    })
}

/// As `vf_stream_push_pcm` for signed 16-bit samples (scaled by 1/32768).
///
/// # Safety
/// As for `vf_stream_push_pcm`, with `samples` pointing to `sample_count`
/// `int16_t`s.
#[no_mangle]
pub unsafe extern "C" fn vf_stream_push_pcm_i16(
    stream: *const VfStream,
    samples: *const i16,
    sample_count: usize,
    sample_rate: u32,
    channels: u16,
) -> VfStatus {
    guard(|| {
        // SAFETY: `samples` has `sample_count` readable `i16`s, or the count
        // is 0 (# Safety).
        let samples = unsafe { slice(samples, sample_count, "samples")? };
        let floats: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
        // SAFETY: `stream` is NULL or a live session for the call (# Safety).
        unsafe { push(stream, &floats, sample_rate, channels) }
    })
}

/// Ends the stream: waits until everything pushed is transcribed, commits
/// speech still open, and writes the transcript of the whole stream (its
/// segments are the finals) to `*out_transcript`, to free with
/// `vf_transcript_free`. Later pushes fail with `VF_ERROR_CLOSED`; the
/// session must still be freed. Not from inside a callback.
///
/// Errors: the session's failure (as given to `on_error`), `VF_ERROR_CLOSED`
/// when it was already finished.
///
/// # Safety
/// `stream` is NULL or a session from `vf_stream_new` not freed before the
/// call returns; `out_transcript` is NULL or points to a writable
/// `VfTranscript *`.
#[no_mangle]
pub unsafe extern "C" fn vf_stream_finish(
    stream: *const VfStream,
    out_transcript: *mut *mut VfTranscript,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_transcript` is NULL or writable and unaliased (# Safety).
        let out_transcript =
            unsafe { out(out_transcript, "out_transcript", std::ptr::null_mut())? };
        // SAFETY: `stream` is NULL or a live session for the call (# Safety).
        let stream = unsafe { arg(stream, "stream")? };
        let session = stream.session().take().ok_or(Error::Closed("stream"))?;
        let transcript = session.finish()?;
        *out_transcript = into_handle(VfTranscript::new(transcript, &stream.model)?);
        Ok(())
    })
}

/// Frees a session; NULL does nothing. Unfinished, it drops the audio still
/// queued and waits for the decoding in progress. Not from inside a callback.
///
/// # Safety
/// `stream` is NULL or a session from `vf_stream_new`, not freed before,
/// that no other thread is using (pushing to it); it must not be used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_stream_free(stream: *mut VfStream) {
    // SAFETY: NULL or an unfreed session made by `into_handle`, with no
    // other user (# Safety).
    unsafe { free_handle(stream) }
}
