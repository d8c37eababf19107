//! Where `scripts/setup.sh audio-fixtures` put the speech fixtures converted
//! to other formats (shared by the root package's tests and voiceflow-core's
//! through `#[path]`).

use std::path::{Path, PathBuf};

/// `name` (a fixture without `.wav`) converted to `format` (flac, mp3, ogg,
/// m4a): from `$VOICEFLOW_AUDIO_FIXTURES`, else `$VOICEFLOW_CACHE/audio-fixtures`,
/// else `<repo>/.cache/audio-fixtures`; a missing file fails the test, naming
/// the setup step.
pub fn converted_in(repo: &Path, name: &str, format: &str) -> PathBuf {
    let dir = std::env::var_os("VOICEFLOW_AUDIO_FIXTURES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("VOICEFLOW_CACHE").map(|c| PathBuf::from(c).join("audio-fixtures"))
        })
        .unwrap_or_else(|| repo.join(".cache/audio-fixtures"));
    let path = dir.join(format!("{name}.{format}"));
    assert!(
        path.is_file(),
        "no {} (run `scripts/setup.sh audio-fixtures`, which `make test` does through \
         setup-test, or set VOICEFLOW_AUDIO_FIXTURES)",
        path.display()
    );
    path
}
