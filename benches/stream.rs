//! Streaming latency and quality with tiny.en, at real-time pace: the five
//! speech fixtures joined with 1.5 s of silence (28 s), and a long
//! concatenation of them (`VOICEFLOW_BENCH_REPEAT` times, default 3).
//!
//! `cargo bench --bench stream` (about three minutes: the real-time runs take
//! real time). Reports, per run:
//! - speech start -> first partial of that utterance (wall clock);
//! - end of speech -> its final, and the same less the VAD's silence wait
//!   (`min_silence_duration_ms`, 500 ms by default);
//! - partial revisions: partials whose words are not the previous partial's
//!   words continued (same utterance);
//! - WER of the finals against offline transcription of the same audio, and
//!   both against the fixtures' texts;
//! - real-time factor fed as fast as it is taken, with 1 and with 10
//!   concurrent sessions on one engine.
//!
//! Model from `VOICEFLOW_MODEL_DIR` or `models/whisper-tiny.en-float32`; intra-op
//! threads from `VOICEFLOW_BENCH_THREADS` (default 2).

#[path = "../tests/common/mod.rs"]
mod common;

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use voiceflow_core::stream::{Partial, StreamObserver, StreamOptions, StreamingSession};
use voiceflow_core::{Engine, EngineConfig, Error, Segment, TranscribeOptions};

const GAP_S: f64 = 1.5;
const CHUNK: usize = 1600;

/// What a session reported, with wall-clock arrival times.
#[derive(Default)]
struct Log {
    partials: Vec<(Instant, Partial)>,
    finals: Vec<(Instant, Segment)>,
}

#[derive(Clone)]
struct Recorder(Arc<Mutex<Log>>);

impl StreamObserver for Recorder {
    fn on_partial(&mut self, p: &Partial) -> ControlFlow<()> {
        self.0
            .lock()
            .unwrap()
            .partials
            .push((Instant::now(), p.clone()));
        ControlFlow::Continue(())
    }
    fn on_final(&mut self, s: &Segment) -> ControlFlow<()> {
        self.0
            .lock()
            .unwrap()
            .finals
            .push((Instant::now(), s.clone()));
        ControlFlow::Continue(())
    }
}

/// The fixtures `repeat` times with [`GAP_S`] of silence around each, the
/// clips' (start, end) in seconds and their texts.
fn recording(repeat: usize) -> (Vec<f32>, Vec<(f64, f64)>, String) {
    let gap = vec![0.0f32; (GAP_S * 16_000.0) as usize];
    let (mut audio, mut spans, mut text) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..repeat {
        for (file, reference) in common::manifest() {
            audio.extend_from_slice(&gap);
            let start = audio.len() as f64 / 16_000.0;
            audio.extend(common::samples(&file));
            spans.push((start, audio.len() as f64 / 16_000.0));
            text.push(reference);
        }
    }
    audio.extend_from_slice(&gap);
    (audio, spans, text.join(" "))
}

