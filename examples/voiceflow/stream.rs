//! `voiceflow stream`: live captions from an audio file (WAV, FLAC, MP3, Ogg
//! Vorbis, M4A/AAC) or raw s16le on stdin.

use std::io::{IsTerminal, Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use voiceflow_core::stream::{Partial, StreamObserver, StreamOptions, StreamingSession};
use voiceflow_core::{Device, Error, Segment};

/// Audio handed to the session at a time.
const CHUNK_S: f64 = 0.1;
/// Wait before pushing again when the session's backlog is full.
const BACKOFF: Duration = Duration::from_millis(20);

#[derive(clap::Args)]
pub struct StreamArgs {
    /// Model folder, or the name of an installed model (`voiceflow models
    /// list`).
    #[arg(long, default_value = "tiny.en")]
    model: PathBuf,
    /// Language code (multilingual models detect it when left out).
    #[arg(long)]
    language: Option<String>,
    /// ONNX Runtime intra-op threads.
    #[arg(long)]
    threads: Option<usize>,
    /// Where the model runs: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: Device,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH or runtime/ of the project).
    #[arg(long)]
    runtime: Option<PathBuf>,
    /// Silero VAD graph (default: silero-vad/silero_vad.onnx beside the model folder).
    #[arg(long)]
    vad_model: Option<PathBuf>,
    /// Feed the audio at real-time pace (default: as fast as it is taken).
    #[arg(long)]
    realtime: bool,
    /// Print each final's start and end time.
    #[arg(long)]
    timestamps: bool,
    /// Silence that ends an utterance, in milliseconds.
    #[arg(long, default_value_t = 500)]
    min_silence_ms: u32,
    /// Milliseconds between partials.
    #[arg(long, default_value_t = 500)]
    partial_interval_ms: u64,
    /// Sample rate of raw audio on stdin.
    #[arg(long, default_value_t = 16_000)]
    rate: u32,
    /// Channels of raw audio on stdin.
    #[arg(long, default_value_t = 1)]
    channels: u16,
    /// An audio file (WAV, FLAC, MP3, Ogg Vorbis, M4A/AAC), or `-` for raw
    /// signed 16-bit little-endian PCM on stdin.
    input: PathBuf,
}

/// Prints partials in place on a terminal and finals as lines.
struct Captions {
    terminal: bool,
    timestamps: bool,
}

impl Captions {
    fn clear(&self, out: &mut impl Write) {
        if self.terminal {
            let _ = write!(out, "\r\x1b[K");
        }
    }
}

impl StreamObserver for Captions {
    fn on_partial(&mut self, partial: &Partial) -> ControlFlow<()> {
        if self.terminal {
            let mut out = std::io::stdout().lock();
            self.clear(&mut out);
            let _ = write!(out, "{}", partial.text);
            let _ = out.flush();
        }
        ControlFlow::Continue(())
    }

    fn on_final(&mut self, segment: &Segment) -> ControlFlow<()> {
        let mut out = std::io::stdout().lock();
        self.clear(&mut out);
        let _ = if self.timestamps {
            writeln!(
                out,
                "[{:7.2} - {:7.2}] {}",
                segment.start, segment.end, segment.text
            )
        } else {
            writeln!(out, "{}", segment.text)
        };
        let _ = out.flush();
        ControlFlow::Continue(())
    }

    fn on_error(&mut self, error: &Error) {
        eprintln!("voiceflow: {}", voiceflow_core::error::chain(error));
    }
}

/// Interleaved samples in chunks of [`CHUNK_S`], with their rate and channels.
struct Source {
    reader: Box<dyn FnMut() -> std::io::Result<Option<Vec<f32>>>>,
    rate: u32,
    channels: u16,
}

fn open(args: &StreamArgs) -> voiceflow_core::Result<Source> {
    if args.input.as_os_str() == "-" {
        let frames = ((f64::from(args.rate) * CHUNK_S) as usize).max(1);
        let bytes = frames * usize::from(args.channels.max(1)) * 2;
        let mut stdin = std::io::stdin().lock();
        let mut pending = Vec::new();
        return Ok(Source {
            reader: Box::new(move || {
                let mut buffer = vec![0u8; bytes];
                let n = stdin.read(&mut buffer)?;
                if n == 0 {
                    return Ok(None);
                }
                pending.extend_from_slice(&buffer[..n]);
                let whole = pending.len() / 2 * 2;
                let samples = pending[..whole]
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                    .collect();
                pending.drain(..whole);
                Ok(Some(samples))
            }),
            rate: args.rate,
            channels: args.channels,
        });
    }
    let wav = voiceflow_core::audio::read_wav(&args.input)?;
    let step = ((f64::from(wav.sample_rate) * CHUNK_S) as usize).max(1) * usize::from(wav.channels);
    let mut at = 0;
    let samples = wav.samples;
    Ok(Source {
        reader: Box::new(move || {
            let chunk = samples[at.min(samples.len())..(at + step).min(samples.len())].to_vec();
            at += step;
            Ok((!chunk.is_empty()).then_some(chunk))
        }),
        rate: wav.sample_rate,
        channels: wav.channels,
    })
}

/// Pushes a chunk, waiting while the session's backlog is full.
fn push(
    session: &StreamingSession,
    chunk: &[f32],
    rate: u32,
    channels: u16,
) -> voiceflow_core::Result<()> {
    loop {
        match session.push(chunk, rate, channels) {
            Err(Error::QueueFull { .. }) => std::thread::sleep(BACKOFF),
            other => return other,
        }
    }
}

fn feed(
    session: &StreamingSession,
    mut source: Source,
    realtime: bool,
) -> voiceflow_core::Result<()> {
    let started = Instant::now();
    let mut sent_s = 0.0;
    while let Some(chunk) = (source.reader)().map_err(|e| Error::io("-", e))? {
        if chunk.is_empty() {
            continue;
        }
        if realtime {
            let due = Duration::from_secs_f64(sent_s);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        push(session, &chunk, source.rate, source.channels)?;
        sent_s +=
            chunk.len() as f64 / f64::from(source.channels.max(1)) / f64::from(source.rate.max(1));
    }
    Ok(())
}

/// Runs `voiceflow stream`.
pub fn run(args: &StreamArgs) -> ExitCode {
    let Some(engine) = super::load_engine(
        &args.model,
        args.threads,
        args.runtime.as_deref(),
        args.device,
    ) else {
        return ExitCode::from(2);
    };
    let mut options = StreamOptions::default();
    options.transcribe.language = args.language.clone();
    options.vad.model = args.vad_model.clone();
    options.vad.min_silence_duration_ms = args.min_silence_ms;
    options.partial_interval = Some(Duration::from_millis(args.partial_interval_ms.max(1)));
    let captions = Captions {
        terminal: std::io::stdout().is_terminal(),
        timestamps: args.timestamps,
    };
    let result = open(args).and_then(|source| {
        let session = Arc::new(engine).stream(options, captions)?;
        let fed = feed(&session, source, args.realtime);
        let transcript = session.finish()?;
        fed.map(|()| transcript)
    });
    match result {
        Ok(transcript) => {
            eprintln!(
                "{:.2} s of audio, {} segments; transcription took {:.3} s",
                transcript.duration_s,
                transcript.segments.len(),
                transcript.timings.total_s
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            ExitCode::FAILURE
        }
    }
}
