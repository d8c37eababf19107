//! One 30-s window (openai's `DecodingTask.run`): build the prompt, read the
//! no-speech probability at the start-of-transcript position, choose tokens,
//! rank the candidates and turn the best into text.

use rand::rngs::StdRng;

use super::beam::beam_search;
use super::fallback::compression_ratio;
use super::filters::{logsumexp, LogitFilters};
use super::greedy::decode_sequences;
use super::{Candidate, Limits, TokenDecoder};
use crate::model::special_tokens::SpecialTokens;
use crate::model::tokenizer::WhisperTokenizer;
use crate::{Error, Result};

/// How tokens are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Strategy {
    /// The most likely token each step.
    Greedy,
    /// Beam search.
    Beam {
        /// Number of beams.
        size: usize,
        /// Finished sequences wanted, as a multiple of `size`.
        patience: f32,
    },
    /// `best_of` samples at `temperature`.
    Sample {
        /// Softmax temperature (> 0).
        temperature: f32,
        /// Number of samples.
        best_of: usize,
    },
}

impl Strategy {
    /// The sampling temperature (0 for greedy and beam search).
    pub(crate) fn temperature(&self) -> f32 {
        match self {
            Strategy::Sample { temperature, .. } => *temperature,
            _ => 0.0,
        }
    }
}

/// What stays the same for every window of one transcription.
pub(crate) struct WindowTask<'a> {
    /// Text ⟷ ids.
    pub tokenizer: &'a WhisperTokenizer,
    /// The logit filters.
    pub filters: LogitFilters,
    /// Token limits.
    pub limits: Limits,
}

/// The decoded window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecodeResult {
    /// Sampled tokens (text and timestamps), without the end of text.
    pub tokens: Vec<u32>,
    /// Their text, trimmed.
    pub text: String,
    /// `sum_logprob / (len(tokens) + 1)`.
    pub avg_logprob: f32,
    /// Probability of `<|nospeech|>` at the start-of-transcript position.
    pub no_speech_prob: f32,
    /// The temperature that produced this result.
    pub temperature: f32,
    /// zlib compression ratio of the text.
    pub compression_ratio: f32,
}

/// The prompt of one window and where its start-of-transcript token sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// `[<|startofprev|>, previous…]` + sot sequence (+ `<|notimestamps|>`).
    pub tokens: Vec<u32>,
    /// Index of `<|startoftranscript|>` in `tokens`.
    pub sot_index: usize,
}

impl Prompt {
    /// Builds the prompt: the previous text cut to its last `n_ctx / 2 - 1`
    /// tokens behind `<|startofprev|>`, then the sot sequence, then
    /// `<|notimestamps|>` when timestamps are off.
    pub(crate) fn new(
        special: &SpecialTokens,
        previous: &[u32],
        sot_sequence: &[u32],
        timestamps: bool,
        n_ctx: usize,
    ) -> Self {
        let mut tokens = Vec::new();
        if !previous.is_empty() {
            let keep = (n_ctx / 2).saturating_sub(1);
            tokens.push(special.sot_prev);
            tokens.extend_from_slice(&previous[previous.len().saturating_sub(keep)..]);
        }
        let sot_index = tokens.len();
        tokens.extend_from_slice(sot_sequence);
        if !timestamps {
            tokens.push(special.no_timestamps);
        }
        Prompt { tokens, sot_index }
    }
}

/// openai's `MaximumLikelihoodRanker` without length penalty: the highest
/// `sum_logprob / len(tokens)`.
pub(crate) fn rank(candidates: Vec<Candidate>) -> Option<Candidate> {
    let score = |c: &Candidate| c.sum_logprob / c.tokens.len().max(1) as f32;
    let mut best: Option<Candidate> = None;
    for c in candidates {
        if best.as_ref().is_none_or(|b| score(&c) > score(b)) {
            best = Some(c);
        }
    }
    best
}

/// Decodes one window with `strategy`. `logits` is a reusable buffer.
pub(crate) fn decode_window(
    decoder: &mut dyn TokenDecoder,
    task: &WindowTask<'_>,
    prompt: &Prompt,
    strategy: Strategy,
    rng: &mut StdRng,
    logits: &mut Vec<f32>,
) -> Result<DecodeResult> {
    let special = task.tokenizer.special();
    let vocab = decoder.vocab_size();
    let last = prompt.tokens.len() - 1;
    decoder.prefill(&prompt.tokens, &[prompt.sot_index, last], logits)?;
    let at_sot = &logits[..vocab];
    let no_speech_prob = at_sot
        .get(special.no_speech as usize)
        .map_or(0.0, |&x| (x - logsumexp(at_sot)).exp());
    logits.copy_within(vocab.., 0);
    logits.truncate(vocab);

    let prompt_len = prompt.tokens.len();
    let filters = &task.filters;
    let limits = &task.limits;
    let candidates = match strategy {
        Strategy::Greedy => decode_sequences(
            decoder,
            filters,
            logits,
            prompt_len,
            1,
            0.0,
            rng,
            special.eot,
            limits,
        )?,
        Strategy::Sample {
            temperature,
            best_of,
        } => decode_sequences(
            decoder,
            filters,
            logits,
            prompt_len,
            best_of,
            temperature,
            rng,
            special.eot,
            limits,
        )?,
        Strategy::Beam { size, patience } => beam_search(
            decoder,
            filters,
            logits,
            prompt_len,
            size,
            patience,
            special.eot,
            limits,
        )?,
    };
    decoder.end();
    let best = rank(candidates).ok_or_else(|| Error::inference("decoding produced no sequence"))?;
    let text = task.tokenizer.decode_text(&best.tokens).trim().to_string();
    Ok(DecodeResult {
        avg_logprob: best.sum_logprob / (best.tokens.len() + 1) as f32,
        compression_ratio: compression_ratio(&text),
        no_speech_prob,
        temperature: strategy.temperature(),
        text,
        tokens: best.tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Task;
    use crate::model::special_tokens::tests::specials;

    #[test]
    fn english_only_prompts_match_the_facts_table() {
        let s = specials(false);
        let sot = s.sot_sequence(None, Task::Transcribe);
        assert_eq!(
            Prompt::new(&s, &[], &sot, false, 448).tokens,
            vec![50257, 50362]
        );
        assert_eq!(Prompt::new(&s, &[], &sot, true, 448).tokens, vec![50257]);
    }

    #[test]
    fn the_previous_text_is_cut_to_its_last_223_tokens() {
        let s = specials(true);
        let sot = s.sot_sequence(s.language_token("en"), Task::Transcribe);
        let previous: Vec<u32> = (0..300).collect();
        let p = Prompt::new(&s, &previous, &sot, true, 448);
        assert_eq!(p.tokens[0], s.sot_prev);
        assert_eq!(p.tokens[1], 300 - 223);
        assert_eq!(p.sot_index, 224);
        assert_eq!(&p.tokens[224..], &[50258, 50259, 50359]);
    }

    #[test]
    fn ranking_divides_by_length() {
        let c = |n: usize, s: f32| Candidate {
            tokens: vec![1; n],
            sum_logprob: s,
        };
        let best = rank(vec![c(2, -2.0), c(10, -5.0), c(1, -0.9)]).unwrap();
        assert_eq!(best.tokens.len(), 10);
        assert_eq!(rank(vec![]), None);
    }
}