fn push(session: &StreamingSession, chunk: &[f32]) {
    loop {
        match session.push(chunk, 16_000, 1) {
            Err(Error::QueueFull { .. }) => std::thread::sleep(Duration::from_millis(5)),
            other => return other.expect("push"),
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}

/// Words of `b` continue the words of `a`.
fn continues(a: &str, b: &str) -> bool {
    let (a, b) = (common::words(a), common::words(b));
    a.len() <= b.len() && a[..] == b[..a.len()]
}

fn realtime(engine: &Arc<Engine>, name: &str, repeat: usize) {
    let (audio, spans, reference) = recording(repeat);
    let options = StreamOptions::default();
    let silence_wait = f64::from(options.vad.min_silence_duration_ms) / 1000.0;
    let log = Arc::new(Mutex::new(Log::default()));
    let session = engine.stream(options, Recorder(Arc::clone(&log))).unwrap();
    let started = Instant::now();
    for (i, chunk) in audio.chunks(CHUNK).enumerate() {
        let due = Duration::from_secs_f64((i * CHUNK) as f64 / 16_000.0);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        push(&session, chunk);
    }
    let transcript = session.finish().unwrap();
    let log = log.lock().unwrap();
    let at = |t: Instant| t.duration_since(started).as_secs_f64();

    let (mut to_partial, mut to_final) = (Vec::new(), Vec::new());
    for &(start, end) in &spans {
        // Chunks arrive when their last sample is pushed: the clock of a
        // sample at t s is t + one chunk at most; measured from t itself.
        if let Some((t, _)) = log
            .partials
            .iter()
            .find(|(_, p)| f64::from(p.end) > start && f64::from(p.start) < end)
        {
            to_partial.push(at(*t) - start);
        }
        if let Some((t, _)) = log
            .finals
            .iter()
            .rfind(|(_, s)| f64::from(s.start) < end + 0.2 && f64::from(s.end) > start - 0.2)
        {
            to_final.push(at(*t) - end);
        }
    }
    let mut revised = 0;
    for pair in log.partials.windows(2) {
        let ((_, a), (_, b)) = (&pair[0], &pair[1]);
        if a.start == b.start && !continues(&a.text, &b.text) {
            revised += 1;
        }
    }
    let offline = engine
        .transcribe(&audio, 16_000, &TranscribeOptions::default())
        .unwrap();
    println!(
        "{name}: {:.1} s of audio, {} utterances, {} finals, {} partials",
        audio.len() as f64 / 16_000.0,
        spans.len(),
        log.finals.len(),
        log.partials.len()
    );
    println!(
        "  speech start -> first partial: median {:.2} s, max {:.2} s ({} of {} utterances had one)",
        median(to_partial.clone()),
        max(&to_partial),
        to_partial.len(),
        spans.len()
    );
    let beyond: Vec<f64> = to_final.iter().map(|t| t - silence_wait).collect();
    println!(
        "  end of speech -> final: median {:.2} s, max {:.2} s; beyond the {silence_wait:.1} s silence wait: median {:.2} s, max {:.2} s",
        median(to_final.clone()),
        max(&to_final),
        median(beyond.clone()),
        max(&beyond)
    );
    println!(
        "  partials revised: {revised} of {} ({:.0}%)",
        log.partials.len(),
        100.0 * revised as f64 / log.partials.len().max(1) as f64
    );
    println!(
        "  WER finals vs offline {:.2}%; vs reference: finals {:.2}%, offline {:.2}%",
        100.0 * common::wer(&offline.text, &transcript.text),
        100.0 * common::wer(&reference, &transcript.text),
        100.0 * common::wer(&reference, &offline.text)
    );
}

/// Real-time factor of `sessions` concurrent sessions fed as fast as taken.
fn throughput(engine: &Arc<Engine>, sessions: usize, repeat: usize) {
    let (audio, _, _) = recording(repeat);
    let audio = Arc::new(audio);
    let started = Instant::now();
    let workers: Vec<_> = (0..sessions)
        .map(|_| {
            let (engine, audio) = (Arc::clone(engine), Arc::clone(&audio));
            std::thread::spawn(move || {
                let options = StreamOptions {
                    partial_interval: None,
                    ..StreamOptions::default()
                };
                let session = engine.stream(options, ()).unwrap();
                for chunk in audio.chunks(CHUNK) {
                    push(&session, chunk);
                }
                session.finish().unwrap()
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    let seconds = audio.len() as f64 / 16_000.0;
    println!(
        "RTF, {sessions} concurrent session(s) of {seconds:.1} s each, fed as fast as taken (no partials): \
         {:.3} per stream ({wall:.1} s wall), {:.4} for all the audio",
        wall / seconds,
        wall / (seconds * sessions as f64)
    );
}

fn main() {
    let mut config = EngineConfig::new(common::model_dir());
    config.intra_op_threads = std::env::var("VOICEFLOW_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let repeat: usize = std::env::var("VOICEFLOW_BENCH_REPEAT")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(3);
    let engine = Arc::new(Engine::new(config).expect("tiny.en"));
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }
    realtime(&engine, "fixtures", 1);
    realtime(&engine, "long", repeat);
    throughput(&engine, 1, 1);
    throughput(&engine, 10, 1);
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at end: {}", load.trim());
    }
}
