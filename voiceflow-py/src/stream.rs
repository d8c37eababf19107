//! `Stream`: live transcription with partial and final text.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use numpy::PyUntypedArray;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyType};
use voiceflow_core::stream::{
    self as core_stream, StreamObserver, StreamOptions, StreamingSession,
};
use voiceflow_core::{self as core, Error};

use crate::audio::samples_of;
use crate::errors::to_py_err;
use crate::transcript::{Segment, Transcript};

/// The open utterance's current, unstable text (a later partial or the
/// final may differ).
#[pyclass(frozen, get_all, module = "voiceflow")]
#[derive(Clone)]
pub struct Partial {
    /// The text so far.
    text: String,
    /// Start of the utterance, in seconds from the start of the stream.
    start: f32,
    /// End of the audio it covers, in seconds.
    end: f32,
}

#[pymethods]
impl Partial {
    fn __repr__(&self) -> String {
        format!(
            "Partial(start={:.2}, end={:.2}, text={:?})",
            self.start, self.end, self.text
        )
    }
}

/// The Python callbacks; an exception one raises stops the session and is
/// raised by `finish()`.
struct Callbacks {
    on_partial: Option<Py<PyAny>>,
    on_final: Option<Py<PyAny>>,
    raised: Arc<Mutex<Option<PyErr>>>,
}

impl Callbacks {
    fn call(
        &self,
        callback: &Option<Py<PyAny>>,
        make: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>,
    ) -> ControlFlow<()> {
        let Some(callback) = callback else {
            return ControlFlow::Continue(());
        };
        Python::attach(|py| {
            let answer = make(py).and_then(|argument| callback.call1(py, (argument,)));
            match answer {
                Ok(answer) if answer.is(PyBool::new(py, false)) => ControlFlow::Break(()),
                Ok(_) => ControlFlow::Continue(()),
                Err(error) => {
                    *lock(&self.raised) = Some(error);
                    ControlFlow::Break(())
                }
            }
        })
    }
}

impl StreamObserver for Callbacks {
    fn on_partial(&mut self, partial: &core_stream::Partial) -> ControlFlow<()> {
        let partial = Partial {
            text: partial.text.clone(),
            start: partial.start,
            end: partial.end,
        };
        self.call(&self.on_partial, |py| Ok(Py::new(py, partial)?.into_any()))
    }

    fn on_final(&mut self, segment: &core::Segment) -> ControlFlow<()> {
        let segment = Segment::from(segment);
        self.call(&self.on_final, |py| Ok(Py::new(py, segment)?.into_any()))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A live transcription started by `Engine.stream()`.
///
/// `push(audio)` hands the next chunk over and returns at once; the
/// callbacks run on the session's own thread (taking the GIL);
/// `finish()` waits (GIL released) and returns the Transcript of the whole
/// stream, whose segments are the finals. As a context manager, leaving
/// the block without `finish()` drops what is still queued.
#[pyclass(frozen, module = "voiceflow")]
pub struct Stream {
    session: Mutex<Option<StreamingSession>>,
    raised: Arc<Mutex<Option<PyErr>>>,
    sample_rate: u32,
    channels: u16,
}

impl Stream {
    /// Starts a session on `engine`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        py: Python<'_>,
        engine: &Arc<core::Engine>,
        sample_rate: u32,
        channels: u16,
        options: StreamOptions,
        on_partial: Option<Py<PyAny>>,
        on_final: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let raised = Arc::new(Mutex::new(None));
        let callbacks = Callbacks {
            on_partial,
            on_final,
            raised: Arc::clone(&raised),
        };
        let session = py
            .detach(|| engine.stream(options, callbacks))
            .map_err(to_py_err)?;
        Ok(Stream {
            session: Mutex::new(Some(session)),
            raised,
            sample_rate,
            channels,
        })
    }

    /// The options for `Engine.stream`'s arguments.
    pub(crate) fn options(
        language: Option<String>,
        vad: bool,
        partial_interval: Option<f64>,
        min_silence_ms: u32,
        vad_model: Option<std::path::PathBuf>,
    ) -> PyResult<StreamOptions> {
        let mut options = StreamOptions::default();
        options.transcribe.language = language;
        options.detect_speech = vad;
        options.vad.min_silence_duration_ms = min_silence_ms;
        options.vad.model = vad_model;
        options.partial_interval = match partial_interval {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
            Some(s) => {
                return Err(to_py_err(Error::InvalidArgument(format!(
                    "partial_interval must be a positive number of seconds or None, got {s}"
                ))))
            }
        };
        Ok(options)
    }
}

#[pymethods]
impl Stream {
    /// Hands the next chunk to the session and returns at once.
    ///
    /// `audio`: a numpy array (float32, float64, or int16 scaled by 1/32768;
    /// 1-D, or 2-D (frames, channels)) or bytes of signed 16-bit
    /// little-endian PCM with the stream's `channels`, at the stream's
    /// `sample_rate`. Raises QueueFullError when more than a minute of
    /// audio waits (push it again later), ClosedError after the session
    /// stopped.
    fn push(&self, py: Python<'_>, audio: &Bound<'_, PyAny>) -> PyResult<()> {
        let (samples, channels) = if let Ok(bytes) = audio.cast::<PyBytes>() {
            let bytes = bytes.as_bytes();
            if bytes.len() % 2 != 0 {
                return Err(to_py_err(Error::InvalidAudio(format!(
                    "{} bytes are not whole 16-bit samples",
                    bytes.len()
                ))));
            }
            let samples = bytes
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                .collect();
            (samples, self.channels)
        } else if let Ok(array) = audio.cast::<PyUntypedArray>() {
            samples_of(array)?
        } else {
            return Err(PyTypeError::new_err(format!(
                "audio must be a numpy array or bytes of s16le PCM, not {}",
                audio.get_type().name()?
            )));
        };
        let rate = self.sample_rate;
        py.detach(|| match lock(&self.session).as_ref() {
            Some(session) => session.push(&samples, rate, channels),
            None => Err(Error::Closed("stream")),
        })
        .map_err(to_py_err)
    }

    /// Ends the stream: waits (GIL released) until everything pushed is
    /// transcribed, commits speech still open, and returns the Transcript of
    /// the whole stream. Raises the exception a callback raised, or the
    /// session's error.
    fn finish(&self, py: Python<'_>) -> PyResult<Transcript> {
        let session = lock(&self.session).take();
        let result = py.detach(|| match session {
            Some(session) => session.finish(),
            None => Err(Error::Closed("stream")),
        });
        if let Some(error) = lock(&self.raised).take() {
            return Err(error);
        }
        result.map(Transcript).map_err(to_py_err)
    }

    /// Stops the session without waiting for the audio still queued.
    fn close(&self, py: Python<'_>) {
        let session = lock(&self.session).take();
        py.detach(|| drop(session));
    }

    /// Seconds of pushed audio the session has not taken in yet.
    #[getter]
    fn backlog_s(&self) -> f64 {
        lock(&self.session).as_ref().map_or(0.0, |s| s.backlog_s())
    }

    /// Returns the stream itself, for `with`.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the stream (see `close`).
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

impl Drop for Stream {
    /// The session's thread may be waiting for the GIL in a callback:
    /// release it while the session ends.
    fn drop(&mut self) {
        if let Some(session) = lock(&self.session).take() {
            Python::attach(|py| py.detach(|| drop(session)));
        }
    }
}
