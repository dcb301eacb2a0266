# Reference side of test/serialization.test.js: writes torch.save fixtures with Python PyTorch and
# describes loaded files the same way the test describes torch-node's results (describe() below and
# describe() in the test must agree). Reads JSON from stdin, prints one JSON line.
#
#   {"cmd": "write", "dir": D}            -> writes D/<name>.pt for every fixture, returns
#                                            {name: description of torch.load(file)}
#   {"cmd": "describe", "files": [...]}   -> {file: description of torch.load(file)} with the
#                                            default weights_only=True (what users run)
#   {"cmd": "roundtrip", "dir": D, "names": [...]} -> Python loads D/js-<name>.pt, saves it again as
#                                            D/py-<name>.pt (for torch-node to compare)
import hashlib
import json
import struct
import sys
from collections import OrderedDict

import torch


def f64(x):
    return struct.pack(">d", x).hex()


class Describer:
    def __init__(self):
        self.storages = {}
        self.empty = 0

    def storage_index(self, t):
        ptr = t.untyped_storage().data_ptr()
        if ptr == 0:
            self.empty += 1
            key = ("empty", self.empty)
        else:
            key = (str(t.device), ptr)
        if key not in self.storages:
            self.storages[key] = len(self.storages)
        return self.storages[key]

    def __call__(self, v):
        d = self
        if v is None:
            return {"k": "none"}
        if isinstance(v, bool):
            return {"k": "bool", "v": v}
        if isinstance(v, int):
            return {"k": "int", "v": str(v)}
        if isinstance(v, float):
            return {"k": "float", "v": f64(v)}
        if isinstance(v, str):
            return {"k": "str", "v": v}
        if isinstance(v, (bytes, bytearray)):
            return {"k": "bytes", "v": bytes(v).hex()}
        if isinstance(v, torch.device):
            return {"k": "device", "v": str(v)}
        if isinstance(v, torch.Tensor):
            flat = v.detach().cpu().contiguous().reshape(-1)
            raw = bytes(flat.view(torch.uint8).numpy()) if flat.numel() else b""
            return {
                "k": "param" if isinstance(v, torch.nn.Parameter) else "tensor",
                "dtype": str(v.dtype)[6:],
                "shape": list(v.shape),
                "stride": list(v.stride()),
                "offset": v.storage_offset(),
                "rg": v.requires_grad,
                "sha": hashlib.sha256(raw).hexdigest(),
                "storage": d.storage_index(v),
                "device": v.device.type,
            }
        if isinstance(v, tuple):
            return {"k": "tuple", "v": [d(x) for x in v]}
        if isinstance(v, list):
            return {"k": "list", "v": [d(x) for x in v]}
        if isinstance(v, OrderedDict):
            out = {"k": "odict", "v": [[d(k), d(x)] for k, x in v.items()]}
            if hasattr(v, "_metadata"):
                out["meta"] = d(v._metadata)
            return out
        if isinstance(v, dict):
            return {"k": "dict", "v": [[d(k), d(x)] for k, x in v.items()]}
        if isinstance(v, (set, frozenset)):
            return {"k": "set", "v": sorted(json.dumps(d(x), sort_keys=True, separators=(",", ":"), ensure_ascii=False) for x in v)}
        raise TypeError(f"cannot describe {type(v)}")


def describe(v):
    return Describer()(v)


