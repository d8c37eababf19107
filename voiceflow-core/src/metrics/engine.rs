//! The engine's series, defined in one place: [`EngineMetrics`] looks every
//! handle up once; the engine and its scheduler record through it.
//!
//! | series | type | labels | what |
//! |---|---|---|---|
//! | `voiceflow_requests_total` | counter | `outcome` | requests by [`RequestOutcome`] |
//! | `voiceflow_queue_depth` | gauge (+ `_peak`) | | requests waiting to start |
//! | `voiceflow_active_sequences` | gauge (+ `_peak`) | | decoder sequences in flight |
//! | `voiceflow_queue_wait_seconds` | histogram | | admission to start of work |
//! | `voiceflow_audio_prepare_seconds` | histogram | | WAV decoding, mixdown, resampling |
//! | `voiceflow_mel_seconds` | histogram | | log-mel spectrogram of a request |
//! | `voiceflow_encoder_batch_seconds` | histogram | | one encoder run (a batch) |
//! | `voiceflow_encoder_item_seconds` | histogram | | an encoder run's time per window in it |
//! | `voiceflow_decoder_step_seconds` | histogram | | one decoder step over all its rows |
//! | `voiceflow_request_encoder_seconds` | histogram | | encoder time of one request, all windows |
//! | `voiceflow_request_decoder_seconds` | histogram | | decoder time of one request, all steps |
//! | `voiceflow_transcription_seconds` | histogram | | one request end to end |
//! | `voiceflow_encoder_batch_size` | histogram ([`BATCH_SIZE_BUCKETS`]) | | windows per encoder run |
//! | `voiceflow_decoder_batch_size` | histogram ([`BATCH_SIZE_BUCKETS`]) | | rows per decoder step |
//! | `voiceflow_audio_seconds` | histogram ([`AUDIO_SECONDS_BUCKETS`]) | | audio length per request; its `_sum` is the audio processed |

use std::sync::Arc;

use super::{Counter, Gauge, Histogram, Metrics};
use crate::{Error, Result, Transcript};

/// Bucket upper bounds of batch sizes (windows per encoder run, rows per
/// decoder step): powers of two up to 128.
pub const BATCH_SIZE_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// Bucket upper bounds (seconds) of audio lengths, from a short command to
/// the longest input accepted by default (four hours).
pub const AUDIO_SECONDS_BUCKETS: [f64; 12] = [
    1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0,
];

/// What happened to a request, the `outcome` label of
/// `voiceflow_requests_total`. `Admitted` counts every request let in; each
/// admitted request later ends as exactly one of `Completed`, `Failed`,
/// `TimedOut` or `Cancelled`. `Rejected` requests were never admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Let in by the scheduler (started).
    Admitted,
    /// Refused before admission (engine closed, bad options, overloaded).
    Rejected,
    /// Its deadline passed (while it waited for a turn, or while it ran).
    TimedOut,
    /// Stopped by its caller (the segment callback returned `Break`).
    Cancelled,
    /// Finished with a transcript.
    Completed,
    /// Finished with an error.
    Failed,
}

impl RequestOutcome {
    /// Every outcome, in declaration order.
    pub const ALL: [RequestOutcome; 6] = [
        RequestOutcome::Admitted,
        RequestOutcome::Rejected,
        RequestOutcome::TimedOut,
        RequestOutcome::Cancelled,
        RequestOutcome::Completed,
        RequestOutcome::Failed,
    ];

    /// The label value (`"timed_out"`).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Admitted => "admitted",
            RequestOutcome::Rejected => "rejected",
            RequestOutcome::TimedOut => "timed_out",
            RequestOutcome::Cancelled => "cancelled",
            RequestOutcome::Completed => "completed",
            RequestOutcome::Failed => "failed",
        }
    }
}

/// Handles on the engine's series (see the [module docs](self)), looked up
/// once in a shared registry. Cloning shares the series.
#[derive(Debug, Clone)]
pub struct EngineMetrics {
    /// `voiceflow_queue_wait_seconds`: from admission until work starts.
    pub queue_wait: Arc<Histogram>,
    /// `voiceflow_audio_prepare_seconds`: decoding, mixdown, resampling.
    pub audio_prepare: Arc<Histogram>,
    /// `voiceflow_mel_seconds`: the log-mel spectrogram of a request.
    pub mel: Arc<Histogram>,
    /// `voiceflow_encoder_batch_seconds`: one encoder run.
    pub encoder_batch: Arc<Histogram>,
    /// `voiceflow_encoder_item_seconds`: an encoder run's time divided by
    /// its windows (record it once per window).
    pub encoder_item: Arc<Histogram>,
    /// `voiceflow_decoder_step_seconds`: one decoder step over all its rows.
    pub decoder_step: Arc<Histogram>,
    /// `voiceflow_request_encoder_seconds`: a request's encoder time.
    pub request_encoder: Arc<Histogram>,
    /// `voiceflow_request_decoder_seconds`: a request's decoder time.
    pub request_decoder: Arc<Histogram>,
    /// `voiceflow_transcription_seconds`: a request end to end.
    pub transcription: Arc<Histogram>,
    /// `voiceflow_encoder_batch_size`: windows per encoder run.
    pub encoder_batch_size: Arc<Histogram>,
    /// `voiceflow_decoder_batch_size`: rows per decoder step.
    pub decoder_batch_size: Arc<Histogram>,
    /// `voiceflow_audio_seconds`: seconds of audio per request.
    pub audio: Arc<Histogram>,
    /// `voiceflow_queue_depth`: requests admitted and waiting.
    pub queue_depth: Arc<Gauge>,
    /// `voiceflow_active_sequences`: decoder sequences in flight.
    pub active_sequences: Arc<Gauge>,
    /// `voiceflow_requests_total{outcome}`, in [`RequestOutcome::ALL`] order.
    requests: [Arc<Counter>; RequestOutcome::ALL.len()],
}

