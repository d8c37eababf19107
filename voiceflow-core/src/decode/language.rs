//! Language detection for multilingual models: the decoder reads
//! `[<|startoftranscript|>]` and the softmax over the language tokens at that
//! position gives each language's probability.

use super::filters::{argmax, logsumexp};
use super::TokenDecoder;
use crate::model::special_tokens::SpecialTokens;
use crate::{Error, Result};

/// The most likely language's code and probability.
pub(crate) fn detect_language(
    decoder: &mut dyn TokenDecoder,
    special: &SpecialTokens,
    logits: &mut Vec<f32>,
) -> Result<(String, f32)> {
    decoder.prefill(&[special.sot], &[0], logits)?;
    let scores: Vec<f32> = special
        .languages
        .iter()
        .map(|(_, id)| {
            logits
                .get(*id as usize)
                .copied()
                .unwrap_or(f32::NEG_INFINITY)
        })
        .collect();
    if scores.is_empty() {
        return Err(Error::inference("the model has no language tokens"));
    }
    let lse = logsumexp(&scores);
    let best = argmax(&scores);
    let probability = (scores[best] - lse).exp();
    Ok((special.languages[best].0.clone(), probability))
}

#[cfg(test)]
mod tests {
    use super::super::script::Scripted;
    use super::*;
    use crate::model::special_tokens::tests::specials;

    #[test]
    fn the_softmax_runs_over_language_tokens_only() {
        let s = specials(true);
        let (de, es) = (
            s.language_token("de").unwrap(),
            s.language_token("es").unwrap(),
        );
        let vocab = 51865;
        let mut d = Scripted::new(vocab, move |_| {
            let mut l = vec![0.0; vocab];
            l[5] = 100.0; // a text token: ignored
            l[de as usize] = 10.0;
            l[es as usize] = 10.0 - 3f32.ln();
            l
        });
        let mut logits = Vec::new();
        let (code, p) = detect_language(&mut d, &s, &mut logits).unwrap();
        assert_eq!(code, "de");
        // 99 languages: de has weight e^10, es e^10/3, the other 97 weight 1 each.
        let e10 = 10f32.exp();
        let expected = e10 / (e10 + e10 / 3.0 + 97.0);
        assert!((p - expected).abs() < 1e-4, "{p} vs {expected}");
    }
}
