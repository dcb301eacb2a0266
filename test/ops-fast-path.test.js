'use strict';
// Every entry of the native fast path (binding/ops/pointwise.def, the one list the C++ tables, the
// op codes of lib/ops/codes.ts and the Tensor methods come from) against PyTorch: each line's op,
// called by its op code and through its Tensor method, gives what the line's PyTorch expression gives
// in Python on the same inputs. The inputs are chosen so that any two entries of one kind differ
// (checked below on Python's side), so an entry whose code reaches another op fails here — the swap
// experiment of issue 16. Also: lib/ops/codes.ts is what scripts/gen-ops.js writes from the .def,
// and the addon's tables hold the same names in the same order.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { native } = require('../dist/binding');
const codes = require('../dist/ops/codes');
const { wrap } = require('../dist/tensor');
const { parseDef, generate, OUT } = require('../scripts/gen-ops');
const { runPython } = require('./helpers/python');
const fs = require('fs');

const entries = parseDef();

// The inputs each line names (the same values on both sides).
const INPUTS = {
  float: { a: [[-1.5, -0.5, 0.0, 0.3, 0.7, 1.0, 2.5, -2.0], 'float32'], b: [[-1.5, 0.5, 1.0, 0.3, -0.7, 2.0, 2.5, 1.5], 'float32'] },
  int: { a: [[5, -3, 0, 7, 12, -8, 1, 6], 'int64'], b: [[3, 6, 0, -2, 10, 3, 1, 5], 'int64'] },
  special: { a: [[NaN, Infinity, -Infinity, 1.0, 0.0, -2.0], 'float32'] },
  vector: { a: [[1, 2, 3], 'float32'], b: [[4, -5, 6], 'float32'] },
  matrix: { a: [[[-2.5, -1.5, -0.5], [0.5, 1.5, 2.5]], 'float32'], b: [[[0, 0.5], [1, 1.5], [2, -2.5]], 'float32'] },
  batch: { a: [[[[1, 2, 3], [4, 5, 6]], [[-1, 0, 1], [2, -3, 4]]], 'float32'], b: [[[[1, 0], [0, 1], [1, 1]], [[2, -1], [0.5, 3], [1, 0]]], 'float32'] },
  grad: { a: [[-1.5, 0.3, 0.7, 2.5], 'float32'] },
};
const SCALAR = 0.7;
const KIND_LIST = { BINARY: 'BINARY', SCALAR: 'SCALAR', UNARY: 'UNARY', BINARY_INPLACE: 'BINARY_INPLACE', SCALAR_INPLACE: 'SCALAR_INPLACE', UNARY_INPLACE: 'UNARY_INPLACE', REDUCE: 'REDUCE' };
// REDUCE entries reduce over these dims, keeping them.
const DIMS = [0];
const KEEPDIM = true;
// Entries that are not Tensor methods of their own name: how the API reaches them.
const VIA = { sumAll: (a) => a.sum(), meanAll: (a) => a.mean(), gelu: (a) => a.gelu() };

