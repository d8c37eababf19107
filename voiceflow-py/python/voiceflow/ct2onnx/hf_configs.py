"""Hugging Face style `config.json` and `generation_config.json` for a converted model.

Dimensions come from the weights (`WhisperDims`); special-token ids come from the added tokens of
`tokenizer.json`; suppression lists and alignment heads from the CTranslate2 `config.json`. The CT2
`lang_ids` list is deliberately not used: it is wrong in some English-only models.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ConversionError
from .whisper_spec import WhisperDims

# openai/whisper: models with a vocabulary of at least this size are multilingual.
_MULTILINGUAL_VOCAB = 51865
_LANGUAGE_TOKEN = re.compile(r"^<\|([a-z]{2,3})\|>$")
# Whisper's first timestamp may be at most 1.0 s = 50 steps of 0.02 s (openai and CT2 default).
_MAX_INITIAL_TIMESTAMP_INDEX = 50


@dataclass(frozen=True)
class SpecialTokens:
    """Ids of Whisper's special tokens, read from tokenizer.json."""

    eot: int
    sot: int
    translate: int
    transcribe: int
    sot_prev: int
    no_speech: int
    no_timestamps: int
    languages: dict[str, int]  # "<|en|>" -> id, in id order


def read_json(path: Path) -> dict:
    """Load a JSON file, turning a missing or malformed file into a ConversionError."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConversionError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConversionError(f"{path}: cannot read JSON: {err}") from None


def special_tokens(tokenizer_path: Path) -> SpecialTokens:
    """Find the special-token ids in the `added_tokens` of a tokenizer.json."""
    added = read_json(tokenizer_path).get("added_tokens", [])
    by_content = {t["content"]: t["id"] for t in added if "content" in t and "id" in t}

    def token_id(*names: str) -> int:
        for name in names:
            if name in by_content:
                return by_content[name]
        raise ConversionError(f"{tokenizer_path}: special token {names[0]} is missing")

    sot = token_id("<|startoftranscript|>")
    translate = token_id("<|translate|>")
    languages = {
        content: tid
        for content, tid in sorted(by_content.items(), key=lambda item: item[1])
        if sot < tid < translate and _LANGUAGE_TOKEN.match(content)
    }
    return SpecialTokens(
        eot=token_id("<|endoftext|>"),
        sot=sot,
        translate=translate,
        transcribe=token_id("<|transcribe|>"),
        sot_prev=token_id("<|startofprev|>"),
        no_speech=token_id("<|nospeech|>", "<|nocaptions|>"),
        no_timestamps=token_id("<|notimestamps|>"),
        languages=languages,
    )


def _int_list(ct2_config: dict, key: str, path: Path) -> list:
    value = ct2_config.get(key)
    if not isinstance(value, list):
        raise ConversionError(f"{path}: key {key!r} is missing or not a list")
    return value


def hf_configs(dims: WhisperDims, tokens: SpecialTokens,
               ct2_config_path: Path) -> tuple[dict, dict]:
    """Return (config.json, generation_config.json) contents."""
    ct2_config = read_json(ct2_config_path)
    suppress = _int_list(ct2_config, "suppress_ids", ct2_config_path)
    begin_suppress = _int_list(ct2_config, "suppress_ids_begin", ct2_config_path)
    alignment_heads = _int_list(ct2_config, "alignment_heads", ct2_config_path)
    multilingual = dims.n_vocab >= _MULTILINGUAL_VOCAB

    config = {
        "model_type": "whisper",
        "architectures": ["WhisperForConditionalGeneration"],
        "vocab_size": dims.n_vocab,
        "num_mel_bins": dims.n_mels,
        "d_model": dims.d_model,
        "encoder_layers": dims.encoder_layers,
        "decoder_layers": dims.decoder_layers,
        "num_hidden_layers": dims.encoder_layers,
        "encoder_attention_heads": dims.encoder_heads,
        "decoder_attention_heads": dims.decoder_heads,
        "encoder_ffn_dim": dims.encoder_ffn,
        "decoder_ffn_dim": dims.decoder_ffn,
        "max_source_positions": dims.n_audio_ctx,
        "max_target_positions": dims.n_text_ctx,
        "activation_function": "gelu",
        "scale_embedding": False,
        "is_encoder_decoder": True,
        "use_cache": True,
        "torch_dtype": "float32",
        "decoder_start_token_id": tokens.sot,
        "eos_token_id": tokens.eot,
        "pad_token_id": tokens.eot,
        "bos_token_id": tokens.eot,
        "suppress_tokens": suppress,
        "begin_suppress_tokens": begin_suppress,
    }
    generation = {
        "alignment_heads": alignment_heads,
        "begin_suppress_tokens": begin_suppress,
        "suppress_tokens": suppress,
        "bos_token_id": tokens.eot,
        "decoder_start_token_id": tokens.sot,
        "eos_token_id": tokens.eot,
        "pad_token_id": tokens.eot,
        "is_multilingual": multilingual,
        "max_initial_timestamp_index": _MAX_INITIAL_TIMESTAMP_INDEX,
        "max_length": dims.n_text_ctx,
        "no_timestamps_token_id": tokens.no_timestamps,
        "prev_sot_token_id": tokens.sot_prev,
        "task_to_id": {"transcribe": tokens.transcribe, "translate": tokens.translate},
    }
    if multilingual:
        generation["lang_to_id"] = tokens.languages
    return config, generation
