"""Engine.stream(): fixtures joined with silence are pushed in chunks (numpy
float32, int16, s16le bytes); the committed words, their times, and that
committed text never changes are checked."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import voiceflow

from conftest import TINY_EN, manifest, read_int16, word_errors, words

# One wrong word in a short sentence passes (as the Rust stream tests).
CLIP_WER = 0.15
GAP_S = 1.5


@pytest.fixture(scope="module")
def engine():
    with voiceflow.Engine(TINY_EN, threads=1) as engine:
        yield engine


def joined(files: list[str]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """16-kHz int16 mono: GAP_S of silence before each clip and after the last."""
    gap = np.zeros(int(GAP_S * 16000), dtype=np.int16)
    parts, spans, at = [], [], 0
    for name in files:
        clip, rate = read_int16(name)
        assert rate == 16000 and clip.shape[1] == 1
        parts += [gap, clip[:, 0]]
        at += len(gap)
        spans.append((at / 16000, (at + len(clip)) / 16000))
        at += len(clip)
    parts.append(gap)
    return np.concatenate(parts), spans


def check_finals(finals, transcript, files, spans):
    assert [(s.start, s.end, s.text) for s in transcript.segments] == [
        (s.start, s.end, s.text) for s in finals
    ], "the transcript must be exactly the finals"
    previous = 0.0
    for s in finals:
        assert previous <= s.start <= s.end, finals
        previous = s.end
    texts = manifest()
    for name, (start, end) in zip(files, spans):
        heard = " ".join(s.text for s in finals if s.start >= start - 0.2 and s.end <= end + 0.2)
        reference = texts[name]
        assert word_errors(reference, heard) <= CLIP_WER * len(words(reference)), (name, heard)


@pytest.mark.parametrize("form", ["float32", "int16", "bytes"])
def test_a_stream_commits_each_sentence_in_its_clip(engine, form):
    files = ["weather.wav", "door.wav"]
    audio, spans = joined(files)
    finals, partials = [], []
    session = engine.stream(16000, on_partial=partials.append, on_final=finals.append)
    for at in range(0, len(audio), 1600):
        chunk = audio[at : at + 1600]
        if form == "float32":
            session.push(chunk.astype(np.float32) / 32768)
        elif form == "int16":
            session.push(chunk)
        else:
            session.push(chunk.astype("<i2").tobytes())
    transcript = session.finish()
    check_finals(finals, transcript, files, spans)
    for p in partials:
        assert isinstance(p, voiceflow.Partial) and 0 <= p.start <= p.end


def test_silence_and_noise_commit_nothing(engine):
    rng = np.random.default_rng(7)
    audio = np.concatenate(
        [np.zeros(32000, np.float32), rng.normal(0, 0.05, 48000).astype(np.float32)]
    )
    heard = []
    with engine.stream(on_partial=heard.append, on_final=heard.append) as session:
        for at in range(0, len(audio), 4000):
            session.push(audio[at : at + 4000])
        transcript = session.finish()
    assert transcript.text == "" and heard == []


def test_stereo_at_another_rate_and_the_context_manager(engine):
    clip, rate = read_int16("calling_44k_stereo.wav")
    silence = np.zeros((rate, 2), dtype=np.int16)
    with engine.stream(rate, language="en") as session:
        for part in (silence, clip, silence):
            for at in range(0, len(part), 4410):
                session.push(part[at : at + 4410])
        transcript = session.finish()
    reference = manifest()["calling.wav"]
    assert word_errors(reference, transcript.text) <= CLIP_WER * len(words(reference))
    assert 0.9 < transcript.segments[0].start < 1.5 + 1.0


def test_a_callback_exception_stops_the_session_and_reaches_finish(engine):
    audio, _ = joined(["report.wav", "door.wav"])

    def boom(segment):
        raise KeyError("from on_final")

    session = engine.stream(on_final=boom)
    session.push(audio)
    with pytest.raises(KeyError, match="from on_final"):
        session.finish()


def test_finish_releases_the_gil(engine):
    audio, _ = joined(["sailor.wav"])
    session = engine.stream(partial_interval=None)
    session.push(audio)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    transcript = session.finish()
    stop.set()
    counter.join()
    assert transcript.text
    # The counter ran while finish() waited for the transcription.
    assert len(ticks) > 10


def test_bad_input_is_a_typed_error(engine):
    session = engine.stream()
    with pytest.raises(voiceflow.InvalidAudioError):
        session.push(b"\x00\x01\x02")
    with pytest.raises(voiceflow.InvalidAudioError):
        session.push(np.array([np.nan], dtype=np.float32))
    with pytest.raises(TypeError):
        session.push("not audio")
    session.finish()
    with pytest.raises(voiceflow.ClosedError):
        session.push(np.zeros(160, np.float32))
    with pytest.raises(voiceflow.InvalidArgumentError):
        engine.stream(partial_interval=0)
    with pytest.raises(voiceflow.ModelError):
        engine.stream(vad_model="/nonexistent/silero_vad.onnx")
