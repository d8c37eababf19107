//! Beam search as openai's `BeamSearchDecoder`: every live beam proposes its
//! `beam_size + 1` best tokens, the best `beam_size` unfinished candidates go
//! on, and decoding stops once `round(beam_size × patience)` sequences have
//! ended. The beams run as one batch; the decoder reorders its cache by each
//! new beam's source.

use super::filters::{logsumexp, LogitFilters};
use super::{Candidate, Limits, TokenDecoder};
use crate::Result;

/// The `k` largest entries of `row` as `(index, value)`, best first.
fn top_k(row: &[f32], k: usize, out: &mut Vec<(u32, f32)>) {
    out.clear();
    for (i, &v) in row.iter().enumerate() {
        if v == f32::NEG_INFINITY || v.is_nan() {
            continue;
        }
        if out.len() == k && out.last().is_some_and(|&(_, worst)| v <= worst) {
            continue;
        }
        let at = out.iter().position(|&(_, x)| v > x).unwrap_or(out.len());
        out.insert(at, (i as u32, v));
        out.truncate(k);
    }
}

/// Runs beam search after a prompt whose last-position logits are in
/// `logits` (one row); returns the finished sequences (at least `beam_size`
/// when that many beams were alive).
#[allow(clippy::too_many_arguments)]
pub(crate) fn beam_search(
    decoder: &mut dyn TokenDecoder,
    filters: &LogitFilters,
    logits: &mut Vec<f32>,
    prompt_len: usize,
    beam_size: usize,
    patience: f32,
    eot: u32,
    limits: &Limits,
) -> Result<Vec<Candidate>> {
    let vocab = decoder.vocab_size();
    let max_finished = ((beam_size as f32 * patience).round() as usize).max(1);
    let mut beams: Vec<Candidate> = vec![Candidate {
        tokens: Vec::new(),
        sum_logprob: 0.0,
    }];
    let mut finished: Vec<Candidate> = Vec::new();
    let mut proposals: Vec<(f32, usize, u32)> = Vec::new();
    let mut best = Vec::with_capacity(beam_size + 1);
    for step in 0..limits.sample_len {
        proposals.clear();
        for (j, beam) in beams.iter().enumerate() {
            let row = &mut logits[j * vocab..(j + 1) * vocab];
            filters.apply(row, &beam.tokens);
            let lse = logsumexp(row);
            top_k(row, beam_size + 1, &mut best);
            proposals.extend(
                best.iter()
                    .map(|&(t, v)| (beam.sum_logprob + v - lse, j, t)),
            );
        }
        // Stable: ties keep beam order, then rank order, as openai's dict does.
        proposals.sort_by(|a, b| b.0.total_cmp(&a.0));

        let mut next: Vec<Candidate> = Vec::with_capacity(beam_size);
        let mut sources = Vec::with_capacity(beam_size);
        let mut newly_finished = Vec::new();
        for &(score, j, token) in &proposals {
            if token == eot {
                newly_finished.push(Candidate {
                    tokens: beams[j].tokens.clone(),
                    sum_logprob: score,
                });
            } else {
                let mut tokens = Vec::with_capacity(beams[j].tokens.len() + 1);
                tokens.extend_from_slice(&beams[j].tokens);
                tokens.push(token);
                next.push(Candidate {
                    tokens,
                    sum_logprob: score,
                });
                sources.push(j);
                if next.len() == beam_size {
                    break;
                }
            }
        }
        for candidate in newly_finished {
            if finished.len() >= max_finished {
                break;
            }
            finished.push(candidate);
        }
        beams = next;
        if finished.len() >= max_finished || beams.is_empty() || limits.reached(prompt_len, step) {
            break;
        }
        let tokens: Vec<u32> = beams
            .iter()
            .filter_map(|b| b.tokens.last().copied())
            .collect();
        decoder.step(&tokens, &sources, logits)?;
    }
    if finished.len() < beam_size {
        beams.sort_by(|a, b| b.sum_logprob.total_cmp(&a.sum_logprob));
        for beam in beams {
            if finished.len() >= beam_size {
                break;
            }
            finished.push(beam);
        }
    }
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::super::script::{no_filters, Scripted};
    use super::*;

    const EOT: u32 = 0;

    fn run<F: Fn(&[u32]) -> Vec<f32>>(next: F, beam: usize, patience: f32) -> Vec<Candidate> {
        let mut d = Scripted::new(5, next);
        let mut logits = Vec::new();
        d.prefill(&[4], &[0], &mut logits).unwrap();
        let limits = Limits {
            sample_len: 20,
            n_ctx: 448,
        };
        beam_search(
            &mut d,
            &no_filters(),
            &mut logits,
            1,
            beam,
            patience,
            EOT,
            &limits,
        )
        .unwrap()
    }

    fn logprobs(p: &[f32]) -> Vec<f32> {
        p.iter().map(|x| x.ln()).collect()
    }

    /// Greedy picks 1 (0.6) then is stuck with a poor continuation; the beam
    /// finds 2 (0.4) followed by a near-certain end.
    fn garden_path(seq: &[u32]) -> Vec<f32> {
        match &seq[1..] {
            [] => logprobs(&[1e-6, 0.6, 0.4, 1e-6, 1e-6]),
            [1] => logprobs(&[0.25, 0.25, 0.25, 0.25, 1e-6]),
            [2] => logprobs(&[0.97, 0.01, 0.01, 0.01, 1e-6]),
            _ => logprobs(&[0.97, 0.01, 0.01, 0.01, 1e-6]),
        }
    }

    fn best(c: &[Candidate]) -> &Candidate {
        c.iter()
            .max_by(|a, b| {
                let score = |c: &Candidate| c.sum_logprob / c.tokens.len().max(1) as f32;
                score(a).total_cmp(&score(b))
            })
            .unwrap()
    }

    #[test]
    fn the_beam_finds_the_better_sequence() {
        let c = run(garden_path, 2, 1.0);
        assert!(c.len() >= 2);
        assert_eq!(best(&c).tokens, vec![2]);
        let expected = 0.4f32.ln() + 0.97f32.ln();
        assert!((best(&c).sum_logprob - expected).abs() < 1e-4);
    }

    #[test]
    fn patience_waits_for_more_finished_sequences() {
        assert_eq!(run(garden_path, 2, 1.0).len(), 2);
        assert_eq!(run(garden_path, 2, 2.0).len(), 4);
    }

    #[test]
    fn unfinished_beams_fill_up_the_result() {
        // Never ends: the beams run into the token limit and are returned as they are.
        let c = run(|_| logprobs(&[1e-9, 0.5, 0.3, 0.2, 1e-6]), 3, 1.0);
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|c| c.tokens.len() == 20));
        assert_eq!(c[0].tokens, vec![1; 20]);
    }

    #[test]
    fn top_k_keeps_the_best_in_order() {
        let mut out = Vec::new();
        top_k(&[0.1, 0.5, f32::NEG_INFINITY, 0.3, 0.5], 3, &mut out);
        assert_eq!(out, vec![(1, 0.5), (4, 0.5), (3, 0.3)]);
    }
}
