//! Audio files to PCM: WAV, FLAC, MP3, Ogg Vorbis and MP4/M4A AAC, from a
//! file (or a pipe, or a device) or from bytes in memory.
//!
//! The container is recognised by its content, not its name. WAV files of
//! integer PCM or IEEE float, the common case, are read by the small RIFF
//! reader of [`super::wav`]; everything else (FLAC, MP3, Ogg Vorbis, AAC in
//! MP4, and WAV in A-law, mu-law or ADPCM) is probed and decoded by
//! `symphonia`. The RIFF reader is kept because it reads WAVs that
//! symphonia 0.5 refuses (RF64, a `RIFF` size smaller than its chunks,
//! 24-bit samples in 4-byte words, any depth from 1 to 32 bits), because it
//! names the contradicting field of a bad `fmt ` chunk, and because it is
//! several times faster.
//!
//! # Bounds
//!
//! Input is read as it is decoded, never whole, and decoding stops with a
//! typed error instead of running out of memory:
//!
//! - past the caller's longest duration (the engine's
//!   [`crate::EngineConfig::max_audio_duration_s`]), or past
//!   [`MAX_DECODED_SAMPLES`] whatever the duration:
//!   [`Error::InvalidAudio`] saying the limit;
//! - a pipe, a device or anything else that is not a regular file is read
//!   for at most [`MAX_STREAM_BYTES`] ([`Error::InvalidAudio`] too), so a
//!   stream of junk that decodes to nothing ends as well;
//! - more than [`MAX_CONSECUTIVE_BAD_PACKETS`] packets in a row that do not
//!   decode end with [`Error::InvalidAudioFile`].
//!
//! A pipe that stays open and sends nothing blocks the read, as any read of
//! it would: the bounds are on what arrives, not on time.
//!
//! Every other problem (not audio, a corrupt or truncated header, a codec
//! that is not compiled in) is an [`Error::InvalidAudioFile`] whose reason
//! says what is wrong, with symphonia's error as its source when it found
//! it. A file that cannot be opened or read is an [`Error::Io`]. Decoding
//! never panics: a panic inside symphonia on hostile input is caught and
//! reported as an [`Error::InvalidAudioFile`].

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::wav::{self, Riff};
use super::AudioBuffer;
use crate::error::Source;
use crate::{Error, Result};

/// The most samples (all channels together) decoded from one input,
/// whatever duration the caller allows: 2^30 f32 values, 4 GiB, about 6 h
/// of 48-kHz stereo.
pub const MAX_DECODED_SAMPLES: u64 = 1 << 30;

/// The most bytes read from an input that is not a regular file (a pipe, a
/// character device, a socket): 4 GiB.
pub const MAX_STREAM_BYTES: u64 = 4 << 30;

/// Packets in a row that fail to decode before the input is given up as
/// corrupt (single damaged packets are skipped, as players do).
pub const MAX_CONSECUTIVE_BAD_PACKETS: usize = 256;

/// The formats named in messages.
const FORMATS: &str = "WAV, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC";

/// Why decoding failed, before it is told which file it was.
#[derive(Debug)]
pub(super) enum Failure {
    /// Not audio, corrupt, or unsupported: [`Error::InvalidAudioFile`].
    Invalid {
        reason: String,
        source: Option<Source>,
    },
    /// Longer than allowed: [`Error::InvalidAudio`].
    TooLong(String),
    /// Reading failed: [`Error::Io`] for a file.
    Io(std::io::Error),
}

impl Failure {
    /// A [`Failure::Invalid`] without a cause.
    pub(super) fn invalid(reason: impl Into<String>) -> Failure {
        Failure::Invalid {
            reason: reason.into(),
            source: None,
        }
    }

    /// A [`Failure::Invalid`] caused by symphonia's `error`; an I/O error
    /// that is a bound becomes [`Failure::TooLong`].
    fn symphonia(reason: impl Into<String>, error: SymphoniaError) -> Failure {
        if let SymphoniaError::IoError(io) = &error {
            if let Some(too_long) = too_long(io) {
                return too_long;
            }
        }
        Failure::Invalid {
            reason: reason.into(),
            source: Some(Box::new(error)),
        }
    }

