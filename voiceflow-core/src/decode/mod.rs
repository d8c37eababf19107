//! Turning encoder output into tokens and text, following openai/whisper's
//! `decoding.py` and `transcribe.py` (and faster-whisper's long-form seeking).
//!
//! - [`filters`] and [`timestamp_rules`]: the logit filters;
//! - [`greedy`] (greedy and temperature sampling) and [`beam`]: token choice;
//! - [`window`]: one 30-s window (prompt, no-speech probability, ranking);
//! - [`fallback`]: temperature fallback, compression ratio, silence;
//! - [`language`]: language detection for multilingual models;
//! - [`longform`]: seeking through audio of any length, segments with times;
//! - [`alignment`]: word timestamps from the cross-attention of the
//!   alignment heads (dynamic time warping).
//!
//! The algorithms drive the model through two traits, so they can be tested
//! with scripted logits and know nothing of ONNX Runtime: [`WindowBackend`]
//! encodes a window and hands out a [`TokenDecoder`] over it. The scheduler
//! (`crate::scheduler`) implements both, batching the work of every caller.

pub(crate) mod alignment;
pub(crate) mod beam;
pub(crate) mod fallback;
pub(crate) mod filters;
pub(crate) mod greedy;
pub(crate) mod language;
pub(crate) mod longform;
pub(crate) mod timestamp_rules;
pub(crate) mod window;

use self::alignment::CrossAttention;
use crate::Result;

/// A decoder that extends token sequences one token at a time, keeping its
/// own cache. Logits are written row after row into `out` (`vocab_size()`
/// values per row).
pub(crate) trait TokenDecoder {
    /// Entries per logits row.
    fn vocab_size(&self) -> usize;

    /// Starts one sequence from `prompt`, dropping any earlier state, and
    /// writes the logits at each of `positions` (indices into `prompt`).
    fn prefill(&mut self, prompt: &[u32], positions: &[usize], out: &mut Vec<f32>) -> Result<()>;

    /// Extends sequence `i` of the new batch, which continues sequence
    /// `sources[i]` of the previous batch, by `tokens[i]`; writes one row of
    /// logits per new sequence.
    fn step(&mut self, tokens: &[u32], sources: &[usize], out: &mut Vec<f32>) -> Result<()>;

    /// The current sequences are finished: what the decoder holds for them
    /// may go (the window stays, ready for another [`TokenDecoder::prefill`]).
    fn end(&mut self) {}

    /// Runs `sequence` through the decoder over this window on its own
    /// (nothing is kept), writes the logits at each of `positions` into
    /// `out` and returns the alignment heads' cross-attention scores for
    /// every token of the sequence (word timestamps). Fails with
    /// [`crate::Error::ModelLacksFeature`] for a model without them.
    fn align(
        &mut self,
        sequence: &[u32],
        positions: &[usize],
        out: &mut Vec<f32>,
    ) -> Result<CrossAttention>;
}

/// Encodes windows of log-mel frames and decodes over them.
pub(crate) trait WindowBackend {
    /// Encodes one window of `frames` mel frames (`n_mels × frames` values,
    /// row-major) and returns a decoder over it; dropping the decoder frees
    /// the window.
    fn open_window(&self, mel: Vec<f32>, frames: usize) -> Result<Box<dyn TokenDecoder + '_>>;
}

/// One finished hypothesis of a window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    /// The sampled tokens, without the final `<|endoftext|>`.
    pub tokens: Vec<u32>,
    /// Sum of the chosen tokens' log-probabilities, end of text included.
    pub sum_logprob: f32,
}

/// How far one window's decoding may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Most tokens sampled per window (openai's `sample_len`, 224).
    pub sample_len: usize,
    /// Most tokens the decoder holds, prompt included (448).
    pub n_ctx: usize,
}

impl Limits {
    /// Whether decoding must stop after sampling `step + 1` tokens behind a
    /// prompt of `prompt_len` (openai stops when the length exceeds `n_ctx`
    /// or `sample_len` steps were taken).
    pub(crate) fn reached(&self, prompt_len: usize, step: usize) -> bool {
        step + 1 >= self.sample_len || prompt_len + step + 1 > self.n_ctx
    }
}

#[cfg(test)]
pub(crate) mod script {
    //! A [`TokenDecoder`] whose logits come from a function of the sequence so far.

    use super::filters::LogitFilters;
    use super::*;

    /// Filters that change nothing.
    pub(crate) fn no_filters() -> LogitFilters {
        LogitFilters {
            begin_suppress: vec![],
            suppress: vec![],
            timestamps: None,
        }
    }

    /// Calls `next(sequence)` for the logits that follow `sequence`.
    pub(crate) struct Scripted<F: Fn(&[u32]) -> Vec<f32>> {
        pub next: F,
        pub vocab: usize,
        pub sequences: Vec<Vec<u32>>,
        pub steps: usize,
    }

    impl<F: Fn(&[u32]) -> Vec<f32>> Scripted<F> {
        pub(crate) fn new(vocab: usize, next: F) -> Self {
            Scripted {
                next,
                vocab,
                sequences: Vec::new(),
                steps: 0,
            }
        }
    }

    impl<F: Fn(&[u32]) -> Vec<f32>> TokenDecoder for Scripted<F> {
        fn vocab_size(&self) -> usize {
            self.vocab
        }

        fn prefill(
            &mut self,
            prompt: &[u32],
            positions: &[usize],
            out: &mut Vec<f32>,
        ) -> Result<()> {
            out.clear();
            for &p in positions {
                out.extend((self.next)(&prompt[..=p]));
            }
            self.sequences = vec![prompt.to_vec()];
            Ok(())
        }

        fn align(
            &mut self,
            _sequence: &[u32],
            _positions: &[usize],
            _out: &mut Vec<f32>,
        ) -> Result<CrossAttention> {
            Err(crate::Error::inference(
                "a scripted decoder has no cross-attention",
            ))
        }

        fn step(&mut self, tokens: &[u32], sources: &[usize], out: &mut Vec<f32>) -> Result<()> {
            self.steps += 1;
            let old = std::mem::take(&mut self.sequences);
            out.clear();
            for (&t, &s) in tokens.iter().zip(sources) {
                let mut seq = old[s].clone();
                seq.push(t);
                out.extend((self.next)(&seq));
                self.sequences.push(seq);
            }
            Ok(())
        }
    }
}
