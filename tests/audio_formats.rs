//! Every speech fixture in every format VoiceFlow reads (FLAC, MP3, Ogg
//! Vorbis, M4A/AAC, converted from the WAVs by `scripts/setup.sh
//! audio-fixtures`) gives the WAV's words, from a path and from bytes.

mod common;

use std::ops::ControlFlow;

use common::{converted_fixture, engine, fixture, manifest, wer, AUDIO_FORMATS};
use voiceflow_core::engine::Audio;
use voiceflow_core::{Error, TranscribeOptions};

/// Per-clip bound between a format's words and the WAV's: two words of a
/// sentence of ten or more may differ (tiny.en flips a word on small changes
/// of the signal, which a lossy codec always makes), garbage fails.
const CLIP_WER: f64 = 0.2;
/// Bound over all clips of one format together, against the WAV's words.
const FORMAT_WER: f64 = 0.08;

fn transcribe_bytes(bytes: &[u8]) -> voiceflow_core::Result<String> {
    let options = TranscribeOptions::default();
    engine()
        .transcribe_with(Audio::Bytes(bytes), &options, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .map(|t| t.text)
}

#[test]
fn every_format_gives_the_wavs_words() {
    // Beam search: steadier than greedy decoding on slightly changed audio.
    let options = TranscribeOptions {
        beam_size: 5,
        ..TranscribeOptions::default()
    };
    let mut clips: Vec<String> = manifest().into_iter().map(|(file, _)| file).collect();
    // The resampled and stereo copies of "calling" too.
    clips.extend(["calling_8k.wav".into(), "calling_44k_stereo.wav".into()]);
    let mut failures = Vec::new();
    for format in AUDIO_FORMATS {
        let (mut errors, mut total) = (0, 0);
        for file in &clips {
            let wav = engine()
                .transcribe_file(fixture(file), &options)
                .unwrap()
                .text;
            let name = file.trim_end_matches(".wav");
            let text = engine()
                .transcribe_file(converted_fixture(name, format), &options)
                .unwrap_or_else(|e| panic!("{name}.{format}: {e}"))
                .text;
            let clip = wer(&wav, &text);
            eprintln!("{name}.{format}: {text:?} (WER {clip:.3} against the WAV's {wav:?})");
            if clip > CLIP_WER {
                failures.push(format!(
                    "{name}.{format}: {text:?} vs {wav:?}: WER {clip:.3}"
                ));
            }
            let (e, n) = common::word_errors(&wav, &text);
            errors += e;
            total += n;
        }
        let overall = errors as f64 / total as f64;
        if overall > FORMAT_WER {
            failures.push(format!("{format}: WER {overall:.3} over all clips"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn bytes_of_every_format_give_the_same_words_as_the_file() {
    for format in AUDIO_FORMATS {
        let path = converted_fixture("report", format);
        let from_file = engine()
            .transcribe_file(&path, &TranscribeOptions::default())
            .unwrap()
            .text;
        let from_bytes = transcribe_bytes(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(from_file, from_bytes, "{format}");
    }
}

#[test]
fn a_damaged_file_of_each_format_is_a_typed_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for format in AUDIO_FORMATS {
        let bytes = std::fs::read(converted_fixture("door", format)).unwrap();
        // The header alone, cut short.
        let path = dir.path().join(format!("cut.{format}"));
        std::fs::write(&path, &bytes[..24]).unwrap();
        match engine().transcribe_file(&path, &TranscribeOptions::default()) {
            Err(Error::InvalidAudioFile { path: named, .. }) => assert_eq!(named, Some(path)),
            other => panic!("{format}: expected InvalidAudioFile, got {other:?}"),
        }
        assert!(matches!(
            transcribe_bytes(&bytes[..24]),
            Err(Error::InvalidAudioFile { path: None, .. })
        ));
    }
}
