//! The handle of a submitted request ([`Ticket`]) and the worker's side of it
//! (`Responder`): every accepted request is answered exactly once, even if
//! the worker side is dropped (then with a typed `Cancelled` error).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::result::Enhanced;
use crate::{Error, Result};

type Callback = Box<dyn FnOnce(Result<Enhanced>) + Send>;

enum State {
    /// Not answered yet; maybe a callback waits for the answer.
    Pending(Option<Callback>),
    /// Answered, not yet collected.
    Done(Result<Enhanced>),
    /// Answered and handed over (to a waiter or a callback).
    Taken,
}

struct Slot {
    state: Mutex<State>,
    ready: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs a callback, containing a panic so the thread that runs it survives.
fn run_callback(callback: Callback, result: Result<Enhanced>) {
    let _ = catch_unwind(AssertUnwindSafe(move || callback(result)));
}

/// A submitted request: wait for its result (with or without a deadline) or
/// attach a callback.
pub struct Ticket {
    id: u64,
    slot: Arc<Slot>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("id", &self.id)
            .field("done", &self.is_done())
            .finish()
    }
}

impl Ticket {
    /// The request's number, unique within its pipeline, in order of submission.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether the answer is there.
    pub fn is_done(&self) -> bool {
        matches!(*self.slot.lock(), State::Done(_))
    }

    /// Waits for the answer.
    pub fn wait(self) -> Result<Enhanced> {
        let mut state = self.slot.lock();
        loop {
            if let State::Done(_) = *state {
                return take(&mut state);
            }
            state = self
                .slot
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits at most `timeout`; past it, returns [`Error::Timeout`] (the
    /// request itself goes on and its answer is discarded). A timeout too
    /// long for the clock to represent (centuries) waits like [`Ticket::wait`].
    pub fn wait_timeout(self, timeout: Duration) -> Result<Enhanced> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return self.wait();
        };
        let mut state = self.slot.lock();
        loop {
            if let State::Done(_) = *state {
                return take(&mut state);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(timeout));
            }
            state = self
                .slot
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Calls `callback` with the answer: right away on this thread if it is
    /// already there, else on the worker thread that answers. A panic in the
    /// callback is contained.
    pub fn on_complete(self, callback: impl FnOnce(Result<Enhanced>) + Send + 'static) {
        let mut state = self.slot.lock();
        if let State::Done(_) = *state {
            let result = take(&mut state);
            drop(state);
            run_callback(Box::new(callback), result);
        } else {
            *state = State::Pending(Some(Box::new(callback)));
        }
    }
}

fn take(state: &mut State) -> Result<Enhanced> {
    match std::mem::replace(state, State::Taken) {
        State::Done(result) => result,
        _ => Err(Error::Cancelled("answer already taken".into())),
    }
}

/// The worker's side of a ticket. Answering consumes it; dropping it
/// unanswered answers `Cancelled`.
pub(crate) struct Responder {
    slot: Option<Arc<Slot>>,
}

/// A new ticket with id `id` and the responder that answers it.
pub(crate) fn ticket(id: u64) -> (Ticket, Responder) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Pending(None)),
        ready: Condvar::new(),
    });
    let responder = Responder {
        slot: Some(Arc::clone(&slot)),
    };
    (Ticket { id, slot }, responder)
}

impl Responder {
    /// Delivers the answer: to the callback if one is attached, else to
    /// whoever waits.
    pub fn answer(mut self, result: Result<Enhanced>) {
        if let Some(slot) = self.slot.take() {
            deliver(&slot, result);
        }
    }
}

fn deliver(slot: &Slot, result: Result<Enhanced>) {
    let mut state = slot.lock();
    if let State::Pending(callback) = &mut *state {
        if let Some(callback) = callback.take() {
            *state = State::Taken;
            drop(state);
            run_callback(callback, result);
            return;
        }
        *state = State::Done(result);
        slot.ready.notify_all();
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            deliver(
                &slot,
                Err(Error::Cancelled(
                    "request dropped before it was answered".into(),
                )),
            );
        }
    }
}
