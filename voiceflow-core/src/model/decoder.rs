//! The decoder graph(s): which inputs and outputs they have, and one run.
//!
//! Both Optimum layouts are supported: the merged decoder (one graph, the
//! branch chosen by `use_cache_branch`) and the split pair (`decoder_model`
//! for the first call, `decoder_with_past_model` afterwards). Names are read
//! from the sessions, not assumed.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor};

use super::session::inference;
use crate::{Error, Result};

/// Key and value of one layer's attention cache.
const KV: [&str; 2] = ["key", "value"];
/// The output with the alignment heads' cross-attention scores
/// `[batch, heads, seq, frames]` (word timestamps), which graphs converted
/// before word timestamps existed lack.
pub(crate) const ALIGNMENT_SCORES: &str = "alignment_scores";

/// Input and output names of one decoder graph.
#[derive(Debug)]
struct DecoderIo {
    input_ids: String,
    encoder_hidden_states: Option<String>,
    use_cache_branch: Option<String>,
    cache_position: Option<String>,
    /// `position_ids` [batch, seq]: each token's absolute position.
    position_ids: Option<String>,
    /// `attention_mask` [batch, past + seq]: 1 for real tokens, 0 for padding.
    attention_mask: Option<String>,
    /// `past_key_values.{i}.decoder.{key,value}`, layer by layer (empty without past).
    past_self: Vec<String>,
    /// `past_key_values.{i}.encoder.{key,value}` (empty without past).
    past_cross: Vec<String>,
    /// Position of `logits` among the outputs.
    logits: usize,
    /// Positions of `present.{i}.decoder.{key,value}`.
    present_self: Vec<usize>,
    /// Positions of `present.{i}.encoder.{key,value}` (empty for decoder_with_past).
    present_cross: Vec<usize>,
    /// Position of [`ALIGNMENT_SCORES`], when the graph has it.
    alignment: Option<usize>,
}

/// What a graph must offer to play its part.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Both branches: past inputs, cross outputs and `use_cache_branch`.
    Merged,
    /// First call only: cross outputs, no past inputs.
    First,
    /// Later calls only: past inputs.
    WithPast,
}

impl DecoderIo {
    fn read(session: &Session, path: &Path, layers: usize, role: Role) -> Result<Self> {
        let malformed = |reason: String| Error::malformed(path, reason);
        let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
        let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        let names = |prefix: &str, kind: &str| -> Vec<String> {
            (0..layers)
                .flat_map(|i| KV.iter().map(move |kv| format!("{prefix}.{i}.{kind}.{kv}")))
                .collect()
        };
        let has_input = |name: &str| inputs.contains(&name);
        let optional = |name: &str| has_input(name).then(|| name.to_string());
        let need_input = |name: String| {
            if has_input(&name) {
                Ok(name)
            } else {
                Err(malformed(format!(
                    "the decoder has no input `{name}` (inputs: {inputs:?})"
                )))
            }
        };
        let need_output = |name: String| {
            outputs.iter().position(|o| *o == name).ok_or_else(|| {
                malformed(format!(
                    "the decoder has no output `{name}` (outputs: {outputs:?})"
                ))
            })
        };
        let with_past = role != Role::First;
        let past_inputs = |kind: &str| -> Result<Vec<String>> {
            if with_past {
                names("past_key_values", kind)
                    .into_iter()
                    .map(&need_input)
                    .collect()
            } else {
                Ok(Vec::new())
            }
        };
        let present_outputs = |kind: &str| -> Result<Vec<usize>> {
            names("present", kind)
                .into_iter()
                .map(&need_output)
                .collect()
        };
        let io = DecoderIo {
            input_ids: need_input("input_ids".into())?,
            encoder_hidden_states: optional("encoder_hidden_states"),
            use_cache_branch: optional("use_cache_branch"),
            cache_position: optional("cache_position"),
            position_ids: optional("position_ids"),
            attention_mask: optional("attention_mask"),
            past_self: past_inputs("decoder")?,
            past_cross: past_inputs("encoder")?,
            logits: need_output("logits".into())?,
            present_self: present_outputs("decoder")?,
            present_cross: if role == Role::WithPast {
                Vec::new()
            } else {
                present_outputs("encoder")?
            },
            alignment: outputs.iter().position(|o| *o == ALIGNMENT_SCORES),
        };
        if role != Role::WithPast && io.encoder_hidden_states.is_none() {
            return Err(malformed(
                "the decoder has no input `encoder_hidden_states`".into(),
            ));
        }
        if role == Role::Merged && io.use_cache_branch.is_none() {
            return Err(malformed(
                "the merged decoder has no input `use_cache_branch`".into(),
            ));
        }
        let known = |name: &str| {
            name == io.input_ids
                || [
                    &io.encoder_hidden_states,
                    &io.use_cache_branch,
                    &io.cache_position,
                    &io.position_ids,
                    &io.attention_mask,
                ]
                .iter()
                .any(|o| o.as_deref() == Some(name))
                || io.past_self.iter().chain(&io.past_cross).any(|n| n == name)
        };
        if let Some(unknown) = inputs.iter().find(|n| !known(n)) {
            return Err(malformed(format!(
                "the decoder has an input `{unknown}` this engine cannot feed"
            )));
        }
        Ok(io)
    }
}

