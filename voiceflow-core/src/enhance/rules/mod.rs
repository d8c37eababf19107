//! The built-in rule enhancer: deterministic, fast, no model.
//!
//! The text is split into tokens and passed through small named rules in a
//! fixed order; each rule decides from the request (context, language,
//! options) whether it applies. The order matters: the user dictionary
//! first (what it writes is protected), then spoken commands, disfluencies,
//! numbers, punctuation tidying, the destination's layout and finally
//! capitalisation.

mod address;
mod casing;
mod chat;
mod code;
mod corrections;
mod dictionary;
mod doc;
mod document;
mod email;
mod filler;
mod lists;
mod numbers;
mod punctuation;
mod token;

use super::request::EnhanceRequest;
use super::result::Enhanced;
use super::Enhancer;
use crate::Result;
use doc::Doc;

/// One rule of the rule enhancer.
pub(crate) trait Rule: Sync {
    /// Whether the rule applies to this request.
    fn applies(&self, request: &EnhanceRequest) -> bool;
    /// Applies the rule, recording its edits.
    fn apply(&self, doc: &mut Doc);
}

/// Every rule, in the order they run.
const RULES: &[&dyn Rule] = &[
    &dictionary::Dictionary,
    &code::Transcript,
    &address::Addresses,
    &code::SpokenSymbols,
    &punctuation::SpokenPunctuation,
    &filler::Fillers,
    &corrections::Corrections,
    &filler::DiscourseFillers,
    &filler::Repetitions,
    &lists::Lists,
    &numbers::Numbers,
    &chat::EmojiWords,
    &code::IdentifierCase,
    &punctuation::Tidy,
    &punctuation::EndSentences,
    &document::Headings,
    &email::Greeting,
    &email::SignOff,
    &chat::NoFinalPeriod,
    &casing::Capitalize,
];

/// The name of the rule backend in [`Enhanced::backend`].
pub const RULES_BACKEND: &str = "rules";

/// The built-in rule enhancer. It never fails and never calls out; a
/// 100-word dictation takes tens of microseconds.
///
/// ```
/// use voiceflow_core::enhance::{Context, EnhanceRequest, Enhancer, RuleEnhancer};
///
/// let request = EnhanceRequest::new(Context::General);
/// let out = RuleEnhancer.enhance("um so the the rate is twenty five percent", &request).unwrap();
/// assert_eq!(out.text, "So the rate is 25%.");
/// assert_eq!(out.backend, "rules");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleEnhancer;

impl Enhancer for RuleEnhancer {
    fn name(&self) -> &str {
        RULES_BACKEND
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        let mut doc = Doc {
            tokens: token::tokenize(text),
            edits: Vec::new(),
            request,
        };
        for rule in RULES {
            if rule.applies(request) {
                rule.apply(&mut doc);
            }
        }
        Ok(Enhanced {
            text: token::render(&doc.tokens),
            edits: doc.edits,
            backend: RULES_BACKEND.to_string(),
            fallback: None,
        })
    }
}
