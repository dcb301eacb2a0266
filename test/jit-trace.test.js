'use strict';
// torch.jit.trace of JS modules (libtorch's tracer records the ATen ops forward calls) and
// ScriptModule.forwardAsync (TorchScript on libuv's thread pool under InferenceMode).
// Trace results are checked against the JS module's own eager output (same kernels, same inputs:
// equal within 1e-6) and against Python: Python's torch.jit.load reads the saved trace and computes
// the same outputs (rtol 1e-5, atol 1e-6), with PyTorch's state-dict names. forwardAsync results are
// checked against the synchronous forward under inferenceMode (equal within 1e-6: the same graph
// and kernels, run on another thread).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const { nn } = torch;
const baseline = torch.memory().liveTensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-trace-'));
// Values of a tensor, which it disposes.
const flat = (t) => {
  const v = torch.tidy(() => t.reshape(-1).tolist());
  t.dispose();
  return v;
};
const close = (a, b, what, rtol = 1e-5, atol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= atol + rtol * Math.abs(b[i]))) assert.fail(`${what}[${i}]: ${x} vs ${b[i]}`);
  });
};
const maxDiff = (a, b) => torch.tidy(() => a.sub(b).abs().max().item());
// Collects process warnings of one type emitted while fn runs (they are emitted on the next tick).
async function warningsDuring(fn, type = 'TracerWarning') {
  const seen = [];
  const on = (w) => w.name === type && seen.push(w.message);
  process.on('warning', on);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

// A small CNN with a residual connection, scalar arithmetic and a functional op in its JS forward.
class Net extends nn.Module {
  constructor() {
    super();
    this.registerModule('conv1', new nn.Conv2d(3, 8, 3, { padding: 1 }));
    this.registerModule('bn1', new nn.BatchNorm2d(8));
    this.registerModule('conv2', new nn.Conv2d(8, 8, 3, { padding: 1 }));
    this.registerModule('pool', new nn.AdaptiveAvgPool2d(1));
    this.registerModule('head', new nn.Sequential(new nn.Flatten(), new nn.Linear(8, 5)));
    this.registerBuffer('scale', torch.tensor([0.5]));
  }
  forward(x) {
    const y = this.bn1.call(this.conv1.call(x)).relu();
    const z = this.conv2.call(y).add(y).mul(this.scale).sub(0.25);
    return nn.functional.logSoftmax(this.head.call(this.pool.call(z)), 1);
  }
}

function makeNet(seed = 0) {
  torch.manualSeed(seed);
  const net = new Net();
  // Non-trivial BatchNorm statistics, so eval mode uses them.
  torch.tidy(() =>
    torch.noGrad(() => {
      net.bn1.runningMean.copy_(torch.linspace(-0.5, 0.5, 8));
      net.bn1.runningVar.copy_(torch.linspace(0.5, 2, 8));
    }),
  );
  return net.eval();
}

test('trace a JS module: the graph holds its ATen ops and reads parameters from self; outputs equal forward', () => {
  const net = makeNet();
  const x = torch.randn([2, 3, 16, 16]);
  const traced = torch.jit.trace(net, x);
  assert.ok(traced instanceof torch.jit.ScriptModule);
  assert.ok(traced instanceof nn.Module);
  assert.deepEqual(traced.methods, ['forward']);
  assert.equal(traced.originalName, 'Net');
  assert.match(traced.schema(), /^forward\(__torch__\.torch_node\.Net self, Tensor x\) -> Tensor$/);
  const g = traced.graph;
  for (const op of ['aten::_convolution', 'aten::batch_norm', 'aten::relu', 'aten::add', 'aten::linear', 'aten::log_softmax', 'prim::GetAttr[name="weight"]']) {
    assert.ok(g.includes(op), `graph has ${op}`);
  }
  assert.ok(!g.includes('aten::empty'), 'no uninitialised tensors in the graph');
  // Same parameter and buffer names as the JS module (PyTorch's state-dict order), the same tensors.
  const stateKeys = (m) => torch.tidy(() => [...m.stateDict().keys()]);
  assert.deepEqual(stateKeys(traced), stateKeys(net));
  assert.ok(traced.conv1.weight.sharesStorageWith(net.conv1.weight));
  torch.tidy(() => {
    assert.ok(maxDiff(traced.forward(x), net.forward(x)) <= 1e-6, 'example input');
    // Another batch size and another input: the trace is not fixed to the example's shape.
    const x2 = torch.randn([5, 3, 20, 20]);
    const a = traced.forward(x2);
    assert.deepEqual(a.shape, [5, 5]);
    assert.ok(maxDiff(a, net.forward(x2)) <= 1e-6, 'another input and batch size');
    // Shared weights: an in-place change to the JS module's parameter reaches the traced module.
    torch.noGrad(() => net.head.children()[1].bias.add_(1));
    assert.ok(maxDiff(traced.forward(x2), net.forward(x2)) <= 1e-6, 'after changing a shared parameter');
  });
  assert.equal(traced.training, false);
  traced.dispose();
  net.dispose();
  x.dispose();
});

test("a saved trace loads in Python with PyTorch's names and gives the same outputs", () => {
  const net = makeNet(1);
  const x = torch.tidy(() => torch.linspace(-1, 1, 2 * 3 * 16 * 16).reshape(2, 3, 16, 16));
  const traced = torch.jit.trace(net, x);
  const file = path.join(dir, 'net.pt');
  torch.jit.save(traced, file);
  const ours = flat(traced.forward(x));
  const py = runPython(
    `
import json, sys, torch
d = json.load(sys.stdin)
m = torch.jit.load(d['file'])
x = torch.linspace(-1, 1, 2 * 3 * 16 * 16).reshape(2, 3, 16, 16)
print(json.dumps({'out': m(x).reshape(-1).tolist(), 'keys': list(m.state_dict().keys()),
                  'training': m.training, 'bn_training': m.bn1.training, 'code': m.code,
                  'params': [n for n, _ in m.named_parameters()], 'buffers': [n for n, _ in m.named_buffers()]}))
`,
    { file },
  );
  close(ours, py.out, 'Python runs our trace');
  assert.deepEqual(
    py.keys,
    torch.tidy(() => [...net.stateDict().keys()]),
  );
  assert.deepEqual(py.params, [...net.namedParameters().keys()]);
  assert.deepEqual(py.buffers, [...net.namedBuffers().keys()]);
  assert.equal(py.training, false);
  assert.equal(py.bn_training, false);
  assert.match(py.code, /def forward\(self,\s+x: Tensor\) -> Tensor:/);
  // And back: torch.jit.load of the file in torch-node.
  const back = torch.jit.load(file);
  close(flat(back.forward(x)), ours, 'torch-node loads its own trace');
  back.dispose();
  traced.dispose();
  net.dispose();
  x.dispose();
});

test('trace a torch.vision ResNet-18 (random init) in eval mode: outputs equal forward', () => {
  torch.manualSeed(0);
  const model = torch.vision.models.resnet18().eval();
  const x = torch.randn([1, 3, 64, 64]);
  const traced = torch.jit.trace(model, x);
  torch.tidy(() => {
    const x2 = torch.randn([3, 3, 64, 64]);
    assert.ok(maxDiff(traced.forward(x2), model.forward(x2)) <= 1e-5);
  });
  assert.equal([...traced.namedParameters().keys()].length, [...model.namedParameters().keys()].length);
  traced.dispose();
  model.dispose();
  x.dispose();
});

test('several inputs, tuple and dict outputs; a plain function traces too', () =>
  torch.tidy(() => {
    class Two extends nn.Module {
      constructor() {
        super();
        this.registerModule('fc', new nn.Linear(4, 3));
      }
      forward(a, b) {
        const y = this.fc.call(a.mul(b));
        return [y, y.sum(1)];
      }
    }
    torch.manualSeed(2);
    const m = new Two();
    const a = torch.randn([2, 4]);
    const b = torch.randn([2, 4]);
    const traced = torch.jit.trace(m, [a, b]);
    assert.match(traced.schema(), /forward\(.* self, Tensor a, Tensor b\) -> \(\(Tensor, Tensor\)\)$/);
    const [y, s] = traced.forward(b, a);
    const [ey, es] = m.forward(b, a);
    assert.ok(maxDiff(y, ey) <= 1e-6 && maxDiff(s, es) <= 1e-6);

    // Dict outputs need strict: false, as in PyTorch.
    const dictOut = (p, q) =>
      new Map([
        ['sum', p.add(q)],
        ['prod', p.mul(q)],
      ]);
    assert.throws(() => torch.jit.trace(dictOut, [a, b]), /Encountering a dict at the output of the tracer/);
    const td = torch.jit.trace(dictOut, [a, b], { strict: false });
    const out = td.forward(a, b);
    assert.ok(out instanceof Map);
    assert.deepEqual([...out.keys()], ['sum', 'prod']);
    assert.ok(maxDiff(out.get('prod'), a.mul(b)) === 0);
    assert.equal(td.originalName, 'dictOut');

    // A function; a tensor it closes over (no grad) becomes a constant.
    const w = torch.tensor([1, 2, 3, 4], { dtype: 'float32' });
    const f = torch.jit.trace((p) => p.mul(w).sum(1), a);
    assert.ok(maxDiff(f.forward(b), b.mul(w).sum(1)) <= 1e-6);
    assert.match(f.graph, /prim::Constant\[value= 1 {2}2 {2}3 {2}4 \[ CPUFloatType\{4\} \]\]/);
    // Tuple inputs.
    const tup = torch.jit.trace((pair) => pair[0].sub(pair[1]), [[a, b]]);
    assert.ok(maxDiff(tup.forward([b, a]), b.sub(a)) === 0);
    for (const t of [traced, td, f, tup]) t.dispose();
    m.dispose();
  }));

test('limits, as in PyTorch: JS control flow on values is frozen at the example, with a warning', async () => {
  const signFlip = (x) => (x.sum().item() > 0 ? x.mul(2) : x.mul(-1));
  const pos = torch.ones([3]);
  let traced;
  const warnings = await warningsDuring(() => {
    traced = torch.jit.trace(signFlip, pos);
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /read tensor values into JS 1 time\(s\).*constant in the trace/);
  torch.tidy(() => {
    const neg = torch.full([3], -1);
    assert.deepEqual(traced.forward(neg).tolist(), [-2, -2, -2], 'the traced branch (x * 2) runs for every input');
    assert.deepEqual(signFlip(neg).tolist(), [1, 1, 1], 'while JS takes the other branch');
  });
  traced.dispose();
  pos.dispose();
});

test('tensors made from JS data inside forward are constants holding the data, with a warning', async () => {
  const addOffsets = (x) => x.add(torch.tensor([10, 20, 30], { dtype: 'float32' }));
  const x = torch.zeros([2, 3]);
  let traced;
  const warnings = await warningsDuring(() => {
    traced = torch.jit.trace(addOffsets, x);
  });
  assert.match(warnings.join('\n'), /1 tensor\(s\) made from JS data inside forward/);
  assert.ok(!traced.graph.includes('aten::empty'));
  torch.tidy(() => assert.deepEqual(traced.forward(torch.ones([1, 3])).tolist(), [[11, 21, 31]]));
  traced.dispose();
  x.dispose();
});

test('checkTrace catches a trace that does not reproduce forward (Dropout in train mode)', () => {
  torch.manualSeed(0);
  const m = new nn.Sequential(new nn.Linear(16, 16), new nn.Dropout(0.5));
  const x = torch.randn([4, 16]);
  const before = torch.memory().liveTensors;
  assert.throws(
    () => torch.jit.trace(m, x),
    (e) => {
      assert.ok(e instanceof torch.TorchError);
      assert.equal(e.code, 'ERR_TORCH_TRACE');
      assert.match(e.message, /does not reproduce forward on the example inputs — output: values differ \(max \|difference\| [0-9.e-]+, tolerance 1e-5\)/);
      assert.match(e.message, /call eval\(\) first/);
      return true;
    },
  );
  assert.equal(torch.memory().liveTensors, before, 'nothing left behind by a failed check');
  const t = torch.jit.trace(m, x, { checkTrace: false });
  assert.ok(t.graph.includes('aten::dropout'));
  t.dispose();
  m.eval();
  const t2 = torch.jit.trace(m, x);
  torch.tidy(() => assert.ok(maxDiff(t2.forward(x), m.forward(x)) <= 1e-6));
  t2.dispose();
  m.dispose();
  x.dispose();
});

test('trace errors: bad arguments, errors thrown by forward, untraceable outputs; the tracer is left off', () => {
  const x = torch.ones([2]);
  assert.throws(() => torch.jit.trace(42, x), /jit\.trace\(\): argument 'module' must be an nn\.Module or a function, got number 42/);
  assert.throws(() => torch.jit.trace((t) => t, 'x'), /argument 'exampleInputs\[0\]' must be a Tensor, an array of tensors or a Map/);
  assert.throws(() => torch.jit.trace((t) => t, x, { checkTrace: 'yes' }), /argument 'checkTrace' must be a boolean/);
  const boom = new Error('boom from forward');
  assert.throws(
    () =>
      torch.jit.trace(() => {
        throw boom;
      }, x),
    (e) => e === boom,
  );
  assert.throws(() => torch.jit.trace((t) => t.sum().item(), x), /argument 'forward\(\) output' must be a Tensor/);
  // A tensor that requires grad and is not a parameter cannot be a constant.
  const w = torch.ones([2]).requiresGrad_();
  assert.throws(() => torch.jit.trace((t) => t.mul(w), x), /Cannot insert a Tensor that requires grad as a constant/);
  // After all that, ops are not being recorded any more: a new trace starts clean.
  const t = torch.jit.trace((p) => p.add(1), x);
  assert.equal((t.graph.match(/aten::/g) || []).length, 1);
  t.dispose();
  w.dispose();
  x.dispose();
});

// ---- forwardAsync ---------------------------------------------------------------------------------

test('forwardAsync resolves with what forward gives; the call returns before the forward runs', async () => {
  const net = makeNet(3);
  const x = torch.randn([2, 3, 16, 16]);
  const traced = torch.jit.trace(net, x);
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  const p = traced.forwardAsync(x);
  assert.ok(p instanceof Promise);
  const y = await p;
  assert.ok(turned, 'the event loop turned while the forward ran');
  const ref = torch.inferenceMode(() => traced.forward(x));
  assert.ok(maxDiff(y, ref) <= 1e-6);
  assert.equal(torch.isGradEnabled(), true, 'grad mode on the main thread is untouched');
  assert.equal(torch.isInferenceModeEnabled(), false);
  assert.equal(y.requiresGrad, false);
  for (const t of [y, ref, x]) t.dispose();
  traced.dispose();
  net.dispose();
});

test("many concurrent forwardAsync calls on one module each give their own input's answer", async () => {
  const net = makeNet(4);
  const example = torch.randn([1, 3, 16, 16]);
  const traced = torch.jit.trace(net, example);
  example.dispose();
  const inputs = Array.from({ length: 200 }, () => torch.randn([(1 + Math.random() * 3) | 0, 3, 16, 16]));
  const outs = await Promise.all(inputs.map((x) => traced.forwardAsync(x)));
  for (let i = 0; i < inputs.length; i++) {
    const ref = torch.inferenceMode(() => traced.forward(inputs[i]));
    assert.ok(maxDiff(outs[i], ref) <= 1e-6, `call ${i}`);
    ref.dispose();
  }
  torch.dispose([outs, inputs]);
  traced.dispose();
  net.dispose();
});

test('inputs and even the module may be disposed while a call is in flight', async () => {
  const net = makeNet(5);
  const x = torch.randn([4, 3, 32, 32]);
  const traced = torch.jit.trace(net, x);
  const ref = torch.inferenceMode(() => traced.forward(x));
  const p = traced.forwardAsync(x);
  x.dispose();
  traced.dispose();
  net.dispose();
  const y = await p;
  assert.ok(maxDiff(y, ref) <= 1e-6);
  y.dispose();
  ref.dispose();
  const z = torch.ones([1, 3, 8, 8]);
  await assert.rejects(traced.forwardAsync(z), /TorchScript module was disposed/);
  z.dispose();
});

test('forwardAsync errors reject with a TorchError; the module stays usable', async () => {
  const net = makeNet(6);
  const x = torch.randn([1, 3, 16, 16]);
  const traced = torch.jit.trace(net, x);
  const bad = torch.randn([1, 4, 16, 16]);
  await assert.rejects(traced.forwardAsync(bad), (e) => {
    assert.ok(e instanceof torch.TorchError, `got ${e?.constructor.name}`);
    assert.equal(e.code, 'ERR_TORCH');
    assert.match(e.message, /expected input\[1, 4, 16, 16\] to have 3 channels, but got 4 channels instead/);
    assert.doesNotMatch(e.message, /Exception raised from/);
    assert.equal(typeof e.nativeStack, 'string');
    return true;
  });
  await assert.rejects(
    traced.forwardAsync('x'),
    (e) => e.code === 'ERR_TORCH_ARG' && /forward\(\): argument 'x': expected Tensor, got a string/.test(e.message),
  );
  await assert.rejects(traced.forwardAsync(), /forward\(\): missing argument 'x'/);
  await assert.rejects(traced.runMethodAsync('nope'), /has no TorchScript method 'nope'/);
  const disposed = torch.ones([1]);
  disposed.dispose();
  await assert.rejects(traced.forwardAsync(disposed), (e) => e.code === 'ERR_TORCH_DISPOSED');
  const y = await traced.forwardAsync(x);
  assert.deepEqual(y.shape, [1, 5]);
  for (const t of [y, x, bad]) t.dispose();
  traced.dispose();
  net.dispose();
});

test('a module with calls in flight refuses to change (ERR_TORCH_BUSY); afterwards it may', async () => {
  const net = makeNet(7);
  const x = torch.randn([2, 3, 16, 16]);
  const traced = torch.jit.trace(net, x);
  const p = Promise.all([traced.forwardAsync(x), traced.forwardAsync(x)]);
  assert.equal(traced.pendingCalls, 2);
  const busy = (e) => e.code === 'ERR_TORCH_BUSY' && /2 forwardAsync calls are running on this TorchScript module/.test(e.message);
  assert.throws(() => traced.train(), busy);
  const bias = torch.zeros([8]);
  assert.throws(() => traced.conv1.registerParameter('bias', bias), busy);
  bias.dispose();
  assert.throws(() => traced.to('float64'), busy);
  assert.throws(() => traced.loadStateDict(new Map()), busy);
  const outs = await p;
  assert.equal(traced.pendingCalls, 0);
  traced.train();
  traced.eval();
  torch.dispose(outs);
  traced.dispose();
  net.dispose();
  x.dispose();
});

test('forwardAsync on a module scripted in Python: dicts, lists and numbers in and out', async () => {
  runPython(
    `
import json, sys, torch
from typing import Dict, List, Tuple
d = json.load(sys.stdin)
class IO(torch.nn.Module):
    def forward(self, x: torch.Tensor, d: Dict[str, torch.Tensor], l: List[int], k: int = 3) -> Tuple[Dict[str, torch.Tensor], List[torch.Tensor], int]:
        y = x * k + d['a']
        if bool(y.sum() > 0):
            y = y + 1
        return {'y': y}, [x[i] for i in l], len(l) + k
torch.jit.script(IO()).save(d['file'])
print('{}')
`,
    { file: path.join(dir, 'io.pt') },
  );
  const m = torch.jit.load(path.join(dir, 'io.pt'));
  const x = torch.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { dtype: 'float32' },
  );
  const a = torch.ones([2, 2]);
  const [d, parts, n] = await m.forwardAsync(x, new Map([['a', a]]), [1, 0]);
  assert.deepEqual(d.get('y').tolist(), [
    [5, 8],
    [11, 14],
  ]);
  assert.deepEqual(
    parts.map((t) => t.tolist()),
    [
      [3, 4],
      [1, 2],
    ],
  );
  assert.equal(n, 5);
  torch.dispose([d.get('y'), parts, x, a]);
  m.dispose();
});

test('every test left the tensor table as it found it', async () => {
  for (let i = 0; i < 5 && torch.memory().liveTensors !== baseline; i++) {
    global.gc?.();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(torch.memory().liveTensors, baseline);
  fs.rmSync(dir, { recursive: true, force: true });
});
