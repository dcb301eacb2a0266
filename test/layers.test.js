'use strict';
// Every built-in layer against PyTorch: built after the same seed (so with PyTorch's weights), run on
// the same input in train and eval mode; outputs, input gradients and weight gradients must match
// (rtol 1e-4, atol 1e-5: float32, kernels may sum in another order), and str(layer) must be equal.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // as the Python reference

// [name, python constructor, js constructor, input shape, input kind]
const LAYERS = [
  ['Linear', 'nn.Linear(5, 4)', () => new nn.Linear(5, 4), [3, 5]],
  ['Linear no bias', 'nn.Linear(5, 4, bias=False)', () => new nn.Linear(5, 4, { bias: false }), [2, 3, 5]],
  ['Conv1d', 'nn.Conv1d(3, 4, 3, stride=2, padding=1)', () => new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1 }), [2, 3, 9]],
  ['Conv2d', 'nn.Conv2d(3, 4, 3, padding=1, groups=1)', () => new nn.Conv2d(3, 4, 3, { padding: 1 }), [2, 3, 6, 6]],
  [
    'Conv2d groups dilation',
    'nn.Conv2d(4, 6, 3, dilation=2, groups=2, bias=False)',
    () => new nn.Conv2d(4, 6, 3, { dilation: 2, groups: 2, bias: false }),
    [1, 4, 7, 7],
  ],
  [
    'ConvTranspose2d',
    'nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)',
    () => new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    [2, 3, 4, 4],
  ],
  ['BatchNorm1d', 'nn.BatchNorm1d(4)', () => new nn.BatchNorm1d(4), [6, 4]],
  ['BatchNorm2d', 'nn.BatchNorm2d(3)', () => new nn.BatchNorm2d(3), [2, 3, 4, 4]],
  ['BatchNorm2d momentum None', 'nn.BatchNorm2d(3, momentum=None)', () => new nn.BatchNorm2d(3, { momentum: null }), [2, 3, 4, 4]],
  ['LayerNorm', 'nn.LayerNorm([4, 5])', () => new nn.LayerNorm([4, 5]), [2, 3, 4, 5]],
  ['GroupNorm', 'nn.GroupNorm(2, 4)', () => new nn.GroupNorm(2, 4), [2, 4, 3, 3]],
  ['Dropout', 'nn.Dropout(0.3)', () => new nn.Dropout(0.3), [4, 6]],
  ['Dropout2d', 'nn.Dropout2d(0.5)', () => new nn.Dropout2d(0.5), [2, 4, 3, 3]],
  ['MaxPool2d', 'nn.MaxPool2d(3, stride=2, padding=1)', () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }), [2, 3, 7, 7]],
  ['AvgPool2d', 'nn.AvgPool2d(2)', () => new nn.AvgPool2d(2), [2, 3, 6, 6]],
  ['AdaptiveAvgPool2d', 'nn.AdaptiveAvgPool2d((2, 3))', () => new nn.AdaptiveAvgPool2d([2, 3]), [2, 3, 7, 7]],
  ['Flatten', 'nn.Flatten()', () => new nn.Flatten(), [2, 3, 4]],
  ['ReLU', 'nn.ReLU()', () => new nn.ReLU(), [3, 4]],
  ['GELU tanh', "nn.GELU(approximate='tanh')", () => new nn.GELU('tanh'), [3, 4]],
  ['SiLU', 'nn.SiLU()', () => new nn.SiLU(), [3, 4]],
  ['Sigmoid', 'nn.Sigmoid()', () => new nn.Sigmoid(), [3, 4]],
  ['Tanh', 'nn.Tanh()', () => new nn.Tanh(), [3, 4]],
  ['LeakyReLU', 'nn.LeakyReLU(0.2)', () => new nn.LeakyReLU(0.2), [3, 4]],
  ['Softmax', 'nn.Softmax(dim=1)', () => new nn.Softmax(1), [3, 4]],
  ['LogSoftmax', 'nn.LogSoftmax(dim=0)', () => new nn.LogSoftmax(0), [3, 4]],
];

const SEQ = (n) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 1.3 + 0.5) * 1000) / 1000);

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, torch, torch.nn as nn
torch.set_num_threads(1)
d = json.load(sys.stdin)
out = {}
for name, ctor, shape in d['layers']:
    res = {}
    for mode in ('train', 'eval'):
        torch.manual_seed(0)
        m = eval(ctor)
        res['repr'] = str(m)
        m.train(mode == 'train')
        n = 1
        for s in shape: n *= s
        x = torch.tensor([round(__import__('math').sin(i * 1.3 + 0.5) * 1000) / 1000 for i in range(n)]).reshape(shape).requires_grad_()
        torch.manual_seed(1)
        y = m(x)
        w = torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()
        (y * w).sum().backward()
        res[mode] = {'y': y.detach().reshape(-1).tolist(), 'gx': x.grad.reshape(-1).tolist(),
                     'gw': {k: p.grad.reshape(-1).tolist() for k, p in m.named_parameters()},
                     'buffers': {k: b.reshape(-1).tolist() for k, b in m.named_buffers()}}
    out[name] = res
print(json.dumps(out))
`,
    { layers: LAYERS.map(([name, ctor, , shape]) => [name, ctor, shape]) },
  );
});

const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
function close(a, b, what) {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= 1e-5 + 1e-4 * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
}

for (const [name, , make, shape] of LAYERS) {
  test(`${name}: output, input and weight gradients, buffers and repr equal PyTorch (train and eval)`, () => {
    for (const mode of ['train', 'eval']) {
      torch.tidy(() => {
        torch.manualSeed(0);
        const m = make();
        assert.equal(String(m), py[name].repr, 'repr');
        m.train(mode === 'train');
        const n = shape.reduce((a, b) => a * b, 1);
        const x = torch.tensor(SEQ(n), { dtype: 'float32' }).reshape(shape).requiresGrad_();
        torch.manualSeed(1);
        const y = m.call(x);
        y.mul(torch.arange(y.numel(), { dtype: y.dtype }).reshape(y.shape).cos())
          .sum()
          .backward();
        const want = py[name][mode];
        close(flat(y), want.y, `${mode} output`);
        close(flat(x.grad), want.gx, `${mode} input gradient`);
        for (const [k, p] of m.namedParameters()) close(flat(p.grad), want.gw[k], `${mode} grad of ${k}`);
        for (const [k, b] of m.namedBuffers()) close(flat(b), want.buffers[k], `${mode} buffer ${k}`);
        m.dispose();
      });
    }
  });
}

test('BatchNorm in training refuses one value per channel, as PyTorch does; eval accepts it', () => {
  const bn = new torch.nn.BatchNorm2d(4);
  torch.tidy(() => {
    assert.throws(() => bn.call(torch.randn(1, 4, 1, 1)), /expected more than 1 value per channel when training, got input size \[1, 4, 1, 1\]/);
    assert.throws(() => torch.nn.functional.batchNorm(torch.randn(1, 3), null, null, { training: true }), /more than 1 value per channel/);
    assert.deepEqual(bn.call(torch.randn(2, 4, 1, 1)).shape, [2, 4, 1, 1]);
    bn.eval();
    assert.deepEqual(bn.call(torch.randn(1, 4, 1, 1)).shape, [1, 4, 1, 1]);
  });
  bn.dispose();
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
