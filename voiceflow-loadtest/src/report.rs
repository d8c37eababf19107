//! The run written up: `results.json` (every sample), `report.md` (grades,
//! tables, capacity guidance, thresholds) and PNG charts.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use voiceflow_core::{Error, Result};

use crate::charts::{self, LineChart, Series};
use crate::machine::Machine;
use crate::profile::Profile;
use crate::scenario::{ScenarioResult, RECOVERED_SLACK_MS, RECOVERED_WITHIN};
use crate::stats::Summary;
use crate::system::{LEAK_FRACTION, LEAK_MIN_MB};
use crate::threshold::Verdict;

/// Share of the last good stress level the capacity guidance plans for.
pub const CAPACITY_HEADROOM: f64 = 0.7;

/// A component's grade and why.
#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    /// The target.
    pub target: &'static str,
    /// `A`, `B`, `C` or `F` (see [`GRADING`]).
    pub grade: char,
    /// The lowest success rate of its scenarios (stress excluded: it is
    /// meant to break).
    pub worst_success_rate: f64,
    /// The reasons the grade is not higher.
    pub reasons: Vec<String>,
}

/// The grading rules, as the report prints them.
pub const GRADING: &str = "\
- **A**: every scenario (stress excluded) at least 99% successful, no failed threshold, no leak suspected, and the stress run either did not break or broke gracefully (clear refusals only).
- **B**: every scenario at least 95% successful, no leak suspected; failed thresholds or an ungraceful breaking point allowed.
- **C**: every scenario at least 90% successful.
- **F**: anything worse.
A wrong transcript counts as a failure, never as a success.";

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The machine.
    pub machine: Machine,
    /// The profile, as run.
    pub profile: Profile,
    /// Seconds since the Unix epoch when the run started.
    pub started_at_unix_s: u64,
    /// Seconds the run took.
    pub wall_s: f64,
    /// Every scenario against every target, in the order they ran.
    pub scenarios: Vec<ScenarioResult>,
    /// Every threshold's verdict.
    pub thresholds: Vec<Verdict>,
    /// A grade per target.
    pub grades: Vec<Grade>,
    /// The chart files written, relative to the output folder.
    pub charts: Vec<String>,
}

impl RunReport {
    /// The summary a threshold names, when measured.
    pub fn summary(&self, target: &str, scenario: &str) -> Option<&Summary> {
        self.scenarios
            .iter()
            .find(|s| s.target == target && s.scenario == scenario)
            .map(|s| &s.summary)
    }

    /// Thresholds that failed.
    pub fn failed_thresholds(&self) -> impl Iterator<Item = &Verdict> {
        self.thresholds.iter().filter(|v| v.passed == Some(false))
    }

    /// Grades every target that ran.
    pub fn grade(&mut self) {
        let mut targets: Vec<&'static str> = self.scenarios.iter().map(|s| s.target).collect();
        targets.dedup();
        self.grades = targets
            .into_iter()
            .map(|target| self.grade_of(target))
            .collect();
    }

    fn grade_of(&self, target: &'static str) -> Grade {
        let scenarios: Vec<&ScenarioResult> = self
            .scenarios
            .iter()
            .filter(|s| s.target == target)
            .collect();
        let worst = scenarios
            .iter()
            .filter(|s| s.scenario != "stress")
            .map(|s| (s.summary.success_rate, s.scenario))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((1.0, "none"));
        let mut reasons = Vec::new();
        let failed: Vec<&str> = self
            .failed_thresholds()
            .filter(|v| v.threshold.target == target)
            .map(|v| v.threshold.text.as_str())
            .collect();
        if !failed.is_empty() {
            reasons.push(format!("failed thresholds: {}", failed.join("; ")));
        }
        let leak = scenarios
            .iter()
            .filter_map(|s| s.leak.as_ref())
            .any(|l| l.leak_suspected);
        if leak {
            reasons.push("memory kept growing in the sustained run".into());
        }
        let ungraceful = scenarios
            .iter()
            .filter_map(|s| s.stress.as_ref())
            .any(|s| s.graceful == Some(false));
        if ungraceful {
            reasons.push("the stress run broke with timeouts or errors, not clear refusals".into());
        }
        if worst.0 < 0.99 {
            reasons.push(format!("{} succeeded {:.1}%", worst.1, 100.0 * worst.0));
        }
        let grade = if worst.0 >= 0.99 && failed.is_empty() && !leak && !ungraceful {
            'A'
        } else if worst.0 >= 0.95 && !leak {
            'B'
        } else if worst.0 >= 0.90 {
            'C'
        } else {
            'F'
        };
        Grade {
            target,
            grade,
            worst_success_rate: worst.0,
            reasons,
        }
    }

