//! Python views of what a transcription returns: `Transcript`, `Segment`,
//! `Word`, `Timings`, `Progress`, and the engine's `ModelInfo`.

use pyo3::prelude::*;
use voiceflow_core as core;

/// One timed piece of a transcript.
#[pyclass(frozen, get_all, module = "voiceflow")]
#[derive(Clone)]
pub struct Segment {
    /// Start time in seconds from the beginning of the audio.
    start: f32,
    /// End time in seconds from the beginning of the audio.
    end: f32,
    /// The segment's text, trimmed.
    text: String,
    /// The text token ids of the segment (no special or timestamp tokens).
    tokens: Vec<u32>,
    /// Average log-probability of the decoded window this segment came from.
    avg_logprob: f32,
    /// Probability that the window this segment came from holds no speech.
    no_speech_prob: f32,
    /// Sampling temperature that produced the accepted decoding (0 = greedy/beam).
    temperature: f32,
    /// The segment's words with their times when the transcription asked
    /// for word timestamps (`word_timestamps=True`); empty otherwise.
    words: Vec<Word>,
}

/// One word of a segment with its time (word timestamps).
#[pyclass(frozen, get_all, module = "voiceflow")]
#[derive(Clone)]
pub struct Word {
    /// The word with its leading space and attached punctuation (`" Hello,"`).
    word: String,
    /// Start time in seconds from the beginning of the audio.
    start: f32,
    /// End time in seconds from the beginning of the audio.
    end: f32,
    /// Mean probability of the word's tokens, from 0 to 1.
    probability: f32,
}

impl From<&core::Word> for Word {
    fn from(w: &core::Word) -> Self {
        Word {
            word: w.word.clone(),
            start: w.start,
            end: w.end,
            probability: w.probability,
        }
    }
}

#[pymethods]
impl Word {
    fn __repr__(&self) -> String {
        format!(
            "Word(word={:?}, start={:.2}, end={:.2}, probability={:.2})",
            self.word, self.start, self.end, self.probability
        )
    }
}

impl From<&core::Segment> for Segment {
    fn from(s: &core::Segment) -> Self {
        Segment {
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            tokens: s.tokens.clone(),
            avg_logprob: s.avg_logprob,
            no_speech_prob: s.no_speech_prob,
            temperature: s.temperature,
            words: s.words.iter().map(Word::from).collect(),
        }
    }
}

/// The Python view of `segments`.
pub(crate) fn segments(segments: &[core::Segment]) -> Vec<Segment> {
    segments.iter().map(Segment::from).collect()
}

#[pymethods]
impl Segment {
    fn __repr__(&self) -> String {
        format!(
            "Segment(start={:.2}, end={:.2}, text={:?})",
            self.start, self.end, self.text
        )
    }
}

/// Wall-clock time spent in each stage of one transcription, in seconds.
#[pyclass(frozen, get_all, module = "voiceflow")]
#[derive(Clone)]
pub struct Timings {
    /// Decoding the audio file (WAV, FLAC, MP3, ...) and resampling to 16 kHz
    /// mono.
    decode_audio_s: f64,
    /// Computing the log-mel spectrogram.
    mel_s: f64,
    /// Running the encoder.
    encoder_s: f64,
    /// Running the decoder (all steps, all windows, language detection included).
    decoder_s: f64,
    /// The whole call, end to end.
    total_s: f64,
}

impl From<core::Timings> for Timings {
    fn from(t: core::Timings) -> Self {
        Timings {
            decode_audio_s: t.decode_audio_s,
            mel_s: t.mel_s,
            encoder_s: t.encoder_s,
            decoder_s: t.decoder_s,
            total_s: t.total_s,
        }
    }
}

#[pymethods]
impl Timings {
    fn __repr__(&self) -> String {
        format!(
            "Timings(decode_audio_s={:.3}, mel_s={:.3}, encoder_s={:.3}, decoder_s={:.3}, total_s={:.3})",
            self.decode_audio_s, self.mel_s, self.encoder_s, self.decoder_s, self.total_s
        )
    }
}

/// How far a transcription has come, passed with each segment to
/// `on_segment`.
#[pyclass(frozen, module = "voiceflow")]
pub struct Progress(pub(crate) core::Progress);

#[pymethods]
impl Progress {
    /// Seconds of audio transcribed so far.
    #[getter]
    fn done_s(&self) -> f64 {
        self.0.done_s
    }

