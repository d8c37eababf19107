"""Whisper models by name, for ``voiceflow.Engine("tiny.en")``: ``python -m voiceflow.models``.

    python -m voiceflow.models list
    python -m voiceflow.models install tiny.en
    python -m voiceflow.models convert CT2_DIR NAME

or from Python, ``voiceflow.models.install("tiny.en")``. Models go into the folder the engine
looks in for names (:func:`models_dir`: ``$VOICEFLOW_MODELS``, else
``$XDG_DATA_HOME/voiceflow/models``, else ``~/.local/share/voiceflow/models``). Installing
converts with onnx and numpy: ``pip install 'voiceflow[convert]'``. The work is done by
``voiceflow.ct2onnx.models``; this module gives it the library's models folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ._native import models_dir
from .ct2onnx import models as _installer
from .ct2onnx.models import MissingConverterError, ModelInstallError, main, read_lock

__all__ = ["MissingConverterError", "ModelInstallError", "install", "models_dir", "read_lock"]


def install(name: str, dir: str | os.PathLike[str] | None = None, *,
            cache: str | os.PathLike[str] | None = None, split: bool = False,
            force: bool = False) -> Path:
    """Installs the model `name` (tiny.en, base, silero-vad) into `dir` (default:
    :func:`models_dir`) and returns its folder; `cache`, `split` and `force` are those of
    ``python -m voiceflow.models install``. Raises ModelInstallError (MissingConverterError
    without onnx or numpy)."""
    target = Path(dir) if dir is not None else models_dir()
    if target is None:
        raise ModelInstallError("no models directory: give dir, or set VOICEFLOW_MODELS or HOME")
    return _installer.install(name, target, Path(cache) if cache else None, split, force)


def _main() -> int:
    """``python -m voiceflow.models``, with the library's models folder as the default."""
    default = models_dir()
    return main(default_dir=str(default) if default else None)


if __name__ == "__main__":
    sys.exit(_main())
