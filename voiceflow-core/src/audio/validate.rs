//! Input checks done before any audio work.

use super::mixdown::frame_count;
use crate::{Error, Result};

/// Highest sample rate accepted, in Hz; anything above is treated as a
/// mistake (for example a byte count passed as a rate).
pub const MAX_SAMPLE_RATE: u32 = 384_000;

/// Largest sample magnitude accepted. Float PCM has its full scale at 1.0;
/// float recordings and resamplers may go over it (inter-sample peaks,
/// mastering "overs"), so 18 dB of headroom is allowed and such audio is
/// transcribed as it is: a fixture sentence normalised to peaks of 1, 2, 4
/// and 8 gives tiny.en's exact words, at 16 the first word goes wrong, at
/// 1000 nothing is heard, and at 32767 (16-bit integers passed as floats, the
/// usual mistake) or 1e6 the model invents words. Louder input is therefore
/// refused with its peak named rather than transcribed.
pub const MAX_SAMPLE_PEAK: f32 = 8.0;

/// Checks that interleaved audio can be transcribed.
///
/// - [`Error::InvalidArgument`]: `sample_rate` is 0 or above
///   [`MAX_SAMPLE_RATE`], `channels` is 0, or `max_duration_s` is not a
///   positive number (`f64::INFINITY` means no limit).
/// - [`Error::InvalidAudio`]: no samples, a length that is not a multiple of
///   `channels`, more than `max_duration_s` seconds, a NaN or infinite
///   sample, or a sample beyond ±[`MAX_SAMPLE_PEAK`] (the message names
///   the peak).
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
    let peak = interleaved.iter().fold(0.0f32, |peak, s| peak.max(s.abs()));
    if peak > MAX_SAMPLE_PEAK {
        return Err(Error::InvalidAudio(format!(
            "peak sample magnitude {peak} is above {MAX_SAMPLE_PEAK}: float samples have \
             their full scale at 1.0 (integer PCM must be divided by its full scale, \
             32768 for 16-bit)"
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
        let loud = invalid_audio(validate(&[0.5, -1e6, 3.0], 16_000, 1, 10.0));
        assert!(
            loud.starts_with("peak sample magnitude 1000000 is above 8"),
            "{loud}"
        );
        validate(&[0.5, -MAX_SAMPLE_PEAK, 1.5], 16_000, 1, 10.0).unwrap();
        // One frame over the limit is too long; exactly the limit is fine.
        validate(&[0.0; 32_000], 16_000, 2, 1.0).unwrap();
        assert!(invalid_audio(validate(&[0.0; 32_002], 16_000, 2, 1.0)).contains("exceeds"));
    }
}
