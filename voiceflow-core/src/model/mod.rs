//! A Whisper model on ONNX Runtime: its folder ([`files`]; by name:
//! [`registry`]), configuration
//! ([`model_config`]), tokenizer ([`tokenizer`], [`special_tokens`]), the
//! process-wide runtime ([`runtime`]) and the sessions that run it
//! (`session`, `decoder`, internal; the scheduler drives them).

pub(crate) mod decoder;
pub mod files;
pub mod model_config;
pub mod registry;
pub mod runtime;
pub(crate) mod session;
pub mod special_tokens;
pub mod tokenizer;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::decoder::{DecoderSession, DecoderSessions};
use self::files::{DecoderFiles, ModelFiles};
use self::model_config::ModelConfig;
use self::session::{load_session, EncoderSession};
use self::tokenizer::WhisperTokenizer;
use crate::{Device, Error, Result};

/// Timestamp tokens in the vocabulary (`<|0.00|>` … `<|30.00|>`).
const TIMESTAMP_TOKENS: u32 = 1501;

/// A description of the loaded model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model folder's name, for example `whisper-tiny.en`.
    pub name: String,
    /// The model folder.
    pub dir: PathBuf,
    /// Whether the model knows several languages (it can detect and translate).
    pub multilingual: bool,
    /// Language codes the model accepts (only `en` for English-only models).
    pub languages: Vec<String>,
    /// Mel bins per frame the encoder expects.
    pub n_mels: usize,
    /// Hidden size.
    pub d_model: usize,
    /// Decoder layers.
    pub decoder_layers: usize,
    /// Attention heads per decoder layer.
    pub decoder_attention_heads: usize,
    /// Vocabulary size, timestamps included.
    pub vocab_size: usize,
    /// Longest token sequence of one window, prompt included.
    pub max_target_positions: usize,
    /// `"merged"` (one decoder graph) or `"split"` (decoder and decoder with past).
    pub decoder_layout: String,
    /// The ONNX Runtime execution provider the encoder runs on: `"CPU"`, or
    /// `"CUDA"` when built with the `cuda` feature and a GPU took the graph.
    pub encoder_provider: String,
    /// The execution provider of the decoder graph(s), as `encoder_provider`.
    pub decoder_provider: String,
}

/// The parts of a model shared by all its session instances.
#[derive(Debug)]
pub(crate) struct Model {
    /// The model's files.
    pub files: ModelFiles,
    /// Dimensions and decoding settings.
    pub config: ModelConfig,
    /// Text ⟷ ids.
    pub tokenizer: WhisperTokenizer,
}

impl Model {
    /// Reads and checks the configuration and tokenizer of the model folder
    /// `model` (or of the installed model of that name: [`registry::resolve`]).
    /// `sessions` (which loads the graphs) runs on this thread while the
    /// tokenizer loads on another: the two are the slow parts of a load.
    pub(crate) fn load_with<T>(
        model: &Path,
        sessions: impl FnOnce(Graphs<'_>) -> Result<T>,
    ) -> Result<(Self, T)> {
        let files = ModelFiles::locate(&registry::resolve(model)?)?;
        let config = ModelConfig::load(&files.config, files.generation_config.as_deref())?;
        let (tokenizer, loaded) = std::thread::scope(|scope| {
            let tokenizer = scope.spawn(|| WhisperTokenizer::load(&files.tokenizer));
            let loaded = sessions(Graphs {
                files: &files,
                config: &config,
            });
            (join(tokenizer), loaded)
        });
        let tokenizer = tokenizer?;
        let last_timestamp = tokenizer.special().timestamp_begin + TIMESTAMP_TOKENS;
        if (config.vocab_size as u64) < u64::from(last_timestamp) {
            return Err(Error::malformed(
                &files.config,
                format!(
                    "vocab_size {} leaves no room for the timestamp tokens up to id {}",
                    config.vocab_size,
                    last_timestamp - 1
                ),
            ));
        }
        let loaded = loaded?;
        let model = Model {
            files,
            config,
            tokenizer,
        };
        Ok((model, loaded))
    }

    /// A description of the model.
    pub(crate) fn info(&self) -> ModelInfo {
        let c = &self.config;
        let languages = if c.is_multilingual {
            self.tokenizer
                .special()
                .languages
                .iter()
                .map(|(code, _)| code.clone())
                .collect()
        } else {
            vec!["en".to_string()]
        };
        ModelInfo {
            name: self.files.name(),
            dir: self.files.dir.clone(),
            multilingual: c.is_multilingual,
            languages,
            n_mels: c.n_mels,
            d_model: c.d_model,
            decoder_layers: c.decoder_layers,
            decoder_attention_heads: c.decoder_attention_heads,
            vocab_size: c.vocab_size,
            max_target_positions: c.max_target_positions,
            decoder_layout: match self.files.decoder {
                DecoderFiles::Merged(_) => "merged",
                DecoderFiles::Split { .. } => "split",
            }
            .to_string(),
            // The sessions are loaded later; the scheduler reports these.
            encoder_provider: String::new(),
            decoder_provider: String::new(),
        }
    }
}

/// The graphs of a model folder and the configuration that sizes them: what
/// loading the sessions needs (before the tokenizer is ready).
#[derive(Clone, Copy)]
pub(crate) struct Graphs<'a> {
    /// The model's files.
    pub files: &'a ModelFiles,
    /// Dimensions and decoding settings.
    pub config: &'a ModelConfig,
}

