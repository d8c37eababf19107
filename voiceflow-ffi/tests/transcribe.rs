//! One real transcription through the C API (tiny.en, ONNX Runtime), with
//! the segment callback, then the engine's input checks and close.

use std::ffi::{c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::ptr::{null, null_mut};

mod common;

use common::{c_path, model_path, repo, runtime_library};
use voiceflow::*;

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
    // SAFETY: the only options with this callback carry a pointer to a live
    // `Seen` as `user_data`, not otherwise used during the transcription; the
    // callback runs on the calling thread, one segment at a time.
    let seen = unsafe { &mut *user_data.cast::<Seen>() };
    // SAFETY: the library passes a valid segment whose text is a
    // NUL-terminated string, both valid during this call.
    let text = unsafe { CStr::from_ptr((*segment).text) };
    seen.texts.push(text.to_str().unwrap().to_string());
    seen.progress = progress;
    VF_CONTINUE
}

/// `vf_engine_new` on tiny.en with ONNX Runtime from [`runtime_library`],
/// 2 threads, and the options as `configure` leaves them; the status, the
/// engine (NULL on failure) and the last error.
fn try_engine(configure: impl FnOnce(&mut VfEngineOptions)) -> (VfStatus, *mut VfEngine, String) {
    let model = model_path();
    let runtime = runtime_library();
    // SAFETY: all-zero bytes are a valid `VfEngineOptions` (NULL, zeros,
    // `false`); the `*_default` call below fills it.
    let mut engine_options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
    assert_eq!(
        // SAFETY: `&mut engine_options` is a writable local.
        unsafe { vf_engine_options_default(&mut engine_options, size_of::<VfEngineOptions>()) },
        VfStatus::VF_OK
    );
    engine_options.runtime_library = runtime.as_ptr();
    engine_options.threads = 2;
    configure(&mut engine_options);
    let mut engine = null_mut();
    // SAFETY: `model` is a NUL-terminated string; `&engine_options` is an
    // initialised `VfEngineOptions` whose strings `configure` set to literals;
    // `&mut engine` is a writable local.
    let status = unsafe { vf_engine_new(model.as_ptr(), &engine_options, &mut engine) };
    // SAFETY: `vf_last_error_message` never returns NULL; the string stays
    // valid until the next failing call on this thread, after this copy.
    let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
    (status, engine, message.to_string_lossy().into_owned())
}

/// An engine on tiny.en with ONNX Runtime from [`runtime_library`].
fn new_engine() -> *mut VfEngine {
    let (status, engine, message) = try_engine(|_| {});
    assert_eq!(status, VfStatus::VF_OK, "{message}");
    engine
}

/// The `device` option: "cpu" runs there; "cuda" cannot be had with the
/// tests' ONNX Runtime library (no CUDA provider) and fails with its own
/// code, naming the device; an unknown device and bad UTF-8 are named; a
/// caller compiled before the field (the first layout's size) gets "auto".
#[test]
fn the_device_option_picks_the_cpu_or_fails_with_device_unavailable() {
    let (status, engine, message) = try_engine(|o| o.device = c"cpu".as_ptr());
    assert_eq!(status, VfStatus::VF_OK, "{message}");
    let (mut encoder, mut decoder) = (null(), null());
    // SAFETY: `engine` is a live engine; both outputs are writable locals.
    let status = unsafe { vf_engine_providers(engine, &mut encoder, &mut decoder) };
    assert_eq!(status, VfStatus::VF_OK);
    // SAFETY: the engine's NUL-terminated strings, valid until it is freed.
    let providers = unsafe { (CStr::from_ptr(encoder), CStr::from_ptr(decoder)) };
    assert_eq!(providers, (c"CPU", c"CPU"));
    // SAFETY: NULL outputs are reported, never written.
    let status = unsafe { vf_engine_providers(engine, null_mut(), &mut decoder) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    // SAFETY: `engine` is a live engine, freed once.
    unsafe { vf_engine_free(engine) };

    let (status, engine, message) = try_engine(|o| o.device = c"cuda:1".as_ptr());
    assert_eq!(status, VfStatus::VF_ERROR_DEVICE_UNAVAILABLE, "{message}");
    assert!(engine.is_null());
    assert!(
        message.starts_with("device cuda:1 is not available: "),
        "{message}"
    );
    // SAFETY: `vf_status_name` returns a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(vf_status_name(status as c_int)) };
    assert_eq!(name.to_str().unwrap(), "VF_ERROR_DEVICE_UNAVAILABLE");

    let (status, engine, message) = try_engine(|o| o.device = c"gpu".as_ptr());
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT, "{message}");
    assert!(engine.is_null() && message.contains("device"), "{message}");
    let (status, _, message) = try_engine(|o| o.device = c"cuda\xff".as_ptr());
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_UTF8, "{message}");
    assert!(message.contains("options.device"), "{message}");

    // The first released layout ends before `device`: it is not read.
    let (status, engine, message) = try_engine(|o| {
        o.device = c"cuda".as_ptr();
        o.struct_size = std::mem::offset_of!(VfEngineOptions, device);
    });
    assert_eq!(status, VfStatus::VF_OK, "{message}");
    // SAFETY: `engine` is a live engine, freed once.
    unsafe { vf_engine_free(engine) };
}

