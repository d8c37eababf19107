//! `voiceflow serve` end to end: real sockets, the real tiny.en model and
//! Silero VAD. Streams go over a WebSocket client (tokio-tungstenite), the
//! OpenAI endpoint gets multipart uploads over HTTP (ureq), and one test
//! runs the `voiceflow` program itself and stops it with SIGTERM mid-stream.
//! The `openai` Python package and a headless browser are tested from
//! tests/python (test_server.py).

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use common::program::{serve, terminate};
use common::ws::{
    clips, connect, finals_text, of_type, read, read_to_close, s16_frames, start,
    stream_in_real_time, Read,
};
use common::ws::{GAP_S, MESSAGE_WAIT};
use common::{fixture, manifest, model_dir, samples, wer};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use voiceflow_core::store::{RecordId, Store, StoreConfig, StoreKey};
use voiceflow_server::{AppState, Server, ServerConfig};

/// The token every test server accepts.
const TOKEN: &str = "test-token-6c1f";
/// The store passphrase of the servers that store.
const PASSPHRASE: &str = "serve test passphrase";
/// As the streaming tests (tests/stream.rs): one wrong word in a short
/// sentence passes.
const CLIP_WER: f64 = 0.15;

/// A server on a free loopback port, on a runtime of its own (so that every
/// test, on its own runtime, can use it).
struct TestServer {
    addr: SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<voiceflow_core::Result<()>>>,
    _store_dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server with the test defaults (one thread, the test token), as
    /// `edit` changes them; `store`: with an encrypted store.
    fn start(store: bool, edit: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let mut config = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..ServerConfig::default()
        };
        config.engine.model = model_dir();
        config.engine.threads = Some(1);
        config.auth.tokens = vec![TOKEN.into()];
        let store_dir = store.then(|| tempfile::tempdir().expect("temp dir"));
        if let Some(dir) = &store_dir {
            let secret = dir.path().join("passphrase");
            std::fs::write(&secret, format!("{PASSPHRASE}\n")).unwrap();
            config.storage.path = Some(dir.path().join("store"));
            config.storage.passphrase_file = Some(secret);
        }
        edit(&mut config);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let server = match Server::bind(config).await {
                    Ok(server) => server,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return Ok(());
                    }
                };
                let _ = ready_tx.send(Ok((server.local_addr(), server.state().clone())));
                server
                    .run(async move {
                        let _ = stopped.await;
                    })
                    .await
            })
        });
        let (addr, state) = ready_rx
            .recv()
            .expect("server thread")
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        TestServer {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
            _store_dir: store_dir,
        }
    }

    /// Shuts down as SIGTERM does and waits until the server has drained.
    fn shutdown(&mut self) -> voiceflow_core::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().expect("server thread"),
            None => Ok(()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// The server most tests share: default limits, with a store.
fn shared() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| TestServer::start(true, |_| {}))
}

/// A server with small limits, for the refusal tests.
fn strict() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        TestServer::start(false, |c| {
            c.websocket.max_message_bytes = 4096;
            c.websocket.message_rate_limit = 20;
            c.websocket.idle_timeout_s = 1.0;
            c.websocket.start_timeout_s = 1.0;
            c.http.max_upload_bytes = 10_000;
        })
    })
}

/// `(error code, close code)` of a refused stream.
fn refusal(messages: &[Value], close: Option<u16>) -> (String, Option<u16>) {
    let errors = of_type(messages, "error");
    let code = errors.first().map_or("<no error message>", |e| {
        e["code"].as_str().unwrap_or_default()
    });
    (code.to_string(), close)
}

