//! The LLM enhancer against a small HTTP server this test starts on
//! 127.0.0.1 and makes answer, fail, stall or talk nonsense.
#![cfg(feature = "llm")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use voiceflow_core::enhance::quality::{self, Case};
use voiceflow_core::enhance::{
    BreakerConfig, BreakerState, CircuitBreaker, Context, EditKind, EnhanceRequest, Enhancer,
    FallbackEnhancer, FallbackReason, LlmConfig, LlmEnhancer, ManualClock, UserDictionary,
};
use voiceflow_core::Error;

/// How the test server answers.
#[derive(Clone)]
enum Mode {
    /// A chat completion whose message is this text.
    Answer(String),
    /// This HTTP status with a short error body.
    Status(u16),
    /// A 200 whose body is this (not a chat completion).
    Raw(String),
    /// Wait this long, then answer "late".
    Slow(Duration),
    /// Answer each user message with the text this table gives it (the
    /// message itself when it has none): a model that knows the answers.
    Lookup(Arc<HashMap<String, String>>),
}

/// One request the server received.
struct Received {
    request_line: String,
    headers: Vec<String>,
    body: serde_json::Value,
}

struct Server {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (mode, received, stop) = (mode.clone(), received.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // Each connection on its own thread: a slow answer
                        // holds up no later request.
                        let mode = mode.lock().unwrap().clone();
                        let received = received.clone();
                        thread::spawn(move || serve(stream, &mode, &received));
                    }
                }
            })
        };
        Server {
            addr,
            mode,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, mode: &Mode, received: &Mutex<Vec<Received>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        headers.push(line.trim().to_string());
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    received.lock().unwrap().push(Received {
        request_line: request_line.trim().to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let completion = |text: &str| {
        serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})
            .to_string()
    };
    let (status, body) = match mode {
        Mode::Answer(text) => (200, completion(text)),
        Mode::Status(code) => (*code, r#"{"error":"model not loaded"}"#.to_string()),
        Mode::Raw(body) => (200, body.clone()),
        Mode::Slow(delay) => {
            thread::sleep(*delay);
            (200, completion("late"))
        }
        Mode::Lookup(table) => {
            let received = received.lock().unwrap();
            let user = received.last().unwrap().body["messages"][1]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (200, completion(table.get(&user).unwrap_or(&user)))
        }
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
}

/// How long the slow server waits before answering: far beyond any client
/// limit here, so a timeout cannot be missed on a fast machine.
const SLOW: Duration = Duration::from_secs(120);

/// The client's limit where an answer is expected: generous, so a busy
/// machine cannot turn an answer into a timeout.
const ANSWER_LIMIT: Duration = Duration::from_secs(3);

fn llm(server: &Server, timeout: Duration) -> LlmEnhancer {
    let mut config = LlmConfig::new(server.base_url(), "tiny-model");
    config.timeout = timeout;
    config.api_key = Some("secret".into());
    LlmEnhancer::new(config).unwrap()
}

#[test]
fn default_timeout_is_ten_seconds() {
    assert_eq!(
        LlmConfig::new("http://127.0.0.1:1/v1", "m").timeout,
        Duration::from_secs(10)
    );
}

#[test]
fn answers_with_the_servers_text_and_sends_one_prompt_per_context() {
    let server = Server::start(Mode::Answer("  Hi John,\n\nThanks!  ".into()));
    let enhancer = llm(&server, Duration::from_secs(5));
    let dictionary = Arc::new(UserDictionary::new().spelling("VoiceFlow"));
    let request = EnhanceRequest::new(Context::Email)
        .language("en")
        .dictionary(dictionary);
    let out = enhancer.enhance("hi john thanks", &request).unwrap();
    assert_eq!(out.text, "Hi John,\n\nThanks!");
    assert_eq!(out.backend, "llm");
    assert!(!out.is_fallback());
    assert_eq!(out.count(EditKind::Rewrite), 1);

    enhancer
        .enhance("x equals one", &EnhanceRequest::new(Context::Code))
        .unwrap();
    let received = server.received.lock().unwrap();
    assert_eq!(received.len(), 2);
    let first = &received[0];
    assert_eq!(first.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert!(first
        .headers
        .iter()
        .any(|h| h == "Authorization: Bearer secret" || h == "authorization: Bearer secret"));
    assert_eq!(first.body["model"], "tiny-model");
    assert_eq!(first.body["stream"], false);
    assert_eq!(first.body["temperature"], 0.0);
    assert_eq!(first.body["messages"][1]["role"], "user");
    assert_eq!(first.body["messages"][1]["content"], "hi john thanks");
    let email_prompt = first.body["messages"][0]["content"].as_str().unwrap();
    let code_prompt = received[1].body["messages"][0]["content"].as_str().unwrap();
    assert!(
        email_prompt.contains("email") && email_prompt.contains("VoiceFlow"),
        "{email_prompt}"
    );
    assert!(code_prompt.contains("source code"), "{code_prompt}");
}

#[test]
fn an_http_error_is_a_backend_error() {
    let server = Server::start(Mode::Status(503));
    let err = llm(&server, Duration::from_secs(5))
        .enhance("hello", &EnhanceRequest::default())
        .unwrap_err();
    match err {
        Error::Backend {
            backend, reason, ..
        } => {
            assert_eq!(backend, "llm");
            assert!(reason.starts_with("HTTP 503"), "{reason}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[test]
fn malformed_empty_or_runaway_answers_are_backend_errors() {
    let server = Server::start(Mode::Raw("<html>not json".into()));
    let enhancer = llm(&server, Duration::from_secs(5));
    let text = "hello there";
    for (mode, want) in [
        (Mode::Raw("<html>not json".into()), "malformed answer"),
        (Mode::Raw(r#"{"choices": []}"#.into()), "empty answer"),
        (Mode::Answer("   ".into()), "empty answer"),
        (Mode::Answer("word ".repeat(500)), "is not an edit"),
    ] {
        server.set(mode);
        match enhancer.enhance(text, &EnhanceRequest::default()) {
            Err(Error::Backend { reason, .. }) => assert!(reason.contains(want), "{reason}"),
            other => panic!("expected {want:?}, got {other:?}"),
        }
    }
}

#[test]
fn a_slow_server_times_out_with_a_typed_timeout() {
    // The server answers long after the client's limit: only the client's
    // own timeout can end the call, and it says so (a late answer would be
    // `Ok`). How long the call took is left to the machine.
    let server = Server::start(Mode::Slow(SLOW));
    let err = llm(&server, Duration::from_millis(150))
        .enhance("hello", &EnhanceRequest::default())
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(150)),
        "{err:?}"
    );
}

#[test]
fn an_unreachable_server_is_a_backend_error() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let config = LlmConfig::new(format!("http://{addr}/v1"), "m");
    let err = LlmEnhancer::new(config)
        .unwrap()
        .enhance("hello", &EnhanceRequest::default())
        .unwrap_err();
    assert!(
        matches!(err, Error::Backend { ref backend, .. } if backend == "llm"),
        "{err:?}"
    );
}

#[test]
fn bad_configuration_is_an_invalid_argument() {
    for config in [
        LlmConfig::new("https://127.0.0.1/v1", "m"),
        LlmConfig::new("127.0.0.1:8080/v1", "m"),
        LlmConfig::new("http://127.0.0.1/v1", " "),
        LlmConfig {
            timeout: Duration::ZERO,
            ..LlmConfig::new("http://127.0.0.1/v1", "m")
        },
    ] {
        assert!(matches!(
            LlmEnhancer::new(config),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn behind_a_breaker_failures_fall_back_to_rules_and_recovery_closes_it() {
    let server = Server::start(Mode::Status(500));
    let clock = Arc::new(ManualClock::new());
    let breaker_config = BreakerConfig {
        failure_threshold: 2,
        cool_down: Duration::from_secs(5),
    };
    let guarded = FallbackEnhancer::new(
        llm(&server, ANSWER_LIMIT),
        CircuitBreaker::with_clock(breaker_config, clock.clone()),
    );
    let request = EnhanceRequest::new(Context::Chat);
    for _ in 0..2 {
        let out = guarded.enhance("um see you at seven pm", &request).unwrap();
        assert_eq!(out.text, "See you at 7 PM");
        assert_eq!(out.backend, "rules");
        assert!(matches!(
            out.fallback.unwrap().reason,
            FallbackReason::Failed(_)
        ));
    }
    assert_eq!(guarded.breaker().state(), BreakerState::Open);
    let out = guarded.enhance("um see you at seven pm", &request).unwrap();
    assert_eq!(out.fallback.unwrap().reason, FallbackReason::CircuitOpen);
    assert_eq!(
        server.count(),
        2,
        "the open breaker kept requests off the server"
    );

    server.set(Mode::Slow(SLOW));
    clock.advance(Duration::from_secs(5));
    let out = guarded.enhance("hello", &request).unwrap();
    assert_eq!(out.fallback.unwrap().reason, FallbackReason::TimedOut);
    assert_eq!(guarded.breaker().state(), BreakerState::Open);

    server.set(Mode::Answer("See you at 7 PM 🙂".into()));
    clock.advance(Duration::from_secs(5));
    let out = guarded
        .enhance("see you at seven pm smiley", &request)
        .unwrap();
    assert_eq!(
        (out.text.as_str(), out.backend.as_str()),
        ("See you at 7 PM 🙂", "llm")
    );
    assert!(!out.is_fallback());
    assert_eq!(guarded.breaker().state(), BreakerState::Closed);
}

fn benchmark() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/enhance_bench.tsv");
    quality::parse_cases(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The quality harness runs the LLM backend through the OpenAI-compatible
/// client: a server that answers every case with its expected text scores
/// full marks; one that echoes the transcript scores what echoing is worth;
/// a failing one is answered by the rules, whose score is the floor.
#[test]
fn the_quality_benchmark_scores_the_llm_backend_over_http() {
    let cases = benchmark();
    let answers: HashMap<String, String> = cases
        .iter()
        .map(|c| (c.input.clone(), c.expected.clone()))
        .collect();
    let server = Server::start(Mode::Lookup(Arc::new(answers)));
    let enhancer = llm(&server, Duration::from_secs(5));
    let report = quality::score(&enhancer, &cases).unwrap();
    assert_eq!(report.backend, "llm");
    assert_eq!(server.count(), cases.len());
    for s in report.per_context() {
        assert_eq!((s.exact, s.meaning_errors), (s.cases, 0), "{s:?}");
    }
    let received = server.received.lock().unwrap();
    let code = cases
        .iter()
        .position(|c| c.context == Context::Code)
        .unwrap();
    let prompt = received[code].body["messages"][0]["content"]
        .as_str()
        .unwrap();
    assert!(prompt.contains("snake case"), "{prompt}");
    drop(received);

    server.set(Mode::Lookup(Arc::new(HashMap::new())));
    let echo = quality::score(&enhancer, &cases).unwrap();
    let exact: usize = echo.per_context().iter().map(|s| s.exact).sum();
    assert!(exact < cases.len() / 2, "echo scored {exact} exact");

    server.set(Mode::Status(503));
    let breaker = CircuitBreaker::new(BreakerConfig::default());
    let fallback = FallbackEnhancer::new(enhancer, breaker);
    let floor = quality::score(&fallback, &cases).unwrap();
    let rules = quality::score(&voiceflow_core::enhance::RuleEnhancer, &cases).unwrap();
    let outputs = |r: &quality::Report| {
        r.outcomes
            .iter()
            .map(|o| o.output.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(outputs(&floor), outputs(&rules));
}
