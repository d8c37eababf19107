//! Streaming sessions through the C API as C uses them: callbacks with
//! user_data, the finalizer called exactly once (after success, after a
//! failed `vf_stream_new`), `VF_STOP`, pushes after the end, NULL checks.

use std::ffi::{c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

use common::{c_path, model_path, repo, runtime_library};
use voiceflow::*;

fn engine() -> *mut VfEngine {
    let model = model_path();
    let runtime = runtime_library();
    // SAFETY: all-zero bytes are a valid `VfEngineOptions` (NULL, zeros,
    // `false`); the `*_default` call below fills it.
    let mut options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
    // SAFETY: `&mut options` is a writable local.
    unsafe { vf_engine_options_default(&mut options, size_of::<VfEngineOptions>()) };
    options.runtime_library = runtime.as_ptr();
    options.threads = 1;
    let mut engine = null_mut();
    // SAFETY: `model` is a NUL-terminated string; `&options` is an initialised `VfEngineOptions`;
    // `&mut engine` is a writable local.
    let status = unsafe { vf_engine_new(model.as_ptr(), &options, &mut engine) };
    assert_eq!(status, VfStatus::VF_OK);
    engine
}

fn options(vad_model: &CString) -> VfStreamOptions {
    // SAFETY: all-zero bytes are a valid `VfStreamOptions` (NULL strings,
    // zeros, `false`); the `*_default` call below fills it.
    let mut options = unsafe { std::mem::zeroed::<VfStreamOptions>() };
    assert_eq!(
        // SAFETY: `&mut options` is a writable local.
        unsafe { vf_stream_options_default(&mut options, size_of::<VfStreamOptions>()) },
        VfStatus::VF_OK
    );
    options.vad_model = vad_model.as_ptr();
    options
}

fn vad_model() -> CString {
    c_path(&repo().join("models/silero-vad/silero_vad.onnx"))
}

/// 16-bit samples of a 16-kHz fixture.
fn pcm(name: &str) -> Vec<i16> {
    let wav = std::fs::read(repo().join("tests/fixtures/speech").join(name)).unwrap();
    // The fixtures are canonical 44-byte-header PCM WAV files.
    wav[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// What the callbacks collect; counts its own finalization.
struct Heard {
    finals: Vec<String>,
    stop_after: usize,
}

static FINALIZED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn on_final(segment: *const VfSegment, user_data: *mut c_void) -> VfControl {
    // SAFETY: every session of this test that has this callback gets a
    // `Box<Heard>` as `user_data`, freed only by `finalize` after the last
    // callback; callbacks run one at a time, so this is the only reference.
    let heard = unsafe { &mut *user_data.cast::<Heard>() };
    // SAFETY: the library passes a valid segment whose text is a
    // NUL-terminated string, both valid during this call.
    let text = unsafe { CStr::from_ptr((*segment).text) };
    heard.finals.push(text.to_str().unwrap().to_string());
    if heard.finals.len() >= heard.stop_after {
        VF_STOP
    } else {
        VF_CONTINUE
    }
}

unsafe extern "C" fn finalize(user_data: *mut c_void) {
    // SAFETY: `user_data` is the `Box<Heard>` given to `vf_stream_new`
    // (`Box::into_raw`); the library calls this once, after the last callback.
    let heard = unsafe { Box::from_raw(user_data.cast::<Heard>()) };
    FINALIZED.fetch_add(heard.finals.len() + 1000, Ordering::SeqCst);
}

fn callbacks() -> VfStreamCallbacks {
    // SAFETY: all-zero bytes are a valid `VfStreamCallbacks` (no callbacks);
    // the `*_default` call below fills it.
    let mut callbacks = unsafe { std::mem::zeroed::<VfStreamCallbacks>() };
    assert_eq!(
        // SAFETY: `&mut callbacks` is a writable local of the size passed.
        unsafe { vf_stream_callbacks_default(&mut callbacks, size_of::<VfStreamCallbacks>()) },
        VfStatus::VF_OK
    );
    assert_eq!(callbacks.struct_size, size_of::<VfStreamCallbacks>());
    assert!(callbacks.on_partial.is_none() && callbacks.free_user_data.is_none());
    callbacks.on_final = Some(on_final);
    callbacks.free_user_data = Some(finalize);
    callbacks
}

fn new_heard() -> *mut Heard {
    Box::into_raw(Box::new(Heard {
        finals: Vec::new(),
        stop_after: 1,
    }))
}

fn text_of(transcript: *const VfTranscript) -> String {
    let mut text = null();
    assert_eq!(
        // SAFETY: `transcript` is a live transcript; `&mut text` is a writable local.
        unsafe { vf_transcript_text(transcript, &mut text) },
        VfStatus::VF_OK
    );
    // SAFETY: on `VF_OK`, `text` is the transcript's NUL-terminated text, valid
    // while the caller keeps the transcript.
    unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string()
}

/// One test, in order, because it counts finalizer calls in one static.
#[test]
fn sessions_report_finals_stop_on_request_and_finalize_user_data_once() {
    let engine = engine();
    let vad = vad_model();
    let options = options(&vad);
    let silence = vec![0i16; 16_000];

    // 1. Two sentences; the callback asks to stop after the first.
    let heard = Box::into_raw(Box::new(Heard {
        finals: Vec::new(),
        stop_after: 1,
    }));
    let mut stream = null_mut();
    // SAFETY: `engine` is a live engine; `options` come from `vf_stream_options_default`
    // with `vad_model` pointing into `vad`, alive for the test; the callbacks are
    // functions of the declared types, which may run on the session's thread and
    // expect a `Box<Heard>` as `user_data`, which `heard` is; `&mut stream` is a
    // writable local.
    let status =
        unsafe { vf_stream_new(engine, &options, &callbacks(), heard.cast(), &mut stream) };
    assert_eq!(status, VfStatus::VF_OK);
    for clip in [
        pcm("report.wav"),
        silence.clone(),
        pcm("door.wav"),
        silence.clone(),
    ] {
        for chunk in clip.chunks(1600) {
            // SAFETY: `stream` is a live session; `chunk.as_ptr()` points to `chunk.len()`
            // elements.
            let status =
                unsafe { vf_stream_push_pcm_i16(stream, chunk.as_ptr(), chunk.len(), 16_000, 1) };
            assert!(
                matches!(status, VfStatus::VF_OK | VfStatus::VF_ERROR_CLOSED),
                "{status:?}"
            );
        }
    }
    let mut transcript = null_mut();
    assert_eq!(
        // SAFETY: `stream` is a live session; `&mut transcript` is a writable local.
        unsafe { vf_stream_finish(stream, &mut transcript) },
        VfStatus::VF_OK
    );
    let text = text_of(transcript);
    assert!(text.to_lowercase().starts_with("please send"), "{text:?}");
    assert!(
        !text.to_lowercase().contains("kitchen"),
        "stopped: {text:?}"
    );
    // The session ended: the finalizer ran once, with one final heard.
    assert_eq!(FINALIZED.load(Ordering::SeqCst), 1001);
    // Finished: pushes and a second finish are VF_ERROR_CLOSED.
    // SAFETY: `stream` is a live session; `silence.as_ptr()` points to `160` elements.
    let status = unsafe { vf_stream_push_pcm_i16(stream, silence.as_ptr(), 160, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_CLOSED);
    let mut again = null_mut();
    assert_eq!(
        // SAFETY: `stream` is a live session; `&mut again` is a writable local.
        unsafe { vf_stream_finish(stream, &mut again) },
        VfStatus::VF_ERROR_CLOSED
    );
    assert!(again.is_null());
    // SAFETY: `transcript` and `stream` are live handles of this test, each
    // freed once here and not used after (`stream` is reassigned below).
    unsafe {
        vf_transcript_free(transcript);
        vf_stream_free(stream);
    }

    // 2. A failed vf_stream_new (no VAD graph) still finalizes user_data.
    let missing = CString::new("/nonexistent/silero_vad.onnx").unwrap();
    let bad = VfStreamOptions {
        vad_model: missing.as_ptr(),
        ..options
    };
    let heard = Box::into_raw(Box::new(Heard {
        finals: Vec::new(),
        stop_after: 1,
    }));
    let mut stream = std::ptr::dangling_mut::<VfStream>();
    // SAFETY: as for the first session: `bad` differs only in `vad_model`, which
    // points into `missing`, alive here; `heard` is a new `Box<Heard>`.
    let status = unsafe { vf_stream_new(engine, &bad, &callbacks(), heard.cast(), &mut stream) };
    assert_eq!(status, VfStatus::VF_ERROR_MODEL_NOT_FOUND);
    assert!(stream.is_null());
    assert_eq!(FINALIZED.load(Ordering::SeqCst), 2001);

    // Bad options (an uninitialised `struct_size`): the call fails and
    // finalizes user_data, once.
    let zeroed = VfStreamOptions {
        struct_size: 0,
        ..options
    };
    let heard = new_heard();
    // SAFETY: as for the first session; `zeroed` is rejected for its size
    // before anything past it is read; `heard` is a new `Box<Heard>`.
    let status = unsafe { vf_stream_new(engine, &zeroed, &callbacks(), heard.cast(), &mut stream) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
    assert!(stream.is_null());
    assert_eq!(FINALIZED.load(Ordering::SeqCst), 3001);

    // Callbacks with a bad `struct_size` are not read at all: no finalizer
    // runs, and `user_data` is still the caller's.
    for size in [
        0,
        size_of::<VfStreamCallbacks>() - 8,
        size_of::<VfStreamCallbacks>() + 8,
    ] {
        let bad_callbacks = VfStreamCallbacks {
            struct_size: size,
            ..callbacks()
        };
        let heard = new_heard();
        // SAFETY: as for the first session; `bad_callbacks` is rejected for
        // its size before anything past it is read.
        let status =
            unsafe { vf_stream_new(engine, &options, &bad_callbacks, heard.cast(), &mut stream) };
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
        assert!(stream.is_null());
        assert_eq!(FINALIZED.load(Ordering::SeqCst), 3001);
        // SAFETY: `heard` came from `Box::into_raw` and the library did not
        // take it (no session, no finalizer call).
        drop(unsafe { Box::from_raw(heard) });
    }

    // A session freed unfinished finalizes user_data once, in `vf_stream_free`.
    let heard = new_heard();
    // SAFETY: as for the first session; `heard` is a new `Box<Heard>`.
    let status =
        unsafe { vf_stream_new(engine, &options, &callbacks(), heard.cast(), &mut stream) };
    assert_eq!(status, VfStatus::VF_OK);
    assert_eq!(FINALIZED.load(Ordering::SeqCst), 3001);
    // SAFETY: `stream` is a live session, freed once here and not used after.
    unsafe { vf_stream_free(stream) };
    assert_eq!(FINALIZED.load(Ordering::SeqCst), 4001);

    // 3. NULL arguments and bad audio are codes; a session freed unfinished.
    // SAFETY: `&options` is an initialised `VfStreamOptions`; `&mut stream` is a writable local;
    // NULL `engine`, `callbacks` and `user_data` are reported or allowed, never read.
    let status = unsafe { vf_stream_new(null(), &options, null(), null_mut(), &mut stream) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    // SAFETY: `engine` is a live engine; `&options` is an initialised `VfStreamOptions`;
    // `&mut stream` is a writable local; NULL `callbacks` and `user_data` are reported or allowed,
    // never read.
    let status = unsafe { vf_stream_new(engine, &options, null(), null_mut(), &mut stream) };
    assert_eq!(status, VfStatus::VF_OK);
    let nan = [f32::NAN];
    // SAFETY: `stream` is a live session; `nan.as_ptr()` points to `1` elements.
    let status = unsafe { vf_stream_push_pcm(stream, nan.as_ptr(), 1, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_AUDIO);
    // SAFETY: `stream` is a live session; NULL `samples` is reported or allowed, never read.
    let status = unsafe { vf_stream_push_pcm(stream, null(), 10, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    // SAFETY: `nan.as_ptr()` points to `1` elements; NULL `stream` is reported or allowed, never
    // read.
    let status = unsafe { vf_stream_push_pcm(null(), nan.as_ptr(), 1, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    // SAFETY: `stream` and `engine` are live handles, each freed once here and
    // not used after (the session keeps what it needs of the engine); a NULL
    // free does nothing.
    unsafe {
        vf_stream_free(stream);
        vf_stream_free(null_mut());
        vf_engine_free(engine);
    }
}
