//! Long-form transcription, faster-whisper style: the mel of the whole input
//! (160 padding samples) is read in 30-s windows; each window is decoded with
//! fallback, cut into segments at timestamp pairs, and the next window starts
//! at the end of the last complete segment. The previous windows' tokens
//! prompt the next window unless a high temperature was needed. With word
//! timestamps, each window's text is aligned with its audio before the
//! window closes, and (as in openai and faster-whisper) a window that ends
//! inside a segment continues from that segment's last word.

use std::ops::ControlFlow;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::alignment::{window_words, SegmentSpan, WindowText};
use super::fallback::{decode_with_fallback, needs_fallback, should_skip};
use super::language::detect_language;
use super::window::{Prompt, WindowTask};
use super::{Limits, WindowBackend};
use crate::audio::mel::Mel;
use crate::audio::{HOP_LENGTH, N_FRAMES, SAMPLE_RATE};
use crate::config::{TranscribeOptions, SHORT_WINDOW_STEP_FRAMES};
use crate::model::special_tokens::SpecialTokens;
use crate::transcript::{Progress, Segment, Timings};
use crate::Result;

/// Seconds per mel frame.
const FRAME_SECONDS: f64 = HOP_LENGTH as f64 / SAMPLE_RATE as f64;
/// Mel frames per timestamp step (the encoder halves the frame rate).
const FRAMES_PER_TIMESTAMP: usize = 2;
/// Above this temperature the next window is not prompted with this one's text.
const PROMPT_RESET_ON_TEMPERATURE: f32 = 0.5;
/// Mel frames (10 ms each) of a short window per token it may sample: 10
/// tokens a second of window, more than twice the fastest speech (about 4.5
/// tokens a second, timestamps included).
const FRAMES_PER_SHORT_WINDOW_TOKEN: usize = 10;

/// One window cut at its timestamps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SplitWindow {
    /// `(start_s, end_s, tokens)` relative to the window, tokens with their timestamps.
    pub segments: Vec<(f64, f64, Vec<u32>)>,
    /// Frames to move the window forward.
    pub advance: usize,
    /// Whether the tokens end with a single timestamp (the window's text is
    /// complete).
    pub single_timestamp_ending: bool,
}

/// Cuts a window's tokens into segments at consecutive timestamps (openai's
/// `transcribe` rules). `segment_size` is the window's length in frames.
pub(crate) fn split_window(
    tokens: &[u32],
    special: &SpecialTokens,
    segment_size: usize,
) -> SplitWindow {
    let is_ts = |t: u32| special.is_timestamp(t);
    let secs = |t: u32| f64::from(special.timestamp_seconds(t));
    let n = tokens.len();
    let single_timestamp_ending = n >= 2 && !is_ts(tokens[n - 2]) && is_ts(tokens[n - 1]);
    let mut boundaries: Vec<usize> = (1..n)
        .filter(|&i| is_ts(tokens[i]) && is_ts(tokens[i - 1]))
        .collect();
    if boundaries.is_empty() {
        let window_s = segment_size as f64 * FRAME_SECONDS;
        let end = match tokens.iter().rev().find(|&&t| is_ts(t)) {
            Some(&t) if t != special.timestamp_begin => secs(t),
            _ => window_s,
        };
        return SplitWindow {
            segments: vec![(0.0, end, tokens.to_vec())],
            advance: segment_size,
            single_timestamp_ending,
        };
    }
    if single_timestamp_ending {
        boundaries.push(n);
    }
    let mut segments = Vec::with_capacity(boundaries.len());
    let mut last = 0;
    for &b in &boundaries {
        let slice = &tokens[last..b];
        segments.push((secs(slice[0]), secs(slice[slice.len() - 1]), slice.to_vec()));
        last = b;
    }
    let advance = if single_timestamp_ending {
        segment_size
    } else {
        (tokens[last - 1].saturating_sub(special.timestamp_begin) as usize) * FRAMES_PER_TIMESTAMP
    };
    SplitWindow {
        segments,
        advance: advance.max(1),
        single_timestamp_ending,
    }
}

/// What a long-form transcription produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LongformOutput {
    /// The segments, in order.
    pub segments: Vec<Segment>,
    /// Language code and its probability (1 when it was not detected; `("", 0)`
    /// when it was to be detected but the audio held no window).
    pub language: (String, f32),
}

