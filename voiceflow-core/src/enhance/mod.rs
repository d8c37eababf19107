//! The AI enhancement pipeline: a raw transcript finished for its destination.
//!
//! - [`Enhancer`]: text + [`EnhanceRequest`] -> [`Enhanced`] (text, edits,
//!   backend, fallback).
//! - [`RuleEnhancer`]: deterministic rules per [`Context`] (fillers,
//!   corrections, spoken punctuation, numbers, casing, the user dictionary,
//!   email/chat/document/code layout).
//! - `LlmEnhancer` (feature `llm`): an OpenAI-compatible chat-completions
//!   server (Ollama, llama.cpp's server, vLLM), one prompt per context.
//! - [`FallbackEnhancer`]: a primary backend behind a [`CircuitBreaker`],
//!   answered by the rules while the primary fails or the breaker is open.
//! - [`EnhancePipeline`]: a bounded two-priority queue feeding a pool of
//!   workers; every accepted request is answered (result, typed timeout or
//!   typed cancellation), and a full queue rejects at once with
//!   [`crate::Error::QueueFull`] from [`EnhancePipeline::try_submit`].

mod breaker;
mod fallback;
#[cfg(feature = "llm")]
mod llm;
pub mod quality;
mod queue;
mod request;
mod result;
mod rules;
mod stats;
mod ticket;

pub use crate::Context;
pub use breaker::{
    BreakerConfig, BreakerState, CircuitBreaker, Clock, ManualClock, Permit, SystemClock,
};
pub use fallback::FallbackEnhancer;
#[cfg(feature = "llm")]
pub use llm::{context_prompt, LlmConfig, LlmEnhancer, LLM_BACKEND};
pub use queue::{
    EnhancePipeline, Job, PipelineConfig, Priority, Shutdown, ShutdownReport,
    MAX_PIPELINE_CAPACITY, MAX_PIPELINE_WORKERS,
};
pub use request::{DictionaryEntry, EnhanceOptions, EnhanceRequest, UserDictionary};
pub use result::{Edit, EditKind, Enhanced, Fallback, FallbackReason};
pub use rules::{RuleEnhancer, RULES_BACKEND};
pub use stats::PipelineStats;
pub use ticket::Ticket;

use crate::Result;

/// Turns raw dictated text into finished text for a destination.
///
/// Implementations must be `Send + Sync`: the pipeline calls one enhancer
/// from many worker threads at once.
pub trait Enhancer: Send + Sync {
    /// The backend's name, reported in [`Enhanced::backend`].
    fn name(&self) -> &str;

    /// Enhances `text` as `request` asks.
    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced>;
}

impl<E: Enhancer + ?Sized> Enhancer for std::sync::Arc<E> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        (**self).enhance(text, request)
    }
}
