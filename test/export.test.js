'use strict';
// torch.export.load against Python: archives written by torch.export.save (a small Conv/BatchNorm/
// residual/Linear/Dropout model in eval and in train mode, and torchvision's ResNet-18) load as
// modules whose forward, BatchNorm statistics, gradients and one SGD step equal Python's
// ep.module(); hostile archives (truncated, unknown schema version, unknown or higher-order
// operators, short weight payloads) throw TorchErrors saying what is wrong; nothing leaks.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const tex = require('../dist/export');
const { spawnSync } = require('child_process');
const zipr = require('../dist/serialization/zip');
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // the Python reference runs on one thread: the same summation order
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-export-'));
const shared = require('./helpers/export');
const { close } = shared;
const flat = (t) => shared.flat(torch, t);
const lin = (shape) => shared.lin(torch, shape);
const SMALL = [2, 3, 8, 8];
const RES = [1, 3, 64, 64];
const MOB = [1, 3, 96, 96];

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, os, zipfile, warnings, copy
warnings.filterwarnings('ignore')
import torch, torchvision, torch.nn as nn
d = json.load(sys.stdin)
out = {}
def lin(shape):
    n = 1
    for s in shape: n *= s
    return torch.linspace(-1, 1, n).reshape(shape)
flat = lambda t: t.detach().reshape(-1).tolist()

class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 1, bias=False)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 8 * 8, 5)
    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        y = y + self.conv2(y)            # residual add
        return self.fc(self.drop(y.flatten(1)))

torch.manual_seed(0)
m = Small()
x = lin(${JSON.stringify(SMALL)})
# eval
m.eval()
ep = torch.export.export(m, (x,))
torch.export.save(ep, os.path.join(d['dir'], 'small_eval.pt2'))
with torch.no_grad():
    out['eval_y'] = flat(ep.module()(x))
# train (dropout off so the result is deterministic; BatchNorm uses batch statistics)
m.train(); m.drop.p = 0.0
ep = torch.export.export(m, (x,))
torch.export.save(ep, os.path.join(d['dir'], 'small_train.pt2'))
mod = ep.module()
y = mod(x)
out['train_y'] = flat(y)
bufs = dict(mod.named_buffers())
out['running_mean'] = flat(bufs['bn.running_mean'])
out['running_var'] = flat(bufs['bn.running_var'])
out['num_batches'] = int(bufs['bn.num_batches_tracked'])
loss = (y * y).mean()
loss.backward()
params = dict(mod.named_parameters())
out['param_names'] = list(params.keys())
out['grads'] = {k: flat(p.grad) for k, p in params.items()}
opt = torch.optim.SGD(mod.parameters(), lr=0.1)
opt.step()
out['after_step'] = {k: flat(p) for k, p in params.items()}
with torch.no_grad():
    out['train_y2'] = flat(mod(x))

# a functional train graph (run_decompositions): buffer mutations as outputs, a tuple output
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1); self.bn = nn.BatchNorm2d(4); self.fc = nn.Linear(4, 5)
    def forward(self, x):
        p = torch.relu(self.bn(self.conv(x))).mean((2, 3))
        return self.fc(p), p.softmax(-1)
torch.manual_seed(1)
ep = torch.export.export(Two().train(), (x,)).run_decompositions()
torch.export.save(ep, os.path.join(d['dir'], 'two_decomposed.pt2'))
out['two_specs'] = [s.kind.name for s in ep.graph_signature.output_specs]
mod = ep.module()
a, b = mod(x)
out['two'] = [flat(a), flat(b), flat(mod.bn.running_mean), flat(mod.bn.running_var), int(mod.bn.num_batches_tracked)]

# a non-persistent buffer (saved with the constants) and a tensor constant
class Consts(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 3)
        self.register_buffer('scale', torch.tensor([1., 2., 3.]), persistent=False)
        self.k = torch.tensor([0.5, -0.5, 0.25])
    def forward(self, x):
        return self.fc(x) * self.scale + self.k
torch.manual_seed(2)
ep = torch.export.export(Consts(), (lin([2, 4]),))
torch.export.save(ep, os.path.join(d['dir'], 'consts.pt2'))
with torch.no_grad():
    out['consts_y'] = flat(ep.module()(lin([2, 4])))

# ResNet-18 (eval)
torch.manual_seed(0)
r = torchvision.models.resnet18().eval()
xr = lin(${JSON.stringify(RES)})
epr = torch.export.export(r, (xr,))
torch.export.save(epr, os.path.join(d['dir'], 'resnet18.pt2'))
with torch.no_grad():
    out['resnet_y'] = flat(epr.module()(xr))
out['resnet_keys'] = list(epr.state_dict.keys())

