//! Log-mel features against faster-whisper's `FeatureExtractor`.
//!
//! The reference files come from `scripts/gen_mel_reference.py` (see its
//! docstring for the signal and the file layout).

use std::path::PathBuf;

use voiceflow_core::audio::mel::{Mel, MelExtractor};
use voiceflow_core::audio::{self, N_FRAMES, N_SAMPLES};

/// Largest |Rust - faster-whisper| accepted (measured: under 5e-6). faster-whisper runs in float32
/// (FFT, power, matmul); this crate in f64, so the difference is faster-whisper's
/// own rounding, largest in quiet bins near the `max - 8` floor.
const TOLERANCE: f32 = 2e-5;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audio")
        .join(name)
}

/// The test signal as faster-whisper saw it: int16 / 32768.
fn signal() -> Vec<f32> {
    let wav = audio::read_wav(fixture("mel_signal.wav")).unwrap();
    assert_eq!((wav.sample_rate, wav.channels), (16_000, 1));
    wav.samples
}

/// A reference file: its header and its `[n_mels, count]` values.
struct Reference {
    n_mels: usize,
    total_frames: usize,
    stride: usize,
    count: usize,
    values: Vec<f32>,
}

fn reference(name: &str) -> Reference {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let word = |i: usize| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap()) as usize;
    let values: Vec<f32> = bytes[16..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let r = Reference {
        n_mels: word(0),
        total_frames: word(1),
        stride: word(2),
        count: word(3),
        values,
    };
    assert_eq!(r.values.len(), r.n_mels * r.count, "{name}: size");
    r
}

/// Computes the log-mel of `samples` and asserts that it matches the
/// reference file `name` within [`TOLERANCE`].
fn assert_matches(name: &str, samples: &[f32], padding: usize) -> (Mel, Reference) {
    let r = reference(name);
    let mel = MelExtractor::new(r.n_mels)
        .unwrap()
        .compute(samples, padding);
    assert_eq!((mel.n_mels, mel.n_frames), (r.n_mels, r.total_frames));
    let mut delta = 0.0f32;
    for m in 0..r.n_mels {
        for i in 0..r.count {
            let got = mel.get(m, i * r.stride).unwrap();
            delta = delta.max((got - r.values[m * r.count + i]).abs());
        }
    }
    println!("{name}: max |delta| = {delta:e}");
    assert!(delta <= TOLERANCE, "{name}: max |delta| = {delta}");
    (mel, r)
}

#[test]
fn long_form_padding_matches_faster_whisper_80() {
    let (mel, _) = assert_matches("mel_80_long.f32", &signal(), 160);
    assert_eq!(mel.n_frames, 701);
}

#[test]
fn long_form_padding_matches_faster_whisper_128() {
    assert_matches("mel_128_long.f32", &signal(), 160);
}

#[test]
fn single_window_matches_faster_whisper() {
    let mut samples = signal();
    samples.resize(N_SAMPLES, 0.0);
    let (mel, r) = assert_matches("mel_80_window.f32", &samples, 0);
    assert_eq!(mel.n_frames, N_FRAMES);

    // Past the stored frames everything is silence at the floor, max - 2.
    let max = mel.data.iter().copied().fold(f32::MIN, f32::max);
    let floor = r.values.iter().copied().fold(f32::MAX, f32::min);
    assert!((floor - (max - 2.0)).abs() <= TOLERANCE);
    for m in 0..80 {
        for t in r.count * r.stride..N_FRAMES {
            assert!((mel.get(m, t).unwrap() - floor).abs() <= TOLERANCE);
        }
    }
}

#[test]
fn shared_extractor_gives_identical_results_across_threads() {
    let extractor = MelExtractor::new(80).unwrap();
    let samples = signal();
    let expected = extractor.compute(&samples, 160);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| extractor.compute(&samples, 160)))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}
