"""Whisper encoder and decoder graphs in the Hugging Face Optimum ONNX layout.

Weights become initializers named after their CTranslate2 variables with `/` replaced by `.`.
Linear weights are stored transposed ([in, out]) for MatMul; the query rows of every attention
projection are pre-multiplied by 1/√head_dim (exact for head_dim 64), so no score scaling is left
in the graph. The tied token embedding is one initializer used by both the Gather and the output
projection (float32 E [vocab, d]; in int8 mode Eᵀ [d, vocab] with one scale per token).

The decoder body is written once (`_decoder_body`) and wired two ways:
- without past: cross-attention K/V come from `encoder_hidden_states`, the cache starts empty;
- with past: cross K/V come from `past_key_values.{i}.encoder.*`, new self-attention K/V are
  appended to `past_key_values.{i}.decoder.*`.
`decoder_model_merged.onnx` puts both wirings in the branches of one `If`, followed by the output
projection (shared by both, so ONNX Runtime prepares its weight once); `--split` writes them as
`decoder_model.onnx` and `decoder_with_past_model.onnx`.

Token inputs of every decoder graph (batch B, this call's tokens S, cache columns P):
- `input_ids` int64 [B, S]: the tokens.
- `position_ids` int64 [B, S]: each token's position in its own sequence, the row of the learned
  position table (0..447) added to its embedding. A row's positions need not match its physical
  cache column: left padding and dead columns shift the physical index, not the position.
- `attention_mask` int64 [B, P + S] (`total_decoder_sequence_length`): per row and key column of
  the cache followed by this call's tokens, 1 where it holds a real token of that row and 0 for
  padding or a dead column, never attended. The query at physical column P+i sees columns
  0..P+i (causal) whose mask is not 0; cross-attention is not masked. A query that sees no
  column (a left-padding position of a prompt) gets a finite output that nothing should read.
One row alone: positions P..P+S-1 and a mask of ones. Rows of different lengths in one call:
left-pad each row's cache (zeros) and tokens (any id) to a common P and S, mask 0 there, and
give each token its true position; each row gets the logits it gets alone (up to float32
summation order).

Driving decoder_model_merged.onnx (H heads, L layers, head size 64):
- first call: `use_cache_branch` [false], the prompt as `input_ids` with its positions and mask,
  the encoder output, and every `past_key_values.*` as zeros [batch, H, 0, 64]. Keep
  `present.{i}.encoder.*` ([batch, H, frames/2, 64]) for the whole window, and
  `present.{i}.decoder.*` as the self-attention cache.
- later calls: `use_cache_branch` [true], the new token(s), `past_key_values.{i}.decoder.*` = the
  last `present.{i}.decoder.*` (this call's K/V are appended as its last S columns),
  `past_key_values.{i}.encoder.*` = the kept cross K/V, and the same `encoder_hidden_states`
  (unused on this branch). `present.{i}.encoder.*` come back empty ([0, H, 1, 64]).
- the cache branch also accepts an empty self-attention cache (past length 0) with a whole prompt,
  given cross K/V from an earlier call, so one window's cross K/V can seed several prompts.

Word timestamps: when the CTranslate2 config names `alignment_heads` ([layer, head] pairs), every
decoder graph (both branches of the merged one) also outputs `alignment_scores` float32
[batch, alignment heads, seq, frames/2]: the cross-attention scores q·kᵀ/√head_dim of those heads,
in the config's order, before the softmax, for this call's tokens. The caller takes the softmax
over the frames that hold audio (openai's `find_alignment`), which a graph output already
normalised over all 1500 frames could not give. They come from the attention the decoder
computes anyway; no weight is added (one extra output of ≤ 48 KB per row and token).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .ct2_reader import Ct2Model
from .onnx_graph import (
    MS_DOMAIN,
    GraphBuilder,
    Initializers,
    attention,
    attention_with_scores,
    gelu,
    layer_norm,
    linear,
    make_model,
    merge_heads,
    split_heads,
    tensor_info,
)
from .whisper_spec import WhisperDims

PRODUCER = "voiceflow convert_ct2_to_onnx"
EMBEDDING = "decoder.embeddings.weight"  # float32 mode only: the table E [vocab, d]
# int8 mode only: Eᵀ [d, vocab] in int8 with one scale per token, for the output layer and the
# embedding Gather alike (one 20-50 MB table instead of a float32 E beside an int8 Eᵀ).
PROJECTION = "decoder.projection.weight"
# Dynamic dims of the encoder window: mel frames in, frames/2 states out (the cross K/V length).
ENCODER_FRAMES = "encoder_sequence_length"
ENCODER_STATES = "encoder_sequence_length_out"
# Output with the cross-attention scores of the alignment heads (word timestamps).
ALIGNMENT_SCORES = "alignment_scores"

# ---------------------------------------------------------------------------------------------
# Weights


def _onnx_name(ct2_name: str) -> str:
    return ct2_name.replace("/", ".")


def _add_linear(inits: Initializers, model: Ct2Model, ct2_prefix: str, query_rows: int = 0,
                query_scale: float = 1.0) -> None:
    """Add `{prefix}.weight` as [in, out] and `{prefix}.bias`; scale the first `query_rows` rows."""
    weight = model.tensor(ct2_prefix + "/weight")
    bias = model.tensor(ct2_prefix + "/bias")
    if query_rows:
        row_scale = np.ones(weight.shape[0], np.float32)
        row_scale[:query_rows] = query_scale
        weight = weight * row_scale[:, None]
        bias = bias * row_scale
    inits.add_matmul_weight(_onnx_name(ct2_prefix) + ".weight", weight.T)
    inits.add(_onnx_name(ct2_prefix) + ".bias", bias)


def _add_layer_norm(inits: Initializers, model: Ct2Model, ct2_prefix: str) -> None:
    for part in ("gamma", "beta"):
        inits.add(_onnx_name(f"{ct2_prefix}/{part}"), model.tensor(f"{ct2_prefix}/{part}"))


def _add_layer_weights(inits: Initializers, model: Ct2Model, dims: WhisperDims, stack: str,
                       index: int, cross_kv_projection: bool = True) -> None:
    """Add the weights of layer `index` of `stack` ("encoder" or "decoder")."""
    d, scale = dims.d_model, dims.head_dim ** -0.5
    base = f"{stack}/layer_{index}"
    _add_layer_norm(inits, model, f"{base}/self_attention/layer_norm")
    _add_linear(inits, model, f"{base}/self_attention/linear_0", query_rows=d, query_scale=scale)
    _add_linear(inits, model, f"{base}/self_attention/linear_1")
    if stack == "decoder":
        _add_layer_norm(inits, model, f"{base}/attention/layer_norm")
        _add_linear(inits, model, f"{base}/attention/linear_0", query_rows=d, query_scale=scale)
        if cross_kv_projection:
            _add_linear(inits, model, f"{base}/attention/linear_1")
        _add_linear(inits, model, f"{base}/attention/linear_2")
    _add_layer_norm(inits, model, f"{base}/ffn/layer_norm")
    _add_linear(inits, model, f"{base}/ffn/linear_0")
    _add_linear(inits, model, f"{base}/ffn/linear_1")


# ---------------------------------------------------------------------------------------------
# Encoder


def build_encoder(model: Ct2Model, dims: WhisperDims, int8: bool = False) -> onnx.ModelProto:
    """`input_features` [batch, n_mels, frames] -> `last_hidden_state` [batch, frames/2, d_model]
    for an even number of frames up to 3000 (30 s): a shorter window, like whisper.cpp's
    `audio_ctx`, takes the first frames/2 learned positions."""
    inits = Initializers(int8_matmul_weights=int8)
    for conv in ("conv1", "conv2"):
        for part in ("weight", "bias"):
            inits.add(f"encoder.{conv}.{part}", model.tensor(f"encoder/{conv}/{part}"))
    inits.add("encoder.position_encodings", model.tensor("encoder/position_encodings/encodings"))
    for i in range(dims.encoder_layers):
        _add_layer_weights(inits, model, dims, "encoder", i)
    _add_layer_norm(inits, model, "encoder/layer_norm")

    g = GraphBuilder(inits)
    x = "input_features"
    for conv, stride in (("conv1", 1), ("conv2", 2)):
        x = g.op("Conv", [x, f"encoder.{conv}.weight", f"encoder.{conv}.bias"],
                 kernel_shape=[3], pads=[1, 1], strides=[stride])
        x = gelu(g, x)
    # The first frames/2 learned positions (all 1500 for a 30 s window).
    positions = g.op("Slice", ["encoder.position_encodings", g.i64(0),
                               g.op("Shape", [x], start=2, end=3), g.i64(0)])
    x = g.op("Add", [g.op("Transpose", [x], perm=[0, 2, 1]), positions])
    for i in range(dims.encoder_layers):
        base = f"encoder.layer_{i}"
        x = g.op("Add", [x, _self_attention(g, x, dims, f"{base}.self_attention")])
        x = g.op("Add", [x, _feed_forward(g, x, f"{base}.ffn")])
    layer_norm(g, x, "encoder.layer_norm", output="last_hidden_state")

    graph = helper.make_graph(
        g.nodes,
        "whisper_encoder",
        [tensor_info("input_features", TensorProto.FLOAT,
                     ["batch_size", dims.n_mels, ENCODER_FRAMES])],
        [tensor_info("last_hidden_state", TensorProto.FLOAT,
                     ["batch_size", ENCODER_STATES, dims.d_model])],
        list(inits.tensors.values()),
    )
    return make_model(graph, PRODUCER)


def _self_attention(g: GraphBuilder, x: str, dims: WhisperDims, prefix: str) -> str:
    """Non-causal self-attention of the encoder (pre-LN, fused QKV projection, ORT's
    com.microsoft MultiHeadAttention with scale 1 as the queries are pre-scaled)."""
    h, d = dims.encoder_heads, dims.d_model
    qkv = linear(g, layer_norm(g, x, f"{prefix}.layer_norm"),
                 f"{prefix}.linear_0.weight", f"{prefix}.linear_0.bias")
    q, k, v = g.op("Split", [qkv, g.i64(d, d, d)], num_outputs=3, axis=-1)
    # ORT's fused kernel (tiled "flash" attention on CPU) never holds the [heads, 1500, 1500]
    # scores and probabilities that MatMul/Softmax materialize: for tiny.en the encoder run
    # peaks ~60 MB lower and runs ~10 % faster, with the same accuracy against CT2.
    out = g.op("MultiHeadAttention", [q, k, v], domain=MS_DOMAIN, num_heads=h, scale=1.0)
    return linear(g, out, f"{prefix}.linear_1.weight", f"{prefix}.linear_1.bias")


def _feed_forward(g: GraphBuilder, x: str, prefix: str) -> str:
    h = layer_norm(g, x, f"{prefix}.layer_norm")
    h = gelu(g, linear(g, h, f"{prefix}.linear_0.weight", f"{prefix}.linear_0.bias"))
    return linear(g, h, f"{prefix}.linear_1.weight", f"{prefix}.linear_1.bias")


# ---------------------------------------------------------------------------------------------
# Decoder


@dataclass
class _DecoderOutputs:
    """Value names produced by one wiring of the decoder body."""

    states: str  # the final layer-normed states [batch, seq, d]; `_tied_logits` projects them
    self_kv: list[tuple[str, str]]  # per layer: present self-attention (key, value)
    cross_kv: list[tuple[str, str]]  # per layer: cross-attention (key, value)
    alignment: str | None  # scores of the alignment heads, None without heads


def _kv_names(prefix: str, layers: int, kind: str) -> list[tuple[str, str]]:
    return [(f"{prefix}.{i}.{kind}.key", f"{prefix}.{i}.{kind}.value") for i in range(layers)]


def _add_decoder_weights(inits: Initializers, model: Ct2Model, dims: WhisperDims,
                         cross_kv_projection: bool = True) -> None:
    """Add the decoder initializers; the cross K/V projection only where a wiring computes it.
    In int8 mode the embedding is stored once, transposed and quantized (PROJECTION)."""
    embedding = model.tensor("decoder/embeddings/weight")
    if inits.int8_matmul_weights:
        inits.add_matmul_weight(PROJECTION, embedding.T)
    else:
        inits.add(EMBEDDING, embedding)
    inits.add("decoder.position_encodings", model.tensor("decoder/position_encodings/encodings"))
    for i in range(dims.decoder_layers):
        _add_layer_weights(inits, model, dims, "decoder", i, cross_kv_projection)
    _add_layer_norm(inits, model, "decoder/layer_norm")


def _embed(g: GraphBuilder) -> str:
    """Token embeddings plus the learned positions named by `position_ids` ([batch, seq, d])."""
    positions = g.op("Gather", ["decoder.position_encodings", "position_ids"], axis=0)
    return g.op("Add", [_token_embeddings(g), positions])


def _token_embeddings(g: GraphBuilder) -> str:
    """The rows of E named by `input_ids` ([batch, seq, d]). In int8 mode they are the columns
    of the quantized Eᵀ, [d, batch, seq], times their token's scale, moved to [batch, seq, d]."""
    if not g.initializers.is_quantized(PROJECTION):
        return g.op("Gather", [EMBEDDING, "input_ids"], axis=0)
    columns = g.op("Cast", [g.op("Gather", [PROJECTION, "input_ids"], axis=1)],
                   to=TensorProto.FLOAT)
    scales = g.op("Gather", [f"{PROJECTION}_scale", "input_ids"], axis=0)
    return g.op("Transpose", [g.op("Mul", [columns, scales])], perm=[1, 2, 0])


