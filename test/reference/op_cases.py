"""Golden cases for torch-node's generated Tensor methods and torch.* functions (lib/ops/generated.ts).

Inputs are PyTorch's own: the sample inputs of its OpInfo database
(torch.testing._internal.common_methods_invocations.op_db), found by the name, its out-of-place
base (`abs_` -> `abs`), the `_copy` variant's view op, an alias, or the op under torch.nn.functional,
torch.linalg or torch.special; a few names without an OpInfo have hand-written inputs (MANUAL).
Each sample's tensors are made contiguous, the call is run here, and inputs, arguments and the result
are written out so that the Node side can make the same call and compare.

stdin: JSON [{"kind": "Tensor" | "torch", "py": name}]. stdout (last line): JSON {name-key: [case]}
where a case is {"self", "args", "kwargs", "out", "seeded", "shape_only"} and values are encoded as
{"t": i} (tensor i of "tensors"), {"dtype": "float32"}, {"list": [...]}, or plain JSON.
"""
import json
import math
import sys
import warnings

import torch

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

MAX_SAMPLES = 3
DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32, torch.bool, torch.uint8]
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16",
               torch.int8: "int8", torch.uint8: "uint8", torch.int16: "int16", torch.int32: "int32",
               torch.int64: "int64", torch.bool: "bool"}
MEMORY_FORMATS = {torch.contiguous_format: "contiguous_format", torch.preserve_format: "preserve_format",
                  torch.channels_last: "channels_last", torch.channels_last_3d: "channels_last_3d"}
# Random ops: both sides seed the default generator with 0 right before the call.
RANDOM = {"bernoulli", "bernoulli_", "normal", "normal_", "uniform_", "multinomial", "exponential_", "random_",
          "cauchy_", "log_normal_", "geometric_", "poisson", "binomial", "randint_like", "randperm", "rrelu",
          "rand_like", "randn_like", "alpha_dropout", "feature_alpha_dropout", "dropout", "feature_dropout",
          "rrelu_", "dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_", "randint", "rand", "randn",
          "bernoulli_", "normal_"}
# Results whose values are unspecified (uninitialized memory): only shape and dtype are compared.
SHAPE_ONLY = {"new_empty", "new_empty_strided", "empty_permuted", "empty_strided", "resize_", "resize_as_",
              "empty_like", "set_"}


class Unsupported(Exception):
    pass


def by_name():
    table = {}
    for o in op_db:
        table.setdefault(o.name, o)
        for a in o.aliases:
            table.setdefault(a.name, o)
    return table


OPS = by_name()


def opinfo_for(py):
    base = py[:-1] if py.endswith("_") and not py.endswith("__") else py
    names = [py, base]
    if base.endswith("_copy"):
        names.append(base[:-5])
    for n in list(names):
        names += ["nn.functional." + n, "linalg." + n, "special." + n]
    for n in names:
        if n in OPS:
            return OPS[n]
    return None