# hostile variants of the eval archive
src = os.path.join(d['dir'], 'small_eval.pt2')
def variant(name, edit_json=None, edit_bytes=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(os.path.join(d['dir'], name), 'w') as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if edit_json and info.filename.endswith('models/model.json'):
                j = json.loads(data); edit_json(j); data = json.dumps(j).encode()
            if edit_bytes and info.filename.endswith('data/weights/weight_0'):
                data = data[: len(data) // 2]
            zout.writestr(info, data)
def bump(j): j['schema_version']['major'] = 99
def bad_op(j): j['graph_module']['graph']['nodes'][1]['target'] = 'torch.ops.aten.not_a_real_op.default'
variant('schema99.pt2', edit_json=bump)
variant('badop.pt2', edit_json=bad_op)
variant('shortweight.pt2', edit_bytes=True)

# dynamic shapes: y's first dimension is derived (2*batch), a SymInt reshape / slice / sym_max / floordiv,
# a SymInt output
class Dyn(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 3)
    def forward(self, y, x):
        n = x.shape[0]
        z = self.fc(x).reshape(n * 3, -1)
        w = z[: n * 2] + y.reshape(n, 2, 5).sum((1, 2)).repeat(2).unsqueeze(1)
        k = torch.sym_max(n, 3)
        return w, torch.zeros(k, 2) + n // 2, n * 2 + 1
torch.manual_seed(3)
batch = torch.export.Dim('batch', min=1, max=64)
ep = torch.export.export(Dyn(), (lin([8, 5]), lin([4, 4])), dynamic_shapes={'y': {0: 2 * batch}, 'x': {0: batch}})
torch.export.save(ep, os.path.join(d['dir'], 'dynamic.pt2'))
out['dyn_ranges'] = {str(k): [int(v.lower), int(v.upper)] for k, v in ep.range_constraints.items()}
mod = ep.module()
out['dyn'] = {}
for b in (1, 4, 7):
    w, z, k = mod(lin([2 * b, 5]), lin([b, 4]))
    out['dyn'][str(b)] = [list(w.shape), flat(w), list(z.shape), flat(z), k]
out['dyn_errors'] = []
for yb, xb, xf in ((130, 65, 4), (8, 4, 5), (9, 4, 4)):
    try:
        mod(lin([yb, 5]), lin([xb, xf])); out['dyn_errors'].append(None)
    except Exception as e:
        out['dyn_errors'].append(str(e))

# higher-order operators
from torch._higher_order_ops.while_loop import while_loop
class Cond(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 4)
    def forward(self, x):
        return torch.cond(x.sum() > 0, lambda x: self.fc(x).relu(), lambda x: x.cos() * 2, (x,))
class CondSym(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 4)
    def forward(self, x):
        return torch.cond(x.shape[0] > 4, lambda x: self.fc(x), lambda x: x * 3, (x,))
class Loop(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 4)
    def forward(self, x, n):
        return while_loop(lambda i, x: i < n, lambda i, x: (i + 1, torch.tanh(self.fc(x))), (torch.zeros((), dtype=torch.int64), x))
class NoGradBlock(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 4)
    def forward(self, x):
        y = self.fc(x)
        with torch.no_grad():
            z = self.fc(y) * 2
        return y + z
def grads(mod, y):
    mod.zero_grad(); y.pow(2).sum().backward()
    return {k: flat(p.grad) if p.grad is not None else None for k, p in mod.named_parameters()}
out['hop'] = {}
torch.manual_seed(4)
ep = torch.export.export(Cond(), (lin([3, 4]),)); torch.export.save(ep, os.path.join(d['dir'], 'cond.pt2'))
mod = ep.module()
for sign in ('pos', 'neg'):
    xi = lin([3, 4]) + (0.5 if sign == 'pos' else -0.5)
    y = mod(xi); out['hop']['cond_' + sign] = [flat(y), grads(mod, y)]
b16 = torch.export.Dim('b', min=1, max=16)
torch.manual_seed(5)
ep = torch.export.export(CondSym(), (lin([6, 4]),), dynamic_shapes={'x': {0: b16}}); torch.export.save(ep, os.path.join(d['dir'], 'cond_sym.pt2'))
mod = ep.module()
for b in (2, 6):
    y = mod(lin([b, 4])); out['hop']['cond_sym_%d' % b] = [flat(y), grads(mod, y)]
torch.manual_seed(6)
loop = Loop(); loop_ref = copy.deepcopy(loop)
ep = torch.export.export(loop, (lin([2, 4]), torch.tensor(3))); torch.export.save(ep, os.path.join(d['dir'], 'while.pt2'))
mod = ep.module()
def unrolled_grads(n):
    # PyTorch 2.15's while_loop backward disagrees with the unrolled loop (and with finite
    # differences) once the body runs twice or more with a parameter: the reference is the loop unrolled.
    r = copy.deepcopy(loop_ref); x = lin([2, 4])
    for _ in range(n): x = torch.tanh(r.fc(x))
    return grads(r, x)
for n in (0, 3):
    i, y = mod(lin([2, 4]), torch.tensor(n)); out['hop']['while_%d' % n] = [int(i), flat(y), unrolled_grads(n) if n else None]
torch.manual_seed(7)
ep = torch.export.export(NoGradBlock().train(), (lin([3, 4]),)); torch.export.save(ep, os.path.join(d['dir'], 'set_grad.pt2'))
out['hop']['set_grad_targets'] = sorted({str(n.target) for n in ep.graph.nodes if n.op == 'call_function'})
mod = ep.module()
y = mod(lin([3, 4])); out['hop']['set_grad'] = [flat(y), grads(mod, y)]

# pytree inputs and outputs: a dict input, a tuple output holding a dict; BatchNorm, a residual, dropout
class Tree(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1); self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 1, bias=False); self.drop = nn.Dropout(0.5); self.fc = nn.Linear(4, 5)
    def forward(self, inputs, scale):
        y = torch.relu(self.bn(self.conv(inputs['img'])))
        y = y + self.conv2(y)
        f = self.drop(y.mean((2, 3)))
        return self.fc(f + inputs['aux']) * scale[0], {'feat': f, 'aux2': [inputs['aux'] * 2, scale[1]]}
torch.manual_seed(8)
tm = Tree()
tin = ({'img': lin([2, 3, 8, 8]), 'aux': lin([2, 4])}, (torch.tensor(1.5), torch.tensor([0.5, 2.0])))
def tree_flat(r):
    logits, dd = r
    return [flat(logits), flat(dd['feat']), flat(dd['aux2'][0]), flat(dd['aux2'][1])]
tm.eval()
ep = torch.export.export(tm, tin); torch.export.save(ep, os.path.join(d['dir'], 'tree_eval.pt2'))
with torch.no_grad():
    out['tree_eval'] = tree_flat(ep.module()(*tin))
tm.train()
ep = torch.export.export(tm, tin); torch.export.save(ep, os.path.join(d['dir'], 'tree_train.pt2'))
mod = ep.module()
torch.manual_seed(123)
r = mod(*tin)
out['tree_train'] = tree_flat(r)
out['tree_stats'] = [flat(mod.bn.running_mean), flat(mod.bn.running_var), int(mod.bn.num_batches_tracked)]
(r[0].pow(2).mean() + r[1]['feat'].sum()).backward()
out['tree_grads'] = {k: flat(p.grad) for k, p in mod.named_parameters()}
torch.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9).step()
out['tree_step'] = {k: flat(p) for k, p in mod.named_parameters()}
torch.manual_seed(321)
with torch.no_grad():
    out['tree_after'] = tree_flat(mod(*tin))

