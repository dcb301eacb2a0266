'use strict';
// torch.ops.<namespace>.<name>.<overload>: any registered operator by PyTorch's own spelling,
// golden against the same calls in Python; keyword arguments, tuple and list returns, in-place
// overloads returning their tensor, the default overload, and TorchErrors naming what exists.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

test('torch.ops.aten calls equal Python\'s torch.ops.aten', () => torch.tidy(() => {
  const py = runPython(`
import json, torch
a = torch.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
b = torch.tensor([[2.0, 1.0, -1.0], [3.0, -2.0, 0.5]])
ops = torch.ops.aten
v, i = ops.max.dim(a, 1)
t = ops.topk.default(a.reshape(-1), 3)
print(json.dumps({
  'add': ops.add.Tensor(a, b, alpha=2).tolist(),
  'sum': ops.sum.dim_IntList(a, [1], keepdim=True).tolist(),
  'max': [v.tolist(), i.tolist()],
  'topk': [t[0].tolist(), t[1].tolist()],
  'cat': ops.cat.default([a, b], 1).tolist(),
  'relu': ops.relu.default(a).tolist(),
  'size': ops.size.int(a, 1),
  'clamp': ops.clamp.default(a, -1.0, 2.0).tolist(),
  'leaky': ops.leaky_relu.default(a, 0.2).tolist(),
  'unbind': [x.tolist() for x in ops.unbind.int(a, 0)],
}))
`);
  const a = torch.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]]);
  const b = torch.tensor([[2.0, 1.0, -1.0], [3.0, -2.0, 0.5]]);
  const ops = torch.ops.aten;
  assert.deepEqual(ops.add.Tensor(a, b, { alpha: 2 }).tolist(), py.add);
  assert.deepEqual(ops.sum.dim_IntList(a, [1], { keepdim: true }).tolist(), py.sum);
  const [v, i] = ops.max.dim(a, 1);
  assert.deepEqual([v.tolist(), i.tolist().map(Number)], py.max);
  const [tv, ti] = ops.topk.default(a.reshape([-1]), 3);
  assert.deepEqual([tv.tolist(), ti.tolist().map(Number)], py.topk);
  assert.deepEqual(ops.cat.default([a, b], 1).tolist(), py.cat);
  assert.deepEqual(ops.relu(a).tolist(), py.relu, 'the packet called: its default overload');
  assert.equal(ops.size.int(a, 1), py.size);
  assert.deepEqual(ops.clamp.default(a, -1.0, 2.0).tolist(), py.clamp);
  assert.deepEqual(ops.leaky_relu.default(a, { negativeSlope: 0.2 }).tolist(), py.leaky, 'a camelCase keyword');
  assert.deepEqual(ops.unbind.int(a, 0).map((x) => x.tolist()), py.unbind);
  // In place: the tensor written to comes back itself, as in Python.
  const c = a.clone();
  assert.equal(ops.add_.Tensor(c, b), c);
  assert.deepEqual(c.tolist(), a.add(b).tolist());
}));

test('torch.ops: unknown names, overloads and arguments are TorchErrors naming what exists', () => torch.tidy(() => {
  const a = torch.ones([2]);
  assert.throws(() => torch.ops.aten.add(a, a), /torch\.ops\.aten\.add\.default: aten::add has no overload 'default'; it has .*Tensor/);
  assert.throws(() => torch.ops.aten.nosuchop(a), /libtorch [\d.]+ has no operator aten::nosuchop/);
  assert.throws(() => torch.ops.aten.add.Tensor(a, a, { beta: 1 }), /no argument 'beta' \(aten::add\.Tensor\(Tensor self, Tensor other, \*, Scalar alpha=1\) -> Tensor\)/);
  assert.throws(() => torch.ops.aten.add.Tensor(a, a, 1, { alpha: 2 }), /argument 'alpha' given twice/);
  assert.ok(torch.ops.aten.add.overloads.includes('Tensor'));
  const d = torch.ones([1]);
  d.dispose();
  assert.throws(() => torch.ops.aten.relu(d), { code: 'ERR_TORCH_DISPOSED' });
}));
