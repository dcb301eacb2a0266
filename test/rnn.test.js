'use strict';
// RNN, LSTM, GRU and MultiheadAttention against Python PyTorch, run live: built after the same seed
// both have bit-identical state dicts with the keys in the same order and print the same; on the
// same input the outputs, final states, attention weights, and the gradients of a loss with respect
// to the input, the initial states and every parameter match (rtol 1e-5, atol 1e-5, float32, one
// thread on both sides). Train-mode dropout (between recurrent layers, on attention weights) matches
// when both draw from the same seed. MultiheadAttention takes PyTorch's fused inference path exactly
// when PyTorch does. Bad input throws TorchError with PyTorch's message.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

// Until the lead re-exports them from torch.nn.
const nn = torch.nn;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // as the Python reference

const SEQ = (n, phase = 0.5) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.3 + phase) * 1000) / 1000);
const numel = (shape) => shape.reduce((a, b) => a * b, 1);
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
function close(a, b, what, rtol = 1e-5, atol = 1e-5) {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    const ok = x === b[i] || Math.abs(x - b[i]) <= atol + rtol * Math.abs(b[i]);
    if (!ok) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
}

// ---- recurrent layers ----------------------------------------------------------------------------
// [name, Python constructor, JS constructor, input shape, hx shapes ([] none; LSTM: [h, c]), train mode]
const RNNS = [
  ['LSTM 1 layer', 'nn.LSTM(4, 6)', () => new nn.LSTM(4, 6), [5, 3, 4], []],
  [
    'LSTM 2 layers bidirectional batchFirst, given (h0, c0)',
    'nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True)',
    () => new nn.LSTM(4, 5, { numLayers: 2, bidirectional: true, batchFirst: true }),
    [3, 5, 4],
    [
      [4, 3, 5],
      [4, 3, 5],
    ],
  ],
  [
    'LSTM projSize, no bias',
    'nn.LSTM(4, 6, proj_size=3, bias=False)',
    () => new nn.LSTM(4, 6, { projSize: 3, bias: false }),
    [5, 2, 4],
    [
      [1, 2, 3],
      [1, 2, 6],
    ],
  ],
  [
    'LSTM unbatched',
    'nn.LSTM(4, 6, num_layers=2)',
    () => new nn.LSTM(4, 6, { numLayers: 2 }),
    [5, 4],
    [
      [2, 6],
      [2, 6],
    ],
  ],
  ['LSTM unbatched batchFirst, no hx', 'nn.LSTM(4, 6, batch_first=True)', () => new nn.LSTM(4, 6, { batchFirst: true }), [5, 4], []],
  ['LSTM dropout between layers (train)', 'nn.LSTM(4, 6, num_layers=3, dropout=0.5)', () => new nn.LSTM(4, 6, { numLayers: 3, dropout: 0.5 }), [5, 3, 4], []],
  [
    'GRU 2 layers batchFirst, given h0',
    'nn.GRU(4, 6, num_layers=2, batch_first=True)',
    () => new nn.GRU(4, 6, { numLayers: 2, batchFirst: true }),
    [3, 5, 4],
    [[2, 3, 6]],
  ],
  ['GRU bidirectional no bias', 'nn.GRU(4, 6, bias=False, bidirectional=True)', () => new nn.GRU(4, 6, { bias: false, bidirectional: true }), [5, 3, 4], []],
  ['GRU unbatched', 'nn.GRU(4, 6)', () => new nn.GRU(4, 6), [5, 4], [[1, 6]]],
  ['GRU dropout between layers (train)', 'nn.GRU(4, 6, num_layers=2, dropout=0.3)', () => new nn.GRU(4, 6, { numLayers: 2, dropout: 0.3 }), [5, 3, 4], []],
  ['RNN tanh', 'nn.RNN(4, 6, num_layers=2)', () => new nn.RNN(4, 6, { numLayers: 2 }), [5, 3, 4], []],
  [
    'RNN relu bidirectional batchFirst',
    "nn.RNN(4, 6, nonlinearity='relu', bidirectional=True, batch_first=True)",
    () => new nn.RNN(4, 6, { nonlinearity: 'relu', bidirectional: true, batchFirst: true }),
    [3, 5, 4],
    [[2, 3, 6]],
  ],
];

// ---- attention -----------------------------------------------------------------------------------
// Masks: a bool key padding mask with some keys hidden per batch entry, an attention mask (bool:
// true = not allowed; float: added), as PyTorch's docs describe.
const kpmBool = (n, s) => Array.from({ length: n }, (_, b) => Array.from({ length: s }, (_, j) => j >= s - b));
const causalBool = (l, s) => Array.from({ length: l }, (_, i) => Array.from({ length: s }, (_, j) => j > i));
const floatMask = (l, s) => Array.from({ length: l }, (_, i) => Array.from({ length: s }, (_, j) => (j > i + 1 ? -Infinity : -0.25 * Math.abs(i - j))));

