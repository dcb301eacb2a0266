"""Evaluates golden-test cases with Python PyTorch, the reference implementation.

Input (stdin, JSON): {"cases": [{"name", "inputs": {name: {"data": [...], "shape": [...], "dtype": "float32"}},
"py": "python expression or statements assigning `out`"}]}. Each input becomes a tensor built from the
same flat data the JS side uses. Output (last stdout line, JSON): {name: result}, where a tensor is
{"kind": "tensor", "shape", "dtype", "strides", "data"} (non-finite floats as strings), a tuple/list a
{"kind": "list", "items"}, a number/bool {"kind": "scalar"}, a string {"kind": "str"}, and an
exception {"kind": "error", "message"}.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def enc_value(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def enc(x):
    if isinstance(x, torch.Tensor):
        t = x.detach()
        flat = t.reshape(-1).cpu()
        if t.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        return {
            "kind": "tensor",
            "shape": list(t.shape),
            "dtype": str(t.dtype).replace("torch.", ""),
            "strides": list(t.stride()),
            "data": [enc_value(v) for v in flat.tolist()],
        }
    if isinstance(x, (tuple, list)):
        return {"kind": "list", "items": [enc(i) for i in x]}
    if isinstance(x, (bool, int, float)):
        return {"kind": "scalar", "value": enc_value(x)}
    if isinstance(x, str):
        return {"kind": "str", "value": x}
    if x is None:
        return {"kind": "none"}
    raise TypeError(f"cannot encode {type(x)}")


def make(spec):
    dtype = getattr(torch, spec["dtype"])
    data = spec["data"]
    t = torch.tensor(data, dtype=torch.float64).to(dtype).reshape(spec["shape"])
    if spec.get("requiresGrad"):
        t.requires_grad_(True)
    return t


def main():
    req = json.load(sys.stdin)
    out = {}
    for case in req["cases"]:
        env = {"torch": torch, "F": F, "math": math}
        try:
            torch.manual_seed(case.get("seed", 0))
            for name, spec in case.get("inputs", {}).items():
                env[name] = make(spec)
            code = case["py"]
            if "\n" in code or "out =" in code:
                exec(code, env)
                result = env["out"]
            else:
                result = eval(code, env)
            out[case["name"]] = enc(result)
        except Exception as e:  # the JS side may expect an error too
            out[case["name"]] = {"kind": "error", "message": str(e).split("\n")[0]}
    print(json.dumps(out))


main()
