//! The decoder worker: owns a decoder session and runs the prefills and the
//! steps of every open window ("group") that callers send it.
//!
//! A prefill runs alone (one window's prompt). Steps are batched: every
//! window whose cross-attention cache has the same length shares a [`Lane`]
//! and one run per step, whatever its past length, when the decoder takes
//! `position_ids` and `attention_mask`; otherwise (decoders exported by
//! others, or batching switched off) each window has a lane of its own.
//! Windows join a lane with their first step and leave it when their
//! sequences end; the worker waits a moment for late callers before a step
//! so that every window of the lane takes it together.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};
use ort::session::SessionInputValue;
use ort::value::{DynValue, Tensor};

use super::lane::{CacheDims, Joiner, Lane, NewRow, Source};
use crate::decode::alignment::CrossAttention;
use crate::model::decoder::{no_word_timestamps, DecoderFeed, DecoderSession, Padding};
use crate::model::session::inference;
use crate::{Error, Result};

/// How long a step waits for the windows of its lane that have not sent
/// their next token yet (their callers choose tokens between steps, which
/// takes well under a millisecond unless the machine is busy).
const STRAGGLER_WAIT: Duration = Duration::from_millis(10);

/// Logits rows (`vocab` values each), or why there are none.
pub(crate) type Reply = Sender<Result<Vec<f32>>>;

/// What callers send the decoder worker.
pub(crate) enum DecoderMsg {
    /// Start sequences of `group` from `prompt`; the first prefill of a
    /// window brings its encoder output. Answers the logits at `positions`.
    Prefill {
        /// The window.
        group: u64,
        /// The encoder output `[1, T, d]` on the window's first prefill.
        encoder_out: Option<DynValue>,
        /// The prompt's tokens.
        prompt: Vec<u32>,
        /// Positions in the prompt whose logits are wanted.
        positions: Vec<usize>,
        /// Where the logits go.
        reply: Reply,
    },
    /// Extend the window's sequences: new sequence `i` continues old
    /// sequence `sources[i]` with `tokens[i]`. Answers one row per sequence.
    Step {
        /// The window.
        group: u64,
        /// The next token of each new sequence.
        tokens: Vec<u32>,
        /// The old sequence each new one continues.
        sources: Vec<usize>,
        /// Where the logits go.
        reply: Reply,
    },
    /// Run `sequence` alone over the window, keeping nothing; answers the
    /// logits at `positions` and the alignment heads' cross-attention.
    Align {
        /// The window.
        group: u64,
        /// The tokens.
        sequence: Vec<u32>,
        /// Positions in the sequence whose logits are wanted.
        positions: Vec<usize>,
        /// Where the logits and the cross-attention go.
        reply: Sender<Result<(Vec<f32>, CrossAttention)>>,
    },
    /// The window's sequences are finished (the window stays open).
    End {
        /// The window.
        group: u64,
    },
    /// The window is done.
    Close {
        /// The window.
        group: u64,
    },
    /// Answer everything with [`Error::Closed`] and stop.
    Shutdown,
}

/// Which lane a window steps in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LaneKey {
    /// Shared by every window with this cross-attention length.
    Length(usize),
    /// The window's own.
    Window(u64),
}

/// A step a window asked for.
struct Pending {
    tokens: Vec<u32>,
    sources: Vec<usize>,
    reply: Reply,
}

/// An open window.
struct Group {
    /// Encoder positions.
    t: usize,
    /// Its cross-attention cache while it is not in a lane.
    cross: Option<Vec<DynValue>>,
    /// The self-attention cache of its last prefill, until it joins a lane.
    prefill: Option<Vec<DynValue>>,
    /// The lane it steps in (joined, or joining with its pending step).
    lane: Option<LaneKey>,
    /// Whether its rows are in the lane.
    joined: bool,
    pending: Option<Pending>,
}

struct LaneState {
    lane: Lane,
    /// Windows left since the last step: the next one rebuilds the batch.
    dirty: bool,
    /// When the lane steps even if some windows have not sent their tokens.
    wait_until: Option<Instant>,
}

