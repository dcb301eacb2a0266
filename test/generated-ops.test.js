'use strict';
// Every generated Tensor method and torch.* function (lib/ops/generated.ts, written by
// scripts/gen-api.js from libtorch's schemas) against PyTorch. The inputs are PyTorch's own OpInfo
// samples (test/reference/op_cases.py; a few hand-written where no OpInfo fits): Python runs each
// call and writes inputs, arguments and the result; here the same call is made the JS way
// (keyword arguments in a camelCase options object, tuples as arrays) and must give the same
// result: same dtype and shape, equal integers and booleans, floats within rtol 1e-5 / atol 1e-6
// (the same kernels on both sides; only summation order may differ), random ops from the same seed.
// A generated name without a case fails. The Python side is cached by torch version and the
// script's hash (its run takes ~10 s).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const torch = require('../dist');
const gen = require('../dist/ops/generated');

const { findPython } = require('./helpers/python');
const { spawnSync } = require('child_process');

const SCRIPT = path.join(__dirname, 'reference', 'op_cases.py');
const RTOL = 1e-5;
const ATOL = 1e-6;

torch.setNumThreads(1);

function pythonCases(names) {
  const { python, version } = findPython();
  const text = fs.readFileSync(SCRIPT, 'utf8');
  const hash = crypto.createHash('sha256').update(text).update(JSON.stringify(names)).digest('hex').slice(0, 16);
  const dir = path.join(require('../scripts/libtorch').cacheDir(), 'golden');
  const file = path.join(dir, `op-cases-${version}-${hash}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const r = spawnSync(python, [SCRIPT], { input: JSON.stringify(names), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`op_cases.py failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(out));
  fs.renameSync(`${file}.tmp`, file);
  return out;
}

