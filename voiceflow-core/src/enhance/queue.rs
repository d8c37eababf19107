//! The enhancement queue: a bounded two-priority queue (crossbeam channels)
//! feeding a pool of worker threads.
//!
//! - Capacity is the number of requests accepted and not yet started, over
//!   both priorities. [`EnhancePipeline::submit`] waits for room;
//!   [`EnhancePipeline::try_submit`] answers [`Error::QueueFull`] at once. A
//!   refused request was never accepted; an accepted one is always answered.
//! - Workers take interactive requests before batch ones.
//! - A request whose deadline passed while it was queued is answered
//!   [`Error::Timeout`] without being processed.
//! - [`EnhancePipeline::shutdown`] stops intake, then either drains the queue
//!   or answers every queued request [`Error::Cancelled`]; running requests
//!   finish either way.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, select_biased, Receiver, Sender};

use super::request::EnhanceRequest;
use super::stats::{Outcome, PipelineMetrics, PipelineStats};
use super::ticket::{ticket, Responder, Ticket};
use super::Enhancer;
use crate::metrics::Metrics;
use crate::Context;
use crate::{Error, Result};

/// Which requests workers take first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// A person is waiting: taken before any batch request.
    #[default]
    Interactive,
    /// Background work.
    Batch,
}

/// One request for the pipeline.
#[derive(Debug, Clone)]
pub struct Job {
    text: String,
    request: EnhanceRequest,
    priority: Priority,
    deadline: Option<Instant>,
}

impl Job {
    /// An interactive request with no deadline.
    pub fn new(text: impl Into<String>, request: EnhanceRequest) -> Self {
        Job {
            text: text.into(),
            request,
            priority: Priority::Interactive,
            deadline: None,
        }
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the instant after which the request is no longer worth starting.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the deadline `within` from now; a `within` too long for the
    /// clock to represent (centuries) sets none.
    pub fn within(self, within: Duration) -> Self {
        let deadline = Instant::now().checked_add(within);
        match deadline {
            Some(d) => self.deadline(d),
            None => self,
        }
    }
}

/// Largest [`PipelineConfig::capacity`]: both priority queues reserve room
/// for `capacity` requests up front, so a count meant as something else
/// (bytes, a timeout) must not reserve gigabytes.
pub const MAX_PIPELINE_CAPACITY: usize = 65_536;

/// Largest [`PipelineConfig::workers`]: every worker is an OS thread started
/// at once.
pub const MAX_PIPELINE_WORKERS: usize = 1_024;

/// How big the pipeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Requests accepted and not yet started, over both priorities:
    /// 1..=[`MAX_PIPELINE_CAPACITY`]. Default: 100.
    pub capacity: usize,
    /// Worker threads: 1..=[`MAX_PIPELINE_WORKERS`]. Default: 15.
    pub workers: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            capacity: 100,
            workers: 15,
        }
    }
}

/// What [`EnhancePipeline::shutdown`] does with queued requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Process every queued request, then stop.
    Drain,
    /// Answer every queued request [`Error::Cancelled`], then stop.
    Cancel,
}

/// What a shutdown did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Requests that were queued when intake stopped.
    pub queued: usize,
    /// Of those, how many were answered `Cancelled`.
    pub cancelled: u64,
}

/// An accepted request on its way to a worker.
struct Queued {
    text: String,
    request: EnhanceRequest,
    deadline: Option<Instant>,
    accepted_at: Instant,
    responder: Responder,
}

struct Intake {
    /// Accepted and not yet taken by a worker.
    queued: usize,
    open: bool,
}

struct Shared {
    enhancer: Arc<dyn Enhancer>,
    capacity: usize,
    intake: Mutex<Intake>,
    room: Condvar,
    interactive: (Sender<Queued>, Receiver<Queued>),
    batch: (Sender<Queued>, Receiver<Queued>),
    stop: Receiver<()>,
    cancelling: AtomicBool,
    next_id: AtomicU64,
    metrics: PipelineMetrics,
}

