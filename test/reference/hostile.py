# Hostile and broken torch.save files for test/hostile-files.test.js, crafted with Python's own
# pickle (which builds payloads without running them) and PyTorch's zip writer. Nothing here is
# ever unpickled. Reads {"dir": D, "marker": M} from stdin, writes D/<name>.pt, prints the names.
#
# Code payloads: objects whose __reduce__ returns os.system / eval / getattr / subprocess.Popen /
# exec; if a loader ever ran one, it would create the file M, which the test checks is absent.
import builtins
import json
import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import torch

req = json.loads(sys.stdin.read())
D = req["dir"]
M = req["marker"]
names = []


def archive(name, pkl, records=None, byteorder=b"little"):
    w = torch._C.PyTorchFileWriter(f"{D}/{name}.pt")
    w.write_record("data.pkl", pkl, len(pkl))
    if byteorder is not None:
        w.write_record("byteorder", byteorder, len(byteorder))
    for k, v in (records or {}).items():
        w.write_record(k, v, len(v))
    w.write_end_of_file()
    names.append(name)


class Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class FakeStorage:
    def __init__(self, pid):
        self.pid = pid


class Fake:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)."""

    def __init__(self, pid, offset, size, stride, requires_grad=False):
        self.a = (FakeStorage(pid), offset, size, stride, requires_grad, OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.a)


class P(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, FakeStorage) else None


def dumps(obj, protocol=2):
    import io

    b = io.BytesIO()
    P(b, protocol=protocol).dump(obj)
    return b.getvalue()


touch = f"touch {M}"
four = torch.arange(4, dtype=torch.float32).numpy().tobytes()  # 16 bytes: 4 float32

# ---- code execution --------------------------------------------------------------------------
archive("os_system", dumps({"x": Reduce(os.system, (touch,))}))  # pickles as posix.system
archive("builtins_eval", dumps(Reduce(eval, (f"__import__('os').system('{touch}')",))))
archive("builtins_exec", dumps([1, Reduce(exec, (f"import os; os.system('{touch}')",))], protocol=4))
archive("builtins_getattr", dumps(Reduce(getattr, (Reduce(__import__, ("os",)), "system"))))
archive("subprocess_popen", dumps(Reduce(subprocess.Popen, (["touch", M],))))
# A valid tensor first, the payload after it: nothing may be left allocated.
archive(
    "after_tensor",
    dumps(OrderedDict([("w", Fake(("storage", torch.FloatStorage, "0", "cpu", 4), 0, (4,), (1,))), ("evil", Reduce(os.system, (touch,)))])),
    {"data/0": four},
)
# Raw GLOBAL 'os system' (pickle itself would write posix.system) and opcodes that build objects.
archive("raw_os_system", b"\x80\x02cos\nsystem\nq\x00X" + len(touch).to_bytes(4, "little") + touch.encode() + b"\x85R.")
archive("inst_opcode", b"(X" + len(touch).to_bytes(4, "little") + touch.encode() + b"ios\nsystem\n.")
archive("newobj_unknown", b"\x80\x02ccollections\nOrderedDict\n)\x81cbuiltins\nobject\n)\x81.")
archive("build_on_list", b"\x80\x02]}b.")

# ---- sizes and offsets -------------------------------------------------------------------------
F = lambda key="0", numel=4, st=torch.FloatStorage: ("storage", st, key, "cpu", numel)  # noqa: E731
archive("wrong_numel", dumps(Fake(F(numel=100), 0, (100,), (1,))), {"data/0": four})
archive("numel_huge", dumps(Fake(F(numel=2**62), 0, (1,), (1,))), {"data/0": four})
archive("offset_out_of_range", dumps(Fake(F(), 10, (1,), (1,))), {"data/0": four})
archive("view_extent", dumps(Fake(F(), 0, (3, 3), (3, 1))), {"data/0": four})
archive("view_extent_offset", dumps(Fake(F(), 2, (3,), (1,))), {"data/0": four})
archive("huge_shape", dumps(Fake(F(), 0, (2**40, 2**40), (2**40, 1))), {"data/0": four})
archive("huge_shape_stride0", dumps(Fake(F(), 0, (2**40, 2**40), (0, 0))), {"data/0": four})
archive("negative_stride", dumps(Fake(F(), 3, (4,), (-1,))), {"data/0": four})
archive("float_size", dumps(Fake(F(), 0, (2.0,), (1,))), {"data/0": four})
archive("size_stride_mismatch", dumps(Fake(F(), 0, (2, 2), (1,))), {"data/0": four})
archive("missing_record", dumps(Fake(F(key="7"), 0, (4,), (1,))), {"data/0": four})
archive("dtype_clash", dumps([Fake(F(), 0, (4,), (1,)), Fake(F(numel=2, st=torch.DoubleStorage), 0, (2,), (1,))]), {"data/0": four})
archive("int_requires_grad", dumps(Fake(F(numel=2, st=torch.LongStorage), 0, (2,), (1,), True)), {"data/0": four})
archive("not_a_storage", dumps(Reduce(torch._utils._rebuild_tensor_v2, ("storage", 0, (1,), (1,), False, OrderedDict()))))
archive("bad_pid", dumps(Fake(("module", torch.FloatStorage, "0", "cpu", 4), 0, (4,), (1,))), {"data/0": four})
archive("complex_storage", dumps(Fake(("storage", torch.ComplexFloatStorage, "0", "cpu", 2), 0, (2,), (1,))), {"data/0": four})

# ---- broken pickles and archives ----------------------------------------------------------------
good = dumps({"w": Fake(F(), 0, (4,), (1,))})
archive("pickle_truncated", good[: len(good) // 2], {"data/0": four})
archive("bad_memo", b"\x80\x02h\x05.")
archive("long_string", b"\x80\x02X\xff\xff\xff\x7fabc.")
archive("deep_nesting", b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".")
archive("unknown_opcode", b"\x80\x02\xff.")
archive("big_endian", good, {"data/0": four}, byteorder=b"big")
archive("bad_byteorder", good, {"data/0": four}, byteorder=b"middle")
archive("stack_underflow", b"\x80\x02s.")

# Python's legacy (pre-1.6) format and a TorchScript archive.
torch.save({"w": torch.ones(2)}, f"{D}/legacy.pt", _use_new_zipfile_serialization=False)
names.append("legacy")
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), f"{D}/torchscript.pt")
names.append("torchscript")
# A small valid file: the base for truncation, corruption and fuzzing.
sd = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).state_dict()
torch.save({"sd": sd, "views": [torch.arange(6.0)[1::2], torch.arange(6.0)], "n": 1, "f": 1.0, "t": (1, "a")}, f"{D}/valid.pt")
names.append("valid")
print(json.dumps(names))
