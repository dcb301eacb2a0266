'use strict';
// nn.SyncBatchNorm in one process (no distributed job): convertSyncBatchnorm as PyTorch's (same
// parameters and buffers, same keys and places, the root replaced when it is a BatchNorm), plain
// BatchNorm numerics without a group, argument checks; nn.BatchNorm3d golden against Python. The
// synchronized statistics across ranks are in test/distributed.test.js.
const test = require('node:test');
const assert = require('node:assert');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const maxDiff = (a, b) => a.sub(b).abs().max().item();

test('convertSyncBatchnorm: every BatchNorm becomes a SyncBatchNorm sharing its parameters and buffers, in place', () =>
  torch.tidy(() => {
    torch.manualSeed(0);
    const model = new nn.Sequential(
      new nn.Conv2d(3, 4, 3),
      new nn.BatchNorm2d(4, { momentum: 0.3 }),
      new nn.ReLU(),
      new nn.Sequential(new nn.Flatten(), new nn.Linear(16, 5), new nn.BatchNorm1d(5, { affine: false })),
    );
    model.eval();
    const bn = model[1];
    const keys = [...model.stateDict().keys()];
    const out = nn.SyncBatchNorm.convertSyncBatchnorm(model);
    assert.equal(out, model, 'a container is converted in place and returned');
    assert.deepEqual([...out.stateDict().keys()], keys, "the state dict's keys are unchanged");
    const s = out[1];
    assert.ok(s instanceof nn.SyncBatchNorm);
    assert.equal(s.weight, bn.weight, 'the same Parameter object (Python: module_output.weight = module.weight)');
    assert.equal(s.runningMean, bn.runningMean);
    assert.deepEqual([s.momentum, s.eps, s.affine, s.training], [0.3, 1e-5, true, false]);
    assert.equal(out[3][2].constructor.name, 'SyncBatchNorm');
    assert.equal(out[3][2].weight, null);
    assert.equal(String(s), 'SyncBatchNorm(4, eps=1e-05, momentum=0.3, affine=True, bias=True, track_running_stats=True)');
    // A BatchNorm root is replaced by a new module.
    const root = new nn.BatchNorm1d(3);
    const conv = nn.SyncBatchNorm.convertSyncBatchnorm(root);
    assert.notEqual(conv, root);
    assert.equal(conv.bias, root.bias);
  }));

test('SyncBatchNorm without a process group is BatchNorm: outputs, gradients, running statistics', () =>
  torch.tidy(() => {
    torch.manualSeed(1);
    const x = torch.randn([6, 3, 4, 4]);
    const a = new nn.BatchNorm2d(3, { momentum: null });
    const b = nn.SyncBatchNorm.convertSyncBatchnorm(new nn.BatchNorm2d(3, { momentum: null }));
    for (let i = 0; i < 2; i++) {
      const xa = x.mul(i + 1).requiresGrad_();
      const xb = x.mul(i + 1).requiresGrad_();
      a.call(xa).square().sum().backward();
      b.call(xb).square().sum().backward();
      assert.equal(maxDiff(xa.grad, xb.grad), 0);
    }
    assert.equal(maxDiff(a.runningVar, b.runningVar), 0);
    assert.equal(b.numBatchesTracked.item(), 2n);
    assert.throws(() => b.call(torch.ones([3])), /SyncBatchNorm: expected at least 2D input \(got 1D input\)/);
    assert.throws(() => new nn.SyncBatchNorm(3, { processGroup: 5 }), /argument 'processGroup' must be a torch\.distributed ProcessGroup or null/);
  }));

test('nn.BatchNorm3d equals PyTorch (train forward, running statistics, eval)', () =>
  torch.tidy(() => {
    const py = runPython(`
import json, torch
torch.manual_seed(0)
x = torch.randn(2, 3, 2, 3, 4)
m = torch.nn.BatchNorm3d(3, momentum=0.2)
with torch.no_grad():
    m.weight.uniform_(); m.bias.uniform_()
y = m(x)
m.eval()
z = m(x * 2)
print(json.dumps({'x': x.reshape(-1).tolist(), 'w': m.weight.tolist(), 'b': m.bias.tolist(), 'y': y.reshape(-1).tolist(), 'z': z.reshape(-1).tolist(), 'rv': m.running_var.tolist()}))
`);
    const m = new nn.BatchNorm3d(3, { momentum: 0.2 });
    torch.noGrad(() => {
      m.weight.copy_(torch.tensor(py.w));
      m.bias.copy_(torch.tensor(py.b));
    });
    const x = torch.tensor(py.x).reshape([2, 3, 2, 3, 4]);
    assert.ok(maxDiff(m.call(x).reshape([-1]), torch.tensor(py.y)) < 1e-5);
    assert.ok(maxDiff(m.runningVar, torch.tensor(py.rv)) < 1e-6);
    m.eval();
    assert.ok(maxDiff(m.call(x.mul(2)).reshape([-1]), torch.tensor(py.z)) < 1e-5);
    assert.throws(() => m.call(torch.ones([2, 3, 4])), /BatchNorm3d: expected 5D input \(got 3D input\)/);
  }));
