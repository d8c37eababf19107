//! Enhancement benchmarks.
//!
//! - `rules/<context>`: the rule enhancer on a typical 100-word dictation per
//!   context; P50/P95/P99 over 20,000 runs are printed as well.
//! - `burst/50_requests_5_workers`: the original report's burst (50 requests
//!   at once, 5 workers) against a backend that takes 5 ms a request; peak
//!   queue depth, wait P50/P99 and lost requests (must be 0) are printed.
//! - `throughput/15_workers_*`: requests per second with 15 workers, on the
//!   rules alone and on a 5 ms backend.
//!
//! Run: `cargo bench --bench enhance` (about two minutes).

use std::hint::black_box;
use std::thread::sleep;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use voiceflow_core::enhance::{
    Context, EnhancePipeline, EnhanceRequest, Enhanced, Enhancer, Job, PipelineConfig,
    RuleEnhancer, Shutdown,
};
use voiceflow_core::metrics::Metrics;
use voiceflow_core::Result;

/// About 100 words of dictation per context, fillers and commands included.
fn dictation(context: Context) -> &'static str {
    match context {
        Context::General => {
            "um so I wanted to give you a quick update on the the project comma we are about \
             twenty five percent ahead of plan and the team has been, you know, working really \
             hard period the next milestone is on the twenty first of may and we should be able \
             to hit it no wait I mean the twenty eighth period uh the budget is holding at about \
             two million dollars and I think we can keep it there new paragraph let me know if \
             you have any questions question mark"
        }
        Context::Email => {
            "hi sarah new paragraph thanks for sending the the report over comma it looks really \
             good period um I had a couple of small comments on the numbers in section three \
             comma mostly about the twenty five percent growth figure which I think should be \
             twenty two percent no wait twenty three percent period could we meet at three \
             thirty pm tomorrow to go through it question mark I can also do four pm if that \
             works better for you new paragraph uh let me know what you think period new \
             paragraph best regards john"
        }
        Context::Chat => {
            "hey um are you still coming to the the thing tonight question mark we are meeting \
             at seven thirty pm at the usual place and uh I think there will be about twelve of \
             us comma so it should be fun period you know I was going to bring snacks but scratch \
             that I will bring drinks instead period let me know if you want me to pick you up on \
             the way comma it is no trouble at all and I have room for three more people in the \
             car okay see you soon"
        }
        Context::Document => {
            "heading quarterly review new paragraph um this quarter the the company grew revenue \
             by eighteen percent compared with the same period last year comma driven mostly by \
             new customers in europe period uh operating costs rose by six percent comma which is \
             below the plan of nine percent period new paragraph subheading next steps new \
             paragraph we will hire fifteen engineers and open a second office in nineteen ninety \
             nine no wait in twenty twenty five period the board will review progress at the \
             meeting on the twelfth of march"
        }
        Context::Code => {
            "um let snake case user count equals zero semicolon new line for item in items dot \
             iter open paren close paren open brace new line if item dot is active open paren \
             close paren double equals true open brace new line snake case user count plus \
             equals one semicolon new line close brace new line close brace new line let camel \
             case average score equals total divided by snake case user count semicolon new line \
             print open paren average score comma snake case user count close paren semicolon \
             new line fn pascal case score board open paren close paren arrow result"
        }
    }
}

fn rules(c: &mut Criterion) {
    let mut group = c.benchmark_group("rules");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let metrics = Metrics::new();
    for context in Context::ALL {
        let text = dictation(context);
        let request = EnhanceRequest::new(context);
        group.bench_function(context.as_str(), |b| {
            b.iter(|| RuleEnhancer.enhance(black_box(text), &request))
        });
        let latency = metrics.histogram("rules_seconds", &[("context", context.as_str())]);
        for _ in 0..20_000 {
            let started = Instant::now();
            black_box(RuleEnhancer.enhance(black_box(text), &request).ok());
            latency.record(started.elapsed());
        }
        eprintln!(
            "rules/{context}: {} words, P50 {:.1} µs P95 {:.1} µs P99 {:.1} µs",
            text.split_whitespace().count(),
            latency.quantile(0.50) * 1e6,
            latency.quantile(0.95) * 1e6,
            latency.quantile(0.99) * 1e6,
        );
    }
    group.finish();
}

