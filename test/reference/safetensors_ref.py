"""Reference side of test/safetensors.test.js and test/cli.test.js.

The reference Python has no `safetensors` package, so this file implements the format by hand from
its specification (https://github.com/huggingface/safetensors#format), independently of torch-node:
an 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, and an
optional __metadata__ of strings}, then the data buffer, each tensor row-major little-endian.

Commands (JSON on stdin, one JSON line on stdout):
  {"cmd": "write", "dir": D}   writes D/dtypes.safetensors (every dtype, special values, 0-d, empty),
                               D/resnet18.safetensors (torchvision ResNet-18, seed 0) and
                               D/resnet18.pt (the same state dict with torch.save), D/nested.pt and
                               D/script.pt (a TorchScript module); returns {"dtypes"|"resnet18"|"nested": {name: info}, "order": {same keys: [names in order]}}
  {"cmd": "read", "files": [...]}  reads each file with the hand-written reader and checks the
                               layout rules; returns {file: {"metadata", "tensors": {name: info},
                               "order": [...], "layout": {...}}}
  {"cmd": "load_pt", "files": [...]}  torch.load(weights_only=True) of each file; {file: {name: info}}
  {"cmd": "expected"}          the reference tensors themselves, described: {"dtypes": ..., "resnet18": ...}
info = {"dtype": "F32", "shape": [...], "sha256": hex of the row-major little-endian bytes}.
"""
import hashlib
import json
import os
import struct
import sys
from collections import OrderedDict

import torch

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int8: "I8", torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL",
}
FROM = {v: k for k, v in DTYPES.items()}


def raw(t):
    """The bytes of a tensor's elements, row-major, little-endian (the host is little-endian)."""
    t = t.detach().cpu().contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    return t.view(torch.uint8).numpy().tobytes()


def info(t):
    return {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "sha256": hashlib.sha256(raw(t)).hexdigest()}


def write(path, tensors, metadata=None):
    header = OrderedDict()
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs, pos = [], 0
    for name, t in tensors.items():
        b = raw(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n <= 100_000_000, "header too large"
    text = data[8:8 + n].decode("utf-8")
    header = json.loads(text, object_pairs_hook=OrderedDict)
    metadata = header.pop("__metadata__", None)
    start = 8 + n
    buf_len = len(data) - start
    tensors, order, spans = OrderedDict(), [], []
    aligned = True
    for name, e in header.items():
        dtype = FROM[e["dtype"]]
        shape = e["shape"]
        b, end = e["data_offsets"]
        numel = 1
        for s in shape:
            numel *= s
        itemsize = torch.empty((), dtype=dtype).element_size()
        assert end - b == numel * itemsize, f"{name}: size mismatch"
        if (start + b) % itemsize:
            aligned = False
        spans.append((b, end))
        if numel == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data[start + b:start + end]), dtype=dtype).reshape(shape)
        tensors[name] = t
        order.append(name)
    spans.sort()
    pos = 0
    for b, end in spans:
        assert b == pos, "gap or overlap"
        pos = end
    assert pos == buf_len, "trailing bytes"
    layout = {
        "header_bytes": n,
        "header_multiple_of_8": n % 8 == 0,
        "padding_is_spaces": text.rstrip(" ").endswith("}"),
        "aligned": aligned,
    }
    return metadata, tensors, order, layout


