'use strict';
// Autograd against Python PyTorch 2.15 (runPython, same input data): values and gradients of a
// composite function, grad_fn names, retain_grad, backward(gradient), accumulation, create_graph;
// and the grad modes (noGrad, enableGrad, inferenceMode).
//
// Tolerance: |ours - python| <= atol + rtol * |python| elementwise, with rtol 1e-5 / atol 1e-6 in
// float32 and rtol 1e-10 / atol 1e-12 in float64.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const live = () => torch.memory().liveTensors;
const fileBaseline = live();

const TOL = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-10, atol: 1e-12 },
};

/** Deterministic data in [-1.5, 1.5): no RNG shared between the two implementations. */
function data(rows, cols, seed) {
  const out = [];
  for (let i = 0; i < rows; i++) {
    const row = [];
    for (let j = 0; j < cols; j++) {
      const s = Math.sin(seed * 12.9898 + i * 78.233 + j * 4.1414) * 43758.5453;
      row.push(Number((3 * (s - Math.floor(s)) - 1.5).toFixed(6)));
    }
    out.push(row);
  }
  return out;
}

const INPUT = {
  x: data(4, 3, 1),
  w: data(3, 5, 2),
  b: data(1, 5, 3)[0],
  tgt: data(4, 5, 4).map((r) => r.map((v) => Math.abs(v))), // non-negative weights, like soft labels
  g: [
    [1, -2],
    [0.5, 3],
  ],
  p: [
    [0.3, -1.2],
    [2.0, 0.7],
  ],
  q: [
    [-0.4, 1.1],
    [0.9, -2.5],
  ],
};

// Ops whose grad_fn name must match Python's type(y.grad_fn).__name__ (p, q: 2x2, requires grad).
const GRAD_FN_OPS = {
  add: [(p, q) => p.add(q), 'p.add(q)'],
  addScalar: [(p) => p.add(1), 'p.add(1)'],
  sub: [(p, q) => p.sub(q), 'p.sub(q)'],
  mul: [(p, q) => p.mul(q), 'p.mul(q)'],
  mulScalar: [(p) => p.mul(2), 'p.mul(2)'],
  div: [(p, q) => p.div(q), 'p.div(q)'],
  powScalar: [(p) => p.pow(2), 'p.pow(2)'],
  powTensor: [(p, q) => p.pow(q), 'p.pow(q)'],
  sum: [(p) => p.sum(), 'p.sum()'],
  sumDim: [(p) => p.sum(1), 'p.sum(1)'],
  mean: [(p) => p.mean(), 'p.mean()'],
  meanDim: [(p) => p.mean(0), 'p.mean(0)'],
  mm: [(p, q) => p.mm(q), 'p.mm(q)'],
  matmul: [(p, q) => p.matmul(q), 'p.matmul(q)'],
  tanh: [(p) => p.tanh(), 'p.tanh()'],
  sigmoid: [(p) => p.sigmoid(), 'p.sigmoid()'],
  relu: [(p) => p.relu(), 'p.relu()'],
  exp: [(p) => p.exp(), 'p.exp()'],
  neg: [(p) => p.neg(), 'p.neg()'],
  softmax: [(p) => p.softmax(1), 'p.softmax(1)'],
  logSoftmax: [(p) => p.logSoftmax(1), 'p.log_softmax(1)'],
  t: [(p) => p.t(), 'p.t()'],
  transpose: [(p) => p.transpose(0, 1), 'p.transpose(0, 1)'],
  view: [(p) => p.view(4), 'p.view(4)'],
  reshape: [(p) => p.reshape(4), 'p.reshape(4)'],
  unsqueeze: [(p) => p.unsqueeze(0), 'p.unsqueeze(0)'],
  select: [(p) => p.select(0, 1), 'p.select(0, 1)'],
  clone: [(p) => p.clone(), 'p.clone()'],
  max: [(p) => p.max(), 'p.max()'],
  clamp: [(p) => p.clamp(-1, 1), 'p.clamp(-1, 1)'],
};

