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

test('layer options Python takes are honoured: Conv padding_mode, AvgPool2d divisor_override, Embedding max_norm / scale_grad_by_freq, LeakyReLU inplace', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
import torch.nn as nn
torch.manual_seed(0)
x = torch.randn(2, 3, 6, 7)
out = {}
for mode in ['reflect', 'replicate', 'circular']:
    c = nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode)
    out[mode] = {'w': c.weight.tolist(), 'b': c.bias.tolist(), 'y': c(x).tolist(), 'repr': repr(c)}
cs = nn.Conv2d(3, 2, (3, 4), padding='same', dilation=(1, 2), padding_mode='reflect')
out['same'] = {'w': cs.weight.tolist(), 'b': cs.bias.tolist(), 'y': cs(x).tolist()}
c1 = nn.Conv1d(3, 2, 3, padding=2, padding_mode='circular')
x1 = torch.randn(2, 3, 5)
out['c1'] = {'w': c1.weight.tolist(), 'b': c1.bias.tolist(), 'x': x1.tolist(), 'y': c1(x1).tolist()}
out['avg'] = nn.AvgPool2d(2, divisor_override=3)(x).tolist()
e = nn.Embedding(5, 3, max_norm=1.0, scale_grad_by_freq=True)
w0 = e.weight.detach().clone()
idx = torch.tensor([[0, 2, 2], [4, 2, 1]])
y = e(idx)
(y * torch.arange(18.).reshape(2, 3, 3)).sum().backward()
out['emb'] = {'w0': w0.tolist(), 'w': e.weight.detach().tolist(), 'y': y.tolist(), 'g': e.weight.grad.tolist(), 'repr': repr(e)}
l = nn.LeakyReLU(0.2, inplace=True)
z = torch.tensor([-1.0, 2.0, -3.0])
r = l(z)
out['leaky'] = {'z': z.tolist(), 'same': r is z, 'repr': repr(l)}
print(json.dumps(out))
`);
    const flat = (t) => t.reshape([-1]).tolist();
    const setFrom = (p, v) => torch.noGrad(() => p.copy_(torch.tensor(v, { dtype: 'float32' })));
    torch.manualSeed(0);
    const x = torch.randn([2, 3, 6, 7]);
    for (const mode of ['reflect', 'replicate', 'circular']) {
      const c = new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: mode });
      assert.equal(String(c), py[mode].repr);
      close(flat(c.weight), py[mode].w.flat(3), 0, `${mode}: the same init after the same seed`);
      close(flat(c.forward(x)), py[mode].y.flat(3), 1e-5, mode);
      c.dispose();
    }
    const cs = new nn.Conv2d(3, 2, [3, 4], { padding: 'same', dilation: [1, 2], paddingMode: 'reflect' });
    setFrom(cs.weight, py.same.w);
    setFrom(cs.bias, py.same.b);
    close(flat(cs.forward(x)), py.same.y.flat(3), 1e-5, "padding 'same' in reflect mode");
    const c1 = new nn.Conv1d(3, 2, 3, { padding: 2, paddingMode: 'circular' });
    setFrom(c1.weight, py.c1.w);
    setFrom(c1.bias, py.c1.b);
    close(flat(c1.forward(torch.tensor(py.c1.x, { dtype: 'float32' }))), py.c1.y.flat(2), 1e-5, 'Conv1d circular');
    close(flat(new nn.AvgPool2d(2, { divisorOverride: 3 }).forward(x)), py.avg.flat(3), 1e-6, 'divisorOverride');

    const e = new nn.Embedding(5, 3, { maxNorm: 1.0, scaleGradByFreq: true });
    setFrom(e.weight, py.emb.w0);
    assert.equal(String(e), py.emb.repr);
    const y = e.forward(
      torch.tensor([
        [0, 2, 2],
        [4, 2, 1],
      ]),
    );
    y.mul(torch.arange(18, { dtype: 'float32' }).reshape([2, 3, 3]))
      .sum()
      .backward();
    close(flat(y), py.emb.y.flat(2), 1e-6, 'looked-up rows renormalised to maxNorm');
    close(flat(e.weight), py.emb.w.flat(), 1e-6, 'the weight renormalised in place');
    close(flat(e.weight.grad), py.emb.g.flat(), 1e-6, 'gradients scaled by frequency');

    const l = new nn.LeakyReLU(0.2, { inplace: true });
    const z = torch.tensor([-1.0, 2.0, -3.0], { dtype: 'float32' });
    const r = l.forward(z);
    assert.equal(r === z, py.leaky.same);
    close(z.tolist(), py.leaky.z, 1e-6, 'inplace overwrites the input');
    assert.equal(String(l), py.leaky.repr);
    for (const m of [cs, c1, e]) m.dispose();
  }));

test('layer and loss options objects: an unknown or snake_case key is a TorchError (Python: TypeError), never ignored', () =>
  torch.tidy(() => {
    const F = nn.functional;
    const x = torch.ones([1, 2, 4, 4]);
    const cases = [
      [
        () => new nn.Conv2d(3, 8, 3, { padding_mode: 'reflect' }),
        "Conv2d(): unknown option 'padding_mode'; it takes stride, padding, dilation, groups, bias, paddingMode, dtype, device",
      ],
      [() => new nn.Linear(3, 8, { bais: false }), "Linear(): unknown option 'bais'; it takes bias, dtype, device"],
      [
        () => new nn.BatchNorm2d(3, { track_running_stats: false }),
        "BatchNorm2d(): unknown option 'track_running_stats'; it takes eps, momentum, affine, bias, trackRunningStats, dtype, device",
      ],
      [
        () => new nn.LayerNorm(3, { elementwise_affine: false }),
        "LayerNorm(): unknown option 'elementwise_affine'; it takes eps, elementwiseAffine, bias, dtype, device",
      ],
      [() => new nn.GroupNorm(2, 4, { affin: false }), "GroupNorm(): unknown option 'affin'; it takes eps, affine, bias, dtype, device"],
      [() => new nn.Embedding(10, 3, { padding_idx: 0 }), /Embedding\(\): unknown option 'padding_idx'/],
      [() => new nn.Embedding(10, 3, { sparse: true }), /Embedding\(\): sparse gradients are not supported/],
      [() => new nn.Dropout(0.3, { inplac: true }), "Dropout(): unknown option 'inplac'; it takes inplace"],
      [() => new nn.MaxPool2d(2, { returnIndices: true }), /MaxPool2d\(\): returnIndices is not supported.*torch\.ops\.aten\.max_pool2d_with_indices/],
      [() => new nn.MaxPool2d(2, { ceil_mode: true }), /MaxPool2d\(\): unknown option 'ceil_mode'/],
      [
        () => new nn.ConvTranspose2d(2, 2, 3, { paddingMode: 'reflect' }),
        "ConvTranspose2d(): only paddingMode 'zeros' is supported for ConvTranspose2d (as in PyTorch)",
      ],
      [() => new nn.Conv2d(3, 8, 3, { paddingMode: 'mirror' }), /Conv2d\(\): argument 'paddingMode' must be 'zeros', 'reflect', 'replicate' or 'circular'/],
      [
        () => new nn.CrossEntropyLoss({ label_smoothing: 0.1 }),
        "CrossEntropyLoss(): unknown option 'label_smoothing'; it takes weight, ignoreIndex, reduction, labelSmoothing",
      ],
      [() => new nn.MSELoss({ reduce: false }), /MSELoss\(\): 'reduce' is deprecated in PyTorch and not supported; use reduction/],
      [() => new nn.NLLLoss({ ignore_index: 0 }), /NLLLoss\(\): unknown option 'ignore_index'/],
      [() => F.crossEntropy(torch.zeros([2, 3]), torch.tensor([0, 1]), { label_smoothing: 0.1 }), /crossEntropy\(\): unknown option 'label_smoothing'/],
      [() => F.mseLoss(torch.zeros([2]), torch.ones([2]), { reductio: 'sum' }), /mseLoss\(\): unknown option 'reductio'/],
      [() => F.relu(x, { inplac: true }), /relu\(\): unknown option 'inplac'/],
      [() => F.conv2d(x, torch.ones([1, 2, 3, 3]), null, { padding_mode: 'reflect' }), /conv2d\(\): unknown option 'padding_mode'/],
      [() => F.interpolate(x, { scaleFactor: 2, antialias: true }), /interpolate\(\): unknown option 'antialias'/],
    ];
    for (const [f, message] of cases) assert.throws(f, { name: 'TorchError', message });
  }));

test('Module API keywords as Python: zero_grad(False), to(device, dtype), named_parameters/named_modules(remove_duplicate=False), and misspelt keys throw', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
import torch.nn as nn
l = nn.Linear(2, 2); s = nn.Sequential(l, nn.ReLU(), l)
s(torch.ones(1, 2)).sum().backward()
s.zero_grad(False)
zeroed = [p.grad.tolist() for p in s.parameters()]
opt = torch.optim.SGD(s.parameters(), lr=0.1)
s(torch.ones(1, 2)).sum().backward()
opt.zero_grad(False)
optZeroed = [p.grad is not None for p in s.parameters()]
m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
m.to('cpu', torch.float64)
m2 = nn.Sequential(nn.Linear(2, 2))
m2.to('cpu', dtype=torch.float16)
print(json.dumps({
  'zeroed': zeroed, 'optZeroed': optZeroed,
  'dtypes': [str(t.dtype) for t in m.state_dict().values()], 'dtypes2': [str(t.dtype) for t in m2.state_dict().values()],
  'np': [n for n, _ in s.named_parameters(remove_duplicate=False)], 'npDedup': [n for n, _ in s.named_parameters()],
  'nm': [n for n, _ in s.named_modules(prefix='net', remove_duplicate=False)], 'nmDedup': [n for n, _ in s.named_modules(prefix='net')],
}))
`);
    const l = new nn.Linear(2, 2);
    const s = new nn.Sequential(l, new nn.ReLU(), l);
    s.forward(torch.ones([1, 2]))
      .sum()
      .backward();
    s.zeroGrad(false);
    assert.deepEqual(
      s.parameters().map((p) => p.grad?.tolist() ?? null),
      py.zeroed,
      'zeroGrad(false) zeroes the gradients (Python positional set_to_none)',
    );
    const opt = new torch.optim.SGD(s.parameters(), { lr: 0.1 });
    s.forward(torch.ones([1, 2]))
      .sum()
      .backward();
    opt.zeroGrad(false);
    assert.deepEqual(
      s.parameters().map((p) => p.grad !== null),
      py.optZeroed,
    );
    const m = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
    m.to('cpu', 'float64');
    assert.deepEqual(
      [...m.stateDict().values()].map((t) => `torch.${t.dtype}`),
      py.dtypes,
    );
    const m2 = new nn.Sequential(new nn.Linear(2, 2));
    m2.to('cpu', { dtype: 'float16' });
    assert.deepEqual(
      [...m2.stateDict().values()].map((t) => `torch.${t.dtype}`),
      py.dtypes2,
    );
    assert.deepEqual([...s.namedParameters({ removeDuplicate: false }).keys()], py.np);
    assert.deepEqual([...s.namedParameters().keys()], py.npDedup);
    assert.deepEqual([...s.namedModules({ prefix: 'net', removeDuplicate: false }).keys()], py.nm);
    assert.deepEqual([...s.namedModules({ prefix: 'net' }).keys()], py.nmDedup);
    const cases = [
      [() => s.zeroGrad({ set_to_none: false }), "zeroGrad(): unknown option 'set_to_none'; it takes setToNone"],
      [() => opt.zeroGrad({ set_to_none: false }), "zeroGrad(): unknown option 'set_to_none'; it takes setToNone"],
      [() => s.stateDict({ keep_vars: true }), "stateDict(): unknown option 'keep_vars'; it takes prefix, keepVars"],
      [() => s.loadStateDict(s.stateDict(), { stric: false }), "loadStateDict(): unknown option 'stric'; it takes strict, assign"],
      [() => s.loadStateDict(s.stateDict(), { assign: true }), /loadStateDict\(\): assign is not supported.*registerParameter/],
      [() => s.registerBuffer('b', torch.ones([1]), { persistant: false }), "registerBuffer(): unknown option 'persistant'; it takes persistent"],
      [() => s.namedParameters({ remove_duplicate: false }), "namedParameters(): unknown option 'remove_duplicate'; it takes prefix, recurse, removeDuplicate"],
      [() => s.to({ dtyp: 'float64' }), "Module.to(): unknown option 'dtyp'; it takes device, dtype, nonBlocking"],
      [() => s.to('float64', 'float32'), /Module\.to\(\): argument 'target' must be a device when a dtype follows it/],
    ];
    for (const [f, message] of cases) assert.throws(f, { name: 'TorchError', message });
    opt.dispose();
    for (const x of [s, m, m2]) x.dispose();
  }));

