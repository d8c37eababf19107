"""Whisper's encoder written out in NumPy from CTranslate2 weights, in any float precision: the
float64 pass is the reference that both runtimes are measured against, and the float32 pass
shows how far plain float32 rounding alone moves a given input (test_converter.py derives its
bounds from the two)."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ct2onnx.ct2_reader import Ct2Model, read_model_bin

_erf = np.frompyfunc(math.erf, 1, 1)


@lru_cache(maxsize=2)
def ct2_weights(model_bin: Path) -> Ct2Model:
    """The parsed model.bin (kept for the next call)."""
    return read_model_bin(model_bin)


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU, in the precision of `x`."""
    return (0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(x.dtype))).astype(x.dtype)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + x.dtype.type(1e-5)) * gamma + beta).astype(x.dtype)


def _conv3(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Conv1d with kernel 3 and padding 1: x [channels, frames] -> [out, frames / stride]."""
    padded = np.pad(x, ((0, 0), (1, 1)))
    frames = (x.shape[1] - 1) // stride + 1
    taps = np.stack([padded[:, k:k + stride * (frames - 1) + 1:stride] for k in range(3)], -1)
    return np.einsum("ock,ctk->ot", weight, taps) + bias[:, None]


def encode(model: Ct2Model, mel: np.ndarray, dtype: type) -> np.ndarray:
    """Encoder output [frames / 2, d_model] of one log-mel window [n_mels, frames], computed
    throughout in `dtype` (np.float64 or np.float32)."""

    def w(name: str) -> np.ndarray:
        return model.tensor(f"encoder/{name}").astype(dtype)

    x = _gelu(_conv3(mel.astype(dtype), w("conv1/weight"), w("conv1/bias"), 1))
    x = _gelu(_conv3(x, w("conv2/weight"), w("conv2/bias"), 2)).T + w("position_encodings/encodings")
    heads = int(model.scalar("encoder/num_heads"))
    d_model = x.shape[1]
    head_dim = d_model // heads
    layer = 0
    while f"encoder/layer_{layer}/ffn/linear_0/weight" in model.variables:
        p = f"layer_{layer}/"
        h = _layer_norm(x, w(p + "self_attention/layer_norm/gamma"), w(p + "self_attention/layer_norm/beta"))
        qkv = h @ w(p + "self_attention/linear_0/weight").T + w(p + "self_attention/linear_0/bias")
        q, k, v = (a.reshape(-1, heads, head_dim).transpose(1, 0, 2) for a in np.split(qkv, 3, -1))
        scores = q @ k.transpose(0, 2, 1) / dtype(math.sqrt(head_dim))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attended = (scores @ v).transpose(1, 0, 2).reshape(-1, d_model)
        x = x + attended @ w(p + "self_attention/linear_1/weight").T + w(p + "self_attention/linear_1/bias")
        h = _layer_norm(x, w(p + "ffn/layer_norm/gamma"), w(p + "ffn/layer_norm/beta"))
        h = _gelu(h @ w(p + "ffn/linear_0/weight").T + w(p + "ffn/linear_0/bias"))
        x = x + h @ w(p + "ffn/linear_1/weight").T + w(p + "ffn/linear_1/bias")
        layer += 1
    return _layer_norm(x, w("layer_norm/gamma"), w("layer_norm/beta"))
