//! The four components under load: the engine in-process, the enhancement
//! pipeline, the encrypted store, and the WebSocket server.

pub mod engine;
pub mod enhance;
pub mod store;
pub mod ws;

use voiceflow_core::Error;

use crate::stats::Failure;

/// How a library error counts: refusals with a clear error are graceful.
pub fn failure_of(error: &Error) -> Failure {
    match error {
        Error::QueueFull { .. } | Error::Overloaded { .. } => Failure::Rejected(error.to_string()),
        Error::Timeout(_) => Failure::Timeout,
        other => Failure::Error(other.to_string()),
    }
}