#[test]
fn report_wav_is_transcribed_with_segments_then_bad_input_and_close_are_codes() {
    let engine = new_engine();
    let wav = std::fs::read(repo().join("tests/fixtures/speech/report.wav")).unwrap();
    let mut seen = Seen::default();
    // SAFETY: all-zero bytes are a valid `VfTranscribeOptions` (NULL, zeros,
    // `false`, no callback); the `*_default` call below fills it.
    let mut options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
    // SAFETY: `&mut options` is a writable local.
    unsafe { vf_transcribe_options_default(&mut options, size_of::<VfTranscribeOptions>()) };
    options.language = c"en".as_ptr();
    options.on_segment = Some(collect);
    options.user_data = (&raw mut seen).cast();
    let mut transcript = null_mut();
    // SAFETY: `engine` is a live engine; `wav` holds `wav.len()` bytes; `options`
    // come from `vf_transcribe_options_default` with a literal language, and
    // `collect` gets `&raw mut seen` (a live `Seen` untouched meanwhile) on this
    // thread; `&mut transcript` is a writable local.
    let status = unsafe {
        vf_engine_transcribe_wav_bytes(engine, wav.as_ptr(), wav.len(), &options, &mut transcript)
    };
    assert_eq!(status, VfStatus::VF_OK);

    let mut text = null();
    // SAFETY: `transcript` is a live transcript; `&mut text` is a writable local.
    unsafe { vf_transcript_text(transcript, &mut text) };
    // SAFETY: on `VF_OK`, `text` points to the transcript's NUL-terminated
    // text, valid until the transcript is freed (after its last use here).
    let text = unsafe { CStr::from_ptr(text) }.to_str().unwrap();
    assert_eq!(
        words(text),
        "please send the quarterly report to the finance team by friday"
    );
    let mut count = 0;
    // SAFETY: `transcript` is a live transcript; `&mut count` is a writable local.
    unsafe { vf_transcript_segment_count(transcript, &mut count) };
    assert_eq!(count, seen.texts.len());
    // SAFETY: all-zero bytes are a valid `VfSegment` (zero times, NULL text).
    let mut segment = unsafe { std::mem::zeroed::<VfSegment>() };
    assert_eq!(
        // SAFETY: `transcript` is a live transcript; `&mut segment` is a writable local.
        unsafe { vf_transcript_segment(transcript, 0, &mut segment) },
        VfStatus::VF_OK
    );
    // SAFETY: on `VF_OK`, `segment.text` points to the transcript's NUL-terminated
    // segment text, valid until the transcript is freed (after its last use here).
    let first = unsafe { CStr::from_ptr(segment.text) }.to_str().unwrap();
    assert_eq!(first, seen.texts[0]);
    assert_eq!(
        // SAFETY: `transcript` is a live transcript; `&mut segment` is a writable local.
        unsafe { vf_transcript_segment(transcript, count, &mut segment) },
        VfStatus::VF_ERROR_INVALID_ARGUMENT
    );
    let mut duration = 0.0;
    // SAFETY: `transcript` is a live transcript; `&mut duration` is a writable local.
    unsafe { vf_transcript_duration(transcript, &mut duration) };
    assert!((2.0..10.0).contains(&duration), "{duration}");
    assert_eq!(seen.progress.done_s, seen.progress.total_s);
    let mut language = null();
    // SAFETY: `transcript` is a live transcript; `&mut language` is a writable local.
    unsafe { vf_transcript_language(transcript, &mut language) };
    // SAFETY: on `VF_OK`, `language` points to the transcript's NUL-terminated
    // language code, valid until the transcript is freed (after its last use here).
    assert_eq!(unsafe { CStr::from_ptr(language) }, c"en");
    let mut probability = 0.0;
    // SAFETY: `transcript` is a live transcript; `&mut probability` is a writable local.
    unsafe { vf_transcript_language_probability(transcript, &mut probability) };
    assert_eq!(probability, 1.0, "English-only: the language is given");
    // SAFETY: `transcript` is NULL or a live transcript, freed once and not used after.
    unsafe { vf_transcript_free(transcript) };

    // A short window hears the same words.
    assert!(!options.short_windows, "off by default");
    options.short_windows = true;
    options.on_segment = None;
    // SAFETY: `engine` is a live engine; `&options` is an initialised `VfTranscribeOptions`;
    // `wav.as_ptr()` points to `wav.len()` elements; `&mut transcript` is a writable local.
    let status = unsafe {
        vf_engine_transcribe_wav_bytes(engine, wav.as_ptr(), wav.len(), &options, &mut transcript)
    };
    assert_eq!(status, VfStatus::VF_OK);
    let mut short_text = null();
    // SAFETY: `transcript` is a live transcript; `&mut short_text` is a writable local.
    unsafe { vf_transcript_text(transcript, &mut short_text) };
    // SAFETY: on `VF_OK`, `short_text` points to the transcript's NUL-terminated
    // text, valid until the transcript is freed (after its last use here).
    let short_text = unsafe { CStr::from_ptr(short_text) }.to_str().unwrap();
    assert_eq!(
        words(short_text),
        "please send the quarterly report to the finance team by friday"
    );
    // SAFETY: `transcript` is NULL or a live transcript, freed once and not used after.
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
        // SAFETY: `engine` is a live engine; `samples.as_ptr()` points to `samples.len()` elements;
        // `&mut transcript` is a writable local; NULL `options` is reported or allowed, never read.
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

    // SAFETY: `engine` is a live engine.
    assert_eq!(unsafe { vf_engine_close(engine) }, VfStatus::VF_OK);
    // SAFETY: `engine` is a live engine; `second.as_ptr()` points to `second.len()` elements;
    // `&mut transcript` is a writable local; NULL `options` is reported or allowed, never read.
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
    // SAFETY: `engine` is NULL or a live engine, freed once and not used after.
    unsafe { vf_engine_free(engine) };
}

