"""Reader for CTranslate2 `model.bin` files (binary versions 1 to 6).

Layout (all integers unsigned little-endian, records packed with no alignment):

    u32 binary_version
    if version >= 2: STR spec_name, u32 spec_revision
    u32 num_variables, then per variable:
        STR name, u8 rank, u32 dims[rank]
        version >= 4: u8 dtype_code, u32 num_bytes
        version <  4: u8 item_size,  u32 num_elements
        data (row-major)
    if version >= 3: u32 num_aliases, then per alias: STR alias, STR target

STR is a u16 length that counts a trailing NUL byte, then the UTF-8 text and the NUL.

Quantized weights come with a `<name>_scale` variable: int8 weights have one float32 scale per
output row, int16 weights a single scalar. CTranslate2 dequantizes by dividing by the scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConversionError

CURRENT_BINARY_VERSION = 6

# CTranslate2 DataType codes (include/ctranslate2/types.h). bfloat16 has no numpy dtype: it is
# read as uint16 and widened by hand.
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),
}
_BFLOAT16 = 5

# Binary versions 1-3 only store an item size; CTranslate2 maps it to these types.
_LEGACY_DTYPES: dict[int, np.dtype] = {4: np.dtype("<f4"), 2: np.dtype("<i2"), 1: np.dtype("i1")}


@dataclass
class Ct2Model:
    """Parsed contents of a model.bin: raw variables (aliases resolved) and header fields."""

    path: Path
    binary_version: int
    spec_name: str
    spec_revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)

    def shape(self, name: str) -> tuple[int, ...]:
        """The stored shape of variable `name`."""
        return self._raw(name).shape

    def tensor(self, name: str) -> np.ndarray:
        """The float32 value of weight `name`, dequantized when the file stores it quantized."""
        value = self._raw(name)
        scale = self.variables.get(name + "_scale")
        if scale is None:
            if value.dtype.kind != "f":
                raise ConversionError(
                    f"{self.path}: variable {name!r} is {value.dtype} without a {name}_scale"
                )
            return value.astype(np.float32, copy=False)
        return _dequantize(self.path, name, value, scale)

    def scalar(self, name: str) -> int | float:
        """The value of a rank-0 variable such as `encoder/num_heads`."""
        value = self._raw(name)
        if value.ndim != 0:
            raise ConversionError(f"{self.path}: variable {name!r} should be a scalar")
        return value.item()


    def _raw(self, name: str) -> np.ndarray:
        try:
            return self.variables[name]
        except KeyError:
            raise ConversionError(f"{self.path}: variable {name!r} is missing") from None


def _dequantize(path: Path, name: str, value: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Undo CTranslate2 weight quantization: `w = q / scale` (per output row, or one scalar)."""
    if value.dtype not in (np.int8, np.int16):
        raise ConversionError(f"{path}: {name!r} has a scale but is stored as {value.dtype}")
    scale = scale.astype(np.float32, copy=False)
    if scale.size == 1:
        return value.astype(np.float32) / scale.reshape(())
    if scale.ndim != 1 or scale.shape[0] != value.shape[0]:
        raise ConversionError(
            f"{path}: {name}_scale has shape {scale.shape}, expected [{value.shape[0]}]"
        )
    per_row = scale.reshape((-1,) + (1,) * (value.ndim - 1))
    return value.astype(np.float32) / per_row


class _Cursor:
    """Sequential little-endian reader over the file bytes that reports truncation clearly."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self.data = data
        self.offset = 0

    def take(self, size: int, what: str) -> memoryview:
        end = self.offset + size
        if end > len(self.data):
            raise ConversionError(
                f"{self.path}: file is truncated or corrupt: {what} needs {size} bytes at offset "
                f"{self.offset}, but the file has {len(self.data)} bytes"
            )
        chunk = memoryview(self.data)[self.offset : end]
        self.offset = end
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        return struct.unpack("<H", self.take(2, what))[0]

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def string(self, what: str) -> str:
        length = self.u16(what)
        if length == 0:
            raise ConversionError(f"{self.path}: corrupt file: empty string for {what}")
        raw = bytes(self.take(length, what))
        if raw[-1] != 0:
            raise ConversionError(f"{self.path}: corrupt file: {what} is not NUL-terminated")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ConversionError(f"{self.path}: corrupt file: {what} is not UTF-8") from None


def read_model_bin(path: Path) -> Ct2Model:
    """Parse a CTranslate2 model.bin into a `Ct2Model` (raw dtypes, aliases resolved)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConversionError(f"{path}: file not found") from None
    except OSError as err:
        raise ConversionError(f"{path}: cannot read: {err.strerror}") from None
    cur = _Cursor(path, data)

    version = cur.u32("binary version")
    if not 1 <= version <= CURRENT_BINARY_VERSION:
        raise ConversionError(
            f"{path}: unsupported or corrupt model.bin: binary version {version} "
            f"(this converter reads versions 1 to {CURRENT_BINARY_VERSION})"
        )
    spec_name, spec_revision = "", 1
    if version >= 2:
        spec_name = cur.string("spec name")
        spec_revision = cur.u32("spec revision")
    model = Ct2Model(path, version, spec_name, spec_revision)

    count = cur.u32("variable count")
    for index in range(count):
        name = cur.string(f"name of variable #{index}")
        model.variables[name] = _read_variable(cur, version, name)

    if version >= 3:
        for index in range(cur.u32("alias count")):
            alias = cur.string(f"alias #{index}")
            target = cur.string(f"target of alias {alias!r}")
            if target not in model.variables:
                raise ConversionError(
                    f"{path}: corrupt file: alias {alias!r} points to unknown {target!r}"
                )
            model.variables[alias] = model.variables[target]
            for suffix in ("_scale", "_zero"):
                if target + suffix in model.variables:
                    model.variables[alias + suffix] = model.variables[target + suffix]

    if cur.offset != len(data):
        raise ConversionError(
            f"{path}: corrupt file: {len(data) - cur.offset} unexpected bytes after the last record"
        )
    return model


def _read_variable(cur: _Cursor, version: int, name: str) -> np.ndarray:
    rank = cur.u8(f"rank of {name!r}")
    shape = tuple(cur.u32(f"dimension of {name!r}") for _ in range(rank))
    elements = int(np.prod(shape, dtype=np.int64))
    if version >= 4:
        code = cur.u8(f"dtype of {name!r}")
        if code not in _DTYPES:
            raise ConversionError(f"{cur.path}: corrupt file: {name!r} has unknown dtype {code}")
        dtype = _DTYPES[code]
        num_bytes = cur.u32(f"byte count of {name!r}")
        if num_bytes != elements * dtype.itemsize:
            raise ConversionError(
                f"{cur.path}: corrupt file: {name!r} has shape {list(shape)} of {dtype} "
                f"but a byte count of {num_bytes}"
            )
    else:
        item_size = cur.u8(f"item size of {name!r}")
        if item_size not in _LEGACY_DTYPES:
            raise ConversionError(
                f"{cur.path}: corrupt file: {name!r} has unknown item size {item_size}"
            )
        code, dtype = None, _LEGACY_DTYPES[item_size]
        if cur.u32(f"element count of {name!r}") != elements:
            raise ConversionError(
                f"{cur.path}: corrupt file: {name!r} element count does not match its shape"
            )
        num_bytes = elements * item_size
    raw = cur.take(num_bytes, f"data of {name!r}")
    # frombuffer copes with the unaligned offsets; copy so the array owns aligned memory.
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if code == _BFLOAT16:
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array
