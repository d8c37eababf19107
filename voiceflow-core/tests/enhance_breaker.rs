//! The circuit breaker and the fallback to the rules, on a fake primary and a
//! manual clock.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use voiceflow_core::enhance::{
    BreakerConfig, BreakerState, CircuitBreaker, Context, EnhanceRequest, Enhanced, Enhancer,
    FallbackEnhancer, FallbackReason, ManualClock,
};
use voiceflow_core::{Error, Result};

/// A primary that fails (or times out) while told to, and counts its calls.
#[derive(Default)]
struct Flaky {
    failing: AtomicBool,
    timing_out: AtomicBool,
    calls: AtomicUsize,
}

impl Enhancer for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }

    fn enhance(&self, text: &str, _: &EnhanceRequest) -> Result<Enhanced> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.timing_out.load(Ordering::SeqCst) {
            return Err(Error::Timeout(Duration::from_secs(10)));
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::backend("flaky", "HTTP 503"));
        }
        Ok(Enhanced {
            text: format!("primary: {text}"),
            edits: Vec::new(),
            backend: "flaky".into(),
            fallback: None,
        })
    }
}

const COOL_DOWN: Duration = Duration::from_secs(30);

fn setup() -> (Arc<Flaky>, Arc<ManualClock>, FallbackEnhancer<Arc<Flaky>>) {
    let flaky = Arc::new(Flaky::default());
    let clock = Arc::new(ManualClock::new());
    let config = BreakerConfig {
        failure_threshold: 3,
        cool_down: COOL_DOWN,
    };
    let breaker = CircuitBreaker::with_clock(config, clock.clone());
    (
        Arc::clone(&flaky),
        clock,
        FallbackEnhancer::new(flaky, breaker),
    )
}

/// Fails three calls in a row: the breaker (threshold 3) is then open.
fn open_it(flaky: &Flaky, e: &FallbackEnhancer<Arc<Flaky>>) {
    flaky.failing.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        call(e);
    }
}

fn call(e: &FallbackEnhancer<Arc<Flaky>>) -> Enhanced {
    e.enhance("um hello comma world", &EnhanceRequest::new(Context::Chat))
        .unwrap()
}

#[test]
fn default_breaker_opens_after_5_failures_for_30_seconds() {
    assert_eq!(
        BreakerConfig::default(),
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30)
        }
    );
}

#[test]
fn closed_breaker_uses_the_primary() {
    let (flaky, _, e) = setup();
    let out = call(&e);
    assert_eq!(out.text, "primary: um hello comma world");
    assert_eq!(out.backend, "flaky");
    assert!(!out.is_fallback());
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn failures_fall_back_to_the_rules_and_open_the_breaker_after_the_threshold() {
    let (flaky, _, e) = setup();
    flaky.failing.store(true, Ordering::SeqCst);
    for n in 1..=3 {
        let out = call(&e);
        assert_eq!(out.text, "Hello, world");
        assert_eq!(out.backend, "rules");
        let fallback = out.fallback.unwrap();
        assert_eq!(fallback.primary, "flaky");
        assert_eq!(
            fallback.reason,
            FallbackReason::Failed("backend flaky failed: HTTP 503".into())
        );
        assert_eq!(e.breaker().consecutive_failures(), n);
    }
    assert_eq!(e.breaker().state(), BreakerState::Open);
    let out = call(&e);
    assert_eq!(out.fallback.unwrap().reason, FallbackReason::CircuitOpen);
    assert_eq!(
        flaky.calls.load(Ordering::SeqCst),
        3,
        "an open breaker does not call the primary"
    );
}

#[test]
fn timeouts_count_as_failures() {
    let (flaky, _, e) = setup();
    flaky.timing_out.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(call(&e).fallback.unwrap().reason, FallbackReason::TimedOut);
    }
    assert_eq!(e.breaker().state(), BreakerState::Open);
}

#[test]
fn a_success_resets_the_count() {
    let (flaky, _, e) = setup();
    for fail in [true, true, false, true, true] {
        flaky.failing.store(fail, Ordering::SeqCst);
        call(&e);
    }
    assert_eq!(e.breaker().state(), BreakerState::Closed);
    assert_eq!(e.breaker().consecutive_failures(), 2);
}

#[test]
fn after_the_cool_down_one_trial_closes_the_breaker_on_success() {
    let (flaky, clock, e) = setup();
    open_it(&flaky, &e);
    clock.advance(COOL_DOWN - Duration::from_millis(1));
    assert_eq!(e.breaker().state(), BreakerState::Open);
    clock.advance(Duration::from_millis(1));
    assert_eq!(e.breaker().state(), BreakerState::HalfOpen);
    flaky.failing.store(false, Ordering::SeqCst);
    let out = call(&e);
    assert_eq!(out.backend, "flaky");
    assert!(!out.is_fallback());
    assert_eq!(e.breaker().state(), BreakerState::Closed);
    assert_eq!(e.breaker().consecutive_failures(), 0);
}

#[test]
fn a_failed_trial_opens_the_breaker_for_another_cool_down() {
    let (flaky, clock, e) = setup();
    open_it(&flaky, &e);
    clock.advance(COOL_DOWN);
    assert!(matches!(
        call(&e).fallback.unwrap().reason,
        FallbackReason::Failed(_)
    ));
    assert_eq!(e.breaker().state(), BreakerState::Open);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 4);
    clock.advance(COOL_DOWN / 2);
    assert_eq!(
        call(&e).fallback.unwrap().reason,
        FallbackReason::CircuitOpen
    );
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 4);
}

#[test]
fn half_open_lets_one_trial_through_at_a_time() {
    let clock = Arc::new(ManualClock::new());
    let config = BreakerConfig {
        failure_threshold: 1,
        cool_down: COOL_DOWN,
    };
    let breaker = CircuitBreaker::with_clock(config, clock.clone());
    breaker.try_acquire().unwrap().failure();
    assert!(breaker.try_acquire().is_none());
    clock.advance(COOL_DOWN);
    let trial = breaker
        .try_acquire()
        .expect("one trial after the cool-down");
    assert!(
        breaker.try_acquire().is_none(),
        "a second caller waits for the trial"
    );
    trial.success();
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert!(breaker.try_acquire().is_some());
}

#[test]
fn a_permit_dropped_unresolved_counts_as_a_failure() {
    let config = BreakerConfig {
        failure_threshold: 1,
        cool_down: COOL_DOWN,
    };
    let breaker = CircuitBreaker::new(config);
    drop(breaker.try_acquire());
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[test]
fn a_zero_threshold_behaves_as_one() {
    let config = BreakerConfig {
        failure_threshold: 0,
        cool_down: COOL_DOWN,
    };
    let breaker = CircuitBreaker::new(config);
    assert_eq!(breaker.state(), BreakerState::Closed);
    breaker.try_acquire().unwrap().failure();
    assert_eq!(breaker.state(), BreakerState::Open);
}
