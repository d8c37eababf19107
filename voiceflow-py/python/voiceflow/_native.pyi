"""Type stubs of the native module voiceflow._native (import voiceflow instead)."""

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Literal, Self, TypeAlias, final

from typing_extensions import disjoint_base

import numpy as np
import numpy.typing as npt

__all__ = [
    "Edit",
    "Engine",
    "Enhanced",
    "Enhancer",
    "ModelInfo",
    "Partial",
    "Progress",
    "Record",
    "Segment",
    "Store",
    "Stream",
    "Timings",
    "Transcript",
    "Word",
    "__version__",
    "models_dir",
]
__version__: str

def models_dir() -> Path | None:
    """Where a model name given to Engine is looked for: $VOICEFLOW_MODELS, else
    $XDG_DATA_HOME/voiceflow/models, else ~/.local/share/voiceflow/models."""

# A numpy array of samples, the bytes of an audio file (WAV, FLAC, MP3, Ogg
# Vorbis, M4A/AAC, told apart by content), or the path of one.
_Audio: TypeAlias = (
    npt.NDArray[np.float32]
    | npt.NDArray[np.float64]
    | npt.NDArray[np.int16]
    | bytes
    | str
    | os.PathLike[str]
)

@final
class Segment:
    """One timed piece of a transcript."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> list[int]: ...
    @property
    def avg_logprob(self) -> float: ...
    @property
    def no_speech_prob(self) -> float: ...
    @property
    def temperature(self) -> float: ...
    @property
    def words(self) -> list[Word]:
        """The segment's words when the call asked for `word_timestamps=True`; else empty."""
        ...

@final
class Word:
    """One word of a segment with its time (word timestamps)."""

    @property
    def word(self) -> str:
        """The word with its leading space and attached punctuation (`" Hello,"`)."""
        ...
    @property
    def start(self) -> float:
        """Start time in seconds from the beginning of the audio."""
        ...
    @property
    def end(self) -> float:
        """End time in seconds from the beginning of the audio."""
        ...
    @property
    def probability(self) -> float:
        """Mean probability of the word's tokens, from 0 to 1."""
        ...

@final
class Timings:
    """Wall-clock time spent in each stage of one transcription, in seconds."""

    @property
    def decode_audio_s(self) -> float: ...
    @property
    def mel_s(self) -> float: ...
    @property
    def encoder_s(self) -> float: ...
    @property
    def decoder_s(self) -> float: ...
    @property
    def total_s(self) -> float: ...

@final
class Progress:
    """How far a transcription has come, passed with each segment to on_segment."""

    @property
    def done_s(self) -> float: ...
    @property
    def total_s(self) -> float: ...
    @property
    def fraction(self) -> float: ...

@final
class Transcript:
    """The result of transcribing one piece of audio."""

    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def language_probability(self) -> float: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def segments(self) -> list[Segment]: ...
    @property
    def timings(self) -> Timings: ...
    def to_srt(self) -> str: ...
    def to_vtt(self) -> str: ...

