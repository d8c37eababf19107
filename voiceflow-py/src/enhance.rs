//! `Enhancer`: raw dictation finished for its destination by the rule
//! enhancer, behind the bounded enhancement queue.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyType;
use voiceflow_core::enhance::{
    self as core, Context, EnhancePipeline, EnhanceRequest, Job, PipelineConfig, RuleEnhancer,
    Shutdown,
};
use voiceflow_core::Error;

use crate::errors::to_py_err;

/// Finishes raw dictation for a destination (general, email, chat,
/// document, code) with the built-in rules, through a bounded queue served
/// by worker threads.
///
/// Enhancer(capacity=None, workers=None): `capacity` requests may wait
/// (1 to 65536, default 100), `workers` threads serve them (1 to 1024,
/// default 15); other numbers raise InvalidArgumentError. Thread-safe; the
/// GIL is released while a request waits.
#[pyclass(frozen, module = "voiceflow")]
pub struct Enhancer(EnhancePipeline);

/// One change the enhancer made.
#[pyclass(frozen, get_all, module = "voiceflow")]
#[derive(Clone)]
pub struct Edit {
    /// The kind of change ("filler", "repetition", "correction",
    /// "punctuation", "layout", "capitalization", "number", "dictionary",
    /// "emoji", "symbol", "identifier_case", "rewrite").
    kind: String,
    /// The text before the change.
    before: String,
    /// The text after the change; empty for a removal.
    after: String,
}

/// The enhanced text and how it came about.
#[pyclass(frozen, get_all, module = "voiceflow")]
pub struct Enhanced {
    /// The finished text.
    text: String,
    /// The name of the backend that produced the text ("rules").
    backend: String,
    /// Every change, in the order the rules made them.
    edits: Vec<Edit>,
}

impl From<core::Enhanced> for Enhanced {
    fn from(enhanced: core::Enhanced) -> Self {
        let edits = enhanced
            .edits
            .into_iter()
            .map(|edit| Edit {
                kind: edit.kind.as_str().to_string(),
                before: edit.before,
                after: edit.after,
            })
            .collect();
        Enhanced {
            text: enhanced.text,
            backend: enhanced.backend,
            edits,
        }
    }
}

#[pymethods]
impl Edit {
    fn __repr__(&self) -> String {
        format!(
            "Edit(kind={:?}, before={:?}, after={:?})",
            self.kind, self.before, self.after
        )
    }
}

#[pymethods]
impl Enhanced {
    fn __repr__(&self) -> String {
        format!(
            "Enhanced(text={:?}, backend={:?}, edits={})",
            self.text,
            self.backend,
            self.edits.len()
        )
    }
}

#[pymethods]
impl Enhancer {
    #[new]
    #[pyo3(signature = (capacity=None, workers=None))]
    fn new(capacity: Option<usize>, workers: Option<usize>) -> PyResult<Self> {
        let defaults = PipelineConfig::default();
        let config = PipelineConfig {
            capacity: capacity.unwrap_or(defaults.capacity),
            workers: workers.unwrap_or(defaults.workers),
        };
        EnhancePipeline::new(RuleEnhancer, config)
            .map(Enhancer)
            .map_err(to_py_err)
    }

    /// Enhances `text` for `context` (general, email, chat, document,
    /// code). `language`: the text's language code (None: English).
    /// Raises QueueFullError at once when the queue is full, and
    /// RequestTimeoutError when no answer came within `timeout` seconds
    /// (None, infinity or more seconds than the clock holds: no limit; NaN
    /// or negative: InvalidArgumentError).
    #[pyo3(signature = (text, context="general", *, language=None, timeout=None))]
    fn enhance(
        &self,
        py: Python<'_>,
        text: String,
        context: &str,
        language: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Enhanced> {
        let mut request = EnhanceRequest::new(parse_context(context)?);
        request.language = language;
        let job = Job::new(text, request);
        let timeout = timeout.map(timeout_limit).transpose()?.flatten();
        py.detach(|| match timeout {
            Some(timeout) => self
                .0
                .try_submit(job.within(timeout))?
                .wait_timeout(timeout),
            None => self.0.try_submit(job)?.wait(),
        })
        .map(Enhanced::from)
        .map_err(to_py_err)
    }

    /// Requests accepted and not yet started.
    #[getter]
    fn depth(&self) -> usize {
        self.0.depth()
    }

    /// Stops intake (later calls raise ClosedError), finishes the queued
    /// requests and stops the workers. Closing again does nothing.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.0.shutdown(Shutdown::Drain));
    }

    /// Returns the enhancer itself, for `with`.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the enhancer.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) {
        self.close(py);
    }
}

/// The destination named `name`.
/// The wait for `seconds`: `None` (no limit) for infinity and for more
/// seconds than a `Duration` holds (centuries); an error for NaN or a
/// negative number.
fn timeout_limit(seconds: f64) -> PyResult<Option<Duration>> {
    if seconds.is_nan() || seconds < 0.0 {
        return Err(to_py_err(Error::InvalidArgument(format!(
            "timeout must be a number of seconds >= 0, got {seconds}"
        ))));
    }
    Ok(Duration::try_from_secs_f64(seconds).ok())
}

/// A context's name (general, email, chat, document, code) as the core parses it.
fn parse_context(name: &str) -> PyResult<Context> {
    name.parse().map_err(to_py_err)
}
