//! Configuration of the engine and of each transcription call.

use std::path::PathBuf;
use std::time::Duration;

use crate::limits::{MAX_BEAM_SIZE, MAX_BEST_OF};
use crate::vad::VadOptions;
use crate::{Error, Result};

/// How an [`crate::engine::Engine`] is built.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Folder of a converted model (Optimum layout: `encoder_model.onnx`,
    /// `decoder_model_merged.onnx` or `decoder_model.onnx` with
    /// `decoder_with_past_model.onnx`, `tokenizer.json`, `config.json`,
    /// optionally `generation_config.json`), or the name of an installed
    /// model (`tiny.en`: the folder `whisper-tiny.en` of
    /// [`crate::model::registry::models_dir`]; see [`crate::model::registry::resolve`]).
    pub model_dir: PathBuf,
    /// Path of the ONNX Runtime shared library. When `None`, the engine tries
    /// `ORT_DYLIB_PATH`, `VOICEFLOW_RUNTIME_DIR`, then `runtime/` in the
    /// current folder and its ancestors and in the executable's ancestors
    /// (the project's setup folder). One library serves the whole process:
    /// naming a different one after the first engine is an error.
    pub runtime_library: Option<PathBuf>,
    /// Threads ONNX Runtime may use inside one operator (intra-op), per session.
    pub intra_op_threads: usize,
    /// Encoder and decoder sessions (each with its own worker thread). One
    /// pair batches the work of every caller; a second pair runs a second
    /// batch beside it at the cost of the model's memory again.
    pub instances: usize,
    /// Longest input accepted, in seconds; longer audio is `InvalidAudio`.
    pub max_audio_duration_s: f64,
    /// How concurrent callers are admitted and batched.
    pub scheduler: SchedulerConfig,
    /// Where the encoder and decoder run: [`Device::Auto`] (the default)
    /// takes CUDA when it can and the CPU otherwise; [`Device::Cuda`] fails
    /// instead of falling back. [`crate::ModelInfo`] says where each graph
    /// ended up.
    pub device: Device,
}

/// Where an engine's graphs run.
///
/// CUDA needs the crate's `cuda` feature and an ONNX Runtime library with
/// the CUDA execution provider (the `onnxruntime-gpu` wheel's), plus a GPU.
/// Parsed from and shown as `"auto"`, `"cpu"`, `"cuda"` or `"cuda:N"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// CUDA device 0 when the provider registers and takes the graph, else
    /// the CPU (the reason is logged).
    #[default]
    Auto,
    /// The CPU only, even when CUDA is there.
    Cpu,
    /// CUDA device `device_id` only: when it cannot be used the engine
    /// fails with [`Error::DeviceUnavailable`] saying why.
    Cuda {
        /// The CUDA device ordinal (0 for the first GPU).
        device_id: i32,
    },
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Auto => f.write_str("auto"),
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda { device_id: 0 } => f.write_str("cuda"),
            Device::Cuda { device_id } => write!(f, "cuda:{device_id}"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Device {
    /// From the text form (`"cuda:1"`), as in a configuration file.
    fn deserialize<D: serde::Deserializer<'de>>(from: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(from)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Device {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let device_id = match text {
            "auto" => return Ok(Device::Auto),
            "cpu" => return Ok(Device::Cpu),
            "cuda" => Some(0),
            other => other
                .strip_prefix("cuda:")
                .and_then(|id| id.parse::<i32>().ok())
                .filter(|id| *id >= 0),
        };
        device_id
            .map(|device_id| Device::Cuda { device_id })
            .ok_or_else(|| {
                Error::invalid_option("device", text, "\"auto\", \"cpu\", \"cuda\" or \"cuda:N\"")
            })
    }
}

