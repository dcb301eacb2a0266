'use strict';
// Issue 13: code ported line by line from PyTorch behaves as in Python or throws a TorchError that
// names the torch-node way. Attribute semantics (nn.Module.__setattr__/__delattr__), hooks, container
// edits, re-initialisation, nn.Frozen's names, the errors that name the fix, and the typed helpers.
// Numbers are checked against live Python (float32, one thread; atol 1e-6 unless stated; init values
// after the same manual_seed are compared exactly).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-porting-'));
test.afterEach((t) => {
  if (process.env.LEAKLOG) console.log('#LIVE', torch.memory().liveTensors, t.name);
});
const flat = (t) => t.reshape([-1]).tolist();
const close = (a, b, tol = 1e-6, msg = '') => {
  assert.equal(a.length, b.length, msg);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol * (1 + Math.abs(b[i])), `${msg} [${i}] ${x} vs ${b[i]}`));
};

// ---- 1. assignment registers ------------------------------------------------------------------------
test('model.fc = new nn.Linear(...) replaces the head: state dict, parameters() and the optimizer see it', () =>
  torch.tidy(() => {
    const m = torch.vision.models.resnet18();
    const keysBefore = [...m.stateDict().keys()];
    const old = m.fc;
    m.fc = new nn.Linear(512, 10);
    old.dispose(); // a replaced module is the caller's, as in Python (the GC frees it otherwise)
    assert.deepEqual(m.stateDict().get('fc.weight').shape, [10, 512]);
    assert.ok(m.parameters().includes(m.fc.weight), 'the new head is trained');
    assert.deepEqual([...m.stateDict().keys()], keysBefore, 'replacing keeps the position (fc stays last)');
    assert.equal(m.getSubmodule('fc'), m.fc);
    const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1 });
    const before = flat(m.fc.bias);
    m.call(torch.randn([2, 3, 32, 32]))
      .sum()
      .backward();
    opt.step();
    assert.notDeepEqual(flat(m.fc.bias), before, 'an optimizer built after the swap moves the new head');
    const head = m.fc;
    m.fc = new nn.Identity();
    head.dispose();
    m.eval();
    assert.equal(m.stateDict().has('fc.weight'), false);
    assert.deepEqual(m.call(torch.randn([1, 3, 32, 32])).shape, [1, 512], 'nn.Identity as the head gives features');
    delete m.fc;
    assert.equal(m.fc, undefined);
    assert.equal([...m.namedChildren().keys()].includes('fc'), false, 'delete model.fc unregisters (Python del)');
    m.dispose();
  }));

