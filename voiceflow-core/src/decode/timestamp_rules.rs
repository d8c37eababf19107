//! openai's `ApplyTimestampRules`: timestamps come in pairs, never decrease,
//! the first token is a timestamp no later than 1 s, and a timestamp is forced
//! when the timestamps together are more likely than any text token.

use super::filters::{fill, logsumexp};

/// The rules for one vocabulary.
#[derive(Debug, Clone)]
pub(crate) struct TimestampRules {
    /// `<|endoftext|>`.
    pub eot: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// `<|0.00|>`.
    pub timestamp_begin: u32,
    /// Latest timestamp index allowed first (50 = 1.0 s); `None` for no limit.
    pub max_initial_timestamp_index: Option<u32>,
}

impl TimestampRules {
    /// Masks `logits` (one row) given the tokens sampled so far in this window.
    pub(crate) fn apply(&self, logits: &mut [f32], sampled: &[u32]) {
        let n = logits.len();
        let ts = (self.timestamp_begin as usize).min(n);
        let eot = (self.eot as usize).min(n);
        if let Some(x) = logits.get_mut(self.no_timestamps as usize) {
            *x = f32::NEG_INFINITY;
        }

        let is_ts = |t: u32| t >= self.timestamp_begin;
        let last_was_timestamp = sampled.last().is_some_and(|&t| is_ts(t));
        let penultimate_was_timestamp = sampled.len() < 2 || is_ts(sampled[sampled.len() - 2]);
        if last_was_timestamp {
            if penultimate_was_timestamp {
                fill(&mut logits[ts..]);
            } else {
                fill(&mut logits[..eot]);
            }
        }

        if let Some(&last_ts) = sampled.iter().rev().find(|&&t| is_ts(t)) {
            let bound = if last_was_timestamp && !penultimate_was_timestamp {
                last_ts
            } else {
                last_ts + 1
            };
            fill(&mut logits[ts..(bound as usize).min(n)]);
        }

        if sampled.is_empty() {
            fill(&mut logits[..ts]);
            if let Some(index) = self.max_initial_timestamp_index {
                let last_allowed = self.timestamp_begin as usize + index as usize;
                fill(&mut logits[(last_allowed + 1).min(n)..]);
            }
        }

        let timestamp_mass = logsumexp(&logits[ts..]);
        let max_text = logits[..ts]
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        if timestamp_mass > max_text {
            fill(&mut logits[..ts]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A small vocabulary: text 0..10, eot 10, no_timestamps 11, timestamps 12..20.
    const EOT: u32 = 10;
    const TS: u32 = 12;
    const VOCAB: usize = 20;

    fn rules() -> TimestampRules {
        TimestampRules {
            eot: EOT,
            no_timestamps: 11,
            timestamp_begin: TS,
            max_initial_timestamp_index: Some(2),
        }
    }

    fn allowed(sampled: &[u32], logits: &[f32]) -> Vec<u32> {
        let mut l = logits.to_vec();
        rules().apply(&mut l, sampled);
        (0..VOCAB as u32)
            .filter(|&i| l[i as usize].is_finite())
            .collect()
    }

    fn flat() -> Vec<f32> {
        vec![0.0; VOCAB]
    }

    #[test]
    fn the_first_token_is_an_early_timestamp() {
        assert_eq!(allowed(&[], &flat()), vec![12, 13, 14]);
    }

    #[test]
    fn after_text_and_a_timestamp_comes_a_timestamp_or_the_end() {
        // text 3 after <|ts 2|>, then <|ts 4|>: next must be >= ts 4 or eot (specials above eot too).
        let mut logits = flat();
        logits[EOT as usize] = 5.0;
        let got = allowed(&[TS + 2, 3, TS + 4], &logits);
        assert!(got.contains(&EOT));
        assert!(got.iter().all(|&t| t >= EOT));
        assert!(!got.contains(&(TS + 3)) && got.contains(&(TS + 4)));
    }

    #[test]
    fn after_a_pair_of_timestamps_comes_text() {
        let got = allowed(&[TS + 2, 3, TS + 4, TS + 4], &flat());
        assert!(got.iter().all(|&t| t < TS));
        assert!(got.contains(&3));
    }

    #[test]
    fn after_text_timestamps_must_move_forward() {
        let got = allowed(&[TS + 2, 3], &flat());
        assert!(!got.contains(&(TS + 2)) && got.contains(&(TS + 3)));
        assert!(!got.contains(&11), "notimestamps is never allowed");
    }

    #[test]
    fn likely_timestamps_force_a_timestamp() {
        let mut logits = flat();
        logits[3] = 2.0; // best text token
                         // Each timestamp less likely than the text token, together more likely.
        logits[TS as usize..].fill(1.0);
        let got = allowed(&[TS, 3], &logits);
        assert!(got.iter().all(|&t| t >= TS), "{got:?}");
        logits[3] = 5.0;
        assert!(allowed(&[TS, 3], &logits).contains(&3));
    }
}
