//! The multilingual base model: language detection, given languages,
//! translation. Needs models/whisper-base-float32 (`scripts/setup.sh model base-float32`,
//! which `make test` runs, or `VOICEFLOW_BASE_MODEL_DIR`): without it the
//! tests fail, saying so.

mod common;

use std::sync::OnceLock;

use common::{base_model_dir, fixture, wer};
use voiceflow_core::model::tokenizer::WhisperTokenizer;
use voiceflow_core::{Engine, Error, Task, TranscribeOptions};

fn base() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE
        .get_or_init(|| Engine::new(common::config(base_model_dir())).expect("whisper-base loads"))
}

const REPORT: &str = "Please send the quarterly report to the finance team by Friday.";

#[test]
fn english_is_detected_with_its_probability() {
    let engine = base();
    assert!(engine.model_info().multilingual);
    let t = engine
        .transcribe_file(fixture("report.wav"), &TranscribeOptions::default())
        .unwrap();
    assert_eq!(t.language, "en");
    assert!(t.language_probability > 0.5, "{}", t.language_probability);
    assert!(t.language_probability <= 1.0);
    assert!(wer(REPORT, &t.text) <= 0.15, "{:?}", t.text);
}

#[test]
fn a_given_language_is_used_as_is() {
    let engine = base();
    let options = TranscribeOptions {
        language: Some("en".into()),
        ..TranscribeOptions::default()
    };
    let t = engine
        .transcribe_file(fixture("report.wav"), &options)
        .unwrap();
    assert_eq!((t.language.as_str(), t.language_probability), ("en", 1.0));
    assert!(wer(REPORT, &t.text) <= 0.15, "{:?}", t.text);
}

#[test]
fn translation_is_accepted_and_unknown_languages_are_not() {
    let engine = base();
    let translate = TranscribeOptions {
        task: Task::Translate,
        ..TranscribeOptions::default()
    };
    let t = engine
        .transcribe_file(fixture("sailor.wav"), &translate)
        .unwrap();
    assert!(!t.text.is_empty());
    let unknown = TranscribeOptions {
        language: Some("xx".into()),
        ..TranscribeOptions::default()
    };
    assert!(matches!(
        engine.transcribe_file(fixture("sailor.wav"), &unknown),
        Err(Error::InvalidOption {
            option: "language",
            ..
        })
    ));
}

#[test]
fn multilingual_special_tokens_shift_by_one() {
    let dir = base_model_dir();
    let t = WhisperTokenizer::load(&dir.join("tokenizer.json")).unwrap();
    assert_eq!(t.encode_prompt("Hello").unwrap(), vec![2425]);
    let s = t.special();
    assert_eq!(
        (s.eot, s.sot, s.no_timestamps, s.timestamp_begin),
        (50257, 50258, 50363, 50364)
    );
    assert_eq!(s.language_token("en"), Some(50259));
    assert_eq!(s.languages.len(), 99);
}

/// 30 s of hiss (-26 dBFS: a loud room, far above the silence floor, so
/// the first window is not skipped) and then 9 s of English speech.
fn hiss_then_speech() -> Vec<f32> {
    let mut audio = common::noise(30 * 16_000, 0.05, 0x2545_f491);
    audio.extend(common::samples("report.wav"));
    audio.extend(common::samples("sailor.wav"));
    audio
}

#[test]
fn the_language_is_detected_on_the_first_speech_not_on_the_noise_before_it() {
    // Silero VAD (models/silero-vad, beside the Whisper model) finds where
    // the speech starts; detection reads the 30 s from there. The first
    // window, which the fallback (`VOICEFLOW_VAD_MODEL` pointing nowhere)
    // and the detection before it read, is all hiss: "nn" (0.54) there.
    let options = TranscribeOptions {
        language: Some("auto".into()),
        ..TranscribeOptions::default()
    };
    let t = base()
        .transcribe(&hiss_then_speech(), 16_000, &options)
        .unwrap();
    assert!(
        t.language == "en" && t.language_probability > 0.5,
        "detected {} ({:.3})",
        t.language,
        t.language_probability
    );
    let spoken =
        format!("{REPORT} My favorite book is about a sailor who crosses the ocean alone.");
    assert!(wer(&spoken, &t.text) <= 0.2, "{:?}", t.text);
}
