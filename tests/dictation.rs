//! The dictation path in one call (`voiceflow_core::dictation::dictate`):
//! a fixture transcribed, finished for a context and stored encrypted, then
//! read back and found again.

mod common;

use common::{engine, fixture, manifest, wer};
use voiceflow_core::dictation::dictate;
use voiceflow_core::engine::Audio;
use voiceflow_core::enhance::{EnhanceRequest, Enhancer, RuleEnhancer};
use voiceflow_core::store::{RecordContext, Store, StoreConfig, StoreKey};
use voiceflow_core::{Context, Error, TranscribeOptions};

/// As the engine's end-to-end tests: one wrong word in a sentence passes.
const CLIP_WER: f64 = 0.15;

fn store(dir: &std::path::Path) -> Store {
    Store::open(
        dir,
        StoreKey::passphrase("dictation test"),
        StoreConfig::default(),
    )
    .unwrap()
}

#[test]
fn a_dictation_is_transcribed_finished_and_stored() {
    let dir = tempfile::tempdir().unwrap();
    let enhancer = RuleEnhancer;
    let (id, raw, finished) = {
        let store = store(dir.path());
        let path = fixture("report.wav");
        let done = dictate(
            engine(),
            &enhancer,
            &store,
            Audio::File(&path),
            &TranscribeOptions::default(),
            Context::Email,
        )
        .unwrap();
        (done.id, done.transcript.text, done.enhanced.text)
    };
    let expected = &manifest()
        .into_iter()
        .find(|(f, _)| f == "report.wav")
        .unwrap()
        .1;
    assert!(wer(expected, &raw) <= CLIP_WER, "{raw:?}");
    // The finished text is the enhancer's for that text and context.
    let again = enhancer
        .enhance(&raw, &EnhanceRequest::new(Context::Email).language("en"))
        .unwrap();
    assert_eq!(finished, again.text);

    // Reopened (durable), the record holds what the call returned.
    let store = store(dir.path());
    let record = store.get(&id).unwrap();
    assert_eq!(record.data.raw_text, raw);
    assert_eq!(
        record.data.enhanced_text.as_deref(),
        Some(finished.as_str())
    );
    assert_eq!(
        record.data.context,
        RecordContext::Destination(Context::Email)
    );
    assert_eq!(record.data.language, "en");
    assert_eq!(record.data.model, engine().model_info().name);
    assert!(!record.data.segments.is_empty());
    assert!(record.data.audio_duration_s > 4.0);
    let found = store.search("quarterly finance", 10).unwrap();
    assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
}

#[test]
fn a_failed_transcription_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let e = dictate(
        engine(),
        &RuleEnhancer,
        &store,
        Audio::Bytes(b"RIFF\x10\x00\x00\x00WAVEjunk"),
        &TranscribeOptions::default(),
        Context::Chat,
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidAudioFile { .. }), "{e:?}");
    assert_eq!(store.count(), 0);
}