const num = (v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

function decode(v, tensors, made) {
  if (v === null || typeof v !== 'object') return v;
  if ('t' in v) {
    const spec = tensors[v.t];
    const data = spec.data.map(num);
    // A tensor of its own (not a view: detach_() and resize_() refuse views), as Python's.
    const t = torch.tidy(() =>
      (spec.dtype === 'bool' ? torch.tensor(data.map(Boolean), { dtype: 'bool' }) : torch.tensor(data, { dtype: 'float64' }).to(spec.dtype))
        .reshape(spec.shape)
        .clone(),
    );
    made.push(t);
    return t;
  }
  if ('list' in v) return v.list.map((x) => decode(x, tensors, made));
  if ('dtype' in v) return v.dtype;
  if ('float' in v) return num(v.float);
  throw new Error(`cannot decode ${JSON.stringify(v)}`);
}

const camel = (k) => k.replace(/_([a-z0-9])/g, (_m, c) => c.toUpperCase());

function compare(got, want, tensors, at, shapeOnly) {
  if (want !== null && typeof want === 'object' && 't' in want) {
    assert.ok(got instanceof torch.Tensor, `${at}: expected a Tensor, got ${typeof got}`);
    const spec = tensors[want.t];
    assert.equal(got.dtype, spec.dtype, `${at}: dtype`);
    assert.deepEqual(got.shape, spec.shape, `${at}: shape`);
    if (shapeOnly) return;
    const vals = torch.tidy(() => got.detach().reshape([-1]).to('float64').tolist());
    const exp = spec.data.map(num);
    const exact = !/^float|^bfloat/.test(spec.dtype);
    for (let i = 0; i < exp.length; i++) {
      const a = vals[i];
      const b = exp[i];
      if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${at}[${i}]: ${a} vs NaN`);
      else if (exact || !Number.isFinite(b)) assert.equal(a, b, `${at}[${i}]`);
      else assert.ok(Math.abs(a - b) <= ATOL + RTOL * Math.abs(b), `${at}[${i}]: ${a} vs ${b}`);
    }
    return;
  }
  if (want !== null && typeof want === 'object' && 'list' in want) {
    assert.ok(Array.isArray(got), `${at}: expected an array of ${want.list.length}, got ${typeof got}`);
    assert.equal(got.length, want.list.length, `${at}: length`);
    want.list.forEach((w, i) => compare(got[i], w, tensors, `${at}[${i}]`, shapeOnly));
    return;
  }
  if (want !== null && typeof want === 'object' && 'dtype' in want) return assert.equal(got, want.dtype, at);
  if (want !== null && typeof want === 'object' && 'float' in want)
    return assert.ok(Object.is(got, num(want.float)) || (Number.isNaN(got) && Number.isNaN(num(want.float))), at);
  if (typeof want === 'number' && !Number.isInteger(want)) return assert.ok(Math.abs(got - want) <= ATOL + RTOL * Math.abs(want), `${at}: ${got} vs ${want}`);
  assert.equal(got, want, at);
}

/** Runs one case the JS way and compares. */
function runCase(kind, js, c, at) {
  const made = [];
  try {
    torch.tidy(() => {
      const self = decode(c.self, c.tensors, made);
      const args = c.args.map((a) => decode(a, c.tensors, made));
      const kw = Object.fromEntries(Object.entries(c.kwargs).map(([k, v]) => [camel(k), decode(v, c.tensors, made)]));
      const call = Object.keys(kw).length ? [...args, kw] : args;
      if (c.seeded) torch.manualSeed(0);
      const out = kind === 'Tensor' ? self[js](...call) : torch[js](self, ...call);
      compare(out, c.out, c.tensors, at, c.shape_only);
      if (c.grad) {
        // The gradient through the same call: d sum(out * w) / d self, w = linspace(-1, 1).
        const x = self.clone().detach().requiresGrad_(true);
        const again = kind === 'Tensor' ? x[js](...call) : torch[js](x, ...call);
        const w = torch.linspace(-1, 1, again.numel(), { dtype: again.dtype }).reshape(again.shape);
        again.mul(w).sum().backward();
        compare(x.grad, c.grad, c.tensors, `${at} grad`, false);
        x.grad = null;
      }
    });
  } finally {
    torch.dispose(made);
  }
}

const entries = [
  ...gen.GENERATED_METHODS.map(([js, py]) => ({ kind: 'Tensor', js, py })),
  ...gen.GENERATED_FUNCTIONS.map(([js, py]) => ({ kind: 'torch', js, py })),
  ...require('../dist/ops/extras').EXTRAS.map(([kind, js, py]) => ({ kind, js, py })),
];
const reference = pythonCases(entries.map(({ kind, py }) => ({ kind, py })));

test('lib/ops/generated.ts is what scripts/gen-api.js writes now', () => {
  const { generate, OUT } = require('../scripts/gen-api');
  assert.equal(fs.readFileSync(OUT, 'utf8'), generate(false), 'stale: run node scripts/gen-api.js');
});

for (const kind of ['Tensor', 'torch']) {
  test(`generated ${kind === 'Tensor' ? 'Tensor methods' : 'torch.* functions'} equal PyTorch on its OpInfo samples`, (t) => {
    const failures = [];
    let calls = 0;
    let grads = 0;
    for (const e of entries.filter((x) => x.kind === kind)) {
      const key = `${kind}.${e.py}`;
      const cases = reference.cases[key] ?? [];
      if (!cases.length) {
        failures.push(`${key}: no golden case (${(reference.errors[key] ?? []).join('; ')})`);
        continue;
      }
      cases.forEach((c, i) => {
        calls++;
        if (c.grad) grads++;
        try {
          runCase(kind, e.js, c, `${kind === 'Tensor' ? 'Tensor.' : 'torch.'}${e.js} case ${i}`);
        } catch (err) {
          failures.push(`${key} case ${i}: ${String(err.message).split('\n')[0]}`);
        }
      });
    }
    assert.ok(calls > 0 && grads > 0);
    t.diagnostic(`${calls} calls, ${grads} with gradients`);
    assert.deepEqual(failures, [], `${failures.length} failures:\n${failures.join('\n')}`);
  });
}

test('a call no overload fits names the overloads; names resolve by type as in Python', () => {
  const x = torch.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { dtype: 'float32' },
  );
  assert.throws(
    () => x.indexAdd('0'),
    (e) =>
      e instanceof torch.TorchError &&
      /no overload takes \(string "0"\)/.test(e.message) &&
      /index_add\(int dim, Tensor index, Tensor source, \*, Scalar alpha=1\)/.test(e.message),
  );
  // Named tuple: destructuring and names.
  const r = x.kthvalue(1, 1);
  const [values, indices] = r;
  assert.deepEqual(values.tolist(), [1, 3]);
  assert.equal(r.indices, indices);
  // Spread int list, as x.new_zeros(2, 3).
  assert.deepEqual(x.newZeros(2, 3).shape, [2, 3]);
  assert.deepEqual(x.newZeros([2, 3], { dtype: 'int64' }).dtype, 'int64');
  // In-place: the tensor itself comes back.
  const y = x.clone();
  assert.equal(y.trunc_(), y);
  assert.equal(torch.trunc_(y), y);
  torch.dispose([x, values, indices, y]);
});
