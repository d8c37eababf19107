//! Past one machine: two `voiceflow serve` replicas behind HAProxy
//! (Debian's package, `scripts/setup.sh lb`), run with the configuration a
//! deployment uses (`deploy/haproxy/haproxy.cfg`, docs/scaling.md). Streams
//! go through the balancer in real time, and one replica is stopped with
//! SIGTERM while streams are open on it: no stream started after the signal
//! may fail, and every record a client was told is stored must be in a
//! replica's store.

mod common;

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::program::{serve, terminate, ServeProcess};
use common::ws::{clips, connect, finals_text, of_type, start, stream_in_real_time};
use common::{repo, wer};
use serde_json::{json, Value};
use voiceflow_core::store::{Query, Store, StoreConfig, StoreKey};

const TOKEN: &str = "scale-out-token-52e0";
const PASSPHRASE: &str = "scale out test passphrase";
/// As the streaming tests (tests/stream.rs): one wrong word in a short
/// sentence passes.
const CLIP_WER: f64 = 0.15;
/// The replicas' readiness grace: above the balancer's check interval times
/// its fall count (1 s x 2 in deploy/haproxy/haproxy.cfg), so the balancer
/// has taken a stopping replica out before its port closes.
const READINESS_GRACE_S: f64 = 3.0;
/// Longest wait for the balancer to see both replicas up (two checks, 1 s
/// apart, on a busy machine).
const UP_WAIT: Duration = Duration::from_secs(60);

/// HAProxy running `deploy/haproxy/haproxy.cfg`, stopped when dropped.
struct Balancer {
    child: Child,
    addr: SocketAddr,
    stats: PathBuf,
}