class Encoder:
    def __init__(self):
        self.tensors = []

    def tensor(self, t):
        t = t.detach()
        if t.is_complex() or t.dtype not in DTYPE_NAMES or t.layout != torch.strided or t.is_quantized:
            raise Unsupported("tensor of dtype %s / layout %s" % (t.dtype, t.layout))
        flat = t.reshape(-1)
        if t.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        data = [v if not isinstance(v, float) or math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
                for v in flat.tolist()]
        if t.dtype == torch.bool:
            data = [int(v) for v in data]
        self.tensors.append({"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data": data})
        return {"t": len(self.tensors) - 1}

    def value(self, v):
        if isinstance(v, torch.Tensor):
            return self.tensor(v)
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, int):
            if abs(v) > 2 ** 53:
                raise Unsupported("integer beyond 2^53")
            return v
        if isinstance(v, float):
            if not math.isfinite(v):
                return {"float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
            return v
        if isinstance(v, (list, tuple)):
            return {"list": [self.value(x) for x in v]}
        if isinstance(v, torch.dtype):
            if v not in DTYPE_NAMES:
                raise Unsupported("dtype %s" % v)
            return {"dtype": DTYPE_NAMES[v]}
        if isinstance(v, torch.memory_format):
            return MEMORY_FORMATS[v]
        if isinstance(v, torch.device):
            return str(v)
        if isinstance(v, torch.layout):
            if v != torch.strided:
                raise Unsupported("layout %s" % v)
            return "strided"
        if isinstance(v, torch.Size):
            return {"list": list(v)}
        raise Unsupported("value of type %s" % type(v).__name__)


def contiguous(v):
    if isinstance(v, torch.Tensor):
        return v.detach().contiguous().clone()
    if isinstance(v, (list, tuple)):
        return type(v)(contiguous(x) for x in v)
    if isinstance(v, dict):
        return {k: contiguous(x) for k, x in v.items()}
    return v


def clone(v):
    if isinstance(v, torch.Tensor):
        return v.clone()
    if isinstance(v, (list, tuple)):
        return type(v)(clone(x) for x in v)
    if isinstance(v, dict):
        return {k: clone(x) for k, x in v.items()}
    return v


def run_case(kind, py, inp, args, kwargs):
    """Encodes the inputs, runs the call on copies, encodes the result; raises on anything unsupported."""
    inp, args, kwargs = contiguous(inp), contiguous(list(args)), contiguous(dict(kwargs))
    enc = Encoder()
    case = {
        "self": enc.value(inp),
        "args": [enc.value(a) for a in args],
        "kwargs": {k: enc.value(v) for k, v in kwargs.items()},
        "seeded": py in RANDOM,
        "shape_only": py in SHAPE_ONLY,
    }
    x, a, k = clone(inp), clone(args), clone(kwargs)
    if py in RANDOM:
        torch.manual_seed(0)
    if kind == "Tensor":
        if not isinstance(x, torch.Tensor):
            raise Unsupported("input is not a tensor")
        out = getattr(x, py)(*a, **k)
    else:
        out = getattr(torch, py)(x, *a, **k)
    case["out"] = enc.value(out)
    grad = input_grad(kind, py, inp, args, kwargs)
    if grad is not None:
        case["grad"] = enc.tensor(grad)
    case["tensors"] = enc.tensors
    json.dumps(case)
    return case


def input_grad(kind, py, inp, args, kwargs):
    """The gradient of sum(out * w) with respect to the input (w = linspace(-1, 1) over out's
    elements), for float inputs of out-of-place, non-random calls whose result is one float tensor;
    None where there is none."""
    if py.endswith("_") or py in RANDOM or py in SHAPE_ONLY or not isinstance(inp, torch.Tensor):
        return None
    if inp.dtype not in (torch.float32, torch.float64):
        return None
    x = inp.clone().requires_grad_(True)
    try:
        out = getattr(x, py)(*clone(args), **clone(kwargs)) if kind == "Tensor" else getattr(torch, py)(x, *clone(args), **clone(kwargs))
        if not isinstance(out, torch.Tensor) or not out.requires_grad or not out.dtype.is_floating_point:
            return None
        w = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape)
        (out * w).sum().backward()
    except Exception:  # noqa: BLE001
        return None
    if x.grad is not None and x.grad._is_zerotensor():
        return torch.zeros_like(x)  # autograd's ZeroTensor (sgn, ...) has no storage to read
    return x.grad


def T(*shape, dtype=torch.float32, low=-2.0, high=2.0, seed=0):
    g = torch.Generator().manual_seed(seed + len(shape))
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if not dtype.is_floating_point:
        return torch.randint(int(low), int(high) + 1, shape, generator=g, dtype=dtype)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low).to(dtype)


