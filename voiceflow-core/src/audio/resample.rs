//! Sample-rate conversion with rubato's synchronous FFT resampler.
//!
//! `FftFixedInOut` converts by the exact rational ratio of the two rates with
//! a long windowed-sinc anti-aliasing filter applied in the frequency domain.
//! The whole buffer is pushed through in chunks, the resampler's delay is
//! cut from the front, and the output has exactly `round(n * to / from)`
//! samples, aligned in time with the input.

use rubato::{FftFixedInOut, Resampler};

use super::MAX_SAMPLE_RATE;
use crate::{Error, Result};

/// Desired input chunk; it is rounded up to an even multiple of
/// `from / gcd(from, to)`. Longer chunks mean longer filters.
const CHUNK_FRAMES: usize = 1024;

/// Resamples mono audio from `from_rate` to `to_rate` Hz.
///
/// Returns exactly `round(mono.len() * to_rate / from_rate)` samples; the
/// input itself (copied) when the rates are equal. A rate of 0 or above
/// [`MAX_SAMPLE_RATE`] is an [`Error::InvalidArgument`].
pub fn resample(mono: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>> {
    let mut resampler = StreamResampler::new(from_rate, to_rate)?;
    let mut out = resampler.push(mono)?;
    out.extend(resampler.finish()?);
    Ok(out)
}

/// [`resample`] for audio that arrives in pieces: the output of all the
/// pieces, then of [`StreamResampler::finish`], equals `resample` of the
/// whole (the same chunks go through the same filter).
pub struct StreamResampler {
    rates: (u32, u32),
    /// `None` when the rates are equal.
    resampler: Option<FftFixedInOut<f32>>,
    /// Input not yet making a whole chunk.
    pending: Vec<f32>,
    /// Output samples still to cut for the filter's delay.
    delay_left: usize,
    consumed: usize,
    produced: usize,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("rates", &self.rates)
            .finish_non_exhaustive()
    }
}

impl StreamResampler {
    /// A resampler from `from_rate` to `to_rate` Hz (both in
    /// `1..=MAX_SAMPLE_RATE`, else [`Error::InvalidArgument`]).
    pub fn new(from_rate: u32, to_rate: u32) -> Result<Self> {
        let valid = 1..=MAX_SAMPLE_RATE;
        if !valid.contains(&from_rate) || !valid.contains(&to_rate) {
            return Err(Error::InvalidArgument(format!(
                "cannot resample from {from_rate} Hz to {to_rate} Hz: rates must be in 1..={MAX_SAMPLE_RATE}"
            )));
        }
        let resampler = (from_rate != to_rate)
            .then(|| {
                FftFixedInOut::<f32>::new(
                    from_rate as usize,
                    to_rate as usize,
                    chunk_len(from_rate, to_rate),
                    1,
                )
            })
            .transpose()
            .map_err(|e| {
                Error::InvalidArgument(format!("resampling {from_rate} Hz to {to_rate} Hz: {e}"))
            })?;
        Ok(StreamResampler {
            rates: (from_rate, to_rate),
            delay_left: resampler.as_ref().map_or(0, |r| r.output_delay()),
            resampler,
            pending: Vec::new(),
            consumed: 0,
            produced: 0,
        })
    }

    /// The input rate.
    pub fn from_rate(&self) -> u32 {
        self.rates.0
    }

    /// Resamples the next piece; returns what is ready (the filter holds
    /// back up to a chunk and its delay until more comes or [`Self::finish`]).
    pub fn push(&mut self, mono: &[f32]) -> Result<Vec<f32>> {
        self.consumed += mono.len();
        if self.resampler.is_none() {
            self.produced += mono.len();
            return Ok(mono.to_vec());
        }
        self.pending.extend_from_slice(mono);
        let mut out = Vec::new();
        while self.pending.len() >= self.chunk() {
            let chunk: Vec<f32> = self.pending.drain(..self.chunk()).collect();
            self.process(&chunk, &mut out)?;
        }
        self.produced += out.len();
        Ok(out)
    }

    /// Flushes the filter: the rest of the output, so that the whole has
    /// `round(input * to / from)` samples.
    pub fn finish(&mut self) -> Result<Vec<f32>> {
        let target = output_len(self.consumed, self.rates.0, self.rates.1)?;
        let mut out = Vec::new();
        if self.resampler.is_some() && self.consumed > 0 {
            // The last chunks are padded with zeros to flush the filter.
            while self.produced + out.len() < target {
                let mut chunk = std::mem::take(&mut self.pending);
                chunk.resize(self.chunk(), 0.0);
                self.process(&chunk, &mut out)?;
            }
        }
        out.truncate(target.saturating_sub(self.produced));
        self.produced += out.len();
        Ok(out)
    }

    fn chunk(&self) -> usize {
        self.resampler.as_ref().map_or(1, |r| r.input_frames_next())
    }

    fn process(&mut self, chunk: &[f32], out: &mut Vec<f32>) -> Result<()> {
        let Some(resampler) = self.resampler.as_mut() else {
            return Ok(());
        };
        let mut output = vec![0.0f32; resampler.output_frames_next()];
        let (_, written) = resampler
            .process_into_buffer(&[chunk], &mut [&mut output[..]], None)
            .map_err(|e| {
                Error::InvalidArgument(format!(
                    "resampling {} Hz to {} Hz: {e}",
                    self.rates.0, self.rates.1
                ))
            })?;
        let skip = self.delay_left.min(written);
        self.delay_left -= skip;
        out.extend_from_slice(&output[skip..written]);
        Ok(())
    }
}

