//! What `Engine.transcribe` accepts as audio: a numpy array, the bytes of an
//! audio file, or its path (WAV, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC).

use std::path::PathBuf;

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use voiceflow_core::engine::Audio;
use voiceflow_core::Error;

use crate::errors::to_py_err;

/// Audio taken from a Python object, owned or borrowed so that it can be
/// read while the GIL is released.
pub(crate) enum AudioInput<'a> {
    /// Interleaved samples in [-1, 1].
    Pcm {
        samples: Vec<f32>,
        sample_rate: u32,
        channels: u16,
    },
    /// An audio file's bytes (any supported format).
    Bytes(&'a [u8]),
    /// An audio file (any supported format).
    File(PathBuf),
}

impl<'a> AudioInput<'a> {
    /// Reads `audio`: a numpy array (float32, float64, or int16 scaled by
    /// 1/32768; 1-D mono or 2-D frames x channels) at `sample_rate`, `bytes`
    /// of an audio file (WAV, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC), or a
    /// `str`/`os.PathLike` path of one.
    pub(crate) fn extract(audio: &'a Bound<'_, PyAny>, sample_rate: u32) -> PyResult<Self> {
        if let Ok(bytes) = audio.cast::<PyBytes>() {
            return Ok(AudioInput::Bytes(bytes.as_bytes()));
        }
        if let Ok(array) = audio.cast::<PyUntypedArray>() {
            let (samples, channels) = samples_of(array)?;
            return Ok(AudioInput::Pcm {
                samples,
                sample_rate,
                channels,
            });
        }
        match audio.extract::<PathBuf>() {
            Ok(path) => Ok(AudioInput::File(path)),
            Err(_) => Err(PyTypeError::new_err(format!(
                "audio must be a numpy array, audio file bytes or a path, not {}",
                audio.get_type().name()?
            ))),
        }
    }

    /// The audio as the engine takes it.
    pub(crate) fn as_audio(&self) -> Audio<'_> {
        match self {
            AudioInput::Pcm {
                samples,
                sample_rate,
                channels,
            } => Audio::Pcm {
                samples,
                sample_rate: *sample_rate,
                channels: *channels,
            },
            AudioInput::Bytes(bytes) => Audio::Bytes(bytes),
            AudioInput::File(path) => Audio::File(path),
        }
    }
}

/// The samples of `array` as interleaved float32, and its channel count.
pub(crate) fn samples_of(array: &Bound<'_, PyUntypedArray>) -> PyResult<(Vec<f32>, u16)> {
    let invalid = |message: String| to_py_err(Error::InvalidAudio(message));
    let channels = match array.shape() {
        [_] => 1,
        [_, channels] => u16::try_from(*channels)
            .map_err(|_| invalid(format!("{channels} channels are too many")))?,
        shape => {
            return Err(invalid(format!(
                "audio must be 1-D (mono) or 2-D (frames, channels), got shape {shape:?}"
            )))
        }
    };
    let samples = if let Ok(a) = array.cast::<PyArrayDyn<f32>>() {
        a.readonly().as_array().iter().copied().collect()
    } else if let Ok(a) = array.cast::<PyArrayDyn<f64>>() {
        a.readonly().as_array().iter().map(|&s| s as f32).collect()
    } else if let Ok(a) = array.cast::<PyArrayDyn<i16>>() {
        let scale = 1.0 / 32768.0;
        a.readonly()
            .as_array()
            .iter()
            .map(|&s| f32::from(s) * scale)
            .collect()
    } else {
        return Err(invalid(format!(
            "audio dtype {} is not supported; use float32, float64 or int16",
            array.dtype()
        )));
    };
    Ok((samples, channels))
}
