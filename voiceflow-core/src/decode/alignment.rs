//! Word timestamps, as openai/whisper's `timing.py` and faster-whisper find
//! them: the text tokens of a window are run once more through the decoder
//! behind the start-of-transcript sequence and `<|notimestamps|>`; the
//! cross-attention of the model's alignment heads says which audio frames
//! each token looked at. Per head the attention is normalised over the
//! tokens and median-filtered over the frames, the heads are averaged, and
//! dynamic time warping finds the monotonic path from the first token to the
//! last through the frames; a token starts where the path reaches it. Tokens
//! are then joined into words (on spaces, or on whole characters for
//! languages written without them), punctuation is attached to its
//! neighbour, and faster-whisper's corrections cap words that run over
//! pauses and sentence ends.

use super::TokenDecoder;
use crate::model::tokenizer::WhisperTokenizer;
use crate::transcript::Word;
use crate::Result;

/// Encoder states (cross-attention keys) per second: 100 mel frames a
/// second, halved by the encoder's stride.
pub(crate) const STATES_PER_SECOND: f64 = 50.0;
/// Width of the median filter over frames (openai's `medfilt_width`).
const MEDIAN_FILTER_WIDTH: usize = 7;
/// Punctuation joined to the word after it (openai's `prepend_punctuations`).
pub(crate) const PREPEND_PUNCTUATIONS: &str = "\"'“¿([{-";
/// Punctuation joined to the word before it (openai's `append_punctuations`).
pub(crate) const APPEND_PUNCTUATIONS: &str = "\"'.。,，!！?？:：”)]}、";
/// Words that end a sentence; a long word next to one is cut short.
const SENTENCE_END_MARKS: &str = ".。!！?？";
/// ASCII punctuation (Python's `string.punctuation`): a token of it alone is
/// a word of its own when splitting on spaces.
const ASCII_PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
/// The longest a typical word may be when capping long words, in seconds
/// (faster-whisper's bound on the median word duration).
const MAX_MEDIAN_DURATION: f64 = 0.7;
/// Languages written without spaces between words: their tokens are split
/// into whole characters instead.
const LANGUAGES_WITHOUT_SPACES: [&str; 6] = ["zh", "ja", "th", "lo", "my", "yue"];

/// Cross-attention scores (before the softmax) of the alignment heads for
/// one token sequence over one window: `[heads, tokens, frames]`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrossAttention {
    /// Alignment heads.
    pub heads: usize,
    /// Tokens of the sequence (rows).
    pub tokens: usize,
    /// Encoder states of the window (columns).
    pub frames: usize,
    /// `heads × tokens × frames` scores.
    pub scores: Vec<f32>,
}

/// One word of a window with its times relative to the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WordTiming {
    /// The word's text, with its leading space.
    pub word: String,
    /// Its tokens.
    pub tokens: Vec<u32>,
    /// Start in seconds.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// Mean probability of its tokens.
    pub probability: f64,
}

/// What [`window_words`] aligns: one window's text and where it is.
pub(crate) struct WindowText<'a> {
    /// The window's start-of-transcript sequence (language and task).
    pub sot_sequence: &'a [u32],
    /// The text tokens of all its segments, in order.
    pub text_tokens: &'a [u32],
    /// Mel frames of audio in the window (its attention is renormalised
    /// over their encoder states).
    pub audio_frames: usize,
    /// The window's start in seconds from the beginning of the audio.
    pub time_offset: f64,
    /// The transcription's language code (how words are split).
    pub language: &'a str,
}

