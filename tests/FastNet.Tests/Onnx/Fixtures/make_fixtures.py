#!/usr/bin/python3
"""Makes the ONNX import fixtures: small PyTorch models exported with torch.onnx.export, and PyTorch's own
outputs for a random batch, which the tests compare FastNet's import with.

Run with Debian's Python (python3-torch 1.13, python3-onnx 1.12): /usr/bin/python3 make_fixtures.py
Each fixture is NAME.onnx and NAME.json ({"input_shape", "input", "output"}: row-major, float32 values written
exactly). Seeds are fixed, so a rerun with the same torch gives the same files.
"""
import json
import os

import onnx
import onnx.helper as oh
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, model, example, opset, batch=7, seed=100, export=True):
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    if export:
        torch.onnx.export(model, example, path, opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((batch,) + tuple(example.shape[1:]), generator=g) * 1.5
    with torch.no_grad():
        y = model(x)
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"input_shape": list(x.shape), "input": [float(v) for v in x.flatten()],
                   "output_shape": list(y.shape), "output": [float(v) for v in y.flatten()]}, f)


class Mlp(nn.Module):
    """Linear layers (Gemm) with every activation the importer folds, Dropout and Identity, and a Softmax."""
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.a = nn.Linear(20, 16)
        self.b = nn.Linear(16, 12)
        self.c = nn.Linear(12, 10, bias=False)
        self.d = nn.Linear(10, 9)
        self.e = nn.Linear(9, 5)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        x = self.flatten(x)
        x = torch.relu(self.a(x))
        x = self.drop(x)
        x = torch.sigmoid(self.b(x))
        x = nn.Identity()(x)
        x = torch.tanh(self.c(x))
        x = nn.functional.leaky_relu(self.d(x), 0.01)
        return torch.softmax(self.e(x), dim=1)


class MatMulAdd(nn.Module):
    """x @ W + b written out: MatMul then Add, ending in LogSoftmax."""
    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(12, 8) * 0.3)
        self.b1 = nn.Parameter(torch.randn(8) * 0.1)
        self.w2 = nn.Parameter(torch.randn(8, 4) * 0.3)

    def forward(self, x):
        return torch.log_softmax(torch.relu(x @ self.w1 + self.b1) @ self.w2, dim=-1)


class Normalized(nn.Module):
    """(x - mean) / std in front of an MLP: a Sub and a Div on the input."""
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([5.8, 3.0, 3.7, 1.2]))
        self.register_buffer("std", torch.tensor([0.8, 0.4, 1.7, 0.75]))
        self.a = nn.Linear(4, 10)
        self.b = nn.Linear(10, 3)

    def forward(self, x):
        return self.b(torch.tanh(self.a((x - self.mean) / self.std)))


class GruLast(nn.Module):
    """batch_first GRU over [batch, steps, features]; out[:, -1, :] into a Linear (the G1 shape, small)."""
    def __init__(self, features, hidden, layers=1, steps=None):
        super().__init__()
        self.steps, self.features = steps, features
        self.gru = nn.GRU(features, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, 4)

    def forward(self, x):
        if self.steps is not None:
            x = x.view(-1, self.steps, self.features)   # flat rows read as steps, as FastNet does
        out, _ = self.gru(x)
        return self.out(out[:, -1, :])


class GruHidden(nn.Module):
    """The last state taken from h_n instead: _, h = gru(x); h[-1] (with layers > 1, h_n is a Concat of every layer's)."""
    def __init__(self, layers=1):
        super().__init__()
        self.gru = nn.GRU(6, 10, num_layers=layers, batch_first=True)
        self.out = nn.Linear(10, 3)

    def forward(self, x):
        _, h = self.gru(x)
        return self.out(h[-1])


class GruSequence(nn.Module):
    """Every state of the sequence, flattened into a Linear."""
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 6, batch_first=True)
        self.out = nn.Linear(4 * 6, 3)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.out(out.reshape(out.shape[0], -1))


class T1(nn.Module):
    """The T1 workload's network, 784-128-10 with ReLU: the batch-1 latency comparison's model."""
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(784, 128)
        self.b = nn.Linear(128, 10)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


