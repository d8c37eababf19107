//! Status codes: what every C function returns, and the one mapping from
//! [`voiceflow_core::Error`] to a code.

use std::ffi::{c_char, c_int};

use voiceflow_core::Error;

/// What a VoiceFlow C function returns: `VF_OK` (0) on success, otherwise
/// the kind of failure. The message of the last failure on the calling
/// thread is in `vf_last_error_message()`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfStatus {
    /// Success.
    VF_OK = 0,
    /// A required pointer argument was NULL.
    VF_ERROR_NULL_POINTER = 1,
    /// A string argument is not valid UTF-8.
    VF_ERROR_INVALID_UTF8 = 2,
    /// The library panicked (a bug); the call had no effect the caller can rely on.
    VF_ERROR_PANIC = 3,
    /// The audio cannot be transcribed (no samples, NaN or infinite samples,
    /// a length that is not a multiple of the channel count, too long).
    VF_ERROR_INVALID_AUDIO = 10,
    /// The audio file or bytes (WAV, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC) are
    /// not a supported format, are corrupt, or have a header whose fields
    /// contradict each other. The name is older than the other formats.
    VF_ERROR_INVALID_WAV = 11,
    /// An argument or option is out of range (sample rate 0, beam size 0,
    /// unknown language, index past the end, key of the wrong length, ...).
    VF_ERROR_INVALID_ARGUMENT = 12,
    /// The model folder or one of its files does not exist.
    VF_ERROR_MODEL_NOT_FOUND = 20,
    /// A model file exists but cannot be used.
    VF_ERROR_MODEL_MALFORMED = 21,
    /// The ONNX Runtime library could not be found or loaded.
    VF_ERROR_RUNTIME_NOT_FOUND = 30,
    /// ONNX Runtime failed while running the model.
    VF_ERROR_INFERENCE = 31,
    /// The engine or enhancer was closed and takes no more work.
    VF_ERROR_CLOSED = 32,
    /// An I/O operation failed (missing file, permissions, folder in use).
    VF_ERROR_IO = 33,
    /// The device `VfEngineOptions::device` insists on (`"cuda"`) cannot
    /// run the model; the message says why.
    VF_ERROR_DEVICE_UNAVAILABLE = 34,
    /// The enhancer's queue is full; the request was not accepted.
    VF_ERROR_QUEUE_FULL = 40,
    /// The request did not complete within its timeout.
    VF_ERROR_TIMEOUT = 41,
    /// The request was accepted but cancelled before it ran.
    VF_ERROR_CANCELLED = 42,
    /// An enhancement backend failed.
    VF_ERROR_BACKEND = 43,
    /// The engine runs and queues as many transcriptions as it is configured
    /// for; the request was not accepted (retry later).
    VF_ERROR_OVERLOADED = 44,
    /// The key or passphrase does not open this store.
    VF_ERROR_WRONG_KEY = 50,
    /// A stored record failed authentication (altered bytes).
    VF_ERROR_INTEGRITY = 51,
    /// The path is not a VoiceFlow store, or its format is not readable.
    VF_ERROR_STORE_FORMAT = 52,
    /// A record exceeds the store's size limit.
    VF_ERROR_RECORD_TOO_LARGE = 53,
    /// No record has this id.
    VF_ERROR_NOT_FOUND = 54,
    /// The storage engine reported an error.
    VF_ERROR_STORAGE = 55,
    /// An error this version of the C API does not know.
    VF_ERROR_UNKNOWN = 99,
}

