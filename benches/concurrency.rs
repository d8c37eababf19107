//! Concurrency benchmark: N callers transcribe the project's short speech
//! fixtures in a closed loop on one engine, with the scheduler's batching on
//! and off, for `VOICEFLOW_BENCH_SECONDS` per level (default 20).
//!
//! `cargo bench --bench concurrency` prints a table, then each level's stage
//! latencies and batch sizes (every level runs on an engine and a metrics
//! registry of its own), and writes `target/bench/concurrency.json` (the
//! rows, each with its metrics snapshot under `stages`). `VOICEFLOW_BENCH_LEVELS=1,5,10` picks the
//! levels, `VOICEFLOW_MODEL_DIR` the model (tiny.en by default),
//! `VOICEFLOW_BENCH_THREADS` ONNX Runtime's threads (2),
//! `VOICEFLOW_BENCH_SHORT_WINDOWS=1` encodes each clip at its own length
//! (`TranscribeOptions::short_windows`) instead of a padded 30-s window,
//! `VOICEFLOW_BENCH_ACTIVE_WINDOWS` and `VOICEFLOW_BENCH_ENCODER_BATCH` set
//! `SchedulerConfig::max_active_windows` and `max_encoder_batch`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use voiceflow_core::metrics::MetricsSnapshot;
use voiceflow_core::{Engine, EngineConfig, SchedulerConfig, TranscribeOptions};

