# VoiceFlow: the two commands of the README are `make run` and `make test`.
# Both set up what they need (idempotently) before they run.

SHELL   := /bin/bash
PY      := .venv/bin/python
CARGO   ?= cargo
# tiny.en as the installer writes it by default, with int8 weights: on the CPU about two
# thirds of float32's time and of its memory (README).
MODEL   ?= models/whisper-tiny.en
SAMPLE  ?= examples/samples/dictation.wav
THREADS ?= 2
WHEELS  := $(or $(CARGO_TARGET_DIR),target)/wheels
CACHE   := $(or $(VOICEFLOW_CACHE),$(CURDIR)/.cache)
export ORT_DYLIB_PATH := $(CURDIR)/runtime/libonnxruntime.so
# The CTranslate2 folders setup extracts: the converter tests compare against them.
export VOICEFLOW_CT2_TINY_EN := $(CACHE)/ct2/tiny.en
export VOICEFLOW_CT2_BASE := $(CACHE)/ct2/base

# The C library: `make install PREFIX=...` builds it with FFI_PROFILE (cargo profile).
PREFIX      ?= /usr/local
FFI_PROFILE ?= release
TARGET_DIR  := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
FFI_OUT     := $(TARGET_DIR)/$(if $(filter dev,$(FFI_PROFILE)),debug,$(FFI_PROFILE))
VERSION     := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# What a static link needs besides libvoiceflow.a (`rustc --print native-static-libs`, Linux).
FFI_LIBS_PRIVATE := -ldl -lgcc_s -lutil -lrt -lpthread -lm -lc

.PHONY: run test setup setup-test models lint readiness-report test-rust test-c test-python python-bindings test-bindings bench bench-python bench-enhance-quality eval clean-models header install

## make run: set up (first time), build, transcribe the bundled sample, print text + timings
run: setup
	$(CARGO) build --release --bin voiceflow
	./target/release/voiceflow transcribe --model $(MODEL) --threads $(THREADS) $(SAMPLE)

## make test: set up (first time) and run every test: Rust (unit, integration, e2e with real models), C, Python
test: setup-test lint test-rust test-c test-python

setup:
	scripts/setup.sh venv
	scripts/setup.sh runtime
	scripts/setup.sh model tiny.en
	scripts/setup.sh vad

setup-test: setup
	scripts/setup.sh venv-dev
	scripts/setup.sh model tiny.en-float32 base base-float32 tiny.en-split-float32
	scripts/setup.sh audio-fixtures

## make models: every model setup knows (tiny.en, base)
models: setup
	scripts/setup.sh model base

## make lint: formatting, clippy (every unsafe block and extern fn documented: Cargo.toml's
## [workspace.lints]) and no unused dependency (cargo-machete)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	scripts/setup.sh machete
	$(CACHE)/tools/bin/cargo-machete

# Each test run's output is kept in $(TEST_LOGS); the last line of each
# test target counts the tests that did not run (ignored, skipped) and why.
TEST_LOGS := $(TARGET_DIR)/test-logs

## make test-rust: every Rust test (HAProxy for tests/scale_out.rs comes from apt); `PROPTEST_CASES=N` sets the property tests' cases (fuzz_*)
test-rust:
	@mkdir -p $(TEST_LOGS)
	scripts/setup.sh lb
	set -o pipefail; $(CARGO) test --workspace --all-features 2>&1 | tee $(TEST_LOGS)/rust.log
	@scripts/test_summary.sh rust $(TEST_LOGS)/rust.log

## make test-c: the C API from C (example, error paths, valgrind, pkg-config install)
test-c: setup
	scripts/setup.sh c-tools
	CARGO="$(CARGO)" tests/c/run.sh

## make header: regenerate include/voiceflow.h with cbindgen
header:
	VOICEFLOW_BLESS_HEADER=1 $(CARGO) test -p voiceflow-ffi --test header

