//! Text ⟷ token ids with Whisper's conventions on top of the model's
//! `tokenizer.json`.
//!
//! The `tokenizers` crate silently drops ids it does not know, which includes
//! every timestamp token, so text decoding keeps only text ids and timestamps
//! are rendered here.

use std::fmt::Write as _;
use std::path::Path;

use super::special_tokens::SpecialTokens;
use crate::{Error, Result};

/// The model's tokenizer together with its special tokens.
pub struct WhisperTokenizer {
    inner: tokenizers::Tokenizer,
    special: SpecialTokens,
}

impl std::fmt::Debug for WhisperTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperTokenizer")
            .field("special", &self.special)
            .finish_non_exhaustive()
    }
}

impl WhisperTokenizer {
    /// Loads `tokenizer.json` and derives the special tokens from it.
    pub fn load(path: &Path) -> Result<Self> {
        let malformed = |reason: String| Error::malformed(path, reason);
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
                reason: "tokenizer file does not exist".into(),
            });
        }
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| Error::malformed_from(path, "cannot load the tokenizer", e))?;
        let added = inner.get_added_tokens_decoder();
        let special =
            SpecialTokens::from_added_tokens(added.iter().map(|(id, t)| (*id, t.content.as_str())))
                .map_err(malformed)?;
        Ok(WhisperTokenizer { inner, special })
    }

    /// The special token ids.
    pub fn special(&self) -> &SpecialTokens {
        &self.special
    }

    /// Encodes text as is, without Whisper's prefix tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| Error::InvalidArgument(format!("cannot tokenize {text:?}: {e}")))
    }

    /// Encodes prompt text the way openai does: `" " + text.trim()`.
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
        self.encode(&format!(" {}", text.trim()))
    }

    /// The text of the ids below `<|endoftext|>`; special and timestamp
    /// tokens are left out.
    pub fn decode_text(&self, ids: &[u32]) -> String {
        let text: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&t| t < self.special.eot)
            .collect();
        self.decode_known(&text)
    }

    /// All ids as text, with timestamps rendered as `<|1.08|>` and other
    /// special tokens by name.
    pub fn decode_with_timestamps(&self, ids: &[u32]) -> String {
        let mut out = String::new();
        let mut run: Vec<u32> = Vec::new();
        for &id in ids {
            if id < self.special.eot {
                run.push(id);
                continue;
            }
            out.push_str(&self.decode_known(&run));
            run.clear();
            if self.special.is_timestamp(id) {
                let _ = write!(out, "<|{:.2}|>", self.special.timestamp_seconds(id));
            } else if let Some(name) = self.inner.id_to_token(id) {
                out.push_str(&name);
            }
        }
        out.push_str(&self.decode_known(&run));
        out
    }

    /// Decodes ids that the tokenizer knows. Decoding byte-level BPE ids
    /// cannot fail for ids in the vocabulary; anything else decodes to "".
    fn decode_known(&self, ids: &[u32]) -> String {
        if ids.is_empty() {
            return String::new();
        }
        self.inner.decode(ids, false).unwrap_or_default()
    }
}
