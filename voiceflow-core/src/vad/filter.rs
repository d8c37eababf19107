//! Skipping non-speech before a file transcription (faster-whisper's
//! `vad_filter`): the speech spans are joined into one shorter recording,
//! and a [`TimestampMap`] turns times in it back into times in the original.

use std::borrow::Cow;

use super::{SileroVad, SpeechDetector, SpeechSpan, Vad, VadOptions};
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

    /// Moves the segments' times (and their words') back onto the original
    /// recording.
    pub fn restore(&self, segments: &mut [Segment]) {
        for s in segments {
            (s.start, s.end) = self.original_span(s);
            for w in &mut s.words {
                (w.start, w.end) = self.original_word(w.start, w.end);
            }
        }
    }

    /// A copy of `segment` with its times on the original recording.
    pub fn restored(&self, segment: &Segment) -> Segment {
        let mut copy = segment.clone();
        self.restore(std::slice::from_mut(&mut copy));
        copy
    }

    /// A word's times on the original recording, both moved by the silence
    /// before the span that holds the word's middle, so that a word is never
    /// torn across removed silence (faster-whisper's chunk of a word).
    fn original_word(&self, start: f32, end: f32) -> (f32, f32) {
        if self.spans.is_empty() {
            return (start, end);
        }
        let middle = (f64::from(start) + f64::from(end)) / 2.0;
        let sample = (middle * f64::from(SAMPLE_RATE)) as usize;
        let index = self
            .spans
            .iter()
            .position(|&(span_end, _)| sample < span_end)
            .unwrap_or(self.spans.len() - 1);
        let removed = self.spans[index].1;
        (
            (f64::from(start) + removed) as f32,
            (f64::from(end) + removed) as f32,
        )
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

/// Audio fed to the detector at a time while looking for the first speech:
/// one second, so that a long recording is read only as far as its first
/// word.
const FIRST_SPEECH_CHUNK: usize = SAMPLE_RATE as usize;

/// Where the first speech of `samples` (16-kHz mono) starts, in samples, as
/// `vad` with Silero's default options ([`VadOptions::default`]) finds it;
/// `None` when there is none. Reads only up to the second in which the
/// first speech has lasted Silero's minimum (250 ms) or ended. Language
/// detection looks there rather than at the start of the recording.
pub fn first_speech(vad: Box<dyn Vad>, samples: &[f32]) -> Result<Option<usize>> {
    let options = VadOptions::default();
    // Samples from the padded start of speech in progress to where it has
    // lasted long enough to count.
    let long_enough = (options.speech_pad_ms + options.min_speech_duration_ms) as usize
        * SAMPLE_RATE as usize
        / 1000;
    let mut detector = SpeechDetector::new(vad, &options)?;
    let mut fed = 0;
    for chunk in samples.chunks(FIRST_SPEECH_CHUNK) {
        fed += chunk.len();
        if let Some(span) = detector.feed(chunk)?.first() {
            return Ok(Some(span.start));
        }
        if let Some(start) = detector.speech_start().filter(|&s| fed >= s + long_enough) {
            return Ok(Some(start));
        }
    }
    Ok(detector.finish().first().map(|span| span.start))
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
    fn a_word_moves_with_the_span_of_its_middle() {
        // Kept: 1-2 s and 5-6 s; a word from 0.9 to 1.3 s of the joined
        // audio has its middle (1.1 s) in the second span: both times +4 s.
        let map = TimestampMap::new(&[span(16_000, 32_000), span(80_000, 96_000)]);
        let (start, end) = map.original_word(0.9, 1.3);
        assert!((start - 4.9).abs() < 1e-5 && (end - 5.3).abs() < 1e-5);
        assert_eq!(TimestampMap::default().original_word(0.9, 1.3), (0.9, 1.3));
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

    /// Hears speech in every frame louder than 0.1 RMS; counts the frames
    /// it was asked about.
    struct Loudness(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Vad for Loudness {
        fn frame_len(&self) -> usize {
            512
        }
        fn probability(&mut self, frame: &[f32]) -> Result<f32> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let power = frame.iter().map(|x| x * x).sum::<f32>() / frame.len() as f32;
            Ok(if power.sqrt() > 0.1 { 1.0 } else { 0.0 })
        }
        fn reset(&mut self) {}
    }

    #[test]
    fn the_first_speech_is_found_without_reading_the_rest() {
        let seconds = |s: f32| (s * SAMPLE_RATE as f32) as usize;
        // 20 s of quiet, 2 s of "speech", 1 s of quiet, then 60 s of speech.
        let mut samples = vec![0.01; seconds(20.0)];
        samples.extend(vec![0.5; seconds(2.0)]);
        samples.extend(vec![0.0; seconds(1.0)]);
        samples.extend(vec![0.5; seconds(60.0)]);
        let frames = std::sync::Arc::default();
        let start = first_speech(Box::new(Loudness(std::sync::Arc::clone(&frames))), &samples)
            .unwrap()
            .unwrap();
        // Silero's 30-ms padding before the first loud frame.
        let padded = seconds(20.0) - seconds(0.03);
        assert!(start.abs_diff(padded) <= 512, "{start} vs {padded}");
        let read = frames.load(std::sync::atomic::Ordering::Relaxed) * 512;
        assert!(read <= seconds(21.0), "read {read} samples");
        // Speech in progress that has lasted 250 ms counts too: an hour of
        // it is read for a second only.
        let frames = std::sync::Arc::default();
        let talk = vec![0.5; seconds(3600.0)];
        let start = first_speech(Box::new(Loudness(std::sync::Arc::clone(&frames))), &talk);
        assert_eq!(start.unwrap(), Some(0));
        let read = frames.load(std::sync::atomic::Ordering::Relaxed) * 512;
        assert!(read <= seconds(1.0), "read {read} samples");
        // A blip shorter than that is not speech.
        let mut blip = vec![0.0; seconds(5.0)];
        blip[seconds(1.0)..seconds(1.1)].fill(0.5);
        let vad = Box::new(Loudness(std::sync::Arc::default()));
        assert_eq!(first_speech(vad, &blip).unwrap(), None);
    }

    #[test]
    fn speech_to_the_end_or_none_at_all() {
        let mut samples = vec![0.0; 40_000];
        samples.extend(vec![0.5; 40_000]);
        let vad = || Box::new(Loudness(std::sync::Arc::default()));
        let start = first_speech(vad(), &samples).unwrap().unwrap();
        assert!(start.abs_diff(40_000 - 480) <= 512, "{start}");
        assert_eq!(first_speech(vad(), &[0.0; 40_000]).unwrap(), None);
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