/// The words of each of a window's `segments`, found by running its text
/// once more through `decoder` behind the start-of-transcript sequence and
/// `<|notimestamps|>` (openai's `find_alignment`), then [`assign_words`].
pub(crate) fn window_words(
    decoder: &mut dyn TokenDecoder,
    tokenizer: &WhisperTokenizer,
    text: &WindowText<'_>,
    segments: &mut [SegmentSpan],
    last_speech: &mut f64,
    logits: &mut Vec<f32>,
) -> Result<Vec<Vec<Word>>> {
    let special = tokenizer.special();
    let (sot, tokens) = (text.sot_sequence, text.text_tokens);
    if tokens.is_empty() {
        return Ok(vec![Vec::new(); segments.len()]);
    }
    let mut sequence = sot.to_vec();
    sequence.push(special.no_timestamps);
    sequence.extend_from_slice(tokens);
    sequence.push(special.eot);
    // Row sot.len() + k (from <|notimestamps|> on) predicts text token k.
    let positions: Vec<usize> = (sot.len()..sot.len() + tokens.len()).collect();
    let attention = decoder.align(&sequence, &positions, logits)?;
    let vocab = decoder.vocab_size();
    let text_vocab = (special.eot as usize).min(vocab);
    let probs: Vec<f32> = tokens
        .iter()
        .enumerate()
        .map(|(k, &token)| {
            let row = &logits[k * vocab..k * vocab + text_vocab];
            token_probability(row, token as usize)
        })
        .collect();
    let starts = row_start_times(&attention, sot.len(), text.audio_frames / 2);
    let mut with_end = tokens.to_vec();
    with_end.push(special.eot);
    let words = split_words(
        &with_end,
        special.eot,
        splits_on_characters(text.language),
        &|ids| tokenizer.decode_with_timestamps(ids),
    );
    let timings = word_timings(words, &starts, &probs);
    Ok(assign_words(
        timings,
        segments,
        text.time_offset,
        last_speech,
    ))
}

/// The softmax probability of entry `index` of `row` (0 when out of range).
fn token_probability(row: &[f32], index: usize) -> f32 {
    let Some(&value) = row.get(index) else {
        return 0.0;
    };
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|&x| (x - max).exp()).sum();
    (value - max).exp() / sum
}

/// The time (seconds from the window's start) at which each row from
/// `first_row` to the second-to-last one begins: the cost of a row at a
/// frame is its attention there, softmaxed over the first `audio_frames`
/// frames (those holding audio), normalised per frame over all rows,
/// median-filtered and averaged over the heads.
pub(crate) fn row_start_times(
    attention: &CrossAttention,
    first_row: usize,
    audio_frames: usize,
) -> Vec<f64> {
    let CrossAttention {
        heads,
        tokens,
        frames,
        ..
    } = *attention;
    let n = audio_frames.min(frames);
    if n == 0 || tokens < first_row + 2 {
        return Vec::new();
    }
    let mut mean = vec![0.0f32; tokens * n];
    let mut weights = vec![0.0f32; tokens * n];
    for h in 0..heads {
        for t in 0..tokens {
            let start = (h * tokens + t) * frames;
            let row = &mut weights[t * n..(t + 1) * n];
            row.copy_from_slice(&attention.scores[start..start + n]);
            softmax(row);
        }
        standardize_columns(&mut weights, tokens, n);
        for t in 0..tokens {
            let row = &mut weights[t * n..(t + 1) * n];
            median_filter(row, MEDIAN_FILTER_WIDTH);
            for (m, w) in mean[t * n..(t + 1) * n].iter_mut().zip(row.iter()) {
                *m += w / heads as f32;
            }
        }
    }
    // The rows that predict the text tokens and the end of text.
    let rows = tokens - 1 - first_row;
    let cost: Vec<f32> = mean[first_row * n..(first_row + rows) * n]
        .iter()
        .map(|w| -w)
        .collect();
    let mut starts = Vec::with_capacity(rows);
    for (row, frame) in dtw(&cost, rows, n) {
        if row == starts.len() {
            starts.push(frame as f64 / STATES_PER_SECOND);
        }
    }
    starts
}

/// Softmax of `row` in place.
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in row.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in row.iter_mut() {
        *x /= sum;
    }
}

/// Each column of the `rows × cols` matrix minus its mean, divided by its
/// (population) standard deviation; a column without spread becomes zeros
/// (openai's division would make it NaN and derail the time warping).
fn standardize_columns(m: &mut [f32], rows: usize, cols: usize) {
    for c in 0..cols {
        let column = || (0..rows).map(|r| m[r * cols + c]);
        let mean = column().sum::<f32>() / rows as f32;
        let var = column().map(|x| (x - mean) * (x - mean)).sum::<f32>() / rows as f32;
        let std = var.sqrt();
        for r in 0..rows {
            let x = &mut m[r * cols + c];
            *x = if std > 0.0 { (*x - mean) / std } else { 0.0 };
        }
    }
}

