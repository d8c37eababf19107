//! The WebSocket server: each request is one dictation stream on
//! `/v1/stream` (a fixture sent in 100-ms frames at the profile's pace, a
//! second of silence, `end`), its finals checked against the fixture's
//! text. The connections scenario holds many silent streams open and pings
//! them; volume uploads a long recording to `/v1/audio/transcriptions`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::fixtures::{self, Clip, RATE};
use crate::profile::Profile;
use crate::scenario::{secs, Request, Runner, ScenarioResult, Target};
use crate::stats::{Failure, Outcome, Sample};
use crate::system;

/// Seconds of audio per binary frame.
const FRAME_S: f64 = 0.1;
/// Seconds of silence after the speech, so that the utterance ends.
const TRAILING_SILENCE_S: f64 = 1.0;
/// Connections opened at once by the connections scenario.
const OPEN_BATCH: usize = 50;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Users of a `voiceflow serve` at a loopback address.
pub struct WsTarget {
    addr: SocketAddr,
    token: String,
    clips: Arc<[Clip]>,
    pace: f64,
    /// The server's process, when known (memory per connection).
    pub server_pid: Option<u32>,
}

/// Why a stream failed, from the server's error code.
fn failure_of_code(code: &str, message: &str) -> Failure {
    match code {
        "overloaded" | "queue_full" => Failure::Rejected(format!("{code}: {message}")),
        "timeout" => Failure::Timeout,
        _ => Failure::Error(format!("{code}: {message}")),
    }
}

/// Why the handshake failed: a 503 is a clear refusal.
fn failure_of_handshake(error: &WsError) -> Failure {
    match error {
        WsError::Http(response) if response.status().as_u16() == 503 => Failure::Rejected(format!(
            "HTTP 503 {}",
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).trim()
        )),
        other => Failure::Connection(other.to_string()),
    }
}

/// 16-bit little-endian PCM of `samples`.
fn s16le(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
        .collect()
}

impl WsTarget {
    /// Users of the server at `addr` (must be loopback) with `token`.
    pub fn new(addr: SocketAddr, token: String, clips: Arc<[Clip]>, pace: f64) -> Self {
        WsTarget {
            addr,
            token,
            clips,
            pace,
            server_pid: None,
        }
    }

