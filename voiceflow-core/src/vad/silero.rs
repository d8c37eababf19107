//! Silero VAD (MIT) on ONNX Runtime.
//!
//! The graph takes `input` [1, 64 + 512] (the previous frame's last 64
//! samples, then 512 new ones at 16 kHz), `state` [2, 1, 128] and `sr`
//! (int64 scalar), and returns the speech probability [1, 1] and the next
//! state.

use std::path::Path;

use ort::session::Session;
use ort::value::Tensor;

use super::Vad;
use crate::model::runtime;
use crate::model::session::{inference, load_session};
use crate::{Error, Result};

/// New samples per frame at 16 kHz (32 ms).
const FRAME: usize = 512;
/// Samples of the previous frame fed again as context.
const CONTEXT: usize = 64;
/// Size of the recurrent state: 2 × 1 × 128.
const STATE: usize = 2 * 128;

/// The Silero VAD graph with one stream's state.
pub struct SileroVad {
    session: Session,
    state: Vec<f32>,
    context: [f32; CONTEXT],
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").finish_non_exhaustive()
    }
}

impl SileroVad {
    /// Loads `silero_vad.onnx` on the process's ONNX Runtime (found as for
    /// the engine; `runtime_library` as in
    /// [`crate::EngineConfig::runtime_library`]) with one thread: a frame
    /// takes well under a millisecond.
    pub fn load(path: &Path, runtime_library: Option<&Path>) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
                reason: "no Silero VAD graph there; run `scripts/setup.sh vad`".into(),
            });
        }
        let env = runtime::environment(runtime_library)?;
        let session = load_session(env, path, 1)?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if names != ["input", "state", "sr"] || session.outputs().len() != 2 {
            return Err(Error::ModelMalformed {
                path: path.to_path_buf(),
                reason: format!(
                    "expected inputs [input, state, sr] and two outputs (Silero VAD v5/v6), found inputs {names:?}"
                ),
            });
        }
        Ok(SileroVad {
            session,
            state: vec![0.0; STATE],
            context: [0.0; CONTEXT],
        })
    }
}

impl Vad for SileroVad {
    fn frame_len(&self) -> usize {
        FRAME
    }

    fn probability(&mut self, frame: &[f32]) -> Result<f32> {
        if frame.len() != FRAME {
            return Err(Error::InvalidArgument(format!(
                "a Silero VAD frame holds {FRAME} samples, got {}",
                frame.len()
            )));
        }
        let mut input = Vec::with_capacity(CONTEXT + FRAME);
        input.extend_from_slice(&self.context);
        input.extend_from_slice(frame);
        self.context.copy_from_slice(&frame[FRAME - CONTEXT..]);
        let input = Tensor::from_array(([1, CONTEXT + FRAME], input)).map_err(inference)?;
        let state = Tensor::from_array(([2, 1, 128], std::mem::take(&mut self.state)))
            .map_err(inference)?;
        let rate = Tensor::from_array(((), vec![16_000i64])).map_err(inference)?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => input, "state" => state, "sr" => rate])
            .map_err(inference)?;
        let (_, probability) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let (_, next) = outputs[1].try_extract_tensor::<f32>().map_err(inference)?;
        if probability.len() != 1 || next.len() != STATE {
            return Err(Error::Inference(format!(
                "Silero VAD returned {} probabilities and a state of {} values",
                probability.len(),
                next.len()
            )));
        }
        self.state = next.to_vec();
        Ok(probability[0])
    }

    fn reset(&mut self) {
        self.state = vec![0.0; STATE];
        self.context = [0.0; CONTEXT];
    }
}
