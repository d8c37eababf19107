//! Silero VAD (MIT) on ONNX Runtime.
//!
//! The graph takes `input` [1, 64 + 512] (the previous frame's last 64
//! samples, then 512 new ones at 16 kHz), `state` [2, 1, 128] and `sr`
//! (int64 scalar), and returns the speech probability [1, 1] and the next
//! state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use ort::session::Session;
use ort::value::Tensor;

use super::Vad;
use crate::model::runtime;
use crate::model::session::{inference, load_session};
use crate::{Device, Error, Result};

/// New samples per frame at 16 kHz (32 ms).
const FRAME: usize = 512;
/// Samples of the previous frame fed again as context.
const CONTEXT: usize = 64;
/// Size of the recurrent state: 2 × 1 × 128.
const STATE: usize = 2 * 128;

/// Silero VAD sessions shared by many streams. The graph's recurrent state
/// travels with each stream ([`SileroVad`]), so any session can run any
/// stream's frame: a thousand streams need as many sessions as run frames
/// at once (at most `max`), not a thousand (about 13 MB each).
pub struct SileroPool {
    path: PathBuf,
    runtime_library: Option<PathBuf>,
    max: usize,
    sessions: Mutex<Sessions>,
    returned: Condvar,
}

struct Sessions {
    idle: Vec<Session>,
    created: usize,
}

impl std::fmt::Debug for SileroPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroPool")
            .field("path", &self.path)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl SileroPool {
    /// Loads `silero_vad.onnx` once (checking it is Silero v5/v6) on the
    /// process's ONNX Runtime (found as for the engine; `runtime_library`
    /// as in [`crate::EngineConfig::runtime_library`]); up to `max`
    /// sessions (one thread each) are made as frames run at once.
    pub fn load(path: &Path, runtime_library: Option<&Path>, max: usize) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
                reason: "no Silero VAD graph there; run `scripts/setup.sh vad`".into(),
            });
        }
        let pool = SileroPool {
            path: path.to_path_buf(),
            runtime_library: runtime_library.map(Path::to_path_buf),
            max: max.max(1),
            sessions: Mutex::new(Sessions {
                idle: Vec::new(),
                created: 1,
            }),
            returned: Condvar::new(),
        };
        let first = pool.new_session()?;
        pool.lock().idle.push(first);
        Ok(pool)
    }

    fn new_session(&self) -> Result<Session> {
        let env = runtime::environment(self.runtime_library.as_deref())?;
        // A graph this small runs faster on the CPU than it is copied to a GPU.
        let (session, _) = load_session(env, &self.path, 1, Device::Cpu)?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if names != ["input", "state", "sr"] || session.outputs().len() != 2 {
            return Err(Error::malformed(
                &self.path,
                format!(
                    "expected inputs [input, state, sr] and two outputs (Silero VAD v5/v6), found inputs {names:?}"
                ),
            ));
        }
        Ok(session)
    }

    fn lock(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The graph's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A session for one frame: an idle one, a new one while fewer than
    /// `max` exist, else the next one returned.
    fn lease(&self) -> Result<Lease<'_>> {
        let mut sessions = self.lock();
        loop {
            if let Some(session) = sessions.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    session: Some(session),
                });
            }
            if sessions.created < self.max {
                sessions.created += 1;
                drop(sessions);
                return match self.new_session() {
                    Ok(session) => Ok(Lease {
                        pool: self,
                        session: Some(session),
                    }),
                    Err(e) => {
                        self.lock().created -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            sessions = self
                .returned
                .wait(sessions)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A session out of the pool, given back when dropped (panics included).
struct Lease<'a> {
    pool: &'a SileroPool,
    session: Option<Session>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool.lock().idle.push(session);
            self.pool.returned.notify_one();
        }
    }
}

/// One stream's Silero VAD: its recurrent state, run on a shared pool's
/// sessions.
pub struct SileroVad {
    pool: Arc<SileroPool>,
    state: Vec<f32>,
    context: [f32; CONTEXT],
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").finish_non_exhaustive()
    }
}

impl SileroVad {
    /// Loads `silero_vad.onnx` for this stream alone (a pool of one
    /// session; see [`SileroPool::load`] for the arguments and errors).
    pub fn load(path: &Path, runtime_library: Option<&Path>) -> Result<Self> {
        Ok(SileroVad::new(Arc::new(SileroPool::load(
            path,
            runtime_library,
            1,
        )?)))
    }

    /// A new stream's VAD (fresh state) on `pool`'s sessions.
    pub fn new(pool: Arc<SileroPool>) -> Self {
        SileroVad {
            pool,
            state: vec![0.0; STATE],
            context: [0.0; CONTEXT],
        }
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
        let mut lease = self.pool.lease()?;
        let session = lease.session.as_mut().expect("a lease holds its session");
        let outputs = session
            .run(ort::inputs!["input" => input, "state" => state, "sr" => rate])
            .map_err(inference)?;
        let (_, probability) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let (_, next) = outputs[1].try_extract_tensor::<f32>().map_err(inference)?;
        if probability.len() != 1 || next.len() != STATE {
            return Err(Error::inference(format!(
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