    /// Writes results.json, the charts and report.md into `out`.
    pub fn write(&mut self, out: &Path) -> Result<()> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(out).map_err(io(out))?;
        self.charts = self.write_charts(out)?;
        for scenario in &mut self.scenarios {
            scenario.thin();
        }
        let json_path = out.join("results.json");
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::InvalidArgument(format!("results.json: {e}")))?;
        std::fs::write(&json_path, json).map_err(io(&json_path))?;
        let md_path = out.join("report.md");
        std::fs::write(&md_path, self.markdown()).map_err(io(&md_path))?;
        Ok(())
    }

    fn write_charts(&self, out: &Path) -> Result<Vec<String>> {
        let mut written = Vec::new();
        let mut targets: Vec<&'static str> = self.scenarios.iter().map(|s| s.target).collect();
        targets.dedup();
        for target in targets {
            let of = |scenario: &str| {
                self.scenarios
                    .iter()
                    .find(|s| s.target == target && s.scenario == scenario)
            };
            let mut levels: Vec<(usize, &Summary)> = ["progressive", "stress"]
                .iter()
                .filter_map(|s| of(s))
                .flat_map(|s| s.levels.iter().map(|l| (l.users, &l.summary)))
                .collect();
            levels.sort_by_key(|(users, _)| *users);
            let line = |name: &str, f: &dyn Fn(&Summary) -> f64| Series {
                name: name.into(),
                points: levels.iter().map(|(u, s)| (*u as f64, f(s))).collect(),
            };
            let mut charts = Vec::new();
            if !levels.is_empty() {
                charts.push((
                    format!("{target}-latency.png"),
                    LineChart {
                        title: format!("{target}: latency against users (progressive and stress)"),
                        x_label: "concurrent users".into(),
                        y_label: "latency, ms".into(),
                        series: vec![
                            line("P50", &|s| s.p50_ms),
                            line("P95", &|s| s.p95_ms),
                            line("P99", &|s| s.p99_ms),
                        ],
                    },
                ));
                charts.push((
                    format!("{target}-throughput.png"),
                    LineChart {
                        title: format!("{target}: throughput and success against users"),
                        x_label: "concurrent users".into(),
                        y_label: "successful operations per second / success %".into(),
                        series: vec![
                            line("throughput, ops/s", &|s| s.throughput_rps),
                            line("success, %", &|s| 100.0 * s.success_rate),
                        ],
                    },
                ));
            }
            if let Some(sustained) = of("sustained").filter(|s| !s.system.is_empty()) {
                let over = |f: &dyn Fn(&crate::system::SystemSample) -> f64| -> Vec<(f64, f64)> {
                    let t0 = sustained.system[0].t_s;
                    sustained
                        .system
                        .iter()
                        .map(|s| (s.t_s - t0, f(s)))
                        .collect()
                };
                charts.push((
                    format!("{target}-memory.png"),
                    LineChart {
                        title: format!("{target}: resident memory and open files, sustained run"),
                        x_label: "seconds".into(),
                        y_label: "RSS, MB / open file descriptors".into(),
                        series: vec![
                            Series {
                                name: "RSS, MB".into(),
                                points: over(&|s| s.rss_mb),
                            },
                            Series {
                                name: "open fds".into(),
                                points: over(&|s| s.fds as f64),
                            },
                        ],
                    },
                ));
            }
            if let Some(findings) = of("spike").and_then(|s| s.spike.as_ref()) {
                charts.push((
                    format!("{target}-spike.png"),
                    LineChart {
                        title: format!(
                            "{target}: spike {} -> {} -> {} users",
                            self.profile.spike.base_users,
                            self.profile.spike.peak_users,
                            self.profile.spike.base_users
                        ),
                        x_label: "seconds".into(),
                        y_label: "P95 latency, ms / users".into(),
                        series: vec![
                            Series {
                                name: "P95 of operations ending then, ms".into(),
                                points: findings
                                    .timeline
                                    .iter()
                                    .map(|(t, _, p95)| (*t, *p95))
                                    .collect(),
                            },
                            Series {
                                name: "users x 10".into(),
                                points: findings
                                    .timeline
                                    .iter()
                                    .map(|(t, u, _)| (*t, 10.0 * *u as f64))
                                    .collect(),
                            },
                        ],
                    },
                ));
            }
            for (file, chart) in charts {
                chart.write_png(&out.join(&file))?;
                written.push(file);
            }
        }
        Ok(written)
    }

    /// The report in Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(md, "# VoiceFlow readiness report\n");
        let _ = writeln!(
            md,
            "Built only from measurements of one run: profile **{}**, {:.0} s, started at Unix time {}. \
             Machine: {} ({} CPUs), {:.0} GB memory, {}; VoiceFlow {}, model `{}`, ONNX Runtime threads {}.\n",
            self.profile.name,
            self.wall_s,
            self.started_at_unix_s,
            m.cpu_model,
            m.cpus,
            m.memory_gb,
            m.os,
            m.voiceflow_version,
            m.model,
            m.threads.map_or("one per core".to_string(), |n| n.to_string()),
        );
        let _ = writeln!(
            md,
            "Regenerate with `voiceflow loadtest --profile {} --out DIR` (every sample is in `results.json`).\n",
            self.profile.name
        );
        md.push_str("## Executive summary\n\n");
        md.push_str("| Component | Grade | Worst success rate | P95 at the top progressive level | Peak throughput | Breaking point | Why not higher |\n");
        md.push_str("|---|---|---|---|---|---|---|\n");
        for grade in &self.grades {
            let of = |scenario: &str| {
                self.scenarios
                    .iter()
                    .find(|s| s.target == grade.target && s.scenario == scenario)
            };
            let top = of("progressive").and_then(|s| s.levels.last());
            let peak = self
                .scenarios
                .iter()
                .filter(|s| s.target == grade.target)
                .flat_map(|s| {
                    s.levels
                        .iter()
                        .map(|l| l.summary.throughput_rps)
                        .chain([s.summary.throughput_rps])
                })
                .fold(0.0, f64::max);
            let breaking =
                of("stress")
                    .and_then(|s| s.stress.as_ref())
                    .map_or("not run".to_string(), |s| {
                        s.breaking_users.map_or(
                            format!("none up to {} users", self.profile.stress.max_users),
                            |u| format!("{u} users"),
                        )
                    });
            let _ = writeln!(
                md,
                "| {} | **{}** | {:.1}% | {} | {:.1} ops/s | {} | {} |",
                label(grade.target),
                grade.grade,
                100.0 * grade.worst_success_rate,
                top.map_or("-".into(), |l| format!(
                    "{} ms at {} users",
                    ms(l.summary.p95_ms),
                    l.users
                )),
                peak,
                breaking,
                if grade.reasons.is_empty() {
                    "-".into()
                } else {
                    grade.reasons.join("; ")
                },
            );
        }
        let _ = writeln!(md, "\n### Grading criteria\n\n{GRADING}\n");
        md.push_str("## Thresholds\n\n| Threshold | Measured | Result |\n|---|---|---|\n");
        for verdict in &self.thresholds {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} |",
                verdict.threshold.text,
                verdict
                    .value
                    .map_or("not measured".into(), |v| format!("{v:.4}")),
                match verdict.passed {
                    Some(true) => "passed",
                    Some(false) => "**FAILED**",
                    None => "skipped (target not run)",
                }
            );
        }
        md.push_str("\n## Capacity guidance\n\n");
        let _ = writeln!(
            md,
            "Derived from each stress run: plan for {:.0}% of the last level that stayed within the limits \
             (success rate at least {:.0}% and P95 under the target's limit), per instance of this machine's size.\n",
            100.0 * CAPACITY_HEADROOM,
            100.0 * self.profile.stress.min_success_rate
        );
        for s in self.scenarios.iter().filter(|s| s.scenario == "stress") {
            let Some(findings) = &s.stress else { continue };
            let plan = match (findings.breaking_users, findings.last_good_users) {
                (None, _) => format!(
                    "the limit is above {} concurrent users: raise stress.max_users to find it",
                    self.profile.stress.max_users
                ),
                (Some(_), None) => {
                    "no level stayed within the limits: plan for fewer users than the first level"
                        .to_string()
                }
                (Some(_), Some(good)) => format!(
                    "plan for at most **{}** concurrent users",
                    ((good as f64) * CAPACITY_HEADROOM).floor().max(1.0)
                ),
            };
            let _ = writeln!(md, "- {}: {}; {}.", label(s.target), findings.verdict, plan);
        }
        for target in self.grades.iter().map(|g| g.target) {
            let _ = writeln!(md, "\n## {}\n", label(target));
            for s in self.scenarios.iter().filter(|s| s.target == target) {
                self.scenario_section(&mut md, s);
            }
            for chart in self
                .charts
                .iter()
                .filter(|c| c.starts_with(&format!("{target}-")))
            {
                let _ = writeln!(md, "![{chart}]({chart})\n");
            }
        }
        if !charts::font_found() {
            md.push_str("\n(No TrueType font was found, so the charts carry no text; set VOICEFLOW_FONT to a .ttf file.)\n");
        }
        md
    }

    fn scenario_section(&self, md: &mut String, s: &ScenarioResult) {
        let _ = writeln!(md, "### {}\n", s.scenario);
        md.push_str("| Users (or operation) | Operations | Success | Mean ms | P50 ms | P95 ms | P99 ms | Max ms | Throughput |\n|---|---|---|---|---|---|---|---|---|\n");
        let row = |md: &mut String, users: String, summary: &Summary| {
            let _ = writeln!(
                md,
                "| {users} | {} | {:.1}% | {} | {} | {} | {} | {} | {:.1}/s |",
                summary.count,
                100.0 * summary.success_rate,
                ms(summary.mean_ms),
                ms(summary.p50_ms),
                ms(summary.p95_ms),
                ms(summary.p99_ms),
                ms(summary.max_ms),
                summary.throughput_rps
            );
        };
        for level in &s.levels {
            row(md, level.users.to_string(), &level.summary);
        }
        for (op, summary) in &s.per_op {
            row(md, format!("`{op}`"), summary);
        }
        row(md, "all".into(), &s.summary);
        md.push('\n');
        if let Some(spike) = &s.spike {
            let _ = writeln!(
                md,
                "P95 {} ms before the spike, {} ms during it ({:.1}x); {}.\n",
                ms(spike.base_p95_ms),
                ms(spike.peak_p95_ms),
                spike.increase,
                spike.recovery_s.map_or("not recovered by the end of the run".to_string(), |r| format!(
                    "recovered (every later bucket's P95 within {RECOVERED_WITHIN}x or {RECOVERED_SLACK_MS} ms of the base) {r:.1} s after the spike"
                ))
            );
        }
        if let Some(stress) = &s.stress {
            let _ = writeln!(md, "{}.\n", stress.verdict);
        }
        if let Some(leak) = &s.leak {
            let _ = writeln!(
                md,
                "Memory trend over the second half: {:+.2} MB/min, {:+.1} MB in all, against a limit of {:.1} MB \
                 (the larger of {LEAK_MIN_MB} MB and {:.0}% of the mean RSS {:.0} MB): **{}**. Open files {} -> {}.\n",
                leak.slope_mb_per_min,
                leak.trend_growth_mb,
                leak.limit_mb,
                100.0 * LEAK_FRACTION,
                leak.mean_rss_mb,
                if leak.leak_suspected { "leak suspected" } else { "no leak" },
                leak.fds.0,
                leak.fds.1
            );
        }
        for note in &s.notes {
            let _ = writeln!(md, "- {note}");
        }
        if !s.summary.failures.is_empty() {
            md.push_str("\nFailures: ");
            let failures: Vec<String> = s
                .summary
                .failures
                .iter()
                .map(|(label, n)| format!("{n} x {label}"))
                .collect();
            md.push_str(&failures.join(", "));
            md.push('\n');
        }
        md.push('\n');
    }
}

/// A component's name in the report.
fn label(target: &str) -> &'static str {
    match target {
        "engine" => "Core engine (in-process)",
        "enhance" => "AI enhancement",
        "store" => "Encrypted store",
        "ws" => "WebSocket server",
        _ => "Other",
    }
}

/// Milliseconds, with precision that suits their size.
fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}
