//! The formats besides WAV (FLAC, MP3, Ogg Vorbis, M4A/AAC) made by
//! `scripts/setup.sh audio-fixtures` from the speech fixtures, decoded
//! against the WAV they came from; damaged copies of each; and inputs that
//! never end (FIFOs) or lie in their header, which must fail with a typed
//! error, never a panic, never a hang or a read until memory runs out.

#[path = "../../tests/common/audio_fixtures.rs"]
mod audio_fixtures;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use voiceflow_core::audio::{self, AudioBuffer};
use voiceflow_core::Error;

/// The formats `scripts/setup.sh audio-fixtures` makes, by extension.
const FORMATS: [&str; 4] = ["flac", "mp3", "ogg", "m4a"];

fn speech_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/speech")
}

/// The folder of converted fixtures: `VOICEFLOW_AUDIO_FIXTURES`, else
/// `audio-fixtures` in `VOICEFLOW_CACHE` or the repository's `.cache`.
/// Panics with the setup step when it is missing: a test that skipped would
/// prove nothing.
fn converted(name: &str, format: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    audio_fixtures::converted_in(&repo, name, format)
}

/// The fixture names (without `.wav`).
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(speech_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".wav").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    names
}

/// Runs `f` on another thread; panics when it takes longer than `limit`
/// (a hang is a failure, not a stuck test run).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} took longer than {limit:?}"))
}

fn rms(samples: &[f32]) -> f64 {
    (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len().max(1) as f64)
        .sqrt()
}

fn duration_s(a: &AudioBuffer) -> f64 {
    a.samples.len() as f64 / f64::from(a.channels) / f64::from(a.sample_rate)
}

#[test]
fn every_format_decodes_to_the_wavs_signal() {
    for name in fixtures() {
        let wav = audio::read_file(speech_dir().join(format!("{name}.wav")), 60.0).unwrap();
        for format in FORMATS {
            let path = converted(&name, format);
            let from_file =
                audio::read_file(&path, 60.0).unwrap_or_else(|e| panic!("{name}.{format}: {e}"));
            let from_bytes = audio::decode_bytes(&std::fs::read(&path).unwrap(), 60.0).unwrap();
            assert_eq!(
                from_file, from_bytes,
                "{name}.{format}: file and bytes differ"
            );
            assert_eq!(
                (from_file.sample_rate, from_file.channels),
                (wav.sample_rate, wav.channels),
                "{name}.{format}"
            );
            // Encoders pad to whole frames, and symphonia 0.5 trims the
            // MP3 delay but not AAC's priming: up to three 1024-sample
            // frames.
            let (got, want) = (duration_s(&from_file), duration_s(&wav));
            let slack = 0.05 + 3072.0 / f64::from(wav.sample_rate);
            assert!(
                (got - want).abs() < slack,
                "{name}.{format}: {got:.3} s vs {want:.3} s"
            );
            let (got, want) = (rms(&from_file.samples), rms(&wav.samples));
            assert!(
                (got / want - 1.0).abs() < 0.2,
                "{name}.{format}: RMS {got:.4} vs the WAV's {want:.4}"
            );
            assert!(from_file
                .samples
                .iter()
                .all(|s| s.is_finite() && s.abs() <= 2.0));
        }
    }
}

/// What a damaged input may give: audio that holds together, or a typed
/// error; anything else (another error, a panic) fails.
fn check_damaged(what: &str, result: voiceflow_core::Result<AudioBuffer>) {
    match result {
        Ok(a) => {
            assert!(a.channels >= 1 && a.sample_rate >= 1, "{what}: {a:?}");
            assert_eq!(a.samples.len() % usize::from(a.channels), 0, "{what}");
        }
        Err(Error::InvalidAudioFile { path: None, .. } | Error::InvalidAudio(_)) => {}
        Err(other) => panic!("{what}: not a typed audio error: {other:?}"),
    }
}

#[test]
fn truncated_and_bit_flipped_files_of_every_format_give_typed_errors() {
    let mut inputs = vec![("wav", std::fs::read(speech_dir().join("door.wav")).unwrap())];
    for format in FORMATS {
        inputs.push((format, std::fs::read(converted("door", format)).unwrap()));
    }
    for (format, bytes) in inputs {
        within(Duration::from_secs(240), format, move || {
            // Every cut in the first 512 bytes (the headers), then 48 more
            // through the file.
            let cuts = (0..512.min(bytes.len())).chain((1..=48).map(|i| bytes.len() * i / 49));
            for len in cuts {
                check_damaged(
                    &format!("{format} cut at {len}"),
                    audio::decode_bytes(&bytes[..len], 60.0),
                );
            }
            // A bit flipped in each of the first 256 bytes, then at 256
            // places through the file, and runs of garbage in the middle.
            let flips = (0..256.min(bytes.len())).chain((0..256).map(|i| bytes.len() * i / 256));
            for (n, at) in flips.enumerate() {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << (n % 8);
                check_damaged(
                    &format!("{format} bit {} of byte {at}", n % 8),
                    audio::decode_bytes(&damaged, 60.0),
                );
            }
            for i in 1..8 {
                let mut damaged = bytes.clone();
                let at = bytes.len() * i / 8;
                let end = (at + 64 * i).min(damaged.len());
                for (k, b) in damaged[at..end].iter_mut().enumerate() {
                    *b = (k * 131 + i * 17) as u8;
                }
                check_damaged(
                    &format!("{format} garbage at {at}"),
                    audio::decode_bytes(&damaged, 60.0),
                );
            }
        });
    }
}

