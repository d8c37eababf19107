//! A lane: the decoder batch of every window whose cross-attention cache has
//! the same length. Row `i` of the batch is one sequence (a greedy decode, a
//! beam, a sample) of some window ("group").
//!
//! - The cross-attention caches live in arenas, one per layer and key/value,
//!   row after row, so the batch's `[rows, heads, T, head_dim]` input is a
//!   view of the arena's first rows: nothing is copied per step. A row is
//!   copied only when a window joins (its cache goes in), when a window's row
//!   count grows (beam search and sampling start from one row), and when a
//!   row moves down to fill the place of a window that left.
//! - The self-attention caches are the previous step's outputs
//!   `[rows, heads, L, head_dim]`, fed back as they are. Rows are aligned on
//!   their newest column: a row with fewer tokens is padded on the left, and
//!   its `mask` says which of the `L` columns hold its tokens (the decoder's
//!   `attention_mask`); its position is the number of its tokens. A row that
//!   skips a step (its caller was late) gets a masked column.
//! - When windows join or leave, the self-attention caches are gathered into
//!   new tensors and columns no row uses any more are dropped.

use ort::session::SessionInputValue;
use ort::value::{DynValue, Tensor, TensorRef};

use crate::model::session::inference;
use crate::{Error, Result};

/// Cache geometry of the decoder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheDims {
    /// Decoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Size of each head.
    pub head_dim: usize,
}

impl CacheDims {
    /// Cache tensors per sequence: key and value of every layer.
    pub(crate) fn tensors(&self) -> usize {
        2 * self.layers
    }
}

/// One sequence in the batch.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The window it belongs to.
    pub group: u64,
    /// Its index among the window's sequences.
    pub member: usize,
    /// Per column of the self-attention cache: 1 when it holds one of this
    /// row's tokens.
    pub mask: Vec<i64>,
}

impl Row {
    /// Tokens in the row's cache (its next position).
    pub(crate) fn tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m == 1).count()
    }
}

/// Columns a mask needs once its leading padding is dropped.
fn used_columns(mask: &[i64]) -> usize {
    mask.len() - mask.iter().take_while(|&&m| m == 0).count()
}

/// Where a row of the rebuilt batch takes its caches from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Row `i` of the current batch.
    Row(usize),
    /// The window's own prefill (one row) and cross cache.
    Joining,
}

/// A row of the rebuilt batch.
pub(crate) struct NewRow {
    /// The window.
    pub group: u64,
    /// Its index among the window's sequences.
    pub member: usize,
    /// Where its self-attention cache comes from.
    pub source: Source,
}

/// What a joining window brings: its prefill's self-attention cache
/// `[1, heads, P, head_dim]` and its cross-attention cache `[1, heads, T, head_dim]`.
pub(crate) struct Joiner<'a> {
    /// The window.
    pub group: u64,
    /// Self-attention cache from the prefill.
    pub self_kv: &'a [DynValue],
    /// Cross-attention cache.
    pub cross: &'a [DynValue],
}

/// The batch of one cross-attention length.
pub(crate) struct Lane {
    dims: CacheDims,
    /// Encoder positions of every window in the lane.
    pub t: usize,
    cross: Vec<Vec<f32>>,
    /// The sequences, in batch order.
    pub rows: Vec<Row>,
    self_kv: Vec<DynValue>,
    /// Columns of the self-attention cache.
    len: usize,
}

fn f32s(value: &DynValue) -> Result<&[f32]> {
    value
        .try_extract_tensor::<f32>()
        .map(|(_, data)| data)
        .map_err(inference)
}

impl Lane {
    /// An empty lane for windows with `t` encoder positions.
    pub(crate) fn new(dims: CacheDims, t: usize) -> Self {
        Lane {
            dims,
            t,
            cross: vec![Vec::new(); dims.tensors()],
            rows: Vec::new(),
            self_kv: Vec::new(),
            len: 0,
        }
    }

    fn row_len(&self) -> usize {
        self.dims.heads * self.t * self.dims.head_dim
    }

