//! WAV decoding: a small, defensive RIFF/WAVE reader.
//!
//! Reads PCM integer samples of 8 (unsigned), 16, 24 and 32 bits (and any
//! other depth up to 32 bits stored left-justified in whole bytes), IEEE float
//! of 32 and 64 bits, with any rate and channel count, in the classic
//! `WAVEFORMAT` header or in `WAVE_FORMAT_EXTENSIBLE`. `RF64` files are read
//! like `RIFF` ones.
//!
//! Damaged files are handled without panicking: chunk sizes that run past the
//! end of the data are clamped (streams written before their length was known
//! store `0xFFFFFFFF` or a guess), a trailing partial frame is dropped, and
//! everything else (no `fmt `/`data` chunk, truncated header, unsupported
//! encoding such as A-law or ADPCM, zero channels) is an
//! [`Error::InvalidWav`] that says what is wrong.

use std::path::Path;

use super::AudioBuffer;
use crate::{Error, Result};

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_FLOAT: u16 = 0x0003;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is in the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag.
const SUBFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Decodes a complete WAV file held in memory into interleaved f32 samples
/// in [-1, 1] (float files are passed through as stored).
pub fn decode_wav(bytes: &[u8]) -> Result<AudioBuffer> {
    parse(bytes).map_err(|reason| Error::InvalidWav { path: None, reason })
}

/// Reads and decodes a WAV file; errors name the path.
pub fn read_wav(path: impl AsRef<Path>) -> Result<AudioBuffer> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes).map_err(|reason| Error::InvalidWav {
        path: Some(path.to_path_buf()),
        reason,
    })
}

/// How the samples of the `data` chunk are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Integers in `bytes` bytes: unsigned for 1, two's complement otherwise.
    Int { bytes: usize },
    /// IEEE float in 4 or 8 bytes.
    Float { bytes: usize },
}

impl Encoding {
    fn bytes(self) -> usize {
        match self {
            Encoding::Int { bytes } | Encoding::Float { bytes } => bytes,
        }
    }
}

/// The parts of the `fmt ` chunk that decoding needs.
#[derive(Debug, Clone, Copy)]
struct Format {
    channels: u16,
    sample_rate: u32,
    encoding: Encoding,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A readable name for the format tags people actually meet.
fn format_name(tag: u16) -> &'static str {
    match tag {
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MP3",
        0x00FF | 0x1610 => "AAC",
        _ => "unknown",
    }
}

fn parse(bytes: &[u8]) -> std::result::Result<AudioBuffer, String> {
    if bytes.len() < 12 {
        return Err(format!(
            "{} bytes is too short for a RIFF/WAVE header (12 bytes)",
            bytes.len()
        ));
    }
    match &bytes[0..4] {
        b"RIFF" | b"RF64" => {}
        b"RIFX" => return Err("big-endian RIFX files are not supported".into()),
        _ => return Err("not a RIFF file (missing \"RIFF\" magic)".into()),
    }
    if &bytes[8..12] != b"WAVE" {
        return Err("RIFF file is not WAVE (missing \"WAVE\" form type)".into());
    }

    let mut format = None;
    let mut data = None;
    let mut at = 12;
    while bytes.len() - at >= 8 {
        let id = &bytes[at..at + 4];
        let declared = usize::try_from(u32_at(bytes, at + 4)).unwrap_or(usize::MAX);
        let body_start = at + 8;
        let size = declared.min(bytes.len() - body_start);
        let body = &bytes[body_start..body_start + size];
        match id {
            b"fmt " if size < declared => {
                return Err(format!(
                    "fmt chunk is truncated ({size} of {declared} bytes present)"
                ))
            }
            b"fmt " => format = Some(parse_format(body)?),
            b"data" => data = Some(body),
            _ => {}
        }
        // Chunks are padded to an even size. A body clamped at the end of the
        // file ends the walk.
        at = body_start + size + (size & 1);
        if at >= bytes.len() {
            break;
        }
    }

    let format = format.ok_or("no fmt chunk")?;
    let data = data.ok_or("no data chunk")?;
    let frame_bytes = usize::from(format.channels) * format.encoding.bytes();
    let usable = data.len() - data.len() % frame_bytes;
    let samples = decode_samples(&data[..usable], format.encoding);
    Ok(AudioBuffer {
        samples,
        sample_rate: format.sample_rate,
        channels: format.channels,
    })
}