#[test]
fn too_long_audio_stops_at_the_limit_in_every_format() {
    for format in ["wav"].into_iter().chain(FORMATS) {
        let path = match format {
            "wav" => speech_dir().join("report.wav"),
            _ => converted("report", format),
        };
        for result in [
            audio::read_file(&path, 1.0),
            audio::decode_bytes(&std::fs::read(&path).unwrap(), 1.0),
        ] {
            match result {
                Err(Error::InvalidAudio(reason)) => {
                    assert!(
                        reason.contains("exceeds the limit of 1 s"),
                        "{format}: {reason}"
                    )
                }
                other => panic!("{format}: expected InvalidAudio, got {other:?}"),
            }
        }
    }
}

/// A 16-bit mono `fmt ` chunk at `rate`, with `block_align` and
/// `bits_per_sample` as given.
fn wav_header(rate: u32, block_align: u16, bits: u16, data_len: u32) -> Vec<u8> {
    let mut h = b"RIFF".to_vec();
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * 2).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

#[test]
fn contradictory_wav_headers_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    for (block_align, bits, field) in [
        (2, 0, "bits_per_sample is 0"),
        (1, 16, "block_align is 1"),
        (5, 16, "block_align is 5"),
        (0, 16, "block_align is 0"),
    ] {
        let mut bytes = wav_header(16_000, block_align, bits, 8);
        bytes.extend_from_slice(&[0; 8]);
        let path = dir.path().join("bad.wav");
        std::fs::write(&path, &bytes).unwrap();
        for (result, expected_path) in [
            (audio::read_file(&path, 60.0), Some(path.clone())),
            (audio::decode_bytes(&bytes, 60.0), None),
        ] {
            match result {
                Err(Error::InvalidAudioFile { path, reason, .. }) => {
                    assert!(reason.contains(field), "{field:?} not in {reason:?}");
                    assert_eq!(path, expected_path);
                }
                other => panic!("{field}: expected InvalidAudioFile, got {other:?}"),
            }
        }
    }
}

/// Decoding a FIFO into which `write` writes until the reader goes away.
#[cfg(unix)]
fn read_fifo(
    max_duration_s: f64,
    write: impl FnOnce(&mut std::fs::File) + Send + 'static,
) -> voiceflow_core::Result<AudioBuffer> {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stream");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo");
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        // Opening blocks until the reader opens its end; writing fails
        // (EPIPE: Rust ignores SIGPIPE) once it has closed it.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        write(&mut file);
    });
    let result = audio::read_file(&fifo, max_duration_s);
    drop(dir);
    let _ = writer.join();
    result
}

/// Writes `chunk` to `file` again and again until a write fails.
#[cfg(unix)]
fn forever(file: &mut std::fs::File, chunk: &[u8]) {
    use std::io::Write;
    while file.write_all(chunk).is_ok() {}
}

#[cfg(unix)]
#[test]
fn a_wav_stream_that_never_ends_stops_at_the_limit() {
    let result = within(Duration::from_secs(60), "endless WAV FIFO", || {
        read_fifo(5.0, |f| {
            use std::io::Write;
            // A header written before the length was known, then samples
            // without end.
            if f.write_all(&wav_header(16_000, 2, 16, u32::MAX)).is_ok() {
                forever(f, &[0x10; 4096]);
            }
        })
    });
    match result {
        Err(Error::InvalidAudio(reason)) => {
            assert!(reason.contains("exceeds the limit of 5 s"), "{reason}")
        }
        other => panic!("expected InvalidAudio, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn an_mp3_stream_that_never_ends_stops_at_the_limit() {
    let mp3 = std::fs::read(converted("report", "mp3")).unwrap();
    let result = within(Duration::from_secs(60), "endless MP3 FIFO", move || {
        read_fifo(20.0, move |f| forever(f, &mp3))
    });
    match result {
        Err(Error::InvalidAudio(reason)) => {
            assert!(reason.contains("exceeds the limit of 20 s"), "{reason}")
        }
        other => panic!("expected InvalidAudio, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn endless_zeros_or_noise_give_a_typed_error() {
    let zeros = within(Duration::from_secs(60), "FIFO of zeros", || {
        read_fifo(60.0, |f| forever(f, &[0; 65_536]))
    });
    assert!(
        matches!(zeros, Err(Error::InvalidAudioFile { .. })),
        "{zeros:?}"
    );
    let noise = within(Duration::from_secs(120), "FIFO of noise", || {
        read_fifo(60.0, |f| {
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let block: Vec<u8> = (0..1 << 20)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            forever(f, &block)
        })
    });
    assert!(
        matches!(
            noise,
            Err(Error::InvalidAudioFile { .. } | Error::InvalidAudio(_))
        ),
        "{noise:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_flac_stream_is_read_like_the_file() {
    let path = converted("door", "flac");
    let bytes = std::fs::read(&path).unwrap();
    let streamed = within(Duration::from_secs(60), "FLAC FIFO", move || {
        read_fifo(60.0, move |f| {
            use std::io::Write;
            let _ = f.write_all(&bytes);
        })
    })
    .unwrap();
    assert_eq!(streamed, audio::read_file(&path, 60.0).unwrap());
}
