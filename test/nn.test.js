'use strict';
// torch.nn modules against Python PyTorch: the same model built in both languages after the same
// seed has the same parameters (exactly: same ATen random calls in the same order), state-dict keys
// in the same order, the same printed form, the same forward outputs in train and eval mode, the same
// gradients and BatchNorm statistics. Forward/gradient tolerance: rtol 1e-5, atol 1e-5 (float32).
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const baseline = torch.memory().liveTensors;

class Net extends nn.Module {
  conv = this.registerModule('conv', new nn.Conv2d(3, 8, 3, { padding: 1 }));
  bn = this.registerModule('bn', new nn.BatchNorm2d(8));
  drop = this.registerModule('drop', new nn.Dropout(0.25));
  pool = this.registerModule('pool', new nn.AdaptiveAvgPool2d(1));
  head = this.registerModule('head', new nn.Sequential(new nn.Linear(8, 6), new nn.ReLU(), new nn.Linear(6, 3)));
  forward(x) {
    return torch.tidy(() => this.head.call(this.pool.call(this.drop.call(this.bn.call(this.conv.call(x).relu()))).flatten(1)));
  }
}

const PY_NET = `
import torch, torch.nn as nn, json, sys
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.25)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    def forward(self, x):
        return self.head(self.pool(self.drop(self.bn(self.conv(x).relu()))).flatten(1))
`;

const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
const close = (a, b, what, rtol = 1e-5, atol = 1e-5) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= atol + rtol * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
};

// Input: a fixed batch both sides build from the same numbers.
const X = Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => Math.round(Math.sin(i * 0.37) * 1000) / 1000);

let py;
test.before(() => {
  py = runPython(
    PY_NET +
      `
x = torch.tensor(json.load(sys.stdin), dtype=torch.float32).reshape(2, 3, 5, 5)
m = Net()
init = {k: v.reshape(-1).tolist() for k, v in m.state_dict().items()}
keys = list(m.state_dict().keys())
rep = str(m)
m.eval()
y_eval = m(x).reshape(-1).tolist()
m.train()
torch.manual_seed(5)
y = m(x)
y_train = y.reshape(-1).tolist()
loss = (y * torch.arange(6.).reshape(2, 3)).sum()
loss.backward()
grads = {k: p.grad.reshape(-1).tolist() for k, p in m.named_parameters()}
after = {k: v.reshape(-1).tolist() for k, v in m.state_dict().items() if k.startswith('bn.')}
names = [n for n, _ in m.named_modules()]
params = [n for n, _ in m.named_parameters()]
reprs = {
  'linear_nobias': str(nn.Linear(3, 2, bias=False)),
  'conv_full': str(nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), dilation=2, groups=2, bias=False)),
  'conv_same': str(nn.Conv2d(2, 2, 3, padding='same')),
  'convT': str(nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)),
  'bn1d': str(nn.BatchNorm1d(5, eps=1e-3, momentum=None, affine=False)),
  'ln': str(nn.LayerNorm([4, 5])),
  'gn': str(nn.GroupNorm(2, 4)),
  'emb': str(nn.Embedding(10, 3, padding_idx=0)),
  'maxpool': str(nn.MaxPool2d(3, stride=2, padding=1)),
  'avgpool': str(nn.AvgPool2d(2)),
  'acts': str(nn.Sequential(nn.ReLU(), nn.GELU(), nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2), nn.Softmax(dim=1), nn.Flatten(), nn.Identity(), nn.Dropout2d(0.1))),
  'modulelist': str(nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])),
  'moduledict': str(nn.ModuleDict({'a': nn.Linear(2, 2), 'b': nn.Tanh()})),
}
print(json.dumps({'init': init, 'keys': keys, 'repr': rep, 'y_eval': y_eval, 'y_train': y_train, 'grads': grads,
                  'bn_after': after, 'modules': names, 'params': params, 'reprs': reprs}))
`,
    X,
  );
});

test('same seed, same parameters: a model built in both languages initialises identically', () => {
  torch.manualSeed(0);
  const m = new Net();
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], py.keys, 'state-dict keys and order');
  for (const [k, v] of sd) assert.deepEqual(flat(v), py.init[k], `${k} (exact)`);
  torch.dispose([...sd.values()]);
  m.dispose();
});