// [name, Python ctor, JS ctor, { q, k, v shapes (k/v 'q' = the same tensor as q; v 'k' = same as k),
//   kpm, mask, needWeights, average, train, noGrad }]
const MHAS = [
  [
    'self-attention, bool key padding mask and attention mask, weights',
    'nn.MultiheadAttention(8, 2)',
    () => new nn.MultiheadAttention(8, 2),
    { q: [5, 3, 8], k: 'q', v: 'q', kpm: kpmBool(3, 5), mask: causalBool(5, 5), needWeights: true },
  ],
  [
    'self-attention, masks, no weights (scaled_dot_product_attention)',
    'nn.MultiheadAttention(8, 2)',
    () => new nn.MultiheadAttention(8, 2),
    { q: [5, 3, 8], k: 'q', v: 'q', kpm: kpmBool(3, 5), mask: causalBool(5, 5), needWeights: false },
  ],
  [
    'batchFirst self-attention, float attention mask, per-head weights',
    'nn.MultiheadAttention(8, 4, batch_first=True)',
    () => new nn.MultiheadAttention(8, 4, { batchFirst: true }),
    { q: [3, 5, 8], k: 'q', v: 'q', maskFloat: floatMask(5, 5), needWeights: true, average: false },
  ],
  [
    'batchFirst self-attention, masks, no weights',
    'nn.MultiheadAttention(8, 2, batch_first=True)',
    () => new nn.MultiheadAttention(8, 2, { batchFirst: true }),
    { q: [3, 5, 8], k: 'q', v: 'q', kpm: kpmBool(3, 5), mask: causalBool(5, 5), needWeights: false },
  ],
  [
    'batchFirst encoder-decoder (key is value), key padding mask',
    'nn.MultiheadAttention(8, 2, batch_first=True)',
    () => new nn.MultiheadAttention(8, 2, { batchFirst: true }),
    { q: [2, 4, 8], k: [2, 6, 8], v: 'k', kpm: kpmBool(2, 6), needWeights: true },
  ],
  [
    'separate key and value, no bias',
    'nn.MultiheadAttention(8, 2, bias=False)',
    () => new nn.MultiheadAttention(8, 2, { bias: false }),
    { q: [4, 2, 8], k: [6, 2, 8], v: [6, 2, 8], needWeights: true },
  ],
  [
    'kdim/vdim, bias_k/bias_v, zero attention',
    'nn.MultiheadAttention(8, 4, kdim=6, vdim=5, add_bias_kv=True, add_zero_attn=True)',
    () => new nn.MultiheadAttention(8, 4, { kdim: 6, vdim: 5, addBiasKv: true, addZeroAttn: true }),
    { q: [4, 2, 8], k: [6, 2, 6], v: [6, 2, 5], kpm: kpmBool(2, 6), mask: causalBool(4, 6), needWeights: true, average: false },
  ],
  [
    'unbatched self-attention, key padding mask',
    'nn.MultiheadAttention(8, 2)',
    () => new nn.MultiheadAttention(8, 2),
    { q: [5, 8], k: 'q', v: 'q', kpm1: [false, false, true, false, true], needWeights: true },
  ],
  [
    'dropout on attention weights (train)',
    'nn.MultiheadAttention(8, 2, dropout=0.3)',
    () => new nn.MultiheadAttention(8, 2, { dropout: 0.3 }),
    { q: [5, 3, 8], k: 'q', v: 'q', needWeights: true, train: true },
  ],
  [
    'dropout inside scaled_dot_product_attention (train, no weights)',
    'nn.MultiheadAttention(8, 2, dropout=0.3)',
    () => new nn.MultiheadAttention(8, 2, { dropout: 0.3 }),
    { q: [5, 3, 8], k: 'q', v: 'q', needWeights: false, train: true },
  ],
  [
    'inference fast path (eval, no grad, batchFirst self-attention)',
    'nn.MultiheadAttention(8, 2, batch_first=True)',
    () => new nn.MultiheadAttention(8, 2, { batchFirst: true }),
    { q: [3, 5, 8], k: 'q', v: 'q', kpm: kpmBool(3, 5), needWeights: true, eval: true, noGrad: true },
  ],
  [
    'inference fast path without weights',
    'nn.MultiheadAttention(8, 2, batch_first=True)',
    () => new nn.MultiheadAttention(8, 2, { batchFirst: true }),
    { q: [3, 5, 8], k: 'q', v: 'q', mask: causalBool(5, 5), needWeights: false, eval: true, noGrad: true },
  ],
];

