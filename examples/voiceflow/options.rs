//! `voiceflow transcribe`'s transcription options: one flag per field of
//! [`TranscribeOptions`] (and of the VAD filter's [`VadOptions`], as
//! `--vad-*`), named as the field in kebab-case. Left out, a flag keeps the
//! library's default; the library checks the values
//! ([`TranscribeOptions::validate`]).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::ValueEnum;
use voiceflow_core::vad::VadOptions;
use voiceflow_core::{Task, TranscribeOptions};

#[derive(Clone, Copy, ValueEnum)]
enum TaskArg {
    Transcribe,
    Translate,
}

/// A threshold or `off`, for the options that may be turned off.
#[derive(Clone, Copy, Debug)]
pub struct Threshold(Option<f32>);

impl FromStr for Threshold {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "off" | "none" => Ok(Threshold(None)),
            number => number
                .parse()
                .map(|value| Threshold(Some(value)))
                .map_err(|e| format!("a number or `off`: {e}")),
        }
    }
}

/// The transcription options of `voiceflow transcribe`.
#[derive(clap::Args)]
pub struct OptionArgs {
    /// Language code such as `en`; `auto` (or leaving it out) detects it on
    /// the first 30 s of speech (multilingual models).
    #[arg(long)]
    language: Option<String>,
    /// Transcribe, or translate into English (multilingual models).
    #[arg(long, value_enum, default_value = "transcribe")]
    task: TaskArg,
    /// Beam width (1 = greedy) [default: 1].
    #[arg(long)]
    beam_size: Option<usize>,
    /// Beam search stops when round(beam size x patience) beams finished
    /// [default: 1].
    #[arg(long)]
    patience: Option<f32>,
    /// Samples drawn at each temperature above 0 [default: 5].
    #[arg(long)]
    best_of: Option<usize>,
    /// Temperatures tried in order until a decoding passes the thresholds,
    /// comma-separated [default: 0,0.2,0.4,0.6,0.8,1].
    #[arg(long, value_delimiter = ',')]
    temperatures: Option<Vec<f32>>,
    /// Fall back to the next temperature above this zlib compression ratio
    /// of the text (`off`: never) [default: 2.4].
    #[arg(long)]
    compression_ratio_threshold: Option<Threshold>,
    /// Fall back below this average log-probability (`off`: never)
    /// [default: -1].
    #[arg(long)]
    logprob_threshold: Option<Threshold>,
    /// A window counts as silence above this no-speech probability (`off`:
    /// never) [default: 0.6].
    #[arg(long)]
    no_speech_threshold: Option<Threshold>,
    /// A window that failed the thresholds at every temperature is dropped
    /// above this no-speech probability (`off`: kept, as openai/whisper
    /// does) [default: 0.5].
    #[arg(long)]
    unreliable_no_speech_threshold: Option<Threshold>,
    /// Prompt each window with the previous window's text [default: true].
    #[arg(long)]
    condition_on_previous_text: Option<bool>,
    /// Text that primes the first window (names, spelling, style).
    #[arg(long)]
    initial_prompt: Option<String>,
    /// Predict timestamps (timed segments) [default: true].
    #[arg(long)]
    timestamps: Option<bool>,
    /// Word-level timestamps, from cross-attention alignment.
    #[arg(long)]
    word_timestamps: bool,
    /// Seed for sampling at temperatures above 0 [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Give up on a file after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Transcribe only the speech Silero voice activity detection finds
    /// (faster-whisper's defaults; tuned by the --vad-* flags).
    #[arg(long)]
    vad_filter: bool,
    /// The Silero graph (default: $VOICEFLOW_VAD_MODEL, else
    /// silero-vad/silero_vad.onnx beside the model folder).
    #[arg(long, requires = "vad_filter")]
    vad_model: Option<PathBuf>,
    /// A frame at or above this speech probability is speech [default: 0.5].
    #[arg(long, requires = "vad_filter")]
    vad_threshold: Option<f32>,
    /// While in speech, a frame below this probability is silence [default:
    /// the threshold less 0.15].
    #[arg(long, requires = "vad_filter")]
    vad_neg_threshold: Option<f32>,
    /// Speech shorter than this is dropped, in ms [default: 0].
    #[arg(long, requires = "vad_filter")]
    vad_min_speech_duration_ms: Option<u32>,
    /// Speech ends after this much silence, in ms [default: 2000].
    #[arg(long, requires = "vad_filter")]
    vad_min_silence_duration_ms: Option<u32>,
    /// Each span of speech is widened by this much on both sides, in ms
    /// [default: 400].
    #[arg(long, requires = "vad_filter")]
    vad_speech_pad_ms: Option<u32>,
    /// Longer speech is cut at its longest pause, in seconds [default: no
    /// limit].
    #[arg(long, requires = "vad_filter")]
    vad_max_speech_duration_s: Option<f32>,
    /// Shortest pause counted as a place to cut over-long speech, in ms
    /// [default: 98].
    #[arg(long, requires = "vad_filter")]
    vad_min_silence_at_max_speech_ms: Option<u32>,
    /// Encode a window shorter than 30 s at its own length (rounded up to
    /// 5 s) instead of padding it: faster; the text may differ from
    /// Whisper's.
    #[arg(long)]
    short_windows: bool,
}

