//! `POST /v1/audio/transcriptions` and `GET /v1/models`, as OpenAI's audio
//! API has them, so that its clients work unchanged.

use std::ops::ControlFlow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use voiceflow_core::engine::Audio;
use voiceflow_core::{Error, TranscribeOptions, Transcript};

use crate::auth::bearer;
use crate::config::secs;
use crate::state::AppState;

/// The model name the API lists; any `model` field is accepted (the server
/// runs the one model it loaded).
const MODEL_ID: &str = "whisper-1";

/// What a transcription request asks for.
#[derive(Debug, Default)]
struct Request {
    file: Option<Bytes>,
    language: Option<String>,
    prompt: Option<String>,
    format: Format,
    temperature: Option<f32>,
    /// `timestamp_granularities[]`: none given means segments only.
    granularities: Granularities,
}

/// Which timestamps `verbose_json` carries (`timestamp_granularities[]`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Granularities {
    /// `word` was asked for: a `words` list (word timestamps).
    word: bool,
    /// `segment` was asked for.
    segment: bool,
}

impl Granularities {
    /// Segments are in the response unless only words were asked for.
    fn segments(&self) -> bool {
        self.segment || !self.word
    }
}

/// `response_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Format {
    #[default]
    Json,
    Text,
    Srt,
    Vtt,
    VerboseJson,
}

impl Format {
    fn parse(name: &str) -> Result<Format, ApiError> {
        Ok(match name {
            "json" => Format::Json,
            "text" => Format::Text,
            "srt" => Format::Srt,
            "vtt" => Format::Vtt,
            "verbose_json" => Format::VerboseJson,
            other => {
                return Err(ApiError::invalid(
                    "response_format",
                    format!(
                    "response_format must be json, text, srt, vtt or verbose_json, got {other:?}"
                ),
                ))
            }
        })
    }
}

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    param: Option<&'static str>,
    message: String,
}

impl ApiError {
    fn invalid(param: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            param: Some(param),
            message: message.into(),
        }
    }

    fn from_error(error: &Error) -> ApiError {
        let (status, kind) = match error {
            Error::InvalidAudio(_)
            | Error::InvalidAudioFile { .. }
            | Error::InvalidArgument(_)
            | Error::InvalidOption { .. } => (StatusCode::BAD_REQUEST, "invalid_request_error"),
            Error::Overloaded { .. } | Error::QueueFull { .. } | Error::Closed(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "server_overloaded")
            }
            Error::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        };
        ApiError {
            status,
            kind,
            param: match error {
                Error::InvalidAudio(_) | Error::InvalidAudioFile { .. } => Some("file"),
                Error::InvalidOption { option, .. } => Some(*option),
                _ => None,
            },
            message: voiceflow_core::error::chain(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": Value::Null,
        }});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// Whether the request carries an accepted bearer token.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    if state.0.tokens.admits(token) {
        return Ok(());
    }
    state.0.metrics.reject("auth");
    Err(ApiError {
        status: StatusCode::UNAUTHORIZED,
        kind: "invalid_request_error",
        param: None,
        message: "a valid API key is required (Authorization: Bearer ...)".into(),
    })
}

/// `GET /v1/models`: the one model, as `whisper-1`.
pub async fn models(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&state, &headers) {
        return e.into_response();
    }
    Json(json!({"object": "list", "data": [{
        "id": MODEL_ID,
        "object": "model",
        "created": 0,
        "owned_by": format!("voiceflow ({})", state.0.engine.model_info().name),
    }]}))
    .into_response()
}

/// `POST /v1/audio/transcriptions`.
pub async fn transcriptions(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let result = transcribe(&state, &headers, multipart).await;
    let response = result.unwrap_or_else(IntoResponse::into_response);
    state
        .0
        .metrics
        .http("transcriptions", response.status().as_u16());
    response
}

