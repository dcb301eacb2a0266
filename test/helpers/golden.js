'use strict';
// Golden tests: each case runs once in torch-node and once in Python PyTorch (test/reference/golden.py)
// on the same input data, and the results must match: same shape and dtype, equal integers and
// booleans, floats within the case's tolerance (default rtol 1e-5, atol 1e-6; float16/bfloat16 wider).
const fs = require('fs');
const path = require('path');
const assert = require('node:assert/strict');
const { runPython } = require('./python');

const GOLDEN_PY = fs.readFileSync(path.join(__dirname, '..', 'reference', 'golden.py'), 'utf8');

/** A deterministic generator of input data (xorshift), so both sides see the same numbers. */
function rng(seed) {
  return require('../fuzz/harness').random(seed).rand;
}

/**
 * Input spec -> { data, shape, dtype }. kinds: 'randn' (approx normal), 'uniform' (0..1), 'pos' (0.1..2),
 * 'int' (-5..5), 'range' (0..n-1), 'bool', or explicit `data`.
 */
function makeInput(spec, seed) {
  if (spec.data)
    return {
      data: spec.data.flat(Infinity),
      shape: spec.shape ?? [spec.data.flat(Infinity).length],
      dtype: spec.dtype ?? 'float32',
      requiresGrad: spec.requiresGrad,
    };
  const shape = spec.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const kind = spec.kind ?? 'randn';
  const data = [];
  for (let i = 0; i < n; i++) {
    let v;
    if (kind === 'randn') v = Math.round((r() + r() + r() + r() - 2) * 1.7 * 1e4) / 1e4;
    else if (kind === 'uniform') v = Math.round(r() * 1e4) / 1e4;
    else if (kind === 'pos') v = Math.round((0.1 + r() * 1.9) * 1e4) / 1e4;
    else if (kind === 'int') v = Math.floor(r() * 11) - 5;
    else if (kind === 'range') v = i;
    else if (kind === 'bool') v = r() < 0.5 ? 1 : 0;
    else throw new Error(`unknown input kind ${kind}`);
    data.push(v);
  }
  return {
    data,
    shape,
    dtype: spec.dtype ?? (kind === 'int' || kind === 'range' ? 'int64' : kind === 'bool' ? 'bool' : 'float32'),
    requiresGrad: spec.requiresGrad,
  };
}

function prepare(cases) {
  return cases.map((c, i) => ({
    ...c,
    inputData: Object.fromEntries(Object.entries(c.inputs ?? {}).map(([k, spec], j) => [k, makeInput(spec, 1000 * i + j + 1)])),
  }));
}

/** Runs all cases' Python sides in one process. */
function pythonResults(prepared) {
  return runPython(GOLDEN_PY, {
    cases: prepared.map((c) => ({ name: c.name, inputs: c.inputData, py: c.py, seed: c.seed ?? 0 })),
  });
}

function jsTensor(torch, spec) {
  const t = torch.tensor(spec.data.map(Number), { dtype: 'float64' });
  const out = t.to(spec.dtype).reshape(spec.shape);
  t.dispose();
  if (spec.requiresGrad) out.requiresGrad_(true);
  return out;
}

function encode(torch, v) {
  if (v instanceof torch.Tensor) {
    const dtype = v.dtype;
    const flat = v.reshape(-1).tolist();
    return {
      kind: 'tensor',
      shape: v.shape,
      dtype,
      strides: v.stride(),
      data: (Array.isArray(flat) ? flat : [flat]).map((x) => (typeof x === 'boolean' ? Number(x) : x)),
    };
  }
  if (Array.isArray(v)) return { kind: 'list', items: v.map((x) => encode(torch, x)) };
  if (typeof v === 'number' || typeof v === 'boolean') return { kind: 'scalar', value: Number(v) };
  if (typeof v === 'string') return { kind: 'str', value: v };
  if (v === null) return { kind: 'none' };
  throw new Error(`cannot encode ${typeof v}`);
}

function num(x) {
  if (x === 'nan') return NaN;
  if (x === 'inf') return Infinity;
  if (x === '-inf') return -Infinity;
  return x;
}

function close(a, b, rtol, atol) {
  a = num(a);
  b = num(b);
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

function compare(js, py, c, where = 'result') {
  assert.equal(js.kind, py.kind, `${where}: kind ${js.kind} vs Python ${py.kind}${py.kind === 'error' ? ` (${py.message})` : ''}`);
  if (js.kind === 'tensor') {
    assert.deepEqual(js.shape, py.shape, `${where}: shape`);
    assert.equal(js.dtype, py.dtype, `${where}: dtype`);
    if (c.strides) assert.deepEqual(js.strides, py.strides, `${where}: strides`);
    const lowp = js.dtype === 'float16' || js.dtype === 'bfloat16';
    const rtol = c.rtol ?? (lowp ? 1e-2 : 1e-5);
    const atol = c.atol ?? (lowp ? 1e-3 : 1e-6);
    const floating = ['float32', 'float64', 'float16', 'bfloat16'].includes(js.dtype);
    for (let i = 0; i < py.data.length; i++) {
      const ok = floating ? close(js.data[i], py.data[i], rtol, atol) : num(js.data[i]) === num(py.data[i]);
      if (!ok) assert.fail(`${where}: element ${i}: torch-node ${js.data[i]} vs Python ${py.data[i]} (rtol ${rtol}, atol ${atol})`);
    }
  } else if (js.kind === 'list') {
    assert.equal(js.items.length, py.items.length, `${where}: length`);
    js.items.forEach((x, i) => compare(x, py.items[i], c, `${where}[${i}]`));
  } else if (js.kind === 'scalar') {
    if (!close(js.value, py.value, c.rtol ?? 1e-5, c.atol ?? 1e-6)) assert.fail(`${where}: ${js.value} vs Python ${py.value}`);
  } else if (js.kind === 'none') {
    // null only matches null (e.g. a missing grad on both sides is a failure of the case, not a pass)
    if (!c.allowNull) assert.fail(`${where}: both sides are null/None; a golden case must compare values`);
  } else if (js.kind === 'str') {
    assert.equal(js.value, py.value, where);
  }
}

/**
 * Registers one node:test subtest per case. A case: { name, inputs, py, js(torch, inputs), rtol?, atol?,
 * strides?, seed?, error? (regex: both sides must fail, torch-node with a TorchError matching it) }.
 */
function goldenSuite(test, torch, cases) {
  const prepared = prepare(cases);
  let py;
  require('node:test').before(() => {
    py = pythonResults(prepared);
  });
  for (const c of prepared) {
    test(c.name, () => {
      const expected = py[c.name];
      torch.tidy(() => {
        const inputs = Object.fromEntries(Object.entries(c.inputData).map(([k, s]) => [k, jsTensor(torch, s)]));
        if (c.seed !== undefined) torch.manualSeed(c.seed);
        else torch.manualSeed(0);
        if (c.error) {
          assert.equal(expected.kind, 'error', `Python did not fail: ${JSON.stringify(expected).slice(0, 200)}`);
          assert.throws(
            () => c.js(torch, inputs),
            (e) => e instanceof torch.TorchError && c.error.test(e.message),
          );
          return;
        }
        compare(encode(torch, c.js(torch, inputs)), expected, c);
      });
    });
  }
}

module.exports = { goldenSuite, makeInput, rng };