fn counter(state: &AppState, series: &str) -> u64 {
    let text = state.metrics().to_prometheus();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_stream_comes_back_with_its_words_partials_before_finals() {
    let server = shared();
    let (audio, expected) = clips(&["report.wav", "weather.wav"]);
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    let ready = start(
        &mut ws,
        json!({"sample_rate": 16000, "encoding": "pcm_s16le"}),
    )
    .await;
    assert!(ready["session"].as_str().is_some_and(|s| !s.is_empty()));
    // In real time, as a microphone sends: partials come every 500 ms of
    // wall-clock time.
    let (messages, close) = stream_in_real_time(ws, &audio).await;
    let kinds: Vec<&str> = messages.iter().filter_map(|m| m["type"].as_str()).collect();
    let first_partial = kinds.iter().position(|&k| k == "partial");
    let first_final = kinds.iter().position(|&k| k == "final");
    assert!(
        first_partial.is_some() && first_partial < first_final,
        "partials before finals: {kinds:?}"
    );
    let got = finals_text(&messages);
    assert!(wer(&expected, &got) <= CLIP_WER, "{got:?} vs {expected:?}");
    assert_eq!(of_type(&messages, "final").len(), 2, "{kinds:?}");
    let done = messages.last().expect("messages");
    assert_eq!(done["type"], "done", "{kinds:?}");
    let sent_s = (samples("report.wav").len() + samples("weather.wav").len()) as f64 / 16_000.0
        + 2.0 * GAP_S;
    assert!((done["duration_s"].as_f64().unwrap() - sent_s).abs() < 0.11);
    assert_eq!(close, Some(1000));
}

#[tokio::test]
async fn finals_are_enhanced_for_the_context_and_stored_encrypted() {
    let server = shared();
    let (audio, expected) = clips(&["calling.wav", "report.wav"]);
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut ws, json!({"context": "email", "store": true})).await;
    for frame in s16_frames(&audio, 16_000) {
        ws.send(Message::binary(frame)).await.unwrap();
    }
    ws.send(Message::text(r#"{"type":"end"}"#)).await.unwrap();
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(close, Some(1000), "{messages:?}");
    let finals = of_type(&messages, "final");
    let enhanced = of_type(&messages, "enhanced");
    let stored = of_type(&messages, "stored");
    assert_eq!(finals.len(), 2, "{messages:?}");
    assert_eq!(enhanced.len(), 2, "{messages:?}");
    assert_eq!(stored.len(), 2, "{messages:?}");
    assert!(wer(&expected, &finals_text(&messages)) <= CLIP_WER);
    let store = server.state.store().expect("the shared server stores");
    for ((f, e), s) in finals.iter().zip(&enhanced).zip(&stored) {
        assert_eq!(e["start"], f["start"]);
        assert_eq!(s["start"], f["start"]);
        assert_eq!(e["context"], "email");
        let id: RecordId = s["id"].as_str().unwrap().parse().expect("a record id");
        let record = store.get(&id).expect("the stored record");
        assert_eq!(record.data.raw_text, f["text"].as_str().unwrap());
        assert_eq!(record.data.enhanced_text.as_deref(), e["text"].as_str());
        assert_eq!(record.data.context.label(), "email");
        assert!(store.is_encrypted());
    }
    let order: Vec<&str> = messages.iter().filter_map(|m| m["type"].as_str()).collect();
    let first = |k: &str| order.iter().position(|&o| o == k).unwrap();
    assert!(first("final") < first("enhanced") && first("enhanced") < first("stored"));
}

#[tokio::test]
async fn f32_stereo_at_44k_is_mixed_down_and_resampled() {
    let server = shared();
    let audio = voiceflow_core::audio::read_wav(fixture("calling_44k_stereo.wav")).unwrap();
    assert_eq!((audio.sample_rate, audio.channels), (44_100, 2));
    let expected = &manifest()
        .into_iter()
        .find(|(f, _)| f == "calling.wav")
        .unwrap()
        .1;
    let mut ws = connect(server.addr, None).await.unwrap();
    start(
        &mut ws,
        json!({"token": TOKEN, "sample_rate": 44100, "channels": 2, "encoding": "f32le"}),
    )
    .await;
    for frame in audio.samples.chunks(2 * 4410) {
        let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
        ws.send(Message::binary(bytes)).await.unwrap();
    }
    ws.send(Message::text(r#"{"type":"end"}"#)).await.unwrap();
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(close, Some(1000));
    let got = finals_text(&messages);
    assert!(wer(expected, &got) <= CLIP_WER, "{got:?}");
}

#[tokio::test]
async fn wrong_or_missing_tokens_are_refused_and_counted() {
    let server = shared();
    let before_header = counter(
        &server.state,
        "voiceflow_server_rejects_total{reason=\"auth\"}",
    );
    let before_start = counter(
        &server.state,
        "voiceflow_server_rejects_total{reason=\"unauthorized\"}",
    );
    // A wrong header: refused at the handshake.
    let e = connect(server.addr, Some("not-the-token"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    // No token anywhere, or a wrong one in start: an error, then 1008.
    for extra in [json!({}), json!({"token": "wrong"}), json!({"token": ""})] {
        let mut ws = connect(server.addr, None).await.unwrap();
        let mut message = json!({"type": "start"});
        message
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ws.send(Message::text(message.to_string())).await.unwrap();
        let (messages, close) = read_to_close(&mut ws).await;
        assert_eq!(
            refusal(&messages, close),
            ("unauthorized".into(), Some(1008))
        );
        assert!(!messages.iter().any(|m| m["type"] == "ready"));
    }
    assert!(
        counter(
            &server.state,
            "voiceflow_server_rejects_total{reason=\"auth\"}"
        ) > before_header
    );
    assert!(
        counter(
            &server.state,
            "voiceflow_server_rejects_total{reason=\"unauthorized\"}"
        ) >= before_start + 3
    );
}

#[tokio::test]
async fn malformed_messages_get_an_error_and_a_close_code() {
    let server = shared();
    let nan: Vec<u8> = [0.1f32, f32::NAN]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let cases: Vec<(&str, Option<Value>, Message, &str, u16)> = vec![
        (
            "not JSON",
            None,
            Message::text("hello"),
            "bad_message",
            1008,
        ),
        (
            "audio first",
            None,
            Message::binary(vec![0u8; 320]),
            "bad_message",
            1008,
        ),
        (
            "zero rate",
            None,
            Message::text(r#"{"type":"start","sample_rate":0}"#),
            "bad_message",
            1008,
        ),
        (
            "odd bytes",
            Some(json!({})),
            Message::binary(vec![0u8; 3]),
            "bad_audio",
            1007,
        ),
        (
            "NaN samples",
            Some(json!({"encoding": "f32le"})),
            Message::binary(nan),
            "bad_audio",
            1007,
        ),
        (
            "second start",
            Some(json!({})),
            Message::text(r#"{"type":"start"}"#),
            "bad_message",
            1008,
        ),
        (
            "unknown type",
            Some(json!({})),
            Message::text(r#"{"type":"pause"}"#),
            "bad_message",
            1008,
        ),
    ];
    for (what, started, message, code, close_code) in cases {
        let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
        if let Some(extra) = started {
            start(&mut ws, extra).await;
        }
        ws.send(message).await.unwrap();
        let (messages, close) = read_to_close(&mut ws).await;
        assert_eq!(
            refusal(&messages, close),
            (code.into(), Some(close_code)),
            "{what}"
        );
    }
    // The server is unharmed: a normal stream still works.
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut ws, json!({})).await;
    ws.send(Message::text(r#"{"type":"end"}"#)).await.unwrap();
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(close, Some(1000));
    assert_eq!(messages.last().unwrap()["type"], "done");
}

#[tokio::test]
async fn oversized_messages_and_fast_senders_are_closed() {
    let server = strict();
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut ws, json!({})).await;
    ws.send(Message::binary(vec![0u8; 6000])).await.unwrap();
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(
        refusal(&messages, close),
        ("message_too_big".into(), Some(1009))
    );

    // 20 messages a second with a burst of 20: the 21st at once is refused.
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut ws, json!({})).await;
    for _ in 0..40 {
        if ws.send(Message::binary(vec![0u8; 320])).await.is_err() {
            break;
        }
    }
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(
        refusal(&messages, close),
        ("rate_limited".into(), Some(1008))
    );
    assert!(
        counter(
            &server.state,
            "voiceflow_server_rejects_total{reason=\"rate_limited\"}"
        ) >= 1
    );
}

#[tokio::test]
async fn silent_clients_time_out() {
    let server = strict();
    // No start within start_timeout_s.
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(
        refusal(&messages, close),
        ("start_timeout".into(), Some(1008))
    );
    // Started, then nothing for idle_timeout_s: flushed and closed normally.
    let mut ws = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut ws, json!({})).await;
    let (messages, close) = read_to_close(&mut ws).await;
    assert_eq!(
        refusal(&messages, close),
        ("idle_timeout".into(), Some(1000))
    );
    assert_eq!(messages.last().unwrap()["type"], "done");
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_until_one_closes() {
    let server = TestServer::start(false, |c| c.websocket.max_connections = 2);
    let mut first = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut first, json!({})).await;
    let mut second = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut second, json!({})).await;
    let e = connect(server.addr, Some(TOKEN)).await.unwrap_err();
    assert!(e.to_string().contains("503"), "{e}");
    assert_eq!(
        counter(
            &server.state,
            "voiceflow_server_rejects_total{reason=\"connections\"}"
        ),
        1
    );
    first
        .send(Message::text(r#"{"type":"end"}"#))
        .await
        .unwrap();
    let (_, close) = read_to_close(&mut first).await;
    assert_eq!(close, Some(1000));
    // The slot frees when the server's side of the connection ends.
    let mut third = None;
    for _ in 0..200 {
        if let Ok(ws) = connect(server.addr, Some(TOKEN)).await {
            third = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut third = third.expect("a slot after one stream closed");
    start(&mut third, json!({})).await;
}

/// A multipart form with `fields` and a `file` part.
fn form(fields: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "voiceflowtestboundary7d1";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\
             Content-Type: audio/wav\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `(status, body)` of a transcription request.
fn post(
    server: &TestServer,
    token: Option<&str>,
    fields: &[(&str, &str)],
    file: &[u8],
) -> (u16, String) {
    let (content_type, body) = form(fields, file);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut request = agent
        .post(server.url("/v1/audio/transcriptions"))
        .header("Content-Type", content_type);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.send(&body[..]).expect("an HTTP answer");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn get(server: &TestServer, path: &str) -> (u16, String) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut response = agent.get(server.url(path)).call().expect("an HTTP answer");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn the_openai_endpoint_answers_in_every_format() {
    let server = shared();
    let wav = std::fs::read(fixture("sailor.wav")).unwrap();
    let expected = &manifest()
        .into_iter()
        .find(|(f, _)| f == "sailor.wav")
        .unwrap()
        .1;
    let (status, body) = post(server, Some(TOKEN), &[("model", "whisper-1")], &wav);
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let text = json["text"].as_str().unwrap();
    assert!(wer(expected, text) <= CLIP_WER, "{text:?}");

    let (status, plain) = post(server, Some(TOKEN), &[("response_format", "text")], &wav);
    assert_eq!((status, plain.trim()), (200, text));
    let (_, srt) = post(server, Some(TOKEN), &[("response_format", "srt")], &wav);
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:0"), "{srt}");
    assert!(srt.contains(text), "{srt}");
    let (_, vtt) = post(server, Some(TOKEN), &[("response_format", "vtt")], &wav);
    assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> "), "{vtt}");
    let (_, verbose) = post(
        server,
        Some(TOKEN),
        &[
            ("response_format", "verbose_json"),
            ("language", "en"),
            ("temperature", "0"),
        ],
        &wav,
    );
    let verbose: Value = serde_json::from_str(&verbose).unwrap();
    assert_eq!(verbose["text"], text);
    assert_eq!(verbose["language"], "en");
    assert!(verbose["duration"].as_f64().unwrap() > 1.0);
    assert!(!verbose["segments"].as_array().unwrap().is_empty());
}

#[test]
fn verbose_json_has_words_for_the_word_granularity() {
    let server = shared();
    let wav = std::fs::read(fixture("report.wav")).unwrap();
    let verbose = |fields: &[(&str, &str)]| -> Value {
        let mut all = vec![("response_format", "verbose_json")];
        all.extend_from_slice(fields);
        let (status, body) = post(server, Some(TOKEN), &all, &wav);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    let only_words = verbose(&[("timestamp_granularities[]", "word")]);
    let words = only_words["words"].as_array().expect("words");
    let spelled: Vec<&str> = words.iter().map(|w| w["word"].as_str().unwrap()).collect();
    assert_eq!(
        common::words(&spelled.join(" ")),
        common::words(only_words["text"].as_str().unwrap())
    );
    let starts: Vec<f64> = words.iter().map(|w| w["start"].as_f64().unwrap()).collect();
    assert!(starts.windows(2).all(|p| p[0] <= p[1]), "{starts:?}");
    assert!(only_words.get("segments").is_none());
    let both = verbose(&[
        ("timestamp_granularities[]", "word"),
        ("timestamp_granularities[]", "segment"),
    ]);
    assert!(both["words"].is_array() && both["segments"].is_array());
    assert!(verbose(&[]).get("words").is_none());
    let (status, body) = post(
        server,
        Some(TOKEN),
        &[("timestamp_granularities[]", "word")],
        &wav,
    );
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["param"], "timestamp_granularities");
}

#[test]
fn the_openai_endpoint_refuses_bad_requests_in_openais_shape() {
    let server = shared();
    let wav = std::fs::read(fixture("door.wav")).unwrap();
    let error =
        |body: &str| -> Value { serde_json::from_str::<Value>(body).unwrap()["error"].clone() };

    let (status, body) = post(server, None, &[], &wav);
    assert_eq!(status, 401, "{body}");
    assert_eq!(error(&body)["type"], "invalid_request_error");
    let (status, _) = post(server, Some("wrong"), &[], &wav);
    assert_eq!(status, 401);

    let (status, body) = post(server, Some(TOKEN), &[], b"RIFF\x10\0\0\0WAVEjunk");
    assert_eq!(status, 400, "{body}");
    assert_eq!(error(&body)["param"], "file");
    assert!(
        error(&body)["message"]
            .as_str()
            .unwrap()
            .contains("corrupt audio file"),
        "{body}"
    );

    let (status, body) = post(server, Some(TOKEN), &[("response_format", "mp4")], &wav);
    assert_eq!(status, 400);
    assert_eq!(error(&body)["param"], "response_format");
    let (status, body) = post(server, Some(TOKEN), &[("temperature", "hot")], &wav);
    assert_eq!(
        (status, error(&body)["param"].clone()),
        (400, json!("temperature"))
    );
    let (status, body) = post(server, Some(TOKEN), &[("language", "xx")], &wav);
    assert_eq!(status, 400, "{body}");
    assert_eq!(error(&body)["param"], "language", "{body}");

    // Over http.max_upload_bytes (10,000 on the strict server).
    let (status, body) = post(strict(), Some(TOKEN), &[], &wav);
    assert_eq!(status, 413, "{body}");
    assert!(wav.len() > 100_000);
}

#[test]
fn health_readiness_and_metrics_answer() {
    let server = shared();
    assert_eq!(get(server, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(server, "/readyz"), (200, "ready\n".into()));
    let (status, metrics) = get(server, "/metrics");
    assert_eq!(status, 200);
    for series in [
        "voiceflow_server_open_streams",
        "voiceflow_server_streams_total",
        "voiceflow_server_messages_total{direction=\"in\"}",
        "voiceflow_server_bytes_total{direction=\"out\"}",
        "# EOF",
    ] {
        assert!(metrics.contains(series), "{series} missing from /metrics");
    }
    let (status, page) = get(server, "/");
    assert_eq!(status, 200);
    assert!(page.contains("/v1/stream") && page.contains("capture-worklet.js"));
    let (status, worklet) = get(server, "/capture-worklet.js");
    assert_eq!(status, 200);
    assert!(worklet.contains("registerProcessor"));
}

#[test]
fn an_overloaded_engine_answers_503_at_once() {
    let server = TestServer::start(false, |c| {
        c.engine.max_concurrent_transcriptions = 1;
        c.engine.max_queued_transcriptions = 0;
    });
    // 25 s of speech keeps the one slot busy for seconds.
    let mut long = Vec::new();
    for (name, _) in manifest() {
        long.extend(samples(&name));
    }
    long.extend_from_slice(&long.clone()[..]);
    let mut wav = std::io::Cursor::new(Vec::new());
    {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::new(&mut wav, spec).unwrap();
        for s in &long {
            writer.write_sample((s * 32767.0) as i16).unwrap();
        }
        writer.finalize().unwrap();
    }
    let wav = wav.into_inner();
    std::thread::scope(|scope| {
        let busy = scope.spawn(|| post(&server, Some(TOKEN), &[], &wav));
        // Wait until the first request holds the slot.
        let mut held = false;
        for _ in 0..6000 {
            if server.state.engine().load().0 > 0 {
                held = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(held, "the first request never ran");
        let (status, body) = post(&server, Some(TOKEN), &[], &wav);
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("overloaded"), "{body}");
        assert_eq!(busy.join().unwrap().0, 200);
    });
}

#[test]
fn sigterm_mid_stream_loses_no_stored_record() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("# test\n{TOKEN}\n")).unwrap();
    let store_dir = dir.path().join("store");
    let mut server = serve(
        &tokens,
        &["--store".as_ref(), store_dir.as_os_str()],
        &[("VOICEFLOW_STORE_PASSPHRASE", PASSPHRASE)],
    );
    let addr = server.addr;
    let child = &server.child;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (messages, close) = runtime.block_on(async move {
        let (audio, _) = clips(&["weather.wav", "door.wav"]);
        let mut ws = connect(addr, Some(TOKEN)).await.unwrap();
        start(&mut ws, json!({"store": true, "context": "chat"})).await;
        for frame in s16_frames(&audio, 16_000) {
            ws.send(Message::binary(frame)).await.unwrap();
        }
        // The first utterance is stored; the second may still be open.
        let mut messages = Vec::new();
        loop {
            match read(&mut ws).await {
                Read::Json(m) => {
                    let stored = m["type"] == "stored";
                    messages.push(m);
                    if stored {
                        break;
                    }
                }
                Read::Closed(code) => panic!("closed early ({code:?}): {messages:?}"),
            }
        }
        terminate(child);
        let (rest, close) = read_to_close(&mut ws).await;
        messages.extend(rest);
        (messages, close)
    });
    let status = server.child.wait().unwrap();
    assert!(status.success(), "voiceflow serve exited with {status}");
    assert_eq!(close, Some(1001), "{messages:?}");
    assert!(of_type(&messages, "error")
        .iter()
        .any(|e| e["code"] == "shutting_down"));
    assert_eq!(messages.last().unwrap()["type"], "done");
    let finals = of_type(&messages, "final");
    let stored = of_type(&messages, "stored");
    assert_eq!(
        finals.len(),
        2,
        "both utterances were committed: {messages:?}"
    );
    assert_eq!(stored.len(), finals.len(), "{messages:?}");
    // Every record the client was told of is on disk, readable with the key.
    let store = Store::open(
        &store_dir,
        StoreKey::passphrase(PASSPHRASE),
        StoreConfig::default(),
    )
    .expect("the store after shutdown");
    assert_eq!(store.count(), stored.len());
    for (f, s) in finals.iter().zip(&stored) {
        let id: RecordId = s["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            store.get(&id).unwrap().data.raw_text,
            f["text"].as_str().unwrap()
        );
    }
}

#[tokio::test]
async fn peers_that_stop_answering_pings_are_dropped() {
    let server = TestServer::start(false, |c| {
        c.websocket.ping_interval_s = 0.2;
        c.websocket.idle_timeout_s = 600.0;
    });
    // A client that keeps reading answers the pings (tungstenite replies
    // while it reads); one that stops reading never does.
    let mut alive = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut alive, json!({})).await;
    let mut silent = connect(server.addr, Some(TOKEN)).await.unwrap();
    start(&mut silent, json!({})).await;
    let dropped = "voiceflow_server_rejects_total{reason=\"dead_peer\"}";
    let silent_dropped_then_ten_intervals = async {
        while counter(&server.state, dropped) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    tokio::select! {
        message = read(&mut alive) => panic!("the reading client got {message:?}"),
        waited = tokio::time::timeout(MESSAGE_WAIT, silent_dropped_then_ten_intervals) => {
            waited.expect("the silent peer is dropped");
        }
    }
    assert_eq!(counter(&server.state, dropped), 1, "only the silent peer");
    alive
        .send(Message::text(r#"{"type":"end"}"#))
        .await
        .unwrap();
    let (messages, close) = read_to_close(&mut alive).await;
    assert_eq!(
        (messages.last().unwrap()["type"].clone(), close),
        (json!("done"), Some(1000))
    );
}

#[test]
fn a_bad_configuration_key_stops_the_program_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("voiceflow.toml");
    std::fs::write(&config, "[websocket]\nmax_connection = 10\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("max_connection") && stderr.contains("voiceflow.toml"),
        "{stderr}"
    );
    // No token anywhere: refused before the model loads.
    std::fs::write(&config, "[engine]\nthreads = 1\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_voiceflow"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no token configured"));
}