test('printed form equals PyTorch', () => {
  torch.manualSeed(0);
  const m = new Net();
  assert.equal(String(m), py.repr);
  m.dispose();
  const make = {
    linear_nobias: () => new nn.Linear(3, 2, { bias: false }),
    conv_full: () => new nn.Conv2d(4, 6, [3, 2], { stride: 2, padding: [1, 0], dilation: 2, groups: 2, bias: false }),
    conv_same: () => new nn.Conv2d(2, 2, 3, { padding: 'same' }),
    convT: () => new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    bn1d: () => new nn.BatchNorm1d(5, { eps: 1e-3, momentum: null, affine: false }),
    ln: () => new nn.LayerNorm([4, 5]),
    gn: () => new nn.GroupNorm(2, 4),
    emb: () => new nn.Embedding(10, 3, { paddingIdx: 0 }),
    maxpool: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
    avgpool: () => new nn.AvgPool2d(2),
    acts: () =>
      new nn.Sequential(
        new nn.ReLU(),
        new nn.GELU(),
        new nn.SiLU(),
        new nn.Sigmoid(),
        new nn.Tanh(),
        new nn.LeakyReLU(0.2),
        new nn.Softmax(1),
        new nn.Flatten(),
        new nn.Identity(),
        new nn.Dropout2d(0.1),
      ),
    modulelist: () => new nn.ModuleList([new nn.Linear(2, 2), new nn.ReLU()]),
    moduledict: () => new nn.ModuleDict({ a: new nn.Linear(2, 2), b: new nn.Tanh() }),
  };
  for (const [k, f] of Object.entries(make)) {
    const mod = f();
    assert.equal(String(mod), py.reprs[k], k);
    mod.dispose();
  }
});

test('forward in eval and train mode, gradients and BatchNorm statistics equal PyTorch', () => {
  torch.manualSeed(0);
  const m = new Net();
  const x = torch.tidy(() => torch.tensor(X, { dtype: 'float32' }).reshape(2, 3, 5, 5));
  m.eval();
  assert.equal(m.bn.training, false, 'eval() reaches children');
  const ye = m.call(x);
  close(flat(ye), py.y_eval, 'eval output');
  m.train();
  assert.equal(m.head.at(0).training, true, 'train() reaches grandchildren');
  torch.manualSeed(5); // the same dropout mask as Python's
  const y = m.call(x);
  close(flat(y), py.y_train, 'train output (dropout mask from the same seed)');
  torch.tidy(() =>
    y
      .mul(torch.arange(6, { dtype: 'float32' }).reshape(2, 3))
      .sum()
      .backward(),
  );
  for (const [k, p] of m.namedParameters()) {
    close(flat(p.grad), py.grads[k], `grad of ${k}`, 1e-4, 1e-5);
    assert.equal(p.grad, p.grad, 'the same grad object on every access');
  }
  const sd = m.stateDict();
  for (const k of Object.keys(py.bn_after)) close(flat(sd.get(k)), py.bn_after[k], `${k} after one training forward`);
  assert.deepEqual([...m.namedModules().keys()], py.modules, 'named_modules order');
  assert.deepEqual([...m.namedParameters().keys()], py.params, 'named_parameters order');
  torch.dispose([x, ye, y, ...sd.values()]);
  m.dispose();
});

test('weights from Python load strictly and reproduce Python outputs', () => {
  const m = new Net();
  const sd = new Map(
    Object.entries(py.init).map(([k, v]) => {
      const ref = m._stateEntries().find(([n]) => n === k)[1];
      return [k, torch.tidy(() => torch.tensor(v, { dtype: ref.dtype }).reshape(ref.shape))];
    }),
  );
  const r = m.loadStateDict(sd);
  assert.deepEqual(r, { missingKeys: [], unexpectedKeys: [] });
  m.eval();
  const x = torch.tidy(() => torch.tensor(X, { dtype: 'float32' }).reshape(2, 3, 5, 5));
  const y = m.call(x);
  close(flat(y), py.y_eval, 'eval output after loading Python weights');
  torch.dispose([x, y, ...sd.values()]);
  m.dispose();
});

test('loadStateDict strict: one error lists every missing, unexpected and mismatched key, and changes nothing', () =>
  torch.tidy(() => {
    const m = new Net();
    const before = m.stateDict();
    const snapshot = new Map([...before].map(([k, v]) => [k, flat(v)]));
    const sd = m.stateDict();
    sd.delete('conv.bias');
    sd.delete('bn.running_var');
    sd.set('extra.weight', torch.zeros(2));
    sd.set('head.2.weight', torch.zeros(5, 6));
    sd.set('head.0.bias', torch.full([6], 7)); // a good key: must not be applied when the load fails
    assert.throws(
      () => m.loadStateDict(sd),
      (e) => {
        assert.ok(e instanceof torch.TorchError);
        assert.match(e.message, /nothing was changed/);
        assert.match(e.message, /missing keys \(2\): conv\.bias, bn\.running_var/);
        assert.match(e.message, /unexpected keys \(1\): extra\.weight/);
        assert.match(e.message, /head\.2\.weight: checkpoint \[5, 6\] vs model \[3, 6\]/);
        return true;
      },
    );
    for (const [k, v] of m.stateDict()) assert.deepEqual(flat(v), snapshot.get(k), `${k} unchanged after the failed load`);
    // Not strict: missing and unexpected keys are reported, not fatal; a shape mismatch still is.
    sd.delete('head.2.weight');
    const r = m.loadStateDict(sd, { strict: false });
    assert.deepEqual(r.missingKeys, ['conv.bias', 'bn.running_var', 'head.2.weight']);
    assert.deepEqual(r.unexpectedKeys, ['extra.weight']);
    assert.deepEqual(flat(m.head.at(0).bias), Array(6).fill(7), 'matching keys were loaded');
    m.dispose();
  }));

