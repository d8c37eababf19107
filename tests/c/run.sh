#!/usr/bin/env bash
# The C API tested from C (`make test-c`):
#   1. build libvoiceflow (debug profile: the dependencies are already built
#      for `cargo test`, and the workspace's dev profile optimises them);
#   2. compile examples/c/transcribe.c, examples/c/stream.c and
#      tests/c/error_paths.c with -std=c11 -Wall -Wextra -Werror against the
#      build and the header;
#   3. run the examples on report.wav (the printed words, and the streaming
#      example's committed lines, must be the manifest's) and the error-path
#      program;
#   4. run the error-path program again under valgrind (it loads the model;
#      its whole-transcription checks, --transcribe, run natively only):
#      no invalid reads/writes, no definite or indirect leaks
#      (tests/c/valgrind.supp holds third-party frames only); the example's
#      full transcription under valgrind with VOICEFLOW_VALGRIND_EXAMPLE=1;
#   5. both examples built with AddressSanitizer: its LeakSanitizer sees
#      every allocation in the process (the library's handles and strings,
#      the streaming session's thread and its user_data included) and fails
#      on any leak at exit;
#   6. `make install` into a temporary prefix, compile the example with
#      `pkg-config --cflags --libs voiceflow` and run it from there, then
#      link it statically against the installed libvoiceflow.a and run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
cargo=${CARGO:-cargo}
cc=${CC:-cc}
target=${CARGO_TARGET_DIR:-$repo/target}
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$repo/runtime/libonnxruntime.so}
model=${VOICEFLOW_MODEL_DIR:-$repo/models/whisper-tiny.en-float32}
fixture=tests/fixtures/speech/report.wav
cflags=(-std=c11 -Wall -Wextra -Werror)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '[test-c] %s\n' "$*"; }
# Lowercase words, punctuation dropped.
words() { tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9' ' ' | xargs; }
expected=$(awk -F'\t' '$1 == "report.wav" { print $2 }' tests/fixtures/speech/manifest.tsv | words)
# check_transcript FILE: the words printed in FILE are the manifest's.
check_transcript() {
    local got; got=$(words < "$1")
    if [ "$got" != "$expected" ]; then
        echo "transcript: '$got'"; echo "expected:   '$expected'"; exit 1
    fi
}

step "building libvoiceflow (debug)"
"$cargo" build -q -p voiceflow-ffi
lib=$target/debug
# Programs ask for the SONAME libvoiceflow.so.0; point it at the build.
mkdir "$work/lib"
ln -s "$lib/libvoiceflow.so" "$work/lib/libvoiceflow.so.0"

step "compiling the examples and tests/c/error_paths.c"
for source in examples/c/transcribe.c examples/c/stream.c tests/c/error_paths.c; do
    "$cc" "${cflags[@]}" -I include "$source" -L "$lib" -lvoiceflow -lm \
        -Wl,-rpath,"$work/lib" -o "$work/$(basename "$source" .c)"
done

step "example on $fixture"
"$work/transcribe" "$model" "$fixture" | tee "$work/example.txt"
check_transcript "$work/example.txt"

step "streaming example on $fixture"
"$work/stream" "$model" "$fixture" | tee "$work/stream.txt"
check_transcript "$work/stream.txt"

step "error paths"
"$work/error_paths" "$model" "$(mktemp -d -p "$work")" --transcribe

command -v valgrind >/dev/null || { echo "valgrind is missing: scripts/setup.sh c-tools"; exit 1; }
# One CPU: the engine then runs ONNX Runtime on one thread (valgrind runs one
# thread at a time anyway, and spinning pool threads only slow it down).
first_cpu=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
valgrind=(taskset -c "$first_cpu" valgrind --quiet --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --suppressions=tests/c/valgrind.supp)
started=$SECONDS
step "valgrind: error paths (model load, input checks, store, enhancer)"
"${valgrind[@]}" "$work/error_paths" "$model" "$(mktemp -d -p "$work")"
# Under valgrind, ONNX Runtime's encoder kernels run more than a thousand
# times slower than natively (22 minutes for report.wav on this 2-core VM), so the
# example's full transcription under valgrind is opt-in.
if [ "${VOICEFLOW_VALGRIND_EXAMPLE:-0}" = 1 ]; then
    step "valgrind: example on $fixture (slow)"
    "${valgrind[@]}" --undef-value-errors=no "$work/transcribe" "$model" "$fixture" \
        > "$work/example-valgrind.txt"
    check_transcript "$work/example-valgrind.txt"
fi
step "valgrind took $((SECONDS - started)) s"

for example in transcribe stream; do
    step "AddressSanitizer + LeakSanitizer: $example example on $fixture"
    "$cc" "${cflags[@]}" -g -fsanitize=address -fno-omit-frame-pointer -I include \
        "examples/c/$example.c" -L "$lib" -lvoiceflow -Wl,-rpath,"$work/lib" -o "$work/$example-asan"
    ASAN_OPTIONS=detect_leaks=1 "$work/$example-asan" "$model" "$fixture" > "$work/$example-asan.txt"
    check_transcript "$work/$example-asan.txt"
done

command -v pkg-config >/dev/null || { echo "pkg-config is missing: scripts/setup.sh c-tools"; exit 1; }
step "make install into a temporary prefix, build the example with pkg-config"
prefix=$work/prefix
make -s install PREFIX="$prefix" FFI_PROFILE=dev CARGO="$cargo" >/dev/null
for file in lib/libvoiceflow.so lib/libvoiceflow.so.0 lib/libvoiceflow.a include/voiceflow.h; do
    [ -e "$prefix/$file" ] || { echo "make install did not install $file"; exit 1; }
done
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
read -ra pkg <<< "$(pkg-config --cflags --libs voiceflow)"
"$cc" "${cflags[@]}" examples/c/transcribe.c "${pkg[@]}" -Wl,-rpath,"$prefix/lib" \
    -o "$work/transcribe-installed"
"$work/transcribe-installed" "$model" "$fixture" > "$work/installed.txt"
check_transcript "$work/installed.txt"
step "the same, linked statically against the installed libvoiceflow.a"
read -ra pkg_cflags <<< "$(pkg-config --cflags voiceflow)"
read -ra static_libs <<< "$(pkg-config --static --libs-only-l voiceflow | sed 's/-lvoiceflow //')"
"$cc" "${cflags[@]}" examples/c/transcribe.c "${pkg_cflags[@]}" \
    "$prefix/lib/libvoiceflow.a" "${static_libs[@]}" -o "$work/transcribe-static"
"$work/transcribe-static" "$model" "$fixture" > "$work/static.txt"
check_transcript "$work/static.txt"
step "all C tests passed"