const enc = (v) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);
const dec = (v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

function describe(t) {
  return {
    shape: t.shape,
    dtype: t.dtype,
    values: torch.tidy(() => t.reshape([-1]).double().tolist()).map(enc),
    requiresGrad: t.requiresGrad,
    gradFn: t.gradFn ? t.gradFn.name() : null,
  };
}

/** torch-node's result for one entry, through its op code (`byCode`) or its Tensor method. */
function nodeResult(e, byCode) {
  return torch.tidy(() => {
    const inp = INPUTS[e.inputs];
    const a = torch.tensor(inp.a[0], { dtype: inp.a[1] });
    const b = inp.b ? torch.tensor(inp.b[0], { dtype: inp.b[1] }) : null;
    if (e.inputs === 'grad') a.requiresGrad_();
    const code = codes[KIND_LIST[e.kind]].indexOf(e.name);
    let r;
    switch (e.kind) {
      case 'BINARY':
        r = byCode ? wrap(native.binary(code, a._h, b._h)) : a[e.name](b);
        break;
      case 'SCALAR':
        r = byCode ? wrap(native.binaryScalar(code, a._h, SCALAR)) : a[e.name](SCALAR);
        break;
      case 'UNARY':
        r = byCode ? wrap(native.unary(code, a._h)) : (VIA[e.name] ?? ((x) => x[e.name]()))(a);
        break;
      case 'BINARY_INPLACE':
        if (byCode) native.binaryInplace(code, a._h, b._h);
        else a[e.name](b);
        r = a;
        break;
      case 'REDUCE':
        r = byCode ? wrap(native.reduceDims(code, a._h, DIMS, KEEPDIM)) : a[e.name](DIMS, KEEPDIM);
        break;
      case 'SCALAR_INPLACE':
        if (byCode) native.scalarInplace(code, a._h, SCALAR);
        else a[e.name](SCALAR);
        r = a;
        break;
      default:
        if (byCode) native.unaryInplace(code, a._h);
        else a[e.name]();
        r = a;
    }
    if (e.inputs === 'grad') {
      // Whether the result aliases the input shows after the input changes in place.
      const d = { requiresGrad: r.requiresGrad, gradFn: r.gradFn ? r.gradFn.name() : null };
      torch.noGrad(() => a.add_(1));
      return { ...describe(r), ...d };
    }
    return describe(r);
  });
}

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, math, torch
req = json.load(sys.stdin)
def dec(v): return float(v) if isinstance(v, str) else v
def enc(v): return 'nan' if math.isnan(v) else 'inf' if v == math.inf else '-inf' if v == -math.inf else v
def tensor(spec):
    vals, dtype = spec
    def conv(x): return [conv(y) for y in x] if isinstance(x, list) else dec(x)
    return torch.tensor(conv(vals), dtype=getattr(torch, dtype))
out = []
for e in req['entries']:
    inp = req['inputs'][e['inputs']]
    a = tensor(inp['a']); b = tensor(inp['b']) if 'b' in inp else None
    if e['inputs'] == 'grad': a.requires_grad_()
    env = {'torch': torch, 'a': a, 'b': b, 's': req['s'], 'd': req['d'], 'k': req['k']}
    if e['kind'].endswith('INPLACE'):
        exec(e['py'], env); r = a
    else:
        r = eval(e['py'], env)
    d = {'requiresGrad': r.requires_grad, 'gradFn': type(r.grad_fn).__name__ if r.grad_fn is not None else None}
    if e['inputs'] == 'grad':
        with torch.no_grad(): a.add_(1)
    out.append({'shape': list(r.shape), 'dtype': str(r.dtype).replace('torch.', ''),
                'values': [enc(v) for v in r.reshape(-1).double().tolist()], **d})
print(json.dumps(out))
`,
    {
      entries: entries.map(({ kind, name, py: expr, inputs }) => ({ kind, name, py: expr, inputs })),
      inputs: Object.fromEntries(Object.entries(INPUTS).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([n, [vals, dt]]) => [n, [JSON.parse(JSON.stringify(vals, (_, x) => (typeof x === 'number' ? enc(x) : x))), dt]]))])),
      s: SCALAR,
      d: DIMS,
      k: KEEPDIM,
    },
  );
});

test('lib/ops/codes.ts is what scripts/gen-ops.js writes from binding/ops/pointwise.def', () => {
  assert.equal(fs.readFileSync(OUT, 'utf8'), generate(entries), 'stale: run node scripts/gen-ops.js');
});

test("the addon's tables hold the .def's names in the .def's order", () => {
  const built = native.fastPathNames();
  const byKind = (k) => entries.filter((e) => e.kind === k).map((e) => e.name);
  assert.deepEqual(built, {
    binary: byKind('BINARY'), scalar: byKind('SCALAR'), unary: byKind('UNARY'),
    binaryInplace: byKind('BINARY_INPLACE'), scalarInplace: byKind('SCALAR_INPLACE'), unaryInplace: byKind('UNARY_INPLACE'),
    reduce: byKind('REDUCE'),
  });
});

test("the inputs tell every two entries of one kind apart (on Python's side)", () => {
  const key = (r) => JSON.stringify(r);
  for (const kind of Object.keys(KIND_LIST)) {
    const seen = new Map();
    entries.forEach((e, i) => {
      if (e.kind !== kind) return;
      const k = key(py[i]);
      assert.ok(!seen.has(k), `${kind}(${e.name}) and ${kind}(${seen.get(k)}) give the same result on their inputs: a swap of the two would pass`);
      seen.set(k, e.name);
    });
  }
});

for (const kind of Object.keys(KIND_LIST)) {
  test(`every ${kind} entry, by op code and by Tensor method, equals PyTorch`, () => {
    entries.forEach((e, i) => {
      if (e.kind !== kind) return;
      const want = py[i];
      for (const byCode of [true, false]) {
        const got = nodeResult(e, byCode);
        const what = `${kind}(${e.name}) ${byCode ? 'by code' : 'by method'} vs ${e.py}`;
        assert.deepEqual([got.shape, got.dtype, got.requiresGrad, got.gradFn], [want.shape, want.dtype, want.requiresGrad, want.gradFn], what);
        got.values.forEach((v, j) => {
          const x = dec(v);
          const y = dec(want.values[j]);
          const ok = Number.isNaN(y) ? Number.isNaN(x) : x === y || Math.abs(x - y) <= 1e-6 * Math.abs(y) + 1e-7;
          assert.ok(ok, `${what}: element ${j} is ${x}, PyTorch ${y}`);
        });
      }
    });
  });
}