const PY = `
import json, sys, math, torch, torch.nn as nn
torch.set_num_threads(1)
d = json.load(sys.stdin)
def seq(n, phase=0.5):
    return [round(math.sin(i * 1.3 + phase) * 1000) / 1000 for i in range(n)]
def numel(s):
    n = 1
    for x in s: n *= x
    return n
def T(shape, phase):
    return torch.tensor(seq(numel(shape), phase), dtype=torch.float32).reshape(shape)
def flat(t):
    return t.detach().reshape(-1).tolist()
def weighted(y):
    return (y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum()
out = {'rnn': {}, 'mha': {}}
for name, ctor, shape, hx_shapes in d['rnns']:
    torch.manual_seed(0)
    m = eval(ctor)
    res = {'repr': str(m), 'keys': list(m.state_dict().keys()),
           'sd': {k: flat(v) for k, v in m.state_dict().items()}}
    x = T(shape, 0.5).requires_grad_()
    hx = [T(s, 1.5 + i).requires_grad_() for i, s in enumerate(hx_shapes)]
    arg = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    torch.manual_seed(7)
    y, h = m(x, arg)
    hs = list(h) if isinstance(h, tuple) else [h]
    loss = weighted(y) + sum(weighted(t) for t in hs)
    loss.backward()
    res.update({'y': flat(y), 'h': [flat(t) for t in hs], 'hshape': [list(t.shape) for t in hs], 'yshape': list(y.shape),
                'gx': flat(x.grad), 'ghx': [flat(t.grad) for t in hx],
                'gw': {k: flat(p.grad) for k, p in m.named_parameters()}})
    out['rnn'][name] = res
for name, ctor, o in d['mhas']:
    torch.manual_seed(0)
    m = eval(ctor)
    res = {'repr': str(m), 'keys': list(m.state_dict().keys()),
           'sd': {k: flat(v) for k, v in m.state_dict().items()}}
    m.train(not o.get('eval', False))
    q = T(o['q'], 0.5)
    k = q if o['k'] == 'q' else T(o['k'], 1.0)
    v = q if o['v'] == 'q' else k if o['v'] == 'k' else T(o['v'], 2.0)
    leaves = [q] + ([k] if k is not q else []) + ([v] if v is not q and v is not k else [])
    if not o.get('noGrad'):
        for t in leaves: t.requires_grad_()
    kw = {'need_weights': o['needWeights'], 'average_attn_weights': o.get('average', True)}
    if 'kpm' in o: kw['key_padding_mask'] = torch.tensor(o['kpm'])
    if 'kpm1' in o: kw['key_padding_mask'] = torch.tensor(o['kpm1'])
    if 'mask' in o: kw['attn_mask'] = torch.tensor(o['mask'])
    if 'maskFloat' in o:  # -inf arrives as null (JSON)
        kw['attn_mask'] = torch.tensor([[float('-inf') if x is None else x for x in r] for r in o['maskFloat']], dtype=torch.float32)
    torch.manual_seed(3)
    with torch.set_grad_enabled(not o.get('noGrad')):
        y, w = m(q, k, v, **kw)
    res.update({'y': flat(y), 'yshape': list(y.shape), 'w': None if w is None else flat(w),
                'wshape': None if w is None else list(w.shape)})
    if not o.get('noGrad'):
        loss = weighted(y) + (0 if w is None else weighted(w))
        loss.backward()
        res['gin'] = [flat(t.grad) for t in leaves]
        res['gw'] = {kk: flat(p.grad) for kk, p in m.named_parameters()}
    out['mha'][name] = res
errs = {}
def err(key, f):
    try:
        f()
        errs[key] = None
    except Exception as e:
        errs[key] = str(e)
err('lstm_size', lambda: nn.LSTM(10, 20)(torch.zeros(5, 3, 7)))
err('lstm_hidden', lambda: nn.LSTM(10, 20)(torch.zeros(5, 3, 10), (torch.zeros(1, 3, 19), torch.zeros(1, 3, 20))))
err('lstm_cell', lambda: nn.LSTM(10, 20, num_layers=2)(torch.zeros(5, 3, 10), (torch.zeros(2, 3, 20), torch.zeros(1, 3, 20))))
err('lstm_4d', lambda: nn.LSTM(10, 20)(torch.zeros(5, 3, 10, 1)))
err('lstm_hx_dims', lambda: nn.LSTM(10, 20)(torch.zeros(5, 3, 10), (torch.zeros(3, 20), torch.zeros(3, 20))))
err('gru_hidden', lambda: nn.GRU(10, 20)(torch.zeros(5, 3, 10), torch.zeros(2, 3, 20)))
err('gru_unbatched_hx', lambda: nn.GRU(10, 20)(torch.zeros(5, 10), torch.zeros(1, 3, 20)))
err('rnn_1d', lambda: nn.RNN(10, 20)(torch.zeros(10)))
def swapped():
    m = nn.GRU(4, 6)
    m.weight_ih_l0 = nn.Parameter(torch.zeros(18, 3))
    m(torch.zeros(5, 2, 4))
err('gru_libtorch', swapped)
err('mha_embed', lambda: nn.MultiheadAttention(8, 2)(torch.zeros(5, 3, 6), torch.zeros(5, 3, 6), torch.zeros(5, 3, 6)))
err('mha_mask_shape', lambda: nn.MultiheadAttention(8, 2)(torch.zeros(5, 3, 8), torch.zeros(4, 3, 8), torch.zeros(4, 3, 8), attn_mask=torch.zeros(5, 5, dtype=torch.bool)))
err('mha_kpm_shape', lambda: nn.MultiheadAttention(8, 2)(torch.zeros(5, 3, 8), torch.zeros(4, 3, 8), torch.zeros(4, 3, 8), key_padding_mask=torch.zeros(2, 4, dtype=torch.bool)))
err('mha_mask_dtype', lambda: nn.MultiheadAttention(8, 2)(torch.zeros(5, 3, 8), torch.zeros(5, 3, 8), torch.zeros(5, 3, 8), attn_mask=torch.zeros(5, 5, dtype=torch.int64)))
err('mha_kv_dims', lambda: nn.MultiheadAttention(8, 2)(torch.zeros(5, 3, 8), torch.zeros(5, 8), torch.zeros(5, 8)))
out['errors'] = errs
out['reprs'] = {
    'lstm_full': str(nn.LSTM(10, 20, 2, bias=False, batch_first=True, dropout=0.5, bidirectional=True, proj_size=5)),
    'lstm_bf': str(nn.LSTM(10, 20, num_layers=2, batch_first=True)),
    'gru_dropout': str(nn.GRU(3, 4, num_layers=2, dropout=1)),
    'mha_kv': str(nn.MultiheadAttention(8, 2, kdim=4, vdim=6, bias=False, batch_first=True, dropout=0.1)),
}
print(json.dumps(out))
`;

