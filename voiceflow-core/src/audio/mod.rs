//! The audio front end: everything between the caller's samples and the
//! model's log-mel input.
//!
//! - [`decode_bytes`] / [`read_file`]: audio files (WAV, FLAC, MP3, Ogg
//!   Vorbis, MP4/M4A AAC) in memory or on disk to an [`AudioBuffer`], with
//!   the bounds [`decode`] explains.
//! - [`validate`], [`to_mono`], [`resample`], or all three at once with
//!   [`prepare`]: any interleaved PCM to 16-kHz mono.
//! - [`mel`]: Whisper's log-mel spectrogram ([`mel::MelExtractor`]), equal to
//!   faster-whisper's `FeatureExtractor` to within float rounding.
//! - [`silence`]: whether a stretch of log-mel is too quiet to hold speech.
//!
//! ```no_run
//! use voiceflow_core::audio::{self, mel::MelExtractor};
//!
//! # fn main() -> voiceflow_core::Result<()> {
//! let wav = audio::read_file("speech.mp3", 3600.0)?;
//! let mono_16k = audio::prepare(&wav.samples, wav.sample_rate, wav.channels, 3600.0)?;
//! let mel = MelExtractor::new(80)?.compute(&mono_16k, audio::HOP_LENGTH);
//! let first_window = mel.window(0, audio::N_FRAMES.min(mel.n_frames - 1));
//! # Ok(())
//! # }
//! ```

pub mod decode;
mod filterbank;
pub mod mel;
mod mixdown;
mod resample;
pub mod silence;
mod validate;
mod wav;

pub use decode::{decode_bytes, read_file, MAX_DECODED_SAMPLES};
pub use mixdown::to_mono;
pub use resample::{resample, StreamResampler};
pub use validate::{validate, MAX_SAMPLE_PEAK, MAX_SAMPLE_RATE};
pub use wav::MAX_SKIPPED_BYTES;

use crate::Result;

/// [`decode_bytes`] with no duration limit (at most [`MAX_DECODED_SAMPLES`]):
/// any supported format, the name is older than the other formats.
pub fn decode_wav(bytes: &[u8]) -> Result<AudioBuffer> {
    decode_bytes(bytes, f64::INFINITY)
}

/// [`read_file`] with no duration limit (at most [`MAX_DECODED_SAMPLES`]):
/// any supported format, the name is older than the other formats.
pub fn read_wav(path: impl AsRef<std::path::Path>) -> Result<AudioBuffer> {
    read_file(path, f64::INFINITY)
}

/// Whisper's sample rate in Hz; every model input is mono audio at this rate.
pub const SAMPLE_RATE: u32 = 16_000;

/// Samples in one 30-s window at [`SAMPLE_RATE`].
pub const N_SAMPLES: usize = 480_000;

/// Log-mel frames in one 30-s window.
pub const N_FRAMES: usize = 3_000;

/// Samples between two log-mel frames (10 ms).
pub const HOP_LENGTH: usize = 160;

/// Decoded PCM: interleaved f32 samples, full scale at ±1.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBuffer {
    /// Samples, frame by frame: `channels` values per frame.
    pub samples: Vec<f32>,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
}

/// Everything a transcription needs: [`validate`], mix to mono
/// ([`to_mono`]), resample to [`SAMPLE_RATE`] ([`resample`]).
///
/// Returns 16-kHz mono samples ready for [`mel::MelExtractor::compute`].
pub fn prepare(
    interleaved: &[f32],
    sample_rate: u32,
    channels: u16,
    max_duration_s: f64,
) -> Result<Vec<f32>> {
    validate(interleaved, sample_rate, channels, max_duration_s)?;
    let mono = to_mono(interleaved, channels)?;
    resample(&mono, sample_rate, SAMPLE_RATE)
}