    fn into_error(self, path: Option<&Path>) -> Error {
        match self {
            Failure::Invalid { reason, source } => Error::InvalidAudioFile {
                path: path.map(Path::to_path_buf),
                reason,
                source,
            },
            Failure::TooLong(reason) => Error::InvalidAudio(reason),
            Failure::Io(io) => match (too_long(&io), path) {
                (Some(too_long), _) => too_long.into_error(path),
                (None, Some(path)) => Error::io(path, io),
                (None, None) => Error::InvalidAudioFile {
                    path: None,
                    reason: "the data could not be read".into(),
                    source: Some(Box::new(io)),
                },
            },
        }
    }
}

/// The bound that stopped a read of a stream, when `io` is that.
fn too_long(io: &std::io::Error) -> Option<Failure> {
    io.get_ref()
        .and_then(|e| e.downcast_ref::<StreamTooLong>())
        .map(|e| Failure::TooLong(e.to_string()))
}

/// How much audio one input may decode to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limit {
    max_duration_s: f64,
}

impl Limit {
    /// At most `max_duration_s` (positive; infinite for no limit but
    /// [`MAX_DECODED_SAMPLES`]).
    fn new(max_duration_s: f64) -> Result<Limit> {
        if max_duration_s.is_nan() || max_duration_s <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "the longest audio to decode must be a positive number of seconds, got \
                 {max_duration_s}"
            )));
        }
        Ok(Limit { max_duration_s })
    }

    /// The most frames at `rate` with `channels`.
    pub(super) fn frames(self, rate: u32, channels: u16) -> u64 {
        let by_time = (self.max_duration_s * f64::from(rate)).floor();
        let by_time = if by_time >= u64::MAX as f64 {
            u64::MAX
        } else {
            by_time as u64
        };
        by_time.min(MAX_DECODED_SAMPLES / u64::from(channels.max(1)))
    }

    /// The failure of an input longer than the limit.
    pub(super) fn too_long(self) -> Failure {
        if self.max_duration_s.is_finite() {
            Failure::TooLong(format!(
                "the audio exceeds the limit of {} s (decoding stopped there)",
                self.max_duration_s
            ))
        } else {
            Failure::TooLong(format!(
                "the audio exceeds the decoder's limit of {MAX_DECODED_SAMPLES} samples"
            ))
        }
    }
}

/// Fills `buf` from `r` as far as the input goes; returns the bytes read.
pub(super) fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, Failure> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Failure::Io(e)),
        }
    }
    Ok(filled)
}

/// Decodes an audio file held in memory (any supported format) into
/// interleaved f32 samples in [-1, 1], at most `max_duration_s` of them
/// (`f64::INFINITY`: up to [`MAX_DECODED_SAMPLES`]).
///
/// Errors: [`Error::InvalidAudioFile`] (no path) for data that is not a
/// supported audio file or is corrupt, [`Error::InvalidAudio`] past the
/// limit, [`Error::InvalidArgument`] for a `max_duration_s` that is not
/// positive.
pub fn decode_bytes(bytes: &[u8], max_duration_s: f64) -> Result<AudioBuffer> {
    let limit = Limit::new(max_duration_s)?;
    decode_slice(bytes, limit).map_err(|f| f.into_error(None))
}

fn decode_slice(bytes: &[u8], limit: Limit) -> Result<AudioBuffer, Failure> {
    let mut reader = bytes;
    let hint = match wav::read_header(&mut reader)? {
        Riff::Pcm(header) => return wav::read_data(&mut reader, header, limit),
        Riff::Delegated => wav_hint(),
        Riff::Other => Hint::new(),
    };
    decode_with_symphonia(Box::new(Cursor::new(bytes.to_vec())), hint, limit)
}

/// Reads and decodes an audio file (any supported format; also a pipe or a
/// device, see the [module](self) on bounds), at most `max_duration_s` of
/// it (`f64::INFINITY`: up to [`MAX_DECODED_SAMPLES`]).
///
/// Errors: [`Error::Io`] naming the path when it cannot be opened or read,
/// [`Error::InvalidAudioFile`] naming it when it is not a supported audio
/// file or is corrupt, [`Error::InvalidAudio`] past a limit,
/// [`Error::InvalidArgument`] for a `max_duration_s` that is not positive.
pub fn read_file(path: impl AsRef<Path>, max_duration_s: f64) -> Result<AudioBuffer> {
    let path = path.as_ref();
    let limit = Limit::new(max_duration_s)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let regular = file
        .metadata()
        .map_err(|e| Error::io(path, e))?
        .file_type()
        .is_file();
    decode_file(file, regular, path, limit).map_err(|f| f.into_error(Some(path)))
}

