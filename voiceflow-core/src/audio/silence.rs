//! The signal-level silence check: a window too quiet to hold speech is not
//! given to the model at all, because Whisper invents words ("you") on
//! digital silence and on noise at the level of 16-bit dither.

use super::mel::Mel;

/// Loudest log10 mel-band power (Whisper's log-mel before its `(x + 4) / 4`
/// scaling) that a window may reach and still be treated as silence.
///
/// Measured with [`super::mel::MelExtractor`] over 30-s windows: digital
/// silence sits at the mel power floor, -10; white noise of 1 LSB RMS of
/// 16-bit PCM (-90 dBFS, what dither and a quiet converter leave) peaks at
/// -7.4, and 3-LSB noise (-80 dBFS) at -6.45. The speech fixtures turned
/// down by 60 dB (peaks near -62 dBFS, 30 LSB) peak at -5.2 to -4.9. The
/// floor sits between: 14 dB above 1-LSB noise, 8 dB below that speech.
/// Louder noise (a room, a fan) is above it and is left to the model's own
/// no-speech decision.
pub const SILENCE_FLOOR_LOG10: f32 = -6.0;

/// Whether frames `start..start + len` of `mel` stay below
/// [`SILENCE_FLOOR_LOG10`] in every band. An empty span is silent.
///
/// `mel` holds Whisper's scaled values, clamped 8 log10 units below the
/// loudest value of the whole input; the clamp only raises quiet values, so
/// a window next to loud speech is judged no quieter than it is.
pub fn is_silent(mel: &Mel, start: usize, len: usize) -> bool {
    let start = start.min(mel.n_frames);
    let end = start.saturating_add(len).min(mel.n_frames);
    let floor = scaled_floor();
    mel.data
        .chunks_exact(mel.n_frames.max(1))
        .all(|band| band[start..end].iter().all(|&v| v < floor))
}

/// The first frame of `mel` that reaches [`SILENCE_FLOOR_LOG10`] in some
/// band: where the signal starts (speech or noise alike); `None` when all
/// of it is silent.
pub fn first_sound(mel: &Mel) -> Option<usize> {
    let floor = scaled_floor();
    let bands: Vec<&[f32]> = mel.data.chunks_exact(mel.n_frames.max(1)).collect();
    (0..mel.n_frames).find(|&frame| bands.iter().any(|band| band[frame] >= floor))
}

/// [`SILENCE_FLOOR_LOG10`] on Whisper's `(x + 4) / 4` scale of `Mel::data`.
fn scaled_floor() -> f32 {
    (SILENCE_FLOOR_LOG10 + 4.0) / 4.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::mel::MelExtractor;
    use crate::audio::SAMPLE_RATE;

    /// Deterministic white noise of `rms` (a linear congruential generator
    /// summed 12 times: close to Gaussian, no crate needed).
    fn noise(seconds: usize, rms: f32) -> Vec<f32> {
        let mut state = 0x2545_f491_u64;
        (0..seconds * SAMPLE_RATE as usize)
            .map(|_| {
                let sum: f32 = (0..12)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        (state >> 40) as f32 / (1u64 << 24) as f32
                    })
                    .sum();
                (sum - 6.0) * rms
            })
            .collect()
    }

    fn silent(samples: &[f32]) -> bool {
        let mel = MelExtractor::new(80).unwrap().compute(samples, 0);
        is_silent(&mel, 0, mel.n_frames)
    }

    #[test]
    fn digital_silence_and_dither_are_silent() {
        assert!(silent(&vec![0.0; 16_000 * 3]));
        let lsb = 1.0 / 32_768.0;
        assert!(silent(&noise(10, lsb)));
        assert!(silent(&noise(10, 3.0 * lsb)));
    }

    #[test]
    fn the_first_sound_follows_the_silence() {
        let mut samples = vec![0.0; 16_000 * 2];
        samples.extend(noise(1, 1e-2));
        let mel = MelExtractor::new(80).unwrap().compute(&samples, 0);
        let first = first_sound(&mel).unwrap();
        // 2 s at 100 frames a second; the STFT window reaches 2 frames back.
        assert!((197..=200).contains(&first), "{first}");
        let quiet = MelExtractor::new(80).unwrap().compute(&[0.0; 16_000], 0);
        assert_eq!(first_sound(&quiet), None);
    }

    #[test]
    fn quiet_noise_and_a_quiet_tone_are_not() {
        // -60 dBFS white noise: a quiet room, left to the model.
        assert!(!silent(&noise(3, 1e-3)));
        // A 440-Hz tone peaking at -60 dBFS.
        let tone: Vec<f32> = (0..48_000)
            .map(|i| 1e-3 * (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin())
            .collect();
        assert!(!silent(&tone));
    }

    #[test]
    fn only_the_given_frames_count() {
        let mut samples = vec![0.0; 16_000 * 4];
        samples[16_000 * 3..].copy_from_slice(&noise(1, 0.1));
        let mel = MelExtractor::new(80).unwrap().compute(&samples, 0);
        assert!(is_silent(&mel, 0, 250));
        assert!(!is_silent(&mel, 0, mel.n_frames));
        assert!(is_silent(&mel, mel.n_frames, 100), "an empty span");
    }
}
