//! The decoder's key/value caches for one 30-s window, and the
//! [`TokenDecoder`] that drives the decoder graph with them.
//!
//! The encoder output and the cross-attention cache are computed once per
//! window and passed by reference to every step; the self-attention cache
//! returned by one step is fed back as the next step's past without leaving
//! ONNX Runtime's buffers, except for reordering beams.

use ort::value::{DynValue, Tensor};

use super::decoder::{DecoderFeed, DecoderOutput, DecoderSession};
use super::session::inference;
use crate::decode::TokenDecoder;
use crate::{Error, Result};

/// The encoder output of one window and its cross-attention caches.
pub(crate) struct WindowState {
    encoder_out: DynValue,
    /// Cross-attention cache for one sequence, from the window's first call.
    cross: Option<Vec<DynValue>>,
    /// The same tiled for a batch of several sequences, made once per batch size.
    tiled: Option<(usize, Vec<DynValue>)>,
}

impl WindowState {
    /// A window whose encoder output is `encoder_out`.
    pub(crate) fn new(encoder_out: DynValue) -> Self {
        WindowState {
            encoder_out,
            cross: None,
            tiled: None,
        }
    }

    /// Makes sure the cross-attention cache exists for `batch` sequences.
    fn prepare_cross(&mut self, batch: usize) -> Result<()> {
        let single = self.cross.as_deref().ok_or_else(|| {
            Error::Inference("decoder step before the window's first call".into())
        })?;
        if batch > 1 && self.tiled.as_ref().map(|(n, _)| *n) != Some(batch) {
            let sources = vec![0; batch];
            let tiled = single
                .iter()
                .map(|v| gather(v, &sources))
                .collect::<Result<_>>()?;
            self.tiled = Some((batch, tiled));
        }
        Ok(())
    }

    /// The cross-attention cache for `batch` sequences, once prepared.
    fn cross(&self, batch: usize) -> Option<&[DynValue]> {
        match &self.tiled {
            Some((n, tiled)) if *n == batch && batch > 1 => Some(tiled),
            _ if batch == 1 => self.cross.as_deref(),
            _ => None,
        }
    }
}

/// Rows `sources[0], sources[1], ...` of a `[batch, ...]` tensor as a new tensor.
fn gather(value: &DynValue, sources: &[usize]) -> Result<DynValue> {
    let (shape, data) = value.try_extract_tensor::<f32>().map_err(inference)?;
    let rows = shape.first().copied().unwrap_or(0).max(0) as usize;
    let row = data.len() / rows.max(1);
    let mut out = Vec::with_capacity(row * sources.len());
    for &s in sources {
        let src = data
            .get(s * row..(s + 1) * row)
            .ok_or_else(|| Error::Inference(format!("cache row {s} out of range ({rows} rows)")))?;
        out.extend_from_slice(src);
    }
    let mut dims: Vec<i64> = shape.to_vec();
    match dims.first_mut() {
        Some(batch) => *batch = sources.len() as i64,
        None => return Err(Error::Inference("a cache tensor has no batch axis".into())),
    }
    Tensor::from_array((dims, out))
        .map(|t| t.into_dyn())
        .map_err(inference)
}

/// Reorders the rows of a `[batch, ...]` tensor in place: row `i` becomes old
/// row `sources[i]`. `scratch` is reused between calls.
fn reorder_in_place(value: &mut DynValue, sources: &[usize], scratch: &mut Vec<f32>) -> Result<()> {
    let (_, data) = value.try_extract_tensor_mut::<f32>().map_err(inference)?;
    let row = data.len() / sources.len().max(1);
    scratch.clear();
    scratch.extend_from_slice(data);
    for (i, &s) in sources.iter().enumerate() {
        data[i * row..(i + 1) * row].copy_from_slice(&scratch[s * row..(s + 1) * row]);
    }
    Ok(())
}

/// Drives the decoder over one window with a growing self-attention cache.
pub(crate) struct KvDecoder<'a> {
    session: &'a mut DecoderSession,
    window: &'a mut WindowState,
    self_kv: Vec<DynValue>,
    batch: usize,
    past_len: usize,
    vocab: usize,
    scratch: Vec<f32>,
}

