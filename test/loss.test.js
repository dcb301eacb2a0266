'use strict';
// Loss modules and gradient clipping against PyTorch: each loss module's value and input gradient
// (rtol 1e-5, atol 1e-6), str(module) and buffer names; clipGradNorm_ / clipGradValue_'s returned
// norm and clipped gradients.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const L = require('../dist').nn;
const { clipGradNorm_, clipGradValue_ } = require('../dist').nn.utils;
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;
torch.setNumThreads(1);

const SEQ = (n, k = 1.3, o = 0.5) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * k + o) * 1000) / 1000);
const W5 = [1, 2, 0.5, 1, 3];
const W4 = [0.5, 1, 2, 1.5];

// [name, python ctor, js ctor, input shape, input kind, target spec]
// input kind: 'raw' | 'sigmoid' (BCE: probabilities) | 'logsoftmax' (KLDiv: log-probabilities, dim 1)
// target: { kind: 'class', shape, values } | { kind: 'float', shape, map: 'raw'|'sigmoid'|'softmax'|'logsoftmax' }
const CLS4 = { kind: 'class', shape: [4], values: [1, 0, 4, 2] };
const CASES = [
  ['CrossEntropyLoss', 'nn.CrossEntropyLoss()', () => new L.CrossEntropyLoss(), [4, 5], 'raw', CLS4],
  [
    'CrossEntropyLoss weight ignoreIndex labelSmoothing sum',
    'nn.CrossEntropyLoss(weight=torch.tensor(W5), ignore_index=2, reduction="sum", label_smoothing=0.1)',
    () => new L.CrossEntropyLoss({ weight: torch.tensor(W5, { dtype: 'float32' }), ignoreIndex: 2, reduction: 'sum', labelSmoothing: 0.1 }),
    [4, 5],
    'raw',
    CLS4,
  ],
  [
    'CrossEntropyLoss probability targets',
    'nn.CrossEntropyLoss(label_smoothing=0.2)',
    () => new L.CrossEntropyLoss({ labelSmoothing: 0.2 }),
    [4, 5],
    'raw',
    { kind: 'float', shape: [4, 5], map: 'softmax' },
  ],
  [
    'CrossEntropyLoss 4D none',
    'nn.CrossEntropyLoss(reduction="none")',
    () => new L.CrossEntropyLoss({ reduction: 'none' }),
    [2, 3, 2, 2],
    'raw',
    { kind: 'class', shape: [2, 2, 2], values: [0, 2, 1, 1, 2, 0, 0, 1] },
  ],
  ['NLLLoss', 'nn.NLLLoss()', () => new L.NLLLoss(), [4, 5], 'logsoftmax', CLS4],
  [
    'NLLLoss weight ignoreIndex',
    'nn.NLLLoss(weight=torch.tensor(W5), ignore_index=0)',
    () => new L.NLLLoss({ weight: torch.tensor(W5, { dtype: 'float32' }), ignoreIndex: 0 }),
    [4, 5],
    'logsoftmax',
    CLS4,
  ],
  ['MSELoss', 'nn.MSELoss()', () => new L.MSELoss(), [3, 4], 'raw', { kind: 'float', shape: [3, 4], map: 'raw' }],
  ['MSELoss sum', 'nn.MSELoss(reduction="sum")', () => new L.MSELoss({ reduction: 'sum' }), [3, 4], 'raw', { kind: 'float', shape: [3, 4], map: 'raw' }],
  ['L1Loss', 'nn.L1Loss()', () => new L.L1Loss(), [3, 4], 'raw', { kind: 'float', shape: [3, 4], map: 'raw' }],
  ['L1Loss none', 'nn.L1Loss(reduction="none")', () => new L.L1Loss({ reduction: 'none' }), [3, 4], 'raw', { kind: 'float', shape: [3, 4], map: 'raw' }],
  ['SmoothL1Loss', 'nn.SmoothL1Loss()', () => new L.SmoothL1Loss(), [3, 4], 'raw', { kind: 'float', shape: [3, 4], map: 'raw' }],
  [
    'SmoothL1Loss beta',
    'nn.SmoothL1Loss(beta=0.5, reduction="sum")',
    () => new L.SmoothL1Loss({ beta: 0.5, reduction: 'sum' }),
    [3, 4],
    'raw',
    { kind: 'float', shape: [3, 4], map: 'raw' },
  ],
  ['BCELoss', 'nn.BCELoss()', () => new L.BCELoss(), [3, 4], 'sigmoid', { kind: 'float', shape: [3, 4], map: 'sigmoid' }],
  [
    'BCELoss weight',
    'nn.BCELoss(weight=torch.tensor(W4))',
    () => new L.BCELoss({ weight: torch.tensor(W4, { dtype: 'float32' }) }),
    [3, 4],
    'sigmoid',
    { kind: 'float', shape: [3, 4], map: 'sigmoid' },
  ],
  ['BCEWithLogitsLoss', 'nn.BCEWithLogitsLoss()', () => new L.BCEWithLogitsLoss(), [3, 4], 'raw', { kind: 'float', shape: [3, 4], map: 'sigmoid' }],
  [
    'BCEWithLogitsLoss weight posWeight',
    'nn.BCEWithLogitsLoss(weight=torch.tensor(W4), pos_weight=torch.tensor(W4[::-1]), reduction="sum")',
    () =>
      new L.BCEWithLogitsLoss({
        weight: torch.tensor(W4, { dtype: 'float32' }),
        posWeight: torch.tensor([...W4].reverse(), { dtype: 'float32' }),
        reduction: 'sum',
      }),
    [3, 4],
    'raw',
    { kind: 'float', shape: [3, 4], map: 'sigmoid' },
  ],
  ['KLDivLoss', 'nn.KLDivLoss()', () => new L.KLDivLoss(), [3, 4], 'logsoftmax', { kind: 'float', shape: [3, 4], map: 'softmax' }],
  [
    'KLDivLoss batchmean',
    'nn.KLDivLoss(reduction="batchmean")',
    () => new L.KLDivLoss({ reduction: 'batchmean' }),
    [3, 4],
    'logsoftmax',
    { kind: 'float', shape: [3, 4], map: 'softmax' },
  ],
  [
    'KLDivLoss logTarget sum',
    'nn.KLDivLoss(reduction="sum", log_target=True)',
    () => new L.KLDivLoss({ reduction: 'sum', logTarget: true }),
    [3, 4],
    'logsoftmax',
    { kind: 'float', shape: [3, 4], map: 'logsoftmax' },
  ],
];

