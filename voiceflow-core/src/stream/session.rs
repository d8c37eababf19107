//! The caller's side of a stream: pushing audio, finishing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam::channel::{self, Sender};

use super::worker::{Message, Worker};
use super::{StreamObserver, StreamOptions};
use crate::audio::{self, SAMPLE_RATE};
use crate::engine::Engine;
use crate::transcript::Transcript;
use crate::vad::{EverythingIsSpeech, SpeechDetector, Vad};
use crate::{Error, Result};

/// State both sides of the session see.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Pushed audio the session has not taken in yet, in 16-kHz samples.
    pub backlog: AtomicUsize,
    /// The session stopped (observer said stop, or an error): pushes fail.
    pub stopped: AtomicBool,
    /// The caller dropped the session: skip the work still queued.
    pub cancelled: AtomicBool,
}

/// A live transcription started by [`Engine::stream`]; see the
/// [module documentation](super) for what it reports and on which thread.
#[derive(Debug)]
pub struct StreamingSession {
    sender: Sender<Message>,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<Result<Transcript>>>,
    max_backlog: usize,
}

impl Engine {
    /// Starts a streaming session on this engine (shared with its other
    /// callers; hence the `Arc`: the session's thread holds it).
    ///
    /// Errors: invalid options ([`Error::InvalidArgument`]), the Silero
    /// graph missing ([`Error::ModelNotFound`]; see
    /// [`crate::vad::resolve_model`]), a closed engine ([`Error::Closed`]).
    pub fn stream(
        self: &Arc<Self>,
        options: StreamOptions,
        observer: impl StreamObserver + 'static,
    ) -> Result<StreamingSession> {
        if self.is_closed() {
            return Err(Error::Closed("engine"));
        }
        options.validate()?;
        self.check_options(&options.transcribe)?;
        let vad: Box<dyn Vad> = if options.detect_speech {
            Box::new(self.silero_vad(&options.vad)?)
        } else {
            Box::new(EverythingIsSpeech)
        };
        let detector = SpeechDetector::new(vad, &options.vad)?;
        let shared = Arc::new(Shared::default());
        let (sender, receiver) = channel::unbounded();
        let max_backlog = (options.max_backlog_s * f64::from(SAMPLE_RATE)) as usize;
        let worker = Worker::new(
            Arc::clone(self),
            options,
            Box::new(observer),
            detector,
            Arc::clone(&shared),
        );
        let worker = std::thread::Builder::new()
            .name("voiceflow-stream".into())
            .spawn(move || worker.run(receiver))
            .map_err(|e| Error::inference_from("cannot start the session's thread", e))?;
        Ok(StreamingSession {
            sender,
            shared,
            worker: Some(worker),
            max_backlog,
        })
    }
}

impl StreamingSession {
    /// Hands the next chunk to the session and returns at once: interleaved
    /// samples in [-1, 1], at any rate (resampled to 16 kHz) and channel
    /// count (mixed down). The rate may change between chunks.
    ///
    /// Errors: bad audio or rate ([`Error::InvalidAudio`],
    /// [`Error::InvalidArgument`]); [`Error::QueueFull`] when more than
    /// [`StreamOptions::max_backlog_s`] of audio waits (the caller outruns
    /// the engine; the chunk is not taken, push it again later; `capacity`
    /// is the limit in 16-kHz samples); [`Error::Closed`] after the session
    /// stopped.
    pub fn push(&self, samples: &[f32], sample_rate: u32, channels: u16) -> Result<()> {
        if self.shared.stopped.load(Ordering::Acquire) {
            return Err(Error::Closed("stream"));
        }
        if samples.is_empty() {
            return Ok(());
        }
        audio::validate(samples, sample_rate, channels, f64::INFINITY)?;
        let mono = audio::to_mono(samples, channels)?;
        let cost = (mono.len() as u64 * u64::from(SAMPLE_RATE) / u64::from(sample_rate)) as usize;
        let waiting = self.shared.backlog.fetch_add(cost, Ordering::AcqRel);
        if waiting + cost > self.max_backlog && waiting > 0 {
            self.shared.backlog.fetch_sub(cost, Ordering::AcqRel);
            return Err(Error::QueueFull {
                capacity: self.max_backlog,
            });
        }
        self.sender
            .send(Message::Audio {
                samples: mono,
                sample_rate,
                cost,
            })
            .map_err(|_| Error::Closed("stream"))
    }

    /// Seconds of pushed audio the session has not taken in yet.
    pub fn backlog_s(&self) -> f64 {
        self.shared.backlog.load(Ordering::Acquire) as f64 / f64::from(SAMPLE_RATE)
    }

    /// Ends the stream: waits until everything pushed is transcribed,
    /// commits speech still open, and returns the transcript of the whole
    /// stream (its segments are the finals, in order).
    ///
    /// Errors: the first error the session met (also given to
    /// [`super::StreamObserver::on_error`]).
    pub fn finish(mut self) -> Result<Transcript> {
        let _ = self.sender.send(Message::Finish);
        let worker = self.worker.take().ok_or(Error::Closed("stream"))?;
        worker
            .join()
            .unwrap_or_else(|_| Err(Error::inference("the session's thread panicked")))
    }
}

impl Drop for StreamingSession {
    /// Without [`Self::finish`]: drops what is queued, waits for the
    /// decoding in progress, and ends the session's thread.
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            self.shared.cancelled.store(true, Ordering::Release);
            let _ = self.sender.send(Message::Finish);
            let _ = worker.join();
        }
    }
}