/// Quantile resolution of batch sizes: whole rows.
const BATCH_RESOLUTION: f64 = 1.0;

/// Quantile resolution of audio lengths: 10 ms.
const AUDIO_RESOLUTION: f64 = 0.01;

/// Bucket upper bounds and quantile resolution of a histogram.
type Buckets = (&'static [f64], f64);

const LATENCY: Buckets = (&super::LATENCY_BUCKETS, super::LATENCY_RESOLUTION);
const BATCH: Buckets = (&BATCH_SIZE_BUCKETS, BATCH_RESOLUTION);

/// Name, help text, buckets and resolution of each histogram, in field order.
const HISTOGRAMS: [(&str, &str, Buckets); 12] = [
    (
        "voiceflow_queue_wait_seconds",
        "Time from admission until work on a request starts",
        LATENCY,
    ),
    (
        "voiceflow_audio_prepare_seconds",
        "Decoding, mixing down and resampling a request's audio",
        LATENCY,
    ),
    (
        "voiceflow_mel_seconds",
        "Computing a request's log-mel spectrogram",
        LATENCY,
    ),
    (
        "voiceflow_encoder_batch_seconds",
        "One encoder run over a batch of windows",
        LATENCY,
    ),
    (
        "voiceflow_encoder_item_seconds",
        "An encoder run's time per window in its batch",
        LATENCY,
    ),
    (
        "voiceflow_decoder_step_seconds",
        "One decoder step over all its rows",
        LATENCY,
    ),
    (
        "voiceflow_request_encoder_seconds",
        "Encoder time of one request, all its windows",
        LATENCY,
    ),
    (
        "voiceflow_request_decoder_seconds",
        "Decoder time of one request, all its steps",
        LATENCY,
    ),
    (
        "voiceflow_transcription_seconds",
        "One transcription request end to end",
        LATENCY,
    ),
    (
        "voiceflow_encoder_batch_size",
        "Windows per encoder run",
        BATCH,
    ),
    (
        "voiceflow_decoder_batch_size",
        "Rows per decoder step",
        BATCH,
    ),
    (
        "voiceflow_audio_seconds",
        "Seconds of audio per request (the sum is the audio processed)",
        (&AUDIO_SECONDS_BUCKETS, AUDIO_RESOLUTION),
    ),
];

impl EngineMetrics {
    /// Looks the engine's series up in `metrics` (creating them at zero)
    /// and sets their help texts.
    pub fn new(metrics: &Metrics) -> Self {
        let [queue_wait, audio_prepare, mel, encoder_batch, encoder_item, decoder_step, request_encoder, request_decoder, transcription, encoder_batch_size, decoder_batch_size, audio] =
            HISTOGRAMS.map(|(name, help, (buckets, resolution))| {
                metrics.describe(name, help);
                metrics.histogram_with_buckets(name, &[], buckets, resolution)
            });
        let gauge = |name: &str, help: &str| {
            metrics.describe(name, help);
            metrics.gauge(name, &[])
        };
        metrics.describe(
            "voiceflow_requests_total",
            "Transcription requests by outcome",
        );
        EngineMetrics {
            queue_wait,
            audio_prepare,
            mel,
            encoder_batch,
            encoder_item,
            decoder_step,
            request_encoder,
            request_decoder,
            transcription,
            encoder_batch_size,
            decoder_batch_size,
            audio,
            queue_depth: gauge(
                "voiceflow_queue_depth",
                "Requests admitted and waiting to start",
            ),
            active_sequences: gauge(
                "voiceflow_active_sequences",
                "Decoder sequences in flight (beams and samples included)",
            ),
            requests: RequestOutcome::ALL.map(|outcome| {
                metrics.counter("voiceflow_requests_total", &[("outcome", outcome.as_str())])
            }),
        }
    }

    /// Counts one request with `outcome`.
    pub fn count(&self, outcome: RequestOutcome) {
        self.requests(outcome).inc();
    }

    /// Records how an admitted request ended: `TimedOut` for a timeout,
    /// `Failed` for another error, `Cancelled` when its callback `stopped`
    /// it, else `Completed`; and for
    /// a transcript, its stage timings, end-to-end time and audio length.
    pub fn finished(&self, result: &Result<Transcript>, stopped: bool) {
        let transcript = match result {
            Err(Error::Timeout(_)) => return self.count(RequestOutcome::TimedOut),
            Err(_) => return self.count(RequestOutcome::Failed),
            Ok(transcript) => transcript,
        };
        self.count(if stopped {
            RequestOutcome::Cancelled
        } else {
            RequestOutcome::Completed
        });
        let t = &transcript.timings;
        for (histogram, seconds) in [
            (&self.audio_prepare, t.decode_audio_s),
            (&self.mel, t.mel_s),
            (&self.request_encoder, t.encoder_s),
            (&self.request_decoder, t.decoder_s),
            (&self.transcription, t.total_s),
        ] {
            histogram.observe(seconds);
        }
        self.audio.observe(transcript.duration_s);
    }

    /// The counter of `outcome`.
    pub fn requests(&self, outcome: RequestOutcome) -> &Counter {
        &self.requests[outcome as usize]
    }
}