const PY = `
import json, sys, torch
d = json.load(sys.stdin)
out = {}

def composite(dtype):
    x = torch.tensor(d['x'], dtype=dtype, requires_grad=True)
    w = torch.tensor(d['w'], dtype=dtype, requires_grad=True)
    b = torch.tensor(d['b'], dtype=dtype, requires_grad=True)
    tgt = torch.tensor(d['tgt'], dtype=dtype)
    h = x @ w + b
    t1 = h.tanh().pow(2).mean()
    t2 = h.log_softmax(1).mul(tgt).sum().div(-4)
    t3 = h.softmax(1).mul(h).sum(1).mean()
    t4 = h.sigmoid().mul(h.relu()).mean()
    t5 = h.mul(0.1).exp().mean()
    t6 = x.pow(2).sum().mul(0.01)
    y = t1 + t2 + t3 + t4 + t5 + t6
    y.backward()
    return {'y': y.item(), 'x': x.grad.tolist(), 'w': w.grad.tolist(), 'b': b.grad.tolist()}

out['float32'] = composite(torch.float32)
out['float64'] = composite(torch.float64)

p = torch.tensor(d['p'], requires_grad=True)
q = torch.tensor(d['q'], requires_grad=True)
out['gradFn'] = {k: type(eval(e).grad_fn).__name__ for k, e in d['gradFnOps'].items()}
out['leaf'] = {
    'plainOp': torch.ones(2).add(1).is_leaf,
    'detached': p.mul(2).detach().is_leaf,
}

# retain_grad on a non-leaf
p = torch.tensor(d['p'], requires_grad=True)
q = torch.tensor(d['q'], requires_grad=True)
y = p.mul(q)
y.retain_grad()
y.tanh().mul(y).sum().backward()
out['retain'] = {'y': y.grad.tolist(), 'p': p.grad.tolist(), 'q': q.grad.tolist()}

# backward(gradient) on a non-scalar
p = torch.tensor(d['p'], requires_grad=True)
q = torch.tensor(d['q'], requires_grad=True)
p.pow(3).mul(q).backward(torch.tensor(d['g']))
out['explicit'] = {'p': p.grad.tolist(), 'q': q.grad.tolist()}

# accumulation over two backward calls
p = torch.tensor(d['p'], requires_grad=True)
q = torch.tensor(d['q'], requires_grad=True)
loss = p.mul(p).mul(q).sum()
loss.backward(retain_graph=True)
once = p.grad.tolist()
loss.backward()
out['accumulate'] = {'once': once, 'twice': p.grad.tolist(), 'q': q.grad.tolist()}

# create_graph: the gradient of the gradient
p = torch.tensor(d['p'], requires_grad=True)
p.pow(3).sum().backward(create_graph=True)
g = p.grad
first = g.tolist()
g_requires = g.requires_grad
p.grad = None
g.sum().backward()
out['double'] = {'first': first, 'requires': g_requires, 'second': p.grad.tolist()}
print(json.dumps(out))
`;

let golden;
function python() {
  if (!golden) {
    const gradFnOps = Object.fromEntries(Object.entries(GRAD_FN_OPS).map(([k, [, py]]) => [k, py]));
    golden = runPython(PY, { ...INPUT, gradFnOps });
  }
  return golden;
}

function flat(v) {
  return Array.isArray(v) ? v.flat(Infinity) : [v];
}

