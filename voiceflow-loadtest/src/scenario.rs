//! The scenarios every target shares: users that make requests in a loop,
//! bounded in count and time, in the shapes progressive, sustained, spike
//! and stress. (Volume and connections are the targets' own.)

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::profile::Profile;
use crate::stats::{Failure, Outcome, Sample, Summary};
use crate::system::{LeakVerdict, Sampler, SystemSample};

/// One request's operations, as a future.
pub type Request = Pin<Box<dyn Future<Output = Vec<Outcome>> + Send>>;

/// Something users load: each request is one or more operations.
pub trait Target: Send + Sync + 'static {
    /// `engine`, `enhance`, `store` or `ws`.
    fn name(&self) -> &'static str;
    /// Request number `seq` of user `user`.
    fn request(self: Arc<Self>, user: usize, seq: u64) -> Request;
    /// What the report should know of the target's state after a scenario
    /// (such as how many records the store holds).
    fn state(&self) -> Option<String> {
        None
    }
}

/// The run's clock and bounds, shared by every scenario.
#[derive(Clone)]
pub struct Runner {
    /// When the run started: samples' `t_s` count from here.
    pub epoch: Instant,
    /// Requests per user per window, at most.
    pub max_requests_per_user: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
}

/// A group of users active in one window of time.
#[derive(Debug, Clone, Copy)]
struct Window {
    users: usize,
    start_s: f64,
    stop_s: f64,
}

/// One level of users and what they measured.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    /// Concurrent users.
    pub users: usize,
    /// Seconds from the run's start to the level's.
    pub started_s: f64,
    /// Its summary.
    pub summary: Summary,
}

/// What the spike scenario found.
#[derive(Debug, Clone, Serialize)]
pub struct SpikeFindings {
    /// P95 (ms) of the first base phase.
    pub base_p95_ms: f64,
    /// P95 (ms) during the spike.
    pub peak_p95_ms: f64,
    /// `peak_p95_ms / base_p95_ms`.
    pub increase: f64,
    /// Seconds from the end of the spike until the P95 of every later
    /// bucket is back within [`RECOVERED_WITHIN`] times the base P95 (or
    /// [`RECOVERED_SLACK_MS`] of it); `None` when it
    /// never was before the end.
    pub recovery_s: Option<f64>,
    /// Buckets of the timeline: seconds from the scenario's start to the
    /// bucket's end, users then, P95 (ms) of the operations that ended in
    /// the bucket (buckets where none succeeded are left out).
    pub timeline: Vec<(f64, usize, f64)>,
}

/// A bucket after the spike counts as recovered when its P95 is at most
/// this many times the base phase's.
pub const RECOVERED_WITHIN: f64 = 1.5;
/// ... or when it is at most this many milliseconds over the base P95:
/// sub-millisecond operations (the enhancer's) vary by more than 1.5x with
/// the scheduler alone.
pub const RECOVERED_SLACK_MS: f64 = 1.0;

/// What the stress scenario found.
#[derive(Debug, Clone, Serialize)]
pub struct StressFindings {
    /// The first level that crossed a limit; `None` when none did.
    pub breaking_users: Option<usize>,
    /// The last level within the limits.
    pub last_good_users: Option<usize>,
    /// Why the breaking level broke, and how it failed.
    pub verdict: String,
    /// Whether the failures at the breaking point were all clear refusals
    /// (graceful degradation); `None` when nothing broke.
    pub graceful: Option<bool>,
}

