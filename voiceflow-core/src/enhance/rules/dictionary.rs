//! The user dictionary: replacements and preferred spellings, matched on whole
//! words in any case. What it writes is protected from the other rules.

use super::doc::{phrase_len, Doc};
use super::token::{render, tokenize};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;

/// Applies the user dictionary, longest entry first.
pub(crate) struct Dictionary;

impl Rule for Dictionary {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        !request.dictionary.is_empty()
    }

    fn apply(&self, doc: &mut Doc) {
        let dictionary = std::sync::Arc::clone(&doc.request.dictionary);
        doc.rewrite(|p| {
            let found = dictionary
                .entries()
                .iter()
                .find_map(|e| phrase_len(p.rest(), e.spoken()).map(|n| (n, e.written())));
            let Some((n, written)) = found else {
                return;
            };
            let mut tokens = tokenize(written);
            for t in &mut tokens {
                t.protected = true;
            }
            if let Some(first) = tokens.first_mut() {
                first.joined = p.rest()[0].joined;
            }
            if render(&p.rest()[..n]) == written {
                p.take(n);
                p.out.extend(tokens);
            } else {
                p.replace_next(n, tokens, EditKind::Dictionary);
            }
        });
    }
}
