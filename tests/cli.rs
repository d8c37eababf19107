//! The `voiceflow` program as a user runs it.

mod common;

use std::process::Command;

use common::program::transcribe as voiceflow;
use common::{fixture, model_dir};

/// The stdout of a successful run, one JSON value per line.
fn json_lines(out: std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn json_has_one_line_per_file_with_text_segments_and_timings() {
    let report = fixture("report.wav");
    let door = fixture("door.wav");
    let out = voiceflow(&[
        "--format",
        "json",
        report.to_str().unwrap(),
        door.to_str().unwrap(),
    ]);
    let lines = json_lines(out);
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["file"], report.display().to_string());
    assert!(
        common::wer(
            "Please send the quarterly report to the finance team by Friday.",
            first["text"].as_str().unwrap()
        ) <= 0.15
    );
    assert_eq!(first["language"], "en");
    assert_eq!(first["language_probability"], 1.0);
    assert!(first["duration_s"].as_f64().unwrap() > 4.0);
    assert!(first["processing_s"].as_f64().unwrap() > 0.0);
    assert!(
        first["segments"][0]["end"].as_f64().unwrap()
            > first["segments"][0]["start"].as_f64().unwrap()
    );
    assert!(first["timings"]["encoder_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn every_audio_format_gives_the_wavs_words_and_bad_ones_fail() {
    let files: Vec<String> = ["report.wav"]
        .map(|f| fixture(f).display().to_string())
        .into_iter()
        .chain(common::AUDIO_FORMATS.map(|format| {
            common::converted_fixture("report", format)
                .display()
                .to_string()
        }))
        .collect();
    let args: Vec<&str> = ["--format", "json"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let lines = json_lines(voiceflow(&args));
    assert_eq!(lines.len(), files.len());
    let wav = common::words(lines[0]["text"].as_str().unwrap());
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], *file);
        assert_eq!(common::words(line["text"].as_str().unwrap()), wav, "{file}");
    }
    // A WAV whose header contradicts itself fails, naming the field.
    let dir = tempfile::tempdir().unwrap();
    let mut bad = std::fs::read(fixture("report.wav")).unwrap();
    bad[34..36].copy_from_slice(&0u16.to_le_bytes()); // bits_per_sample
    let path = dir.path().join("bad.wav");
    std::fs::write(&path, bad).unwrap();
    let out = voiceflow(&[path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bits_per_sample is 0"), "{stderr}");
}

#[test]
fn text_goes_to_stdout_and_timings_to_stderr() {
    let out = voiceflow(&[fixture("sailor.wav").to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("sailor"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("real-time factor"));
}

#[test]
fn every_decoding_option_is_a_flag_and_a_bad_value_is_named() {
    let sailor = fixture("sailor.wav");
    let sailor = sailor.to_str().unwrap();
    let out = voiceflow(&[
        "--language",
        "auto",
        "--best-of",
        "2",
        "--temperatures",
        "0,0.5",
        "--no-speech-threshold",
        "off",
        "--condition-on-previous-text",
        "false",
        "--seed",
        "7",
        "--vad-filter",
        "--vad-speech-pad-ms",
        "200",
        sailor,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("sailor"));
    assert!(stderr.contains("language: en (1.00)"), "{stderr}");

    for (args, named) in [
        (&["--temperatures", "0,-1"][..], "temperatures"),
        (&["--patience", "0"][..], "patience"),
        (
            &["--vad-filter", "--vad-threshold", "2"][..],
            "vad_threshold",
        ),
    ] {
        let out = voiceflow(&[args, &[sailor]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains(&format!("invalid option {named} = ")),
            "{stderr}"
        );
    }
    // A --vad-* flag without --vad-filter is a usage error.
    let out = voiceflow(&["--vad-threshold", "0.4", sailor]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn subtitles() {
    let out = voiceflow(&["--format", "srt", fixture("calling.wav").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1\n00:00:00,000 --> 00:00:03,"));
    let out = voiceflow(&["--format", "vtt", fixture("calling.wav").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("WEBVTT\n\n00:00:00.000 --> "));
}

#[test]
fn errors_are_reported_with_a_failing_exit_code() {
    let out = voiceflow(&[
        fixture("missing.wav").to_str().unwrap(),
        fixture("door.wav").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.wav"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("door"),
        "the other file is still transcribed"
    );

    let out = voiceflow(&["--beam-size", "0", fixture("door.wav").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("beam_size"));

    let out = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["transcribe", "--model", "/nonexistent/model"])
        .arg(fixture("door.wav"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("model not found"));
}

#[test]
fn stats_print_the_stage_table_or_the_snapshot_after_the_transcripts() {
    let report = fixture("report.wav");
    let out = voiceflow(&["--stats", report.to_str().unwrap()]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (transcript, table) = stdout.split_once("stage ").unwrap();
    assert!(transcript.to_lowercase().contains("quarterly report"));
    assert!(table.contains("transcription (ms)"), "{table}");
    assert!(table.contains("audio "), "{table}");
    assert!(
        table.ends_with("requests: admitted 1, completed 1\n"),
        "{table}"
    );

    let out = voiceflow(&["--format", "json", "--stats=json", report.to_str().unwrap()]);
    let lines = json_lines(out);
    assert_eq!(lines.len(), 2);
    let histograms = lines[1]["histograms"].as_array().unwrap();
    let audio = histograms
        .iter()
        .find(|h| h["name"] == "voiceflow_audio_seconds")
        .unwrap();
    assert_eq!(audio["count"], 1);
    assert_eq!(audio["sum"], lines[0]["duration_s"]);
}

fn stream(args: &[&str], stdin: Option<Vec<u8>>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .arg("stream")
        .arg("--model")
        .arg(model_dir())
        .args(["--threads", "1"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voiceflow runs");
    let input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut input = input;
        if let Some(bytes) = stdin {
            let _ = input.write_all(&bytes);
        }
    });
    let out = child.wait_with_output().expect("voiceflow ends");
    writer.join().unwrap();
    out
}

#[test]
fn stream_prints_each_final_on_its_own_line() {
    let report = fixture("report.wav");
    let out = stream(&["--timestamps", report.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Not a terminal: no partials, only "[start - end] text" lines.
    let text: Vec<&str> = stdout
        .lines()
        .map(|l| {
            let (times, text) = l.split_once("] ").unwrap_or_else(|| panic!("{l:?}"));
            assert!(times.starts_with('['), "{l:?}");
            text
        })
        .collect();
    let reference = "Please send the quarterly report to the finance team by Friday.";
    assert!(
        common::wer(reference, &text.join(" ")) <= 0.15,
        "{stdout:?}"
    );
}

#[test]
fn stream_reads_raw_s16le_from_stdin() {
    let wav = voiceflow_core::audio::read_wav(fixture("calling_8k.wav")).unwrap();
    let mut bytes = Vec::new();
    for s in wav.samples.iter().chain(&vec![0.0; 8_000]) {
        bytes.extend(((s * 32767.0).round() as i16).to_le_bytes());
    }
    let out = stream(&["--rate", "8000", "-"], Some(bytes));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let reference = "Thank you for calling, how can I help you today?";
    assert!(common::wer(reference, &stdout) <= 0.15, "{stdout:?}");
}

#[test]
fn verbose_logs_the_providers_and_quiet_prints_only_the_text() {
    let door = fixture("door.wav");
    let run = |flag: &str| {
        let out = voiceflow(&[flag, door.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (text, log) = run("-v");
    assert!(
        common::wer(
            "Open the door and turn on the lights in the kitchen.",
            &text
        ) <= 0.15
    );
    // Which execution provider runs each graph, from the library's log.
    assert!(
        log.contains("engine ready") && log.contains("encoder=CPU") && log.contains("decoder=CPU"),
        "{log}"
    );
    let (quiet_text, quiet_log) = run("--quiet");
    assert_eq!(quiet_text, text);
    assert_eq!(quiet_log, "", "--quiet leaves stderr empty");
}
