//! A [`Vad`] and the segmentation rules together: audio in, speech spans out.

use super::segmenter::{pad_all, Limits, Segmenter};
use super::{Vad, VadOptions};
use crate::Result;

/// A span of speech in samples at 16 kHz (end exclusive), padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechSpan {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
}

/// Finds speech in 16-kHz mono audio, all at once ([`Self::speech_spans`])
/// or as it arrives ([`Self::feed`]).
pub struct SpeechDetector {
    vad: Box<dyn Vad>,
    segmenter: Segmenter,
    pad: usize,
    /// Samples not yet making a whole frame.
    pending: Vec<f32>,
    /// End of the last span handed out (streams), so padding never overlaps.
    last_end: usize,
}

impl std::fmt::Debug for SpeechDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechDetector")
            .field("position", &self.segmenter.position())
            .finish_non_exhaustive()
    }
}

impl SpeechDetector {
    /// A detector applying `options` to `vad`'s probabilities.
    pub fn new(vad: Box<dyn Vad>, options: &VadOptions) -> Result<Self> {
        options.validate()?;
        let frame = vad.frame_len();
        Ok(SpeechDetector {
            segmenter: Segmenter::new(Limits::new(options, frame), frame),
            vad,
            pad: options.speech_pad_ms as usize * 16,
            pending: Vec::new(),
            last_end: 0,
        })
    }

    /// The speech spans of a whole recording, padded exactly as Silero's
    /// `get_speech_timestamps` pads them. The detector starts afresh.
    pub fn speech_spans(&mut self, samples: &[f32]) -> Result<Vec<SpeechSpan>> {
        self.vad.reset();
        self.pending.clear();
        let mut raw = Vec::new();
        self.probabilities(samples, &mut raw)?;
        if !self.pending.is_empty() {
            // The last partial frame, zero-padded, as Silero does.
            let mut last = std::mem::take(&mut self.pending);
            last.resize(self.vad.frame_len(), 0.0);
            let p = self.vad.probability(&last)?;
            self.segmenter.push(p, &mut raw);
        }
        self.segmenter.finish(samples.len(), &mut raw);
        pad_all(&mut raw, self.pad, samples.len());
        Ok(raw
            .into_iter()
            .map(|(start, end)| SpeechSpan { start, end })
            .collect())
    }

    /// Feeds the next samples of a stream; returns the spans that ended.
    /// Each is padded by the speech pad on both sides, never reaching back
    /// into the previous span; the end may lie beyond the samples fed so far
    /// by up to the pad.
    pub fn feed(&mut self, samples: &[f32]) -> Result<Vec<SpeechSpan>> {
        let mut raw = Vec::new();
        self.probabilities(samples, &mut raw)?;
        Ok(self.padded(raw))
    }

    /// Ends the stream: speech in progress becomes a span when long enough.
    pub fn finish(&mut self) -> Vec<SpeechSpan> {
        let total = self.segmenter.position() + self.pending.len();
        self.pending.clear();
        let mut raw = Vec::new();
        self.segmenter.finish(total, &mut raw);
        let mut spans = self.padded(raw);
        for span in &mut spans {
            span.end = span.end.min(total);
        }
        spans
    }

    /// Start of the speech in progress (padded), if speech is going on.
    pub fn speech_start(&self) -> Option<usize> {
        self.segmenter
            .open_start()
            .map(|s| s.saturating_sub(self.pad).max(self.last_end))
    }

    fn probabilities(&mut self, samples: &[f32], raw: &mut Vec<(usize, usize)>) -> Result<()> {
        let frame = self.vad.frame_len();
        let mut rest = samples;
        if !self.pending.is_empty() {
            let take = (frame - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() < frame {
                return Ok(());
            }
            let p = self.vad.probability(&self.pending)?;
            self.pending.clear();
            self.segmenter.push(p, raw);
        }
        let mut chunks = rest.chunks_exact(frame);
        for chunk in &mut chunks {
            let p = self.vad.probability(chunk)?;
            self.segmenter.push(p, raw);
        }
        self.pending.extend_from_slice(chunks.remainder());
        Ok(())
    }

    fn padded(&mut self, raw: Vec<(usize, usize)>) -> Vec<SpeechSpan> {
        raw.into_iter()
            .map(|(start, end)| {
                let span = SpeechSpan {
                    start: start.saturating_sub(self.pad).max(self.last_end),
                    end: end + self.pad,
                };
                self.last_end = span.end;
                span
            })
            .collect()
    }
}
