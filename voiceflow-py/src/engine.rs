//! `Engine`: speech-to-text with one Whisper model.

use std::ops::ControlFlow;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyType};
use voiceflow_core::{self as core, EngineConfig, Error, Task, TranscribeOptions};

use crate::audio::AudioInput;
use crate::errors::to_py_err;
use crate::transcript::{ModelInfo, Progress, Segment, Transcript};

/// Speech-to-text with one Whisper model (a converted model folder).
///
/// Engine(model_dir, *, threads=None, instances=1, runtime_library=None,
/// max_audio_duration_s=None)
///
/// `threads`: ONNX Runtime threads per operator, 1 to 1024 (default: all
/// cores). `max_audio_duration_s`: longest audio accepted, a positive
/// number of seconds (default: four hours; infinity: no limit).
/// `instances`: model instances, 1 to 256; each serves one transcription
/// at a time. Numbers outside these ranges raise InvalidArgumentError.
/// `runtime_library`: path of libonnxruntime; `voiceflow.Engine` defaults it
/// to the one in the `onnxruntime` package unless ORT_DYLIB_PATH is set.
/// Thread-safe: share one engine between threads; the GIL is released
/// while it works.
#[pyclass(frozen, subclass, module = "voiceflow")]
pub struct Engine(core::Engine);

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (model_dir, *, threads=None, instances=1, runtime_library=None, max_audio_duration_s=None))]
    fn new(
        py: Python<'_>,
        model_dir: PathBuf,
        threads: Option<usize>,
        instances: usize,
        runtime_library: Option<PathBuf>,
        max_audio_duration_s: Option<f64>,
    ) -> PyResult<Self> {
        let mut config = EngineConfig::new(model_dir);
        if let Some(threads) = threads {
            config.intra_op_threads = threads;
        }
        config.instances = instances;
        config.runtime_library = runtime_library;
        if let Some(seconds) = max_audio_duration_s {
            config.max_audio_duration_s = seconds;
        }
        py.detach(|| core::Engine::new(config))
            .map(Engine)
            .map_err(to_py_err)
    }

    /// Transcribes `audio` and returns a Transcript.
    ///
    /// `audio`: a numpy array (float32; float64 is converted, int16 scaled
    /// by 1/32768; 1-D mono or 2-D (frames, channels); float samples have
    /// their full scale at 1.0 and a peak beyond 8 is InvalidAudioError)
    /// at `sample_rate` (1 to 384000 Hz), or
    /// the bytes of a WAV file, or a path to one (their own rate is used).
    /// `language`: a code such as "en"; None detects it. `task`:
    /// "transcribe" or "translate". `beam_size`: 1 (greedy) to 128.
    /// `on_segment(segment, progress)` is
    /// called with each segment as it is decoded; returning False stops
    /// (the transcript then holds the segments so far); an exception it
    /// raises stops the transcription and is raised here.
    #[pyo3(signature = (audio, sample_rate=16000, *, language=None, task="transcribe", beam_size=1, initial_prompt=None, timestamps=true, on_segment=None))]
    #[allow(clippy::too_many_arguments)]
    fn transcribe(
        &self,
        py: Python<'_>,
        audio: &Bound<'_, PyAny>,
        sample_rate: u32,
        language: Option<String>,
        task: &str,
        beam_size: usize,
        initial_prompt: Option<String>,
        timestamps: bool,
        on_segment: Option<Py<PyAny>>,
    ) -> PyResult<Transcript> {
        let options = TranscribeOptions {
            language,
            task: parse_task(task)?,
            beam_size,
            initial_prompt,
            timestamps,
            ..TranscribeOptions::default()
        };
        let input = AudioInput::extract(audio, sample_rate)?;
        let mut raised: Option<PyErr> = None;
        let result = py.detach(|| {
            let mut deliver = |segment: &core::Segment, progress: core::Progress| {
                let Some(callback) = &on_segment else {
                    return ControlFlow::Continue(());
                };
                Python::attach(|py| {
                    let args = (Segment::from(segment), Progress(progress));
                    match callback.call1(py, args) {
                        Ok(answer) if answer.is(PyBool::new(py, false)) => ControlFlow::Break(()),
                        Ok(_) => ControlFlow::Continue(()),
                        Err(error) => {
                            raised = Some(error);
                            ControlFlow::Break(())
                        }
                    }
                })
            };
            self.0
                .transcribe_with(input.as_audio(), &options, &mut deliver)
        });
        if let Some(error) = raised {
            return Err(error);
        }
        result.map(Transcript).map_err(to_py_err)
    }

    /// What model this engine runs.
    #[getter]
    fn model_info(&self) -> ModelInfo {
        self.0.model_info().into()
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Stops the engine: later calls raise ClosedError; running
    /// transcriptions finish first.
    fn close(&self) {
        self.0.close();
    }

    /// Returns the engine itself, for `with`.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the engine.
    fn __exit__(
        &self,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) {
        self.close();
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(model={:?}, closed={})",
            self.0.model_info().name,
            self.0.is_closed()
        )
    }
}

/// The task named `name` ("transcribe" or "translate").
fn parse_task(name: &str) -> PyResult<Task> {
    match name {
        "transcribe" => Ok(Task::Transcribe),
        "translate" => Ok(Task::Translate),
        other => Err(to_py_err(Error::InvalidArgument(format!(
            "task must be \"transcribe\" or \"translate\", got {other:?}"
        )))),
    }
}