# Names without an OpInfo (or whose OpInfo samples do not fit the method): (input, args, kwargs) lists.
MANUAL = {
    "fill_diagonal_": lambda: [(T(3, 3), (0.5,), {}), (T(4, 2), (2.0,), {"wrap": True})],
    "hardshrink": lambda: [(T(3, 4), (), {}), (T(5,), (0.7,), {})],
    "is_distributed": lambda: [(T(2), (), {})],
    "is_nonzero": lambda: [(T(1), (), {}), (torch.zeros(1), (), {})],
    "is_same_size": lambda: [(T(2, 3), (T(2, 3),), {}), (T(2, 3), (T(3, 2),), {})],
    "prelu": lambda: [(T(2, 3, 4), (torch.tensor([0.25, 0.5, 0.1]),), {}), (T(3, 2), (torch.tensor([0.3]),), {})],
    "random_": lambda: [(T(3, 4), (), {}), (T(5,), (10,), {}), (T(4,), (2, 9), {})],
    "resize": lambda: [],
    "resize_as": lambda: [],
    "slice_inverse": lambda: [(T(2, 3), (T(6, 3),), {"dim": 0, "start": 2, "end": 4})],
    "slogdet": lambda: [(T(3, 3), (), {}), (T(2, 4, 4), (), {})],
    "to_dense": lambda: [(T(2, 3), (), {})],
    "unsafe_split_with_sizes": lambda: [(T(5, 2), ([2, 3],), {}), (T(2, 6), ([1, 2, 3], 1), {})],
    "adaptive_avg_pool1d": lambda: [(T(2, 3, 8), (4,), {})],
    "adaptive_max_pool1d": lambda: [(T(2, 3, 8), (3,), {})],
    "alpha_dropout": lambda: [(T(3, 4), (0.5, True), {}), (T(3, 4), (0.5, False), {})],
    "avg_pool1d": lambda: [(T(1, 2, 9), (3,), {}), (T(2, 3, 8), (2, 2, 1), {"count_include_pad": False})],
    "bartlett_window": None,
    "binomial": lambda: [(torch.tensor([5.0, 10.0, 20.0]), (torch.tensor([0.5, 0.2, 0.9]),), {})],
    "celu": lambda: [(T(3, 4), (), {}), (T(5,), (2.0,), {})],
    "channel_shuffle": lambda: [(T(1, 4, 2, 2), (2,), {})],
    "cosine_similarity": lambda: [(T(3, 4), (T(3, 4, seed=1),), {}), (T(2, 5), (T(2, 5, seed=2), 0), {})],
    "detach_": lambda: [(T(2, 3), (), {})],
    "detach_copy": lambda: [(T(2, 3), (), {})],
    "embedding_bag": lambda: [(T(10, 3), (torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]), torch.tensor([0, 4])), {})],
    "frobenius_norm": lambda: [(T(3, 4), ([0, 1],), {}), (T(2, 3, 4), ([1],), {"keepdim": True})],
    "instance_norm": lambda: [(T(2, 3, 5), (None, None, None, None, True, 0.1, 1e-5, False), {})],
    "is_inference": lambda: [(T(2), (), {})],
    "is_signed": lambda: [(T(2), (), {}), (torch.tensor([1], dtype=torch.uint8), (), {})],
    "max_pool1d": lambda: [(T(1, 2, 9), (3,), {}), (T(2, 3, 8), (2, 2, 1), {})],
    "max_pool1d_with_indices": lambda: [(T(1, 2, 9), (3,), {})],
    "max_pool3d": lambda: [(T(1, 1, 4, 4, 4), (2,), {}), (T(1, 2, 5, 5, 5), (3, 2, 1), {})],
    "nuclear_norm": lambda: [(T(3, 4), (), {}), (T(2, 3, 4), ([1, 2],), {})],
    "numel": lambda: [(T(2, 3), (), {})],
    "pairwise_distance": lambda: [(T(3, 4), (T(3, 4, seed=1),), {}), (T(2, 5), (T(2, 5, seed=2), 1.0), {})],
    "pdist": lambda: [(T(4, 3), (), {}), (T(5, 2), (1.0,), {})],
    "pixel_shuffle": lambda: [(T(1, 8, 2, 3), (2,), {})],
    "pixel_unshuffle": lambda: [(T(1, 2, 4, 6), (2,), {})],
    "poisson": lambda: [(torch.tensor([1.0, 4.0, 10.0, 0.5]), (), {})],
    "randperm": None,
    "range": None,
    "rrelu": lambda: [(T(3, 4), (), {}), (T(3, 4), (0.1, 0.3, False), {})],
    "selu": lambda: [(T(3, 4), (), {})],
    "threshold": lambda: [(T(3, 4), (0.5, -1.0), {})],
    "vander": lambda: [(T(4), (), {}), (T(3), (), {"N": 4, "increasing": True})],
    # Factories (the first argument is not a tensor).
    "bartlett_window": lambda: [(8, (), {}), (5, (False,), {"dtype": torch.float64})],
    "blackman_window": lambda: [(8, (), {}), (5, (False,), {})],
    "hamming_window": lambda: [(8, (), {}), (6, (True, 0.5, 0.4), {})],
    "hann_window": lambda: [(8, (), {}), (5, (False,), {})],
    "kaiser_window": lambda: [(8, (), {}), (6, (True, 8.0), {})],
    "randperm": lambda: [(7, (), {}), (5, (), {"dtype": torch.int32})],
    "range": lambda: [(1, (4,), {}), (0, (2, 0.5), {"dtype": torch.float64})],
    "normal": lambda: [(T(3, 4), (1.5,), {}), (T(2, 3), (T(2, 3, low=0.1),), {}), (0.5, (2.0, [2, 3]), {})],
    "polygamma": lambda: [(1, (T(3, 4, low=0.5),), {}), (2, (T(5, low=0.5),), {})],
    "nonzero": lambda: [(T(3, 4, dtype=torch.int64, low=-1, high=1), (), {}), (T(3, 4, dtype=torch.int64, low=-1, high=1), (), {"as_tuple": True})],
    "unique": lambda: [(T(10, dtype=torch.int64, low=0, high=4), (), {}),
                       (T(10, dtype=torch.int64, low=0, high=4), (), {"return_inverse": True, "return_counts": True}),
                       (T(4, 3, dtype=torch.int64, low=0, high=1), (), {"dim": 0, "return_counts": True})],
    "unique_consecutive": lambda: [(torch.tensor([1, 1, 2, 2, 3, 1, 1, 2]), (), {}),
                                   (torch.tensor([1, 1, 2, 2, 3, 1, 1, 2]), (), {"return_inverse": True, "return_counts": True})],
    "as_tensor": lambda: [(T(2, 3), (), {}), (T(2, 3), (), {"dtype": torch.float64}), ([[1, 2], [3, 4]], (), {})],
    "broadcast_shapes": lambda: [([2, 1, 3], ([4, 1],), {}), ([5], ([1],), {})],
    "unravel_index": lambda: [(torch.tensor([0, 5, 11, 7]), ((3, 4),), {}), (torch.tensor([-1, 3]), ((2, 3),), {})],
    "Tensor.polygamma": lambda: [(T(3, 4, low=0.5), (1,), {}), (T(5, low=0.5), (2,), {})],
    "get_device": lambda: [(T(2), (), {})],
    "is_floating_point": lambda: [(T(2), (), {}), (T(2, dtype=torch.int64), (), {})],
    "type_as": lambda: [(T(2, 3), (T(1, dtype=torch.float64),), {}), (T(2, 3), (T(1, dtype=torch.int32),), {})],
    "can_cast": lambda: [(torch.float64, (torch.int32,), {}), (torch.int32, (torch.float32,), {})],
    "promote_types": lambda: [(torch.int32, (torch.float32,), {}), (torch.uint8, (torch.int8,), {})],
    "result_type": lambda: [(T(2, dtype=torch.int32), (T(2),), {}), (T(2, dtype=torch.int32), (2.5,), {})],
    "dropout_": lambda: [(T(4, 5), (0.5, True), {}), (T(3), (0.2, False), {})],
    "alpha_dropout_": lambda: [(T(4, 5), (0.5, True), {})],
    "feature_dropout": lambda: [(T(2, 3, 4), (0.5, True), {})],
    "feature_dropout_": lambda: [(T(2, 3, 4), (0.5, True), {})],
    "feature_alpha_dropout": lambda: [(T(2, 3, 4), (0.5, True), {})],
    "feature_alpha_dropout_": lambda: [(T(2, 3, 4), (0.5, True), {})],
    "rrelu_": lambda: [(T(3, 4), (), {}), (T(3, 4), (0.1, 0.3, True), {})],
    "affine_grid_generator": lambda: [(T(2, 2, 3), ([2, 1, 3, 4], False), {})],
    "grid_sampler": lambda: [(T(1, 2, 4, 4), (T(1, 3, 3, 2, low=-1, high=1), 0, 0, False), {})],
    "convolution": lambda: [(T(1, 2, 5, 5), (T(3, 2, 3, 3), T(3), [1, 1], [0, 0], [1, 1], False, [0, 0], 1), {})],
    "conv_tbc": lambda: [(T(5, 2, 3), (T(3, 3, 4), T(4)), {}), (T(6, 1, 2), (T(2, 2, 3), T(3), 1), {})],
    "lstm_cell": lambda: [(T(2, 3), ([T(2, 4, seed=1), T(2, 4, seed=2)], T(16, 3, seed=3), T(16, 4, seed=4), T(16, seed=5), T(16, seed=6)), {})],
    "gru_cell": lambda: [(T(2, 3), (T(2, 4, seed=1), T(12, 3, seed=3), T(12, 4, seed=4), T(12, seed=5), T(12, seed=6)), {})],
    "rnn_tanh_cell": lambda: [(T(2, 3), (T(2, 4, seed=1), T(4, 3, seed=3), T(4, 4, seed=4), T(4, seed=5), T(4, seed=6)), {})],
    "rnn_relu_cell": lambda: [(T(2, 3), (T(2, 4, seed=1), T(4, 3, seed=3), T(4, 4, seed=4)), {})],
    "einsum": lambda: [("ij,jk->ik", (T(2, 3), T(3, 4, seed=1)), {}), ("bii->bi", (T(2, 3, 3),), {}), ("i,j", ([T(3), T(2, seed=1)],), {})],
    "tensordot": lambda: [(T(3, 4, 5), (T(4, 5, 2, seed=1),), {}), (T(3, 4), (T(4, 3, seed=1),), {"dims": 1}),
                          (T(3, 4, 5), (T(5, 3, 2, seed=1),), {"dims": ([0, 2], [1, 0])})],
    "cdist": lambda: [(T(3, 4), (T(5, 4, seed=1),), {}), (T(2, 3, 4), (T(2, 2, 4, seed=1),), {"p": 1.0}),
                      (T(3, 4), (T(5, 4, seed=1),), {"compute_mode": "use_mm_for_euclid_dist"})],
    "ndimension": lambda: [(T(2, 3, 4), (), {})],
    "nelement": lambda: [(T(2, 3, 4), (), {})],
    "short": lambda: [(T(2, 3, low=-50, high=50), (), {})],
    "char": lambda: [(T(2, 3, low=-50, high=50), (), {})],
    "byte": lambda: [(T(2, 3, low=0, high=50), (), {})],
    "bfloat16": lambda: [(T(2, 3), (), {})],
    "new_tensor": lambda: [(T(2, dtype=torch.float64), ([[1, 2], [3, 4]],), {}), (T(2), ([1, 2, 3],), {"dtype": torch.int32})],
}


