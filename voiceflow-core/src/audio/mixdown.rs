//! Channel mixdown.

use crate::{Error, Result};

/// The number of frames in `len` interleaved samples of `channels` channels.
///
/// Errors: `channels == 0` ([`Error::InvalidArgument`]); a length that is
/// not a multiple of `channels` ([`Error::InvalidAudio`]).
pub(super) fn frame_count(len: usize, channels: u16) -> Result<usize> {
    if channels == 0 {
        return Err(Error::InvalidArgument("channel count is 0".into()));
    }
    let n = usize::from(channels);
    if !len.is_multiple_of(n) {
        return Err(Error::InvalidAudio(format!(
            "{len} samples is not a whole number of {channels}-channel frames"
        )));
    }
    Ok(len / n)
}

/// Mixes interleaved audio to mono: each output sample is the average of the
/// channels of one frame. Mono input is returned as is.
///
/// Errors: `channels == 0` ([`Error::InvalidArgument`]); a length that is
/// not a multiple of `channels` ([`Error::InvalidAudio`]).
pub fn to_mono(interleaved: &[f32], channels: u16) -> Result<Vec<f32>> {
    frame_count(interleaved.len(), channels)?;
    if channels == 1 {
        return Ok(interleaved.to_vec());
    }
    let scale = 1.0 / f32::from(channels);
    Ok(interleaved
        .chunks_exact(usize::from(channels))
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_channels() {
        assert_eq!(to_mono(&[0.5, -0.5, 1.0, 0.0], 2).unwrap(), [0.0, 0.5]);
        let six: Vec<f32> = (0..12).map(|i| i as f32 / 12.0).collect();
        let mono = to_mono(&six, 6).unwrap();
        assert_eq!(mono.len(), 2);
        assert!((mono[0] - 2.5 / 12.0).abs() < 1e-7);
        assert!((mono[1] - 8.5 / 12.0).abs() < 1e-7);
    }

    #[test]
    fn mono_and_empty_pass_through() {
        assert_eq!(to_mono(&[0.25, -1.0], 1).unwrap(), [0.25, -1.0]);
        assert!(to_mono(&[], 2).unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(matches!(
            to_mono(&[0.0; 4], 0),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(to_mono(&[0.0; 5], 2), Err(Error::InvalidAudio(_))));
    }
}