    /// Columns of the self-attention cache.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Rows of `group`, in member order.
    pub(crate) fn rows_of(&self, group: u64) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.rows[i].group == group)
            .collect();
        rows.sort_by_key(|&i| self.rows[i].member);
        rows
    }

    /// A copy of `group`'s cross-attention cache `[1, heads, T, head_dim]`
    /// (for its next prefill once it leaves the lane).
    pub(crate) fn cross_of(&self, group: u64) -> Result<Vec<DynValue>> {
        let row = *self
            .rows_of(group)
            .first()
            .ok_or_else(|| Error::inference(format!("window {group} has no row")))?;
        let n = self.row_len();
        let shape = [1, self.dims.heads, self.t, self.dims.head_dim];
        self.cross
            .iter()
            .map(|arena| {
                Tensor::from_array((shape, arena[row * n..(row + 1) * n].to_vec()))
                    .map(|t| t.into_dyn())
                    .map_err(inference)
            })
            .collect()
    }

    /// Reorders `group`'s rows in place: its member `i` takes the cache of
    /// its member `sources[i]` (beam search). Cross caches are equal within a
    /// window, so only the self-attention cache and masks move.
    pub(crate) fn reorder(&mut self, group: u64, sources: &[usize]) -> Result<()> {
        let rows = self.rows_of(group);
        if sources.len() != rows.len() || sources.iter().any(|&s| s >= rows.len()) {
            return Err(Error::inference(format!(
                "window {group}: sources {sources:?} for {} rows",
                rows.len()
            )));
        }
        if sources.iter().enumerate().all(|(i, &s)| i == s) {
            return Ok(());
        }
        let masks: Vec<Vec<i64>> = sources
            .iter()
            .map(|&s| self.rows[rows[s]].mask.clone())
            .collect();
        for (&r, mask) in rows.iter().zip(masks) {
            self.rows[r].mask = mask;
        }
        let per_row = self.dims.heads * self.len * self.dims.head_dim;
        let mut scratch = Vec::with_capacity(rows.len() * per_row);
        for value in &mut self.self_kv {
            let (_, data) = value.try_extract_tensor_mut::<f32>().map_err(inference)?;
            scratch.clear();
            for &r in &rows {
                scratch.extend_from_slice(&data[r * per_row..(r + 1) * per_row]);
            }
            for (i, &s) in sources.iter().enumerate() {
                let r = rows[i];
                data[r * per_row..(r + 1) * per_row]
                    .copy_from_slice(&scratch[s * per_row..(s + 1) * per_row]);
            }
        }
        Ok(())
    }

    /// Replaces the batch by `new_rows`. Rows keep their place where they
    /// can; the cross caches of rows that move or join are copied in.
    pub(crate) fn rebuild(&mut self, new_rows: Vec<NewRow>, joiners: &[Joiner<'_>]) -> Result<()> {
        let joiner = |group: u64| {
            joiners
                .iter()
                .find(|j| j.group == group)
                .ok_or_else(|| Error::inference(format!("window {group} is not joining")))
        };
        // Place rows: a row that comes from row i keeps place i when it can.
        let n = new_rows.len();
        let mut slots: Vec<Option<usize>> = vec![None; n];
        let mut placed = vec![false; n];
        for (k, row) in new_rows.iter().enumerate() {
            if let Source::Row(i) = row.source {
                if i < n && slots[i].is_none() && self.rows[i].group == row.group {
                    slots[i] = Some(k);
                    placed[k] = true;
                }
            }
        }
        let free_slots: Vec<usize> = (0..n).filter(|&i| slots[i].is_none()).collect();
        let mut free = free_slots.into_iter();
        for (k, _) in placed.iter().enumerate().filter(|(_, &done)| !done) {
            {
                let slot = free
                    .next()
                    .ok_or_else(|| Error::inference("no room for a row"))?;
                slots[slot] = Some(k);
            }
        }
        let order: Vec<&NewRow> = slots
            .iter()
            .map(|s| s.map(|k| &new_rows[k]))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::inference("a row has no place"))?;

        self.rebuild_cross(&order, &joiner)?;
        self.rebuild_self(&order, &joiner)?;
        Ok(())
    }

    fn rebuild_cross<'j>(
        &mut self,
        order: &[&NewRow],
        joiner: &dyn Fn(u64) -> Result<&'j Joiner<'j>>,
    ) -> Result<()> {
        let n = self.row_len();
        let old_rows = self.rows.len();
        let holds = |slot: usize, group: u64| slot < old_rows && self.rows[slot].group == group;
        // Each window that needs copies takes them from one source: a row of
        // its own that stays where it is, or else a stash taken before any
        // write, or its own cache when it joins.
        let mut stash: Vec<(u64, Vec<Vec<f32>>)> = Vec::new();
        let mut source_row: Vec<(u64, usize)> = Vec::new();
        for (slot, row) in order.iter().enumerate() {
            if holds(slot, row.group) || stash.iter().any(|(g, _)| *g == row.group) {
                continue;
            }
            if source_row.iter().any(|(g, _)| *g == row.group) {
                continue;
            }
            let staying = order
                .iter()
                .enumerate()
                .find(|(s, r)| r.group == row.group && holds(*s, row.group))
                .map(|(s, _)| s);
            match (staying, row.source) {
                (Some(s), _) => source_row.push((row.group, s)),
                (None, Source::Row(_)) => {
                    let old = (0..old_rows)
                        .find(|&i| self.rows[i].group == row.group)
                        .ok_or_else(|| Error::inference("moved row has no source"))?;
                    let copy = self
                        .cross
                        .iter()
                        .map(|a| a[old * n..(old + 1) * n].to_vec())
                        .collect();
                    stash.push((row.group, copy));
                }
                (None, Source::Joining) => {
                    let j = joiner(row.group)?;
                    let copy = j
                        .cross
                        .iter()
                        .map(|v| f32s(v).map(<[f32]>::to_vec))
                        .collect::<Result<_>>()?;
                    stash.push((row.group, copy));
                }
            }
        }
        for arena in &mut self.cross {
            arena.resize(order.len() * n, 0.0);
        }
        for (slot, row) in order.iter().enumerate() {
            if holds(slot, row.group) {
                continue;
            }
            if let Some((_, copy)) = stash.iter().find(|(g, _)| *g == row.group) {
                for (arena, part) in self.cross.iter_mut().zip(copy) {
                    arena[slot * n..(slot + 1) * n].copy_from_slice(part);
                }
            } else if let Some(&(_, s)) = source_row.iter().find(|(g, _)| *g == row.group) {
                for arena in &mut self.cross {
                    arena.copy_within(s * n..(s + 1) * n, slot * n);
                }
            }
        }
        for arena in &mut self.cross {
            if arena.capacity() > 2 * arena.len() {
                arena.shrink_to_fit();
            }
        }
        Ok(())
    }

    fn rebuild_self<'j>(
        &mut self,
        order: &[&NewRow],
        joiner: &dyn Fn(u64) -> Result<&'j Joiner<'j>>,
    ) -> Result<()> {
        let (heads, hd) = (self.dims.heads, self.dims.head_dim);
        // Each new row's tokens, right-aligned: (mask, source length, source).
        let mut masks = Vec::with_capacity(order.len());
        for row in order {
            masks.push(match row.source {
                Source::Row(i) => self.rows[i].mask.clone(),
                Source::Joining => {
                    let (shape, _) = joiner(row.group)?.self_kv[0]
                        .try_extract_tensor::<f32>()
                        .map_err(inference)?;
                    vec![1; shape[2].max(0) as usize]
                }
            });
        }
        let len = masks.iter().map(|m| used_columns(m)).max().unwrap_or(0);
        let mut tensors = Vec::with_capacity(self.dims.tensors());
        for t in 0..self.dims.tensors() {
            let mut data = vec![0.0f32; order.len() * heads * len * hd];
            for (slot, row) in order.iter().enumerate() {
                let (src, src_row, src_len) = match row.source {
                    Source::Row(i) => (f32s(&self.self_kv[t])?, i, self.len),
                    Source::Joining => {
                        let v = &joiner(row.group)?.self_kv[t];
                        (f32s(v)?, 0, masks[slot].len())
                    }
                };
                let keep = len.min(src_len);
                for h in 0..heads {
                    let from = ((src_row * heads + h) * src_len + (src_len - keep)) * hd;
                    let to = ((slot * heads + h) * len + (len - keep)) * hd;
                    data[to..to + keep * hd].copy_from_slice(&src[from..from + keep * hd]);
                }
            }
            tensors.push(
                Tensor::from_array(([order.len(), heads, len, hd], data))
                    .map_err(inference)?
                    .into_dyn(),
            );
        }
        self.rows = order
            .iter()
            .zip(masks)
            .map(|(row, mask)| {
                let keep = len.min(mask.len());
                let mut padded = vec![0; len - keep];
                padded.extend_from_slice(&mask[mask.len() - keep..]);
                Row {
                    group: row.group,
                    member: row.member,
                    mask: padded,
                }
            })
            .collect();
        self.self_kv = tensors;
        self.len = len;
        Ok(())
    }

    /// The batch's caches as decoder inputs: self-attention (the last
    /// outputs) and views of the cross arenas.
    pub(crate) fn inputs(
        &self,
    ) -> Result<(Vec<SessionInputValue<'_>>, Vec<SessionInputValue<'_>>)> {
        let b = self.rows.len();
        let shape = [b, self.dims.heads, self.t, self.dims.head_dim];
        let n = self.row_len();
        let cross = self
            .cross
            .iter()
            .map(|arena| {
                TensorRef::from_array_view((shape, &arena[..b * n]))
                    .map(SessionInputValue::from)
                    .map_err(inference)
            })
            .collect::<Result<_>>()?;
        let past = self.self_kv.iter().map(SessionInputValue::from).collect();
        Ok((past, cross))
    }

    /// Takes the step's self-attention outputs; `stepped[i]` says whether
    /// row `i` took a token (else its new column is masked).
    pub(crate) fn advance(&mut self, present: Vec<DynValue>, stepped: &[bool]) {
        for (row, &took) in self.rows.iter_mut().zip(stepped) {
            row.mask.push(i64::from(took));
        }
        self.self_kv = present;
        self.len += 1;
    }
}
