"""Word timestamps of the bindings against faster-whisper's `word_timestamps=True` with the same
weights: tiny.en as CTranslate2 runs it (the folder the converter read) and as VoiceFlow runs it
(models/whisper-tiny.en-float32), greedy decoding for both, on every speech fixture and on all of
them joined by silence (more than one 30-s window). Words are paired by their text (the two
runtimes may hear a word differently); the median |difference| of paired word starts must stay
under 0.1 s, and the worst is printed. A model converted before word timestamps existed still
transcribes, and asking it for words names the fix.
"""

from __future__ import annotations

import difflib
import os
import shutil
import statistics
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import REPO, SPEECH, TINY_EN, manifest

# The bound on the median |Δstart| of paired words.
MEDIAN_BOUND_S = 0.1
SAMPLE_RATE = 16000
GAP_S = 4.0  # silence between the fixtures of the long recording


def _ct2_tiny_en() -> Path:
    """The CTranslate2 tiny.en folder: $VOICEFLOW_CT2_TINY_EN, else ct2/tiny.en in
    $VOICEFLOW_CACHE or the repository's .cache (scripts/setup.sh model tiny.en fills it)."""
    value = os.environ.get("VOICEFLOW_CT2_TINY_EN")
    if value:
        return Path(value)
    cache = Path(os.environ.get("VOICEFLOW_CACHE") or REPO / ".cache")
    return cache / "ct2" / "tiny.en"


@pytest.fixture(scope="module")
def faster_whisper_model():
    from faster_whisper import WhisperModel

    folder = _ct2_tiny_en()
    assert (folder / "model.bin").is_file(), (
        f"no CTranslate2 tiny.en at {folder} (run `scripts/setup.sh model tiny.en`)")
    return WhisperModel(str(folder), device="cpu", compute_type="float32", cpu_threads=2)


def _audio(name: str) -> np.ndarray:
    from conftest import read_int16

    data, rate = read_int16(name)
    assert rate == SAMPLE_RATE and data.shape[1] == 1, name
    return data[:, 0].astype(np.float32) / 32768.0


def _long_recording() -> np.ndarray:
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    parts = []
    for name in manifest():
        parts += [gap, _audio(name)]
    return np.concatenate(parts + [gap])


def _theirs(model, audio: np.ndarray) -> list[tuple[str, float, float]]:
    segments, _ = model.transcribe(audio, beam_size=1, word_timestamps=True, language="en")
    return [(w.word, w.start, w.end) for s in segments for w in s.words]


def _ours(engine, audio: np.ndarray) -> list[tuple[str, float, float]]:
    t = engine.transcribe(audio, SAMPLE_RATE, word_timestamps=True)
    return [(w.word, w.start, w.end) for s in t.segments for w in s.words]


def _paired_start_differences(ours, theirs) -> list[tuple[float, str]]:
    """|Δstart| of the words both runtimes heard, paired in order by their text."""
    key = [w.strip().lower() for w, _, _ in ours], [w.strip().lower() for w, _, _ in theirs]
    matcher = difflib.SequenceMatcher(a=key[0], b=key[1], autojunk=False)
    pairs = [(ours[block.a + k], theirs[block.b + k])
             for block in matcher.get_matching_blocks() for k in range(block.size)]
    # Most words must pair up, or the comparison would prove little.
    assert len(pairs) >= 0.9 * max(len(ours), len(theirs)), (ours, theirs)
    return [(abs(a[1] - b[1]), a[0]) for a, b in pairs]


def test_word_starts_match_faster_whisper(engine, faster_whisper_model):
    recordings = {name: _audio(name) for name in manifest()}
    recordings["all fixtures, 4 s apart"] = _long_recording()
    differences = []
    for name, audio in recordings.items():
        ours, theirs = _ours(engine, audio), _theirs(faster_whisper_model, audio)
        assert ours and theirs, name
        differences += [(d, word, name) for d, word in _paired_start_differences(ours, theirs)]
    median = statistics.median(d for d, _, _ in differences)
    worst = max(differences)
    print(f"\nword starts vs faster-whisper: {len(differences)} words, median |Δ| {median:.3f} s, "
          f"worst {worst[0]:.3f} s ({worst[1]!r} in {worst[2]})")
    assert median < MEDIAN_BOUND_S


def _without_alignment(src: Path, dst: Path) -> None:
    """A copy of the model folder whose merged decoder lacks `alignment_scores`, as models
    converted before word timestamps were."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("decoder_model_merged.onnx"))
    model = onnx.load(src / "decoder_model_merged.onnx")
    if_node = next(n for n in model.graph.node if n.op_type == "If")
    # The If's outputs, its branches' outputs and the graph's are in the same order.
    index = list(if_node.output).index("alignment_scores")
    for outputs in [model.graph.output, if_node.output, *(a.g.output for a in if_node.attribute)]:
        del outputs[index]
    onnx.save(model, dst / "decoder_model_merged.onnx")


def test_a_model_without_alignment_transcribes_and_refuses_words(voiceflow, tmp_path):
    old = tmp_path / "old-tiny.en"
    _without_alignment(TINY_EN, old)
    with voiceflow.Engine(old, threads=2) as engine:
        assert engine.transcribe(SPEECH / "door.wav").text
        with pytest.raises(voiceflow.ModelError, match="re-convert"):
            engine.transcribe(SPEECH / "door.wav", word_timestamps=True)