const numel = (s) => s.reduce((a, b) => a * b, 1);
const spec = CASES.map(([name, ctor, , shape, kind, target]) => ({
  name,
  ctor,
  shape,
  kind,
  target,
  x: SEQ(numel(shape)),
  t: target.kind === 'class' ? target.values : SEQ(numel(target.shape), 0.7, 0.2),
}));

const GRADS = [
  { shape: [3, 4], data: SEQ(12, 0.9, 0.1), hasGrad: true },
  { shape: [5], data: SEQ(5, 2.1, 0.3).map((x) => 3 * x), hasGrad: true },
  { shape: [2], data: [0, 0], hasGrad: false },
];
const CLIP = [
  { name: 'norm 2 clips', kind: 'norm', max: 1.0, normType: 2 },
  { name: 'norm 1 clips', kind: 'norm', max: 2.5, normType: 1 },
  { name: 'norm inf clips', kind: 'norm', max: 0.5, normType: 'inf' },
  { name: 'norm 2 no clipping', kind: 'norm', max: 100, normType: 2 },
  { name: 'value', kind: 'value', max: 0.3 },
];

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, warnings, torch, torch.nn as nn
warnings.simplefilter('ignore')
torch.set_num_threads(1)
d = json.load(sys.stdin)
W5 = ${JSON.stringify(W5)}
W4 = ${JSON.stringify(W4)}
def mapped(v, kind):
    if kind == 'sigmoid': return v.sigmoid()
    if kind in ('softmax', 'logsoftmax'):
        v2 = v.reshape(v.shape[0], -1) if v.dim() > 1 else v
        return (v.softmax(1) if kind == 'softmax' else v.log_softmax(1))
    return v
