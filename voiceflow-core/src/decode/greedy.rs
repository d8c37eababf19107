//! Greedy decoding (temperature 0) and sampling (temperature > 0, `best_of`
//! independent samples decoded as one batch), as openai's `GreedyDecoder`.

use rand::rngs::StdRng;
use rand::Rng;

use super::filters::{argmax, logsumexp, LogitFilters};
use super::{Candidate, Limits, TokenDecoder};
use crate::Result;

/// Draws an index from `softmax(logits / temperature)`.
pub(crate) fn sample(logits: &[f32], temperature: f32, rng: &mut StdRng) -> usize {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return argmax(logits);
    }
    let weight = |x: f32| f64::from((x - max) / temperature).exp();
    let total: f64 = logits.iter().map(|&x| weight(x)).sum();
    let mut u = rng.gen::<f64>() * total;
    let mut last = argmax(logits);
    for (i, &x) in logits.iter().enumerate() {
        let w = weight(x);
        if w > 0.0 {
            last = i;
            u -= w;
            if u <= 0.0 {
                return i;
            }
        }
    }
    last
}

/// Decodes `n` sequences after a prompt whose last-position logits are in
/// `logits` (one row). At temperature 0 the choice is the argmax, above it a
/// draw from the tempered softmax; either way the score adds the log-softmax
/// of the filtered logits. Returns one candidate per sequence.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_sequences(
    decoder: &mut dyn TokenDecoder,
    filters: &LogitFilters,
    logits: &mut Vec<f32>,
    prompt_len: usize,
    n: usize,
    temperature: f32,
    rng: &mut StdRng,
    eot: u32,
    limits: &Limits,
) -> Result<Vec<Candidate>> {
    let vocab = decoder.vocab_size();
    let mut tokens: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut sums = vec![0.0f32; n];
    let mut done = vec![false; n];
    let mut next = vec![eot; n];
    let mut sources = vec![0usize; n];
    for step in 0..limits.sample_len {
        let mut shared_lse = None;
        for i in 0..n {
            if done[i] {
                next[i] = eot;
                continue;
            }
            // At the first step every sequence reads the prompt's one row.
            let r = if step == 0 { 0 } else { i };
            let row = &mut logits[r * vocab..(r + 1) * vocab];
            let lse = match shared_lse {
                Some(lse) if step == 0 => lse,
                _ => {
                    filters.apply(row, &tokens[i]);
                    let lse = logsumexp(row);
                    shared_lse = Some(lse);
                    lse
                }
            };
            let token = if temperature > 0.0 {
                sample(row, temperature, rng)
            } else {
                argmax(row)
            };
            sums[i] += row[token] - lse;
            next[i] = token as u32;
            if token as u32 == eot {
                done[i] = true;
            } else {
                tokens[i].push(token as u32);
            }
        }
        if done.iter().all(|&d| d) || limits.reached(prompt_len, step) {
            break;
        }
        decoder.step(&next, &sources, logits)?;
        if step == 0 {
            sources.iter_mut().enumerate().for_each(|(i, s)| *s = i);
        }
    }
    Ok(tokens
        .into_iter()
        .zip(sums)
        .map(|(tokens, sum_logprob)| Candidate {
            tokens,
            sum_logprob,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::script::{no_filters, Scripted};
    use super::*;

    const EOT: u32 = 0;
    const LIMITS: Limits = Limits {
        sample_len: 224,
        n_ctx: 448,
    };

    /// Prefers token `len(sequence)` until 4 tokens, then the end.
    fn counting(seq: &[u32]) -> Vec<f32> {
        let mut l = vec![0.0; 8];
        let next = if seq.len() >= 5 {
            EOT
        } else {
            seq.len() as u32 + 1
        };
        l[next as usize] = 10.0;
        l
    }

    fn run(n: usize, temperature: f32, limits: Limits) -> (Vec<Candidate>, usize) {
        let mut d = Scripted::new(8, counting);
        let mut logits = Vec::new();
        d.prefill(&[7], &[0], &mut logits).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let c = decode_sequences(
            &mut d,
            &no_filters(),
            &mut logits,
            1,
            n,
            temperature,
            &mut rng,
            EOT,
            &limits,
        )
        .unwrap();
        (c, d.steps)
    }

    #[test]
    fn greedy_follows_the_argmax_to_the_end_of_text() {
        let (c, steps) = run(1, 0.0, LIMITS);
        assert_eq!(c[0].tokens, vec![2, 3, 4, 5]);
        assert!(c[0].sum_logprob < 0.0 && c[0].sum_logprob > -0.1);
        assert_eq!(steps, 4, "no model call after the end of text");
    }

    #[test]
    fn the_token_limit_stops_decoding() {
        let (c, steps) = run(
            1,
            0.0,
            Limits {
                sample_len: 2,
                n_ctx: 448,
            },
        );
        assert_eq!(c[0].tokens, vec![2, 3]);
        assert_eq!(steps, 1);
        // openai keeps the token that makes the sequence longer than n_ctx, then stops.
        let (c, steps) = run(
            1,
            0.0,
            Limits {
                sample_len: 224,
                n_ctx: 3,
            },
        );
        assert_eq!(c[0].tokens, vec![2, 3, 4]);
        assert_eq!(steps, 2);
    }

    #[test]
    fn sampling_decodes_every_sequence() {
        let (c, _) = run(3, 0.5, LIMITS);
        assert_eq!(c.len(), 3);
        for cand in c {
            assert_eq!(
                cand.tokens,
                vec![2, 3, 4, 5],
                "peaked logits sample the peak"
            );
        }
    }

    #[test]
    fn sampling_follows_the_distribution_and_the_seed() {
        let logits = [0.0f32, 1.0f32.ln(), 3.0f32.ln(), f32::NEG_INFINITY];
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[sample(&logits, 1.0, &mut rng)] += 1;
        }
        assert_eq!(counts[3], 0);
        let share = counts[2] as f32 / 4000.0;
        assert!((share - 0.6).abs() < 0.05, "{counts:?}");
        let draw = |seed| sample(&logits, 1.0, &mut StdRng::seed_from_u64(seed));
        assert_eq!(
            (0..20).map(draw).collect::<Vec<_>>(),
            (0..20).map(draw).collect::<Vec<_>>()
        );
    }
}