/// Counts of one decoder run, for the metrics.
pub(crate) struct StepStats {
    /// Sequences in the run.
    pub rows: usize,
    /// Time the run took.
    pub elapsed: Duration,
}

/// Receives the counts of every decoder run.
pub(crate) type StepObserver = std::sync::Arc<dyn Fn(StepStats) + Send + Sync>;

/// The decoder worker's state.
pub(crate) struct Worker {
    session: DecoderSession,
    dims: CacheDims,
    vocab: usize,
    batching: bool,
    max_windows: usize,
    groups: HashMap<u64, Group>,
    waiting: VecDeque<DecoderMsg>,
    lanes: HashMap<LaneKey, LaneState>,
    /// Zero tensors `[1, T, d]` for `encoder_hidden_states` where the graph ignores it.
    dummies: HashMap<usize, DynValue>,
    observe: StepObserver,
}

impl Worker {
    /// A worker over `session`; batches across windows when `batching` and
    /// the decoder can pad; decodes at most `max_windows` windows at once
    /// (later windows wait for their first prefill).
    pub(crate) fn new(
        session: DecoderSession,
        dims: CacheDims,
        vocab: usize,
        batching: bool,
        max_windows: usize,
        observe: StepObserver,
    ) -> Self {
        let batching = batching && session.pads();
        Worker {
            session,
            dims,
            vocab,
            batching,
            max_windows: max_windows.max(1),
            groups: HashMap::new(),
            waiting: VecDeque::new(),
            lanes: HashMap::new(),
            dummies: HashMap::new(),
            observe,
        }
    }

