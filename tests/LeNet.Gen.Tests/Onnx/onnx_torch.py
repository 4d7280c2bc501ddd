"""PyTorch and ONNX side of the ONNX tests (see OnnxPyTorchTests.cs and OnnxCheckerTests.cs).

Runs on Debian's python3-torch (1.13, torch.onnx.export at opset 13) and python3-onnx (1.12).

  check MODEL...                     onnx.checker.check_model(full_check=True) on each file; prints "ok PATH" per file
  export NAME FORM MODEL INPUTS OUT  build the PyTorch module NAME (lenet5, padded, ceilpool or bnnet) with seeded weights, export it to
                                     MODEL in FORM, and write its probabilities for INPUTS to OUT. FORM is
                                     "plain" (what torch.onnx.export writes), "inputs" (initializers also listed as
                                     graph inputs), "constants" (weights moved into Constant nodes) or "untransposed"
                                     (Gemm with transB=0 and [in, out] weights) or "preserve" (the module in eval mode exported
                                     with training=TrainingMode.PRESERVE, which keeps batch norms as BatchNormalization
                                     nodes; "plain" folds a batch norm into the Conv before it)
"""
import sys

import numpy as np
import onnx
import onnx.checker
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    """The generated LeNet5: ReLU, 2x2 average pooling, softmax head; flattened with torch.flatten (ONNX Flatten)."""

    shape = (1, 32, 32)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=1)


class Padded(nn.Module):
    """The generated PaddedStrided: padding, a stride-2 convolution, max pooling; flattened with view (ONNX Reshape)."""

    shape = (1, 16, 16)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 4, stride=2, padding=1)
        self.fc1 = nn.Linear(96, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = torch.sigmoid(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = x.view(-1, 96)
        return F.softmax(self.fc1(x), dim=1)


class CeilingPooled(nn.Module):
    """The generated CeilingPooled: 2x2 average pooling with ceil_mode on 7x7, whose last windows hang over the edge."""

    shape = (1, 7, 7)

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.avg_pool2d(x, 2, ceil_mode=True)
        return F.softmax(self.fc1(torch.flatten(x, 1)), dim=1)


class BatchNormNet(nn.Module):
    """The generated BatchNormNet: convolution -> batch norm -> activation, and a batch norm on a dense layer."""

    shape = (1, 12, 12)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.bn2 = nn.BatchNorm2d(6, eps=1e-3, momentum=0.2)
        self.fc1 = nn.Linear(54, 12)
        self.bn3 = nn.BatchNorm1d(12)
        self.fc2 = nn.Linear(12, 5)
        # Running statistics and affine parameters away from their initial values, so that each one counts.
        with torch.no_grad():
            for bn in (self.bn1, self.bn2, self.bn3):
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.3, 0.3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = torch.tanh(self.bn2(self.conv2(x)))
        x = self.bn3(self.fc1(torch.flatten(x, 1)))
        return F.softmax(self.fc2(x), dim=1)


def check(paths):
    for path in paths:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        print("ok", path, "opset", model.opset_import[0].version, "nodes", " ".join(n.op_type for n in model.graph.node),
              "initializers", ",".join(t.name for t in model.graph.initializer))


def constants(model):
    """Moves every initializer into a Constant node at the front of the graph."""
    graph = model.graph
    nodes = [onnx.helper.make_node("Constant", [], [t.name], name="const_" + t.name, value=t) for t in graph.initializer]
    del graph.initializer[:]
    kept = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + kept)


def untransposed(model):
    """Rewrites every Gemm with transB=1 into transB=0 with the weight matrix stored transposed."""
    initializers = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Gemm":
            continue
        for attribute in node.attribute:
            if attribute.name == "transB":
                attribute.i = 0
        weight = initializers[node.input[1]]
        array = onnx.numpy_helper.to_array(weight).T.copy()
        weight.CopyFrom(onnx.numpy_helper.from_array(array, weight.name))


def export(name, form, path, inputs_path, out_path):
    torch.manual_seed(7)
    model = {"lenet5": LeNet5, "padded": Padded, "ceilpool": CeilingPooled, "bnnet": BatchNormNet}[name]()
    model.eval()
    inputs = torch.from_numpy(np.fromfile(inputs_path, dtype="<f4").reshape((-1,) + model.shape))
    with torch.no_grad():
        model(inputs).numpy().astype("<f4").tofile(out_path)
    torch.onnx.export(
        model, torch.zeros((1,) + model.shape), path, opset_version=13,
        input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        keep_initializers_as_inputs=(form == "inputs"),
        training=torch.onnx.TrainingMode.PRESERVE if form == "preserve" else torch.onnx.TrainingMode.EVAL)
    if form in ("constants", "untransposed"):
        onnx_model = onnx.load(path)
        constants(onnx_model) if form == "constants" else untransposed(onnx_model)
        onnx.checker.check_model(onnx_model, full_check=True)
        onnx.save(onnx_model, path)
    print("exported", name, form, "nodes", " ".join(n.op_type for n in onnx.load(path).graph.node))


def main():
    mode = sys.argv[1]
    if mode == "check":
        check(sys.argv[2:])
    elif mode == "export":
        export(*sys.argv[2:7])
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
