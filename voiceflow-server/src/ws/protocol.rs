//! The messages of `GET /v1/stream` (documented in `docs/protocol.md`).

use serde::{Deserialize, Serialize};
use voiceflow_core::enhance::Context;
use voiceflow_core::Error;

/// How the client's binary frames encode samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Signed 16-bit little-endian integers.
    #[default]
    PcmS16le,
    /// 32-bit little-endian floats in [-1, 1].
    F32le,
}

impl Encoding {
    /// Bytes per sample.
    pub fn sample_bytes(self) -> usize {
        match self {
            Encoding::PcmS16le => 2,
            Encoding::F32le => 4,
        }
    }
}

/// Transcribe, or translate into English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    /// Text in the language spoken.
    #[default]
    Transcribe,
    /// English text (multilingual models).
    Translate,
}

/// The client's first message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    /// Always `"start"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The bearer token, when the upgrade request had no `Authorization`.
    #[serde(default)]
    pub token: Option<String>,
    /// Frames per second of the audio (8000..=192000). Default: 16000.
    #[serde(default = "default_rate")]
    pub sample_rate: u32,
    /// Sample encoding. Default: `pcm_s16le`.
    #[serde(default)]
    pub encoding: Encoding,
    /// Interleaved channels (1..=8), mixed down. Default: 1.
    #[serde(default = "default_channels")]
    pub channels: u16,
    /// Language code; `null`: the model's own (detected when multilingual).
    #[serde(default)]
    pub language: Option<String>,
    /// Default: `transcribe`.
    #[serde(default)]
    pub task: TaskName,
    /// Enhance each final for this destination.
    #[serde(default)]
    pub context: Option<Context>,
    /// Keep each final in the server's encrypted store.
    #[serde(default)]
    pub store: bool,
}

fn default_rate() -> u32 {
    16_000
}

fn default_channels() -> u16 {
    1
}

/// Highest sample rate a stream may declare.
pub const MAX_SAMPLE_RATE: u32 = 192_000;
/// Lowest sample rate a stream may declare.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Most channels a stream may declare.
pub const MAX_CHANNELS: u16 = 8;

/// A text message from the client.
#[derive(Debug, Clone)]
pub enum ClientText {
    /// Starts the stream.
    Start(Box<Start>),
    /// No more audio: flush and finish.
    End,
}

impl ClientText {
    /// Parses and checks one text message; the error says what is wrong.
    pub fn parse(text: &str) -> Result<ClientText, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let kind = value
            .get("type")
            .and_then(serde_json::Value::as_str)
            .ok_or("a message needs a string \"type\"")?;
        match kind {
            "start" => {
                let start: Start =
                    serde_json::from_value(value).map_err(|e| format!("start: {e}"))?;
                start.check()?;
                Ok(ClientText::Start(Box::new(start)))
            }
            "end" => {
                if value.as_object().is_some_and(|o| o.len() > 1) {
                    return Err("end takes no other field".into());
                }
                Ok(ClientText::End)
            }
            other => Err(format!(
                "unknown message type {other:?} (expected \"start\" or \"end\")"
            )),
        }
    }
}

impl Start {
    fn check(&self) -> Result<(), String> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&self.sample_rate) {
            return Err(format!(
                "start: sample_rate must be {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE}, got {}",
                self.sample_rate
            ));
        }
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(format!(
                "start: channels must be 1..={MAX_CHANNELS}, got {}",
                self.channels
            ));
        }
        if self
            .language
            .as_ref()
            .is_some_and(|l| l.is_empty() || l.len() > 8)
        {
            return Err("start: language must be a language code such as \"en\"".into());
        }
        Ok(())
    }
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The stream is open; audio frames may follow.
    Ready {
        /// The session's id (in logs and stored records).
        session: String,
    },
    /// The open utterance so far; the next partial or final replaces it.
    Partial {
        /// The unstable text.
        text: String,
        /// Start of the utterance, seconds from the start of the stream.
        start: f32,
        /// End of the audio it covers.
        end: f32,
    },
    /// A committed utterance; it will not change.
    Final {
        /// Start, seconds from the start of the stream.
        start: f32,
        /// End.
        end: f32,
        /// The text.
        text: String,
    },
    /// A final, finished for the stream's context.
    Enhanced {
        /// Start of the final it enhances.
        start: f32,
        /// The finished text.
        text: String,
        /// The destination.
        context: Context,
    },
    /// A final (with its enhancement) is in the store, durably.
    Stored {
        /// Start of the final it holds.
        start: f32,
        /// The record's id.
        id: String,
    },
    /// Something went wrong; see `code`.
    Error {
        /// Stable, machine-readable code (see `docs/protocol.md`).
        code: &'static str,
        /// What happened, for people.
        message: String,
    },
    /// Everything is sent; the server closes the socket next.
    Done {
        /// Seconds of audio the stream received.
        duration_s: f64,
    },
}

