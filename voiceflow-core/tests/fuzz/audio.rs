//! The audio decoders (WAV, FLAC, MP3, Ogg Vorbis, M4A/AAC) and audio
//! preparation on arbitrary and damaged input.

use proptest::prelude::*;
use voiceflow_core::audio::{self, mel::MelExtractor, silence, MAX_SAMPLE_PEAK, MAX_SAMPLE_RATE};
use voiceflow_core::Error;

use super::{cases, DEFAULT_CASES};

/// How a generated WAV stores its samples.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Pcm(u16),
    Float(u16),
    Extensible(u16),
}

/// A complete WAV file: `channels` interleaved `samples` (in [-1, 1]) at
/// `rate` in `layout`.
fn wav(layout: Layout, channels: u16, rate: u32, samples: &[f32]) -> Vec<u8> {
    let (tag, bits, float) = match layout {
        Layout::Pcm(bits) => (1u16, bits, false),
        Layout::Float(bits) => (3, bits, true),
        Layout::Extensible(bits) => (0xFFFE, bits, false),
    };
    let width = usize::from(bits / 8);
    let mut data = Vec::with_capacity(samples.len() * width);
    for &s in samples {
        match (float, width) {
            (true, 4) => data.extend_from_slice(&s.to_le_bytes()),
            (true, _) => data.extend_from_slice(&f64::from(s).to_le_bytes()),
            (false, 1) => data.push((s * 127.0 + 128.0).round().clamp(0.0, 255.0) as u8),
            (false, _) => {
                let full = (1i64 << (8 * width - 1)) as f64;
                let v = (f64::from(s) * full).round().clamp(-full, full - 1.0) as i64;
                data.extend_from_slice(&v.to_le_bytes()[..width]);
            }
        }
    }
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    let block = u32::from(channels) * u32::from(bits / 8);
    fmt.extend_from_slice(&(rate.wrapping_mul(block)).to_le_bytes());
    fmt.extend_from_slice(&(block as u16).to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if let Layout::Extensible(_) = layout {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        fmt.extend_from_slice(&0u32.to_le_bytes());
        fmt.extend_from_slice(&[1, 0]);
        fmt.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((4 + 8 + fmt.len() + 8 + data.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(&fmt);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        prop::sample::select(vec![8u16, 16, 24, 32]).prop_map(Layout::Pcm),
        prop::sample::select(vec![32u16, 64]).prop_map(Layout::Float),
        prop::sample::select(vec![16u16, 24, 32]).prop_map(Layout::Extensible),
    ]
}

/// A valid WAV and what it holds.
fn valid_wav() -> impl Strategy<Value = (Vec<u8>, Layout, u16, u32, Vec<f32>)> {
    (layout(), 1u16..=4, 1u32..=MAX_SAMPLE_RATE, 0usize..64).prop_flat_map(
        |(layout, channels, rate, frames)| {
            prop::collection::vec(-1.0f32..=1.0, frames * usize::from(channels)).prop_map(
                move |samples| {
                    (
                        wav(layout, channels, rate, &samples),
                        layout,
                        channels,
                        rate,
                        samples,
                    )
                },
            )
        },
    )
}

/// One change to a file: a byte set, a cut, bytes inserted, or a 32-bit
/// field (a size, a rate) overwritten.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Word(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (
            0usize..64,
            prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()]
        )
            .prop_map(|(at, v)| Mutation::Word(at, v)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len().max(1);
    match mutation {
        Mutation::Set(at, b) => {
            if let Some(byte) = bytes.get_mut(at % len) {
                *byte = *b;
            }
        }
        Mutation::Truncate(at) => bytes.truncate(at % len),
        Mutation::Insert(at, new) => {
            let at = at % len;
            bytes.splice(
                at.min(bytes.len())..at.min(bytes.len()),
                new.iter().copied(),
            );
        }
        Mutation::Word(at, v) => {
            if at + 4 <= bytes.len() {
                bytes[*at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// What every decoded buffer must satisfy, and preparing it never panics.
fn check_decoded(result: voiceflow_core::Result<audio::AudioBuffer>) -> Result<(), TestCaseError> {
    match result {
        Ok(buffer) => {
            prop_assert!(buffer.channels >= 1);
            prop_assert_eq!(buffer.samples.len() % usize::from(buffer.channels), 0);
            if buffer.samples.len() <= 4096 && buffer.sample_rate >= 4_000 {
                check_prepared(
                    audio::prepare(&buffer.samples, buffer.sample_rate, buffer.channels, 60.0),
                    &buffer.samples,
                    buffer.sample_rate,
                    buffer.channels,
                )?;
            }
        }
        Err(Error::InvalidAudioFile { .. }) => {}
        Err(other) => prop_assert!(false, "not an InvalidAudioFile: {other:?}"),
    }
    Ok(())
}

/// The bytes of a speech fixture converted by `scripts/setup.sh
/// audio-fixtures` (`VOICEFLOW_AUDIO_FIXTURES`, else `audio-fixtures` in
/// `VOICEFLOW_CACHE` or the repository's `.cache`); panics naming the setup
/// step when it is missing.
fn converted(file: &str) -> Vec<u8> {
    let dir = std::env::var_os("VOICEFLOW_AUDIO_FIXTURES")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("VOICEFLOW_CACHE")
                .map(|c| std::path::PathBuf::from(c).join("audio-fixtures"))
        })
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/audio-fixtures")
        });
    let path = dir.join(file);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `scripts/setup.sh audio-fixtures`, which `make test` does)",
            path.display()
        )
    })
}

