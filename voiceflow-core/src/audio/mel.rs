//! Whisper's log-mel spectrogram.
//!
//! [`MelExtractor::compute`] follows faster-whisper's `FeatureExtractor`
//! step by step (and so openai/whisper's `log_mel_spectrogram`):
//!
//! 1. append `padding_samples` zeros;
//! 2. reflect-pad 200 samples on each side (`center=True`), cut frames of 400
//!    samples every 160 samples, multiply by a periodic Hann window;
//! 3. power spectrum `|FFT|²` of each frame (201 bins), dropping the last frame;
//! 4. project on the Slaney mel filterbank, `log10(max(x, 1e-10))`;
//! 5. clamp to `max - 8` (one maximum over the whole output), then `(x + 4) / 4`.
//!
//! The FFT and the mel projection run in f64, so the result is the exact
//! value rounded to f32; faster-whisper (float32 throughout) differs from it
//! by its own rounding, well under 1e-4.

use std::fmt;
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

use super::filterbank::{self, FilterRow};
use super::{HOP_LENGTH, N_FRAMES};
use crate::{Error, Result};

/// FFT size and window length in samples (25 ms).
pub const N_FFT: usize = 400;

/// Power below this is clamped before the logarithm.
const POWER_FLOOR: f32 = 1e-10;

/// Dynamic range kept below the global maximum, in log10 units.
const DYNAMIC_RANGE: f32 = 8.0;

/// Most mel bands [`MelExtractor::new`] accepts. Whisper uses 80 or 128;
/// past about 200 the bands are narrower than an FFT bin and some stay empty.
pub const MAX_MELS: usize = 1024;

/// A reusable log-mel extractor.
///
/// The filterbank, the window and the FFT plan are built once in
/// [`MelExtractor::new`]; [`MelExtractor::compute`] takes `&self` and keeps its
/// scratch buffers per call, so one extractor can be shared by threads
/// (it is `Send + Sync`).
#[derive(Clone)]
pub struct MelExtractor {
    n_mels: usize,
    rows: Vec<FilterRow>,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MelExtractor")
            .field("n_mels", &self.n_mels)
            .finish_non_exhaustive()
    }
}

impl MelExtractor {
    /// An extractor with `n_mels` mel bands: 80 for most Whisper models, 128
    /// for large-v3. Any count from 1 to [`MAX_MELS`] works; others are an
    /// [`Error::InvalidArgument`].
    pub fn new(n_mels: usize) -> Result<Self> {
        if !(1..=MAX_MELS).contains(&n_mels) {
            return Err(Error::InvalidArgument(format!(
                "{n_mels} mel bands requested; 1 to {MAX_MELS} are supported"
            )));
        }
        // Periodic Hann window, rounded to f32 as faster-whisper does.
        let window = (0..N_FFT)
            .map(|n| {
                let phase = 2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64;
                f64::from((0.5 - 0.5 * phase.cos()) as f32)
            })
            .collect();
        Ok(MelExtractor {
            n_mels,
            rows: filterbank::sparse(n_mels, N_FFT),
            window,
            fft: RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT),
        })
    }

    /// The number of mel bands of every [`Mel`] this extractor computes.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Log-mel of the whole signal, exactly as faster-whisper's
    /// `FeatureExtractor(samples, padding=padding_samples)`.
    ///
    /// `samples_16k` is mono audio at [`super::SAMPLE_RATE`]. The result has
    /// `(samples_16k.len() + padding_samples) / 160` frames (none when that is
    /// 0). Common uses:
    ///
    /// - faster-whisper long-form: `compute(samples, 160)`; the content is
    ///   `n_frames - 1` frames; a 30.0-s input gives 3001 frames.
    /// - openai long-form: `compute(samples, N_SAMPLES)`; the content is
    ///   `n_frames - 3000` frames.
    /// - one 30-s window: samples zero-padded or trimmed to
    ///   [`super::N_SAMPLES`], then `compute(samples, 0)`: exactly 3000 frames.
    ///
    /// Samples should be finite (see [`super::validate`]); a NaN or infinite
    /// sample does not panic but makes the output meaningless. Memory grows
    /// with the padded length like any `Vec`: an absurd `padding_samples`
    /// fails to allocate.
    pub fn compute(&self, samples_16k: &[f32], padding_samples: usize) -> Mel {
        let total = samples_16k.len().saturating_add(padding_samples);
        let n_frames = total / HOP_LENGTH;
        if n_frames == 0 {
            return Mel {
                n_mels: self.n_mels,
                n_frames: 0,
                data: Vec::new(),
            };
        }
        let padded = reflect_pad(samples_16k, total, N_FFT / 2);

        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f64; spectrum.len()];
        let mut data = vec![0.0f32; self.n_mels * n_frames];
        let mut max = f32::NEG_INFINITY;

        for (t, chunk) in padded
            .windows(N_FFT)
            .step_by(HOP_LENGTH)
            .take(n_frames)
            .enumerate()
        {
            for ((dst, &x), &w) in frame.iter_mut().zip(chunk).zip(&self.window) {
                *dst = f64::from(x) * w;
            }
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .expect("FFT buffers come from the same plan, so their lengths match");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, row) in self.rows.iter().enumerate() {
                let energy: f64 = row
                    .weights
                    .iter()
                    .zip(&power[row.first_bin..])
                    .map(|(w, p)| w * p)
                    .sum();
                let log = (energy as f32).max(POWER_FLOOR).log10();
                max = max.max(log);
                data[m * n_frames + t] = log;
            }
        }

        let floor = max - DYNAMIC_RANGE;
        for v in &mut data {
            *v = (v.max(floor) + 4.0) / 4.0;
        }
        Mel {
            n_mels: self.n_mels,
            n_frames,
            data,
        }
    }
}

