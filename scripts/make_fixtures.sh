#!/usr/bin/env bash
# Regenerates the committed speech fixtures and the `make run` sample with
# espeak-ng and sox (apt-get install espeak-ng sox). The WAVs are committed, so
# neither tool is needed to build or test; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/speech
mkdir -p "$out" examples/samples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'file\ttext\n' > "$out/manifest.tsv"
while IFS=$'\t' read -r name text; do
    espeak-ng -v en-us -s 145 -w "$tmp/$name.wav" "$text"
    sox "$tmp/$name.wav" -r 16000 -b 16 "$out/$name.wav"
    printf '%s.wav\t%s\n' "$name" "$text" >> "$out/manifest.tsv"
done <<'LIST'
report	Please send the quarterly report to the finance team by Friday.
weather	The weather today is sunny with a light breeze from the west.
door	Open the door and turn on the lights in the kitchen.
calling	Thank you for calling, how can I help you today?
sailor	My favorite book is about a sailor who crosses the ocean alone.
LIST
# The same utterance in other container formats: 44.1 kHz stereo and 8 kHz.
sox "$out/calling.wav" -r 44100 -c 2 -b 16 "$out/calling_44k_stereo.wav"
sox "$out/calling.wav" -r 8000 -b 16 "$out/calling_8k.wav"
# The `make run` sample: two sentences with a pause between them.
sox "$out/report.wav" "$tmp/pause.wav" "$out/sailor.wav" examples/samples/dictation.wav 2>/dev/null || {
    sox -n -r 16000 -b 16 -c 1 "$tmp/pause.wav" trim 0 0.6
    sox "$out/report.wav" "$tmp/pause.wav" "$out/sailor.wav" examples/samples/dictation.wav
}