impl Shared {
    fn intake(&self) -> MutexGuard<'_, Intake> {
        self.intake.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn admit(&self, job: Job, wait_for_room: bool) -> Result<Ticket> {
        let context = job.request.context;
        let mut intake = self.intake();
        loop {
            if !intake.open {
                return Err(Error::Closed("enhancement pipeline"));
            }
            if intake.queued < self.capacity {
                break;
            }
            if !wait_for_room {
                self.metrics.count(context, Outcome::Rejected);
                return Err(Error::QueueFull {
                    capacity: self.capacity,
                });
            }
            intake = self
                .room
                .wait(intake)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let (ticket, responder) = ticket(self.next_id.fetch_add(1, Ordering::Relaxed));
        let queued = Queued {
            text: job.text,
            request: job.request,
            deadline: job.deadline,
            accepted_at: Instant::now(),
            responder,
        };
        let channel = match job.priority {
            Priority::Interactive => &self.interactive.0,
            Priority::Batch => &self.batch.0,
        };
        // Each channel holds `capacity` and the intake count never exceeds
        // it, so this send finds room; sending under the intake lock means a
        // shutdown cannot slip in between counting and queueing.
        if channel.try_send(queued).is_err() {
            return Err(Error::QueueFull {
                capacity: self.capacity,
            });
        }
        intake.queued += 1;
        self.metrics.depth().inc();
        self.metrics.count(context, Outcome::Accepted);
        Ok(ticket)
    }

    /// A worker took a request: one more place in the queue.
    fn taken(&self) {
        let mut intake = self.intake();
        intake.queued = intake.queued.saturating_sub(1);
        self.metrics.depth().dec();
        self.room.notify_one();
    }

    fn next(&self) -> Option<Queued> {
        select_biased! {
            recv(self.interactive.1) -> job => job.ok(),
            recv(self.batch.1) -> job => job.ok(),
            recv(self.stop) -> _ => None,
        }
    }

    fn work(&self) {
        while let Some(job) = self.next() {
            self.taken();
            self.run(job);
        }
    }

    fn run(&self, job: Queued) {
        let context = job.request.context;
        let started = Instant::now();
        self.metrics
            .waited(context, started.saturating_duration_since(job.accepted_at));
        if self.cancelling.load(Ordering::Acquire) {
            self.metrics.count(context, Outcome::Cancelled);
            let why = "pipeline shut down before the request started".to_string();
            return job.responder.answer(Err(Error::Cancelled(why)));
        }
        if let Some(deadline) = job.deadline.filter(|&d| started > d) {
            self.metrics.count(context, Outcome::TimedOut);
            let budget = deadline.saturating_duration_since(job.accepted_at);
            return job.responder.answer(Err(Error::Timeout(budget)));
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.enhancer.enhance(&job.text, &job.request)
        }))
        .unwrap_or_else(|_| {
            Err(Error::backend(
                self.enhancer.name(),
                "the enhancer panicked",
            ))
        });
        self.metrics.processed(context, started.elapsed());
        self.record(context, &result);
        job.responder.answer(result);
    }

    fn record(&self, context: Context, result: &Result<super::Enhanced>) {
        match result {
            Ok(out) => {
                self.metrics.count(context, Outcome::Completed);
                if out.is_fallback() {
                    self.metrics.fallback(context);
                }
            }
            Err(_) => self.metrics.count(context, Outcome::Failed),
        }
    }
}

/// A bounded, two-priority queue of enhancement requests and the workers
/// that serve it. Dropping the pipeline drains it.
///
/// ```
/// use voiceflow_core::enhance::{Context, EnhancePipeline, EnhanceRequest, Job, PipelineConfig, RuleEnhancer};
///
/// let pipeline = EnhancePipeline::new(RuleEnhancer, PipelineConfig::default()).unwrap();
/// let ticket = pipeline.submit(Job::new("um hello comma world", EnhanceRequest::new(Context::Chat))).unwrap();
/// assert_eq!(ticket.wait().unwrap().text, "Hello, world");
/// ```
pub struct EnhancePipeline {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    stop: Mutex<Option<Sender<()>>>,
}

