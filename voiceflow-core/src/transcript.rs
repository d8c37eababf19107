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
    /// The segment's words with their times, when
    /// [`crate::TranscribeOptions::word_timestamps`] asked for them; empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
}

/// One word of a segment with its time (word timestamps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as it appears in the text, with its leading space and the
    /// punctuation attached to it (`" Hello,"`).
    pub word: String,
    /// Start time in seconds from the beginning of the audio.
    pub start: f32,
    /// End time in seconds from the beginning of the audio.
    pub end: f32,
    /// Mean probability of the word's tokens, from 0 to 1.
    pub probability: f32,
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
    /// Running the decoder (all steps, all windows, language detection and
    /// the alignment of word timestamps included).
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
    /// Language code (for example `"en"`); empty when it was to be detected
    /// but the audio was too short (under 10 ms) to hold a window.
    pub language: String,
    /// Probability of `language` when it was detected; 1.0 when it was given
    /// or the model is English-only.
    pub language_probability: f32,
    /// Duration of the input audio in seconds.
    pub duration_s: f64,
    /// Time spent per stage.
    pub timings: Timings,
}

/// How far a transcription has come, passed with each segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Seconds of audio transcribed so far.
    pub done_s: f64,
    /// Seconds of audio in total.
    pub total_s: f64,
}

impl Progress {
    /// The share done, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        if self.total_s > 0.0 {
            (self.done_s / self.total_s).clamp(0.0, 1.0)
        } else {
            1.0
        }
    }
}

/// `seconds` as `HH:MM:SS{sep}mmm`.
fn clock(seconds: f32, sep: char) -> String {
    let ms = (f64::from(seconds.max(0.0)) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// What one subtitle cue shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CueUnit {
    /// A segment per cue.
    #[default]
    Segment,
    /// A word per cue (needs word timestamps; segments without words give
    /// no cues).
    Word,
}

impl Transcript {
    /// The segments as SubRip subtitles.
    pub fn to_srt(&self) -> String {
        self.to_srt_by(CueUnit::Segment)
    }

    /// The segments as WebVTT subtitles.
    pub fn to_vtt(&self) -> String {
        self.to_vtt_by(CueUnit::Segment)
    }

    /// SubRip subtitles with a cue per segment or per word.
    pub fn to_srt_by(&self, unit: CueUnit) -> String {
        let mut out = String::new();
        for (i, (start, end, text)) in self.cues(unit).enumerate() {
            out.push_str(&format!(
                "{}\n{} --> {}\n{text}\n\n",
                i + 1,
                clock(start, ','),
                clock(end, ','),
            ));
        }
        out
    }

    /// WebVTT subtitles with a cue per segment or per word.
    pub fn to_vtt_by(&self, unit: CueUnit) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for (start, end, text) in self.cues(unit) {
            out.push_str(&format!(
                "{} --> {}\n{text}\n\n",
                clock(start, '.'),
                clock(end, '.'),
            ));
        }
        out
    }

    /// `(start, end, text)` of each cue.
    fn cues(&self, unit: CueUnit) -> Box<dyn Iterator<Item = (f32, f32, &str)> + '_> {
        match unit {
            CueUnit::Segment => Box::new(
                self.segments
                    .iter()
                    .map(|s| (s.start, s.end, s.text.as_str())),
            ),
            CueUnit::Word => Box::new(
                self.segments
                    .iter()
                    .flat_map(|s| &s.words)
                    .map(|w| (w.start, w.end, w.word.trim())),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript() -> Transcript {
        let segment = |start, end, text: &str| Segment {
            start,
            end,
            text: text.into(),
            tokens: vec![],
            avg_logprob: -0.2,
            no_speech_prob: 0.01,
            temperature: 0.0,
            words: vec![],
        };
        Transcript {
            text: "Hello there. General Kenobi.".into(),
            segments: vec![
                segment(0.0, 2.5, "Hello there."),
                segment(3661.25, 3663.0, "General Kenobi."),
            ],
            language: "en".into(),
            language_probability: 1.0,
            duration_s: 3663.0,
            timings: Timings::default(),
        }
    }

    #[test]
    fn srt_numbers_cues_and_uses_commas() {
        assert_eq!(
            transcript().to_srt(),
            "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n\
             2\n01:01:01,250 --> 01:01:03,000\nGeneral Kenobi.\n\n"
        );
    }

    #[test]
    fn word_cues_show_one_word_each() {
        let mut t = transcript();
        t.segments[0].words = vec![
            Word {
                word: " Hello".into(),
                start: 0.0,
                end: 0.6,
                probability: 0.9,
            },
            Word {
                word: " there.".into(),
                start: 0.6,
                end: 1.25,
                probability: 0.8,
            },
        ];
        assert_eq!(
            t.to_srt_by(CueUnit::Word),
            "1\n00:00:00,000 --> 00:00:00,600\nHello\n\n\
             2\n00:00:00,600 --> 00:00:01,250\nthere.\n\n"
        );
        assert!(t
            .to_vtt_by(CueUnit::Word)
            .ends_with("00:00:00.600 --> 00:00:01.250\nthere.\n\n"));
    }

    #[test]
    fn vtt_has_a_header_and_uses_dots() {
        let vtt = transcript().to_vtt();
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n"));
        assert!(vtt.contains("01:01:01.250 --> 01:01:03.000\nGeneral Kenobi."));
    }

    #[test]
    fn progress_fraction_is_bounded() {
        assert_eq!(
            Progress {
                done_s: 5.0,
                total_s: 10.0
            }
            .fraction(),
            0.5
        );
        assert_eq!(
            Progress {
                done_s: 11.0,
                total_s: 10.0
            }
            .fraction(),
            1.0
        );
        assert_eq!(Progress::default().fraction(), 1.0);
    }
}

/// The words of `text` as a word error count sees them: lowercase, split on
/// anything but letters, digits and apostrophes.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect()
}

/// Word edit distance of `hypothesis` from `reference` (substitutions,
/// insertions and deletions after [`words`]) and the reference's word count:
/// their ratio is the word error rate.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let reference = words(reference);
    let errors = strsim::generic_levenshtein(&reference, &words(hypothesis));
    (errors, reference.len())
}

#[cfg(test)]
mod word_tests {
    use super::*;

    #[test]
    fn words_ignore_case_and_punctuation_but_keep_apostrophes() {
        assert_eq!(words("Don't stop, NOW!"), ["don't", "stop", "now"]);
        assert!(words(" ... ").is_empty());
    }

    #[test]
    fn word_errors_count_substitutions_insertions_and_deletions() {
        assert_eq!(word_errors("the cat sat", "The cat sat."), (0, 3));
        assert_eq!(word_errors("the cat sat", "a cat sat down"), (2, 3));
        assert_eq!(word_errors("the cat sat", ""), (3, 3));
        assert_eq!(word_errors("", "hello"), (1, 0));
    }
}