test('assignment follows PyTorch: new names append, Parameters and buffers, null, TypeErrors, class fields', () =>
  torch.tidy(() => {
    class Net extends nn.Module {
      a = new nn.Linear(2, 2); // a class field registers
      b; // a field without initialiser: undefined, a plain attribute until assigned
      constructor() {
        super();
        this.b = new nn.Linear(2, 1); // a constructor assignment registers after a
        this.scale = 3; // a plain value stays a plain attribute
        this.register_me = new nn.Parameter(torch.ones([1]));
      }
      forward(x) {
        return this.b.call(this.a.call(x)).mul(this.scale).add(this.register_me);
      }
    }
    const n = new Net();
    assert.deepEqual(
      [...n.stateDict().keys()],
      ['register_me', 'a.weight', 'a.bias', 'b.weight', 'b.bias'],
      "own parameters first, then children in registration order, as PyTorch's state_dict",
    );
    assert.equal(n.parameters().length, 5);
    assert.deepEqual(n.call(torch.ones([1, 2])).shape, [1, 1]);
    n.c = new nn.Linear(1, 1);
    assert.deepEqual([...n.namedChildren().keys()], ['a', 'b', 'c'], 'a new name appends');
    const firstA = n.a;
    n.a = new nn.Linear(2, 2);
    firstA.dispose();
    assert.deepEqual([...n.namedChildren().keys()], ['a', 'b', 'c'], 'replacing keeps the position');

    const lin = new nn.Linear(2, 3);
    assert.throws(
      () => {
        lin.weight = torch.zeros([3, 2]);
      },
      (e) =>
        e.code === 'ERR_TORCH_TYPE' &&
        /cannot assign Tensor \(float32\) as parameter 'weight' \(torch\.nn\.Parameter or null expected\).*new nn\.Parameter\(t\).*copy_/.test(e.message),
    );
    const p = new nn.Parameter(torch.zeros([3, 2]));
    const [w0, b0] = [lin.weight, lin.bias];
    lin.weight = p;
    assert.equal(lin.parameters()[0], p, 'a Parameter replaces the parameter, at its position');
    assert.equal(lin.namedParameters().get('weight'), p);
    lin.bias = null;
    w0.dispose();
    b0.dispose();
    assert.deepEqual([...lin.stateDict().keys()], ['weight'], 'null clears a parameter (Python None)');
    assert.equal(
      lin
        .call(torch.ones([1, 2]))
        .sum()
        .item(),
      0,
    );
    assert.throws(
      () => {
        n.a = 5;
      },
      (e) => e.code === 'ERR_TORCH_TYPE' && /cannot assign number 5 as child module 'a' \(torch\.nn\.Module or null expected\)/.test(e.message),
    );
    const secondA = n.a;
    n.a = null;
    secondA.dispose();
    assert.equal(n.a, null);
    assert.equal(n.stateDict().has('a.weight'), false);

    const bn = new nn.BatchNorm2d(3);
    const rm = torch.full([3], 5);
    const rm0 = bn.runningMean;
    bn.running_mean = rm;
    rm0.dispose();
    assert.equal(bn.runningMean, rm, 'a tensor onto a buffer name replaces the buffer');
    assert.deepEqual(flat(bn.stateDict().get('running_mean')), [5, 5, 5]);
    assert.throws(
      () => {
        bn.running_var = 'x';
      },
      (e) => e.code === 'ERR_TORCH_TYPE' && /as buffer 'running_var' \(torch\.Tensor or null expected\)/.test(e.message),
    );
    n.z = torch.zeros([2]);
    assert.equal(n.stateDict().has('z'), false, 'a plain tensor on a new name is a plain attribute, not a buffer (as PyTorch)');
    n.a = new nn.Parameter(torch.ones([2]));
    assert.equal(n.namedChildren().has('a'), false, 'a Parameter onto a child name replaces the child');
    assert.ok(n.namedParameters().has('a'));
    delete lin.weight;
    assert.equal(lin.parameters().length, 0, 'delete lin.weight unregisters');
    p.dispose();
    for (const m of [n, lin, bn]) m.dispose();
  }));

// ---- 2. hooks --------------------------------------------------------------------------------------
const PY_HOOKS = `
import json, sys, torch, torch.nn as nn
torch.set_num_threads(1)
req = json.load(sys.stdin)
torch.manual_seed(0)
lin = nn.Linear(3, 2)
x = torch.tensor(req['x'], requires_grad=True)
rec = {}
def bw(m, gi, go):
    rec['gi'] = gi[0].reshape(-1).tolist(); rec['go'] = go[0].reshape(-1).tolist()
    return (gi[0] * 3,)
lin.register_full_backward_hook(bw)
lin.register_forward_hook(lambda m, a, o: o * 2)
y = lin(x)
y.pow(2).sum().backward()
rec['y'] = y.reshape(-1).tolist(); rec['xgrad'] = x.grad.reshape(-1).tolist()
rec['wgrad'] = lin.weight.grad.reshape(-1).tolist()
t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = t.register_hook(lambda g: g * 10)
(t * t).sum().backward()
rec['thook'] = t.grad.tolist()
h.remove(); t.grad = None
(t * t).sum().backward()
rec['tnohook'] = t.grad.tolist()
print(json.dumps(rec))
`;