async fn transcribe(
    state: &AppState,
    headers: &HeaderMap,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    authorize(state, headers)?;
    let request = read_form(multipart).await?;
    let file = request
        .file
        .ok_or_else(|| ApiError::invalid("file", "the form has no file field"))?;
    let words = request.granularities.word;
    if words && request.format != Format::VerboseJson {
        return Err(ApiError::invalid(
            "timestamp_granularities",
            "timestamp_granularities needs response_format verbose_json",
        ));
    }
    let mut options = TranscribeOptions {
        word_timestamps: words,
        language: request.language,
        initial_prompt: request.prompt.filter(|p| !p.trim().is_empty()),
        timeout: Some(secs(state.0.config.http.request_timeout_s)),
        short_windows: state.0.config.engine.short_windows,
        ..TranscribeOptions::default()
    };
    if let Some(t) = request.temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(ApiError::invalid(
                "temperature",
                format!("temperature must be 0..=1, got {t}"),
            ));
        }
        // As OpenAI's API: 0 keeps the fallback schedule; a higher value
        // starts the schedule there.
        options.temperatures.retain(|&s| s >= t);
        if options.temperatures.first() != Some(&t) {
            options.temperatures.insert(0, t);
        }
    }
    let engine = Arc::clone(&state.0.engine);
    let transcript = tokio::task::spawn_blocking(move || {
        engine.transcribe_with(Audio::Bytes(&file), &options, &mut |_, _| {
            ControlFlow::Continue(())
        })
    })
    .await
    .map_err(|e| ApiError::from_error(&Error::inference_from("the task failed", e)))?
    .map_err(|e| ApiError::from_error(&e))?;
    Ok(render(&transcript, request.format, request.granularities))
}

/// Reads the multipart form; unknown fields are ignored, as OpenAI's API
/// ignores what it does not use.
async fn read_form(mut multipart: Multipart) -> Result<Request, ApiError> {
    let mut request = Request::default();
    while let Some(field) = multipart.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let bytes = field.bytes().await.map_err(form_error)?;
            request.file = Some(bytes);
            continue;
        }
        let value = field.text().await.map_err(form_error)?;
        match name.as_str() {
            "language" => request.language = Some(value).filter(|l| !l.is_empty()),
            "prompt" => request.prompt = Some(value),
            "response_format" => request.format = Format::parse(&value)?,
            "timestamp_granularities[]" | "timestamp_granularities" => match value.trim() {
                "word" => request.granularities.word = true,
                "segment" => request.granularities.segment = true,
                other => {
                    return Err(ApiError::invalid(
                        "timestamp_granularities",
                        format!("timestamp_granularities must be word or segment, got {other:?}"),
                    ))
                }
            },
            "temperature" => {
                let t = value.trim().parse::<f32>().map_err(|_| {
                    ApiError::invalid(
                        "temperature",
                        format!("temperature must be a number, got {value:?}"),
                    )
                })?;
                request.temperature = Some(t);
            }
            _ => {}
        }
    }
    Ok(request)
}

/// A malformed or oversized form.
fn form_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    ApiError {
        status,
        kind: "invalid_request_error",
        param: Some("file"),
        message: if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("the upload is over the server's limit: {}", e.body_text())
        } else {
            format!("malformed multipart form: {}", e.body_text())
        },
    }
}

/// The transcript in the requested format (`verbose_json` with the
/// timestamps of `granularities`).
fn render(t: &Transcript, format: Format, granularities: Granularities) -> Response {
    let plain = |body: String| {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    };
    match format {
        Format::Json => Json(json!({"text": t.text})).into_response(),
        Format::Text => plain(format!("{}\n", t.text)),
        Format::Srt => plain(t.to_srt()),
        Format::Vtt => plain(t.to_vtt()),
        Format::VerboseJson => {
            let segments: Vec<Value> = t
                .segments
                .iter()
                .enumerate()
                .map(|(id, s)| {
                    json!({
                        "id": id,
                        "seek": 0,
                        "start": s.start,
                        "end": s.end,
                        "text": s.text,
                        "tokens": s.tokens,
                        "temperature": s.temperature,
                        "avg_logprob": s.avg_logprob,
                        "compression_ratio": Value::Null,
                        "no_speech_prob": s.no_speech_prob,
                    })
                })
                .collect();
            let mut body = json!({
                "task": "transcribe",
                "language": t.language,
                "duration": t.duration_s,
                "text": t.text,
            });
            if granularities.segments() {
                body["segments"] = segments.into();
            }
            if granularities.word {
                // OpenAI's shape: one list for the whole text, words without spaces.
                let words: Vec<Value> = (t.segments.iter())
                    .flat_map(|s| &s.words)
                    .map(|w| json!({"word": w.word.trim(), "start": w.start, "end": w.end}))
                    .collect();
                body["words"] = words.into();
            }
            Json(body).into_response()
        }
    }
}
