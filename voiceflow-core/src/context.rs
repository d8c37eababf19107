//! The destination of dictated text ([`Context`]): what the enhancer
//! finishes it for and what the store files it under. One type, one list
//! of names, parsed and printed here for every caller (Rust, C, Python, the
//! CLI and the server).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Where the dictated text is going; each destination has its own conventions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// Plain dictation: full sentences.
    #[default]
    General,
    /// An email: greeting and sign-off on their own lines, paragraphs.
    Email,
    /// A chat message: short and casual, no forced final period.
    Chat,
    /// A document: paragraphs, full sentences, spoken headings.
    Document,
    /// Source code: spoken symbols and identifier casing, no sentence casing.
    Code,
}

impl Context {
    /// Every context, in declaration order.
    pub const ALL: [Context; 5] = [
        Context::General,
        Context::Email,
        Context::Chat,
        Context::Document,
        Context::Code,
    ];

    /// The lowercase name used in metrics labels and prompts (`"email"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Context::General => "general",
            Context::Email => "email",
            Context::Chat => "chat",
            Context::Document => "document",
            Context::Code => "code",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Context {
    /// The context's position in [`Context::ALL`] (its declaration order),
    /// for per-context tables.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Parses a context's name (`"email"`, as [`Context::as_str`] writes it;
/// exact, lowercase). Anything else is [`Error::InvalidArgument`] naming
/// the valid names.
impl FromStr for Context {
    type Err = Error;

    fn from_str(name: &str) -> Result<Context, Error> {
        Context::ALL
            .into_iter()
            .find(|context| context.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Context::ALL.iter().map(|c| c.as_str()).collect();
                Error::InvalidArgument(format!(
                    "unknown context {name:?}; use one of {}",
                    names.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_context() {
        for (i, context) in Context::ALL.into_iter().enumerate() {
            assert_eq!(context.to_string().parse::<Context>().unwrap(), context);
            assert_eq!(context.index(), i);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_valid_ones() {
        let e = "poem".parse::<Context>().unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)));
        let text = e.to_string();
        assert!(text.contains("\"poem\"") && text.contains("general, email, chat, document, code"));
        assert!("Email".parse::<Context>().is_err(), "names are exact");
    }
}