/// A scenario against a target.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// The target.
    pub target: &'static str,
    /// `progressive`, `sustained`, `spike`, `stress`, `volume` or `connections`.
    pub scenario: &'static str,
    /// Every sample, in the order they ended (thinned evenly to at most
    /// [`MAX_SAMPLES_KEPT`] when written; summaries count them all).
    pub samples: Vec<Sample>,
    /// How many samples there were before thinning.
    pub samples_total: usize,
    /// All samples' summary.
    pub summary: Summary,
    /// Per level (progressive and stress), per phase (spike).
    pub levels: Vec<Level>,
    /// Spike findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spike: Option<SpikeFindings>,
    /// Stress findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stress: Option<StressFindings>,
    /// Memory, CPU and file descriptors over time (sustained).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<SystemSample>,
    /// The leak verdict from the memory trend (sustained).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leak: Option<LeakVerdict>,
    /// Per operation, when a scenario mixes operations (volume).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_op: Vec<(&'static str, Summary)>,
    /// Facts worth a line in the report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ScenarioResult {
    /// A result of `samples` that took `wall_s` seconds, with a summary per
    /// operation when they mix kinds of operation.
    pub fn new(
        target: &'static str,
        scenario: &'static str,
        samples: Vec<Sample>,
        wall_s: f64,
    ) -> Self {
        let mut ops: Vec<&'static str> = samples.iter().map(|s| s.op).collect();
        ops.sort_unstable();
        ops.dedup();
        let per_op = if ops.len() > 1 {
            ops.into_iter()
                .map(|op| {
                    (
                        op,
                        Summary::of(samples.iter().filter(|s| s.op == op), wall_s),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        ScenarioResult {
            target,
            scenario,
            summary: Summary::of(&samples, wall_s),
            samples_total: samples.len(),
            samples,
            levels: Vec::new(),
            spike: None,
            stress: None,
            system: Vec::new(),
            leak: None,
            per_op,
            notes: Vec::new(),
        }
    }
}

/// Samples results.json keeps per scenario: fast in-process targets make
/// millions, and a file of gigabytes helps no one.
pub const MAX_SAMPLES_KEPT: usize = 50_000;

impl ScenarioResult {
    /// Keeps every k-th sample so that at most [`MAX_SAMPLES_KEPT`] remain;
    /// the summaries were made from all of them.
    pub fn thin(&mut self) {
        let every = self.samples.len().div_ceil(MAX_SAMPLES_KEPT).max(1);
        if every > 1 {
            let mut n = 0;
            self.samples.retain(|_| {
                n += 1;
                n % every == 0
            });
        }
    }

    /// The scenario's summary taken from operation `op` alone, over
    /// `wall_s` (the other operations stay in samples and `per_op`).
    pub fn summarising(mut self, op: &str, wall_s: f64) -> Self {
        self.summary = Summary::of(self.samples.iter().filter(|s| s.op == op), wall_s);
        self
    }
}

impl Runner {
    /// Seconds since the run started.
    pub fn now_s(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    /// Runs users in their windows (seconds from now) and collects samples.
    async fn drive(&self, target: &Arc<dyn Target>, windows: &[Window]) -> Vec<Sample> {
        let base = Instant::now();
        let windows_owned: Arc<[Window]> = windows.into();
        let mut tasks = Vec::new();
        let mut user = 0;
        for window in windows {
            for _ in 0..window.users {
                let (target, runner, windows) =
                    (target.clone(), self.clone(), windows_owned.clone());
                let window = *window;
                tasks.push(tokio::spawn(async move {
                    let mut samples = Vec::new();
                    tokio::time::sleep_until((base + secs(window.start_s)).into()).await;
                    for seq in 0..runner.max_requests_per_user as u64 {
                        let start_s = base.elapsed().as_secs_f64();
                        if start_s >= window.stop_s {
                            break;
                        }
                        let users = windows
                            .iter()
                            .filter(|w| w.start_s <= start_s && start_s < w.stop_s)
                            .map(|w| w.users)
                            .sum();
                        let started = Instant::now();
                        let request = target.clone().request(user, seq);
                        let outcomes = tokio::time::timeout(runner.request_timeout, request)
                            .await
                            .unwrap_or_else(|_| {
                                vec![Outcome::failed(
                                    "request",
                                    started.elapsed().as_secs_f64(),
                                    Failure::Timeout,
                                )]
                            });
                        let t_s = runner.now_s();
                        samples.extend(outcomes.into_iter().map(|o| Sample::of(o, t_s, users)));
                    }
                    samples
                }));
                user += 1;
            }
        }
        let mut samples = Vec::new();
        for task in tasks {
            match task.await {
                Ok(more) => samples.extend(more),
                Err(e) => samples.push(Sample::of(
                    Outcome::failed(
                        "request",
                        0.0,
                        Failure::Error(format!("user task failed: {e}")),
                    ),
                    self.now_s(),
                    0,
                )),
            }
        }
        samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        samples
    }

    /// `users` users for `seconds`.
    pub async fn level(
        &self,
        target: &Arc<dyn Target>,
        users: usize,
        seconds: f64,
    ) -> (Level, Vec<Sample>) {
        let started_s = self.now_s();
        let window = Window {
            users,
            start_s: 0.0,
            stop_s: seconds,
        };
        let samples = self.drive(target, &[window]).await;
        let level = Level {
            users,
            started_s,
            summary: Summary::of(&samples, self.now_s() - started_s),
        };
        (level, samples)
    }

    /// Levels of users one after the other.
    pub async fn progressive(&self, target: &Arc<dyn Target>, profile: &Profile) -> ScenarioResult {
        let started_s = self.now_s();
        let mut levels = Vec::new();
        let mut samples = Vec::new();
        for &users in &profile.progressive.users {
            let (level, more) = self.level(target, users, profile.progressive.level_s).await;
            levels.push(level);
            samples.extend(more);
        }
        let mut result = ScenarioResult::new(
            target.name(),
            "progressive",
            samples,
            self.now_s() - started_s,
        );
        result.levels = levels;
        result
    }

    /// A steady load with the process `pid` sampled (when known).
    pub async fn sustained(
        &self,
        target: &Arc<dyn Target>,
        profile: &Profile,
        pid: Option<u32>,
    ) -> ScenarioResult {
        let sustained = &profile.sustained;
        let every = secs(sustained.sample_every_s);
        let sampler = pid.map(|pid| Sampler::start(pid, every, self.epoch));
        let (level, samples) = self
            .level(target, sustained.users, sustained.duration_s)
            .await;
        let system = match sampler {
            Some(sampler) => sampler.stop().await,
            None => Vec::new(),
        };
        let mut result =
            ScenarioResult::new(target.name(), "sustained", samples, level.summary.wall_s);
        result.leak = LeakVerdict::judge(&system);
        result.system = system;
        result.levels = vec![level];
        result
    }

    /// Base users throughout, extra users for the middle third.
    pub async fn spike(&self, target: &Arc<dyn Target>, profile: &Profile) -> ScenarioResult {
        let spike = &profile.spike;
        let phase = spike.phase_s;
        let started_s = self.now_s();
        let windows = [
            Window {
                users: spike.base_users,
                start_s: 0.0,
                stop_s: 3.0 * phase,
            },
            Window {
                users: spike.peak_users.saturating_sub(spike.base_users),
                start_s: phase,
                stop_s: 2.0 * phase,
            },
        ];
        let samples = self.drive(target, &windows).await;
        let wall_s = self.now_s() - started_s;
        let phase_of = |s: &Sample| ((s.t_s - started_s) / phase).floor().clamp(0.0, 2.0) as usize;
        let levels: Vec<Level> = (0..3)
            .map(|p| Level {
                users: if p == 1 {
                    spike.peak_users
                } else {
                    spike.base_users
                },
                started_s: started_s + p as f64 * phase,
                summary: Summary::of(samples.iter().filter(|s| phase_of(s) == p), phase),
            })
            .collect();
        let bucket_s = (phase / 5.0).clamp(0.2, 1.0);
        let buckets = (wall_s / bucket_s).ceil() as usize;
        let timeline: Vec<(f64, usize, f64)> = (0..buckets)
            .map(|b| {
                let (from, to) = (b as f64 * bucket_s, (b + 1) as f64 * bucket_s);
                let inside = samples
                    .iter()
                    .filter(|s| (from..to).contains(&(s.t_s - started_s)));
                let summary = Summary::of(inside, bucket_s);
                let users = if (phase..2.0 * phase).contains(&from) {
                    spike.peak_users
                } else {
                    spike.base_users
                };
                (to, users, summary)
            })
            // A bucket where no operation ended has no latency to show.
            .filter(|(_, _, summary)| summary.ok > 0)
            .map(|(to, users, summary)| (to, users, summary.p95_ms))
            .collect();
        let base_p95_ms = levels[0].summary.p95_ms;
        let peak_p95_ms = levels[1].summary.p95_ms;
        let recovery_s = recovery_s(&timeline, base_p95_ms, 2.0 * phase, bucket_s);
        let mut result = ScenarioResult::new(target.name(), "spike", samples, wall_s);
        result.spike = Some(SpikeFindings {
            base_p95_ms,
            peak_p95_ms,
            increase: if base_p95_ms > 0.0 {
                peak_p95_ms / base_p95_ms
            } else {
                0.0
            },
            recovery_s,
            timeline,
        });
        result.levels = levels;
        result
    }

    /// Levels raised until one crosses the success rate or P95 limit.
    pub async fn stress(
        &self,
        target: &Arc<dyn Target>,
        profile: &Profile,
        max_p95_ms: f64,
    ) -> ScenarioResult {
        let stress = &profile.stress;
        let started_s = self.now_s();
        let mut levels = Vec::new();
        let mut samples = Vec::new();
        let mut findings = StressFindings {
            breaking_users: None,
            last_good_users: None,
            verdict: format!(
                "nothing broke up to {} users (limits: success rate {:.0}%, P95 {max_p95_ms:.0} ms)",
                stress.max_users,
                100.0 * stress.min_success_rate
            ),
            graceful: None,
        };
        let mut users = stress.start_users;
        while users <= stress.max_users {
            let (level, more) = self.level(target, users, stress.level_s).await;
            samples.extend(more);
            let summary = &level.summary;
            let slow = summary.ok > 0 && summary.p95_ms > max_p95_ms;
            let failing = summary.success_rate < stress.min_success_rate;
            if slow || failing {
                let ungraceful = summary.count - summary.ok - summary.graceful_failures;
                findings.breaking_users = Some(users);
                findings.graceful = Some(ungraceful == 0);
                let why = if failing {
                    format!(
                        "success rate {:.1}% under {:.0}%",
                        100.0 * summary.success_rate,
                        100.0 * stress.min_success_rate
                    )
                } else {
                    format!("P95 {:.0} ms over {max_p95_ms:.0} ms", summary.p95_ms)
                };
                let how = if summary.ok == summary.count {
                    "no request failed: it slowed down".to_string()
                } else if ungraceful == 0 {
                    format!(
                        "graceful: all {} failures were clear refusals",
                        summary.count - summary.ok
                    )
                } else {
                    format!("not graceful: {ungraceful} timeouts, dropped connections or errors")
                };
                findings.verdict = format!("broke at {users} users: {why}; {how}");
                levels.push(level);
                break;
            }
            findings.last_good_users = Some(users);
            levels.push(level);
            users += stress.step_users;
        }
        let mut result =
            ScenarioResult::new(target.name(), "stress", samples, self.now_s() - started_s);
        result.levels = levels;
        result.stress = Some(findings);
        result
    }
}

/// Seconds from `spike_end_s` until the P95 of every later bucket of
/// `timeline` is back within [`RECOVERED_WITHIN`] times `base_p95_ms` (or
/// [`RECOVERED_SLACK_MS`] over it), counted from the start of the first such
/// bucket; `None` when the last bucket is not.
fn recovery_s(
    timeline: &[(f64, usize, f64)],
    base_p95_ms: f64,
    spike_end_s: f64,
    bucket_s: f64,
) -> Option<f64> {
    let limit = (base_p95_ms * RECOVERED_WITHIN).max(base_p95_ms + RECOVERED_SLACK_MS);
    timeline
        .iter()
        .enumerate()
        .filter(|(_, (end, _, _))| *end > spike_end_s)
        .find(|(i, _)| timeline[*i..].iter().all(|(_, _, p95)| *p95 <= limit))
        .map(|(_, (end, _, _))| (end - bucket_s - spike_end_s).max(0.0))
}

/// Seconds as a duration (negative and non-finite: zero).
pub fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_counts_from_the_first_bucket_after_which_all_are_back() {
        // Buckets of 1 s; the spike ends at 4 s; base P95 100 ms (limit 150).
        let timeline = [
            (1.0, 10, 100.0),
            (4.0, 50, 900.0),
            (5.0, 10, 400.0),
            (6.0, 10, 120.0),
            (7.0, 10, 200.0),
            (8.0, 10, 140.0),
            (9.0, 10, 90.0),
        ];
        assert_eq!(recovery_s(&timeline, 100.0, 4.0, 1.0), Some(3.0));
        assert_eq!(recovery_s(&timeline[..5], 100.0, 4.0, 1.0), None);
        // Sub-millisecond operations: 0.3 -> 0.45 ms is within the slack.
        let fast = [(1.0, 1, 0.3), (3.0, 3, 2.0), (4.0, 1, 0.45), (5.0, 1, 0.5)];
        assert_eq!(recovery_s(&fast, 0.3, 3.0, 1.0), Some(0.0));
    }
}
