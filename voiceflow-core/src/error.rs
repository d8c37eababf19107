//! The one error type of VoiceFlow.
//!
//! Every fallible function in `voiceflow-core` returns [`Result<T>`]. The
//! variants are grouped by cause (input, model, runtime, queue, store) so that a
//! caller can match on what went wrong and decide what to do: fix the input,
//! install a model, retry later, or report data corruption.

use std::path::PathBuf;

/// A foreign error (ONNX Runtime's, sled's, std's, ...) kept as the cause of
/// one of ours, so that [`std::error::Error::source`] reaches it.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for `std::result::Result<T, voiceflow_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in VoiceFlow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- Input -----------------------------------------------------------
    /// The audio buffer cannot be transcribed (empty, NaN/infinite samples,
    /// wrong length for the channel count, too long, ...).
    #[error("invalid audio: {0}")]
    InvalidAudio(String),

    /// The audio file (WAV, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC; from a path
    /// or bytes) is not one VoiceFlow reads, is corrupt, or has a header
    /// whose fields contradict each other (the reason names the field). The
    /// message does not repeat the cause's text; [`chain`] shows both.
    #[error("unsupported or corrupt audio file{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    InvalidAudioFile {
        /// The file, when the data came from a file.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
        /// The decoder's error (symphonia's), when it found the problem.
        #[source]
        source: Option<Source>,
    },

    /// An argument or option is out of range (sample rate 0, beam size 0,
    /// unknown language code, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A transcription option is out of range
    /// ([`crate::TranscribeOptions::validate`]).
    #[error("invalid option {option} = {value}: expected {expected}")]
    InvalidOption {
        /// The option's name as the C, Python and CLI options spell it
        /// (`beam_size`, `temperatures`, `vad_threshold`, ...).
        option: &'static str,
        /// The value given, as Rust's `Debug` prints it.
        value: String,
        /// What the option accepts.
        expected: String,
    },

    // ----- Model -----------------------------------------------------------
    /// The model folder or one of its files does not exist.
    #[error("model not found: {}: {reason}", path.display())]
    ModelNotFound {
        /// The path that was looked for.
        path: PathBuf,
        /// What was missing.
        reason: String,
    },

    /// A model file exists but cannot be used (bad JSON, wrong tensor names
    /// or shapes, tokenizer that does not load, a graph ONNX Runtime refuses,
    /// ...). The message does not repeat the cause's text; [`chain`] shows
    /// both.
    #[error("malformed model file {}: {reason}", path.display())]
    ModelMalformed {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The error that revealed it (ONNX Runtime's, the JSON parser's, the
        /// tokenizer's), when there is one.
        #[source]
        source: Option<Source>,
    },

    /// The model cannot do what an option asks: word timestamps need the
    /// decoder's `alignment_scores` output and the alignment heads, which
    /// models converted before word timestamps existed (and exports by
    /// others) lack. Re-converting the model gives them.
    #[error("the model {} cannot give {feature}: {reason}", path.display())]
    ModelLacksFeature {
        /// The model folder or the graph that lacks it.
        path: PathBuf,
        /// What was asked for (`"word timestamps"`).
        feature: &'static str,
        /// What is missing, and how to get it.
        reason: String,
    },

    // ----- Runtime ---------------------------------------------------------
    /// The ONNX Runtime shared library could not be found or loaded. The
    /// message does not repeat the cause's text; [`chain`] shows both.
    #[error(
        "ONNX Runtime library not found or not loadable ({reason}); looked in: {}",
        fmt_paths(searched)
    )]
    RuntimeNotFound {
        /// Every location that was tried, in order.
        searched: Vec<PathBuf>,
        /// Why the last attempt failed.
        reason: String,
        /// ONNX Runtime's error when the library was found but failed to
        /// load.
        #[source]
        source: Option<Source>,
    },

    /// The device the configuration insists on ([`crate::Device::Cuda`])
    /// cannot run the model: the build lacks the `cuda` feature, the ONNX
    /// Runtime library has no CUDA execution provider, or the provider
    /// failed to take the graph (no GPU, no such device, missing CUDA
    /// libraries). [`crate::Device::Auto`] falls back to the CPU instead.
    #[error("device {device} is not available: {reason}")]
    DeviceUnavailable {
        /// The device asked for (`cuda:0`).
        device: String,
        /// Why it cannot be used, ONNX Runtime's words included.
        reason: String,
    },

    /// Inference failed: ONNX Runtime reported an error (kept as `source`),
    /// or a model's output or the scheduler's state is not what it must be
    /// (no `source`). The message says what was being done and does not
    /// repeat the cause's text; [`chain`] shows both.
    #[error("inference failed: {message}")]
    Inference {
        /// What failed (`running the encoder`, `window 3 is not open`, ...).
        message: String,
        /// The underlying error, usually an [`ort::Error`].
        #[source]
        source: Option<Source>,
    },

    /// The engine (or pipeline, or store) was closed and takes no more work.
    #[error("{0} is closed")]
    Closed(&'static str),

    /// An I/O operation failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    // ----- Queue -----------------------------------------------------------
    /// A bounded queue is full; nothing was accepted (backpressure).
    #[error("queue full (capacity {capacity}); request not accepted")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },

    /// The engine already runs and queues as many transcriptions as it is
    /// configured for; this one was not accepted (retry later).
    #[error("engine overloaded: {running} transcriptions running and {queued} waiting; request not accepted")]
    Overloaded {
        /// Transcriptions running when the request arrived.
        running: usize,
        /// Transcriptions waiting for a turn.
        queued: usize,
    },

    /// A request's deadline passed before it completed.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),

    /// A request was accepted but cancelled before it ran (for example at
    /// shutdown without draining).
    #[error("request cancelled: {0}")]
    Cancelled(String),

    /// A backend failed (for example an LLM server answered with an error).
    /// The message does not repeat the cause's text; [`chain`] shows both.
    #[error("backend {backend} failed: {reason}")]
    Backend {
        /// The backend's name.
        backend: String,
        /// What happened.
        reason: String,
        /// The underlying error (HTTP client, JSON parser, thread spawn),
        /// when there is one.
        #[source]
        source: Option<Source>,
    },

    // ----- Store -----------------------------------------------------------
    /// The key or passphrase does not open this store.
    #[error("wrong key or passphrase for this store")]
    WrongKey,

    /// A stored record failed authentication: its bytes were altered or it
    /// belongs to another record or key.
    #[error("integrity check failed for record {id}")]
    Integrity {
        /// The record's id.
        id: String,
    },

    /// The path is not a VoiceFlow store, or the store has a format this
    /// version does not read. The message does not repeat the cause's text;
    /// [`chain`] shows both.
    #[error("cannot open store at {}: {reason}", path.display())]
    StoreFormat {
        /// The store's folder.
        path: PathBuf,
        /// What is wrong (not a store, newer format, missing metadata, ...).
        reason: String,
        /// The error that revealed it (sled's, the JSON parser's), when there
        /// is one.
        #[source]
        source: Option<Source>,
    },

    /// A record exceeds the store's size limit.
    #[error("record of {size} bytes exceeds the limit of {limit} bytes")]
    RecordTooLarge {
        /// The record's serialized size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },

    /// No record has this id.
    #[error("no record with id {0}")]
    NotFound(String),

    /// The storage engine (sled) reported an error (kept as `source`), or
    /// the stored data is not what the store wrote. The message does not
    /// repeat the cause's text; [`chain`] shows both.
    #[error("storage error: {message}")]
    Storage {
        /// What failed.
        message: String,
        /// The underlying error, usually a [`sled::Error`].
        #[source]
        source: Option<Source>,
    },
}

fn fmt_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(nowhere)".to_string();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Inference`] without an underlying error.
    pub fn inference(message: impl Into<String>) -> Self {
        Error::Inference {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Inference`] caused by `source` (an ONNX Runtime error, a
    /// failed thread spawn, ...).
    pub fn inference_from(message: impl Into<String>, source: impl Into<Source>) -> Self {
        Error::Inference {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An [`Error::InvalidOption`]: `option` has `value`, not what it
    /// accepts, `expected`.
    pub fn invalid_option(
        option: &'static str,
        value: impl std::fmt::Debug,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidOption {
            option,
            value: format!("{value:?}"),
            expected: expected.into(),
        }
    }

    /// An [`Error::Storage`] without an underlying error.
    pub fn storage(message: impl Into<String>) -> Self {
        Error::Storage {
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Storage`] caused by `source` (a sled error, ...).
    pub fn storage_from(message: impl Into<String>, source: impl Into<Source>) -> Self {
        Error::Storage {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An [`Error::ModelMalformed`] for `path` without an underlying error.
    pub fn malformed(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::ModelMalformed {
            path: path.into(),
            reason: reason.into(),
            source: None,
        }
    }

    /// An [`Error::ModelMalformed`] for `path` caused by `source`.
    pub fn malformed_from(
        path: impl Into<PathBuf>,
        reason: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Error::ModelMalformed {
            path: path.into(),
            reason: reason.into(),
            source: Some(source.into()),
        }
    }

    /// An [`Error::Backend`] for `backend` without an underlying error.
    pub fn backend(backend: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Backend {
            backend: backend.into(),
            reason: reason.into(),
            source: None,
        }
    }

    /// An [`Error::Backend`] for `backend` caused by `source`.
    pub fn backend_from(
        backend: impl Into<String>,
        reason: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Error::Backend {
            backend: backend.into(),
            reason: reason.into(),
            source: Some(source.into()),
        }
    }
}

/// The message of `error` followed by those of its causes, as
/// [`std::error::Error::source`] walks them: `"inference failed: running the
/// encoder: <ONNX Runtime's message>"`. A cause whose text already ends the
/// message (an error that prints its cause itself, as [`Error::Io`] does) is
/// not repeated.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let text = error.to_string();
        if !text.is_empty() && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = error.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_follows_every_source_once() {
        let io = std::io::Error::other("disk on fire");
        let inner = Error::storage_from("sled reported an error", io);
        let outer = Error::inference_from("running the encoder", inner);
        assert_eq!(outer.to_string(), "inference failed: running the encoder");
        assert_eq!(
            chain(&outer),
            "inference failed: running the encoder: storage error: sled reported an error: \
             disk on fire"
        );
        assert_eq!(
            chain(&Error::inference("no sequence")),
            "inference failed: no sequence"
        );
    }

    #[test]
    fn a_source_the_message_already_shows_is_not_repeated() {
        let error = Error::io("/x", std::io::Error::other("gone"));
        assert_eq!(error.to_string(), "I/O error on /x: gone");
        assert_eq!(chain(&error), error.to_string());
    }
}