def fixtures():
    import torchvision

    torch.manual_seed(0)
    out = {}
    out["resnet18"] = (torchvision.models.resnet18().state_dict(), {})

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 2)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model(torch.randn(2, 3, 6, 6)).square().mean()
    loss.backward()
    opt.step()
    out["checkpoint"] = (
        {
            "epoch": 7,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "loss": loss.item(),
            "loss_tensor": loss.detach(),
            "best": 1.0,
            "note": "ünïcode ✓",
        },
        {},
    )

    dt = OrderedDict()
    dt["float32"] = torch.tensor([1.5, -0.0, float("nan"), float("inf"), -float("inf"), 1e-45, 3.4e38], dtype=torch.float32)
    dt["float64"] = torch.tensor([1 / 3, -0.0, float("nan"), 5e-324, 1.7976931348623157e308], dtype=torch.float64)
    dt["float16"] = torch.tensor([1.5, -0.0, float("nan"), float("inf"), 6e-8, 65504.0], dtype=torch.float16)
    dt["bfloat16"] = torch.tensor([1.5, -0.0, float("nan"), float("inf"), 1e-38, 3e38], dtype=torch.bfloat16)
    dt["int8"] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
    dt["uint8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    dt["int16"] = torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16)
    dt["int32"] = torch.tensor([-(2**31), -1, 0, 2**31 - 1], dtype=torch.int32)
    dt["int64"] = torch.tensor([-(2**63), -1, 0, 2**53 + 1, 2**63 - 1], dtype=torch.int64)
    dt["bool"] = torch.tensor([True, False, True])
    dt["scalar_f64"] = torch.tensor(2.5, dtype=torch.float64)
    dt["scalar_bool"] = torch.tensor(True)
    dt["empty_f32"] = torch.zeros(0, 3)
    dt["empty_i64"] = torch.zeros(0, dtype=torch.int64)
    dt["rand_4d"] = torch.randn(2, 3, 4, 5)
    out["dtypes"] = (dt, {})

    base = torch.arange(24, dtype=torch.float32)
    grid = base.view(4, 6)
    out["views"] = (
        {"base": base, "grid": grid, "row": grid[1], "col": grid[:, 2], "slice": base[5:11], "again": base, "cube": base.view(2, 3, 4)[1:, :, 1::2]},
        {},
    )

    m = torch.randn(3, 5)
    out["noncontig"] = (
        {
            "transposed": m.t(),
            "permuted": torch.randn(2, 3, 4).permute(2, 0, 1),
            "expanded": torch.ones(3, 1).expand(3, 4),
            "channels_last": torch.randn(2, 3, 4, 4).contiguous(memory_format=torch.channels_last),
            "stepped": torch.arange(10)[::3],
            "int_t": torch.arange(6, dtype=torch.int16).view(2, 3).t(),
        },
        {},
    )

    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    out["dataparallel"] = (torch.nn.DataParallel(net).state_dict(), {})

    out["nested"] = (
        {
            "list": [1, 2.5, "x", None, True, [3, (4, 5.0)], {}, []],
            "tuple": (1,),
            "empty_tuple": (),
            "int_keys": {0: "a", 1: {"x": 1}, -5: 2, 2**40: "big key"},
            "big": 2**64,
            "neg_big": -(2**70),
            "floats": [1.0, -0.0, float("nan"), float("inf"), 1e-300, 0.1],
            "deep": {"a": {"b": {"c": [torch.arange(3)]}}},
            "tuple_key": {(1, 2): "pair"},
            "set": {1, 2, 3},
            "bytes": b"\x00\xffab",
            "empty_bytes": bytearray(),
            "device": torch.device("cpu"),
            "odict": OrderedDict([("z", 1), ("a", 2)]),
            "size": torch.Size([2, 3]),
        },
        {},
    )

    out["params"] = (
        {
            "w": torch.nn.Parameter(torch.randn(2, 3)),
            "frozen": torch.nn.Parameter(torch.randn(3), requires_grad=False),
            "rg": torch.randn(2, requires_grad=True),
            "list": [torch.nn.Parameter(torch.ones(1))],
        },
        {},
    )

    small = torch.nn.Linear(2, 2)
    out["proto4"] = ({"sd": small.state_dict(), "lr": 1.0, "t": (1, 2)}, {"pickle_protocol": 4})
    return out


def main():
    req = json.loads(sys.stdin.read())
    cmd = req["cmd"]
    if cmd == "write":
        res = {}
        for name, (obj, kw) in fixtures().items():
            path = f"{req['dir']}/{name}.pt"
            torch.save(obj, path, **kw)
            res[name] = describe(torch.load(path, weights_only=False))
        print(json.dumps(res))
    elif cmd == "describe":
        res = {}
        for f in req["files"]:
            try:
                res[f] = describe(torch.load(f))
            except Exception as e:  # reported to the test, which fails with the message
                res[f] = {"k": "error", "v": f"{type(e).__name__}: {e}"}
        print(json.dumps(res))
    elif cmd == "roundtrip":
        for name in req["names"]:
            obj = torch.load(f"{req['dir']}/js-{name}.pt")
            torch.save(obj, f"{req['dir']}/py-{name}.pt")
        print(json.dumps({"ok": True}))
    else:
        raise ValueError(cmd)


main()