fn decode_file(
    file: File,
    regular: bool,
    path: &Path,
    limit: Limit,
) -> Result<AudioBuffer, Failure> {
    let cap = if regular { u64::MAX } else { MAX_STREAM_BYTES };
    let mut reader = Recorder {
        inner: BufReader::with_capacity(64 << 10, Capped::new(file, cap)),
        log: Vec::new(),
    };
    let hint = match wav::read_header(&mut reader)? {
        Riff::Pcm(header) => return wav::read_data(&mut reader.inner, header, limit),
        Riff::Delegated => wav_hint(),
        Riff::Other => {
            let mut hint = Hint::new();
            if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
                hint.with_extension(extension);
            }
            hint
        }
    };
    let Recorder { inner, log } = reader;
    let source: Box<dyn MediaSource> = if regular {
        // From the start again, seekable: MP4 files keep their index
        // (`moov`) after the samples.
        let mut file = inner.into_inner().into_inner();
        file.seek(SeekFrom::Start(0)).map_err(Failure::Io)?;
        Box::new(file)
    } else {
        // A stream cannot go back: what the header check read first, then
        // the rest.
        Box::new(ReadOnlySource::new(Cursor::new(log).chain(inner)))
    };
    decode_with_symphonia(source, hint, limit)
}

fn wav_hint() -> Hint {
    let mut hint = Hint::new();
    hint.with_extension("wav");
    hint
}

/// Decodes the first audio track of `source` with symphonia, catching a
/// panic of its decoders as a failure.
fn decode_with_symphonia(
    source: Box<dyn MediaSource>,
    hint: Hint,
    limit: Limit,
) -> Result<AudioBuffer, Failure> {
    catch_unwind(AssertUnwindSafe(|| symphonia_decode(source, hint, limit))).unwrap_or_else(|_| {
        Err(Failure::invalid(
            "the decoder failed on this data (it is corrupt)",
        ))
    })
}

fn symphonia_decode(
    source: Box<dyn MediaSource>,
    hint: Hint,
    limit: Limit,
) -> Result<AudioBuffer, Failure> {
    let stream = MediaSourceStream::new(source, Default::default());
    let options = FormatOptions {
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &options, &MetadataOptions::default())
        .map_err(|e| match e {
            SymphoniaError::Unsupported(_) => {
                Failure::symphonia(format!("not a supported audio file ({FORMATS})"), e)
            }
            e => Failure::symphonia("corrupt container header", e),
        })?;
    let mut reader = probed.format;
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| Failure::invalid("no audio track"))?;
    let track_id = track.id;
    let time_base = track.codec_params.time_base;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| Failure::symphonia("unsupported codec", e))?;

    let mut samples: Vec<f32> = Vec::new();
    let mut spec: Option<(u32, u16)> = None;
    let mut max_samples = u64::MAX;
    let mut buffer: Option<SampleBuffer<f32>> = None;
    let mut bad_in_a_row = 0;
    let mut last_error = None;
    // The packets' own duration, before gapless trimming: a stream that
    // trims to nothing (an MP3 repeated after its declared length) still
    // reaches the limit.
    let mut ticks = 0u64;
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            // A new chained stream begins: the first one is the audio.
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(Failure::symphonia("corrupt container", e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let untrimmed =
            packet.dur() + u64::from(packet.trim_start()) + u64::from(packet.trim_end());
        ticks = ticks.saturating_add(untrimmed);
        if let Some(time_base) = time_base {
            let time = time_base.calc_time(ticks);
            if time.seconds as f64 + time.frac > limit.max_duration_s {
                return Err(limit.too_long());
            }
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(e @ (SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_))) => {
                bad_in_a_row += 1;
                if bad_in_a_row > MAX_CONSECUTIVE_BAD_PACKETS {
                    return Err(Failure::symphonia(
                        format!("{bad_in_a_row} packets in a row do not decode"),
                        e,
                    ));
                }
                last_error = Some(e);
                continue;
            }
            Err(e) => return Err(Failure::symphonia("decoding failed", e)),
        };
        bad_in_a_row = 0;
        let rate = decoded.spec().rate;
        let channels = decoded.spec().channels.count();
        let channels = u16::try_from(channels)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| Failure::invalid(format!("{channels} channels")))?;
        match spec {
            None => {
                if rate == 0 {
                    return Err(Failure::invalid("a sample rate of 0 Hz"));
                }
                spec = Some((rate, channels));
                max_samples = limit
                    .frames(rate, channels)
                    .saturating_mul(u64::from(channels));
            }
            Some(first) if first != (rate, channels) => {
                return Err(Failure::invalid(format!(
                    "the stream changes from {} Hz x {} to {rate} Hz x {channels} channels",
                    first.0, first.1
                )))
            }
            Some(_) => {}
        }
        if decoded.frames() == 0 {
            continue;
        }
        let needed = decoded.frames() * usize::from(channels);
        if buffer.as_ref().is_none_or(|buf| buf.capacity() < needed) {
            buffer = Some(SampleBuffer::new(
                decoded.capacity() as u64,
                *decoded.spec(),
            ));
        }
        let Some(buf) = buffer.as_mut() else {
            continue;
        };
        buf.copy_interleaved_ref(decoded);
        if samples.len() as u64 + buf.samples().len() as u64 > max_samples {
            return Err(limit.too_long());
        }
        samples.extend_from_slice(buf.samples());
    }
    match spec {
        Some((sample_rate, channels)) if !samples.is_empty() => Ok(AudioBuffer {
            samples,
            sample_rate,
            channels,
        }),
        _ => Err(Failure::Invalid {
            reason: "no audio could be decoded".into(),
            source: last_error.map(|e| Box::new(e) as Source),
        }),
    }
}

