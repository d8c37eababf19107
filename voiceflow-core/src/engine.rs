//! The [`Engine`]: the synchronous entry point that turns audio into a
//! [`Transcript`].
//!
//! An engine loads one model folder. It is `Send + Sync`: any number of
//! threads may call it at once. Every call is admitted by the engine's
//! scheduler ([`crate::config::SchedulerConfig`]: 50 at once by default,
//! more wait, and past the wait queue a call fails at once with
//! [`Error::Overloaded`]); the scheduler runs the encoder and decoder work
//! of all calls in shared batches, while each call's decoding algorithm and
//! callback run on the caller's own thread.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use crate::audio::{self, mel::MelExtractor, HOP_LENGTH, SAMPLE_RATE};
use crate::config::{EngineConfig, Task, TranscribeOptions};
use crate::decode::filters::LogitFilters;
use crate::decode::longform::{self, LanguageChoice};
use crate::decode::window::WindowTask;
use crate::decode::Limits;
use crate::metrics::{EngineMetrics, Metrics, RequestOutcome};
use crate::model::{runtime, Model, ModelInfo};
use crate::scheduler::Scheduler;
use crate::transcript::{Progress, Segment, Timings, Transcript};
use crate::vad;
use crate::{Error, Result};

/// Padding samples appended before the mel, as faster-whisper does.
const MEL_PADDING_SAMPLES: usize = HOP_LENGTH;