test('factory options: requiresGrad, dtype, device as Python; an unknown or snake_case key is a TorchError, never ignored', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
x = torch.tensor([1.5, -2.0], dtype=None, device=None, requires_grad=True)
(x * x).sum().backward()
z = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
print(json.dumps({'rg': x.requires_grad, 'grad': x.grad.tolist(), 'zrg': z.requires_grad, 'zdt': str(z.dtype),
  'full': torch.full([2], 0.5, requires_grad=True).requires_grad, 'like': torch.zeros_like(z, requires_grad=False).requires_grad}))
`);
    const x = torch.tensor([1.5, -2.0], { dtype: null, device: null, requiresGrad: true });
    x.mul(x).sum().backward();
    assert.equal(x.requiresGrad, py.rg);
    assert.deepEqual(x.grad.tolist(), py.grad);
    const z = torch.zeros([2, 3], { dtype: 'float64', requiresGrad: true });
    assert.equal(z.requiresGrad, py.zrg);
    assert.equal(`torch.${z.dtype}`, py.zdt);
    assert.equal(torch.full([2], 0.5, { requiresGrad: true }).requiresGrad, py.full);
    assert.equal(torch.zerosLike(z, { requiresGrad: false }).requiresGrad, py.like);
    const takes = 'it takes dtype, device, requiresGrad';
    const cases = [
      [() => torch.tensor([1.5], { requires_grad: true }), `tensor(): unknown option 'requires_grad'; ${takes}`],
      [() => torch.randn([2], { dtyp: 'float64' }), `randn(): unknown option 'dtyp'; ${takes}`],
      [() => torch.zeros(2, 3, { pinMemory: false }), `zeros(): unknown option 'pinMemory'; ${takes}`],
      [() => torch.arange(5, { dtpye: 'float32' }), `arange(): unknown option 'dtpye'; ${takes}`],
      [() => torch.full([2], 1, { require_grad: true }), `full(): unknown option 'require_grad'; ${takes}`],
      [() => torch.onesLike(z, { devcie: 'cpu' }), `onesLike(): unknown option 'devcie'; ${takes}`],
      [() => torch.eye(2, { requiresgrad: true }), `eye(): unknown option 'requiresgrad'; ${takes}`],
      [() => torch.randint(0, 5, [2], { dtype: 'int32', requires_grad: false }), `randint(): unknown option 'requires_grad'; ${takes}`],
      [() => torch.linspace(0, 1, 3, { requiresGrad: 1 }), /linspace\(\): argument 'requiresGrad' must be a boolean/],
    ];
    for (const [f, message] of cases) assert.throws(f, { name: 'TorchError', message });
  }));

test("reductions take Python's keywords as an options object: sum/mean/prod/std/var({ dim, ... }), max/min/argmax/argmin(dim, { keepdim }), sort/topk keywords", () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
x = torch.tensor([[3., 1., 2., 1.], [0., 5., 4., 5.], [2., 2., 7., -1.]])
i = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int8) * 30
r = lambda t: t.tolist()
vi = lambda p: {'values': p.values.tolist(), 'indices': p.indices.tolist()}
print(json.dumps({
  'sum': r(x.sum(dim=1)), 'sumKeep': r(x.sum(dim=(0, 1), keepdim=True)), 'sumAllKeep': r(x.sum(dim=None, keepdim=True)),
  'sumDtype': r(i.sum(dim=1, dtype=torch.int64)), 'mean': r(x.mean(dim=0, keepdim=True)), 'prod': r(x.prod(dim=1, keepdim=True)),
  'std': x.std(unbiased=False).item(), 'stdDim': r(x.std(dim=1, correction=0, keepdim=True)), 'var': r(x.var(dim=0, unbiased=False)),
  'varC2': x.var(correction=2).item(), 'stdKeep': r(x.std(keepdim=True)),
  'max': vi(x.max(1, keepdim=True)), 'maxKw': vi(x.max(dim=0)), 'min': vi(x.min(dim=1, keepdim=True)), 'tmax': vi(torch.max(x, 1, keepdim=True)),
  'argmax': r(x.argmax(1, keepdim=True)), 'argmaxAll': r(x.argmax(keepdim=True)), 'argmin': r(x.argmin(dim=0, keepdim=True)),
  'sortDesc': vi(x.sort(descending=True)), 'sortDim': vi(x.sort(dim=0, descending=True)), 'sort1': vi(x.sort(1, True)),
  'sortStable': vi(x.sort(stable=True)), 'sortStableDesc': vi(x.sort(dim=1, descending=True, stable=True)),
  'topk': vi(x.topk(2, largest=False)), 'topkDim': vi(x.topk(2, dim=0, largest=True, sorted=True)), 'topkPos': vi(x.topk(1, 0, False)),
  'topkKw': vi(x.topk(k=2, dim=0)),
}))
`);
    const x = torch.tensor(
      [
        [3, 1, 2, 1],
        [0, 5, 4, 5],
        [2, 2, 7, -1],
      ],
      { dtype: 'float32' },
    );
    const i = torch
      .tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'int8' },
      )
      .mul(30);
    const vi = (p) => ({ values: p.values.tolist(), indices: p.indices.tolist() });
    assert.deepEqual(x.sum({ dim: 1 }).tolist(), py.sum);
    assert.deepEqual(x.sum({ dim: [0, 1], keepdim: true }).tolist(), py.sumKeep);
    assert.deepEqual(x.sum({ dim: null, keepdim: true }).tolist(), py.sumAllKeep);
    assert.deepEqual(i.sum({ dim: 1, dtype: 'int64' }).tolist(), py.sumDtype, 'int8 summed in int64');
    close(x.mean({ dim: 0, keepdim: true }).reshape([-1]).tolist(), py.mean.flat());
    assert.deepEqual(x.prod({ dim: 1, keepdim: true }).tolist(), py.prod);
    close([x.std({ unbiased: false }).item()], [py.std]);
    close(x.std({ dim: 1, correction: 0, keepdim: true }).reshape([-1]).tolist(), py.stdDim.flat());
    assert.deepEqual(x.std({ dim: 1, correction: 0, keepdim: true }).shape, [3, 1]);
    close(x.var({ dim: 0, unbiased: false }).tolist(), py.var);
    close([torch.var(x, { correction: 2 }).item()], [py.varC2]);
    close(x.std({ keepdim: true }).reshape([-1]).tolist(), py.stdKeep.flat());
    assert.deepEqual(x.std({ keepdim: true }).shape, [1, 1]);
    assert.deepEqual(vi(x.max(1, { keepdim: true })), py.max);
    assert.deepEqual(vi(x.max({ dim: 0 })), py.maxKw);
    assert.deepEqual(vi(x.min({ dim: 1, keepdim: true })), py.min);
    assert.deepEqual(vi(torch.max(x, 1, { keepdim: true })), py.tmax);
    assert.deepEqual(x.argmax(1, { keepdim: true }).tolist(), py.argmax);
    assert.deepEqual(x.argmax({ keepdim: true }).tolist(), py.argmaxAll);
    assert.deepEqual(torch.argmin(x, { dim: 0, keepdim: true }).tolist(), py.argmin);
    assert.deepEqual(vi(x.sort({ descending: true })), py.sortDesc);
    assert.deepEqual(vi(x.sort({ dim: 0, descending: true })), py.sortDim);
    assert.deepEqual(vi(x.sort(1, true)), py.sort1);
    assert.deepEqual(vi(x.sort({ stable: true })), py.sortStable, 'ties keep their order');
    assert.deepEqual(vi(torch.sort(x, { dim: 1, descending: true, stable: true })), py.sortStableDesc);
    assert.deepEqual(vi(x.topk(2, { largest: false })), py.topk);
    assert.deepEqual(vi(x.topk(2, { dim: 0, largest: true, sorted: true })), py.topkDim);
    assert.deepEqual(vi(x.topk(1, 0, false)), py.topkPos);
    assert.deepEqual(vi(torch.topk(x, { k: 2, dim: 0 })), py.topkKw);
    // What Python rejects (TypeError) is a TorchError, never a silently different result.
    const cases = [
      [() => x.sum({ dim: 1, keepDim: true }), "sum(): unknown option 'keepDim'; it takes dim, keepdim, dtype"],
      [() => x.sum({ dim: 1 }, true), 'sum(): an options object must be the last argument'],
      [() => x.std({ unbiased: false, correction: 0 }), 'std(): takes correction or unbiased, not both (as in PyTorch)'],
      [() => x.var({ dim: 1, ddof: 0 }), "var(): unknown option 'ddof'; it takes dim, unbiased, keepdim, correction"],
      [() => x.prod(null, true), /prod\(\): keepdim needs a dim/],
      [() => x.max({ keepdim: true }), /max\(\): keepdim needs a dim/],
      [() => x.max(1, { keep_dim: true }), "max(): unknown option 'keep_dim'; it takes keepdim"],
      [() => x.max(1, true, { keepdim: true }), "max(): got multiple values for argument 'keepdim'"],
      [() => x.max(x, true), /max\(\): takes one tensor to compare with/],
      [() => x.argmax(1, { dim: 0 }), "argmax(): got multiple values for argument 'dim'"],
      [() => x.sort({ descending: true, stabel: true }), "sort(): unknown option 'stabel'; it takes dim, descending, stable"],
      [() => x.topk(2, { largest: false, sort: true }), "topk(): unknown option 'sort'; it takes dim, largest, sorted"],
      [() => x.topk(2, 0, true, true, 1), /topk\(\): takes at most 4 positional arguments/],
    ];
    for (const [f, message] of cases) assert.throws(f, { name: 'TorchError', message });
  }));

