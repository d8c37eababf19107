//! ONNX Runtime sessions: building them (threads, execution provider) and
//! running the encoder.

use std::path::Path;

use ort::environment::Environment;
use ort::ep::{ExecutionProviderDispatch, CPU};
use ort::session::builder::SessionBuilder;
use ort::session::Session;
use ort::value::{DynValue, Tensor};

use crate::Device;
use crate::{Error, Result};

/// Turns an ONNX Runtime error into the crate's error, keeping it as the
/// source.
pub(crate) fn inference(e: ort::Error) -> Error {
    Error::inference_from("ONNX Runtime reported an error", e)
}

/// Turns the ONNX Runtime error of a session run into the crate's error,
/// saying what was run (`"running the encoder"`).
pub(crate) fn run_failed(what: &'static str) -> impl FnOnce(ort::Error) -> Error {
    move |e| Error::inference_from(what, e)
}

/// Turns the ONNX Runtime error of a session builder into the crate's error.
/// The error holds the builder, which cannot cross threads; the source is
/// a copy with the same code and message.
fn builder_failed(e: ort::Error<SessionBuilder>) -> Error {
    let copy = ort::Error::new_with_code(e.code(), e.message());
    Error::inference_from("ONNX Runtime cannot configure a session", copy)
}

/// Loads one graph with `threads` intra-op threads on `device`; returns the
/// session and the name of the execution provider it runs on (`"CPU"`,
/// `"CUDA"`), which is also logged. [`Device::Auto`] falls back to the CPU
/// (logging why when the build has CUDA); [`Device::Cuda`] fails with
/// [`Error::DeviceUnavailable`] instead.
pub(crate) fn load_session(
    env: &Environment,
    path: &Path,
    threads: usize,
    device: Device,
) -> Result<(Session, &'static str)> {
    let cuda = |device_id| cuda::load(env, path, threads, device_id);
    match device {
        Device::Cpu => {}
        Device::Auto => match cuda(0) {
            Ok(session) => return Ok((session, "CUDA")),
            Err(reason) if cuda::BUILT => {
                tracing::warn!(graph = %path.display(), %reason, "CUDA cannot run this graph; using the CPU");
            }
            Err(_) => {}
        },
        Device::Cuda { device_id } => {
            return cuda(device_id)
                .map(|session| (session, "CUDA"))
                .map_err(|reason| Error::DeviceUnavailable {
                    device: device.to_string(),
                    reason,
                })
        }
    }
    let started = std::time::Instant::now();
    let session = builder(env, threads)?
        .with_execution_providers([cpu()])
        .map_err(builder_failed)?
        .commit_from_file(path)
        .map_err(|e| Error::malformed_from(path, "ONNX Runtime cannot load the graph", e))?;
    tracing::debug!(
        graph = %path.display(),
        threads,
        provider = "CPU",
        load_ms = started.elapsed().as_millis() as u64,
        "session loaded"
    );
    Ok((session, "CPU"))
}

fn builder(env: &Environment, threads: usize) -> Result<SessionBuilder> {
    Session::builder(env)
        .map_err(inference)?
        .with_intra_threads(threads.max(1))
        .map_err(builder_failed)
}

/// The CPU execution provider without its memory arena: the arena keeps the
/// largest activations of every run (the encoder's attention) for the life
/// of the session; without it a 30-s transcription peaks about 100 MB lower
/// at the same speed.
fn cpu() -> ExecutionProviderDispatch {
    CPU::default().with_arena_allocator(false).build()
}

#[cfg(feature = "cuda")]
mod cuda {
    //! The CUDA execution provider (the crate's `cuda` feature).

    use super::*;
    use ort::ep::{ExecutionProvider, CUDA};

    /// Whether this build can run graphs on CUDA.
    pub(super) const BUILT: bool = true;

    /// The session on CUDA device `device_id` (the CPU runs the nodes CUDA
    /// lacks), or why it cannot be had: a library without the provider, no
    /// GPU or no such device, missing CUDA libraries.
    pub(super) fn load(
        env: &Environment,
        path: &Path,
        threads: usize,
        device_id: i32,
    ) -> std::result::Result<Session, String> {
        match CUDA::is_available() {
            Ok(true) => {}
            Ok(false) => {
                return Err("the ONNX Runtime library has no CUDA execution provider \
                            (the onnxruntime-gpu wheel's library has it)"
                    .into())
            }
            Err(e) => return Err(format!("cannot query the CUDA execution provider: {e}")),
        }
        let cuda = CUDA::default()
            .with_device_id(device_id)
            .build()
            .error_on_failure();
        let session = builder(env, threads)
            .map_err(|e| crate::error::chain(&e))?
            .with_execution_providers([cuda, cpu()])
            .map_err(|e| e.to_string())?
            .commit_from_file(path)
            .map_err(|e| e.to_string())?;
        tracing::info!(graph = %path.display(), threads, device_id, provider = "CUDA", "session loaded");
        Ok(session)
    }
}

#[cfg(not(feature = "cuda"))]
mod cuda {
    //! Without the `cuda` feature nothing runs on CUDA.

    use super::*;

    /// Whether this build can run graphs on CUDA.
    pub(super) const BUILT: bool = false;

    /// Why CUDA cannot be had: this build lacks it.
    pub(super) fn load(
        _env: &Environment,
        _path: &Path,
        _threads: usize,
        _device_id: i32,
    ) -> std::result::Result<Session, String> {
        Err("this build of VoiceFlow lacks the `cuda` feature".into())
    }
}

