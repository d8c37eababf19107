//! The one error type of VoiceFlow.
//!
//! Every fallible function in `voiceflow-core` returns [`Result<T>`]. The
//! variants are grouped by cause (input, model, runtime, queue, store) so that a
//! caller can match on what went wrong and decide what to do: fix the input,
//! install a model, retry later, or report data corruption.

use std::path::PathBuf;

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

    /// The WAV data is corrupt or uses an encoding VoiceFlow does not read.
    #[error("unsupported or corrupt WAV{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    InvalidWav {
        /// The file, when the data came from a file.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },

    /// An argument or option is out of range (sample rate 0, beam size 0,
    /// unknown language code, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

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
    /// or shapes, tokenizer that does not load, ...).
    #[error("malformed model file {}: {reason}", path.display())]
    ModelMalformed {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    // ----- Runtime ---------------------------------------------------------
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error(
        "ONNX Runtime library not found or not loadable ({reason}); looked in: {}",
        fmt_paths(searched)
    )]
    RuntimeNotFound {
        /// Every location that was tried, in order.
        searched: Vec<PathBuf>,
        /// Why the last attempt failed.
        reason: String,
    },

    /// ONNX Runtime failed while running a model.
    #[error("inference failed: {0}")]
    Inference(String),

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
    #[error("backend {backend} failed: {reason}")]
    Backend {
        /// The backend's name.
        backend: String,
        /// What happened.
        reason: String,
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
    /// version does not read.
    #[error("cannot open store at {}: {reason}", path.display())]
    StoreFormat {
        /// The store's folder.
        path: PathBuf,
        /// What is wrong (not a store, newer format, missing metadata, ...).
        reason: String,
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

    /// The storage engine (sled) reported an error.
    #[error("storage error: {0}")]
    Storage(String),
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
}
