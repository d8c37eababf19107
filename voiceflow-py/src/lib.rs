//! Python bindings for `voiceflow-core` (pyo3, built with maturin): the
//! native module `voiceflow._native`, re-exported by the `voiceflow`
//! package (`voiceflow-py/python/voiceflow/`). This crate holds only type
//! and error conversion; every call goes to the public API of
//! `voiceflow-core`, with the GIL released while it works.

use pyo3::prelude::*;

mod audio;
mod engine;
mod enhance;
mod errors;
mod store;
mod stream;
mod transcript;

/// The native part of the `voiceflow` package; import `voiceflow` instead.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<engine::Engine>()?;
    m.add_function(wrap_pyfunction!(engine::models_dir, m)?)?;
    m.add_class::<transcript::Transcript>()?;
    m.add_class::<transcript::Segment>()?;
    m.add_class::<transcript::Word>()?;
    m.add_class::<transcript::Timings>()?;
    m.add_class::<transcript::Progress>()?;
    m.add_class::<transcript::ModelInfo>()?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<stream::Partial>()?;
    m.add_class::<store::Store>()?;
    m.add_class::<store::Record>()?;
    m.add_class::<enhance::Enhancer>()?;
    m.add_class::<enhance::Enhanced>()?;
    m.add_class::<enhance::Edit>()?;
    Ok(())
}
