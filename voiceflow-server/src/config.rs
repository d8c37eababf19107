//! `voiceflow.toml`: what the server is configured with.
//!
//! Every key has a default (the production values of VoiceFlow's original
//! load-test report where it gave one), so an empty file is a valid
//! configuration; an unknown key or a value of the wrong type is an error
//! that names the key. `voiceflow.example.toml` at the repository root lists
//! every key with its default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use voiceflow_core::store::StoreKey;
use voiceflow_core::{Context, Error, Result};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on. Default: `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// The model and how it runs.
    pub engine: EngineSection,
    /// Who may connect.
    pub auth: AuthSection,
    /// The WebSocket endpoint's limits.
    pub websocket: WebSocketSection,
    /// The HTTP endpoints' limits.
    pub http: HttpSection,
    /// The enhancement queue behind `"context"`.
    pub ai_enhancement: EnhancementSection,
    /// The encrypted store behind `"store": true`.
    pub storage: StorageSection,
    /// What SIGTERM does.
    pub shutdown: ShutdownSection,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            engine: EngineSection::default(),
            auth: AuthSection::default(),
            websocket: WebSocketSection::default(),
            http: HttpSection::default(),
            ai_enhancement: EnhancementSection::default(),
            storage: StorageSection::default(),
            shutdown: ShutdownSection::default(),
        }
    }
}

/// `[engine]`: the model, its threads and the scheduler's admission control.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Model folder, or the name of an installed model (`voiceflow models
    /// list`; `voiceflow_core::model::registry`). Default: `tiny.en`.
    pub model: PathBuf,
    /// ONNX Runtime intra-op threads; default: the machine's cores.
    pub threads: Option<usize>,
    /// The ONNX Runtime library; default: `ORT_DYLIB_PATH` or `runtime/`.
    pub runtime: Option<PathBuf>,
    /// Where the model runs: `"auto"` (default: CUDA when built with it and
    /// usable, else the CPU), `"cpu"`, `"cuda"` or `"cuda:N"` (that GPU or
    /// fail to start); [`voiceflow_core::Device`].
    pub device: voiceflow_core::Device,
    /// Transcriptions running at once (streams' utterances and uploads
    /// together). Default: 50, the report's concurrent users.
    pub max_concurrent_transcriptions: usize,
    /// Transcriptions that may wait beyond those; more are refused with an
    /// `overloaded` error. Default: 100.
    pub max_queued_transcriptions: usize,
    /// Encode audio shorter than 30 s at its own length, rounded up to 5 s
    /// ([`voiceflow_core::TranscribeOptions::short_windows`]), for streams'
    /// finals and uploads (partials always are). Default: `true`: dictation
    /// is short; measured 2.48% WER against 4.29% with 30-s windows on 29
    /// recordings, and 2.8x the throughput at 50 callers.
    pub short_windows: bool,
}

impl Default for EngineSection {
    fn default() -> Self {
        let scheduler = voiceflow_core::SchedulerConfig::default();
        EngineSection {
            model: PathBuf::from("tiny.en"),
            threads: None,
            runtime: None,
            device: voiceflow_core::Device::Auto,
            max_concurrent_transcriptions: scheduler.max_concurrent,
            max_queued_transcriptions: scheduler.max_queued,
            short_windows: true,
        }
    }
}

/// `[auth]`: bearer tokens. With none configured the server refuses to start
/// unless `allow_anonymous` is set (for a loopback-only development server).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// Accepted tokens.
    pub tokens: Vec<String>,
    /// A file with one accepted token per line (blank lines and `#` comments
    /// skipped), read at start.
    pub token_file: Option<PathBuf>,
    /// Accept clients without a token. Default: `false`.
    pub allow_anonymous: bool,
}

/// `[websocket]`: `GET /v1/stream`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocketSection {
    /// Open streams at once; more are refused with HTTP 503. Default: 150.
    pub max_connections: usize,
    /// Messages per second one connection may send (burst: one second's
    /// worth); faster senders get a `rate_limited` error and are closed.
    /// Default: 1000.
    pub message_rate_limit: u32,
    /// Seconds between pings; a peer that answers nothing for two intervals
    /// is dropped. Default: 30.
    pub ping_interval_s: f64,
    /// Largest client message in bytes (a frame of 100 ms at 48 kHz stereo
    /// f32 is 38 kB). Default: 1 MiB.
    pub max_message_bytes: usize,
    /// Seconds without any client message before the stream is closed.
    /// Default: 60.
    pub idle_timeout_s: f64,
    /// Seconds a new connection has to send its `start` message. Default: 10.
    pub start_timeout_s: f64,
}