test('inplace as Python: nn.Dropout2d({ inplace }) and F.dropout2d/dropout positional, F.elu / F.hardtanh / F.leakyRelu / F.relu inplace', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
import torch.nn as nn, torch.nn.functional as F
x = torch.arange(1., 49.).reshape(2, 3, 2, 4)
m = nn.Dropout2d(0.5, inplace=True)
torch.manual_seed(3); y = m(x)
out = {'same': y is x, 'x': x.tolist(), 'repr': repr(m)}
m.eval(); e = m(x); out['evalSame'] = e is x; out['evalX'] = x.tolist()
x2 = torch.arange(1., 49.).reshape(2, 3, 2, 4)
torch.manual_seed(4); r = F.dropout2d(x2, 0.3, True, True); out['fSame'] = r is x2; out['f'] = x2.tolist()
torch.manual_seed(5); out['fOut'] = F.dropout(torch.ones(8), 0.25).tolist()
torch.manual_seed(6); out['d'] = nn.Dropout(0.25, True)(torch.ones(8)).tolist()
z = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
a = z.clone(); ra = F.elu(a, 0.5, True); out['elu'] = {'same': ra is a, 'x': a.tolist()}
b = z.clone(); rb = F.hardtanh(b, -0.75, 1.0, inplace=True); out['hardtanh'] = {'same': rb is b, 'x': b.tolist()}
c = z.clone(); rc = F.leaky_relu(c, 0.2, True); out['leaky'] = {'same': rc is c, 'x': c.tolist()}
d = z.clone(); rd = F.relu(d, True); out['relu'] = {'same': rd is d, 'x': d.tolist()}
out['eluOut'] = F.elu(z, alpha=2.0).tolist(); out['htOut'] = F.hardtanh(z, max_val=0.25).tolist()
print(json.dumps(out))
`);
    const F = nn.functional;
    const x = torch.arange(1, 49, { dtype: 'float32' }).reshape([2, 3, 2, 4]);
    const m = new nn.Dropout2d(0.5, { inplace: true });
    assert.equal(String(m), py.repr);
    torch.manualSeed(3);
    const y = m.forward(x);
    assert.equal(y === x, py.same, 'the input itself is returned');
    assert.deepEqual(x.tolist(), py.x, 'whole channels zeroed and the rest scaled, in the input');
    m.eval();
    assert.equal(m.forward(x) === x, py.evalSame, 'eval mode: the input itself, unchanged');
    assert.deepEqual(x.tolist(), py.evalX);
    const x2 = torch.arange(1, 49, { dtype: 'float32' }).reshape([2, 3, 2, 4]);
    torch.manualSeed(4);
    assert.equal(F.dropout2d(x2, 0.3, true, true) === x2, py.fSame);
    assert.deepEqual(x2.tolist(), py.f);
    torch.manualSeed(5);
    assert.deepEqual(F.dropout(torch.ones([8]), 0.25).tolist(), py.fOut, 'a positional p is p (it was ignored: p stayed 0.5)');
    torch.manualSeed(6);
    assert.deepEqual(new nn.Dropout(0.25, true).forward(torch.ones([8])).tolist(), py.d);
    const z = () => torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], { dtype: 'float32' });
    const inplaceCase = (key, f) => {
      const t = z();
      assert.equal(f(t) === t, py[key].same, key);
      close(t.tolist(), py[key].x, 1e-6, key);
    };
    inplaceCase('elu', (t) => F.elu(t, 0.5, true));
    inplaceCase('hardtanh', (t) => F.hardtanh(t, -0.75, 1.0, { inplace: true }));
    inplaceCase('leaky', (t) => F.leakyRelu(t, 0.2, true));
    inplaceCase('relu', (t) => F.relu(t, true));
    close(F.elu(z(), { alpha: 2.0 }).tolist(), py.eluOut);
    close(F.hardtanh(z(), { maxVal: 0.25 }).tolist(), py.htOut);
    const cases = [
      [() => new nn.Dropout2d(0.5, { inplac: true }), "Dropout2d(): unknown option 'inplac'; it takes inplace"],
      [() => F.dropout2d(x, { p: 0.5, in_place: true }), "dropout2d(): unknown option 'in_place'; it takes p, training, inplace"],
      [() => F.elu(z(), 1.0, { inplace: true, alpha: 2 }), "elu(): got multiple values for argument 'alpha'"],
      [() => F.hardtanh(z(), 1, -1), /hardtanh\(\): minVal \(1\) cannot be greater than maxVal \(-1\)/],
      [() => F.relu(z(), 1), /relu\(\): argument 'inplace' must be a boolean/],
    ];
    for (const [f, message] of cases) assert.throws(f, { name: 'TorchError', message });
  }));

test('nn.Flatten, Softmax, LogSoftmax, GELU, LeakyReLU take their keywords as an options object', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
import torch.nn as nn
x = torch.arange(24.).reshape(2, 3, 4) / 10 - 1
mods = {'flatten': nn.Flatten(start_dim=0, end_dim=1), 'softmax': nn.Softmax(dim=1), 'logSoftmax': nn.LogSoftmax(dim=0),
        'gelu': nn.GELU(approximate='tanh'), 'leaky': nn.LeakyReLU(negative_slope=0.2)}
print(json.dumps({k: {'repr': repr(m), 'y': m(x).tolist()} for k, m in mods.items()}))
`);
    const x = torch.arange(24, { dtype: 'float32' }).reshape([2, 3, 4]).div(10).sub(1);
    const mods = {
      flatten: new nn.Flatten({ startDim: 0, endDim: 1 }),
      softmax: new nn.Softmax({ dim: 1 }),
      logSoftmax: new nn.LogSoftmax({ dim: 0 }),
      gelu: new nn.GELU({ approximate: 'tanh' }),
      leaky: new nn.LeakyReLU({ negativeSlope: 0.2 }),
    };
    for (const [k, m] of Object.entries(mods)) {
      assert.equal(String(m), py[k].repr, k);
      const y = m.forward(x);
      close(y.reshape([-1]).tolist(), py[k].y.flat(2), 1e-6, k);
    }
    const cases = [
      [() => new nn.Flatten({ start_dim: 0 }), "Flatten(): unknown option 'start_dim'; it takes startDim, endDim"],
      [() => new nn.Flatten(0, { startDim: 1 }), "Flatten(): got multiple values for argument 'startDim'"],
      [() => new nn.Softmax({ dimension: 1 }), "Softmax(): unknown option 'dimension'; it takes dim"],
      [() => new nn.LogSoftmax(), /LogSoftmax\(\): dim is required/],
      [() => new nn.GELU({ approx: 'tanh' }), "GELU(): unknown option 'approx'; it takes approximate"],
      [() => new nn.GELU('fast'), /GELU\(\): argument 'approximate' must be 'none' or 'tanh'/],
      [() => new nn.LeakyReLU({ negative_slope: 0.2 }), "LeakyReLU(): unknown option 'negative_slope'; it takes negativeSlope, inplace"],
    ];
    for (const [f, message] of cases) assert.throws(f, { name: 'TorchError', message });
  }));

