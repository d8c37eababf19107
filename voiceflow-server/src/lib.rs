//! `voiceflow serve`: VoiceFlow over the network.
//!
//! - `GET /v1/stream`: live dictation over a WebSocket; binary PCM frames
//!   in, JSON partials, finals, enhancements and stored ids out (the
//!   protocol is in `docs/protocol.md`);
//! - `POST /v1/audio/transcriptions`: OpenAI's transcription API, so that
//!   its clients work unchanged (`GET /v1/models` too);
//! - `GET /healthz`, `GET /readyz`, `GET /metrics` (OpenMetrics text);
//! - `GET /`: a live dictation page for the browser.
//!
//! Everything comes from a [`ServerConfig`] (`voiceflow.toml`). The server
//! is a thin user of `voiceflow-core`: one [`voiceflow_core::Engine`]
//! shared by every stream and request, its scheduler batching their work.
//!
//! ```no_run
//! # async fn run() -> voiceflow_core::Result<()> {
//! use voiceflow_server::{Server, ServerConfig};
//!
//! let mut config = ServerConfig::default();
//! config.auth.tokens = vec!["secret".into()];
//! let server = Server::bind(config).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(voiceflow_server::shutdown_signal()).await
//! # }
//! ```

pub mod auth;
pub mod config;
mod openai;
mod routes;
mod state;
pub mod ws;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::net::TcpListener;
use voiceflow_core::{Error, Result};

pub use config::ServerConfig;
pub use state::AppState;

/// A server bound to its address, with the model loaded.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Loads what `config` names (model, tokens, store) and binds its
    /// address (port 0: a free port; see [`Server::local_addr`]).
    pub async fn bind(config: ServerConfig) -> Result<Server> {
        config.validate()?;
        let listen = config.listen;
        let state = tokio::task::spawn_blocking(move || AppState::new(config))
            .await
            .map_err(|e| Error::inference_from("loading failed", e))??;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::InvalidArgument(format!("cannot listen on {listen}: {e}")))?;
        Ok(Server { listener, state })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (engine, store, metrics).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains: `/readyz` turns 503
    /// and new streams are refused (for `shutdown.readiness_grace_s` while
    /// the port stays open, so that balancers notice), open streams send their last finals
    /// (enhanced and stored) and `done` within `shutdown.drain_timeout_s`,
    /// the store is flushed and the engine closed.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let state = self.state.clone();
        let app = routes::router(self.state.clone());
        let draining = state.clone();
        let (signalled, drain_started) = tokio::sync::oneshot::channel();
        let grace = config::secs(state.0.config.shutdown.readiness_grace_s);
        let serve = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            draining.0.draining.store(true, Ordering::Release);
            if !grace.is_zero() {
                tracing::info!("shutting down: not ready; draining in {grace:?}");
                tokio::time::sleep(grace).await;
            }
            tracing::info!("shutting down: draining open streams");
            draining.0.shutdown.send_replace(true);
            let _ = signalled.send(Instant::now());
        });
        let mut serve = tokio::spawn(serve.into_future());
        // Biased: the signal is sent before a graceful stop lets `serve`
        // end, so when both are ready it was a shutdown, and open streams
        // must drain before the engine closes. `serve` alone ends only on a
        // listener error.
        let served = tokio::select! {
            biased;
            started = drain_started => {
                // The drain clock runs from the end of the readiness grace:
                // streams and HTTP requests in flight share it.
                let started = started.unwrap_or_else(|_| Instant::now());
                let deadline = started + config::secs(state.0.config.shutdown.drain_timeout_s);
                let drained = async {
                    let served = (&mut serve).await;
                    while state.0.streams.load(Ordering::Acquire) > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    served
                };
                match tokio::time::timeout_at(deadline.into(), drained).await {
                    Ok(served) => Some(served),
                    Err(_) => {
                        let left = state.0.streams.load(Ordering::Acquire);
                        tracing::warn!("drain timeout: {left} stream(s) and the requests in flight are cut off");
                        serve.abort();
                        None
                    }
                }
            }
            served = &mut serve => Some(served),
        };
        if let Some(store) = state.store() {
            let store = std::sync::Arc::clone(store);
            tokio::task::spawn_blocking(move || store.flush())
                .await
                .map_err(|e| Error::inference_from("flushing failed", e))??;
        }
        state.0.engine.close();
        match served {
            Some(Ok(Err(e))) => Err(Error::Io {
                path: "<listener>".into(),
                source: e,
            }),
            Some(Err(e)) if e.is_panic() => Err(Error::inference_from("the server panicked", e)),
            _ => Ok(()),
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