impl Default for WebSocketSection {
    fn default() -> Self {
        WebSocketSection {
            max_connections: 150,
            message_rate_limit: 1000,
            ping_interval_s: 30.0,
            max_message_bytes: 1 << 20,
            idle_timeout_s: 60.0,
            start_timeout_s: 10.0,
        }
    }
}

/// `[http]`: `POST /v1/audio/transcriptions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Largest upload in bytes. Default: 25 MiB, OpenAI's own limit.
    pub max_upload_bytes: usize,
    /// Seconds a transcription may take before it answers 504. Default: 300.
    pub request_timeout_s: f64,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            max_upload_bytes: 25 << 20,
            request_timeout_s: 300.0,
        }
    }
}

/// `[ai_enhancement]`: the rule enhancer's bounded queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnhancementSection {
    /// Enhancements running at once (worker threads). Default: 15.
    pub max_concurrent_requests: usize,
    /// Enhancements waiting beyond those. Default: 100.
    pub queue_size: usize,
    /// Seconds an enhancement may wait and run. Default: 5.
    pub timeout_s: f64,
    /// The context `voiceflow transcribe` and `voiceflow enhance` finish
    /// text for when no `--context` is given (without one, `transcribe`
    /// prints the raw text only). The server's streams name theirs in
    /// `start`. Default: none.
    pub default_context: Option<Context>,
}

impl Default for EnhancementSection {
    fn default() -> Self {
        let pipeline = voiceflow_core::enhance::PipelineConfig::default();
        EnhancementSection {
            max_concurrent_requests: pipeline.workers,
            queue_size: pipeline.capacity,
            timeout_s: 5.0,
            default_context: None,
        }
    }
}

/// `[storage]`: where `"store": true` results go. The key never comes from a
/// client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// The store's folder; without one, `"store": true` is refused.
    pub path: Option<PathBuf>,
    /// Encrypt records (AES-256-GCM). Default: `true`.
    pub encryption: bool,
    /// A file holding the passphrase (trailing newline ignored).
    pub passphrase_file: Option<PathBuf>,
    /// The environment variable holding the passphrase when there is no
    /// file. Default: `VOICEFLOW_STORE_PASSPHRASE`.
    pub passphrase_env: String,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            path: None,
            encryption: true,
            passphrase_file: None,
            passphrase_env: "VOICEFLOW_STORE_PASSPHRASE".into(),
        }
    }
}

impl StorageSection {
    /// The store's key: unencrypted when `encryption` is off, else the
    /// passphrase from `passphrase_file`, else from the environment variable
    /// `passphrase_env`; `None` when neither holds one (the server then
    /// refuses to start, the CLI asks on a terminal).
    pub fn key(&self) -> Result<Option<StoreKey>> {
        if !self.encryption {
            return Ok(Some(StoreKey::unencrypted()));
        }
        if let Some(file) = &self.passphrase_file {
            let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            return Ok(Some(StoreKey::passphrase(
                text.trim_end_matches(['\r', '\n']),
            )));
        }
        Ok(std::env::var(&self.passphrase_env)
            .ok()
            .filter(|passphrase| !passphrase.is_empty())
            .map(StoreKey::passphrase))
    }
}

/// `[shutdown]`: SIGTERM and SIGINT.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownSection {
    /// Seconds open streams get to finish (their finals, enhancements and
    /// stored records) before they are cancelled. Default: 30.
    pub drain_timeout_s: f64,
    /// Seconds between the signal and the drain during which `/readyz`
    /// answers 503 and new streams are refused with 503 while the listener
    /// stays open, so that a load balancer's health checks take the replica
    /// out before its port closes (at least the balancer's check interval
    /// times its fall count). Open streams keep running meanwhile.
    /// Default: 0 (drain at once).
    pub readiness_grace_s: f64,
}

impl Default for ShutdownSection {
    fn default() -> Self {
        ShutdownSection {
            drain_timeout_s: 30.0,
            readiness_grace_s: 0.0,
        }
    }
}

