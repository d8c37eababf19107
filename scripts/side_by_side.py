#!/usr/bin/env python3
"""VoiceFlow and faster-whisper side by side: time per clip, load time, peak
memory and word error rate, on the same files, weights and threads.

    .venv/bin/python scripts/side_by_side.py                      # the fixtures
    .venv/bin/python scripts/side_by_side.py --audio DIR          # recordings + manifest.tsv
    .venv/bin/python scripts/side_by_side.py --model models/whisper-tiny.en-float32 --long-windows

Each engine runs in a child process of its own (the Python bindings, as
installed by `make python-bindings`, and faster-whisper); the children take
turns (`--turns`, starting engine alternating), so that a busy machine slows
both alike. A child loads its model (timed: `load_s`), transcribes the first
file once untimed, then each file `--repeats` times, timing each call with
the same clock. A clip's time is the median over every timed call of every
turn; ratios (VoiceFlow / faster-whisper) are of medians measured in this run.
Both decode greedily at temperature 0 with fallback, in English, with
timestamps and conditioning on previous text (both engines' defaults).

Peak memory (`rss_mb`) is the child's peak resident size, the Python
interpreter included for both; `--cli-rss` also reports the peak of one
`voiceflow transcribe` process (no Python) over the longest file.

The manifest (tab-separated, a header naming `file` and `text` or
`reference_text`) gives the references for the word error rate, normalised as
scripts/eval_wer.py does.
"""

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from eval_wer import edit_distance, normalize  # noqa: E402

ENGINES = ("voiceflow", "faster-whisper")


def transcriber(engine: str, args):
    """A loaded engine as a function from a file to its text, and the load time."""
    start = time.perf_counter()
    if engine == "voiceflow":
        import voiceflow

        model = voiceflow.Engine(str(args.model), threads=args.threads)
        options = {"beam_size": 1, "language": "en", "short_windows": not args.long_windows}

        def run(path: str) -> str:
            return model.transcribe(path, **options).text.strip()
    else:
        from faster_whisper import WhisperModel

        model = WhisperModel(str(args.ct2), device="cpu", compute_type=args.compute_type,
                             cpu_threads=args.threads, num_workers=1)

        def run(path: str) -> str:
            segments, _ = model.transcribe(path, beam_size=1, language="en")
            return " ".join(segment.text.strip() for segment in segments)
    return run, time.perf_counter() - start


def worker(args) -> None:
    """One child: load, warm up, time every file `repeats` times; JSON on stdout."""
    files = json.loads(args.files)
    run, load_s = transcriber(args.worker, args)
    run(files[0])
    times = {name: [] for name in files}
    texts = {}
    for _ in range(args.repeats):
        for name in files:
            start = time.perf_counter()
            texts[name] = run(name)
            times[name].append(time.perf_counter() - start)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"load_s": load_s, "times": times, "texts": texts, "rss_mb": rss_mb}, sys.stdout)