out = {}
for c in d['cases']:
    m = eval(c['ctor'])
    leaf = torch.tensor(c['x']).reshape(c['shape']).requires_grad_()
    x = mapped(leaf, c['kind'])
    tg = c['target']
    if tg['kind'] == 'class':
        t = torch.tensor(c['t'], dtype=torch.int64).reshape(tg['shape'])
    else:
        t = mapped(torch.tensor(c['t']).reshape(tg['shape']), tg['map'])
    y = m(x, t)
    w = torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()
    (y * w).sum().backward()
    out[c['name']] = {'repr': str(m), 'y': y.detach().reshape(-1).tolist(), 'g': leaf.grad.reshape(-1).tolist(),
                      'buffers': [k for k, _ in m.named_buffers()], 'reduction': m.reduction}

def params(grads):
    ps = []
    for g in grads:
        p = torch.zeros(len(g['data'])).reshape(g['shape']).requires_grad_()
        if g['hasGrad']: p.grad = torch.tensor(g['data']).reshape(g['shape'])
        ps.append(p)
    return ps
clip = {}
for c in d['clip']:
    ps = params(d['grads'])
    if c['kind'] == 'norm':
        nt = float('inf') if c['normType'] == 'inf' else c['normType']
        n = torch.nn.utils.clip_grad_norm_(ps, c['max'], norm_type=nt)
        norm = n.item()
    else:
        torch.nn.utils.clip_grad_value_(ps, c['max'])
        norm = None
    clip[c['name']] = {'norm': norm, 'grads': [p.grad.reshape(-1).tolist() if p.grad is not None else None for p in ps]}
