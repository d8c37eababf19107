//! One WebSocket stream, from the `start` message to `done`.

use std::num::NonZeroU32;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};
use voiceflow_core::config::AUTO_LANGUAGE;
use voiceflow_core::stream::{Partial, StreamObserver, StreamOptions, StreamingSession};
use voiceflow_core::{Error, Segment, Task};

use super::finals::Finals;
use super::pcm;
use super::protocol::{close, ClientText, ServerMessage, Start, TaskName};
use crate::config::secs;
use crate::state::AppState;

/// How long a closing socket waits for the client's close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// What the session's thread reports.
enum Event {
    Partial(Partial),
    Final(Segment),
    /// The session failed: its close code and `error` message (library
    /// errors are not `Clone`, so they are turned into these at once).
    Failed(u16, ServerMessage),
}

/// The observer of a stream's session: forwards to the connection's task.
struct Forward(mpsc::UnboundedSender<Event>);

impl StreamObserver for Forward {
    fn on_partial(&mut self, partial: &Partial) -> ControlFlow<()> {
        self.forward(Event::Partial(partial.clone()))
    }

    fn on_final(&mut self, segment: &Segment) -> ControlFlow<()> {
        self.forward(Event::Final(segment.clone()))
    }

    fn on_error(&mut self, error: &Error) {
        let _ = self.0.send(Event::Failed(
            close_code(error),
            ServerMessage::from_error(error),
        ));
    }
}

impl Forward {
    /// Stops the session when the connection is gone.
    fn forward(&self, event: Event) -> ControlFlow<()> {
        match self.0.send(event) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }
}

/// Why the stream's loop stops.
enum Stop {
    /// The client asked (`end`), went idle, or the server shuts down: send
    /// the remaining finals and `done`, then close with this code.
    Flush(u16, &'static str),
    /// Refuse: send the `error` message, drop the session, close with the
    /// code; counted under the message's error code.
    Refuse(u16, ServerMessage),
    /// The client is gone (closed, or silent past two pings).
    Gone,
}

impl Stop {
    /// The refusal for a library error.
    fn from_error(error: &Error) -> Stop {
        Stop::Refuse(close_code(error), ServerMessage::from_error(error))
    }
}

/// One client's connection.
pub struct Connection {
    state: AppState,
    socket: WebSocket,
    session_id: String,
    limiter: DefaultDirectRateLimiter,
    last_heard: Instant,
    last_message: Instant,
}

impl Connection {
    /// A connection for an upgraded socket.
    pub fn new(state: AppState, socket: WebSocket, session_id: String) -> Connection {
        let rate =
            NonZeroU32::new(state.0.config.websocket.message_rate_limit).unwrap_or(NonZeroU32::MIN);
        let now = Instant::now();
        Connection {
            state,
            socket,
            session_id,
            limiter: RateLimiter::direct(Quota::per_second(rate)),
            last_heard: now,
            last_message: now,
        }
    }

    /// Serves the stream until it ends. `authorized`: the upgrade request
    /// carried an accepted token.
    pub async fn run(mut self, authorized: bool) {
        let start = match self.await_start(authorized).await {
            Ok(start) => start,
            Err(stop) => return self.finish(stop).await,
        };
        let stop = self.stream(*start).await;
        self.finish(stop).await;
    }

    /// Waits for a valid `start` from an authorized client.
    async fn await_start(&mut self, authorized: bool) -> Result<Box<Start>, Stop> {
        let deadline = Instant::now() + secs(self.state.0.config.websocket.start_timeout_s);
        loop {
            let message = tokio::select! {
                message = self.socket.recv() => message,
                () = sleep_until(deadline) => {
                    return Err(self.refuse("start_timeout", close::POLICY, "no start message in time"));
                }
            };
            let text = match self.receive(message)? {
                Message::Text(text) => text,
                Message::Binary(_) => {
                    return Err(self.refuse(
                        "bad_message",
                        close::POLICY,
                        "send the start message before audio",
                    ))
                }
                _ => continue,
            };
            let start = match ClientText::parse(&text) {
                Ok(ClientText::Start(start)) => start,
                Ok(ClientText::End) => {
                    return Err(self.refuse("bad_message", close::POLICY, "end before start"))
                }
                Err(why) => return Err(self.refuse("bad_message", close::POLICY, why)),
            };
            if !authorized && !self.state.0.tokens.admits(start.token.as_deref()) {
                return Err(self.refuse(
                    "unauthorized",
                    close::POLICY,
                    "a valid token is required (Authorization: Bearer, or \"token\" in start)",
                ));
            }
            return Ok(start);
        }
    }