impl OptionArgs {
    /// The library's options: the flags given over its defaults.
    pub fn options(&self) -> Result<TranscribeOptions, String> {
        let d = TranscribeOptions::default();
        let threshold = |flag: Option<Threshold>, default| flag.map_or(default, |t| t.0);
        let timeout = self
            .timeout
            .map(|s| {
                Duration::try_from_secs_f64(s)
                    .map_err(|_| format!("--timeout: a number of seconds >= 0, got {s}"))
            })
            .transpose()?;
        Ok(TranscribeOptions {
            language: self.language.clone(),
            task: match self.task {
                TaskArg::Transcribe => Task::Transcribe,
                TaskArg::Translate => Task::Translate,
            },
            beam_size: self.beam_size.unwrap_or(d.beam_size),
            patience: self.patience.unwrap_or(d.patience),
            best_of: self.best_of.unwrap_or(d.best_of),
            temperatures: self.temperatures.clone().unwrap_or(d.temperatures),
            compression_ratio_threshold: threshold(
                self.compression_ratio_threshold,
                d.compression_ratio_threshold,
            ),
            logprob_threshold: threshold(self.logprob_threshold, d.logprob_threshold),
            no_speech_threshold: threshold(self.no_speech_threshold, d.no_speech_threshold),
            unreliable_no_speech_threshold: threshold(
                self.unreliable_no_speech_threshold,
                d.unreliable_no_speech_threshold,
            ),
            condition_on_previous_text: self
                .condition_on_previous_text
                .unwrap_or(d.condition_on_previous_text),
            initial_prompt: self.initial_prompt.clone(),
            timestamps: self.timestamps.unwrap_or(d.timestamps),
            word_timestamps: self.word_timestamps,
            seed: self.seed.unwrap_or(d.seed),
            timeout,
            vad_filter: self.vad_filter.then(|| self.vad_options()),
            short_windows: self.short_windows,
        })
    }

    /// The VAD filter's options: the `--vad-*` flags over
    /// [`VadOptions::filter`].
    fn vad_options(&self) -> VadOptions {
        let d = VadOptions::filter();
        VadOptions {
            model: self.vad_model.clone(),
            threshold: self.vad_threshold.unwrap_or(d.threshold),
            neg_threshold: self.vad_neg_threshold.or(d.neg_threshold),
            min_speech_duration_ms: self
                .vad_min_speech_duration_ms
                .unwrap_or(d.min_speech_duration_ms),
            min_silence_duration_ms: self
                .vad_min_silence_duration_ms
                .unwrap_or(d.min_silence_duration_ms),
            speech_pad_ms: self.vad_speech_pad_ms.unwrap_or(d.speech_pad_ms),
            max_speech_duration_s: self
                .vad_max_speech_duration_s
                .unwrap_or(d.max_speech_duration_s),
            min_silence_at_max_speech_ms: self
                .vad_min_silence_at_max_speech_ms
                .unwrap_or(d.min_silence_at_max_speech_ms),
        }
    }
}