impl VfStatus {
    /// Every status, for turning a C `int` back into a status.
    const ALL: [VfStatus; 26] = [
        VfStatus::VF_OK,
        VfStatus::VF_ERROR_NULL_POINTER,
        VfStatus::VF_ERROR_INVALID_UTF8,
        VfStatus::VF_ERROR_PANIC,
        VfStatus::VF_ERROR_INVALID_AUDIO,
        VfStatus::VF_ERROR_INVALID_WAV,
        VfStatus::VF_ERROR_INVALID_ARGUMENT,
        VfStatus::VF_ERROR_MODEL_NOT_FOUND,
        VfStatus::VF_ERROR_MODEL_MALFORMED,
        VfStatus::VF_ERROR_RUNTIME_NOT_FOUND,
        VfStatus::VF_ERROR_INFERENCE,
        VfStatus::VF_ERROR_DEVICE_UNAVAILABLE,
        VfStatus::VF_ERROR_CLOSED,
        VfStatus::VF_ERROR_IO,
        VfStatus::VF_ERROR_QUEUE_FULL,
        VfStatus::VF_ERROR_TIMEOUT,
        VfStatus::VF_ERROR_CANCELLED,
        VfStatus::VF_ERROR_BACKEND,
        VfStatus::VF_ERROR_OVERLOADED,
        VfStatus::VF_ERROR_WRONG_KEY,
        VfStatus::VF_ERROR_INTEGRITY,
        VfStatus::VF_ERROR_STORE_FORMAT,
        VfStatus::VF_ERROR_RECORD_TOO_LARGE,
        VfStatus::VF_ERROR_NOT_FOUND,
        VfStatus::VF_ERROR_STORAGE,
        VfStatus::VF_ERROR_UNKNOWN,
    ];

    /// The status's name as a NUL-terminated string (`"VF_ERROR_NOT_FOUND\0"`).
    fn name(self) -> &'static str {
        match self {
            VfStatus::VF_OK => "VF_OK\0",
            VfStatus::VF_ERROR_NULL_POINTER => "VF_ERROR_NULL_POINTER\0",
            VfStatus::VF_ERROR_INVALID_UTF8 => "VF_ERROR_INVALID_UTF8\0",
            VfStatus::VF_ERROR_PANIC => "VF_ERROR_PANIC\0",
            VfStatus::VF_ERROR_INVALID_AUDIO => "VF_ERROR_INVALID_AUDIO\0",
            VfStatus::VF_ERROR_INVALID_WAV => "VF_ERROR_INVALID_WAV\0",
            VfStatus::VF_ERROR_INVALID_ARGUMENT => "VF_ERROR_INVALID_ARGUMENT\0",
            VfStatus::VF_ERROR_MODEL_NOT_FOUND => "VF_ERROR_MODEL_NOT_FOUND\0",
            VfStatus::VF_ERROR_MODEL_MALFORMED => "VF_ERROR_MODEL_MALFORMED\0",
            VfStatus::VF_ERROR_RUNTIME_NOT_FOUND => "VF_ERROR_RUNTIME_NOT_FOUND\0",
            VfStatus::VF_ERROR_INFERENCE => "VF_ERROR_INFERENCE\0",
            VfStatus::VF_ERROR_DEVICE_UNAVAILABLE => "VF_ERROR_DEVICE_UNAVAILABLE\0",
            VfStatus::VF_ERROR_CLOSED => "VF_ERROR_CLOSED\0",
            VfStatus::VF_ERROR_IO => "VF_ERROR_IO\0",
            VfStatus::VF_ERROR_QUEUE_FULL => "VF_ERROR_QUEUE_FULL\0",
            VfStatus::VF_ERROR_TIMEOUT => "VF_ERROR_TIMEOUT\0",
            VfStatus::VF_ERROR_CANCELLED => "VF_ERROR_CANCELLED\0",
            VfStatus::VF_ERROR_BACKEND => "VF_ERROR_BACKEND\0",
            VfStatus::VF_ERROR_OVERLOADED => "VF_ERROR_OVERLOADED\0",
            VfStatus::VF_ERROR_WRONG_KEY => "VF_ERROR_WRONG_KEY\0",
            VfStatus::VF_ERROR_INTEGRITY => "VF_ERROR_INTEGRITY\0",
            VfStatus::VF_ERROR_STORE_FORMAT => "VF_ERROR_STORE_FORMAT\0",
            VfStatus::VF_ERROR_RECORD_TOO_LARGE => "VF_ERROR_RECORD_TOO_LARGE\0",
            VfStatus::VF_ERROR_NOT_FOUND => "VF_ERROR_NOT_FOUND\0",
            VfStatus::VF_ERROR_STORAGE => "VF_ERROR_STORAGE\0",
            VfStatus::VF_ERROR_UNKNOWN => "VF_ERROR_UNKNOWN\0",
        }
    }
}

