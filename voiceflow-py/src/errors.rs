//! The one place where a `voiceflow_core::Error` becomes a Python exception.
//!
//! The exception classes live in `voiceflow/errors.py` (Python, so that they
//! can also derive from builtins such as `ValueError` and `OSError`); each is
//! imported the first time it is raised.

use pyo3::prelude::*;
use voiceflow_core::Error;

/// The Python classes of `voiceflow.errors`.
mod class {
    use pyo3::import_exception;

    import_exception!(voiceflow.errors, Error);
    import_exception!(voiceflow.errors, InvalidAudioError);
    import_exception!(voiceflow.errors, InvalidArgumentError);
    import_exception!(voiceflow.errors, ModelError);
    import_exception!(voiceflow.errors, RuntimeNotFoundError);
    import_exception!(voiceflow.errors, DeviceUnavailableError);
    import_exception!(voiceflow.errors, InferenceError);
    import_exception!(voiceflow.errors, ClosedError);
    import_exception!(voiceflow.errors, IoError);
    import_exception!(voiceflow.errors, QueueFullError);
    import_exception!(voiceflow.errors, OverloadedError);
    import_exception!(voiceflow.errors, RequestTimeoutError);
    import_exception!(voiceflow.errors, CancelledError);
    import_exception!(voiceflow.errors, BackendError);
    import_exception!(voiceflow.errors, WrongKeyError);
    import_exception!(voiceflow.errors, IntegrityError);
    import_exception!(voiceflow.errors, StoreFormatError);
    import_exception!(voiceflow.errors, RecordTooLargeError);
    import_exception!(voiceflow.errors, NotFoundError);
    import_exception!(voiceflow.errors, StorageError);
}

/// The Python exception for `error`, carrying its message followed by those
/// of its causes ([`voiceflow_core::error::chain`]). When the error has a
/// cause (ONNX Runtime's, sled's, ...), the exception's `__cause__` is a
/// `RuntimeError` with the cause's text; an I/O error's `OSError` carries its
/// cause as `errno` instead.
pub(crate) fn to_py_err(error: Error) -> PyErr {
    let message = voiceflow_core::error::chain(&error);
    let cause = match &error {
        Error::Io { .. } => None,
        _ => std::error::Error::source(&error).map(voiceflow_core::error::chain),
    };
    let exception = exception(error, message);
    if let Some(cause) = cause {
        Python::attach(|py| {
            exception.set_cause(py, Some(pyo3::exceptions::PyRuntimeError::new_err(cause)));
        });
    }
    exception
}

/// The exception of `error`'s class with `message`.
fn exception(error: Error, message: String) -> PyErr {
    match error {
        Error::InvalidAudio(_) | Error::InvalidAudioFile { .. } => {
            class::InvalidAudioError::new_err(message)
        }
        Error::InvalidArgument(_) | Error::InvalidOption { .. } => {
            class::InvalidArgumentError::new_err(message)
        }
        Error::ModelNotFound { .. }
        | Error::ModelMalformed { .. }
        | Error::ModelLacksFeature { .. } => class::ModelError::new_err(message),
        Error::RuntimeNotFound { .. } => class::RuntimeNotFoundError::new_err(message),
        Error::DeviceUnavailable { .. } => class::DeviceUnavailableError::new_err(message),
        Error::Inference { .. } => class::InferenceError::new_err(message),
        Error::Closed(_) => class::ClosedError::new_err(message),
        Error::Io { path, source } => io_error(message, &path, &source),
        Error::QueueFull { .. } => class::QueueFullError::new_err(message),
        Error::Timeout(_) => class::RequestTimeoutError::new_err(message),
        Error::Overloaded { .. } => class::OverloadedError::new_err(message),
        Error::Cancelled(_) => class::CancelledError::new_err(message),
        Error::Backend { .. } => class::BackendError::new_err(message),
        Error::WrongKey => class::WrongKeyError::new_err(message),
        Error::Integrity { .. } => class::IntegrityError::new_err(message),
        Error::StoreFormat { .. } => class::StoreFormatError::new_err(message),
        Error::RecordTooLarge { .. } => class::RecordTooLargeError::new_err(message),
        Error::NotFound(_) => class::NotFoundError::new_err(message),
        Error::Storage { .. } => class::StorageError::new_err(message),
        _ => class::Error::new_err(message),
    }
}

/// An `IoError` (an `OSError`) with `errno` and `filename` set when known.
fn io_error(message: String, path: &std::path::Path, source: &std::io::Error) -> PyErr {
    let Some(errno) = source.raw_os_error() else {
        return class::IoError::new_err(message);
    };
    Python::attach(|py| {
        let error = class::IoError::new_err((errno, message));
        let filename = error.value(py).setattr("filename", path.as_os_str());
        filename.err().unwrap_or(error)
    })
}