# Names whose OpInfo samples are for another calling convention than Python's public one.
ALWAYS_MANUAL = {"normal", "polygamma", "nonzero", "unique", "unique_consecutive"}


def cases_for(kind, py):
    out = []
    errors = []
    manual = MANUAL.get(kind + "." + py, MANUAL.get(py, False))
    if manual is None:
        return [], ["no tensor input (a factory): tested by hand"]
    info = None if manual or py in ALWAYS_MANUAL else opinfo_for(py)
    if info is not None:
        supported = info.supported_dtypes("cpu")
        dtypes = [d for d in DTYPES if d in supported]
        for dtype in dtypes[:2]:
            try:
                samples = list(info.sample_inputs("cpu", dtype, requires_grad=False))
            except Exception as e:  # noqa: BLE001
                errors.append("samples: %s" % e)
                continue
            for s in samples:
                if len(out) >= MAX_SAMPLES:
                    break
                try:
                    out.append(run_case(kind, py, s.input, s.args, s.kwargs))
                except Exception as e:  # noqa: BLE001
                    errors.append("%s: %s" % (type(e).__name__, str(e).split("\n")[0][:200]))
            if out:
                break
    if not out and manual:
        for inp, args, kwargs in manual():
            try:
                out.append(run_case(kind, py, inp, args, kwargs))
            except Exception as e:  # noqa: BLE001
                errors.append("%s: %s" % (type(e).__name__, str(e).split("\n")[0][:200]))
    if info is None and not manual:
        errors.append("no OpInfo and no hand-written inputs")
    return out, errors


def main():
    names = json.loads(sys.stdin.read())
    result = {"version": torch.__version__, "cases": {}, "errors": {}}
    for item in names:
        key = item["kind"] + "." + item["py"]
        cases, errors = cases_for(item["kind"], item["py"])
        result["cases"][key] = cases
        if not cases:
            result["errors"][key] = errors[:3]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