/// Counts segments and asks to stop after the first.
unsafe extern "C" fn stop_after_first(
    _segment: *const VfSegment,
    _progress: VfProgress,
    user_data: *mut c_void,
) -> VfControl {
    // SAFETY: the options with this callback carry `&raw mut calls`, a live
    // `usize` not otherwise used during the transcription (this thread).
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
        // SAFETY: `engine` is a live engine; `samples` holds `samples.len()` floats;
        // `options` is NULL or options from `vf_transcribe_options_default` whose
        // callback `stop_after_first` gets `&raw mut calls` on this thread;
        // `&mut transcript` is a writable local.
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
        // SAFETY: `transcript` is a live transcript; `&mut count` is a writable local.
        unsafe { vf_transcript_segment_count(transcript, &mut count) };
        // SAFETY: `transcript` is NULL or a live transcript, freed once and not used after.
        unsafe { vf_transcript_free(transcript) };
        count
    };
    let all = segments(null());
    assert!(all >= 3, "{all} segments");

    let mut calls = 0_usize;
    // SAFETY: all-zero bytes are a valid `VfTranscribeOptions` (NULL, zeros,
    // `false`, no callback); the `*_default` call below fills it.
    let mut options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
    // SAFETY: `&mut options` is a writable local.
    unsafe { vf_transcribe_options_default(&mut options, size_of::<VfTranscribeOptions>()) };
    options.on_segment = Some(stop_after_first);
    options.user_data = (&raw mut calls).cast();
    assert_eq!(segments(&options), 1);
    assert_eq!(calls, 1);

    // A `struct_size` no release had (0: never initialised; cut short; a
    // newer header's) is rejected before any work: no callback runs.
    for size in [
        0,
        size_of::<VfTranscribeOptions>() - 8,
        size_of::<VfTranscribeOptions>() + 8,
    ] {
        let bad = VfTranscribeOptions {
            struct_size: size,
            ..options
        };
        let mut transcript = std::ptr::dangling_mut::<VfTranscript>();
        // SAFETY: `engine` is a live engine; `samples` holds `samples.len()`
        // floats; `&bad` is an initialised `VfTranscribeOptions` (rejected for
        // its size before anything past it is read); `&mut transcript` is a
        // writable local.
        let status = unsafe {
            vf_engine_transcribe_pcm(
                engine,
                samples.as_ptr(),
                samples.len(),
                16_000,
                1,
                &bad,
                &mut transcript,
            )
        };
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
        assert!(transcript.is_null());
        // SAFETY: `vf_last_error_message` never returns NULL; copied at once.
        let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
        let message = message.to_string_lossy();
        assert!(message.contains("VfTranscribeOptions"), "{message}");
        assert_eq!(calls, 1);
    }
    // SAFETY: `engine` is NULL or a live engine, freed once and not used after.
    unsafe { vf_engine_free(engine) };
}

