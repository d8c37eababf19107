"""Measures the Python bindings against the engine's own clock.

    make bench-python      (or: .venv/bin/python scripts/bench_bindings.py)

1. Binding overhead: wall time of `Engine.transcribe` minus the engine's own
   `timings.total_s`, median over repeated calls on one fixture.
2. The GIL: two threads transcribing at once (instances=2, threads=1) over
   the same two calls one after the other; near 0.5 on two free cores, 1.0
   if the GIL (or the pool) serialised them.

The fixtures and the timing helper are the binding tests' own
(tests/python/conftest.py).
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import voiceflow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from conftest import SPEECH, TINY_EN, alone_and_together, manifest, read_int16  # noqa: E402


def overhead(calls: int) -> None:
    with voiceflow.Engine(TINY_EN, threads=2) as engine:
        engine.transcribe(SPEECH / "report.wav")
        walls, extra = [], []
        for _ in range(calls):
            started = time.perf_counter()
            transcript = engine.transcribe(SPEECH / "report.wav")
            wall = time.perf_counter() - started
            walls.append(wall)
            extra.append(wall - transcript.timings.total_s)
    print(
        f"report.wav, {calls} calls: median wall {statistics.median(walls) * 1e3:.1f} ms, "
        f"binding overhead median {statistics.median(extra) * 1e3:.3f} ms"
    )


def two_threads(rounds: int) -> None:
    audio = np.concatenate([read_int16(name)[0][:, 0] for name in manifest()])
    with voiceflow.Engine(TINY_EN, threads=1, instances=2) as engine:
        engine.transcribe(audio[:16000])
        for _ in range(rounds):
            alone, together = alone_and_together(lambda: engine.transcribe(audio))
            print(
                f"{len(audio) / 16000:.1f} s of audio: two threads {together:.2f} s, "
                f"one after the other {alone:.2f} s, ratio {together / alone:.2f}"
            )


if __name__ == "__main__":
    overhead(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
    two_threads(3)
