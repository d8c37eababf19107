"""The voiceflow Python module's Engine: real tiny.en model, real ONNX Runtime, real speech."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from conftest import REPO, SPEECH, TINY_EN, converted, manifest, read_int16, word_errors, words

REPORT = manifest()["report.wav"]


def test_every_fixture_file_gives_the_manifest_words(engine):
    for name, text in manifest().items():
        heard = engine.transcribe(SPEECH / name).text
        # tiny.en drops an "a" here and there: one word off per sentence passes.
        assert word_errors(text, heard) <= 1, (name, heard)
    assert words(engine.transcribe(SPEECH / "report.wav").text) == words(REPORT)


def test_short_windows_hear_the_same_words(engine):
    assert words(engine.transcribe(SPEECH / "report.wav", short_windows=True).text) == words(REPORT)


def test_transcript_has_segments_timings_language_and_subtitles(engine):
    t = engine.transcribe(str(SPEECH / "report.wav"))
    assert words(t.text) == words(REPORT)
    assert t.language == "en" and t.language_probability == 1.0
    assert 2.0 < t.duration_s < 10.0
    assert t.segments and words(" ".join(s.text for s in t.segments)) == words(REPORT)
    first = t.segments[0]
    assert 0.0 <= first.start < first.end <= t.duration_s + 0.5
    assert first.tokens and first.avg_logprob < 0.0 and 0.0 <= first.no_speech_prob <= 1.0
    timings = t.timings
    assert 0.0 < timings.encoder_s and 0.0 < timings.decoder_s <= timings.total_s
    assert t.to_srt().startswith("1\n00:00:0") and first.text in t.to_srt()
    assert t.to_vtt().startswith("WEBVTT\n\n00:00:0")
    assert repr(t).startswith('Transcript(text="Please send') and "segments=" in repr(t)
    assert repr(first).startswith("Segment(start=")


def test_numpy_dtypes_and_layouts_give_the_same_words(engine):
    pcm, rate = read_int16("report.wav")
    mono = pcm[:, 0]
    as_float = mono.astype(np.float32) / 32768.0
    inputs = {
        "int16": mono,
        "float32": as_float,
        "float64": as_float.astype(np.float64),
        "stereo 2-D": np.stack([as_float, as_float], axis=1),
        "(frames, 1)": as_float[:, None],
        "strided": np.repeat(as_float, 2)[::2],
    }
    for label, audio in inputs.items():
        assert words(engine.transcribe(audio, rate).text) == words(REPORT), label


def test_other_rates_and_stereo_arrays_give_the_calling_words(engine):
    expected = words(manifest()["calling.wav"])
    for name in ["calling_44k_stereo.wav", "calling_8k.wav"]:
        pcm, rate = read_int16(name)
        assert rate != 16000
        assert words(engine.transcribe(pcm, rate).text) == expected, name
        assert words(engine.transcribe(SPEECH / name).text) == expected, name


def test_wav_bytes_and_path_like_inputs(engine):
    from_bytes = engine.transcribe((SPEECH / "report.wav").read_bytes())
    from_path = engine.transcribe(SPEECH / "report.wav")
    assert from_bytes.text == from_path.text
    assert words(from_path.text) == words(REPORT)


def test_every_format_as_path_and_bytes_gives_the_wavs_words(voiceflow, engine):
    expected = words(REPORT)
    for extension in ["flac", "mp3", "ogg", "m4a"]:
        path = converted(f"report.{extension}")
        assert words(engine.transcribe(path).text) == expected, extension
        assert words(engine.transcribe(str(path)).text) == expected, extension
        assert words(engine.transcribe(path.read_bytes()).text) == expected, extension
    # A cut header is InvalidAudioError, from bytes and from a path.
    with pytest.raises(voiceflow.InvalidAudioError, match="audio file"):
        engine.transcribe(converted("report.ogg").read_bytes()[:40])


def test_contradictory_wav_header_names_the_field(voiceflow, engine, tmp_path):
    wav = bytearray((SPEECH / "report.wav").read_bytes())
    wav[34:36] = (0).to_bytes(2, "little")  # bits_per_sample
    bad = tmp_path / "bad.wav"
    bad.write_bytes(bytes(wav))
    with pytest.raises(voiceflow.InvalidAudioError, match="bits_per_sample is 0"):
        engine.transcribe(bad)
    with pytest.raises(voiceflow.InvalidAudioError, match="bits_per_sample is 0"):
        engine.transcribe(bytes(wav))


def test_model_info_describes_tiny_en(engine):
    info = engine.model_info
    assert info.name == "whisper-tiny.en-float32"
    assert not info.multilingual and info.languages == ["en"]
    assert info.n_mels == 80 and info.vocab_size > 50000
    assert "whisper-tiny.en-float32" in repr(info)
    # The onnxruntime wheel's library has no CUDA provider: both graphs run on the CPU.
    assert (info.encoder_provider, info.decoder_provider) == ("CPU", "CPU")


def test_the_device_option_runs_on_the_cpu_or_says_why_cuda_cannot_be_had(voiceflow):
    cpu = voiceflow.Engine(TINY_EN, threads=1, device="cpu")
    assert (cpu.model_info.encoder_provider, cpu.model_info.decoder_provider) == ("CPU", "CPU")
    assert words(cpu.transcribe(SPEECH / "report.wav").text) == words(REPORT)
    cpu.close()
    # The wheel is built without CUDA, and its library has no CUDA provider.
    with pytest.raises(voiceflow.DeviceUnavailableError, match=r"^device cuda:1 is not available: .*cuda"):
        voiceflow.Engine(TINY_EN, threads=1, device="cuda:1")
    with pytest.raises(voiceflow.InvalidArgumentError, match="device"):
        voiceflow.Engine(TINY_EN, threads=1, device="gpu")


def test_bad_audio_raises_invalid_audio(voiceflow, engine):
    cases = {
        "empty": np.zeros(0, dtype=np.float32),
        "NaN": np.array([0.0, np.nan] * 8000, dtype=np.float32),
        "corrupt WAV bytes": b"RIFF\x10\x00\x00\x00WAVEjunk",
        "wrong dtype": np.zeros(16000, dtype=np.int32),
        "3-D": np.zeros((10, 10, 2), dtype=np.float32),
    }
    for label, audio in cases.items():
        with pytest.raises(voiceflow.InvalidAudioError) as raised:
            engine.transcribe(audio)
        assert isinstance(raised.value, ValueError), label
        assert str(raised.value), label
    with pytest.raises(voiceflow.InvalidAudioError, match="dtype int32"):
        engine.transcribe(np.zeros(16000, dtype=np.int32))


def test_bad_arguments_raise_invalid_argument(voiceflow, engine):
    audio = np.zeros(16000, dtype=np.float32)
    with pytest.raises(voiceflow.InvalidArgumentError, match="sample rate"):
        engine.transcribe(audio, 0)
    with pytest.raises(voiceflow.InvalidArgumentError, match="English-only"):
        engine.transcribe(audio, language="de")
    with pytest.raises(voiceflow.InvalidArgumentError, match="task"):
        engine.transcribe(audio, task="summarise")
    with pytest.raises(voiceflow.InvalidArgumentError, match="beam_size"):
        engine.transcribe(audio, beam_size=0)
    with pytest.raises(TypeError, match="numpy array, audio file bytes or a path"):
        engine.transcribe([0.0] * 16000)


def test_every_decoding_option_is_a_keyword_and_a_bad_value_is_named(voiceflow, engine):
    t = engine.transcribe(
        SPEECH / "report.wav",
        language="auto",
        best_of=2,
        patience=1.5,
        temperatures=[0.0, 0.5],
        compression_ratio_threshold=None,
        no_speech_threshold=None,
        condition_on_previous_text=False,
        seed=7,
        vad_filter=True,
        vad_speech_pad_ms=200,
    )
    assert words(t.text) == words(REPORT) and t.language == "en"
    audio = np.zeros(16000, dtype=np.float32)
    for option, value in [
        ("best_of", 0),
        ("patience", 0.0),
        ("temperatures", [0.0, -1.0]),
        ("logprob_threshold", float("nan")),
        ("vad_threshold", 2.0),
    ]:
        kwargs = {option: value, "vad_filter": option.startswith("vad_")}
        with pytest.raises(voiceflow.InvalidArgumentError, match=f"invalid option {option} = "):
            engine.transcribe(audio, **kwargs)


def test_missing_files_raise_io_and_model_errors(voiceflow, engine, tmp_path):
    with pytest.raises(voiceflow.IoError) as raised:
        engine.transcribe(tmp_path / "missing.wav")
    assert isinstance(raised.value, OSError) and raised.value.errno == 2
    assert raised.value.filename == str(tmp_path / "missing.wav")
    with pytest.raises(voiceflow.ModelError, match="whisper-none"):
        voiceflow.Engine(tmp_path / "whisper-none")
    with pytest.raises(voiceflow.InvalidArgumentError):
        voiceflow.Engine(TINY_EN, instances=0)


def test_an_onnx_runtime_error_shows_its_cause_in_the_message(voiceflow, tmp_path):
    for name in ("config.json", "generation_config.json", "tokenizer.json"):
        (tmp_path / name).symlink_to(TINY_EN / name)
    (tmp_path / "encoder_model.onnx").write_bytes(b"not an onnx graph")
    (tmp_path / "decoder_model_merged.onnx").write_bytes(b"")
    with pytest.raises(voiceflow.ModelError) as raised:
        voiceflow.Engine(tmp_path)
    message = str(raised.value)
    # Our context, then ONNX Runtime's own text, each once.
    assert message.startswith("malformed model file "), message
    assert "onnx: ONNX Runtime cannot load the graph: " in message, message
    assert message.count("Protobuf parsing failed") == 1, message
    cause = raised.value.__cause__
    assert isinstance(cause, RuntimeError), cause
    assert "Protobuf parsing failed" in str(cause) and str(cause) in message


def test_calls_after_close_raise_closed(voiceflow):
    engine = voiceflow.Engine(TINY_EN, threads=1)
    with engine as same:
        assert same is engine and not engine.closed
    assert engine.closed
    with pytest.raises(voiceflow.ClosedError, match="engine is closed"):
        engine.transcribe(SPEECH / "report.wav")


def test_metrics_count_requests_and_stages_as_dict_and_prometheus_text(voiceflow):
    with voiceflow.Engine(TINY_EN, threads=1) as engine:
        transcript = engine.transcribe(SPEECH / "report.wav")
        with pytest.raises(voiceflow.InvalidAudioError):
            engine.transcribe(np.zeros(0, dtype=np.float32))
        snapshot = engine.metrics()
        text = engine.metrics_prometheus()
    requests = {
        c["labels"]["outcome"]: c["value"] for c in snapshot["counters"] if c["name"] == "voiceflow_requests_total"
    }
    assert requests == {
        "admitted": 2,
        "completed": 1,
        "failed": 1,
        "cancelled": 0,
        "rejected": 0,
        "timed_out": 0,
    }
    histograms = {h["name"]: h for h in snapshot["histograms"]}
    audio = histograms["voiceflow_audio_seconds"]
    assert audio["count"] == 1 and audio["sum"] == pytest.approx(transcript.duration_s, abs=1e-9)
    total = histograms["voiceflow_transcription_seconds"]
    assert total["count"] == 1 and 0 < total["p50"] <= total["max"]
    assert set(total) == {"name", "labels", "count", "sum", "mean", "p50", "p95", "p99", "max"}
    assert 'voiceflow_requests_total{outcome="failed"} 1\n' in text
    assert "voiceflow_transcription_seconds_bucket{le=\"+Inf\"} 1\n" in text
    assert text.endswith("# EOF\n")


def test_on_segment_gets_every_segment_with_progress(engine):
    seen = []
    t = engine.transcribe(SPEECH / "report.wav", on_segment=lambda s, p: seen.append((s.text, p.fraction, p.total_s)))
    assert [text for text, _, _ in seen] == [s.text for s in t.segments]
    assert all(0.0 < fraction <= 1.0 for _, fraction, _ in seen)
    assert seen[-1][2] == pytest.approx(t.duration_s, abs=0.1)


def long_audio() -> np.ndarray:
    """Every fixture spoken after the other (about 20 s, several segments)."""
    clips = [read_int16(name)[0][:, 0] for name in manifest()]
    return np.concatenate(clips).astype(np.float32) / 32768.0


def test_returning_false_stops_and_keeps_the_segments_so_far(engine):
    audio = long_audio()
    full = engine.transcribe(audio)
    assert len(full.segments) >= 3
    calls = []
    stopped = engine.transcribe(audio, on_segment=lambda s, p: calls.append(s.text) or False)
    assert calls == [full.segments[0].text]
    assert [s.text for s in stopped.segments] == calls


def test_an_exception_in_on_segment_is_raised_unchanged(engine):
    class Stop(Exception):
        pass

    error = Stop("from the callback")
    calls = []

    def on_segment(segment, progress):
        calls.append(segment.text)
        raise error

    with pytest.raises(Stop) as raised:
        engine.transcribe(long_audio(), on_segment=on_segment)
    assert raised.value is error and len(calls) == 1


def test_a_full_engine_raises_overloaded_and_a_callback_may_use_the_engine(voiceflow):
    door = SPEECH / "door.wav"
    with voiceflow.Engine(TINY_EN, threads=1, max_concurrent=2, max_queued=0) as engine:
        nested = []
        # The callback runs with the outer call's place taken: a nested call works.
        engine.transcribe(SPEECH / "report.wav", on_segment=lambda s, p: nested.append(engine.transcribe(door).text))
        # The nested call hears what a call of its own hears (tiny.en: "light" for "lights").
        assert nested == [engine.transcribe(door).text]
        assert word_errors(manifest()["door.wav"], nested[0]) <= 1, nested
    with voiceflow.Engine(TINY_EN, threads=1, max_concurrent=1, max_queued=0) as engine:
        with pytest.raises(voiceflow.OverloadedError, match="1 transcriptions running and 0 waiting"):
            engine.transcribe(SPEECH / "report.wav", on_segment=lambda s, p: engine.transcribe(door))


def test_a_timeout_raises_request_timeout_and_bad_timeouts_are_rejected(voiceflow, engine):
    with pytest.raises(voiceflow.RequestTimeoutError):
        engine.transcribe(long_audio(), timeout=0.001)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(voiceflow.InvalidArgumentError, match="timeout"):
            engine.transcribe(SPEECH / "door.wav", timeout=bad)
    # A generous limit changes nothing: the same text as without one.
    assert engine.transcribe(SPEECH / "door.wav", timeout=60.0).text == engine.transcribe(SPEECH / "door.wav").text


def test_the_gil_is_released_while_the_engine_works(engine):
    """With a switch interval of 1000 s, Python never takes the GIL from a thread that holds it:
    the counting thread runs only if transcribe() lets go of it. Speed plays no part (the
    two-thread speed-up is measured by `make bench-python`)."""
    counted = 0
    done = False
    go = threading.Event()

    def count():
        nonlocal counted
        go.wait()
        while not done:
            counted += 1
            time.sleep(0)  # gives the GIL back at once

    counter = threading.Thread(target=count)
    counter.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        go.set()
        engine.transcribe(SPEECH / "report.wav")
        seen = counted
    finally:
        sys.setswitchinterval(interval)
        done = True
        counter.join()
    assert seen > 0, "no Python code ran while transcribe() was working: it held the GIL"


def test_two_threads_transcribe_at_once_on_two_instances(voiceflow):
    """The second transcription starts and delivers a segment while the first is paused in its
    callback, holding its instance: with one instance it could not (and the wait would end
    unanswered)."""
    audio = long_audio()
    with voiceflow.Engine(TINY_EN, threads=1, instances=2) as engine:
        second_segment = threading.Event()
        second = threading.Thread(
            target=lambda: engine.transcribe(audio, on_segment=lambda s, p: second_segment.set() or False))
        answered = []

        def first_segment(segment, progress):
            second.start()
            answered.append(second_segment.wait(timeout=600))
            return False

        engine.transcribe(audio, on_segment=first_segment)
        second.join()
    assert answered == [True]


def test_the_onnxruntime_package_provides_the_runtime_without_ort_dylib_path(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        import voiceflow
        from voiceflow import _native

        library = voiceflow.bundled_runtime_library()
        assert "onnxruntime" not in sys.modules, "found without importing onnxruntime"
        assert library and "onnxruntime" in library and "capi" in library, library
        try:
            _native.Engine({str(TINY_EN)!r})
        except voiceflow.RuntimeNotFoundError:
            pass
        else:
            raise AssertionError("ONNX Runtime was found without the package's default")
        engine = voiceflow.Engine({str(TINY_EN)!r}, threads=2)
        print(engine.transcribe({str(SPEECH / "report.wav")!r}).text)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DYLIB_PATH", "VOICEFLOW_RUNTIME_DIR")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert words(done.stdout) == words(REPORT)


def test_the_example_prints_the_words():
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "transcribe.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert words(done.stdout) == words(REPORT)
