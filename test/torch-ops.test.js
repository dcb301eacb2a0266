'use strict';
// torch.ops.<namespace>.<name>.<overload>: any registered operator by PyTorch's own spelling,
// golden against the same calls in Python; keyword arguments, tuple and list returns, in-place
// overloads returning their tensor, the default overload, and TorchErrors naming what exists.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

test("torch.ops.aten calls equal Python's torch.ops.aten", () =>
  torch.tidy(() => {
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
    const a = torch.tensor([
      [1.5, -2.0, 3.0],
      [0.5, 4.0, -1.0],
    ]);
    const b = torch.tensor([
      [2.0, 1.0, -1.0],
      [3.0, -2.0, 0.5],
    ]);
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
    assert.deepEqual(
      ops.unbind.int(a, 0).map((x) => x.tolist()),
      py.unbind,
    );
    // In place: the tensor written to comes back itself, as in Python.
    const c = a.clone();
    assert.equal(ops.add_.Tensor(c, b), c);
    assert.deepEqual(c.tolist(), a.add(b).tolist());
  }));

test('torch.ops: unknown names, overloads and arguments are TorchErrors naming what exists', () =>
  torch.tidy(() => {
    const a = torch.ones([2]);
    assert.throws(() => torch.ops.aten.add(a, a), /torch\.ops\.aten\.add\.default: aten::add has no overload 'default'; it has .*Tensor/);
    assert.throws(() => torch.ops.aten.nosuchop(a), /libtorch [\d.]+ has no operator aten::nosuchop/);
    assert.throws(
      () => torch.ops.aten.add.Tensor(a, a, { beta: 1 }),
      /no argument 'beta' \(aten::add\.Tensor\(Tensor self, Tensor other, \*, Scalar alpha=1\) -> Tensor\)/,
    );
    assert.throws(() => torch.ops.aten.add.Tensor(a, { self: a, other: a }), /argument 'self' given twice/);
    // Keyword-only arguments (after '*') are keywords only, as in Python.
    assert.throws(
      () => torch.ops.aten.add.Tensor(a, a, 1),
      /takes 2 positional argument\(s\) but 3 were given; keyword-only ones \(alpha\) go in a trailing options object/,
    );
    assert.throws(() => torch.ops.aten.add.Tensor(a), /torch\.ops\.aten\.add\.Tensor\(\): missing argument 'other' \(aten::add\.Tensor/);
    assert.throws(() => torch.ops.aten.add.Tensor(a, 'x'), /argument 'other' must be a Tensor \(or a number\), got string "x"/);
    assert.throws(() => torch.ops.aten.sum.default(a, { dtype: 'float65' }), /argument 'dtype' must be a dtype \('float32', 'int64', \.\.\.\) or null/);
    assert.throws(() => torch.ops.aten.leaky_relu.default(a, a), /argument 'negative_slope' must be a number, got Tensor/);
    assert.ok(torch.ops.aten.add.overloads.includes('Tensor'));
    const d = torch.ones([1]);
    d.dispose();
    assert.throws(() => torch.ops.aten.relu(d), { code: 'ERR_TORCH_DISPOSED' });
  }));

// binding/ops/typed_call.h calls operators of its schema shapes unboxed (the same kernels through
// the dispatcher, with C++ values instead of an IValue stack). Each shape in its table, through
// torch.ops.aten (and so native.callOp), against the same call in Python: with every argument
// given, and with defaults left out (the schema's default is read then). In-place shapes return
// the tensor written to. A value of the wrong type still takes the boxed path and its message.
test('the unboxed shapes (typed_call.h): each through torch.ops.aten equals Python, given and defaulted', () =>
  torch.tidy(() => {
    const f64 = 'float64';
    const CASES = [
      // [shape key, Python expression, torch-node call]
      ['T->T', 'ops.erfinv.default(a / 5)', (o, t) => o.erfinv.default(t.a.div(5))],
      ['T,T->T', 'ops.hypot.default(a, b)', (o, t) => o.hypot.default(t.a, t.b)],
      ['T,S->T', 'ops.leaky_relu.default(a, 0.25)', (o, t) => o.leaky_relu.default(t.a, 0.25)],
      ['T,S->T default', 'ops.leaky_relu.default(a)', (o, t) => o.leaky_relu.default(t.a)],
      ['T,S,S->T', 'ops.hardtanh.default(a, -1.0, 2)', (o, t) => o.hardtanh.default(t.a, -1.0, 2)],
      ['T,i->T', 'ops.tril.default(a, -1)', (o, t) => o.tril.default(t.a, -1)],
      ['T,i->T default', 'ops.tril.default(a)', (o, t) => o.tril.default(t.a)],
      ['T,i,b->T', 'ops.any.dim(a > 2, 1, True)', (o, t) => o.any.dim(t.a.gt(2), 1, true)],
      ['T,f,b->T', 'ops.dropout.default(a, 0.3, False)', (o, t) => o.dropout.default(t.a, 0.3, false)],
      ['T,i?->T', 'ops.prod.default(a, dtype=torch.float64)', (o, t) => o.prod.default(t.a, { dtype: f64 })],
      ['T,i,i?->T', 'ops.log_softmax.int(a, 0, torch.float64)', (o, t) => o.log_softmax.int(t.a, 0, f64)],
      ['T,i,b,i?->T', 'ops.prod.dim_int(a, 1, True, dtype=torch.float64)', (o, t) => o.prod.dim_int(t.a, 1, true, { dtype: f64 })],
      ['T,iL?,b,i?->T', 'ops.sum.dim_IntList(a, [0], True, dtype=torch.float64)', (o, t) => o.sum.dim_IntList(t.a, [0], true, { dtype: f64 })],
      ['T,iL?,b,i?->T one int', 'ops.sum.dim_IntList(a, 1)', (o, t) => o.sum.dim_IntList(t.a, 1)],
      ['T,iL?,b,i?->T None', 'ops.mean.dim(a, None, True)', (o, t) => o.mean.dim(t.a, null, true)],
      ['T,i?,b->T', 'ops.argmax.default(a, 1, True)', (o, t) => o.argmax.default(t.a, 1, true)],
      ['T,i?,b->T None', 'ops.argmax.default(a)', (o, t) => o.argmax.default(t.a)],
      ['T,T,i->T', 'ops.mse_loss.default(a, b, 2)', (o, t) => o.mse_loss.default(t.a, t.b, 2)],
      [
        'batch_norm',
        'ops.batch_norm.default(a.reshape(2, 3, 1), w, w - 1, rm, rv, False, 0.1, 1e-5, False)',
        (o, t) => o.batch_norm.default(t.a.reshape([2, 3, 1]), t.w, t.w.sub(1), t.rm, t.rv, false, 0.1, 1e-5, false),
      ],
      [
        'batch_norm, no weights',
        'ops.batch_norm.default(a.reshape(2, 3, 1), None, None, rm, rv, False, 0.1, 1e-5, False)',
        (o, t) => o.batch_norm.default(t.a.reshape([2, 3, 1]), null, null, t.rm, t.rv, false, 0.1, 1e-5, false),
      ],
      ['T!->T!', 'ops.relu_.default(a.clone())', (o, t) => o.relu_.default(t.a.clone())],
      ['T!,S->T!', 'ops.leaky_relu_.default(a.clone(), 0.5)', (o, t) => o.leaky_relu_.default(t.a.clone(), 0.5)],
      ['T!,S->T! default', 'ops.leaky_relu_.default(a.clone())', (o, t) => o.leaky_relu_.default(t.a.clone())],
      ['T!,f,b->T!', 'ops.dropout_.default(a.clone(), 0.5, False)', (o, t) => o.dropout_.default(t.a.clone(), 0.5, false)],
    ];
    const py = runPython(
      `
import json, sys, torch
ops = torch.ops.aten
a = torch.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
b = torch.tensor([[2.0, 1.0, -1.0], [3.0, -2.0, 0.5]])
w = torch.tensor([0.5, 2.0, -1.0]); rm = torch.tensor([0.1, -0.2, 0.3]); rv = torch.tensor([1.0, 0.5, 2.0])
out = []
for e in json.load(sys.stdin):
    r = eval(e)
    out.append({'shape': list(r.shape), 'dtype': str(r.dtype).replace('torch.', ''), 'values': r.reshape(-1).double().tolist()})
print(json.dumps(out))
`,
      CASES.map(([, e]) => e),
    );
    const t = {
      a: torch.tensor([
        [1.5, -2.0, 3.0],
        [0.5, 4.0, -1.0],
      ]),
      b: torch.tensor([
        [2.0, 1.0, -1.0],
        [3.0, -2.0, 0.5],
      ]),
      w: torch.tensor([0.5, 2.0, -1.0]),
      rm: torch.tensor([0.1, -0.2, 0.3]),
      rv: torch.tensor([1.0, 0.5, 2.0]),
    };
    CASES.forEach(([key, expr, call], i) => {
      const r = call(torch.ops.aten, t);
      const got = { shape: r.shape, dtype: r.dtype, values: r.reshape([-1]).double().tolist() };
      assert.deepEqual([got.shape, got.dtype], [py[i].shape, py[i].dtype], `${key}: ${expr}`);
      got.values.forEach((x, j) =>
        assert.ok(
          Math.abs(x - py[i].values[j]) <= 1e-6 * Math.abs(py[i].values[j]) + 1e-7,
          `${key}: ${expr}: element ${j} is ${x}, PyTorch ${py[i].values[j]}`,
        ),
      );
    });
    // In place: the tensor written to comes back itself.
    const c = t.a.clone();
    assert.equal(torch.ops.aten.relu_.default(c), c);
    assert.deepEqual(c.tolist(), t.a.relu().tolist());
    // The wrong type for a typed argument: torch.ops names it; the addon's own call (the typed
    // shape's fallback to the boxed path) names it too.
    assert.throws(() => torch.ops.aten.any.dim(t.a, 1, 1), /argument 'keepdim' must be a boolean, got number 1/);
    assert.throws(() => torch.ops.aten.tril.default(t.a, 0.5), /argument 'diagonal' must be an integer, got number 0\.5/);
    const { native } = require('../dist/binding');
    const id = (x) => x._h;
    assert.throws(() => native.callOp(native.findOp('aten::any', 'dim'), id(t.a), 1, 1), /argument 'keepdim': expected a boolean/);
    assert.throws(() => native.callOp(native.findOp('aten::tril', ''), id(t.a), 0.5), /argument 'diagonal': expected an integer/);
  }));

// Python's torch.ops converts its arguments by the schema's types: a number where a Tensor goes
// (a wrapped number, so int64 + float32 promotes as Python's), a dtype given by name, a
// ScalarType returned as a dtype, out= overloads that return the very tensors passed as out (a
// named tuple where the schema names the returns), a memory format by name.
test("torch.ops converts numbers, dtypes and out= tensors as Python's torch.ops does", () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
ops = torch.ops.aten
a = torch.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
i = torch.tensor([[1, 2, 3], [4, 5, 6]])
def d(t): return {'dtype': str(t.dtype).replace('torch.', ''), 'values': t.tolist()}
out = torch.empty(0)
v, ix = torch.empty(0), torch.empty(0, dtype=torch.long)
r = ops.max.dim_max(a, 1, False, max=v, max_values=ix)
print(json.dumps({
  'addNum': d(ops.add.Tensor(a, 2)),
  'addIntFloat': d(ops.add.Tensor(i, 0.5)),
  'mulBool': d(ops.mul.Tensor(i, True)),
  'sumDtype': d(ops.sum.dim_IntList(a, [0], False, dtype=torch.float64)),
  'toDtype': d(ops.to.dtype(i, torch.float16)),
  'resultType': ops.result_type.Tensor(i, a),
  'codes': [str(ops.to.dtype(i, 7).dtype), str(ops.sum.dim_IntList(i, [0], dtype=5).dtype)],
  'addOut': d(ops.add.out(a, a, alpha=2, out=out)),
  'outSame': ops.add.out(a, a, out=out) is out,
  'maxOut': [d(r[0]), d(r[1])],
  'maxOutSame': r[0] is v and r[1] is ix,
  'cl': list(ops.contiguous.default(a.reshape(1, 2, 3, 1), memory_format=torch.channels_last).stride()),
}))
`);
    const ops = torch.ops.aten;
    const a = torch.tensor([
      [1.5, -2.0, 3.0],
      [0.5, 4.0, -1.0],
    ]);
    const i = torch.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const d = (t) => ({ dtype: t.dtype, values: t.tolist() });
    assert.deepEqual(d(ops.add.Tensor(a, 2)), py.addNum);
    assert.deepEqual(d(ops.add.Tensor(i, 0.5)), py.addIntFloat);
    const m = ops.mul.Tensor(i, true);
    assert.deepEqual({ dtype: m.dtype, values: m.tolist().map((r) => r.map(Number)) }, py.mulBool);
    assert.deepEqual(d(ops.sum.dim_IntList(a, [0], false, { dtype: 'float64' })), py.sumDtype);
    assert.deepEqual(d(ops.to.dtype(i, 'float16')), py.toDtype);
    // Python's torch.ops gives a ScalarType as its integer code and takes codes too (torch.resultType gives the dtype).
    assert.equal(ops.result_type.Tensor(i, a), py.resultType);
    assert.equal(torch.resultType(i, a), 'float32');
    assert.deepEqual(
      [ops.to.dtype(i, 7).dtype, ops.sum.dim_IntList(i, [0], { dtype: 5 }).dtype].map((x) => `torch.${x}`),
      py.codes,
    );
    const out = torch.empty([0]);
    assert.deepEqual(d(ops.add.out(a, a, { alpha: 2, out })), py.addOut);
    assert.equal(ops.add.out(a, a, { out }), out, 'add.out returns its out tensor itself');
    assert.equal(py.outSame, true);
    const v = torch.empty([0]);
    const ix = torch.empty([0], { dtype: 'int64' });
    const r = ops.max.dim_max(a, 1, false, { max: v, max_values: ix });
    assert.deepEqual(
      [d(r[0]), { dtype: r[1].dtype, values: r[1].tolist().map(Number) }],
      py.maxOut.map((x, k) => (k === 1 ? { ...x, values: x.values.map(Number) } : x)),
    );
    assert.ok(r[0] === v && r[1] === ix && r.values === v && r.indices === ix, 'the out tensors themselves, named as the schema names them');
    assert.deepEqual(ops.contiguous.default(a.reshape([1, 2, 3, 1]), { memoryFormat: 'channels_last' }).stride(), py.cl);
    // Every wrapped number made for the call is freed with it.
    const before = torch.memory().liveTensors;
    ops.add.Tensor(a, 2).dispose();
    ops.add.out(a, 1, { out }); // and no second handle to an out tensor
    assert.equal(torch.memory().liveTensors, before);
  }));