/// The error a [`Capped`] reader gives past its bound.
#[derive(Debug)]
struct StreamTooLong(u64);

impl std::fmt::Display for StreamTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the stream is longer than the limit of {} bytes (not a regular file; reading \
             stopped there)",
            self.0
        )
    }
}

impl std::error::Error for StreamTooLong {}

/// A reader that fails with [`StreamTooLong`] once `left` bytes are read.
struct Capped<R> {
    inner: R,
    cap: u64,
    left: u64,
}

impl<R> Capped<R> {
    fn new(inner: R, cap: u64) -> Capped<R> {
        Capped {
            inner,
            cap,
            left: cap,
        }
    }

    fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 && !buf.is_empty() {
            // One more byte tells a stream of exactly `cap` bytes from a
            // longer one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(StreamTooLong(self.cap))),
            };
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..n])?;
        self.left -= read as u64;
        Ok(read)
    }
}

/// A reader that keeps a copy of what it reads (the header check's few
/// bytes), so that a stream can be handed on from its start.
struct Recorder<R> {
    inner: R,
    log: Vec<u8>,
}

impl<R: Read> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.log.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reads_fail_past_the_cap_only() {
        let mut exact = Capped::new(&[1u8, 2, 3][..], 3);
        let mut out = Vec::new();
        exact.read_to_end(&mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
        let mut long = Capped::new(&[1u8, 2, 3, 4][..], 3);
        let err = long.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(matches!(too_long(&err), Some(Failure::TooLong(_))), "{err}");
    }

    #[test]
    fn limits_are_positive() {
        for bad in [0.0, -1.0, f64::NAN] {
            assert!(matches!(
                decode_bytes(b"RIFF", bad),
                Err(Error::InvalidArgument(_))
            ));
        }
        let limit = Limit::new(f64::INFINITY).unwrap();
        assert_eq!(limit.frames(48_000, 2), MAX_DECODED_SAMPLES / 2);
        assert_eq!(Limit::new(1.5).unwrap().frames(16_000, 1), 24_000);
    }

    #[test]
    fn junk_is_not_audio() {
        let junk: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        match decode_bytes(&junk, 10.0) {
            Err(Error::InvalidAudioFile {
                path: None,
                reason,
                source,
            }) => {
                assert!(reason.contains("not a supported audio file"), "{reason}");
                assert!(source.is_some());
            }
            other => panic!("expected InvalidAudioFile, got {other:?}"),
        }
    }
}