test('forward, full backward and tensor hooks give the gradients Python gives', () =>
  torch.tidy(() => {
    const x = [
      [0.5, -1, 2],
      [1, 0.25, -0.5],
    ];
    const py = runPython(PY_HOOKS, { x });
    torch.manualSeed(0);
    const lin = new nn.Linear(3, 2);
    const xt = torch.tensor(x, { requiresGrad: true });
    const rec = {};
    const hb = lin.registerFullBackwardHook((m, gi, go) => {
      assert.equal(m, lin);
      rec.gi = flat(gi[0]);
      rec.go = flat(go[0]);
      return [gi[0].mul(3)];
    });
    const hf = lin.registerForwardHook((m, args, out) => out.mul(2));
    const y = lin.call(xt);
    y.pow(2).sum().backward();
    close(flat(y), py.y, 1e-6, 'forward hook output');
    close(rec.go, py.go, 1e-6, 'grad_output');
    close(rec.gi, py.gi, 1e-6, 'grad_input');
    close(flat(xt.grad), py.xgrad, 1e-6, 'the replaced grad_input reaches x');
    close(flat(lin.weight.grad), py.wgrad, 1e-6, 'weight grad');
    hb.remove();
    hf.remove();
    assert.equal(lin._hooks, null, 'removing every hook restores the plain call');
    const t = torch.tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const h = t.registerHook((g) => g.mul(10));
    t.mul(t).sum().backward();
    assert.deepEqual(flat(t.grad), py.thook);
    h.remove();
    h.remove(); // idempotent
    t.grad = null;
    t.mul(t).sum().backward();
    assert.deepEqual(flat(t.grad), py.tnohook);
    assert.throws(
      () => torch.zeros([2]).registerHook(() => {}),
      (e) => e.code === 'ERR_TORCH_ARG' && /doesn't require gradient/.test(e.message),
    );
    const err = torch.ones([2], { requiresGrad: true });
    err.registerHook(() => {
      throw new Error('from the hook');
    });
    assert.throws(() => err.mul(2).sum().backward(), /from the hook/, "a hook's exception fails backward");
    lin.dispose();
  }));

test('tensor hooks: a backward inside a hook, createGraph through a hook, many hooks in one graph', () =>
  torch.tidy(() => {
    // With a JS hook alive, backward() runs the graph on a worker thread and the JS thread serves the
    // hooks (binding/autograd.cc); this checks that machinery on the CPU, where it is reachable.
    const inner = torch.tensor([2], { dtype: 'float32', requiresGrad: true });
    inner.registerHook((g) => g.mul(5));
    const x = torch.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    x.registerHook((g) => {
      inner.mul(inner).sum().backward(); // a nested backward with its own hook
      return g.add(1);
    });
    x.mul(3).sum().backward();
    assert.deepEqual(flat(x.grad), [4, 4]);
    assert.deepEqual(flat(inner.grad), [20], 'the nested hook ran: 2*2*5');
    const z = torch.tensor([3], { dtype: 'float32', requiresGrad: true });
    z.registerHook((g) => g.mul(2));
    z.pow(3).sum().backward(null, { createGraph: true });
    assert.deepEqual(flat(z.grad), [54], 'hooked first derivative 2*3z^2');
    assert.equal(z.grad.requiresGrad, true, 'createGraph holds on the worker thread (thread-local state carried over)');
    const ws = Array.from({ length: 50 }, (_, i) => torch.tensor([i], { dtype: 'float32', requiresGrad: true }));
    let calls = 0;
    ws.forEach((w) =>
      w.registerHook(() => {
        calls++;
      }),
    );
    ws.reduce((acc, w) => acc.add(w.mul(w)), torch.zeros([1]))
      .sum()
      .backward();
    assert.equal(calls, 50);
    assert.deepEqual(flat(ws[7].grad), [14]);
  }));

