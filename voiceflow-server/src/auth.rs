//! Bearer tokens, compared in constant time and never logged.

use std::path::Path;

use subtle::ConstantTimeEq;
use voiceflow_core::{Error, Result};

use crate::config::AuthSection;

/// The tokens the server accepts.
#[derive(Clone)]
pub struct Tokens {
    accepted: Vec<Vec<u8>>,
    anonymous: bool,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("count", &self.accepted.len())
            .field("anonymous", &self.anonymous)
            .finish()
    }
}

impl Tokens {
    /// The tokens of `[auth]`, those of its token file included. Errors: an
    /// unreadable file, a file without tokens, no token at all without
    /// `allow_anonymous`.
    pub fn from_config(auth: &AuthSection) -> Result<Tokens> {
        let mut accepted: Vec<Vec<u8>> = auth
            .tokens
            .iter()
            .map(|t| t.trim().as_bytes().to_vec())
            .collect();
        if let Some(file) = &auth.token_file {
            accepted.extend(read_token_file(file)?);
        }
        if accepted.iter().any(Vec::is_empty) {
            return Err(Error::InvalidArgument(
                "auth.tokens: a token must not be empty".into(),
            ));
        }
        if accepted.is_empty() && !auth.allow_anonymous {
            return Err(Error::InvalidArgument(
                "no token configured: set auth.tokens or auth.token_file (--token-file), \
                 or auth.allow_anonymous = true for a development server"
                    .into(),
            ));
        }
        Ok(Tokens {
            accepted,
            anonymous: auth.allow_anonymous,
        })
    }

    /// Whether `presented` (absent: `None`) lets a client in: an accepted
    /// token, or no token at all when anonymous clients are allowed (a wrong
    /// token is refused even then). Every accepted token is compared, in
    /// constant time, whatever matches.
    pub fn admits(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return self.anonymous;
        };
        let presented = presented.as_bytes();
        let mut found = subtle::Choice::from(0);
        for token in &self.accepted {
            found |= token.as_slice().ct_eq(presented);
        }
        bool::from(found)
    }
}

/// The token of an `Authorization: Bearer ...` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn read_token_file(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let tokens: Vec<Vec<u8>> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.as_bytes().to_vec())
        .collect();
    if tokens.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "auth.token_file {} holds no token",
            path.display()
        )));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(list: &[&str], anonymous: bool) -> Result<Tokens> {
        Tokens::from_config(&AuthSection {
            tokens: list.iter().map(|t| t.to_string()).collect(),
            token_file: None,
            allow_anonymous: anonymous,
        })
    }

    #[test]
    fn only_a_configured_token_is_admitted() {
        let t = tokens(&["alpha", "beta"], false).unwrap();
        assert!(t.admits(Some("alpha")));
        assert!(t.admits(Some("beta")));
        assert!(!t.admits(Some("alph")));
        assert!(!t.admits(Some("alphaa")));
        assert!(!t.admits(Some("")));
        assert!(!t.admits(None));
    }

    #[test]
    fn no_token_needs_allow_anonymous() {
        let e = tokens(&[], false).unwrap_err();
        assert!(e.to_string().contains("auth.tokens"), "{e}");
        let anonymous = tokens(&[], true).unwrap();
        assert!(anonymous.admits(None));
        assert!(!anonymous.admits(Some("guess")));
        assert!(tokens(&[""], true).is_err());
    }

    #[test]
    fn the_token_file_is_read_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokens");
        std::fs::write(&file, "# clients\n\n  gamma  \ndelta\n").unwrap();
        let t = Tokens::from_config(&AuthSection {
            tokens: vec![],
            token_file: Some(file.clone()),
            allow_anonymous: false,
        })
        .unwrap();
        assert!(t.admits(Some("gamma")) && t.admits(Some("delta")));
        assert!(!t.admits(Some("# clients")));
        std::fs::write(&file, "# none\n").unwrap();
        let e = Tokens::from_config(&AuthSection {
            tokens: vec![],
            token_file: Some(file),
            allow_anonymous: false,
        })
        .unwrap_err();
        assert!(e.to_string().contains("holds no token"), "{e}");
    }

    #[test]
    fn bearer_headers_are_parsed() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
