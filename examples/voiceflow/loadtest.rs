//! `voiceflow loadtest`: the load-testing suite of `voiceflow-loadtest`,
//! with the profile's settings overridable by flags.

use std::path::PathBuf;
use std::process::ExitCode;

use voiceflow_loadtest::{Options, Profile};

#[derive(clap::Args)]
pub struct LoadtestArgs {
    /// smoke (under a minute), standard (the committed report), full (the
    /// original report's scale), or a .toml profile file.
    #[arg(long, default_value = "smoke")]
    profile: String,
    /// Components to load, in order: engine, enhance, store, ws.
    #[arg(long, value_delimiter = ',', default_value = "engine,enhance,store,ws")]
    targets: Vec<String>,
    /// A running `voiceflow serve` (ws://127.0.0.1:PORT, loopback only);
    /// without it the load test starts one on a free loopback port.
    #[arg(long)]
    url: Option<String>,
    /// The token file of --url's server (first non-comment line).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Output folder: results.json, report.md, PNG charts.
    #[arg(long, default_value = "loadtest-report")]
    out: PathBuf,
    /// Model folder.
    #[arg(long, default_value = "models/whisper-tiny.en")]
    model: PathBuf,
    /// ONNX Runtime threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Speech fixtures: a folder of 16-kHz WAV files with manifest.tsv.
    #[arg(long, default_value = "tests/fixtures/speech")]
    fixtures: PathBuf,
    /// Progressive levels (users), such as 1,5,10,20,50.
    #[arg(long, value_delimiter = ',')]
    users: Option<Vec<usize>>,
    /// Seconds of the sustained run.
    #[arg(long)]
    duration: Option<f64>,
    /// Stream speed against real time (1: a microphone's pace; 0: no pacing).
    #[arg(long)]
    pace: Option<f64>,
    /// Another threshold, such as "ws.progressive.p95_ms < 2000" (repeatable).
    #[arg(long = "threshold")]
    thresholds: Vec<String>,
}

impl LoadtestArgs {
    fn options(&self) -> voiceflow_core::Result<Options> {
        let mut profile = Profile::resolve(&self.profile)?;
        if let Some(users) = &self.users {
            profile.progressive.users = users.clone();
        }
        if let Some(duration) = self.duration {
            profile.sustained.duration_s = duration;
        }
        if let Some(pace) = self.pace {
            profile.pace = pace;
        }
        profile.thresholds.extend(self.thresholds.iter().cloned());
        let token = match &self.token_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|source| voiceflow_core::Error::Io {
                        path: path.clone(),
                        source,
                    })?
                    .lines()
                    .map(str::trim)
                    .find(|line| !line.is_empty() && !line.starts_with('#'))
                    .unwrap_or_default()
                    .to_string(),
            ),
            None => None,
        };
        let program = std::env::current_exe().map_err(|source| voiceflow_core::Error::Io {
            path: PathBuf::from("voiceflow"),
            source,
        })?;
        Ok(Options {
            profile,
            targets: self.targets.clone(),
            url: self.url.clone(),
            token,
            out: self.out.clone(),
            model: self.model.clone(),
            threads: self.threads,
            fixtures: self.fixtures.clone(),
            program,
        })
    }
}

/// Runs the load test: exit 0 when every threshold holds, 1 when one
/// failed, 2 when the run could not be made.
pub fn run(args: &LoadtestArgs) -> ExitCode {
    let report = match args
        .options()
        .and_then(|options| voiceflow_loadtest::run(&options))
    {
        Ok(report) => report,
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            return ExitCode::from(2);
        }
    };
    for grade in &report.grades {
        println!("{:<8} grade {}", grade.target, grade.grade);
    }
    println!("report: {}", args.out.join("report.md").display());
    let failed: Vec<_> = report.failed_thresholds().collect();
    for verdict in &failed {
        eprintln!(
            "voiceflow: threshold failed: {} (measured {:.4})",
            verdict.threshold.text,
            verdict.value.unwrap_or(f64::NAN)
        );
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