const FIXTURES: [&str; 5] = [
    "report.wav",
    "weather.wav",
    "door.wav",
    "calling.wav",
    "sailor.wav",
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory since the last reset, in MB (Linux).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak resident memory (Linux: `5` into clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Level {
    requests: usize,
    ok: usize,
    latencies_ms: Vec<f64>,
    audio_s: f64,
    elapsed_s: f64,
    encoder_batch: f64,
    decoder_batch: f64,
    peak_rss_mb: f64,
}

/// Mean of one of the engine's histograms (each level has an engine of its own).
fn mean(engine: &Engine, name: &str) -> f64 {
    engine
        .metrics()
        .snapshot()
        .histogram(name, &[])
        .map_or(0.0, |h| h.mean)
}

fn run_level(
    engine: &Engine,
    clips: &[(Vec<f32>, f64)],
    users: usize,
    seconds: f64,
    short_windows: bool,
) -> Level {
    reset_peak_rss();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let results: Vec<(usize, usize, Vec<f64>, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..users)
            .map(|u| {
                let stop = &stop;
                s.spawn(move || {
                    let options = TranscribeOptions {
                        short_windows,
                        ..TranscribeOptions::default()
                    };
                    let (mut requests, mut ok, mut lat, mut audio) = (0, 0, Vec::new(), 0.0);
                    let mut i = u;
                    while !stop.load(Ordering::Relaxed) {
                        let (clip, duration) = &clips[i % clips.len()];
                        i += 1;
                        let t = Instant::now();
                        requests += 1;
                        if engine.transcribe(clip, 16_000, &options).is_ok() {
                            ok += 1;
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                            audio += duration;
                        }
                    }
                    (requests, ok, lat, audio)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed_s = started.elapsed().as_secs_f64();
    let mut latencies_ms: Vec<f64> = results.iter().flat_map(|r| r.2.clone()).collect();
    latencies_ms.sort_by(f64::total_cmp);
    Level {
        requests: results.iter().map(|r| r.0).sum(),
        ok: results.iter().map(|r| r.1).sum(),
        latencies_ms,
        audio_s: results.iter().map(|r| r.3).sum(),
        elapsed_s,
        encoder_batch: mean(engine, "voiceflow_encoder_batch_size"),
        decoder_batch: mean(engine, "voiceflow_decoder_batch_size"),
        peak_rss_mb: peak_rss_mb(),
    }
}

/// The level's latency histograms (ms) and batch sizes: where the time went.
fn print_stages(users: usize, batching: bool, snapshot: &MetricsSnapshot) {
    println!("\nstages at {users} users, batching {batching}:");
    println!(
        "{:<38} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "histogram", "count", "mean", "p50", "p95", "p99"
    );
    for h in &snapshot.histograms {
        let v = &h.values;
        // Seconds print as milliseconds; sizes (rows, windows) as they are.
        let scale = if h.name.ends_with("_seconds") {
            1000.0
        } else {
            1.0
        };
        println!(
            "{:<38} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            h.name.trim_start_matches("voiceflow_"),
            v.count,
            v.mean * scale,
            v.p50 * scale,
            v.p95 * scale,
            v.p99 * scale
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that is not ours means another bench was asked for.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && a != "concurrency")
    {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model: PathBuf = std::env::var_os("VOICEFLOW_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("models/whisper-tiny.en-float32"));
    let seconds: f64 = env_or("VOICEFLOW_BENCH_SECONDS", 20.0);
    let threads: usize = env_or("VOICEFLOW_BENCH_THREADS", 2);
    let short_windows = std::env::var_os("VOICEFLOW_BENCH_SHORT_WINDOWS").is_some();
    let levels: Vec<usize> = std::env::var("VOICEFLOW_BENCH_LEVELS")
        .unwrap_or_else(|_| "1,5,10,20,50".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let clips: Vec<(Vec<f32>, f64)> = FIXTURES
        .iter()
        .map(|name| {
            let audio =
                voiceflow_core::audio::read_wav(repo.join("tests/fixtures/speech").join(name))
                    .expect("fixture");
            let duration = audio.samples.len() as f64 / f64::from(audio.sample_rate);
            (audio.samples, duration)
        })
        .collect();

    let mut rows = Vec::new();
    println!(
        "{:>5} {:>8} {:>8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8}",
        "users",
        "batching",
        "requests",
        "ok%",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "utt/s",
        "audio s/s",
        "enc bat",
        "dec rows",
        "RSS MB"
    );
    let mut stages = Vec::new();
    for &batching in &[true, false] {
        let mut config = EngineConfig::new(&model);
        config.intra_op_threads = threads;
        let defaults = SchedulerConfig::default();
        config.scheduler = SchedulerConfig {
            batching,
            max_active_windows: env_or(
                "VOICEFLOW_BENCH_ACTIVE_WINDOWS",
                defaults.max_active_windows,
            ),
            max_encoder_batch: env_or("VOICEFLOW_BENCH_ENCODER_BATCH", defaults.max_encoder_batch),
            ..defaults
        };
        for &users in &levels {
            // An engine and a registry per level: its stage metrics are that level's alone.
            let engine = Engine::new(config.clone()).expect("model");
            let level = run_level(&engine, &clips, users, seconds, short_windows);
            let p = |q| percentile(&level.latencies_ms, q);
            let success = level.ok as f64 / level.requests.max(1) as f64;
            println!(
                "{:>5} {:>8} {:>8} {:>6.1} {:>8.0} {:>8.0} {:>8.0} {:>8.2} {:>9.1} {:>8.2} {:>8.2} {:>8.0}",
                users,
                batching,
                level.requests,
                100.0 * success,
                p(0.5),
                p(0.95),
                p(0.99),
                level.ok as f64 / level.elapsed_s,
                level.audio_s / level.elapsed_s,
                level.encoder_batch,
                level.decoder_batch,
                level.peak_rss_mb
            );
            let snapshot = engine.metrics().snapshot();
            rows.push(json!({
                "users": users,
                "batching": batching,
                "requests": level.requests,
                "ok": level.ok,
                "success_rate": success,
                "p50_ms": p(0.5),
                "p95_ms": p(0.95),
                "p99_ms": p(0.99),
                "throughput_utt_s": level.ok as f64 / level.elapsed_s,
                "throughput_audio_s": level.audio_s / level.elapsed_s,
                "mean_encoder_batch": level.encoder_batch,
                "mean_decoder_batch": level.decoder_batch,
                "peak_rss_mb": level.peak_rss_mb,
                "stages": snapshot,
            }));
            stages.push((users, batching, snapshot));
        }
    }
    for (users, batching, snapshot) in &stages {
        print_stages(*users, *batching, snapshot);
    }
    let out = json!({
        "model": model.file_name().map(|n| n.to_string_lossy().into_owned()),
        "threads": threads,
        "seconds_per_level": seconds,
        "short_windows": short_windows,
        "levels": rows,
    });
    let dir = repo.join("target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let name = if short_windows {
        "concurrency-short-windows.json"
    } else {
        "concurrency.json"
    };
    std::fs::write(dir.join(name), serde_json::to_string_pretty(&out).unwrap())
        .expect("write the bench's JSON");
    println!("wrote {}", dir.join(name).display());
}