/// The input chunk handed to rubato: a multiple of the smallest chunk that
/// maps to a whole number of output samples, taken an even number of times.
///
/// The filter is centred on input sample `chunk / 2` while rubato reports a
/// delay of `output_chunk / 2` output samples; the two agree only when the
/// chunk is an even multiple (otherwise the output would lead by half an
/// input sample).
fn chunk_len(from_rate: u32, to_rate: u32) -> usize {
    let (mut a, mut b) = (from_rate, to_rate);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let unit = (from_rate / a) as usize;
    CHUNK_FRAMES.div_ceil(unit).next_multiple_of(2) * unit
}

/// `round(n * to / from)` without overflow.
fn output_len(n: usize, from_rate: u32, to_rate: u32) -> Result<usize> {
    let (from, to) = (u128::from(from_rate), u128::from(to_rate));
    let len = (n as u128 * to + from / 2) / from;
    usize::try_from(len)
        .map_err(|_| Error::InvalidAudio(format!("{n} samples resampled do not fit in memory")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)).round() as usize;
        (0..n)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    /// Amplitude of `freq` in `x`, by correlation.
    fn amplitude_of(x: &[f32], freq: f64, rate: u32) -> f64 {
        let (mut s, mut c) = (0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate);
            s += f64::from(v) * phase.sin();
            c += f64::from(v) * phase.cos();
        }
        let n = x.len() as f64;
        (s * s + c * c).sqrt() * 2.0 / n
    }

    /// Checks that `x` is the tone `amplitude * sin(2 pi freq t)` from t = 0
    /// (no shift), away from the edges.
    fn assert_is_tone(x: &[f32], freq: f64, rate: u32, amplitude: f64) {
        let edge = rate as usize / 20;
        let middle = &x[edge..x.len() - edge];
        let a = amplitude_of(middle, freq, rate);
        assert!((a - amplitude).abs() < 0.01 * amplitude, "amplitude {a}");
        // Compare with the ideal tone sample by sample: a shift of one sample
        // at 440 Hz would already give an error of 0.086 * amplitude.
        let ideal = tone(freq, rate, x.len() as f64 / f64::from(rate), amplitude);
        let worst = middle
            .iter()
            .zip(&ideal[edge..])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(f64::from(worst) < 0.01 * amplitude, "max deviation {worst}");
    }

    #[test]
    fn output_length_is_rounded_ratio() {
        for (n, from, to) in [
            (44_100, 44_100, 16_000),
            (12_345, 44_100, 16_000),
            (7, 8_000, 16_000),
            (999, 48_000, 16_000),
            (1, 44_100, 16_000),
            (10_001, 22_050, 16_000),
            // Coprime rates: the largest chunks rubato can be asked for.
            (1_000, MAX_SAMPLE_RATE - 1, 16_000),
            (1_000, 16_000, MAX_SAMPLE_RATE - 1),
        ] {
            let out = resample(&vec![0.1; n], from, to).unwrap();
            let expect = ((n as f64) * f64::from(to) / f64::from(from)).round() as usize;
            assert_eq!(out.len(), expect, "{n} samples {from} -> {to}");
        }
    }

    #[test]
    fn tones_keep_frequency_amplitude_and_timing() {
        for (freq, from, amplitude) in [
            (440.0, 44_100, 0.5),
            (440.0, 8_000, 0.5),
            (1_000.0, 48_000, 0.3),
            (2_000.0, 22_050, 0.7),
            (300.0, 44_101, 0.4),
        ] {
            let x = tone(freq, from, 1.5, amplitude);
            let y = resample(&x, from, 16_000).unwrap();
            assert_eq!(y.len(), 24_000, "{from} Hz");
            assert_is_tone(&y, freq, 16_000, amplitude);
            // No leading silence: the tone is there from the first samples.
            assert!(y[..40].iter().any(|v| f64::from(v.abs()) > amplitude / 2.0));
        }
    }

    #[test]
    fn removes_content_above_the_new_nyquist() {
        // 10 kHz cannot exist at 16 kHz; it must not alias down to 6 kHz.
        // (The edges hold the onset and end clicks, which are in band.)
        let y = resample(&tone(10_000.0, 48_000, 1.0, 0.5), 48_000, 16_000).unwrap();
        let middle = &y[1600..y.len() - 1600];
        assert!(amplitude_of(middle, 6_000.0, 16_000) < 1e-4);
        let peak = middle.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak < 1e-3, "peak {peak}");
    }

    #[test]
    fn pieces_resample_exactly_as_the_whole() {
        let x = tone(440.0, 44_100, 0.7, 0.5);
        let whole = resample(&x, 44_100, 16_000).unwrap();
        let mut r = StreamResampler::new(44_100, 16_000).unwrap();
        let mut pieces = Vec::new();
        for piece in x.chunks(777) {
            pieces.extend(r.push(piece).unwrap());
        }
        pieces.extend(r.finish().unwrap());
        assert_eq!(pieces, whole);
    }

    #[test]
    fn identity_and_errors() {
        assert_eq!(resample(&[0.1, 0.2], 16_000, 16_000).unwrap(), [0.1, 0.2]);
        assert!(resample(&[], 44_100, 16_000).unwrap().is_empty());
        assert!(matches!(
            resample(&[0.1], 0, 16_000),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            resample(&[0.1], 16_000, 0),
            Err(Error::InvalidArgument(_))
        ));
    }
}