/// Median filter of odd `width` over `row` in place, the row extended by
/// reflection at both ends (`x[-1] = x[1]`); rows no longer than half the
/// width stay as they are (openai's `median_filter`).
fn median_filter(row: &mut [f32], width: usize) {
    let pad = width / 2;
    let n = row.len();
    if n <= pad {
        return;
    }
    let reflect = |i: isize| -> f32 {
        let i = if i < 0 { -i } else { i } as usize;
        let i = if i >= n { 2 * (n - 1) - i } else { i };
        row[i]
    };
    let mut window = vec![0.0f32; width];
    let filtered: Vec<f32> = (0..n as isize)
        .map(|center| {
            for (k, w) in window.iter_mut().enumerate() {
                *w = reflect(center + k as isize - pad as isize);
            }
            window.sort_by(f32::total_cmp);
            window[pad]
        })
        .collect();
    row.copy_from_slice(&filtered);
}

/// Dynamic time warping through the `rows × cols` cost matrix: the cheapest
/// path of (row, column) cells from (0, 0) to the last cell, each step one
/// row down, one column right, or both. Of equal costs the step right is
/// taken (openai's `dtw_cpu`).
fn dtw(cost: &[f32], rows: usize, cols: usize) -> Vec<(usize, usize)> {
    #[derive(Clone, Copy)]
    enum Step {
        Diagonal,
        Down,
        Right,
    }
    let width = cols + 1;
    let mut total = vec![f32::INFINITY; (rows + 1) * width];
    let mut steps = vec![Step::Right; (rows + 1) * width];
    total[0] = 0.0;
    for j in 1..=cols {
        for i in 1..=rows {
            let diagonal = total[(i - 1) * width + j - 1];
            let down = total[(i - 1) * width + j];
            let right = total[i * width + j - 1];
            let (best, step) = if diagonal < down && diagonal < right {
                (diagonal, Step::Diagonal)
            } else if down < diagonal && down < right {
                (down, Step::Down)
            } else {
                (right, Step::Right)
            };
            total[i * width + j] = cost[(i - 1) * cols + j - 1] + best;
            steps[i * width + j] = step;
        }
    }
    let (mut i, mut j) = (rows, cols);
    let mut path = Vec::with_capacity(rows + cols);
    while i > 0 && j > 0 {
        path.push((i - 1, j - 1));
        match steps[i * width + j] {
            Step::Diagonal => (i, j) = (i - 1, j - 1),
            Step::Down => i -= 1,
            Step::Right => j -= 1,
        }
    }
    path.reverse();
    path
}

/// Whether words of `language` are split into characters (no spaces).
pub(crate) fn splits_on_characters(language: &str) -> bool {
    LANGUAGES_WITHOUT_SPACES.contains(&language)
}

/// Groups `tokens` into words, each with its text: on whole characters
/// (a token that ends inside a multi-byte character joins the next), and
/// unless `on_characters`, pieces without a leading space join the word
/// before unless they are special tokens (`>= eot`) or ASCII punctuation
/// (openai's `split_tokens_on_unicode` and `split_tokens_on_spaces`).
pub(crate) fn split_words(
    tokens: &[u32],
    eot: u32,
    on_characters: bool,
    decode: &dyn Fn(&[u32]) -> String,
) -> Vec<(String, Vec<u32>)> {
    const REPLACEMENT: char = '\u{fffd}';
    let full: Vec<char> = decode(tokens).chars().collect();
    let mut pieces: Vec<(String, Vec<u32>)> = Vec::new();
    let mut current = Vec::new();
    let mut offset = 0;
    for &token in tokens {
        current.push(token);
        let text = decode(&current);
        let chars: Vec<char> = text.chars().collect();
        let whole = match chars.iter().position(|&c| c == REPLACEMENT) {
            None => true,
            // A replacement character the full text has too is a real one.
            Some(i) => full.get(offset + i) == Some(&REPLACEMENT),
        };
        if whole {
            offset += chars.len();
            pieces.push((text, std::mem::take(&mut current)));
        }
    }
    if on_characters {
        return pieces;
    }
    let mut words: Vec<(String, Vec<u32>)> = Vec::new();
    for (text, ids) in pieces {
        let starts_word = ids[0] >= eot
            || text.starts_with(' ')
            || ASCII_PUNCTUATION.contains(text.trim())
            || words.is_empty();
        match words.last_mut() {
            Some((word, word_ids)) if !starts_word => {
                word.push_str(&text);
                word_ids.extend(ids);
            }
            _ => words.push((text, ids)),
        }
    }
    words
}

