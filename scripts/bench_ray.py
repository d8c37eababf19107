#!/usr/bin/env python3
"""Throughput of voiceflow.ray.transcribe_dataset against a plain Python loop.

    .venv/bin/python scripts/bench_ray.py [AUDIO_DIR] [--seconds 90] [--repeat 2]

Without AUDIO_DIR, the speech fixtures are copied into a temporary folder
until it holds about --seconds of audio. Pairs compared at the same CPU use:

    loop, Engine(threads=1)          vs  Ray, 1 actor  x 1 thread
    loop, Engine(threads=2)          vs  Ray, 2 actors x 1 thread

Every timing includes loading the model (the loop's Engine, each Ray
actor's), not starting Ray itself (ray.init, done once, untimed). The Ray
runs write Parquet like the CLI does. Best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "whisper-tiny.en"
SPEECH = REPO / "tests" / "fixtures" / "speech"


def seconds_of(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def build_corpus(folder: Path, target_s: float) -> list[Path]:
    sources = sorted(SPEECH.glob("*.wav"))
    files: list[Path] = []
    total, copy = 0.0, 0
    while total < target_s:
        for source in sources:
            dest = folder / f"{copy:03d}-{source.name}"
            shutil.copy(source, dest)
            files.append(dest)
            total += seconds_of(source)
        copy += 1
    return files


def loop(files: list[Path], threads: int) -> float:
    import voiceflow

    started = time.perf_counter()
    with voiceflow.Engine(MODEL, threads=threads) as engine:
        for f in files:
            engine.transcribe(f.read_bytes())
    return time.perf_counter() - started


def on_ray(folder: Path, actors: int, out: Path) -> tuple[float, int]:
    import pyarrow.parquet as pq

    from voiceflow.ray import transcribe_dataset

    started = time.perf_counter()
    transcribe_dataset(folder, MODEL, actors=actors, threads_per_actor=1, output=out, batch_size=1)
    wall = time.perf_counter() - started
    errors = pq.read_table(out, columns=["error"]).column("error")
    return wall, len(errors) - errors.null_count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio_dir", nargs="?", type=Path, help="WAV files (default: the fixtures, repeated)")
    parser.add_argument("--seconds", type=float, default=90.0, help="audio to build from the fixtures")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, best kept")
    args = parser.parse_args()

    import ray
    import ray.data

    work = Path(tempfile.mkdtemp(prefix="vfbench-"))
    try:
        if args.audio_dir is not None:
            folder = args.audio_dir.resolve()
            files = sorted(folder.rglob("*.wav"))
        else:
            folder = work / "corpus"
            folder.mkdir()
            files = build_corpus(folder, args.seconds)
        if not files:
            print(f"no .wav files in {folder}", file=sys.stderr)
            return 2
        audio = sum(seconds_of(f) for f in files)

        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=200 * 1024 * 1024,
            _temp_dir=str(work / "ray"),
            log_to_driver=False,
        )
        ray.data.DataContext.get_current().enable_progress_bars = False
        on_ray(folder, 1, work / "warmup.parquet")  # Ray's first job starts its own helpers

        def best(run) -> float:  # type: ignore[no-untyped-def]
            return min(run() for _ in range(args.repeat))

        results: dict[str, float] = {}
        results["loop, 1 engine x 1 thread"] = best(lambda: loop(files, 1))
        results["ray,  1 actor  x 1 thread"] = best(lambda: on_ray(folder, 1, work / "a1.parquet")[0])
        results["loop, 1 engine x 2 threads"] = best(lambda: loop(files, 2))
        results["ray,  2 actors x 1 thread"] = best(lambda: on_ray(folder, 2, work / "a2.parquet")[0])
        errors = on_ray(folder, 2, work / "check.parquet")[1]
        ray.shutdown()

        print(f"{len(files)} files, {audio:.1f} s of audio, {os.cpu_count()} CPUs, best of {args.repeat}, {errors} errors")
        for name, wall in results.items():
            print(f"  {name:28s} {wall:6.2f} s  {audio / wall:6.2f} audio s/s")
        one = results["ray,  1 actor  x 1 thread"] / results["loop, 1 engine x 1 thread"]
        two = results["ray,  2 actors x 1 thread"] / results["loop, 1 engine x 2 threads"]
        print(f"  ray / loop wall time: {one:.2f} (1 CPU), {two:.2f} (2 CPUs)")
        return 0
    finally:
        if ray.is_initialized():
            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
