//! Voice activity detection and streaming sessions, end to end with the
//! real Silero graph (`scripts/setup.sh vad`) and tiny.en: fixtures joined
//! with silence are pushed in small chunks, and the committed words, their
//! times and their stability are checked.

mod common;

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use common::{manifest, model_dir, samples, wer};
use voiceflow_core::stream::{Partial, StreamObserver, StreamOptions};
use voiceflow_core::vad::{SileroPool, SileroVad, SpeechDetector, Vad, VadOptions};
use voiceflow_core::{Engine, Error, Segment, TranscribeOptions};

/// Per-utterance bound, as for offline transcription of the same clips
/// (transcribe_e2e.rs): one wrong word in a short sentence passes.
const CLIP_WER: f64 = 0.15;
/// Seconds of silence between the clips: longer than the 500-ms silence
/// that ends an utterance.
const GAP_S: f64 = 1.5;

fn vad_model() -> PathBuf {
    std::env::var_os("VOICEFLOW_VAD_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("models/silero-vad/silero_vad.onnx"))
}

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    Arc::clone(ENGINE.get_or_init(|| {
        Arc::new(Engine::new(common::config(model_dir())).expect("tiny.en engine"))
    }))
}

fn silence(seconds: f64) -> Vec<f32> {
    vec![0.0; (seconds * 16_000.0) as usize]
}

/// White noise of a given RMS level from a fixed-seed generator
/// (xorshift), so every run hears the same noise.
fn noise(seconds: f64, rms: f32) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..(seconds * 16_000.0) as usize)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Uniform in [-1, 1) has RMS 1/sqrt(3).
            let uniform = (state >> 11) as f32 / (1u64 << 52) as f32 - 1.0;
            uniform * rms * 3f32.sqrt()
        })
        .collect()
}

/// A recording of the clips with [`GAP_S`] of silence before each and
/// after the last; returns it with each clip's (start, end) in seconds.
fn joined(files: &[&str]) -> (Vec<f32>, Vec<(f64, f64)>) {
    let mut audio = Vec::new();
    let mut spans = Vec::new();
    for file in files {
        audio.extend(silence(GAP_S));
        let start = audio.len() as f64 / 16_000.0;
        audio.extend(samples(file));
        spans.push((start, audio.len() as f64 / 16_000.0));
    }
    audio.extend(silence(GAP_S));
    (audio, spans)
}

fn reference(file: &str) -> String {
    manifest()
        .into_iter()
        .find(|(f, _)| f == file)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("{file} is not in the manifest"))
}

#[test]
fn silero_probabilities_match_the_python_reference() {
    // Probabilities of report.wav's frames from onnxruntime in Python with
    // the same graph (scripts: a 64-sample context before each 512-sample
    // frame, state carried over). Printed to 4 decimals: 5e-5 of rounding;
    // kernels on other CPUs differ by float rounding, far below 1e-3.
    let expected = [
        (0, 0.0053),
        (3, 0.9309),
        (30, 0.3941),
        (52, 0.0432),
        (53, 0.4944),
        (101, 0.1711),
        (126, 0.7041),
        (136, 0.0084),
    ];
    let mut vad = SileroVad::load(&vad_model(), None).expect("Silero VAD graph");
    let audio = samples("report.wav");
    let probabilities: Vec<f32> = audio
        .chunks_exact(vad.frame_len())
        .map(|frame| vad.probability(frame).unwrap())
        .collect();
    for (frame, p) in expected {
        assert!(
            (probabilities[frame] - p).abs() < 1e-3,
            "frame {frame}: {} vs {p}",
            probabilities[frame]
        );
    }
}

#[test]
fn streams_sharing_one_silero_session_keep_their_own_state() {
    // Two streams' frames interleaved on a pool of one session give each
    // stream exactly what it gets alone: the recurrent state is the
    // stream's, not the session's (same graph, same inputs: same floats).
    let pool = Arc::new(SileroPool::load(&vad_model(), None, 1).unwrap());
    let (report, door) = (samples("report.wav"), samples("door.wav"));
    let alone = |audio: &[f32]| -> Vec<f32> {
        let mut vad = SileroVad::load(&vad_model(), None).unwrap();
        audio
            .chunks_exact(512)
            .map(|frame| vad.probability(frame).unwrap())
            .collect()
    };
    let (mut a, mut b) = (SileroVad::new(pool.clone()), SileroVad::new(pool));
    let frames = report.len().min(door.len()) / 512;
    let (mut shared_a, mut shared_b) = (Vec::new(), Vec::new());
    for (fa, fb) in report.chunks_exact(512).zip(door.chunks_exact(512)) {
        shared_a.push(a.probability(fa).unwrap());
        shared_b.push(b.probability(fb).unwrap());
    }
    assert_eq!(shared_a, alone(&report)[..frames]);
    assert_eq!(shared_b, alone(&door)[..frames]);
    assert!(shared_a.iter().any(|&p| p > 0.5) && shared_b.iter().any(|&p| p > 0.5));
}

