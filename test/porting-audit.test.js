'use strict';
// Porting audit: Python keyword arguments that torch-node used to drop silently, each checked against
// live Python PyTorch (float32, one thread; exact for integer results, atol 1e-6 otherwise), and the
// options Python rejects (or torch-node lacks) now a TorchError naming the way.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1);
const close = (a, b, tol = 1e-6, msg = '') => {
  assert.equal(a.length, b.length, msg);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol * (1 + Math.abs(b[i])), `${msg} [${i}] ${x} vs ${b[i]}`));
};

test('fast-path methods honour keywords: add/sub alpha, div rounding_mode, round decimals, in-place forms', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
a = torch.tensor([-7, 7, 5, -3]); b = torch.tensor([2, 2, -2, 2])
f = torch.tensor([1.2345, -2.5, 0.5, 3.14159])
ema = torch.tensor([1.0, 2.0, 3.0, 4.0]); p = torch.tensor([0.5, 0.25, -1.0, 2.0])
ema.mul_(0.9).add_(p, alpha=1 - 0.9)
s = a.clone(); s.sub_(b, alpha=3)
d = a.clone(); d.div_(b, rounding_mode='trunc')
r = f.clone(); r.round_(decimals=1)
print(json.dumps({
  'add': a.add(b, alpha=2).tolist(), 'sub': a.sub(b, alpha=2).tolist(), 'addScalar': a.add(3, alpha=2).tolist(),
  'tadd': torch.add(a, b, alpha=-1).tolist(),
  'floor': a.div(b, rounding_mode='floor').tolist(), 'trunc': a.div(b, rounding_mode='trunc').tolist(),
  'floorScalar': a.div(2, rounding_mode='floor').tolist(), 'tdiv': torch.div(a, 2, rounding_mode='floor').tolist(),
  'none': a.div(b, rounding_mode=None).tolist(),
  'round': f.round(decimals=2).tolist(), 'troundneg': torch.round(torch.tensor([1234.5, 15.0]), decimals=-1).tolist(),
  'ema': ema.tolist(), 'sub_': s.tolist(), 'div_': d.tolist(), 'round_': r.tolist(),
}))
`);
    const a = torch.tensor([-7, 7, 5, -3]);
    const b = torch.tensor([2, 2, -2, 2]);
    const f = torch.tensor([1.2345, -2.5, 0.5, 3.14159]);
    assert.deepEqual(a.add(b, { alpha: 2 }).tolist(), py.add);
    assert.deepEqual(a.sub(b, { alpha: 2 }).tolist(), py.sub);
    assert.deepEqual(a.add(3, { alpha: 2 }).tolist(), py.addScalar);
    assert.deepEqual(torch.add(a, b, { alpha: -1 }).tolist(), py.tadd);
    assert.deepEqual(a.div(b, { roundingMode: 'floor' }).tolist(), py.floor);
    assert.deepEqual(a.div(b, { roundingMode: 'trunc' }).tolist(), py.trunc);
    assert.deepEqual(a.div(2, { roundingMode: 'floor' }).tolist(), py.floorScalar);
    assert.deepEqual(torch.div(a, 2, { roundingMode: 'floor' }).tolist(), py.tdiv);
    assert.deepEqual(a.div(b, { roundingMode: null }).tolist(), py.none);
    close(f.round({ decimals: 2 }).tolist(), py.round);
    close(torch.round(torch.tensor([1234.5, 15.0]), { decimals: -1 }).tolist(), py.troundneg);
    // The EMA update of a ported training loop: ema.mul_(d).add_(p, alpha=1 - d).
    const ema = torch.tensor([1.0, 2.0, 3.0, 4.0], { dtype: 'float32' }); // JS cannot tell 1.0 from 1 (README)
    const r = ema.mul_(0.9).add_(torch.tensor([0.5, 0.25, -1.0, 2.0]), { alpha: 1 - 0.9 });
    assert.equal(r, ema, 'an in-place op returns the tensor itself');
    close(ema.tolist(), py.ema);
    assert.deepEqual(a.clone().sub_(b, { alpha: 3 }).tolist(), py.sub_);
    assert.deepEqual(a.clone().div_(b, { roundingMode: 'trunc' }).tolist(), py.div_);
    close(f.clone().round_({ decimals: 1 }).tolist(), py.round_);
    // Keywords Python rejects are a TorchError listing PyTorch's signatures, not ignored.
    assert.throws(() => a.mul(b, { alpha: 2 }), { name: 'TorchError', message: /Tensor\.mul\(\): no overload takes \(Tensor, \{ alpha \}\)/ });
    assert.throws(() => a.add(b, { alhpa: 2 }), { name: 'TorchError', message: /alpha/ });
    assert.throws(() => f.exp(2), { name: 'TorchError', message: /Tensor\.exp\(\): no overload takes/ });
    assert.throws(() => a.rdiv(2, { alpha: 2 }), {
      name: 'TorchError',
      message: /Tensor\.rdiv\(\): takes one argument \(PyTorch has no keywords for it\), got 2/,
    });
    assert.throws(() => torch.ones([2]).requiresGrad_().add_(1, { alpha: 2 }), { name: 'TorchError', message: /leaf Variable that requires grad/ });
  }));

test('positional and keyword forms Python allows: to(device, dtype), sum(dim, keepdim, dtype=), std(dim, unbiased, keepdim), F.softmax(dtype=)', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
import torch.nn.functional as F
x = torch.tensor([[1, 2, 3], [4, 5, 9]], dtype=torch.int8) * 20
f = torch.tensor([[0.5, -1.25, 2.0], [3.0, 0.25, -0.75]])
print(json.dumps({
  'to': str(f.to('cpu', torch.float64).dtype), 'toKw': str(f.to('cpu', dtype=torch.float16).dtype),
  'toCopy': str(f.to('cpu', torch.float64, copy=True).dtype),
  'sum': x.sum(1, True, dtype=torch.int64).tolist(), 'sumShape': list(x.sum(1, True, dtype=torch.int64).shape),
  'mean': f.mean((0, 1), False, dtype=torch.float64).item(), 'meanDtype': str(f.mean((0, 1), False, dtype=torch.float64).dtype),
  'prod': x.prod(0, False, dtype=torch.int64).tolist(),
  'std': f.std(1, False, True).tolist(), 'var': f.var(0, True, True).tolist(),
  'softmax': str(F.softmax(f, 1, dtype=torch.float64).dtype), 'logSoftmax': F.log_softmax(f, 0, dtype=torch.float64).tolist(),
}))
`);
    const dt = (d) => `torch.${d}`;
    const x = torch
      .tensor(
        [
          [1, 2, 3],
          [4, 5, 9],
        ],
        { dtype: 'int8' },
      )
      .mul(20);
    const f = torch.tensor([
      [0.5, -1.25, 2.0],
      [3.0, 0.25, -0.75],
    ]);
    assert.equal(dt(f.to('cpu', 'float64').dtype), py.to);
    assert.equal(dt(f.to('cpu', { dtype: 'float16' }).dtype), py.toKw);
    assert.equal(dt(f.to('cpu', 'float64', { copy: true }).dtype), py.toCopy);
    assert.deepEqual(x.sum(1, true, { dtype: 'int64' }).tolist(), py.sum, 'int8 summed in int64 without overflow');
    assert.deepEqual(x.sum(1, true, { dtype: 'int64' }).shape, py.sumShape);
    const m = f.mean([0, 1], false, { dtype: 'float64' });
    assert.equal(dt(m.dtype), py.meanDtype);
    close([m.item()], [py.mean]);
    assert.deepEqual(x.prod(0, false, { dtype: 'int64' }).tolist(), py.prod);
    close(f.std(1, false, true).reshape([-1]).tolist(), py.std.flat());
    assert.deepEqual(f.std(1, false, true).shape, [2, 1]);
    close(f.var(0, true, true).reshape([-1]).tolist(), py.var.flat());
    assert.equal(dt(nn.functional.softmax(f, 1, { dtype: 'float64' }).dtype), py.softmax);
    const ls = nn.functional.logSoftmax(f, 0, { dtype: 'float64' });
    assert.equal(ls.dtype, 'float64');
    close(ls.reshape([-1]).tolist(), py.logSoftmax.flat());
    // Misspelt keywords are a TorchError naming what is taken, not ignored.
    assert.throws(() => f.sum(1, { keepDim: true }), { name: 'TorchError', message: "sum(): unknown option 'keepDim'; it takes keepdim, dtype" });
    assert.throws(() => f.std(1, { unbiasd: false }), {
      name: 'TorchError',
      message: "std(): unknown option 'unbiasd'; it takes correction, unbiased, keepdim",
    });
    assert.throws(() => f.softmax(1, { dtyp: 'float64' }), { name: 'TorchError', message: "softmax(): unknown option 'dtyp'; it takes dtype" });
    assert.throws(() => f.to('cpu', { non_blocking: true }), {
      name: 'TorchError',
      message: "to(): unknown option 'non_blocking'; it takes dtype, copy, nonBlocking",
    });
    assert.throws(() => f.to('float64', 'float32'), {
      name: 'TorchError',
      message: /to\(\): argument 'target' must be a device when a dtype is the second argument/,
    });
  }));

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
