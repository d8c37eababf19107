//! `Engine`: speech-to-text with one Whisper model.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyType};
use voiceflow_core::vad::VadOptions;
use voiceflow_core::{self as core, EngineConfig, Error, Task, TranscribeOptions};

use crate::audio::AudioInput;
use crate::errors::to_py_err;
use crate::stream::Stream;
use crate::transcript::{ModelInfo, Progress, Segment, Transcript};

/// Speech-to-text with one Whisper model: a converted model folder, or the
/// name of an installed model ("tiny.en": the folder whisper-tiny.en of
/// models_dir(); `python -m voiceflow.models install tiny.en` installs it).
///
/// Engine(model, *, threads=None, instances=1, runtime_library=None,
/// max_audio_duration_s=None, max_concurrent=50, max_queued=100, batching=True,
/// device="auto")
///
/// `threads`: ONNX Runtime threads per operator, 1 to 1024 (default: all
/// cores). `max_audio_duration_s`: longest audio accepted, a positive
/// number of seconds (default: four hours; infinity: no limit).
/// `instances`: encoder/decoder session pairs, 1 to 256, each batching the
/// work of every caller (a second pair runs beside the first).
/// `max_concurrent`: transcriptions running at once; `max_queued`: callers
/// that may wait beyond those (any more raise OverloadedError at once);
/// `batching`: run the work of different callers together. Numbers outside
/// these ranges raise InvalidArgumentError.
/// `device`: where the model runs: "auto" (CUDA when the library was built
/// with it and can use it, else the CPU), "cpu", "cuda" or "cuda:N" (that
/// GPU only: DeviceUnavailableError says why it cannot be used); an unknown
/// name raises InvalidArgumentError. `model_info` says where each graph runs.
/// `runtime_library`: path of libonnxruntime; `voiceflow.Engine` defaults it
/// to the one in the `onnxruntime` package unless ORT_DYLIB_PATH is set.
/// Thread-safe: share one engine between threads; the GIL is released
/// while it works.
#[pyclass(frozen, subclass, module = "voiceflow")]
pub struct Engine(Arc<core::Engine>);

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (model, *, threads=None, instances=1, runtime_library=None, max_audio_duration_s=None, max_concurrent=50, max_queued=100, batching=true, device="auto"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model: PathBuf,
        threads: Option<usize>,
        instances: usize,
        runtime_library: Option<PathBuf>,
        max_audio_duration_s: Option<f64>,
        max_concurrent: usize,
        max_queued: usize,
        batching: bool,
        device: &str,
    ) -> PyResult<Self> {
        let mut config = EngineConfig::new(model);
        config.device = device.parse().map_err(to_py_err)?;
        if let Some(threads) = threads {
            config.intra_op_threads = threads;
        }
        config.instances = instances;
        config.runtime_library = runtime_library;
        config.scheduler.max_concurrent = max_concurrent;
        config.scheduler.max_queued = max_queued;
        config.scheduler.batching = batching;
        if let Some(seconds) = max_audio_duration_s {
            config.max_audio_duration_s = seconds;
        }
        py.detach(|| core::Engine::new(config))
            .map(|engine| Engine(Arc::new(engine)))
            .map_err(to_py_err)
    }

    /// Transcribes `audio` and returns a Transcript.
    ///
    /// `audio`: a numpy array (float32; float64 is converted, int16 scaled
    /// by 1/32768; 1-D mono or 2-D (frames, channels); float samples have
    /// their full scale at 1.0 and a peak beyond 8 is InvalidAudioError)
    /// at `sample_rate` (1 to 384000 Hz), or
    /// the bytes of an audio file (WAV, FLAC, MP3, Ogg Vorbis, M4A/AAC), or a
    /// path to one (their own rate is used).
    /// `on_segment(segment, progress)` is
    /// called with each segment as it is decoded; returning False stops
    /// (the transcript then holds the segments so far); an exception it
    /// raises stops the transcription and is raised here.
    ///
    /// The options are those of `voiceflow_core::TranscribeOptions`, by the
    /// same names; a value out of range raises InvalidArgumentError naming
    /// it. `language`: a code such as "en"; None or "auto" detects it (on
    /// the first speech). `task`: "transcribe" or "translate". `beam_size`:
    /// 1 (greedy) to 128; `patience`: beam search stops when
    /// round(beam_size * patience) beams finished. `best_of`: samples drawn
    /// at each temperature above 0, 1 to 128. `temperatures`: tried in order
    /// until a decoding passes the thresholds (None: 0, 0.2, ..., 1.0).
    /// `compression_ratio_threshold`, `logprob_threshold`: fall back to the
    /// next temperature when the text's compression ratio is above, or its
    /// average log-probability below, these; `no_speech_threshold`: a window
    /// counts as silence above this no-speech probability;
    /// `unreliable_no_speech_threshold`: a window that failed every
    /// temperature is dropped above this no-speech probability (None for
    /// any threshold: no such check). `condition_on_previous_text`: prompt
    /// each window with the previous one's text; `initial_prompt`: text that
    /// primes the first window. `timestamps`: timed segments;
    /// `word_timestamps`: word-level timestamps from cross-attention
    /// alignment. `seed`: for sampling above temperature 0. `timeout`: the
    /// longest the call may take in seconds, waiting for a turn included
    /// (RequestTimeoutError after it); None waits as long as it takes.
    /// `vad_filter`: transcribe only the speech Silero voice activity
    /// detection finds, tuned by the `vad_*` arguments (faster-whisper's
    /// defaults; `vad_model`: the silero_vad.onnx path, default silero-vad/
    /// beside the model folder; `vad_neg_threshold` None: vad_threshold -
    /// 0.15; `vad_max_speech_duration_s` None: no limit). `short_windows`:
    /// encode a window with less than 30 s of audio at its own length
    /// (rounded up to 5 s) instead of padding it: faster; the text may
    /// differ from Whisper's.
    #[pyo3(signature = (audio, sample_rate=16000, *, language=None, task="transcribe", beam_size=1, best_of=5, patience=1.0, temperatures=None, compression_ratio_threshold=Some(2.4), logprob_threshold=Some(-1.0), no_speech_threshold=Some(0.6), unreliable_no_speech_threshold=Some(0.5), condition_on_previous_text=true, initial_prompt=None, timestamps=true, word_timestamps=false, seed=0, timeout=None, vad_filter=false, vad_model=None, vad_threshold=0.5, vad_neg_threshold=None, vad_min_speech_duration_ms=0, vad_min_silence_duration_ms=2000, vad_speech_pad_ms=400, vad_max_speech_duration_s=None, vad_min_silence_at_max_speech_ms=98, short_windows=false, on_segment=None))]
    // pyo3 shows `Some(..)` defaults as `...`; spell the signature out.
    #[pyo3(
        text_signature = "(self, /, audio, sample_rate=16000, *, language=None, task='transcribe', beam_size=1, best_of=5, patience=1.0, temperatures=None, compression_ratio_threshold=2.4, logprob_threshold=-1.0, no_speech_threshold=0.6, unreliable_no_speech_threshold=0.5, condition_on_previous_text=True, initial_prompt=None, timestamps=True, word_timestamps=False, seed=0, timeout=None, vad_filter=False, vad_model=None, vad_threshold=0.5, vad_neg_threshold=None, vad_min_speech_duration_ms=0, vad_min_silence_duration_ms=2000, vad_speech_pad_ms=400, vad_max_speech_duration_s=None, vad_min_silence_at_max_speech_ms=98, short_windows=False, on_segment=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn transcribe(
        &self,
        py: Python<'_>,
        audio: &Bound<'_, PyAny>,
        sample_rate: u32,
        language: Option<String>,
        task: &str,
        beam_size: usize,
        best_of: usize,
        patience: f32,
        temperatures: Option<Vec<f32>>,
        compression_ratio_threshold: Option<f32>,
        logprob_threshold: Option<f32>,
        no_speech_threshold: Option<f32>,
        unreliable_no_speech_threshold: Option<f32>,
        condition_on_previous_text: bool,
        initial_prompt: Option<String>,
        timestamps: bool,
        word_timestamps: bool,
        seed: u64,
        timeout: Option<f64>,
        vad_filter: bool,
        vad_model: Option<PathBuf>,
        vad_threshold: f32,
        vad_neg_threshold: Option<f32>,
        vad_min_speech_duration_ms: u32,
        vad_min_silence_duration_ms: u32,
        vad_speech_pad_ms: u32,
        vad_max_speech_duration_s: Option<f32>,
        vad_min_silence_at_max_speech_ms: u32,
        short_windows: bool,
        on_segment: Option<Py<PyAny>>,
    ) -> PyResult<Transcript> {
        let timeout = timeout
            .map(|seconds| {
                std::time::Duration::try_from_secs_f64(seconds).map_err(|_| {
                    to_py_err(Error::invalid_option(
                        "timeout",
                        seconds,
                        "a finite number of seconds >= 0",
                    ))
                })
            })
            .transpose()?;
        let defaults = TranscribeOptions::default();
        let options = TranscribeOptions {
            language,
            task: parse_task(task)?,
            beam_size,
            best_of,
            patience,
            temperatures: temperatures.unwrap_or(defaults.temperatures),
            compression_ratio_threshold,
            logprob_threshold,
            no_speech_threshold,
            unreliable_no_speech_threshold,
            condition_on_previous_text,
            initial_prompt,
            timestamps,
            word_timestamps,
            seed,
            timeout,
            vad_filter: vad_filter.then(|| VadOptions {
                model: vad_model,
                threshold: vad_threshold,
                neg_threshold: vad_neg_threshold,
                min_speech_duration_ms: vad_min_speech_duration_ms,
                min_silence_duration_ms: vad_min_silence_duration_ms,
                speech_pad_ms: vad_speech_pad_ms,
                max_speech_duration_s: vad_max_speech_duration_s.unwrap_or(f32::INFINITY),
                min_silence_at_max_speech_ms: vad_min_silence_at_max_speech_ms,
            }),
            short_windows,
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

    /// Starts a live transcription and returns a Stream.
    ///
    /// Audio pushed to it is at `sample_rate` (any rate) with `channels`
    /// channels when pushed as bytes. `language`: a code such as "en"; None
    /// detects it. `on_partial(partial)` gets the open utterance's current
    /// text every `partial_interval` seconds (None: no partials);
    /// `on_final(segment)` each committed segment, with times from the start
    /// of the stream, which never changes. Both run on the session's thread;
    /// returning False stops the session, and an exception stops it and is
    /// raised by `finish()`. `vad`: Silero voice activity detection finds
    /// utterances (an utterance ends after `min_silence_ms` of silence);
    /// False cuts the audio into utterances of 20 s. `vad_model`: the
    /// silero_vad.onnx path (default: silero-vad/ beside the model folder).
    #[pyo3(signature = (sample_rate=16000, language=None, on_partial=None, on_final=None, vad=true, *, channels=1, partial_interval=Some(0.5), min_silence_ms=500, vad_model=None))]
    // pyo3 shows the `Some(0.5)` default as `...`; spell the signature out.
    #[pyo3(
        text_signature = "(self, /, sample_rate=16000, language=None, on_partial=None, on_final=None, vad=True, *, channels=1, partial_interval=0.5, min_silence_ms=500, vad_model=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &self,
        py: Python<'_>,
        sample_rate: u32,
        language: Option<String>,
        on_partial: Option<Py<PyAny>>,
        on_final: Option<Py<PyAny>>,
        vad: bool,
        channels: u16,
        partial_interval: Option<f64>,
        min_silence_ms: u32,
        vad_model: Option<PathBuf>,
    ) -> PyResult<Stream> {
        let options = Stream::options(language, vad, partial_interval, min_silence_ms, vad_model)?;
        Stream::start(
            py,
            &self.0,
            sample_rate,
            channels,
            options,
            on_partial,
            on_final,
        )
    }

    /// What model this engine runs.
    #[getter]
    fn model_info(&self) -> ModelInfo {
        self.0.model_info().into()
    }

    /// A snapshot of the engine's metrics as a dict: {"counters": [{"name",
    /// "labels": {..}, "value"}], "gauges": [{.., "value", "peak"}],
    /// "histograms": [{.., "count", "sum", "mean", "p50", "p95", "p99",
    /// "max"}]}, latencies in seconds.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = serde_json::to_string(&self.0.metrics().snapshot())
            .map_err(|e| to_py_err(Error::InvalidArgument(e.to_string())))?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// The engine's metrics in the Prometheus text format (OpenMetrics 1.0).
    fn metrics_prometheus(&self) -> String {
        self.0.metrics().to_prometheus()
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Stops the engine: running, waiting and later calls raise
    /// ClosedError.
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
        other => Err(to_py_err(Error::invalid_option(
            "task",
            other,
            "\"transcribe\" or \"translate\"",
        ))),
    }
}

/// The folder where a model name given to Engine is looked for (and where
/// `python -m voiceflow.models install` puts models): $VOICEFLOW_MODELS,
/// else $XDG_DATA_HOME/voiceflow/models, else ~/.local/share/voiceflow/models;
/// None when neither these nor HOME are set.
#[pyfunction]
pub fn models_dir() -> Option<PathBuf> {
    core::model::registry::models_dir()
}