/** Elementwise |a - e| <= atol + rtol * |e| on (nested) arrays of the same shape. */
function assertClose(actual, expected, { rtol, atol }, what) {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${what}: expected an array`);
    assert.equal(actual.length, expected.length, `${what}: length`);
  }
  const a = flat(actual);
  const e = flat(expected);
  assert.equal(a.length, e.length, `${what}: size`);
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    assert.ok(diff <= atol + rtol * Math.abs(e[i]), `${what}[${i}]: ${a[i]} vs Python ${e[i]} (|diff| ${diff}, rtol ${rtol}, atol ${atol})`);
  }
}

const scoped = (fn) => () => {
  torch.tidy(() => {
    fn();
  });
};

for (const dtype of ['float32', 'float64']) {
  test(
    `composite function (${dtype}): value and gradients of x, w, b match Python`,
    scoped(() => {
      const x = torch.tensor(INPUT.x, { dtype, requiresGrad: true });
      const w = torch.tensor(INPUT.w, { dtype, requiresGrad: true });
      const b = torch.tensor(INPUT.b, { dtype, requiresGrad: true });
      const tgt = torch.tensor(INPUT.tgt, { dtype });
      const h = x.matmul(w).add(b);
      const t1 = h.tanh().pow(2).mean();
      const t2 = h.logSoftmax(1).mul(tgt).sum().div(-4);
      const t3 = h.softmax(1).mul(h).sum(1).mean();
      const t4 = h.sigmoid().mul(h.relu()).mean();
      const t5 = h.mul(0.1).exp().mean();
      const t6 = x.pow(2).sum().mul(0.01);
      const y = t1.add(t2).add(t3).add(t4).add(t5).add(t6);
      assert.equal(y.dtype, dtype);
      assert.deepEqual(y.shape, []);
      y.backward();
      const py = python()[dtype];
      const tol = TOL[dtype];
      assertClose(y.item(), py.y, tol, 'y');
      assertClose(w.grad.tolist(), py.w, tol, 'w.grad');
      assertClose(b.grad.tolist(), py.b, tol, 'b.grad');
      assertClose(x.grad.tolist(), py.x, tol, 'x.grad');
      assert.deepEqual(w.grad.shape, [3, 5]);
      assert.equal(tgt.grad, null, 'no gradient for a tensor that does not require grad');
    }),
  );
}

test(
  'requiresGrad, requiresGrad_(), isLeaf and gradFn on leaves and results',
  scoped(() => {
    const a = torch.tensor([1, 2], { dtype: 'float32' });
    assert.equal(a.requiresGrad, false);
    assert.equal(a.isLeaf, true);
    assert.equal(a.gradFn, null);
    assert.equal(a.requiresGrad_(), a, 'requiresGrad_() returns the tensor itself');
    assert.equal(a.requiresGrad, true);
    assert.equal(a.isLeaf, true);
    a.requiresGrad_(false);
    assert.equal(a.requiresGrad, false);
    a.requiresGrad = true;
    assert.equal(a.requiresGrad, true);

    const y = a.mul(3);
    assert.equal(y.requiresGrad, true);
    assert.equal(y.isLeaf, false);
    assert.equal(y.gradFn.name(), 'MulBackward0');
    assert.equal(String(y.gradFn), '<MulBackward0>');
    const d = y.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.isLeaf, python().leaf.detached);
    // PyTorch: a result that does not require grad is a leaf too.
    assert.equal(torch.ones(2).add(1).isLeaf, python().leaf.plainOp);
    assert.equal(torch.ones(2, { requiresGrad: true }).requiresGrad, true);
  }),
);

test(
  "gradFn.name() matches Python's type(y.grad_fn).__name__",
  scoped(() => {
    const names = python().gradFn;
    const p = torch.tensor(INPUT.p, { dtype: 'float32', requiresGrad: true });
    const q = torch.tensor(INPUT.q, { dtype: 'float32', requiresGrad: true });
    const mismatches = [];
    for (const [k, [js]] of Object.entries(GRAD_FN_OPS)) {
      const y = js(p, q);
      const got = y.gradFn?.name();
      if (got !== names[k]) mismatches.push(`${k}: ${got} vs Python ${names[k]}`);
    }
    assert.deepEqual(mismatches, []);
    assert.equal(names.add, 'AddBackward0');
    assert.equal(names.mm, 'MmBackward0');
    assert.equal(names.sum, 'SumBackward0');
  }),
);

test(
  'retainGrad() on a non-leaf: its grad equals Python',
  scoped(() => {
    const p = torch.tensor(INPUT.p, { dtype: 'float32', requiresGrad: true });
    const q = torch.tensor(INPUT.q, { dtype: 'float32', requiresGrad: true });
    const y = p.mul(q);
    assert.equal(y.retainsGrad, false);
    assert.equal(y.retainGrad(), y);
    assert.equal(y.retainsGrad, true);
    y.tanh().mul(y).sum().backward();
    const py = python().retain;
    assertClose(y.grad.tolist(), py.y, TOL.float32, 'y.grad');
    assertClose(p.grad.tolist(), py.p, TOL.float32, 'p.grad');
    assertClose(q.grad.tolist(), py.q, TOL.float32, 'q.grad');
    // Without retainGrad() a non-leaf keeps no gradient.
    const z = p.mul(2);
    z.sum().backward();
    assert.equal(z.grad, null);
  }),
);

test(
  'backward(gradient) with an explicit gradient tensor',
  scoped(() => {
    const p = torch.tensor(INPUT.p, { dtype: 'float32', requiresGrad: true });
    const q = torch.tensor(INPUT.q, { dtype: 'float32', requiresGrad: true });
    p.pow(3)
      .mul(q)
      .backward(torch.tensor(INPUT.g, { dtype: 'float32' }));
    const py = python().explicit;
    assertClose(p.grad.tolist(), py.p, TOL.float32, 'p.grad');
    assertClose(q.grad.tolist(), py.q, TOL.float32, 'q.grad');
  }),
);

test(
  'gradients accumulate over two backward calls (retainGraph); grad = null resets',
  scoped(() => {
    const p = torch.tensor(INPUT.p, { dtype: 'float32', requiresGrad: true });
    const q = torch.tensor(INPUT.q, { dtype: 'float32', requiresGrad: true });
    assert.equal(p.grad, null);
    const loss = p.mul(p).mul(q).sum();
    loss.backward(null, { retainGraph: true });
    const once = p.grad.tolist();
    loss.backward();
    const py = python().accumulate;
    assertClose(once, py.once, TOL.float32, 'after one backward');
    assertClose(p.grad.tolist(), py.twice, TOL.float32, 'after two backward calls');
    assertClose(
      p.grad.tolist(),
      once.map((r) => r.map((v) => 2 * v)),
      TOL.float32,
      'twice the single gradient',
    );
    assertClose(q.grad.tolist(), py.q, TOL.float32, 'q.grad');

    p.grad = null;
    assert.equal(p.grad, null);
    p.mul(p).mul(q).sum().backward();
    assertClose(p.grad.tolist(), py.once, TOL.float32, 'fresh gradient after reset');
    // grad can also be set to a tensor of the right shape
    p.grad = torch.zeros(2, 2);
    assert.deepEqual(p.grad.tolist(), [
      [0, 0],
      [0, 0],
    ]);
  }),
);

test(
  'grad setter: a gradient of the wrong shape is rejected',
  scoped(() => {
    const p = torch.ones(2, { requiresGrad: true });
    assert.throws(
      () => {
        p.grad = torch.ones(3);
      },
      (e) => e instanceof torch.TorchError && /shape \[3\].*shape \[2\]/.test(e.message),
    );
    assert.equal(p.grad, null, 'nothing assigned');
  }),
);

test(
  'grad setter: a gradient of another dtype is rejected, as in PyTorch',
  scoped(() => {
    const p = torch.ones(2, { requiresGrad: true });
    for (const g of [torch.ones(2, { dtype: 'float64' }), torch.tensor([1, 2])]) {
      assert.throws(
        () => {
          p.grad = g;
        },
        (e) => e instanceof torch.TorchError && /dtype/.test(e.message),
      );
    }
    assert.equal(p.grad, null);
  }),
);

test(
  'backward with createGraph: the gradient of the gradient matches Python',
  scoped(() => {
    const p = torch.tensor(INPUT.p, { dtype: 'float32', requiresGrad: true });
    p.pow(3).sum().backward(null, { createGraph: true });
    const g = p.grad;
    const py = python().double;
    assertClose(g.tolist(), py.first, TOL.float32, 'first derivative');
    assert.equal(g.requiresGrad, py.requires);
    p.grad = null;
    g.sum().backward();
    assertClose(p.grad.tolist(), py.second, TOL.float32, 'second derivative');
  }),
);

test(
  'noGrad(fn): grad off inside, results do not require grad, mode restored',
  scoped(() => {
    const p = torch.ones(2, { requiresGrad: true });
    assert.equal(torch.isGradEnabled(), true);
    let inside;
    const r = torch.noGrad(() => {
      inside = torch.isGradEnabled();
      return p.mul(2);
    });
    assert.equal(inside, false);
    assert.equal(r.requiresGrad, false);
    assert.equal(r.gradFn, null);
    assert.equal(torch.isGradEnabled(), true);
    assert.equal(
      torch.noGrad(() => 42),
      42,
      'returns what fn returns',
    );
  }),
);

test(
  'enableGrad inside noGrad turns grad back on for its callback only',
  scoped(() => {
    const p = torch.ones(2, { requiresGrad: true });
    torch.noGrad(() => {
      const r = torch.enableGrad(() => {
        assert.equal(torch.isGradEnabled(), true);
        return p.mul(2);
      });
      assert.equal(r.requiresGrad, true);
      assert.equal(r.gradFn.name(), 'MulBackward0');
      assert.equal(torch.isGradEnabled(), false);
      assert.equal(p.mul(2).requiresGrad, false);
    });
    assert.equal(torch.isGradEnabled(), true);
  }),
);

test(
  'setGradEnabled(false) turns grad off until turned back on',
  scoped(() => {
    const p = torch.ones(2, { requiresGrad: true });
    torch.setGradEnabled(false);
    try {
      assert.equal(torch.isGradEnabled(), false);
      assert.equal(p.mul(2).requiresGrad, false);
    } finally {
      torch.setGradEnabled(true);
    }
    assert.equal(torch.isGradEnabled(), true);
    assert.equal(p.mul(2).requiresGrad, true);
  }),
);

test(
  'inferenceMode(fn): inference mode on inside (grad off), restored afterwards',
  scoped(() => {
    const p = torch.ones(2, { requiresGrad: true });
    assert.equal(torch.isInferenceModeEnabled(), false);
    let state;
    const r = torch.inferenceMode(() => {
      state = { inference: torch.isInferenceModeEnabled(), grad: torch.isGradEnabled() };
      return p.mul(2);
    });
    assert.deepEqual(state, { inference: true, grad: false });
    assert.equal(r.requiresGrad, false);
    assert.deepEqual(r.tolist(), [2, 2]);
    assert.equal(torch.isInferenceModeEnabled(), false);
    assert.equal(torch.isGradEnabled(), true);
    // inferenceMode(fn, false) leaves it off
    assert.equal(
      torch.inferenceMode(() => torch.isInferenceModeEnabled(), false),
      false,
    );
  }),
);

test('grad modes are restored after a throw inside the callback', () => {
  const boom = new Error('boom');
  assert.throws(
    () =>
      torch.noGrad(() => {
        throw boom;
      }),
    (e) => e === boom,
  );
  assert.equal(torch.isGradEnabled(), true);

  torch.noGrad(() => {
    assert.throws(
      () =>
        torch.enableGrad(() => {
          throw boom;
        }),
      (e) => e === boom,
    );
    assert.equal(torch.isGradEnabled(), false, 'back to the enclosing noGrad');
  });
  assert.equal(torch.isGradEnabled(), true);

  assert.throws(
    () =>
      torch.inferenceMode(() => {
        throw boom;
      }),
    (e) => e === boom,
  );
  assert.equal(torch.isInferenceModeEnabled(), false);
  assert.equal(torch.isGradEnabled(), true);

  // A native error thrown inside the callback, too.
  assert.throws(() => torch.noGrad(() => torch.tidy(() => torch.ones(2).add(torch.ones(3)))), torch.TorchError);
  assert.equal(torch.isGradEnabled(), true);
});

test('grad-mode callbacks that return a Promise are rejected with a TorchError', () => {
  for (const [name, f] of [
    ['noGrad', torch.noGrad],
    ['enableGrad', torch.enableGrad],
    ['inferenceMode', torch.inferenceMode],
  ]) {
    assert.throws(
      () => f(async () => 1),
      (e) => {
        assert.ok(e instanceof torch.TorchError);
        assert.match(e.message, new RegExp(`${name}\\(\\): fn returned a Promise`));
        return true;
      },
    );
    assert.equal(torch.isGradEnabled(), true);
    assert.equal(torch.isInferenceModeEnabled(), false);
  }
});

test('no tensors leaked by this file', () => {
  assert.equal(live(), fileBaseline);
});