test('pre-hooks replace arguments, prepend orders, alwaysCall runs on a throw, state-dict hooks', () =>
  torch.tidy(() => {
    const relu = new nn.ReLU();
    const order = [];
    relu.registerForwardPreHook((m, args) => [args[0].neg()]);
    relu.registerForwardHook(() => {
      order.push('second');
    });
    relu.registerForwardHook(
      () => {
        order.push('first');
      },
      { prepend: true },
    );
    assert.deepEqual(flat(relu.call(torch.tensor([1, -2]))), [0, 2]);
    assert.deepEqual(order, ['first', 'second']);
    assert.deepEqual(flat(relu.forward(torch.tensor([1, -2]))), [1, 0], 'forward() itself bypasses hooks, as in PyTorch');
    const lin = new nn.Linear(2, 2);
    let seen = 'not called';
    lin.registerForwardHook(
      (m, a, out) => {
        seen = out;
      },
      { alwaysCall: true },
    );
    assert.throws(() => lin.call(torch.ones([1, 5])));
    assert.equal(seen, undefined, 'alwaysCall hook ran with no output when forward threw');
    assert.throws(() => lin.registerForwardPreHook(() => {}, { alwaysCall: true }), /unknown option 'alwaysCall'/);
    const seq = new nn.Sequential(new nn.Linear(2, 2));
    const calls = [];
    seq.at(0).registerStateDictPreHook((m, prefix, keepVars) => calls.push([prefix, keepVars]));
    seq.registerStateDictPostHook((m, sd) => {
      sd.set('extra', torch.zeros([1]));
    });
    const sd = seq.stateDict();
    assert.deepEqual(calls, [['0.', false]]);
    assert.ok(sd.has('extra'));
    // A load pre-hook renames old keys; a post-hook may clear the missing keys before strict checks.
    seq.registerLoadStateDictPreHook((m, d) => {
      if (d.has('old.weight')) {
        d.set('0.weight', d.get('old.weight'));
        d.delete('old.weight');
      }
    });
    const r = seq.loadStateDict(
      new Map([
        ['old.weight', torch.ones([2, 2])],
        ['0.bias', torch.zeros([2])],
      ]),
    );
    assert.deepEqual(r, { missingKeys: [], unexpectedKeys: [] });
    assert.deepEqual(flat(seq.at(0).weight), [1, 1, 1, 1]);
    const h = seq.registerLoadStateDictPostHook((m, keys) => {
      keys.missingKeys.length = 0;
    });
    assert.doesNotThrow(() => seq.loadStateDict(new Map([['0.weight', torch.zeros([2, 2])]])), 'the post-hook cleared the missing bias');
    h.remove();
    assert.throws(() => seq.loadStateDict(new Map([['0.weight', torch.zeros([2, 2])]])), /missing keys \(1\): 0\.bias/);
    for (const m of [relu, lin, seq]) m.dispose();
  }));

test('feature extraction: a forward hook (the README recipe) and createFeatureExtractor equal torchvision', () => {
  const file = path.join(dir, 'r18.pth');
  const py = runPython(
    `
import json, sys, torch, torchvision
from torchvision.models.feature_extraction import create_feature_extractor
torch.set_num_threads(1)
req = json.load(sys.stdin)
torch.manual_seed(0)
m = torchvision.models.resnet18().eval()
torch.save(m.state_dict(), req['file'])
x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
fx = create_feature_extractor(m, return_nodes={'layer2': 'mid', 'layer4.1.conv2': 'deep', 'avgpool': 'pooled'})
with torch.no_grad():
    out = fx(x)
print(json.dumps({'x': x.reshape(-1).tolist(), **{k: [list(v.shape), v.double().sum().item(), v.reshape(-1)[:5].tolist()] for k, v in out.items()}}))
`,
    { file },
  );
  torch.tidy(() => {
    const m = torch.vision.models.resnet18({ weights: file }).eval();
    const x = torch.tensor(py.x).reshape([1, 3, 64, 64]);
    const feats = {};
    // Tensors made inside a forward belong to its tidy(): keep() what a hook stores (Python: output.detach()).
    const h = m.avgpool.registerForwardHook((mod, args, out) => {
      feats.pooled = torch.keep(out.detach());
    });
    torch.noGrad(() => m.call(x));
    h.remove();
    close([feats.pooled.double().sum().item()], [py.pooled[1]], 1e-5, 'forward-hook features');
    feats.pooled.dispose();
    const fx = torch.vision.models.featureExtraction.createFeatureExtractor(m, { returnNodes: { layer2: 'mid', 'layer4.1.conv2': 'deep', avgpool: 'pooled' } });
    assert.deepEqual([...fx.stateDict().keys()], [...m.stateDict().keys()], 'the extractor keeps the model names');
    const out = torch.noGrad(() => fx.call(x));
    for (const k of ['mid', 'deep', 'pooled']) {
      assert.deepEqual(out[k].shape, py[k][0], k);
      close([out[k].double().sum().item()], [py[k][1]], 1e-5, `${k} sum`);
      close(flat(out[k]).slice(0, 5), py[k][2], 1e-5, `${k} first values`);
    }
    assert.throws(
      () => torch.vision.models.featureExtraction.createFeatureExtractor(m, { returnNodes: ['flatten'] }),
      (e) => e.code === 'ERR_TORCH_ARG' && /'flatten' is not a module call of ResNet.*getGraphNodeNames/.test(e.message),
    );
    const [, evalNodes] = torch.vision.models.featureExtraction.getGraphNodeNames(m, torch.zeros([1, 3, 32, 32]));
    assert.deepEqual(evalNodes.slice(0, 5), ['conv1', 'bn1', 'relu', 'maxpool', 'layer1.0.conv1']);
    assert.equal(m._hooks, null, 'the extractor leaves no hooks behind');
    m.dispose();
  });
});

