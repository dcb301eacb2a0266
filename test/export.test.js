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
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // the Python reference runs on one thread: the same summation order
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-export-'));
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
const close = (a, b, what, rtol = 1e-5, atol = 1e-5) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= atol + rtol * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
};
const SMALL = [2, 3, 8, 8];
const RES = [1, 3, 64, 64];
const lin = (shape) => torch.linspace(-1, 1, shape.reduce((a, b) => a * b, 1)).reshape(shape);

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, os, zipfile, warnings
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
def hop(j): j['graph_module']['graph']['nodes'][1]['target'] = 'torch.ops.higher_order.cond'
variant('schema99.pt2', edit_json=bump)
variant('badop.pt2', edit_json=bad_op)
variant('hop.pt2', edit_json=hop)
variant('shortweight.pt2', edit_bytes=True)
class Dyn(nn.Module):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(4, 3)
    def forward(self, x):
        return self.fc(x).reshape(x.shape[0], -1)
batch = torch.export.Dim('batch', min=2, max=64)
torch.export.save(torch.export.export(Dyn(), (torch.randn(4, 4),), dynamic_shapes={'x': {0: batch}}), os.path.join(d['dir'], 'dynamic.pt2'))
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
  assert.deepEqual([...m.namedParameters()].map(([k]) => k), py.param_names);
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
    assert.throws(() => m.forward(lin([2, 3, 8, 9])), (e) => e instanceof torch.TorchError && /input 'x' must have shape \[2, 3, 8, 8\].*got \[2, 3, 8, 9\]/.test(e.message));
    assert.throws(() => m.forward(lin(SMALL).double()), (e) => e instanceof torch.TorchError && /input 'x' must be float32\[2, 3, 8, 8\].*got dtype float64/.test(e.message));
    assert.throws(() => m.forward(), (e) => e instanceof torch.TorchError && /expected 1 input \(x\), got 0/.test(e.message));
    assert.throws(() => m.forward(lin(SMALL), lin(SMALL)), /expected 1 input/);
  });
  assert.throws(() => m.eval(), (e) => e instanceof torch.TorchError && /not supported, as in PyTorch's ep.module\(\)/.test(e.message));
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
  assert.deepEqual([...m.namedBuffers()].map(([k]) => k), ['scale']);
  assert.deepEqual(torch.tidy(() => [...m.stateDict().keys()]), ['fc.weight', 'fc.bias']);
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

test('hostile archives throw TorchErrors saying what is wrong', () => {
  const bytes = fs.readFileSync(path.join(dir, 'small_eval.pt2'));
  const err = (re) => (e) => e instanceof torch.TorchError && re.test(e.message);
  for (const cut of [10, 100, bytes.length >> 1, bytes.length - 30]) {
    assert.throws(() => tex.load(bytes.subarray(0, cut)), err(/^torch\.export\.load: /), `truncated at ${cut}`);
  }
  assert.throws(() => tex.load(path.join(dir, 'schema99.pt2')), err(/schema version 99\.\d+; torch-node reads schema 8\.x/));
  assert.throws(() => tex.load(path.join(dir, 'badop.pt2')), err(/torch\.ops\.aten\.not_a_real_op\.default/));
  assert.throws(() => tex.load(path.join(dir, 'hop.pt2')), err(/higher-order operator torch\.ops\.higher_order\.cond/));
  assert.throws(() => tex.load(path.join(dir, 'shortweight.pt2')), err(/weight 'conv\.weight'.*needs 432 bytes.*holds 216/));
  assert.throws(() => tex.load(path.join(dir, 'nope.pt2')), err(/cannot read/));
  assert.throws(() => tex.load(path.join(dir, 'dynamic.pt2')), err(/symbolic \(dynamic\) values \(sym_size_int_\d+\); dynamic shapes are not supported yet/));
  // a torch.save checkpoint is a zip but not an export archive
  const ck = path.join(dir, 'ckpt.pt');
  torch.tidy(() => torch.save({ a: torch.ones([2]) }, ck));
  assert.throws(() => tex.load(ck), err(/not a torch\.export\.save archive/));
});

test('no tensors leaked', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
