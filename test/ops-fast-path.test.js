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

// The inputs each line names (the same values on both sides): tensors as [values, dtype] (a third
// element 't': transposed after it is made, so not contiguous), and `args`, the plain values the
// line's expressions use besides s, d and k (they replace those of the same name).
const INPUTS = {
  float: { a: [[-1.5, -0.5, 0.0, 0.3, 0.7, 1.0, 2.5, -2.0], 'float32'], b: [[-1.5, 0.5, 1.0, 0.3, -0.7, 2.0, 2.5, 1.5], 'float32'] },
  int: { a: [[5, -3, 0, 7, 12, -8, 1, 6], 'int64'], b: [[3, 6, 0, -2, 10, 3, 1, 5], 'int64'] },
  special: { a: [[NaN, Infinity, -Infinity, 1.0, 0.0, -2.0], 'float32'] },
  vector: { a: [[1, 2, 3], 'float32'], b: [[4, -5, 6], 'float32'] },
  matrix: {
    a: [
      [
        [-2.5, -1.5, -0.5],
        [0.5, 1.5, 2.5],
      ],
      'float32',
    ],
    b: [
      [
        [0, 0.5],
        [1, 1.5],
        [2, -2.5],
      ],
      'float32',
    ],
  },
  batch: {
    a: [
      [
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [
          [-1, 0, 1],
          [2, -3, 4],
        ],
      ],
      'float32',
    ],
    b: [
      [
        [
          [1, 0],
          [0, 1],
          [1, 1],
        ],
        [
          [2, -1],
          [0.5, 3],
          [1, 0],
        ],
      ],
      'float32',
    ],
  },
  grad: { a: [[-1.5, 0.3, 0.7, 2.5], 'float32'] },
  // The kinds after REDUCE.
  dim: {
    a: [
      [
        [-2.5, -1.5, -0.5],
        [0.5, 1.5, 2.5],
      ],
      'float32',
    ],
    args: { d: -2 },
  },
  ints: {
    a: [
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      'float32',
    ],
    args: { v: [0, 1, 2, 1] },
  },
  reshape: {
    a: [
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      'float32',
      't',
    ],
    args: { s: [3, 2] },
  },
  view: {
    a: [
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      'float32',
    ],
    args: { s: [3, 2] },
  },
  expand: { a: [[[1, 2, 3]], 'float32'], args: { s: [2, 3] } },
  permute: {
    a: [
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      'float32',
    ],
    args: { s: [1, 0] },
  },
  list: { a: [[[1, 2]], 'float32'], b: [[[3, 4]], 'float32'], args: { d: 0 } },
  conv1d: {
    x: [
      [
        [
          [0.5, -1, 2, 0, 1.5],
          [1, 0.25, -0.5, 2, -2],
        ],
      ],
      'float32',
    ],
    w: [
      [
        [
          [1, -1],
          [0.5, 2],
        ],
        [
          [0, 1],
          [1, 0],
        ],
        [
          [-1, 0.5],
          [2, -0.5],
        ],
      ],
      'float32',
    ],
    c: [[0.1, -0.2, 0.3], 'float32'],
    args: { st: [1], pd: [1], dl: [1], g: 1 },
  },
  conv2d: {
    x: [
      [
        [
          [
            [1, 2, 0],
            [-1, 0.5, 3],
            [2, -2, 1],
          ],
        ],
      ],
      'float32',
    ],
    w: [
      [
        [
          [
            [1, 0],
            [0, -1],
          ],
        ],
        [
          [
            [0.5, 1],
            [-1, 2],
          ],
        ],
      ],
      'float32',
    ],
    c: [[0.25, -0.75], 'float32'],
    args: { st: [1, 1], pd: [0, 0], dl: [1, 1], g: 1 },
  },
  linear: {
    a: [
      [
        [1, -2, 0.5],
        [0, 3, -1],
      ],
      'float32',
    ],
    b: [
      [
        [1, 0, 0],
        [0, 1, 0],
        [0.5, 0.5, 0.5],
        [-1, 2, 1],
      ],
      'float32',
    ],
    c: [[0.1, 0.2, 0.3, 0.4], 'float32'],
  },
  // 8 channels (the channels-last kernel: binding/ops/pointwise.cc's MaxPool2d) of 5x5, with a NaN
  // and infinities, ceil_mode and a padding that leaves partial windows.
  pool: {
    x: [
      [
        Array.from({ length: 8 }, (_, c) =>
          Array.from({ length: 5 }, (_, i) =>
            Array.from(
              { length: 5 },
              (_, j) =>
                ((c * 7 + i * 5 + j * 3) % 11) -
                5 +
                (c === 2 && i === 1 && j === 1 ? NaN : 0) +
                (c === 3 && i === 4 && j === 0 ? Infinity : 0) +
                (c === 5 && i === 0 && j === 4 ? -Infinity : 0),
            ),
          ),
        ),
      ],
      'float32',
    ],
    args: { k: [3, 2], st: [2, 2], pd: [1, 0], dl: [1, 1], ceil: true },
  },
};
const SCALAR = 0.7;
const KIND_LIST = {
  BINARY: 'BINARY',
  SCALAR: 'SCALAR',
  UNARY: 'UNARY',
  BINARY_INPLACE: 'BINARY_INPLACE',
  SCALAR_INPLACE: 'SCALAR_INPLACE',
  UNARY_INPLACE: 'UNARY_INPLACE',
  REDUCE: 'REDUCE',
  DIM: 'DIM',
  INTS: 'INTS',
  SHAPE: 'SHAPE',
  LIST: 'LIST',
  CONV: 'CONV',
  TERNARY: 'TERNARY',
  POOL: 'POOL',
};
// REDUCE entries reduce over these dims, keeping them.
const DIMS = [0];
const KEEPDIM = true;
// Entries that are not Tensor methods of their own name: how the API reaches them.
const VIA = { sumAll: (a) => a.sum(), meanAll: (a) => a.mean(), gelu: (a) => a.gelu() };
// The kinds after REDUCE: each entry through the API that uses it (t: the inputs' tensors, g: their args).
const F = torch.nn.functional;
const API = {
  DIM: (name, t, g) => t.a[name](g.d),
  INTS: (name, t, g) => t.a[name](...g.v.slice(0, { select: 2, narrow: 3, slice: 4, transpose: 2, flatten: 2 }[name])),
  SHAPE: (name, t, g) => t.a[name](g.s),
  LIST: (name, t, g) => torch[name]([t.a, t.b], g.d),
  CONV: (name, t, g) => F[name](t.x, t.w, t.c, { stride: g.st, padding: g.pd, dilation: g.dl, groups: g.g }),
  TERNARY: (name, t) => F[name](t.a, t.b, t.c),
  POOL: (name, t, g) => F[name](t.x, g.k, { stride: g.st, padding: g.pd, dilation: g.dl, ceilMode: g.ceil }),
};
// ... and by op code, as the API calls the native entry point.
const BY_CODE = {
  DIM: (code, t, g) => native.dimOp(code, t.a._h, g.d),
  INTS: (code, t, g) => native.intsOp(code, t.a._h, ...g.v),
  SHAPE: (code, t, g) => native.shapeOp(code, t.a._h, ...g.s),
  LIST: (code, t, g) => native.listOp(code, g.d, t.a._h, t.b._h),
  CONV: (code, t, g) => native.convOp(code, t.x._h, t.w._h, t.c._h, g.g, ...g.st, ...g.pd, ...g.dl),
  TERNARY: (code, t) => native.ternary(code, t.a._h, t.b._h, t.c._h),
  POOL: (code, t, g) => native.poolOp(code, t.x._h, g.ceil, ...g.k, ...g.st, ...g.pd, ...g.dl),
};
const makeTensor = ([vals, dtype, t]) => {
  const x = torch.tensor(vals, { dtype });
  return t === 't' ? x.t() : x;
};

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
    const code = codes[KIND_LIST[e.kind]].indexOf(e.name);
    if (API[e.kind]) {
      const t = Object.fromEntries(
        Object.entries(inp)
          .filter(([k]) => k !== 'args')
          .map(([k, spec]) => [k, makeTensor(spec)]),
      );
      return describe(byCode ? wrap(BY_CODE[e.kind](code, t, inp.args ?? {})) : API[e.kind](e.name, t, inp.args ?? {}));
    }
    const a = makeTensor(inp.a);
    const b = inp.b ? makeTensor(inp.b) : null;
    if (e.inputs === 'grad') a.requiresGrad_();
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
    vals, dtype = spec[0], spec[1]
    def conv(x): return [conv(y) for y in x] if isinstance(x, list) else dec(x)
    t = torch.tensor(conv(vals), dtype=getattr(torch, dtype))
    return t.t() if len(spec) > 2 and spec[2] == 't' else t