// ---- 3. containers ---------------------------------------------------------------------------------
test("Sequential and ModuleList edits give PyTorch's keys: negative index, slices, insert, extend, pop, del", () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch.nn as nn
s = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh())
out = {'last': type(s[-1]).__name__, 'head': list(s[:-1].state_dict().keys()), 'tail': list(s[1:].state_dict().keys())}
del s[1]; out['del'] = [(k, type(v).__name__) for k, v in s.named_children()]
s.insert(1, nn.Sigmoid()); s.append(nn.ReLU()); s.extend(nn.Sequential(nn.Identity()))
out['ins'] = [(k, type(v).__name__) for k, v in s.named_children()]
out['pop'] = type(s.pop(0)).__name__; out['afterpop'] = [(k, type(v).__name__) for k, v in s.named_children()]
s[-1] = nn.GELU(); out['set'] = [(k, type(v).__name__) for k, v in s.named_children()]
l = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Tanh()])
out['lslice'] = list(l[1:].state_dict().keys()) + [k for k, _ in l[1:].named_children()]
l.insert(0, nn.Identity()); del l[-1]; out['list'] = [(k, type(v).__name__) for k, v in l.named_children()]
print(json.dumps(out))
`);
    const kids = (m) => [...m.namedChildren()].map(([k, v]) => [k, v.constructor.name]);
    const s = new nn.Sequential(new nn.Linear(1, 2), new nn.ReLU(), new nn.Linear(2, 3), new nn.Tanh());
    assert.equal(s[-1].constructor.name, py.last, 'seq[-1]');
    assert.equal(s.at(-1), s[-1]);
    assert.deepEqual([...s.slice(0, -1).stateDict().keys()], py.head, 'model[:-1]');
    assert.deepEqual([...s.slice(1).stateDict().keys()], py.tail, 'model[1:] keeps the keys, as Sequential slicing does');
    delete s[1];
    assert.deepEqual(kids(s), py.del, 'del seq[1] renumbers');
    s.insert(1, new nn.Sigmoid()).append(new nn.ReLU()).extend(new nn.Sequential(new nn.Identity()));
    assert.deepEqual(kids(s), py.ins);
    const popped = s.pop(0);
    assert.equal(popped.constructor.name, py.pop);
    popped.dispose();
    assert.deepEqual(kids(s), py.afterpop);
    s[-1] = new nn.GELU();
    assert.deepEqual(kids(s), py.set, 'seq[-1] = m replaces in place');
    assert.throws(
      () => s[9],
      (e) => e.code === 'ERR_TORCH_INDEX' && /Sequential\[9\]: index 9 is out of range for 5 modules/.test(e.message),
    );
    assert.throws(
      () => {
        s[7] = new nn.ReLU();
      },
      (e) => e.code === 'ERR_TORCH_INDEX',
    );
    const l = new nn.ModuleList([new nn.Linear(1, 1), new nn.ReLU(), new nn.Tanh()]);
    const sl = l.slice(1);
    assert.deepEqual([...sl.stateDict().keys(), ...sl.namedChildren().keys()], py.lslice, 'a ModuleList slice is renumbered');
    l.insert(0, new nn.Identity());
    l.delete(-1);
    assert.deepEqual(kids(l), py.list);
    const d = new nn.ModuleDict({ a: new nn.ReLU() });
    d.b = new nn.Tanh();
    d.set('c', new nn.Identity());
    assert.deepEqual([...d], ['a', 'b', 'c'], 'iterating a ModuleDict gives keys');
    assert.equal(d.pop('a').constructor.name, 'ReLU');
    delete d.b;
    assert.deepEqual(d.keys(), ['c']);
    assert.ok(d.has('c') && d.size === 1);
    assert.throws(() => d.pop('zz'), /no key 'zz'; keys: c/);
    for (const m of [s, l, d]) m.dispose();
  }));

// ---- 4. re-initialisation --------------------------------------------------------------------------
test("resetParameters() equals PyTorch's reset_parameters after the same seed; BatchNorm's resets the running stats", () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch, torch.nn as nn
mods = [nn.Linear(3, 2), nn.Conv2d(2, 2, 3), nn.Bilinear(2, 3, 2), nn.Embedding(4, 2, padding_idx=1), nn.LayerNorm(3), nn.GroupNorm(1, 2), nn.BatchNorm1d(2)]
bn = mods[-1]
with torch.no_grad():
    for p in bn.parameters(): p.fill_(3)
bn.train(); bn(torch.randn(4, 2) + 5)
torch.manual_seed(7)
for m in mods: m.reset_parameters()
print(json.dumps([{k: v.double().reshape(-1).tolist() for k, v in m.state_dict().items()} for m in mods]))
`);
    const mods = [
      new nn.Linear(3, 2),
      new nn.Conv2d(2, 2, 3),
      new nn.Bilinear(2, 3, 2),
      new nn.Embedding(4, 2, { paddingIdx: 1 }),
      new nn.LayerNorm(3),
      new nn.GroupNorm(1, 2),
      new nn.BatchNorm1d(2),
    ];
    const bn = mods[mods.length - 1];
    torch.noGrad(() => bn.parameters().forEach((p) => p.fill_(3)));
    bn.train().call(torch.randn([4, 2]).add(5));
    torch.manualSeed(7);
    for (const m of mods) m.resetParameters();
    mods.forEach((m, i) => {
      for (const [k, v] of m.stateDict()) assert.deepEqual(flat(v.double()), py[i][k], `${m.constructor.name}.${k}`);
    });
    const rm0 = bn.runningMean;
    bn.registerBuffer('running_mean', torch.full([2], 9));
    rm0.dispose();
    bn.resetRunningStats();
    assert.deepEqual(flat(bn.runningMean), [0, 0]);
    // The re-initialisation loop of the tutorials resets pretrained statistics too.
    const m = torch.vision.models.resnet18();
    torch.noGrad(() => m.bn1.runningMean.fill_(4));
    m.apply((mod) => {
      if (typeof mod.resetParameters === 'function') mod.resetParameters();
    });
    assert.deepEqual(flat(m.bn1.runningMean).slice(0, 2), [0, 0]);
    for (const x of [...mods, m]) x.dispose();
  }));

