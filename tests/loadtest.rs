//! `voiceflow loadtest`, run as a user runs it: the smoke profile against
//! every target writes results.json, report.md and PNG charts; a failed
//! threshold exits 1; a wrong transcript is a failure; a URL that is not
//! loopback is refused.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `voiceflow loadtest ARGS` in the repository root (where the default
/// model and fixture folders are).
fn loadtest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .arg("loadtest")
        .args(["--threads", "2", "--model"])
        .arg(common::model_dir())
        .args(args)
        .current_dir(common::repo())
        .output()
        .expect("voiceflow loadtest runs")
}

fn results(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json is JSON")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_smoke_profile_writes_json_markdown_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let output = loadtest(&["--profile", "smoke", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", describe(&output));

    let results = results(&out);
    assert_eq!(results["profile"]["name"], "smoke");
    assert!(results["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert!(results["machine"]["memory_gb"].as_f64().unwrap() > 0.0);
    let scenarios = results["scenarios"].as_array().unwrap();
    let names: Vec<String> = scenarios
        .iter()
        .map(|s| {
            format!(
                "{}.{}",
                s["target"].as_str().unwrap(),
                s["scenario"].as_str().unwrap()
            )
        })
        .collect();
    for target in ["engine", "enhance", "store", "ws"] {
        for scenario in ["progressive", "sustained", "spike", "stress", "volume"] {
            let name = format!("{target}.{scenario}");
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }
    assert!(names.contains(&"ws.connections".to_string()));
    for scenario in scenarios {
        let samples = scenario["samples"].as_array().unwrap();
        assert!(
            !samples.is_empty(),
            "{} {} has no samples",
            scenario["target"],
            scenario["scenario"]
        );
        // Every sample is counted once: by the summary, or (where the
        // summary is of one operation) by the per-operation summaries.
        let per_op = scenario["per_op"].as_array().cloned().unwrap_or_default();
        let counted: u64 = if per_op.is_empty() {
            scenario["summary"]["count"].as_u64().unwrap()
        } else {
            per_op
                .iter()
                .map(|op| op[1]["count"].as_u64().unwrap())
                .sum()
        };
        let total = scenario["samples_total"].as_u64().unwrap();
        assert_eq!(counted, total, "{}", scenario["scenario"]);
        assert!(samples.len() as u64 <= total);
    }
    // Streams were checked word for word: successes are real transcripts.
    let ws_progressive = scenarios
        .iter()
        .find(|s| s["target"] == "ws" && s["scenario"] == "progressive")
        .unwrap();
    let streams_ok = ws_progressive["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["op"] == "stream" && s["ok"] == true)
        .count();
    assert!(streams_ok >= 1, "{ws_progressive}");
    // The sustained run sampled the server's memory and gave a verdict.
    let ws_sustained = scenarios
        .iter()
        .find(|s| s["target"] == "ws" && s["scenario"] == "sustained")
        .unwrap();
    assert!(ws_sustained["system"][0]["rss_mb"].as_f64().unwrap() > 10.0);
    assert!(ws_sustained["leak"]["leak_suspected"].is_boolean());
    // Every threshold was judged, and all passed (the exit code says so).
    for verdict in results["thresholds"].as_array().unwrap() {
        assert_eq!(verdict["passed"], true, "{verdict}");
    }

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for heading in [
        "# VoiceFlow readiness report",
        "## Executive summary",
        "### Grading criteria",
        "## Thresholds",
        "## Capacity guidance",
        "| Core engine (in-process) | **",
        "| AI enhancement | **",
        "| Encrypted store | **",
        "| WebSocket server | **",
        "### spike",
        "MB per connection",
    ] {
        assert!(
            report.contains(heading),
            "report.md lacks {heading:?}:\n{report}"
        );
    }
    for chart in results["charts"].as_array().unwrap() {
        let chart = chart.as_str().unwrap();
        let bytes = std::fs::read(out.join(chart)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{chart} is not a PNG"
        );
        assert!(
            report.contains(&format!("]({chart})")),
            "report.md does not show {chart}"
        );
    }
    for chart in [
        "ws-latency.png",
        "ws-memory.png",
        "ws-spike.png",
        "store-throughput.png",
    ] {
        assert!(out.join(chart).is_file(), "{chart} missing");
    }
}

#[test]
fn a_failed_threshold_exits_non_zero_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let output = loadtest(&[
        "--profile",
        "smoke",
        "--targets",
        "store",
        "--threshold",
        "store.volume.p50_ms < 0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("threshold failed: store.volume.p50_ms < 0"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("| `store.volume.p50_ms < 0` |"), "{report}");
    assert!(report.contains("**FAILED**"), "{report}");
    // Thresholds of targets that did not run are skipped, not failed.
    assert!(report.contains("skipped (target not run)"), "{report}");
}

#[test]
fn a_wrong_transcript_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    std::fs::copy(common::fixture("door.wav"), fixtures.join("door.wav")).unwrap();
    std::fs::write(
        fixtures.join("manifest.tsv"),
        "file\ttext\ndoor.wav\tPlease send the quarterly report to the finance team.\n",
    )
    .unwrap();
    let profile = dir.path().join("tiny.toml");
    std::fs::write(
        &profile,
        "thresholds = [\"engine.progressive.success_rate >= 0.99\"]\n\
         [progressive]\nusers = [1]\nlevel_s = 0.5\n\
         [sustained]\nusers = 1\nduration_s = 0.5\nsample_every_s = 0.1\n\
         [spike]\nbase_users = 1\npeak_users = 1\nphase_s = 0.2\n\
         [stress]\nstart_users = 1\nstep_users = 1\nmax_users = 1\nlevel_s = 0.5\nmin_success_rate = 0.95\n\
         max_p95_ms = { engine = 60000.0, enhance = 1000.0, store = 250.0, ws = 5000.0 }\n\
         [volume]\nstore_writers = 1\nstore_ops_per_writer = 1\nstore_readers = 0\nenhance_jobs = 1\nlong_audio_s = 0.0\n",
    )
    .unwrap();
    let out = dir.path().join("report");
    let output = loadtest(&[
        "--profile",
        profile.to_str().unwrap(),
        "--targets",
        "engine",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let results = results(&out);
    let progressive = &results["scenarios"][0];
    assert_eq!(progressive["scenario"], "progressive");
    assert_eq!(progressive["summary"]["ok"], 0, "{progressive}");
    assert!(
        progressive["summary"]["failures"]["wrong transcript"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let sample = &progressive["samples"][0];
    assert_eq!(sample["ok"], false);
    let heard = sample["failure"]["wrong_transcript"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(heard.contains("door"), "{sample}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("| Core engine (in-process) | **F** | 0.0%"),
        "{report}"
    );
}

#[test]
fn only_loopback_servers_can_be_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "secret\n").unwrap();
    let output = loadtest(&[
        "--url",
        "ws://192.0.2.1:8080",
        "--token-file",
        tokens.to_str().unwrap(),
        "--targets",
        "ws",
        "--out",
        dir.path().join("report").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!dir.path().join("report/results.json").exists());

    let output = loadtest(&["--profile", "quick", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown profile"));
}