let py;
test.before(() => {
  py = runPython(PY, {
    rnns: RNNS.map(([name, ctor, , shape, hx]) => [name, ctor, shape, hx]),
    mhas: MHAS.map(([name, ctor, , o]) => [name, ctor, o]),
  });
});

const { native } = require('../dist/binding');
const { op } = require('../dist/ops/handles');
/** Runs fn, recording the ATen operators it calls through native.callOp. */
function spyOps(fn) {
  const orig = native.callOp;
  const handles = [];
  native.callOp = (h, ...args) => {
    handles.push(h);
    return orig.call(native, h, ...args);
  };
  try {
    return { result: fn(), handles };
  } finally {
    native.callOp = orig;
  }
}

const T = (shape, phase) => torch.tensor(SEQ(numel(shape), phase), { dtype: 'float32' }).reshape(shape);
const weighted = (y) => y.mul(torch.arange(y.numel(), { dtype: y.dtype }).reshape(y.shape).cos()).sum();

function sameStateDict(m, want) {
  torch.tidy(() => {
    const sd = m.stateDict();
    assert.deepEqual([...sd.keys()], want.keys, 'state-dict keys in PyTorch order');
    // Bit-identical: the same random draws in the same order (floats via JSON round-trip exactly).
    for (const [k, v] of sd) assert.deepEqual(flat(v), want.sd[k], `initial ${k}`);
  });
}

for (const [name, , make, shape, hxShapes] of RNNS) {
  test(`${name}: seeded weights, repr, outputs, final states and gradients equal PyTorch`, () => {
    torch.tidy(() => {
      const want = py.rnn[name];
      torch.manualSeed(0);
      const m = make();
      sameStateDict(m, want);
      assert.equal(String(m), want.repr, 'repr');
      const x = T(shape, 0.5).requiresGrad_();
      const hx = hxShapes.map((s, i) => T(s, 1.5 + i).requiresGrad_());
      const arg = hx.length === 0 ? undefined : hx.length === 2 ? hx : hx[0];
      torch.manualSeed(7);
      const [y, h] = m.forward(x, arg);
      const hs = Array.isArray(h) ? h : [h];
      assert.deepEqual(y.shape, want.yshape, 'output shape');
      assert.deepEqual(
        hs.map((t) => t.shape),
        want.hshape,
        'final state shapes',
      );
      close(flat(y), want.y, 'output');
      hs.forEach((t, i) => close(flat(t), want.h[i], `final state ${i}`));
      hs.reduce((acc, t) => acc.add(weighted(t)), weighted(y)).backward();
      close(flat(x.grad), want.gx, 'input gradient');
      hx.forEach((t, i) => close(flat(t.grad), want.ghx[i], `hx[${i}] gradient`));
      for (const [k, p] of m.namedParameters()) close(flat(p.grad), want.gw[k], `grad of ${k}`);
      m.dispose();
    });
  });
}

