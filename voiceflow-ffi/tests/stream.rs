//! Streaming sessions through the C API as C uses them: callbacks with
//! user_data, the finalizer called exactly once (after success, after a
//! failed `vf_stream_new`), `VF_STOP`, pushes after the end, NULL checks.

use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};

use voiceflow::*;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn engine() -> *mut VfEngine {
    let model = CString::new(repo().join("models/whisper-tiny.en").to_str().unwrap()).unwrap();
    let runtime = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("runtime/libonnxruntime.so"));
    let runtime = CString::new(runtime.to_str().unwrap()).unwrap();
    let mut options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
    unsafe { vf_engine_options_default(&mut options) };
    options.runtime_library = runtime.as_ptr();
    options.threads = 1;
    let mut engine = null_mut();
    let status = unsafe { vf_engine_new(model.as_ptr(), &options, &mut engine) };
    assert_eq!(status, VfStatus::VF_OK);
    engine
}

fn options(vad_model: &CString) -> VfStreamOptions {
    let mut options = unsafe { std::mem::zeroed::<VfStreamOptions>() };
    assert_eq!(
        unsafe { vf_stream_options_default(&mut options) },
        VfStatus::VF_OK
    );
    options.vad_model = vad_model.as_ptr();
    options
}

fn vad_model() -> CString {
    let path = repo().join("models/silero-vad/silero_vad.onnx");
    CString::new(path.to_str().unwrap()).unwrap()
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
    let heard = unsafe { &mut *user_data.cast::<Heard>() };
    let text = unsafe { CStr::from_ptr((*segment).text) };
    heard.finals.push(text.to_str().unwrap().to_string());
    if heard.finals.len() >= heard.stop_after {
        VF_STOP
    } else {
        VF_CONTINUE
    }
}

unsafe extern "C" fn finalize(user_data: *mut c_void) {
    let heard = unsafe { Box::from_raw(user_data.cast::<Heard>()) };
    FINALIZED.fetch_add(heard.finals.len() + 1000, Ordering::SeqCst);
}

fn callbacks() -> VfStreamCallbacks {
    VfStreamCallbacks {
        on_partial: None,
        on_final: Some(on_final),
        on_error: None,
        free_user_data: Some(finalize),
    }
}

fn text_of(transcript: *const VfTranscript) -> String {
    let mut text = null();
    assert_eq!(
        unsafe { vf_transcript_text(transcript, &mut text) },
        VfStatus::VF_OK
    );
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
    let status = unsafe { vf_stream_push_pcm_i16(stream, silence.as_ptr(), 160, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_CLOSED);
    let mut again = null_mut();
    assert_eq!(
        unsafe { vf_stream_finish(stream, &mut again) },
        VfStatus::VF_ERROR_CLOSED
    );
    assert!(again.is_null());
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
    let status = unsafe { vf_stream_new(engine, &bad, &callbacks(), heard.cast(), &mut stream) };
    assert_eq!(status, VfStatus::VF_ERROR_MODEL_NOT_FOUND);
    assert!(stream.is_null());
    assert_eq!(FINALIZED.load(Ordering::SeqCst), 2001);

    // 3. NULL arguments and bad audio are codes; a session freed unfinished.
    let status = unsafe { vf_stream_new(null(), &options, null(), null_mut(), &mut stream) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    let status = unsafe { vf_stream_new(engine, &options, null(), null_mut(), &mut stream) };
    assert_eq!(status, VfStatus::VF_OK);
    let nan = [f32::NAN];
    let status = unsafe { vf_stream_push_pcm(stream, nan.as_ptr(), 1, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_AUDIO);
    let status = unsafe { vf_stream_push_pcm(stream, null(), 10, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    let status = unsafe { vf_stream_push_pcm(null(), nan.as_ptr(), 1, 16_000, 1) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    unsafe {
        vf_stream_free(stream);
        vf_stream_free(null_mut());
        vf_engine_free(engine);
    }
}