    /// Runs the session from `start` until the stream stops.
    async fn stream(&mut self, start: Start) -> Stop {
        if start.store && self.state.store().is_none() {
            return self.refuse(
                "store_unavailable",
                close::POLICY,
                "this server has no store ([storage] path)",
            );
        }
        let mut options = StreamOptions::default();
        options.transcribe.language = start.language.clone();
        options.transcribe.short_windows = self.state.0.config.engine.short_windows;
        options.transcribe.task = match start.task {
            TaskName::Transcribe => Task::Transcribe,
            TaskName::Translate => Task::Translate,
        };
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let engine = std::sync::Arc::clone(&self.state.0.engine);
        let opened =
            tokio::task::spawn_blocking(move || engine.stream(options, Forward(events_tx))).await;
        let session = match opened {
            Ok(Ok(session)) => session,
            Ok(Err(e)) => return Stop::from_error(&e),
            Err(e) => {
                let m = ServerMessage::error("internal", format!("cannot start the session: {e}"));
                return Stop::Refuse(close::INTERNAL, m);
            }
        };
        // The language asked for, or an English-only model's; `None` when a
        // multilingual model detects it (the finals do not say which).
        let info = self.state.0.engine.model_info();
        let language = match &start.language {
            Some(language) if language != AUTO_LANGUAGE => Some(language.clone()),
            _ if !info.multilingual => info.languages.first().cloned(),
            _ => None,
        };
        let (post_tx, mut post) = mpsc::unbounded_channel();
        let store = start.store.then(|| self.state.store().cloned()).flatten();
        let mut finals = Finals::start(
            &self.state,
            start.context,
            store,
            language,
            self.session_id.clone(),
            post_tx,
        );
        let ready = ServerMessage::Ready {
            session: self.session_id.clone(),
        };
        if self.send(&ready).await.is_err() {
            discard(session);
            return Stop::Gone;
        }

        let mut session = Some(session);
        let mut received_s = 0.0f64;
        let stop = self
            .pump(
                &start,
                &mut session,
                &mut events,
                &mut post,
                &mut finals,
                &mut received_s,
            )
            .await;
        let Stop::Flush(code, reason) = stop else {
            if let Some(session) = session.take() {
                discard(session);
            }
            return stop;
        };
        // Flush: the session commits what is open; its thread ends, which
        // closes `events`; then the finals' enhancement and storage finish.
        let finishing = session
            .take()
            .map(|s| tokio::task::spawn_blocking(move || s.finish()));
        while let Some(event) = events.recv().await {
            if self.on_event(event, &mut finals).await.is_err() {
                return Stop::Gone;
            }
        }
        if let Some(finishing) = finishing {
            let _ = finishing.await;
        }
        finals.close().await;
        while let Ok(message) = post.try_recv() {
            if self.send(&message).await.is_err() {
                return Stop::Gone;
            }
        }
        let done = ServerMessage::Done {
            duration_s: received_s,
        };
        if self.send(&done).await.is_err() {
            return Stop::Gone;
        }
        Stop::Flush(code, reason)
    }

