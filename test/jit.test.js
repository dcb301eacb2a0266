'use strict';
// torch.jit against Python: a torchvision ResNet-18 scripted by Python (random init) loads and runs
// with Python's outputs (rtol 1e-4, atol 1e-5: same kernels, but conv algorithms may sum in another
// order), introspects like PyTorch, trains (gradients and an SGD step as Python's), takes a new
// 5-class head and goes back to Python via jit.save, and cuts into a feature extractor.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const F = nn.functional;
const baseline = torch.memory().liveTensors;
// One thread, as the Python reference runs (test/helpers/python.js): the same convolution summation
// order, which matters in train mode where BatchNorm over a batch of 2 amplifies rounding.
torch.setNumThreads(1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-jit-'));
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
const close = (a, b, what, rtol = 1e-4, atol = 1e-5) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]) <= atol + rtol * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs Python ${b[i]}`);
  });
};
const input = () => torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32);

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, warnings
warnings.filterwarnings('ignore')
import torch, torchvision, torch.nn as nn, torch.nn.functional as F
from typing import Dict, List, Tuple
d = json.load(sys.stdin)
torch.manual_seed(0)
m = torchvision.models.resnet18()
s = torch.jit.script(m)
s.save(d['dir'] + '/resnet18.pt')
x = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
out = {}
s.eval()
out['eval'] = s(x).reshape(-1).tolist()
out['features'] = nn.Sequential(*list(s.children())[:-1])(x).reshape(-1).tolist()
out['params'] = [n for n, _ in s.named_parameters()]
out['state_keys'] = list(s.state_dict().keys())
out['children'] = [n for n, _ in s.named_children()]
out['repr_head'] = str(s).split('\\n')[:3]
s.train()
y = s(x)
out['train'] = y.reshape(-1).tolist()
loss = F.cross_entropy(y, torch.tensor([3, 7]))
loss.backward()
out['loss'] = loss.item()
out['fc_grad'] = s.fc.weight.grad.reshape(-1).tolist()
out['conv1_grad'] = s.conv1.weight.grad.reshape(-1)[:50].tolist()
with torch.no_grad():
    for p in s.parameters():
        p -= 0.1 * p.grad
s.eval()
out['after_step'] = s(x).reshape(-1).tolist()

class IO(nn.Module):
    def forward(self, x: torch.Tensor, d: Dict[str, torch.Tensor], l: List[int], t: Tuple[float, bool], k: int = 3) -> Tuple[Dict[str, torch.Tensor], List[torch.Tensor], int]:
        y = x * k + d['a'] * t[0]
        if t[1]:
            y = y + 1
        return {'y': y, 'sum': y.sum()}, [x[i] for i in l], len(l) + k
torch.jit.script(IO()).save(d['dir'] + '/io.pt')
traced = torch.jit.trace(nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval(), torch.ones(2, 4))
traced.save(d['dir'] + '/traced.pt')
out['traced'] = traced(torch.arange(8.).reshape(2, 4)).reshape(-1).tolist()
print(json.dumps(out))
`,
    { dir },
  );
});

test("a scripted torchvision ResNet-18 loads and gives Python's outputs", () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'resnet18.pt'));
    assert.equal(m.originalName, 'ResNet');
    assert.ok(m.methods.includes('forward'));
    m.eval();
    close(flat(m.call(input())), py.eval, 'eval output');
    m.dispose();
  }));

test('introspection like PyTorch: parameters, state dict, children, printed form', () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'resnet18.pt'));
    assert.deepEqual([...m.namedParameters().keys()], py.params);
    assert.deepEqual([...m.stateDict().keys()], py.state_keys);
    assert.deepEqual([...m.namedChildren().keys()], py.children);
    assert.deepEqual(String(m).split('\n').slice(0, 3), py.repr_head);
    assert.equal(m.getSubmodule('layer4.1').originalName, 'BasicBlock');
    assert.equal(m.getParameter('fc.weight'), m.fc.weight);
    assert.deepEqual(m.fc.weight.shape, [1000, 512]);
    assert.equal(m.fc.weight.requiresGrad, true);
    m.dispose();
  }));

test("train mode, gradients and an SGD step on its parameters equal Python's", () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'resnet18.pt'));
    m.train();
    assert.equal(m.getSubmodule('layer1.0.bn1').training, true);
    const y = m.call(input());
    close(flat(y), py.train, 'train-mode output');
    const loss = F.crossEntropy(y, torch.tensor([3, 7]));
    assert.ok(Math.abs(loss.item() - py.loss) < 1e-4);
    loss.backward();
    close(flat(m.fc.weight.grad), py.fc_grad, 'fc.weight.grad');
    close(flat(m.conv1.weight.grad).slice(0, 50), py.conv1_grad, 'conv1.weight.grad', 1e-3, 1e-5);
    const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1 }); // an optimizer trains the scripted module
    opt.step();
    opt.dispose();
    m.eval();
    close(flat(m.call(input())), py.after_step, 'output after one SGD step', 1e-3, 1e-4);
    m.dispose();
  }));

