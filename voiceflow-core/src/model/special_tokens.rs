//! Whisper's special token ids, derived from the tokenizer's added tokens.
//!
//! The ids shift between English-only and multilingual vocabularies (and
//! again for large-v3), so they are looked up by name, never hard-coded.
//! Timestamp tokens are not in `tokenizer.json`; they follow
//! `<|notimestamps|>`: `timestamp_begin + i` means `i × 0.02` s.

use crate::config::Task;

/// Timestamp steps per second (one step is 0.02 s).
pub const TIMESTAMPS_PER_SECOND: f32 = 50.0;

/// The ids of Whisper's control tokens and languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialTokens {
    /// `<|endoftext|>`: end of a transcription.
    pub eot: u32,
    /// `<|startoftranscript|>`.
    pub sot: u32,
    /// `<|translate|>`.
    pub translate: u32,
    /// `<|transcribe|>`.
    pub transcribe: u32,
    /// `<|startoflm|>`.
    pub sot_lm: u32,
    /// `<|startofprev|>`: starts the previous-text prompt.
    pub sot_prev: u32,
    /// `<|nospeech|>` (named `<|nocaptions|>` in older vocabularies).
    pub no_speech: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// `<|0.00|>`, the first timestamp token.
    pub timestamp_begin: u32,
    /// Language codes and their token ids, in id order.
    pub languages: Vec<(String, u32)>,
}

impl SpecialTokens {
    /// Derives the ids from `(id, content)` pairs of the tokenizer's added
    /// tokens. Returns the name of a missing token as the error.
    pub fn from_added_tokens<'a>(
        tokens: impl IntoIterator<Item = (u32, &'a str)>,
    ) -> Result<Self, String> {
        let tokens: Vec<(u32, &str)> = tokens.into_iter().collect();
        let find = |name: &str| tokens.iter().find(|(_, c)| *c == name).map(|(id, _)| *id);
        let need = |name: &str| find(name).ok_or_else(|| format!("token {name} is missing"));
        let sot = need("<|startoftranscript|>")?;
        let translate = need("<|translate|>")?;
        let no_timestamps = need("<|notimestamps|>")?;
        let mut languages: Vec<(String, u32)> = tokens
            .iter()
            .filter(|(id, _)| *id > sot && *id < translate)
            .filter_map(|(id, content)| {
                let code = content.strip_prefix("<|")?.strip_suffix("|>")?;
                Some((code.to_string(), *id))
            })
            .collect();
        languages.sort_by_key(|(_, id)| *id);
        Ok(SpecialTokens {
            eot: need("<|endoftext|>")?,
            sot,
            translate,
            transcribe: need("<|transcribe|>")?,
            sot_lm: need("<|startoflm|>")?,
            sot_prev: need("<|startofprev|>")?,
            no_speech: find("<|nospeech|>")
                .or_else(|| find("<|nocaptions|>"))
                .ok_or("token <|nospeech|> (or <|nocaptions|>) is missing")?,
            no_timestamps,
            timestamp_begin: no_timestamps + 1,
            languages,
        })
    }