/// The owned string a metrics call writes, freed with `vf_string_free`.
fn metrics_text(
    engine: *const VfEngine,
    call: unsafe extern "C" fn(*const VfEngine, *mut *mut std::ffi::c_char) -> VfStatus,
) -> String {
    let mut text = null_mut();
    // SAFETY: `call` is `vf_engine_metrics_json` or `_prometheus`, given a
    // live engine from the caller and a writable local.
    assert_eq!(unsafe { call(engine, &mut text) }, VfStatus::VF_OK);
    // SAFETY: on `VF_OK`, `text` is an owned NUL-terminated string, freed below.
    let owned = unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string();
    // SAFETY: `text` is NULL or an owned string of the library, freed once.
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
    // SAFETY: `engine` is a live engine; `path` is a NUL-terminated string; `&mut transcript` is a
    // writable local; NULL `options` is reported or allowed, never read.
    let status =
        unsafe { vf_engine_transcribe_file(engine, path.as_ptr(), null(), &mut transcript) };
    assert_eq!(status, VfStatus::VF_OK);
    let mut duration = 0.0;
    // SAFETY: `transcript` is a live transcript; `&mut duration` is a writable local.
    unsafe { vf_transcript_duration(transcript, &mut duration) };
    // SAFETY: `transcript` is NULL or a live transcript, freed once and not used after.
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
        // SAFETY: `&mut out` is a writable local; NULL `engine` is reported or allowed, never read.
        unsafe { vf_engine_metrics_json(null(), &mut out) },
        VfStatus::VF_ERROR_NULL_POINTER
    );
    assert!(out.is_null());
    assert_eq!(
        // SAFETY: `engine` is a live engine; NULL `out_text` is reported or allowed, never read.
        unsafe { vf_engine_metrics_prometheus(engine, null_mut()) },
        VfStatus::VF_ERROR_NULL_POINTER
    );
    // SAFETY: `engine` is NULL or a live engine, freed once and not used after.
    unsafe { vf_engine_free(engine) };
}

