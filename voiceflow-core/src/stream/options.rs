//! What a streaming session is configured with.

use std::time::Duration;

use crate::config::TranscribeOptions;
use crate::vad::VadOptions;
use crate::{Error, Result};

/// Longest utterance a session transcribes at once: one Whisper window
/// (30 s) less room for the speech padding.
pub const MAX_UTTERANCE_S: f32 = 29.0;

/// How a [`super::StreamingSession`] finds utterances and transcribes them.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Options of each utterance's final transcription (language, beam, ...).
    pub transcribe: TranscribeOptions,
    /// Utterance detection. Defaults: Silero's threshold 0.5 (exit 0.35),
    /// 250 ms minimum speech, 500 ms of silence ends an utterance, 100 ms
    /// padding, utterances cut at their longest pause after 20 s.
    pub vad: VadOptions,
    /// `false`: no voice activity detection; all audio is speech, cut into
    /// utterances of `vad.max_speech_duration_s`.
    pub detect_speech: bool,
    /// How often the open utterance is transcribed again for a partial
    /// (and at least twice as long as the last partial took, so that busy
    /// engines get fewer); `None`: no partials.
    pub partial_interval: Option<Duration>,
    /// Audio pushed but not yet taken in by the session, in seconds, beyond
    /// which [`super::StreamingSession::push`] refuses more
    /// ([`Error::QueueFull`]).
    pub max_backlog_s: f64,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            transcribe: TranscribeOptions::default(),
            vad: VadOptions {
                min_silence_duration_ms: 500,
                speech_pad_ms: 100,
                max_speech_duration_s: 20.0,
                ..VadOptions::default()
            },
            detect_speech: true,
            partial_interval: Some(Duration::from_millis(500)),
            max_backlog_s: 60.0,
        }
    }
}

impl StreamOptions {
    /// Checks the options that do not need the model.
    pub(super) fn validate(&self) -> Result<()> {
        self.vad.validate()?;
        if self.vad.max_speech_duration_s > MAX_UTTERANCE_S {
            return Err(Error::InvalidArgument(format!(
                "a stream's max_speech_duration_s is at most {MAX_UTTERANCE_S} s (one Whisper window), got {}",
                self.vad.max_speech_duration_s
            )));
        }
        if !(self.max_backlog_s.is_finite() && self.max_backlog_s > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "max_backlog_s must be positive, got {}",
                self.max_backlog_s
            )));
        }
        if self.partial_interval == Some(Duration::ZERO) {
            return Err(Error::InvalidArgument(
                "partial_interval must be positive (None turns partials off)".into(),
            ));
        }
        Ok(())
    }

    /// Options of a partial: greedy, one temperature, no timestamps, a short
    /// encoder window (the open utterance's length, rounded up to 5 s,
    /// instead of 30 s), and no quality thresholds (so no second decoding on
    /// a 30-s window), so that the unstable hypothesis costs one cheap
    /// decoding pass. The final decodes the utterance with the caller's
    /// options.
    pub(super) fn partial_transcribe(&self) -> TranscribeOptions {
        TranscribeOptions {
            beam_size: 1,
            temperatures: vec![0.0],
            timestamps: false,
            word_timestamps: false,
            vad_filter: None,
            short_windows: true,
            compression_ratio_threshold: None,
            logprob_threshold: None,
            ..self.transcribe.clone()
        }
    }
}
