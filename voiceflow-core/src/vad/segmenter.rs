//! Speech probabilities to speech spans: Silero's `get_speech_timestamps`
//! state machine (v6, `use_max_poss_sil_at_max_speech`), fed one frame at a
//! time so that it serves streams as well as whole files.

use super::VadOptions;

/// A raw span of speech in samples (before padding), end exclusive.
pub(super) type Raw = (usize, usize);

/// Thresholds and durations in samples at 16 kHz.
#[derive(Debug, Clone)]
pub(super) struct Limits {
    threshold: f32,
    neg_threshold: f32,
    min_speech: f64,
    min_silence: f64,
    max_speech: f64,
    min_silence_at_max_speech: f64,
}

impl Limits {
    pub(super) fn new(options: &VadOptions, frame_len: usize) -> Self {
        let samples = |ms: u32| f64::from(ms) * 16.0;
        let pad = samples(options.speech_pad_ms);
        Limits {
            threshold: options.threshold,
            neg_threshold: options.effective_neg_threshold(),
            min_speech: samples(options.min_speech_duration_ms),
            min_silence: samples(options.min_silence_duration_ms),
            // As Silero: the cut leaves room for one frame and both pads.
            max_speech: f64::from(options.max_speech_duration_s) * 16_000.0
                - frame_len as f64
                - 2.0 * pad,
            min_silence_at_max_speech: samples(options.min_silence_at_max_speech_ms),
        }
    }
}

/// The state between frames.
#[derive(Debug, Clone)]
pub(super) struct Segmenter {
    limits: Limits,
    frame_len: usize,
    frames: usize,
    /// Start of the speech in progress.
    start: Option<usize>,
    /// Where the silence in progress began (0: none, as in Silero).
    temp_end: usize,
    /// Pauses inside the speech in progress: (start, length).
    pauses: Vec<(usize, usize)>,
}

impl Segmenter {
    pub(super) fn new(limits: Limits, frame_len: usize) -> Self {
        Segmenter {
            limits,
            frame_len,
            frames: 0,
            start: None,
            temp_end: 0,
            pauses: Vec::new(),
        }
    }

    /// Start of the speech in progress, if any, in samples.
    pub(super) fn open_start(&self) -> Option<usize> {
        self.start
    }

    /// Samples consumed so far (whole frames).
    pub(super) fn position(&self) -> usize {
        self.frames * self.frame_len
    }

    /// Takes the next frame's probability; completed spans go to `out`.
    pub(super) fn push(&mut self, probability: f32, out: &mut Vec<Raw>) {
        let cur = self.frames * self.frame_len;
        self.frames += 1;
        let l = &self.limits;
        let speech = probability >= l.threshold;
        if speech && self.temp_end != 0 {
            let pause = cur - self.temp_end;
            if pause as f64 > l.min_silence_at_max_speech {
                self.pauses.push((self.temp_end, pause));
            }
            self.temp_end = 0;
        }
        let Some(start) = self.start else {
            if speech {
                self.start = Some(cur);
            }
            return;
        };
        if (cur - start) as f64 > l.max_speech {
            // The longest pause wins; the first of equals, as Python's max().
            let longest = self
                .pauses
                .iter()
                .copied()
                .reduce(|best, p| if p.1 > best.1 { p } else { best });
            self.pauses.clear();
            self.temp_end = 0;
            match longest {
                Some((end, pause)) => {
                    out.push((start, end));
                    self.start = Some(end + pause);
                }
                None => {
                    out.push((start, cur));
                    self.start = None;
                    return;
                }
            }
        }
        let (Some(start), true) = (self.start, probability < self.limits.neg_threshold) else {
            return;
        };
        if self.temp_end == 0 {
            self.temp_end = cur;
        }
        if ((cur - self.temp_end) as f64) < self.limits.min_silence {
            return;
        }
        let end = self.temp_end;
        if (end - start) as f64 > self.limits.min_speech {
            out.push((start, end));
        }
        self.start = None;
        self.temp_end = 0;
        self.pauses.clear();
    }

    /// Ends the stream at `total` samples: speech in progress becomes a span
    /// when it is long enough.
    pub(super) fn finish(&mut self, total: usize, out: &mut Vec<Raw>) {
        if let Some(start) = self.start.take() {
            if (total.saturating_sub(start)) as f64 > self.limits.min_speech {
                out.push((start, total));
            }
        }
        self.temp_end = 0;
        self.pauses.clear();
    }
}