# Additive score of a key a query must not see. Finite (as in Hugging Face): a query whose keys
# are all masked (a left-padding position of a prompt) gets a finite, unused output instead of
# NaN, which would reach every later layer through its K/V. exp(MASKED - max) is exactly 0.
MASKED = float(np.finfo(np.float32).min)


def _self_attention_mask(g: GraphBuilder, past: str) -> str:
    """[batch, 1, seq, past + seq] additive mask over the cache plus this call's tokens: the
    query at physical index past+i sees keys 0..past+i (causal) whose `attention_mask` is not 0
    (padding and dead cache columns are 0); blocked keys get MASKED, the others 0."""
    one = g.initializers.constant(1, np.int64)
    end = g.op("Add", [past, g.dim("input_ids", 1)])
    query_index = g.op("Unsqueeze", [g.op("Range", [past, end, one]), g.i64(1)])
    key_index = g.op("Range", [g.initializers.constant(0, np.int64), end, one])
    future = g.op("Greater", [key_index, query_index])  # [seq, total]
    padding = g.op("Equal", ["attention_mask", g.initializers.constant(0, np.int64)])
    padding = g.op("Unsqueeze", [padding, g.i64(1, 2)])  # [batch, 1, 1, total]
    return g.op("Where", [g.op("Or", [future, padding]), g.f32(MASKED), g.f32(0.0)])


