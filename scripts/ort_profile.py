#!/usr/bin/env python3
"""Where a model's time goes, per ONNX Runtime operator: the encoder's window pass and the
decoder's prefill and single-token steps, from ONNX Runtime's own profiler.

    .venv/bin/python scripts/ort_profile.py models/whisper-tiny.en
    .venv/bin/python scripts/ort_profile.py models/whisper-tiny.en-float32 --threads 2 --steps 40

Runs the folder's graphs as the engine does (same ONNX Runtime, CPU, memory arena off,
`--threads` intra-op threads): one untimed warm-up, then `--runs` encoder passes over a window
of `--seconds` of log-mel frames, and per run a prefill of the 3-token English prompt followed
by `--steps` decoder steps at batch 1 (the tokens do not change the cost of a step). The
profiler's per-node times are summed per operator type and per graph phase; the table says
which operators hold the time (MatMul and DynamicQuantizeMatMul: the linear layers and the
51,864-column output projection; MultiHeadAttention; LayerNormalization; Gelu...). Session
creation is timed too (`load`). Profiling adds some overhead per node: read the shares, not
the absolute times.
"""

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort


def _session(path: Path, threads: int, profile_dir: str) -> tuple[ort.InferenceSession, float]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.enable_cpu_mem_arena = False
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(profile_dir) / path.stem)
    start = time.perf_counter()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session, time.perf_counter() - start


def _node_times(profile: str, phases: list[tuple[str, int]],
                projection: frozenset[str] = frozenset()) -> dict[str, collections.Counter]:
    """Per phase, operator type -> microseconds. `phases` names the session's runs in order
    (label, count); the profiler's `model_run` events mark where each run ends. Nodes named in
    `projection` (the merged decoder's main graph after its `If`), and the nodes ONNX Runtime
    fused from them (`NAME/...`), count as the output projection."""
    events = json.loads(Path(profile).read_text())
    labels = [label for label, count in phases for _ in range(count)]
    per_phase: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    run = 0
    for event in events:
        if event.get("cat") == "Session" and event["name"] == "model_run":
            run += 1
        elif event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event["args"]["op_name"]
            if run >= len(labels) or op == "If":  # an If's time is its branch's nodes'
                continue
            if event["name"].removesuffix("_kernel_time").split("/")[0] in projection:
                op += " (projection)"
            per_phase[labels[run]][op] += event["dur"]
    return per_phase


def _print_table(title: str, times: collections.Counter, runs: int) -> None:
    total = sum(times.values())
    print(f"\n{title}: {total / runs / 1000:.2f} ms per run (operators' own time)")
    for op, us in times.most_common(8):
        print(f"  {op:36s} {us / runs / 1000:8.2f} ms  {100 * us / total:5.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="model folder (encoder + merged decoder)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0, help="encoder window length")
    args = parser.parse_args()
    config = json.loads((args.model / "config.json").read_text())
    generation = json.loads((args.model / "generation_config.json").read_text())
    heads, layers = config["decoder_attention_heads"], config["decoder_layers"]
    head_dim = config["d_model"] // heads
    frames = int(round(args.seconds * 100)) // 2 * 2

    with tempfile.TemporaryDirectory() as profiles:
        encoder, encoder_load = _session(args.model / "encoder_model.onnx", args.threads,
                                         profiles)
        decoder, decoder_load = _session(args.model / "decoder_model_merged.onnx",
                                         args.threads, profiles)
        rng = np.random.default_rng(0)
        mel = rng.uniform(-1.0, 1.0, (1, config["num_mel_bins"], frames)).astype(np.float32)
        hidden = None
        for _ in range(args.runs + 1):
            hidden = encoder.run(None, {"input_features": mel})[0]
        inputs = {i.name for i in decoder.get_inputs()}
        outputs = [o.name for o in decoder.get_outputs()]
        prompt = [generation["decoder_start_token_id"]] + (
            [generation["lang_to_id"]["<|en|>"], generation["task_to_id"]["transcribe"]]
            if generation.get("is_multilingual") else [])
        prompt.append(generation["no_timestamps_token_id"])

        def call(ids: list[int], past: dict, first: bool) -> dict:
            past_len = past["past_key_values.0.decoder.key"].shape[2]
            feeds = {"input_ids": np.array([ids], np.int64),
                     "encoder_hidden_states": hidden,
                     "use_cache_branch": np.array([not first]), **past}
            if "position_ids" in inputs:
                feeds["position_ids"] = np.arange(past_len, past_len + len(ids))[None]
                feeds["attention_mask"] = np.ones((1, past_len + len(ids)), np.int64)
            return dict(zip(outputs, decoder.run(None, feeds)))

        empty = np.zeros((1, heads, 0, head_dim), np.float32)
        for _ in range(args.runs + 1):
            past = {f"past_key_values.{i}.{kind}.{kv}": empty for i in range(layers)
                    for kind in ("decoder", "encoder") for kv in ("key", "value")}
            out = call(prompt, past, first=True)
            cross = {k.replace("present.", "past_key_values."): v for k, v in out.items()
                     if ".encoder." in k}
            for _ in range(args.steps):
                past = {**cross, **{k.replace("present.", "past_key_values."): v
                                    for k, v in out.items() if ".decoder." in k}}
                out = call([int(np.argmax(out["logits"][0, -1]))], past, first=False)
        encoder_profile, decoder_profile = encoder.end_profiling(), decoder.end_profiling()
        enc = _node_times(encoder_profile, [("warm-up", 1), ("encoder", args.runs)])
        dec = _node_times(decoder_profile,
                          [("warm-up", 1 + args.steps)]
                          + [(phase, n) for _ in range(args.runs)
                             for phase, n in (("prefill", 1), ("step", args.steps))],
                          projection=frozenset(
                              n.name for n in onnx.load(args.model / "decoder_model_merged.onnx",
                                                        load_external_data=False).graph.node
                              if n.op_type != "If"))

    print(f"{args.model}: {args.threads} threads, load: encoder {encoder_load * 1000:.0f} ms, "
          f"decoder {decoder_load * 1000:.0f} ms")
    _print_table(f"encoder, {args.seconds:g}-s window", enc["encoder"], args.runs)
    _print_table("decoder prefill (prompt, cross K/V)", dec["prefill"], args.runs)
    _print_table("decoder step (one token, batch 1)", dec["step"], args.runs * args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