fn parse_format(fmt: &[u8]) -> std::result::Result<Format, String> {
    if fmt.len() < 16 {
        return Err(format!(
            "fmt chunk has {} bytes, at least 16 are needed",
            fmt.len()
        ));
    }
    let mut tag = u16_at(fmt, 0);
    let channels = u16_at(fmt, 2);
    let sample_rate = u32_at(fmt, 4);
    let bits = u16_at(fmt, 14);
    if tag == FORMAT_EXTENSIBLE {
        if fmt.len() < 40 {
            return Err(format!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk has {} bytes, 40 are needed",
                fmt.len()
            ));
        }
        if fmt[26..40] != SUBFORMAT_GUID_TAIL {
            return Err("WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID".into());
        }
        tag = u16_at(fmt, 24);
    }
    if channels == 0 {
        return Err("fmt chunk declares 0 channels".into());
    }
    if sample_rate == 0 {
        return Err("fmt chunk declares a sample rate of 0 Hz".into());
    }
    // Samples are stored left-justified in whole bytes. The block alignment
    // gives the container when it is wider than the bits need (24-bit audio
    // in 4-byte words); otherwise, or when it is inconsistent, the bits do.
    let bytes = usize::from(bits).div_ceil(8);
    let block_align = u16_at(fmt, 12);
    let container = usize::from(block_align / channels);
    let bytes = if tag == FORMAT_PCM
        && block_align.is_multiple_of(channels)
        && (bytes..=4).contains(&container)
    {
        container
    } else {
        bytes
    };
    let encoding = match tag {
        FORMAT_PCM if (1..=4).contains(&bytes) => Encoding::Int { bytes },
        FORMAT_PCM => return Err(format!("{bits}-bit PCM is not supported (1 to 32 bits)")),
        FORMAT_FLOAT if bits == 32 || bits == 64 => Encoding::Float { bytes },
        FORMAT_FLOAT => return Err(format!("{bits}-bit float is not supported (32 or 64 bits)")),
        _ => {
            return Err(format!(
                "unsupported encoding {} (format tag {tag:#06x}); only PCM and IEEE float are read",
                format_name(tag)
            ))
        }
    };
    Ok(Format {
        channels,
        sample_rate,
        encoding,
    })
}