impl<'a> KvDecoder<'a> {
    /// A decoder for `window` whose logits have `vocab` entries.
    pub(crate) fn new(
        session: &'a mut DecoderSession,
        window: &'a mut WindowState,
        vocab: usize,
    ) -> Self {
        KvDecoder {
            session,
            window,
            self_kv: Vec::new(),
            batch: 0,
            past_len: 0,
            vocab,
            scratch: Vec::new(),
        }
    }

    /// Copies logits rows `(sequence, position)` into `out`, one after the other.
    fn copy_rows(
        &self,
        logits: &DynValue,
        rows: impl Iterator<Item = (usize, usize)>,
        out: &mut Vec<f32>,
    ) -> Result<()> {
        let (shape, data) = logits.try_extract_tensor::<f32>().map_err(inference)?;
        let (seq, vocab) = match **shape {
            [_, seq, vocab] => (seq as usize, vocab as usize),
            _ => return Err(Error::Inference(format!("logits have shape {shape:?}"))),
        };
        if vocab != self.vocab {
            return Err(Error::Inference(format!(
                "logits have {vocab} entries; the model's vocabulary has {}",
                self.vocab
            )));
        }
        out.clear();
        for (b, p) in rows {
            let start = (b * seq + p) * vocab;
            let row = data.get(start..start + vocab).ok_or_else(|| {
                Error::Inference(format!("no logits for sequence {b} position {p}"))
            })?;
            out.extend_from_slice(row);
        }
        Ok(())
    }

    fn keep(&mut self, output: DecoderOutput, batch: usize, new_tokens: usize) {
        if let Some(cross) = output.present_cross {
            self.window.cross = Some(cross);
        }
        self.self_kv = output.present_self;
        self.batch = batch;
        self.past_len += new_tokens;
    }

    /// Makes the cache hold, for each new sequence `i`, the cache of old sequence `sources[i]`.
    fn reorder(&mut self, sources: &[usize]) -> Result<()> {
        let identity =
            sources.len() == self.batch && sources.iter().enumerate().all(|(i, &s)| i == s);
        if identity {
            return Ok(());
        }
        if let Some(&bad) = sources.iter().find(|&&s| s >= self.batch) {
            return Err(Error::Inference(format!(
                "sequence {bad} does not exist (batch {})",
                self.batch
            )));
        }
        if sources.len() == self.batch {
            for value in &mut self.self_kv {
                reorder_in_place(value, sources, &mut self.scratch)?;
            }
        } else {
            self.self_kv = self
                .self_kv
                .iter()
                .map(|v| gather(v, sources))
                .collect::<Result<_>>()?;
        }
        self.batch = sources.len();
        Ok(())
    }
}

impl TokenDecoder for KvDecoder<'_> {
    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn prefill(&mut self, prompt: &[u32], positions: &[usize], out: &mut Vec<f32>) -> Result<()> {
        if prompt.is_empty() || positions.iter().any(|&p| p >= prompt.len()) {
            return Err(Error::Inference(
                "prefill needs a prompt that covers the positions".into(),
            ));
        }
        self.self_kv.clear();
        self.past_len = 0;
        let window = &*self.window;
        let feed = DecoderFeed {
            ids: prompt.iter().map(|&t| i64::from(t)).collect(),
            batch: 1,
            encoder_out: &window.encoder_out,
            past_self: None,
            cross: window.cross.as_deref(),
            past_len: 0,
        };
        let output = self.session.run(feed)?;
        self.copy_rows(&output.logits, positions.iter().map(|&p| (0, p)), out)?;
        self.keep(output, 1, prompt.len());
        Ok(())
    }

    fn step(&mut self, tokens: &[u32], sources: &[usize], out: &mut Vec<f32>) -> Result<()> {
        if tokens.len() != sources.len() || tokens.is_empty() {
            return Err(Error::Inference(
                "one source per new token is needed".into(),
            ));
        }
        self.reorder(sources)?;
        let batch = tokens.len();
        self.window.prepare_cross(batch)?;
        let window = &*self.window;
        let feed = DecoderFeed {
            ids: tokens.iter().map(|&t| i64::from(t)).collect(),
            batch,
            encoder_out: &window.encoder_out,
            past_self: Some(&self.self_kv),
            cross: Some(window.cross(batch).ok_or_else(|| {
                Error::Inference("no cross-attention cache for this batch".into())
            })?),
            past_len: self.past_len,
        };
        let output = self.session.run(feed)?;
        self.copy_rows(&output.logits, (0..batch).map(|b| (b, 0)), out)?;
        self.keep(output, batch, 1);
        Ok(())
    }
}
