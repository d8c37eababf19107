//! What a transcription returns: text, timed segments, language and timings.

use serde::{Deserialize, Serialize};

/// One timed piece of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start time in seconds from the beginning of the audio.
    pub start: f32,
    /// End time in seconds from the beginning of the audio.
    pub end: f32,
    /// The segment's text, trimmed.
    pub text: String,
    /// The text token ids of the segment (no special or timestamp tokens).
    pub tokens: Vec<u32>,
    /// Average log-probability of the decoded window this segment came from.
    pub avg_logprob: f32,
    /// Probability that the window this segment came from holds no speech.
    pub no_speech_prob: f32,
    /// Sampling temperature that produced the accepted decoding (0 = greedy/beam).
    pub temperature: f32,
}

/// Wall-clock time spent in each stage of one transcription, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding the container (WAV) and resampling to 16 kHz mono.
    pub decode_audio_s: f64,
    /// Computing the log-mel spectrogram.
    pub mel_s: f64,
    /// Running the encoder.
    pub encoder_s: f64,
    /// Running the decoder (all steps, all windows, language detection included).
    pub decoder_s: f64,
    /// The whole call, end to end.
    pub total_s: f64,
}

/// The result of transcribing one piece of audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The full text: segment texts joined, trimmed. Empty when there is no speech.
    pub text: String,
    /// Timed segments in order.
    pub segments: Vec<Segment>,
    /// Language code (for example `"en"`).
    pub language: String,
    /// Probability of `language` when it was detected; 1.0 when it was given
    /// or the model is English-only.
    pub language_probability: f32,
    /// Duration of the input audio in seconds.
    pub duration_s: f64,
    /// Time spent per stage.
    pub timings: Timings,
}
