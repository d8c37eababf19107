//! WAV decoding: the small, defensive, streaming RIFF/WAVE reader kept for
//! integer PCM and IEEE float, the WAVs nearly everyone meets (see
//! [`super::decode`] for why it is kept and what goes to `symphonia`).
//!
//! Reads PCM integer samples of 8 (unsigned), 16, 24 and 32 bits (and any
//! other depth up to 32 bits stored left-justified in whole bytes), IEEE float
//! of 32 and 64 bits, with any rate and channel count, in the classic
//! `WAVEFORMAT` header or in `WAVE_FORMAT_EXTENSIBLE`. `RF64` files are read
//! like `RIFF` ones. A-law, mu-law and the ADPCMs are recognised here and
//! decoded by `symphonia`.
//!
//! It reads from any [`Read`]: a file, a pipe, bytes in memory. The header
//! is read up to the `data` chunk (at most [`MAX_SKIPPED_BYTES`] of other
//! chunks before it), then the samples, no more of them than the caller's
//! [`Limit`] allows, so a stream that never ends is not read until memory
//! runs out.
//!
//! Damaged files are handled without panicking: a `data` size that runs past
//! the end of the data is clamped (streams written before their length was
//! known store `0xFFFFFFFF` or a guess), a trailing partial frame is dropped,
//! and everything else (no `fmt `/`data` chunk, truncated header, a header
//! whose fields contradict each other, unsupported encoding, zero channels)
//! is a reason that names what is wrong (an
//! [`Error::InvalidAudioFile`](crate::Error::InvalidAudioFile) for the
//! caller).

use std::io::Read;

use super::decode::{read_up_to, Failure, Limit};
use super::AudioBuffer;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_FLOAT: u16 = 0x0003;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is in the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Format tags that `symphonia` decodes: Microsoft ADPCM, A-law, mu-law,
/// IMA ADPCM.
const DELEGATED: [u16; 4] = [0x0002, 0x0006, 0x0007, 0x0011];
/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag.
const SUBFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// The most of a `fmt ` chunk that is read; the rest (no known format has
/// more than 40 meaningful bytes) is skipped.
const MAX_FMT_BYTES: u32 = 4096;
/// The most bytes of chunks other than `fmt ` (metadata, padding) skipped
/// before the `data` chunk; past that the input is not taken for a WAV file.
pub const MAX_SKIPPED_BYTES: u64 = 16 << 20;

/// What the start of an input is.
#[derive(Debug)]
pub(super) enum Riff {
    /// A WAV file of integer PCM or IEEE float, read up to the first byte
    /// of its `data` chunk: [`read_data`] reads the samples.
    Pcm(Header),
    /// A WAV file in an encoding that `symphonia` decodes (ADPCM, A-law,
    /// mu-law).
    Delegated,
    /// Not RIFF at all: another container, or no audio.
    Other,
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

/// A PCM or float WAV header: the format, and the `data` chunk's declared
/// size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Header {
    format: Format,
    data_len: u32,
}

