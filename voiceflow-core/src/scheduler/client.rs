//! A caller's side of the scheduler: [`WindowBackend`] and [`TokenDecoder`]
//! that send each piece of work to the workers and wait for the answer on
//! the caller's own thread, so the decoding algorithms (and the caller's
//! callbacks) run there, holding no lock, session or batch slot.

use std::time::Instant;

use crossbeam::channel::{bounded, Receiver, RecvTimeoutError, Sender};
use ort::value::DynValue;

use super::decoder::DecoderMsg;
use super::encoder::EncodeJob;
use super::Scheduler;
use crate::decode::alignment::CrossAttention;
use crate::decode::{TokenDecoder, WindowBackend};
use crate::{Error, Result};

/// One transcription's way into the scheduler.
pub(crate) struct Client<'a> {
    pub(super) scheduler: &'a Scheduler,
    /// When the call started (for the timeout's message).
    pub(super) started: Instant,
    /// When the caller stops waiting.
    pub(super) deadline: Option<Instant>,
}

impl Client<'_> {
    /// Waits for the answer to a request, until the deadline.
    fn wait<T>(&self, answer: Receiver<Result<T>>) -> Result<T> {
        let received = match self.deadline {
            None => answer.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => answer.recv_deadline(deadline),
        };
        let expired = self.deadline.is_some_and(|d| Instant::now() >= d);
        match received {
            Ok(Err(Error::Timeout(_))) | Err(RecvTimeoutError::Timeout) => {
                Err(Error::Timeout(self.started.elapsed()))
            }
            Err(RecvTimeoutError::Disconnected) if expired => {
                Err(Error::Timeout(self.started.elapsed()))
            }
            Ok(result) => result,
            Err(RecvTimeoutError::Disconnected) => Err(self.scheduler.stopped()),
        }
    }

    fn send<T>(&self, to: &Sender<T>, msg: T) -> Result<()> {
        if self.scheduler.is_closed() {
            return Err(Error::Closed("engine"));
        }
        to.send(msg).map_err(|_| self.scheduler.stopped())
    }
}

impl WindowBackend for Client<'_> {
    fn open_window(&self, mel: Vec<f32>, frames: usize) -> Result<Box<dyn TokenDecoder + '_>> {
        let (reply, answer) = bounded(1);
        let job = EncodeJob {
            mel,
            frames,
            deadline: self.deadline,
            reply,
        };
        self.send(&self.scheduler.encoder_inbox, job)?;
        let encoder_out = self.wait(answer)?;
        let group = self.scheduler.new_window();
        Ok(Box::new(WindowDecoder {
            client: self,
            inbox: self.scheduler.decoder_inbox(group),
            group,
            encoder_out: Some(encoder_out),
        }))
    }
}

/// The decoder over one window, served by a decoder worker.
struct WindowDecoder<'a> {
    client: &'a Client<'a>,
    inbox: &'a Sender<DecoderMsg>,
    group: u64,
    /// Sent with the first prefill.
    encoder_out: Option<DynValue>,
}

impl WindowDecoder<'_> {
    fn ask<T>(&self, msg: impl FnOnce(Sender<Result<T>>) -> DecoderMsg) -> Result<T> {
        let (reply, answer) = bounded(1);
        self.client.send(self.inbox, msg(reply))?;
        self.client.wait(answer)
    }
}

impl TokenDecoder for WindowDecoder<'_> {
    fn vocab_size(&self) -> usize {
        self.client.scheduler.vocab
    }

    fn prefill(&mut self, prompt: &[u32], positions: &[usize], out: &mut Vec<f32>) -> Result<()> {
        let encoder_out = self.encoder_out.take();
        *out = self.ask(|reply| DecoderMsg::Prefill {
            group: self.group,
            encoder_out,
            prompt: prompt.to_vec(),
            positions: positions.to_vec(),
            reply,
        })?;
        Ok(())
    }

    fn step(&mut self, tokens: &[u32], sources: &[usize], out: &mut Vec<f32>) -> Result<()> {
        *out = self.ask(|reply| DecoderMsg::Step {
            group: self.group,
            tokens: tokens.to_vec(),
            sources: sources.to_vec(),
            reply,
        })?;
        Ok(())
    }

    fn end(&mut self) {
        let _ = self.inbox.send(DecoderMsg::End { group: self.group });
    }

    fn align(
        &mut self,
        sequence: &[u32],
        positions: &[usize],
        out: &mut Vec<f32>,
    ) -> Result<CrossAttention> {
        let (logits, attention) = self.ask(|reply| DecoderMsg::Align {
            group: self.group,
            sequence: sequence.to_vec(),
            positions: positions.to_vec(),
            reply,
        })?;
        *out = logits;
        Ok(attention)
    }
}

impl Drop for WindowDecoder<'_> {
    fn drop(&mut self) {
        let _ = self.inbox.send(DecoderMsg::Close { group: self.group });
    }
}