out = []
for e in req['entries']:
    inp = req['inputs'][e['inputs']]
    tensors = {k: tensor(v) for k, v in inp.items() if k != 'args'}
    a = tensors.get('a'); b = tensors.get('b')
    if e['inputs'] == 'grad': a.requires_grad_()
    env = {'torch': torch, 's': req['s'], 'd': req['d'], 'k': req['k'], 'b': None, **tensors, **inp.get('args', {})}
    if e['kind'] == 'LIST': env['ts'] = [a, b]
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
      inputs: Object.fromEntries(
        Object.entries(INPUTS).map(([k, v]) => [
          k,
          Object.fromEntries(
            Object.entries(v).map(([n, spec]) => [
              n,
              n === 'args' ? spec : [JSON.parse(JSON.stringify(spec[0], (_, x) => (typeof x === 'number' ? enc(x) : x))), ...spec.slice(1)],
            ]),
          ),
        ]),
      ),
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
    binary: byKind('BINARY'),
    scalar: byKind('SCALAR'),
    unary: byKind('UNARY'),
    binaryInplace: byKind('BINARY_INPLACE'),
    scalarInplace: byKind('SCALAR_INPLACE'),
    unaryInplace: byKind('UNARY_INPLACE'),
    reduce: byKind('REDUCE'),
    dim: byKind('DIM'),
    ints: byKind('INTS'),
    shape: byKind('SHAPE'),
    list: byKind('LIST'),
    conv: byKind('CONV'),
    ternary: byKind('TERNARY'),
    pool: byKind('POOL'),
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

