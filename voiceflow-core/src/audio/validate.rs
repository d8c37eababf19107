//! Input checks done before any audio work.

use super::mixdown::frame_count;
use crate::{Error, Result};

/// Highest sample rate accepted, in Hz; anything above is treated as a
/// mistake (for example a byte count passed as a rate).
pub const MAX_SAMPLE_RATE: u32 = 384_000;

/// Checks that interleaved audio can be transcribed.
///
/// - [`Error::InvalidArgument`]: `sample_rate` is 0 or above
///   [`MAX_SAMPLE_RATE`], `channels` is 0, or `max_duration_s` is not a
///   positive number (`f64::INFINITY` means no limit).
/// - [`Error::InvalidAudio`]: no samples, a length that is not a multiple of
///   `channels`, more than `max_duration_s` seconds, or a NaN or infinite
///   sample.
pub fn validate(
    interleaved: &[f32],
    sample_rate: u32,
    channels: u16,
    max_duration_s: f64,
) -> Result<()> {
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(Error::InvalidArgument(format!(
            "sample rate {sample_rate} Hz is outside 1..={MAX_SAMPLE_RATE} Hz"
        )));
    }
    let frames = frame_count(interleaved.len(), channels)?;
    if max_duration_s.is_nan() || max_duration_s <= 0.0 {
        return Err(Error::InvalidArgument(format!(
            "maximum duration must be positive, got {max_duration_s} s"
        )));
    }
    if interleaved.is_empty() {
        return Err(Error::InvalidAudio("no samples".into()));
    }
    let duration_s = frames as f64 / f64::from(sample_rate);
    if duration_s > max_duration_s {
        return Err(Error::InvalidAudio(format!(
            "{duration_s:.2} s of audio exceeds the limit of {max_duration_s} s"
        )));
    }
    if let Some(i) = interleaved.iter().position(|s| !s.is_finite()) {
        return Err(Error::InvalidAudio(format!(
            "sample {i} is {} (samples must be finite)",
            interleaved[i]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_audio(r: Result<()>) -> String {
        match r {
            Err(Error::InvalidAudio(reason)) => reason,
            other => panic!("expected InvalidAudio, got {other:?}"),
        }
    }

    #[test]
    fn accepts_good_audio() {
        validate(&[0.0, 0.1, -0.1, 1.0], 16_000, 2, 30.0).unwrap();
        validate(&[0.5; 48_000], 48_000, 1, 1.0).unwrap();
        validate(&[0.5; 10], MAX_SAMPLE_RATE, 1, f64::INFINITY).unwrap();
    }

    #[test]
    fn rejects_bad_arguments() {
        for (rate, channels, max) in [
            (0, 1, 10.0),
            (MAX_SAMPLE_RATE + 1, 1, 10.0),
            (16_000, 0, 10.0),
            (16_000, 1, 0.0),
            (16_000, 1, -1.0),
            (16_000, 1, f64::NAN),
        ] {
            let r = validate(&[0.0; 4], rate, channels, max);
            assert!(
                matches!(r, Err(Error::InvalidArgument(_))),
                "{rate} {channels} {max}: {r:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_audio() {
        assert!(invalid_audio(validate(&[], 16_000, 1, 10.0)).contains("no samples"));
        assert!(invalid_audio(validate(&[0.0; 3], 16_000, 2, 10.0)).contains("2-channel"));
        assert!(
            invalid_audio(validate(&[0.0, f32::NAN], 16_000, 1, 10.0)).contains("sample 1 is NaN")
        );
        assert!(invalid_audio(validate(&[f32::NEG_INFINITY], 16_000, 1, 10.0)).contains("-inf"));
        // One frame over the limit is too long; exactly the limit is fine.
        validate(&[0.0; 32_000], 16_000, 2, 1.0).unwrap();
        assert!(invalid_audio(validate(&[0.0; 32_002], 16_000, 2, 1.0)).contains("exceeds"));
    }
}