test('head swap: registering a name again replaces the child (the transfer-learning recipe)', () => {
  const m = new Net();
  const old = m.head;
  const head = m.registerModule('head', new nn.Linear(8, 5));
  assert.equal(m.head, head, 'this.head follows the registration');
  const x = torch.randn(2, 3, 5, 5);
  const y = m.call(x);
  assert.deepEqual(y.shape, [2, 5]);
  assert.deepEqual(
    [...m.stateDict({ keepVars: true }).keys()].filter((k) => k.startsWith('head')),
    ['head.weight', 'head.bias'],
  );
  old.dispose();
  torch.dispose([x, y]);
  m.dispose();
});

test('Module.to() converts in place: the same parameter objects, new dtype', () => {
  const m = new nn.Linear(3, 2);
  const w = m.weight;
  const before = flat(w);
  m.to('float64');
  assert.equal(m.weight, w, 'same Parameter object');
  assert.equal(w.dtype, 'float64');
  assert.equal(w.requiresGrad, true);
  assert.ok(w.isLeaf);
  close(flat(w), before, 'values kept', 1e-7, 0);
  assert.throws(() => m.to('tpu'), /argument 'device' must be 'cpu', 'cuda', 'cuda:N'/);
  m.dispose();
});

test('zeroGrad, requiresGrad_, getSubmodule, parameters, children', () =>
  torch.tidy(() => {
    const m = new Net();
    const x = torch.randn(2, 3, 5, 5);
    torch.tidy(() => m.call(x).sum().backward());
    assert.ok(m.parameters().every((p) => p.grad !== null));
    m.zeroGrad();
    assert.ok(m.parameters().every((p) => p.grad === null));
    m.requiresGrad_(false);
    assert.ok(m.parameters().every((p) => !p.requiresGrad));
    assert.equal(m.getSubmodule('head.2'), m.head.at(2));
    assert.throws(() => m.getSubmodule('head.7'), /getSubmodule\(\): head has no submodule '7' \(looking for 'head\.7'\)/);
    assert.equal(m.getParameter('head.0.weight'), m.head.at(0).weight);
    assert.equal(m.children().length, 5);
    assert.equal(m.parameters().length, 8);
    assert.equal(m.buffers().length, 3);
    x.dispose();
    m.dispose();
  }));

test('registration errors name the problem', () =>
  torch.tidy(() => {
    const m = new nn.Module();
    assert.throws(() => m.registerModule('a.b', new nn.ReLU()), /registerModule\(\): argument 'name' must be a non-empty module name without '\.'/);
    assert.throws(() => m.registerModule('x', 3), /registerModule\(\): argument 'module' must be a Module or null, got number 3/);
    m.registerParameter('w', torch.ones(2));
    assert.throws(() => m.registerBuffer('w', torch.ones(2)), /'w' is already a parameter/);
    assert.throws(() => m.forward(1), /Module has no forward\(\)/);
    assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /inChannels \(3\) and outChannels \(4\) must be divisible by groups \(2\)/);
    const bn = new nn.BatchNorm2d(3);
    assert.throws(() => bn.call(torch.ones(2, 3)), /BatchNorm2d: expected 4D input \(got 2D input\)/);
    bn.dispose();
    m.dispose();
  }));

test('state dicts through .pt files both ways: Python saves, torch-node loads strictly; torch-node saves, Python loads strictly', () => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-nn-'));
  const fromPy = path.join(dir, 'from-python.pth');
  const fromNode = path.join(dir, 'from-node.pth');
  const first = runPython(
    PY_NET +
      `
d = json.load(sys.stdin)
x = torch.tensor(d['x'], dtype=torch.float32).reshape(2, 3, 5, 5)
m = Net()
m.train(); m(x)            # BatchNorm statistics move
m.eval()
torch.save(m.state_dict(), d['file'])
print(json.dumps({'y': m(x).reshape(-1).tolist()}))
`,
    { x: X, file: fromPy },
  );
  torch.tidy(() => {
    const m = new Net();
    const sd = torch.load(fromPy);
    assert.ok(sd instanceof Map);
    assert.deepEqual(m.loadStateDict(sd), { missingKeys: [], unexpectedKeys: [] });
    m.eval();
    const x = torch.tensor(X, { dtype: 'float32' }).reshape(2, 3, 5, 5);
    close(flat(m.call(x)), first.y, 'output with the Python-saved weights');
    torch.noGrad(() => m.head.at(2).bias.fill_(0.25));
    torch.save(m.stateDict(), fromNode);
    const second = runPython(
      PY_NET +
        `
d = json.load(sys.stdin)
x = torch.tensor(d['x'], dtype=torch.float32).reshape(2, 3, 5, 5)
m = Net()
m.load_state_dict(torch.load(d['file']))   # weights_only=True, strict
m.eval()
print(json.dumps({'y': m(x).reshape(-1).tolist(), 'bias': m.head[2].bias.tolist()}))
`,
      { x: X, file: fromNode },
    );
    assert.deepEqual(second.bias, [0.25, 0.25, 0.25]);
    close(flat(m.call(x)), second.y, 'Python output with the torch-node-saved weights');
    m.dispose();
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
