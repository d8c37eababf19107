//! Voice activity detection: which parts of the audio hold speech.
//!
//! A [`Vad`] gives the speech probability of each frame; a
//! [`SpeechDetector`] turns those probabilities into speech spans with the
//! rules users know from Silero's `get_speech_timestamps` and
//! faster-whisper ([`VadOptions`]: threshold with hysteresis, minimum speech
//! and silence, padding, and a maximum length cut at the longest pause).
//! [`SileroVad`] runs the Silero VAD graph on the process's ONNX Runtime
//! (`scripts/setup.sh vad` puts it in `models/silero-vad/silero_vad.onnx`).
//! [`filter`] removes non-speech before a file transcription and maps the
//! times back (faster-whisper's `vad_filter`).
//!
//! ```no_run
//! use voiceflow_core::vad::{SileroVad, SpeechDetector, VadOptions};
//!
//! let options = VadOptions::default();
//! let vad = SileroVad::load(std::path::Path::new("models/silero-vad/silero_vad.onnx"), None)?;
//! let samples = vec![0.0f32; 16_000]; // 16-kHz mono
//! let spans = SpeechDetector::new(Box::new(vad), &options)?.speech_spans(&samples)?;
//! assert!(spans.is_empty());
//! # Ok::<(), voiceflow_core::Error>(())
//! ```

mod detector;
pub mod filter;
mod options;
mod segmenter;
mod silero;

pub use detector::{SpeechDetector, SpeechSpan};
pub use options::{resolve_model, VadOptions, VOICEFLOW_VAD_MODEL};
pub use silero::{SileroPool, SileroVad};

use crate::Result;

/// A voice activity detector: the speech probability of consecutive frames
/// of 16-kHz mono audio. Implementations keep state between frames (one
/// stream per detector).
pub trait Vad: Send {
    /// Samples per frame at 16 kHz.
    fn frame_len(&self) -> usize;

    /// Speech probability (0 to 1) of the next frame of the stream;
    /// `frame` holds exactly [`Vad::frame_len`] samples.
    fn probability(&mut self, frame: &[f32]) -> Result<f32>;

    /// Forgets the stream: the next frame starts a new one.
    fn reset(&mut self);
}

/// A detector that hears speech everywhere: with it, a stream is cut only
/// by the maximum utterance length (streams without voice activity
/// detection).
#[derive(Debug, Clone, Copy, Default)]
pub struct EverythingIsSpeech;

impl Vad for EverythingIsSpeech {
    fn frame_len(&self) -> usize {
        512
    }

    fn probability(&mut self, _frame: &[f32]) -> Result<f32> {
        Ok(1.0)
    }

    fn reset(&mut self) {}
}
