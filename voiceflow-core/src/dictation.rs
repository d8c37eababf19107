//! The whole dictation path in one call: transcribe, finish the text for a
//! destination, keep both in the encrypted store. The pieces ([`Engine`],
//! [`Enhancer`], [`Store`]) stay usable on their own; this is the glue a user
//! would otherwise write.
//!
//! ```no_run
//! use voiceflow_core::dictation::dictate;
//! use voiceflow_core::engine::Audio;
//! use voiceflow_core::enhance::RuleEnhancer;
//! use voiceflow_core::store::{Store, StoreConfig, StoreKey};
//! use voiceflow_core::{Context, Engine, EngineConfig, TranscribeOptions};
//! use std::path::Path;
//!
//! let engine = Engine::new(EngineConfig::new("models/whisper-tiny.en"))?;
//! let store = Store::open("history", StoreKey::passphrase("secret"), StoreConfig::default())?;
//! let done = dictate(
//!     &engine,
//!     &RuleEnhancer,
//!     &store,
//!     Audio::File(Path::new("note.wav")),
//!     &TranscribeOptions::default(),
//!     Context::Email,
//! )?;
//! println!("{} -> {} (record {})", done.transcript.text, done.enhanced.text, done.id);
//! # Ok::<(), voiceflow_core::Error>(())
//! ```

use std::ops::ControlFlow;

use crate::engine::Audio;
use crate::enhance::{EnhanceRequest, Enhanced, Enhancer};
use crate::store::{RecordData, RecordId, Store};
use crate::{Context, Engine, Result, TranscribeOptions, Transcript};

/// What [`dictate`] did.
#[derive(Debug, Clone)]
pub struct Dictated {
    /// The stored record's id (`Store::get` reads it back).
    pub id: RecordId,
    /// The transcript as the model wrote it.
    pub transcript: Transcript,
    /// The text finished for the context.
    pub enhanced: Enhanced,
}

/// Transcribes `audio`, enhances the text for `context` (in the
/// transcript's language) and stores the record: raw and enhanced text,
/// segments, language, model name, duration and timings. The store is
/// flushed before this returns, so the record survives a crash from then on.
///
/// Errors are the engine's, the enhancer's or the store's; nothing is
/// stored unless transcription and enhancement both succeeded.
pub fn dictate(
    engine: &Engine,
    enhancer: &dyn Enhancer,
    store: &Store,
    audio: Audio<'_>,
    options: &TranscribeOptions,
    context: Context,
) -> Result<Dictated> {
    let transcript =
        engine.transcribe_with(audio, options, &mut |_, _| ControlFlow::Continue(()))?;
    finish(
        enhancer,
        store,
        &engine.model_info().name,
        transcript,
        context,
    )
}

/// The second half of [`dictate`], for a transcript made some other way (with
/// a progress callback, by a stream): enhances it for `context` and stores
/// it, with `model` as the record's model name, flushed.
pub fn finish(
    enhancer: &dyn Enhancer,
    store: &Store,
    model: &str,
    transcript: Transcript,
    context: Context,
) -> Result<Dictated> {
    let enhanced = enhance(enhancer, &transcript, context)?;
    let mut record = RecordData::from_transcript(&transcript, context, model);
    record.enhanced_text = Some(enhanced.text.clone());
    let id = store.put(&record)?;
    store.flush()?;
    Ok(Dictated {
        id,
        transcript,
        enhanced,
    })
}

/// The transcript's text finished for `context`, in the transcript's
/// language.
pub fn enhance(
    enhancer: &dyn Enhancer,
    transcript: &Transcript,
    context: Context,
) -> Result<Enhanced> {
    let request = EnhanceRequest::new(context).language(transcript.language.clone());
    enhancer.enhance(&transcript.text, &request)
}