#[test]
fn the_detector_finds_each_clip_and_nothing_in_silence_or_noise() {
    let (mut audio, clips) = joined(&["report.wav", "door.wav"]);
    audio.extend(noise(2.0, 0.05));
    let vad = SileroVad::load(&vad_model(), None).unwrap();
    let spans = SpeechDetector::new(Box::new(vad), &VadOptions::default())
        .unwrap()
        .speech_spans(&audio)
        .unwrap();
    let spans: Vec<(f64, f64)> = spans
        .iter()
        .map(|s| (s.start as f64 / 16_000.0, s.end as f64 / 16_000.0))
        .collect();
    // Within the clips the sentences have no pause of 100 ms... except
    // where Silero hears one; every span must lie inside a clip (with the
    // 30-ms pad and a frame of slack) and every clip must hold one.
    let slack = 0.03 + 0.032;
    for &(start, end) in &spans {
        assert!(
            clips
                .iter()
                .any(|&(cs, ce)| start >= cs - slack && end <= ce + slack),
            "span {start:.2}-{end:.2} s is outside the clips {clips:?}"
        );
    }
    for &(cs, ce) in &clips {
        let covered: f64 = spans
            .iter()
            .map(|&(s, e)| (e.min(ce) - s.max(cs)).max(0.0))
            .sum();
        assert!(covered > 0.8 * (ce - cs), "clip {cs:.2}-{ce:.2}: {spans:?}");
    }
}

#[test]
fn the_vad_filter_keeps_the_words_and_the_original_times() {
    let (audio, clips) = joined(&["weather.wav", "calling.wav"]);
    let options = TranscribeOptions {
        vad_filter: Some(VadOptions {
            model: Some(vad_model()),
            ..VadOptions::filter()
        }),
        ..TranscribeOptions::default()
    };
    let t = engine().transcribe(&audio, 16_000, &options).unwrap();
    let expected = format!("{} {}", reference("weather.wav"), reference("calling.wav"));
    assert!(wer(&expected, &t.text) <= CLIP_WER, "{:?}", t.text);
    assert!((t.duration_s - audio.len() as f64 / 16_000.0).abs() < 1e-6);
    // The second sentence's segment starts in the second clip (400-ms pad).
    let last = t.segments.last().unwrap();
    assert!(
        f64::from(last.start) > clips[1].0 - 0.5 && f64::from(last.end) <= clips[1].1 + 0.5,
        "{last:?} vs {clips:?}"
    );
}

/// What an observer heard, sent to the test thread.
#[derive(Debug)]
enum Event {
    Partial(Partial),
    Final(Segment),
    Error(String),
}

struct Forward(Sender<Event>);

impl StreamObserver for Forward {
    fn on_partial(&mut self, partial: &Partial) -> ControlFlow<()> {
        let _ = self.0.send(Event::Partial(partial.clone()));
        ControlFlow::Continue(())
    }
    fn on_final(&mut self, segment: &Segment) -> ControlFlow<()> {
        let _ = self.0.send(Event::Final(segment.clone()));
        ControlFlow::Continue(())
    }
    fn on_error(&mut self, error: &Error) {
        let _ = self.0.send(Event::Error(error.to_string()));
    }
}

fn options() -> StreamOptions {
    let mut options = StreamOptions::default();
    options.vad.model = Some(vad_model());
    options
}

/// Pushes `audio` (16-kHz mono) as 100-ms chunks, as fast as it is taken.
fn push_all(session: &voiceflow_core::stream::StreamingSession, audio: &[f32]) {
    for chunk in audio.chunks(1600) {
        session.push(chunk, 16_000, 1).unwrap();
    }
}

