//! VoiceFlow: an embeddable speech-to-text engine.
//!
//! OpenAI Whisper models run as ONNX graphs through ONNX Runtime; the raw
//! transcript can be turned into finished text for its destination
//! ([`enhance`]) and kept in an encrypted local store ([`store`]).
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use voiceflow_core::engine::Audio;
//! use voiceflow_core::{Engine, EngineConfig, TranscribeOptions};
//!
//! // A converted model folder; ONNX Runtime from ORT_DYLIB_PATH or runtime/.
//! let engine = Engine::new(EngineConfig::new("models/whisper-tiny.en"))?;
//! let options = TranscribeOptions::default();
//!
//! // Samples at any rate (mono here), or an audio file (WAV, FLAC, MP3, ...).
//! let samples = vec![0.0f32; 16_000];
//! let transcript = engine.transcribe(&samples, 16_000, &options)?;
//! println!("{:?} in {:.2} s", transcript.text, transcript.timings.total_s);
//!
//! // Segments as they are decoded, with progress; `Break` stops early.
//! engine.transcribe_with(Audio::File("long.flac".as_ref()), &options, &mut |segment, progress| {
//!     println!("[{:.1}-{:.1}] {} ({:.0}%)", segment.start, segment.end, segment.text, 100.0 * progress.fraction());
//!     ControlFlow::Continue(())
//! })?;
//! # Ok::<(), voiceflow_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod audio;
pub mod config;
pub mod context;
pub(crate) mod decode;
pub mod dictation;
pub mod engine;
pub mod enhance;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod model;
pub(crate) mod scheduler;
pub mod store;
pub mod stream;
pub mod transcript;
pub mod vad;

/// The README's Rust examples, compiled (and run where they can) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

pub use config::{Device, EngineConfig, SchedulerConfig, Task, TranscribeOptions};
pub use context::Context;
pub use engine::Engine;
pub use error::{Error, Result};
pub use model::ModelInfo;
pub use transcript::{CueUnit, Progress, Segment, Timings, Transcript, Word};