#[test]
fn vf_dictate_file_transcribes_finishes_and_stores_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let folder = c_path(&dir.path().join("store"));
    let mut store = null_mut();
    assert_eq!(
        // SAFETY: `folder` and the passphrase are NUL-terminated strings;
        // `&mut store` is a writable local.
        unsafe { vf_store_open(folder.as_ptr(), c"dictation".as_ptr(), &mut store) },
        VfStatus::VF_OK
    );
    let engine = new_engine();
    let wav = CString::new(
        repo()
            .join("tests/fixtures/speech/report.wav")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let mut id = null_mut();
    // SAFETY: `engine` and `store` are live handles; `wav` is a
    // NUL-terminated string; NULL options are the defaults; `&mut id` is a
    // writable local.
    let status = unsafe {
        vf_dictate_file(
            engine,
            store,
            wav.as_ptr(),
            null(),
            VF_CONTEXT_EMAIL,
            &mut id,
        )
    };
    assert_eq!(status, VfStatus::VF_OK);
    // SAFETY: on success `id` is a NUL-terminated string the library made.
    let id_text = unsafe { CStr::from_ptr(id) }.to_owned();
    let mut record = null_mut();
    assert_eq!(
        // SAFETY: `store` is live; `id_text` is NUL-terminated; `&mut record` is writable.
        unsafe { vf_store_get(store, id_text.as_ptr(), &mut record) },
        VfStatus::VF_OK
    );
    let (mut raw, mut enhanced, mut context) = (null(), null(), null());
    // SAFETY: `record` is a live record; the out-pointers are writable locals.
    unsafe {
        assert_eq!(vf_record_raw_text(record, &mut raw), VfStatus::VF_OK);
        assert_eq!(
            vf_record_enhanced_text(record, &mut enhanced),
            VfStatus::VF_OK
        );
        assert_eq!(vf_record_context(record, &mut context), VfStatus::VF_OK);
    }
    // SAFETY: the texts are NUL-terminated strings owned by `record`, which
    // is freed after these copies.
    let (raw, enhanced, context) = unsafe {
        (
            CStr::from_ptr(raw).to_str().unwrap().to_string(),
            CStr::from_ptr(enhanced).to_str().unwrap().to_string(),
            CStr::from_ptr(context).to_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        words(&raw),
        "please send the quarterly report to the finance team by friday"
    );
    assert_eq!(words(&enhanced), words(&raw));
    assert!(enhanced.ends_with('.'));
    assert_eq!(context, "email");

    // An unknown context stores nothing and says why.
    let mut none = null_mut();
    // SAFETY: as above.
    let status = unsafe { vf_dictate_file(engine, store, wav.as_ptr(), null(), 99, &mut none) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
    assert!(none.is_null());
    // SAFETY: each handle is freed once, after its last use; `id` came from
    // the library.
    unsafe {
        vf_record_free(record);
        vf_string_free(id);
        vf_store_free(store);
        vf_engine_free(engine);
    }
}

/// A speech fixture converted by `scripts/setup.sh audio-fixtures`
/// (`VOICEFLOW_AUDIO_FIXTURES`, else `audio-fixtures` in `VOICEFLOW_CACHE`
/// or the repository's `.cache`); panics naming the setup step when missing.
fn converted_fixture(file: &str) -> PathBuf {
    let dir = std::env::var_os("VOICEFLOW_AUDIO_FIXTURES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("VOICEFLOW_CACHE").map(|c| PathBuf::from(c).join("audio-fixtures"))
        })
        .unwrap_or_else(|| repo().join(".cache/audio-fixtures"));
    let path = dir.join(file);
    assert!(
        path.is_file(),
        "no {} (run `scripts/setup.sh audio-fixtures`, which `make test` does)",
        path.display()
    );
    path
}

/// The text of `transcript`, which is then freed.
fn take_text(transcript: *mut VfTranscript) -> String {
    let mut text = null();
    // SAFETY: `transcript` is a live transcript; `&mut text` is a writable local.
    let status = unsafe { vf_transcript_text(transcript, &mut text) };
    assert_eq!(status, VfStatus::VF_OK);
    // SAFETY: on `VF_OK`, `text` points to the transcript's NUL-terminated
    // text, valid until the transcript is freed, after this copy.
    let owned = unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string();
    // SAFETY: `transcript` is a live transcript, freed once and not used after.
    unsafe { vf_transcript_free(transcript) };
    owned
}

#[test]
fn flac_bytes_ogg_and_m4a_files_give_the_wavs_words_through_the_c_api() {
    let engine = new_engine();
    let expected = "please send the quarterly report to the finance team by friday";
    let flac = std::fs::read(converted_fixture("report.flac")).unwrap();
    for call in [vf_engine_transcribe_bytes, vf_engine_transcribe_wav_bytes] {
        let mut transcript = null_mut();
        // SAFETY: `engine` is a live engine; `flac` holds `flac.len()` bytes,
        // not written during the call; NULL options are the defaults;
        // `&mut transcript` is a writable local.
        let status = unsafe { call(engine, flac.as_ptr(), flac.len(), null(), &mut transcript) };
        assert_eq!(status, VfStatus::VF_OK);
        assert_eq!(words(&take_text(transcript)), expected);
    }
    for file in ["report.ogg", "report.m4a", "report.mp3"] {
        let path = c_path(&converted_fixture(file));
        let mut transcript = null_mut();
        // SAFETY: `engine` is a live engine; `path` is a NUL-terminated
        // string; NULL options are the defaults; `&mut transcript` is a
        // writable local.
        let status =
            unsafe { vf_engine_transcribe_file(engine, path.as_ptr(), null(), &mut transcript) };
        assert_eq!(status, VfStatus::VF_OK, "{file}");
        assert_eq!(words(&take_text(transcript)), expected, "{file}");
    }
    // A cut header and a contradictory WAV header are VF_ERROR_INVALID_WAV.
    let mut bad_wav = std::fs::read(repo().join("tests/fixtures/speech/report.wav")).unwrap();
    bad_wav[32..34].copy_from_slice(&1u16.to_le_bytes()); // block_align
    for (bytes, needle) in [
        (&flac[..20], "audio file"),
        (&bad_wav[..], "block_align is 1"),
    ] {
        let mut transcript = null_mut();
        // SAFETY: as above, with `bytes` holding `bytes.len()` bytes.
        let status = unsafe {
            vf_engine_transcribe_bytes(engine, bytes.as_ptr(), bytes.len(), null(), &mut transcript)
        };
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_WAV, "{needle}");
        // SAFETY: `vf_last_error_message` never returns NULL; the string
        // stays valid until the next failing call on this thread.
        let message = unsafe { CStr::from_ptr(vf_last_error_message()) }
            .to_str()
            .unwrap();
        assert!(message.contains(needle), "{message}");
    }
    // SAFETY: `engine` is a live engine, freed once and not used after.
    unsafe { vf_engine_free(engine) };
}

