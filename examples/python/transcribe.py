"""Transcribes a WAV file with VoiceFlow and prints the text.

    python examples/python/transcribe.py [AUDIO.wav] [MODEL_DIR]
"""

import sys
from pathlib import Path

import voiceflow

repo = Path(__file__).resolve().parents[2]
audio = sys.argv[1] if len(sys.argv) > 1 else repo / "tests/fixtures/speech/report.wav"
model = sys.argv[2] if len(sys.argv) > 2 else repo / "models/whisper-tiny.en"

try:
    with voiceflow.Engine(model) as engine:
        transcript = engine.transcribe(audio)
except voiceflow.Error as error:
    sys.exit(f"voiceflow: {error}")

print(transcript.text)
for segment in transcript.segments:
    print(f"[{segment.start:6.2f} - {segment.end:6.2f}] {segment.text}", file=sys.stderr)
