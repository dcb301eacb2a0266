'use strict';
// torch.nn.functional against Python PyTorch: forward outputs and input/weight gradients on the same
// data (test/helpers/golden.js). Tolerance: rtol 1e-5, atol 1e-6 unless a case states otherwise
// (convolutions and norms: atol 1e-5, as their summation order may differ by a few ulps).
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { goldenSuite } = require('./helpers/golden');

const F = torch.nn.functional;
const baseline = torch.memory().liveTensors;
const G = (shape, extra = {}) => ({ shape, requiresGrad: true, ...extra });
const IMG = G([2, 3, 6, 6]);
const CONV = { atol: 1e-5, rtol: 1e-4 };

/** `out = [y, a.grad, b.grad...]` after y.sum().backward() (weights make the sum non-trivial). */
const withGrads = (expr, names) =>
  `y = ${expr}\n(y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum().backward()\nout = [y, ${names.map((n) => `${n}.grad`).join(', ')}]`;
const jsGrads = (y, ts) => {
  y.mul(torch.arange(y.numel(), { dtype: y.dtype }).reshape(y.shape).cos())
    .sum()
    .backward();
  return [y, ...ts.map((t) => t.grad)];
};

const cases = [
  // ---- layers ----------------------------------------------------------------------------------
  {
    name: 'linear with grads',
    inputs: { x: G([4, 3]), w: G([5, 3]), b: G([5]) },
    py: withGrads('F.linear(x, w, b)', ['x', 'w', 'b']),
    js: (t, { x, w, b }) => jsGrads(F.linear(x, w, b), [x, w, b]),
  },
  { name: 'linear no bias, batched', inputs: { x: { shape: [2, 4, 3] }, w: { shape: [5, 3] } }, py: 'F.linear(x, w)', js: (t, { x, w }) => F.linear(x, w) },
  {
    name: 'bilinear',
    inputs: { a: { shape: [4, 3] }, b: { shape: [4, 2] }, w: { shape: [5, 3, 2] }, c: { shape: [5] } },
    py: 'F.bilinear(a, b, w, c)',
    js: (t, { a, b, w, c }) => F.bilinear(a, b, w, c),
  },
  {
    name: 'conv2d with grads',
    ...CONV,
    inputs: { x: IMG, w: G([4, 3, 3, 3]), b: G([4]) },
    py: withGrads('F.conv2d(x, w, b)', ['x', 'w', 'b']),
    js: (t, { x, w, b }) => jsGrads(F.conv2d(x, w, b), [x, w, b]),
  },
  {
    name: 'conv2d stride 2 padding 1',
    ...CONV,
    inputs: { x: IMG, w: { shape: [4, 3, 3, 3] } },
    py: 'F.conv2d(x, w, stride=2, padding=1)',
    js: (t, { x, w }) => F.conv2d(x, w, null, { stride: 2, padding: 1 }),
  },
  {
    name: 'conv2d padding same dilation 2',
    ...CONV,
    inputs: { x: IMG, w: { shape: [2, 3, 3, 3] } },
    py: "F.conv2d(x, w, padding='same', dilation=2)",
    js: (t, { x, w }) => F.conv2d(x, w, null, { padding: 'same', dilation: 2 }),
  },
  {
    name: 'conv2d groups',
    ...CONV,
    inputs: { x: { shape: [1, 4, 5, 5] }, w: { shape: [6, 2, 3, 3] } },
    py: 'F.conv2d(x, w, groups=2)',
    js: (t, { x, w }) => F.conv2d(x, w, null, { groups: 2 }),
  },
  {
    name: 'conv2d asymmetric stride/padding',
    ...CONV,
    inputs: { x: IMG, w: { shape: [2, 3, 3, 2] } },
    py: 'F.conv2d(x, w, stride=(2, 1), padding=(0, 1))',
    js: (t, { x, w }) => F.conv2d(x, w, null, { stride: [2, 1], padding: [0, 1] }),
  },
  {
    name: 'conv1d',
    ...CONV,
    inputs: { x: { shape: [2, 3, 10] }, w: { shape: [4, 3, 3] }, b: { shape: [4] } },
    py: 'F.conv1d(x, w, b, stride=2)',
    js: (t, { x, w, b }) => F.conv1d(x, w, b, { stride: 2 }),
  },
  {
    name: 'convTranspose2d',
    ...CONV,
    inputs: { x: { shape: [1, 3, 4, 4] }, w: { shape: [3, 2, 3, 3] }, b: { shape: [2] } },
    py: 'F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)',
    js: (t, { x, w, b }) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
  },
  { name: 'maxPool2d with grads', inputs: { x: IMG }, py: withGrads('F.max_pool2d(x, 2)', ['x']), js: (t, { x }) => jsGrads(F.maxPool2d(x, 2), [x]) },
  {
    name: 'maxPool2d 3/2/1 ceil',
    inputs: { x: { shape: [1, 2, 7, 7] } },
    py: 'F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)',
    js: (t, { x }) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
  },
  {
    name: 'avgPool2d',
    inputs: { x: IMG },
    py: 'F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)',
    js: (t, { x }) => F.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }),
  },
  { name: 'adaptiveAvgPool2d 1', inputs: { x: IMG }, py: 'F.adaptive_avg_pool2d(x, 1)', js: (t, { x }) => F.adaptiveAvgPool2d(x, 1) },
  {
    name: 'adaptiveAvgPool2d (2, 3) with grads',
    inputs: { x: IMG },
    py: withGrads('F.adaptive_avg_pool2d(x, (2, 3))', ['x']),
    js: (t, { x }) => jsGrads(F.adaptiveAvgPool2d(x, [2, 3]), [x]),
  },
  {
    name: 'dropout seeded',
    seed: 11,
    inputs: { x: { shape: [4, 6] } },
    py: 'torch.manual_seed(11); out = F.dropout(x, 0.3)',
    js: (t, { x }) => (t.manualSeed(11), F.dropout(x, { p: 0.3 })),
  },
  {
    name: 'dropout eval is identity',
    inputs: { x: { shape: [4, 6] } },
    py: 'F.dropout(x, 0.3, training=False)',
    js: (t, { x }) => F.dropout(x, { p: 0.3, training: false }),
  },
  {
    name: 'dropout2d seeded',
    seed: 12,
    inputs: { x: { shape: [2, 4, 3, 3] } },
    py: 'torch.manual_seed(12); out = F.dropout2d(x, 0.5)',
    js: (t, { x }) => (t.manualSeed(12), F.dropout2d(x, { p: 0.5 })),
  },
  {
    name: 'batchNorm training updates running stats',
    atol: 1e-5,
    inputs: { x: IMG, rm: { shape: [3], data: [0, 0, 0] }, rv: { shape: [3], data: [1, 1, 1] }, w: { shape: [3] }, b: { shape: [3] } },
    py: 'y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1)\nout = [y, rm, rv]',
    js: (t, { x, rm, rv, w, b }) => [F.batchNorm(x, rm, rv, { weight: w, bias: b, training: true, momentum: 0.1 }), rm, rv],
  },
  {
    name: 'batchNorm eval with grads',
    atol: 1e-5,
    inputs: { x: IMG, rm: { shape: [3] }, rv: { shape: [3], kind: 'pos' }, w: G([3]), b: G([3]) },
    py: withGrads('F.batch_norm(x, rm, rv, w, b, training=False)', ['x', 'w', 'b']),
    js: (t, { x, rm, rv, w, b }) => jsGrads(F.batchNorm(x, rm, rv, { weight: w, bias: b }), [x, w, b]),
  },
  {
    name: 'layerNorm with grads',
    atol: 1e-5,
    inputs: { x: G([2, 3, 4]), w: G([4]), b: G([4]) },
    py: withGrads('F.layer_norm(x, (4,), w, b)', ['x', 'w', 'b']),
    js: (t, { x, w, b }) => jsGrads(F.layerNorm(x, [4], { weight: w, bias: b }), [x, w, b]),
  },
  {
    name: 'groupNorm',
    atol: 1e-5,
    inputs: { x: { shape: [2, 4, 3, 3] }, w: { shape: [4] }, b: { shape: [4] } },
    py: 'F.group_norm(x, 2, w, b)',
    js: (t, { x, w, b }) => F.groupNorm(x, 2, { weight: w, bias: b }),
  },
  {
    name: 'embedding',
    inputs: { w: { shape: [6, 3] } },
    py: 'F.embedding(torch.tensor([[0, 5], [2, 2]]), w)',
    js: (t, { w }) =>
      F.embedding(
        t.tensor([
          [0, 5],
          [2, 2],
        ]),
        w,
      ),
  },
  {
    name: 'embedding paddingIdx grads',
    inputs: { w: G([5, 2]) },
    py: withGrads('F.embedding(torch.tensor([0, 1, 1, 4]), w, padding_idx=1)', ['w']),
    js: (t, { w }) => jsGrads(F.embedding(t.tensor([0, 1, 1, 4]), w, { paddingIdx: 1 }), [w]),
  },
  {
    name: 'pad constant',
    inputs: { x: { shape: [1, 2, 3, 3] } },
    py: 'F.pad(x, (1, 2, 0, 1), value=0.5)',
    js: (t, { x }) => F.pad(x, [1, 2, 0, 1], { value: 0.5 }),
  },
  {
    name: 'pad reflect',
    inputs: { x: { shape: [1, 2, 4, 4] } },
    py: "F.pad(x, (1, 1, 2, 0), mode='reflect')",
    js: (t, { x }) => F.pad(x, [1, 1, 2, 0], { mode: 'reflect' }),
  },
  {
    name: 'pad replicate',
    inputs: { x: { shape: [1, 2, 4, 4] } },
    py: "F.pad(x, (2, 1, 1, 1), mode='replicate')",
    js: (t, { x }) => F.pad(x, [2, 1, 1, 1], { mode: 'replicate' }),
  },
  {
    name: 'interpolate nearest size',
    inputs: { x: { shape: [1, 2, 3, 4] } },
    py: 'F.interpolate(x, size=(5, 7))',
    js: (t, { x }) => F.interpolate(x, { size: [5, 7] }),
  },
  {
    name: 'interpolate bilinear scale',
    inputs: { x: { shape: [1, 2, 3, 4] } },
    py: "F.interpolate(x, scale_factor=2, mode='bilinear')",
    js: (t, { x }) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }),
  },
  {
    name: 'interpolate bilinear align corners',
    inputs: { x: { shape: [1, 1, 4, 4] } },
    py: "F.interpolate(x, size=7, mode='bilinear', align_corners=True)",
    js: (t, { x }) => F.interpolate(x, { size: 7, mode: 'bilinear', alignCorners: true }),
  },

  // ---- activations -------------------------------------------------------------------------------
  { name: 'elu', inputs: { x: { shape: [2, 5] } }, py: 'F.elu(x, 0.7)', js: (t, { x }) => F.elu(x, 0.7) },
  { name: 'hardtanh', inputs: { x: { shape: [2, 5] } }, py: 'F.hardtanh(x, -0.5, 0.5)', js: (t, { x }) => F.hardtanh(x, -0.5, 0.5) },
  { name: 'softplus', inputs: { x: { shape: [2, 5] } }, py: 'F.softplus(x, beta=2)', js: (t, { x }) => F.softplus(x, 2) },
  { name: 'logSigmoid', inputs: { x: { shape: [2, 5] } }, py: 'F.logsigmoid(x)', js: (t, { x }) => F.logSigmoid(x) },
  { name: 'oneHot', py: 'F.one_hot(torch.tensor([0, 3, 1]), 5)', js: (t) => F.oneHot(t.tensor([0, 3, 1]), 5) },
  {
    name: 'activation functions',
    inputs: { x: { shape: [3, 4] } },
    py: '[F.relu(x), F.sigmoid(x), F.tanh(x), F.silu(x), F.gelu(x), F.softmax(x, 1), F.log_softmax(x, 0), F.leaky_relu(x, 0.1)]',
    js: (t, { x }) => [F.relu(x), F.sigmoid(x), F.tanh(x), F.silu(x), F.gelu(x), F.softmax(x, 1), F.logSoftmax(x, 0), F.leakyRelu(x, 0.1)],
  },

  // ---- losses ------------------------------------------------------------------------------------
  {
    name: 'crossEntropy with grads',
    inputs: { x: G([4, 5]) },
    py: withGrads('F.cross_entropy(x, torch.tensor([0, 4, 2, 1]))', ['x']),
    js: (t, { x }) => jsGrads(F.crossEntropy(x, t.tensor([0, 4, 2, 1])), [x]),
  },
  {
    name: 'crossEntropy weights ignoreIndex',
    inputs: { x: { shape: [5, 3] }, w: { shape: [3], kind: 'pos' } },
    py: 'F.cross_entropy(x, torch.tensor([0, 2, -100, 1, 2]), weight=w)',
    js: (t, { x, w }) => F.crossEntropy(x, t.tensor([0, 2, -100, 1, 2]), { weight: w }),
  },
  {
    name: 'crossEntropy ignoreIndex custom + sum',
    inputs: { x: { shape: [4, 3] } },
    py: "F.cross_entropy(x, torch.tensor([0, 2, 1, 1]), ignore_index=1, reduction='sum')",
    js: (t, { x }) => F.crossEntropy(x, t.tensor([0, 2, 1, 1]), { ignoreIndex: 1, reduction: 'sum' }),
  },
  {
    name: 'crossEntropy label smoothing none',
    inputs: { x: { shape: [4, 3] } },
    py: "F.cross_entropy(x, torch.tensor([0, 2, 1, 1]), label_smoothing=0.1, reduction='none')",
    js: (t, { x }) => F.crossEntropy(x, t.tensor([0, 2, 1, 1]), { labelSmoothing: 0.1, reduction: 'none' }),
  },
  {
    name: 'crossEntropy probability targets',
    inputs: { x: { shape: [3, 4] }, p: { shape: [3, 4], kind: 'uniform' } },
    py: 'F.cross_entropy(x, p)',
    js: (t, { x, p }) => F.crossEntropy(x, p),
  },
  {
    name: 'crossEntropy spatial',
    inputs: { x: { shape: [2, 3, 2, 2] } },
    py: 'F.cross_entropy(x, torch.tensor([[[0, 1], [2, 0]], [[1, 1], [0, 2]]]))',
    js: (t, { x }) =>
      F.crossEntropy(
        x,
        t.tensor([
          [
            [0, 1],
            [2, 0],
          ],
          [
            [1, 1],
            [0, 2],
          ],
        ]),
      ),
  },
  {
    name: 'nllLoss',
    inputs: { x: { shape: [4, 3] } },
    py: 'F.nll_loss(F.log_softmax(x, 1), torch.tensor([0, 2, 1, 1]))',
    js: (t, { x }) => F.nllLoss(F.logSoftmax(x, 1), t.tensor([0, 2, 1, 1])),
  },
  {
    name: 'mseLoss with grads',
    inputs: { x: G([3, 4]), y: { shape: [3, 4] } },
    py: withGrads('F.mse_loss(x, y)', ['x']),
    js: (t, { x, y }) => jsGrads(F.mseLoss(x, y), [x]),
  },
  {
    name: 'mseLoss none',
    inputs: { x: { shape: [3, 4] }, y: { shape: [3, 4] } },
    py: "F.mse_loss(x, y, reduction='none')",
    js: (t, { x, y }) => F.mseLoss(x, y, { reduction: 'none' }),
  },
  {
    name: 'l1Loss sum',
    inputs: { x: { shape: [3, 4] }, y: { shape: [3, 4] } },
    py: "F.l1_loss(x, y, reduction='sum')",
    js: (t, { x, y }) => F.l1Loss(x, y, { reduction: 'sum' }),
  },
  {
    name: 'smoothL1Loss beta',
    inputs: { x: { shape: [3, 4] }, y: { shape: [3, 4] } },
    py: 'F.smooth_l1_loss(x, y, beta=0.5)',
    js: (t, { x, y }) => F.smoothL1Loss(x, y, { beta: 0.5 }),
  },
  {
    name: 'binaryCrossEntropy weighted',
    inputs: { p: { shape: [6], kind: 'uniform' }, y: { shape: [6], kind: 'bool', dtype: 'float32' }, w: { shape: [6], kind: 'pos' } },
    py: 'F.binary_cross_entropy(p.clamp(0.01, 0.99), y, weight=w)',
    js: (t, { p, y, w }) => F.binaryCrossEntropy(p.clamp(0.01, 0.99), y, { weight: w }),
  },
  {
    name: 'binaryCrossEntropyWithLogits posWeight grads',
    inputs: { x: G([3, 2]), y: { shape: [3, 2], kind: 'bool', dtype: 'float32' }, pw: { shape: [2], kind: 'pos' } },
    py: withGrads('F.binary_cross_entropy_with_logits(x, y, pos_weight=pw)', ['x']),
    js: (t, { x, y, pw }) => jsGrads(F.binaryCrossEntropyWithLogits(x, y, { posWeight: pw }), [x]),
  },
  {
    name: 'klDiv batchmean',
    inputs: { x: { shape: [3, 4] }, p: { shape: [3, 4] } },
    py: "F.kl_div(F.log_softmax(x, 1), F.softmax(p, 1), reduction='batchmean')",
    js: (t, { x, p }) => F.klDiv(F.logSoftmax(x, 1), F.softmax(p, 1), { reduction: 'batchmean' }),
  },
  {
    name: 'klDiv logTarget sum',
    inputs: { x: { shape: [3, 4] }, p: { shape: [3, 4] } },
    py: "F.kl_div(F.log_softmax(x, 1), F.log_softmax(p, 1), reduction='sum', log_target=True)",
    js: (t, { x, p }) => F.klDiv(F.logSoftmax(x, 1), F.logSoftmax(p, 1), { reduction: 'sum', logTarget: true }),
  },

  // ---- errors both sides agree on ------------------------------------------------------------------
  {
    name: 'error: conv2d channel mismatch',
    inputs: { x: IMG, w: { shape: [4, 2, 3, 3] } },
    py: 'F.conv2d(x, w)',
    js: (t, { x, w }) => F.conv2d(x, w),
    error: /expected input\[2, 3, 6, 6\] to have 2 channels, but got 3 channels/,
  },
  {
    name: 'error: crossEntropy target out of range',
    inputs: { x: { shape: [2, 3] } },
    py: 'F.cross_entropy(x, torch.tensor([0, 5]))',
    js: (t, { x }) => F.crossEntropy(x, t.tensor([0, 5])),
    error: /Target 5 is out of bounds/,
  },
  {
    name: 'error: linear shape mismatch',
    inputs: { x: { shape: [2, 3] }, w: { shape: [4, 5] } },
    py: 'F.linear(x, w)',
    js: (t, { x, w }) => F.linear(x, w),
    error: /cannot be multiplied/,
  },
];

