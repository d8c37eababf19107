//! ONNX Runtime sessions: building them (threads, execution provider) and
//! running the encoder.

use std::path::Path;

use ort::environment::Environment;
use ort::ep::{ExecutionProviderDispatch, CPU};
use ort::session::builder::SessionBuilder;
use ort::session::Session;
use ort::value::{DynValue, Tensor};

use crate::{Error, Result};

/// Turns an ONNX Runtime error into the crate's error.
pub(crate) fn inference(e: impl std::fmt::Display) -> Error {
    Error::Inference(e.to_string())
}

/// Loads one graph with `threads` intra-op threads on the CPU (or CUDA when
/// built with the `cuda` feature and a GPU takes the graph).
pub(crate) fn load_session(env: &Environment, path: &Path, threads: usize) -> Result<Session> {
    #[cfg(feature = "cuda")]
    if let Some(session) = cuda::load(env, path, threads) {
        return Ok(session);
    }
    builder(env, threads)?
        .with_execution_providers([cpu()])
        .map_err(inference)?
        .commit_from_file(path)
        .map_err(|e| Error::ModelMalformed {
            path: path.to_path_buf(),
            reason: format!("ONNX Runtime cannot load the graph: {e}"),
        })
}

fn builder(env: &Environment, threads: usize) -> Result<SessionBuilder> {
    Session::builder(env)
        .map_err(inference)?
        .with_intra_threads(threads.max(1))
        .map_err(inference)
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
    //! The CUDA execution provider, tried first when the crate is built with
    //! the `cuda` feature. Whatever stops it (a library without CUDA, no GPU,
    //! a graph CUDA cannot take) is logged once and the CPU is used instead.

    use super::*;
    use ort::ep::{ExecutionProvider, CUDA};

    fn log(message: String) {
        static LOGGED: std::sync::Once = std::sync::Once::new();
        LOGGED.call_once(|| eprintln!("voiceflow: {message}"));
    }

    /// The session on CUDA (CPU for the nodes CUDA lacks), or `None` after
    /// logging why not.
    pub(super) fn load(env: &Environment, path: &Path, threads: usize) -> Option<Session> {
        match CUDA::is_available() {
            Ok(true) => {}
            Ok(false) => {
                log(
                    "this ONNX Runtime library has no CUDA execution provider; using the CPU"
                        .into(),
                );
                return None;
            }
            Err(e) => {
                log(format!(
                    "cannot query the CUDA execution provider ({e}); using the CPU"
                ));
                return None;
            }
        }
        let cuda = CUDA::default().build().error_on_failure();
        let session = builder(env, threads)
            .ok()?
            .with_execution_providers([cuda, cpu()])
            .map_err(|e| e.to_string())
            .and_then(|mut b| b.commit_from_file(path).map_err(|e| e.to_string()));
        match session {
            Ok(session) => {
                log("using the CUDA execution provider".into());
                Some(session)
            }
            Err(e) => {
                log(format!(
                    "the CUDA execution provider failed ({e}); using the CPU"
                ));
                None
            }
        }
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
        let malformed = |reason: String| Error::ModelMalformed {
            path: path.to_path_buf(),
            reason,
        };
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
            return Err(Error::Inference(format!(
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
            .map_err(inference)?;
        outputs
            .into_iter()
            .nth(self.output)
            .map(|(_, hidden)| hidden)
            .ok_or_else(|| Error::Inference("the encoder returned no last_hidden_state".into()))
    }
}