test("all/any/logsumexp/norm take Python's keywords: any(1, keepdim=True), any(dim=1), all(keepdim=True), logsumexp(1, keepdim=True), norm(p=, dim=, keepdim=, dtype=)", () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
x = torch.tensor([[True, False], [True, True]]); f = torch.tensor([[1., 2.], [3., 4.]])
print(json.dumps({
  'any1k': x.any(1, keepdim=True).tolist(), 'anyd': x.any(dim=1).tolist(), 'allk': x.all(keepdim=True).tolist(),
  'anyk': x.any(keepdim=True).tolist(), 'alldims': x.all(dim=(0, 1)).item(), 'any0': x.any(0).tolist(), 'all': x.all().item(),
  'lse1k': f.logsumexp(1, keepdim=True).tolist(), 'lsed0': f.logsumexp(dim=0).tolist(),
  'n2d1k': f.norm(p=2, dim=1, keepdim=True).tolist(), 'nk': f.norm(keepdim=True).tolist(), 'n1k': f.norm(1, keepdim=True).tolist(),
  'nd0': f.norm(dim=0).tolist(), 'npos': f.norm(2, 1, True).tolist(), 'nfro': f.norm('fro').item(), 'n': f.norm().item(),
  'ndt': str(f.norm(2, 1, dtype=torch.float64).dtype), 'ndtv': f.norm(2, 1, dtype=torch.float64).tolist(),
}))
`);
    const x = torch
      .tensor([
        [1, 0],
        [1, 1],
      ])
      .bool();
    const f = torch.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    assert.deepEqual(x.any(1, { keepdim: true }).tolist(), py.any1k);
    assert.deepEqual(x.any({ dim: 1 }).tolist(), py.anyd);
    assert.deepEqual(x.all({ keepdim: true }).tolist(), py.allk);
    assert.deepEqual(x.any({ keepdim: true }).tolist(), py.anyk);
    assert.equal(x.all({ dim: [0, 1] }).item(), py.alldims);
    assert.deepEqual(x.any(0).tolist(), py.any0);
    assert.equal(x.all().item(), py.all);
    close(f.logsumexp(1, { keepdim: true }).flatten().tolist(), py.lse1k.flat());
    assert.deepEqual(f.logsumexp(1, { keepdim: true }).shape, [2, 1]);
    close(f.logsumexp({ dim: 0 }).tolist(), py.lsed0);
    close(f.norm({ p: 2, dim: 1, keepdim: true }).flatten().tolist(), py.n2d1k.flat());
    assert.deepEqual(f.norm({ keepdim: true }).shape, [1, 1]);
    close(f.norm({ keepdim: true }).flatten().tolist(), py.nk.flat());
    close(f.norm(1, { keepdim: true }).flatten().tolist(), py.n1k.flat());
    close(f.norm({ dim: 0 }).tolist(), py.nd0);
    close(f.norm(2, 1, true).flatten().tolist(), py.npos.flat());
    close([f.norm('fro').item(), f.norm().item()], [py.nfro, py.n]);
    const nd = f.norm(2, 1, { dtype: 'float64' });
    assert.equal(`torch.${nd.dtype}`, py.ndt);
    close(nd.tolist(), py.ndtv);
    // A misspelt keyword, or one given twice, is an error (Python's TypeError), never ignored.
    assert.throws(() => x.any(1, { keepDim: true }), { name: 'TorchError', message: /unknown option 'keepDim'; it takes keepdim/ });
    assert.throws(() => f.norm(2, 1, { dim: 0 }), { name: 'TorchError', message: /multiple values for argument 'dim'/ });
    assert.throws(() => f.logsumexp({ keepdim: true }), { name: 'TorchError', message: /argument 'dim'/ });
  }));

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
