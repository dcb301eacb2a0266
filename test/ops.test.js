'use strict';
// Golden tests of tensor ops against Python PyTorch (test/helpers/golden.js): the same input data on
// both sides; shapes, dtypes and values must match (floats: rtol 1e-5, atol 1e-6 unless a case says).
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { goldenSuite } = require('./helpers/golden');

const baseline = torch.memory().liveTensors;

const A = { shape: [2, 3] };
const B = { shape: [2, 3] };
const ROW = { shape: [3] };
const COL = { shape: [2, 1] };
const POS = { shape: [2, 3], kind: 'pos' };
const INT = { shape: [2, 3], kind: 'int' };
const INT2 = { shape: [2, 3], kind: 'int' };
const M34 = { shape: [3, 4] };
const X3 = { shape: [2, 3, 4] };
const s = torch.slice;

const cases = [
  // ---- creation -------------------------------------------------------------------------------
  { name: 'zeros', py: 'torch.zeros(2, 3)', js: (t) => t.zeros(2, 3) },
  { name: 'zeros array shape + dtype', py: 'torch.zeros((2, 3), dtype=torch.float64)', js: (t) => t.zeros([2, 3], { dtype: 'float64' }) },
  { name: 'ones int32', py: 'torch.ones(4, dtype=torch.int32)', js: (t) => t.ones(4, { dtype: 'int32' }) },
  { name: 'full float', py: 'torch.full((2, 2), 1.5)', js: (t) => t.full([2, 2], 1.5) },
  { name: 'full int infers int64', py: 'torch.full((3,), 7)', js: (t) => t.full([3], 7) },
  { name: 'full bool', py: 'torch.full((2,), True)', js: (t) => t.full([2], true) },
  { name: 'empty shape and dtype', py: 'torch.zeros(3, 2, dtype=torch.int16)', js: (t) => t.empty(3, 2, { dtype: 'int16' }).zero_() },
  { name: 'arange end', py: 'torch.arange(5)', js: (t) => t.arange(5) },
  { name: 'arange float step', py: 'torch.arange(1, 2, 0.25)', js: (t) => t.arange(1, 2, 0.25) },
  { name: 'arange int step', py: 'torch.arange(0, 10, 3)', js: (t) => t.arange(0, 10, 3) },
  { name: 'arange negative step', py: 'torch.arange(5, 0, -2)', js: (t) => t.arange(5, 0, -2) },
  { name: 'arange dtype', py: 'torch.arange(4, dtype=torch.float64)', js: (t) => t.arange(4, { dtype: 'float64' }) },
  { name: 'linspace', py: 'torch.linspace(-1, 1, 7)', js: (t) => t.linspace(-1, 1, 7) },
  { name: 'eye', py: 'torch.eye(3)', js: (t) => t.eye(3) },
  { name: 'eye n m', py: 'torch.eye(2, 4, dtype=torch.int64)', js: (t) => t.eye(2, 4, { dtype: 'int64' }) },
  { name: 'rand seeded', seed: 42, py: 'torch.manual_seed(42); out = torch.rand(3, 4)', js: (t) => (t.manualSeed(42), t.rand(3, 4)) },
  { name: 'randn seeded', seed: 7, py: 'torch.manual_seed(7); out = torch.randn(5, 3)', js: (t) => (t.manualSeed(7), t.randn(5, 3)) },
  { name: 'randint seeded', seed: 3, py: 'torch.manual_seed(3); out = torch.randint(0, 10, (4, 4))', js: (t) => (t.manualSeed(3), t.randint(0, 10, [4, 4])) },
  { name: 'randint high only', seed: 3, py: 'torch.manual_seed(3); out = torch.randint(6, (5,))', js: (t) => (t.manualSeed(3), t.randint(6, [5])) },
  { name: 'zerosLike', inputs: { a: INT }, py: 'torch.zeros_like(a)', js: (t, { a }) => t.zerosLike(a) },
  { name: 'onesLike dtype', inputs: { a: A }, py: 'torch.ones_like(a, dtype=torch.float64)', js: (t, { a }) => t.onesLike(a, { dtype: 'float64' }) },
  { name: 'fullLike', inputs: { a: A }, py: 'torch.full_like(a, 2.5)', js: (t, { a }) => t.fullLike(a, 2.5) },
  {
    name: 'randnLike seeded',
    seed: 5,
    inputs: { a: A },
    py: 'torch.manual_seed(5); out = torch.randn_like(a)',
    js: (t, { a }) => (t.manualSeed(5), t.randnLike(a)),
  },
  {
    name: 'tensor int inference',
    py: 'torch.tensor([[1, 2], [3, 4]])',
    js: (t) =>
      t.tensor([
        [1, 2],
        [3, 4],
      ]),
  },
  { name: 'tensor float inference', py: 'torch.tensor([1.5, -2.0, 3.25])', js: (t) => t.tensor([1.5, -2.0, 3.25]) },
  { name: 'tensor bool inference', py: 'torch.tensor([[True, False]])', js: (t) => t.tensor([[true, false]]) },
  { name: 'tensor scalar', py: 'torch.tensor(3.5)', js: (t) => t.tensor(3.5) },
  { name: 'tensor Float64Array', py: 'torch.tensor([0.1, 0.2], dtype=torch.float64)', js: (t) => t.tensor(new Float64Array([0.1, 0.2])) },
  { name: 'tensor Int32Array', py: 'torch.tensor([1, -2, 3], dtype=torch.int32)', js: (t) => t.tensor(new Int32Array([1, -2, 3])) },
  { name: 'tensor BigInt64Array', py: 'torch.tensor([2**40, -5])', js: (t) => t.tensor(new BigInt64Array([2n ** 40n, -5n])) },
  { name: 'tensor Uint8Array', py: 'torch.tensor([0, 200, 255], dtype=torch.uint8)', js: (t) => t.tensor(new Uint8Array([0, 200, 255])) },
  {
    name: 'fromTypedArray shape',
    py: 'torch.arange(6, dtype=torch.float32).reshape(2, 3)',
    js: (t) => t.fromTypedArray(new Float32Array([0, 1, 2, 3, 4, 5]), [2, 3]),
  },

  // ---- dtypes round trip (same data converted by both) ----------------------------------------------
  ...['float32', 'float64', 'float16', 'bfloat16', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'].map((d) => ({
    name: `dtype round trip ${d}`,
    py: `torch.tensor([0.0, 1.0, 2.7, 100.0, 3.14159], dtype=torch.float64).to(torch.${d})`,
    js: (t) => t.tensor([0.0, 1.0, 2.7, 100.0, 3.14159], { dtype: d }),
    rtol: 0,
    atol: 0,
  })),
  { name: 'to float16', inputs: { a: A }, py: 'a.to(torch.float16)', js: (t, { a }) => a.to('float16'), rtol: 0, atol: 0 },
  { name: 'to int32 truncates', inputs: { a: A }, py: 'a.to(torch.int32)', js: (t, { a }) => a.to('int32') },
  { name: 'to bool', inputs: { a: INT }, py: 'a.to(torch.bool)', js: (t, { a }) => a.bool() },
  { name: 'to options object', inputs: { a: INT }, py: 'a.to(dtype=torch.float64)', js: (t, { a }) => a.to({ dtype: 'float64', device: 'cpu' }) },
  { name: 'to other tensor', inputs: { a: INT, b: A }, py: 'a.to(b)', js: (t, { a, b }) => a.to(b) },

  // ---- views ----------------------------------------------------------------------------------------
  { name: 'reshape', strides: true, inputs: { a: X3 }, py: 'a.reshape(4, 6)', js: (t, { a }) => a.reshape(4, 6) },
  { name: 'reshape -1 array', strides: true, inputs: { a: X3 }, py: 'a.reshape([-1, 2])', js: (t, { a }) => a.reshape([-1, 2]) },
  { name: 'view', strides: true, inputs: { a: X3 }, py: 'a.view(2, 12)', js: (t, { a }) => a.view(2, 12) },
  { name: 'permute', strides: true, inputs: { a: X3 }, py: 'a.permute(2, 0, 1)', js: (t, { a }) => a.permute(2, 0, 1) },
  { name: 'transpose', strides: true, inputs: { a: X3 }, py: 'a.transpose(0, 2)', js: (t, { a }) => a.transpose(0, 2) },
  { name: 't', strides: true, inputs: { a: A }, py: 'a.t()', js: (t, { a }) => a.t() },
  { name: 'T', strides: true, inputs: { a: X3 }, py: 'a.permute(2, 1, 0)', js: (t, { a }) => a.T },
  {
    name: 'contiguous after transpose',
    strides: true,
    inputs: { a: X3 },
    py: 'a.transpose(0, 1).contiguous()',
    js: (t, { a }) => a.transpose(0, 1).contiguous(),
  },
  { name: 'squeeze all', inputs: { a: { shape: [1, 3, 1, 2] } }, py: 'a.squeeze()', js: (t, { a }) => a.squeeze() },
  { name: 'squeeze dim', inputs: { a: { shape: [1, 3, 1, 2] } }, py: 'a.squeeze(2)', js: (t, { a }) => a.squeeze(2) },
  { name: 'squeeze dims', inputs: { a: { shape: [1, 3, 1, 2] } }, py: 'a.squeeze((0, 2))', js: (t, { a }) => a.squeeze([0, 2]) },
  { name: 'unsqueeze negative', inputs: { a: A }, py: 'a.unsqueeze(-1)', js: (t, { a }) => a.unsqueeze(-1) },
  { name: 'flatten', inputs: { a: X3 }, py: 'a.flatten()', js: (t, { a }) => a.flatten() },
  { name: 'flatten from 1', inputs: { a: X3 }, py: 'a.flatten(1)', js: (t, { a }) => a.flatten(1) },
  { name: 'unflatten', inputs: { a: X3 }, py: 'a.unflatten(2, (2, 2))', js: (t, { a }) => a.unflatten(2, [2, 2]) },
  { name: 'expand', strides: true, inputs: { a: COL }, py: 'a.expand(2, 5)', js: (t, { a }) => a.expand(2, 5) },
  { name: 'expand -1', strides: true, inputs: { a: COL }, py: 'a.expand(3, -1, 4)', js: (t, { a }) => a.expand(3, -1, 4) },

  // ---- indexing -------------------------------------------------------------------------------------
  { name: 'select', strides: true, inputs: { a: X3 }, py: 'a.select(1, 2)', js: (t, { a }) => a.select(1, 2) },
  { name: 'select negative', inputs: { a: X3 }, py: 'a.select(-1, -1)', js: (t, { a }) => a.select(-1, -1) },
  { name: 'narrow', strides: true, inputs: { a: X3 }, py: 'a.narrow(2, 1, 2)', js: (t, { a }) => a.narrow(2, 1, 2) },
  { name: 'slice step', strides: true, inputs: { a: { shape: [10] } }, py: 'a[1:9:3]', js: (t, { a }) => a.slice(0, 1, 9, 3) },
  { name: 'index basic mixed', strides: true, inputs: { a: X3 }, py: 'a[0, 1:3, ::2]', js: (t, { a }) => a.index([0, s(1, 3), s(null, null, 2)]) },
  { name: 'index None and ellipsis', inputs: { a: X3 }, py: 'a[..., None, 1]', js: (t, { a }) => a.index(['...', null, 1]) },
  { name: 'index negative slice', inputs: { a: { shape: [6] } }, py: 'a[-4:-1]', js: (t, { a }) => a.index([s(-4, -1)]) },
  { name: 'index long tensor', inputs: { a: X3 }, py: 'a[torch.tensor([1, 0, 1])]', js: (t, { a }) => a.index(t.tensor([1, 0, 1])) },
  { name: 'index tensor on dim 1', inputs: { a: X3 }, py: 'a[:, torch.tensor([2, 0])]', js: (t, { a }) => a.index([s(), t.tensor([2, 0])]) },
  {
    name: 'index two tensors',
    inputs: { a: X3 },
    py: 'a[torch.tensor([0, 1]), :, torch.tensor([3, 2])]',
    js: (t, { a }) => a.index([t.tensor([0, 1]), s(), t.tensor([3, 2])]),
  },
  { name: 'index int then tensor', inputs: { a: X3 }, py: 'a[1, torch.tensor([0, 2])]', js: (t, { a }) => a.index([1, t.tensor([0, 2])]) },
  { name: 'boolean mask', inputs: { a: A, m: { shape: [2, 3], kind: 'bool' } }, py: 'a[m]', js: (t, { a, m }) => a.index(m) },
  { name: 'boolean mask on rows', inputs: { a: X3 }, py: 'a[torch.tensor([True, False])]', js: (t, { a }) => a.index(t.tensor([true, false])) },
  {
    name: 'gather',
    inputs: { a: A },
    py: 'a.gather(1, torch.tensor([[0, 0], [2, 1]]))',
    js: (t, { a }) =>
      a.gather(
        1,
        t.tensor([
          [0, 0],
          [2, 1],
        ]),
      ),
  },
  { name: 'indexSelect', inputs: { a: M34 }, py: 'a.index_select(1, torch.tensor([3, 0]))', js: (t, { a }) => a.indexSelect(1, t.tensor([3, 0])) },
  { name: 'maskedSelect', inputs: { a: A }, py: 'a.masked_select(a > 0)', js: (t, { a }) => a.maskedSelect(a.gt(0)) },
  { name: 'maskedFill', inputs: { a: A }, py: 'a.masked_fill(a < 0, -1.5)', js: (t, { a }) => a.maskedFill(a.lt(0), -1.5) },
  {
    name: 'indexPut_',
    inputs: { a: A },
    py: 'a.index_put_((torch.tensor([0, 1]), torch.tensor([2, 0])), torch.tensor(9.0))',
    js: (t, { a }) => a.indexPut_([t.tensor([0, 1]), t.tensor([2, 0])], 9),
  },

  // ---- joining and splitting -----------------------------------------------------------------------
  { name: 'cat dim 0', inputs: { a: A, b: B }, py: 'torch.cat([a, b])', js: (t, { a, b }) => t.cat([a, b]) },
  { name: 'cat dim 1', inputs: { a: A, b: B }, py: 'torch.cat([a, b], 1)', js: (t, { a, b }) => t.cat([a, b], 1) },
  { name: 'stack', inputs: { a: A, b: B }, py: 'torch.stack([a, b], 1)', js: (t, { a, b }) => t.stack([a, b], 1) },
  { name: 'split int', inputs: { a: { shape: [5, 2] } }, py: 'a.split(2)', js: (t, { a }) => a.split(2) },
  { name: 'split sizes', inputs: { a: { shape: [5, 2] } }, py: 'a.split([1, 4])', js: (t, { a }) => a.split([1, 4]) },
  { name: 'chunk', inputs: { a: { shape: [2, 7] } }, py: 'a.chunk(3, 1)', js: (t, { a }) => a.chunk(3, 1) },
  { name: 'unbind', inputs: { a: A }, py: 'a.unbind(1)', js: (t, { a }) => a.unbind(1) },

  // ---- pointwise with broadcasting and scalars ------------------------------------------------------
  ...['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'atan2'].flatMap((op) => [
    { name: `${op} same shape`, inputs: { a: A, b: B }, py: `torch.${op}(a, b)`, js: (t, { a, b }) => a[op](b) },
    { name: `${op} broadcast row`, inputs: { a: A, b: ROW }, py: `torch.${op}(a, b)`, js: (t, { a, b }) => a[op](b) },
    { name: `${op} broadcast col x row`, inputs: { a: COL, b: ROW }, py: `torch.${op}(a, b)`, js: (t, { a, b }) => a[op](b) },
  ]),
  { name: 'pow tensor', inputs: { a: POS, b: B }, py: 'a.pow(b)', js: (t, { a, b }) => a.pow(b) },
  { name: 'pow scalar', inputs: { a: A }, py: 'a ** 2', js: (t, { a }) => a.pow(2) },
  { name: 'pow fractional', inputs: { a: POS }, py: 'a ** 0.5', js: (t, { a }) => a.pow(0.5) },
  { name: 'remainder', inputs: { a: A, b: POS }, py: 'a.remainder(b)', js: (t, { a, b }) => a.remainder(b) },
  { name: 'fmod', inputs: { a: A, b: POS }, py: 'a.fmod(b)', js: (t, { a, b }) => a.fmod(b) },
  {
    name: 'floorDivide int',
    inputs: { a: INT, b: { shape: [3], data: [2, 3, -2], dtype: 'int64' } },
    py: 'torch.floor_divide(a, b)',
    js: (t, { a, b }) => a.floorDivide(b),
  },
  { name: 'add scalar', inputs: { a: A }, py: 'a + 2', js: (t, { a }) => a.add(2) },
  { name: 'add alpha', inputs: { a: A, b: B }, py: 'torch.add(a, b, alpha=0.5)', js: (t, { a, b }) => a.addScaled(b, 0.5) },
  { name: 'sub scalar', inputs: { a: A }, py: 'a - 1.25', js: (t, { a }) => a.sub(1.25) },
  { name: 'mul scalar', inputs: { a: A }, py: 'a * 2.5', js: (t, { a }) => a.mul(2.5) },
  { name: 'div scalar', inputs: { a: A }, py: 'a / 4', js: (t, { a }) => a.div(4) },
  { name: 'int div int is true division', inputs: { a: INT }, py: 'a / 2', js: (t, { a }) => a.div(2) },
  { name: 'int plus float scalar promotes', inputs: { a: INT }, py: 'a + 2.5', js: (t, { a }) => a.add(2.5) },
  { name: 'int times int scalar stays int', inputs: { a: INT }, py: 'a * 3', js: (t, { a }) => a.mul(3) },
  {
    name: 'int32 plus int64 promotes',
    inputs: { a: { shape: [3], kind: 'int', dtype: 'int32' }, b: { shape: [3], kind: 'int' } },
    py: 'a + b',
    js: (t, { a, b }) => a.add(b),
  },
  { name: 'float32 plus float64 promotes', inputs: { a: ROW, b: { shape: [3], dtype: 'float64' } }, py: 'a + b', js: (t, { a, b }) => a.add(b) },
  { name: 'div rounding floor', inputs: { a: A }, py: "torch.div(a, 0.7, rounding_mode='floor')", js: (t, { a }) => a.divMode(0.7, 'floor') },
  {
    name: 'div rounding trunc tensor',
    inputs: { a: INT, b: { shape: [3], data: [2, 3, -2], dtype: 'int64' } },
    py: "torch.div(a, b, rounding_mode='trunc')",
    js: (t, { a, b }) => a.divMode(b, 'trunc'),
  },
  { name: 'rsub', inputs: { a: A }, py: '3 - a', js: (t, { a }) => a.rsub(3) },
  { name: 'rdiv', inputs: { a: POS }, py: '2 / a', js: (t, { a }) => a.rdiv(2) },
  { name: 'rpow', inputs: { a: A }, py: '2 ** a', js: (t, { a }) => a.rpow(2) },
  ...['eq', 'ne', 'lt', 'le', 'gt', 'ge'].flatMap((op) => [
    { name: `${op} tensor`, inputs: { a: INT, b: INT2 }, py: `torch.${op}(a, b)`, js: (t, { a, b }) => a[op](b) },
    { name: `${op} scalar`, inputs: { a: INT }, py: `torch.${op}(a, 1)`, js: (t, { a }) => a[op](1) },
  ]),
  { name: 'logicalAnd', inputs: { a: INT, b: INT2 }, py: 'torch.logical_and(a, b)', js: (t, { a, b }) => a.logicalAnd(b) },
  { name: 'logicalOr', inputs: { a: INT, b: INT2 }, py: 'torch.logical_or(a, b)', js: (t, { a, b }) => a.logicalOr(b) },
  { name: 'logicalXor', inputs: { a: INT, b: INT2 }, py: 'torch.logical_xor(a, b)', js: (t, { a, b }) => a.logicalXor(b) },
  { name: 'logicalNot', inputs: { a: INT }, py: 'torch.logical_not(a)', js: (t, { a }) => a.logicalNot() },
  { name: 'bitwiseAnd', inputs: { a: INT, b: INT2 }, py: 'a & b', js: (t, { a, b }) => a.bitwiseAnd(b) },
  { name: 'bitwiseOr', inputs: { a: INT, b: INT2 }, py: 'a | b', js: (t, { a, b }) => a.bitwiseOr(b) },
  { name: 'bitwiseXor', inputs: { a: INT, b: INT2 }, py: 'a ^ b', js: (t, { a, b }) => a.bitwiseXor(b) },
  { name: 'bitwiseNot', inputs: { a: INT }, py: '~a', js: (t, { a }) => a.bitwiseNot() },
  { name: 'unary silu', inputs: { a: A }, py: 'F.silu(a)', js: (t, { a }) => a.silu() },
  ...[
    'neg',
    'abs',
    'exp',
    'sin',
    'cos',
    'tan',
    'tanh',
    'sigmoid',
    'relu',
    'floor',
    'ceil',
    'round',
    'sign',
    'square',
    'trunc',
    'erf',
    'atan',
    'sinh',
    'cosh',
    'frac',
    'expm1',
    'clone',
    'detach',
  ].map((op) => ({
    name: `unary ${op}`,
    inputs: { a: A },
    py: `torch.${op}(a)`,
    js: (t, { a }) => a[op](),
  })),
  ...[
    ['log', 'log'],
    ['sqrt', 'sqrt'],
    ['rsqrt', 'rsqrt'],
    ['log1p', 'log1p'],
    ['log2', 'log2'],
    ['log10', 'log10'],
    ['reciprocal', 'reciprocal'],
  ].map(([js, py]) => ({
    name: `unary ${js} (positive input)`,
    inputs: { a: POS },
    py: `torch.${py}(a)`,
    js: (t, { a }) => a[js](),
  })),
  { name: 'asin acos', inputs: { a: { shape: [5], kind: 'uniform' } }, py: 'torch.asin(a) + torch.acos(a)', js: (t, { a }) => a.asin().add(a.acos()) },
  {
    name: 'isnan isinf isfinite',
    py: "x = torch.tensor([1.0, float('nan'), float('inf'), -float('inf')]); out = [x.isnan(), x.isinf(), x.isfinite()]",
    js: (t) => {
      const x = t.tensor([1, NaN, Infinity, -Infinity], { dtype: 'float32' });
      return [x.isnan(), x.isinf(), x.isfinite()];
    },
  },
  { name: 'log of negative is nan', py: 'torch.log(torch.tensor([-1.0, 0.0]))', js: (t) => t.tensor([-1, 0], { dtype: 'float32' }).log() },
  { name: 'where tensors', inputs: { a: A, b: B }, py: 'torch.where(a > b, a, b)', js: (t, { a, b }) => t.where(a.gt(b), a, b) },
  { name: 'where scalar other', inputs: { a: A }, py: 'torch.where(a > 0, a, 0.0)', js: (t, { a }) => t.where(a.gt(0), a, 0) },
  { name: 'where scalar self', inputs: { a: A }, py: 'torch.where(a > 0, 1.0, a)', js: (t, { a }) => t.where(a.gt(0), 1, a) },
  { name: 'where broadcast', inputs: { a: A, c: { shape: [3], kind: 'bool' }, b: ROW }, py: 'torch.where(c, a, b)', js: (t, { a, b, c }) => t.where(c, a, b) },
  { name: 'clamp both', inputs: { a: A }, py: 'a.clamp(-0.5, 0.5)', js: (t, { a }) => a.clamp(-0.5, 0.5) },
  { name: 'clamp min only', inputs: { a: A }, py: 'a.clamp(min=0.1)', js: (t, { a }) => a.clamp(0.1) },
  { name: 'clamp max only', inputs: { a: A }, py: 'a.clamp(max=0.1)', js: (t, { a }) => a.clamp(null, 0.1) },
  { name: 'clamp tensors', inputs: { a: A, lo: ROW }, py: 'a.clamp(lo, lo + 1)', js: (t, { a, lo }) => a.clamp(lo, lo.add(1)) },

  // ---- in place ----------------------------------------------------------------------------------------
  { name: 'add_ tensor', inputs: { a: A, b: ROW }, py: 'a.add_(b)', js: (t, { a, b }) => a.add_(b) },
  { name: 'mul_ scalar', inputs: { a: A }, py: 'a.mul_(3)', js: (t, { a }) => a.mul_(3) },
  { name: 'sub_ div_ chain', inputs: { a: A }, py: 'a.sub_(1).div_(2)', js: (t, { a }) => a.sub_(1).div_(2) },
  { name: 'clamp_', inputs: { a: A }, py: 'a.clamp_(-0.2, 0.3)', js: (t, { a }) => a.clamp_(-0.2, 0.3) },
  { name: 'zero_', inputs: { a: A }, py: 'a.zero_()', js: (t, { a }) => a.zero_() },
  { name: 'fill_', inputs: { a: A }, py: 'a.fill_(0.75)', js: (t, { a }) => a.fill_(0.75) },
  { name: 'copy_ broadcast', inputs: { a: A, b: ROW }, py: 'a.copy_(b)', js: (t, { a, b }) => a.copy_(b) },
  {
    name: 'unary in place',
    inputs: { a: POS },
    py: 'a.log_().neg_().exp_().sqrt_().tanh_().sigmoid_()',
    js: (t, { a }) => a.log_().neg_().exp_().sqrt_().tanh_().sigmoid_(),
  },
  { name: 'relu_ abs_', inputs: { a: A }, py: 'a.abs_().neg_().relu_()', js: (t, { a }) => a.abs_().neg_().relu_() },
  {
    name: 'in place through a view changes the base',
    inputs: { a: A },
    py: 'v = a[0]; v.mul_(10); out = a',
    js: (t, { a }) => {
      a.select(0, 0).mul_(10);
      return a;
    },
  },

  // ---- matrix products ------------------------------------------------------------------------------
  { name: 'matmul 2d', inputs: { a: A, b: M34 }, py: 'a @ b', js: (t, { a, b }) => a.matmul(b) },
  { name: 'matmul batched broadcast', inputs: { a: X3, b: { shape: [4, 5] } }, py: 'a @ b', js: (t, { a, b }) => a.matmul(b) },
  { name: 'matmul 1d dot', inputs: { a: ROW, b: ROW }, py: 'a @ a', js: (t, { a }) => a.matmul(a) },
  { name: 'matmul matrix vector', inputs: { a: A, b: ROW }, py: 'a @ b', js: (t, { a, b }) => a.matmul(b) },
  { name: 'mm', inputs: { a: A, b: M34 }, py: 'torch.mm(a, b)', js: (t, { a, b }) => t.mm(a, b) },
  { name: 'bmm', inputs: { a: X3, b: { shape: [2, 4, 3] } }, py: 'torch.bmm(a, b)', js: (t, { a, b }) => a.bmm(b) },
  { name: 'matmul float64', inputs: { a: { shape: [3, 3], dtype: 'float64' } }, py: 'a @ a', js: (t, { a }) => a.matmul(a) },

  // ---- reductions --------------------------------------------------------------------------------------
  { name: 'sum all', inputs: { a: X3 }, py: 'a.sum()', js: (t, { a }) => a.sum() },
  { name: 'sum dim', inputs: { a: X3 }, py: 'a.sum(1)', js: (t, { a }) => a.sum(1) },
  { name: 'sum dims keepdim', inputs: { a: X3 }, py: 'a.sum((0, 2), keepdim=True)', js: (t, { a }) => a.sum([0, 2], true) },
  { name: 'sum negative dim', inputs: { a: X3 }, py: 'a.sum(-1)', js: (t, { a }) => a.sum(-1) },
  { name: 'sum int gives int64', inputs: { a: { shape: [4], kind: 'int', dtype: 'int32' } }, py: 'a.sum()', js: (t, { a }) => a.sum() },
  { name: 'sum dtype', inputs: { a: A }, py: 'a.sum(dtype=torch.float64)', js: (t, { a }) => a.sum(null, { dtype: 'float64' }) },
  { name: 'mean all', inputs: { a: X3 }, py: 'a.mean()', js: (t, { a }) => a.mean() },
  { name: 'mean dim keepdim', inputs: { a: X3 }, py: 'a.mean(2, keepdim=True)', js: (t, { a }) => a.mean(2, { keepdim: true }) },
  { name: 'prod', inputs: { a: POS }, py: 'a.prod()', js: (t, { a }) => a.prod() },
  { name: 'prod dim', inputs: { a: POS }, py: 'a.prod(1)', js: (t, { a }) => a.prod(1) },
  { name: 'max all', inputs: { a: X3 }, py: 'a.max()', js: (t, { a }) => a.max() },
  { name: 'max dim', inputs: { a: X3 }, py: 'tuple(a.max(1))', js: (t, { a }) => a.max(1) },
  { name: 'max dim keepdim', inputs: { a: X3 }, py: 'tuple(a.max(-1, keepdim=True))', js: (t, { a }) => a.max(-1, true) },
  { name: 'max other', inputs: { a: A, b: B }, py: 'torch.max(a, b)', js: (t, { a, b }) => a.max(b) },
  { name: 'min all', inputs: { a: X3 }, py: 'a.min()', js: (t, { a }) => a.min() },
  { name: 'min dim', inputs: { a: X3 }, py: 'tuple(a.min(0))', js: (t, { a }) => a.min(0) },
  { name: 'argmax all', inputs: { a: X3 }, py: 'a.argmax()', js: (t, { a }) => a.argmax() },
  { name: 'argmax dim keepdim', inputs: { a: X3 }, py: 'a.argmax(1, keepdim=True)', js: (t, { a }) => a.argmax(1, true) },
  { name: 'argmin dim', inputs: { a: X3 }, py: 'a.argmin(2)', js: (t, { a }) => a.argmin(2) },
  { name: 'std all', inputs: { a: X3 }, py: 'a.std()', js: (t, { a }) => a.std() },
  { name: 'std dim', inputs: { a: X3 }, py: 'a.std(1)', js: (t, { a }) => a.std(1) },
  {
    name: 'std unbiased false keepdim',
    inputs: { a: X3 },
    py: 'a.std(2, unbiased=False, keepdim=True)',
    js: (t, { a }) => a.std(2, { unbiased: false, keepdim: true }),
  },
  { name: 'var', inputs: { a: X3 }, py: 'a.var()', js: (t, { a }) => a.var() },
  { name: 'var correction 0 dims', inputs: { a: X3 }, py: 'a.var((0, 1), correction=0)', js: (t, { a }) => a.var([0, 1], { correction: 0 }) },
  { name: 'norm', inputs: { a: X3 }, py: 'a.norm()', js: (t, { a }) => a.norm() },
  { name: 'norm p1 dim', inputs: { a: X3 }, py: 'a.norm(1, dim=1)', js: (t, { a }) => a.norm(1, 1) },
  { name: 'norm dim keepdim', inputs: { a: X3 }, py: 'a.norm(dim=(1, 2), keepdim=True)', js: (t, { a }) => a.norm(2, [1, 2], true) },
  { name: 'logsumexp', inputs: { a: X3 }, py: 'a.logsumexp(1)', js: (t, { a }) => a.logsumexp(1) },
  { name: 'cumsum', inputs: { a: A }, py: 'a.cumsum(1)', js: (t, { a }) => a.cumsum(1) },
  {
    name: 'all any',
    inputs: { a: { shape: [2, 3], kind: 'bool' } },
    py: '[a.all(), a.any(), a.all(1), a.any(0)]',
    js: (t, { a }) => [a.all(), a.any(), a.all(1), a.any(0)],
  },
  { name: 'sort', inputs: { a: A }, py: 'tuple(a.sort(1))', js: (t, { a }) => a.sort(1) },
  { name: 'sort descending', inputs: { a: ROW }, py: 'tuple(a.sort(descending=True))', js: (t, { a }) => a.sort(-1, true) },
  { name: 'topk', inputs: { a: M34 }, py: 'tuple(a.topk(2))', js: (t, { a }) => a.topk(2) },
  // (values, indices) named tuples: destructured, and each field by name, as Python's torch.return_types
  {
    name: 'max dim destructured',
    inputs: { a: X3 },
    py: 'values, indices = a.max(1)\nout = [indices, values]',
    js: (t, { a }) => {
      const [values, indices] = a.max(1);
      return [indices, values];
    },
  },
  { name: 'max dim .values', inputs: { a: X3 }, py: 'a.max(1).values', js: (t, { a }) => a.max(1).values },
  { name: 'max dim .indices', inputs: { a: X3 }, py: 'a.max(1, keepdim=True).indices', js: (t, { a }) => a.max(1, true).indices },
  {
    name: 'min dim fields',
    inputs: { a: X3 },
    py: 'r = a.min(-1)\nout = [r.values, r.indices]',
    js: (t, { a }) => {
      const r = a.min(-1);
      return [r.values, r.indices];
    },
  },
  {
    name: 'sort fields and destructuring',
    inputs: { a: A },
    py: 'v, i = a.sort(1, descending=True)\nout = [v, i, a.sort(1, descending=True).indices]',
    js: (t, { a }) => {
      const [v, i] = a.sort(1, true);
      return [v, i, a.sort(1, true).indices];
    },
  },
  {
    name: 'topk fields',
    inputs: { a: M34 },
    py: 'r = a.topk(2, dim=0, largest=False)\nout = [r.values, r.indices]',
    js: (t, { a }) => {
      const r = a.topk(2, 0, false);
      return [r.values, r.indices];
    },
  },
  {
    name: 'torch.max(input, dim) named tuple',
    inputs: { a: X3 },
    py: 'v, i = torch.max(a, 2)\nout = [v, i, torch.max(a, 2).indices]',
    js: (t, { a }) => {
      const [v, i] = t.max(a, 2);
      return [v, i, t.max(a, 2).indices];
    },
  },
  {
    name: 'torch.min forms',
    inputs: { a: A, b: B },
    py: '[torch.min(a), torch.min(a, b), torch.min(a, 0).values]',
    js: (t, { a, b }) => [t.min(a), t.min(a, b), t.min(a, 0).values],
  },
  {
    name: 'torch.sort / torch.topk named tuples',
    inputs: { a: M34 },
    py: 'out = [torch.sort(a).values, torch.sort(a, 0).indices, *torch.topk(a, 3)]',
    js: (t, { a }) => [t.sort(a).values, t.sort(a, 0).indices, ...t.topk(a, 3)],
  },

  // ---- activations ---------------------------------------------------------------------------------
  { name: 'softmax', inputs: { a: X3 }, py: 'a.softmax(-1)', js: (t, { a }) => a.softmax(-1) },
  { name: 'softmax dim 0', inputs: { a: X3 }, py: 'torch.softmax(a, 0)', js: (t, { a }) => t.softmax(a, 0) },
  { name: 'logSoftmax', inputs: { a: X3 }, py: 'a.log_softmax(1)', js: (t, { a }) => a.logSoftmax(1) },
  { name: 'gelu', inputs: { a: A }, py: 'F.gelu(a)', js: (t, { a }) => a.gelu() },
  { name: 'gelu tanh', inputs: { a: A }, py: "F.gelu(a, approximate='tanh')", js: (t, { a }) => t.gelu(a, { approximate: 'tanh' }) },
  { name: 'leakyRelu', inputs: { a: A }, py: 'F.leaky_relu(a, 0.2)', js: (t, { a }) => a.leakyRelu(0.2) },
  {
    name: 'function forms',
    inputs: { a: A, b: B },
    py: 'torch.sigmoid(torch.mul(torch.add(a, b), 2)).sum(0)',
    js: (t, { a, b }) => t.sum(t.sigmoid(t.mul(t.add(a, b), 2)), 0),
  },

  // ---- data out -----------------------------------------------------------------------------------------
  { name: 'item float', inputs: { a: A }, py: 'a.sum().item()', js: (t, { a }) => a.sum().item() },
  { name: 'item int', inputs: { a: INT }, py: 'a.sum().item()', js: (t, { a }) => a.sum().item() },
  { name: 'item bool', inputs: { a: INT }, py: '(a > 100).any().item()', js: (t, { a }) => a.gt(100).any().item() },
  { name: 'non-contiguous tolist', inputs: { a: X3 }, py: 'a.transpose(0, 2)', js: (t, { a }) => t.tensor(a.transpose(0, 2).tolist(), { dtype: 'float32' }) },

  // ---- errors both sides agree on ------------------------------------------------------------------
  {
    name: 'error: broadcast mismatch',
    inputs: { a: A, b: { shape: [4] } },
    py: 'a + b',
    js: (t, { a, b }) => a.add(b),
    error: /size of tensor a \(3\) must match the size of tensor b \(4\)/,
  },
  { name: 'error: mm inner dims', inputs: { a: A, b: A }, py: 'a @ b', js: (t, { a, b }) => a.matmul(b), error: /cannot be multiplied|shapes/ },
  {
    name: 'error: view of non-contiguous',
    inputs: { a: X3 },
    py: 'a.transpose(0, 1).view(-1)',
    js: (t, { a }) => a.transpose(0, 1).view(-1),
    error: /view size is not compatible/,
  },
  { name: 'error: dim out of range', inputs: { a: A }, py: 'a.sum(2)', js: (t, { a }) => a.sum(2), error: /Dimension out of range/ },
];