impl ServerConfig {
    /// Reads and checks `path`; errors name the file and the bad key.
    pub fn load(path: &Path) -> Result<ServerConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config = ServerConfig::parse(&text)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
        Ok(config)
    }

    /// Parses and checks a configuration's text.
    pub fn parse(text: &str) -> Result<ServerConfig> {
        let config: ServerConfig = toml::from_str(text)
            .map_err(|e| Error::InvalidArgument(e.to_string().trim_end().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the ranges serde cannot; errors name the key.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("websocket.ping_interval_s", self.websocket.ping_interval_s),
            ("websocket.idle_timeout_s", self.websocket.idle_timeout_s),
            ("websocket.start_timeout_s", self.websocket.start_timeout_s),
            ("http.request_timeout_s", self.http.request_timeout_s),
            ("ai_enhancement.timeout_s", self.ai_enhancement.timeout_s),
            ("shutdown.drain_timeout_s", self.shutdown.drain_timeout_s),
        ];
        for (key, value) in positive {
            if !(value.is_finite() && value > 0.0 && value < 1e9) {
                return Err(Error::InvalidArgument(format!(
                    "{key} must be a positive number of seconds, got {value}"
                )));
            }
        }
        let grace = self.shutdown.readiness_grace_s;
        if !(grace.is_finite() && (0.0..1e9).contains(&grace)) {
            return Err(Error::InvalidArgument(format!(
                "shutdown.readiness_grace_s must be zero or a positive number of seconds, got {grace}"
            )));
        }
        let counts = [
            ("websocket.max_connections", self.websocket.max_connections),
            (
                "websocket.message_rate_limit",
                self.websocket.message_rate_limit as usize,
            ),
            (
                "websocket.max_message_bytes",
                self.websocket.max_message_bytes,
            ),
            ("http.max_upload_bytes", self.http.max_upload_bytes),
            (
                "engine.max_concurrent_transcriptions",
                self.engine.max_concurrent_transcriptions,
            ),
            (
                "ai_enhancement.max_concurrent_requests",
                self.ai_enhancement.max_concurrent_requests,
            ),
            ("ai_enhancement.queue_size", self.ai_enhancement.queue_size),
        ];
        for (key, value) in counts {
            if value == 0 {
                return Err(Error::InvalidArgument(format!("{key} must be at least 1")));
            }
        }
        if self.engine.threads == Some(0) {
            return Err(Error::InvalidArgument(
                "engine.threads must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// `seconds` (checked finite and not negative by [`ServerConfig::validate`]).
pub(crate) fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = ServerConfig::parse("").unwrap();
        assert_eq!(config.websocket.max_connections, 150);
        assert_eq!(config.websocket.message_rate_limit, 1000);
        assert_eq!(config.websocket.ping_interval_s, 30.0);
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.storage.encryption);
    }

    #[test]
    fn a_negative_readiness_grace_is_refused_with_its_key() {
        let e = ServerConfig::parse("[shutdown]\nreadiness_grace_s = -1.0\n").unwrap_err();
        assert!(e.to_string().contains("shutdown.readiness_grace_s"), "{e}");
        let ok = ServerConfig::parse("[shutdown]\nreadiness_grace_s = 2.5\n").unwrap();
        assert_eq!(ok.shutdown.readiness_grace_s, 2.5);
    }

    #[test]
    fn an_unknown_key_is_named() {
        let e = ServerConfig::parse("[websocket]\nmax_conections = 3\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("max_conections"), "{text}");
    }

    #[test]
    fn a_wrong_type_is_named() {
        let e = ServerConfig::parse("[websocket]\nmax_connections = \"many\"\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("max_connections"), "{text}");
    }

    #[test]
    fn a_bad_range_is_named() {
        let e = ServerConfig::parse("[websocket]\nping_interval_s = -1\n").unwrap_err();
        assert!(e.to_string().contains("websocket.ping_interval_s"), "{e}");
        let e = ServerConfig::parse("[ai_enhancement]\nqueue_size = 0\n").unwrap_err();
        assert!(e.to_string().contains("ai_enhancement.queue_size"), "{e}");
    }

    #[test]
    fn the_kubernetes_configuration_parses() {
        let manifest = include_str!("../../deploy/kubernetes/configmap.yaml");
        let (_, block) = manifest.split_once("voiceflow.toml: |\n").unwrap();
        let text: String = block
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let config = ServerConfig::parse(&text).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
        // The grace outlasts the readiness probe's 2 s, and the drain fits
        // in terminationGracePeriodSeconds (45 s, deployment.yaml).
        assert!(config.shutdown.readiness_grace_s > 2.0);
        assert!(config.shutdown.readiness_grace_s + config.shutdown.drain_timeout_s < 45.0);
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let text = include_str!("../../voiceflow.example.toml");
        let example = ServerConfig::parse(text).unwrap();
        let defaults = ServerConfig::default();
        assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
    }
}
