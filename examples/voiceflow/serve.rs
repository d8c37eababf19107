//! `voiceflow serve`: the server of `voiceflow-server`, configured by a file
//! and flags (flags win).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use voiceflow_server::{Server, ServerConfig};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Configuration file (see voiceflow.example.toml); without it, the defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Model folder or installed model's name (overrides engine.model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Address to listen on, such as 127.0.0.1:8080 (port 0: any free port).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// File of accepted tokens, one per line (overrides auth.token_file).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// ONNX Runtime threads (overrides engine.threads).
    #[arg(long)]
    threads: Option<usize>,
    /// Where the model runs: auto, cpu, cuda or cuda:N (overrides
    /// engine.device).
    #[arg(long)]
    device: Option<voiceflow_core::Device>,
    /// Encrypted store folder (overrides storage.path; the passphrase comes
    /// from storage.passphrase_file or $VOICEFLOW_STORE_PASSPHRASE).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Accept clients without a token (development on loopback only).
    #[arg(long)]
    allow_anonymous: bool,
}

impl ServeArgs {
    /// The file's configuration (checked) with the flags applied.
    fn config(&self) -> voiceflow_core::Result<ServerConfig> {
        let mut config = match &self.config {
            Some(path) => ServerConfig::load(path)?,
            None => ServerConfig::default(),
        };
        if let Some(model) = &self.model {
            config.engine.model = model.clone();
        }
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(file) = &self.token_file {
            config.auth.token_file = Some(file.clone());
        }
        if self.threads.is_some() {
            config.engine.threads = self.threads;
        }
        if let Some(device) = self.device {
            config.engine.device = device;
        }
        if let Some(store) = &self.store {
            config.storage.path = Some(store.clone());
        }
        config.auth.allow_anonymous |= self.allow_anonymous;
        // `Server::bind` checks the result.
        Ok(config)
    }
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> ExitCode {
    let config = match args.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("voiceflow: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match Server::bind(config).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
                return ExitCode::from(2);
            }
        };
        // Scripts and tests read the address from this line.
        eprintln!("voiceflow: listening on http://{}", server.local_addr());
        match server.run(voiceflow_server::shutdown_signal()).await {
            Ok(()) => {
                eprintln!("voiceflow: stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
                ExitCode::FAILURE
            }
        }
    })
}