/// A transcription's language and its prompt token.
struct Language {
    code: String,
    probability: f32,
    /// `None` for English-only models, whose prompt has no language token.
    token: Option<u32>,
}

impl Language {
    /// A detected language with its prompt token.
    fn detected(special: &SpecialTokens, code: String, probability: f32) -> Self {
        Language {
            token: special.language_token(&code),
            code,
            probability,
        }
    }
}

/// The language to transcribe in: known, or to be detected at the first
/// speech.
pub(crate) enum LanguageChoice {
    /// English-only model: no language token in the prompt.
    EnglishOnly,
    /// A given language with its token.
    Given(String, u32),
    /// Detect it on the 30 s of mel from frame `from_frame`, where the
    /// first speech starts (the engine finds it).
    Detect {
        /// The first frame of speech.
        from_frame: usize,
    },
}

/// The width in frames of the window that holds `segment_size` frames: 3000
/// (30 s, as Whisper pads every window), or with `short` the frames rounded
/// up to [`SHORT_WINDOW_STEP_FRAMES`].
fn window_frames(segment_size: usize, short: bool) -> usize {
    if short {
        (segment_size.div_ceil(SHORT_WINDOW_STEP_FRAMES).max(1) * SHORT_WINDOW_STEP_FRAMES)
            .min(N_FRAMES)
    } else {
        N_FRAMES
    }
}

