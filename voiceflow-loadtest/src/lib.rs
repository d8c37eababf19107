//! `voiceflow loadtest`: the load-testing suite behind VoiceFlow's
//! readiness report.
//!
//! Five scenarios (progressive, sustained, spike, stress, volume; and, for
//! the server, connections held open) against four components: the engine
//! in-process, the enhancement pipeline, the encrypted store and the
//! WebSocket server (`voiceflow serve`, started on a free loopback port
//! unless a loopback URL is given). Users are real clients: streams send
//! speech fixtures and every final's words are checked; a wrong transcript
//! is a failure. Every request loop is bounded in count and in time.
//!
//! The run writes `results.json` (every sample, the machine), `report.md`
//! (grades from printed criteria, per-scenario tables, capacity guidance,
//! thresholds) and PNG charts; a failed threshold is reported in
//! [`RunReport::failed_thresholds`] (the program exits non-zero, as k6 does).

#![warn(missing_docs)]

pub mod charts;
pub mod fixtures;
pub mod machine;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod server;
pub mod stats;
pub mod system;
pub mod targets;
pub mod threshold;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use voiceflow_core::enhance::PipelineConfig;
use voiceflow_core::store::{Store, StoreConfig, StoreKey};
use voiceflow_core::{Engine, EngineConfig, Error, Result};

pub use profile::Profile;
pub use report::RunReport;

use scenario::{Runner, ScenarioResult, Target};
use server::{ServerProcess, ServerSetup};
use targets::engine::EngineTarget;
use targets::enhance::EnhanceTarget;
use targets::store::StoreTarget;
use targets::ws::WsTarget;
use threshold::Threshold;

/// What to run and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The profile (thresholds included).
    pub profile: Profile,
    /// Targets, in the order they run: `engine`, `enhance`, `store`, `ws`.
    pub targets: Vec<String>,
    /// A running server (`ws://127.0.0.1:PORT`, loopback only); without it
    /// the load test starts `program serve` itself.
    pub url: Option<String>,
    /// The token for `url`'s server.
    pub token: Option<String>,
    /// Output folder.
    pub out: PathBuf,
    /// Model folder (engine target and the started server).
    pub model: PathBuf,
    /// ONNX Runtime threads (`None`: one per core).
    pub threads: Option<usize>,
    /// The speech fixtures (a folder with `manifest.tsv`).
    pub fixtures: PathBuf,
    /// The `voiceflow` program, to start `voiceflow serve`.
    pub program: PathBuf,
}

