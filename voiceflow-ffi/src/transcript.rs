//! The transcript handle: text, language, duration and timed segments.

use std::ffi::{c_char, CString};

use voiceflow_core::Transcript;

use crate::boundary::{FfiError, FfiResult};
use crate::handle::{c_string, free_handle, read};
use crate::status::VfStatus;

/// The result of one transcription (opaque). Read it with the
/// `vf_transcript_*` accessors; free it with `vf_transcript_free`. Not
/// synchronized: use one transcript from one thread at a time.
pub struct VfTranscript {
    pub(crate) transcript: Transcript,
    /// The name of the model that made it (kept with stored records).
    pub(crate) model: String,
    text: CString,
    language: CString,
    segment_texts: Vec<CString>,
}

impl VfTranscript {
    /// The handle for `transcript`, made by `model`.
    pub(crate) fn new(transcript: Transcript, model: &str) -> FfiResult<Self> {
        Ok(VfTranscript {
            text: c_string(&transcript.text)?,
            language: c_string(&transcript.language)?,
            segment_texts: (transcript.segments.iter())
                .map(|s| c_string(&s.text))
                .collect::<FfiResult<_>>()?,
            model: model.to_string(),
            transcript,
        })
    }

    fn segment(&self, index: usize) -> FfiResult<VfSegment> {
        let count = self.segment_texts.len();
        match (
            self.transcript.segments.get(index),
            self.segment_texts.get(index),
        ) {
            (Some(segment), Some(text)) => Ok(VfSegment {
                start: segment.start,
                end: segment.end,
                text: text.as_ptr(),
            }),
            _ => Err(FfiError::invalid(format!(
                "segment index {index} is out of range (the transcript has {count})"
            ))),
        }
    }
}

/// One timed piece of a transcript.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfSegment {
    /// Start time in seconds from the beginning of the audio.
    pub start: f32,
    /// End time in seconds.
    pub end: f32,
    /// The segment's text (UTF-8), owned by the transcript (or, in a
    /// callback, valid during the call).
    pub text: *const c_char,
}

impl VfSegment {
    const EMPTY: VfSegment = VfSegment {
        start: 0.0,
        end: 0.0,
        text: std::ptr::null(),
    };
}

/// The full text (UTF-8; empty when there was no speech), valid until the
/// transcript is freed.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_text` is NULL
/// or points to a writable `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_text(
    transcript: *const VfTranscript,
    out_text: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_text` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_text, std::ptr::null(), |t| {
            Ok(t.text.as_ptr())
        })
    }
}

/// The language code (`"en"`), valid until the transcript is freed.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_language` is
/// NULL or points to a writable `const char *`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_language(
    transcript: *const VfTranscript,
    out_language: *mut *const c_char,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_language` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_language, std::ptr::null(), |t| {
            Ok(t.language.as_ptr())
        })
    }
}

/// The duration of the audio in seconds.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_seconds` is
/// NULL or points to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_duration(
    transcript: *const VfTranscript,
    out_seconds: *mut f64,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_seconds` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_seconds, 0.0, |t| {
            Ok(t.transcript.duration_s)
        })
    }
}

/// The number of segments.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_count` is NULL
/// or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_segment_count(
    transcript: *const VfTranscript,
    out_count: *mut usize,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_count` NULL or
    // writable (# Safety), as `read` requires.
    unsafe { read(transcript, out_count, 0, |t| Ok(t.segment_texts.len())) }
}

/// Segment `index` (0-based); `VF_ERROR_INVALID_ARGUMENT` past the end.
/// Its text is valid until the transcript is freed.
///
/// ```c
/// size_t count;
/// vf_transcript_segment_count(transcript, &count);
/// for (size_t i = 0; i < count; i++) {
///     VfSegment s;
///     vf_transcript_segment(transcript, i, &s);
///     printf("[%.2f-%.2f] %s\n", s.start, s.end, s.text);
/// }
/// ```
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_segment` is
/// NULL or points to a writable `VfSegment`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_segment(
    transcript: *const VfTranscript,
    index: usize,
    out_segment: *mut VfSegment,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_segment` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_segment, VfSegment::EMPTY, |t| {
            t.segment(index)
        })
    }
}

/// Frees a transcript; NULL does nothing.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish`, not freed before, that no other thread is using.
/// Neither it nor strings read from it may be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_free(transcript: *mut VfTranscript) {
    // SAFETY: NULL or an unfreed transcript made by `into_handle`, with
    // no other user (# Safety).
    unsafe { free_handle(transcript) }
}
