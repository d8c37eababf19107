//! Models by name: `tiny.en` is the folder `whisper-tiny.en` of the per-user
//! models directory ([`models_dir`]).
//!
//! The names are those of the lock file that the Python package ships
//! (`voiceflow/ct2onnx/models.lock`: each model's pinned packages and their
//! sha256), read here when the crate is compiled. Its installer
//! (`voiceflow models install NAME`, `python -m voiceflow.models install
//! NAME`) writes the folders that [`resolve`] finds, so a model argument is
//! either a folder or a name, in Rust, C, Python and the CLI alike:
//!
//! ```no_run
//! use voiceflow_core::{Engine, EngineConfig};
//! // ~/.local/share/voiceflow/models/whisper-tiny.en, or $VOICEFLOW_MODELS/whisper-tiny.en
//! let engine = Engine::new(EngineConfig::new("tiny.en"))?;
//! # Ok::<(), voiceflow_core::Error>(())
//! ```

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// The lock file of the model packages (one tab-separated line per package:
/// name, kind, package==version, sha256, path inside the wheel).
const LOCK: &str = include_str!("../../../voiceflow-py/python/voiceflow/ct2onnx/models.lock");

/// The environment variable that names the models directory (before XDG's).
pub const MODELS_ENV: &str = "VOICEFLOW_MODELS";

/// What a known model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// A Whisper model: an engine's model (installed as `whisper-NAME`).
    Whisper,
    /// A voice activity detector (installed as `NAME`, beside the Whisper
    /// models, where streams look for it).
    Vad,
}

/// A model that can be installed by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// Its name, as `voiceflow models install` takes it (`tiny.en`).
    pub name: &'static str,
    /// What it is for.
    pub kind: ModelKind,
}

impl KnownModel {
    /// Its folder's name in the models directory: `whisper-tiny.en`, or
    /// `silero-vad` for the VAD.
    pub fn folder(&self) -> String {
        match self.kind {
            ModelKind::Whisper => whisper_folder(self.name),
            ModelKind::Vad => self.name.to_string(),
        }
    }
}

fn whisper_folder(name: &str) -> String {
    format!("whisper-{name}")
}

/// Every model of the lock, once each, in the lock's order.
pub fn known() -> Vec<KnownModel> {
    let mut models: Vec<KnownModel> = Vec::new();
    for line in LOCK.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        let (Some(name), Some(kind)) = (fields.next(), fields.next()) else {
            continue;
        };
        let kind = match kind {
            "whisper" => ModelKind::Whisper,
            "vad" => ModelKind::Vad,
            _ => continue,
        };
        if !models.iter().any(|m| m.name == name) {
            models.push(KnownModel { name, kind });
        }
    }
    models
}

/// The known model called `name`, if any.
pub fn find(name: &str) -> Option<KnownModel> {
    known().into_iter().find(|m| m.name == name)
}

/// The models directory: `$VOICEFLOW_MODELS`, else
/// `$XDG_DATA_HOME/voiceflow/models`, else `~/.local/share/voiceflow/models`
/// (empty variables and a relative `XDG_DATA_HOME` count as unset); `None`
/// when neither these nor `HOME` are set.
pub fn models_dir() -> Option<PathBuf> {
    models_dir_in(&|key| std::env::var_os(key))
}

/// [`models_dir`] with the environment `env`.
fn models_dir_in(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var(MODELS_ENV) {
        return Some(dir);
    }
    let data = var("XDG_DATA_HOME")
        .filter(|d| d.is_absolute())
        .or_else(|| var("HOME").map(|home| home.join(".local/share")))?;
    Some(data.join("voiceflow/models"))
}

/// How to install the model `name`, as an error message ends.
pub fn install_hint(name: &str) -> String {
    format!(
        "install it with `voiceflow models install {name}`, or from Python with \
         `pip install 'voiceflow[convert]'` and `python -m voiceflow.models install {name}`"
    )
}

/// Where the model argument `model` is: the folder itself when it exists;
/// else, for a plain name (one path component, such as `tiny.en`), the folder
/// `whisper-NAME` of the models directory when it exists; else `model`
/// unchanged when it is a path (the engine then reports the missing folder).
///
/// Errors ([`Error::ModelNotFound`]): a known name that is not installed
/// (the message says how to install it); a name that is neither a folder
/// nor a known Whisper model (the message lists the known ones).
pub fn resolve(model: &Path) -> Result<PathBuf> {
    resolve_in(model, models_dir().as_deref())
}

