"""The exceptions VoiceFlow raises.

Every one derives from :class:`Error`; each carries the message of the Rust
error it stands for. Where a Python builtin means the same thing, the
exception derives from it too, so ``except ValueError`` or ``except OSError``
also catch them.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "CancelledError",
    "ClosedError",
    "DeviceUnavailableError",
    "Error",
    "InferenceError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidAudioError",
    "IoError",
    "ModelError",
    "NotFoundError",
    "QueueFullError",
    "OverloadedError",
    "RecordTooLargeError",
    "RequestTimeoutError",
    "RuntimeNotFoundError",
    "StorageError",
    "StoreError",
    "StoreFormatError",
    "WrongKeyError",
]


class Error(Exception):
    """Base class of every VoiceFlow error."""


class InvalidAudioError(Error, ValueError):
    """The audio cannot be transcribed: empty, NaN or infinite samples, too
    long, an unsupported dtype or shape, or audio file data (WAV, FLAC, MP3,
    Ogg Vorbis, M4A/AAC) that is corrupt, unsupported or whose header
    contradicts itself."""


class InvalidArgumentError(Error, ValueError):
    """An argument is out of range: sample rate 0, beam size 0, an unknown
    language, task or context, a bad record id, ..."""


class ModelError(Error):
    """The model folder or one of its files is missing or cannot be used."""


class RuntimeNotFoundError(Error):
    """The ONNX Runtime shared library could not be found or loaded; the
    message lists where it was looked for."""


class DeviceUnavailableError(Error):
    """The device the engine was told to use (``device="cuda"``) cannot run
    the model: the library was built without CUDA, ONNX Runtime has no CUDA
    execution provider, or there is no such GPU; the message says which.
    ``device="auto"`` falls back to the CPU instead."""


class InferenceError(Error):
    """ONNX Runtime failed while running the model."""


class ClosedError(Error):
    """The engine, store or enhancer was closed and takes no more work."""


class IoError(Error, OSError):
    """Reading or writing a file failed (``errno`` and ``filename`` are set
    when known)."""


class QueueFullError(Error):
    """The enhancement queue is full; the request was not accepted."""


class OverloadedError(Error):
    """The engine already runs and queues as many transcriptions as it is
    configured for; the request was not accepted (retry later)."""


class RequestTimeoutError(Error, TimeoutError):
    """A request did not complete within its timeout."""


class CancelledError(Error):
    """A request was accepted but cancelled before it ran."""


class BackendError(Error):
    """An enhancement backend failed."""


class StoreError(Error):
    """Base class of the transcript store's errors."""


class WrongKeyError(StoreError):
    """The key or passphrase does not open this store."""


class IntegrityError(StoreError):
    """A stored record was altered or belongs to another record or key."""


class StoreFormatError(StoreError):
    """The path is not a VoiceFlow store, or its format is newer than this
    version reads."""


class RecordTooLargeError(StoreError):
    """A record exceeds the store's size limit."""


class NotFoundError(StoreError, LookupError):
    """No record has this id. A LookupError (not a KeyError, whose message
    Python prints quoted)."""


class StorageError(StoreError):
    """The storage engine (sled) reported an error."""
