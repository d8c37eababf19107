"""Whisper model description derived from a parsed CTranslate2 `WhisperSpec`.

Every dimension is read from the weights themselves, so any Whisper size converts (tiny to large,
80 or 128 mel bins, English-only or multilingual vocabularies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .ct2_reader import Ct2Model
from .errors import ConversionError

# CTranslate2 Activation enum value for the exact (erf) GELU (specs/common_spec.py).
_ACTIVATION_GELU = 3


@dataclass(frozen=True)
class WhisperDims:
    """Hyper-parameters of one Whisper model."""

    n_mels: int
    n_audio_ctx: int
    n_text_ctx: int
    d_model: int
    n_vocab: int
    encoder_layers: int
    decoder_layers: int
    encoder_heads: int
    decoder_heads: int
    encoder_ffn: int
    decoder_ffn: int

    @property
    def head_dim(self) -> int:
        return self.d_model // self.decoder_heads


def _layer_count(model: Ct2Model, stack: str) -> int:
    pattern = re.compile(rf"^{stack}/layer_(\d+)/")
    indices = {int(m.group(1)) for name in model.variables if (m := pattern.match(name))}
    if not indices or indices != set(range(len(indices))):
        raise ConversionError(
            f"{model.path}: unsupported spec: {stack} layers {sorted(indices)} are not 0..N-1"
        )
    return len(indices)


def whisper_dims(model: Ct2Model) -> WhisperDims:
    """Check that `model` is a Whisper model this converter handles and return its dimensions."""
    if model.binary_version >= 2 and model.spec_name != "WhisperSpec":
        raise ConversionError(
            f"{model.path}: unsupported spec {model.spec_name!r} (only WhisperSpec converts)"
        )
    if any(name.endswith("_zero") for name in model.variables):
        raise ConversionError(f"{model.path}: unsupported spec: AWQ-quantized weights (*_zero)")
    expected_flags = {
        "decoder/activation": _ACTIVATION_GELU,
        "decoder/pre_norm": 1,
        "decoder/scale_embeddings": 0,
        "decoder/alibi": 0,
    }
    for name, value in expected_flags.items():
        if name in model.variables and model.scalar(name) != value:
            raise ConversionError(
                f"{model.path}: unsupported spec: {name} = {model.scalar(name)}, expected {value}"
            )

    d_model, n_mels, _ = model.shape("encoder/conv1/weight")
    dims = WhisperDims(
        n_mels=n_mels,
        n_audio_ctx=model.shape("encoder/position_encodings/encodings")[0],
        n_text_ctx=model.shape("decoder/position_encodings/encodings")[0],
        d_model=d_model,
        n_vocab=model.shape("decoder/embeddings/weight")[0],
        encoder_layers=_layer_count(model, "encoder"),
        decoder_layers=_layer_count(model, "decoder"),
        encoder_heads=int(model.scalar("encoder/num_heads")),
        decoder_heads=int(model.scalar("decoder/num_heads")),
        encoder_ffn=model.shape("encoder/layer_0/ffn/linear_0/weight")[0],
        decoder_ffn=model.shape("decoder/layer_0/ffn/linear_0/weight")[0],
    )
    for heads in (dims.encoder_heads, dims.decoder_heads):
        if heads <= 0 or d_model % heads:
            raise ConversionError(
                f"{model.path}: unsupported spec: {heads} heads do not divide d_model {d_model}"
            )
    if dims.encoder_heads != dims.decoder_heads:
        raise ConversionError(f"{model.path}: unsupported spec: encoder/decoder head counts differ")
    return dims
