//! The session's thread: resampling, voice activity detection, partial and
//! final transcriptions, callbacks.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::session::Shared;
use super::{Partial, StreamObserver, StreamOptions};
use crate::audio::{StreamResampler, SAMPLE_RATE};
use crate::config::TranscribeOptions;
use crate::engine::Engine;
use crate::transcript::{Segment, Timings, Transcript};
use crate::vad::{SpeechDetector, SpeechSpan};
use crate::Result;

/// What the caller's side sends.
pub(super) enum Message {
    /// Mono samples at `sample_rate`, costing `cost` 16-kHz samples of backlog.
    Audio {
        samples: Vec<f32>,
        sample_rate: u32,
        cost: usize,
    },
    /// No more audio.
    Finish,
}

/// Audio kept before the speech in progress, beyond the detector's pad: a
/// span's padded start reaches back at most the pad plus one frame.
const KEEP_BEFORE_S: usize = 1;

/// Shortest open utterance worth a partial, in seconds.
const MIN_PARTIAL_S: f64 = 0.3;

/// A partial waits at least this many times as long as the last one took,
/// so that partials take at most half of a stream's time: when many
/// streams share a busy engine, each partial takes longer (it waits for its
/// turn) and every stream's partials come less often by themselves, leaving
/// the engine to the finals.
const PARTIAL_COST_FACTOR: u32 = 2;

/// Seconds in `samples` at 16 kHz.
fn seconds(samples: usize) -> f64 {
    samples as f64 / f64::from(SAMPLE_RATE)
}

pub(super) struct Worker {
    engine: Arc<Engine>,
    options: StreamOptions,
    partial_options: TranscribeOptions,
    observer: Box<dyn StreamObserver>,
    detector: SpeechDetector,
    shared: Arc<Shared>,
    resampler: Option<StreamResampler>,
    /// 16-kHz audio from `offset` on.
    audio: Vec<f32>,
    offset: usize,
    /// Utterances that ended and wait for their final.
    ready: VecDeque<SpeechSpan>,
    committed: Vec<Segment>,
    language: Option<(String, f32)>,
    timings: Timings,
    /// When the last partial was made, up to which sample, and how long it
    /// took.
    last_partial: Option<(Instant, usize, Duration)>,
}

impl Worker {
    pub(super) fn new(
        engine: Arc<Engine>,
        options: StreamOptions,
        observer: Box<dyn StreamObserver>,
        detector: SpeechDetector,
        shared: Arc<Shared>,
    ) -> Self {
        Worker {
            engine,
            partial_options: options.partial_transcribe(),
            options,
            observer,
            detector,
            shared,
            resampler: None,
            audio: Vec::new(),
            offset: 0,
            ready: VecDeque::new(),
            committed: Vec::new(),
            language: None,
            timings: Timings::default(),
            last_partial: None,
        }
    }

    /// The session's loop; returns the transcript of the whole stream.
    pub(super) fn run(mut self, receiver: Receiver<Message>) -> Result<Transcript> {
        match self.serve(&receiver) {
            Ok(()) => Ok(self.transcript()),
            Err(error) => {
                self.shared.stopped.store(true, Ordering::Release);
                self.observer.on_error(&error);
                Err(error)
            }
        }
    }

    fn serve(&mut self, receiver: &Receiver<Message>) -> Result<()> {
        loop {
            if self.shared.cancelled.load(Ordering::Acquire) {
                return Ok(());
            }
            if let Some(span) = self.ready.pop_front() {
                if self.commit(span)?.is_break() {
                    return self.stop();
                }
                continue;
            }
            let message = match self.partial_due() {
                Some(wait) if wait.is_zero() => match receiver.try_recv() {
                    Err(TryRecvError::Empty) => None,
                    other => Some(other.ok()),
                },
                Some(wait) => match receiver.recv_timeout(wait) {
                    Err(RecvTimeoutError::Timeout) => None,
                    other => Some(other.ok()),
                },
                None => Some(receiver.recv().ok()),
            };
            match message {
                None => {
                    if self.partial()?.is_break() {
                        return self.stop();
                    }
                }
                Some(Some(Message::Audio {
                    samples,
                    sample_rate,
                    cost,
                })) => {
                    self.shared.backlog.fetch_sub(cost, Ordering::AcqRel);
                    self.take_in(&samples, sample_rate)?;
                }
                Some(Some(Message::Finish) | None) => return self.end_of_stream(),
            }
        }
    }

    /// The observer said stop: nothing more is taken or reported.
    fn stop(&mut self) -> Result<()> {
        self.shared.stopped.store(true, Ordering::Release);
        Ok(())
    }

    /// Resamples, detects speech, and drops audio no utterance needs.
    fn take_in(&mut self, samples: &[f32], sample_rate: u32) -> Result<()> {
        let mut resampled = Vec::new();
        if self
            .resampler
            .as_ref()
            .is_some_and(|r| r.from_rate() != sample_rate)
        {
            resampled = self
                .resampler
                .take()
                .map_or(Ok(Vec::new()), |mut r| r.finish())?;
        }
        let resampler = match &mut self.resampler {
            Some(r) => r,
            None => self
                .resampler
                .insert(StreamResampler::new(sample_rate, SAMPLE_RATE)?),
        };
        resampled.extend(resampler.push(samples)?);
        self.add(&resampled)
    }

