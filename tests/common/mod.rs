//! Shared helpers of the end-to-end tests: where the model and fixtures are,
//! one engine per test binary, and a normalised word error rate.
//!
//! The model folder comes from `VOICEFLOW_MODEL_DIR` or
//! `<repo>/models/whisper-tiny.en-float32` (`scripts/setup.sh model
//! tiny.en-float32`: float32 weights, as faster-whisper's float32 references
//! need); the ONNX Runtime library from `ORT_DYLIB_PATH` or
//! `<repo>/runtime/`.

#![allow(dead_code)] // each test binary uses its own subset

pub mod audio_fixtures;
pub mod program;
pub mod ws;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use voiceflow_core::{Engine, EngineConfig};

/// The repository root (the root package's folder).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The tiny.en model folder with float32 weights.
pub fn model_dir() -> PathBuf {
    std::env::var_os("VOICEFLOW_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/whisper-tiny.en-float32"))
}

/// The multilingual base model folder with float32 weights
/// (`VOICEFLOW_BASE_MODEL_DIR` or `<repo>/models/whisper-base-float32`);
/// panics when it is not there: `make test` sets it up, and a test that
/// passed without its model would prove nothing.
pub fn base_model_dir() -> PathBuf {
    installed(
        "VOICEFLOW_BASE_MODEL_DIR",
        "models/whisper-base-float32",
        "scripts/setup.sh model base-float32",
    )
}

/// float32 tiny.en converted with Optimum's split decoder
/// (`VOICEFLOW_SPLIT_MODEL_DIR` or `<repo>/models/whisper-tiny.en-split-float32`);
/// panics when it is not there, like [`base_model_dir`].
pub fn split_model_dir() -> PathBuf {
    installed(
        "VOICEFLOW_SPLIT_MODEL_DIR",
        "models/whisper-tiny.en-split-float32",
        "scripts/setup.sh model tiny.en-split-float32",
    )
}

/// tiny.en as the installer writes it by default, with int8 weights
/// (`VOICEFLOW_INT8_MODEL_DIR` or `<repo>/models/whisper-tiny.en`); panics
/// when it is not there, like [`base_model_dir`].
pub fn int8_model_dir() -> PathBuf {
    installed(
        "VOICEFLOW_INT8_MODEL_DIR",
        "models/whisper-tiny.en",
        "scripts/setup.sh model tiny.en",
    )
}

/// base as the installer writes it by default, with int8 weights
/// (`VOICEFLOW_BASE_INT8_MODEL_DIR` or `<repo>/models/whisper-base`); panics
/// when it is not there, like [`base_model_dir`].
pub fn base_int8_model_dir() -> PathBuf {
    installed(
        "VOICEFLOW_BASE_INT8_MODEL_DIR",
        "models/whisper-base",
        "scripts/setup.sh model base",
    )
}

/// The folder named by `variable`, else `default` under the repository;
/// panics with the command that installs it when it is missing.
fn installed(variable: &str, default: &str, setup: &str) -> PathBuf {
    let dir = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(default));
    assert!(
        dir.is_dir(),
        "no model at {} (run `{setup}`, which `make test` does, or set {variable})",
        dir.display()
    );
    dir
}

/// An engine configuration for `dir` with test-friendly settings: two
/// single-threaded instances so that tests running in parallel share the CPU.
pub fn config(dir: PathBuf) -> EngineConfig {
    let mut config = EngineConfig::new(dir);
    config.intra_op_threads = 1;
    config.instances = 2;
    config
}

/// One tiny.en engine shared by the tests of a binary.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(config(model_dir()))
            .unwrap_or_else(|e| panic!("cannot load the tiny.en model: {e}"))
    })
}

/// A speech fixture.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/speech").join(name)
}

/// The formats `scripts/setup.sh audio-fixtures` converts every speech
/// fixture to, by extension.
pub const AUDIO_FORMATS: [&str; 4] = ["flac", "mp3", "ogg", "m4a"];

/// A speech fixture (`name` without `.wav`) converted to `format` by
/// `scripts/setup.sh audio-fixtures`: in `VOICEFLOW_AUDIO_FIXTURES`, else
/// `audio-fixtures` in `VOICEFLOW_CACHE` or `<repo>/.cache`. Panics with the
/// setup step when it is missing: `make test` makes them, and a test that
/// skipped would prove nothing.
pub fn converted_fixture(name: &str, format: &str) -> PathBuf {
    audio_fixtures::converted_in(repo(), name, format)
}

/// `(file, text)` of every fixture in the manifest.
pub fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture("manifest.tsv"))
        .expect("tests/fixtures/speech/manifest.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| line.split_once('\t'))
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

/// 16-kHz mono samples of a fixture.
pub fn samples(name: &str) -> Vec<f32> {
    let audio = voiceflow_core::audio::read_wav(fixture(name)).expect("fixture WAV");
    assert_eq!((audio.sample_rate, audio.channels), (16_000, 1), "{name}");
    audio.samples
}

#[allow(unused_imports)] // each test binary uses its own subset
pub use voiceflow_core::transcript::{word_errors, words};

/// Normalised word error rate of `hypothesis` against `reference`.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (errors, n) = word_errors(reference, hypothesis);
    errors as f64 / n.max(1) as f64
}

/// `len` samples of seeded noise of about `rms` (a sum of 12 xorshift
/// uniforms: close to Gaussian); the same seed gives the same noise.
pub fn noise(len: usize, rms: f32, seed: u64) -> Vec<f32> {
    let mut state = seed | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    (0..len)
        .map(|_| {
            let sum: f32 = (0..12).map(|_| uniform()).sum();
            (sum - 6.0) * rms
        })
        .collect()
}