    /// Opens `/v1/stream` and starts a 16-kHz s16le stream; the time from
    /// `start` to `ready` (no inference: the server sets up the stream).
    async fn open(&self) -> Result<(Socket, f64), Failure> {
        let mut request = format!("ws://{}/v1/stream", self.addr)
            .into_client_request()
            .map_err(|e| Failure::Error(e.to_string()))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|e| Failure::Error(e.to_string()))?;
        request.headers_mut().insert("authorization", bearer);
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| failure_of_handshake(&e))?;
        let started = Instant::now();
        let start = json!({"type": "start", "sample_rate": RATE, "encoding": "pcm_s16le"});
        send(&mut socket, Message::text(start.to_string())).await?;
        loop {
            match next_json(&mut socket).await? {
                Some(m) if m["type"] == "ready" => {
                    return Ok((socket, started.elapsed().as_secs_f64()))
                }
                Some(m) if m["type"] == "error" => {
                    return Err(failure_of_code(
                        m["code"].as_str().unwrap_or(""),
                        m["message"].as_str().unwrap_or(""),
                    ))
                }
                Some(_) => continue,
                None => return Err(Failure::Connection("closed before ready".into())),
            }
        }
    }

    /// One dictation stream of `clip`: the latency of its last final after
    /// the end of speech.
    async fn dictate(&self, clip: &Clip) -> Vec<Outcome> {
        let opened = Instant::now();
        let (socket, _) = match self.open().await {
            Ok(open) => open,
            Err(failure) => {
                return vec![Outcome::failed(
                    "stream",
                    opened.elapsed().as_secs_f64(),
                    failure,
                )]
            }
        };
        let mut pcm = s16le(&clip.samples);
        let speech_bytes = pcm.len();
        pcm.resize(
            speech_bytes + 2 * (TRAILING_SILENCE_S * f64::from(RATE)) as usize,
            0,
        );
        let step = 2 * (FRAME_S * f64::from(RATE)) as usize;
        let (mut sink, mut stream) = socket.split();
        let pace = self.pace;
        let sender = async move {
            let started = Instant::now();
            let mut speech_end = started;
            for (i, frame) in pcm.chunks(step).enumerate() {
                if pace > 0.0 {
                    tokio::time::sleep_until((started + secs(i as f64 * FRAME_S / pace)).into())
                        .await;
                }
                sink.send(Message::binary(frame.to_vec())).await?;
                if (i + 1) * step >= speech_bytes && speech_end == started {
                    speech_end = Instant::now();
                }
            }
            sink.send(Message::text(json!({"type": "end"}).to_string()))
                .await?;
            Ok::<_, WsError>((sink, speech_end))
        };
        let receiver = async {
            let mut finals = Vec::new();
            let mut last_final = None;
            let mut failure = None;
            let mut done = false;
            let mut close = None;
            while let Some(message) = stream.next().await {
                match message {
                    Ok(Message::Text(text)) => {
                        let Ok(m) = serde_json::from_str::<Value>(&text) else {
                            continue;
                        };
                        match m["type"].as_str() {
                            Some("final") => {
                                finals.push(m["text"].as_str().unwrap_or("").to_string());
                                last_final = Some(Instant::now());
                            }
                            Some("error") => {
                                failure.get_or_insert(failure_of_code(
                                    m["code"].as_str().unwrap_or(""),
                                    m["message"].as_str().unwrap_or(""),
                                ));
                            }
                            Some("done") => done = true,
                            _ => {}
                        }
                    }
                    Ok(Message::Close(frame)) => {
                        close = frame.map(|f| f.code);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failure.get_or_insert(Failure::Connection(e.to_string()));
                        break;
                    }
                }
            }
            (finals, last_final, failure, done, close)
        };
        let (sent, (finals, last_final, failure, done, close)) = tokio::join!(sender, receiver);
        let heard = finals.join(" ");
        let latency_s = match (&sent, last_final) {
            (Ok((_, speech_end)), Some(last)) => {
                last.saturating_duration_since(*speech_end).as_secs_f64()
            }
            _ => opened.elapsed().as_secs_f64(),
        };
        let failure = failure
            .or_else(|| sent.err().map(|e| Failure::Connection(e.to_string())))
            .or_else(|| (!done).then(|| Failure::Connection("no done message".into())))
            .or_else(|| {
                (close != Some(CloseCode::Normal))
                    .then(|| Failure::Connection(format!("close code {close:?}")))
            })
            .or_else(|| (!clip.heard_right(&heard)).then_some(Failure::WrongTranscript(heard)));
        vec![match failure {
            None => Outcome::ok("stream", latency_s),
            Some(failure) => Outcome::failed("stream", latency_s, failure),
        }]
    }

    /// Connections: `idle` streams opened (in batches), held silent for
    /// `hold_s` with a ping a second (round trip without inference), then
    /// ended; memory per connection from the server's RSS.
    pub async fn connections(
        self: &Arc<Self>,
        runner: &Runner,
        profile: &Profile,
    ) -> ScenarioResult {
        let idle = profile.connections.idle;
        let hold = secs(profile.connections.hold_s);
        let rss = |pid: Option<u32>| {
            pid.and_then(|pid| system::read(pid, runner.epoch))
                .map(|s| s.rss_mb)
        };
        let rss_before = rss(self.server_pid);
        let started = Instant::now();
        let mut opened = Vec::with_capacity(idle);
        let mut samples = Vec::new();
        let mut ids: Vec<usize> = (0..idle).collect();
        while !ids.is_empty() {
            let batch: Vec<usize> = ids.drain(..ids.len().min(OPEN_BATCH)).collect();
            let results = futures_util::future::join_all(batch.iter().map(|_| self.open())).await;
            for result in results {
                match result {
                    Ok((socket, ready_s)) => {
                        samples.push(Sample::of(
                            Outcome::ok("ready", ready_s),
                            runner.now_s(),
                            idle,
                        ));
                        opened.push(socket);
                    }
                    Err(failure) => samples.push(Sample::of(
                        Outcome::failed("connection", 0.0, failure),
                        runner.now_s(),
                        idle,
                    )),
                }
            }
        }
        let open_s = started.elapsed().as_secs_f64();
        let held = opened.len();
        let rss_held = rss(self.server_pid);
        let until = Instant::now() + hold;
        let results = futures_util::future::join_all(
            opened
                .into_iter()
                .map(|socket| hold_then_end(socket, until)),
        )
        .await;
        for outcomes in results {
            samples.extend(
                outcomes
                    .into_iter()
                    .map(|o| Sample::of(o, runner.now_s(), idle)),
            );
        }
        let result = ScenarioResult::new(
            "ws",
            "connections",
            samples,
            started.elapsed().as_secs_f64(),
        );
        // The scenario's own summary: connections (one per stream, failed
        // opens included) that opened, held and ended cleanly.
        let wall_s = result.summary.wall_s;
        let mut result = result.summarising("connection", wall_s);
        result.notes.push(format!(
            "{held} of {idle} streams opened in {open_s:.1} s, held {:.0} s with a ping a second",
            hold.as_secs_f64()
        ));
        if let (Some(before), Some(held_mb)) = (rss_before, rss_held) {
            result.notes.push(format!(
                "server RSS {before:.0} MB before, {held_mb:.0} MB with {held} streams open: {:.2} MB per connection",
                (held_mb - before) / held.max(1) as f64
            ));
        }
        result
    }

    /// Volume: one long recording uploaded to /v1/audio/transcriptions.
    pub async fn volume(&self, runner: &Runner, profile: &Profile) -> Option<ScenarioResult> {
        if profile.volume.long_audio_s <= 0.0 {
            return None;
        }
        let long = fixtures::long_recording(&self.clips, profile.volume.long_audio_s);
        let wav = wav_bytes(&long.samples).unwrap_or_default();
        let started = Instant::now();
        let outcome = match self.upload(&wav).await {
            Ok(text) if long.heard_right(&text) => {
                Outcome::ok("upload", started.elapsed().as_secs_f64())
            }
            Ok(text) => Outcome::failed(
                "upload",
                started.elapsed().as_secs_f64(),
                Failure::WrongTranscript(text),
            ),
            Err(failure) => Outcome::failed("upload", started.elapsed().as_secs_f64(), failure),
        };
        let wall_s = started.elapsed().as_secs_f64();
        let mut result = ScenarioResult::new(
            "ws",
            "volume",
            vec![Sample::of(outcome, runner.now_s(), 1)],
            wall_s,
        );
        result.notes.push(format!(
            "one upload of {:.1} MB ({:.0} s of speech, {}) answered in {wall_s:.1} s",
            wav.len() as f64 / 1e6,
            long.duration_s(),
            long.name
        ));
        Some(result)
    }

    /// POSTs `wav` as OpenAI's client does (multipart, `file` and `model`);
    /// the text of the JSON answer.
    async fn upload(&self, wav: &[u8]) -> Result<String, Failure> {
        let boundary = "voiceflow-loadtest-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"long.wav\"\r\n\
             Content-Type: audio/wav\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(wav);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let (url, bearer) = (
            format!("http://{}/v1/audio/transcriptions", self.addr),
            format!("Bearer {}", self.token),
        );
        let answered = tokio::task::spawn_blocking(move || {
            let agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent();
            let mut response = agent
                .post(&url)
                .header("Authorization", &bearer)
                .header(
                    "Content-Type",
                    &format!("multipart/form-data; boundary={boundary}"),
                )
                .send(&body[..])?;
            let status = response.status().as_u16();
            Ok::<_, ureq::Error>((status, response.body_mut().read_to_string()?))
        })
        .await
        .map_err(|e| Failure::Error(e.to_string()))?;
        let (status, json) = answered.map_err(|e| Failure::Connection(e.to_string()))?;
        match status {
            200 => {}
            429 | 503 => return Err(Failure::Rejected(format!("HTTP {status}: {}", json.trim()))),
            _ => return Err(Failure::Error(format!("HTTP {status}: {}", json.trim()))),
        }
        let value: Value = serde_json::from_str(json.trim())
            .map_err(|e| Failure::Error(format!("answer is not JSON: {e}")))?;
        Ok(value["text"].as_str().unwrap_or("").to_string())
    }
}