// ---- 5. nn.Frozen ----------------------------------------------------------------------------------
test("nn.Frozen keeps the wrapped module's names: a Python checkpoint loads strictly", () => {
  const file = path.join(dir, 'bulk.pth');
  runPython(
    `
import json, sys, torch, torch.nn as nn
req = json.load(sys.stdin)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bulk1 = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        self.head = nn.Linear(3, 1)
    def forward(self, x):
        with torch.no_grad():
            x = self.bulk1(x)
        return self.head(x)
torch.save(Net().state_dict(), req['file'])
print(json.dumps(True))
`,
    { file },
  );
  torch.tidy(() => {
    class Net extends nn.Module {
      constructor() {
        super();
        this.bulk1 = new nn.Frozen(new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU()));
        this.head = new nn.Linear(3, 1);
      }
      forward(x) {
        return this.head.call(this.bulk1.call(x));
      }
    }
    const net = new Net();
    assert.deepEqual([...net.stateDict().keys()], ['bulk1.0.weight', 'bulk1.0.bias', 'head.weight', 'head.bias']);
    assert.deepEqual(net.loadStateDict(torch.load(file)), { missingKeys: [], unexpectedKeys: [] });
    assert.ok(net.bulk1.module instanceof nn.Sequential);
    assert.equal(torch.trainableParameters(net).length, 2);
    net.eval();
    assert.equal(net.bulk1.module.training, false);
    net.dispose();
  });
});