for (const [name, , make, o] of MHAS) {
  test(`MultiheadAttention ${name}: seeded weights, repr, output, weights and gradients equal PyTorch`, () => {
    torch.tidy(() => {
      const want = py.mha[name];
      torch.manualSeed(0);
      const m = make();
      sameStateDict(m, want);
      assert.equal(String(m), want.repr, 'repr');
      m.train(!o.eval);
      const q = T(o.q, 0.5);
      const k = o.k === 'q' ? q : T(o.k, 1.0);
      const v = o.v === 'q' ? q : o.v === 'k' ? k : T(o.v, 2.0);
      const leaves = [q, ...(k !== q ? [k] : []), ...(v !== q && v !== k ? [v] : [])];
      if (!o.noGrad) leaves.forEach((t) => t.requiresGrad_());
      const opts = { needWeights: o.needWeights, averageAttnWeights: o.average ?? true };
      if (o.kpm) opts.keyPaddingMask = torch.tensor(o.kpm);
      if (o.kpm1) opts.keyPaddingMask = torch.tensor(o.kpm1);
      if (o.mask) opts.attnMask = torch.tensor(o.mask);
      if (o.maskFloat) opts.attnMask = torch.tensor(o.maskFloat, { dtype: 'float32' });
      torch.manualSeed(3);
      // Which path ran: PyTorch's fused inference op exactly when PyTorch takes it.
      const calls = spyOps(() => (o.noGrad ? torch.noGrad(() => m.forward(q, k, v, opts)) : m.forward(q, k, v, opts)));
      const [y, w] = calls.result;
      assert.equal(calls.handles.includes(op('_native_multi_head_attention')), !!o.noGrad, 'the fused fast path iff eval + no grad');
      assert.deepEqual(y.shape, want.yshape, 'output shape');
      close(flat(y), want.y, 'output');
      if (want.w === null) assert.equal(w, null, 'no weights');
      else {
        assert.deepEqual(w.shape, want.wshape, 'weights shape');
        close(flat(w), want.w, 'attention weights');
      }
      if (!o.noGrad) {
        (w === null ? weighted(y) : weighted(y).add(weighted(w))).backward();
        leaves.forEach((t, i) => close(flat(t.grad), want.gin[i], `input ${i} gradient`));
        for (const [kk, p] of m.namedParameters()) close(flat(p.grad), want.gw[kk], `grad of ${kk}`);
      }
      m.dispose();
    });
  });
}

test('printed forms equal PyTorch', () => {
  const cases = {
    lstm_full: () => new nn.LSTM(10, 20, { numLayers: 2, bias: false, batchFirst: true, dropout: 0.5, bidirectional: true, projSize: 5 }),
    lstm_bf: () => new nn.LSTM(10, 20, { numLayers: 2, batchFirst: true }),
    gru_dropout: () => new nn.GRU(3, 4, { numLayers: 2, dropout: 1 }),
    mha_kv: () => new nn.MultiheadAttention(8, 2, { kdim: 4, vdim: 6, bias: false, batchFirst: true, dropout: 0.1 }),
  };
  for (const [key, make] of Object.entries(cases)) {
    const m = make();
    assert.equal(String(m), py.reprs[key], key);
    m.dispose();
  }
});

test('module structure: PyTorch names, camelCase views, out_proj a NonDynamicallyQuantizableLinear', () => {
  const lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true });
  assert.equal(lstm.allWeights.length, 4);
  assert.equal(lstm.allWeights[1][0], lstm.weight_ih_l0_reverse);
  assert.deepEqual(lstm.weight_hh_l1.shape, [16, 4]);
  assert.deepEqual(lstm.weight_ih_l1.shape, [16, 8], 'layer 1 takes both directions');
  lstm.dispose();
  const mha = new nn.MultiheadAttention(8, 2, { kdim: 4 });
  assert.equal(mha.inProjWeight, null);
  assert.deepEqual(mha.kProjWeight.shape, [8, 4]);
  assert.ok(mha.outProj instanceof nn.NonDynamicallyQuantizableLinear);
  assert.ok(mha.outProj instanceof torch.nn.Linear);
  assert.equal(mha.outProj, mha.getSubmodule('out_proj'));
  assert.equal(mha.inProjBias, mha.getParameter('in_proj_bias'));
  mha.dispose();
});