/// [`resolve`] with the models directory `dir`.
fn resolve_in(model: &Path, dir: Option<&Path>) -> Result<PathBuf> {
    let name = match model.components().collect::<Vec<_>>().as_slice() {
        [Component::Normal(name)] if !model.exists() => name.to_string_lossy().into_owned(),
        _ => return Ok(model.to_path_buf()),
    };
    let installed = dir.map(|d| d.join(whisper_folder(&name)));
    if let Some(folder) = installed.as_ref().filter(|f| f.is_dir()) {
        return Ok(folder.clone());
    }
    let whisper: Vec<&str> = known()
        .into_iter()
        .filter(|m| m.kind == ModelKind::Whisper)
        .map(|m| m.name)
        .collect();
    let known_model = find(&name);
    let reason = match known_model.map(|m| m.kind) {
        Some(ModelKind::Whisper) => match dir {
            Some(_) => format!("the model {name} is not installed; {}", install_hint(&name)),
            None => format!(
                "the model {name} is not installed and there is no models directory \
                 (set ${MODELS_ENV} or HOME); {}",
                install_hint(&name)
            ),
        },
        Some(ModelKind::Vad) => format!(
            "{name} is not a Whisper model; the Whisper models are {}",
            whisper.join(", ")
        ),
        None => format!(
            "no such folder, and not a model name (the models are {}: `voiceflow models list`)",
            whisper.join(", ")
        ),
    };
    let path = match (known_model, installed) {
        (Some(_), Some(installed)) => installed,
        _ => model.to_path_buf(),
    };
    Err(Error::ModelNotFound { path, reason })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn dir_of(vars: &[(&str, &str)]) -> Option<PathBuf> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        models_dir_in(&|key| vars.get(key).map(OsString::from))
    }

    fn not_found(result: Result<PathBuf>) -> (PathBuf, String) {
        match result {
            Err(Error::ModelNotFound { path, reason }) => (path, reason),
            other => panic!("expected ModelNotFound, got {other:?}"),
        }
    }

    #[test]
    fn the_lock_names_the_whisper_models_and_the_vad() {
        let names: Vec<_> = known().iter().map(|m| (m.name, m.folder())).collect();
        assert!(
            names.contains(&("tiny.en", "whisper-tiny.en".into())),
            "{names:?}"
        );
        assert!(
            names.contains(&("base", "whisper-base".into())),
            "{names:?}"
        );
        assert!(
            names.contains(&("silero-vad", "silero-vad".into())),
            "{names:?}"
        );
        // base comes in two packages but is one model.
        assert_eq!(names.iter().filter(|(n, _)| *n == "base").count(), 1);
    }

    #[test]
    fn voiceflow_models_wins_over_xdg_which_wins_over_home() {
        let all = [
            (MODELS_ENV, "/m"),
            ("XDG_DATA_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(dir_of(&all), Some(PathBuf::from("/m")));
        assert_eq!(
            dir_of(&all[1..]),
            Some(PathBuf::from("/xdg/voiceflow/models"))
        );
        assert_eq!(
            dir_of(&all[2..]),
            Some(PathBuf::from("/home/u/.local/share/voiceflow/models"))
        );
        // Empty variables and a relative XDG_DATA_HOME are ignored.
        assert_eq!(
            dir_of(&[(MODELS_ENV, ""), ("XDG_DATA_HOME", "rel"), ("HOME", "/h")]),
            Some(PathBuf::from("/h/.local/share/voiceflow/models"))
        );
        assert_eq!(dir_of(&[]), None);
    }

    #[test]
    fn a_name_resolves_to_its_installed_folder() {
        let models = tempfile::tempdir().unwrap();
        let folder = models.path().join("whisper-tiny.en");
        std::fs::create_dir(&folder).unwrap();
        assert_eq!(
            resolve_in(Path::new("tiny.en"), Some(models.path())).unwrap(),
            folder
        );
        // Any folder whisper-NAME there is found by NAME (`voiceflow models convert CT2 NAME`).
        let mine = models.path().join("whisper-mine");
        std::fs::create_dir(&mine).unwrap();
        assert_eq!(
            resolve_in(Path::new("mine"), Some(models.path())).unwrap(),
            mine
        );
    }

    #[test]
    fn an_existing_folder_wins_over_a_name() {
        // The tests run in the crate's folder, which has `src`.
        let models = tempfile::tempdir().unwrap();
        std::fs::create_dir(models.path().join("whisper-src")).unwrap();
        assert_eq!(
            resolve_in(Path::new("src"), Some(models.path())).unwrap(),
            Path::new("src")
        );
    }

    #[test]
    fn a_known_name_not_installed_says_how_to_install_it() {
        let models = tempfile::tempdir().unwrap();
        let (path, reason) = not_found(resolve_in(Path::new("base"), Some(models.path())));
        assert_eq!(path, models.path().join("whisper-base"));
        assert!(reason.contains("not installed"), "{reason}");
        assert!(
            reason.contains("`voiceflow models install base`"),
            "{reason}"
        );
        assert!(reason.contains("python -m voiceflow.models install base"));
        assert!(reason.contains("pip install 'voiceflow[convert]'"));
        let (_, reason) = not_found(resolve_in(Path::new("base"), None));
        assert!(reason.contains(MODELS_ENV), "{reason}");
    }

    #[test]
    fn an_unknown_name_lists_the_models_and_a_missing_path_is_left_to_the_engine() {
        let models = tempfile::tempdir().unwrap();
        let (path, reason) = not_found(resolve_in(Path::new("huge.v9"), Some(models.path())));
        assert_eq!(path, PathBuf::from("huge.v9"));
        assert!(reason.contains("not a model name"), "{reason}");
        assert!(reason.contains("tiny.en, base"), "{reason}");
        let (_, reason) = not_found(resolve_in(Path::new("silero-vad"), Some(models.path())));
        assert!(reason.contains("not a Whisper model"), "{reason}");
        // A path with several components is never a name.
        let missing = models.path().join("nope");
        assert_eq!(resolve_in(&missing, Some(models.path())).unwrap(), missing);
        let relative = Path::new("models/whisper-tiny.en-absent");
        assert_eq!(resolve_in(relative, Some(models.path())).unwrap(), relative);
    }
}