def gemm_identity_dropout():
    """Gemm with alpha, beta and transB = 0, and the Identity and inference Dropout that torch's exporter drops:
    built with onnx.helper, outputs from torch."""
    g = torch.Generator().manual_seed(7)
    w = torch.randn(6, 5, generator=g)   # [K x N]: transB = 0
    b = torch.randn(1, 5, generator=g)
    graph = oh.make_graph(
        [oh.make_node("Identity", ["input"], ["x"], name="identity"),
         oh.make_node("Gemm", ["x", "w", "b"], ["z"], alpha=0.5, beta=2.0, transA=0, transB=0, name="gemm"),
         oh.make_node("Dropout", ["z", "ratio"], ["d"], name="dropout"),
         oh.make_node("Sigmoid", ["d"], ["output"], name="sigmoid")],
        "gemm_identity_dropout",
        [oh.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", 6])],
        [oh.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["batch", 5])],
        [oh.make_tensor("w", onnx.TensorProto.FLOAT, [6, 5], w.flatten().tolist()),
         oh.make_tensor("b", onnx.TensorProto.FLOAT, [1, 5], b.flatten().tolist()),
         oh.make_tensor("ratio", onnx.TensorProto.FLOAT, [], [0.25])])
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "gemm_identity_dropout.onnx"))

    class Reference(nn.Module):
        def forward(self, x):
            return torch.sigmoid(0.5 * (x @ w) + 2.0 * b)
    save("gemm_identity_dropout", Reference(), torch.zeros(1, 6), 13, export=False)


def gemm_transposed_input():
    """Gemm reading its input transposed (Transpose, then transA = 1) and without C: built with onnx.helper."""
    g = torch.Generator().manual_seed(11)
    w = torch.randn(4, 7, generator=g)   # [N x K]: transB = 1
    graph = oh.make_graph(
        [oh.make_node("Transpose", ["input"], ["xt"], perm=[1, 0], name="transpose"),
         oh.make_node("Gemm", ["xt", "w"], ["z"], transA=1, transB=1, alpha=1.5, name="gemm"),
         oh.make_node("Tanh", ["z"], ["output"], name="tanh")],
        "gemm_transposed_input",
        [oh.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", 7])],
        [oh.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["batch", 4])],
        [oh.make_tensor("w", onnx.TensorProto.FLOAT, [4, 7], w.flatten().tolist())])
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "gemm_transposed_input.onnx"))

    class Reference(nn.Module):
        def forward(self, x):
            return torch.tanh(1.5 * (x @ w.T))
    save("gemm_transposed_input", Reference(), torch.zeros(1, 7), 14, export=False)


class GruSliceLast(nn.Module):
    """The last step taken with a slice that keeps its axis, out[:, -1:, :], then flattened."""
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 8, batch_first=True)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.gru(x)
        last = out[:, -1:, :]
        return self.out(last.reshape(last.shape[0], -1))


if __name__ == "__main__":
    torch.manual_seed(0)
    save("mlp_activations", Mlp(), torch.zeros(1, 1, 4, 5), 15)
    torch.manual_seed(1)
    save("matmul_add_logsoftmax", MatMulAdd(), torch.zeros(1, 12), 17)
    torch.manual_seed(2)
    save("normalized_input", Normalized(), torch.zeros(1, 4), 17)
    torch.manual_seed(3)
    save("gru_last", GruLast(8, 16), torch.zeros(1, 5, 8), 14)
    torch.manual_seed(4)
    save("gru_two_layers_flat_input", GruLast(6, 9, layers=2, steps=7), torch.zeros(1, 42), 16)
    torch.manual_seed(5)
    save("gru_hidden_state", GruHidden(), torch.zeros(1, 3, 6), 13)
    torch.manual_seed(9)
    save("gru_two_layers_hidden_state", GruHidden(layers=2), torch.zeros(1, 3, 6), 15)
    torch.manual_seed(6)
    save("gru_sequence", GruSequence(), torch.zeros(1, 4, 5), 17)
    torch.manual_seed(8)
    save("t1", T1(), torch.zeros(1, 784), 17, seed=101)
    gemm_identity_dropout()
    gemm_transposed_input()
    torch.manual_seed(10)
    save("gru_slice_last", GruSliceLast(), torch.zeros(1, 6, 3), 17)
