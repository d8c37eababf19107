//! Word timestamps (`TranscribeOptions::word_timestamps`) with the real
//! tiny.en model: the words spell each segment's text, their times run
//! forward inside the audio, and they land on the speech they belong to
//! across 30-s windows, with short windows, with the VAD filter (times of
//! the whole recording) and with the split decoder layout. Their agreement
//! with faster-whisper is tests/python/test_word_timestamps.py.

mod common;

use common::program::transcribe as voiceflow;
use common::{config, engine, fixture, manifest, samples, split_model_dir};
use voiceflow_core::vad::VadOptions;
use voiceflow_core::{Engine, TranscribeOptions, Transcript};

const SAMPLE_RATE: f32 = 16_000.0;
/// Silence between the fixtures of the long recording, in seconds.
const GAP_S: f32 = 4.0;
/// One step of the alignment: an encoder state is 20 ms of audio.
const STEP_S: f32 = 0.02;

fn with_words() -> TranscribeOptions {
    TranscribeOptions {
        word_timestamps: true,
        ..TranscribeOptions::default()
    }
}

/// The words of every segment spell its text; times run forward (a word
/// may start where the last one ended), stay inside the audio, and each
/// probability is between 0 and 1.
fn check_words(t: &Transcript, what: &str) {
    assert!(!t.segments.is_empty(), "{what}: no segments");
    let mut previous_start = 0.0f32;
    for s in &t.segments {
        assert!(!s.words.is_empty(), "{what}: no words in {:?}", s.text);
        let spelled: String = s.words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(spelled.trim(), s.text, "{what}");
        for w in &s.words {
            assert!(
                w.start >= previous_start,
                "{what}: {w:?} starts before {previous_start}"
            );
            assert!(w.start <= w.end, "{what}: {w:?}");
            assert!(
                w.end <= t.duration_s as f32 + STEP_S,
                "{what}: {w:?} past the audio"
            );
            assert!((0.0..=1.0).contains(&w.probability), "{what}: {w:?}");
            previous_start = w.start;
        }
        // The segment's times are its words' (or keep to its timestamps).
        assert!(s.start <= s.words[0].end && s.end >= s.words[s.words.len() - 1].start);
    }
}

#[test]
fn words_spell_the_text_and_run_forward() {
    for (file, _) in manifest() {
        let plain = engine()
            .transcribe_file(fixture(&file), &TranscribeOptions::default())
            .unwrap();
        assert!(plain.segments.iter().all(|s| s.words.is_empty()), "{file}");
        let t = engine()
            .transcribe_file(fixture(&file), &with_words())
            .unwrap();
        assert_eq!(
            t.text, plain.text,
            "{file}: word timestamps changed the text"
        );
        check_words(&t, &file);
    }
}

/// The fixtures one after the other with [`GAP_S`] of silence before each:
/// the samples and where each fixture starts and ends (seconds).
fn long_recording() -> (Vec<f32>, Vec<(f32, f32)>) {
    let gap = vec![0.0f32; (GAP_S * SAMPLE_RATE) as usize];
    let mut audio = Vec::new();
    let mut spans = Vec::new();
    for (file, _) in manifest() {
        audio.extend_from_slice(&gap);
        let start = audio.len() as f32 / SAMPLE_RATE;
        audio.extend(samples(&file));
        spans.push((start, audio.len() as f32 / SAMPLE_RATE));
    }
    audio.extend_from_slice(&gap);
    (audio, spans)
}

/// Every word lies in one fixture's span, give or take half the gap (a word
/// nearer another fixture's speech would be on the wrong speech), and every
/// fixture gets words.
fn check_placement(t: &Transcript, spans: &[(f32, f32)], what: &str) {
    let slack = GAP_S / 2.0;
    let mut used = vec![false; spans.len()];
    for w in t.segments.iter().flat_map(|s| &s.words) {
        let home = spans
            .iter()
            .position(|&(a, b)| w.start >= a - slack && w.end <= b + slack);
        let home = home.unwrap_or_else(|| panic!("{what}: {w:?} lies in no fixture {spans:?}"));
        used[home] = true;
    }
    assert!(
        used.iter().all(|&u| u),
        "{what}: fixtures without words: {used:?}"
    );
}

#[test]
fn words_land_on_their_speech_across_windows() {
    let (audio, spans) = long_recording();
    assert!(
        audio.len() as f32 / SAMPLE_RATE > 30.0,
        "needs more than one window"
    );
    for short_windows in [false, true] {
        let options = TranscribeOptions {
            short_windows,
            ..with_words()
        };
        let t = engine().transcribe(&audio, 16_000, &options).unwrap();
        let what = format!("long recording, short windows {short_windows}");
        check_words(&t, &what);
        check_placement(&t, &spans, &what);
    }
}

#[test]
fn vad_filtered_words_keep_the_times_of_the_whole_recording() {
    let (audio, spans) = long_recording();
    let options = TranscribeOptions {
        vad_filter: Some(VadOptions::filter()),
        ..with_words()
    };
    let t = engine().transcribe(&audio, 16_000, &options).unwrap();
    check_words(&t, "VAD filter");
    check_placement(&t, &spans, "VAD filter");
}

#[test]
fn the_split_decoder_gives_the_same_words() {
    let split = Engine::new(config(split_model_dir())).expect("the split model loads");
    for file in ["report.wav", "door.wav"] {
        let merged = engine()
            .transcribe_file(fixture(file), &with_words())
            .unwrap();
        let got = split.transcribe_file(fixture(file), &with_words()).unwrap();
        let words = |t: &Transcript| -> Vec<_> {
            t.segments.iter().flat_map(|s| s.words.clone()).collect()
        };
        let (a, b) = (words(&merged), words(&got));
        assert_eq!(a.len(), b.len(), "{file}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.word, y.word, "{file}");
            // Same weights, other graphs: float32 sums in another order can
            // move a path by one step at most.
            assert!(
                (x.start - y.start).abs() <= STEP_S + 1e-4,
                "{file}: {x:?} {y:?}"
            );
            assert!(
                (x.end - y.end).abs() <= STEP_S + 1e-4,
                "{file}: {x:?} {y:?}"
            );
        }
    }
}

#[test]
fn the_program_writes_words_in_json_and_a_cue_per_word() {
    let report = fixture("report.wav");
    let file = report.to_str().unwrap();
    let out = voiceflow(&["--word-timestamps", "--format", "json", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut words = Vec::new();
    for segment in line["segments"].as_array().unwrap() {
        let list = segment["words"].as_array().expect("words per segment");
        let spelled: String = list.iter().map(|w| w["word"].as_str().unwrap()).collect();
        assert_eq!(spelled.trim(), segment["text"].as_str().unwrap());
        for w in list {
            let (start, end) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
            assert!(start <= end && (0.0..=1.0).contains(&w["probability"].as_f64().unwrap()));
        }
        words.extend(
            list.iter()
                .map(|w| w["word"].as_str().unwrap().trim().to_string()),
        );
    }
    assert!(words.len() >= 10, "{words:?}");

    let out = voiceflow(&[
        "--word-timestamps",
        "--format",
        "srt",
        "--subtitles-per-word",
        file,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let srt = String::from_utf8(out.stdout).unwrap();
    let cues: Vec<&str> = srt
        .split("\n\n")
        .filter(|c| !c.is_empty())
        .map(|c| c.lines().nth(2).unwrap())
        .collect();
    assert_eq!(cues, words);

    // A cue per word needs the words.
    let out = voiceflow(&["--format", "vtt", "--subtitles-per-word", file]);
    assert!(!out.status.success());
}
