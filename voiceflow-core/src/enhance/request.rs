//! What an enhancement is asked to do: the destination [`Context`], the
//! language, the user's [`UserDictionary`] and the [`EnhanceOptions`].

use std::sync::Arc;

use crate::Context;

/// Switches for the rule enhancer. The defaults suit dictation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnhanceOptions {
    /// Remove fillers (um, uh, "you know" used as a filler) and collapse
    /// stutters and repeated words. Default: on.
    pub remove_fillers: bool,
    /// Apply spoken corrections ("scratch that", "no wait ... I mean").
    /// Default: on.
    pub spoken_corrections: bool,
    /// Turn spoken punctuation and layout commands ("comma", "new paragraph")
    /// into what they name. Default: on.
    pub spoken_punctuation: bool,
    /// Write numbers as digits where that is the convention ("twenty five
    /// percent" -> "25%"). Default: on.
    pub numbers_to_digits: bool,
    /// Turn emoji words into emoticons ("smiley face" -> ":)") outside code.
    /// Default: off.
    pub emoji_words: bool,
}

impl Default for EnhanceOptions {
    fn default() -> Self {
        EnhanceOptions {
            remove_fillers: true,
            spoken_corrections: true,
            spoken_punctuation: true,
            numbers_to_digits: true,
            emoji_words: false,
        }
    }
}

/// One dictionary entry: what may be said (lowercase words) and how it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictionaryEntry {
    spoken: Vec<String>,
    written: String,
}

impl DictionaryEntry {
    /// The spoken form, as lowercase words.
    pub fn spoken(&self) -> &[String] {
        &self.spoken
    }

    /// The written form.
    pub fn written(&self) -> &str {
        &self.written
    }
}

/// The user's own words: replacements ("voice flow" -> "VoiceFlow") and
/// preferred spellings ("GitHub" wherever "github" is said). Matching is
/// case-insensitive and on whole words; the longest entry wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDictionary {
    entries: Vec<DictionaryEntry>,
}

fn words_of(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

impl UserDictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        UserDictionary::default()
    }

    /// Adds a replacement: `spoken` (one or more words) is written as
    /// `written`. An entry with no words in `spoken` or an empty `written` is
    /// ignored.
    pub fn replace(mut self, spoken: &str, written: &str) -> Self {
        let spoken = words_of(spoken);
        let written = written.trim();
        if !spoken.is_empty() && !written.is_empty() {
            self.entries.push(DictionaryEntry {
                spoken,
                written: written.to_string(),
            });
            // Longest spoken form first, so "new york city" wins over "new york".
            self.entries
                .sort_by_key(|e| std::cmp::Reverse(e.spoken.len()));
        }
        self
    }

    /// Adds a preferred spelling: `word` (one or more words) in any case is
    /// written exactly as given.
    pub fn spelling(self, word: &str) -> Self {
        self.replace(word, word)
    }

    /// The entries, longest spoken form first.
    pub fn entries(&self) -> &[DictionaryEntry] {
        &self.entries
    }

    /// Whether the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Everything an enhancement needs besides the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnhanceRequest {
    /// The destination.
    pub context: Context,
    /// Language code of the text (`"en"`); `None` means English. The rule
    /// enhancer's word rules (fillers, repetitions, corrections, numbers,
    /// spoken commands, greetings and headings) are English; for other
    /// languages it applies only the dictionary, punctuation tidying and
    /// spacing, full stops and sentence capitalisation.
    pub language: Option<String>,
    /// The user's dictionary, shared between requests.
    pub dictionary: Arc<UserDictionary>,
    /// Rule switches.
    pub options: EnhanceOptions,
}

impl EnhanceRequest {
    /// A request for `context` with English, no dictionary and default options.
    pub fn new(context: Context) -> Self {
        EnhanceRequest {
            context,
            ..EnhanceRequest::default()
        }
    }

    /// Sets the language code.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Sets the user dictionary.
    pub fn dictionary(mut self, dictionary: Arc<UserDictionary>) -> Self {
        self.dictionary = dictionary;
        self
    }

    /// Sets the options.
    pub fn options(mut self, options: EnhanceOptions) -> Self {
        self.options = options;
        self
    }

    /// Whether the text is English (no language given, or a code starting
    /// with `en`).
    pub fn is_english(&self) -> bool {
        self.language.as_deref().is_none_or(|l| {
            let l = l.trim().to_ascii_lowercase();
            l == "en" || l.starts_with("en-") || l.starts_with("en_") || l == "english"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_contexts_in_declaration_order() {
        for (i, context) in Context::ALL.iter().enumerate() {
            assert_eq!(*context as usize, i, "{context}");
        }
    }

    #[test]
    fn longest_dictionary_entry_comes_first_and_empty_ones_are_ignored() {
        let d = UserDictionary::new()
            .replace("new york", "New York")
            .replace("new york city", "NYC")
            .replace("  ", "x")
            .replace("y", " ");
        let spoken: Vec<_> = d.entries().iter().map(|e| e.spoken().join(" ")).collect();
        assert_eq!(spoken, ["new york city", "new york"]);
    }
}