    /// Moves audio in and results out until the stream should stop.
    async fn pump(
        &mut self,
        start: &Start,
        session: &mut Option<StreamingSession>,
        events: &mut mpsc::UnboundedReceiver<Event>,
        post: &mut mpsc::UnboundedReceiver<ServerMessage>,
        finals: &mut Finals,
        received_s: &mut f64,
    ) -> Stop {
        let ws = &self.state.0.config.websocket;
        let ping_every = secs(ws.ping_interval_s);
        let idle = secs(ws.idle_timeout_s);
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        let mut shutdown = self.state.0.shutdown.subscribe();
        let mut post_open = true;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(Event::Failed(code, message)) => return Stop::Refuse(code, message),
                    Some(event) => {
                        if self.on_event(event, finals).await.is_err() {
                            return Stop::Gone;
                        }
                    }
                    None => {
                        let m = ServerMessage::error("internal", "the session ended early");
                        return Stop::Refuse(close::INTERNAL, m);
                    }
                },
                message = post.recv(), if post_open => match message {
                    Some(message) => {
                        if self.send(&message).await.is_err() {
                            return Stop::Gone;
                        }
                    }
                    None => post_open = false,
                },
                message = self.socket.recv() => {
                    let message = match self.receive(message) {
                        Ok(message) => message,
                        Err(stop) => return stop,
                    };
                    match message {
                        Message::Binary(bytes) => {
                            let Some(session) = session.as_ref() else { continue };
                            if let Err(stop) = self.push(session, start, &bytes, received_s) {
                                return stop;
                            }
                        }
                        Message::Text(text) => match ClientText::parse(&text) {
                            Ok(ClientText::End) => return Stop::Flush(close::NORMAL, "done"),
                            Ok(ClientText::Start(_)) => {
                                return self.refuse("bad_message", close::POLICY, "the stream has already started");
                            }
                            Err(why) => return self.refuse("bad_message", close::POLICY, why),
                        },
                        _ => {}
                    }
                }
                _ = ping.tick() => {
                    if self.last_heard.elapsed() > 2 * ping_every {
                        self.state.0.metrics.reject("dead_peer");
                        return Stop::Gone;
                    }
                    if self.send_frame(Message::Ping(Default::default())).await.is_err() {
                        return Stop::Gone;
                    }
                }
                () = sleep_until(self.last_message + idle) => {
                    self.state.0.metrics.reject("idle_timeout");
                    let m = ServerMessage::error("idle_timeout", format!("no message for {} s", idle.as_secs_f64()));
                    if self.send(&m).await.is_err() {
                        return Stop::Gone;
                    }
                    return Stop::Flush(close::NORMAL, "idle");
                }
                () = shutting_down(&mut shutdown) => {
                    let m = ServerMessage::error("shutting_down", "the server is shutting down; the stream ends here");
                    if self.send(&m).await.is_err() {
                        return Stop::Gone;
                    }
                    return Stop::Flush(close::GOING_AWAY, "server shutting down");
                }
            }
        }
    }

    /// Decodes one binary message and hands it to the session.
    fn push(
        &self,
        session: &StreamingSession,
        start: &Start,
        bytes: &[u8],
        received_s: &mut f64,
    ) -> Result<(), Stop> {
        let samples = pcm::decode(bytes, start.encoding, start.channels)
            .map_err(|why| self.refuse("bad_audio", close::INVALID_PAYLOAD, why))?;
        match session.push(&samples, start.sample_rate, start.channels) {
            Ok(()) => {
                *received_s +=
                    samples.len() as f64 / f64::from(start.channels) / f64::from(start.sample_rate);
                Ok(())
            }
            // The session stopped on an error; its `Failed` event follows.
            Err(Error::Closed(_)) => Ok(()),
            Err(Error::QueueFull { .. }) => Err(self.refuse(
                "backlog_full",
                close::TRY_AGAIN_LATER,
                "audio arrives faster than it is transcribed; slow down",
            )),
            Err(e) => Err(Stop::from_error(&e)),
        }
    }

    /// Sends a session event; finals also go to post-processing.
    async fn on_event(&mut self, event: Event, finals: &mut Finals) -> Result<(), ()> {
        match event {
            Event::Partial(p) => {
                self.send(&ServerMessage::Partial {
                    text: p.text,
                    start: p.start,
                    end: p.end,
                })
                .await
            }
            Event::Final(segment) => {
                let message = ServerMessage::Final {
                    start: segment.start,
                    end: segment.end,
                    text: segment.text.clone(),
                };
                finals.push(segment);
                self.send(&message).await
            }
            Event::Failed(_, message) => self.send(&message).await,
        }
    }

    /// Checks one received message against the limits (counted, rate,
    /// size); a stop when the client is gone or over a limit.
    fn receive(&mut self, message: Option<Result<Message, axum::Error>>) -> Result<Message, Stop> {
        let message = match message {
            Some(Ok(Message::Close(_))) | None => return Err(Stop::Gone),
            Some(Err(e)) => {
                tracing::debug!(session = %self.session_id, "receive failed: {e}");
                self.state.0.metrics.reject("protocol");
                return Err(Stop::Gone);
            }
            Some(Ok(message)) => message,
        };
        self.last_heard = Instant::now();
        if matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return Ok(message);
        }
        self.last_message = self.last_heard;
        let metrics = &self.state.0.metrics;
        let size = match &message {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
            _ => 0,
        };
        metrics.messages_in.inc();
        metrics.bytes_in.add(size as u64);
        if self.limiter.check().is_err() {
            return Err(self.refuse(
                "rate_limited",
                close::POLICY,
                format!(
                    "more than {} messages per second",
                    self.state.0.config.websocket.message_rate_limit
                ),
            ));
        }
        let max = self.state.0.config.websocket.max_message_bytes;
        if size > max {
            return Err(self.refuse(
                "message_too_big",
                close::TOO_BIG,
                format!("a message of {size} bytes is over the limit of {max}"),
            ));
        }
        Ok(message)
    }

    /// A refusal: counted under `code`, told to the client, then closed.
    fn refuse(&self, code: &'static str, close_code: u16, why: impl Into<String>) -> Stop {
        Stop::Refuse(close_code, ServerMessage::error(code, why))
    }

    async fn send(&mut self, message: &ServerMessage) -> Result<(), ()> {
        let text = serde_json::to_string(message).map_err(|_| ())?;
        let metrics = &self.state.0.metrics;
        metrics.messages_out.inc();
        metrics.bytes_out.add(text.len() as u64);
        self.send_frame(Message::Text(text.into())).await
    }

    /// Sends one frame. A client that stops reading fills its TCP window
    /// and would hold the stream (and its slot) forever: a frame that cannot
    /// be sent within two ping intervals drops the client.
    async fn send_frame(&mut self, frame: Message) -> Result<(), ()> {
        let patience = 2 * secs(self.state.0.config.websocket.ping_interval_s);
        match tokio::time::timeout(patience, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(()),
            Err(_) => {
                self.state.0.metrics.reject("slow_reader");
                Err(())
            }
        }
    }

    /// Ends the connection as `stop` says.
    async fn finish(mut self, stop: Stop) {
        let (code, reason) = match stop {
            Stop::Gone => return,
            Stop::Flush(code, reason) => (code, reason),
            Stop::Refuse(code, message) => {
                let counted = message.code().unwrap_or("internal");
                self.state.0.metrics.reject(counted);
                if self.send(&message).await.is_err() {
                    return;
                }
                (code, counted)
            }
        };
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if self.send_frame(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        // The client answers with its own close frame; wait for it briefly
        // so that it reads everything before the TCP connection goes.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Completes once shutdown begins.
async fn shutting_down(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|&stop| stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Drops a session off the async threads (dropping waits for its decoding).
fn discard(session: StreamingSession) {
    tokio::task::spawn_blocking(move || drop(session));
}

/// The close code for a library error.
fn close_code(error: &Error) -> u16 {
    match error {
        Error::Overloaded { .. } | Error::QueueFull { .. } => close::TRY_AGAIN_LATER,
        Error::InvalidAudio(_) | Error::InvalidAudioFile { .. } => close::INVALID_PAYLOAD,
        Error::InvalidArgument(_) | Error::InvalidOption { .. } => close::POLICY,
        _ => close::INTERNAL,
    }
}

/// Keeps the count of open streams right however the connection ends.
pub struct StreamSlot(pub AppState);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0 .0.streams.fetch_sub(1, Ordering::AcqRel);
        self.0 .0.metrics.open_streams.dec();
    }
}
