//! The dictation path of the `voiceflow` program as a user runs it:
//! transcribe -> enhance -> store (`transcribe --context --store`), then
//! `history search|list|show|export|delete`, and `enhance` alone; the
//! configuration file and the passphrase's sources.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{fixture, manifest, model_dir, wer};
use serde_json::Value;
use voiceflow_core::enhance::{EnhanceRequest, Enhancer, RuleEnhancer};
use voiceflow_core::Context;

/// The passphrase's environment variable of the test's configuration.
const PASSPHRASE_ENV: &str = "VOICEFLOW_TEST_DICTATION_PASSPHRASE";
const PASSPHRASE: &str = "cli dictation passphrase";
/// As the engine's end-to-end tests: one wrong word in a sentence passes.
const CLIP_WER: f64 = 0.15;

/// `voiceflow ARGS` with the configuration `config`, `passphrase` in its
/// environment variable (unset when `None`) and stdin closed (not a
/// terminal), away from the user's own configuration.
fn voiceflow(config: &Path, passphrase: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_voiceflow"));
    command
        .args(args)
        .env("VOICEFLOW_CONFIG", config)
        .env_remove(PASSPHRASE_ENV)
        .stdin(Stdio::null());
    if let Some(passphrase) = passphrase {
        command.env(PASSPHRASE_ENV, passphrase);
    }
    command.output().expect("voiceflow runs")
}

fn stdout_of(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(out: Output) -> Value {
    serde_json::from_str(&stdout_of(out)).unwrap()
}

/// A configuration naming the model, a store in `dir` and email as the
/// default context.
fn config_in(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("voiceflow.toml");
    let text = format!(
        "[engine]\nmodel = {:?}\nthreads = 1\n\n[ai_enhancement]\ndefault_context = \"email\"\n\n\
         [storage]\npath = {:?}\npassphrase_env = \"{PASSPHRASE_ENV}\"\n",
        model_dir(),
        dir.join("history")
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn text_of(name: &str) -> String {
    manifest().into_iter().find(|(f, _)| f == name).unwrap().1
}

#[test]
fn dictate_store_search_show_export_delete() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let (report, calling) = (fixture("report.wav"), fixture("calling.wav"));
    let out = voiceflow(
        &config,
        Some(PASSPHRASE),
        &[
            "transcribe",
            "--format",
            "json",
            report.to_str().unwrap(),
            calling.to_str().unwrap(),
        ],
    );
    let lines: Vec<Value> = stdout_of(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, name) in lines.iter().zip(["report.wav", "calling.wav"]) {
        let raw = line["text"].as_str().unwrap();
        assert!(wer(&text_of(name), raw) <= CLIP_WER, "{raw:?}");
        // The configuration's default context, finished by the rules.
        assert_eq!(line["context"], "email");
        let finished = RuleEnhancer
            .enhance(raw, &EnhanceRequest::new(Context::Email).language("en"))
            .unwrap();
        assert_eq!(line["enhanced"], finished.text.as_str());
        assert!(line["record_id"].as_str().is_some_and(|id| id.len() == 32));
    }
    let report_id = lines[0]["record_id"].as_str().unwrap();

    // search finds the record by its words, and only it.
    let found = json_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &[
            "history",
            "search",
            "quarterly",
            "finance",
            "--format",
            "json",
        ],
    ));
    let records = found["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{found}");
    assert_eq!(records[0]["id"], report_id);
    assert_eq!(records[0]["raw_text"], lines[0]["text"]);
    assert_eq!(records[0]["enhanced_text"], lines[0]["enhanced"]);
    assert_eq!(records[0]["model"], "whisper-tiny.en-float32");

    // show: the whole record for a person.
    let shown = stdout_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &["history", "show", report_id],
    ));
    assert!(
        shown.contains(&format!("id:        {report_id}")),
        "{shown}"
    );
    assert!(shown.contains(&format!(
        "raw:       {}",
        lines[0]["text"].as_str().unwrap()
    )));
    assert!(shown.contains("context:   email"));

    // list: newest first, a page at a time.
    let first = json_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &[
            "history",
            "list",
            "--context",
            "email",
            "--limit",
            "1",
            "--format",
            "json",
        ],
    ));
    assert_eq!(first["records"][0]["id"], lines[1]["record_id"]);
    let cursor = first["next"].as_str().expect("a next page").to_string();
    let second = json_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &["history", "list", "--after", &cursor, "--format", "json"],
    ));
    assert_eq!(second["records"].as_array().unwrap().len(), 1);
    assert_eq!(second["records"][0]["id"], report_id);
    assert!(second["next"].is_null());
    let none = json_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &[
            "history",
            "list",
            "--since",
            "2000-01-01",
            "--until",
            "2001-01-01",
            "--format",
            "json",
        ],
    ));
    assert_eq!(none["records"].as_array().unwrap().len(), 0);

    // export: both records as JSON Lines, oldest first.
    let export = dir.path().join("export.jsonl");
    stdout_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &["history", "export", export.to_str().unwrap()],
    ));
    let exported: Vec<Value> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported.len(), 2);
    assert_eq!(exported[0]["id"], report_id);

    // delete: gone, and show says so with exit code 1.
    stdout_of(voiceflow(
        &config,
        Some(PASSPHRASE),
        &["history", "delete", report_id],
    ));
    let gone = voiceflow(&config, Some(PASSPHRASE), &["history", "show", report_id]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no record"));
}