/// Audio handed to [`Engine::transcribe_with`].
#[derive(Debug, Clone, Copy)]
pub enum Audio<'a> {
    /// PCM samples in [-1, 1], interleaved when there are several channels.
    Pcm {
        /// The samples.
        samples: &'a [f32],
        /// Frames per second (any rate; resampled to 16 kHz).
        sample_rate: u32,
        /// Channels per frame (mixed down to mono).
        channels: u16,
    },
    /// An audio file: WAV, FLAC, MP3, Ogg Vorbis or MP4/M4A AAC, told
    /// apart by content (also a pipe or a device; see
    /// [`audio::decode`] for the bounds).
    File(&'a Path),
    /// An audio file's bytes, in any of the formats of [`Audio::File`].
    Bytes(&'a [u8]),
}

/// Speech-to-text with one Whisper model.
///
/// ```no_run
/// use voiceflow_core::{Engine, EngineConfig, TranscribeOptions};
///
/// let engine = Engine::new(EngineConfig::new("models/whisper-tiny.en"))?;
/// let transcript = engine.transcribe_file("speech.wav", &TranscribeOptions::default())?;
/// println!("{}", transcript.text);
/// # Ok::<(), voiceflow_core::Error>(())
/// ```
pub struct Engine {
    model: Model,
    info: ModelInfo,
    mel: MelExtractor,
    scheduler: Scheduler,
    max_audio_duration_s: f64,
    metrics: Arc<Metrics>,
    stages: EngineMetrics,
    /// The Silero sessions its streams and VAD-filtered calls share.
    pub(crate) silero: std::sync::Mutex<Option<Arc<vad::SileroPool>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("model", &self.info.name)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Loads the model in `config.model_dir` with ONNX Runtime.
    ///
    /// Errors: [`Error::ModelNotFound`] / [`Error::ModelMalformed`] naming the
    /// file, [`Error::RuntimeNotFound`] listing where the library was looked
    /// for, [`Error::InvalidArgument`] for counts or a duration outside
    /// [`crate::limits::check_engine_config`]'s ranges,
    /// [`Error::DeviceUnavailable`] when [`EngineConfig::device`] insists on
    /// CUDA and it cannot be had.
    pub fn new(config: EngineConfig) -> Result<Engine> {
        Engine::with_metrics(config, Arc::new(Metrics::new()))
    }

    /// Like [`Engine::new`], reporting into `metrics` (shared with the
    /// enhancer and the store, say, to export them together).
    pub fn with_metrics(config: EngineConfig, metrics: Arc<Metrics>) -> Result<Engine> {
        crate::limits::check_engine_config(&config)?;
        let started = Instant::now();
        let stages = EngineMetrics::new(&metrics);
        let (model, scheduler) = Model::load_with(&config.model_dir, |graphs| {
            let env = runtime::environment(config.runtime_library.as_deref())?;
            Scheduler::start(graphs, env, &config, stages.clone())
        })?;
        let mel = MelExtractor::new(model.config.n_mels)?;
        let mut info = model.info();
        (info.encoder_provider, info.decoder_provider) = scheduler.providers();
        tracing::info!(
            model = %info.name,
            encoder = %info.encoder_provider,
            decoder = %info.decoder_provider,
            instances = config.instances,
            threads = config.intra_op_threads,
            load_ms = started.elapsed().as_millis() as u64,
            "engine ready"
        );
        Ok(Engine {
            info,
            model,
            mel,
            scheduler,
            max_audio_duration_s: config.max_audio_duration_s,
            metrics,
            stages,
            silero: std::sync::Mutex::new(None),
        })
    }

    /// A new stream's Silero VAD (fresh state) on the sessions this engine
    /// shares among its callers: made by the first caller (up to one per
    /// core), kept while they use the same graph ([`vad::resolve_model`]).
    pub(crate) fn silero_vad(&self, options: &vad::VadOptions) -> Result<vad::SileroVad> {
        let path = vad::resolve_model(options, &self.info.dir)?;
        let mut pool = self.silero.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = match pool.as_ref() {
            Some(pool) if pool.path() == path => Arc::clone(pool),
            _ => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let made = Arc::new(vad::SileroPool::load(&path, None, cores)?);
                *pool = Some(Arc::clone(&made));
                made
            }
        };
        Ok(vad::SileroVad::new(shared))
    }

    /// What model this engine runs.
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    /// The registry the engine reports into (see
    /// [`EngineMetrics`](crate::metrics::EngineMetrics) for its series).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Transcriptions running and waiting for a turn right now.
    pub fn load(&self) -> (usize, usize) {
        self.scheduler.load()
    }

    /// Transcribes mono samples at any sample rate.
    pub fn transcribe(
        &self,
        samples: &[f32],
        sample_rate: u32,
        options: &TranscribeOptions,
    ) -> Result<Transcript> {
        self.transcribe_pcm(samples, sample_rate, 1, options)
    }

    /// Transcribes interleaved PCM with `channels` channels at any sample rate.
    pub fn transcribe_pcm(
        &self,
        samples: &[f32],
        sample_rate: u32,
        channels: u16,
        options: &TranscribeOptions,
    ) -> Result<Transcript> {
        let audio = Audio::Pcm {
            samples,
            sample_rate,
            channels,
        };
        self.transcribe_with(audio, options, &mut |_, _| ControlFlow::Continue(()))
    }

    /// Transcribes an audio file: WAV, FLAC, MP3, Ogg Vorbis or MP4/M4A AAC
    /// (see [`Audio::File`]).
    pub fn transcribe_file(
        &self,
        path: impl AsRef<Path>,
        options: &TranscribeOptions,
    ) -> Result<Transcript> {
        self.transcribe_with(Audio::File(path.as_ref()), options, &mut |_, _| {
            ControlFlow::Continue(())
        })
    }

    /// Transcribes `audio`, calling `on_segment` with each segment as soon as
    /// it is decoded, with the progress so far. Returning
    /// `ControlFlow::Break(())` stops the transcription; the transcript then
    /// holds the segments produced until then.
    pub fn transcribe_with(
        &self,
        audio: Audio<'_>,
        options: &TranscribeOptions,
        on_segment: &mut dyn FnMut(&Segment, Progress) -> ControlFlow<()>,
    ) -> Result<Transcript> {
        let (mut stopped, mut admitted) = (false, false);
        let result = self.run(audio, options, &mut admitted, &mut |segment, progress| {
            let flow = on_segment(segment, progress);
            stopped |= flow.is_break();
            flow
        });
        match &result {
            _ if admitted => self.stages.finished(&result, stopped),
            Err(Error::Timeout(_)) => self.stages.count(RequestOutcome::TimedOut),
            _ => self.stages.count(RequestOutcome::Rejected),
        }
        result
    }

    /// The transcription of [`Engine::transcribe_with`]; sets `admitted`
    /// once the scheduler let it in.
    fn run(
        &self,
        audio: Audio<'_>,
        options: &TranscribeOptions,
        admitted: &mut bool,
        on_segment: &mut dyn FnMut(&Segment, Progress) -> ControlFlow<()>,
    ) -> Result<Transcript> {
        let started = Instant::now();
        self.check_open()?;
        let mut language = self.check_options(options)?;
        if options.word_timestamps {
            self.scheduler.check_word_timestamps()?;
        }
        // A timeout too large to add to the clock means no deadline.
        let deadline = options.timeout.and_then(|t| started.checked_add(t));
        self.stages.queue_depth.inc();
        let permit = self.scheduler.admit(started, deadline);
        self.stages.queue_depth.dec();
        let _permit = permit?;
        *admitted = true;
        self.stages.count(RequestOutcome::Admitted);
        self.stages.queue_wait.record(started.elapsed());
        let mut timings = Timings::default();

        let prepared = self.prepare(audio)?;
        let duration_s = prepared.len() as f64 / f64::from(SAMPLE_RATE);
        let filter = match &options.vad_filter {
            Some(vad_options) => Some((vad_options, self.silero_vad(vad_options)?)),
            None => None,
        };
        let (samples, speech) = vad::filter::speech_only(&prepared, filter)?;
        timings.decode_audio_s = started.elapsed().as_secs_f64();

        let mel_started = Instant::now();
        let mel = self.mel.compute(&samples, MEL_PADDING_SAMPLES);
        timings.mel_s = mel_started.elapsed().as_secs_f64();
        if let LanguageChoice::Detect { from_frame } = &mut language {
            *from_frame = self.first_speech_frame(&samples, &mel, options)?;
        }
        drop(samples);
        drop(prepared);

        let task = self.window_task(options.timestamps)?;
        let client = self.scheduler.client(started, deadline);
        let mut out = longform::transcribe(
            &client,
            &task,
            &mel,
            options,
            language,
            &mut timings,
            &mut |segment, progress| on_segment(&speech.restored(segment), progress),
        )?;
        speech.restore(&mut out.segments);

        let text = out
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        timings.total_s = started.elapsed().as_secs_f64();
        Ok(Transcript {
            text,
            segments: out.segments,
            language: out.language.0,
            language_probability: out.language.1,
            duration_s,
            timings,
        })
    }

    /// What every window of a transcription shares: tokenizer, filters, limits.
    fn window_task(&self, timestamps: bool) -> Result<WindowTask<'_>> {
        let n_ctx = self.model.config.max_target_positions;
        Ok(WindowTask {
            tokenizer: &self.model.tokenizer,
            filters: LogitFilters::for_model(
                &self.model.config,
                &self.model.tokenizer,
                timestamps,
            )?,
            limits: Limits {
                sample_len: n_ctx / 2,
                n_ctx,
            },
        })
    }

    /// Stops the engine: running and waiting transcriptions end with
    /// [`Error::Closed`] at their next step, later calls fail with it at
    /// once, and the worker threads stop.
    pub fn close(&self) {
        self.scheduler.close();
    }

    /// Whether [`Engine::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.scheduler.is_closed()
    }

    fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::Closed("engine"))
        } else {
            Ok(())
        }
    }

    /// Decodes, validates, mixes down and resamples to 16-kHz mono.
    fn prepare(&self, audio: Audio<'_>) -> Result<Vec<f32>> {
        let max = self.max_audio_duration_s;
        let buffer = match audio {
            Audio::Pcm {
                samples,
                sample_rate,
                channels,
            } => return audio::prepare(samples, sample_rate, channels, max),
            Audio::File(path) => audio::read_file(path, max)?,
            Audio::Bytes(bytes) => audio::decode_bytes(bytes, max)?,
        };
        audio::prepare(&buffer.samples, buffer.sample_rate, buffer.channels, max)
    }

    /// Where language detection looks: the mel frame of `samples` where
    /// the first speech starts, as Silero VAD finds it when its graph is
    /// there (`VOICEFLOW_VAD_MODEL`, else `silero-vad/` beside the model
    /// folder), else the first frame with any signal
    /// ([`audio::silence::first_sound`], which noise starts as well as
    /// speech). With the VAD filter on, `samples` hold speech only.
    fn first_speech_frame(
        &self,
        samples: &[f32],
        mel: &audio::mel::Mel,
        options: &TranscribeOptions,
    ) -> Result<usize> {
        if options.vad_filter.is_none() {
            match self.silero_vad(&vad::VadOptions::default()) {
                Ok(detector) => {
                    if let Some(start) = vad::filter::first_speech(Box::new(detector), samples)? {
                        return Ok(start / HOP_LENGTH);
                    }
                }
                Err(Error::ModelNotFound { path, .. }) => tracing::debug!(
                    "no Silero VAD graph at {}: the language is detected where the signal starts",
                    path.display()
                ),
                Err(other) => return Err(other),
            }
        }
        Ok(audio::silence::first_sound(mel).unwrap_or(0))
    }

    /// Checks the options against the model; returns the language to use.
    pub(crate) fn check_options(&self, options: &TranscribeOptions) -> Result<LanguageChoice> {
        options.validate()?;
        let special = self.model.tokenizer.special();
        let language = options
            .language
            .as_deref()
            .filter(|_| !options.detects_language());
        if !self.info.multilingual {
            if options.task == Task::Translate {
                return Err(Error::invalid_option(
                    "task",
                    "translate",
                    format!("transcribe ({} is English-only)", self.info.name),
                ));
            }
            return match language {
                None | Some("en") => Ok(LanguageChoice::EnglishOnly),
                Some(other) => Err(Error::invalid_option(
                    "language",
                    other,
                    format!("\"en\" or \"auto\" ({} is English-only)", self.info.name),
                )),
            };
        }
        match language {
            None => Ok(LanguageChoice::Detect { from_frame: 0 }),
            Some(code) => match special.language_token(code) {
                Some(token) => Ok(LanguageChoice::Given(code.to_string(), token)),
                None => Err(Error::invalid_option(
                    "language",
                    code,
                    "a language code of the model, such as \"en\", or \"auto\"",
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Engine>();
    }

    #[test]
    fn a_missing_model_folder_is_reported_before_the_runtime_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("whisper-none");
        let mut config = EngineConfig::new(&missing);
        config.runtime_library = Some(dir.path().join("no-runtime.so"));
        match Engine::new(config) {
            Err(Error::ModelNotFound { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected ModelNotFound, got {other:?}"),
        }
    }

    /// Decodes one 30-s window the way openai's README does (zero-padded to
    /// 30 s, mel without extra padding) and returns the raw sampled tokens.
    fn single_window_tokens(engine: &Engine, samples: &[f32], timestamps: bool) -> Vec<u32> {
        use crate::audio::{N_FRAMES, N_SAMPLES};
        use crate::decode::window::{decode_window, Prompt, Strategy};
        use crate::decode::WindowBackend;
        use rand::SeedableRng;

        let mut padded = samples.to_vec();
        padded.resize(N_SAMPLES, 0.0);
        let mel = engine.mel.compute(&padded, 0);
        let client = engine.scheduler.client(Instant::now(), None);
        let mut decoder = client
            .open_window(mel.window(0, N_FRAMES), N_FRAMES)
            .unwrap();
        let special = engine.model.tokenizer.special();
        let task = engine.window_task(timestamps).unwrap();
        let prompt = Prompt::new(
            special,
            &[],
            &special.sot_sequence(None, Task::Transcribe),
            timestamps,
            448,
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let result = decode_window(
            decoder.as_mut(),
            &task,
            &prompt,
            Strategy::Greedy,
            &mut rng,
            &mut Vec::new(),
        )
        .unwrap();
        result.tokens
    }

    /// Hand check against the reference tokens of whisper-model-facts.md 10.2
    /// (tiny.en on fw_jfk.wav). Opt in with `VOICEFLOW_JFK_WAV=path/to/fw_jfk.wav`
    /// and `VOICEFLOW_MODEL_DIR=path/to/whisper-tiny.en-float32`.
    #[test]
    #[ignore = "needs the JFK recording and the tiny.en model"]
    fn jfk_greedy_tokens_match_the_reference() {
        let (Some(wav), Some(model)) = (
            std::env::var_os("VOICEFLOW_JFK_WAV"),
            std::env::var_os("VOICEFLOW_MODEL_DIR"),
        ) else {
            eprintln!("skipped: set VOICEFLOW_JFK_WAV and VOICEFLOW_MODEL_DIR");
            return;
        };
        let engine = Engine::new(EngineConfig::new(model)).unwrap();
        let audio = crate::audio::read_wav(wav).unwrap();
        assert_eq!((audio.sample_rate, audio.channels), (16_000, 1));
        let plain = single_window_tokens(&engine, &audio.samples, false);
        let text: Vec<u32> = vec![
            843, 523, 616, 5891, 3399, 1265, 407, 644, 534, 1499, 460, 466, 329, 345, 11, 1265,
            644, 345, 460, 466, 329, 534, 1499, 13,
        ];
        assert_eq!(plain, text, "without timestamps");
        let timed = single_window_tokens(&engine, &audio.samples, true);
        let expected: Vec<u32> = vec![
            50363, 843, 523, 616, 5891, 3399, 1265, 407, 644, 534, 1499, 460, 466, 329, 345, 50763,
            50763, 1265, 644, 345, 460, 466, 329, 534, 1499, 13, 50913,
        ];
        assert_eq!(timed, expected, "with timestamps");
        eprintln!("{}", engine.model.tokenizer.decode_with_timestamps(&timed));
    }

    /// tiny.en from `VOICEFLOW_MODEL_DIR` or the project's `models/`
    /// (`make test` sets it up); panics when it is missing.
    fn installed_tiny_en() -> Engine {
        let dir = std::env::var_os("VOICEFLOW_MODEL_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/whisper-tiny.en-float32")
            });
        assert!(
            dir.is_dir(),
            "no tiny.en model at {} (scripts/setup.sh model tiny.en-float32)",
            dir.display()
        );
        Engine::new(EngineConfig::new(dir)).unwrap()
    }

    /// A window's later prompts (fallback, language detection first) go
    /// through the cache branch with an empty self-attention cache, after
    /// the window's sequences left the batch; they must give the logits of
    /// the window's first call.
    #[test]
    fn prefill_through_the_cache_branch_matches_the_first_call() {
        use crate::audio::N_FRAMES;
        use crate::decode::WindowBackend;

        let engine = installed_tiny_en();
        let wav = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/speech/report.wav");
        let samples = audio::read_wav(wav).unwrap().samples;
        let mel = engine.mel.compute(&samples, MEL_PADDING_SAMPLES);
        let client = engine.scheduler.client(Instant::now(), None);
        let mut decoder = client
            .open_window(mel.window(0, mel.n_frames - 1), N_FRAMES)
            .unwrap();
        let vocab = engine.model.config.vocab_size;
        let prompt = [50257, 50363, 4222, 3758];
        let mut run = || {
            let (mut first, mut next) = (Vec::new(), Vec::new());
            decoder.prefill(&prompt, &[0, 3], &mut first).unwrap();
            decoder.step(&[262, 262], &[0, 0], &mut next).unwrap();
            decoder.end();
            (first, next)
        };
        let (first_call, first_step) = run();
        let (cached_call, cached_step) = run();
        let max_diff = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max)
        };
        assert_eq!(first_call.len(), 2 * vocab);
        assert!(max_diff(&first_call, &cached_call) < 1e-3);
        assert_eq!(first_step.len(), 2 * vocab);
        assert!(max_diff(&first_step, &cached_step) < 1e-3);
        assert!(
            max_diff(&first_step[..vocab], &first_step[vocab..]) < 1e-5,
            "tiled rows agree"
        );
        let argmax = |row: &[f32]| crate::decode::filters::argmax(row);
        assert_eq!(
            argmax(&first_call[vocab..]),
            262,
            "'Please send' is followed by 'the'"
        );
    }

    #[test]
    fn zero_threads_or_instances_are_invalid() {
        let mut config = EngineConfig::new("models/whisper-tiny.en");
        config.instances = 0;
        assert!(matches!(
            Engine::new(config),
            Err(Error::InvalidArgument(_))
        ));
    }
}