/// A backend that takes a fixed time per request (an LLM on a local server,
/// simulated), then answers with the rules.
struct Simulated(Duration);

impl Enhancer for Simulated {
    fn name(&self) -> &str {
        "simulated"
    }

    fn enhance(&self, text: &str, request: &EnhanceRequest) -> Result<Enhanced> {
        sleep(self.0);
        RuleEnhancer.enhance(text, request)
    }
}

const BACKEND_TIME: Duration = Duration::from_millis(5);

/// Submits `n` requests at once and waits for every answer; returns how many
/// were answered (with a result or a typed error).
fn run_all(pipeline: &EnhancePipeline, n: usize) -> usize {
    let tickets: Vec<_> = (0..n)
        .map(|i| {
            let context = Context::ALL[i % Context::ALL.len()];
            let job = Job::new(dictation(context), EnhanceRequest::new(context));
            pipeline
                .submit(job)
                .expect("the queue has room for the burst")
        })
        .collect();
    tickets
        .into_iter()
        .map(|t| t.wait())
        .filter(|r| r.is_ok())
        .count()
}

fn burst(c: &mut Criterion) {
    const REQUESTS: usize = 50;
    let config = PipelineConfig {
        capacity: 100,
        workers: 5,
    };
    {
        let pipeline = EnhancePipeline::new(Simulated(BACKEND_TIME), config).unwrap();
        let started = Instant::now();
        let answered = run_all(&pipeline, REQUESTS);
        let took = started.elapsed();
        pipeline.shutdown(Shutdown::Drain);
        let stats = pipeline.stats();
        let snapshot = pipeline.metrics().snapshot();
        let wait = snapshot
            .histograms
            .iter()
            .filter(|h| h.name == "enhance_wait_seconds")
            .map(|h| h.values)
            .max_by(|a, b| a.p99.total_cmp(&b.p99))
            .unwrap();
        eprintln!(
            "burst: {REQUESTS} requests, {} workers, {BACKEND_TIME:?} backend: took {took:?}, \
             peak depth {}, wait P50 {:.2} ms P99 {:.2} ms (worst context), completed {}, lost {}",
            config.workers,
            stats.peak_depth,
            wait.p50 * 1e3,
            wait.p99 * 1e3,
            stats.completed,
            REQUESTS - answered,
        );
    }
    let pipeline = EnhancePipeline::new(Simulated(BACKEND_TIME), config).unwrap();
    let mut group = c.benchmark_group("burst");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("50_requests_5_workers", |b| {
        b.iter(|| assert_eq!(run_all(&pipeline, REQUESTS), REQUESTS))
    });
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let config = PipelineConfig {
        capacity: 100,
        workers: 15,
    };
    let mut group = c.benchmark_group("throughput");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, backend, n) in [
        ("15_workers_rules", Duration::ZERO, 1_000),
        ("15_workers_5ms_backend", BACKEND_TIME, 300),
    ] {
        let pipeline = EnhancePipeline::new(Simulated(backend), config).unwrap();
        let started = Instant::now();
        let answered = run_all(&pipeline, n);
        eprintln!(
            "throughput/{name}: {n} requests in {:?} = {:.0} requests/s, lost {}",
            started.elapsed(),
            n as f64 / started.elapsed().as_secs_f64(),
            n - answered
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(name, |b| b.iter(|| assert_eq!(run_all(&pipeline, n), n)));
    }
    group.finish();
}

criterion_group!(benches, rules, burst, throughput);
criterion_main!(benches);
