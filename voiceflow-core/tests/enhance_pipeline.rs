//! The enhancement queue: backpressure, priorities, deadlines, shutdown,
//! callbacks, metrics, and no request ever lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use voiceflow_core::enhance::{
    Context, EnhancePipeline, EnhanceRequest, Enhanced, Enhancer, Job, PipelineConfig, Priority,
    RuleEnhancer, Shutdown,
};
use voiceflow_core::{Error, Result};

/// An enhancer that holds every request until the gate opens, and records the
/// order in which it processed them.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    started: AtomicUsize,
    order: Mutex<Vec<String>>,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Waits until `n` requests have reached the gate (a bound far beyond
    /// any thread start, so that a bug fails instead of hanging).
    fn wait_started(&self, n: usize) {
        let deadline = Instant::now() + HANG;
        while self.started.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "workers never reached the gate");
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn order(&self) -> Vec<String> {
        self.order.lock().unwrap().clone()
    }
}

impl Enhancer for Gate {
    fn name(&self) -> &str {
        "gate"
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        drop(open);
        self.order.lock().unwrap().push(text.to_string());
        RuleEnhancer.enhance(text, request)
    }
}

/// How long a test waits for something that happens at once when the code
/// is right: only a bug (a hang) reaches it, never a busy machine.
const HANG: Duration = Duration::from_secs(120);

fn job(text: &str) -> Job {
    Job::new(text, EnhanceRequest::new(Context::Chat))
}

fn config(capacity: usize, workers: usize) -> PipelineConfig {
    PipelineConfig { capacity, workers }
}

/// A pipeline over a shared gate, with one request already held at the gate
/// by each worker.
fn gated(
    capacity: usize,
    workers: usize,
) -> (
    Arc<Gate>,
    EnhancePipeline,
    Vec<voiceflow_core::enhance::Ticket>,
) {
    let gate = Arc::new(Gate::default());
    let pipeline = EnhancePipeline::new(Arc::clone(&gate), config(capacity, workers)).unwrap();
    let held = (0..workers)
        .map(|i| pipeline.submit(job(&format!("held {i}"))).unwrap())
        .collect();
    gate.wait_started(workers);
    (gate, pipeline, held)
}

#[test]
fn defaults_are_100_queued_and_15_workers() {
    assert_eq!(PipelineConfig::default(), config(100, 15));
}

#[test]
fn try_submit_refuses_at_once_when_full_and_loses_nothing_accepted() {
    let (gate, pipeline, held) = gated(2, 1);
    let a = pipeline.try_submit(job("first")).unwrap();
    let b = pipeline.try_submit(job("second")).unwrap();
    // The gate stays shut until this thread opens it: a try_submit that
    // waited for room would never return, so it runs on another thread.
    let pipeline = Arc::new(pipeline);
    let (tx, rx) = mpsc::channel();
    let trying = {
        let pipeline = Arc::clone(&pipeline);
        thread::spawn(move || {
            tx.send(pipeline.try_submit(job("third")).map(drop))
                .unwrap()
        })
    };
    let refused = rx.recv_timeout(HANG).expect("try_submit waited for room");
    trying.join().unwrap();
    assert!(
        matches!(refused, Err(Error::QueueFull { capacity: 2 })),
        "{refused:?}"
    );
    assert_eq!(pipeline.depth(), 2);
    gate.open();
    assert_eq!(a.wait().unwrap().text, "First");
    assert_eq!(b.wait().unwrap().text, "Second");
    for t in held {
        t.wait().unwrap();
    }
    let stats = pipeline.stats();
    assert_eq!((stats.accepted, stats.completed, stats.rejected), (3, 3, 1));
    assert_eq!(stats.in_flight(), 0);
    assert_eq!(stats.peak_depth, 2);
}

