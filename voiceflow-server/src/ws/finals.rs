//! What happens to a stream's finals after they are sent: enhancement for
//! the stream's context, then the encrypted store, one final at a time in
//! stream order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use voiceflow_core::enhance::{Context, EnhanceRequest, Job};
use voiceflow_core::store::{RecordData, Store};
use voiceflow_core::{Error, Result, Segment};

use super::protocol::ServerMessage;
use crate::state::AppState;

/// Where a stream's finals go after the client has them.
pub struct Finals {
    /// `None` once [`Finals::close`] was called.
    input: Option<mpsc::UnboundedSender<Segment>>,
    task: Option<JoinHandle<()>>,
}

/// What the post-processing of one stream needs.
struct Plan {
    state: AppState,
    context: Option<Context>,
    store: Option<Arc<Store>>,
    /// `None`: not known (detected by a multilingual model).
    language: Option<String>,
    session: String,
    out: mpsc::UnboundedSender<ServerMessage>,
}

impl Finals {
    /// Post-processing for a stream: enhancement when `context` is given,
    /// storage in `store`; results and errors go to `out`. Without either,
    /// finals are dropped here.
    pub fn start(
        state: &AppState,
        context: Option<Context>,
        store: Option<Arc<Store>>,
        language: Option<String>,
        session: String,
        out: mpsc::UnboundedSender<ServerMessage>,
    ) -> Finals {
        if context.is_none() && store.is_none() {
            return Finals {
                input: None,
                task: None,
            };
        }
        let (input, mut finals) = mpsc::unbounded_channel();
        let plan = Plan {
            state: state.clone(),
            context,
            store,
            language,
            session,
            out,
        };
        let task = tokio::spawn(async move {
            while let Some(segment) = finals.recv().await {
                plan.process(segment).await;
            }
        });
        Finals {
            input: Some(input),
            task: Some(task),
        }
    }

    /// Queues a final.
    pub fn push(&self, segment: Segment) {
        if let Some(input) = &self.input {
            let _ = input.send(segment);
        }
    }

    /// Takes no more finals and waits until every queued one is enhanced
    /// and stored (its messages sent to `out`).
    pub async fn close(&mut self) {
        self.input = None;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Plan {
    async fn process(&self, segment: Segment) {
        let start = segment.start;
        let enhanced = match self.context {
            Some(context) => match self.enhance(&segment.text, context).await {
                Ok(text) => {
                    self.send(ServerMessage::Enhanced {
                        start,
                        text: text.clone(),
                        context,
                    });
                    Some(text)
                }
                Err(e) => {
                    self.send(ServerMessage::error(
                        "enhance_failed",
                        format!("the final at {start:.2} s was not enhanced: {e}"),
                    ));
                    None
                }
            },
            None => None,
        };
        if let Some(store) = &self.store {
            let record = RecordData {
                context: self.context.unwrap_or_default().into(),
                raw_text: segment.text.clone(),
                enhanced_text: enhanced,
                language: self.language.clone().unwrap_or_default(),
                model: self.state.0.engine.model_info().name.clone(),
                audio_duration_s: f64::from(segment.end - segment.start),
                metadata: BTreeMap::from([
                    ("session".to_string(), self.session.clone()),
                    ("start_s".to_string(), format!("{start:.3}")),
                ]),
                segments: vec![segment],
                ..RecordData::default()
            };
            let store = Arc::clone(store);
            let put = tokio::task::spawn_blocking(move || {
                let id = store.put(&record)?;
                // "stored" promises durability: the record survives a crash
                // from here on.
                store.flush()?;
                Ok::<_, Error>(id)
            })
            .await;
            match put {
                Ok(Ok(id)) => self.send(ServerMessage::Stored {
                    start,
                    id: id.to_string(),
                }),
                Ok(Err(e)) => self.send(ServerMessage::error(
                    "store_failed",
                    format!("the final at {start:.2} s was not stored: {e}"),
                )),
                Err(e) => self.send(ServerMessage::error(
                    "internal",
                    format!("the store's task failed: {e}"),
                )),
            }
        }
    }

    /// The enhanced text, from the bounded queue (a full queue is an error
    /// at once, never a wait).
    async fn enhance(&self, text: &str, context: Context) -> Result<String> {
        let timeout = Duration::from_secs_f64(self.state.0.config.ai_enhancement.timeout_s);
        let mut request = EnhanceRequest::new(context);
        if let Some(language) = &self.language {
            request = request.language(language.clone());
        }
        let ticket = self
            .state
            .0
            .enhancer
            .try_submit(Job::new(text, request).within(timeout))?;
        let (answer, answered) = oneshot::channel();
        ticket.on_complete(move |result| {
            let _ = answer.send(result);
        });
        let enhanced = answered
            .await
            .map_err(|_| Error::Cancelled("the enhancement was dropped".into()))??;
        Ok(enhanced.text)
    }

    fn send(&self, message: ServerMessage) {
        let _ = self.out.send(message);
    }
}