test("a parameter registered again is the one forward uses (as PyTorch's __setattr__ keeps _flat_weights)", () => {
  torch.tidy(() => {
    const m = new nn.GRU(2, 3);
    const x = torch.ones(4, 1, 2);
    const before = flat(m.forward(x)[0]);
    const old = [m.weight_ih_l0, m.weight_hh_l0];
    m.registerParameter('weight_ih_l0', torch.zeros(9, 2));
    m.registerParameter('weight_hh_l0', torch.zeros(9, 3));
    torch.dispose(old); // a module owns its parameters; the replaced ones are ours to free
    const after = m.forward(x)[0];
    assert.notDeepEqual(flat(after), before);
    // With zero weights the input no longer matters.
    assert.deepEqual(flat(m.forward(x.mul(2))[0]), flat(after));
    m.dispose();
  });
});

test("bad input: TorchError with PyTorch's message (expected vs got)", () => {
  const e = py.errors;
  const throwsWith = (f, message, what) => {
    assert.equal(typeof message, 'string', `${what}: PyTorch raised too`);
    assert.throws(f, (err) => {
      assert.ok(err instanceof torch.TorchError, `${what}: a TorchError, got ${err?.constructor.name}`);
      assert.ok(err.message.includes(message), `${what}: message ${JSON.stringify(err.message)} should include Python's ${JSON.stringify(message)}`);
      return true;
    });
  };
  torch.tidy(() => {
    const lstm = new nn.LSTM(10, 20);
    throwsWith(() => lstm.forward(torch.zeros(5, 3, 7)), e.lstm_size, 'input size');
    assert.match(e.lstm_size, /Expected 10, got 7/);
    throwsWith(() => lstm.forward(torch.zeros(5, 3, 10), [torch.zeros(1, 3, 19), torch.zeros(1, 3, 20)]), e.lstm_hidden, 'h0 size');
    throwsWith(() => lstm.forward(torch.zeros(5, 3, 10, 1)), e.lstm_4d, '4-D input');
    throwsWith(() => lstm.forward(torch.zeros(5, 3, 10), [torch.zeros(3, 20), torch.zeros(3, 20)]), e.lstm_hx_dims, 'hx dims');
    assert.throws(
      () => lstm.forward(torch.zeros(5, 3, 10), torch.zeros(1, 3, 20)),
      /LSTM\.forward\(\): argument 'hx' must be an array \[h0, c0\] or null, got a Tensor/,
    );
    assert.throws(() => lstm.forward(torch.zeros(5, 3, 10, { dtype: 'float64' })), /RNN input dtype \(float64\) does not match weight dtype \(float32\)/);
    assert.throws(() => lstm.forward([1, 2]), /LSTM\.forward\(\): argument 'input' must be a Tensor, got an array of length 2/);
    lstm.dispose();
    const lstm2 = new nn.LSTM(10, 20, { numLayers: 2 });
    throwsWith(() => lstm2.forward(torch.zeros(5, 3, 10), [torch.zeros(2, 3, 20), torch.zeros(1, 3, 20)]), e.lstm_cell, 'c0 size');
    lstm2.dispose();
    const gru = new nn.GRU(10, 20);
    throwsWith(() => gru.forward(torch.zeros(5, 3, 10), torch.zeros(2, 3, 20)), e.gru_hidden, 'GRU h0 size');
    throwsWith(() => gru.forward(torch.zeros(5, 10), torch.zeros(1, 3, 20)), e.gru_unbatched_hx, 'GRU unbatched hx');
    gru.dispose();
    const rnn = new nn.RNN(10, 20);
    throwsWith(() => rnn.forward(torch.zeros(10)), e.rnn_1d, 'RNN 1-D input');
    rnn.dispose();
    // An error from libtorch itself: the message is libtorch's, word for word.
    const swapped = new nn.GRU(4, 6);
    const old = swapped.weight_ih_l0;
    swapped.registerParameter('weight_ih_l0', torch.zeros(18, 3));
    old.dispose();
    assert.match(e.gru_libtorch, /mat1 and mat2 shapes cannot be multiplied \(10x4 and 3x18\)/);
    throwsWith(() => swapped.forward(torch.zeros(5, 2, 4)), e.gru_libtorch, 'libtorch error');
    swapped.dispose();

    const mha = new nn.MultiheadAttention(8, 2);
    throwsWith(() => mha.forward(torch.zeros(5, 3, 6), torch.zeros(5, 3, 6), torch.zeros(5, 3, 6)), e.mha_embed, 'embedding size');
    throwsWith(
      () => mha.forward(torch.zeros(5, 3, 8), torch.zeros(4, 3, 8), torch.zeros(4, 3, 8), { attnMask: torch.zeros([5, 5], { dtype: 'bool' }) }),
      e.mha_mask_shape.replace('torch.Size(', '').replace('])', ']'),
      'attention mask shape',
    );
    throwsWith(
      () => mha.forward(torch.zeros(5, 3, 8), torch.zeros(4, 3, 8), torch.zeros(4, 3, 8), { keyPaddingMask: torch.zeros([2, 4], { dtype: 'bool' }) }),
      e.mha_kpm_shape,
      'key padding mask shape',
    );
    throwsWith(
      () => mha.forward(torch.zeros(5, 3, 8), torch.zeros(5, 3, 8), torch.zeros(5, 3, 8), { attnMask: torch.zeros([5, 5], { dtype: 'int64' }) }),
      e.mha_mask_dtype,
      'mask dtype',
    );
    throwsWith(() => mha.forward(torch.zeros(5, 3, 8), torch.zeros(5, 8), torch.zeros(5, 8)), e.mha_kv_dims, 'key/value dims');
    mha.dispose();
  });
  assert.throws(() => new nn.MultiheadAttention(8, 3), /MultiheadAttention\(\): embedDim \(8\) must be divisible by numHeads \(3\)/);
  assert.throws(() => new nn.LSTM(4, 6, { projSize: 6 }), /LSTM\(\): projSize \(6\) has to be smaller than hiddenSize \(6\)/);
  assert.throws(() => new nn.GRU(4, 6, { projSize: 2 }), /projSize is only supported for LSTM, not RNN or GRU/);
  assert.throws(() => new nn.LSTM(4, 6, { dropout: 1.5 }), /LSTM\(\): argument 'dropout' must be a probability between 0 and 1, got number 1.5/);
  assert.throws(() => new nn.LSTM(0, 6), /LSTM\(\): argument 'inputSize' must be a positive integer, got number 0/);
  assert.throws(() => new nn.RNN(4, 6, { nonlinearity: 'sigmoid' }), /RNN\(\): argument 'nonlinearity' must be 'tanh' or 'relu', got string "sigmoid"/);
});

