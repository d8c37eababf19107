//! The router: every endpoint with its limits.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{openai, ws};

/// The live dictation page.
const PAGE: &str = include_str!("page/index.html");
/// Its AudioWorklet (capture, resampling to 16 kHz, s16le frames).
const WORKLET: &str = include_str!("page/capture-worklet.js");

/// Multipart framing around the file, on top of `max_upload_bytes`.
const FORM_OVERHEAD_BYTES: usize = 64 << 10;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let upload_limit = state
        .0
        .config
        .http
        .max_upload_bytes
        .saturating_add(FORM_OVERHEAD_BYTES);
    Router::new()
        .route("/", get(page))
        .route("/capture-worklet.js", get(worklet))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/stream", get(ws::upgrade))
        .route("/v1/models", get(openai::models))
        .route(
            "/v1/audio/transcriptions",
            post(openai::transcriptions).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn worklet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        WORKLET,
    )
        .into_response()
}

/// Live: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the model is loaded and the server is not draining.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    }
}

/// The engine's, the enhancer's, the store's and the server's series in the
/// OpenMetrics text format.
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().to_prometheus(),
    )
        .into_response()
}
