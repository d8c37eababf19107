//! A primary backend (such as the LLM) behind a circuit breaker, answered by
//! the rule enhancer when it fails, times out or the breaker is open.

use super::breaker::CircuitBreaker;
use super::request::EnhanceRequest;
use super::result::{Enhanced, Fallback, FallbackReason};
use super::rules::RuleEnhancer;
use super::Enhancer;
use crate::{Error, Result};

/// Routes to `primary` while its breaker allows, to the rules otherwise.
/// The result's [`Enhanced::backend`] names who produced it and
/// [`Enhanced::fallback`] says why the primary was bypassed.
#[derive(Debug)]
pub struct FallbackEnhancer<P> {
    primary: P,
    breaker: CircuitBreaker,
}

impl<P: Enhancer> FallbackEnhancer<P> {
    /// Guards `primary` with `breaker`.
    pub fn new(primary: P, breaker: CircuitBreaker) -> Self {
        FallbackEnhancer { primary, breaker }
    }

    /// The breaker, to read its state.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The primary backend.
    pub fn primary(&self) -> &P {
        &self.primary
    }
}

impl<P: Enhancer> Enhancer for FallbackEnhancer<P> {
    fn name(&self) -> &str {
        self.primary.name()
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        let reason = match self.breaker.try_acquire() {
            None => FallbackReason::CircuitOpen,
            Some(permit) => match self.primary.enhance(text, request) {
                Ok(out) => {
                    permit.success();
                    return Ok(out);
                }
                Err(Error::Timeout(_)) => {
                    permit.failure();
                    FallbackReason::TimedOut
                }
                Err(e) => {
                    permit.failure();
                    FallbackReason::Failed(e.to_string())
                }
            },
        };
        let mut out = RuleEnhancer.enhance(text, request)?;
        out.fallback = Some(Fallback {
            primary: self.primary.name().to_string(),
            reason,
        });
        Ok(out)
    }
}
