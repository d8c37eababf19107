//! E-mail addresses and web addresses said aloud: "john dot smith at example
//! dot com" -> "john.smith@example.com", "example dot com slash pricing" ->
//! "example.com/pricing". A host is formed only when it ends in a known
//! top-level domain, and an address only when the part before "at" is
//! dotted or a common mailbox name, so "meet me at example dot com" keeps
//! its "me at".

use super::doc::{eq_ci, is_word, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

/// Top-level domains that end a spoken host.
const TLDS: &[&str] = &[
    "com", "org", "net", "io", "co", "edu", "gov", "dev", "ai", "app", "uk", "us", "de", "fr",
    "info", "biz", "eu", "ca",
];

/// Mailbox names that make "<name> at <host>" an address without a dot.
const MAILBOXES: &[&str] = &[
    "support", "info", "sales", "admin", "hello", "contact", "help", "team", "jobs", "billing",
    "office", "press", "hr", "noreply", "careers", "feedback", "security", "privacy",
];

/// Words that do not begin a spoken host ("the dot com bubble").
const NOT_HOSTS: &[&str] = &[
    "the", "a", "an", "this", "that", "my", "your", "our", "their",
];

/// A label of an address: letters, digits, and inner `.`, `-` or `_`.
fn label(token: Option<&Token>) -> Option<&str> {
    let t = token.filter(|t| t.kind == Kind::Word && !t.protected)?;
    let ok = t
        .text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    ok.then_some(t.text.as_str())
}

/// Labels joined by spoken "dot" from the start of `tokens`: tokens used and
/// the dotted text (lower case).
fn dotted(tokens: &[Token]) -> Option<(usize, String)> {
    let mut text = label(tokens.first())?.to_lowercase();
    let mut i = 1;
    while is_word(tokens.get(i), "dot") {
        let Some(next) = label(tokens.get(i + 1)) else {
            break;
        };
        text.push('.');
        text.push_str(&next.to_lowercase());
        i += 2;
    }
    Some((i, text))
}

/// Whether `text` is a host: dotted, ending in a known top-level domain.
fn is_host(text: &str) -> bool {
    text.rsplit_once('.')
        .is_some_and(|(head, tld)| !head.is_empty() && TLDS.iter().any(|t| eq_ci(t, tld)))
}

/// A spoken path after a host: "slash pricing slash plans".
fn path(tokens: &[Token]) -> (usize, String) {
    let mut i = 0;
    let mut text = String::new();
    while is_word(tokens.get(i), "slash") {
        let Some(segment) = label(tokens.get(i + 1)) else {
            break;
        };
        text.push('/');
        text.push_str(&segment.to_lowercase());
        i += 2;
    }
    (i, text)
}

/// An address at the start of `tokens`: tokens used and the written address.
fn read(tokens: &[Token]) -> Option<(usize, String)> {
    let (n, first) = dotted(tokens)?;
    if is_word(tokens.get(n), "at") {
        if let Some((m, host)) = dotted(&tokens[n + 1..]) {
            let mailbox = first.contains('.') || MAILBOXES.iter().any(|m| eq_ci(m, &first));
            if mailbox && is_host(&host) && !first.contains('@') {
                return Some((n + 1 + m, format!("{first}@{host}")));
            }
        }
    }
    let spoken = n > 1 || is_word(tokens.get(n), "slash");
    let word_first = NOT_HOSTS.iter().any(|w| is_word(tokens.first(), w));
    if !spoken || word_first || !is_host(&first) {
        return None;
    }
    let (p, path) = path(&tokens[n..]);
    Some((n + p, format!("{first}{path}")))
}

/// Writes spoken e-mail and web addresses (all contexts but code, where
/// "dot" is the member operator).
pub(crate) struct Addresses;

impl Rule for Addresses {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.is_english() && request.context != Context::Code
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if let Some((n, address)) = read(p.rest()) {
                let token = Token {
                    protected: true,
                    ..Token::word(address)
                };
                p.replace_next(n, vec![token], EditKind::Symbol);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::token::tokenize;
    use super::*;

    fn address(text: &str) -> Option<String> {
        read(&tokenize(text)).map(|(_, a)| a)
    }

    #[test]
    fn spoken_and_half_spoken_addresses() {
        let want = Some("john.smith@example.com".to_string());
        assert_eq!(address("john dot smith at example dot com"), want);
        assert_eq!(address("John.Smith at example.com"), want);
        assert_eq!(
            address("support at example dot org").as_deref(),
            Some("support@example.org")
        );
        assert_eq!(
            address("example dot com slash pricing").as_deref(),
            Some("example.com/pricing")
        );
        assert_eq!(
            address("www.example.org slash apply").as_deref(),
            Some("www.example.org/apply")
        );
    }

    #[test]
    fn words_that_only_look_like_addresses_stay() {
        assert_eq!(address("me at example dot com"), None);
        assert_eq!(address("are at home"), None);
        assert_eq!(address("dot the i"), None);
        assert_eq!(address("example.com"), None, "already written");
        assert_eq!(address("the dot com bubble"), None);
    }
}