test('a new 5-class head: replace fc parameters with new shapes, train it, save, and Python reads it', () => {
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'resnet18.pt'));
    torch.freeze(m);
    torch.manualSeed(3);
    const head = new nn.Linear(512, 5);
    m.fc.registerParameter('weight', head.weight);
    m.fc.registerParameter('bias', head.bias);
    assert.deepEqual(torch.trainableParameters(m), [m.fc.weight, m.fc.bias]);
    m.train();
    torch.trainKeepingFrozenBatchNorm(m);
    const y = m.call(input());
    assert.deepEqual(y.shape, [2, 5]);
    F.crossEntropy(y, torch.tensor([1, 4])).backward();
    assert.equal(m.conv1.weight.grad, null, 'frozen backbone gets no gradient');
    assert.notEqual(m.fc.weight.grad, null);
    m.eval();
    const ours = flat(m.call(input()));
    torch.jit.save(m, path.join(dir, 'resnet18-5.pt'));
    const back = runPython(
      `
import json, sys, torch
d = json.load(sys.stdin)
m = torch.jit.load(d['file']).eval()
x = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
print(json.dumps({'shape': list(m.fc.weight.shape), 'out': m(x).reshape(-1).tolist()}))
`,
      { file: path.join(dir, 'resnet18-5.pt') },
    );
    assert.deepEqual(back.shape, [5, 512]);
    close(ours, back.out, 'Python runs the saved 5-class model with our outputs');
    head.dispose();
    m.dispose();
  });
});

test('a feature extractor: Sequential of every child but the head', () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'resnet18.pt'));
    const features = new nn.Sequential(...m.children().slice(0, -1)); // nn.Sequential(*list(m.children())[:-1])
    features.eval();
    const f = features.call(input());
    assert.deepEqual(f.shape, [2, 512, 1, 1]);
    close(flat(f), py.features, "features equal Python's");
    assert.throws(() => m.registerModule('fc', new nn.Identity()), /submodules cannot be added or replaced/);
    m.dispose();
  }));

test('loadStateDict into a TorchScript module: strict, atomic, reaches the compiled code', () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'resnet18.pt'));
    const other = torch.jit.load(path.join(dir, 'resnet18.pt'));
    torch.noGrad(() => other.fc.bias.fill_(0.5));
    m.eval();
    m.loadStateDict(other.stateDict());
    assert.deepEqual(flat(m.fc.bias).slice(0, 3), [0.5, 0.5, 0.5]);
    const zero = m.call(torch.zeros(1, 3, 32, 32));
    assert.ok(zero.shape[1] === 1000);
    const sd = other.stateDict();
    sd.set('fc.weight', torch.zeros(5, 512));
    assert.throws(() => m.loadStateDict(sd), /fc\.weight: checkpoint \[5, 512\] vs model \[1000, 512\]/);
    m.dispose();
    other.dispose();
  }));

test('forward with dicts, lists, tuples and numbers in and out', () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'io.pt'));
    const x = torch.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    const [d, parts, n] = m.call(x, new Map([['a', torch.ones(2, 2)]]), [1, 0], [0.5, true]);
    assert.ok(d instanceof Map);
    assert.deepEqual(d.get('y').tolist(), [
      [4.5, 7.5],
      [10.5, 13.5],
    ]);
    assert.equal(d.get('sum').item(), 36);
    assert.deepEqual(
      parts.map((t) => t.tolist()),
      [
        [3, 4],
        [1, 2],
      ],
    );
    assert.equal(n, 5);
    const [, , n2] = m.call(x, { a: torch.zeros(2, 2) }, [0], [1.0, false], 10);
    assert.equal(n2, 11, 'a plain object works as a dict; the default k is overridable');
    assert.throws(() => m.call(x, { a: x }, ['no'], [1, true]), /forward\(\): argument 'l'\[0\]: expected int, got a string/);
    assert.throws(() => m.call(x), /forward\(\): missing argument 'd'/);
    assert.throws(() => m.runMethod('nope'), /has no TorchScript method 'nope'/);
    m.dispose();
  }));

test('a traced module loads and runs', () =>
  torch.tidy(() => {
    const m = torch.jit.load(path.join(dir, 'traced.pt'));
    close(flat(m.call(torch.arange(8, { dtype: 'float32' }).reshape(2, 4))), py.traced, 'traced output', 1e-5, 1e-6);
    m.dispose();
  }));

test('bad files are clear errors', () => {
  assert.throws(() => torch.jit.load(path.join(dir, 'missing.pt')), /jit\.load\(\): no such file/);
  const junk = path.join(dir, 'junk.pt');
  fs.writeFileSync(junk, 'not a zip');
  assert.throws(
    () => torch.jit.load(junk),
    (e) => e instanceof torch.TorchError && /is not a TorchScript archive libtorch can read/.test(e.message),
  );
  assert.throws(() => torch.jit.load(path.join(dir, 'resnet18.pt'), { mapLocation: 'tpu' }), /argument 'device'/);
});

test('no tensors leaked by this file', () => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