/// Runs the load test and writes its report into `options.out`.
pub fn run(options: &Options) -> Result<RunReport> {
    for target in &options.targets {
        if !threshold::TARGETS.contains(&target.as_str()) {
            return Err(Error::InvalidArgument(format!(
                "unknown target {target:?} (one of {})",
                threshold::TARGETS.join(", ")
            )));
        }
    }
    let remote = options
        .url
        .as_deref()
        .map(server::loopback_addr)
        .transpose()?;
    if remote.is_some() && options.token.is_none() {
        return Err(Error::InvalidArgument("--url needs --token-file".into()));
    }
    options.profile.validate()?;
    let clips: Arc<[fixtures::Clip]> = fixtures::load(&options.fixtures)?.into();
    let work = options.out.join("work");
    std::fs::create_dir_all(&work).map_err(|source| Error::Io {
        path: work.clone(),
        source,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(1_024)
        .build()
        .map_err(|source| Error::Io {
            path: PathBuf::from("tokio runtime"),
            source,
        })?;
    let started_at_unix_s = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let profile = &options.profile;
    let runner = Runner {
        epoch: Instant::now(),
        max_requests_per_user: profile.max_requests_per_user,
        request_timeout: scenario::secs(profile.request_timeout_s),
    };
    let texts: Arc<[String]> = clips.iter().map(|c| dictation(&c.text)).collect();
    // The in-process targets live in this process.
    let this_process = Some(std::process::id());
    let mut scenarios = Vec::new();
    for name in &options.targets {
        eprintln!("loadtest: {name}");
        let results = match name.as_str() {
            "store" => {
                let store = Store::open(
                    work.join("store"),
                    StoreKey::passphrase("voiceflow loadtest"),
                    StoreConfig::default(),
                )?;
                let target = Arc::new(StoreTarget::new(store, texts.clone()));
                let results = runtime.block_on(async {
                    let mut results =
                        shared_scenarios(&runner, target.clone(), profile, this_process).await;
                    results.push(target.volume(&runner, profile).await);
                    results
                });
                drop(target);
                let _ = std::fs::remove_dir_all(work.join("store"));
                results
            }
            "enhance" => {
                let target = Arc::new(EnhanceTarget::new(
                    PipelineConfig::default(),
                    texts.clone(),
                    Duration::from_secs(5),
                )?);
                runtime.block_on(async {
                    let mut results =
                        shared_scenarios(&runner, target.clone(), profile, this_process).await;
                    results.push(target.volume(&runner, profile).await);
                    results
                })
            }
            "engine" => {
                let mut config = EngineConfig::new(&options.model);
                if let Some(threads) = options.threads {
                    config.intra_op_threads = threads;
                }
                let engine = Arc::new(Engine::new(config)?);
                let target = Arc::new(EngineTarget::new(engine, clips.clone()));
                runtime.block_on(async {
                    let mut results =
                        shared_scenarios(&runner, target.clone(), profile, this_process).await;
                    results.extend(target.volume(&runner, profile).await);
                    results
                })
            }
            _ => {
                let mut process = None;
                let (addr, token) = match remote {
                    Some(addr) => (addr, options.token.clone().unwrap_or_default()),
                    None => {
                        let setup = ServerSetup {
                            program: &options.program,
                            model: &options.model,
                            threads: options.threads,
                            work: &work,
                        };
                        let started = ServerProcess::start(&setup, profile)?;
                        let found = (started.addr, started.token.clone());
                        process = Some(started);
                        found
                    }
                };
                let mut target = WsTarget::new(addr, token, clips.clone(), profile.pace);
                target.server_pid = process.as_ref().map(ServerProcess::pid);
                let target = Arc::new(target);
                let mut results = runtime.block_on(async {
                    let mut results = vec![target.connections(&runner, profile).await];
                    results.extend(
                        shared_scenarios(&runner, target.clone(), profile, target.server_pid).await,
                    );
                    results.extend(target.volume(&runner, profile).await);
                    results
                });
                if let Some(process) = process.as_mut() {
                    if !process.is_running() {
                        if let Some(last) = results.last_mut() {
                            last.notes
                                .push("the server process had exited by the end of the run".into());
                        }
                    }
                }
                results
            }
        };
        for result in &results {
            eprintln!(
                "loadtest: {name} {:<12} {:>6} ops, {:5.1}% ok, P95 {:.1} ms",
                result.scenario,
                result.summary.count,
                100.0 * result.summary.success_rate,
                result.summary.p95_ms
            );
        }
        scenarios.extend(results);
    }
    let mut report = RunReport {
        machine: machine::Machine::this(&options.model.display().to_string(), options.threads),
        profile: profile.clone(),
        started_at_unix_s,
        wall_s: runner.now_s(),
        scenarios,
        thresholds: Vec::new(),
        grades: Vec::new(),
        charts: Vec::new(),
    };
    report.thresholds = profile
        .thresholds
        .iter()
        .map(|text| {
            let threshold = Threshold::parse(text)?;
            Ok(threshold.judge(report.summary(&threshold.target, &threshold.scenario)))
        })
        .collect::<Result<_>>()?;
    report.grade();
    report.write(&options.out)?;
    Ok(report)
}

/// Progressive, sustained (process `pid` sampled), spike and stress
/// against `target`.
async fn shared_scenarios<T: Target>(
    runner: &Runner,
    target: Arc<T>,
    profile: &Profile,
    pid: Option<u32>,
) -> Vec<ScenarioResult> {
    let target: Arc<dyn Target> = target;
    let limits = &profile.stress.max_p95_ms;
    let max_p95_ms = match target.name() {
        "engine" => limits.engine,
        "enhance" => limits.enhance,
        "store" => limits.store,
        _ => limits.ws,
    };
    // Each scenario's result notes the target's state after it.
    let noted = |mut result: ScenarioResult| {
        result.notes.extend(target.state());
        result
    };
    vec![
        noted(runner.progressive(&target, profile).await),
        noted(runner.sustained(&target, profile, pid).await),
        noted(runner.spike(&target, profile).await),
        noted(runner.stress(&target, profile, max_p95_ms).await),
    ]
}

/// A fixture's text as raw dictation: lowercase, no punctuation.
fn dictation(text: &str) -> String {
    voiceflow_core::transcript::words(text).join(" ")
}
