//! What an enhancement returns: the text, what was changed and which backend
//! produced it.

use std::collections::BTreeMap;

/// The kind of one change; serialized as its [`EditKind::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EditKind {
    /// A filler word removed (um, uh, "you know").
    Filler,
    /// A stutter or immediately repeated word collapsed.
    Repetition,
    /// A spoken correction applied ("scratch that", "no wait").
    Correction,
    /// Spoken punctuation turned into a mark, or punctuation tidied.
    Punctuation,
    /// Line, paragraph, greeting, sign-off or heading layout.
    Layout,
    /// A letter's case changed.
    Capitalization,
    /// Number words written as digits.
    Number,
    /// A user dictionary replacement or spelling.
    Dictionary,
    /// An emoji word turned into an emoticon.
    Emoji,
    /// A spoken symbol turned into the symbol: code symbols, and the "dot",
    /// "at" and "slash" of a spoken e-mail or web address.
    Symbol,
    /// Words joined into an identifier (snake case, camel case, ...).
    IdentifierCase,
    /// The whole text rewritten by a model (no finer detail is known).
    Rewrite,
}

impl EditKind {
    /// The kind's snake-case name (`"identifier_case"`), as JSON, the
    /// bindings and the statistics write it.
    pub fn as_str(self) -> &'static str {
        match self {
            EditKind::Filler => "filler",
            EditKind::Repetition => "repetition",
            EditKind::Correction => "correction",
            EditKind::Punctuation => "punctuation",
            EditKind::Layout => "layout",
            EditKind::Capitalization => "capitalization",
            EditKind::Number => "number",
            EditKind::Dictionary => "dictionary",
            EditKind::Emoji => "emoji",
            EditKind::Symbol => "symbol",
            EditKind::IdentifierCase => "identifier_case",
            EditKind::Rewrite => "rewrite",
        }
    }
}

impl std::fmt::Display for EditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for EditKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One change: what was there and what replaced it (empty when removed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Edit {
    /// The kind of change.
    pub kind: EditKind,
    /// The text before the change.
    pub before: String,
    /// The text after the change; empty for a removal.
    pub after: String,
}

/// Why a result came from the fallback instead of the primary backend.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    /// The circuit breaker was open (or a half-open trial was in progress):
    /// the primary was not called.
    CircuitOpen,
    /// The primary did not answer in time.
    TimedOut,
    /// The primary failed; the error's message.
    Failed(String),
}

/// Which backend was bypassed and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fallback {
    /// The name of the primary backend that was bypassed.
    pub primary: String,
    /// Why.
    pub reason: FallbackReason,
}

/// The enhanced text and how it came about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enhanced {
    /// The finished text.
    pub text: String,
    /// Every change, in the order the rules made them.
    pub edits: Vec<Edit>,
    /// The name of the backend that produced the text (`"rules"`, `"llm"`).
    pub backend: String,
    /// Set when the text came from the fallback rather than the primary.
    pub fallback: Option<Fallback>,
}

impl Enhanced {
    /// Whether the text came from a fallback backend.
    pub fn is_fallback(&self) -> bool {
        self.fallback.is_some()
    }

    /// How many edits of `kind` were made.
    pub fn count(&self, kind: EditKind) -> usize {
        self.edits.iter().filter(|e| e.kind == kind).count()
    }

    /// The number of edits of each kind that occurs.
    pub fn counts(&self) -> BTreeMap<EditKind, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.edits {
            *counts.entry(e.kind).or_insert(0) += 1;
        }
        counts
    }
}