impl Graphs<'_> {
    /// Loads the encoder graph with `threads` intra-op threads on `device`;
    /// also returns the execution provider it runs on.
    fn encoder_session(
        self,
        env: &ort::environment::Environment,
        threads: usize,
        device: Device,
    ) -> Result<(EncoderSession, &'static str)> {
        let (session, provider) = load_session(env, &self.files.encoder, threads, device)?;
        let encoder = EncoderSession::new(session, &self.files.encoder, self.config.n_mels)?;
        Ok((encoder, provider))
    }

    /// Loads the decoder graph(s) with `threads` intra-op threads on `device`; also
    /// returns the execution provider they run on (`"CUDA/CPU"` when the
    /// split layout's two graphs ended up on different ones).
    fn decoder_session(
        self,
        env: &ort::environment::Environment,
        threads: usize,
        device: Device,
    ) -> Result<(DecoderSession, String)> {
        let c = &self.config;
        let load = |path: &PathBuf| {
            let (session, provider) = load_session(env, path, threads, device)?;
            Ok::<_, Error>(((session, path.clone()), provider))
        };
        let (sessions, provider) = match &self.files.decoder {
            DecoderFiles::Merged(path) => {
                let ((session, path), provider) = load(path)?;
                (DecoderSessions::Merged(session, path), provider.to_string())
            }
            DecoderFiles::Split { first, with_past } => {
                let (first, a) = load(first)?;
                let (with_past, b) = load(with_past)?;
                let provider = if a == b {
                    a.to_string()
                } else {
                    format!("{a}/{b}")
                };
                (DecoderSessions::Split { first, with_past }, provider)
            }
        };
        let decoder = DecoderSession::new(
            sessions,
            c.decoder_layers,
            c.decoder_attention_heads,
            c.head_dim(),
        )?;
        Ok((decoder, provider))
    }

    /// Loads the encoder and decoder sessions (with `threads` intra-op threads
    /// on `device`, as [`load_session`]) at once, the encoder on another
    /// thread.
    pub(crate) fn sessions(
        self,
        env: &ort::environment::Environment,
        threads: usize,
        device: Device,
    ) -> Result<Sessions> {
        let (encoder, decoder) = std::thread::scope(|scope| {
            let encoder = scope.spawn(|| self.encoder_session(env, threads, device));
            let decoder = self.decoder_session(env, threads, device);
            (join(encoder), decoder)
        });
        let ((encoder, encoder_provider), (decoder, decoder_provider)) = (encoder?, decoder?);
        Ok(Sessions {
            encoder,
            encoder_provider,
            decoder,
            decoder_provider,
        })
    }
}

/// One instance's loaded sessions and the execution providers they run on.
pub(crate) struct Sessions {
    /// The encoder graph's session.
    pub encoder: EncoderSession,
    /// Where the encoder runs (`"CPU"`, `"CUDA"`).
    pub encoder_provider: &'static str,
    /// The decoder graph(s)' session(s).
    pub decoder: DecoderSession,
    /// Where the decoder runs (`"CUDA/CPU"` when the split layout's two
    /// graphs ended up on different ones).
    pub decoder_provider: String,
}

/// The result of a scoped thread; its panic goes on in this thread.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