/// The words of `text_tokens` with their times, given each row's start
/// (`starts`: one per text token plus one for the end of text) and each
/// text token's probability.
pub(crate) fn word_timings(
    words: Vec<(String, Vec<u32>)>,
    starts: &[f64],
    token_probs: &[f32],
) -> Vec<WordTiming> {
    let mut timings = Vec::with_capacity(words.len());
    let mut first = 0;
    // The last word is the end of text: it only closes the one before.
    let count = words.len().saturating_sub(1);
    for (word, tokens) in words.into_iter().take(count) {
        let last = first + tokens.len();
        let (Some(&start), Some(&end)) = (starts.get(first), starts.get(last)) else {
            break;
        };
        let probs = &token_probs[first.min(token_probs.len())..last.min(token_probs.len())];
        let probability = if probs.is_empty() {
            0.0
        } else {
            probs.iter().map(|&p| f64::from(p)).sum::<f64>() / probs.len() as f64
        };
        timings.push(WordTiming {
            word,
            tokens,
            start,
            end,
            probability,
        });
        first = last;
    }
    timings
}

/// Joins punctuation to its word: a word of prepended punctuation (with a
/// leading space) to the word after it, appended punctuation to the word
/// before it; the emptied entries stay, with no text and no tokens
/// (openai's `merge_punctuations`).
fn merge_punctuations(words: &mut [WordTiming]) {
    if words.len() < 2 {
        return;
    }
    let mut following = words.len() - 1;
    for i in (0..words.len() - 1).rev() {
        let w = &words[i];
        if w.word.starts_with(' ') && PREPEND_PUNCTUATIONS.contains(w.word.trim()) {
            let (word, tokens) = (
                std::mem::take(&mut words[i].word),
                std::mem::take(&mut words[i].tokens),
            );
            let next = &mut words[following];
            next.word.insert_str(0, &word);
            next.tokens.splice(0..0, tokens);
        } else {
            following = i;
        }
    }
    let mut previous = 0;
    for j in 1..words.len() {
        if !words[previous].word.ends_with(' ')
            && APPEND_PUNCTUATIONS.contains(words[j].word.as_str())
        {
            let (word, tokens) = (
                std::mem::take(&mut words[j].word),
                std::mem::take(&mut words[j].tokens),
            );
            let prev = &mut words[previous];
            prev.word.push_str(&word);
            prev.tokens.extend(tokens);
        } else {
            previous = j;
        }
    }
}

/// One segment of a window as word timestamps see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SegmentSpan {
    /// Start in seconds from the beginning of the audio.
    pub start: f64,
    /// End in seconds from the beginning of the audio.
    pub end: f64,
    /// Its text tokens (below the end of text).
    pub text_tokens: usize,
}