## make install PREFIX=DIR: libvoiceflow.so (+ .so.0), libvoiceflow.a, voiceflow.h, voiceflow.pc
install:
	$(CARGO) build -p voiceflow-ffi --profile $(FFI_PROFILE)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	strip --strip-debug -o $(DESTDIR)$(PREFIX)/lib/libvoiceflow.so.0 $(FFI_OUT)/libvoiceflow.so
	ln -sf libvoiceflow.so.0 $(DESTDIR)$(PREFIX)/lib/libvoiceflow.so
	strip --strip-debug -o $(DESTDIR)$(PREFIX)/lib/libvoiceflow.a $(FFI_OUT)/libvoiceflow.a
	install -m 644 include/voiceflow.h $(DESTDIR)$(PREFIX)/include/voiceflow.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(FFI_LIBS_PRIVATE)|' voiceflow-ffi/voiceflow.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/voiceflow.pc

## make test-python: the converter's tests, the Python bindings' tests (on the installed wheel),
## and the server's tests with OpenAI's client and headless Chromium (on the voiceflow program)
test-python: python-bindings
	@mkdir -p $(TEST_LOGS)
	scripts/setup.sh browser
	$(CARGO) build --bin voiceflow
	set -o pipefail; VOICEFLOW_BIN=$(TARGET_DIR)/debug/voiceflow \
	    $(PY) -m pytest -q -rs tests/python 2>&1 | tee $(TEST_LOGS)/python.log
	@scripts/test_summary.sh python $(TEST_LOGS)/python.log

## make python-bindings: build the voiceflow wheel (abi3, release) and install it into .venv;
## --no-deps because numpy and onnxruntime are already pinned there by scripts/requirements.txt
python-bindings: setup-test
	rm -rf $(WHEELS)
	.venv/bin/maturin build --release -m voiceflow-py/Cargo.toml -o $(WHEELS)
	$(PY) -m pip install -q --disable-pip-version-check --force-reinstall --no-deps $(WHEELS)/voiceflow-*.whl

## make test-bindings: only the Python bindings' tests and example
test-bindings: python-bindings
	$(PY) -m pytest -q tests/python/test_bindings_*.py

## make readiness-report: the standard load-test profile (release, 2 threads), written up as
## docs/readiness-report.md with its charts in docs/readiness/ (results.json stays in target/readiness)
readiness-report: setup
	$(CARGO) build --release --bin voiceflow
	rm -rf $(TARGET_DIR)/readiness docs/readiness
	status=0; ./target/release/voiceflow loadtest --profile standard --threads $(THREADS) \
	    --out $(TARGET_DIR)/readiness || status=$$?; \
	mkdir -p docs/readiness && cp $(TARGET_DIR)/readiness/*.png docs/readiness/ && \
	sed -e 's|](\([a-z]*-[a-z]*\.png\))|](readiness/\1)|' $(TARGET_DIR)/readiness/report.md \
	    > docs/readiness-report.md; exit $$status

## make bench: criterion benchmarks (store, enhance, mel, transcribe)
bench: setup
	$(CARGO) bench

## make bench-enhance-quality: the enhancement benchmark's table per context (exact %, similarity,
## meaning errors) for the rules, and for an LLM server when VOICEFLOW_LLM_URL and VOICEFLOW_LLM_MODEL are set
bench-enhance-quality:
	$(CARGO) bench --bench enhance_quality --features llm

## make bench-python: the Python bindings' overhead per call and two threads vs one after the other
bench-python: python-bindings
	$(PY) scripts/bench_bindings.py

## make eval AUDIO=DIR: WER of VoiceFlow vs faster-whisper on DIR (recordings + manifest.tsv)
eval: setup-test
	$(CARGO) build --release --bin voiceflow
	@test -n "$(AUDIO)" || { echo "make eval needs AUDIO=DIR: a folder of recordings with a manifest.tsv (file<TAB>text)"; exit 2; }
	$(PY) scripts/eval_wer.py --audio "$(AUDIO)" --threads $(THREADS)

clean-models:
	rm -rf models
