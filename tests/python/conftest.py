"""Shared helpers of the Python binding tests (test_bindings_*.py)."""

from __future__ import annotations

import re
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TINY_EN = REPO / "models" / "whisper-tiny.en-float32"
SPEECH = REPO / "tests" / "fixtures" / "speech"


def words(text: str) -> list[str]:
    """Lowercase words without punctuation."""
    return re.sub(r"[^\w']+", " ", text.lower()).split()


def word_errors(reference: str, heard: str) -> int:
    """Word-level edit distance between two texts after `words`."""
    ref, hyp = words(reference), words(heard)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1]


def converted(name: str) -> Path:
    """A speech fixture converted to another format (`report.flac`) by
    `scripts/setup.sh audio-fixtures`: in VOICEFLOW_AUDIO_FIXTURES, else
    audio-fixtures in VOICEFLOW_CACHE or the repository's .cache. Fails, not
    skips, when it is missing."""
    import os

    folder = os.environ.get("VOICEFLOW_AUDIO_FIXTURES") or str(
        Path(os.environ.get("VOICEFLOW_CACHE") or REPO / ".cache") / "audio-fixtures"
    )
    path = Path(folder) / name
    assert path.is_file(), (
        f"no {path} (run `scripts/setup.sh audio-fixtures`, which `make test` does)"
    )
    return path


def manifest() -> dict[str, str]:
    """The fixtures' spoken texts by file name."""
    lines = (SPEECH / "manifest.tsv").read_text().splitlines()[1:]
    return dict(line.split("\t", 1) for line in lines if line)


def read_int16(name: str) -> tuple[np.ndarray, int]:
    """A 16-bit PCM fixture as (frames, channels) int16 samples and its rate."""
    with wave.open(str(SPEECH / name)) as w:
        assert w.getsampwidth() == 2, name
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels()), w.getframerate()


def alone_and_together(work: Callable[[], object]) -> tuple[float, float]:
    """Seconds `work` takes run twice one after the other, and run in two
    threads at once."""

    def timed() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    alone = timed() + timed()
    threads = [threading.Thread(target=timed) for _ in range(2)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return alone, time.perf_counter() - started


@pytest.fixture(scope="session")
def voiceflow():
    """The installed voiceflow package (`make test` installs it); its absence fails the binding
    tests rather than skipping them."""
    try:
        import voiceflow
    except ImportError as error:
        pytest.fail(f"the voiceflow wheel is not installed (make python-bindings): {error}")
    return voiceflow


@pytest.fixture(scope="session")
def engine(voiceflow):
    """One tiny.en engine shared by the tests."""
    with voiceflow.Engine(TINY_EN, threads=2) as engine:
        yield engine