    fn add(&mut self, samples: &[f32]) -> Result<()> {
        self.audio.extend_from_slice(samples);
        let spans = self.detector.feed(samples)?;
        self.ready.extend(spans);
        let keep_from = self
            .ready
            .front()
            .map(|s| s.start)
            .or_else(|| self.detector.speech_start())
            .unwrap_or_else(|| {
                self.received()
                    .saturating_sub(KEEP_BEFORE_S * SAMPLE_RATE as usize)
            });
        if keep_from > self.offset {
            self.audio
                .drain(..(keep_from - self.offset).min(self.audio.len()));
            self.offset = keep_from;
        }
        Ok(())
    }

    /// 16-kHz samples received so far.
    fn received(&self) -> usize {
        self.offset + self.audio.len()
    }

    fn slice(&self, start: usize, end: usize) -> &[f32] {
        let from = start.saturating_sub(self.offset).min(self.audio.len());
        let to = end
            .saturating_sub(self.offset)
            .clamp(from, self.audio.len());
        &self.audio[from..to]
    }

    /// Flushes the resampler and the detector, then commits every utterance.
    fn end_of_stream(&mut self) -> Result<()> {
        if let Some(mut resampler) = self.resampler.take() {
            let rest = resampler.finish()?;
            self.add(&rest)?;
        }
        self.ready.extend(self.detector.finish());
        while let Some(span) = self.ready.pop_front() {
            if self.shared.cancelled.load(Ordering::Acquire) || self.commit(span)?.is_break() {
                return self.stop();
            }
        }
        Ok(())
    }

    /// How long until the next partial is due; `None` when none is.
    fn partial_due(&self) -> Option<Duration> {
        let interval = self.options.partial_interval?;
        let start = self.detector.speech_start()?;
        let end = self.received();
        if seconds(end - start) < MIN_PARTIAL_S {
            return None;
        }
        match self.last_partial {
            Some((_, covered, _)) if covered >= end => None,
            Some((at, covered, cost)) if covered > start => {
                let wait = interval.max(cost * PARTIAL_COST_FACTOR);
                Some(wait.saturating_sub(at.elapsed()))
            }
            _ => Some(Duration::ZERO),
        }
    }

    /// Transcribes the open utterance again and reports it.
    fn partial(&mut self) -> Result<ControlFlow<()>> {
        let (Some(start), end) = (self.detector.speech_start(), self.received()) else {
            return Ok(ControlFlow::Continue(()));
        };
        let started = Instant::now();
        let transcript =
            self.engine
                .transcribe(self.slice(start, end), SAMPLE_RATE, &self.partial_options)?;
        self.last_partial = Some((Instant::now(), end, started.elapsed()));
        if transcript.text.is_empty() {
            return Ok(ControlFlow::Continue(()));
        }
        Ok(self.observer.on_partial(&Partial {
            text: transcript.text,
            start: seconds(start) as f32,
            end: seconds(end) as f32,
        }))
    }

    /// Transcribes an utterance that ended and commits its segments.
    fn commit(&mut self, span: SpeechSpan) -> Result<ControlFlow<()>> {
        let end = span.end.min(self.received());
        self.last_partial = None;
        if end <= span.start {
            return Ok(ControlFlow::Continue(()));
        }
        let transcript = self.engine.transcribe(
            self.slice(span.start, end),
            SAMPLE_RATE,
            &self.options.transcribe,
        )?;
        add_timings(&mut self.timings, &transcript.timings);
        if self.language.is_none() && !transcript.language.is_empty() {
            self.language = Some((transcript.language.clone(), transcript.language_probability));
        }
        let (offset, limit) = (seconds(span.start) as f32, seconds(end) as f32);
        for mut segment in transcript.segments {
            if segment.text.is_empty() {
                continue;
            }
            let floor = self.committed.last().map_or(0.0, |s| s.end);
            segment.start = (segment.start + offset).clamp(floor, limit);
            segment.end = (segment.end + offset).clamp(segment.start, limit);
            let flow = self.observer.on_final(&segment);
            self.committed.push(segment);
            if flow.is_break() {
                return Ok(flow);
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    fn transcript(self) -> Transcript {
        let text = self
            .committed
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let (language, language_probability) = self.language.unwrap_or_else(|| {
            (
                self.options.transcribe.language.clone().unwrap_or_default(),
                1.0,
            )
        });
        Transcript {
            text,
            segments: self.committed,
            language,
            language_probability,
            duration_s: seconds(self.offset + self.audio.len()),
            timings: self.timings,
        }
    }
}

/// Sums the time spent per stage.
fn add_timings(total: &mut Timings, one: &Timings) {
    total.decode_audio_s += one.decode_audio_s;
    total.mel_s += one.mel_s;
    total.encoder_s += one.encoder_s;
    total.decoder_s += one.decoder_s;
    total.total_s += one.total_s;
}