/// The error of word timestamps asked of a model whose decoder `graph` has
/// no [`ALIGNMENT_SCORES`] output: it says to re-convert the model.
pub(crate) fn no_word_timestamps(graph: &Path) -> Error {
    Error::ModelLacksFeature {
        path: graph.to_path_buf(),
        feature: "word timestamps",
        reason: format!(
            "the decoder has no `{ALIGNMENT_SCORES}` output (a model converted before word \
             timestamps existed, or exported by another tool); re-convert it with \
             scripts/convert_ct2_to_onnx.py"
        ),
    }
}

/// One decoder graph with its names.
struct Graph {
    session: Session,
    io: DecoderIo,
    path: PathBuf,
}

/// What one decoder call is given. Caches hold `2 × layers` values in the
/// order key, value of layer 0, key, value of layer 1, ...
pub(crate) struct DecoderFeed<'a> {
    /// Token ids, `batch × seq`, row-major.
    pub ids: Vec<i64>,
    /// Number of sequences.
    pub batch: usize,
    /// The window's encoder output (first call of a window; any tensor of
    /// the right rank on later calls, where the graph ignores it).
    pub encoder_out: &'a DynValue,
    /// The self-attention cache `[batch, heads, past_len, head_dim]`, or
    /// `None` for an empty one.
    pub past_self: Option<Vec<SessionInputValue<'a>>>,
    /// The cross-attention cache, or `None` for the first call of a window.
    pub cross: Option<Vec<SessionInputValue<'a>>>,
    /// Columns already in the self-attention cache.
    pub past_len: usize,
    /// Per row, where its tokens sit and which cache columns it may see:
    /// `None` means positions `past_len..` and every column (rows of equal
    /// length). Needs [`DecoderSession::pads`].
    pub padding: Option<Padding>,
}

impl<'a> DecoderFeed<'a> {
    /// One sequence of `tokens` from position 0 with an empty self-attention
    /// cache: a window's prefill (`cross` is `None` on its first call) or a
    /// sequence re-run alone over its window's cross-attention cache.
    pub(crate) fn single_row(
        tokens: &[u32],
        encoder_out: &'a DynValue,
        cross: Option<Vec<SessionInputValue<'a>>>,
    ) -> Self {
        DecoderFeed {
            ids: tokens.iter().map(|&t| i64::from(t)).collect(),
            batch: 1,
            encoder_out,
            past_self: None,
            cross,
            past_len: 0,
            padding: None,
        }
    }
}

