"""The wheel ships type information that matches the native module."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from conftest import REPO


def test_the_wheel_ships_stubs_and_py_typed(voiceflow):
    files = {str(f) for f in metadata.files("voiceflow") or []}
    assert {"voiceflow/_native.pyi", "voiceflow/py.typed", "voiceflow/__init__.py", "voiceflow/errors.py"} <= files
    assert any(f.startswith("voiceflow/_native.") and f.endswith(".so") for f in files), files


def test_stubs_match_the_native_module(voiceflow):
    # stubtest checks the package and its submodules (_native against _native.pyi).
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "voiceflow"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_native_class_and_method_has_a_stub(voiceflow):
    # stubtest reports what the stubs get wrong; this says nothing native is
    # left out of them: every public class of _native, and every public
    # method and property of each, is declared in _native.pyi.
    import ast

    stub = ast.parse((Path(voiceflow._native.__file__).parent / "_native.pyi").read_text())
    stubbed = {
        node.name: {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
        for node in stub.body
        if isinstance(node, ast.ClassDef)
    }
    native = {
        name: {m for m in vars(obj) if not m.startswith("_")}
        for name, obj in vars(voiceflow._native).items()
        if isinstance(obj, type) and not name.startswith("_")
    }
    assert set(native) == set(stubbed), set(native) ^ set(stubbed)
    for name, members in native.items():
        assert members <= stubbed[name], f"{name}: no stub for {members - stubbed[name]}"


def test_the_example_type_checks_against_the_stubs(voiceflow):
    example = REPO / "examples" / "python" / "transcribe.py"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(example)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_docstrings_come_from_the_rust_doc_comments(voiceflow):
    assert "Speech-to-text with one Whisper model" in voiceflow.Engine.__doc__
    assert "Transcribes `audio`" in voiceflow.Engine.transcribe.__doc__
    assert "The segments as SubRip subtitles." in voiceflow.Transcript.to_srt.__doc__
    assert voiceflow.__version__ == metadata.version("voiceflow")
