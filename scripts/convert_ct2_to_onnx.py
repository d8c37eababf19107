#!/usr/bin/env python3
"""Convert a CTranslate2 Whisper model folder into ONNX models for VoiceFlow.

    convert_ct2_to_onnx.py SRC_CT2_DIR OUT_DIR [--split]

The implementation is `voiceflow.ct2onnx`, shipped in the Python package
(voiceflow-py/python/voiceflow/ct2onnx); this script runs it from the
checkout without building or importing the native module.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "voiceflow-py" / "python" / "voiceflow"))

from ct2onnx.convert import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
