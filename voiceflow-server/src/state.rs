//! What every request handler shares: the engine, the enhancement queue,
//! the store, the limits and the server's own metrics.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::watch;
use voiceflow_core::enhance::{EnhancePipeline, PipelineConfig, RuleEnhancer};
use voiceflow_core::metrics::{Counter, Gauge, Metrics};
use voiceflow_core::model::files::resolve_model_dir;
use voiceflow_core::store::{Store, StoreConfig};
use voiceflow_core::{Engine, EngineConfig, Error, Result, SchedulerConfig};

use crate::auth::Tokens;
use crate::config::{ServerConfig, StorageSection};

/// The server's shared state (cheap to clone: one `Arc`).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

/// See [`AppState`].
pub(crate) struct Inner {
    pub config: ServerConfig,
    pub engine: Arc<Engine>,
    pub enhancer: EnhancePipeline,
    pub store: Option<Arc<Store>>,
    pub tokens: Tokens,
    pub metrics: ServerMetrics,
    /// Open WebSocket streams (admitted, not yet closed).
    pub streams: AtomicUsize,
    /// SIGTERM arrived: `/readyz` answers 503, new streams are refused.
    pub draining: AtomicBool,
    /// Tells open streams to finish (`true` once shutdown begins).
    pub shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("listen", &self.0.config.listen)
            .field("model", &self.0.engine.model_info().name)
            .field(
                "store",
                &self.0.store.as_ref().map(|s| s.path().to_path_buf()),
            )
            .field("streams", &self.0.streams.load(Ordering::Relaxed))
            .field("draining", &self.0.draining.load(Ordering::Relaxed))
            .finish()
    }
}

impl AppState {
    /// Loads the model, starts the enhancement queue and opens the store, as
    /// `config` says.
    pub fn new(config: ServerConfig) -> Result<AppState> {
        let tokens = Tokens::from_config(&config.auth)?;
        let mut engine_config = EngineConfig::new(resolve_model_dir(&config.engine.model));
        engine_config.runtime_library = config.engine.runtime.clone();
        engine_config.device = config.engine.device;
        if let Some(threads) = config.engine.threads {
            engine_config.intra_op_threads = threads;
        }
        engine_config.scheduler = SchedulerConfig {
            max_concurrent: config.engine.max_concurrent_transcriptions,
            max_queued: config.engine.max_queued_transcriptions,
            ..SchedulerConfig::default()
        };
        let engine = Arc::new(Engine::new(engine_config)?);
        let registry = Arc::clone(engine.metrics());
        let enhancer = EnhancePipeline::with_metrics(
            RuleEnhancer,
            PipelineConfig {
                capacity: config.ai_enhancement.queue_size,
                workers: config.ai_enhancement.max_concurrent_requests,
            },
            Arc::clone(&registry),
        )?;
        let store = open_store(&config.storage)?.map(Arc::new);
        let (shutdown, _) = watch::channel(false);
        Ok(AppState(Arc::new(Inner {
            metrics: ServerMetrics::new(registry),
            config,
            engine,
            enhancer,
            store,
            tokens,
            streams: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            shutdown,
        })))
    }

    /// The engine's registry, which also holds the server's series.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics.registry
    }

    /// The engine every stream and request shares.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.0.engine
    }

    /// The store, when `[storage]` configured one.
    pub fn store(&self) -> Option<&Arc<Store>> {
        self.0.store.as_ref()
    }

    /// Whether the server takes new work (model loaded, not draining).
    pub fn is_ready(&self) -> bool {
        !self.0.draining.load(Ordering::Acquire) && !self.0.engine.is_closed()
    }
}

/// The store of `[storage]`, or `None` without a path. The passphrase comes
/// from its file, else from its environment variable; never from a client.
fn open_store(storage: &StorageSection) -> Result<Option<Store>> {
    let Some(path) = &storage.path else {
        return Ok(None);
    };
    let key = storage.key()?.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "storage.path is set and encryption is on, but there is no passphrase: \
             set storage.passphrase_file or the environment variable {}",
            storage.passphrase_env
        ))
    })?;
    Store::open(path, key, StoreConfig::default()).map(Some)
}

/// The server's own series, in the engine's registry (so `/metrics` shows
/// both).
#[derive(Debug)]
pub(crate) struct ServerMetrics {
    registry: Arc<Metrics>,
    /// Open WebSocket streams.
    pub open_streams: Arc<Gauge>,
    /// WebSocket streams admitted.
    pub streams_total: Arc<Counter>,
    /// Client messages received.
    pub messages_in: Arc<Counter>,
    /// Server messages sent.
    pub messages_out: Arc<Counter>,
    /// Bytes of client messages received.
    pub bytes_in: Arc<Counter>,
    /// Bytes of server messages sent.
    pub bytes_out: Arc<Counter>,
}

impl ServerMetrics {
    fn new(registry: Arc<Metrics>) -> Self {
        registry.describe(
            "voiceflow_server_open_streams",
            "WebSocket streams open now (and their peak)",
        );
        registry.describe(
            "voiceflow_server_streams_total",
            "WebSocket streams admitted since start",
        );
        registry.describe(
            "voiceflow_server_rejects_total",
            "Connections, messages and requests refused, by reason",
        );
        registry.describe(
            "voiceflow_server_messages_total",
            "WebSocket messages, by direction",
        );
        registry.describe(
            "voiceflow_server_bytes_total",
            "WebSocket message bytes, by direction",
        );
        registry.describe(
            "voiceflow_server_http_requests_total",
            "HTTP requests to the transcription endpoint, by status",
        );
        ServerMetrics {
            open_streams: registry.gauge("voiceflow_server_open_streams", &[]),
            streams_total: registry.counter("voiceflow_server_streams", &[]),
            messages_in: registry.counter("voiceflow_server_messages", &[("direction", "in")]),
            messages_out: registry.counter("voiceflow_server_messages", &[("direction", "out")]),
            bytes_in: registry.counter("voiceflow_server_bytes", &[("direction", "in")]),
            bytes_out: registry.counter("voiceflow_server_bytes", &[("direction", "out")]),
            registry,
        }
    }

    /// Counts one refusal for `reason` (`connections`, `auth`, `rate_limited`, ...).
    pub fn reject(&self, reason: &str) {
        self.registry
            .counter("voiceflow_server_rejects", &[("reason", reason)])
            .inc();
    }

    /// Counts one HTTP request to `endpoint` answered with `status`.
    pub fn http(&self, endpoint: &str, status: u16) {
        self.registry
            .counter(
                "voiceflow_server_http_requests_total",
                &[("endpoint", endpoint), ("status", &status.to_string())],
            )
            .inc();
    }
}
