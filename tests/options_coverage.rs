//! Every transcription option of the core is reachable from every binding:
//! each field of `TranscribeOptions` (and of the VAD filter's `VadOptions`,
//! as `vad_*`) must be a field of C's `VfTranscribeOptions` in
//! `include/voiceflow.h`, a keyword of `Engine.transcribe` in the Python
//! stubs (`voiceflow-py/python/voiceflow/_native.pyi`) and a flag of
//! `voiceflow transcribe --help`, by the same name (kebab-case for the CLI).
//! A field added to the core stops this file from compiling until it is
//! listed here, and then fails the test until every binding has it.

use std::path::Path;
use std::process::Command;

use voiceflow_core::vad::VadOptions;
use voiceflow_core::TranscribeOptions;

/// The names of all fields of `$ty`, checked by the compiler: the
/// destructuring has no `..`, so a field missing from the list (or one
/// that is not a field) is an error.
macro_rules! field_names {
    ($ty:ident { $($field:ident),* $(,)? }) => {{
        let $ty { $($field: _),* } = $ty::default();
        vec![$(stringify!($field)),*]
    }};
}

/// Every option name as the bindings spell it (snake_case): the core's
/// fields, with the VAD filter's own options as `vad_<field>` beside
/// `vad_filter`.
fn option_names() -> Vec<String> {
    let core = field_names!(TranscribeOptions {
        language,
        task,
        beam_size,
        patience,
        best_of,
        temperatures,
        compression_ratio_threshold,
        logprob_threshold,
        no_speech_threshold,
        unreliable_no_speech_threshold,
        condition_on_previous_text,
        initial_prompt,
        timestamps,
        word_timestamps,
        seed,
        timeout,
        vad_filter,
        short_windows,
    });
    let vad = field_names!(VadOptions {
        model,
        threshold,
        neg_threshold,
        min_speech_duration_ms,
        min_silence_duration_ms,
        speech_pad_ms,
        max_speech_duration_s,
        min_silence_at_max_speech_ms,
    });
    core.into_iter()
        .map(str::to_string)
        .chain(vad.into_iter().map(|field| format!("vad_{field}")))
        .collect()
}

fn read(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `source` from the line containing `start` to the next line
/// containing `end`.
fn block<'a>(source: &'a str, start: &str, end: &str) -> &'a str {
    let from = source.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    let rest = &source[from..];
    let to = rest
        .find(end)
        .unwrap_or_else(|| panic!("no {end:?} after {start:?}"));
    &rest[..to]
}

/// Where the option `name` is missing: the C struct's text, the Python
/// signature's and the CLI's help.
fn lacking(name: &str, c_struct: &str, python: &str, help: &str) -> Vec<String> {
    let mut missing = Vec::new();
    // C counts time in milliseconds, as its name says.
    let c_name = if name == "timeout" {
        "timeout_ms"
    } else {
        name
    };
    // A field is `type name;`, or `type *name;` for a pointer.
    let declared = |sep: &str| c_struct.contains(&format!("{sep}{c_name};"));
    if !declared(" ") && !declared("*") {
        missing.push(format!("C: VfTranscribeOptions.{c_name}"));
    }
    if !python.contains(&format!("        {name}: ")) {
        missing.push(format!("Python: Engine.transcribe({name}=...)"));
    }
    let flag = format!("--{}", name.replace('_', "-"));
    if !help.split([' ', '\n', ',']).any(|word| word == flag) {
        missing.push(format!("CLI: voiceflow transcribe {flag}"));
    }
    missing
}

#[test]
fn every_core_option_is_in_c_python_and_the_cli() {
    let header = read("include/voiceflow.h");
    let c_struct = block(
        &header,
        "typedef struct VfTranscribeOptions {",
        "} VfTranscribeOptions;",
    );
    let stubs = read("voiceflow-py/python/voiceflow/_native.pyi");
    let python = block(&stubs, "    def transcribe(", ") -> Transcript:");
    let help = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["transcribe", "--help"])
        .output()
        .expect("voiceflow transcribe --help runs");
    assert!(help.status.success(), "{help:?}");
    let help = String::from_utf8(help.stdout).unwrap();

    let missing: Vec<String> = option_names()
        .iter()
        .flat_map(|name| lacking(name, c_struct, python, &help))
        .collect();
    assert!(
        missing.is_empty(),
        "options of the core that a binding lacks:\n{}",
        missing.join("\n")
    );
}

#[test]
fn an_option_a_binding_lacks_is_reported_for_that_binding() {
    let c_struct =
        "typedef struct VfTranscribeOptions {\n  const char *language;\n  uint64_t timeout_ms;\n  uint64_t seeds;\n";
    let python =
        "    def transcribe(\n        timeout: float | None = None,\n        seed: int = 0,\n";
    let help = "      --timeout <TIMEOUT>\n      --seeds <SEEDS>\n";
    assert!(lacking("timeout", c_struct, python, help).is_empty());
    assert_eq!(
        lacking("language", c_struct, python, help),
        [
            "Python: Engine.transcribe(language=...)",
            "CLI: voiceflow transcribe --language"
        ]
    );
    assert_eq!(
        lacking("seed", c_struct, python, help),
        [
            "C: VfTranscribeOptions.seed",
            "CLI: voiceflow transcribe --seed"
        ]
    );
}