/// Transcribes the whole `mel` window after window through `backend`,
/// calling `on_segment` for each segment as it is produced; stops early when
/// it returns `Break`.
pub(crate) fn transcribe(
    backend: &dyn WindowBackend,
    task: &WindowTask<'_>,
    mel: &Mel,
    options: &TranscribeOptions,
    language: LanguageChoice,
    timings: &mut Timings,
    on_segment: &mut dyn FnMut(&Segment, Progress) -> ControlFlow<()>,
) -> Result<LongformOutput> {
    let tokenizer = task.tokenizer;
    let special = tokenizer.special();
    let n_ctx = task.limits.n_ctx;
    let content_frames = mel.n_frames.saturating_sub(1);
    let total_s = content_frames as f64 * FRAME_SECONDS;
    let detect_from = match language {
        LanguageChoice::Detect { from_frame } => from_frame,
        _ => 0,
    };
    let mut language = match language {
        LanguageChoice::EnglishOnly => Some(Language {
            code: "en".into(),
            probability: 1.0,
            token: None,
        }),
        LanguageChoice::Given(code, token) => Some(Language {
            code,
            probability: 1.0,
            token: Some(token),
        }),
        LanguageChoice::Detect { .. } => None,
    };
    let mut all_tokens = match &options.initial_prompt {
        Some(text) if !text.trim().is_empty() => tokenizer.encode_prompt(text)?,
        _ => Vec::new(),
    };
    let mut prompt_reset_since = 0;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut logits = Vec::new();
    let mut segments = Vec::new();
    if language.is_none() && detect_from > 0 {
        // The first speech starts later than the first window: detect on a
        // window of its own that starts there.
        let started = Instant::now();
        let size = N_FRAMES.min(content_frames.saturating_sub(detect_from));
        let window = mel.window_of_width(detect_from, size, N_FRAMES);
        let mut probe = backend.open_window(window, N_FRAMES)?;
        timings.encoder_s += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let (code, probability) = detect_language(probe.as_mut(), special, &mut logits)?;
        timings.decoder_s += started.elapsed().as_secs_f64();
        language = Some(Language::detected(special, code, probability));
    }
    let mut seek = 0;
    // End of the last segment with words (word timestamps).
    let mut last_speech = 0.0;
    while seek < content_frames {
        let segment_size = N_FRAMES.min(content_frames - seek);
        let time_offset = seek as f64 * FRAME_SECONDS;
        let window_end = (time_offset + segment_size as f64 * FRAME_SECONDS).min(total_s);
        if crate::audio::silence::is_silent(mel, seek, segment_size) {
            seek += segment_size;
            continue;
        }

        let frames = window_frames(segment_size, options.short_windows);
        let mut open = |frames: usize| {
            let started = Instant::now();
            let window = mel.window_of_width(seek, segment_size, frames);
            let decoder = backend.open_window(window, frames);
            timings.encoder_s += started.elapsed().as_secs_f64();
            decoder
        };
        let mut decoder = open(frames)?;

        let started = Instant::now();
        if language.is_none() {
            let (code, probability) = detect_language(decoder.as_mut(), special, &mut logits)?;
            language = Some(Language::detected(special, code, probability));
        }
        let sot_sequence =
            special.sot_sequence(language.as_ref().and_then(|l| l.token), options.task);
        let prompt = Prompt::new(
            special,
            &all_tokens[prompt_reset_since..],
            &sot_sequence,
            options.timestamps,
            n_ctx,
        );
        // A short window gets one try at temperature 0; Whisper's own
        // fallback runs on the 30-s window below.
        let first_try;
        let window_options = if frames < N_FRAMES {
            first_try = TranscribeOptions {
                temperatures: vec![0.0],
                ..options.clone()
            };
            &first_try
        } else {
            options
        };
        // ... and at most one token per 100 ms of its width, twice the
        // fastest speech, so that a loop stops early instead of running to
        // `sample_len` (224) and then falling back.
        let short_task;
        let window_task = if frames < N_FRAMES {
            short_task = WindowTask {
                tokenizer: task.tokenizer,
                filters: task.filters.clone(),
                limits: Limits {
                    sample_len: short_window_sample_len(frames, task.limits.sample_len),
                    n_ctx,
                },
            };
            &short_task
        } else {
            task
        };
        let mut result = decode_with_fallback(
            decoder.as_mut(),
            window_task,
            &prompt,
            window_options,
            &mut rng,
            &mut logits,
        )?;
        timings.decoder_s += started.elapsed().as_secs_f64();
        if frames < N_FRAMES && needs_fallback(&result, options) {
            // The short window failed the quality thresholds (a loop, low
            // confidence: how a model trained on 30-s windows fails on less):
            // the window is decoded as Whisper decodes it.
            drop(decoder);
            decoder = open(N_FRAMES)?;
            let started = Instant::now();
            result = decode_with_fallback(
                decoder.as_mut(),
                task,
                &prompt,
                options,
                &mut rng,
                &mut logits,
            )?;
            timings.decoder_s += started.elapsed().as_secs_f64();
        }

        if should_skip(&result, options) {
            seek += segment_size;
            continue;
        }
        let split = split_window(&result.tokens, special, segment_size);
        let mut spans: Vec<SegmentSpan> = split
            .segments
            .iter()
            .map(|(start, end, tokens)| SegmentSpan {
                start: (time_offset + start).min(window_end),
                end: (time_offset + end).min(window_end),
                text_tokens: tokens.iter().filter(|&&t| t < special.eot).count(),
            })
            .collect();
        let mut words = Vec::new();
        let mut advance = split.advance;
        if options.word_timestamps {
            let started = Instant::now();
            // The segments' text (not an unfinished last piece, which the
            // next window decodes again).
            let text_tokens: Vec<u32> = (split.segments.iter())
                .flat_map(|(_, _, tokens)| tokens)
                .copied()
                .filter(|&t| t < special.eot)
                .collect();
            let text = WindowText {
                sot_sequence: &sot_sequence,
                text_tokens: &text_tokens,
                audio_frames: segment_size,
                time_offset,
                language: language.as_ref().map_or("en", |l| l.code.as_str()),
            };
            words = window_words(
                decoder.as_mut(),
                tokenizer,
                &text,
                &mut spans,
                &mut last_speech,
                &mut logits,
            )?;
            timings.decoder_s += started.elapsed().as_secs_f64();
            // A window cut inside a segment goes on from its last word
            // (openai's and faster-whisper's seek with word timestamps).
            if !split.single_timestamp_ending {
                let last_word_end = words
                    .iter()
                    .rev()
                    .find_map(|w| w.last())
                    .map(|w| f64::from(w.end))
                    .or(spans.last().map(|s| s.end));
                if let Some(end) = last_word_end.filter(|&end| end > time_offset) {
                    let frame = (end / FRAME_SECONDS).round() as usize;
                    advance = frame.saturating_sub(seek).max(1);
                }
            }
        }
        drop(decoder);
        let mut words = words.into_iter();
        seek += advance;
        let progress = Progress {
            done_s: (seek as f64 * FRAME_SECONDS).min(total_s),
            total_s,
        };
        for ((_, _, tokens), span) in split.segments.into_iter().zip(spans) {
            let words = words.next().unwrap_or_default();
            let text = tokenizer.decode_text(&tokens).trim().to_string();
            if span.start >= span.end || text.is_empty() {
                continue;
            }
            all_tokens.extend_from_slice(&tokens);
            let segment = Segment {
                start: span.start as f32,
                end: span.end as f32,
                text,
                tokens: tokens.into_iter().filter(|&t| t < special.eot).collect(),
                avg_logprob: result.avg_logprob,
                no_speech_prob: result.no_speech_prob,
                temperature: result.temperature,
                words,
            };
            let flow = on_segment(&segment, progress);
            segments.push(segment);
            if flow.is_break() {
                seek = content_frames;
                break;
            }
        }
        if !options.condition_on_previous_text || result.temperature > PROMPT_RESET_ON_TEMPERATURE {
            prompt_reset_since = all_tokens.len();
        }
    }
    let language = language.map_or((String::new(), 0.0), |l| (l.code, l.probability));
    Ok(LongformOutput { segments, language })
}