def child(engine: str, files: list[str], args) -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, "--files", json.dumps(files),
           "--model", str(args.model), "--ct2", str(args.ct2), "--threads", str(args.threads),
           "--repeats", str(args.repeats), "--compute-type", args.compute_type]
    if args.long_windows:
        cmd.append("--long-windows")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def cli_rss_mb(args, file: str) -> float:
    """Peak resident size of one `voiceflow transcribe` process on `file`."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
             "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    cmd = [str(args.bin), "transcribe", "--model", str(args.model), "--threads",
           str(args.threads), "--language", "en", file]
    if not args.long_windows:
        cmd.append("--short-windows")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], check=True, capture_output=True,
                         text=True).stdout
    return int(out.strip()) / 1024


def references(folder: Path) -> dict[str, str | None]:
    """File path -> reference text (None when the manifest has no text for it)."""
    manifest = folder / "manifest.tsv"
    if not manifest.is_file():
        return {str(path): None for path in sorted(folder.glob("*.wav"))}
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    column = "reference_text" if "reference_text" in rows[0] else "text"
    return {str(folder / row["file"]): row[column] for row in rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", type=Path, default=ROOT / "tests" / "fixtures" / "speech",
                    help="folder of recordings, with a manifest.tsv for the WER")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "whisper-tiny.en",
                    help="VoiceFlow's model folder")
    ap.add_argument("--ct2", type=Path, default=ROOT / ".cache" / "ct2" / "tiny.en",
                    help="the same weights in CTranslate2 format, for faster-whisper")
    ap.add_argument("--compute-type", default="int8",
                    help="faster-whisper's compute_type (int8, the aim's reference; float32)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--turns", type=int, default=2, help="child processes per engine")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per file per child")
    ap.add_argument("--long-windows", action="store_true",
                    help="VoiceFlow pads every window to 30 s (short_windows=False), as faster-whisper")
    ap.add_argument("--cli-rss", action="store_true",
                    help="also the peak memory of `voiceflow transcribe` (--bin) on the longest file")
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release" / "voiceflow")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--files", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0

    refs = references(args.audio)
    files = list(refs)
    runs = {engine: [] for engine in ENGINES}
    for turn in range(args.turns):
        order = ENGINES if turn % 2 == 0 else ENGINES[::-1]
        for engine in order:
            runs[engine].append(child(engine, files, args))

    def median_time(engine: str, name: str) -> float:
        return statistics.median(t for run in runs[engine] for t in run["times"][name])

    print(f"{'file':34} {'audio s':>7} {'vf s':>7} {'fw s':>7} {'vf/fw':>6} {'vf err':>6} "
          f"{'fw err':>6} {'words':>5}")
    total = {engine: 0.0 for engine in ENGINES}
    errors = {engine: 0 for engine in ENGINES}
    words = 0
    rows = []
    for name in files:
        medians = {engine: median_time(engine, name) for engine in ENGINES}
        texts = {engine: runs[engine][-1]["texts"][name] for engine in ENGINES}
        ref = normalize(refs[name]) if refs[name] is not None else None
        errs = {engine: (edit_distance(ref, normalize(texts[engine])) if ref is not None else None)
                for engine in ENGINES}
        for engine in ENGINES:
            total[engine] += medians[engine]
            errors[engine] += errs[engine] or 0
        words += len(ref or [])
        rows.append({"file": name, "seconds": medians, "texts": texts, "errors": errs})
        err = lambda e: "-" if errs[e] is None else str(errs[e])  # noqa: E731
        print(f"{Path(name).name[:34]:34} {audio_seconds(name):7.2f} {medians['voiceflow']:7.3f} "
              f"{medians['faster-whisper']:7.3f} {medians['voiceflow'] / medians['faster-whisper']:6.2f} "
              f"{err('voiceflow'):>6} {err('faster-whisper'):>6} {len(ref or []):5d}")
    print()
    print(f"all files: VoiceFlow {total['voiceflow']:.2f} s, faster-whisper ({args.compute_type}) "
          f"{total['faster-whisper']:.2f} s, ratio {total['voiceflow'] / total['faster-whisper']:.2f}")
    for engine in ENGINES:
        loads = [run["load_s"] for run in runs[engine]]
        rss = max(run["rss_mb"] for run in runs[engine])
        wer = f"WER {100.0 * errors[engine] / words:.2f}% ({errors[engine]}/{words})" if words else ""
        print(f"{engine:15} load {statistics.median(loads):.3f} s (median of {len(loads)}), "
              f"peak RSS {rss:.0f} MB (Python included)  {wer}")
    if args.cli_rss:
        longest = max(files, key=audio_seconds)
        print(f"voiceflow transcribe {Path(longest).name}: peak RSS {cli_rss_mb(args, longest):.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "files": rows}, indent=1))
    return 0


def audio_seconds(path: str) -> float:
    import wave

    try:
        with wave.open(path) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError):
        return float("nan")


if __name__ == "__main__":
    sys.exit(main())
