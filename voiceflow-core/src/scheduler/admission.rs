//! Admission control: at most `max_concurrent` transcriptions run at once,
//! at most `max_queued` more wait for a turn, and anyone beyond that is
//! turned away at once with [`Error::Overloaded`] instead of hanging.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::{Error, Result};

#[derive(Debug, Default)]
struct State {
    running: usize,
    waiting: usize,
    closed: bool,
}

/// Counts running and waiting transcriptions.
#[derive(Debug)]
pub(crate) struct Admission {
    max_concurrent: usize,
    max_queued: usize,
    state: Mutex<State>,
    freed: Condvar,
}

/// A running transcription's place; dropping it lets the next caller in.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    admission: &'a Admission,
}

impl Admission {
    /// Admission for `max_concurrent` running and `max_queued` waiting callers.
    pub(crate) fn new(max_concurrent: usize, max_queued: usize) -> Self {
        Admission {
            max_concurrent,
            max_queued,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a place, waiting until `deadline` for one when all are taken.
    ///
    /// Errors: [`Error::Overloaded`] at once when the wait queue is full too,
    /// [`Error::Timeout`] when the deadline passes while waiting,
    /// [`Error::Closed`] after [`Admission::close`].
    pub(crate) fn admit(&self, started: Instant, deadline: Option<Instant>) -> Result<Permit<'_>> {
        let mut state = self.lock();
        if state.closed {
            return Err(Error::Closed("engine"));
        }
        if state.running < self.max_concurrent {
            state.running += 1;
            return Ok(Permit { admission: self });
        }
        if state.waiting >= self.max_queued {
            return Err(Error::Overloaded {
                running: state.running,
                queued: state.waiting,
            });
        }
        state.waiting += 1;
        let outcome = loop {
            if state.closed {
                break Err(Error::Closed("engine"));
            }
            if state.running < self.max_concurrent {
                state.running += 1;
                break Ok(Permit { admission: self });
            }
            state = match deadline {
                None => self.freed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break Err(Error::Timeout(deadline - started));
                    }
                    self.freed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        };
        state.waiting -= 1;
        outcome
    }

    /// Transcriptions running and waiting now.
    pub(crate) fn load(&self) -> (usize, usize) {
        let state = self.lock();
        (state.running, state.waiting)
    }

    /// Turns every waiting and later caller away with [`Error::Closed`].
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.freed.notify_all();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.admission.lock().running -= 1;
        self.admission.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn beyond_running_and_waiting_callers_are_turned_away_at_once() {
        let admission = Admission::new(1, 0);
        let now = Instant::now();
        let _first = admission.admit(now, None).unwrap();
        let refused = admission.admit(now, None).map(|_| ());
        match refused {
            Err(Error::Overloaded { running, queued }) => assert_eq!((running, queued), (1, 0)),
            other => panic!("expected Overloaded, got {other:?}"),
        }
    }

    #[test]
    fn a_waiting_caller_gets_the_place_that_frees_up_or_times_out() {
        let admission = Admission::new(1, 1);
        let now = Instant::now();
        let first = admission.admit(now, None).unwrap();
        let deadline = Some(Instant::now() + Duration::from_millis(20));
        assert!(matches!(
            admission.admit(Instant::now(), deadline),
            Err(Error::Timeout(_))
        ));
        std::thread::scope(|s| {
            let waiter = s.spawn(|| admission.admit(Instant::now(), None).map(|_| ()));
            while admission.load().1 == 0 {
                std::thread::yield_now();
            }
            drop(first);
            waiter.join().unwrap().unwrap();
        });
        assert_eq!(admission.load(), (0, 0));
    }

    #[test]
    fn closing_answers_waiting_callers() {
        let admission = Admission::new(1, 4);
        let _first = admission.admit(Instant::now(), None).unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| admission.admit(Instant::now(), None).map(|_| ()));
            while admission.load().1 == 0 {
                std::thread::yield_now();
            }
            admission.close();
            assert!(matches!(waiter.join().unwrap(), Err(Error::Closed(_))));
        });
        assert!(matches!(
            admission.admit(Instant::now(), None),
            Err(Error::Closed(_))
        ));
    }
}