/// Positions and attention mask of rows whose caches have different lengths
/// (left-padded to a common `past_len`).
pub(crate) struct Padding {
    /// `[batch, seq]` absolute positions.
    pub positions: Vec<i64>,
    /// `[batch, past_len + seq]`: 1 where the row has a token, 0 for padding.
    pub mask: Vec<i64>,
}

/// What one decoder call returns.
pub(crate) struct DecoderOutput {
    /// `[batch, seq, vocab]`.
    pub logits: DynValue,
    /// The self-attention cache including this call's tokens.
    pub present_self: Vec<DynValue>,
    /// The cross-attention cache, on the first call of a window only.
    pub present_cross: Option<Vec<DynValue>>,
    /// The alignment heads' cross-attention scores, when the graph has them.
    pub alignment: Option<DynValue>,
}

impl Graph {
    fn run(
        &mut self,
        feed: DecoderFeed<'_>,
        empty: &DynValue,
        use_cache: &DynValue,
    ) -> Result<DecoderOutput> {
        let Graph { session, io, .. } = self;
        let seq = feed.ids.len() / feed.batch.max(1);
        let ids = Tensor::from_array(([feed.batch, seq], feed.ids)).map_err(inference)?;
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            Vec::with_capacity(6 + io.past_self.len() + io.past_cross.len());
        inputs.push((io.input_ids.as_str().into(), ids.into()));
        if let Some(name) = &io.encoder_hidden_states {
            inputs.push((name.as_str().into(), feed.encoder_out.into()));
        }
        if let Some(name) = &io.use_cache_branch {
            inputs.push((name.as_str().into(), use_cache.into()));
        }
        if let (Some(position_ids), Some(attention_mask)) = (&io.position_ids, &io.attention_mask) {
            let total = feed.past_len + seq;
            let Padding { positions, mask } = feed.padding.unwrap_or_else(|| Padding {
                positions: (0..feed.batch)
                    .flat_map(|_| (feed.past_len..total).map(|p| p as i64))
                    .collect(),
                mask: vec![1; feed.batch * total],
            });
            let positions =
                Tensor::from_array(([feed.batch, seq], positions)).map_err(inference)?;
            let mask = Tensor::from_array(([feed.batch, total], mask)).map_err(inference)?;
            inputs.push((position_ids.as_str().into(), positions.into()));
            inputs.push((attention_mask.as_str().into(), mask.into()));
        } else if feed.padding.is_some() {
            return Err(Error::inference(
                "this decoder has no position_ids/attention_mask inputs for padded rows",
            ));
        }
        if let Some(name) = &io.cache_position {
            let positions: Vec<i64> = (feed.past_len..feed.past_len + seq)
                .map(|p| p as i64)
                .collect();
            let positions = Tensor::from_array(([seq], positions)).map_err(inference)?;
            inputs.push((name.as_str().into(), positions.into()));
        }
        let first = feed.cross.is_none();
        let mut past_self = feed.past_self.map(Vec::into_iter);
        for name in &io.past_self {
            let value = past_self
                .as_mut()
                .and_then(Iterator::next)
                .unwrap_or_else(|| empty.into());
            inputs.push((name.as_str().into(), value));
        }
        let mut cross = feed.cross.map(Vec::into_iter);
        for name in &io.past_cross {
            let value = cross
                .as_mut()
                .and_then(Iterator::next)
                .unwrap_or_else(|| empty.into());
            inputs.push((name.as_str().into(), value));
        }
        let outputs = session.run(inputs).map_err(inference)?;
        let mut values: Vec<Option<DynValue>> = outputs.into_iter().map(|(_, v)| Some(v)).collect();
        let mut take = |i: usize| {
            values
                .get_mut(i)
                .and_then(Option::take)
                .ok_or_else(|| Error::inference(format!("decoder output {i} is missing")))
        };
        let logits = take(io.logits)?;
        let present_self = io
            .present_self
            .iter()
            .map(|&i| take(i))
            .collect::<Result<_>>()?;
        let present_cross = if first && !io.present_cross.is_empty() {
            Some(
                io.present_cross
                    .iter()
                    .map(|&i| take(i))
                    .collect::<Result<_>>()?,
            )
        } else {
            None
        };
        let alignment = io.alignment.map(&mut take).transpose()?;
        Ok(DecoderOutput {
            logits,
            present_self,
            present_cross,
            alignment,
        })
    }
}

