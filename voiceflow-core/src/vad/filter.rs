//! Skipping non-speech before a file transcription (faster-whisper's
//! `vad_filter`): the speech spans are joined into one shorter recording,
//! and a [`TimestampMap`] turns times in it back into times in the original.

use std::borrow::Cow;

use super::{SileroVad, SpeechDetector, SpeechSpan, VadOptions};
use crate::audio::SAMPLE_RATE;
use crate::transcript::Segment;
use crate::Result;

/// Times in the speech-only recording to times in the original one
/// (faster-whisper's `SpeechTimestampsMap`). The identity when nothing was
/// removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimestampMap {
    /// For each kept span: its end in the joined recording (samples) and the
    /// silence removed before it (seconds).
    spans: Vec<(usize, f64)>,
}

impl TimestampMap {
    /// The map of `spans` (sorted, not overlapping) kept from a recording.
    pub fn new(spans: &[SpeechSpan]) -> Self {
        let mut removed = 0;
        let mut previous_end = 0;
        let spans = spans
            .iter()
            .map(|s| {
                removed += s.start - previous_end;
                previous_end = s.end;
                (s.end - removed, removed as f64 / f64::from(SAMPLE_RATE))
            })
            .collect();
        TimestampMap { spans }
    }

    /// The original time of `time` seconds in the joined recording. An end
    /// time exactly at a span's end stays in that span (`is_end`).
    pub fn original(&self, time: f32, is_end: bool) -> f32 {
        if self.spans.is_empty() {
            return time;
        }
        let sample = (f64::from(time) * f64::from(SAMPLE_RATE)) as usize;
        let index = self
            .spans
            .iter()
            .position(|&(end, _)| if is_end { sample <= end } else { sample < end })
            .unwrap_or(self.spans.len() - 1);
        (f64::from(time) + self.spans[index].1) as f32
    }

    /// Moves the segments' times back onto the original recording.
    pub fn restore(&self, segments: &mut [Segment]) {
        for s in segments {
            (s.start, s.end) = self.original_span(s);
        }
    }

    /// A copy of `segment` with its times on the original recording.
    pub fn restored(&self, segment: &Segment) -> Segment {
        let (start, end) = self.original_span(segment);
        Segment {
            start,
            end,
            ..segment.clone()
        }
    }

    fn original_span(&self, s: &Segment) -> (f32, f32) {
        let start = self.original(s.start, false);
        (start, self.original(s.end, true).max(start))
    }
}

/// The speech of `samples` (16-kHz mono) joined into one recording, with the
/// map back to the original times, as `filter`'s options and VAD find it;
/// `samples` unchanged and the identity map without a filter.
pub fn speech_only<'a>(
    samples: &'a [f32],
    filter: Option<(&VadOptions, SileroVad)>,
) -> Result<(Cow<'a, [f32]>, TimestampMap)> {
    let Some((options, vad)) = filter else {
        return Ok((Cow::Borrowed(samples), TimestampMap::default()));
    };
    let spans = SpeechDetector::new(Box::new(vad), options)?.speech_spans(samples)?;
    Ok((Cow::Owned(join(samples, &spans)), TimestampMap::new(&spans)))
}

/// The samples of `spans`, one after the other.
pub fn join(samples: &[f32], spans: &[SpeechSpan]) -> Vec<f32> {
    spans
        .iter()
        .flat_map(|s| &samples[s.start..s.end.min(samples.len())])
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize) -> SpeechSpan {
        SpeechSpan { start, end }
    }

    #[test]
    fn times_after_removed_silence_move_back_by_that_silence() {
        // Kept: 1-2 s and 5-6 s of the original.
        let map = TimestampMap::new(&[span(16_000, 32_000), span(80_000, 96_000)]);
        assert_eq!(map.original(0.5, false), 1.5);
        // 1.0 s in the joined audio is the first span's end or the second's start.
        assert_eq!(map.original(1.0, true), 2.0);
        assert_eq!(map.original(1.0, false), 5.0);
        assert_eq!(map.original(1.5, false), 5.5);
        // Past the end: the last span's offset.
        assert_eq!(map.original(2.5, true), 6.5);
    }

    #[test]
    fn the_empty_map_is_the_identity() {
        assert_eq!(TimestampMap::default().original(3.25, false), 3.25);
    }

    #[test]
    fn joining_keeps_the_spans_in_order() {
        let samples: Vec<f32> = (0..10).map(|i| i as f32).collect();
        assert_eq!(
            join(&samples, &[span(1, 3), span(6, 8)]),
            vec![1.0, 2.0, 6.0, 7.0]
        );
    }
}