/// The status and (on failure) the message of transcribing `samples`
/// (16-kHz mono) with `options`; the transcript's text on success.
fn transcribe_pcm(
    engine: *const VfEngine,
    samples: &[f32],
    options: &VfTranscribeOptions,
) -> (VfStatus, String) {
    let mut transcript = null_mut();
    // SAFETY: `engine` is a live engine from the caller; `samples` holds
    // `samples.len()` floats; `options` come from
    // `vf_transcribe_options_default` with fields set to valid values and
    // pointers to live locals of the caller; `&mut transcript` is a
    // writable local.
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
    if status != VfStatus::VF_OK {
        // SAFETY: `vf_last_error_message` never returns NULL; copied at once.
        let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
        return (status, message.to_string_lossy().into_owned());
    }
    (status, take_text(transcript))
}

#[test]
fn every_decoding_option_reaches_the_core_and_a_bad_one_is_named() {
    let engine = new_engine();
    let path = repo().join("tests/fixtures/speech/report.wav");
    let samples = voiceflow_core::audio::read_wav(path).unwrap().samples;
    let defaults = || {
        // SAFETY: all-zero bytes are a valid `VfTranscribeOptions`; the
        // `*_default` call below fills it.
        let mut options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
        // SAFETY: `&mut options` is a writable local.
        unsafe { vf_transcribe_options_default(&mut options, size_of::<VfTranscribeOptions>()) };
        options
    };
    let core = voiceflow_core::TranscribeOptions::default();
    let d = defaults();
    assert_eq!(
        (d.best_of, d.patience, d.seed),
        (core.best_of, core.patience, core.seed)
    );
    assert_eq!(d.no_speech_threshold, 0.6);
    assert!(d.temperatures.is_null() && !d.vad_filter && !d.word_timestamps);

    let negative = [0.0_f32, -0.5];
    let rejected = [
        ("best_of", VfTranscribeOptions { best_of: 0, ..d }),
        (
            "patience",
            VfTranscribeOptions {
                patience: -1.0,
                ..d
            },
        ),
        (
            "temperatures",
            VfTranscribeOptions {
                temperatures: negative.as_ptr(),
                temperature_count: negative.len(),
                ..d
            },
        ),
        (
            "vad_threshold",
            VfTranscribeOptions {
                vad_filter: true,
                vad_threshold: 2.0,
                ..d
            },
        ),
    ];
    for (name, options) in rejected {
        let (status, message) = transcribe_pcm(engine, &samples, &options);
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT, "{name}");
        assert!(message.contains(&format!("option {name} = ")), "{message}");
    }

    // Greedy at one temperature, thresholds off, the VAD filter on: the
    // words come through.
    let zero = [0.0_f32];
    let custom = VfTranscribeOptions {
        temperatures: zero.as_ptr(),
        temperature_count: 1,
        no_speech_threshold: f32::NAN,
        logprob_threshold: f32::NAN,
        condition_on_previous_text: false,
        vad_filter: true,
        vad_speech_pad_ms: 200,
        ..d
    };
    let (status, text) = transcribe_pcm(engine, &samples, &custom);
    assert_eq!(status, VfStatus::VF_OK, "{text}");
    assert!(words(&text).contains("quarterly report"), "{text}");

    // A caller compiled against the first header (no field past
    // `short_windows`) gets the defaults of the rest.
    let first_size = std::mem::offset_of!(VfTranscribeOptions, word_timestamps)
        .next_multiple_of(align_of::<VfTranscribeOptions>());
    let old = VfTranscribeOptions {
        struct_size: first_size,
        best_of: 0,
        ..d
    };
    let (status, text) = transcribe_pcm(engine, &samples, &old);
    assert_eq!(status, VfStatus::VF_OK, "{text}");
    // SAFETY: `engine` is NULL or a live engine, freed once and not used after.
    unsafe { vf_engine_free(engine) };
}