/// Silero's padding of a whole list: each span grows by `pad` on both sides,
/// or by half the gap when two spans are closer than `2 * pad`.
pub(super) fn pad_all(spans: &mut [Raw], pad: usize, total: usize) {
    let n = spans.len();
    for i in 0..n {
        if i == 0 {
            spans[i].0 = spans[i].0.saturating_sub(pad);
        }
        if i + 1 < n {
            let gap = spans[i + 1].0.saturating_sub(spans[i].1);
            if gap < 2 * pad {
                spans[i].1 += gap / 2;
                spans[i + 1].0 = spans[i + 1].0.saturating_sub(gap / 2);
            } else {
                spans[i].1 = (spans[i].1 + pad).min(total);
                spans[i + 1].0 = spans[i + 1].0.saturating_sub(pad);
            }
        } else {
            spans[i].1 = (spans[i].1 + pad).min(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = 512;

    fn run(options: &VadOptions, probabilities: &[f32]) -> Vec<Raw> {
        let mut s = Segmenter::new(Limits::new(options, FRAME), FRAME);
        let mut out = Vec::new();
        for &p in probabilities {
            s.push(p, &mut out);
        }
        s.finish(probabilities.len() * FRAME, &mut out);
        out
    }

    fn frames(pattern: &[(f32, usize)]) -> Vec<f32> {
        pattern
            .iter()
            .flat_map(|&(p, n)| std::iter::repeat_n(p, n))
            .collect()
    }

    #[test]
    fn speech_between_silences_is_one_span_in_frame_units() {
        // 10 silent frames, 20 speech, 20 silent (640 ms > 100 ms).
        let spans = run(
            &VadOptions::default(),
            &frames(&[(0.0, 10), (0.9, 20), (0.0, 20)]),
        );
        assert_eq!(spans, vec![(10 * FRAME, 30 * FRAME)]);
    }

    #[test]
    fn a_short_dip_and_values_between_the_thresholds_do_not_end_speech() {
        // 0.4 lies between neg (0.35) and threshold (0.5): still speech.
        // Two frames (64 ms) under 0.35 are shorter than 100 ms of silence.
        let spans = run(
            &VadOptions::default(),
            &frames(&[(0.9, 10), (0.4, 10), (0.1, 2), (0.9, 10), (0.0, 10)]),
        );
        assert_eq!(spans, vec![(0, 32 * FRAME)]);
    }

    #[test]
    fn speech_shorter_than_the_minimum_is_dropped() {
        // 5 frames = 160 ms < 250 ms.
        let spans = run(&VadOptions::default(), &frames(&[(0.9, 5), (0.0, 20)]));
        assert!(spans.is_empty());
    }

    #[test]
    fn over_long_speech_is_cut_at_its_longest_pause() {
        let options = VadOptions {
            max_speech_duration_s: 2.0,
            ..VadOptions::default()
        };
        // Pauses of 2 frames (64 ms, too short to count), then 4 (128 ms),
        // under the exit threshold but shorter than min silence... the
        // 4-frame one is the longest counted pause.
        let p = frames(&[
            (0.9, 20),
            (0.1, 4),
            (0.9, 20),
            (0.1, 2),
            (0.9, 30),
            (0.0, 20),
        ]);
        let spans = run(&options, &p);
        assert_eq!(spans[0], (0, 20 * FRAME));
        assert_eq!(spans[1].0, 24 * FRAME);
        assert!(spans.iter().all(|(s, e)| s < e));
    }

    #[test]
    fn speech_running_to_the_end_is_closed_by_finish() {
        let spans = run(&VadOptions::default(), &frames(&[(0.0, 3), (0.9, 20)]));
        assert_eq!(spans, vec![(3 * FRAME, 23 * FRAME)]);
    }

    #[test]
    fn padding_splits_small_gaps_and_clamps_to_the_audio() {
        let mut spans = vec![(100, 1000), (1040, 2000), (5000, 9990)];
        pad_all(&mut spans, 30, 10_000);
        assert_eq!(spans, vec![(70, 1020), (1020, 2030), (4970, 10_000)]);
    }
}