def dtype_tensors():
    g = torch.Generator().manual_seed(0)
    out = OrderedDict()
    special = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4e38, -1.5])
    for dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        name = DTYPES[dt].lower()
        out[f"{name}.randn"] = torch.randn(3, 5, generator=g).to(dt)
        out[f"{name}.special"] = special.to(dt)
    # A NaN with a payload and a signalling NaN keep their bits.
    out["f32.nan_payloads"] = torch.tensor([0x7FC00001, 0x7F800001, -0x00400001], dtype=torch.int32).view(torch.float32)
    out["f64.nan_payload"] = torch.tensor([0x7FF0000000000001], dtype=torch.int64).view(torch.float64)
    for dt, lo, hi in ((torch.int8, -128, 127), (torch.uint8, 0, 255), (torch.int16, -32768, 32767),
                       (torch.int32, -2**31, 2**31 - 1), (torch.int64, -2**63, 2**63 - 1)):
        name = DTYPES[dt].lower()
        out[f"{name}.range"] = torch.randint(lo, hi, (4, 3), generator=g, dtype=dt)
        out[f"{name}.extremes"] = torch.tensor([lo, hi, 0, -1 if lo < 0 else 1], dtype=dt)
    out["bool"] = torch.tensor([[True, False, True], [False, False, True]])
    out["scalar"] = torch.tensor(2.5)
    out["empty"] = torch.zeros(0, 4)
    out["int.scalar"] = torch.tensor(-7, dtype=torch.int64)
    out["transposed"] = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()  # saved contiguous
    out["0"] = torch.arange(3, dtype=torch.int16)  # an integer-like name keeps its place
    return out


def resnet18():
    import torchvision
    torch.manual_seed(0)
    m = torchvision.models.resnet18()
    # Non-trivial buffers, as after training.
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-1, 1)
            mod.running_var.uniform_(0.5, 2)
            mod.num_batches_tracked.fill_(7)
    return m.state_dict()


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x).relu()


def main():
    req = json.load(sys.stdin)
    cmd = req["cmd"]
    if cmd == "write":
        d = req["dir"]
        dt = dtype_tensors()
        write(os.path.join(d, "dtypes.safetensors"), dt, {"source": "python", "n": "23"})
        sd = resnet18()
        write(os.path.join(d, "resnet18.safetensors"), sd, {"format": "pt"})
        torch.save(sd, os.path.join(d, "resnet18.pt"))
        nested = {"model": OrderedDict([("fc.weight", torch.randn(2, 3)), ("fc.bias", torch.zeros(2))]),
                  "extra": {"emb": torch.arange(6, dtype=torch.int64).reshape(2, 3), "mask": torch.tensor([True, False])},
                  "list": [torch.ones(2, dtype=torch.float16), torch.tensor(3, dtype=torch.int32)]}
        torch.save(nested, os.path.join(d, "nested.pt"))
        torch.save({"epoch": 3, "lr": 0.1, "name": "run-1", "state_dict": OrderedDict([("w", torch.ones(2, 2))])},
                   os.path.join(d, "checkpoint.pt"))
        torch.jit.save(torch.jit.script(Small()), os.path.join(d, "script.pt"))
        flat_nested = OrderedDict()
        flat_nested["model.fc.weight"] = nested["model"]["fc.weight"]
        flat_nested["model.fc.bias"] = nested["model"]["fc.bias"]
        flat_nested["extra.emb"] = nested["extra"]["emb"]
        flat_nested["extra.mask"] = nested["extra"]["mask"]
        flat_nested["list.0"] = nested["list"][0]
        flat_nested["list.1"] = nested["list"][1]
        print(json.dumps({
            "dtypes": {k: info(v) for k, v in dt.items()},
            "resnet18": {k: info(v) for k, v in sd.items()},
            "nested": {k: info(v) for k, v in flat_nested.items()},
            # JSON objects lose the order of integer-like keys in JS: the orders, explicitly.
            "order": {"dtypes": list(dt), "resnet18": list(sd), "nested": list(flat_nested)},
        }))
    elif cmd == "read":
        out = {}
        for f in req["files"]:
            metadata, tensors, order, layout = read(f)
            out[f] = {"metadata": metadata, "tensors": {k: info(v) for k, v in tensors.items()}, "order": order, "layout": layout}
        print(json.dumps(out))
    elif cmd == "load_pt":
        out = {}
        for f in req["files"]:
            obj = torch.load(f, weights_only=True)
            out[f] = {"type": type(obj).__name__, "tensors": {str(k): info(v) for k, v in obj.items()}}
        print(json.dumps(out))
    elif cmd == "expected":
        print(json.dumps({"dtypes": {k: info(v) for k, v in dtype_tensors().items()},
                          "resnet18": {k: info(v) for k, v in resnet18().items()}}))
    else:
        raise SystemExit(f"unknown cmd {cmd}")


if __name__ == "__main__":
    main()