goldenSuite(test, torch, cases);

test('argument checks name the parameter and what it accepts', () => {
  torch.tidy(() => {
    const x = torch.randn(1, 3, 4, 4);
    const w = torch.randn(2, 3, 3, 3);
    assert.throws(
      () => F.conv2d(x, w, null, { stride: -1 }),
      /conv2d\(\): argument 'stride' must be a non-negative integer or an array of them, got number -1/,
    );
    assert.throws(() => F.conv2d(x, 'w'), /conv2d\(\): argument 'weight' must be a Tensor, got string "w"/);
    assert.throws(() => F.dropout(x, { p: 1.5 }), /dropout\(\): argument 'p' must be a probability between 0 and 1, got number 1\.5/);
    assert.throws(() => F.mseLoss(x, x, { reduction: 'avg' }), /mseLoss\(\): argument 'reduction' must be 'none', 'mean' or 'sum', got string "avg"/);
    assert.throws(() => F.interpolate(x, {}), /interpolate\(\): give exactly one of 'size' and 'scaleFactor'/);
    assert.throws(() => F.pad(x, [1, 2, 3]), /pad\(\): argument 'pad' must be an array of integers of even length/);
    assert.throws(() => F.batchNorm(x, null, null), /'runningMean' and 'runningVar' are needed when training is false/);
  });
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