# torchvision MobileNetV3-Small (eval)
torch.manual_seed(0)
mb = torchvision.models.mobilenet_v3_small().eval()
xm = lin(${JSON.stringify(MOB)})
epm = torch.export.export(mb, (xm,))
torch.export.save(epm, os.path.join(d['dir'], 'mobilenet_v3_small.pt2'))
with torch.no_grad():
    out['mobilenet_y'] = flat(epm.module()(xm))
out['mobilenet_ops'] = len({str(n.target) for n in epm.graph.nodes if n.op == 'call_function'})

# a higher-order operator torch-node does not run (the hostile-archive test names it)
def other_hop(j):
    j['graph_module']['graph']['nodes'][1]['target'] = 'torch.ops.higher_order.map_impl'
variant('hop.pt2', edit_json=other_hop)
print(json.dumps(out))
`,
    { dir },
    { timeout: 120000 },
  );
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('eval-mode export: forward equals ep.module(); names, input checks, train()/eval() refused', () => {
  const ep = tex.load(path.join(dir, 'small_eval.pt2'));
  assert.deepEqual(ep.schemaVersion.major, 8);
  const m = ep.module();
  assert.ok(m instanceof torch.nn.Module);
  assert.deepEqual(
    [...m.namedParameters()].map(([k]) => k),
    py.param_names,
  );
  assert.deepEqual(
    torch.tidy(() => [...m.stateDict().keys()]).sort(),
    [...py.param_names, 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked'].sort(),
  );
  torch.tidy(() => {
    const y = torch.noGrad(() => m.forward(lin(SMALL)));
    assert.deepEqual(y.shape, [2, 5]);
    close(flat(y), py.eval_y, 'eval output');
    // m.call goes through hooks and forward too
    close(flat(torch.noGrad(() => m.call(lin(SMALL)))), py.eval_y, 'eval output via call()');
  });
  torch.tidy(() => {
    assert.throws(
      () => m.forward(lin([2, 3, 8, 9])),
      (e) => e instanceof torch.TorchError && /input 'x' must have shape \[2, 3, 8, 8\].*got \[2, 3, 8, 9\]/.test(e.message),
    );
    assert.throws(
      () => m.forward(lin(SMALL).double()),
      (e) => e instanceof torch.TorchError && /input 'x' must be float32\[2, 3, 8, 8\].*got dtype float64/.test(e.message),
    );
    assert.throws(
      () => m.forward(),
      (e) => e instanceof torch.TorchError && /expected 1 input \(x\), got 0/.test(e.message),
    );
    assert.throws(() => m.forward(lin(SMALL), lin(SMALL)), /expected 1 input/);
  });
  assert.throws(
    () => m.eval(),
    (e) => e instanceof torch.TorchError && /not supported, as in PyTorch's ep.module\(\)/.test(e.message),
  );
  assert.throws(() => m.train(), /train\(\) is not supported/);
  m.dispose();
  ep.dispose();
});

test('train-mode export: output, BatchNorm statistics, gradients and an SGD step equal Python', () => {
  const ep = tex.load(path.join(dir, 'small_train.pt2'));
  const m = ep.module();
  torch.tidy(() => {
    const y = m.forward(lin(SMALL));
    close(flat(y), py.train_y, 'train output', 1e-4, 1e-5);
    const bufs = new Map(m.namedBuffers());
    close(flat(bufs.get('bn.running_mean')), py.running_mean, 'running_mean');
    close(flat(bufs.get('bn.running_var')), py.running_var, 'running_var');
    assert.equal(bufs.get('bn.num_batches_tracked').item(), py.num_batches);
    y.mul(y).mean().backward();
  });
  const params = new Map(m.namedParameters());
  torch.tidy(() => {
    for (const [k, g] of Object.entries(py.grads)) close(flat(params.get(k).grad), g, `grad ${k}`, 1e-4, 1e-5);
  });
  const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1 });
  opt.step();
  for (const [k, v] of Object.entries(py.after_step)) close(flat(params.get(k)), v, `after SGD ${k}`, 1e-4, 1e-5);
  torch.tidy(() => close(flat(torch.noGrad(() => m.forward(lin(SMALL)))), py.train_y2, 'output after the step', 1e-4, 1e-5));
  torch.tidy(() => m.zeroGrad()); // the cached grad handles go to this scope
  m.dispose();
  ep.dispose();
});

test('a functional train graph (run_decompositions): buffer mutations copied back, tuple output as an array', () => {
  assert.deepEqual(py.two_specs, ['BUFFER_MUTATION', 'BUFFER_MUTATION', 'BUFFER_MUTATION', 'USER_OUTPUT', 'USER_OUTPUT']);
  const ep = tex.load(path.join(dir, 'two_decomposed.pt2'));
  assert.ok(ep.operators.includes('torch.ops.aten._native_batch_norm_legit_functional.default'));
  const m = ep.module();
  torch.tidy(() => {
    const out = m.forward(lin(SMALL));
    assert.ok(Array.isArray(out) && out.length === 2);
    close(flat(out[0]), py.two[0], 'first output', 1e-4, 1e-5);
    close(flat(out[1]), py.two[1], 'second output', 1e-4, 1e-5);
    close(flat(m.bn.running_mean), py.two[2], 'running_mean');
    close(flat(m.bn.running_var), py.two[3], 'running_var');
    assert.equal(m.bn.num_batches_tracked.item(), py.two[4]);
  });
  m.dispose();
  ep.dispose();
});

test('non-persistent buffers and tensor constants (saved with the constants)', () => {
  const ep = tex.load(path.join(dir, 'consts.pt2'));
  const m = ep.module();
  assert.deepEqual(
    [...m.namedBuffers()].map(([k]) => k),
    ['scale'],
  );
  assert.deepEqual(
    torch.tidy(() => [...m.stateDict().keys()]),
    ['fc.weight', 'fc.bias'],
  );
  torch.tidy(() => close(flat(m.forward(lin([2, 4]))), py.consts_y, 'output'));
  m.dispose();
  ep.dispose();
});

test('torchvision ResNet-18 (eval) exported by Python runs with its outputs', () => {
  const ep = tex.load(path.join(dir, 'resnet18.pt2'));
  assert.deepEqual([...ep.stateDict.keys()], py.resnet_keys);
  const m = ep.module();
  assert.ok(new Map(m.namedParameters()).has('layer1.0.conv1.weight'));
  torch.tidy(() => close(flat(torch.noGrad(() => m.forward(lin(RES)))), py.resnet_y, 'resnet18 output', 1e-4, 1e-5));
  m.dispose();
  ep.dispose();
});

test('dynamic shapes: a batch of 1, 4 and 7 equals ep.module(); ranges and static dims checked before running', () => {
  const ep = tex.load(path.join(dir, 'dynamic.pt2'));
  // the declared ranges, as Python reads them: batch in [1, 64], the derived 2*batch in [2, 128]
  const ranges = Object.fromEntries([...ep.rangeConstraints].map(([k, v]) => [k, [v.min, v.max]]));
  assert.deepEqual(ranges, py.dyn_ranges);
  assert.ok(
    ep.operators.includes('torch.ops.aten.sym_size.int') && ep.operators.includes('torch.sym_max') && ep.operators.includes('_operator.floordiv'),
    ep.operators.join(', '),
  );
  const m = ep.module();
  for (const b of [1, 4, 7]) {
    torch.tidy(() => {
      const [w, z, k] = m.forward(lin([2 * b, 5]), lin([b, 4]));
      const [ws, wv, zs, zv, kv] = py.dyn[String(b)];
      assert.deepEqual(w.shape, ws, `batch ${b}: first output shape`);
      close(flat(w), wv, `batch ${b}: first output`);
      assert.deepEqual(z.shape, zs, `batch ${b}: zeros(sym_max(n, 3), 2) shape`);
      close(flat(z), zv, `batch ${b}: second output`);
      assert.equal(k, kv, `batch ${b}: the SymInt output n * 2 + 1`);
    });
  }
  const err = (re) => (e) => e instanceof torch.TorchError && re.test(e.message);
  // Python refuses the same three calls (its guards' messages differ).
  assert.equal(py.dyn_errors.filter((e) => e !== null).length, 3, JSON.stringify(py.dyn_errors));
  torch.tidy(() => {
    // batch 65: y's 2*batch = 130 is over its declared 128 (y comes first, as in Python's check)
    assert.throws(
      () => m.forward(lin([130, 5]), lin([65, 4])),
      err(/input 'y' dimension 0 is 130, outside the range \[2, 128\] declared for its dynamic dimension 2\*s\d+ \(as exported: float32\[2\*s\d+, 5\]\)/),
    );
    // y in range, x's 65 inconsistent with it
    assert.throws(
      () => m.forward(lin([128, 5]), lin([65, 4])),
      err(/input 'x' dimension 0 is 65, but it must equal s\d+ = 64 \(s\d+ = 64 from input 'y' dimension 0\)/),
    );
    // a static dimension
    assert.throws(
      () => m.forward(lin([8, 5]), lin([4, 5])),
      err(/input 'x' must have shape \[s\d+, 4\] \(as exported: float32\[s\d+, 4\]\), got \[4, 5\]; its static dimensions are fixed/),
    );
    // 9 is not 2*batch for an integer batch
    assert.throws(() => m.forward(lin([9, 5]), lin([4, 4])), err(/input 'y' dimension 0 is 9, which is not of the form 2\*s\d+ for an integer s\d+/));
    assert.throws(() => m.forward(lin([8, 5]), lin([4, 4]).double()), err(/input 'x' must be float32\[s\d+, 4\] \(as exported\), got dtype float64/));
  });
  m.dispose();
  ep.dispose();
  // a plain symbol over its range
  const ep2 = tex.load(path.join(dir, 'cond_sym.pt2'));
  const m2 = ep2.module();
  torch.tidy(() =>
    assert.throws(
      () => m2.forward(lin([17, 4])),
      err(/input 'x' dimension 0 is 17, outside the range \[1, 16\] declared for its dynamic dimension s\d+ \(as exported: float32\[s\d+, 4\]\)/),
    ),
  );
  m2.dispose();
  ep2.dispose();
});

/** Gradients after backward of sum(y^2), as Python's grads(). */
const gradsOf = (m, y) => {
  m.zeroGrad();
  y.pow(2).sum().backward();
  return Object.fromEntries([...m.namedParameters()].map(([k, p]) => [k, p.grad ? flat(p.grad) : null]));
};
const closeGrads = (a, b, what) => {
  assert.deepEqual(Object.keys(a), Object.keys(b), `${what}: parameter names`);
  for (const k of Object.keys(b)) {
    if (b[k] === null) assert.equal(a[k], null, `${what}: ${k} has no gradient in Python`);
    else close(a[k], b[k], `${what}: grad ${k}`, 1e-4, 1e-5);
  }
};

test('higher-order operators: cond (tensor and SymBool predicates), while_loop, wrap_with_set_grad_enabled equal ep.module(), gradients too', () => {
  const H = py.hop;
  let ep = tex.load(path.join(dir, 'cond.pt2'));
  assert.ok(ep.operators.includes('torch.ops.higher_order.cond'));
  let m = ep.module();
  torch.tidy(() => {
    const y = m.forward(lin([3, 4]).add(0.5)); // sum > 0: the true branch, through fc
    close(flat(y), H.cond_pos[0], 'cond (true branch) output');
    closeGrads(gradsOf(m, y), H.cond_pos[1], 'cond (true branch)');
  });
  torch.tidy(() => {
    const y = m.forward(lin([3, 4]).add(-0.5)); // the false branch: cos(x) * 2, no parameter
    close(flat(y), H.cond_neg[0], 'cond (false branch) output');
    // PyTorch's cond differentiates through every operand and gives fc zero gradients here; the
    // branch torch-node runs does not touch fc, so its output needs no grad (documented difference).
    for (const g of Object.values(H.cond_neg[1])) assert.ok(g.every((v) => v === 0));
    assert.equal(y.requiresGrad, false);
  });
  torch.tidy(() => m.zeroGrad());
  m.dispose();
  ep.dispose();

  ep = tex.load(path.join(dir, 'cond_sym.pt2'));
  m = ep.module();
  for (const b of [2, 6]) {
    torch.tidy(() => {
      const y = m.forward(lin([b, 4]));
      close(flat(y), H[`cond_sym_${b}`][0], `cond on x.shape[0] > 4, batch ${b}`);
      if (b > 4) closeGrads(gradsOf(m, y), H[`cond_sym_${b}`][1], `cond on a SymBool, batch ${b}`);
      else assert.equal(y.requiresGrad, false, 'x * 3 (the false branch) does not touch fc');
    });
  }
  torch.tidy(() => m.zeroGrad());
  m.dispose();
  ep.dispose();

  ep = tex.load(path.join(dir, 'while.pt2'));
  assert.ok(ep.operators.includes('torch.ops.higher_order.while_loop'));
  m = ep.module();
  for (const n of [0, 3]) {
    torch.tidy(() => {
      const [i, y] = m.forward(lin([2, 4]), torch.tensor(n));
      assert.equal(i.item(), H[`while_${n}`][0], `while_loop(n=${n}) counter`);
      close(flat(y), H[`while_${n}`][1], `while_loop(n=${n}) output`);
      // against the unrolled loop in Python (PyTorch's own while_loop backward is off for n >= 2)
      if (n) closeGrads(gradsOf(m, y), H[`while_${n}`][2], `while_loop(n=${n})`);
    });
  }
  torch.tidy(() => m.zeroGrad());
  m.dispose();
  ep.dispose();

  assert.ok(H.set_grad_targets.includes('wrap_with_set_grad_enabled'), H.set_grad_targets.join(', '));
  ep = tex.load(path.join(dir, 'set_grad.pt2'));
  assert.ok(ep.operators.includes('torch.ops.higher_order.wrap_with_set_grad_enabled'));
  m = ep.module();
  torch.tidy(() => {
    const y = m.forward(lin([3, 4]));
    close(flat(y), H.set_grad[0], 'no_grad block output');
    // the block's path adds nothing to the gradient: a wrong grad mode would change it
    closeGrads(gradsOf(m, y), H.set_grad[1], 'no_grad block');
  });
  torch.tidy(() => m.zeroGrad());
  m.dispose();
  ep.dispose();
});

test('pytree inputs and outputs: a dict input, a tuple output holding a dict and a list; eval, train, BatchNorm statistics and an SGD step equal ep.module()', () => {
  const tin = () => [{ img: lin([2, 3, 8, 8]), aux: lin([2, 4]) }, [torch.tensor(1.5), torch.tensor([0.5, 2.0])]];
  const leaves = (r) => {
    assert.ok(Array.isArray(r) && r.length === 2, 'a tuple output is an array');
    const [logits, dd] = r;
    assert.ok(dd && !Array.isArray(dd) && typeof dd === 'object', 'a dict output is a plain object');
    assert.deepEqual(Object.keys(dd), ['feat', 'aux2']);
    assert.ok(Array.isArray(dd.aux2) && dd.aux2.length === 2, 'a list inside is an array');
    return [flat(logits), flat(dd.feat), flat(dd.aux2[0]), flat(dd.aux2[1])];
  };
  const closeAll = (a, b, what, rtol = 1e-5) => a.forEach((x, i) => close(x, b[i], `${what} leaf ${i}`, rtol, 1e-5));
  let ep = tex.load(path.join(dir, 'tree_eval.pt2'));
  let m = ep.module();
  torch.tidy(() => {
    closeAll(leaves(torch.noGrad(() => m.forward(...tin()))), py.tree_eval, 'eval');
    // a Map works as the dict too, keys in any order
    const [d, s] = tin();
    closeAll(
      leaves(
        torch.noGrad(() =>
          m.forward(
            new Map([
              ['aux', d.aux],
              ['img', d.img],
            ]),
            s,
          ),
        ),
      ),
      py.tree_eval,
      'eval (Map input)',
    );
    const err = (re) => (e) => e instanceof torch.TorchError && re.test(e.message);
    assert.throws(() => m.forward({ img: d.img }, s), err(/input inputs must have the keys "img", "aux" \(as exported\); missing "aux"/));
    assert.throws(() => m.forward({ ...d, extra: d.aux }, s), err(/unexpected "extra"/));
    assert.throws(() => m.forward(d.img, s), err(/input inputs must be an object or a Map with keys "img", "aux" \(a dict when exported\), got Tensor/));
    assert.throws(() => m.forward(d, [s[0]]), err(/input scale must be an array of 2 \(a tuple when exported\), got an array of length 1/));
    assert.throws(() => m.forward({ img: d.img, aux: lin([3, 4]) }, s), err(/input 'inputs\["aux"\]' must have shape \[2, 4\]/));
    assert.throws(() => m.forward(d), err(/expected 2 inputs \(inputs, scale\), got 1/));
  });
  m.dispose();
  ep.dispose();

  ep = tex.load(path.join(dir, 'tree_train.pt2'));
  m = ep.module();
  torch.manualSeed(123); // the same dropout mask as Python's (the same generator, the same draws)
  torch.tidy(() => {
    const r = m.forward(...tin());
    closeAll(leaves(r), py.tree_train, 'train', 1e-4);
    assert.ok(
      py.tree_train[1].some((v) => v === 0),
      'dropout was active in Python (some features zeroed)',
    );
    close(flat(m.bn.running_mean), py.tree_stats[0], 'running_mean');
    close(flat(m.bn.running_var), py.tree_stats[1], 'running_var');
    assert.equal(m.bn.num_batches_tracked.item(), py.tree_stats[2]);
    r[0].pow(2).mean().add(r[1].feat.sum()).backward();
  });
  const params = new Map(m.namedParameters());
  assert.deepEqual([...params.keys()], Object.keys(py.tree_grads));
  torch.tidy(() => {
    for (const [k, g] of Object.entries(py.tree_grads)) close(flat(params.get(k).grad), g, `grad ${k}`, 1e-4, 1e-5);
  });
  const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
  opt.step();
  for (const [k, v] of Object.entries(py.tree_step)) close(flat(params.get(k)), v, `after SGD ${k}`, 1e-4, 1e-5);
  torch.manualSeed(321);
  torch.tidy(() => closeAll(leaves(torch.noGrad(() => m.forward(...tin()))), py.tree_after, 'train output after the step', 1e-4));
  torch.tidy(() => m.zeroGrad());
  opt.dispose(); // its momentum buffers
  m.dispose();
  ep.dispose();
});

test('torchvision MobileNetV3-Small (eval) exported by Python: forward equals ep.module() (rtol 1e-4, atol 1e-5)', () => {
  const ep = tex.load(path.join(dir, 'mobilenet_v3_small.pt2'));
  assert.equal(ep.operators.length, py.mobilenet_ops);
  const m = ep.module();
  torch.tidy(() => close(flat(torch.noGrad(() => m.forward(lin(MOB)))), py.mobilenet_y, 'mobilenet_v3_small output', 1e-4, 1e-5));
  m.dispose();
  ep.dispose();
});

test('forwardAsync: the graph natively on the pool equals forward (ResNet-18, MobileNetV3, a dynamic batch with symbolic sizes, pytrees); graphs it cannot run are TorchErrors', async () => {
  const same = (a, b, what) =>
    assert.equal(
      torch.tidy(() => a.sub(b).abs().max().item()),
      0,
      what,
    );
  for (const [file, shape] of [
    ['resnet18.pt2', RES],
    ['mobilenet_v3_small.pt2', [1, 3, 96, 96]],
  ]) {
    const ep = tex.load(path.join(dir, file));
    const m = ep.module();
    const x = torch.tidy(() => lin(shape));
    const y = torch.noGrad(() => m.forward(x));
    // Four at once, while the event loop keeps turning.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const ys = await Promise.all([0, 1, 2, 3].map(() => m.forwardAsync(x)));
    clearInterval(timer);
    for (const r of ys) {
      same(r, y, `${file}: forwardAsync vs forward`);
      assert.equal(r.requiresGrad, false, 'inference: no graph is recorded');
    }
    assert.ok(ticks > 0, 'the event loop turned while the forwards ran');
    torch.dispose([x, y, ys]);
    m.dispose();
    ep.dispose();
  }
  // Symbolic sizes (sym_size, sym_max, floordiv) computed natively; a SymInt output comes back a number.
  let ep = tex.load(path.join(dir, 'dynamic.pt2'));
  let m = ep.module();
  for (const b of [1, 4, 7]) {
    const [a, c] = torch.tidy(() => [lin([2 * b, 5]), lin([b, 4])]);
    const [w, z, k] = await m.forwardAsync(a, c);
    const [ws, wv, zs, zv, kv] = py.dyn[String(b)];
    assert.deepEqual([w.shape, z.shape, k], [ws, zs, kv], `batch ${b}`);
    close(flat(w), wv, `batch ${b}: first output`);
    close(flat(z), zv, `batch ${b}: second output`);
    const [o1, o2] = torch.tidy(() => [lin([130, 5]), lin([65, 4])]);
    await assert.rejects(m.forwardAsync(o1, o2), /outside the range \[2, 128\]/);
    torch.dispose([a, c, w, z, o1, o2]);
  }
  m.dispose();
  ep.dispose();
  // Dict in, tuple holding a dict and a list out.
  ep = tex.load(path.join(dir, 'tree_eval.pt2'));
  m = ep.module();
  const [img, aux, s0, s1] = torch.tidy(() => [lin([2, 3, 8, 8]), lin([2, 4]), torch.tensor(1.5), torch.tensor([0.5, 2.0])]);
  const sync = torch.noGrad(() => m.forward({ img, aux }, [s0, s1]));
  const got = await m.forwardAsync({ img, aux }, [s0, s1]);
  same(got[0], sync[0], 'tree: logits');
  same(got[1].feat, sync[1].feat, 'tree: feat');
  same(got[1].aux2[1], sync[1].aux2[1], 'tree: aux2[1]');
  const leavesOf = (r) => [r[0], r[1].feat, r[1].aux2[0], r[1].aux2[1]];
  torch.dispose([img, aux, s0, s1, ...leavesOf(sync), ...leavesOf(got)]);
  m.dispose();
  ep.dispose();
  // What it does not run: control flow, train-mode graphs that update their statistics.
  for (const [file, re] of [
    ['cond.pt2', /higher-order operator torch\.ops\.higher_order\.cond \(forwardAsync runs graphs without control flow\); use forward\(\)/],
    ['small_train.pt2', /(updates a parameter or buffer in place|writes back its buffer)/],
  ]) {
    ep = tex.load(path.join(dir, file));
    m = ep.module();
    const x = torch.tidy(() => (file === 'cond.pt2' ? lin([3, 4]) : lin(SMALL)));
    await assert.rejects(m.forwardAsync(x), (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_UNSUPPORTED' && re.test(e.message), file);
    x.dispose();
    m.dispose();
    ep.dispose();
  }
});

test('head replacement: the exported body under a new TypeScript head trains as one module (body frozen or not)', () =>
  torch.tidy(() => {
    // The seeds' recipe with an exported body: Python exports the model without its head (e.g.
    // model.fc = nn.Identity()), Node puts a new head on it.
    const ep = tex.load(path.join(dir, 'small_eval.pt2'));
    const body = ep.module();
    const x = lin(SMALL);
    const feats = torch.noGrad(() => body.forward(x));
    const head = new torch.nn.Linear(feats.shape[1], 3);
    const model = new torch.nn.Sequential(body, head);
    assert.deepEqual([...model.stateDict().keys()].slice(-2), ['1.weight', '1.bias']);
    assert.ok([...model.stateDict().keys()][0].startsWith('0.'), 'the body keeps its exported names under 0.');
    close(flat(torch.noGrad(() => model.call(x))), flat(torch.noGrad(() => head.call(feats))), 'head(body(x))', 0, 0);
    // Frozen body: only the head moves.
    for (const p of body.parameters()) p.requiresGrad_(false);
    const before = body.parameters().map((p) => p.clone());
    const hBefore = head.weight.clone();
    const opt = new torch.optim.SGD(
      model.parameters().filter((p) => p.requiresGrad),
      { lr: 0.1 },
    );
    model.call(x).square().mean().backward();
    opt.step();
    body.parameters().forEach((p, i) => assert.equal(p.sub(before[i]).abs().max().item(), 0, 'frozen body parameter unchanged'));
    assert.ok(head.weight.sub(hBefore).abs().max().item() > 0, 'the head trained');
    // Unfrozen: the body's parameters get gradients through the exported graph.
    for (const p of body.parameters()) p.requiresGrad_(true);
    model.zeroGrad();
    model.call(x).square().mean().backward();
    assert.ok(
      body.parameters().every((p) => p.grad !== null),
      'every body parameter has a gradient',
    );
    model.dispose();
    ep.dispose();
  }));

test('hostile archives throw TorchErrors saying what is wrong', () => {
  const bytes = fs.readFileSync(path.join(dir, 'small_eval.pt2'));
  const err = (re) => (e) => e instanceof torch.TorchError && re.test(e.message);
  for (const cut of [10, 100, bytes.length >> 1, bytes.length - 30]) {
    assert.throws(() => tex.load(bytes.subarray(0, cut)), err(/^torch\.export\.load: /), `truncated at ${cut}`);
  }
  assert.throws(() => tex.load(path.join(dir, 'schema99.pt2')), err(/schema version 99\.\d+; torch-node reads schema 8\.x/));
  assert.throws(() => tex.load(path.join(dir, 'badop.pt2')), err(/torch\.ops\.aten\.not_a_real_op\.default/));
  assert.throws(
    () => tex.load(path.join(dir, 'hop.pt2')),
    err(/higher-order operator torch\.ops\.higher_order\.map_impl, which torch-node does not run \(it runs torch\.ops\.higher_order\.cond, /),
  );
  assert.throws(() => tex.load(path.join(dir, 'shortweight.pt2')), err(/weight 'conv\.weight'.*needs 432 bytes.*holds 216/));
  assert.throws(() => tex.load(path.join(dir, 'nope.pt2')), err(/cannot read/));
  // a torch.save checkpoint is a zip but not an export archive
  const ck = path.join(dir, 'ckpt.pt');
  torch.tidy(() => torch.save({ a: torch.ones([2]) }, ck));
  assert.throws(() => tex.load(ck), err(/not a torch\.export\.save archive/));
});

/** Rewrites an archive's models/model.json with fn (valid CRCs, so the edit reaches the reader); `deep` splices text. */
function editArchive(file, fn, splice = null) {
  const buf = fs.readFileSync(file);
  const gen = zipr.readDirectory(buf.length, file);
  let step = gen.next();
  while (!step.done) step = gen.next(buf.subarray(step.value.offset, step.value.offset + step.value.length));
  const entries = step.value.entries;
  const prefix = entries[0].name.slice(0, entries[0].name.indexOf('/'));
  const recs = entries.map((e) => ({ name: e.name.slice(prefix.length + 1), data: buf.subarray(e.dataOffset, e.dataOffset + e.size) }));
  const m = recs.find((r) => r.name === 'models/model.json');
  const j = JSON.parse(Buffer.from(m.data).toString('utf8'));
  fn(j);
  let text = JSON.stringify(j);
  if (splice) text = text.split(JSON.stringify(splice[0])).join(splice[1]);
  m.data = Buffer.from(text);
  return Buffer.concat([
    ...zipr.zipChunks(
      prefix,
      recs.map((r) => ({ name: r.name, size: r.data.length, data: r.data })),
    ),
  ]);
}

test('hostile archives: nesting (deep subgraphs, pytree specs, values), lying zip sizes, unknown versions and ops are TorchErrors', () => {
  const err = (re) => (e) => e instanceof torch.TorchError && re.test(e.message);
  const src = path.join(dir, 'cond.pt2');
  // a cond whose true branch holds a cond whose true branch ...; each graph takes the top cond's
  // three operands (x, fc.bias, fc.weight) and returns the first
  const chain = (depth) => shared.nestedConds(depth, ['a', 'b', 'c']);
  const setTrue = (j, g) => (j.graph_module.graph.nodes.find((n) => n.target === 'torch.ops.higher_order.cond').inputs[1].arg.as_graph.graph = g);
  assert.throws(() => tex.load(editArchive(src, (j) => setTrue(j, chain(40)))), err(/subgraph 't\d+' is nested 17 levels deep \(torch-node runs at most 16\)/));
  // 15 levels is fine: it loads and runs (the chain passes its operand through)
  {
    const ep = tex.load(editArchive(src, (j) => setTrue(j, chain(14))));
    const m = ep.module();
    torch.tidy(() => close(flat(m.forward(lin([3, 4]).add(0.5))), flat(lin([3, 4]).add(0.5)), 'a 15-deep chain of conds'));
    m.dispose();
    ep.dispose();
  }
  // a pytree spec nested 5000 deep, a value name that is an array nested 100000 deep, an expression 500 calls deep
  const deepSpec = '[1, ' + '{"type": "builtins.tuple", "context": "null", "children_spec": ['.repeat(5000) + ']}'.repeat(5000) + ']';
  assert.throws(
    () => tex.load(editArchive(src, (j) => (j.graph_module.module_call_graph[0].signature.in_spec = deepSpec))),
    err(/in_spec: the pytree spec is nested deeper than 64 levels/),
  );
  const DEEP = '@@deep@@';
  assert.throws(
    () => tex.load(editArchive(src, (j) => (j.graph_module.graph.nodes[0].outputs[0].as_tensor.name = DEEP), [DEEP, '['.repeat(100000) + ']'.repeat(100000)])),
    err(/node '.*' \(torch\.ops\.aten\.sum\.default\): a value name \[\[\[\[…\]\]\]\] is not a string|is not a string/),
  );
  const dyn = path.join(dir, 'cond_sym.pt2');
  const deepExpr = 'Mul('.repeat(500) + ')'.repeat(500);
  assert.throws(
    () => tex.load(editArchive(dyn, (j) => (j.graph_module.graph.tensor_values.x.sizes[0].as_expr.expr_str = deepExpr))),
    err(/input 'x' dimension 0: cannot read the symbolic expression .*nested deeper than 32 levels/),
  );
  // unknown schema versions (newer and older), an unknown operator, an unsupported higher-order operator
  assert.throws(
    () => tex.load(editArchive(src, (j) => (j.schema_version = { major: 9, minor: 0 }))),
    err(/saved with torch\.export schema version 9\.0; torch-node reads schema 8\.x/),
  );
  assert.throws(() => tex.load(editArchive(src, (j) => (j.schema_version = { major: 7, minor: 3 }))), err(/schema version 7\.3/));
  assert.throws(
    () => tex.load(editArchive(src, (j) => (j.graph_module.graph.nodes[0].target = 'torch.ops.mylib.secret.default'))),
    err(/the graph calls operator torch\.ops\.mylib\.secret\.default, which this libtorch .* does not have/),
  );
  assert.throws(
    () => tex.load(editArchive(src, (j) => (j.graph_module.graph.nodes[0].target = 'os.system'))),
    err(/the graph calls "os\.system", which is not an operator/),
  );
  assert.throws(
    () => tex.load(editArchive(src, (j) => (j.graph_module.graph.nodes[2].target = 'torch.ops.higher_order.invoke_subgraph'))),
    err(/higher-order operator torch\.ops\.higher_order\.invoke_subgraph, which torch-node does not run/),
  );
  // zip headers that lie about sizes and offsets: model.json's central-directory entry
  const bytes = Buffer.from(fs.readFileSync(src));
  let at = bytes.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
  while (
    at >= 0 &&
    !bytes
      .subarray(at + 46, at + 46 + bytes.readUInt16LE(at + 28))
      .toString()
      .endsWith('models/model.json')
  )
    at = bytes.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), at + 4);
  assert.ok(at > 0, 'found models/model.json in the central directory');
  for (const [field, value] of [
    [20, 0x7fffffff],
    [24, 0x7fffffff],
    [20, 3],
    [42, bytes.length + 10],
    [42, 0xfffffff0],
    [42, 1],
  ]) {
    const b = Buffer.from(bytes);
    b.writeUInt32LE(value, at + field);
    assert.throws(() => tex.load(b), err(/^torch\.export\.load: /), `central directory field ${field} = ${value}`);
  }
});

test('bounded fuzz: 1500 mutations of the exported archives each load (and run) or throw a TorchError; no crash, hang or leak', () => {
  const seeds = ['small_train.pt2', 'dynamic.pt2', 'cond.pt2', 'set_grad.pt2', 'tree_eval.pt2'].flatMap((f) => ['--file', path.join(dir, f)]);
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fuzz', 'export-fuzz.js'), '--iterations', '1500', '--seed', '20260215', ...seeds], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(r.signal, null, `the fuzz process died of ${r.signal}:\n${r.stderr}`);
  assert.equal(r.status, 0, `the fuzz run failed:\n${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(summary.iterations, 1500);
  assert.ok(summary.loaded > 100 && summary.ran > 100, `too few mutations loaded or ran: ${JSON.stringify(summary)}`);
  assert.ok(Object.keys(summary.errors).length >= 3, `the mutations reached few checks: ${JSON.stringify(summary.errors)}`);
});

test('no tensors leaked', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