#[test]
fn submit_waits_for_room_instead_of_refusing() {
    let (gate, pipeline, _held) = gated(1, 1);
    pipeline.submit(job("queued")).unwrap();
    let pipeline = Arc::new(pipeline);
    let (tx, rx) = mpsc::channel();
    let submitter = {
        let pipeline = Arc::clone(&pipeline);
        thread::spawn(move || {
            let ticket = pipeline.submit(job("waited for room")).unwrap();
            tx.send(()).unwrap();
            ticket.wait().unwrap().text
        })
    };
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "submit returned while the queue was full"
    );
    gate.open();
    assert_eq!(submitter.join().unwrap(), "Waited for room");
    assert_eq!(pipeline.stats().rejected, 0);
}

#[test]
fn interactive_requests_run_before_batch_ones() {
    let (gate, pipeline, held) = gated(10, 1);
    let mut tickets = Vec::new();
    for text in ["batch 1", "batch 2", "batch 3"] {
        tickets.push(
            pipeline
                .submit(job(text).priority(Priority::Batch))
                .unwrap(),
        );
    }
    for text in ["interactive 1", "interactive 2"] {
        tickets.push(
            pipeline
                .submit(job(text).priority(Priority::Interactive))
                .unwrap(),
        );
    }
    gate.open();
    for t in tickets.into_iter().chain(held) {
        t.wait().unwrap();
    }
    let want = [
        "held 0",
        "interactive 1",
        "interactive 2",
        "batch 1",
        "batch 2",
        "batch 3",
    ];
    assert_eq!(gate.order(), want);
}