#[test]
fn the_passphrase_must_be_right_and_never_comes_from_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    stdout_of(voiceflow(&config, Some(PASSPHRASE), &["history", "list"]));
    let wrong = voiceflow(&config, Some("not it"), &["history", "list"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong key or passphrase"));
    // No passphrase anywhere and no terminal to ask on: refused, with the ways to give one.
    let missing = voiceflow(&config, None, &["history", "list"]);
    assert_eq!(missing.status.code(), Some(2));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(
        message.contains("--key-file") && message.contains(PASSPHRASE_ENV),
        "{message}"
    );
    // A key file works instead of the environment.
    let key = dir.path().join("key");
    std::fs::write(&key, format!("{PASSPHRASE}\n")).unwrap();
    stdout_of(voiceflow(
        &config,
        None,
        &["history", "list", "--key-file", key.to_str().unwrap()],
    ));
}

#[test]
fn a_bad_configuration_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("voiceflow.toml");
    std::fs::write(&config, "[ai_enhancement]\ndefault_contxt = \"email\"\n").unwrap();
    let out = voiceflow(&config, None, &["enhance", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("default_contxt"));
    std::fs::write(&config, "[ai_enhancement]\ndefault_context = \"poem\"\n").unwrap();
    let out = voiceflow(&config, None, &["enhance", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("poem"));
}

#[test]
fn enhance_finishes_text_from_arguments_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("none.toml");
    std::fs::write(&config, "").unwrap();
    let spoken = "open paren x comma y close paren";
    let out = stdout_of(voiceflow(
        &config,
        None,
        &["enhance", "--context", "code", spoken],
    ));
    let expected = RuleEnhancer
        .enhance(spoken, &EnhanceRequest::new(Context::Code))
        .unwrap();
    assert_eq!(out.trim_end(), expected.text);

    let mut child = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["enhance", "--context", "chat"])
        .env("VOICEFLOW_CONFIG", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"um so see you at five\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let chat = RuleEnhancer
        .enhance("um so see you at five", &EnhanceRequest::new(Context::Chat))
        .unwrap();
    assert_eq!(stdout_of(out).trim_end(), chat.text);
    let unknown = voiceflow(&config, None, &["enhance", "--context", "poem", "x"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn history_migrate_moves_a_sled_store_to_redb() {
    use voiceflow_core::store::{Backend, RecordData, Store, StoreConfig, StoreKey};
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let id = {
        let config = StoreConfig {
            backend: Backend::Sled,
            ..StoreConfig::default()
        };
        let store = Store::open(&old, StoreKey::passphrase(PASSPHRASE), config).unwrap();
        let data = RecordData {
            raw_text: "an utterance kept by an earlier version".into(),
            ..RecordData::default()
        };
        let id = store.put(&data).unwrap();
        store.flush().unwrap();
        id
    };
    let new = dir.path().join("new");
    let config = dir.path().join("none.toml");
    std::fs::write(&config, "").unwrap();
    let migrate = || {
        let (from, to) = (old.to_str().unwrap(), new.to_str().unwrap());
        voiceflow(
            &config,
            None,
            &["history", "migrate", "--from", from, "--to", to],
        )
    };
    let out = migrate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 record(s)"));
    let store = Store::open(
        &new,
        StoreKey::passphrase(PASSPHRASE),
        StoreConfig::default(),
    )
    .unwrap();
    assert_eq!(store.backend(), Backend::Redb);
    assert_eq!(
        store.get(&id).unwrap().data.raw_text,
        "an utterance kept by an earlier version"
    );
    // A second migration into the same, now full, folder is refused.
    let again = migrate();
    assert_eq!(again.status.code(), Some(2));
}