/// Converts whole samples to f32 (full scale of the container = 1.0).
fn decode_samples(data: &[u8], encoding: Encoding) -> Vec<f32> {
    match encoding {
        Encoding::Int { bytes: 1 } => data
            .iter()
            .map(|&b| (f32::from(b) - 128.0) / 128.0)
            .collect(),
        Encoding::Int { bytes } => {
            // Place the sample in the top bytes of an i32, so that every depth
            // scales by the same 2^31.
            data.chunks_exact(bytes)
                .map(|s| {
                    let mut word = [0u8; 4];
                    word[4 - bytes..].copy_from_slice(s);
                    i32::from_le_bytes(word) as f32 / 2_147_483_648.0
                })
                .collect()
        }
        Encoding::Float { bytes: 8 } => data
            .chunks_exact(8)
            .map(|s| {
                let mut word = [0u8; 8];
                word.copy_from_slice(s);
                f64::from_le_bytes(word) as f32
            })
            .collect(),
        Encoding::Float { .. } => data
            .chunks_exact(4)
            .map(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic 16-byte `fmt ` body.
    fn fmt_body(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let block = channels * bits.div_ceil(8);
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        b.extend_from_slice(&block.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    /// A 40-byte `WAVE_FORMAT_EXTENSIBLE` body for the format `sub_tag`.
    fn extensible_body(sub_tag: u16, channels: u16, rate: u32, bits: u16, valid: u16) -> Vec<u8> {
        let mut b = fmt_body(FORMAT_EXTENSIBLE, channels, rate, bits);
        b.extend_from_slice(&22u16.to_le_bytes());
        b.extend_from_slice(&valid.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&sub_tag.to_le_bytes());
        b.extend_from_slice(&SUBFORMAT_GUID_TAIL);
        b
    }

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend_from_slice(&(body.len() as u32).to_le_bytes());
        c.extend_from_slice(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
        f.extend_from_slice(b"WAVE");
        f.extend_from_slice(&body);
        f
    }

    fn reason(bytes: &[u8]) -> String {
        match decode_wav(bytes) {
            Err(Error::InvalidWav { path: None, reason }) => reason,
            other => panic!("expected InvalidWav, got {other:?}"),
        }
    }

    #[test]
    fn reads_unsigned_8_bit() {
        let f = riff(&[
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 1, 8000, 8)),
            chunk(b"data", &[0, 64, 128, 192, 255]),
        ]);
        let a = decode_wav(&f).unwrap();
        assert_eq!((a.sample_rate, a.channels), (8000, 1));
        assert_eq!(a.samples, [-1.0, -0.5, 0.0, 0.5, 127.0 / 128.0]);
    }

    #[test]
    fn reads_float_64() {
        let values = [0.25f64, -1.0, 0.1];
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f = riff(&[
            chunk(b"fmt ", &fmt_body(FORMAT_FLOAT, 1, 22_050, 64)),
            chunk(b"data", &data),
        ]);
        assert_eq!(decode_wav(&f).unwrap().samples, [0.25, -1.0, 0.1f64 as f32]);
    }

    #[test]
    fn reads_extensible_20_bit_in_24() {
        // 20 valid bits left-justified in 3 bytes: half scale is 0x40000 << 4.
        let half = 0x0080_0000u32 >> 1;
        let data = [
            &half.to_le_bytes()[..3],
            &(half.wrapping_neg()).to_le_bytes()[..3],
        ]
        .concat();
        let f = riff(&[
            chunk(b"fmt ", &extensible_body(FORMAT_PCM, 2, 48_000, 24, 20)),
            chunk(b"data", &data),
        ]);
        let a = decode_wav(&f).unwrap();
        assert_eq!((a.sample_rate, a.channels), (48_000, 2));
        assert_eq!(a.samples, [0.5, -0.5]);
    }

    #[test]
    fn reads_24_bit_in_4_byte_containers() {
        // Classic header, 24 bits, block align 8 for stereo: left-justified
        // in 32-bit words (the low byte is padding).
        let mut fmt = fmt_body(FORMAT_PCM, 2, 44_100, 24);
        fmt[12..14].copy_from_slice(&8u16.to_le_bytes());
        let data = [[0x00, 0x00, 0x00, 0x40], [0x00, 0x00, 0x00, 0xE0]].concat();
        let f = riff(&[chunk(b"fmt ", &fmt), chunk(b"data", &data)]);
        assert_eq!(decode_wav(&f).unwrap().samples, [0.5, -0.25]);
        // A block align too small for the bits is ignored.
        let mut fmt = fmt_body(FORMAT_PCM, 1, 44_100, 16);
        fmt[12..14].copy_from_slice(&1u16.to_le_bytes());
        let f = riff(&[chunk(b"fmt ", &fmt), chunk(b"data", &[0x00, 0x40])]);
        assert_eq!(decode_wav(&f).unwrap().samples, [0.5]);
    }

    #[test]
    fn skips_unknown_chunks_with_odd_padding_and_drops_partial_frame() {
        let data: Vec<u8> = [1000i16, -1000, 2000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let f = riff(&[
            chunk(b"LIST", b"odd"),
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16_000, 16)),
            chunk(b"junk", &[]),
            chunk(b"data", &data),
            chunk(b"id3 ", b"trailing metadata"),
        ]);
        // Three 16-bit samples in stereo: the half frame at the end is dropped.
        assert_eq!(
            decode_wav(&f).unwrap().samples,
            [1000.0 / 32768.0, -1000.0 / 32768.0]
        );
    }

    #[test]
    fn clamps_data_size_past_the_end() {
        let mut f = riff(&[
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 1, 16_000, 16)),
            chunk(b"data", &[0x00, 0x40, 0x00, 0xC0]),
        ]);
        // A stream writer that never went back to fill in the sizes.
        let data_size_at = f.len() - 4 - 4;
        f[data_size_at..data_size_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        f[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_wav(&f).unwrap().samples, [0.5, -0.5]);
        // And an RF64 header reads the same way.
        f[0..4].copy_from_slice(b"RF64");
        assert_eq!(decode_wav(&f).unwrap().samples, [0.5, -0.5]);
    }

    #[test]
    fn corrupt_headers_are_invalid_wav() {
        let good_fmt = chunk(b"fmt ", &fmt_body(FORMAT_PCM, 1, 16_000, 16));
        let data = chunk(b"data", &[0, 0]);
        let with_fmt = |body: &[u8]| riff(&[chunk(b"fmt ", body), data.clone()]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "too short"),
            (b"RIFF".to_vec(), "too short"),
            (b"RIFX\0\0\0\0WAVE".to_vec(), "big-endian"),
            (b"OggS\0\0\0\0WAVE".to_vec(), "not a RIFF"),
            (b"RIFF\0\0\0\0AVI ".to_vec(), "not WAVE"),
            (riff(&[]), "no fmt chunk"),
            (riff(std::slice::from_ref(&good_fmt)), "no data chunk"),
            (riff(std::slice::from_ref(&data)), "no fmt chunk"),
            (riff(&[good_fmt[..20].to_vec()]), "fmt chunk is truncated"),
            (with_fmt(&[1, 0, 1, 0]), "at least 16"),
            (with_fmt(&fmt_body(FORMAT_PCM, 0, 16_000, 16)), "0 channels"),
            (with_fmt(&fmt_body(FORMAT_PCM, 1, 0, 16)), "0 Hz"),
            (with_fmt(&fmt_body(FORMAT_PCM, 1, 16_000, 0)), "0-bit PCM"),
            (with_fmt(&fmt_body(FORMAT_PCM, 1, 16_000, 40)), "40-bit PCM"),
            (
                with_fmt(&fmt_body(FORMAT_FLOAT, 1, 16_000, 16)),
                "16-bit float",
            ),
            (with_fmt(&fmt_body(6, 1, 8000, 8)), "A-law"),
            (with_fmt(&fmt_body(7, 1, 8000, 8)), "mu-law"),
            (with_fmt(&fmt_body(2, 1, 8000, 4)), "Microsoft ADPCM"),
            (with_fmt(&fmt_body(0x1234, 1, 8000, 8)), "0x1234"),
            (with_fmt(&extensible_body(6, 1, 8000, 8, 8)), "A-law"),
            (
                with_fmt(&extensible_body(FORMAT_PCM, 1, 8000, 16, 16)[..24]),
                "40 are needed",
            ),
        ];
        for (bytes, expected) in cases {
            let r = reason(&bytes);
            assert!(r.contains(expected), "{expected:?} not in {r:?}");
        }
        let mut odd_guid = extensible_body(FORMAT_PCM, 1, 8000, 16, 16);
        odd_guid[39] ^= 0xFF;
        assert!(reason(&with_fmt(&odd_guid)).contains("GUID"));
    }

    #[test]
    fn no_input_prefix_or_bit_flip_panics() {
        let data: Vec<u8> = (0..64u8).collect();
        let file = riff(&[
            chunk(b"fmt ", &extensible_body(FORMAT_FLOAT, 2, 44_100, 32, 32)),
            chunk(b"data", &data),
        ]);
        for len in 0..=file.len() {
            let _ = decode_wav(&file[..len]);
        }
        for i in 0..file.len() {
            for bit in 0..8 {
                let mut f = file.clone();
                f[i] ^= 1 << bit;
                let _ = decode_wav(&f);
            }
        }
    }
}