/// `samples` followed by zeros up to `total` samples, then reflected by `pad`
/// samples on both sides without repeating the edge sample (numpy's
/// `np.pad(mode="reflect")`, including repeated reflection when `pad` exceeds
/// the length). `total` must be at least 2 and at least `samples.len()`.
fn reflect_pad(samples: &[f32], total: usize, pad: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; total + 2 * pad];
    out[pad..pad + samples.len()].copy_from_slice(samples);
    let period = 2 * (total - 1);
    for j in (0..pad).chain(pad + total..total + 2 * pad) {
        // Position relative to the signal start, shifted by a whole number of
        // periods so that it is non-negative.
        let shifted = (j + period * pad.div_ceil(period) - pad) % period;
        let src = if shifted >= total {
            period - shifted
        } else {
            shifted
        };
        out[j] = out[pad + src];
    }
    out
}

/// Log-mel features, row-major `[n_mels, n_frames]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mel {
    /// Number of mel bands (rows).
    pub n_mels: usize,
    /// Number of frames (columns), one per 10 ms.
    pub n_frames: usize,
    /// `n_mels * n_frames` values; band `m`, frame `t` is at `m * n_frames + t`.
    pub data: Vec<f32>,
}

impl Mel {
    /// The value of band `mel` at frame `frame`, if both are in range.
    pub fn get(&self, mel: usize, frame: usize) -> Option<f32> {
        if mel < self.n_mels && frame < self.n_frames {
            self.data.get(mel * self.n_frames + frame).copied()
        } else {
            None
        }
    }

    /// Frames `[start, start + len)` copied into an `[n_mels, 3000]` window,
    /// the rest filled with 0.0 (openai's `pad_or_trim` in the normalized
    /// domain, as long-form transcription does). Frames past the end and
    /// beyond 3000 are left out. Returns `n_mels * 3000` values, row-major.
    pub fn window(&self, start: usize, len: usize) -> Vec<f32> {
        self.window_of_width(start, len, N_FRAMES)
    }

