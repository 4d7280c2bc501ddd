"""PyTorch side of the weight-file interoperability test (see PyTorchInteropTests.cs).

The equivalent PyTorch LeNet-5, and safetensors read and written by hand from the format's definition (an 8-byte
little-endian header length, a JSON header, raw little-endian data), because the `safetensors` Python package is not
available from Debian.

  check  WEIGHTS INPUTS EXPECTED   load .NET weights, print the largest difference from the .NET probabilities
  export WEIGHTS INPUTS OUTPUT     save a fresh PyTorch model's weights and its probabilities for the inputs
  check-bn, export-bn              the same for BatchNormNet (tests/LeNet.Gen.Tests/Generated/TestNetworks.cs) in
                                   eval mode, with its running statistics; export-bn first runs the model in train
                                   mode on a few batches so that they are not the initial ones
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
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


class BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.bn2 = nn.BatchNorm2d(6, eps=1e-3, momentum=0.2)
        self.fc1 = nn.Linear(54, 12)
        self.bn3 = nn.BatchNorm1d(12)
        self.fc2 = nn.Linear(12, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = torch.tanh(self.bn2(self.conv2(x)))
        x = self.bn3(self.fc1(torch.flatten(x, 1)))
        return F.softmax(self.fc2(x), dim=1)


DTYPES = {"F32": ("<f4", torch.float32), "I64": ("<i8", torch.int64)}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        numpy_type, _ = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=numpy_type).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def save_safetensors(tensors, path):
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        dtype = "I64" if tensor.dtype == torch.int64 else "F32"
        raw = tensor.detach().contiguous().numpy().astype(DTYPES[dtype][0]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def read_floats(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape))


def batch_norm(mode, weights, inputs_path, third):
    inputs = read_floats(inputs_path, (-1, 1, 12, 12))
    if mode == "check-bn":
        model = BatchNormNet()
        state = load_safetensors(weights)
        model.load_state_dict(state, strict=True)
        model.eval()
        expected = read_floats(third, (inputs.shape[0], 5))
        with torch.no_grad():
            probabilities = model(inputs)
        print(f"max_abs_difference {float((probabilities - expected).abs().max()):.3e}")
        print("same_classes", bool((probabilities.argmax(1) == expected.argmax(1)).all()))
        print("num_batches_tracked", state["bn1.num_batches_tracked"].dtype, list(state["bn1.num_batches_tracked"].shape),
              int(state["bn1.num_batches_tracked"]), int(state["bn3.num_batches_tracked"]))
    else:
        torch.manual_seed(7)
        model = BatchNormNet()
        model.train()
        with torch.no_grad():
            for _ in range(2):
                model(torch.randn(16, 1, 12, 12))
        model.eval()
        save_safetensors(model.state_dict(), weights)
        with torch.no_grad():
            model(inputs).numpy().astype("<f4").tofile(third)
        print("exported", len(model.state_dict()), "tensors")


def main():
    mode, weights, inputs_path, third = sys.argv[1:5]
    if mode.endswith("-bn"):
        batch_norm(mode, weights, inputs_path, third)
        return
    inputs = read_floats(inputs_path, (-1, 1, 32, 32))
    model = LeNet5()
    if mode == "check":
        model.load_state_dict(load_safetensors(weights), strict=True)
        expected = read_floats(third, (inputs.shape[0], 10))
        with torch.no_grad():
            probabilities = model(inputs)
        print(f"max_abs_difference {float((probabilities - expected).abs().max()):.3e}")
        print("same_classes", bool((probabilities.argmax(1) == expected.argmax(1)).all()))
    elif mode == "export":
        torch.manual_seed(7)
        model = LeNet5()
        save_safetensors(model.state_dict(), weights)
        with torch.no_grad():
            model(inputs).numpy().astype("<f4").tofile(third)
        print("exported", len(model.state_dict()), "tensors")
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
