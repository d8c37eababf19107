"""VoiceFlow: speech-to-text with Whisper models on ONNX Runtime.

>>> import voiceflow
>>> with voiceflow.Engine("tiny.en") as engine:  # doctest: +SKIP
...     print(engine.transcribe("speech.wav").text)

A model is a converted model folder or the name of an installed one:
``python -m voiceflow.models install tiny.en`` (with ``pip install 'voiceflow[convert]'``)
puts it in :func:`models_dir`.

ONNX Runtime's shared library comes from the ``onnxruntime`` package (a
dependency) unless ``runtime_library`` or ``ORT_DYLIB_PATH`` names one.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from typing import Any, Literal, Self

from . import _native
from ._native import (
    Edit,
    Enhanced,
    Enhancer,
    ModelInfo,
    Progress,
    Record,
    Partial,
    Segment,
    Store,
    Stream,
    Timings,
    Transcript,
    Word,
    __version__,
    models_dir,
)
from .errors import (
    BackendError,
    CancelledError,
    ClosedError,
    DeviceUnavailableError,
    Error,
    InferenceError,
    IntegrityError,
    InvalidArgumentError,
    InvalidAudioError,
    IoError,
    ModelError,
    NotFoundError,
    QueueFullError,
    OverloadedError,
    RecordTooLargeError,
    RequestTimeoutError,
    RuntimeNotFoundError,
    StorageError,
    StoreError,
    StoreFormatError,
    WrongKeyError,
)

__all__ = [
    "__version__",
    "BackendError",
    "bundled_runtime_library",
    "dictate",
    "CancelledError",
    "ClosedError",
    "DeviceUnavailableError",
    "Edit",
    "Engine",
    "Enhanced",
    "Enhancer",
    "Error",
    "InferenceError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidAudioError",
    "IoError",
    "ModelError",
    "ModelInfo",
    "models_dir",
    "NotFoundError",
    "Partial",
    "Progress",
    "QueueFullError",
    "OverloadedError",
    "Record",
    "RecordTooLargeError",
    "RequestTimeoutError",
    "RuntimeNotFoundError",
    "Segment",
    "StorageError",
    "Store",
    "StoreError",
    "StoreFormatError",
    "Stream",
    "Timings",
    "Transcript",
    "Word",
    "WrongKeyError",
]

# The library's file name in onnxruntime/capi/ on each platform.
_RUNTIME_PATTERNS = ("libonnxruntime.so*", "libonnxruntime*.dylib", "onnxruntime.dll")


def bundled_runtime_library() -> str | None:
    """The ONNX Runtime library of the installed ``onnxruntime`` package,
    found without importing it; None when there is none."""
    spec = importlib.util.find_spec("onnxruntime")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for pattern in _RUNTIME_PATTERNS:
            found = sorted(glob.glob(os.path.join(folder, "capi", pattern)))
            if found:
                return found[-1]
    return None


class Engine(_native.Engine):
    __doc__ = _native.Engine.__doc__

    def __new__(
        cls,
        model: str | os.PathLike[str],
        *,
        runtime_library: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> Self:
        if runtime_library is None and not os.environ.get("ORT_DYLIB_PATH"):
            runtime_library = bundled_runtime_library()
        return super().__new__(cls, model, runtime_library=runtime_library, **options)


def dictate(
    engine: _native.Engine,
    store: Store,
    audio: Any,
    context: Literal["general", "email", "chat", "document", "code"] = "general",
    sample_rate: int = 16000,
    **options: Any,
) -> Record:
    """Transcribes `audio` with `engine` (`options` are those of
    :meth:`Engine.transcribe`), finishes the text for `context` (general,
    email, chat, document, code) with the rule enhancer, and stores the
    record in `store`, flushed to disk; returns the stored :class:`Record`
    (its ``id``, ``raw_text`` and ``enhanced_text``).

    >>> record = voiceflow.dictate(engine, store, "note.wav", "email")  # doctest: +SKIP
    """
    transcript = engine.transcribe(audio, sample_rate, **options)
    return store.put_finished(transcript, context, engine.model_info.name)
