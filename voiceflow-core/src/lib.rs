//! VoiceFlow: an embeddable speech-to-text engine.
//!
//! OpenAI Whisper models run as ONNX graphs through ONNX Runtime; the raw
//! transcript can be turned into finished text for its destination
//! ([`enhance`]) and kept in an encrypted local store ([`store`]).

#![warn(missing_docs)]

pub mod audio;
pub mod config;
pub mod decode;
pub mod engine;
pub mod enhance;
pub mod error;
pub mod metrics;
pub mod model;
pub mod store;
pub mod transcript;

pub use config::{EngineConfig, Task, TranscribeOptions};
pub use engine::Engine;
pub use error::{Error, Result};
pub use model::ModelInfo;
pub use transcript::{Progress, Segment, Timings, Transcript};