def _causal_self_attention(g: GraphBuilder, x: str, dims: WhisperDims, prefix: str, mask: str,
                           past: tuple[str, str] | None) -> tuple[str, tuple[str, str]]:
    """Returns the attention output and the present (key, value), past included."""
    heads, hd, d = dims.decoder_heads, dims.head_dim, dims.d_model
    qkv = linear(g, layer_norm(g, x, f"{prefix}.layer_norm"),
                 f"{prefix}.linear_0.weight", f"{prefix}.linear_0.bias")
    q, k, v = (split_heads(g, t, heads, hd)
               for t in g.op("Split", [qkv, g.i64(d, d, d)], num_outputs=3, axis=-1))
    if past:
        k = g.op("Concat", [past[0], k], axis=2)
        v = g.op("Concat", [past[1], v], axis=2)
    out = merge_heads(g, attention(g, q, k, v, mask), d)
    return linear(g, out, f"{prefix}.linear_1.weight", f"{prefix}.linear_1.bias"), (k, v)


def _cross_attention(g: GraphBuilder, x: str, dims: WhisperDims, prefix: str,
                     cached: tuple[str, str] | None,
                     encoder_hidden_states: str | None) -> tuple[str, tuple[str, str], str]:
    """Attention over the encoder output; K/V from `cached` or projected from the encoder states.
    Returns the attention output, the (key, value) used and the scores [batch, heads, seq, T]."""
    heads, hd, d = dims.decoder_heads, dims.head_dim, dims.d_model
    q = split_heads(g, linear(g, layer_norm(g, x, f"{prefix}.layer_norm"),
                              f"{prefix}.linear_0.weight", f"{prefix}.linear_0.bias"), heads, hd)
    if cached:
        k, v = cached
    else:
        assert encoder_hidden_states is not None, "cross K/V need a cache or the encoder states"
        kv = linear(g, encoder_hidden_states, f"{prefix}.linear_1.weight",
                    f"{prefix}.linear_1.bias")
        k, v = (split_heads(g, t, heads, hd)
                for t in g.op("Split", [kv, g.i64(d, d)], num_outputs=2, axis=-1))
    out, scores = attention_with_scores(g, q, k, v)
    out = merge_heads(g, out, d)
    return linear(g, out, f"{prefix}.linear_2.weight", f"{prefix}.linear_2.bias"), (k, v), scores


