//! Locating the files of a converted model folder (Optimum layout).

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The encoder graph.
pub const ENCODER: &str = "encoder_model.onnx";
/// The merged decoder (both branches in one graph, selected by `use_cache_branch`).
pub const DECODER_MERGED: &str = "decoder_model_merged.onnx";
/// The decoder without past (first call of a window).
pub const DECODER: &str = "decoder_model.onnx";
/// The decoder with past (every later call).
pub const DECODER_WITH_PAST: &str = "decoder_with_past_model.onnx";
/// The Hugging Face tokenizer.
pub const TOKENIZER: &str = "tokenizer.json";
/// The Hugging Face model configuration.
pub const CONFIG: &str = "config.json";
/// The Hugging Face generation configuration (optional).
pub const GENERATION_CONFIG: &str = "generation_config.json";

/// Where a model folder given on the command line is: `dir` itself when it
/// exists or is absolute, otherwise `dir` under the first ancestor of the
/// running executable that has it (a project checkout's `models/`), otherwise
/// `dir` unchanged (so that the error names the path the user gave).
pub fn resolve_model_dir(dir: &Path) -> PathBuf {
    if dir.is_absolute() || dir.exists() {
        return dir.to_path_buf();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .skip(1)
                .map(|a| a.join(dir))
                .find(|candidate| candidate.is_dir())
        })
        .unwrap_or_else(|| dir.to_path_buf())
}

/// Which decoder graphs a model folder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecoderFiles {
    /// `decoder_model_merged.onnx`, preferred when present.
    Merged(PathBuf),
    /// `decoder_model.onnx` and `decoder_with_past_model.onnx`.
    Split {
        /// The decoder without past.
        first: PathBuf,
        /// The decoder with past.
        with_past: PathBuf,
    },
}

/// The files of one model folder, all known to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    /// The folder.
    pub dir: PathBuf,
    /// The encoder graph.
    pub encoder: PathBuf,
    /// The decoder graph(s).
    pub decoder: DecoderFiles,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// `config.json`.
    pub config: PathBuf,
    /// `generation_config.json`, when the folder has one.
    pub generation_config: Option<PathBuf>,
}

impl ModelFiles {
    /// Checks that `dir` is a model folder and names the first file missing.
    pub fn locate(dir: &Path) -> Result<Self> {
        if !dir.exists() {
            return Err(Error::ModelNotFound {
                path: dir.to_path_buf(),
                reason: "the model folder does not exist (a model is a folder, or a name such \
                         as tiny.en that `voiceflow models install` installed)"
                    .into(),
            });
        }
        if !dir.is_dir() {
            return Err(Error::ModelNotFound {
                path: dir.to_path_buf(),
                reason: "not a folder".into(),
            });
        }
        let required = |name: &str, what: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(Error::ModelNotFound {
                    path,
                    reason: format!("the model folder has no {what} ({name})"),
                })
            }
        };
        let encoder = required(ENCODER, "encoder")?;
        let merged = dir.join(DECODER_MERGED);
        let decoder = if merged.is_file() {
            DecoderFiles::Merged(merged)
        } else {
            let what = format!("decoder ({DECODER_MERGED}, or {DECODER} with");
            DecoderFiles::Split {
                first: required(DECODER, &format!("{what} {DECODER_WITH_PAST})"))?,
                with_past: required(DECODER_WITH_PAST, &format!("{what} {DECODER})"))?,
            }
        };
        let generation = dir.join(GENERATION_CONFIG);
        Ok(ModelFiles {
            dir: dir.to_path_buf(),
            encoder,
            decoder,
            tokenizer: required(TOKENIZER, "tokenizer")?,
            config: required(CONFIG, "model configuration")?,
            generation_config: generation.is_file().then_some(generation),
        })
    }

    /// The folder's name, used as the model's name (for example `whisper-tiny.en`).
    pub fn name(&self) -> String {
        self.dir
            .canonicalize()
            .unwrap_or_else(|_| self.dir.clone())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.dir.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, names: &[&str]) {
        for n in names {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
    }

    fn not_found_path(result: Result<ModelFiles>) -> PathBuf {
        match result {
            Err(Error::ModelNotFound { path, .. }) => path,
            other => panic!("expected ModelNotFound, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_folder_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert_eq!(not_found_path(ModelFiles::locate(&missing)), missing);
    }

    #[test]
    fn each_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(not_found_path(ModelFiles::locate(d)), d.join(ENCODER));
        touch(d, &[ENCODER]);
        assert_eq!(not_found_path(ModelFiles::locate(d)), d.join(DECODER));
        touch(d, &[DECODER]);
        assert_eq!(
            not_found_path(ModelFiles::locate(d)),
            d.join(DECODER_WITH_PAST)
        );
        touch(d, &[DECODER_WITH_PAST]);
        assert_eq!(not_found_path(ModelFiles::locate(d)), d.join(TOKENIZER));
        touch(d, &[TOKENIZER]);
        assert_eq!(not_found_path(ModelFiles::locate(d)), d.join(CONFIG));
        touch(d, &[CONFIG]);
        let files = ModelFiles::locate(d).unwrap();
        assert!(matches!(files.decoder, DecoderFiles::Split { .. }));
        assert_eq!(files.generation_config, None);
    }

    #[test]
    fn the_merged_decoder_is_preferred() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(
            d,
            &[
                ENCODER,
                DECODER,
                DECODER_WITH_PAST,
                DECODER_MERGED,
                TOKENIZER,
                CONFIG,
                GENERATION_CONFIG,
            ],
        );
        let files = ModelFiles::locate(d).unwrap();
        assert_eq!(files.decoder, DecoderFiles::Merged(d.join(DECODER_MERGED)));
        assert_eq!(files.generation_config, Some(d.join(GENERATION_CONFIG)));
    }
}
