//! Binary frames to samples.

use super::protocol::Encoding;

/// The samples of one binary frame, interleaved as sent; an error when the
/// frame does not hold whole frames of `channels` samples.
pub fn decode(bytes: &[u8], encoding: Encoding, channels: u16) -> Result<Vec<f32>, String> {
    let frame = encoding.sample_bytes() * usize::from(channels);
    if !bytes.len().is_multiple_of(frame) {
        return Err(format!(
            "a binary message of {} bytes does not hold whole frames of {channels} {encoding:?} \
             sample(s) ({frame} bytes each)",
            bytes.len()
        ));
    }
    Ok(match encoding {
        Encoding::PcmS16le => bytes
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
        Encoding::F32le => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s16le_is_scaled_to_unit_range() {
        let bytes: Vec<u8> = [i16::MIN, -16384, 0, 16384, i16::MAX]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let samples = decode(&bytes, Encoding::PcmS16le, 1).unwrap();
        assert_eq!(samples[..4], [-1.0, -0.5, 0.0, 0.5]);
        assert!((samples[4] - 1.0).abs() < 1e-4);
    }

    #[test]
    fn f32le_is_taken_as_is() {
        let bytes: Vec<u8> = [0.25f32, -0.75]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        assert_eq!(decode(&bytes, Encoding::F32le, 2).unwrap(), [0.25, -0.75]);
    }

    #[test]
    fn partial_frames_are_refused() {
        let e = decode(&[0, 0, 0], Encoding::PcmS16le, 1).unwrap_err();
        assert!(e.contains("3 bytes"), "{e}");
        assert!(decode(&[0; 6], Encoding::F32le, 1).is_err());
        assert!(decode(&[0; 4], Encoding::PcmS16le, 2).is_ok());
        assert!(decode(&[0; 6], Encoding::PcmS16le, 2).is_err());
    }
}