impl Balancer {
    /// Starts HAProxy on a free loopback port in front of `replicas` and
    /// waits until it reports both up.
    fn start(dir: &Path, replicas: [SocketAddr; 2]) -> Balancer {
        let haproxy = Command::new("haproxy").arg("-v").output();
        assert!(
            haproxy.is_ok_and(|o| o.status.success()),
            "haproxy is not installed: run `scripts/setup.sh lb` (Debian's haproxy package)"
        );
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let stats = dir.join("haproxy.sock");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(repo().join("deploy/haproxy/haproxy.cfg"))
            .env("VOICEFLOW_LB_BIND", addr.to_string())
            .env("VOICEFLOW_REPLICA_1", replicas[0].to_string())
            .env("VOICEFLOW_REPLICA_2", replicas[1].to_string())
            .env("VOICEFLOW_LB_STATS", &stats)
            .stdin(Stdio::null())
            .spawn()
            .expect("haproxy");
        let balancer = Balancer { child, addr, stats };
        let started = Instant::now();
        while !["replica1", "replica2"]
            .iter()
            .all(|r| balancer.server(r).is_some_and(|s| s.status == "UP"))
        {
            assert!(
                started.elapsed() < UP_WAIT,
                "the balancer never saw both replicas up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        balancer
    }

    /// A server's row of `show stat` on the admin socket (None until
    /// HAProxy answers).
    fn server(&self, name: &str) -> Option<ServerStat> {
        let mut socket = UnixStream::connect(&self.stats).ok()?;
        socket.write_all(b"show stat\n").ok()?;
        let mut csv = String::new();
        socket.read_to_string(&mut csv).ok()?;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
        let column = |name: &str| header.iter().position(|&h| h == name);
        let (svname, status, scur) = (column("svname")?, column("status")?, column("scur")?);
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find_map(|row| {
                (row.get(svname) == Some(&name)).then(|| ServerStat {
                    status: row.get(status).copied().unwrap_or_default().to_string(),
                    open: row.get(scur).and_then(|v| v.parse().ok()).unwrap_or(0),
                })
            })
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What HAProxy says of one replica.
struct ServerStat {
    /// `UP`, `DOWN`, `MAINT`, ...
    status: String,
    /// Connections open to it now.
    open: u64,
}

/// One dictation through the balancer: weather.wav and door.wav in real
/// time, enhanced for chat and stored.
async fn dictate(lb: SocketAddr, audio: std::sync::Arc<Vec<f32>>) -> (Vec<Value>, Option<u16>) {
    let mut ws = connect(lb, Some(TOKEN))
        .await
        .unwrap_or_else(|e| panic!("the balancer refused a stream: {e}"));
    start(&mut ws, json!({"store": true, "context": "chat"})).await;
    stream_in_real_time(ws, &audio).await
}

/// Whether the replica at `addr` answers `/readyz` with 200 (it turns 503
/// once the replica has handled SIGTERM).
fn ready(addr: SocketAddr) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let request = b"GET /readyz HTTP/1.1\r\nHost: replica\r\nConnection: close\r\n\r\n";
    let mut response = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .is_ok()
        && stream.write_all(request).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
}

/// Waits (up to 60 s) for a child to exit and says whether it succeeded.
fn exited_ok(process: &mut ServeProcess) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = process.child.try_wait().expect("wait") {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = process.child.kill();
            panic!("voiceflow serve did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_replica_stopped_mid_run_fails_no_new_stream_and_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("{TOKEN}\n")).unwrap();
    let config = dir.path().join("replica.toml");
    std::fs::write(
        &config,
        format!("[shutdown]\nreadiness_grace_s = {READINESS_GRACE_S}\ndrain_timeout_s = 30.0\n"),
    )
    .unwrap();
    let stores = [dir.path().join("store-1"), dir.path().join("store-2")];
    let replica = |store: &Path| {
        serve(
            &tokens,
            &[
                "--config".as_ref(),
                config.as_os_str(),
                "--store".as_ref(),
                store.as_os_str(),
            ],
            &[("VOICEFLOW_STORE_PASSPHRASE", PASSPHRASE)],
        )
    };
    let mut replicas = [replica(&stores[0]), replica(&stores[1])];
    let balancer = Balancer::start(dir.path(), [replicas[0].addr, replicas[1].addr]);
    let (audio, text) = clips(&["weather.wav", "door.wav"]);
    let audio = std::sync::Arc::new(audio);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (before, after) = runtime.block_on(async {
        let lb = balancer.addr;
        // Four streams; least-connections routing puts two on each replica.
        let before: Vec<_> = (0..4)
            .map(|_| tokio::spawn(dictate(lb, audio.clone())))
            .collect();
        let open_on_both = Instant::now();
        while ["replica1", "replica2"]
            .iter()
            .any(|r| balancer.server(r).is_none_or(|s| s.open == 0))
        {
            assert!(open_on_both.elapsed() < UP_WAIT, "no stream on a replica");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Mid-utterance: replica 1 is told to stop. New streams keep coming
        // during its readiness grace and after its port has closed.
        tokio::time::sleep(Duration::from_secs(1)).await;
        terminate(&replicas[0].child);
        // "After the signal" means after the replica has handled it: a
        // stream whose upgrade reached replica 1 before then was opened
        // before the shutdown, and is drained with the others.
        let signalled = Instant::now();
        while ready(replicas[0].addr) {
            assert!(signalled.elapsed() < UP_WAIT, "replica 1 ignored SIGTERM");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut after = Vec::new();
        for _ in 0..5 {
            after.push(tokio::spawn(dictate(lb, audio.clone())));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let mut results = (Vec::new(), Vec::new());
        for task in before {
            results
                .0
                .push(task.await.expect("a stream from before the signal"));
        }
        for task in after {
            results
                .1
                .push(task.await.expect("a stream from after the signal"));
        }
        results
    });
    assert!(
        exited_ok(&mut replicas[0]),
        "replica 1 exited with an error"
    );
    assert!(
        balancer
            .server("replica1")
            .is_some_and(|s| s.status != "UP"),
        "the balancer still routes to the stopped replica"
    );

    // Every stream started after the signal ran to its end with its words.
    for (messages, close) in &after {
        assert_eq!(*close, Some(1000), "{messages:?}");
        assert!(of_type(messages, "error").is_empty(), "{messages:?}");
        assert_eq!(of_type(messages, "final").len(), 2, "{messages:?}");
        assert_eq!(of_type(messages, "stored").len(), 2, "{messages:?}");
        let heard = finals_text(messages);
        assert!(wer(&text, &heard) <= CLIP_WER, "{heard:?} vs {text:?}");
    }
    // Streams open on the stopped replica were drained (told, flushed,
    // closed with 1001); the others ended normally.
    let drained = before
        .iter()
        .filter(|(_, close)| *close == Some(1001))
        .count();
    assert!(drained >= 1, "no stream was open on the stopped replica");
    for (messages, close) in &before {
        match close {
            Some(1000) => assert!(wer(&text, &finals_text(messages)) <= CLIP_WER),
            Some(1001) => assert!(of_type(messages, "error")
                .iter()
                .all(|e| e["code"] == "shutting_down")),
            other => panic!("a stream ended with {other:?}: {messages:?}"),
        }
        assert_eq!(
            of_type(messages, "final").len(),
            of_type(messages, "stored").len(),
            "every final is stored: {messages:?}"
        );
    }

    // No record lost: each replica's store, reopened, holds exactly the
    // records its clients were told of, with their texts.
    terminate(&replicas[1].child);
    assert!(
        exited_ok(&mut replicas[1]),
        "replica 2 exited with an error"
    );
    let mut on_disk = HashMap::new();
    for path in &stores {
        let store = Store::open(
            path,
            StoreKey::passphrase(PASSPHRASE),
            StoreConfig::default(),
        )
        .expect("a replica's store after shutdown");
        let page = store.query(&Query::new().limit(1000)).expect("records");
        assert!(page.unreadable.is_empty() && page.next.is_none());
        for record in page.records {
            on_disk.insert(record.id.to_string(), record.data.raw_text);
        }
    }
    let mut told = 0;
    for (messages, _) in before.iter().chain(&after) {
        let finals = of_type(messages, "final");
        for (stored, final_) in of_type(messages, "stored").iter().zip(&finals) {
            told += 1;
            let id = stored["id"].as_str().expect("an id");
            assert_eq!(
                on_disk.get(id).map(String::as_str),
                final_["text"].as_str(),
                "record {id}"
            );
        }
    }
    assert_eq!(
        on_disk.len(),
        told,
        "records on disk vs records reported stored"
    );
}