def _alignment_scores(g: GraphBuilder, scores: list[str],
                      alignment_heads: list[tuple[int, int]]) -> str | None:
    """The scores of `alignment_heads` ([layer, head] pairs) stacked on axis 1, in their order;
    `scores` holds each layer's cross-attention scores."""
    if not alignment_heads:
        return None
    parts, run = [], []
    for i, (layer, head) in enumerate(alignment_heads):
        run.append(head)
        if i + 1 == len(alignment_heads) or alignment_heads[i + 1][0] != layer:
            parts.append(g.op("Gather", [scores[layer], g.i64(*run)], axis=1))
            run = []
    return parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)


def _tied_logits(g: GraphBuilder, x: str, d_model: int) -> str:
    """logits = x · Eᵀ with the embedding table E, computed as (E · xᵀ)ᵀ on [batch·seq, d].

    With E as the first MatMul operand ORT does not pre-pack it, so the 80-200 MB table exists
    once; as a second operand (Gemm transB or MatMul with Eᵀ) ORT keeps a packed copy beside the
    one the Gather needs. In int8 mode both read the one quantized Eᵀ (PROJECTION)."""
    if g.initializers.is_quantized(PROJECTION):
        return linear(g, x, PROJECTION)
    x_t = g.op("Transpose", [g.op("Reshape", [x, g.i64(-1, d_model)])], perm=[1, 0])
    flat = g.op("Transpose", [g.op("MatMul", [EMBEDDING, x_t])], perm=[1, 0])
    logits_shape = g.op("Concat", [g.op("Shape", ["input_ids"]), g.i64(-1)], axis=0)
    return g.op("Reshape", [flat, logits_shape])