@final
class ModelInfo:
    """What model an engine runs."""

    @property
    def name(self) -> str: ...
    @property
    def dir(self) -> Path: ...
    @property
    def multilingual(self) -> bool: ...
    @property
    def languages(self) -> list[str]: ...
    @property
    def n_mels(self) -> int: ...
    @property
    def d_model(self) -> int: ...
    @property
    def decoder_layers(self) -> int: ...
    @property
    def decoder_attention_heads(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def max_target_positions(self) -> int: ...
    @property
    def decoder_layout(self) -> str: ...
    @property
    def encoder_provider(self) -> str: ...
    @property
    def decoder_provider(self) -> str: ...

@disjoint_base
class Engine:
    """Speech-to-text with one Whisper model: a converted model folder, or the
    name of an installed model ("tiny.en"; see models_dir())."""

    def __new__(
        cls,
        model: str | os.PathLike[str],
        *,
        threads: int | None = None,
        instances: int = 1,
        runtime_library: str | os.PathLike[str] | None = None,
        max_audio_duration_s: float | None = None,
        max_concurrent: int = 50,
        max_queued: int = 100,
        batching: bool = True,
        device: str = "auto",
    ) -> Self: ...
    def transcribe(
        self,
        audio: _Audio,
        sample_rate: int = 16000,
        *,
        language: str | None = None,
        task: Literal["transcribe", "translate"] = "transcribe",
        beam_size: int = 1,
        best_of: int = 5,
        patience: float = 1.0,
        temperatures: Sequence[float] | None = None,
        compression_ratio_threshold: float | None = 2.4,
        logprob_threshold: float | None = -1.0,
        no_speech_threshold: float | None = 0.6,
        unreliable_no_speech_threshold: float | None = 0.5,
        condition_on_previous_text: bool = True,
        initial_prompt: str | None = None,
        timestamps: bool = True,
        word_timestamps: bool = False,
        seed: int = 0,
        timeout: float | None = None,
        vad_filter: bool = False,
        vad_model: str | os.PathLike[str] | None = None,
        vad_threshold: float = 0.5,
        vad_neg_threshold: float | None = None,
        vad_min_speech_duration_ms: int = 0,
        vad_min_silence_duration_ms: int = 2000,
        vad_speech_pad_ms: int = 400,
        vad_max_speech_duration_s: float | None = None,
        vad_min_silence_at_max_speech_ms: int = 98,
        short_windows: bool = False,
        on_segment: Callable[[Segment, Progress], bool | None] | None = None,
    ) -> Transcript:
        """Transcribes `audio`; the options are `voiceflow_core::TranscribeOptions`'s,
        by the same names (`language` None or "auto" detects it on the first speech;
        a threshold None turns its check off; `vad_max_speech_duration_s` None: no
        limit). A value out of range raises InvalidArgumentError naming it."""
    def stream(
        self,
        sample_rate: int = 16000,
        language: str | None = None,
        on_partial: Callable[[Partial], bool | None] | None = None,
        on_final: Callable[[Segment], bool | None] | None = None,
        vad: bool = True,
        *,
        channels: int = 1,
        partial_interval: float | None = 0.5,
        min_silence_ms: int = 500,
        vad_model: str | os.PathLike[str] | None = None,
    ) -> Stream: ...
    @property
    def model_info(self) -> ModelInfo: ...
    def metrics(self) -> dict[str, list[dict[str, Any]]]:
        """A snapshot of the engine's metrics: {"counters": [...], "gauges": [...],
        "histograms": [{"name", "labels", "count", "sum", "mean", "p50", "p95",
        "p99", "max"}]}, latencies in seconds."""
    def metrics_prometheus(self) -> str:
        """The engine's metrics in the Prometheus text format (OpenMetrics 1.0)."""
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None: ...

@final
class Partial:
    """The open utterance's current, unstable text."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...

@final
class Stream:
    """A live transcription started by Engine.stream()."""

    def push(
        self,
        audio: npt.NDArray[np.float32] | npt.NDArray[np.float64] | npt.NDArray[np.int16] | bytes,
    ) -> None: ...
    def finish(self) -> Transcript: ...
    def close(self) -> None: ...
    @property
    def backlog_s(self) -> float: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None: ...

@final
class Record:
    """A stored transcript."""

    @property
    def id(self) -> str: ...
    @property
    def created_at_ms(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def context(self) -> str: ...
    @property
    def raw_text(self) -> str: ...
    @property
    def enhanced_text(self) -> str | None: ...
    @property
    def language(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def segments(self) -> list[Segment]: ...
    @property
    def timings(self) -> Timings: ...
    @property
    def metadata(self) -> dict[str, str]: ...

@final
class Store:
    """An encrypted transcript store in the folder `path`."""

    def __new__(
        cls,
        path: str | os.PathLike[str],
        passphrase: str | None = None,
        *,
        key: bytes | None = None,
        encrypted: bool = True,
    ) -> Self: ...
    def put(
        self,
        transcript: Transcript | str,
        context: str = "general",
        enhanced_text: str | None = None,
        metadata: dict[str, str] | None = None,
        model: str = "",
    ) -> str: ...
    def put_finished(
        self,
        transcript: Transcript,
        context: Literal["general", "email", "chat", "document", "code"] = "general",
        model: str = "",
    ) -> Record: ...
    def get(self, id: str) -> Record: ...
    def delete(self, id: str) -> None: ...
    def search(self, words: str, limit: int = 20) -> list[Record]: ...
    def query(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        context: str | None = None,
        words: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[Record]: ...
    def flush(self) -> None: ...
    @property
    def encrypted(self) -> bool: ...
    def close(self) -> None: ...
    def __len__(self) -> int: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None: ...

@final
class Edit:
    """One change the enhancer made."""

    @property
    def kind(self) -> str: ...
    @property
    def before(self) -> str: ...
    @property
    def after(self) -> str: ...

@final
class Enhanced:
    """The enhanced text and how it came about."""

    @property
    def text(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def edits(self) -> list[Edit]: ...

@final
class Enhancer:
    """Finishes raw dictation for a destination with the built-in rules."""

    def __new__(cls, capacity: int | None = None, workers: int | None = None) -> Self: ...
    def enhance(
        self,
        text: str,
        context: Literal["general", "email", "chat", "document", "code"] = "general",
        *,
        language: str | None = None,
        timeout: float | None = None,
    ) -> Enhanced: ...
    @property
    def depth(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None: ...
