//! `voiceflow models` and model names on the command line, with a models
//! directory of the test's own ($VOICEFLOW_MODELS) and an empty home.
//! (Installing for real, with pip and the converter, is
//! tests/python/test_models.py: it needs the built wheel.)

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{fixture, int8_model_dir};

/// `voiceflow ARGS` with the models directory `models` and the home `home`.
fn voiceflow(models: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(args)
        .env("VOICEFLOW_MODELS", models)
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("VOICEFLOW_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .current_dir(home)
        .output()
        .expect("voiceflow runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_shows_each_known_model_installed_or_not() {
    let home = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        int8_model_dir().canonicalize().unwrap(),
        models.path().join("whisper-tiny.en"),
    )
    .unwrap();
    let out = voiceflow(models.path(), home.path(), &["models", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in:\n{stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let tiny = row("tiny.en");
    assert_eq!(tiny[1..3], ["whisper", "yes"], "{stdout}");
    // what `models install tiny.en` writes: int8 weights, about 51 MB
    let megabytes: f64 = tiny[3].parse().unwrap();
    assert!((30.0..100.0).contains(&megabytes), "{stdout}");
    assert_eq!(
        tiny.last().copied(),
        models.path().join("whisper-tiny.en").to_str()
    );
    assert_eq!(row("base")[1..4], ["whisper", "no", "-"], "{stdout}");
    assert_eq!(row("silero-vad")[1..3], ["vad", "no"], "{stdout}");
    // --dir names another directory.
    let out = voiceflow(
        models.path(),
        home.path(),
        &["models", "--dir", "/nonexistent/m", "list"],
    );
    assert!(text(&out.stdout).contains("/nonexistent/m/whisper-tiny.en"));
}

#[test]
fn a_name_is_found_in_the_models_directory_and_a_missing_one_says_how_to_install_it() {
    let home = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let door = fixture("door.wav");
    let door = door.to_str().unwrap();
    // The default model is tiny.en, not installed here.
    let out = voiceflow(models.path(), home.path(), &["transcribe", door]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the model tiny.en is not installed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`voiceflow models install tiny.en`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&models.path().join("whisper-tiny.en").display().to_string()),
        "{stderr}"
    );
    let out = voiceflow(
        models.path(),
        home.path(),
        &["transcribe", "--model", "large-v9", door],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a model name"),
        "{}",
        text(&out.stderr)
    );

    std::os::unix::fs::symlink(
        int8_model_dir().canonicalize().unwrap(),
        models.path().join("whisper-tiny.en"),
    )
    .unwrap();
    let out = voiceflow(
        models.path(),
        home.path(),
        &["-q", "transcribe", "--threads", "1", door],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).to_lowercase().contains("door"));
}

#[test]
fn install_without_the_python_package_says_what_to_pip_install() {
    let home = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    // A Python without the voiceflow package: a bare virtual environment.
    let bare = home.path().join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .expect("python3 runs");
    assert!(made.success());
    let out = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["models", "install", "tiny.en"])
        .env("VOICEFLOW_MODELS", models.path())
        .env("HOME", home.path())
        .env("VOICEFLOW_PYTHON", bare.join("bin/python"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("pip install 'voiceflow[convert]'"),
        "{stderr}"
    );
    assert!(stderr.contains("No module named 'voiceflow'"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["models", "install", "tiny.en"])
        .env("VOICEFLOW_MODELS", models.path())
        .env("VOICEFLOW_PYTHON", home.path().join("no-python"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot run"),
        "{}",
        text(&out.stderr)
    );
    assert!(std::fs::read_dir(models.path()).unwrap().next().is_none());
}