/// What a `fmt ` chunk says.
enum Parsed {
    Pcm(Format),
    Delegated,
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

/// Skips `n` bytes; returns how many there were (fewer at the end).
fn skip<R: Read>(r: &mut R, n: u64) -> Result<u64, Failure> {
    std::io::copy(&mut r.take(n), &mut std::io::sink()).map_err(Failure::Io)
}

/// Reads the start of `r`: whether it is a WAV file, and for PCM and float
/// the header up to the samples.
pub(super) fn read_header<R: Read>(r: &mut R) -> Result<Riff, Failure> {
    let mut head = [0u8; 12];
    let n = read_up_to(r, &mut head)?;
    if n == 0 {
        return Err(Failure::invalid("no data (0 bytes)"));
    }
    match head.get(0..4) {
        Some(b"RIFF" | b"RF64") if n < 12 => {
            return Err(Failure::invalid(format!(
                "{n} bytes is too short for a RIFF/WAVE header (12 bytes)"
            )))
        }
        Some(b"RIFF" | b"RF64") => {}
        Some(b"RIFX") => return Err(Failure::invalid("big-endian RIFX files are not supported")),
        _ => return Ok(Riff::Other),
    }
    if &head[8..12] != b"WAVE" {
        return Err(Failure::invalid(
            "RIFF file is not WAVE (missing \"WAVE\" form type)",
        ));
    }

    let mut format = None;
    let mut skipped = 0u64;
    loop {
        let mut chunk = [0u8; 8];
        if read_up_to(r, &mut chunk)? < 8 {
            break;
        }
        let declared = u32_at(&chunk, 4);
        let padded = u64::from(declared) + u64::from(declared & 1);
        match &chunk[0..4] {
            b"fmt " => {
                let want = declared.min(MAX_FMT_BYTES) as usize;
                let mut body = vec![0u8; want];
                let got = read_up_to(r, &mut body)?;
                if got < want {
                    return Err(Failure::invalid(format!(
                        "fmt chunk is truncated ({got} of {declared} bytes present)"
                    )));
                }
                skip(r, padded - want as u64)?;
                format = Some(parse_format(&body).map_err(Failure::invalid)?);
            }
            b"data" => {
                return match format {
                    Some(Parsed::Pcm(format)) => Ok(Riff::Pcm(Header {
                        format,
                        data_len: declared,
                    })),
                    Some(Parsed::Delegated) => Ok(Riff::Delegated),
                    None => Err(Failure::invalid("no fmt chunk before the data chunk")),
                };
            }
            _ => {
                skipped += padded;
                if skipped > MAX_SKIPPED_BYTES {
                    return Err(Failure::invalid(format!(
                        "no data chunk in the first {MAX_SKIPPED_BYTES} bytes of other chunks"
                    )));
                }
                // A chunk clamped at the end of the input ends the walk.
                if skip(r, padded)? < padded {
                    break;
                }
            }
        }
    }
    Err(Failure::invalid(if format.is_none() {
        "no fmt chunk"
    } else {
        "no data chunk"
    }))
}

/// Checks a `fmt ` chunk and says how its samples are stored. Fields that
/// contradict each other are named: `bits_per_sample` 0, a `block_align`
/// that is not `channels` x the bytes of one sample.
fn parse_format(fmt: &[u8]) -> Result<Parsed, String> {
    if fmt.len() < 16 {
        return Err(format!(
            "fmt chunk has {} bytes, at least 16 are needed",
            fmt.len()
        ));
    }
    let mut tag = u16_at(fmt, 0);
    let channels = u16_at(fmt, 2);
    let sample_rate = u32_at(fmt, 4);
    let block_align = u16_at(fmt, 12);
    let bits = u16_at(fmt, 14);
    let extensible = tag == FORMAT_EXTENSIBLE;
    if extensible {
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
        let valid_bits = u16_at(fmt, 18);
        if valid_bits > bits {
            return Err(format!(
                "fmt chunk field valid_bits_per_sample is {valid_bits}, more than its \
                 bits_per_sample {bits}"
            ));
        }
    }
    if channels == 0 {
        return Err("fmt chunk declares 0 channels (field channels)".into());
    }
    if sample_rate == 0 {
        return Err("fmt chunk declares a sample rate of 0 Hz (field sample_rate)".into());
    }
    if bits == 0 {
        return Err("fmt chunk field bits_per_sample is 0 (0-bit samples)".into());
    }
    if DELEGATED.contains(&tag) {
        // Their block_align is the size of a compressed block: symphonia
        // checks it against the codec.
        return Ok(Parsed::Delegated);
    }
    let bytes = usize::from(bits).div_ceil(8);
    let encoding = match tag {
        FORMAT_PCM if (1..=4).contains(&bytes) => Encoding::Int { bytes },
        FORMAT_PCM => return Err(format!("{bits}-bit PCM is not supported (1 to 32 bits)")),
        FORMAT_FLOAT if bits == 32 || bits == 64 => Encoding::Float { bytes },
        FORMAT_FLOAT => return Err(format!("{bits}-bit float is not supported (32 or 64 bits)")),
        _ => {
            return Err(format!(
                "unsupported encoding {} (format tag {tag:#06x}); only PCM, IEEE float, \
                 A-law, mu-law and ADPCM are read",
                format_name(tag)
            ))
        }
    };
    // Samples are stored left-justified in whole bytes: block_align is
    // channels x those bytes, or for integer PCM in a classic header
    // channels x a wider container of up to 4 bytes (24-bit audio in 4-byte
    // words).
    let block = usize::from(block_align);
    let per_channel = usize::from(channels);
    let container = block / per_channel;
    let matches = block == per_channel * bytes
        || (tag == FORMAT_PCM
            && !extensible
            && block.is_multiple_of(per_channel)
            && (bytes..=4).contains(&container));
    if !matches {
        return Err(format!(
            "fmt chunk field block_align is {block_align}, but {channels} channel(s) x \
             {bytes} byte(s) per {bits}-bit sample is {}",
            per_channel * bytes
        ));
    }
    let encoding = match encoding {
        Encoding::Int { .. } => Encoding::Int { bytes: container },
        float => float,
    };
    Ok(Parsed::Pcm(Format {
        channels,
        sample_rate,
        encoding,
    }))
}

/// Reads the samples of the `data` chunk that [`read_header`] reached: its
/// declared size, less when the input ends first, and no more frames than
/// `limit` allows for the rate ([`Failure::TooLong`] past that).
pub(super) fn read_data<R: Read>(
    r: &mut R,
    header: Header,
    limit: Limit,
) -> Result<AudioBuffer, Failure> {
    let Format {
        channels,
        sample_rate,
        encoding,
    } = header.format;
    let frame_bytes = (usize::from(channels) * encoding.bytes()) as u64;
    let max_bytes = limit
        .frames(sample_rate, channels)
        .saturating_mul(frame_bytes);
    let want = u64::from(header.data_len).min(max_bytes.saturating_add(frame_bytes));
    // Reserve what the header declares (up to 64 MiB, it may lie), so that
    // the read does not grow the buffer step by step.
    let mut data = Vec::with_capacity(want.min(64 << 20) as usize);
    r.take(want).read_to_end(&mut data).map_err(Failure::Io)?;
    if data.len() as u64 > max_bytes {
        return Err(limit.too_long());
    }
    let usable = data.len() - data.len() % frame_bytes as usize;
    Ok(AudioBuffer {
        samples: decode_samples(&data[..usable], encoding),
        sample_rate,
        channels,
    })
}

/// Converts whole samples to f32 (full scale of the container = 1.0).
fn decode_samples(data: &[u8], encoding: Encoding) -> Vec<f32> {
    match encoding {
        Encoding::Int { bytes: 1 } => data
            .iter()
            .map(|&b| (f32::from(b) - 128.0) / 128.0)
            .collect(),
        Encoding::Int { bytes: 2 } => data
            .chunks_exact(2)
            .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])) / 32_768.0)
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
    use crate::audio::decode_wav;
    use crate::Error;

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
            Err(Error::InvalidAudioFile {
                path: None, reason, ..
            }) => reason,
            other => panic!("expected InvalidAudioFile, got {other:?}"),
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
        // A block align too small for the bits contradicts them.
        let mut fmt = fmt_body(FORMAT_PCM, 1, 44_100, 16);
        fmt[12..14].copy_from_slice(&1u16.to_le_bytes());
        let f = riff(&[chunk(b"fmt ", &fmt), chunk(b"data", &[0x00, 0x40])]);
        assert!(reason(&f).contains("block_align is 1"), "{}", reason(&f));
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
        let with_block_align = |mut body: Vec<u8>, block_align: u16| {
            body[12..14].copy_from_slice(&block_align.to_le_bytes());
            with_fmt(&body)
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "0 bytes"),
            (b"RIFF".to_vec(), "too short"),
            (b"RIFX\0\0\0\0WAVE".to_vec(), "big-endian"),
            (b"OggS\0\0\0\0WAVE".to_vec(), "corrupt container"),
            (b"RIFF\0\0\0\0AVI ".to_vec(), "not WAVE"),
            (riff(&[]), "no fmt chunk"),
            (riff(std::slice::from_ref(&good_fmt)), "no data chunk"),
            (riff(std::slice::from_ref(&data)), "no fmt chunk"),
            (riff(&[good_fmt[..20].to_vec()]), "fmt chunk is truncated"),
            (with_fmt(&[1, 0, 1, 0]), "at least 16"),
            (with_fmt(&fmt_body(FORMAT_PCM, 0, 16_000, 16)), "0 channels"),
            (with_fmt(&fmt_body(FORMAT_PCM, 1, 0, 16)), "0 Hz"),
            (
                with_fmt(&fmt_body(FORMAT_PCM, 1, 16_000, 0)),
                "bits_per_sample is 0",
            ),
            (
                with_fmt(&fmt_body(FORMAT_FLOAT, 2, 16_000, 0)),
                "bits_per_sample is 0",
            ),
            (
                with_block_align(fmt_body(FORMAT_PCM, 2, 16_000, 16), 2),
                "block_align is 2",
            ),
            (
                with_block_align(fmt_body(FORMAT_PCM, 2, 16_000, 16), 5),
                "block_align is 5",
            ),
            (
                with_block_align(fmt_body(FORMAT_PCM, 2, 16_000, 16), 10),
                "block_align is 10",
            ),
            (
                with_block_align(fmt_body(FORMAT_FLOAT, 1, 16_000, 32), 8),
                "block_align is 8",
            ),
            (
                with_block_align(extensible_body(FORMAT_PCM, 2, 16_000, 24, 24), 8),
                "block_align is 8",
            ),
            (
                with_fmt(&extensible_body(FORMAT_PCM, 1, 16_000, 16, 20)),
                "valid_bits_per_sample is 20",
            ),
            (with_fmt(&fmt_body(FORMAT_PCM, 1, 16_000, 40)), "40-bit PCM"),
            (
                with_fmt(&fmt_body(FORMAT_FLOAT, 1, 16_000, 16)),
                "16-bit float",
            ),
            (with_fmt(&fmt_body(0x0031, 1, 8000, 8)), "GSM 6.10"),
            (with_fmt(&fmt_body(0x1234, 1, 8000, 8)), "0x1234"),
            (with_fmt(&extensible_body(0x0055, 1, 8000, 8, 8)), "MP3"),
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
    fn a_law_mu_law_and_adpcm_go_to_symphonia() {
        for (tag, name) in [(6u16, "A-law"), (7, "mu-law")] {
            // WAVEFORMATEX: the 16 bytes and a cbSize of 0.
            let mut fmt = fmt_body(tag, 1, 8000, 8);
            fmt.extend_from_slice(&[0, 0]);
            let f = riff(&[
                chunk(b"fmt ", &fmt),
                chunk(b"data", &[0xD5, 0x55, 0xFF, 0x7F, 0x80, 0x00]),
            ]);
            let a = decode_wav(&f).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((a.sample_rate, a.channels, a.samples.len()), (8000, 1, 6));
            assert!(a.samples.iter().all(|s| s.abs() <= 1.0), "{name}: {a:?}");
        }
        // An ADPCM header without its extension is symphonia's to reject.
        let r = reason(&riff(&[
            chunk(b"fmt ", &fmt_body(2, 1, 8000, 4)),
            chunk(b"data", &[0; 8]),
        ]));
        assert!(r.contains("header"), "{r}");
    }

    #[test]
    fn reading_stops_at_the_limit() {
        let data = vec![0u8; 2 * 8000 + 2];
        let f = riff(&[
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 1, 8000, 16)),
            chunk(b"data", &data),
        ]);
        let a = crate::audio::decode_bytes(&f[..f.len() - 2], 1.0).unwrap();
        assert_eq!(a.samples.len(), 8000);
        match crate::audio::decode_bytes(&f, 1.0) {
            Err(Error::InvalidAudio(reason)) => {
                assert!(reason.contains("exceeds the limit of 1 s"), "{reason}")
            }
            other => panic!("expected InvalidAudio, got {other:?}"),
        }
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