/// The model's decoder, in either layout.
pub(crate) struct DecoderSession {
    /// The graph of a window's first call (the merged graph, or decoder_model).
    first: Graph,
    /// decoder_with_past_model for later calls; `None` when `first` is merged.
    with_past: Option<Graph>,
    /// An empty cache entry `[1, heads, 0, head_dim]`.
    empty: DynValue,
    use_cache_true: DynValue,
    use_cache_false: DynValue,
}

/// The files and loaded sessions of a decoder, as [`DecoderSession::new`] takes them.
pub(crate) enum DecoderSessions {
    /// A merged decoder and its file.
    Merged(Session, PathBuf),
    /// The decoder without and with past, and their files.
    Split {
        /// The decoder without past.
        first: (Session, PathBuf),
        /// The decoder with past.
        with_past: (Session, PathBuf),
    },
}

impl DecoderSession {
    /// Checks the graphs' inputs and outputs for a decoder of `layers` layers
    /// with `heads` heads of `head_dim`.
    pub(crate) fn new(
        sessions: DecoderSessions,
        layers: usize,
        heads: usize,
        head_dim: usize,
    ) -> Result<Self> {
        let graph = |(session, path): (Session, PathBuf), role| {
            let io = DecoderIo::read(&session, &path, layers, role)?;
            Ok::<_, Error>(Graph { session, io, path })
        };
        let (first, with_past) = match sessions {
            DecoderSessions::Merged(session, path) => (graph((session, path), Role::Merged)?, None),
            DecoderSessions::Split { first, with_past } => (
                graph(first, Role::First)?,
                Some(graph(with_past, Role::WithPast)?),
            ),
        };
        let flag = |b: bool| {
            Tensor::from_array(([1usize], vec![b]))
                .map(|t| t.into_dyn())
                .map_err(inference)
        };
        Ok(DecoderSession {
            first,
            with_past,
            empty: Tensor::from_array(([1, heads, 0, head_dim], Vec::<f32>::new()))
                .map_err(inference)?
                .into_dyn(),
            use_cache_true: flag(true)?,
            use_cache_false: flag(false)?,
        })
    }

    /// Whether the graphs take `position_ids` and `attention_mask`, so rows
    /// of different lengths can share one run ([`DecoderFeed::padding`]).
    pub(crate) fn pads(&self) -> bool {
        let io = |g: &Graph| g.io.position_ids.is_some() && g.io.attention_mask.is_some();
        io(&self.first) && self.with_past.as_ref().is_none_or(io)
    }

    /// The graph that runs calls given a cross-attention cache (those after
    /// a window's first, and [`crate::decode::TokenDecoder::align`]) when it
    /// does not return the alignment heads' scores: no word timestamps.
    pub(crate) fn lacks_alignment(&self) -> Option<&Path> {
        let graph = self.with_past.as_ref().unwrap_or(&self.first);
        graph.io.alignment.is_none().then_some(graph.path.as_path())
    }

    /// Runs the decoder. Without `feed.cross` this is a window's first call,
    /// which also returns the cross-attention cache.
    pub(crate) fn run(&mut self, feed: DecoderFeed<'_>) -> Result<DecoderOutput> {
        let first = feed.cross.is_none();
        let flag = if first {
            &self.use_cache_false
        } else {
            &self.use_cache_true
        };
        let graph = match &mut self.with_past {
            Some(with_past) if !first => with_past,
            _ => &mut self.first,
        };
        let out = graph.run(feed, &self.empty, flag)?;
        if first && out.present_cross.is_none() {
            return Err(Error::inference(
                "the decoder returned no cross-attention cache",
            ));
        }
        Ok(out)
    }
}
