//! The scheduler: one place where the work of every concurrent caller meets
//! the model's ONNX Runtime sessions.
//!
//! - [`admission`]: at most `max_concurrent` transcriptions run, a bounded
//!   number wait, the rest are refused at once ([`crate::Error::Overloaded`]).
//! - [`encoder`]: an encoder worker per instance runs the windows callers
//!   submit, several of the same length per run.
//! - [`decoder`] and [`lane`]: a decoder worker per instance runs the
//!   prefills and steps of every open window; the steps of all windows run
//!   as one batch (continuous batching: windows join and leave between
//!   steps; cross-attention caches stay put for a window's whole life).
//! - [`client`]: what a transcription holds: it submits work and waits on
//!   its own thread, where the decoding algorithms of [`crate::decode`] and
//!   the caller's callbacks run, holding no lock, session or batch slot.

pub(crate) mod admission;
pub(crate) mod client;
pub(crate) mod decoder;
pub(crate) mod encoder;
pub(crate) mod lane;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, unbounded, Sender};

use self::admission::{Admission, Permit};
use self::client::Client;
use self::decoder::{DecoderMsg, StepObserver, StepStats, Worker};
use self::encoder::EncodeJob;
use self::lane::CacheDims;
use crate::config::EngineConfig;
use crate::metrics::EngineMetrics;
use crate::model::{Graphs, Sessions};
use crate::{Error, Result};

/// Owns the sessions and worker threads of one engine.
pub(crate) struct Scheduler {
    admission: Admission,
    encoder_inbox: Sender<EncodeJob>,
    /// Dropped by [`Scheduler::close`]: the encoder workers stop.
    encoder_stop: Mutex<Option<Sender<()>>>,
    decoder_inboxes: Vec<Sender<DecoderMsg>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    closed: AtomicBool,
    next_window: AtomicU64,
    /// Entries per logits row.
    vocab: usize,
    /// The execution providers the encoder and decoder sessions run on.
    providers: (String, String),
    /// The decoder graph without the alignment heads' scores, if it lacks
    /// them (no word timestamps).
    lacks_alignment: Option<PathBuf>,
}

impl Scheduler {
    /// Loads `config.instances` encoder and decoder sessions of `graphs` and
    /// starts a worker thread for each.
    pub(crate) fn start(
        graphs: Graphs<'_>,
        env: &ort::environment::Environment,
        config: &EngineConfig,
        metrics: EngineMetrics,
    ) -> Result<Self> {
        let c = graphs.config;
        let s = &config.scheduler;
        if s.max_concurrent == 0 || s.max_active_windows == 0 || s.max_encoder_batch == 0 {
            return Err(Error::InvalidArgument(
                "max_concurrent, max_active_windows and max_encoder_batch must be at least 1"
                    .into(),
            ));
        }
        let dims = CacheDims {
            layers: c.decoder_layers,
            heads: c.decoder_attention_heads,
            head_dim: c.head_dim(),
        };
        let stats = Arc::new(metrics);
        let encoder_batch = if s.batching { s.max_encoder_batch } else { 1 };
        let (encoder_inbox, encoder_jobs) = unbounded();
        let (encoder_stop, stop) = bounded::<()>(0);
        let mut workers = Vec::new();
        let mut decoder_inboxes = Vec::new();
        let mut providers = (String::new(), String::new());
        let mut lacks_alignment = None;
        for i in 0..config.instances {
            let Sessions {
                encoder,
                encoder_provider,
                decoder,
                decoder_provider,
            } = graphs.sessions(env, config.intra_op_threads, config.device)?;
            let jobs = encoder_jobs.clone();
            let stop = stop.clone();
            let stats_e = Arc::clone(&stats);
            let observe = move |windows: usize, elapsed: Duration| {
                stats_e.encoder_batch.record(elapsed);
                stats_e.encoder_batch_size.observe(windows as f64);
                let per_window = elapsed / windows.max(1) as u32;
                for _ in 0..windows {
                    stats_e.encoder_item.record(per_window);
                }
            };
            workers.push(spawn(format!("voiceflow-encoder-{i}"), move || {
                encoder::run(encoder, jobs, stop, encoder_batch, &observe)
            })?);

            providers = (encoder_provider.to_string(), decoder_provider);
            lacks_alignment = decoder.lacks_alignment().map(Path::to_path_buf);
            let stats_d = Arc::clone(&stats);
            let observe: StepObserver = Arc::new(move |step: StepStats| {
                stats_d.decoder_step.record(step.elapsed);
                stats_d.decoder_batch_size.observe(step.rows as f64);
                stats_d.active_sequences.set(step.rows as i64);
            });
            let worker = Worker::new(
                decoder,
                dims,
                c.vocab_size,
                s.batching,
                s.max_active_windows,
                observe,
            );
            let (inbox, messages) = unbounded();
            decoder_inboxes.push(inbox);
            workers.push(spawn(format!("voiceflow-decoder-{i}"), move || {
                worker.run(messages)
            })?);
        }
        Ok(Scheduler {
            admission: Admission::new(s.max_concurrent, s.max_queued),
            encoder_inbox,
            encoder_stop: Mutex::new(Some(encoder_stop)),
            decoder_inboxes,
            workers: Mutex::new(workers),
            closed: AtomicBool::new(false),
            next_window: AtomicU64::new(0),
            vocab: c.vocab_size,
            providers,
            lacks_alignment,
        })
    }

    /// Admits one transcription (see [`Admission::admit`]).
    pub(crate) fn admit(&self, started: Instant, deadline: Option<Instant>) -> Result<Permit<'_>> {
        self.admission.admit(started, deadline)
    }

    /// Transcriptions running and waiting now.
    pub(crate) fn load(&self) -> (usize, usize) {
        self.admission.load()
    }

    /// The way in for one admitted transcription.
    pub(crate) fn client(&self, started: Instant, deadline: Option<Instant>) -> Client<'_> {
        Client {
            scheduler: self,
            started,
            deadline,
        }
    }

    fn new_window(&self) -> u64 {
        self.next_window.fetch_add(1, Ordering::Relaxed)
    }

    /// The decoder worker that serves `window` (windows spread over instances).
    fn decoder_inbox(&self, window: u64) -> &Sender<DecoderMsg> {
        &self.decoder_inboxes[(window % self.decoder_inboxes.len() as u64) as usize]
    }

    /// Fails with [`Error::ModelLacksFeature`] when the decoder cannot give
    /// word timestamps (a model converted before them).
    pub(crate) fn check_word_timestamps(&self) -> Result<()> {
        match &self.lacks_alignment {
            Some(graph) => Err(crate::model::decoder::no_word_timestamps(graph)),
            None => Ok(()),
        }
    }

    /// The execution providers of the encoder and the decoder sessions.
    pub(crate) fn providers(&self) -> (String, String) {
        self.providers.clone()
    }

    /// Whether [`Scheduler::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The error of a request whose worker is gone.
    fn stopped(&self) -> Error {
        if self.is_closed() {
            Error::Closed("engine")
        } else {
            Error::inference("a scheduler worker stopped")
        }
    }

    /// Refuses new work, answers every admitted and waiting request with
    /// [`Error::Closed`] and stops the workers.
    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.admission.close();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        drop(
            self.encoder_stop
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        for inbox in &self.decoder_inboxes {
            let _ = inbox.send(DecoderMsg::Shutdown);
        }
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.close();
    }
}

fn spawn(name: String, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(body)
        .map_err(|e| Error::inference_from(format!("cannot start thread {name}"), e))
}