def _decoder_body(g: GraphBuilder, dims: WhisperDims, *, past_self=None, past_cross=None,
                  encoder_hidden_states: str | None = None,
                  alignment_heads: Sequence[tuple[int, int]] = ()) -> _DecoderOutputs:
    """Decoder over `input_ids` at `position_ids`, masked by `attention_mask`. Without
    `past_self` the cache is empty and cross K/V are computed from `encoder_hidden_states`;
    with it, this call's K/V are appended to `past_self` and `past_cross` supplies cross K/V.
    With `alignment_heads`, the scores of those cross-attention heads are an output too.
    The body ends at the final layer norm: the caller projects (`_tied_logits`)."""
    if past_self:
        past = g.dim(past_self[0][0], 2)
    else:
        past = g.initializers.constant(0, np.int64)
    x = _embed(g)
    mask = _self_attention_mask(g, past)

    self_kv, cross_kv, cross_scores = [], [], []
    for i in range(dims.decoder_layers):
        base = f"decoder.layer_{i}"
        out, kv = _causal_self_attention(g, x, dims, f"{base}.self_attention", mask,
                                         past_self[i] if past_self else None)
        x = g.op("Add", [x, out])
        self_kv.append(kv)
        out, kv, scores = _cross_attention(g, x, dims, f"{base}.attention",
                                           past_cross[i] if past_cross else None,
                                           encoder_hidden_states)
        x = g.op("Add", [x, out])
        cross_kv.append(kv)
        cross_scores.append(scores)
        x = g.op("Add", [x, _feed_forward(g, x, f"{base}.ffn")])

    return _DecoderOutputs(layer_norm(g, x, "decoder.layer_norm"), self_kv, cross_kv,
                           _alignment_scores(g, cross_scores, list(alignment_heads)))


