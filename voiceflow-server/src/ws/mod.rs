//! `GET /v1/stream`: live dictation over a WebSocket (protocol in
//! `docs/protocol.md`).

mod connection;
mod finals;
mod pcm;
pub mod protocol;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::bearer;
use crate::state::AppState;
use connection::{Connection, StreamSlot};

/// Streams started in this process, for their ids.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// Upgrades to a stream when a slot is free and the token (if sent in the
/// header) is accepted.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let inner = &state.0;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| bearer(v).unwrap_or(""));
    if let Some(token) = token {
        if !inner.tokens.admits(Some(token)) {
            inner.metrics.reject("auth");
            return (StatusCode::UNAUTHORIZED, "invalid token\n").into_response();
        }
    }
    if !state.is_ready() {
        inner.metrics.reject("draining");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down\n",
        )
            .into_response();
    }
    let max = inner.config.websocket.max_connections;
    if inner.streams.fetch_add(1, Ordering::AcqRel) >= max {
        inner.streams.fetch_sub(1, Ordering::AcqRel);
        inner.metrics.reject("connections");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            format!("too many streams (limit {max})\n"),
        )
            .into_response();
    }
    inner.metrics.open_streams.inc();
    inner.metrics.streams_total.inc();
    let slot = StreamSlot(state.clone());
    let authorized = token.is_some();
    let session_id = format!("s{}", NEXT_SESSION.fetch_add(1, Ordering::Relaxed));
    let ws = &inner.config.websocket;
    // Messages up to twice the limit are read and refused with an `error`
    // message; beyond that the socket layer drops the connection.
    let hard_limit = ws.max_message_bytes.saturating_mul(2);
    upgrade
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            tracing::debug!(session = %session_id, "stream opened");
            Connection::new(state, socket, session_id)
                .run(authorized)
                .await;
        })
}
