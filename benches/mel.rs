//! Front-end cost per request: log-mel of 30 s of audio (80 and 128 bands)
//! and resampling 30 s from 44.1 kHz to 16 kHz.
//!
//! `cargo bench --bench mel` (about half a minute).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use voiceflow_core::audio::{self, mel::MelExtractor};

/// `seconds` of a speech-like test signal (two tones and a cheap noise) at `rate`.
fn signal(seconds: usize, rate: u32) -> Vec<f32> {
    let mut state = 0x2545_f491_u32;
    (0..seconds * rate as usize)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let t = i as f32 / rate as f32;
            let noise = state as f32 / u32::MAX as f32 - 0.5;
            0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.1 * (2.0 * std::f32::consts::PI * 3150.0 * t).sin()
                + 0.05 * noise
        })
        .collect()
}

fn bench_mel(c: &mut Criterion) {
    let samples = signal(30, audio::SAMPLE_RATE);
    for n_mels in [80, 128] {
        let extractor = MelExtractor::new(n_mels).unwrap();
        c.bench_function(&format!("mel_30s_{n_mels}"), |b| {
            b.iter(|| extractor.compute(black_box(&samples), audio::HOP_LENGTH))
        });
    }
}

fn bench_resample(c: &mut Criterion) {
    let samples = signal(30, 44_100);
    c.bench_function("resample_30s_44k1_to_16k", |b| {
        b.iter(|| audio::resample(black_box(&samples), 44_100, audio::SAMPLE_RATE).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_mel, bench_resample
}
criterion_main!(benches);
