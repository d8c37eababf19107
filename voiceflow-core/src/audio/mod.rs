//! The audio front end: everything between the caller's samples and the
//! model's log-mel input.
//!
//! - [`mel`]: Whisper's log-mel spectrogram ([`mel::MelExtractor`]), equal to
//!   faster-whisper's `FeatureExtractor` to within float rounding.

mod filterbank;
pub mod mel;

/// Whisper's sample rate in Hz; every model input is mono audio at this rate.
pub const SAMPLE_RATE: u32 = 16_000;

/// Samples in one 30-s window at [`SAMPLE_RATE`].
pub const N_SAMPLES: usize = 480_000;

/// Log-mel frames in one 30-s window.
pub const N_FRAMES: usize = 3_000;

/// Samples between two log-mel frames (10 ms).
pub const HOP_LENGTH: usize = 160;
