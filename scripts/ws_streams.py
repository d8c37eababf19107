"""N concurrent dictation streams against `voiceflow serve`, in real time.

Each stream opens /v1/stream, sends a fixture (16 kHz mono WAV) in 100-ms
frames at the pace a microphone would, then 1 s of silence and `end`, and
waits for `done`. A stream succeeds when it gets `ready`, at least one final
within one wrong word of the fixture's text, `done`, and close code 1000.

    .venv/bin/python scripts/ws_streams.py --url ws://127.0.0.1:8080 \
        --token-file tokens --streams 100 [--wav tests/fixtures/speech/report.wav]

Prints one JSON line: streams, successes, success rate, latency of the last
final after the end of the speech (P50/P95/max), refusals by error code.
A first taste of the load-test suite (issue 14), which will replace it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import wave
from collections import Counter
from pathlib import Path

from websockets.asyncio.client import connect

from eval_wer import edit_distance, normalize

REPO = Path(__file__).resolve().parents[1]
FRAME_S = 0.1
TRAILING_SILENCE_S = 1.0


def word_errors(reference: str, heard: str) -> int:
    """Word edit distance after the evaluation's normalisation."""
    return edit_distance(normalize(reference), normalize(heard))


async def one_stream(url: str, token: str, frames: list[bytes], expected: str) -> dict:
    outcome: dict = {"ok": False, "error": None, "latency_s": None}
    try:
        # The server pings; the client answers (its own pings are off, so that
        # a client process starved of CPU does not fail its streams).
        async with connect(url + "/v1/stream", open_timeout=60, max_size=None, ping_interval=None,
                           additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            ready = json.loads(await ws.recv())
            if ready["type"] != "ready":
                outcome["error"] = ready.get("code", ready["type"])
                return outcome
            speech_end = 0.0

            async def send() -> None:
                nonlocal speech_end
                started = time.perf_counter()
                for i, frame in enumerate(frames):
                    await asyncio.sleep(max(0.0, started + i * FRAME_S - time.perf_counter()))
                    await ws.send(frame)
                    if i == len(frames) - int(TRAILING_SILENCE_S / FRAME_S) - 1:
                        speech_end = time.perf_counter()
                await ws.send(json.dumps({"type": "end"}))

            sender = asyncio.create_task(send())
            finals, last_final, done = [], None, False
            async for text in ws:
                message = json.loads(text)
                if message["type"] == "final":
                    finals.append(message["text"])
                    last_final = time.perf_counter()
                elif message["type"] == "error":
                    outcome["error"] = message["code"]
                elif message["type"] == "done":
                    done = True
            await sender
            heard = " ".join(finals)
            outcome["ok"] = (done and ws.close_code == 1000 and outcome["error"] is None
                             and word_errors(expected, heard) <= 1)
            if last_final is not None and speech_end:
                outcome["latency_s"] = last_final - speech_end
            if not outcome["ok"] and outcome["error"] is None:
                outcome["error"] = f"close {ws.close_code}, heard {heard!r}"
    except Exception as e:  # a refused handshake, a reset: the stream failed
        outcome["error"] = type(e).__name__ + ": " + str(e)[:80]
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8080")
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--wav", type=Path, default=REPO / "tests/fixtures/speech/report.wav")
    args = parser.parse_args()
    manifest = dict(
        line.split("\t", 1)
        for line in (args.wav.parent / "manifest.tsv").read_text().splitlines()[1:] if line
    )
    expected = manifest[args.wav.name]
    with wave.open(str(args.wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        pcm = w.readframes(w.getnframes()) + bytes(int(2 * 16000 * TRAILING_SILENCE_S))
    step = int(2 * 16000 * FRAME_S)
    frames = [pcm[i:i + step] for i in range(0, len(pcm), step)]
    token = next(line.strip() for line in args.token_file.read_text().splitlines()
                 if line.strip() and not line.startswith("#"))

    async def run() -> list[dict]:
        return await asyncio.gather(*(one_stream(args.url, token, frames, expected)
                                      for _ in range(args.streams)))

    started = time.perf_counter()
    results = asyncio.run(run())
    latencies = sorted(r["latency_s"] for r in results if r["ok"] and r["latency_s"] is not None)
    ok = sum(r["ok"] for r in results)

    def quantile(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3) if latencies else None

    print(json.dumps({
        "streams": args.streams,
        "successes": ok,
        "success_rate": round(ok / args.streams, 4),
        "wall_s": round(time.perf_counter() - started, 2),
        "final_after_speech_s": {
            "p50": round(statistics.median(latencies), 3) if latencies else None,
            "p95": quantile(0.95),
            "max": round(latencies[-1], 3) if latencies else None,
        },
        "failures": dict(Counter(str(r["error"]) for r in results if not r["ok"])),
    }))


if __name__ == "__main__":
    main()
