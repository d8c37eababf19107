//! The encoder worker: takes the windows callers submit, runs those of the
//! same length together (up to `max_batch` per run) and hands each caller
//! its own rows of the output.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, Sender, TryRecvError};
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

/// Runs the encoder worker until `stop` is disconnected (the scheduler
/// closes) or every job sender is gone; then answers the jobs still queued
/// with [`Error::Closed`].
pub(crate) fn run(
    mut session: EncoderSession,
    inbox: Receiver<EncodeJob>,
    stop: Receiver<()>,
    max_batch: usize,
    observe: &dyn Fn(usize, Duration),
) {
    let mut held: VecDeque<EncodeJob> = VecDeque::new();
    loop {
        let first = match held.pop_front() {
            Some(job) => job,
            None => {
                crossbeam::select! {
                    recv(inbox) -> job => match job {
                        Ok(job) => job,
                        Err(_) => break,
                    },
                    recv(stop) -> _ => break,
                }
            }
        };
        if matches!(stop.try_recv(), Err(TryRecvError::Disconnected)) {
            held.push_front(first);
            break;
        }
        let mut batch = vec![first];
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
                Ok(job) if job.frames == batch[0].frames => batch.push(job),
                Ok(job) => others.push_back(job),
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
        if batch.is_empty() {
            continue;
        }
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
                    let _ = job.reply.send(Err(Error::inference(reason.clone())));
                }
            }
        }
    }
    for job in held.into_iter().chain(inbox.try_iter()) {
        let _ = job.reply.send(Err(Error::Closed("engine")));
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
