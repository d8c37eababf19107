//! The model's dimensions and decoding settings, read from the Hugging Face
//! style `config.json` and (optional) `generation_config.json`.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::{Error, Result};

/// What the engine needs to know about a Whisper model besides its graphs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// Width of the hidden states (384 for tiny, 512 for base).
    pub d_model: usize,
    /// Number of decoder layers (each has a self- and a cross-attention cache).
    pub decoder_layers: usize,
    /// Attention heads per decoder layer.
    pub decoder_attention_heads: usize,
    /// Number of mel bins the encoder expects (80, or 128 for large-v3).
    pub n_mels: usize,
    /// Size of the output vocabulary, timestamp tokens included.
    pub vocab_size: usize,
    /// Longest token sequence the decoder can hold (448).
    pub max_target_positions: usize,
    /// Encoder frames per 30-s window (1500).
    pub max_source_positions: usize,
    /// Whether the model knows several languages (not an `.en` model).
    pub is_multilingual: bool,
    /// Tokens suppressed at every step (openai's `non_speech_tokens`).
    pub suppress_tokens: Vec<u32>,
    /// Tokens suppressed at the first sampled step (blank and end of text).
    pub begin_suppress_tokens: Vec<u32>,
    /// Latest timestamp index allowed as the first token (50 = 1.0 s).
    pub max_initial_timestamp_index: u32,
}

#[derive(Deserialize)]
struct HfConfig {
    d_model: usize,
    decoder_layers: usize,
    decoder_attention_heads: usize,
    num_mel_bins: usize,
    vocab_size: usize,
    max_target_positions: usize,
    #[serde(default = "default_source_positions")]
    max_source_positions: usize,
    #[serde(default)]
    suppress_tokens: Option<Vec<u32>>,
    #[serde(default)]
    begin_suppress_tokens: Option<Vec<u32>>,
}

#[derive(Deserialize, Default)]
struct HfGenerationConfig {
    #[serde(default)]
    is_multilingual: Option<bool>,
    #[serde(default)]
    suppress_tokens: Option<Vec<u32>>,
    #[serde(default)]
    begin_suppress_tokens: Option<Vec<u32>>,
    #[serde(default)]
    max_initial_timestamp_index: Option<u32>,
}

fn default_source_positions() -> usize {
    1500
}

/// openai's default `max_initial_timestamp` of 1.0 s at 0.02 s per step.
const DEFAULT_MAX_INITIAL_TIMESTAMP_INDEX: u32 = 50;
/// openai's `is_multilingual` rule: `n_vocab >= 51865`.
const MULTILINGUAL_MIN_VOCAB: usize = 51865;

impl ModelConfig {
    /// Reads `config.json` and, when given, `generation_config.json`; the
    /// generation config's values win where both have a key.
    pub fn load(config: &Path, generation: Option<&Path>) -> Result<Self> {
        let hf: HfConfig = read_json(config)?;
        let gen: HfGenerationConfig = match generation {
            Some(path) => read_json(path)?,
            None => HfGenerationConfig::default(),
        };
        let malformed = |reason: String| Error::malformed(config, reason);
        if hf.d_model == 0 || hf.decoder_layers == 0 || hf.decoder_attention_heads == 0 {
            return Err(malformed(
                "d_model, decoder_layers and decoder_attention_heads must be positive".into(),
            ));
        }
        if !hf.d_model.is_multiple_of(hf.decoder_attention_heads) {
            return Err(malformed(format!(
                "d_model {} is not a multiple of decoder_attention_heads {}",
                hf.d_model, hf.decoder_attention_heads
            )));
        }
        if hf.num_mel_bins == 0 || hf.max_target_positions < 2 || hf.max_source_positions == 0 {
            return Err(malformed(
                "num_mel_bins, max_target_positions and max_source_positions must be positive"
                    .into(),
            ));
        }
        Ok(ModelConfig {
            d_model: hf.d_model,
            decoder_layers: hf.decoder_layers,
            decoder_attention_heads: hf.decoder_attention_heads,
            n_mels: hf.num_mel_bins,
            vocab_size: hf.vocab_size,
            max_target_positions: hf.max_target_positions,
            max_source_positions: hf.max_source_positions,
            is_multilingual: gen
                .is_multilingual
                .unwrap_or(hf.vocab_size >= MULTILINGUAL_MIN_VOCAB),
            suppress_tokens: gen
                .suppress_tokens
                .or(hf.suppress_tokens)
                .unwrap_or_default(),
            begin_suppress_tokens: gen
                .begin_suppress_tokens
                .or(hf.begin_suppress_tokens)
                .unwrap_or_default(),
            max_initial_timestamp_index: gen
                .max_initial_timestamp_index
                .unwrap_or(DEFAULT_MAX_INITIAL_TIMESTAMP_INDEX),
        })
    }

    /// Size of one attention head.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.decoder_attention_heads
    }
}

/// Parses a JSON file into `T`; a missing file is `ModelNotFound`, anything
/// else wrong is `ModelMalformed` naming the file and the problem.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::ModelNotFound {
            path: path.to_path_buf(),
            reason: "file does not exist".into(),
        },
        _ => Error::malformed_from(path, "cannot read", e),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::malformed_from(path, "invalid JSON", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY_EN: &str = r#"{"d_model": 384, "decoder_layers": 4, "decoder_attention_heads": 6,
        "num_mel_bins": 80, "vocab_size": 51864, "max_target_positions": 448,
        "max_source_positions": 1500, "suppress_tokens": [1, 2], "begin_suppress_tokens": [220, 50256]}"#;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_the_dimensions_and_derives_multilinguality_from_the_vocabulary() {
        let dir = tempfile::tempdir().unwrap();
        let config = ModelConfig::load(&write(dir.path(), "config.json", TINY_EN), None).unwrap();
        assert_eq!(config.d_model, 384);
        assert_eq!(config.head_dim(), 64);
        assert_eq!(config.n_mels, 80);
        assert!(!config.is_multilingual);
        assert_eq!(config.suppress_tokens, vec![1, 2]);
        assert_eq!(config.begin_suppress_tokens, vec![220, 50256]);
        assert_eq!(config.max_initial_timestamp_index, 50);
    }

    #[test]
    fn the_generation_config_wins() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(dir.path(), "config.json", TINY_EN);
        let gen = write(
            dir.path(),
            "generation_config.json",
            r#"{"is_multilingual": true, "suppress_tokens": [7], "max_initial_timestamp_index": 25}"#,
        );
        let config = ModelConfig::load(&config, Some(&gen)).unwrap();
        assert!(config.is_multilingual);
        assert_eq!(config.suppress_tokens, vec![7]);
        assert_eq!(config.max_initial_timestamp_index, 25);
    }

    #[test]
    fn bad_json_and_missing_keys_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["{not json", r#"{"d_model": 384}"#, r#"{"d_model": "wide"}"#] {
            let path = write(dir.path(), "config.json", text);
            match ModelConfig::load(&path, None) {
                Err(Error::ModelMalformed {
                    path: p, reason, ..
                }) => {
                    assert_eq!(p, path);
                    assert!(reason.contains("invalid JSON"), "{reason}");
                }
                other => panic!("expected ModelMalformed, got {other:?}"),
            }
        }
    }

    #[test]
    fn impossible_dimensions_are_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let text = TINY_EN.replace(
            "\"decoder_attention_heads\": 6",
            "\"decoder_attention_heads\": 5",
        );
        let path = write(dir.path(), "config.json", &text);
        assert!(matches!(
            ModelConfig::load(&path, None),
            Err(Error::ModelMalformed { .. })
        ));
    }
}
