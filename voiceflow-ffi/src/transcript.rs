//! The transcript handle: text, language, duration, timed segments and
//! their words (word timestamps).

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
    /// Per segment, the text of each word.
    word_texts: Vec<Vec<CString>>,
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
            word_texts: (transcript.segments.iter())
                .map(|s| s.words.iter().map(|w| c_string(&w.word)).collect())
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

    /// The word texts of segment `segment`.
    fn word_texts(&self, segment: usize) -> FfiResult<&[CString]> {
        let count = self.word_texts.len();
        self.word_texts
            .get(segment)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                FfiError::invalid(format!(
                    "segment index {segment} is out of range (the transcript has {count})"
                ))
            })
    }

    fn word(&self, segment: usize, index: usize) -> FfiResult<VfWord> {
        let texts = self.word_texts(segment)?;
        let words = &self.transcript.segments[segment].words;
        match (words.get(index), texts.get(index)) {
            (Some(word), Some(text)) => Ok(VfWord {
                start: word.start,
                end: word.end,
                probability: word.probability,
                word: text.as_ptr(),
            }),
            _ => Err(FfiError::invalid(format!(
                "word index {index} is out of range (segment {segment} has {})",
                texts.len()
            ))),
        }
    }
}

/// One word of a segment with its time (word timestamps). The library
/// writes it whole, like `VfSegment`; it never grows (new fields would come
/// with a new struct and accessor).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VfWord {
    /// Start time in seconds from the beginning of the audio.
    pub start: f32,
    /// End time in seconds.
    pub end: f32,
    /// Mean probability of the word's tokens, from 0 to 1.
    pub probability: f32,
    /// The word (UTF-8) with its leading space and attached punctuation
    /// (`" Hello,"`), owned by the transcript.
    pub word: *const c_char,
}

impl VfWord {
    const EMPTY: VfWord = VfWord {
        start: 0.0,
        end: 0.0,
        probability: 0.0,
        word: std::ptr::null(),
    };
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

/// The probability of the language, 0 to 1: the model's when it detected
/// it (on 30 s from the first speech), 1 when it was given or the model is
/// English-only, 0 when there was nothing to detect it on.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns;
/// `out_probability` is NULL or points to a writable `float`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_language_probability(
    transcript: *const VfTranscript,
    out_probability: *mut f32,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_probability`
    // NULL or writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_probability, 0.0, |t| {
            Ok(t.transcript.language_probability)
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

/// The number of words of segment `segment` (0-based): 0 unless the
/// transcription asked for word timestamps (`word_timestamps` in
/// `VfTranscribeOptions`); `VF_ERROR_INVALID_ARGUMENT` past the last segment.
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_count` is NULL
/// or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_word_count(
    transcript: *const VfTranscript,
    segment: usize,
    out_count: *mut usize,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_count` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_count, 0, |t| {
            t.word_texts(segment).map(<[CString]>::len)
        })
    }
}

/// Word `index` of segment `segment` (both 0-based);
/// `VF_ERROR_INVALID_ARGUMENT` past the end. Its text is valid until the
/// transcript is freed.
///
/// ```c
/// size_t words;
/// vf_transcript_word_count(transcript, i, &words);
/// for (size_t w = 0; w < words; w++) {
///     VfWord word;
///     vf_transcript_word(transcript, i, w, &word);
///     printf("[%.2f-%.2f %.2f]%s\n", word.start, word.end, word.probability, word.word);
/// }
/// ```
///
/// # Safety
/// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
/// `vf_stream_finish` not freed before the call returns; `out_word` is NULL
/// or points to a writable `VfWord`.
#[no_mangle]
pub unsafe extern "C" fn vf_transcript_word(
    transcript: *const VfTranscript,
    segment: usize,
    index: usize,
    out_word: *mut VfWord,
) -> VfStatus {
    // SAFETY: `transcript` is NULL or live for the call and `out_word` NULL or
    // writable (# Safety), as `read` requires.
    unsafe {
        read(transcript, out_word, VfWord::EMPTY, |t| {
            t.word(segment, index)
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
