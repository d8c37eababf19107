//! A circuit breaker: closed -> open after N consecutive failures -> half-open
//! after a cool-down (one trial call) -> closed on success, open again on
//! failure. Its clock is injectable so tests run fast and deterministically.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where the breaker reads the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (for tests and simulations).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at the current instant.
    pub fn new() -> Self {
        ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// When the breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures (errors or timeouts) that open the breaker
    /// (at least 1). Default: 5.
    pub failure_threshold: u32,
    /// How long the breaker stays open before it lets one trial call through.
    /// Default: 30 s.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go to the primary.
    Closed,
    /// Calls go to the fallback until the cool-down ends.
    Open,
    /// The cool-down ended: one trial call may go to the primary.
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    failures: u32,
    opened_at: Instant,
    trial_in_flight: bool,
}

/// A circuit breaker shared by every caller of one backend.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker on the system clock.
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreaker::with_clock(config, Arc::new(SystemClock))
    }

    /// A closed breaker reading time from `clock`.
    pub fn with_clock(config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        CircuitBreaker {
            config: BreakerConfig {
                failure_threshold: config.failure_threshold.max(1),
                ..config
            },
            clock,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                failures: 0,
                opened_at: now,
                trial_in_flight: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cooled_down(&self, inner: &Inner) -> bool {
        self.clock.now().saturating_duration_since(inner.opened_at) >= self.config.cool_down
    }

    /// The state now (an open breaker whose cool-down has ended reads as
    /// half-open).
    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.state {
            BreakerState::Open if self.cooled_down(&inner) => BreakerState::HalfOpen,
            state => state,
        }
    }

    /// Consecutive failures counted while closed.
    pub fn consecutive_failures(&self) -> u32 {
        self.lock().failures
    }

    /// Asks to call the primary. `None` means "use the fallback". A permit
    /// must be resolved with [`Permit::success`] or [`Permit::failure`]; one
    /// dropped unresolved counts as a failure.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut inner = self.lock();
        let allowed = match inner.state {
            BreakerState::Closed => true,
            BreakerState::Open if self.cooled_down(&inner) => {
                inner.state = BreakerState::HalfOpen;
                inner.trial_in_flight = true;
                true
            }
            BreakerState::Open => false,
            BreakerState::HalfOpen if !inner.trial_in_flight => {
                inner.trial_in_flight = true;
                true
            }
            BreakerState::HalfOpen => false,
        };
        drop(inner);
        // Built only when allowed: a dropped permit counts as a failure.
        allowed.then(|| Permit {
            breaker: self,
            resolved: false,
        })
    }

    fn on_success(&self) {
        let mut inner = self.lock();
        inner.state = BreakerState::Closed;
        inner.failures = 0;
        inner.trial_in_flight = false;
    }

    fn on_failure(&self) {
        let now = self.clock.now();
        let mut inner = self.lock();
        match inner.state {
            BreakerState::HalfOpen => {
                inner.state = BreakerState::Open;
                inner.opened_at = now;
                inner.trial_in_flight = false;
            }
            BreakerState::Closed => {
                inner.failures += 1;
                if inner.failures >= self.config.failure_threshold {
                    inner.state = BreakerState::Open;
                    inner.opened_at = now;
                }
            }
            BreakerState::Open => {}
        }
    }
}

/// Leave to call the primary once; say how it went.
#[derive(Debug)]
#[must_use = "a permit dropped unresolved counts as a failure"]
pub struct Permit<'b> {
    breaker: &'b CircuitBreaker,
    resolved: bool,
}

impl Permit<'_> {
    /// The call succeeded: the breaker closes and its failure count resets.
    pub fn success(mut self) {
        self.resolved = true;
        self.breaker.on_success();
    }

    /// The call failed or timed out.
    pub fn failure(mut self) {
        self.resolved = true;
        self.breaker.on_failure();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.resolved {
            self.breaker.on_failure();
        }
    }
}
