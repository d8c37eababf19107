//! Live transcription: audio chunks in, partial and final text out.
//!
//! [`Engine::stream`](crate::Engine::stream) starts a [`StreamingSession`].
//! [`StreamingSession::push`] takes chunks of any size, rate and channel
//! count as they arrive and returns at once; a thread of the session runs
//! voice activity detection ([`crate::vad`]) and transcribes with the
//! engine's public API, so many sessions share one engine (and its
//! scheduler). The [`StreamObserver`] hears:
//!
//! - **partials**: the open utterance transcribed again every
//!   [`StreamOptions::partial_interval`]; unstable, each replaces the last;
//! - **finals**: when the detector hears the utterance end (500 ms of
//!   silence by default, or the maximum utterance length, cut at its longest
//!   pause), the whole utterance is transcribed once, with the caller's
//!   options, and its segments are committed with times from the start of
//!   the stream. Committed text is never revised.
//!
//! Finals come only at utterance ends rather than from agreement between
//! successive partials (LocalAgreement): each utterance is decoded once, as
//! a whole, the way offline transcription decodes it, so the finals match
//! offline quality, and a final follows the pause by one decoding pass.
//!
//! [`StreamingSession::finish`] takes in the rest, commits speech still
//! open, and returns the [`Transcript`](crate::Transcript) of the whole stream.
//!
//! # Threads
//!
//! Push from any thread (one at a time keeps the chunks in order), from a
//! callback too. Callbacks run on the session's own thread, one at a time,
//! in stream order; returning [`ControlFlow::Break`] stops the session
//! (later pushes are [`crate::Error::Closed`]; `finish` returns what was
//! committed). A callback must not call `finish` or drop the session.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use std::sync::Arc;
//! use voiceflow_core::stream::{Partial, StreamObserver, StreamOptions};
//! use voiceflow_core::{Engine, EngineConfig, Segment};
//!
//! struct Print;
//! impl StreamObserver for Print {
//!     fn on_partial(&mut self, p: &Partial) -> ControlFlow<()> {
//!         eprint!("\r{}", p.text);
//!         ControlFlow::Continue(())
//!     }
//!     fn on_final(&mut self, s: &Segment) -> ControlFlow<()> {
//!         println!("\r[{:.2}-{:.2}] {}", s.start, s.end, s.text);
//!         ControlFlow::Continue(())
//!     }
//! }
//!
//! let engine = Arc::new(Engine::new(EngineConfig::new("models/whisper-tiny.en"))?);
//! let session = engine.stream(StreamOptions::default(), Print)?;
//! let chunk = vec![0i16; 4410]; // 100 ms at 44.1 kHz
//! let floats: Vec<f32> = chunk.iter().map(|&s| f32::from(s) / 32768.0).collect();
//! session.push(&floats, 44_100, 1)?;
//! let transcript = session.finish()?;
//! # Ok::<(), voiceflow_core::Error>(())
//! ```

mod options;
mod session;
mod worker;

use std::ops::ControlFlow;

pub use options::{StreamOptions, MAX_UTTERANCE_S};
pub use session::StreamingSession;

use crate::{Error, Segment};

/// The open utterance's current, unstable transcription.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    /// The text so far; a later partial or the final may differ.
    pub text: String,
    /// Start of the utterance, in seconds from the start of the stream.
    pub start: f32,
    /// End of the audio this partial covers, in seconds.
    pub end: f32,
}

/// What a [`StreamingSession`] tells as it goes; every method has a default
/// that ignores the event. Called on the session's thread.
pub trait StreamObserver: Send {
    /// A new hypothesis of the open utterance.
    fn on_partial(&mut self, _partial: &Partial) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// A committed segment (times from the start of the stream); it will
    /// not change.
    fn on_final(&mut self, _segment: &Segment) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// The session failed; [`StreamingSession::finish`] returns this error.
    fn on_error(&mut self, _error: &Error) {}
}

/// No observer: only [`StreamingSession::finish`]'s transcript is wanted.
impl StreamObserver for () {}
