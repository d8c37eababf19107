#!/usr/bin/env python3
"""Writes the log-mel reference used by voiceflow-core/tests/audio_mel.rs.

Needs numpy and faster-whisper (the dev venv has both):

    .venv/bin/python scripts/gen_mel_reference.py

Outputs, in voiceflow-core/tests/fixtures/audio/:

- mel_signal.wav: 7 s, 16 kHz, mono, 16-bit PCM. A chirp, digital silence,
  gated tone bursts over faint noise, loud seeded noise, silence.
- mel_<n_mels>_<variant>.f32: faster-whisper FeatureExtractor output for the
  signal read as int16 / 32768, as float32. Little-endian header of four u32
  (n_mels, total_frames, stride, count), then the [n_mels, count] row-major
  array features[:, ::stride][:, :count]. Variants:
  - "long":   FeatureExtractor(signal, padding=160) (faster-whisper long-form);
  - "window": signal zero-padded to 480000 samples, padding=0 (one 30-s window).

Everything is deterministic (fixed seed), so re-running gives the same files.
"""

import pathlib
import struct
import wave

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

SR = 16000
OUT = pathlib.Path(__file__).resolve().parent.parent / "voiceflow-core/tests/fixtures/audio"


def signal() -> np.ndarray:
    rng = np.random.default_rng(20240611)
    t = lambda seconds: np.arange(int(seconds * SR)) / SR  # noqa: E731
    # 0-2 s: linear chirp 100 Hz -> 7000 Hz.
    tc = t(2.0)
    chirp = 0.4 * np.sin(2 * np.pi * (100 * tc + (7000 - 100) / (2 * 2.0) * tc**2))
    # 2-3 s: digital silence.
    silence = np.zeros(SR)
    # 3-5 s: 100 ms bursts of 440 / 1000 / 3150 Hz every 200 ms over faint noise.
    tb = t(2.0)
    freqs = np.array([440.0, 1000.0, 3150.0])
    burst_index = (tb // 0.2).astype(int)
    gate = (tb % 0.2) < 0.1
    bursts = 0.3 * gate * np.sin(2 * np.pi * freqs[burst_index % 3] * tb)
    bursts += 0.002 * rng.standard_normal(tb.size)
    # 5-6.5 s: loud noise; 6.5-7 s: silence.
    noise = 0.1 * rng.standard_normal(int(1.5 * SR))
    tail = np.zeros(SR // 2)
    x = np.concatenate([chirp, silence, bursts, noise, tail])
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def write_features(name: str, feats: np.ndarray, stride: int, count: int) -> None:
    part = np.ascontiguousarray(feats[:, ::stride][:, :count], dtype="<f4")
    header = struct.pack("<4I", feats.shape[0], feats.shape[1], stride, part.shape[1])
    (OUT / name).write_bytes(header + part.tobytes())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pcm = signal()
    with wave.open(str(OUT / "mel_signal.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.astype("<i2").tobytes())
    audio = pcm.astype(np.float32) / 32768.0
    window_audio = np.pad(audio, (0, 480000 - audio.size))

    fe80 = FeatureExtractor(feature_size=80)
    long80 = fe80(audio, padding=160)
    write_features("mel_80_long.f32", long80, 2, long80.shape[1])
    win80 = fe80(window_audio, padding=0)
    assert win80.shape == (80, 3000)
    # Frames from 704 on are silence at the floor value; 720 covers the edge.
    write_features("mel_80_window.f32", win80, 2, 360)

    fe128 = FeatureExtractor(feature_size=128)
    long128 = fe128(audio, padding=160)
    write_features("mel_128_long.f32", long128, 8, long128.shape[1])
    print("frames:", long80.shape, win80.shape, long128.shape)


if __name__ == "__main__":
    main()