impl std::fmt::Debug for EnhancePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnhancePipeline")
            .field("backend", &self.shared.enhancer.name())
            .field("capacity", &self.shared.capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

impl EnhancePipeline {
    /// Starts `config.workers` workers serving `enhancer`, with metrics in a
    /// registry of their own.
    pub fn new(enhancer: impl Enhancer + 'static, config: PipelineConfig) -> Result<Self> {
        EnhancePipeline::with_metrics(enhancer, config, Arc::new(Metrics::new()))
    }

    /// Like [`EnhancePipeline::new`], reporting into `metrics` (shared with
    /// other stages).
    pub fn with_metrics(
        enhancer: impl Enhancer + 'static,
        config: PipelineConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self> {
        if !(1..=MAX_PIPELINE_CAPACITY).contains(&config.capacity)
            || !(1..=MAX_PIPELINE_WORKERS).contains(&config.workers)
        {
            return Err(Error::InvalidArgument(format!(
                "pipeline capacity must be 1..={MAX_PIPELINE_CAPACITY} and workers \
                 1..={MAX_PIPELINE_WORKERS} (got {} and {})",
                config.capacity, config.workers
            )));
        }
        let (stop_tx, stop_rx) = bounded(0);
        let shared = Arc::new(Shared {
            enhancer: Arc::new(enhancer),
            capacity: config.capacity,
            intake: Mutex::new(Intake {
                queued: 0,
                open: true,
            }),
            room: Condvar::new(),
            interactive: bounded(config.capacity),
            batch: bounded(config.capacity),
            stop: stop_rx,
            cancelling: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            metrics: PipelineMetrics::new(metrics),
        });
        let pipeline = EnhancePipeline {
            shared,
            workers: Mutex::new(Vec::with_capacity(config.workers)),
            stop: Mutex::new(Some(stop_tx)),
        };
        for i in 0..config.workers {
            let shared = Arc::clone(&pipeline.shared);
            let spawned = std::thread::Builder::new()
                .name(format!("voiceflow-enhance-{i}"))
                .spawn(move || shared.work());
            match spawned {
                Ok(handle) => pipeline.lock_workers().push(handle),
                Err(e) => {
                    return Err(Error::backend_from(
                        "enhance pipeline",
                        "cannot start worker thread",
                        e,
                    ))
                }
            }
        }
        Ok(pipeline)
    }

    fn lock_workers(&self) -> MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job`, waiting for room while the queue is full. Fails with
    /// [`Error::Closed`] once the pipeline is shutting down.
    pub fn submit(&self, job: Job) -> Result<Ticket> {
        self.shared.admit(job, true)
    }

    /// Queues `job` if there is room; otherwise fails at once with
    /// [`Error::QueueFull`] and nothing is accepted.
    pub fn try_submit(&self, job: Job) -> Result<Ticket> {
        self.shared.admit(job, false)
    }

    /// Requests accepted and not yet started.
    pub fn depth(&self) -> usize {
        self.shared.intake().queued
    }

    /// The pipeline's counts.
    pub fn stats(&self) -> PipelineStats {
        self.shared.metrics.stats()
    }

    /// The registry holding the pipeline's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        self.shared.metrics.registry()
    }

    /// Stops intake (waiting submitters get [`Error::Closed`]), deals with
    /// queued requests as `mode` says and waits for the workers to finish.
    /// Calling it again does nothing. Do not call it from a ticket callback.
    pub fn shutdown(&self, mode: Shutdown) -> ShutdownReport {
        let queued = {
            let mut intake = self.shared.intake();
            if !intake.open {
                return ShutdownReport::default();
            }
            intake.open = false;
            self.shared.room.notify_all();
            intake.queued
        };
        let cancelled_before = self.stats().cancelled;
        if mode == Shutdown::Cancel {
            self.shared.cancelling.store(true, Ordering::Release);
        }
        drop(
            self.stop
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let workers = std::mem::take(&mut *self.lock_workers());
        let me = std::thread::current().id();
        for handle in workers {
            if handle.thread().id() != me {
                let _ = handle.join();
            }
        }
        ShutdownReport {
            queued,
            cancelled: self.stats().cancelled - cancelled_before,
        }
    }
}

impl Drop for EnhancePipeline {
    fn drop(&mut self) {
        self.shutdown(Shutdown::Drain);
    }
}