goldenSuite(test, torch, cases);

// ---- printing: String(tensor) equals Python's repr ------------------------------------------------
const reprCases = [
  [
    'float matrix',
    'torch.tensor([[1.5, -2.25], [3.0, 4.125]])',
    (t) =>
      t.tensor([
        [1.5, -2.25],
        [3.0, 4.125],
      ]),
  ],
  ['int-valued floats', 'torch.tensor([1.0, 2.0, -3.0])', (t) => t.tensor([1, 2, -3], { dtype: 'float32' })],
  [
    'ints',
    'torch.tensor([[1, -20], [300, 4]])',
    (t) =>
      t.tensor([
        [1, -20],
        [300, 4],
      ]),
  ],
  ['bools', 'torch.tensor([True, False, True])', (t) => t.tensor([true, false, true])],
  ['float64 suffix', 'torch.tensor([0.1, 0.2], dtype=torch.float64)', (t) => t.tensor([0.1, 0.2], { dtype: 'float64' })],
  ['int32 suffix', 'torch.tensor([1, 2], dtype=torch.int32)', (t) => t.tensor([1, 2], { dtype: 'int32' })],
  ['float16 suffix', 'torch.tensor([0.5, 1.25], dtype=torch.float16)', (t) => t.tensor([0.5, 1.25], { dtype: 'float16' })],
  ['scientific', 'torch.tensor([1e-5, 1.0, 12345.678])', (t) => t.tensor([1e-5, 1.0, 12345.678])],
  ['large int mode sci', 'torch.tensor([1.0, 1e9])', (t) => t.tensor([1, 1e9], { dtype: 'float32' })],
  ['nan inf', "torch.tensor([float('nan'), float('inf'), -1.5])", (t) => t.tensor([NaN, Infinity, -1.5])],
  ['zero-d', 'torch.tensor(3.25)', (t) => t.tensor(3.25)],
  ['zero-d int', 'torch.tensor(7)', (t) => t.tensor(7)],
  ['empty', 'torch.zeros(0)', (t) => t.zeros(0)],
  ['empty 2-d', 'torch.zeros(2, 0)', (t) => t.zeros(2, 0)],
  ['empty int', 'torch.zeros(0, dtype=torch.int64)', (t) => t.zeros(0, { dtype: 'int64' })],
  ['3-d', 'torch.arange(24.).reshape(2, 3, 4)', (t) => t.arange(24, { dtype: 'float32' }).reshape(2, 3, 4)],
  ['summarised', 'torch.arange(2000.)', (t) => t.arange(2000, { dtype: 'float32' })],
  ['summarised 2-d', 'torch.arange(3000).reshape(100, 30)', (t) => t.arange(3000).reshape(100, 30)],
  ['long row wraps', 'torch.linspace(0, 1, 20)', (t) => t.linspace(0, 1, 20)],
  ['requires_grad', 'torch.ones(2, requires_grad=True)', (t) => t.ones(2, { requiresGrad: true })],
  ['grad_fn', 'torch.ones(2, requires_grad=True) * 2', (t) => t.ones(2, { requiresGrad: true }).mul(2)],
  ['negative zero', 'torch.tensor([-0.0, 1.5])', (t) => t.tensor([-0, 1.5])],
  ['randn seeded', 'torch.manual_seed(1); out = torch.randn(4, 5)', (t) => (t.manualSeed(1), t.randn(4, 5))],
];