// ---- cells --------------------------------------------------------------------------------------
// nn.LSTMCell, GRUCell, RNNCell: seeded weights (bit-identical, PyTorch's order), repr, and a
// three-step loop feeding the state back (as a decoder does), with the gradients of a loss over
// every step's state; batched and unbatched, with and without an initial state.
// [name, Python constructor, JS constructor, input shape, initial state shapes ([] none; LSTM: [h, c])]
const CELLS = [
  [
    'LSTMCell, given (h, c)',
    'nn.LSTMCell(4, 6)',
    () => new nn.LSTMCell(4, 6),
    [3, 4],
    [
      [3, 6],
      [3, 6],
    ],
  ],
  ['LSTMCell unbatched, no bias, no state', 'nn.LSTMCell(4, 6, bias=False)', () => new nn.LSTMCell(4, 6, { bias: false }), [4], []],
  ['GRUCell, no state', 'nn.GRUCell(4, 6)', () => new nn.GRUCell(4, 6), [3, 4], []],
  ['GRUCell unbatched, given h', 'nn.GRUCell(4, 6)', () => new nn.GRUCell(4, 6), [4], [[6]]],
  ['RNNCell relu, given h', "nn.RNNCell(4, 6, nonlinearity='relu')", () => new nn.RNNCell(4, 6, { nonlinearity: 'relu' }), [2, 4], [[2, 6]]],
  ['RNNCell tanh, no bias', 'nn.RNNCell(4, 6, bias=False)', () => new nn.RNNCell(4, 6, { bias: false }), [2, 4], []],
];