/// Admission control and batching of the work of concurrent callers.
/// The defaults follow the original report's production configuration
/// (50 concurrent transcriptions).
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Transcriptions running at once.
    pub max_concurrent: usize,
    /// Callers that may wait for a turn beyond those; any more are refused
    /// at once with [`crate::Error::Overloaded`].
    pub max_queued: usize,
    /// Windows decoded together per decoder session; each holds its
    /// cross-attention cache (18 MB for a 30-s tiny window) while it decodes.
    pub max_active_windows: usize,
    /// Most windows one encoder run takes.
    pub max_encoder_batch: usize,
    /// Run the decoder steps of different callers as one batch (needs a
    /// decoder with `position_ids` and `attention_mask` inputs, as the
    /// project's converter writes; other decoders run each window alone).
    /// `false` also limits encoder runs to one window: the unbatched
    /// baseline of the concurrency benchmark.
    pub batching: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_concurrent: 50,
            max_queued: 100,
            max_active_windows: 16,
            max_encoder_batch: 4,
            batching: true,
        }
    }
}

/// Default [`EngineConfig::max_audio_duration_s`]: four hours.
pub const DEFAULT_MAX_AUDIO_DURATION_S: f64 = 4.0 * 3600.0;

impl EngineConfig {
    /// A configuration for the model in `model_dir` with default settings.
    pub fn new(model_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            model_dir: model_dir.into(),
            runtime_library: None,
            intra_op_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            instances: 1,
            max_audio_duration_s: DEFAULT_MAX_AUDIO_DURATION_S,
            scheduler: SchedulerConfig::default(),
            device: Device::Auto,
        }
    }
}

/// Transcribe speech in its own language, or translate it into English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Task {
    /// Write down what was said, in the spoken language.
    #[default]
    Transcribe,
    /// Translate into English (multilingual models only).
    Translate,
}

/// Options of one transcription call. The defaults follow openai/whisper's
/// `transcribe()`: greedy at temperature 0 with fallback, timestamps on.
#[derive(Debug, Clone)]
pub struct TranscribeOptions {
    /// Language code such as `"en"`; `None` or [`AUTO_LANGUAGE`] detects
    /// it (multilingual models), on the first 30 s from the first speech
    /// (see [`crate::Transcript::language_probability`]).
    pub language: Option<String>,
    /// Transcribe or translate.
    pub task: Task,
    /// Beam width; 1 means greedy.
    pub beam_size: usize,
    /// Beam search stops when `round(beam_size * patience)` beams finished.
    pub patience: f32,
    /// Number of samples drawn at temperatures above 0.
    pub best_of: usize,
    /// Temperatures tried in order until a decoding passes the thresholds.
    pub temperatures: Vec<f32>,
    /// Fallback when the text's zlib compression ratio exceeds this.
    pub compression_ratio_threshold: Option<f32>,
    /// Fallback when the average log-probability is below this.
    pub logprob_threshold: Option<f32>,
    /// A window counts as silence above this no-speech probability.
    pub no_speech_threshold: Option<f32>,
    /// A window whose decoding failed the quality thresholds at every
    /// temperature is dropped as non-speech when its no-speech probability
    /// exceeds this. openai/faster-whisper keep such text, which is how they
    /// invent words ("Woohoo!") on background noise; `None` restores their
    /// behaviour.
    pub unreliable_no_speech_threshold: Option<f32>,
    /// Prompt the next window with the previous window's text.
    pub condition_on_previous_text: bool,
    /// Text that primes the first window (names, spelling, style).
    pub initial_prompt: Option<String>,
    /// Predict timestamps (segments with times); `false` gives one segment per window.
    pub timestamps: bool,
    /// Word-level timestamps, found by aligning each segment's tokens with
    /// the audio through the decoder's cross-attention (openai/whisper's and
    /// faster-whisper's `word_timestamps`). Off by default.
    pub word_timestamps: bool,
    /// Seed for sampling at temperatures above 0 (deterministic output).
    pub seed: u64,
    /// The longest the call may take, waiting for a turn included; past it
    /// the call fails with [`crate::Error::Timeout`]. `None` waits as long as
    /// it takes.
    pub timeout: Option<Duration>,
    /// Transcribe only the speech that voice activity detection finds
    /// (faster-whisper's `vad_filter`; [`VadOptions::filter`] has its
    /// defaults); segment times still refer to the whole recording. `None`
    /// (the default) transcribes everything, as Whisper does.
    pub vad_filter: Option<VadOptions>,
    /// Encode a window with less than 30 s of audio at its own length,
    /// rounded up to [`SHORT_WINDOW_STEP_FRAMES`] (whisper.cpp's
    /// `audio_ctx`), instead of padding it to 30 s: the encoder's work falls
    /// with the length, and windows of one step share encoder and decoder
    /// batches. Whisper was trained on 30-s windows, so the text may differ
    /// from Whisper's. Off by default: on 29 reference recordings it gave
    /// 2.48% WER against 4.29% with 30-s windows and a 4-s clip takes half
    /// the time (`scripts/side_by_side.py`), but on narrowband, lossy or
    /// quiet copies of the synthetic fixtures it loses words that 30-s
    /// windows keep.
    pub short_windows: bool,
}

