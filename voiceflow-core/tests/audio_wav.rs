//! WAV files written by `hound` (a independent writer) read back through
//! `voiceflow_core::audio`, and the whole path to 16-kHz mono.

use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec, WavWriter};
use voiceflow_core::audio::{self, AudioBuffer};
use voiceflow_core::Error;

/// A test signal in [-1, 1): a different ramp per channel.
fn signal(frames: usize, channels: u16) -> Vec<f64> {
    (0..frames * usize::from(channels))
        .map(|i| {
            let (frame, ch) = (i / usize::from(channels), i % usize::from(channels));
            ((frame * 37 + ch * 11) % 200) as f64 / 100.0 - 1.0
        })
        .collect()
}

/// Writes `values` with hound in the given layout and returns the file bytes.
fn write(values: &[f64], channels: u16, rate: u32, bits: u16, format: SampleFormat) -> Vec<u8> {
    let spec = WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = WavWriter::new(&mut cursor, spec).unwrap();
    for &v in values {
        match (format, bits) {
            (SampleFormat::Float, _) => w.write_sample(v as f32).unwrap(),
            (SampleFormat::Int, 8) => w.write_sample((v * 128.0).round() as i8).unwrap(),
            (SampleFormat::Int, 16) => w.write_sample((v * 32768.0).round() as i16).unwrap(),
            (SampleFormat::Int, _) => {
                let full = f64::from(1u32 << (bits - 1));
                w.write_sample((v * full).round() as i32).unwrap()
            }
        }
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

fn check_format(bits: u16, format: SampleFormat, channels: u16, tolerance: f64) {
    let values = signal(500, channels);
    let bytes = write(&values, channels, 22_050, bits, format);
    let a = audio::decode_wav(&bytes).unwrap();
    assert_eq!((a.sample_rate, a.channels), (22_050, channels));
    assert_eq!(a.samples.len(), values.len());
    for (i, (&got, &want)) in a.samples.iter().zip(&values).enumerate() {
        assert!(
            (f64::from(got) - want).abs() <= tolerance,
            "{bits}-bit {format:?} x{channels}: sample {i} {got} vs {want}"
        );
    }
}

#[test]
fn every_integer_depth_and_channel_layout() {
    for channels in [1, 2, 6] {
        check_format(8, SampleFormat::Int, channels, 0.5 / 128.0);
        check_format(16, SampleFormat::Int, channels, 0.5 / 32768.0);
        check_format(24, SampleFormat::Int, channels, 1e-6);
        check_format(32, SampleFormat::Int, channels, 1e-7);
    }
}

#[test]
fn float_32_mono_stereo_and_surround() {
    for channels in [1, 2, 6] {
        check_format(32, SampleFormat::Float, channels, 1e-7);
    }
}

#[test]
fn sixteen_bit_values_are_exact() {
    // hound writes 16-bit mono in the classic header and 24-bit in
    // WAVE_FORMAT_EXTENSIBLE; both must give int / full scale exactly.
    let values = [-1.0, -0.5, 0.0, 0.25, 32767.0 / 32768.0];
    let a = audio::decode_wav(&write(&values, 1, 16_000, 16, SampleFormat::Int)).unwrap();
    assert_eq!(a.samples, [-1.0, -0.5, 0.0, 0.25, 32767.0 / 32768.0]);
    let b = audio::decode_wav(&write(&values[..4], 1, 16_000, 24, SampleFormat::Int)).unwrap();
    assert_eq!(b.samples, [-1.0, -0.5, 0.0, 0.25]);
}

#[test]
fn fixture_matches_hound() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio/mel_signal.wav");
    let ours = audio::read_wav(&path).unwrap();
    let theirs: Vec<f32> = hound::WavReader::open(&path)
        .unwrap()
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    assert_eq!(
        ours,
        AudioBuffer {
            samples: theirs,
            sample_rate: 16_000,
            channels: 1
        }
    );
}

fn temp_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn read_wav_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wav");
    match audio::read_wav(&missing) {
        Err(Error::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io, got {other:?}"),
    }
    let corrupt = temp_file(dir.path(), "corrupt.wav", b"RIFF\x04\0\0\0WAVE");
    let err = audio::read_wav(&corrupt).unwrap_err();
    assert!(err.to_string().contains("corrupt.wav"), "{err}");
    match err {
        Error::InvalidAudioFile { path, reason, .. } => {
            assert_eq!(path.as_deref(), Some(corrupt.as_path()));
            assert!(reason.contains("no fmt chunk"), "{reason}");
        }
        other => panic!("expected InvalidAudioFile, got {other:?}"),
    }
}

#[test]
fn stereo_44k_file_to_whisper_input() {
    // 1 s of 440 Hz on the left and silence on the right, 16-bit, 44.1 kHz.
    let values: Vec<f64> = (0..44_100)
        .flat_map(|i| {
            let v = 0.8 * (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 44_100.0).sin();
            [v, 0.0]
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(
        dir.path(),
        "stereo.wav",
        &write(&values, 2, 44_100, 16, SampleFormat::Int),
    );
    let a = audio::read_wav(&path).unwrap();
    let mono = audio::prepare(&a.samples, a.sample_rate, a.channels, 10.0).unwrap();
    assert_eq!(mono.len(), 16_000);
    // The mixdown halves the amplitude: 0.4 peak away from the edges.
    let peak = mono[800..15_200].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((peak - 0.4).abs() < 0.004, "peak {peak}");
    // Too long for a 0.5-s limit.
    let err = audio::prepare(&a.samples, a.sample_rate, a.channels, 0.5).unwrap_err();
    assert!(matches!(err, Error::InvalidAudio(_)), "{err}");
}