#[test]
fn a_request_whose_deadline_passed_in_the_queue_is_answered_timeout_unprocessed() {
    let (gate, pipeline, _held) = gated(10, 1);
    let late = pipeline
        .submit(job("too late").within(Duration::from_millis(10)))
        .unwrap();
    let on_time = pipeline.submit(job("on time").within(HANG)).unwrap();
    thread::sleep(Duration::from_millis(50));
    gate.open();
    match late.wait() {
        Err(Error::Timeout(budget)) => assert!(budget <= Duration::from_millis(10), "{budget:?}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(on_time.wait().unwrap().text, "On time");
    assert!(!gate.order().contains(&"too late".to_string()));
    assert_eq!(pipeline.stats().timed_out, 1);
}

#[test]
fn drain_shutdown_answers_every_accepted_request_then_refuses_new_ones() {
    let pipeline = EnhancePipeline::new(RuleEnhancer, config(100, 2)).unwrap();
    let tickets: Vec<_> = (0..60)
        .map(|i| pipeline.submit(job(&format!("number {i}"))).unwrap())
        .collect();
    let report = pipeline.shutdown(Shutdown::Drain);
    assert_eq!(report.cancelled, 0);
    for (i, t) in tickets.into_iter().enumerate() {
        assert_eq!(t.wait().unwrap().text, format!("Number {i}"));
    }
    assert!(matches!(
        pipeline.submit(job("late")),
        Err(Error::Closed(_))
    ));
    assert!(matches!(
        pipeline.try_submit(job("late")),
        Err(Error::Closed(_))
    ));
    assert_eq!(pipeline.stats().completed, 60);
    assert_eq!(
        pipeline.shutdown(Shutdown::Drain).queued,
        0,
        "a second shutdown does nothing"
    );
}

#[test]
fn cancel_shutdown_answers_queued_requests_cancelled_and_finishes_running_ones() {
    let (gate, pipeline, held) = gated(10, 1);
    let mut queued: Vec<_> = (0..5)
        .map(|i| pipeline.submit(job(&format!("q{i}"))).unwrap())
        .collect();
    let pipeline = Arc::new(pipeline);
    let stopper = {
        let pipeline = Arc::clone(&pipeline);
        thread::spawn(move || pipeline.shutdown(Shutdown::Cancel))
    };
    // Probes accepted before intake closes are queued requests like the others.
    loop {
        match pipeline.try_submit(job("probe")) {
            Ok(probe) => queued.push(probe),
            Err(Error::Closed(_)) => break,
            Err(_) => {}
        }
        thread::sleep(Duration::from_millis(1));
    }
    gate.open();
    let report = stopper.join().unwrap();
    assert_eq!(report.cancelled, queued.len() as u64);
    assert_eq!(report.queued, queued.len());
    for t in held {
        assert_eq!(t.wait().unwrap().text, "Held 0");
    }
    for t in queued {
        assert!(matches!(t.wait(), Err(Error::Cancelled(_))));
    }
    assert_eq!(pipeline.stats().in_flight(), 0);
}

#[test]
fn a_waiting_submitter_is_told_closed_at_shutdown() {
    let (gate, pipeline, _held) = gated(1, 1);
    pipeline.submit(job("fills the queue")).unwrap();
    let pipeline = Arc::new(pipeline);
    let submitter = {
        let pipeline = Arc::clone(&pipeline);
        thread::spawn(move || pipeline.submit(job("never accepted")).map(|_| ()))
    };
    thread::sleep(Duration::from_millis(50));
    let stopper = {
        let pipeline = Arc::clone(&pipeline);
        thread::spawn(move || pipeline.shutdown(Shutdown::Drain))
    };
    assert!(matches!(submitter.join().unwrap(), Err(Error::Closed(_))));
    gate.open();
    stopper.join().unwrap();
    assert_eq!(pipeline.stats().completed, 2);
}

#[test]
fn callbacks_get_the_result_whether_attached_before_or_after_it_is_ready() {
    let (gate, pipeline, _held) = gated(10, 1);
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    pipeline
        .submit(job("before"))
        .unwrap()
        .on_complete(move |r| tx.send(r.map(|e| e.text)).unwrap());
    gate.open();
    assert_eq!(rx.recv_timeout(HANG).unwrap().unwrap(), "Before");
    let ready = pipeline.submit(job("after")).unwrap();
    while !ready.is_done() {
        thread::sleep(Duration::from_millis(1));
    }
    ready.on_complete(move |r| tx2.send(r.map(|e| e.text)).unwrap());
    assert_eq!(rx.try_recv().unwrap().unwrap(), "After");
}

#[test]
fn a_panicking_callback_does_not_stop_the_worker() {
    let pipeline = EnhancePipeline::new(RuleEnhancer, config(10, 1)).unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let first = pipeline.submit(job("one")).unwrap();
    first.on_complete(move |_| {
        drop(tx);
        panic!("callback bug")
    });
    let _ = rx.recv_timeout(HANG);
    assert_eq!(
        pipeline.submit(job("two")).unwrap().wait().unwrap().text,
        "Two"
    );
}

#[test]
fn wait_timeout_gives_a_typed_timeout_when_the_answer_is_late() {
    let (gate, pipeline, _held) = gated(10, 1);
    let ticket = pipeline.submit(job("slow")).unwrap();
    assert!(
        matches!(ticket.wait_timeout(Duration::from_millis(20)), Err(Error::Timeout(d)) if d == Duration::from_millis(20))
    );
    gate.open();
    let ticket = pipeline.submit(job("quick")).unwrap();
    assert_eq!(ticket.wait_timeout(HANG).unwrap().text, "Quick");
}

struct Panics;

impl Enhancer for Panics {
    fn name(&self) -> &str {
        "panics"
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        if text == "boom" {
            panic!("enhancer bug");
        }
        RuleEnhancer.enhance(text, request)
    }
}

#[test]
fn a_panicking_enhancer_answers_a_backend_error_and_the_worker_lives_on() {
    let pipeline = EnhancePipeline::new(Panics, config(10, 1)).unwrap();
    let err = pipeline.submit(job("boom")).unwrap().wait().unwrap_err();
    assert!(
        matches!(&err, Error::Backend { backend, .. } if backend == "panics"),
        "{err:?}"
    );
    assert_eq!(
        pipeline.submit(job("fine")).unwrap().wait().unwrap().text,
        "Fine"
    );
    assert_eq!(pipeline.stats().failed, 1);
}

#[test]
fn burst_of_50_requests_on_5_workers_loses_none() {
    // All 5 workers are busy when the burst arrives, so all 50 wait in the queue.
    let (gate, pipeline, held) = gated(100, 5);
    let tickets: Vec<_> = (0..50)
        .map(|i| {
            pipeline
                .try_submit(job(&format!("um request {i}")))
                .unwrap()
        })
        .collect();
    assert_eq!(pipeline.stats().peak_depth, 50);
    gate.open();
    let answered = tickets
        .into_iter()
        .enumerate()
        .map(|(i, t)| (i, t.wait().unwrap().text))
        .filter(|(i, text)| *text == format!("Request {i}"))
        .count();
    assert_eq!(answered, 50, "lost {}", 50 - answered);
    for t in held {
        t.wait().unwrap();
    }
    let stats = pipeline.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.completed,
            stats.rejected,
            stats.in_flight()
        ),
        (55, 55, 0, 0)
    );
}

