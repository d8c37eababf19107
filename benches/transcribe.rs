//! Transcription cost with tiny.en on the CPU: one encoder pass over a 30-s
//! window, and the full transcription of tests/fixtures/speech/report.wav
//! (4.4 s), with the real-time factor.
//!
//! `cargo bench --bench transcribe` (about a minute on two cores). Model from
//! `VOICEFLOW_MODEL_DIR` or `models/whisper-tiny.en-float32`; intra-op threads from
//! `VOICEFLOW_BENCH_THREADS` (default 2).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use voiceflow_core::{Engine, EngineConfig, TranscribeOptions};

const DEFAULT_THREADS: usize = 2;

fn engine() -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("VOICEFLOW_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("models/whisper-tiny.en-float32"));
    let mut config = EngineConfig::new(dir);
    config.intra_op_threads = std::env::var("VOICEFLOW_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(DEFAULT_THREADS);
    Engine::new(config).unwrap_or_else(|e| panic!("cannot load the model: {e}"))
}

fn bench_transcribe(c: &mut Criterion) {
    let engine = engine();
    let report = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech/report.wav");
    let options = TranscribeOptions::default();
    let transcribe = || {
        engine
            .transcribe_file(&report, &options)
            .expect("report.wav transcribes")
    };
    let duration_s = transcribe().duration_s;

    let mut group = c.benchmark_group("tiny.en");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    // report.wav fits one window: each transcription runs the encoder once on
    // a full 30-s window; only that stage's time is counted here.
    group.bench_function("encoder pass (30-s window)", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| Duration::from_secs_f64(transcribe().timings.encoder_s))
                .sum()
        })
    });
    group.bench_function("transcribe report.wav", |b| b.iter(transcribe));
    group.finish();

    let runs: Vec<_> = (0..3).map(|_| transcribe().timings).collect();
    let mean = |f: fn(&voiceflow_core::Timings) -> f64| {
        runs.iter().map(f).sum::<f64>() / runs.len() as f64
    };
    println!(
        "report.wav ({duration_s:.2} s): total {:.3} s = mel {:.4} + encoder {:.3} + decoder {:.3} s; real-time factor {:.3}",
        mean(|t| t.total_s),
        mean(|t| t.mel_s),
        mean(|t| t.encoder_s),
        mean(|t| t.decoder_s),
        mean(|t| t.total_s) / duration_s
    );
}

criterion_group!(benches, bench_transcribe);
criterion_main!(benches);