/// The step short windows are rounded up to: 500 mel frames (5 s).
pub const SHORT_WINDOW_STEP_FRAMES: usize = 500;

impl Default for TranscribeOptions {
    fn default() -> Self {
        TranscribeOptions {
            language: None,
            task: Task::Transcribe,
            beam_size: 1,
            patience: 1.0,
            best_of: 5,
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: Some(2.4),
            logprob_threshold: Some(-1.0),
            no_speech_threshold: Some(0.6),
            unreliable_no_speech_threshold: Some(0.5),
            condition_on_previous_text: true,
            initial_prompt: None,
            timestamps: true,
            word_timestamps: false,
            seed: 0,
            timeout: None,
            vad_filter: None,
            short_windows: false,
        }
    }
}

/// The `language` that asks for detection, as `None` does (`--language
/// auto` in the CLI, `"auto"` in C and Python).
pub const AUTO_LANGUAGE: &str = "auto";

impl TranscribeOptions {
    /// Checks every option that does not depend on the model (the engine
    /// checks `language` and `task` against its model): `beam_size` in
    /// 1..=[`MAX_BEAM_SIZE`], `best_of` in 1..=[`MAX_BEST_OF`], `patience`
    /// a positive finite number, `temperatures` a non-empty list of finite
    /// numbers >= 0, no threshold NaN (an infinite one is a valid "never"
    /// or "always"), and the VAD filter's options in their ranges. The
    /// first bad one is [`Error::InvalidOption`] naming it and its value.
    /// Every binding (C, Python, CLI, server) leaves its checking here.
    pub fn validate(&self) -> Result<()> {
        count("beam_size", self.beam_size, MAX_BEAM_SIZE)?;
        count("best_of", self.best_of, MAX_BEST_OF)?;
        if !(self.patience.is_finite() && self.patience > 0.0) {
            return Err(Error::invalid_option(
                "patience",
                self.patience,
                "a positive number",
            ));
        }
        if self.temperatures.is_empty()
            || self
                .temperatures
                .iter()
                .any(|t| !(t.is_finite() && *t >= 0.0))
        {
            return Err(Error::invalid_option(
                "temperatures",
                &self.temperatures,
                "a non-empty list of finite numbers >= 0",
            ));
        }
        let thresholds = [
            (
                "compression_ratio_threshold",
                self.compression_ratio_threshold,
            ),
            ("logprob_threshold", self.logprob_threshold),
            ("no_speech_threshold", self.no_speech_threshold),
            (
                "unreliable_no_speech_threshold",
                self.unreliable_no_speech_threshold,
            ),
        ];
        if let Some((name, value)) = thresholds
            .into_iter()
            .find(|(_, value)| value.is_some_and(f32::is_nan))
        {
            return Err(Error::invalid_option(
                name,
                value,
                "a number (infinite allowed) or none",
            ));
        }
        match &self.vad_filter {
            Some(vad) => vad.validate(),
            None => Ok(()),
        }
    }