fn finals(events: &Receiver<Event>) -> Vec<Segment> {
    events
        .try_iter()
        .filter_map(|e| match e {
            Event::Final(s) => Some(s),
            Event::Error(e) => panic!("session error: {e}"),
            Event::Partial(_) => None,
        })
        .collect()
}

#[test]
fn a_stream_commits_each_sentence_once_with_times_in_its_clip() {
    let files = ["report.wav", "calling.wav", "sailor.wav"];
    let (mut audio, clips) = joined(&files);
    audio.extend(noise(2.0, 0.05));
    let (tx, rx) = mpsc::channel();
    let session = engine().stream(options(), Forward(tx)).unwrap();
    push_all(&session, &audio);
    let transcript = session.finish().unwrap();
    let finals = finals(&rx);

    // Committed text never changes: the transcript is exactly the finals.
    assert_eq!(transcript.segments, finals);
    assert!((transcript.duration_s - audio.len() as f64 / 16_000.0).abs() < 1e-3);
    let mut previous_end = 0.0f32;
    for s in &finals {
        assert!(
            previous_end <= s.start && s.start <= s.end,
            "times go back: {finals:?}"
        );
        previous_end = s.end;
    }
    // Each clip's words from the finals inside it (pad 100 ms, a frame of slack).
    for (file, &(cs, ce)) in files.iter().zip(&clips) {
        let text: Vec<&str> = finals
            .iter()
            .filter(|s| f64::from(s.start) >= cs - 0.2 && f64::from(s.end) <= ce + 0.2)
            .map(|s| s.text.as_str())
            .collect();
        let text = text.join(" ");
        assert!(
            wer(&reference(file), &text) <= CLIP_WER,
            "{file}: {text:?} in {finals:?}"
        );
    }
    // Nothing outside the clips: not in the silences, not in the noise.
    for s in &finals {
        assert!(
            clips
                .iter()
                .any(|&(cs, ce)| f64::from(s.start) >= cs - 0.2 && f64::from(s.end) <= ce + 0.2),
            "{s:?} lies outside the speech {clips:?}"
        );
    }
}

#[test]
fn silence_and_noise_commit_nothing() {
    let mut audio = silence(2.0);
    audio.extend(noise(3.0, 0.05));
    audio.extend(noise(2.0, 0.2));
    let (tx, rx) = mpsc::channel();
    let session = engine().stream(options(), Forward(tx)).unwrap();
    push_all(&session, &audio);
    let transcript = session.finish().unwrap();
    assert_eq!(transcript.text, "");
    assert!(transcript.segments.is_empty());
    let heard: Vec<Event> = rx.try_iter().collect();
    assert!(heard.is_empty(), "{heard:?}");
}

#[test]
fn a_partial_comes_while_the_speaker_is_still_talking() {
    // The first 2 s of a sentence and no more: nothing ends the utterance,
    // so only a partial can tell what was said so far.
    let audio = samples("sailor.wav");
    let (tx, rx) = mpsc::channel();
    let session = engine().stream(options(), Forward(tx)).unwrap();
    push_all(&session, &audio[..32_000]);
    let partial = match rx
        .recv_timeout(Duration::from_secs(120))
        .expect("a partial")
    {
        Event::Partial(p) => p,
        other => panic!("expected a partial first, got {other:?}"),
    };
    let heard = common::words(&partial.text);
    let reference = common::words(&reference("sailor.wav"));
    assert!(
        heard.len() >= 2 && heard[..2] == reference[..2],
        "{partial:?}"
    );
    assert!(
        partial.start < 0.5 && partial.end <= 2.0 + 1e-3,
        "{partial:?}"
    );
    // The rest and a pause: the final holds the whole sentence.
    push_all(&session, &audio[32_000..]);
    push_all(&session, &silence(1.0));
    let transcript = session.finish().unwrap();
    assert!(
        wer(
            &common::words(&transcript.text).join(" "),
            &reference.join(" ")
        ) <= CLIP_WER
    );
}