// ---- 6. errors that name the fix -------------------------------------------------------------------
test('errors name the torch-node way: save(model), whole-model pickles, pretrained, mapLocation, ckpt[key], shapes', () => {
  const whole = path.join(dir, 'whole.pt');
  const cudaFile = path.join(dir, 'cuda.pt');
  runPython(
    `
import json, sys, torch, torch.nn as nn, torch.serialization as s
req = json.load(sys.stdin)
torch.save(nn.Linear(2, 2), req['whole'])
s.location_tag = lambda storage: 'cuda:0'
torch.save({'w': torch.arange(4.0)}, req['cuda'])
print(json.dumps(True))
`,
    { whole, cuda: cudaFile },
  );
  torch.tidy(() => {
    const lin = new nn.Linear(2, 2);
    assert.throws(
      () => torch.save(lin, path.join(dir, 'm.pt')),
      (e) =>
        e.code === 'ERR_TORCH_SAVE' &&
        /cannot save a Linear: a module is saved as its state dict, torch\.save\(model\.stateDict\(\), f\).*torch\.jit\.trace/.test(e.message),
    );
    assert.equal(fs.existsSync(path.join(dir, 'm.pt')), false);
    assert.throws(
      () => torch.load(whole),
      (e) => e.code === 'ERR_TORCH_UNSAFE' && /torch\.nn\.modules\.linear\.Linear.*whole model saved with torch\.save\(model\).*state_dict\(\)/.test(e.message),
    );
    assert.throws(
      () => torch.vision.models.resnet18({ pretrained: true }),
      (e) => e.code === 'ERR_TORCH_ARG' && /weights: 'IMAGENET1K_V1' \} \(or 'DEFAULT'\)/.test(e.message),
    );
    if (!torch.cuda.isAvailable()) {
      assert.throws(
        () => torch.load(cudaFile, { mapLocation: { 'cuda:1': 'cpu' } }),
        /saved on 'cuda:0', which the mapLocation given does not map; map it, e\.g\. \{ mapLocation: \{ 'cuda:0': 'cpu' \} \}/,
      );
    } else {
      console.log('# CUDA is available: the uncovered-mapLocation hint (a CPU-only error) is not reachable here');
    }
    // Python's map_location=lambda storage, loc: storage keeps it on the CPU.
    const onDevice = (mapLocation) => {
      const v = torch.load(cudaFile, { mapLocation });
      const d = v.get('w').device;
      torch.dispose(v);
      return d;
    };
    assert.equal(
      onDevice((storage, loc) => storage),
      'cpu',
    );
    assert.equal(
      onDevice((storage, loc) => (loc === 'cuda:0' ? storage.cpu() : null)),
      'cpu',
    );
    assert.equal(
      onDevice((loc) => 'cpu'),
      'cpu',
      'a one-argument function keeps its meaning',
    );
    const ckFile = path.join(dir, 'ck.pt');
    torch.save(
      new Map([
        ['epoch', 4],
        ['model_state_dict', lin.stateDict()],
      ]),
      ckFile,
    );
    const ckpt = torch.load(ckFile);
    assert.ok(ckpt instanceof Map);
    assert.throws(
      () => ckpt['epoch'],
      (e) => e.code === 'ERR_TORCH_ARG' && /read 'epoch' with \.get\('epoch'\), not \['epoch'\]/.test(e.message),
    );
    assert.throws(() => ckpt.model_state_dict, /\.get\('model_state_dict'\)/);
    assert.throws(() => {
      ckpt['epoch'] = 5;
    }, /\.set\('epoch', value\)/);
    assert.equal(ckpt.get('epoch'), 4);
    assert.equal(ckpt.missing, undefined, 'names that are not keys read as usual');
    assert.throws(() => lin.loadStateDict(undefined), /got undefined.*ckpt\.get\('model_state_dict'\)/s);
    const asModule = new nn.Linear(2, 2);
    assert.throws(() => lin.loadStateDict(asModule), /got a module \(Linear\); pass other\.stateDict\(\)/);
    asModule.dispose();
    const other = new nn.Linear(2, 3);
    assert.throws(() => other.loadStateDict(ckpt.get('model_state_dict')), /shape mismatches.*filterStateDict\(sd, model, \{ matchShapes: true \}\)/s);
    other.dispose();
    lin.dispose();
    torch.dispose(ckpt);
  });
});

// ---- 7. typed helpers ------------------------------------------------------------------------------
test('getSubmodule and loadCheckpoint({ require }) check what the types promise', () =>
  torch.tidy(() => {
    const m = torch.vision.models.resnet18();
    assert.ok(m.getSubmodule('layer4.1.conv2') instanceof nn.Conv2d);
    const file = path.join(dir, 'ckpt-typed.pt');
    torch.saveCheckpoint(file, { model: m, epoch: 7 });
    assert.equal(torch.loadCheckpoint(file, { model: m, require: ['epoch'] }).epoch, 7);
    assert.throws(
      () => torch.loadCheckpoint(file, { model: m, require: ['loss'] }),
      (e) => e.code === 'ERR_TORCH_FILE' && /has no 'loss', which require names/.test(e.message),
    );
    m.dispose();
  }));

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
  fs.rmSync(dir, { recursive: true, force: true });
});