const PY_CELLS = `
import json, sys, math, torch, torch.nn as nn
torch.set_num_threads(1)
d = json.load(sys.stdin)
def seq(n, phase=0.5):
    return [round(math.sin(i * 1.3 + phase) * 1000) / 1000 for i in range(n)]
def T(shape, phase):
    n = 1
    for s in shape: n *= s
    return torch.tensor(seq(n, phase), dtype=torch.float32).reshape(shape)
def flat(t):
    return t.detach().reshape(-1).tolist()
def weighted(y):
    return (y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum()
out = {}
for name, ctor, shape, hx_shapes in d['cells']:
    torch.manual_seed(0)
    m = eval(ctor)
    res = {'repr': str(m), 'keys': list(m.state_dict().keys()), 'sd': {k: flat(v) for k, v in m.state_dict().items()}}
    xs = [T(shape, 0.5 + i).requires_grad_() for i in range(3)]
    hx = [T(s, 1.5 + i).requires_grad_() for i, s in enumerate(hx_shapes)]
    state = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    loss = 0
    steps = []
    for x in xs:
        state = m(x, state)
        hs = list(state) if isinstance(state, tuple) else [state]
        steps.append([flat(t) for t in hs])
        loss = loss + sum(weighted(t) for t in hs)
    loss.backward()
    res.update({'steps': steps, 'shapes': [list(t.shape) for t in hs], 'gx': [flat(x.grad) for x in xs],
                'ghx': [flat(t.grad) for t in hx], 'gw': {k: flat(p.grad) for k, p in m.named_parameters()}})
    out[name] = res
def err(f):
    try:
        f()
    except Exception as e:
        return str(e)
out['errors'] = {
    'lstm_3d': err(lambda: nn.LSTMCell(4, 6)(torch.zeros(2, 3, 4))),
    'lstm_hx_3d': err(lambda: nn.LSTMCell(4, 6)(torch.zeros(3, 4), (torch.zeros(1, 3, 6), torch.zeros(3, 6)))),
    'gru_hidden_3d': err(lambda: nn.GRUCell(4, 6)(torch.zeros(3, 4), torch.zeros(1, 3, 6))),
    'rnn_0d': err(lambda: nn.RNNCell(4, 6)(torch.tensor(1.0))),
}
print(json.dumps(out))
`;

test('LSTMCell, GRUCell, RNNCell: seeded weights, repr, a three-step loop and its gradients equal PyTorch', () => {
  const want = runPython(PY_CELLS, { cells: CELLS.map(([name, ctor, , shape, hx]) => [name, ctor, shape, hx]) });
  for (const [name, , make, shape, hxShapes] of CELLS) {
    torch.tidy(() => {
      const w = want[name];
      torch.manualSeed(0);
      const m = make();
      sameStateDict(m, w);
      assert.equal(String(m), w.repr, `${name}: repr`);
      const xs = [0, 1, 2].map((i) => T(shape, 0.5 + i).requiresGrad_());
      const hx = hxShapes.map((s, i) => T(s, 1.5 + i).requiresGrad_());
      let state = hx.length === 0 ? undefined : hx.length === 2 ? hx : hx[0];
      let loss = null;
      let hs = [];
      xs.forEach((x, step) => {
        state = m.call(x, state);
        hs = Array.isArray(state) ? state : [state];
        hs.forEach((t, i) => close(flat(t), w.steps[step][i], `${name}: step ${step}, state ${i}`));
        for (const t of hs) loss = loss === null ? weighted(t) : loss.add(weighted(t));
      });
      assert.deepEqual(
        hs.map((t) => t.shape),
        w.shapes,
        `${name}: state shapes`,
      );
      loss.backward();
      xs.forEach((x, i) => close(flat(x.grad), w.gx[i], `${name}: input ${i} gradient`));
      hx.forEach((t, i) => close(flat(t.grad), w.ghx[i], `${name}: initial state ${i} gradient`));
      for (const [k, p] of m.namedParameters()) close(flat(p.grad), w.gw[k], `${name}: grad of ${k}`);
      m.dispose();
    });
  }
  const e = want.errors;
  const lstm = new nn.LSTMCell(4, 6);
  const gru = new nn.GRUCell(4, 6);
  const rnn = new nn.RNNCell(4, 6);
  torch.tidy(() => {
    assert.throws(
      () => lstm.call(torch.zeros(2, 3, 4)),
      (err) => err.message === e.lstm_3d,
    );
    assert.throws(
      () => lstm.call(torch.zeros(3, 4), [torch.zeros(1, 3, 6), torch.zeros(3, 6)]),
      (err) => err.message === e.lstm_hx_3d,
    );
    assert.throws(
      () => gru.call(torch.zeros(3, 4), torch.zeros(1, 3, 6)),
      (err) => err.message === e.gru_hidden_3d,
    );
    assert.throws(
      () => rnn.call(torch.tensor(1)),
      (err) => err.message === e.rnn_0d,
    );
    assert.throws(() => lstm.call(torch.zeros(3, 4), [torch.zeros(3, 6)]), /LSTMCell.forward\(\): argument 'hx' must be an array \[h, c\] or null/);
  });
  torch.dispose([lstm, gru, rnn].flatMap((m) => [...m.parameters()]));
  assert.throws(() => new nn.RNNCell(4, 6, { nonlinearity: 'gelu' }), /RNNCell\(\): argument 'nonlinearity' must be 'tanh' or 'relu', got string "gelu"/);
  assert.throws(() => new nn.LSTMCell(4, 0), /LSTMCell\(\): argument 'hiddenSize' must be a positive integer, got number 0/);
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