#[test]
fn any_rate_and_channel_count_is_taken() {
    let wav = voiceflow_core::audio::read_wav(common::fixture("calling_44k_stereo.wav")).unwrap();
    let (tx, rx) = mpsc::channel();
    let session = engine().stream(options(), Forward(tx)).unwrap();
    let silence_44k = vec![0.0f32; 2 * 44_100];
    session.push(&silence_44k, 44_100, 2).unwrap();
    // Odd-sized stereo chunks (frames of two samples each).
    for chunk in wav.samples.chunks(2 * 1234) {
        session.push(chunk, wav.sample_rate, wav.channels).unwrap();
    }
    session.push(&silence_44k, 44_100, 2).unwrap();
    let transcript = session.finish().unwrap();
    assert!(
        wer(&reference("calling.wav"), &transcript.text) <= CLIP_WER,
        "{:?}",
        transcript.text
    );
    let first = &finals(&rx)[0];
    // The clip starts after 1 s of silence.
    assert!(first.start >= 0.9 && first.start < 2.0, "{first:?}");
}

/// Blocks in its first partial until the test lets it go.
struct Stuck {
    entered: Sender<()>,
    release: Receiver<()>,
}

impl StreamObserver for Stuck {
    fn on_partial(&mut self, _: &Partial) -> ControlFlow<()> {
        let _ = self.entered.send(());
        let _ = self.release.recv();
        ControlFlow::Continue(())
    }
}

#[test]
fn a_caller_outrunning_the_session_gets_queue_full_not_unbounded_memory() {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let mut options = options();
    options.max_backlog_s = 2.0;
    let session = engine()
        .stream(
            options,
            Stuck {
                entered: entered_tx,
                release: release_rx,
            },
        )
        .unwrap();
    push_all(&session, &samples("door.wav")[..16_000]);
    entered.recv_timeout(Duration::from_secs(120)).unwrap();
    // The session's thread is held in the callback: pushes add up to the
    // 2-s limit (some of the first second may still wait), then are refused.
    let half = vec![0.0f32; 8_000];
    let mut accepted = 0;
    let refusal = loop {
        match session.push(&half, 16_000, 1) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted <= 4, "more than 2 s accepted");
    };
    assert!(
        matches!(refusal, Error::QueueFull { capacity: 32_000 }),
        "{refusal:?}"
    );
    let waiting = session.backlog_s();
    assert!(
        waiting > 1.5 - 1e-9 && waiting <= 2.0 + 1e-9,
        "{waiting} s waiting"
    );
    drop(release);
    session.finish().unwrap();
}

/// Says stop at the first final.
struct StopAtFirst(Sender<Segment>);

impl StreamObserver for StopAtFirst {
    fn on_final(&mut self, segment: &Segment) -> ControlFlow<()> {
        let _ = self.0.send(segment.clone());
        ControlFlow::Break(())
    }
}

#[test]
fn an_observer_can_stop_the_session() {
    let (audio, _) = joined(&["report.wav", "door.wav"]);
    let (tx, rx) = mpsc::channel();
    let session = engine().stream(options(), StopAtFirst(tx)).unwrap();
    push_all(&session, &audio[..audio.len() / 2 + 16_000 * 2]);
    rx.recv_timeout(Duration::from_secs(120)).unwrap();
    // Soon after the callback returns, pushes are refused.
    let mut refused = false;
    for _ in 0..600 {
        if let Err(Error::Closed(_)) = session.push(&silence(0.1), 16_000, 1) {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(refused);
    let transcript = session.finish().unwrap();
    assert_eq!(transcript.segments.len(), 1);
}

#[test]
fn bad_options_and_a_missing_graph_are_typed_errors() {
    let mut bad = options();
    bad.vad.threshold = 2.0;
    assert!(matches!(
        engine().stream(bad, ()),
        Err(Error::InvalidOption {
            option: "vad_threshold",
            ..
        })
    ));
    let mut long = options();
    long.vad.max_speech_duration_s = 60.0;
    assert!(matches!(
        engine().stream(long, ()),
        Err(Error::InvalidArgument(_))
    ));
    let mut french = options();
    french.transcribe.language = Some("fr".into());
    assert!(matches!(
        engine().stream(french, ()),
        Err(Error::InvalidOption {
            option: "language",
            ..
        })
    ));
    let mut missing = options();
    missing.vad.model = Some("/nonexistent/silero_vad.onnx".into());
    assert!(matches!(
        engine().stream(missing, ()),
        Err(Error::ModelNotFound { .. })
    ));
    let session = engine().stream(options(), ()).unwrap();
    assert!(matches!(
        session.push(&[f32::NAN], 16_000, 1),
        Err(Error::InvalidAudio(_))
    ));
    assert!(matches!(
        session.push(&[0.0], 0, 1),
        Err(Error::InvalidArgument(_))
    ));
    assert!(session.finish().unwrap().segments.is_empty());
}
