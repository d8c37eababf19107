//! Python bindings for `voiceflow-core` (pyo3 + maturin). This crate holds
//! only type and error conversion; the bindings themselves arrive with the
//! bindings issue. For now it re-exports the version the module will report.

/// The version the Python module reports as `voiceflow.__version__`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    #[test]
    fn version_matches_core_workspace() {
        assert_eq!(super::VERSION, env!("CARGO_PKG_VERSION"));
    }
}