/// A 16-kHz mono 16-bit WAV file of `samples`.
fn wav_bytes(samples: &[f32]) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut file = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut file, spec)?;
    for sample in samples {
        writer.write_sample((sample.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
    }
    writer.finalize()?;
    Ok(file.into_inner())
}

async fn send(socket: &mut Socket, message: Message) -> Result<(), Failure> {
    socket
        .send(message)
        .await
        .map_err(|e| Failure::Connection(e.to_string()))
}

/// The next JSON text message; `None` when the socket closed.
async fn next_json(socket: &mut Socket) -> Result<Option<Value>, Failure> {
    while let Some(message) = socket.next().await {
        match message.map_err(|e| Failure::Connection(e.to_string()))? {
            Message::Text(text) => {
                return serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| Failure::Error(e.to_string()))
            }
            Message::Close(_) => return Ok(None),
            _ => continue,
        }
    }
    Ok(None)
}

/// Holds an open stream until `until`, pinging it each second (one `ping`
/// outcome per pong), then ends it: a `connection` outcome for the whole
/// life (`done` and close 1000 needed).
async fn hold_then_end(mut socket: Socket, until: Instant) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let born = Instant::now();
    let lifecycle = async {
        while Instant::now() + Duration::from_secs(1) <= until {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let pinged = Instant::now();
            send(&mut socket, Message::Ping(b"loadtest".to_vec().into())).await?;
            loop {
                match socket.next().await {
                    Some(Ok(Message::Pong(_))) => break,
                    Some(Ok(Message::Close(frame))) => {
                        return Err(Failure::Connection(format!("closed while idle: {frame:?}")))
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(Failure::Connection(e.to_string())),
                    None => return Err(Failure::Connection("closed while idle".into())),
                }
            }
            outcomes.push(Outcome::ok("ping", pinged.elapsed().as_secs_f64()));
        }
        tokio::time::sleep_until(until.into()).await;
        send(
            &mut socket,
            Message::text(json!({"type": "end"}).to_string()),
        )
        .await?;
        let mut done = false;
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Text(text)) if text.contains("\"done\"") => done = true,
                Ok(Message::Close(frame)) => {
                    return match (done, frame.map(|f| f.code)) {
                        (true, Some(CloseCode::Normal)) => Ok(()),
                        (done, code) => Err(Failure::Connection(format!(
                            "ended with done={done}, close {code:?}"
                        ))),
                    }
                }
                Ok(_) => continue,
                Err(e) => return Err(Failure::Connection(e.to_string())),
            }
        }
        Err(Failure::Connection("closed without a close frame".into()))
    };
    let result = lifecycle.await;
    let took = born.elapsed().as_secs_f64();
    outcomes.push(match result {
        Ok(()) => Outcome::ok("connection", took),
        Err(failure) => Outcome::failed("connection", took, failure),
    });
    outcomes
}

impl Target for WsTarget {
    fn name(&self) -> &'static str {
        "ws"
    }

    fn request(self: Arc<Self>, user: usize, seq: u64) -> Request {
        Box::pin(async move {
            let clip = &self.clips[(user + seq as usize) % self.clips.len()];
            self.dictate(clip).await
        })
    }
}
