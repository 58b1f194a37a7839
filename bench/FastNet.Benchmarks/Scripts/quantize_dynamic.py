#!/usr/bin/env python3
"""ONNX Runtime's dynamic int8 quantization of a FastNet dense export, built with the `onnx` package alone.

What onnxruntime.quantization.quantize_dynamic makes of a float32 MatMul/Gemm with weights W and bias b (weight type
QInt8, per tensor, no reduced range), so the benchmark can run ONNX Runtime's int8 kernels where onnxruntime's Python
tools are not installed (Debian has python3-onnx, not onnxruntime):

    x -> DynamicQuantizeLinear -> (x_q uint8, x_scale, x_zero_point)
    MatMulInteger(x_q, W_q int8, x_zero_point, 0) -> int32 -> Cast(float) -> Mul(x_scale * w_scale) -> Add(b)

with w_scale = max |W| / 127 and W_q = round(W / w_scale) in [-127, 127]. ONNX Runtime fuses the chain into its
quantized MatMul kernels when it loads the model (graph optimization level ENABLE_ALL).

Usage: quantize_dynamic.py input.onnx output.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize(source: str, target: str) -> None:
    model = onnx.load(source)
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    nodes, initializers = [], [t for t in graph.initializer]
    for node in graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type != "Gemm" or attributes.get("transA", 0) or attributes.get("transB", 0):
            nodes.append(node)
            continue
        x, w_name, b_name = node.input
        w = numpy_helper.to_array(weights[w_name]).astype(np.float32)
        w_scale = np.float32(np.abs(w).max() / 127.0) if np.abs(w).max() > 0 else np.float32(1.0)
        w_q = np.clip(np.round(w / w_scale), -127, 127).astype(np.int8)
        p = node.name.replace("/", "_")
        initializers.remove(weights[w_name])
        initializers += [
            numpy_helper.from_array(w_q, f"{p}_W_quantized"),
            numpy_helper.from_array(np.array(w_scale, dtype=np.float32), f"{p}_W_scale"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), f"{p}_W_zero_point"),
        ]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [f"{p}_x_q", f"{p}_x_scale", f"{p}_x_zero_point"], name=f"{p}_quantize"),
            helper.make_node("MatMulInteger", [f"{p}_x_q", f"{p}_W_quantized", f"{p}_x_zero_point", f"{p}_W_zero_point"],
                             [f"{p}_int32"], name=f"{p}_MatMulInteger"),
            helper.make_node("Cast", [f"{p}_int32"], [f"{p}_float"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_x_scale", f"{p}_W_scale"], [f"{p}_scale"], name=f"{p}_scales"),
            helper.make_node("Mul", [f"{p}_float", f"{p}_scale"], [f"{p}_scaled"], name=f"{p}_rescale"),
            helper.make_node("Add", [f"{p}_scaled", b_name], list(node.output), name=f"{p}_bias"),
        ]

    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    onnx.checker.check_model(model)
    onnx.save(model, target)


if __name__ == "__main__":
    quantize(sys.argv[1], sys.argv[2])
