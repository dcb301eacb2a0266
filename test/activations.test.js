'use strict';
// nn.ReLU6 / nn.Hardswish / nn.Hardsigmoid and F.relu6 / F.hardswish / F.hardsigmoid against PyTorch:
// values and input gradients on inputs that cover every kink (-3, 0, 3, 6) and both flat ends, out of
// place and in place (which must return and modify the input itself, as PyTorch's inplace=True), in
// float32 and float64, plus the printed form. Both sides run the same ATen kernels: tolerance 1e-6 abs.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const F = torch.nn.functional;
const baseline = torch.memory().liveTensors;

// Kinks and flat ends, then a sweep.
const X = [
  -8,
  -3.5,
  -3,
  -2.999,
  -1,
  -0.5,
  0,
  0.25,
  1,
  2.5,
  3,
  3.001,
  5.5,
  6,
  6.5,
  9,
  ...Array.from({ length: 24 }, (_, i) => Math.round(Math.sin(i * 0.9) * 7000) / 1000),
];
const NAMES = ['relu6', 'hardswish', 'hardsigmoid'];
const MODULES = { relu6: nn.ReLU6, hardswish: nn.Hardswish, hardsigmoid: nn.Hardsigmoid };

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, torch, torch.nn as nn, torch.nn.functional as F
x0 = json.load(sys.stdin)
out = {}
for dtype in ('float32', 'float64'):
    for name in ('relu6', 'hardswish', 'hardsigmoid'):
        x = torch.tensor(x0, dtype=getattr(torch, dtype)).reshape(5, 8).requires_grad_()
        y = getattr(F, name)(x)
        (y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum().backward()
        out[dtype + ' ' + name] = {'y': y.detach().reshape(-1).tolist(), 'gx': x.grad.reshape(-1).tolist()}
out['reprs'] = [str(nn.ReLU6()), str(nn.ReLU6(inplace=True)), str(nn.Hardswish()), str(nn.Hardswish(inplace=True)), str(nn.Hardsigmoid()), str(nn.Hardsigmoid(inplace=True))]
print(json.dumps(out))
`,
    X,
  );
});

const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
function close(a, b, what, atol = 1e-6) {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= atol)) assert.fail(`${what}[${i}] (x = ${X[i]}): torch-node ${x} vs PyTorch ${b[i]}`);
  });
}
const weights = (y) => torch.arange(y.numel(), { dtype: y.dtype }).reshape(y.shape).cos();

for (const dtype of ['float32', 'float64']) {
  for (const name of NAMES) {
    test(`F.${name} and nn.${MODULES[name].name} (${dtype}): values and gradients equal PyTorch`, () => {
      torch.tidy(() => {
        const want = py[`${dtype} ${name}`];
        const x = torch.tensor(X, { dtype }).reshape([5, 8]).requiresGrad_();
        const y = F[name](x);
        assert.equal(y.dtype, dtype);
        y.mul(weights(y)).sum().backward();
        close(flat(y), want.y, 'output');
        close(flat(x.grad), want.gx, 'input gradient');
        const m = new MODULES[name]();
        close(flat(m.call(x)), want.y, 'module output');
      });
    });
  }
}

for (const name of NAMES) {
  test(`F.${name}(x, { inplace: true }) and nn.${MODULES[name].name}({ inplace: true }) modify and return x`, () => {
    torch.tidy(() => {
      const want = py[`float32 ${name}`].y;
      const x = torch.tensor(X, { dtype: 'float32' });
      const x2 = x.clone();
      const before = torch.memory().liveTensors;
      assert.equal(F[name](x, { inplace: true }), x, 'F returns its input');
      assert.equal(torch.memory().liveTensors, before, 'no new tensor');
      close(flat(x), want, 'in-place values');
      const m = new MODULES[name]({ inplace: true });
      assert.equal(m.inplace, true);
      assert.equal(m.call(x2), x2, 'the module returns its input');
      close(flat(x2), want, 'module in-place values');
      // Out of place leaves the input alone.
      const x3 = torch.tensor(X, { dtype: 'float32' });
      F[name](x3, { inplace: false });
      close(flat(x3), X, 'out of place keeps the input');
      // In place through autograd: on a non-leaf, gradients equal the out-of-place ones (PyTorch saves
      // what backward needs); on a leaf that requires grad libtorch refuses, as PyTorch does.
      const a = torch.tensor(X, { dtype: 'float32' }).requiresGrad_();
      const y = F[name](a.mul(1), { inplace: true });
      y.mul(weights(y)).sum().backward();
      close(flat(a.grad), py[`float32 ${name}`].gx, 'in-place input gradient');
      assert.throws(() => F[name](a, { inplace: true }), /leaf Variable that requires grad.*in-place/);
    });
  });
}

test('ReLU6, Hardswish and Hardsigmoid print as PyTorch', () => {
  const got = [
    new nn.ReLU6(),
    new nn.ReLU6({ inplace: true }),
    new nn.Hardswish(),
    new nn.Hardswish({ inplace: true }),
    new nn.Hardsigmoid(),
    new nn.Hardsigmoid({ inplace: true }),
  ].map(String);
  assert.deepEqual(got, py.reprs);
});

test('bad arguments name the parameter', () => {
  assert.throws(() => new nn.ReLU6({ inplace: 'yes' }), /ReLU6\(\).*'inplace'.*a boolean/);
  assert.throws(() => new nn.Hardswish('yes'), /Hardswish\(\).*'inplace'.*a boolean/);
  assert.equal(new nn.Hardswish(true).inplace, true, "Python's positional nn.Hardswish(True)");
  assert.throws(() => F.hardsigmoid([1, 2]), /hardsigmoid\(\).*'input'/);
  torch.tidy(() => assert.throws(() => F.relu6(torch.zeros([2]), { inplace: 1 }), /relu6\(\).*'inplace'.*a boolean/));
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