    /// Seconds of audio in total.
    #[getter]
    fn total_s(&self) -> f64 {
        self.0.total_s
    }

    /// The share done, from 0 to 1.
    #[getter]
    fn fraction(&self) -> f64 {
        self.0.fraction()
    }

    fn __repr__(&self) -> String {
        format!(
            "Progress(done_s={:.2}, total_s={:.2})",
            self.0.done_s, self.0.total_s
        )
    }
}

/// The result of transcribing one piece of audio.
#[pyclass(frozen, module = "voiceflow")]
pub struct Transcript(pub(crate) core::Transcript);

#[pymethods]
impl Transcript {
    /// The full text: segment texts joined, trimmed. Empty when there is no speech.
    #[getter]
    fn text(&self) -> &str {
        &self.0.text
    }

    /// Language code (for example "en").
    #[getter]
    fn language(&self) -> &str {
        &self.0.language
    }

    /// Probability of `language` when it was detected; 1.0 when it was given
    /// or the model is English-only.
    #[getter]
    fn language_probability(&self) -> f32 {
        self.0.language_probability
    }

    /// Duration of the input audio in seconds.
    #[getter]
    fn duration_s(&self) -> f64 {
        self.0.duration_s
    }

    /// Timed segments in order.
    #[getter]
    fn segments(&self) -> Vec<Segment> {
        segments(&self.0.segments)
    }

    /// Time spent per stage.
    #[getter]
    fn timings(&self) -> Timings {
        self.0.timings.into()
    }

    /// The segments as SubRip subtitles.
    fn to_srt(&self) -> String {
        self.0.to_srt()
    }

    /// The segments as WebVTT subtitles.
    fn to_vtt(&self) -> String {
        self.0.to_vtt()
    }

    fn __repr__(&self) -> String {
        format!(
            "Transcript(text={:?}, language={:?}, duration_s={:.2}, segments={})",
            self.0.text,
            self.0.language,
            self.0.duration_s,
            self.0.segments.len()
        )
    }
}

/// What model an engine runs.
#[pyclass(frozen, get_all, module = "voiceflow")]
pub struct ModelInfo {
    /// The model folder's name, for example "whisper-tiny.en".
    name: String,
    /// The model folder.
    dir: std::path::PathBuf,
    /// Whether the model knows several languages (it can detect and translate).
    multilingual: bool,
    /// Language codes the model accepts (only "en" for English-only models).
    languages: Vec<String>,
    /// Mel bins per frame the encoder expects.
    n_mels: usize,
    /// Hidden size.
    d_model: usize,
    /// Decoder layers.
    decoder_layers: usize,
    /// Attention heads per decoder layer.
    decoder_attention_heads: usize,
    /// Vocabulary size, timestamps included.
    vocab_size: usize,
    /// Longest token sequence of one window, prompt included.
    max_target_positions: usize,
    /// "merged" (one decoder graph) or "split" (decoder and decoder with past).
    decoder_layout: String,
    /// The ONNX Runtime execution provider the encoder runs on ("CPU", or
    /// "CUDA" when a GPU took the graph).
    encoder_provider: String,
    /// The execution provider of the decoder graph(s).
    decoder_provider: String,
}

impl From<&core::ModelInfo> for ModelInfo {
    fn from(info: &core::ModelInfo) -> Self {
        ModelInfo {
            name: info.name.clone(),
            dir: info.dir.clone(),
            multilingual: info.multilingual,
            languages: info.languages.clone(),
            n_mels: info.n_mels,
            d_model: info.d_model,
            decoder_layers: info.decoder_layers,
            decoder_attention_heads: info.decoder_attention_heads,
            vocab_size: info.vocab_size,
            max_target_positions: info.max_target_positions,
            decoder_layout: info.decoder_layout.clone(),
            encoder_provider: info.encoder_provider.clone(),
            decoder_provider: info.decoder_provider.clone(),
        }
    }
}

#[pymethods]
impl ModelInfo {
    fn __repr__(&self) -> String {
        format!(
            "ModelInfo(name={:?}, multilingual={}, n_mels={}, decoder_layout={:?}, providers={:?}/{:?})",
            self.name,
            self.multilingual,
            self.n_mels,
            self.decoder_layout,
            self.encoder_provider,
            self.decoder_provider
        )
    }
}
