//! A client of the stream protocol (`GET /v1/stream`, docs/protocol.md) for
//! the server's tests: connect, start, send PCM frames, read messages.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, Stream, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{manifest, samples};

/// Seconds of silence between clips: longer than the 500 ms that end an
/// utterance.
pub const GAP_S: f64 = 1.5;
/// Longest wait for one server message: far beyond any decoding here, so a
/// busy machine is slow, not failing.
pub const MESSAGE_WAIT: Duration = Duration::from_secs(120);

/// A client's connection.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/v1/stream`, with the token in the `Authorization` header when given.
pub async fn connect(
    addr: SocketAddr,
    token: Option<&str>,
) -> Result<Ws, Box<dyn std::error::Error + Send + Sync>> {
    let mut request = format!("ws://{addr}/v1/stream").into_client_request()?;
    if let Some(token) = token {
        request
            .headers_mut()
            .insert(AUTHORIZATION, format!("Bearer {token}").parse()?);
    }
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// What the client reads next.
#[derive(Debug)]
pub enum Read {
    /// A JSON message.
    Json(Value),
    /// The server closed, with this close code (`None`: the TCP connection
    /// ended without a close frame).
    Closed(Option<u16>),
}

/// The next message on `ws` (a connection or its reading half), within
/// [`MESSAGE_WAIT`].
pub async fn read<S>(ws: &mut S) -> Read
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    loop {
        let next = tokio::time::timeout(MESSAGE_WAIT, ws.next())
            .await
            .expect("a server message in time");
        match next {
            Some(Ok(Message::Text(text))) => {
                return Read::Json(serde_json::from_str(&text).expect("JSON from the server"))
            }
            Some(Ok(Message::Close(frame))) => return Read::Closed(frame.map(|f| f.code.into())),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Read::Closed(None),
        }
    }
}

/// Every message until the server closes, and the close code.
pub async fn read_to_close<S>(ws: &mut S) -> (Vec<Value>, Option<u16>)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let mut messages = Vec::new();
    loop {
        match read(ws).await {
            Read::Json(m) => messages.push(m),
            Read::Closed(code) => return (messages, code),
        }
    }
}

/// Sends `start` (with `extra` fields) and returns the `ready` message.
pub async fn start(ws: &mut Ws, extra: Value) -> Value {
    let mut message = json!({"type": "start"});
    if let (Some(m), Some(e)) = (message.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    ws.send(Message::text(message.to_string())).await.unwrap();
    match read(ws).await {
        Read::Json(ready) if ready["type"] == "ready" => ready,
        other => panic!("expected ready, got {other:?}"),
    }
}

/// Sends `audio` (16 kHz) as a microphone does, a 100-ms s16le frame every
/// 100 ms, then `end`, while reading every message until the server
/// closes; returns them and the close code. Sending stops when the server
/// closes first (a drain) or refuses a frame.
pub async fn stream_in_real_time(ws: Ws, audio: &[f32]) -> (Vec<Value>, Option<u16>) {
    let (mut sink, mut stream) = ws.split();
    let frames = s16_frames(audio, 16_000);
    let sending = async {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        for frame in frames {
            tick.tick().await;
            if sink.send(Message::binary(frame)).await.is_err() {
                break;
            }
        }
        let _ = sink.send(Message::text(r#"{"type":"end"}"#)).await;
        std::future::pending::<()>().await;
    };
    tokio::select! {
        read = read_to_close(&mut stream) => read,
        () = sending => unreachable!("sending never ends"),
    }
}

/// `samples` as s16le frames of 100 ms at `rate`.
pub fn s16_frames(samples: &[f32], rate: usize) -> Vec<Vec<u8>> {
    samples
        .chunks(rate / 10)
        .map(|c| {
            c.iter()
                .flat_map(|&s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
                .collect()
        })
        .collect()
}

/// The clips joined, each followed by a gap of silence, and their text.
pub fn clips(names: &[&str]) -> (Vec<f32>, String) {
    let texts = manifest();
    let mut audio = Vec::new();
    let mut text = String::new();
    for name in names {
        audio.extend(samples(name));
        audio.extend(std::iter::repeat_n(0.0, (GAP_S * 16_000.0) as usize));
        let (_, t) = texts.iter().find(|(f, _)| f == name).expect("in manifest");
        text = format!("{text} {t}");
    }
    (audio, text)
}

/// The messages of one type.
pub fn of_type<'a>(messages: &'a [Value], kind: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["type"] == kind).collect()
}

/// The finals' texts joined.
pub fn finals_text(messages: &[Value]) -> String {
    of_type(messages, "final")
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}