    /// Like [`Mel::window`], into a window of `width` frames (`width` at
    /// most 3000): `n_mels * width` values.
    pub fn window_of_width(&self, start: usize, len: usize, width: usize) -> Vec<f32> {
        let width = width.min(N_FRAMES);
        let mut out = vec![0.0f32; self.n_mels * width];
        let start = start.min(self.n_frames);
        let len = len.min(width).min(self.n_frames - start);
        if len == 0 {
            return out;
        }
        for (src, dst) in self
            .data
            .chunks_exact(self.n_frames)
            .zip(out.chunks_exact_mut(width))
        {
            dst[..len].copy_from_slice(&src[start..start + len]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::N_SAMPLES;
    use super::*;

    fn sine(freq: f64, amplitude: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / 16_000.0;
                (amplitude * phase.sin()) as f32
            })
            .collect()
    }

    fn assert_close(got: &[f32], expect: &[f32], tol: f32, what: &str) {
        assert_eq!(got.len(), expect.len(), "{what}: length");
        for (i, (g, e)) in got.iter().zip(expect).enumerate() {
            assert!((g - e).abs() <= tol, "{what}[{i}]: got {g}, expected {e}");
        }
    }

    fn column(mel: &Mel, frame: usize, bands: std::ops::Range<usize>) -> Vec<f32> {
        bands.map(|m| mel.get(m, frame).unwrap()).collect()
    }

    #[test]
    fn rejects_zero_bands() {
        assert!(matches!(
            MelExtractor::new(0),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(MelExtractor::new(1).unwrap().n_mels(), 1);
    }

    #[test]
    fn extractor_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MelExtractor>();
    }

    #[test]
    fn zeros_give_minus_one_and_a_half() {
        let mel = MelExtractor::new(80)
            .unwrap()
            .compute(&vec![0.0; N_SAMPLES], 0);
        assert_eq!((mel.n_mels, mel.n_frames), (80, N_FRAMES));
        assert!(mel.data.iter().all(|&v| v == -1.5));
    }

    #[test]
    fn frame_counts_follow_faster_whisper() {
        let ex = MelExtractor::new(80).unwrap();
        let thirty = vec![0.0; N_SAMPLES];
        assert_eq!(ex.compute(&thirty, 160).n_frames, 3001);
        assert_eq!(ex.compute(&thirty, N_SAMPLES).n_frames, 6000);
        assert_eq!(ex.compute(&thirty[..159], 0).n_frames, 0);
        assert_eq!(ex.compute(&thirty[..159], 1).n_frames, 1);
        assert_eq!(ex.compute(&[], 0).n_frames, 0);
        assert_eq!(ex.compute(&[], 320).n_frames, 2);
    }

    #[test]
    fn sine_1khz_matches_reference_values() {
        let mel = MelExtractor::new(80)
            .unwrap()
            .compute(&sine(1000.0, 0.5, N_SAMPLES), 0);
        let tol = 1e-4;
        assert_close(
            &column(&mel, 1500, 20..31),
            &[
                -0.5603, -0.5603, -0.5603, -0.5603, 1.1422, 1.3411, 1.4397, 1.2833, -0.5603,
                -0.5603, -0.5603,
            ],
            tol,
            "Y[20..31, 1500]",
        );
        let max = mel.data.iter().copied().fold(f32::MIN, f32::max);
        assert!((max - 1.4396517).abs() < 2e-6, "max {max}");
        let min = mel.data.iter().copied().fold(f32::MAX, f32::min);
        assert!((min - -0.5603483).abs() < 2e-6, "floor {min}");
        assert_close(
            &column(&mel, 0, 24..28),
            &[1.2960, 1.3355, 1.1279, 1.3393],
            tol,
            "Y[24..28, 0]",
        );
        assert!((mel.get(0, 0).unwrap() - 0.79975).abs() < 1e-5);
    }

    #[test]
    fn one_second_of_sine_then_silence() {
        let mut samples = sine(1000.0, 0.5, 16_000);
        samples.resize(N_SAMPLES, 0.0);
        let mel = MelExtractor::new(80).unwrap().compute(&samples, 0);
        let tol = 1e-4;
        let steady = [1.1422, 1.3411, 1.4397, 1.2833];
        assert_close(&column(&mel, 50, 24..28), &steady, tol, "frame 50");
        assert_close(
            &column(&mel, 100, 24..28),
            &[1.1691, 1.2631, 1.2951, 1.2396],
            tol,
            "frame 100",
        );
        assert_close(
            &column(&mel, 101, 24..28),
            &[0.3530, 0.3543, 0.3547, 0.3492],
            tol,
            "frame 101",
        );
        for t in 102..N_FRAMES {
            for m in 0..80 {
                assert!((mel.get(m, t).unwrap() - -0.5603483).abs() < 2e-6);
            }
        }
    }

    #[test]
    fn reflect_pad_matches_numpy() {
        let x = [1.0, 2.0, 3.0, 4.0];
        // np.pad([1,2,3,4,0,0], 3, mode="reflect")
        assert_eq!(
            reflect_pad(&x, 6, 3),
            [4.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 4.0, 3.0]
        );
        // Repeated reflection: np.pad([1,2,3], 5, mode="reflect")
        assert_eq!(
            reflect_pad(&x[..3], 3, 5),
            [2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
        );
    }

    #[test]
    fn short_inputs_do_not_panic() {
        let ex = MelExtractor::new(80).unwrap();
        for n in [1, 2, 159, 160, 161, 199, 200, 201, 399, 400, 401] {
            let mel = ex.compute(&sine(440.0, 0.3, n), 0);
            assert_eq!(mel.n_frames, n / 160);
            assert!(mel.data.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn window_pads_and_trims() {
        let ex = MelExtractor::new(2).unwrap();
        let mel = ex.compute(&sine(440.0, 0.3, 16_000 * 35), 160);
        assert_eq!(mel.n_frames, 3501);
        let w = mel.window(2000, 3000);
        assert_eq!(w.len(), 2 * N_FRAMES);
        assert_eq!(&w[..1501], &mel.data[2000..3501]);
        assert!(w[1501..N_FRAMES].iter().all(|&v| v == 0.0));
        assert_eq!(&w[N_FRAMES..N_FRAMES + 1501], &mel.data[3501 + 2000..]);
        assert!(w[N_FRAMES + 1501..].iter().all(|&v| v == 0.0));
        // Length capped at 3000; start past the end gives all zeros.
        assert_eq!(&mel.window(0, 5000)[..N_FRAMES], &mel.data[..N_FRAMES]);
        assert!(mel.window(9999, 10).iter().all(|&v| v == 0.0));
        // A narrower window: the same frames, padded to its own width.
        let short = mel.window_of_width(2000, 300, 500);
        assert_eq!(short.len(), 2 * 500);
        assert_eq!(&short[..300], &mel.data[2000..2300]);
        assert!(short[300..500].iter().all(|&v| v == 0.0));
        assert_eq!(&short[500..800], &mel.data[3501 + 2000..3501 + 2300]);
        let empty = ex.compute(&[], 0);
        assert_eq!(empty.window(0, 3000), vec![0.0; 2 * N_FRAMES]);
        assert_eq!(mel.get(2, 0), None);
        assert_eq!(mel.get(0, 3501), None);
    }
}