class _DecoderIO:
    """Graph input/output declarations in the Optimum naming."""

    def __init__(self, dims: WhisperDims, alignment_heads: list[tuple[int, int]]):
        n, hd, layers = dims.decoder_heads, dims.head_dim, dims.decoder_layers
        self.past_self = _kv_names("past_key_values", layers, "decoder")
        self.past_cross = _kv_names("past_key_values", layers, "encoder")
        self.present_self = _kv_names("present", layers, "decoder")
        self.present_cross = _kv_names("present", layers, "encoder")
        self.input_ids = tensor_info("input_ids", TensorProto.INT64,
                                     ["batch_size", "decoder_sequence_length"])
        self.position_ids = tensor_info("position_ids", TensorProto.INT64,
                                        ["batch_size", "decoder_sequence_length"])
        self.attention_mask = tensor_info("attention_mask", TensorProto.INT64,
                                          ["batch_size", "total_decoder_sequence_length"])
        self.token_inputs = [self.input_ids, self.position_ids, self.attention_mask]
        self.encoder_hidden_states = tensor_info(
            "encoder_hidden_states", TensorProto.FLOAT,
            ["batch_size", ENCODER_STATES, dims.d_model])
        self.use_cache_branch = tensor_info("use_cache_branch", TensorProto.BOOL, [1])
        self.logits = tensor_info("logits", TensorProto.FLOAT,
                                  ["batch_size", "decoder_sequence_length", dims.n_vocab])
        self_past = ["batch_size", n, "past_decoder_sequence_length", hd]
        self_present = ["batch_size", n, "total_decoder_sequence_length", hd]
        cross = ["batch_size", n, ENCODER_STATES, hd]
        self.past_self_info = [tensor_info(name, TensorProto.FLOAT, self_past)
                               for pair in self.past_self for name in pair]
        self.past_cross_info = [tensor_info(name, TensorProto.FLOAT, cross)
                                for pair in self.past_cross for name in pair]
        self.present_self_info = [tensor_info(name, TensorProto.FLOAT, self_present)
                                  for pair in self.present_self for name in pair]
        self.present_cross_info = [tensor_info(name, TensorProto.FLOAT, cross)
                                   for pair in self.present_cross for name in pair]
        # [] or the one `alignment_scores` declaration, to splice into output lists.
        self.alignment_info = [tensor_info(
            ALIGNMENT_SCORES, TensorProto.FLOAT,
            ["batch_size", len(alignment_heads), "decoder_sequence_length", ENCODER_STATES],
        )] if alignment_heads else []
        self.alignment = [ALIGNMENT_SCORES] if alignment_heads else []


def _flatten(pairs: list[tuple[str, str]]) -> list[str]:
    return [name for pair in pairs for name in pair]


def _rename_outputs(nodes: list[onnx.NodeProto], renames: dict[str, str]) -> None:
    """Give produced values their public names (graph outputs of a top-level graph)."""
    for node in nodes:
        for field in (node.input, node.output):
            for j, name in enumerate(field):
                if name in renames:
                    field[j] = renames[name]


def _alignment(out: _DecoderOutputs) -> list[str]:
    """[] or the body's alignment scores, to splice into output lists."""
    return [out.alignment] if out.alignment else []


