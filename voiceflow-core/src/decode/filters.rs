//! Logit filters applied before each token choice, in openai's order:
//! suppress blank (first step only), suppress tokens, timestamp rules.
//! Suppression sets a logit to −∞.

use super::timestamp_rules::TimestampRules;
use crate::model::model_config::ModelConfig;
use crate::model::tokenizer::WhisperTokenizer;
use crate::Result;

/// Sets every logit of `logits` to −∞.
pub(crate) fn fill(logits: &mut [f32]) {
    logits.fill(f32::NEG_INFINITY);
}

/// `log Σ exp(x)`; −∞ for an empty or fully suppressed slice.
pub(crate) fn logsumexp(x: &[f32]) -> f32 {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    let sum: f32 = x.iter().map(|&v| (v - max).exp()).sum();
    max + sum.ln()
}

/// Index of the largest logit (the first one on ties, like `argmax`).
pub(crate) fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best
}

/// The filters of one decoding task.
#[derive(Debug, Clone)]
pub(crate) struct LogitFilters {
    /// Suppressed at the first sampled step (blank and end of text).
    pub begin_suppress: Vec<u32>,
    /// Suppressed at every step.
    pub suppress: Vec<u32>,
    /// The timestamp rules, when timestamps are predicted.
    pub timestamps: Option<TimestampRules>,
}

impl LogitFilters {
    /// The filters of a model: its suppress list plus the control tokens,
    /// blank and end of text at the first step, and the timestamp rules when
    /// timestamps are on.
    pub(crate) fn for_model(
        config: &ModelConfig,
        tokenizer: &WhisperTokenizer,
        timestamps: bool,
    ) -> Result<Self> {
        let special = tokenizer.special();
        let mut suppress = config.suppress_tokens.clone();
        suppress.extend(special.always_suppressed());
        suppress.sort_unstable();
        suppress.dedup();
        let begin_suppress = if config.begin_suppress_tokens.is_empty() {
            let mut blank = tokenizer.encode(" ")?;
            blank.push(special.eot);
            blank
        } else {
            config.begin_suppress_tokens.clone()
        };
        Ok(LogitFilters {
            begin_suppress,
            suppress,
            timestamps: timestamps.then_some(TimestampRules {
                eot: special.eot,
                no_timestamps: special.no_timestamps,
                timestamp_begin: special.timestamp_begin,
                max_initial_timestamp_index: Some(config.max_initial_timestamp_index),
            }),
        })
    }

    /// Masks one row of logits given the tokens sampled so far in the window.
    pub(crate) fn apply(&self, logits: &mut [f32], sampled: &[u32]) {
        let mut suppress = |ids: &[u32]| {
            for &id in ids {
                if let Some(x) = logits.get_mut(id as usize) {
                    *x = f32::NEG_INFINITY;
                }
            }
        };
        if sampled.is_empty() {
            suppress(&self.begin_suppress);
        }
        suppress(&self.suppress);
        if let Some(rules) = &self.timestamps {
            rules.apply(logits, sampled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_suppressed_only_at_the_first_step() {
        let filters = LogitFilters {
            begin_suppress: vec![1],
            suppress: vec![3],
            timestamps: None,
        };
        let mut first = vec![0.0; 5];
        filters.apply(&mut first, &[]);
        assert_eq!(first.iter().filter(|x| x.is_infinite()).count(), 2);
        assert!(first[1].is_infinite() && first[3].is_infinite());
        let mut later = vec![0.0; 5];
        filters.apply(&mut later, &[2]);
        assert!(later[1].is_finite() && later[3].is_infinite());
    }

    #[test]
    fn ids_beyond_the_vocabulary_are_ignored() {
        let filters = LogitFilters {
            begin_suppress: vec![99],
            suppress: vec![100],
            timestamps: None,
        };
        let mut logits = vec![0.0; 3];
        filters.apply(&mut logits, &[]);
        assert!(logits.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn logsumexp_and_argmax() {
        assert!((logsumexp(&[0.0, 0.0]) - 2f32.ln()).abs() < 1e-6);
        assert_eq!(logsumexp(&[f32::NEG_INFINITY]), f32::NEG_INFINITY);
        assert_eq!(logsumexp(&[]), f32::NEG_INFINITY);
        assert_eq!(argmax(&[1.0, 3.0, 3.0, f32::NEG_INFINITY]), 1);
    }
}