/// Hands a window's words out to its segments, with times from the start
/// of the audio (`time_offset` is the window's start) rounded to 10 ms, and
/// applies openai's and faster-whisper's corrections: words next to a
/// sentence end, and the first word after a pause, are at most twice the
/// median word duration; a segment's first and last word keep to the
/// segment's timestamps when they run far past them, else the segment's
/// times become its words'. `last_speech` is the end of the speech before
/// this window, updated to the end of its last segment with words.
/// Returns the words of each segment.
pub(crate) fn assign_words(
    mut alignment: Vec<WordTiming>,
    segments: &mut [SegmentSpan],
    time_offset: f64,
    last_speech: &mut f64,
) -> Vec<Vec<Word>> {
    let durations: Vec<f64> = alignment
        .iter()
        .map(|w| w.end - w.start)
        .filter(|&d| d != 0.0)
        .collect();
    let median = median(&durations).unwrap_or(0.0).min(MAX_MEDIAN_DURATION);
    let max_duration = 2.0 * median;
    if !durations.is_empty() {
        for i in 1..alignment.len() {
            if alignment[i].end - alignment[i].start > max_duration {
                if SENTENCE_END_MARKS.contains(alignment[i].word.as_str()) {
                    alignment[i].end = alignment[i].start + max_duration;
                } else if SENTENCE_END_MARKS.contains(alignment[i - 1].word.as_str()) {
                    alignment[i].start = alignment[i].end - max_duration;
                }
            }
        }
    }
    merge_punctuations(&mut alignment);

    let round = |t: f64| ((time_offset + t) * 100.0).round() / 100.0;
    let mut timings = alignment.into_iter().peekable();
    let mut out = Vec::with_capacity(segments.len());
    for segment in segments.iter_mut() {
        let mut words: Vec<(String, f64, f64, f64)> = Vec::new();
        let mut saved = 0;
        while saved < segment.text_tokens {
            let Some(timing) = timings.next() else { break };
            if !timing.word.is_empty() {
                words.push((
                    timing.word,
                    round(timing.start),
                    round(timing.end),
                    timing.probability,
                ));
            }
            saved += timing.tokens.len();
        }
        if !words.is_empty() {
            fix_segment_edges(&mut words, segment, median, last_speech);
        }
        out.push(
            words
                .into_iter()
                .map(|(word, start, end, probability)| Word {
                    word,
                    start: start as f32,
                    end: end as f32,
                    probability: probability as f32,
                })
                .collect(),
        );
    }
    out
}

