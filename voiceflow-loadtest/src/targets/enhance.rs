//! The enhancement pipeline in-process (the rules backend, as `voiceflow
//! serve` runs it): each request submits one job without waiting for room,
//! so a full queue is a clear refusal, and waits for its answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use voiceflow_core::enhance::{
    Context, EnhancePipeline, EnhanceRequest, Job, PipelineConfig, RuleEnhancer,
};
use voiceflow_core::Result;

use crate::profile::Profile;
use crate::scenario::{Request, Runner, ScenarioResult, Target};
use crate::stats::{Failure, Outcome, Sample};

use super::failure_of;

const CONTEXTS: [Context; 5] = [
    Context::General,
    Context::Email,
    Context::Chat,
    Context::Document,
    Context::Code,
];

/// Users of one shared pipeline.
pub struct EnhanceTarget {
    pipeline: EnhancePipeline,
    config: PipelineConfig,
    texts: Arc<[String]>,
    timeout: Duration,
}

impl EnhanceTarget {
    /// Users enhancing `texts` (raw dictation) through a rules pipeline of
    /// `config`'s size, each job given `timeout`, waiting included.
    pub fn new(config: PipelineConfig, texts: Arc<[String]>, timeout: Duration) -> Result<Self> {
        Ok(EnhanceTarget {
            pipeline: EnhancePipeline::new(RuleEnhancer, config)?,
            config,
            texts,
            timeout,
        })
    }

    /// Submits job `n` as operation `op`, waiting for room in the queue
    /// when `wait` (backpressure) or refused at once when full; its answer
    /// comes on the receiver.
    fn submit(
        &self,
        op: &'static str,
        n: usize,
        wait: bool,
    ) -> Result<oneshot::Receiver<Outcome>, Outcome> {
        let context = CONTEXTS[n % CONTEXTS.len()];
        let text = &self.texts[n % self.texts.len()];
        let started = Instant::now();
        let job = Job::new(text.clone(), EnhanceRequest::new(context)).within(self.timeout);
        let submitted = if wait {
            self.pipeline.submit(job)
        } else {
            self.pipeline.try_submit(job)
        };
        let ticket = submitted
            .map_err(|e| Outcome::failed(op, started.elapsed().as_secs_f64(), failure_of(&e)))?;
        let (send, receive) = oneshot::channel();
        ticket.on_complete(move |result| {
            let took = started.elapsed().as_secs_f64();
            let outcome = match result {
                Ok(enhanced) if enhanced.text.trim().is_empty() => {
                    Outcome::failed(op, took, Failure::Error("empty enhanced text".into()))
                }
                Ok(_) => Outcome::ok(op, took),
                Err(e) => Outcome::failed(op, took, failure_of(&e)),
            };
            let _ = send.send(outcome);
        });
        Ok(receive)
    }

    /// Every answer of `submitted`, as samples.
    async fn answers(
        submitted: Vec<Result<oneshot::Receiver<Outcome>, Outcome>>,
        runner: &Runner,
        users: usize,
    ) -> Vec<Sample> {
        let mut samples = Vec::with_capacity(submitted.len());
        for job in submitted {
            let outcome = match job {
                Ok(answer) => answer.await.unwrap_or_else(|_| {
                    Outcome::failed("enhance", 0.0, Failure::Error("answer dropped".into()))
                }),
                Err(refused) => refused,
            };
            samples.push(Sample::of(outcome, runner.now_s(), users));
        }
        samples
    }

    /// Volume: bulk enhancement (`enhance_jobs` jobs submitted as fast as
    /// the queue takes them: every one must be answered), then a burst of
    /// twice what the queue and workers hold, submitted without waiting:
    /// the burst's success rate, its refusals clear (`burst`, not in the
    /// scenario's summary).
    pub async fn volume(self: &Arc<Self>, runner: &Runner, profile: &Profile) -> ScenarioResult {
        let jobs = profile.volume.enhance_jobs;
        let started = Instant::now();
        let this = self.clone();
        let submitted = tokio::task::spawn_blocking(move || {
            (0..jobs).map(|n| this.submit("enhance", n, true)).collect()
        })
        .await
        .unwrap_or_default();
        let mut samples = Self::answers(submitted, runner, jobs).await;
        let bulk_s = started.elapsed().as_secs_f64();
        let burst = 2 * (self.config.capacity + self.config.workers);
        let submitted = (0..burst).map(|n| self.submit("burst", n, false)).collect();
        let burst_samples = Self::answers(submitted, runner, burst).await;
        let burst_ok = burst_samples.iter().filter(|s| s.ok).count();
        samples.extend(burst_samples);
        let mut result = ScenarioResult::new(
            "enhance",
            "volume",
            samples,
            started.elapsed().as_secs_f64(),
        )
        .summarising("enhance", bulk_s);
        result.notes.push(format!(
            "bulk: {jobs} jobs through a queue of {} with {} workers (rules backend) in {bulk_s:.2} s",
            self.config.capacity, self.config.workers
        ));
        result.notes.push(format!(
            "burst: {burst} jobs submitted back to back without waiting for room: {burst_ok} done ({:.1}%), the rest refused with \"queue full\"",
            100.0 * burst_ok as f64 / burst as f64
        ));
        result
    }
}

impl Target for EnhanceTarget {
    fn name(&self) -> &'static str {
        "enhance"
    }

    fn request(self: Arc<Self>, user: usize, seq: u64) -> Request {
        Box::pin(async move {
            let outcome = match self.submit("enhance", user * 7919 + seq as usize, false) {
                Ok(answer) => answer.await.unwrap_or_else(|_| {
                    Outcome::failed("enhance", 0.0, Failure::Error("answer dropped".into()))
                }),
                Err(refused) => refused,
            };
            vec![outcome]
        })
    }
}
