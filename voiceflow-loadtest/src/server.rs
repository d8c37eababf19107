//! The server under test: `voiceflow serve` started on a free loopback port
//! with a configuration sized for the profile, or an address given by the
//! user, which must be loopback (a load test is never aimed at someone
//! else's machine).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use voiceflow_core::{Error, Result};

use crate::profile::Profile;

/// What `voiceflow serve` prints once it listens.
const LISTENING: &str = "voiceflow: listening on http://";
/// How long the server may take to load its model and listen.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The address of a `ws://` URL, refused unless it is loopback.
pub fn loopback_addr(url: &str) -> Result<SocketAddr> {
    let invalid = |why: &str| Err(Error::InvalidArgument(format!("--url {url:?}: {why}")));
    let Some(rest) = url.strip_prefix("ws://") else {
        return invalid("write ws://127.0.0.1:PORT (plain WebSocket on loopback)");
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    let addrs: Vec<SocketAddr> = match host_port.to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return invalid(&format!("not HOST:PORT ({e})")),
    };
    match addrs.iter().find(|addr| addr.ip().is_loopback()) {
        Some(addr) if addrs.iter().all(|a| a.ip().is_loopback()) => Ok(*addr),
        _ => invalid("the load test only runs against this machine's loopback address"),
    }
}

/// A `voiceflow serve` child process, stopped (SIGTERM) when dropped.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The token it accepts.
    pub token: String,
}

/// Settings of the server the load test starts.
pub struct ServerSetup<'a> {
    /// The `voiceflow` program.
    pub program: &'a Path,
    /// Model folder.
    pub model: &'a Path,
    /// ONNX Runtime threads.
    pub threads: Option<usize>,
    /// Folder for its configuration, token file and log.
    pub work: &'a Path,
}

impl ServerProcess {
    /// Starts the server sized for `profile` and waits until it listens.
    pub fn start(setup: &ServerSetup<'_>, profile: &Profile) -> Result<Self> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let token = format!("loadtest-{:032x}", rand::random::<u128>());
        let tokens = setup.work.join("tokens");
        std::fs::write(&tokens, format!("{token}\n")).map_err(io(&tokens))?;
        let config_path = setup.work.join("server.toml");
        std::fs::write(&config_path, config(setup, profile, &tokens)).map_err(io(&config_path))?;
        let log_path = setup.work.join("server.log");
        let mut log = std::fs::File::create(&log_path).map_err(io(&log_path))?;
        let mut child = Command::new(setup.program)
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io(setup.program))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let (found, listening) = std::sync::mpsc::channel();
        // Copies the server's log to server.log; reports the address.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr)
                .lines()
                .map_while(std::io::Result::ok)
            {
                let _ = writeln!(log, "{line}");
                if let Some(addr) = line.trim().strip_prefix(LISTENING) {
                    if let Some(found) = found.take() {
                        let _ = found.send(addr.parse::<SocketAddr>().ok());
                    }
                }
            }
        });
        let started = Instant::now();
        let addr = loop {
            match listening.recv_timeout(Duration::from_millis(200)) {
                Ok(Some(addr)) => break addr,
                Ok(None) => {
                    return Err(failed_start(
                        &log_path,
                        "printed an address it cannot parse",
                    ))
                }
                Err(_) if child.try_wait().ok().flatten().is_some() => {
                    return Err(failed_start(&log_path, "exited before it listened"))
                }
                Err(_) if started.elapsed() > START_TIMEOUT => {
                    let _ = child.kill();
                    return Err(failed_start(&log_path, "did not listen within 120 s"));
                }
                Err(_) => continue,
            }
        };
        Ok(ServerProcess { child, addr, token })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Reaped already (by `is_running`): its pid may belong to another
        // process by now, so no signal.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our
        // own child's, not yet reaped (checked just above), so it cannot have
        // been reused by another process.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn failed_start(log: &Path, what: &str) -> Error {
    let tail: String = std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .rev()
        .take(5)
        .collect::<Vec<_>>()
        .join(" | ");
    Error::InvalidArgument(format!(
        "voiceflow serve {what} (log {}: {tail})",
        log.display()
    ))
}

/// The server's configuration: room for the connections scenario and the
/// stress levels, idle streams kept through the hold.
fn config(setup: &ServerSetup<'_>, profile: &Profile, tokens: &Path) -> String {
    let connections = profile.connections.idle.max(profile.stress.max_users) + 64;
    let threads = setup
        .threads
        .map(|n| format!("threads = {n}\n"))
        .unwrap_or_default();
    format!(
        "listen = \"127.0.0.1:0\"\n\
         [engine]\nmodel = {model}\n{threads}\
         [auth]\ntoken_file = {tokens}\n\
         [websocket]\nmax_connections = {connections}\nidle_timeout_s = {idle}\nping_interval_s = {ping}\n",
        model = toml_path(setup.model),
        tokens = toml_path(tokens),
        idle = profile.connections.hold_s + 60.0,
        ping = profile.connections.hold_s + 60.0,
    )
}

fn toml_path(path: &Path) -> String {
    let absolute: PathBuf = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    toml::Value::String(absolute.display().to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(loopback_addr("ws://127.0.0.1:8080").unwrap().port(), 8080);
        assert!(loopback_addr("ws://[::1]:9000/v1/stream")
            .unwrap()
            .ip()
            .is_loopback());
        assert!(loopback_addr("ws://localhost:8080")
            .unwrap()
            .ip()
            .is_loopback());
        for url in [
            "ws://10.0.0.7:8080",
            "wss://127.0.0.1:8080",
            "http://127.0.0.1:80",
            "ws://127.0.0.1",
        ] {
            let error = loopback_addr(url).unwrap_err().to_string();
            assert!(error.contains("--url"), "{url}: {error}");
        }
        assert!(loopback_addr("ws://10.0.0.7:8080")
            .unwrap_err()
            .to_string()
            .contains("loopback"));
    }

    #[test]
    fn the_configuration_parses_as_toml() {
        let setup = ServerSetup {
            program: Path::new("voiceflow"),
            model: Path::new("models/m"),
            threads: Some(2),
            work: Path::new("/tmp"),
        };
        let text = config(&setup, &Profile::standard(), Path::new("/tmp/tokens"));
        let value: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            value["websocket"]["max_connections"].as_integer(),
            Some(1_064)
        );
        assert_eq!(value["engine"]["threads"].as_integer(), Some(2));
    }
}