/// The status for a core error: one code per variant, `VF_ERROR_UNKNOWN`
/// for variants added to the core after this list.
pub(crate) fn status_of(error: &Error) -> VfStatus {
    match error {
        Error::InvalidAudio(_) => VfStatus::VF_ERROR_INVALID_AUDIO,
        Error::InvalidAudioFile { .. } => VfStatus::VF_ERROR_INVALID_WAV,
        Error::InvalidArgument(_) | Error::InvalidOption { .. } => {
            VfStatus::VF_ERROR_INVALID_ARGUMENT
        }
        Error::ModelNotFound { .. } => VfStatus::VF_ERROR_MODEL_NOT_FOUND,
        // A model that lacks what an option needs (word timestamps from a
        // model converted before them): its files are not what the call needs.
        Error::ModelMalformed { .. } | Error::ModelLacksFeature { .. } => {
            VfStatus::VF_ERROR_MODEL_MALFORMED
        }
        Error::RuntimeNotFound { .. } => VfStatus::VF_ERROR_RUNTIME_NOT_FOUND,
        Error::Inference { .. } => VfStatus::VF_ERROR_INFERENCE,
        Error::DeviceUnavailable { .. } => VfStatus::VF_ERROR_DEVICE_UNAVAILABLE,
        Error::Closed(_) => VfStatus::VF_ERROR_CLOSED,
        Error::Io { .. } => VfStatus::VF_ERROR_IO,
        Error::QueueFull { .. } => VfStatus::VF_ERROR_QUEUE_FULL,
        Error::Timeout(_) => VfStatus::VF_ERROR_TIMEOUT,
        Error::Overloaded { .. } => VfStatus::VF_ERROR_OVERLOADED,
        Error::Cancelled(_) => VfStatus::VF_ERROR_CANCELLED,
        Error::Backend { .. } => VfStatus::VF_ERROR_BACKEND,
        Error::WrongKey => VfStatus::VF_ERROR_WRONG_KEY,
        Error::Integrity { .. } => VfStatus::VF_ERROR_INTEGRITY,
        Error::StoreFormat { .. } => VfStatus::VF_ERROR_STORE_FORMAT,
        Error::RecordTooLarge { .. } => VfStatus::VF_ERROR_RECORD_TOO_LARGE,
        Error::NotFound(_) => VfStatus::VF_ERROR_NOT_FOUND,
        Error::Storage { .. } => VfStatus::VF_ERROR_STORAGE,
        _ => VfStatus::VF_ERROR_UNKNOWN,
    }
}