/// The converted fixtures, read once.
fn other_formats() -> &'static [(&'static str, Vec<u8>)] {
    static FILES: std::sync::OnceLock<Vec<(&'static str, Vec<u8>)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        ["door.flac", "door.mp3", "door.ogg", "door.m4a"]
            .into_iter()
            .map(|f| (f, converted(f)))
            .collect()
    })
}

/// `prepare` gave 16-kHz mono of the right length, or a typed error that
/// the input explains.
fn check_prepared(
    result: voiceflow_core::Result<Vec<f32>>,
    samples: &[f32],
    rate: u32,
    channels: u16,
) -> Result<(), TestCaseError> {
    match result {
        Ok(mono) => {
            let frames = samples.len() / usize::from(channels.max(1));
            let expected = frames as f64 * 16_000.0 / f64::from(rate);
            prop_assert!(
                (mono.len() as f64 - expected).abs() <= 2.0,
                "{} samples for {frames} frames at {rate} Hz",
                mono.len()
            );
            prop_assert!(mono.iter().all(|s| s.is_finite()));
        }
        Err(Error::InvalidArgument(_)) => prop_assert!(
            rate == 0 || rate > MAX_SAMPLE_RATE || channels == 0,
            "rate {rate}, channels {channels}"
        ),
        Err(Error::InvalidAudio(reason)) => prop_assert!(
            samples.is_empty()
                || !samples.len().is_multiple_of(usize::from(channels))
                || samples
                    .iter()
                    .any(|s| !s.is_finite() || s.abs() > MAX_SAMPLE_PEAK)
                || samples.len() / usize::from(channels) > 60 * rate as usize,
            "{reason}"
        ),
        Err(other) => prop_assert!(false, "unexpected error {other:?}"),
    }
    Ok(())
}

/// A sample: ordinary, loud, or not a number at all.
fn sample() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -1.0f32..=1.0,
        1 => -20.0f32..=20.0,
        1 => prop::num::f32::ANY,
    ]
}

proptest! {
    #![proptest_config(cases(DEFAULT_CASES * 4))]

    #[test]
    fn fuzz_wav_arbitrary_bytes_decode_or_give_invalid_wav(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        riff_header in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if riff_header && bytes.len() >= 16 {
            bytes[..4].copy_from_slice(b"RIFF");
            bytes[8..16].copy_from_slice(b"WAVEfmt ");
        }
        check_decoded(audio::decode_wav(&bytes))?;
    }

    #[test]
    fn fuzz_wav_valid_files_give_back_their_samples((bytes, layout, channels, rate, samples) in valid_wav()) {
        let buffer = audio::decode_wav(&bytes).unwrap();
        prop_assert_eq!((buffer.channels, buffer.sample_rate), (channels, rate));
        prop_assert_eq!(buffer.samples.len(), samples.len());
        // One quantisation step of the stored depth (8-bit: 1/127 of the
        // writer's scale against the reader's 1/128).
        let step = match layout {
            Layout::Pcm(8) => 2.0 / 127.0,
            Layout::Pcm(bits) | Layout::Extensible(bits) => 2.0 / (1u64 << (bits - 1)) as f32,
            Layout::Float(_) => 0.0,
        };
        for (got, want) in buffer.samples.iter().zip(&samples) {
            prop_assert!((got - want).abs() <= step, "{got} vs {want} in {layout:?}");
        }
    }

    #[test]
    fn fuzz_wav_damaged_files_decode_or_give_invalid_wav(
        (bytes, ..) in valid_wav(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = bytes;
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        check_decoded(audio::decode_wav(&bytes))?;
    }

    #[test]
    fn fuzz_other_formats_damaged_decode_or_give_a_typed_error(
        which in 0usize..4,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (_, bytes) = &other_formats()[which];
        let mut bytes = bytes.clone();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        // Within the engine's usual bound, as a transcription decodes.
        match audio::decode_bytes(&bytes, 60.0) {
            Err(Error::InvalidAudio(reason)) => prop_assert!(reason.contains("exceeds"), "{reason}"),
            other => check_decoded(other)?,
        }
    }

    #[test]
    fn fuzz_prepare_gives_16k_mono_or_a_typed_error(
        samples in prop::collection::vec(sample(), 0..2048),
        rate in prop_oneof![Just(0u32), 4_000u32..=MAX_SAMPLE_RATE, Just(MAX_SAMPLE_RATE + 1), Just(u32::MAX)],
        channels in prop_oneof![Just(0u16), 1u16..=8, Just(u16::MAX)],
    ) {
        check_prepared(audio::prepare(&samples, rate, channels, 60.0), &samples, rate, channels)?;
    }

    #[test]
    fn fuzz_mel_of_finite_audio_is_finite_and_sized(
        samples in prop::collection::vec(-MAX_SAMPLE_PEAK..=MAX_SAMPLE_PEAK, 0..4000),
        padding in 0usize..800,
        start in any::<usize>(),
        len in any::<usize>(),
    ) {
        let mel = MelExtractor::new(80).unwrap().compute(&samples, padding);
        prop_assert_eq!(mel.n_frames, (samples.len() + padding) / audio::HOP_LENGTH);
        prop_assert_eq!(mel.data.len(), 80 * mel.n_frames);
        prop_assert!(mel.data.iter().all(|v| v.is_finite()));
        // Any span, in range or not, is judged without panicking; a span
        // that holds nothing is silent.
        let silent = silence::is_silent(&mel, start, len);
        if start >= mel.n_frames || len == 0 {
            prop_assert!(silent);
        }
        prop_assert_eq!(mel.window(start, len).len(), 80 * audio::N_FRAMES);
    }
}