// Tensor.index's fast path (one slice or one integer: one unboxed call, as Python's x[a:b] is one
// aten::slice call) against Python's indexing, and the general path's messages when it throws.
test("index(): one slice or one integer, as Python's x[...]", () => {
  const cases = [
    ['x[1:3]', (x) => x.index([torch.slice(1, 3)])],
    ['x[:2]', (x) => x.index([torch.slice(null, 2)])],
    ['x[1:]', (x) => x.index([torch.slice(1)])],
    ['x[::2]', (x) => x.index([torch.slice(null, null, 2)])],
    ['x[-3:-1]', (x) => x.index([torch.slice(-3, -1)])],
    ['x[1]', (x) => x.index([1])],
    ['x[-1]', (x) => x.index([-1])],
    ['x[0, 1:3]', (x) => x.index([0, torch.slice(1, 3)])],
  ];
  const want = runPython(
    `
import json, sys, torch
x = torch.arange(20, dtype=torch.float32).reshape(4, 5)
print(json.dumps([{'shape': list(r.shape), 'values': r.reshape(-1).tolist()} for r in (eval(e) for e in json.load(sys.stdin))]))
`,
    cases.map(([e]) => e),
  );
  torch.tidy(() => {
    const x = torch.arange(20, { dtype: 'float32' }).reshape(4, 5);
    cases.forEach(([e, f], i) => {
      const r = f(x);
      assert.deepEqual({ shape: r.shape, values: r.reshape(-1).tolist() }, want[i], e);
    });
    assert.throws(() => x.index([7]), /index 7 out of range for tensor of size \[4, 5\] at dimension 0/);
    assert.throws(() => torch.tensor(1).index([torch.slice(0, 1)]), /index\(\): too many indices for a tensor of dimension 0 \(got 1\)/);
  });
});
