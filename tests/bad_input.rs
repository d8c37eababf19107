//! Every bad input gets its typed error, never a panic.

mod common;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use common::{config, engine, fixture, model_dir, samples};
use voiceflow_core::engine::Audio;
use voiceflow_core::{Engine, EngineConfig, Error, Task, TranscribeOptions};

fn options() -> TranscribeOptions {
    TranscribeOptions::default()
}

fn invalid_audio(result: voiceflow_core::Result<voiceflow_core::Transcript>) -> String {
    match result {
        Err(Error::InvalidAudio(reason)) => reason,
        other => panic!("expected InvalidAudio, got {other:?}"),
    }
}

fn invalid_argument<T: std::fmt::Debug>(result: voiceflow_core::Result<T>) -> String {
    match result {
        Err(Error::InvalidArgument(reason)) => reason,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn empty_audio() {
    invalid_audio(engine().transcribe(&[], 16_000, &options()));
}

#[test]
fn nan_and_infinite_samples() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut audio = vec![0.1f32; 16_000];
        audio[1234] = bad;
        invalid_audio(engine().transcribe(&audio, 16_000, &options()));
    }
}

#[test]
fn float_samples_far_beyond_full_scale_are_refused_naming_the_peak() {
    // A sentence scaled to a peak of 1e6 made tiny.en write "But, whatever."
    let speech = samples("report.wav");
    let peak = speech.iter().fold(0.0f32, |p, s| p.max(s.abs()));
    for (target, shown) in [(1e6, "1000000"), (32_767.0, "32767")] {
        let loud: Vec<f32> = speech.iter().map(|s| s / peak * target).collect();
        let reason = invalid_audio(engine().transcribe(&loud, 16_000, &options()));
        assert!(
            reason.starts_with(&format!("peak sample magnitude {shown} is above 8")),
            "{reason}"
        );
    }
    // Within the headroom the words are right.
    let loud: Vec<f32> = speech.iter().map(|s| s / peak * 8.0).collect();
    let t = engine().transcribe(&loud, 16_000, &options()).unwrap();
    assert_eq!(
        common::words(&t.text),
        common::words("Please send the quarterly report to the finance team by Friday.")
    );
}

#[test]
fn sample_rate_zero_and_channel_mismatch() {
    invalid_argument(engine().transcribe(&[0.0; 100], 0, &options()));
    invalid_argument(engine().transcribe_pcm(&[0.0; 100], 16_000, 0, &options()));
    // 3 samples cannot be whole stereo frames.
    invalid_audio(engine().transcribe_pcm(&[0.0; 3], 16_000, 2, &options()));
}

#[test]
fn audio_over_the_limit() {
    // The default limit is 4 hours: 14 401 samples at 1 Hz exceed it without a big buffer.
    let reason = invalid_audio(engine().transcribe(&vec![0.0; 14_401], 1, &options()));
    assert!(reason.contains("exceeds"), "{reason}");
    let mut short = config(model_dir());
    short.max_audio_duration_s = 2.0;
    short.instances = 1;
    let engine = Engine::new(short).unwrap();
    invalid_audio(engine.transcribe(&samples("report.wav"), 16_000, &options()));
}

#[test]
fn corrupt_and_non_wav_data() {
    let corrupt = |r| matches!(r, Err(Error::InvalidAudioFile { .. }));
    let garbage = b"RIFF\x10\x00\x00\x00WAVEfmt \xff\xff\xff\xff".to_vec();
    let no_callback = &mut |_: &voiceflow_core::Segment, _| ControlFlow::Continue(());
    assert!(corrupt(engine().transcribe_with(
        Audio::Bytes(&garbage),
        &options(),
        no_callback
    )));
    assert!(corrupt(engine().transcribe_with(
        Audio::Bytes(b""),
        &options(),
        no_callback
    )));
    let mut truncated = std::fs::read(fixture("report.wav")).unwrap();
    truncated.truncate(30);
    assert!(corrupt(engine().transcribe_with(
        Audio::Bytes(&truncated),
        &options(),
        no_callback
    )));
    let toml = common::repo().join("Cargo.toml");
    match engine().transcribe_file(&toml, &options()) {
        Err(Error::InvalidAudioFile { path, .. }) => assert_eq!(path, Some(toml)),
        other => panic!("expected InvalidAudioFile, got {other:?}"),
    }
}