/// The name of a status code as a static string (`"VF_ERROR_NOT_FOUND"`),
/// never NULL and never to be freed. Takes any `int`: a value that is no
/// status gives `"VF_ERROR_UNKNOWN"`.
///
/// ```c
/// fprintf(stderr, "%s: %s\n", vf_status_name(status), vf_last_error_message());
/// ```
#[no_mangle]
pub extern "C" fn vf_status_name(status: c_int) -> *const c_char {
    let mut name = VfStatus::VF_ERROR_UNKNOWN.name();
    crate::boundary::guard(|| {
        if let Some(known) = VfStatus::ALL.iter().find(|s| **s as c_int == status) {
            name = known.name();
        }
        Ok(())
    });
    name.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::path::PathBuf;
    use std::time::Duration;

    fn name(status: c_int) -> String {
        // SAFETY: `vf_status_name` returns a static NUL-terminated string.
        let name = unsafe { CStr::from_ptr(vf_status_name(status)) };
        name.to_str().unwrap().to_string()
    }

    #[test]
    fn every_status_has_its_own_name_and_known_codes_round_trip() {
        let mut names: Vec<String> = VfStatus::ALL.iter().map(|s| name(*s as c_int)).collect();
        assert_eq!(names[0], "VF_OK");
        assert_eq!(
            name(VfStatus::VF_ERROR_WRONG_KEY as c_int),
            "VF_ERROR_WRONG_KEY"
        );
        assert_eq!(name(44), "VF_ERROR_OVERLOADED");
        names.dedup();
        assert_eq!(names.len(), VfStatus::ALL.len());
        assert_eq!(name(-1), "VF_ERROR_UNKNOWN");
        assert_eq!(name(4), "VF_ERROR_UNKNOWN");
    }

    #[test]
    fn each_core_error_maps_to_its_own_code() {
        let path = PathBuf::from("x");
        let reason = String::from("r");
        let cases = [
            (
                Error::InvalidAudio(reason.clone()),
                "VF_ERROR_INVALID_AUDIO",
            ),
            (
                Error::InvalidAudioFile {
                    path: None,
                    reason: reason.clone(),
                    source: None,
                },
                "VF_ERROR_INVALID_WAV",
            ),
            (
                Error::InvalidArgument(reason.clone()),
                "VF_ERROR_INVALID_ARGUMENT",
            ),
            (
                Error::ModelNotFound {
                    path: path.clone(),
                    reason: reason.clone(),
                },
                "VF_ERROR_MODEL_NOT_FOUND",
            ),
            (
                Error::malformed(&path, reason.clone()),
                "VF_ERROR_MODEL_MALFORMED",
            ),
            (
                Error::RuntimeNotFound {
                    searched: vec![],
                    reason: reason.clone(),
                    source: None,
                },
                "VF_ERROR_RUNTIME_NOT_FOUND",
            ),
            (Error::inference(reason.clone()), "VF_ERROR_INFERENCE"),
            (
                Error::DeviceUnavailable {
                    device: "cuda".into(),
                    reason: reason.clone(),
                },
                "VF_ERROR_DEVICE_UNAVAILABLE",
            ),
            (Error::Closed("engine"), "VF_ERROR_CLOSED"),
            (
                Error::io(&path, std::io::ErrorKind::NotFound.into()),
                "VF_ERROR_IO",
            ),
            (Error::QueueFull { capacity: 1 }, "VF_ERROR_QUEUE_FULL"),
            (Error::Timeout(Duration::from_millis(5)), "VF_ERROR_TIMEOUT"),
            (
                Error::Overloaded {
                    running: 50,
                    queued: 100,
                },
                "VF_ERROR_OVERLOADED",
            ),
            (Error::Cancelled(reason.clone()), "VF_ERROR_CANCELLED"),
            (Error::backend("llm", reason.clone()), "VF_ERROR_BACKEND"),
            (Error::WrongKey, "VF_ERROR_WRONG_KEY"),
            (Error::Integrity { id: "1".into() }, "VF_ERROR_INTEGRITY"),
            (
                Error::StoreFormat {
                    path,
                    reason: reason.clone(),
                    source: None,
                },
                "VF_ERROR_STORE_FORMAT",
            ),
            (
                Error::RecordTooLarge { size: 2, limit: 1 },
                "VF_ERROR_RECORD_TOO_LARGE",
            ),
            (Error::NotFound("1".into()), "VF_ERROR_NOT_FOUND"),
            (Error::storage(reason), "VF_ERROR_STORAGE"),
        ];
        for (error, expected) in cases {
            assert_eq!(name(status_of(&error) as c_int), expected, "{error}");
        }
    }
}
