//! The process-wide ONNX Runtime environment.
//!
//! ONNX Runtime allows one environment per process, and `ort` loads the shared
//! library once. This module finds the library, loads it, builds the
//! environment on first use and hands out the same environment afterwards.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::{Error, Result};

/// File name of the ONNX Runtime shared library on this platform.
const LIBRARY_NAME: &str = if cfg!(target_os = "windows") {
    "onnxruntime.dll"
} else if cfg!(target_os = "macos") {
    "libonnxruntime.dylib"
} else {
    "libonnxruntime.so"
};

/// Environment variable holding the library's path (the name `ort` uses).
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";
/// Environment variable naming a folder that holds the library.
pub const VOICEFLOW_RUNTIME_DIR: &str = "VOICEFLOW_RUNTIME_DIR";

/// The environment and the library it was loaded from.
static ENVIRONMENT: OnceLock<(Environment, PathBuf)> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Returns the process-wide environment, loading ONNX Runtime on first use.
///
/// `configured` (from [`crate::config::EngineConfig::runtime_library`]) is
/// authoritative: when given, it must exist, and it must be the library
/// already loaded if one was (a process holds one ONNX Runtime). Without it
/// the library is looked for, in order, at
/// `ORT_DYLIB_PATH`, in `VOICEFLOW_RUNTIME_DIR`, in `runtime/` of the current
/// folder and its ancestors, and in `runtime/` of the executable's ancestors.
pub(crate) fn environment(configured: Option<&Path>) -> Result<&'static Environment> {
    if let Some(path) = configured {
        if !path.is_file() {
            return Err(Error::RuntimeNotFound {
                searched: vec![path.to_path_buf()],
                reason: "the configured runtime library does not exist".to_string(),
                source: None,
            });
        }
    }
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((env, loaded)) = ENVIRONMENT.get() {
        return match configured {
            Some(path) if !same_file(path, loaded) => Err(Error::RuntimeNotFound {
                searched: vec![path.to_path_buf()],
                reason: format!(
                    "this process already runs ONNX Runtime from {}; a process can load only one",
                    loaded.display()
                ),
                source: None,
            }),
            _ => Ok(env),
        };
    }
    let searched = candidates(configured);
    let Some(library) = searched.iter().find(|p| p.is_file()).cloned() else {
        return Err(Error::RuntimeNotFound {
            searched,
            reason: format!(
                "no {LIBRARY_NAME} found; run `scripts/setup.sh runtime` or set {ORT_DYLIB_PATH}"
            ),
            source: None,
        });
    };
    let not_loadable = |reason: String, source: crate::error::Source| Error::RuntimeNotFound {
        searched: searched.clone(),
        reason,
        source: Some(source),
    };
    let env = ort::init_from(&library)
        .map_err(|e| not_loadable(format!("cannot load {}", library.display()), e.into()))?
        .with_name("voiceflow")
        .with_telemetry(false)
        .build()
        .map_err(|e| {
            let reason = format!("{} cannot build an environment", library.display());
            not_loadable(reason, e.into())
        })?;
    Ok(&ENVIRONMENT.get_or_init(|| (env, library)).0)
}

/// Whether two paths name the same file (after following links).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Every place the library may be, in the order they are tried.
fn candidates(configured: Option<&Path>) -> Vec<PathBuf> {
    if let Some(path) = configured {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Some(path) = std::env::var_os(ORT_DYLIB_PATH).filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(path));
    }
    if let Some(dir) = std::env::var_os(VOICEFLOW_RUNTIME_DIR).filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(dir).join(LIBRARY_NAME));
    }
    let in_runtime_dirs = |start: &Path| {
        start
            .ancestors()
            .map(|dir| dir.join("runtime").join(LIBRARY_NAME))
            .collect::<Vec<_>>()
    };
    if let Ok(cwd) = std::env::current_dir() {
        out.extend(in_runtime_dirs(&cwd));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        out.extend(in_runtime_dirs(&exe_dir));
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_path_that_does_not_exist_is_reported_with_that_path() {
        let missing = Path::new("/nonexistent/voiceflow/libonnxruntime.so");
        match environment(Some(missing)) {
            Err(Error::RuntimeNotFound {
                searched, reason, ..
            }) => {
                assert_eq!(searched, vec![missing.to_path_buf()]);
                assert!(reason.contains("does not exist"), "{reason}");
            }
            other => panic!("expected RuntimeNotFound, got {other:?}"),
        }
    }

    #[test]
    fn the_search_covers_the_runtime_folders_above_the_current_folder() {
        let list = candidates(None);
        let cwd = std::env::current_dir().unwrap();
        assert!(list.contains(&cwd.join("runtime").join(LIBRARY_NAME)));
        if let Some(parent) = cwd.parent() {
            assert!(list.contains(&parent.join("runtime").join(LIBRARY_NAME)));
        }
    }
}
