"""Small helpers for writing ONNX graphs by hand, plus the transformer building blocks.

`Initializers` holds the constant tensors of one model file. A `GraphBuilder` appends nodes to one
graph (the main graph or an `If` branch) and registers its constants in a shared `Initializers`, so
every weight is stored once in the main graph and branches read it as an outer-scope value.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
MS_DOMAIN = "com.microsoft"  # ONNX Runtime contrib ops: MultiHeadAttention, DynamicQuantizeMatMul
IR_VERSION = 8
LAYER_NORM_EPSILON = 1e-5


# Weights use 7 of int8's bits ([-63, 63], ORT's "reduce_range"): the u8 x s8 kernels of CPUs
# without VNNI add two products in int16 (vpmaddubsw), which saturates for 255 x 127 x 2 and made
# the encoder's output 27-88 % off on AMD EPYC; 255 x 63 x 2 fits. Costs one bit of precision.
INT8_WEIGHT_MAX = 63.0


class Initializers:
    """Constant tensors of one model, by name; small constants are shared by value.

    With `int8_matmul_weights`, MatMul weights added through `add_matmul_weight` are stored as
    symmetric int8 with one float32 scale per output column, for ORT's DynamicQuantizeMatMul.
    """

    def __init__(self, int8_matmul_weights: bool = False) -> None:
        self.tensors: dict[str, TensorProto] = {}
        self.int8_matmul_weights = int8_matmul_weights
        self._quantized: set[str] = set()
        self._by_value: dict[tuple, str] = {}

    def add(self, name: str, array: np.ndarray) -> str:
        """Store `array` under `name` (which must be new) and return the name."""
        if name in self.tensors:
            raise ValueError(f"initializer {name!r} defined twice")
        self.tensors[name] = numpy_helper.from_array(array, name)
        return name

    def add_matmul_weight(self, name: str, weight: np.ndarray) -> str:
        """Store a MatMul right-hand side [in, out] (int8 plus `{name}_scale` in int8 mode)."""
        if not self.int8_matmul_weights:
            return self.add(name, weight)
        amax = np.abs(weight).max(axis=0)
        scale = np.where(amax > 0, amax / INT8_WEIGHT_MAX, 1.0).astype(np.float32)
        self.add(name, np.round(weight / scale).astype(np.int8))
        self.add(name + "_scale", scale)
        self._quantized.add(name)
        return name

    def is_quantized(self, name: str) -> bool:
        return name in self._quantized

    def constant(self, values, dtype) -> str:
        """Name of a small constant tensor with these values (created on first use)."""
        array = np.asarray(values, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._by_value:
            text = "_".join(str(v) for v in array.ravel()[:8]).replace("-", "m")
            name = f"const.{array.dtype.name}.{text}.{len(self._by_value)}"
            self._by_value[key] = self.add(name, array)
        return self._by_value[key]


class GraphBuilder:
    """Appends nodes to one graph; value names get the builder's prefix so branches never clash."""

    def __init__(self, initializers: Initializers, prefix: str = "") -> None:
        self.initializers = initializers
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self._count = 0

    def op(self, op_type: str, inputs: list[str], num_outputs: int = 1, outputs=None, **attrs):
        """Add one node; returns its output name (or list of names when it has several)."""
        self._count += 1
        node_name = f"{self.prefix}{op_type}_{self._count}"
        if outputs is None:
            outputs = [f"{node_name}:{i}" for i in range(num_outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=node_name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def i64(self, *values: int) -> str:
        """A 1-D int64 constant, e.g. for Reshape shapes or Slice bounds."""
        return self.initializers.constant(list(values), np.int64)

    def f32(self, value: float) -> str:
        """A float32 scalar constant."""
        return self.initializers.constant(value, np.float32)

    def dim(self, x: str, axis: int) -> str:
        """The size of axis `axis` of `x` as a rank-0 int64 tensor."""
        return self.op("Squeeze", [self.op("Shape", [x], start=axis, end=axis + 1), self.i64(0)])


# ---------------------------------------------------------------------------------------------
# Transformer building blocks. Weight arguments name initializers created beforehand with
# `Initializers.add`; activations are [batch, seq, features] unless stated otherwise.


def linear(g: GraphBuilder, x: str, weight: str, bias: str | None = None) -> str:
    """x @ weight (+ bias), with `weight` stored as [in, out] (float32, or int8 with a scale)."""
    if g.initializers.is_quantized(weight):
        inputs = [x, weight, f"{weight}_scale"] + (["", bias] if bias else [])
        return g.op("DynamicQuantizeMatMul", inputs, domain=MS_DOMAIN)
    y = g.op("MatMul", [x, weight])
    return g.op("Add", [y, bias]) if bias else y


def layer_norm(g: GraphBuilder, x: str, prefix: str, output: str | None = None) -> str:
    """LayerNormalization over the last axis with `{prefix}.gamma` / `{prefix}.beta`."""
    return g.op(
        "LayerNormalization",
        [x, f"{prefix}.gamma", f"{prefix}.beta"],
        outputs=[output] if output else None,
        axis=-1,
        epsilon=LAYER_NORM_EPSILON,
    )


def gelu(g: GraphBuilder, x: str) -> str:
    """Exact GELU, 0.5·x·(1 + erf(x/√2)), in the node pattern ORT fuses into one Gelu kernel."""
    erf = g.op("Erf", [g.op("Div", [x, g.f32(np.sqrt(2.0))])])
    return g.op("Mul", [g.op("Mul", [x, g.op("Add", [erf, g.f32(1.0)])]), g.f32(0.5)])


def split_heads(g: GraphBuilder, x: str, heads: int, head_dim: int) -> str:
    """[batch, seq, heads·head_dim] -> [batch, heads, seq, head_dim]."""
    split = g.op("Reshape", [x, g.i64(0, 0, heads, head_dim)])
    return g.op("Transpose", [split], perm=[0, 2, 1, 3])


def merge_heads(g: GraphBuilder, x: str, d_model: int) -> str:
    """[batch, heads, seq, head_dim] -> [batch, seq, heads·head_dim]."""
    return g.op("Reshape", [g.op("Transpose", [x], perm=[0, 2, 1, 3]), g.i64(0, 0, d_model)])


def attention(g: GraphBuilder, q: str, k: str, v: str, mask: str | None = None) -> str:
    """softmax(q·kᵀ + mask)·v per head; q, k, v are [batch, heads, seq, head_dim], q pre-scaled."""
    return attention_with_scores(g, q, k, v, mask)[0]


def attention_with_scores(g: GraphBuilder, q: str, k: str, v: str,
                          mask: str | None = None) -> tuple[str, str]:
    """`attention` and its scores q·kᵀ + mask before the softmax ([batch, heads, seq, keys]).

    ORT fuses the Transpose of k into the MatMul (FusedMatMul with transB), so no copy is made.
    """
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
    if mask:
        scores = g.op("Add", [scores, mask])
    return g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v]), scores


def make_model(graph: onnx.GraphProto, producer: str) -> onnx.ModelProto:
    """Wrap `graph` in a model with this converter's opset and IR version."""
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)],
        producer_name=producer,
    )
    model.ir_version = IR_VERSION
    return model


def tensor_info(name: str, elem_type: int, shape: list) -> onnx.ValueInfoProto:
    """A graph input/output declaration; string dims are symbolic (dynamic)."""
    return helper.make_tensor_value_info(name, elem_type, shape)