print(json.dumps({'loss': out, 'clip': clip}))
`,
    { cases: spec, clip: CLIP, grads: GRADS },
  );
});

function close(a, b, what) {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= 1e-6 + 1e-5 * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
}
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());

function mapped(v, kind) {
  if (kind === 'sigmoid') return v.sigmoid();
  if (kind === 'softmax') return v.softmax(1);
  if (kind === 'logsoftmax') return v.logSoftmax(1);
  return v;
}

for (const [i, [name, , make]] of CASES.entries()) {
  test(`${name}: value, input gradient, buffers and str() equal PyTorch`, () => {
    const c = spec[i];
    const want = py.loss[name];
    torch.tidy(() => {
      const m = make();
      assert.equal(String(m), want.repr);
      assert.equal(m.reduction, want.reduction);
      assert.deepEqual([...m.namedBuffers().keys()], want.buffers);
      const leaf = torch.tensor(c.x, { dtype: 'float32' }).reshape(c.shape).requiresGrad_();
      const x = mapped(leaf, c.kind);
      const t =
        c.target.kind === 'class'
          ? torch.tensor(c.t, { dtype: 'int64' }).reshape(c.target.shape)
          : mapped(torch.tensor(c.t, { dtype: 'float32' }).reshape(c.target.shape), c.target.map);
      const y = m.call(x, t);
      y.mul(torch.arange(y.numel(), { dtype: y.dtype }).reshape(y.shape).cos())
        .sum()
        .backward();
      close(flat(y), want.y, 'loss');
      close(flat(leaf.grad), want.g, 'input gradient');
      leaf.dispose();
      m.dispose();
    });
  });
}

test('loss modules: buffers follow the module, options are checked', () => {
  torch.tidy(() => {
    const w = torch.tensor(W5, { dtype: 'float32' });
    const m = new L.CrossEntropyLoss({ weight: w });
    assert.equal(m.weight, w);
    assert.deepEqual([...m.stateDict().keys()], ['weight']);
    const b = new L.BCEWithLogitsLoss({ posWeight: torch.ones([4]) });
    assert.deepEqual([...b.namedBuffers().keys()], ['pos_weight']);
    assert.equal(b.posWeight, b.pos_weight);
    assert.equal(new L.MSELoss().reduction, 'mean');
    assert.throws(() => new L.MSELoss({ reduction: 'avg' }), /MSELoss\(\): argument 'reduction' must be 'none', 'mean', 'sum', got/);
    assert.throws(() => new L.KLDivLoss({ reduction: 'batch' }), /'batchmean'/);
    assert.throws(() => new L.CrossEntropyLoss({ labelSmoothing: 2 }), /labelSmoothing/);
    assert.throws(() => new L.SmoothL1Loss({ beta: -1 }), /SmoothL1Loss\(\): argument 'beta' must be a non-negative number/);
    assert.throws(() => new L.BCELoss({ weight: [1, 2] }), /BCELoss\(\): argument 'weight' must be a Tensor or null/);
    m.dispose();
    b.dispose();
  });
});

// ---- clipping ------------------------------------------------------------------------------------
function makeParams() {
  return GRADS.map((g) => {
    const p = torch.zeros(g.shape, { requiresGrad: true });
    if (g.hasGrad) p.grad = torch.tensor(g.data, { dtype: 'float32' }).reshape(g.shape);
    return p;
  });
}

for (const c of CLIP) {
  test(`clip ${c.name}: returned norm and clipped gradients equal PyTorch`, () => {
    const want = py.clip[c.name];
    torch.tidy(() => {
      const ps = makeParams();
      if (c.kind === 'norm') {
        const n = clipGradNorm_(ps, c.max, { normType: c.normType === 'inf' ? Infinity : c.normType });
        assert.deepEqual(n.shape, []);
        close([n.item()], [want.norm], 'total norm');
      } else {
        assert.equal(clipGradValue_(ps, c.max), undefined);
      }
      ps.forEach((p, i) => {
        if (want.grads[i] === null) assert.equal(p.grad, null);
        else close(flat(p.grad), want.grads[i], `grad ${i}`);
      });
      for (const p of ps) p.dispose();
    });
  });
}

test("clipGradNorm_: 'inf' string, a single tensor, no grads, non-finite norms", () => {
  torch.tidy(() => {
    const ps = makeParams();
    const a = clipGradNorm_(ps, 0.5, { normType: 'inf' }).item();
    close([a], [py.clip['norm inf clips'].norm], "'inf'");
    const p = torch.tensor([3, 4], { dtype: 'float32', requiresGrad: true });
    p.grad = torch.tensor([3, 4], { dtype: 'float32' });
    assert.equal(clipGradNorm_(p, 1).item(), 5);
    close(flat(p.grad), [0.6 / (1 + 2e-7), 0.8 / (1 + 2e-7)], 'single tensor');
    const none = clipGradNorm_([torch.zeros([2], { requiresGrad: true })], 1);
    assert.equal(none.item(), 0);
    const q = torch.zeros([2], { requiresGrad: true });
    q.grad = torch.tensor([1, Infinity], { dtype: 'float32' });
    assert.throws(
      () => clipGradNorm_([q], 1, { errorIfNonfinite: true }),
      /clipGradNorm_\(\): the total norm of order 2 for gradients from `parameters` is non-finite, so it cannot be clipped/,
    );
    assert.deepEqual(q.grad.tolist(), [1, Infinity], 'unchanged after the error');
    assert.throws(() => clipGradNorm_(ps, 'big'), /clipGradNorm_\(\): argument 'maxNorm' must be a number/);
    assert.throws(() => clipGradNorm_(42, 1), /clipGradNorm_\(\): argument 'parameters' must be a Tensor or an iterable of Tensors/);
    assert.throws(() => clipGradValue_(ps, null), /clipGradValue_\(\): argument 'clipValue' must be a number/);
    for (const t of [...ps, p, q]) t.dispose();
  });
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