#[test]
fn missing_audio_file() {
    let missing = fixture("no-such-file.wav");
    match engine().transcribe_file(&missing, &options()) {
        Err(Error::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn bad_options() {
    let with = |f: fn(&mut TranscribeOptions)| {
        let mut o = options();
        f(&mut o);
        engine().transcribe(&samples("door.wav"), 16_000, &o)
    };
    let invalid_option = |result: voiceflow_core::Result<_>| match result {
        Err(Error::InvalidOption {
            option,
            value,
            expected,
        }) => (option, value, expected),
        other => panic!("expected InvalidOption, got {other:?}"),
    };
    assert_eq!(invalid_option(with(|o| o.beam_size = 0)).0, "beam_size");
    assert_eq!(invalid_option(with(|o| o.best_of = 0)).0, "best_of");
    assert_eq!(invalid_option(with(|o| o.patience = 0.0)).0, "patience");
    assert_eq!(
        invalid_option(with(|o| o.temperatures = vec![])).0,
        "temperatures"
    );
    assert_eq!(
        invalid_option(with(|o| o.temperatures = vec![0.0, f32::NAN])).1,
        "[0.0, NaN]"
    );
    assert_eq!(
        invalid_option(with(|o| o.language = Some("xx".into()))).1,
        "\"xx\""
    );
    assert!(invalid_option(with(|o| o.language = Some("de".into())))
        .2
        .contains("English-only"));
    assert_eq!(invalid_option(with(|o| o.task = Task::Translate)).0, "task");
    // "auto" asks for detection, which an English-only model answers "en".
    let auto = with(|o| o.language = Some("auto".into())).unwrap();
    assert_eq!(auto.language, "en");
}

#[test]
fn calls_after_close() {
    let mut one = config(model_dir());
    one.instances = 1;
    let engine = Engine::new(one).unwrap();
    let audio = samples("door.wav");
    assert!(engine.transcribe(&audio, 16_000, &options()).is_ok());
    engine.close();
    assert!(engine.is_closed());
    assert!(matches!(
        engine.transcribe(&audio, 16_000, &options()),
        Err(Error::Closed(_))
    ));
    assert!(matches!(
        engine.transcribe_file(fixture("door.wav"), &options()),
        Err(Error::Closed(_))
    ));
}

#[test]
fn missing_model_folder() {
    let missing = common::repo().join("models/whisper-does-not-exist");
    match Engine::new(EngineConfig::new(&missing)) {
        Err(Error::ModelNotFound { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected ModelNotFound, got {other:?}"),
    }
}

/// A copy of the tiny.en folder made of links (no 150 MB copies), minus
/// `skip`, with `replace` files written instead of linked.
fn model_copy(skip: &[&str], replace: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(model_dir()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if skip.contains(&name.as_str()) || replace.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let source = entry.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(source, dir.path().join(&name)).unwrap();
    }
    for (name, bytes) in replace {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn load(dir: &Path) -> voiceflow_core::Result<Engine> {
    let mut c = config(dir.to_path_buf());
    c.instances = 1;
    Engine::new(c)
}

fn not_found(result: voiceflow_core::Result<Engine>) -> PathBuf {
    match result {
        Err(Error::ModelNotFound { path, .. }) => path,
        other => panic!("expected ModelNotFound, got {other:?}"),
    }
}

fn malformed(result: voiceflow_core::Result<Engine>) -> (PathBuf, String) {
    match result {
        Err(Error::ModelMalformed { path, reason, .. }) => (path, reason),
        other => panic!("expected ModelMalformed, got {other:?}"),
    }
}

#[test]
fn model_folder_missing_a_file() {
    for file in ["encoder_model.onnx", "tokenizer.json", "config.json"] {
        let dir = model_copy(&[file], &[]);
        assert_eq!(not_found(load(dir.path())), dir.path().join(file));
    }
    let dir = model_copy(&["decoder_model_merged.onnx"], &[]);
    let path = not_found(load(dir.path()));
    assert!(
        path.starts_with(dir.path()) && path.to_string_lossy().contains("decoder"),
        "{path:?}"
    );
}

#[test]
fn malformed_model_files() {
    let dir = model_copy(&[], &[("config.json", b"{\"d_model\": 384,")]);
    let (path, reason) = malformed(load(dir.path()));
    assert_eq!(path, dir.path().join("config.json"));
    assert!(reason.contains("JSON"), "{reason}");

    let dir = model_copy(&[], &[("tokenizer.json", b"{}")]);
    assert_eq!(
        malformed(load(dir.path())).0,
        dir.path().join("tokenizer.json")
    );

    let dir = model_copy(&[], &[("encoder_model.onnx", b"not an onnx graph")]);
    assert_eq!(
        malformed(load(dir.path())).0,
        dir.path().join("encoder_model.onnx")
    );

    // The encoder in the decoder's place: it loads, but its inputs are wrong. Its
    // weights go along as a file: ONNX Runtime refuses weights that resolve
    // outside the graph's folder, as a link would.
    let encoder = std::fs::read(model_dir().join("encoder_model.onnx")).unwrap();
    let weights = std::fs::read(model_dir().join("encoder_model.onnx_data")).unwrap();
    let dir = model_copy(
        &[],
        &[
            ("decoder_model_merged.onnx", &encoder),
            ("encoder_model.onnx_data", &weights),
        ],
    );
    let (path, reason) = malformed(load(dir.path()));
    assert_eq!(path, dir.path().join("decoder_model_merged.onnx"));
    assert!(reason.contains("input_ids"), "{reason}");
}

#[test]
fn a_graph_without_its_weights_file() {
    let graph = std::fs::read(model_dir().join("decoder_model_merged.onnx")).unwrap();
    let dir = model_copy(
        &["decoder_model_merged.onnx_data"],
        &[("decoder_model_merged.onnx", &graph)],
    );
    let error = load(dir.path()).unwrap_err();
    assert!(
        matches!(&error, Error::ModelMalformed { path, .. }
            if *path == dir.path().join("decoder_model_merged.onnx")),
        "{error:?}"
    );
    let chain = voiceflow_core::error::chain(&error);
    assert!(chain.contains("decoder_model_merged.onnx_data"), "{chain}");
}

#[test]
fn runtime_library_that_does_not_exist() {
    let mut c = config(model_dir());
    let missing = PathBuf::from("/nonexistent/voiceflow/libonnxruntime.so");
    c.runtime_library = Some(missing.clone());
    match Engine::new(c) {
        Err(Error::RuntimeNotFound { searched, .. }) => assert_eq!(searched, vec![missing]),
        other => panic!("expected RuntimeNotFound, got {other:?}"),
    }
}

/// A file that is not ONNX Runtime cannot be loaded. A process loads the
/// library once, so this runs in a fresh child process of this test binary.
#[test]
fn runtime_library_that_does_not_load() {
    const CHILD: &str = "VOICEFLOW_TEST_RUNTIME_CHILD";
    let not_a_library = common::repo().join("Cargo.toml");
    if std::env::var_os(CHILD).is_some() {
        let mut c = config(model_dir());
        c.runtime_library = Some(not_a_library.clone());
        match Engine::new(c) {
            Err(Error::RuntimeNotFound {
                searched, reason, ..
            }) => {
                assert_eq!(searched, vec![not_a_library]);
                assert!(reason.contains("Cargo.toml"), "{reason}");
            }
            other => panic!("expected RuntimeNotFound, got {other:?}"),
        }
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "runtime_library_that_does_not_load",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .status()
        .unwrap();
    assert!(status.success(), "the child test failed");
}

/// Once ONNX Runtime is loaded, naming another library is an error rather
/// than being silently ignored.
#[test]
fn a_second_runtime_library_is_refused() {
    let _ = engine();
    let mut c = config(model_dir());
    c.runtime_library = Some(common::repo().join("Cargo.toml"));
    match Engine::new(c) {
        Err(Error::RuntimeNotFound { reason, .. }) => {
            assert!(reason.contains("only one"), "{reason}")
        }
        other => panic!("expected RuntimeNotFound, got {other:?}"),
    }
}
