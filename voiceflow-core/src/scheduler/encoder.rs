//! The encoder worker: takes the windows callers submit, runs those of the
//! same length together (up to `max_batch` per run) and hands each caller
//! its own rows of the output.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, Sender};
use ort::value::{DynValue, Tensor};

use crate::model::session::{inference, EncoderSession};
use crate::{Error, Result};

/// One window to encode.
pub(crate) struct EncodeJob {
    /// `n_mels × frames` log-mel values.
    pub mel: Vec<f32>,
    /// Mel frames in the window.
    pub frames: usize,
    /// After this the caller no longer waits; the job is answered with a
    /// timeout unrun.
    pub deadline: Option<Instant>,
    /// Where the window's encoder output `[1, frames / 2, d]` goes.
    pub reply: Sender<Result<DynValue>>,
}

/// What the encoder worker is sent.
pub(crate) enum EncoderMsg {
    /// Encode a window.
    Job(EncodeJob),
    /// Answer what is queued with [`Error::Closed`] and stop.
    Shutdown,
}

/// Runs the encoder worker until [`EncoderMsg::Shutdown`] or until every
/// sender is gone.
pub(crate) fn run(
    mut session: EncoderSession,
    inbox: Receiver<EncoderMsg>,
    max_batch: usize,
    observe: &dyn Fn(usize, Duration),
) {
    let mut held: VecDeque<EncodeJob> = VecDeque::new();
    loop {
        let first = match held.pop_front() {
            Some(job) => job,
            None => match inbox.recv() {
                Ok(EncoderMsg::Job(job)) => job,
                Ok(EncoderMsg::Shutdown) | Err(_) => break,
            },
        };
        let mut batch = vec![first];
        let mut shutdown = false;
        // Windows of the same length that are waiting join this run; others wait for the next.
        let mut others = VecDeque::new();
        while let Some(job) = held.pop_front() {
            if batch.len() < max_batch && job.frames == batch[0].frames {
                batch.push(job);
            } else {
                others.push_back(job);
            }
        }
        while batch.len() < max_batch {
            match inbox.try_recv() {
                Ok(EncoderMsg::Job(job)) if job.frames == batch[0].frames => batch.push(job),
                Ok(EncoderMsg::Job(job)) => others.push_back(job),
                Ok(EncoderMsg::Shutdown) => {
                    shutdown = true;
                    break;
                }
                Err(_) => break,
            }
        }
        held = others;
        let now = Instant::now();
        let (batch, expired): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|job| job.deadline.is_none_or(|d| d > now));
        for job in expired {
            let _ = job.reply.send(Err(Error::Timeout(Duration::ZERO)));
        }
        let mut batch = batch;
        if !batch.is_empty() {
            let started = Instant::now();
            let outcome = encode(&mut session, &mut batch);
            observe(batch.len(), started.elapsed());
            match outcome {
                Ok(rows) => {
                    for (job, row) in batch.into_iter().zip(rows) {
                        let _ = job.reply.send(Ok(row));
                    }
                }
                Err(e) => {
                    let reason = e.to_string();
                    for job in batch {
                        let _ = job.reply.send(Err(Error::Inference(reason.clone())));
                    }
                }
            }
        }
        if shutdown {
            break;
        }
    }
    for job in held {
        let _ = job.reply.send(Err(Error::Closed("engine")));
    }
    while let Ok(msg) = inbox.try_recv() {
        if let EncoderMsg::Job(job) = msg {
            let _ = job.reply.send(Err(Error::Closed("engine")));
        }
    }
}

/// Encodes the jobs' windows in one run; returns one `[1, T, d]` output per job.
fn encode(session: &mut EncoderSession, batch: &mut [EncodeJob]) -> Result<Vec<DynValue>> {
    let frames = batch[0].frames;
    if let [job] = batch {
        return Ok(vec![session.encode(
            std::mem::take(&mut job.mel),
            1,
            frames,
        )?]);
    }
    let mut mel = Vec::with_capacity(batch.iter().map(|j| j.mel.len()).sum());
    for job in batch.iter_mut() {
        mel.append(&mut job.mel);
    }
    let out = session.encode(mel, batch.len(), frames)?;
    let (shape, data) = out.try_extract_tensor::<f32>().map_err(inference)?;
    let row = data.len() / batch.len();
    let dims: Vec<i64> = std::iter::once(1)
        .chain(shape.iter().skip(1).copied())
        .collect();
    data.chunks_exact(row)
        .map(|chunk| {
            Tensor::from_array((dims.clone(), chunk.to_vec()))
                .map(|t| t.into_dyn())
                .map_err(inference)
        })
        .collect()
}