    /// Whether `language` asks for detection (`None` or [`AUTO_LANGUAGE`]).
    pub fn detects_language(&self) -> bool {
        self.language.as_deref().is_none_or(|l| l == AUTO_LANGUAGE)
    }
}

/// `value` within 1..=`max`, or [`Error::InvalidOption`] naming `option`.
fn count(option: &'static str, value: usize, max: usize) -> Result<()> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_option(
            option,
            value,
            format!("a whole number in 1..={max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_and_print_as_in_a_configuration_file() {
        for (text, device) in [
            ("auto", Device::Auto),
            ("cpu", Device::Cpu),
            ("cuda", Device::Cuda { device_id: 0 }),
            ("cuda:3", Device::Cuda { device_id: 3 }),
        ] {
            assert_eq!(text.parse::<Device>().unwrap(), device);
            assert_eq!(device.to_string(), text);
        }
        assert_eq!("cuda:0".parse::<Device>().unwrap().to_string(), "cuda");
        for bad in ["gpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", ""] {
            match bad.parse::<Device>() {
                Err(Error::InvalidOption { option, value, .. }) => {
                    assert_eq!((option, value), ("device", format!("{bad:?}")));
                }
                other => panic!("{bad:?}: expected InvalidOption, got {other:?}"),
            }
        }
    }

    /// The option an invalid set of options is rejected for.
    fn rejected(change: fn(&mut TranscribeOptions)) -> (&'static str, String) {
        let mut options = TranscribeOptions::default();
        change(&mut options);
        match options.validate() {
            Err(Error::InvalidOption { option, value, .. }) => (option, value),
            other => panic!("expected InvalidOption, got {other:?}"),
        }
    }

    fn accepted(change: fn(&mut TranscribeOptions)) {
        let mut options = TranscribeOptions::default();
        change(&mut options);
        options.validate().unwrap();
    }

    #[test]
    fn the_defaults_pass() {
        TranscribeOptions::default().validate().unwrap();
        accepted(|o| o.vad_filter = Some(VadOptions::filter()));
    }

    #[test]
    fn each_bad_value_is_named_with_its_option() {
        assert_eq!(rejected(|o| o.beam_size = 0), ("beam_size", "0".into()));
        assert_eq!(rejected(|o| o.beam_size = usize::MAX).0, "beam_size");
        assert_eq!(
            rejected(|o| o.best_of = MAX_BEST_OF + 1),
            ("best_of", "129".into())
        );
        assert_eq!(rejected(|o| o.patience = f32::INFINITY).0, "patience");
        assert_eq!(rejected(|o| o.patience = 0.0).0, "patience");
        assert_eq!(rejected(|o| o.temperatures = vec![]).0, "temperatures");
        assert_eq!(
            rejected(|o| o.temperatures = vec![0.0, -0.2]),
            ("temperatures", "[0.0, -0.2]".into())
        );
        assert_eq!(
            rejected(|o| o.unreliable_no_speech_threshold = Some(f32::NAN)).0,
            "unreliable_no_speech_threshold"
        );
        assert_eq!(
            rejected(|o| o.vad_filter = Some(VadOptions {
                threshold: 1.5,
                ..VadOptions::filter()
            })),
            ("vad_threshold", "1.5".into())
        );
    }

    #[test]
    fn the_extremes_of_each_range_pass() {
        accepted(|o| o.logprob_threshold = Some(f32::NEG_INFINITY));
        accepted(|o| o.no_speech_threshold = None);
        accepted(|o| o.beam_size = MAX_BEAM_SIZE);
        accepted(|o| o.best_of = 1);
        accepted(|o| o.temperatures = vec![1.0]);
    }

    #[test]
    fn auto_and_none_detect_the_language() {
        let with = |language: Option<&str>| TranscribeOptions {
            language: language.map(str::to_string),
            ..TranscribeOptions::default()
        };
        assert!(with(None).detects_language());
        assert!(with(Some("auto")).detects_language());
        assert!(!with(Some("en")).detects_language());
    }
}
