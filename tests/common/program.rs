//! The `voiceflow` program as a child process: `voiceflow serve` started on
//! a free loopback port, and signals to it.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::model_dir;

/// A running `voiceflow serve` and the address it printed; killed when
/// dropped unless it has exited (so a failing test leaves no server behind).
pub struct ServeProcess {
    /// The child process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `voiceflow serve --listen 127.0.0.1:0 --threads 1 --model tiny.en
/// --token-file tokens` with `extra` arguments and `env`, and waits until it
/// listens. Its log goes on to the test's stderr.
pub fn serve(tokens: &Path, extra: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> ServeProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["serve", "--listen", "127.0.0.1:0", "--threads", "1"])
        .arg("--model")
        .arg(model_dir())
        .arg("--token-file")
        .arg(tokens)
        .args(extra)
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voiceflow serve");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let addr: SocketAddr = loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "voiceflow serve exited before listening");
        eprint!("{line}");
        if let Some(addr) = line.trim().strip_prefix("voiceflow: listening on http://") {
            break addr.parse().unwrap();
        }
    };
    // Keeps reading, so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("{line}");
        }
    });
    ServeProcess { child, addr }
}

/// Sends SIGTERM to a child this test started.
pub fn terminate(child: &Child) {
    // SAFETY: `kill` has no memory-safety preconditions. The pid is our own
    // child's, and every caller passes one it has not waited for, so the pid
    // cannot have been reused by another process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
}

/// Runs `voiceflow transcribe --model <tiny.en> --threads 1` with `args` to
/// the end.
pub fn transcribe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .arg("transcribe")
        .arg("--model")
        .arg(model_dir())
        .args(["--threads", "1"])
        .args(args)
        .output()
        .expect("voiceflow runs")
}
