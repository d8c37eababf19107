//! One real transcription through the C API (tiny.en, ONNX Runtime), with
//! the segment callback, then the engine's input checks and close.

use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};

use voiceflow::*;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// ONNX Runtime from `ORT_DYLIB_PATH` (the Makefile sets it) or `runtime/`.
fn runtime_library() -> CString {
    let path = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("runtime/libonnxruntime.so"));
    CString::new(path.to_str().unwrap()).unwrap()
}

fn words(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the callback saw: segment texts and the last progress.
#[derive(Default)]
struct Seen {
    texts: Vec<String>,
    progress: VfProgress,
}

unsafe extern "C" fn collect(
    segment: *const VfSegment,
    progress: VfProgress,
    user_data: *mut c_void,
) -> VfControl {
    let seen = unsafe { &mut *user_data.cast::<Seen>() };
    let text = unsafe { CStr::from_ptr((*segment).text) };
    seen.texts.push(text.to_str().unwrap().to_string());
    seen.progress = progress;
    VF_CONTINUE
}

/// An engine on tiny.en with ONNX Runtime from [`runtime_library`].
fn new_engine() -> *mut VfEngine {
    let model = CString::new(repo().join("models/whisper-tiny.en").to_str().unwrap()).unwrap();
    let runtime = runtime_library();
    let mut engine_options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
    assert_eq!(
        unsafe { vf_engine_options_default(&mut engine_options) },
        VfStatus::VF_OK
    );
    engine_options.runtime_library = runtime.as_ptr();
    engine_options.threads = 2;
    let mut engine = null_mut();
    let status = unsafe { vf_engine_new(model.as_ptr(), &engine_options, &mut engine) };
    let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
    assert_eq!(status, VfStatus::VF_OK, "{message:?}");
    engine
}

#[test]
fn report_wav_is_transcribed_with_segments_then_bad_input_and_close_are_codes() {
    let engine = new_engine();
    let wav = std::fs::read(repo().join("tests/fixtures/speech/report.wav")).unwrap();
    let mut seen = Seen::default();
    let mut options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
    unsafe { vf_transcribe_options_default(&mut options) };
    options.language = c"en".as_ptr();
    options.on_segment = Some(collect);
    options.user_data = (&raw mut seen).cast();
    let mut transcript = null_mut();
    let status = unsafe {
        vf_engine_transcribe_wav_bytes(engine, wav.as_ptr(), wav.len(), &options, &mut transcript)
    };
    assert_eq!(status, VfStatus::VF_OK);

    let mut text = null();
    unsafe { vf_transcript_text(transcript, &mut text) };
    let text = unsafe { CStr::from_ptr(text) }.to_str().unwrap();
    assert_eq!(
        words(text),
        "please send the quarterly report to the finance team by friday"
    );
    let mut count = 0;
    unsafe { vf_transcript_segment_count(transcript, &mut count) };
    assert_eq!(count, seen.texts.len());
    let mut segment = unsafe { std::mem::zeroed::<VfSegment>() };
    assert_eq!(
        unsafe { vf_transcript_segment(transcript, 0, &mut segment) },
        VfStatus::VF_OK
    );
    let first = unsafe { CStr::from_ptr(segment.text) }.to_str().unwrap();
    assert_eq!(first, seen.texts[0]);
    assert_eq!(
        unsafe { vf_transcript_segment(transcript, count, &mut segment) },
        VfStatus::VF_ERROR_INVALID_ARGUMENT
    );
    let mut duration = 0.0;
    unsafe { vf_transcript_duration(transcript, &mut duration) };
    assert!((2.0..10.0).contains(&duration), "{duration}");
    assert_eq!(seen.progress.done_s, seen.progress.total_s);
    let mut language = null();
    unsafe { vf_transcript_language(transcript, &mut language) };
    assert_eq!(unsafe { CStr::from_ptr(language) }, c"en");
    unsafe { vf_transcript_free(transcript) };

    // A short window hears the same words.
    assert!(!options.short_windows, "off by default");
    options.short_windows = true;
    options.on_segment = None;
    let status = unsafe {
        vf_engine_transcribe_wav_bytes(engine, wav.as_ptr(), wav.len(), &options, &mut transcript)
    };
    assert_eq!(status, VfStatus::VF_OK);
    let mut short_text = null();
    unsafe { vf_transcript_text(transcript, &mut short_text) };
    let short_text = unsafe { CStr::from_ptr(short_text) }.to_str().unwrap();
    assert_eq!(
        words(short_text),
        "please send the quarterly report to the finance team by friday"
    );
    unsafe { vf_transcript_free(transcript) };

    let second = [0.1_f32; 16_000];
    let nan = [f32::NAN; 16];
    let cases: [(&[f32], u32, u16, VfStatus); 4] = [
        (&second, 0, 1, VfStatus::VF_ERROR_INVALID_ARGUMENT),
        (&nan, 16_000, 1, VfStatus::VF_ERROR_INVALID_AUDIO),
        (&[], 16_000, 1, VfStatus::VF_ERROR_INVALID_AUDIO),
        (&second[..3], 16_000, 2, VfStatus::VF_ERROR_INVALID_AUDIO),
    ];
    for (samples, rate, channels, expected) in cases {
        let status = unsafe {
            vf_engine_transcribe_pcm(
                engine,
                samples.as_ptr(),
                samples.len(),
                rate,
                channels,
                null(),
                &mut transcript,
            )
        };
        assert_eq!(status, expected, "{} samples at {rate} Hz", samples.len());
        assert!(transcript.is_null());
    }

    assert_eq!(unsafe { vf_engine_close(engine) }, VfStatus::VF_OK);
    let status = unsafe {
        vf_engine_transcribe_pcm(
            engine,
            second.as_ptr(),
            second.len(),
            16_000,
            1,
            null(),
            &mut transcript,
        )
    };
    assert_eq!(status, VfStatus::VF_ERROR_CLOSED);
    unsafe { vf_engine_free(engine) };
}

/// Counts segments and asks to stop after the first.
unsafe extern "C" fn stop_after_first(
    _segment: *const VfSegment,
    _progress: VfProgress,
    user_data: *mut c_void,
) -> VfControl {
    unsafe { *user_data.cast::<usize>() += 1 };
    VF_STOP
}

#[test]
fn vf_stop_from_the_callback_ends_the_transcription_after_that_segment() {
    let engine = new_engine();
    // Every fixture spoken after the other: several segments.
    let mut samples = Vec::new();
    for name in ["report", "weather", "door", "calling", "sailor"] {
        let path = repo().join(format!("tests/fixtures/speech/{name}.wav"));
        let clip = voiceflow_core::audio::read_wav(path).unwrap();
        assert_eq!((clip.sample_rate, clip.channels), (16_000, 1));
        samples.extend(clip.samples);
    }
    let segments = |options: *const VfTranscribeOptions| {
        let mut transcript = null_mut();
        let status = unsafe {
            vf_engine_transcribe_pcm(
                engine,
                samples.as_ptr(),
                samples.len(),
                16_000,
                1,
                options,
                &mut transcript,
            )
        };
        assert_eq!(status, VfStatus::VF_OK);
        let mut count = 0;
        unsafe { vf_transcript_segment_count(transcript, &mut count) };
        unsafe { vf_transcript_free(transcript) };
        count
    };
    let all = segments(null());
    assert!(all >= 3, "{all} segments");

    let mut calls = 0_usize;
    let mut options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
    unsafe { vf_transcribe_options_default(&mut options) };
    options.on_segment = Some(stop_after_first);
    options.user_data = (&raw mut calls).cast();
    assert_eq!(segments(&options), 1);
    assert_eq!(calls, 1);
    unsafe { vf_engine_free(engine) };
}

/// The owned string a metrics call writes, freed with `vf_string_free`.
fn metrics_text(
    engine: *const VfEngine,
    call: unsafe extern "C" fn(*const VfEngine, *mut *mut std::ffi::c_char) -> VfStatus,
) -> String {
    let mut text = null_mut();
    assert_eq!(unsafe { call(engine, &mut text) }, VfStatus::VF_OK);
    let owned = unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string();
    unsafe { vf_string_free(text) };
    owned
}

#[test]
fn engine_metrics_come_out_as_prometheus_text_and_json() {
    let engine = new_engine();
    let path = CString::new(
        repo()
            .join("tests/fixtures/speech/report.wav")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let mut transcript = null_mut();
    let status =
        unsafe { vf_engine_transcribe_file(engine, path.as_ptr(), null(), &mut transcript) };
    assert_eq!(status, VfStatus::VF_OK);
    let mut duration = 0.0;
    unsafe { vf_transcript_duration(transcript, &mut duration) };
    unsafe { vf_transcript_free(transcript) };

    let text = metrics_text(engine, vf_engine_metrics_prometheus);
    assert!(
        text.contains("voiceflow_requests_total{outcome=\"completed\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("voiceflow_transcription_seconds_count 1\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));

    let json: serde_json::Value =
        serde_json::from_str(&metrics_text(engine, vf_engine_metrics_json)).unwrap();
    let audio = json["histograms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "voiceflow_audio_seconds")
        .unwrap();
    assert_eq!(audio["count"], 1);
    assert!((audio["sum"].as_f64().unwrap() - duration).abs() < 1e-9);

    let mut out = null_mut();
    assert_eq!(
        unsafe { vf_engine_metrics_json(null(), &mut out) },
        VfStatus::VF_ERROR_NULL_POINTER
    );
    assert!(out.is_null());
    assert_eq!(
        unsafe { vf_engine_metrics_prometheus(engine, null_mut()) },
        VfStatus::VF_ERROR_NULL_POINTER
    );
    unsafe { vf_engine_free(engine) };
}