    /// The token of a language code such as `"en"`.
    pub fn language_token(&self, code: &str) -> Option<u32> {
        self.languages
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, id)| *id)
    }

    /// The language code of a language token.
    pub fn language_code(&self, token: u32) -> Option<&str> {
        self.languages
            .iter()
            .find(|(_, id)| *id == token)
            .map(|(c, _)| c.as_str())
    }

    /// The start of every prompt: `[sot]` for English-only models, `[sot,
    /// language, task]` for multilingual ones.
    pub fn sot_sequence(&self, language: Option<u32>, task: Task) -> Vec<u32> {
        let mut seq = vec![self.sot];
        if let Some(language) = language {
            seq.push(language);
            seq.push(match task {
                Task::Transcribe => self.transcribe,
                Task::Translate => self.translate,
            });
        }
        seq
    }

    /// Whether `token` is a timestamp.
    pub fn is_timestamp(&self, token: u32) -> bool {
        token >= self.timestamp_begin
    }

    /// Seconds that a timestamp token stands for, relative to its window.
    pub fn timestamp_seconds(&self, token: u32) -> f32 {
        token.saturating_sub(self.timestamp_begin) as f32 / TIMESTAMPS_PER_SECOND
    }

    /// The control tokens faster-whisper always suppresses on top of the
    /// model's `suppress_tokens`.
    pub fn always_suppressed(&self) -> [u32; 6] {
        [
            self.transcribe,
            self.translate,
            self.sot,
            self.sot_prev,
            self.sot_lm,
            self.no_speech,
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The added tokens of an English-only (`multilingual = false`) or a
    /// 99-language vocabulary, laid out as openai's tokenizer lays them out.
    pub(crate) fn added_tokens(multilingual: bool) -> Vec<(u32, String)> {
        let eot = if multilingual { 50257 } else { 50256 };
        let mut names = vec![
            "<|endoftext|>".to_string(),
            "<|startoftranscript|>".to_string(),
        ];
        let codes = ["en", "zh", "de", "es"];
        names.extend(codes.iter().map(|c| format!("<|{c}|>")));
        names.extend((codes.len()..99).map(|i| format!("<|l{i}|>")));
        for n in [
            "<|translate|>",
            "<|transcribe|>",
            "<|startoflm|>",
            "<|startofprev|>",
            "<|nocaptions|>",
            "<|notimestamps|>",
        ] {
            names.push(n.to_string());
        }
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (eot + i as u32, n))
            .collect()
    }

    pub(crate) fn specials(multilingual: bool) -> SpecialTokens {
        let tokens = added_tokens(multilingual);
        SpecialTokens::from_added_tokens(tokens.iter().map(|(id, n)| (*id, n.as_str()))).unwrap()
    }

    #[test]
    fn english_only_ids_match_the_facts_table() {
        let s = specials(false);
        assert_eq!(
            (
                s.eot,
                s.sot,
                s.translate,
                s.transcribe,
                s.sot_lm,
                s.sot_prev
            ),
            (50256, 50257, 50357, 50358, 50359, 50360)
        );
        assert_eq!(
            (s.no_speech, s.no_timestamps, s.timestamp_begin),
            (50361, 50362, 50363)
        );
        assert_eq!(s.language_token("en"), Some(50258));
        assert_eq!(s.languages.len(), 99);
        assert_eq!(s.sot_sequence(None, Task::Transcribe), vec![50257]);
    }

    #[test]
    fn multilingual_ids_shift_by_one() {
        let s = specials(true);
        assert_eq!(
            (s.eot, s.sot, s.no_timestamps, s.timestamp_begin),
            (50257, 50258, 50363, 50364)
        );
        let en = s.language_token("en").unwrap();
        assert_eq!(en, 50259);
        assert_eq!(s.language_code(50261), Some("de"));
        assert_eq!(
            s.sot_sequence(Some(en), Task::Transcribe),
            vec![50258, 50259, 50359]
        );
        assert_eq!(
            s.sot_sequence(Some(en), Task::Translate),
            vec![50258, 50259, 50358]
        );
    }

    #[test]
    fn timestamps_are_two_hundredths_of_a_second() {
        let s = specials(false);
        assert!(s.is_timestamp(50363) && !s.is_timestamp(50362));
        assert_eq!(s.timestamp_seconds(50363 + 400), 8.0);
        assert_eq!(s.timestamp_seconds(50363 + 1500), 30.0);
    }

    #[test]
    fn a_missing_control_token_is_named() {
        let tokens: Vec<(u32, String)> = added_tokens(false)
            .into_iter()
            .filter(|(_, n)| n != "<|startofprev|>")
            .collect();
        let err = SpecialTokens::from_added_tokens(tokens.iter().map(|(id, n)| (*id, n.as_str())))
            .unwrap_err();
        assert!(err.contains("<|startofprev|>"), "{err}");
    }
}