def build_decoder_merged(model: Ct2Model, dims: WhisperDims, int8: bool = False,
                         alignment_heads: Sequence[tuple[int, int]] = ()) -> onnx.ModelProto:
    """`decoder_model_merged.onnx`: one `If` on `use_cache_branch` selects the wiring; the output
    projection follows the `If`, so ONNX Runtime prepares its 51,864-column weight once, not once
    per branch (in int8 mode that halves the decoder's prepacking time and memory)."""
    io = _DecoderIO(dims, list(alignment_heads))
    inits = Initializers(int8_matmul_weights=int8)
    _add_decoder_weights(inits, model, dims)

    first = GraphBuilder(inits, "no_past/")
    first_out = _decoder_body(first, dims, encoder_hidden_states="encoder_hidden_states",
                              alignment_heads=alignment_heads)
    later = GraphBuilder(inits, "with_past/")
    later_out = _decoder_body(later, dims, past_self=io.past_self, past_cross=io.past_cross,
                              alignment_heads=alignment_heads)
    # Like Optimum, the cache branch returns empty cross K/V: the caller keeps the first call's.
    empty = numpy_helper.from_array(np.zeros((0, dims.decoder_heads, 1, dims.head_dim), np.float32))
    later_cross = [later.op("Constant", [], value=empty) for _ in range(2 * dims.decoder_layers)]

    def branch(name: str, builder: GraphBuilder, values: list[str]) -> onnx.GraphProto:
        outputs = [helper.make_tensor_value_info(v, TensorProto.FLOAT, None) for v in values]
        return helper.make_graph(builder.nodes, name, [], outputs)

    no_past_graph = branch("no_past", first, [first_out.states, *_flatten(first_out.self_kv),
                                              *_flatten(first_out.cross_kv),
                                              *_alignment(first_out)])
    with_past_graph = branch("with_past", later, [later_out.states, *_flatten(later_out.self_kv),
                                                  *later_cross, *_alignment(later_out)])
    main = GraphBuilder(inits)
    hidden = "decoder.final_states"
    outputs = [hidden, *_flatten(io.present_self), *_flatten(io.present_cross), *io.alignment]
    if_node = helper.make_node("If", ["use_cache_branch"], outputs, name="optimum::if",
                               then_branch=with_past_graph, else_branch=no_past_graph)
    logits = _tied_logits(main, hidden, dims.d_model)
    _rename_outputs(main.nodes, {logits: "logits"})
    graph = helper.make_graph(
        [if_node, *main.nodes],
        "whisper_decoder_merged",
        [*io.token_inputs, io.encoder_hidden_states, *io.past_self_info, *io.past_cross_info,
         io.use_cache_branch],
        [io.logits, *io.present_self_info, *io.present_cross_info, *io.alignment_info],
        list(inits.tensors.values()),
    )
    return make_model(graph, PRODUCER)


def build_decoder_split(model: Ct2Model, dims: WhisperDims, int8: bool = False,
                        alignment_heads: Sequence[tuple[int, int]] = ()
                        ) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """`decoder_model.onnx` and `decoder_with_past_model.onnx` (Optimum's two-file layout)."""
    io = _DecoderIO(dims, list(alignment_heads))

    inits = Initializers(int8_matmul_weights=int8)
    _add_decoder_weights(inits, model, dims)
    g = GraphBuilder(inits)
    out = _decoder_body(g, dims, encoder_hidden_states="encoder_hidden_states",
                        alignment_heads=alignment_heads)
    logits = _tied_logits(g, out.states, dims.d_model)
    _rename_outputs(g.nodes, dict(zip(
        [logits, *_flatten(out.self_kv), *_flatten(out.cross_kv), *_alignment(out)],
        ["logits", *_flatten(io.present_self), *_flatten(io.present_cross), *io.alignment])))
    no_past = make_model(helper.make_graph(
        g.nodes, "whisper_decoder",
        [*io.token_inputs, io.encoder_hidden_states],
        [io.logits, *io.present_self_info, *io.present_cross_info, *io.alignment_info],
        list(inits.tensors.values())), PRODUCER)

    inits = Initializers(int8_matmul_weights=int8)
    _add_decoder_weights(inits, model, dims, cross_kv_projection=False)
    g = GraphBuilder(inits)
    out = _decoder_body(g, dims, past_self=io.past_self, past_cross=io.past_cross,
                        alignment_heads=alignment_heads)
    logits = _tied_logits(g, out.states, dims.d_model)
    _rename_outputs(g.nodes, dict(zip([logits, *_flatten(out.self_kv), *_alignment(out)],
                                      ["logits", *_flatten(io.present_self), *io.alignment])))
    with_past = make_model(helper.make_graph(
        g.nodes, "whisper_decoder_with_past",
        [*io.token_inputs, *io.past_self_info, *io.past_cross_info],
        [io.logits, *io.present_self_info, *io.alignment_info],
        list(inits.tensors.values())), PRODUCER)
    return no_past, with_past