    /// Serves `inbox` until [`DecoderMsg::Shutdown`] or until every sender is gone.
    pub(crate) fn run(mut self, inbox: Receiver<DecoderMsg>) {
        loop {
            let now = Instant::now();
            let ready = self.ready_lanes(now);
            if !ready.is_empty() {
                while let Ok(msg) = inbox.try_recv() {
                    if !self.handle(msg) {
                        return self.shut_down(&inbox);
                    }
                }
                for key in self.ready_lanes(Instant::now()) {
                    self.step_lane(key);
                }
                continue;
            }
            let next_deadline = self.lanes.values().filter_map(|l| l.wait_until).min();
            let msg = match next_deadline {
                Some(deadline) => match inbox.recv_deadline(deadline) {
                    Ok(msg) => msg,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match inbox.recv() {
                    Ok(msg) => msg,
                    Err(_) => break,
                },
            };
            if !self.handle(msg) {
                break;
            }
        }
        self.shut_down(&inbox);
    }

    /// Lanes with a pending step whose windows are all ready, or whose wait is over.
    fn ready_lanes(&self, now: Instant) -> Vec<LaneKey> {
        let mut ready = Vec::new();
        for (key, state) in &self.lanes {
            let members = self.groups.values().filter(|g| g.lane == Some(*key));
            let (mut any, mut all) = (false, true);
            for group in members {
                any |= group.pending.is_some();
                all &= group.pending.is_some();
            }
            if any && (all || state.wait_until.is_some_and(|w| w <= now)) {
                ready.push(*key);
            }
        }
        ready
    }

    /// Handles one message; `false` on shutdown.
    fn handle(&mut self, msg: DecoderMsg) -> bool {
        match msg {
            DecoderMsg::Prefill {
                group,
                encoder_out,
                prompt,
                positions,
                reply,
            } => {
                if !self.groups.contains_key(&group) && self.groups.len() >= self.max_windows {
                    self.waiting.push_back(DecoderMsg::Prefill {
                        group,
                        encoder_out,
                        prompt,
                        positions,
                        reply,
                    });
                } else {
                    let out = self.prefill(group, encoder_out, &prompt, &positions);
                    let _ = reply.send(out);
                }
            }
            DecoderMsg::Step {
                group,
                tokens,
                sources,
                reply,
            } => {
                if let Err(e) = self.queue_step(group, tokens, sources, &reply) {
                    let _ = reply.send(Err(e));
                }
            }
            DecoderMsg::Align {
                group,
                sequence,
                positions,
                reply,
            } => {
                let _ = reply.send(self.align(group, &sequence, &positions));
            }
            DecoderMsg::End { group } => {
                // When the window's cross cache cannot be copied out of the
                // lane, the window has none and its next prefill says so.
                let _ = self.leave(group);
            }
            DecoderMsg::Close { group } => self.close(group),
            DecoderMsg::Shutdown => return false,
        }
        true
    }

    /// Runs a window's prompt alone and keeps its caches.
    fn prefill(
        &mut self,
        group: u64,
        encoder_out: Option<DynValue>,
        prompt: &[u32],
        positions: &[usize],
    ) -> Result<Vec<f32>> {
        if prompt.is_empty() || positions.iter().any(|&p| p >= prompt.len()) {
            return Err(Error::inference(
                "prefill needs a prompt that covers the positions",
            ));
        }
        self.leave(group)?;
        let t = match (&encoder_out, self.groups.get(&group)) {
            (Some(out), _) => {
                let (shape, _) = out.try_extract_tensor::<f32>().map_err(inference)?;
                shape.get(1).copied().unwrap_or(0).max(0) as usize
            }
            (None, Some(g)) => g.t,
            (None, None) => {
                return Err(Error::inference(format!("window {group} is not open")));
            }
        };
        let d = self.dims.heads * self.dims.head_dim;
        let Worker {
            session,
            groups,
            dummies,
            ..
        } = self;
        let group_state = groups.entry(group).or_insert_with(|| Group {
            t,
            cross: None,
            prefill: None,
            lane: None,
            joined: false,
            pending: None,
        });
        let cross = match (&encoder_out, &group_state.cross) {
            (Some(_), _) => None,
            (None, Some(cross)) => Some(cross.iter().map(SessionInputValue::from).collect()),
            (None, None) => {
                return Err(Error::inference(format!(
                    "window {group} lost its cross-attention cache"
                )))
            }
        };
        let encoder = match &encoder_out {
            Some(out) => out,
            None => placeholder(dummies, d, t)?,
        };
        let output = session.run(DecoderFeed::single_row(prompt, encoder, cross))?;
        let rows = logits_rows(
            &output.logits,
            self.vocab,
            positions.iter().map(|&p| (0, p)),
        )?;
        let group_state = self
            .groups
            .get_mut(&group)
            .ok_or_else(|| Error::inference(format!("window {group} vanished")))?;
        if let Some(cross) = output.present_cross {
            group_state.cross = Some(cross);
        }
        group_state.prefill = Some(output.present_self);
        Ok(rows)
    }

    /// Runs `sequence` alone over the window's cross-attention cache (the
    /// cache branch with an empty self-attention cache) and returns the
    /// logits at `positions` and the alignment heads' scores.
    fn align(
        &mut self,
        group: u64,
        sequence: &[u32],
        positions: &[usize],
    ) -> Result<(Vec<f32>, CrossAttention)> {
        if let Some(graph) = self.session.lacks_alignment() {
            return Err(no_word_timestamps(graph));
        }
        if sequence.is_empty() || positions.iter().any(|&p| p >= sequence.len()) {
            return Err(Error::inference(
                "alignment needs a sequence that covers the positions",
            ));
        }
        self.leave(group)?;
        let d = self.dims.heads * self.dims.head_dim;
        let Worker {
            session,
            groups,
            dummies,
            ..
        } = self;
        let g = groups
            .get(&group)
            .ok_or_else(|| Error::inference(format!("window {group} is not open")))?;
        let cross = g.cross.as_ref().ok_or_else(|| {
            Error::inference(format!("window {group} has no cross-attention cache"))
        })?;
        let output = session.run(DecoderFeed::single_row(
            sequence,
            placeholder(dummies, d, g.t)?,
            Some(cross.iter().map(SessionInputValue::from).collect()),
        ))?;
        let rows = logits_rows(
            &output.logits,
            self.vocab,
            positions.iter().map(|&p| (0, p)),
        )?;
        let scores = output
            .alignment
            .ok_or_else(|| Error::inference("the decoder returned no alignment scores"))?;
        let (shape, data) = scores.try_extract_tensor::<f32>().map_err(inference)?;
        let attention = match **shape {
            [1, heads, tokens, frames] if tokens as usize == sequence.len() => CrossAttention {
                heads: heads as usize,
                tokens: tokens as usize,
                frames: frames as usize,
                scores: data.to_vec(),
            },
            _ => {
                return Err(Error::inference(format!(
                    "alignment scores have shape {shape:?} for {} tokens",
                    sequence.len()
                )))
            }
        };
        Ok((rows, attention))
    }

    fn queue_step(
        &mut self,
        group: u64,
        tokens: Vec<u32>,
        sources: Vec<usize>,
        reply: &Reply,
    ) -> Result<()> {
        if tokens.is_empty() || tokens.len() != sources.len() {
            return Err(Error::inference("one source per new token is needed"));
        }
        let batching = self.batching;
        let g = self
            .groups
            .get_mut(&group)
            .ok_or_else(|| Error::inference(format!("window {group} is not open")))?;
        if !g.joined && g.prefill.is_none() {
            return Err(Error::inference("decoder step before the window's prefill"));
        }
        if g.pending.is_some() {
            return Err(Error::inference(format!(
                "window {group} sent a step before the last one was answered"
            )));
        }
        let key = *g.lane.get_or_insert(if batching {
            LaneKey::Length(g.t)
        } else {
            LaneKey::Window(group)
        });
        let t = g.t;
        g.pending = Some(Pending {
            tokens,
            sources,
            reply: reply.clone(),
        });
        let dims = self.dims;
        let state = self.lanes.entry(key).or_insert_with(|| LaneState {
            lane: Lane::new(dims, t),
            dirty: false,
            wait_until: None,
        });
        state
            .wait_until
            .get_or_insert_with(|| Instant::now() + STRAGGLER_WAIT);
        Ok(())
    }

    /// Takes the window's rows out of its lane, keeping a copy of its cross cache.
    fn leave(&mut self, group: u64) -> Result<()> {
        let Some(g) = self.groups.get_mut(&group) else {
            return Ok(());
        };
        let Some(key) = g.lane.take() else {
            return Ok(());
        };
        if !g.joined {
            g.prefill = None;
        }
        if let Some(pending) = g.pending.take() {
            let _ = pending.reply.send(Err(Error::inference(
                "the window's sequences ended before their step",
            )));
        }
        let joined = std::mem::replace(&mut g.joined, false);
        let state = self.lanes.get_mut(&key);
        if let (true, Some(state)) = (joined, state) {
            let cross = state.lane.cross_of(group);
            state.dirty = true;
            if let Some(g) = self.groups.get_mut(&group) {
                g.cross = Some(cross?);
            }
        }
        self.drop_empty_lane(key);
        Ok(())
    }

    fn drop_empty_lane(&mut self, key: LaneKey) {
        if !self.groups.values().any(|g| g.lane == Some(key)) {
            self.lanes.remove(&key);
        }
    }

    fn close(&mut self, group: u64) {
        self.waiting
            .retain(|msg| !matches!(msg, DecoderMsg::Prefill { group: g, .. } if *g == group));
        if let Some(g) = self.groups.remove(&group) {
            if let Some(key) = g.lane {
                if let Some(state) = self.lanes.get_mut(&key) {
                    state.dirty = true;
                }
                self.drop_empty_lane(key);
            }
        }
        while self.groups.len() < self.max_windows {
            let Some(DecoderMsg::Prefill {
                group,
                encoder_out,
                prompt,
                positions,
                reply,
            }) = self.waiting.pop_front()
            else {
                break;
            };
            let out = self.prefill(group, encoder_out, &prompt, &positions);
            let _ = reply.send(out);
        }
    }

    /// Runs one step of every window in the lane that asked for one.
    fn step_lane(&mut self, key: LaneKey) {
        let started = Instant::now();
        let outcome = self.try_step_lane(key);
        let members: Vec<u64> = self
            .groups
            .iter()
            .filter(|(_, g)| g.lane == Some(key) && g.pending.is_some())
            .map(|(id, _)| *id)
            .collect();
        match outcome {
            Ok(rows) => {
                let total: usize = rows.iter().map(|(_, r)| r.len() / self.vocab.max(1)).sum();
                for (id, logits) in rows {
                    if let Some(p) = self.groups.get_mut(&id).and_then(|g| g.pending.take()) {
                        let _ = p.reply.send(Ok(logits));
                    }
                }
                (self.observe)(StepStats {
                    rows: total,
                    elapsed: started.elapsed(),
                });
            }
            Err(e) => {
                let reason = e.to_string();
                for id in members {
                    if let Some(p) = self.groups.get_mut(&id).and_then(|g| g.pending.take()) {
                        let _ = p.reply.send(Err(Error::inference(reason.clone())));
                    }
                }
            }
        }
        if let Some(state) = self.lanes.get_mut(&key) {
            state.wait_until = None;
        }
    }

    /// The step: rebuild the batch if windows joined, left or grew, reorder
    /// beams, run, and return each stepping window's logits rows.
    fn try_step_lane(&mut self, key: LaneKey) -> Result<Vec<(u64, Vec<f32>)>> {
        let Worker {
            session,
            groups,
            lanes,
            dummies,
            dims,
            vocab,
            batching,
            ..
        } = self;
        let state = lanes
            .get_mut(&key)
            .ok_or_else(|| Error::inference("no such lane"))?;
        let lane = &mut state.lane;
        let in_lane = |g: &Group| g.lane == Some(key) && g.joined;
        // Windows that join, and windows whose row count changes.
        let joining: Vec<u64> = groups
            .iter()
            .filter(|(_, g)| g.lane == Some(key) && !g.joined && g.pending.is_some())
            .map(|(id, _)| *id)
            .collect();
        let growing: Vec<u64> = groups
            .iter()
            .filter(|(id, g)| {
                in_lane(g)
                    && g.pending
                        .as_ref()
                        .is_some_and(|p| p.sources.len() != lane.rows_of(**id).len())
            })
            .map(|(id, _)| *id)
            .collect();
        let departed = lane
            .rows
            .iter()
            .any(|r| !groups.get(&r.group).is_some_and(in_lane));
        if state.dirty || departed || !joining.is_empty() || !growing.is_empty() {
            let mut new_rows = Vec::new();
            for (i, row) in lane.rows.iter().enumerate() {
                let stays = groups.get(&row.group).is_some_and(in_lane);
                if stays && !growing.contains(&row.group) {
                    new_rows.push(NewRow {
                        group: row.group,
                        member: row.member,
                        source: Source::Row(i),
                    });
                }
            }
            for &id in &growing {
                let old = lane.rows_of(id);
                let sources = groups
                    .get(&id)
                    .and_then(|g| g.pending.as_ref())
                    .map(|p| p.sources.clone())
                    .unwrap_or_default();
                for (member, &s) in sources.iter().enumerate() {
                    let row = *old
                        .get(s)
                        .ok_or_else(|| Error::inference(format!("window {id}: no sequence {s}")))?;
                    new_rows.push(NewRow {
                        group: id,
                        member,
                        source: Source::Row(row),
                    });
                }
            }
            let mut joiners = Vec::new();
            for &id in &joining {
                let g = &groups[&id];
                let p = g.pending.as_ref().map(|p| &p.sources[..]).unwrap_or(&[]);
                if p.iter().any(|&s| s != 0) {
                    return Err(Error::inference(
                        "a window's first step continues its prompt only",
                    ));
                }
                let (Some(self_kv), Some(cross)) = (&g.prefill, &g.cross) else {
                    return Err(Error::inference(format!("window {id} has no prefill")));
                };
                for member in 0..p.len() {
                    new_rows.push(NewRow {
                        group: id,
                        member,
                        source: Source::Joining,
                    });
                }
                joiners.push(Joiner {
                    group: id,
                    self_kv,
                    cross,
                });
            }
            lane.rebuild(new_rows, &joiners)?;
            drop(joiners);
            for id in &joining {
                if let Some(g) = groups.get_mut(id) {
                    g.joined = true;
                    g.prefill = None;
                    g.cross = None;
                }
            }
            // The rebuilt rows already follow these windows' sources.
            for id in joining.iter().chain(&growing) {
                if let Some(p) = groups.get_mut(id).and_then(|g| g.pending.as_mut()) {
                    p.sources = (0..p.sources.len()).collect();
                }
            }
            state.dirty = false;
        }
        // Beams that swapped places.
        for (id, g) in groups.iter() {
            if let (true, Some(p)) = (g.joined && g.lane == Some(key), &g.pending) {
                lane.reorder(*id, &p.sources)?;
            }
        }
        let batch = lane.rows.len();
        let mut ids = Vec::with_capacity(batch);
        let mut stepped = Vec::with_capacity(batch);
        for row in &lane.rows {
            let token = groups
                .get(&row.group)
                .and_then(|g| g.pending.as_ref())
                .and_then(|p| p.tokens.get(row.member).copied());
            stepped.push(token.is_some());
            ids.push(i64::from(token.unwrap_or(0)));
        }
        let padding = batching.then(|| {
            let positions = lane.rows.iter().map(|r| r.tokens() as i64).collect();
            let mask = lane
                .rows
                .iter()
                .zip(&stepped)
                .flat_map(|(r, &s)| r.mask.iter().copied().chain([i64::from(s)]))
                .collect();
            Padding { positions, mask }
        });
        let encoder = placeholder(dummies, dims.heads * dims.head_dim, lane.t)?;
        let (past, cross) = lane.inputs()?;
        let output = session.run(DecoderFeed {
            ids,
            batch,
            encoder_out: encoder,
            past_self: Some(past),
            cross: Some(cross),
            past_len: lane.len(),
            padding,
        })?;
        let mut out = Vec::new();
        for (id, g) in groups.iter() {
            if g.lane != Some(key) || g.pending.is_none() {
                continue;
            }
            let rows = lane.rows_of(*id);
            let logits = logits_rows(&output.logits, *vocab, rows.iter().map(|&r| (r, 0)))?;
            out.push((*id, logits));
        }
        lane.advance(output.present_self, &stepped);
        Ok(out)
    }

    /// Answers every pending request with [`Error::Closed`].
    fn shut_down(mut self, inbox: &Receiver<DecoderMsg>) {
        let closed = || Err(Error::Closed("engine"));
        for g in self.groups.values_mut() {
            if let Some(p) = g.pending.take() {
                let _ = p.reply.send(closed());
            }
        }
        let waiting = std::mem::take(&mut self.waiting);
        for msg in waiting.into_iter().chain(inbox.try_iter()) {
            match msg {
                DecoderMsg::Prefill { reply, .. } | DecoderMsg::Step { reply, .. } => {
                    let _ = reply.send(closed());
                }
                DecoderMsg::Align { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed("engine")));
                }
                _ => {}
            }
        }
    }
}