#[test]
fn under_overload_every_request_is_either_refused_or_answered() {
    let gate = Arc::new(Gate::default());
    gate.open();
    let pipeline = Arc::new(EnhancePipeline::new(Arc::clone(&gate), config(10, 3)).unwrap());
    let submitters: Vec<_> = (0..4)
        .map(|s| {
            let pipeline = Arc::clone(&pipeline);
            thread::spawn(move || {
                let mut answered = 0;
                let mut refused = 0;
                for i in 0..100 {
                    match pipeline.try_submit(job(&format!("s{s} r{i}"))) {
                        Ok(t) => answered += usize::from(t.wait().is_ok()),
                        Err(Error::QueueFull { capacity: 10 }) => refused += 1,
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
                (answered, refused)
            })
        })
        .collect();
    let (answered, refused) = submitters
        .into_iter()
        .map(|h| h.join().unwrap())
        .fold((0, 0), |(a, r), (a2, r2)| (a + a2, r + r2));
    assert_eq!(answered + refused, 400);
    let stats = pipeline.stats();
    assert_eq!(stats.completed, answered as u64);
    assert_eq!(stats.rejected, refused as u64);
    assert_eq!(stats.in_flight(), 0);
}

#[test]
fn dropping_the_pipeline_drains_it() {
    let pipeline = EnhancePipeline::new(RuleEnhancer, config(100, 1)).unwrap();
    let tickets: Vec<_> = (0..20)
        .map(|_| pipeline.submit(job("kept")).unwrap())
        .collect();
    drop(pipeline);
    for t in tickets {
        assert_eq!(t.wait().unwrap().text, "Kept");
    }
}

#[test]
fn zero_capacity_or_workers_is_an_invalid_argument() {
    for (capacity, workers) in [(0, 1), (1, 0)] {
        let err = EnhancePipeline::new(RuleEnhancer, config(capacity, workers)).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }
}

#[test]
fn metrics_report_depth_wait_processing_and_outcomes_per_context() {
    let pipeline = EnhancePipeline::new(RuleEnhancer, config(100, 2)).unwrap();
    for context in [Context::Email, Context::Email, Context::Code] {
        let request = EnhanceRequest::new(context);
        pipeline
            .submit(Job::new("hello there", request))
            .unwrap()
            .wait()
            .unwrap();
    }
    let snapshot = pipeline.metrics().snapshot();
    let completed = |c: &str| {
        snapshot.counter(
            "enhance_requests_total",
            &[("context", c), ("outcome", "completed")],
        )
    };
    assert_eq!(
        (completed("email"), completed("code"), completed("chat")),
        (Some(2), Some(1), Some(0))
    );
    let wait = snapshot
        .histogram("enhance_wait_seconds", &[("context", "email")])
        .unwrap();
    let process = snapshot
        .histogram("enhance_process_seconds", &[("context", "email")])
        .unwrap();
    assert_eq!((wait.count, process.count), (2, 2));
    assert!(process.p50 <= process.p99 && process.p99 <= process.max);
    assert_eq!(
        snapshot.gauge("enhance_queue_depth", &[]).map(|g| g.value),
        Some(0)
    );
    let text = pipeline.metrics().to_prometheus();
    assert!(
        text.contains("enhance_requests_total{context=\"email\",outcome=\"completed\"} 2\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE enhance_process_seconds histogram\n"));
    assert!(text.contains("enhance_wait_seconds_count{context=\"code\"} 1\n"));
    assert!(text.contains("enhance_wait_seconds_bucket{le=\"+Inf\",context=\"code\"} 1\n"));
}
