//! Whisper's mel filterbank: librosa's `filters.mel(sr=16000, n_fft=400)`
//! with the Slaney mel scale and Slaney area normalization, stored sparsely.

use super::SAMPLE_RATE;

/// Frequency where the Slaney mel scale turns from linear to logarithmic.
const LOG_REGION_HZ: f64 = 1000.0;
/// Hz per mel in the linear region.
const HZ_PER_MEL: f64 = 200.0 / 3.0;
/// Mel value at [`LOG_REGION_HZ`].
const LOG_REGION_MEL: f64 = LOG_REGION_HZ / HZ_PER_MEL;

/// Natural-log step per mel in the logarithmic region.
fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Slaney mel value of a frequency in Hz.
fn hz_to_mel(hz: f64) -> f64 {
    if hz < LOG_REGION_HZ {
        hz / HZ_PER_MEL
    } else {
        LOG_REGION_MEL + (hz / LOG_REGION_HZ).ln() / log_step()
    }
}

/// Frequency in Hz of a Slaney mel value.
fn mel_to_hz(mel: f64) -> f64 {
    if mel < LOG_REGION_MEL {
        mel * HZ_PER_MEL
    } else {
        LOG_REGION_HZ * (log_step() * (mel - LOG_REGION_MEL)).exp()
    }
}

/// The non-zero run of one filterbank row.
#[derive(Debug, Clone)]
pub(super) struct FilterRow {
    /// FFT bin of `weights[0]`.
    pub first_bin: usize,
    /// Consecutive weights, widened from the float32 values of the dense
    /// filterbank (exactly what faster-whisper multiplies with).
    pub weights: Vec<f64>,
}

/// Dense `[n_mels, n_fft / 2 + 1]` filterbank, row-major, as float32.
///
/// Computed in f64 like librosa and faster-whisper, then rounded to f32.
pub(super) fn dense(n_mels: usize, n_fft: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let nyquist = f64::from(SAMPLE_RATE) / 2.0;
    let max_mel = hz_to_mel(nyquist);
    let n_edges = n_mels + 2;
    // Band edges equally spaced in mel, like numpy.linspace (last one exact).
    let edges: Vec<f64> = (0..n_edges)
        .map(|i| {
            let mel = if i + 1 == n_edges {
                max_mel
            } else {
                i as f64 * (max_mel / (n_edges - 1) as f64)
            };
            mel_to_hz(mel)
        })
        .collect();
    let bin_hz = f64::from(SAMPLE_RATE) / n_fft as f64;
    let mut out = vec![0.0f32; n_mels * n_bins];
    for (m, row) in out.chunks_exact_mut(n_bins).enumerate() {
        let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
        let norm = 2.0 / (hi - lo);
        for (k, w) in row.iter_mut().enumerate() {
            let f = k as f64 * bin_hz;
            let rising = (f - lo) / (mid - lo);
            let falling = (hi - f) / (hi - mid);
            *w = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    out
}

/// The rows of [`dense`] reduced to their non-zero runs.
pub(super) fn sparse(n_mels: usize, n_fft: usize) -> Vec<FilterRow> {
    let n_bins = n_fft / 2 + 1;
    dense(n_mels, n_fft)
        .chunks_exact(n_bins)
        .map(|row| {
            let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
            let end = row.iter().rposition(|&w| w != 0.0).map_or(first, |i| i + 1);
            FilterRow {
                first_bin: first,
                weights: row[first..end].iter().map(|&w| f64::from(w)).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const N_FFT: usize = 400;

    #[test]
    fn mel_scale_matches_librosa_constants() {
        // The literal that faster-whisper hard-codes for mel(8000 Hz).
        assert!((hz_to_mel(8000.0) - 45.245640471924965).abs() < 1e-12);
        assert!((mel_to_hz(hz_to_mel(3210.0)) - 3210.0).abs() < 1e-9);
        assert!((mel_to_hz(hz_to_mel(500.0)) - 500.0).abs() < 1e-9);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn filterbank_80_known_values() {
        let f = dense(80, N_FFT);
        assert_eq!(f.len(), 80 * 201);
        let max = f.iter().copied().fold(f32::MIN, f32::max);
        assert!((max - 0.025880683).abs() < 1e-8, "max {max}");
        assert!((f[1] - 0.02486259).abs() < 1e-8, "F[0,1] {}", f[1]);
        // Row 0 has a single non-zero.
        assert_eq!(f[..201].iter().filter(|&&w| w != 0.0).count(), 1);
        for m in 0..80 {
            assert_eq!(f[m * 201], 0.0, "DC bin of row {m}");
            assert_eq!(f[m * 201 + 200], 0.0, "Nyquist bin of row {m}");
        }
        let used_columns = (0..201)
            .filter(|&k| (0..80).any(|m| f[m * 201 + k] != 0.0))
            .count();
        assert_eq!(used_columns, 199);
    }

    #[test]
    fn filterbank_128_max() {
        let f = dense(128, N_FFT);
        let max = f.iter().copied().fold(f32::MIN, f32::max);
        assert!((max - 0.04168175).abs() < 1e-8, "max {max}");
    }

    #[test]
    fn sparse_rows_reproduce_dense() {
        for n_mels in [1, 80, 128] {
            let d = dense(n_mels, N_FFT);
            let s = sparse(n_mels, N_FFT);
            assert_eq!(s.len(), n_mels);
            for (m, row) in s.iter().enumerate() {
                for k in 0..201 {
                    let expect = f64::from(d[m * 201 + k]);
                    let got = k
                        .checked_sub(row.first_bin)
                        .and_then(|i| row.weights.get(i))
                        .copied()
                        .unwrap_or(0.0);
                    assert_eq!(got, expect, "n_mels {n_mels} row {m} bin {k}");
                }
            }
        }
        // Each bin lies in at most two triangles: about 2 weights per bin
        // instead of 80 (sparsity is worth exploiting).
        let stored: usize = sparse(80, N_FFT).iter().map(|r| r.weights.len()).sum();
        assert!(stored <= 2 * 201, "{stored} weights stored");
    }
}