/// A zero tensor `[1, t, d]` for `encoder_hidden_states` on calls where the
/// graph ignores it, made once per length.
fn placeholder(dummies: &mut HashMap<usize, DynValue>, d: usize, t: usize) -> Result<&DynValue> {
    match dummies.entry(t) {
        Entry::Occupied(e) => Ok(e.into_mut()),
        Entry::Vacant(e) => {
            let zeros = Tensor::from_array(([1, t, d], vec![0.0f32; t * d]))
                .map_err(inference)?
                .into_dyn();
            Ok(e.insert(zeros))
        }
    }
}

/// Copies logits rows `(sequence, position)` of `[batch, seq, vocab]` logits.
fn logits_rows(
    logits: &DynValue,
    vocab: usize,
    rows: impl Iterator<Item = (usize, usize)>,
) -> Result<Vec<f32>> {
    let (shape, data) = logits.try_extract_tensor::<f32>().map_err(inference)?;
    let (seq, width) = match **shape {
        [_, seq, width] => (seq as usize, width as usize),
        _ => return Err(Error::inference(format!("logits have shape {shape:?}"))),
    };
    if width != vocab {
        return Err(Error::inference(format!(
            "logits have {width} entries; the model's vocabulary has {vocab}"
        )));
    }
    let mut out = Vec::new();
    for (b, p) in rows {
        let start = (b * seq + p) * vocab;
        let row = data
            .get(start..start + vocab)
            .ok_or_else(|| Error::inference(format!("no logits for sequence {b} position {p}")))?;
        out.extend_from_slice(row);
    }
    Ok(out)
}