/// The most tokens a window `frames` wide may sample (of `sample_len`).
fn short_window_sample_len(frames: usize, sample_len: usize) -> usize {
    sample_len.min(frames / FRAMES_PER_SHORT_WINDOW_TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_windows_sample_ten_tokens_a_second_at_most() {
        assert_eq!(short_window_sample_len(500, 224), 50);
        assert_eq!(short_window_sample_len(2500, 224), 224);
        assert_eq!(short_window_sample_len(2000, 224), 200);
        // Twice the fastest dictation (4.5 tokens a second, timestamps
        // included) fits any window, up to Whisper's own limit.
        for frames in (500..N_FRAMES).step_by(SHORT_WINDOW_STEP_FRAMES) {
            let fastest = 2.0 * 4.5 * frames as f64 / 100.0;
            assert!(short_window_sample_len(frames, 224) as f64 >= fastest.min(224.0));
        }
    }
    use crate::model::special_tokens::tests::specials;

    #[test]
    fn short_windows_round_up_to_the_step_and_never_pass_30_s() {
        assert_eq!(window_frames(1, false), N_FRAMES);
        assert_eq!(window_frames(1, true), 500);
        assert_eq!(window_frames(500, true), 500);
        assert_eq!(window_frames(501, true), 1000);
        assert_eq!(window_frames(2999, true), N_FRAMES);
        assert_eq!(window_frames(N_FRAMES, true), N_FRAMES);
    }

    const TS: u32 = 50363;

    fn s() -> SpecialTokens {
        specials(false)
    }

    #[test]
    fn a_single_timestamp_ending_consumes_the_window() {
        // <|0.00|> a b <|2.00|> <|2.00|> c <|4.00|>
        let tokens = [TS, 1, 2, TS + 100, TS + 100, 3, TS + 200];
        let split = split_window(&tokens, &s(), 3000);
        assert_eq!(split.advance, 3000);
        assert_eq!(split.segments.len(), 2);
        assert_eq!(split.segments[0], (0.0, 2.0, vec![TS, 1, 2, TS + 100]));
        assert_eq!(split.segments[1].0, 2.0);
        assert!((split.segments[1].1 - 4.0).abs() < 1e-9);
    }

    #[test]
    fn an_unfinished_last_segment_is_decoded_again() {
        // <|0.00|> a <|3.00|> <|3.00|> b (cut off): seek to 3.00 s = 300 frames.
        let tokens = [TS, 1, TS + 150, TS + 150, 2];
        let split = split_window(&tokens, &s(), 3000);
        assert_eq!(split.segments.len(), 1);
        assert_eq!(split.advance, 300);
    }

    #[test]
    fn without_pairs_the_window_is_one_segment() {
        let split = split_window(&[TS, 1, 2, TS + 250], &s(), 3000);
        assert_eq!(split.segments, vec![(0.0, 5.0, vec![TS, 1, 2, TS + 250])]);
        assert_eq!(split.advance, 3000);
        // No timestamps at all (timestamps off): the window's length.
        let split = split_window(&[1, 2], &s(), 1234);
        assert!((split.segments[0].1 - 12.34).abs() < 1e-9);
        assert_eq!(split.advance, 1234);
    }
}