goldenSuite(
  test,
  torch,
  reprCases.map(([name, py, js]) => ({
    name: `repr: ${name}`,
    py: py.startsWith('torch.manual_seed') ? `${py}\nout = repr(out)` : `repr(${py})`,
    js: (t) => String(js(t)),
  })),
);

test('setNumThreads / getNumThreads (torch.set_num_threads)', () => {
  const before = torch.getNumThreads();
  torch.setNumThreads(1);
  assert.equal(torch.getNumThreads(), 1);
  torch.setNumThreads(before);
  assert.equal(torch.getNumThreads(), before);
  assert.throws(() => torch.setNumThreads(0), /setNumThreads\(\): argument 'n' must be a positive integer, got number 0/);
});

test('max(dim), min(dim), sort, topk: an array [values, indices] with the names as non-enumerable fields', () => {
  torch.tidy(() => {
    const x = torch.tensor(
      [
        [3, 1, 2],
        [0, 5, 4],
      ],
      { dtype: 'float32' },
    );
    for (const [what, r] of [
      ['max', x.max(1)],
      ['min', x.min(1, true)],
      ['sort', x.sort()],
      ['topk', x.topk(2)],
      ['torch.max', torch.max(x, 0)],
    ]) {
      assert.ok(Array.isArray(r), `${what}: an array`);
      assert.equal(r.length, 2, what);
      assert.equal(r.values, r[0], `${what}: .values is [0]`);
      assert.equal(r.indices, r[1], `${what}: .indices is [1]`);
      assert.deepEqual(Object.keys(r), ['0', '1'], `${what}: the names are not enumerable`);
      assert.deepEqual([...r], [r[0], r[1]], what);
      assert.equal(r.indices.dtype, 'int64', what);
    }
    assert.deepEqual(x.max(1).values.tolist(), [3, 5]);
    assert.deepEqual(x.max(1).indices.tolist(), [0, 1]);
    const { values, indices } = x.topk(1); // object destructuring reads the names too
    assert.deepEqual(
      [values.tolist(), indices.tolist()],
      [
        [[3], [5]],
        [[0], [1]],
      ],
    );
  });
  // tidy() keeps both tensors of a returned named tuple, and the names still work afterwards
  const before = torch.memory().liveTensors;
  const r = torch.tidy(() => torch.tensor([1, 3, 2], { dtype: 'float32' }).sort(0, true));
  assert.equal(torch.memory().liveTensors, before + 2);
  assert.deepEqual(
    [r.values.tolist(), r.indices.tolist()],
    [
      [3, 2, 1],
      [1, 2, 0],
    ],
  );
  torch.dispose(r);
  assert.equal(torch.memory().liveTensors, before);
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
