//! Temperature fallback (openai's `decode_with_fallback`) and the silence
//! rule: a window is decoded again at the next temperature while its text is
//! too repetitive (zlib compression ratio) or too unlikely (average
//! log-probability), unless the model says there is no speech.

use std::io::Write as _;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use rand::rngs::StdRng;

use super::window::{decode_window, DecodeResult, Prompt, Strategy, WindowTask};
use super::TokenDecoder;
use crate::config::TranscribeOptions;
use crate::Result;

/// `len(text) / len(zlib(text))` over the UTF-8 bytes (zlib at its default
/// level, as openai's `compression_ratio`); 0 for empty text.
pub(crate) fn compression_ratio(text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map(|v| v.len())
        .unwrap_or(text.len());
    text.len() as f32 / compressed.max(1) as f32
}

/// Whether the window is judged silent: likely no speech and an unlikely text.
pub(crate) fn is_silence(result: &DecodeResult, options: &TranscribeOptions) -> bool {
    let Some(no_speech_threshold) = options.no_speech_threshold else {
        return false;
    };
    let unlikely = options
        .logprob_threshold
        .is_some_and(|threshold| result.avg_logprob < threshold);
    result.no_speech_prob > no_speech_threshold && unlikely
}

/// Whether `text` holds a word: a letter or a digit, in any script. On
/// quiet noise Whisper writes lone punctuation (". . .") segment after
/// segment; a window whose text has no word says nothing and is skipped
/// (and not decoded again hotter, where it would invent words instead).
pub(crate) fn has_words(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// Whether the result should be decoded again at a higher temperature.
pub(crate) fn needs_fallback(result: &DecodeResult, options: &TranscribeOptions) -> bool {
    let repetitive = options
        .compression_ratio_threshold
        .is_some_and(|t| result.compression_ratio > t);
    let unlikely = options
        .logprob_threshold
        .is_some_and(|t| result.avg_logprob < t);
    (repetitive || unlikely) && !is_silence(result, options) && has_words(&result.text)
}

/// Whether a decoded window is skipped as silence: openai's rule (no-speech
/// probability above the threshold, unless the text is likely enough), the
/// accepted result still fails the quality thresholds (every temperature
/// failed) while the model leans towards no speech, or its text has no word
/// ([`has_words`]).
pub(crate) fn should_skip(result: &DecodeResult, options: &TranscribeOptions) -> bool {
    let silent = options.no_speech_threshold.is_some_and(|threshold| {
        let likely = options
            .logprob_threshold
            .is_some_and(|lp| result.avg_logprob > lp);
        result.no_speech_prob > threshold && !likely
    });
    let unreliable = options
        .unreliable_no_speech_threshold
        .is_some_and(|threshold| result.no_speech_prob > threshold)
        && needs_fallback(result, options);
    silent || unreliable || !has_words(&result.text)
}

/// The strategy used at `temperature`: beam search or greedy at 0, `best_of`
/// samples above.
pub(crate) fn strategy_at(temperature: f32, options: &TranscribeOptions) -> Strategy {
    if temperature > 0.0 {
        Strategy::Sample {
            temperature,
            best_of: options.best_of.max(1),
        }
    } else if options.beam_size > 1 {
        Strategy::Beam {
            size: options.beam_size,
            patience: options.patience,
        }
    } else {
        Strategy::Greedy
    }
}

/// Decodes the window at each temperature in turn until a result passes;
/// returns the first that passes, or the last one.
pub(crate) fn decode_with_fallback(
    decoder: &mut dyn TokenDecoder,
    task: &WindowTask<'_>,
    prompt: &Prompt,
    options: &TranscribeOptions,
    rng: &mut StdRng,
    logits: &mut Vec<f32>,
) -> Result<DecodeResult> {
    let temperatures: &[f32] = if options.temperatures.is_empty() {
        &[0.0]
    } else {
        &options.temperatures
    };
    let mut result = None;
    for &temperature in temperatures {
        let decoded = decode_window(
            decoder,
            task,
            prompt,
            strategy_at(temperature, options),
            rng,
            logits,
        )?;
        let done = !needs_fallback(&decoded, options);
        result = Some(decoded);
        if done {
            break;
        }
    }
    let result = result.ok_or_else(|| crate::Error::inference("no temperature to decode at"))?;
    if needs_greedy_check(&result, options) {
        let greedy = decode_window(decoder, task, prompt, Strategy::Greedy, rng, logits)?;
        if !has_words(&greedy.text) || needs_fallback(&greedy, options) {
            return Ok(greedy);
        }
    }
    Ok(result)
}

/// Whether beam search's accepted `result` is checked against the greedy
/// path: the model leans towards no speech in the window (above
/// `unreliable_no_speech_threshold`). On background noise beam search finds
/// a short phrase likely enough to pass the thresholds ("Woohoo!", average
/// log-probability -0.99 where greedy decoding finds nothing acceptable),
/// while real speech in such a window decodes acceptably either way (a
/// closing phrase with no-speech 0.98 and log-probability -0.97). When the
/// greedy decoding fails the thresholds or has no word, it is the window's
/// result, and [`should_skip`] drops the window.
pub(crate) fn needs_greedy_check(result: &DecodeResult, options: &TranscribeOptions) -> bool {
    options.beam_size > 1
        && result.temperature == 0.0
        && options
            .unreliable_no_speech_threshold
            .is_some_and(|threshold| result.no_speech_prob > threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(avg_logprob: f32, no_speech_prob: f32, compression_ratio: f32) -> DecodeResult {
        DecodeResult {
            tokens: vec![],
            text: "Some words.".into(),
            avg_logprob,
            no_speech_prob,
            temperature: 0.0,
            compression_ratio,
        }
    }

    #[test]
    fn repetitive_text_compresses_well() {
        assert!(compression_ratio(&"hello there ".repeat(40)) > 2.4);
        assert!(compression_ratio("The weather today is sunny with a light breeze.") < 2.4);
        assert_eq!(compression_ratio(""), 0.0);
    }

    #[test]
    fn fallback_on_repetition_or_low_likelihood_unless_silent() {
        let o = TranscribeOptions::default();
        assert!(!needs_fallback(&result(-0.3, 0.1, 1.5), &o));
        assert!(needs_fallback(&result(-0.3, 0.1, 3.0), &o));
        assert!(needs_fallback(&result(-1.5, 0.1, 1.5), &o));
        assert!(
            !needs_fallback(&result(-1.5, 0.9, 1.5), &o),
            "silence: no fallback"
        );
        let off = TranscribeOptions {
            compression_ratio_threshold: None,
            logprob_threshold: None,
            ..o
        };
        assert!(!needs_fallback(&result(-5.0, 0.1, 9.0), &off));
    }

    #[test]
    fn silent_windows_are_skipped_unless_the_text_is_likely() {
        let o = TranscribeOptions::default();
        assert!(should_skip(&result(-1.5, 0.9, 1.0), &o));
        assert!(!should_skip(&result(-0.5, 0.9, 1.0), &o));
        assert!(!should_skip(&result(-1.5, 0.3, 1.0), &o));
    }

    #[test]
    fn text_that_failed_every_temperature_is_dropped_when_speech_is_doubtful() {
        let o = TranscribeOptions::default();
        // Background noise: the last temperature still fails, no-speech 0.57.
        assert!(should_skip(&result(-1.01, 0.57, 0.4), &o));
        // The same doubtful text with a confident speech estimate stays.
        assert!(!should_skip(&result(-1.01, 0.2, 0.4), &o));
        // Text that passed the thresholds stays whatever the estimate.
        assert!(!should_skip(&result(-0.4, 0.57, 1.2), &o));
        let openai = TranscribeOptions {
            unreliable_no_speech_threshold: None,
            ..o
        };
        assert!(!should_skip(&result(-1.01, 0.57, 0.4), &openai));
    }

    #[test]
    fn a_window_without_words_is_skipped_and_not_decoded_again() {
        let o = TranscribeOptions::default();
        for text in ["", ". . . . .", " ...", "♪"] {
            let dots = DecodeResult {
                text: text.into(),
                ..result(-0.2, 0.1, 4.0)
            };
            assert!(should_skip(&dots, &o), "{text:?}");
            assert!(!needs_fallback(&dots, &o), "{text:?}");
        }
        for text in ["Yes.", "42", "はい", "Ça va"] {
            let words = DecodeResult {
                text: text.into(),
                ..result(-0.2, 0.1, 1.0)
            };
            assert!(has_words(text) && !should_skip(&words, &o), "{text:?}");
        }
    }

    #[test]
    fn only_beam_results_in_doubtful_windows_get_the_greedy_check() {
        let beam = TranscribeOptions {
            beam_size: 5,
            ..TranscribeOptions::default()
        };
        assert!(needs_greedy_check(&result(-0.99, 0.57, 0.5), &beam));
        assert!(!needs_greedy_check(&result(-0.99, 0.3, 0.5), &beam));
        let hotter = DecodeResult {
            temperature: 0.2,
            ..result(-0.99, 0.57, 0.5)
        };
        assert!(!needs_greedy_check(&hotter, &beam), "sampled, not beam");
        let greedy = TranscribeOptions::default();
        assert!(!needs_greedy_check(&result(-0.99, 0.57, 0.5), &greedy));
        let openai = TranscribeOptions {
            unreliable_no_speech_threshold: None,
            ..beam
        };
        assert!(!needs_greedy_check(&result(-0.99, 0.57, 0.5), &openai));
    }

    #[test]
    fn strategies_per_temperature() {
        let o = TranscribeOptions {
            beam_size: 5,
            best_of: 3,
            ..TranscribeOptions::default()
        };
        assert_eq!(
            strategy_at(0.0, &o),
            Strategy::Beam {
                size: 5,
                patience: 1.0
            }
        );
        assert_eq!(
            strategy_at(0.4, &o),
            Strategy::Sample {
                temperature: 0.4,
                best_of: 3
            }
        );
        assert_eq!(
            strategy_at(0.0, &TranscribeOptions::default()),
            Strategy::Greedy
        );
    }
}
