#!/usr/bin/env python3
"""Word error rate of VoiceFlow vs faster-whisper on a folder of reference recordings.

Both systems run the same Whisper weights on CPU with the same thread count,
greedy decoding (temperature fallback on), English. The folder needs a
`manifest.tsv` with `file` and `reference_text` columns (an empty reference
means "no speech": every word produced there counts as an insertion).

    .venv/bin/python scripts/eval_wer.py --audio ../shared/audio --threads 2

VoiceFlow is run through the release `voiceflow` program (build it first:
`cargo build --release --bin voiceflow`) so the number measures what users run.
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(word: str) -> list[str]:
    """'10' -> ['ten'], '42' -> ['forty', 'two']; other words unchanged."""
    if not word.isdigit() or int(word) >= 100:
        return [word]
    n = int(word)
    if n < 20:
        return [ONES[n]]
    return [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])


def normalize(text: str) -> list[str]:
    """Lowercase, drop punctuation (keep inner apostrophes), split hyphens,
    spell numbers below 100, 'mr' -> 'mister'."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)
    words = [w for word in text.split() for w in spell_number(word)]
    return ["mister" if w == "mr" else w for w in words]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def run_voiceflow(exe, files, model_dir, threads, extra):
    cmd = [str(exe), "transcribe", "--model", str(model_dir), "--threads", str(threads),
           "--format", "json", *extra, *map(str, files)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    results = {}
    for line in out.splitlines():
        obj = json.loads(line)
        results[Path(obj["file"]).name] = (obj["text"], obj["processing_s"])
    return results, wall


def run_faster_whisper(files, ct2_dir, threads):
    from faster_whisper import WhisperModel

    model = WhisperModel(str(ct2_dir), device="cpu", compute_type="float32", cpu_threads=threads)
    results = {}
    t0 = time.perf_counter()
    for f in files:
        s = time.perf_counter()
        segments, _ = model.transcribe(str(f), beam_size=1, language="en")
        text = " ".join(seg.text.strip() for seg in segments)
        results[Path(f).name] = (text, time.perf_counter() - s)
    return results, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", type=Path, required=True, help="folder with manifest.tsv and WAVs")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "whisper-tiny.en-float32")
    ap.add_argument("--ct2", type=Path, default=ROOT / ".cache" / "ct2" / "tiny.en",
                    help="the same weights in CTranslate2 format, for faster-whisper")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release" / "voiceflow",
                    help="the voiceflow program to evaluate")
    ap.add_argument("--json", type=Path, help="also write per-file results here")
    ap.add_argument("--voiceflow-arg", action="append", default=[], dest="voiceflow_args",
                    help="an extra argument for `voiceflow transcribe` (repeatable), e.g. --short-windows")
    args = ap.parse_args()

    with open(args.audio / "manifest.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    files = [args.audio / r["file"] for r in rows]
    refs = {r["file"]: normalize(r["reference_text"]) for r in rows}

    ours, ours_wall = run_voiceflow(args.bin, files, args.model, args.threads, args.voiceflow_args)
    theirs, theirs_wall = run_faster_whisper(files, args.ct2, args.threads)

    totals = {"voiceflow": [0, 0], "faster-whisper": [0, 0]}
    per_file = []
    print(f"{'file':38} {'ref':>4} {'vf err':>6} {'fw err':>6}  {'vf s':>6} {'fw s':>6}")
    for name, ref in refs.items():
        row = {"file": name, "ref_words": len(ref)}
        for system, res in (("voiceflow", ours), ("faster-whisper", theirs)):
            text, secs = res[name]
            errors = edit_distance(ref, normalize(text))
            totals[system][0] += errors
            totals[system][1] += len(ref)
            row[system] = {"text": text, "errors": errors, "seconds": secs}
        per_file.append(row)
        print(f"{name:38} {len(ref):4d} {row['voiceflow']['errors']:6d} {row['faster-whisper']['errors']:6d}"
              f"  {row['voiceflow']['seconds']:6.2f} {row['faster-whisper']['seconds']:6.2f}")
        if not ref:
            for system in ("voiceflow", "faster-whisper"):
                if row[system]["text"].strip():
                    print(f"  {system} invented text on a no-speech file: {row[system]['text']!r}")
    print()
    for system, (err, n) in totals.items():
        print(f"{system:15} WER {100.0 * err / n:6.2f}%  ({err} errors / {n} words)")
    print(f"wall time: voiceflow {ours_wall:.1f} s (one process, model load included), "
          f"faster-whisper {theirs_wall:.1f} s (model load excluded)")
    if args.json:
        args.json.write_text(json.dumps({"totals": totals, "files": per_file}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