/// Looks up a graph input or output by name, or takes the only one.
fn single_name<'a>(names: &[&'a str], wanted: &str) -> Option<&'a str> {
    names
        .iter()
        .copied()
        .find(|n| *n == wanted)
        .or_else(|| (names.len() == 1).then(|| names[0]))
}

/// The encoder graph: `input_features` [batch, n_mels, frames] →
/// `last_hidden_state` [batch, frames / 2, d].
pub(crate) struct EncoderSession {
    session: Session,
    input: String,
    /// Position of `last_hidden_state` among the outputs.
    output: usize,
    n_mels: usize,
}

impl EncoderSession {
    /// Wraps a loaded encoder graph and checks its inputs and outputs.
    pub(crate) fn new(session: Session, path: &Path, n_mels: usize) -> Result<Self> {
        let malformed = |reason: String| Error::malformed(path, reason);
        let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
        let input = single_name(&inputs, "input_features")
            .ok_or_else(|| {
                malformed(format!(
                    "expected one input `input_features`, found {inputs:?}"
                ))
            })?
            .to_string();
        let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        let output = single_name(&outputs, "last_hidden_state")
            .and_then(|name| outputs.iter().position(|o| *o == name))
            .ok_or_else(|| {
                malformed(format!(
                    "expected an output `last_hidden_state`, found {outputs:?}"
                ))
            })?;
        let shape = session.inputs()[0]
            .dtype()
            .tensor_shape()
            .map(|s| s.to_vec());
        if let Some(shape) = shape {
            if shape.len() != 3 || (shape[1] > 0 && shape[1] as usize != n_mels) {
                return Err(malformed(format!(
                    "input {input} has shape {shape:?}; expected [batch, {n_mels}, frames]"
                )));
            }
        }
        Ok(EncoderSession {
            session,
            input,
            output,
            n_mels,
        })
    }

    /// Encodes `batch` windows of `n_mels × frames` log-mel values each,
    /// one after the other in `windows`.
    pub(crate) fn encode(
        &mut self,
        windows: Vec<f32>,
        batch: usize,
        frames: usize,
    ) -> Result<DynValue> {
        if windows.len() != batch * self.n_mels * frames || batch == 0 {
            return Err(Error::inference(format!(
                "mel batch has {} values; expected {batch} × {} × {frames}",
                windows.len(),
                self.n_mels,
            )));
        }
        let features =
            Tensor::from_array(([batch, self.n_mels, frames], windows)).map_err(inference)?;
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => features])
            .map_err(run_failed("running the encoder"))?;
        outputs
            .into_iter()
            .nth(self.output)
            .map(|(_, hidden)| hidden)
            .ok_or_else(|| Error::inference("the encoder returned no last_hidden_state"))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::error::chain;
    use crate::model::runtime;

    /// The ONNX Runtime error in `error`'s source chain, found by walking
    /// [`std::error::Error::source`].
    fn ort_source(error: &Error) -> &ort::Error {
        let mut cause = error.source();
        while let Some(e) = cause {
            if let Some(ort) = e.downcast_ref::<ort::Error>() {
                return ort;
            }
            cause = e.source();
        }
        panic!("no ort::Error in the source chain of {error:?}");
    }

    /// The message names what we did; the chain adds ONNX Runtime's text once.
    fn assert_chain(error: &Error, context: &str) {
        let ort = ort_source(error);
        assert!(!ort.message().is_empty());
        let own = error.to_string();
        assert!(own.contains(context), "{own}");
        assert!(
            !own.contains(ort.message()),
            "the message repeats the source: {own}"
        );
        let full = chain(error);
        assert!(full.starts_with(&own), "{full}");
        assert!(full.ends_with(&format!(": {}", ort.message())), "{full}");
        assert_eq!(full.matches(ort.message()).count(), 1, "{full}");
    }

    #[test]
    fn a_graph_onnx_runtime_cannot_load_keeps_its_error_as_the_source() {
        let env = runtime::environment(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("encoder_model.onnx");
        std::fs::write(&path, b"not an onnx graph").unwrap();
        let error = load_session(env, &path, 1, Device::Cpu)
            .map(|(s, _)| s)
            .unwrap_err();
        assert!(
            matches!(&error, Error::ModelMalformed { path: p, .. } if *p == path),
            "{error:?}"
        );
        assert_chain(&error, "ONNX Runtime cannot load the graph");
    }

    #[test]
    fn a_failed_encoder_run_keeps_its_error_as_the_source() {
        let dir = std::env::var_os("VOICEFLOW_MODEL_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/whisper-tiny.en-float32")
            });
        let path = dir.join("encoder_model.onnx");
        assert!(path.is_file(), "no tiny.en model at {}", dir.display());
        let env = runtime::environment(None).unwrap();
        let mut encoder = EncoderSession::new(
            load_session(env, &path, 1, Device::Cpu).unwrap().0,
            &path,
            80,
        )
        .unwrap();
        // No frames at all: ONNX Runtime's first Conv refuses the shape.
        let error = encoder.encode(Vec::new(), 1, 0).unwrap_err();
        assert!(matches!(&error, Error::Inference { .. }), "{error:?}");
        assert_chain(&error, "running the encoder");
    }
}