impl ServerMessage {
    /// The `error` message for a library error.
    pub fn from_error(error: &Error) -> ServerMessage {
        ServerMessage::Error {
            code: error_code(error),
            message: voiceflow_core::error::chain(error),
        }
    }

    /// The code of an `error` message; `None` for the other messages.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ServerMessage::Error { code, .. } => Some(code),
            _ => None,
        }
    }

    /// An `error` message.
    pub fn error(code: &'static str, message: impl Into<String>) -> ServerMessage {
        ServerMessage::Error {
            code,
            message: message.into(),
        }
    }
}

/// The protocol's code for a library error.
pub fn error_code(error: &Error) -> &'static str {
    match error {
        Error::InvalidAudio(_) | Error::InvalidAudioFile { .. } => "bad_audio",
        Error::InvalidArgument(_) | Error::InvalidOption { .. } => "bad_message",
        Error::QueueFull { .. } => "queue_full",
        Error::Overloaded { .. } => "overloaded",
        Error::Timeout(_) => "timeout",
        Error::Closed(_) | Error::Cancelled(_) => "closed",
        _ => "internal",
    }
}

/// Close codes (RFC 6455, section 7.4.1) the server uses.
pub mod close {
    /// The stream ended as asked (`end`, idle timeout).
    pub const NORMAL: u16 = 1000;
    /// The server shuts down.
    pub const GOING_AWAY: u16 = 1001;
    /// Audio that cannot be decoded (odd byte count, NaN).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Wrong or missing token, malformed message, too fast a sender.
    pub const POLICY: u16 = 1008;
    /// A message over `max_message_bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed.
    pub const INTERNAL: u16 = 1011;
    /// Overloaded (engine or backlog full): retry later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_start_gets_the_defaults() {
        let ClientText::Start(start) = ClientText::parse(r#"{"type":"start"}"#).unwrap() else {
            panic!("not a start");
        };
        assert_eq!(start.sample_rate, 16_000);
        assert_eq!(start.encoding, Encoding::PcmS16le);
        assert_eq!(start.channels, 1);
        assert_eq!(start.context, None);
        assert!(!start.store);
    }

    #[test]
    fn a_full_start_is_read() {
        let text = r#"{"type":"start","token":"t","sample_rate":48000,"encoding":"f32le",
            "channels":2,"language":"en","task":"transcribe","context":"email","store":true}"#;
        let ClientText::Start(start) = ClientText::parse(text).unwrap() else {
            panic!("not a start");
        };
        assert_eq!(start.token.as_deref(), Some("t"));
        assert_eq!(start.encoding, Encoding::F32le);
        assert_eq!(start.context, Some(Context::Email));
        assert!(start.store);
    }

    #[test]
    fn bad_messages_say_what_is_wrong() {
        for (text, expected) in [
            ("hello", "not JSON"),
            (r#"{"kind":"start"}"#, "\"type\""),
            (r#"{"type":"stop"}"#, "unknown message type"),
            (r#"{"type":"start","sample_rate":0}"#, "sample_rate"),
            (r#"{"type":"start","sample_rate":-5}"#, "start:"),
            (r#"{"type":"start","channels":9}"#, "channels"),
            (r#"{"type":"start","encoding":"mp3"}"#, "unknown variant"),
            (r#"{"type":"start","context":"poem"}"#, "unknown variant"),
            (r#"{"type":"start","volume":3}"#, "unknown field"),
            (r#"{"type":"end","now":true}"#, "no other field"),
        ] {
            let e = ClientText::parse(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    #[test]
    fn server_messages_are_tagged_json() {
        let m = ServerMessage::Final {
            start: 0.5,
            end: 1.5,
            text: "Hi.".into(),
        };
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"type":"final","start":0.5,"end":1.5,"text":"Hi."}"#
        );
        let e = ServerMessage::from_error(&Error::Overloaded {
            running: 1,
            queued: 2,
        });
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "overloaded");
    }
}
