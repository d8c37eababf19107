//! The detector's parameters and where its model is found.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Environment variable naming the Silero VAD graph (`silero_vad.onnx`).
pub const VOICEFLOW_VAD_MODEL: &str = "VOICEFLOW_VAD_MODEL";

/// Where `scripts/setup.sh vad` puts the graph, relative to the models folder.
const MODEL_IN_MODELS_DIR: &str = "silero-vad/silero_vad.onnx";

/// Parameters of speech detection, as in Silero's `get_speech_timestamps`
/// (whose defaults [`VadOptions::default`] has) and faster-whisper's
/// `VadOptions` ([`VadOptions::filter`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VadOptions {
    /// The Silero graph; `None` looks at `VOICEFLOW_VAD_MODEL`, then at
    /// `silero-vad/silero_vad.onnx` beside the Whisper model's folder.
    pub model: Option<PathBuf>,
    /// A frame at or above this probability is speech.
    pub threshold: f32,
    /// While in speech, a frame below this probability is silence; `None`
    /// means `threshold - 0.15` (at least 0.01).
    pub neg_threshold: Option<f32>,
    /// Speech shorter than this is dropped.
    pub min_speech_duration_ms: u32,
    /// Speech ends after this much silence.
    pub min_silence_duration_ms: u32,
    /// Each span is widened by this much on both sides.
    pub speech_pad_ms: u32,
    /// Longer speech is cut, at its longest pause when it has one
    /// (`f32::INFINITY`: never).
    pub max_speech_duration_s: f32,
    /// Shortest pause counted as a place to cut over-long speech.
    pub min_silence_at_max_speech_ms: u32,
}

impl Default for VadOptions {
    /// Silero's defaults: threshold 0.5, 250 ms speech, 100 ms silence,
    /// 30 ms padding, no maximum.
    fn default() -> Self {
        VadOptions {
            model: None,
            threshold: 0.5,
            neg_threshold: None,
            min_speech_duration_ms: 250,
            min_silence_duration_ms: 100,
            speech_pad_ms: 30,
            max_speech_duration_s: f32::INFINITY,
            min_silence_at_max_speech_ms: 98,
        }
    }
}

impl VadOptions {
    /// faster-whisper's `vad_filter` defaults: keep every speech span,
    /// join those less than 2 s apart, pad by 400 ms.
    pub fn filter() -> Self {
        VadOptions {
            min_speech_duration_ms: 0,
            min_silence_duration_ms: 2000,
            speech_pad_ms: 400,
            ..VadOptions::default()
        }
    }

    /// The negative (exit) threshold in use.
    pub fn effective_neg_threshold(&self) -> f32 {
        self.neg_threshold
            .unwrap_or((self.threshold - 0.15).max(0.01))
    }

    /// Checks that every parameter is in range: [`Error::InvalidOption`]
    /// naming it as the bindings' `vad_*` options do (`vad_threshold`, ...).
    pub fn validate(&self) -> Result<()> {
        let probability = |name: &'static str, p: f32| {
            if p.is_finite() && (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::invalid_option(name, p, "a probability, 0 to 1"))
            }
        };
        probability("vad_threshold", self.threshold)?;
        let neg = self.effective_neg_threshold();
        probability("vad_neg_threshold", neg)?;
        if neg > self.threshold {
            return Err(Error::invalid_option(
                "vad_neg_threshold",
                neg,
                format!("at most vad_threshold ({})", self.threshold),
            ));
        }
        if self.max_speech_duration_s.is_nan() || self.max_speech_duration_s <= 0.0 {
            return Err(Error::invalid_option(
                "vad_max_speech_duration_s",
                self.max_speech_duration_s,
                "a positive number of seconds",
            ));
        }
        Ok(())
    }
}

/// The Silero graph to load: `options.model`, else `VOICEFLOW_VAD_MODEL`,
/// else `silero-vad/silero_vad.onnx` in the folder that holds
/// `whisper_dir`. A missing file is [`Error::ModelNotFound`].
pub fn resolve_model(options: &VadOptions, whisper_dir: &Path) -> Result<PathBuf> {
    let path = options
        .model
        .clone()
        .or_else(|| {
            std::env::var_os(VOICEFLOW_VAD_MODEL)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| {
            whisper_dir
                .parent()
                .unwrap_or(Path::new("."))
                .join(MODEL_IN_MODELS_DIR)
        });
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::ModelNotFound {
            path,
            reason: "no Silero VAD graph there; install it beside the Whisper models with \
                     `voiceflow models install silero-vad` (in a checkout: `scripts/setup.sh vad`), \
                     or set VadOptions::model"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_negative_threshold_follows_the_threshold() {
        let o = VadOptions {
            threshold: 0.6,
            ..VadOptions::default()
        };
        assert!((o.effective_neg_threshold() - 0.45).abs() < 1e-6);
        let low = VadOptions {
            threshold: 0.1,
            ..VadOptions::default()
        };
        assert_eq!(low.effective_neg_threshold(), 0.01);
    }

    #[test]
    fn out_of_range_parameters_are_invalid_options_named_as_the_bindings_name_them() {
        for (bad, name) in [
            (
                VadOptions {
                    threshold: 1.5,
                    ..VadOptions::default()
                },
                "vad_threshold",
            ),
            (
                VadOptions {
                    neg_threshold: Some(0.9),
                    ..VadOptions::default()
                },
                "vad_neg_threshold",
            ),
            (
                VadOptions {
                    max_speech_duration_s: 0.0,
                    ..VadOptions::default()
                },
                "vad_max_speech_duration_s",
            ),
        ] {
            assert!(
                matches!(bad.validate(), Err(Error::InvalidOption { option, .. }) if option == name),
                "{bad:?}"
            );
        }
        VadOptions::default().validate().unwrap();
        VadOptions::filter().validate().unwrap();
    }

    #[test]
    fn a_missing_graph_names_the_path_it_looked_for() {
        let o = VadOptions {
            model: Some("/nonexistent/silero_vad.onnx".into()),
            ..VadOptions::default()
        };
        match resolve_model(&o, Path::new("models/whisper-tiny.en")) {
            Err(Error::ModelNotFound { path, .. }) => {
                assert_eq!(path, Path::new("/nonexistent/silero_vad.onnx"))
            }
            other => panic!("expected ModelNotFound, got {other:?}"),
        }
    }
}
