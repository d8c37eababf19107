//! The engine in-process: each request transcribes one fixture through the
//! shared engine (and its scheduler), and checks the words.

use std::sync::Arc;
use std::time::Instant;

use voiceflow_core::{Engine, TranscribeOptions};

use crate::fixtures::{self, Clip, RATE};
use crate::profile::Profile;
use crate::scenario::{Request, Runner, ScenarioResult, Target};
use crate::stats::{Failure, Outcome, Sample};

use super::failure_of;

/// Users of one shared [`Engine`].
pub struct EngineTarget {
    engine: Arc<Engine>,
    clips: Arc<[Clip]>,
    options: TranscribeOptions,
}

impl EngineTarget {
    /// Users transcribing `clips` with `engine`, with the options a
    /// dictation app would use (short windows: clips are under 30 s).
    pub fn new(engine: Arc<Engine>, clips: Arc<[Clip]>) -> Self {
        let options = TranscribeOptions {
            short_windows: true,
            ..TranscribeOptions::default()
        };
        EngineTarget {
            engine,
            clips,
            options,
        }
    }

    /// Transcribes `clip`: its latency, and whether the words were right.
    fn transcribe(&self, op: &'static str, clip: &Clip) -> Outcome {
        let started = Instant::now();
        let result = self.engine.transcribe(&clip.samples, RATE, &self.options);
        let took = started.elapsed().as_secs_f64();
        match result {
            Ok(transcript) if clip.heard_right(&transcript.text) => Outcome::ok(op, took),
            Ok(transcript) => Outcome::failed(op, took, Failure::WrongTranscript(transcript.text)),
            Err(e) => Outcome::failed(op, took, failure_of(&e)),
        }
    }

    /// Volume: one long recording (the fixtures repeated), transcribed whole.
    pub async fn volume(
        self: &Arc<Self>,
        runner: &Runner,
        profile: &Profile,
    ) -> Option<ScenarioResult> {
        let seconds = profile.volume.long_audio_s;
        if seconds <= 0.0 {
            return None;
        }
        let long = fixtures::long_recording(&self.clips, seconds);
        let note = format!(
            "one recording of {:.0} s ({})",
            long.duration_s(),
            long.name
        );
        let started = Instant::now();
        let this = self.clone();
        let duration_s = long.duration_s();
        let outcome = tokio::task::spawn_blocking(move || this.transcribe("long_audio", &long))
            .await
            .unwrap_or_else(|e| Outcome::failed("long_audio", 0.0, Failure::Error(e.to_string())));
        let wall_s = started.elapsed().as_secs_f64();
        let sample = Sample::of(outcome, runner.now_s(), 1);
        let mut result = ScenarioResult::new("engine", "volume", vec![sample], wall_s);
        result.notes.push(note);
        result.notes.push(format!(
            "{:.1} s to transcribe: {:.0}x faster than real time",
            wall_s,
            duration_s / wall_s.max(1e-9)
        ));
        Some(result)
    }
}

impl Target for EngineTarget {
    fn name(&self) -> &'static str {
        "engine"
    }

    fn request(self: Arc<Self>, user: usize, seq: u64) -> Request {
        Box::pin(async move {
            let clip = self.clips[(user + seq as usize) % self.clips.len()].clone();
            let outcome = tokio::task::spawn_blocking(move || self.transcribe("transcribe", &clip))
                .await
                .unwrap_or_else(|e| {
                    Outcome::failed("transcribe", 0.0, Failure::Error(e.to_string()))
                });
            vec![outcome]
        })
    }
}
