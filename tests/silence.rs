//! A microphone left open: digital silence and noise of any length, at any
//! rate, give no words (Whisper alone writes "you" on 30 s of digital
//! silence, "you you" on 60 s, ". . ." on a quiet room's hiss). Quiet speech
//! is still transcribed: the silence check must not eat it.

mod common;

use common::{engine, manifest, samples, words};
use voiceflow_core::TranscribeOptions;

/// The input rates and channel counts tried: Whisper's own, telephone,
/// CD stereo.
const LAYOUTS: [(u32, u16); 3] = [(16_000, 1), (8_000, 1), (44_100, 2)];

/// Seeded noise of about `rms`, quantised to 16 bits like a recording.
fn noise(len: usize, rms: f32, seed: u64) -> Vec<f32> {
    common::noise(len, rms, seed)
        .into_iter()
        .map(to_16_bit)
        .collect()
}

/// `x` as a 16-bit WAV would hold it.
fn to_16_bit(x: f32) -> f32 {
    (x * 32_768.0).round().clamp(-32_768.0, 32_767.0) / 32_768.0
}

/// What tiny.en writes for `seconds` of `signal` at each of [`LAYOUTS`].
fn heard(seconds: usize, signal: impl Fn(usize) -> Vec<f32>) -> Vec<String> {
    LAYOUTS
        .iter()
        .map(|&(rate, channels)| {
            let audio = signal(seconds * rate as usize * usize::from(channels));
            let t = engine()
                .transcribe_pcm(&audio, rate, channels, &TranscribeOptions::default())
                .unwrap();
            assert_eq!(t.segments.is_empty(), t.text.is_empty());
            format!("{seconds} s at {rate} Hz x{channels}: {:?}", t.text)
        })
        .collect()
}

/// 3, 30, 60 and 120 s (one to four windows) of `signal` give no text at
/// any rate.
fn no_text_at_any_length(signal: impl Fn(usize) -> Vec<f32> + Copy) {
    for seconds in [3, 30, 60, 120] {
        for line in heard(seconds, signal) {
            assert!(line.ends_with(": \"\""), "{line}");
        }
    }
}

#[test]
fn digital_silence_of_any_length_and_rate_gives_no_text() {
    no_text_at_any_length(|len| vec![0.0; len]);
}

#[test]
fn dither_level_noise_of_any_length_and_rate_gives_no_text() {
    // 1 LSB RMS of 16-bit PCM (-90 dBFS): what a quiet converter records.
    no_text_at_any_length(|len| noise(len, 1.0 / 32_768.0, 7));
}

#[test]
fn a_quiet_rooms_hiss_gives_no_text() {
    // -60 dBFS: above the silence floor, so the model itself decides (one
    // window at one rate: each takes full decoding).
    let hiss = noise(30 * 16_000, 1e-3, 11);
    let t = engine()
        .transcribe(&hiss, 16_000, &TranscribeOptions::default())
        .unwrap();
    assert_eq!(t.text, "");
}

/// `name` turned down by `db` decibels, as a 16-bit recording of it.
fn quieter(name: &str, db: f32) -> Vec<f32> {
    let gain = 10f32.powf(-db / 20.0);
    samples(name).iter().map(|&s| to_16_bit(s * gain)).collect()
}

#[test]
fn quiet_speech_is_still_transcribed() {
    // The two fixtures tiny.en gets word for word at -30 and -60 dB alike
    // (at -30 dB it hears "Please end" in report.wav, with or without the
    // silence check: the model's own limit, not this test's subject).
    let texts = manifest();
    for name in ["door.wav", "calling.wav"] {
        let (_, text) = texts.iter().find(|(f, _)| f == name).unwrap();
        // 60 dB down, the peaks are near -62 dBFS (about 25 LSB of 16 bits).
        for db in [30.0, 60.0] {
            let t = engine()
                .transcribe(&quieter(name, db), 16_000, &TranscribeOptions::default())
                .unwrap();
            assert_eq!(words(&t.text), words(text), "{name} at -{db} dB");
        }
    }
}

#[test]
fn speech_then_two_minutes_of_silence_gives_the_speech_alone() {
    let mut audio = samples("report.wav");
    audio.extend(std::iter::repeat_n(0.0, 120 * 16_000));
    audio.extend(noise(60 * 16_000, 1.0 / 32_768.0, 3));
    let t = engine()
        .transcribe(&audio, 16_000, &TranscribeOptions::default())
        .unwrap();
    assert_eq!(
        words(&t.text),
        words("Please send the quarterly report to the finance team by Friday.")
    );
}