/// faster-whisper's corrections at a segment's edges (see [`assign_words`]).
fn fix_segment_edges(
    words: &mut [(String, f64, f64, f64)],
    segment: &mut SegmentSpan,
    median: f64,
    last_speech: &mut f64,
) {
    let max_duration = 2.0 * median;
    let n = words.len();
    let first_long = words[0].2 - words[0].1 > max_duration;
    let pair_long = n > 1 && words[1].2 - words[0].1 > 2.0 * max_duration;
    if words[0].2 - *last_speech > 4.0 * median && (first_long || pair_long) {
        if n > 1 && words[1].2 - words[1].1 > max_duration {
            let boundary = (words[1].2 / 2.0).max(words[1].2 - max_duration);
            words[0].2 = boundary;
            words[1].1 = boundary;
        }
        words[0].1 = (words[0].2 - max_duration).max(0.0);
    }
    if segment.start < words[0].2 && segment.start - 0.5 > words[0].1 {
        words[0].1 = (words[0].2 - median).min(segment.start).max(0.0);
    } else {
        segment.start = words[0].1;
    }
    let last = &mut words[n - 1];
    if segment.end > last.1 && segment.end + 0.5 < last.2 {
        last.2 = (last.1 + median).max(segment.end);
    } else {
        segment.end = last.2;
    }
    *last_speech = segment.end;
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtw_follows_the_cheap_diagonal_and_waits_on_long_rows() {
        // Row 0 is cheap in columns 0-1, row 1 in 2-4, row 2 in 5.
        let cheap = [[0, 1], [2, 4], [5, 5]];
        let (rows, cols) = (3, 6);
        let mut cost = vec![1.0f32; rows * cols];
        for (r, &[a, b]) in cheap.iter().enumerate() {
            for c in a..=b {
                cost[r * cols + c] = 0.0;
            }
        }
        let path = dtw(&cost, rows, cols);
        assert_eq!(path.first(), Some(&(0, 0)));
        assert_eq!(path.last(), Some(&(2, 5)));
        assert_eq!(path, vec![(0, 0), (0, 1), (1, 2), (1, 3), (1, 4), (2, 5)]);
        // Every step moves down, right or both.
        for w in path.windows(2) {
            let (di, dj) = (w[1].0 - w[0].0, w[1].1 - w[0].1);
            assert!(di <= 1 && dj <= 1 && di + dj > 0);
        }
    }

    #[test]
    fn dtw_moves_down_when_rows_outnumber_columns() {
        let path = dtw(&[0.0; 3], 3, 1);
        assert_eq!(path, vec![(0, 0), (1, 0), (2, 0)]);
    }

    #[test]
    fn median_filter_reflects_at_the_edges() {
        let mut row = [5.0, 1.0, 9.0, 2.0, 8.0];
        median_filter(&mut row, 3);
        // Extended: 1 5 1 9 2 8 2 → medians of each 3.
        assert_eq!(row, [1.0, 5.0, 2.0, 8.0, 2.0]);
        let mut spike = [0.0, 0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0];
        median_filter(&mut spike, 7);
        assert_eq!(spike, [0.0; 8]);
        // Shorter than half the width: unchanged.
        let mut short = [3.0, 1.0, 2.0];
        median_filter(&mut short, 7);
        assert_eq!(short, [3.0, 1.0, 2.0]);
    }

    #[test]
    fn standardized_columns_have_zero_mean_and_unit_deviation() {
        let mut m = vec![1.0, 10.0, 3.0, 30.0, 5.0, 20.0];
        standardize_columns(&mut m, 3, 2);
        for c in 0..2 {
            let col: Vec<f32> = (0..3).map(|r| m[r * 2 + c]).collect();
            let mean = col.iter().sum::<f32>() / 3.0;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 3.0;
            assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{col:?}");
        }
        let mut flat = vec![2.0, 2.0];
        standardize_columns(&mut flat, 2, 1);
        assert_eq!(flat, [0.0, 0.0]);
    }

    /// Attention of `rows` tokens that each look at their own block of
    /// `per_row` frames, for 2 heads.
    fn block_attention(rows: usize, per_row: usize, frames: usize) -> CrossAttention {
        let heads = 2;
        let mut scores = vec![0.0f32; heads * rows * frames];
        for h in 0..heads {
            for r in 0..rows {
                for f in r * per_row..((r + 1) * per_row).min(frames) {
                    scores[(h * rows + r) * frames + f] = 10.0;
                }
            }
        }
        CrossAttention {
            heads,
            tokens: rows,
            frames,
            scores,
        }
    }

    #[test]
    fn rows_start_where_their_attention_starts() {
        // Rows: 1 start token, 4 text rows, the end of text; row r looks
        // at frames 10r..10r+9.
        let attention = block_attention(6, 10, 100);
        let starts = row_start_times(&attention, 1, 70);
        assert_eq!(starts.len(), 4);
        // The path starts at frame 0 with the first row (as openai's does).
        assert_eq!(starts[0], 0.0);
        for (k, s) in starts.iter().enumerate().skip(1) {
            let expected = (k + 1) as f64 * 10.0 / STATES_PER_SECOND;
            assert!(
                (s - expected).abs() <= 1.0 / STATES_PER_SECOND,
                "{starts:?}"
            );
        }
        // Frames past the audio are not looked at: the path ends at frame 69.
        assert!(starts.iter().all(|&s| s < 70.0 / STATES_PER_SECOND));
    }

    fn text_decoder(vocab: &'static [&'static str]) -> impl Fn(&[u32]) -> String {
        move |ids: &[u32]| ids.iter().map(|&i| vocab[i as usize]).collect()
    }

    #[test]
    fn words_split_on_spaces_and_keep_punctuation_apart() {
        const V: [&str; 7] = [" Hello", ",", " wor", "ld", "!", " it's", "<eot>"];
        let decode = text_decoder(&V);
        let words = split_words(&[0, 1, 2, 3, 4, 5, 6], 6, false, &decode);
        let texts: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(texts, [" Hello", ",", " world", "!", " it's", "<eot>"]);
        assert_eq!(words[2].1, vec![2, 3]);
    }

    #[test]
    fn split_bytes_of_one_character_stay_together() {
        // Tokens 0 and 1 are halves of "é"; 2 is "x".
        let decode = |ids: &[u32]| -> String {
            let mut bytes = Vec::new();
            for &i in ids {
                bytes.extend_from_slice(match i {
                    0 => &[0xC3][..],
                    1 => &[0xA9][..],
                    _ => b"x",
                });
            }
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let words = split_words(&[0, 1, 2], 9, true, &decode);
        assert_eq!(
            words,
            vec![("é".to_string(), vec![0, 1]), ("x".to_string(), vec![2])]
        );
    }

    fn timing(word: &str, start: f64, end: f64) -> WordTiming {
        WordTiming {
            word: word.into(),
            tokens: vec![0; word.len().max(1)],
            start,
            end,
            probability: 0.5,
        }
    }

    #[test]
    fn punctuation_joins_its_neighbour() {
        let mut words = vec![
            timing(" \"", 0.0, 0.1),
            timing(" Hi", 0.1, 0.5),
            timing(",", 0.5, 0.6),
            timing(" you", 0.6, 1.0),
            timing(".\"", 1.0, 1.1),
        ];
        merge_punctuations(&mut words);
        let texts: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(texts, ["", " \" Hi,", "", " you", ".\""]);
        // ".\"" is not one appended mark, so it stays a word; the times of
        // a word are those of its first piece.
        assert_eq!(words[1].start, 0.1);
        assert_eq!(words[1].tokens.len(), 2 + 3 + 1);
    }

    #[test]
    fn word_times_come_from_the_rows_of_their_tokens() {
        let words = vec![
            (" a".to_string(), vec![1]),
            (" bc".to_string(), vec![2, 3]),
            ("<eot>".to_string(), vec![9]),
        ];
        let timings = word_timings(words, &[0.0, 0.4, 0.6, 1.0], &[0.9, 0.5, 0.7]);
        assert_eq!(timings.len(), 2);
        assert_eq!((timings[0].start, timings[0].end), (0.0, 0.4));
        assert_eq!((timings[1].start, timings[1].end), (0.4, 1.0));
        assert!((timings[1].probability - 0.6).abs() < 1e-6);
    }

    #[test]
    fn words_go_to_their_segments_with_absolute_rounded_times() {
        let alignment = vec![
            timing(" one", 0.0, 0.4),
            timing(" two", 0.4, 0.8),
            timing(".", 0.8, 0.82),
            timing(" three", 1.0, 1.4),
        ];
        let mut segments = vec![
            SegmentSpan {
                start: 10.0,
                end: 10.8,
                text_tokens: 4 + 4 + 1,
            },
            SegmentSpan {
                start: 11.0,
                end: 11.4,
                text_tokens: 6,
            },
        ];
        let mut last = 10.0;
        let words = assign_words(alignment, &mut segments, 10.0, &mut last);
        assert_eq!(words.len(), 2);
        let texts: Vec<&str> = words[0].iter().map(|w| w.word.as_str()).collect();
        assert_eq!(texts, [" one", " two."]);
        assert_eq!(words[1][0].word, " three");
        assert_eq!((words[1][0].start, words[1][0].end), (11.0, 11.4));
        // The segments take their words' times.
        assert_eq!((segments[0].start, segments[0].end), (10.0, 10.8));
        assert_eq!(last, 11.4);
    }

    #[test]
    fn a_long_first_word_after_a_pause_is_cut_to_twice_the_median() {
        // Median duration 0.2 s: the first word, 3 s long after 5 s of
        // silence, keeps its end and gets at most 0.4 s.
        let alignment = vec![
            timing(" so", 0.0, 3.0),
            timing(" we", 3.0, 3.2),
            timing(" go", 3.2, 3.4),
            timing(" on", 3.4, 3.6),
        ];
        let mut segments = vec![SegmentSpan {
            start: 0.0,
            end: 3.6,
            text_tokens: 12,
        }];
        let mut last = -5.0;
        let words = assign_words(alignment, &mut segments, 0.0, &mut last);
        let first = &words[0][0];
        assert_eq!(first.end, 3.0);
        assert!((first.start - 2.6).abs() < 1e-6, "{first:?}");
        assert!((segments[0].start - 2.6).abs() < 1e-6);
    }

    #[test]
    fn token_probability_is_the_softmax_entry() {
        let p = token_probability(&[0.0, (3.0f32).ln()], 1);
        assert!((p - 0.75).abs() < 1e-6);
        assert_eq!(token_probability(&[1.0], 5), 0.0);
    }

    #[test]
    fn languages_without_spaces_split_on_characters() {
        assert!(splits_on_characters("ja") && splits_on_characters("yue"));
        assert!(!splits_on_characters("en") && !splits_on_characters("de"));
    }
}
