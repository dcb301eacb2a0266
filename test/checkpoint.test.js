'use strict';
// saveCheckpoint / loadCheckpoint: resuming gives bit-identical weights to never stopping (dropout and
// an unseeded DataLoader shuffle draw from the restored RNG), and the file is an ordinary PyTorch
// checkpoint: Python reads it with torch.load (weights_only=True), and a Python-written one loads.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const { nn, optim } = torch;
const F = nn.functional;
const baseline = torch.memory().liveTensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-ckpt-'));
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());

function setup(seed) {
  torch.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(8, 2));
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 3, gamma: 0.5 });
  return { model, opt, sched };
}

function makeData() {
  torch.manualSeed(123);
  const x = torch.keep(torch.randn(20, 4));
  const y = torch.keep(torch.randint(0, 2, [20]));
  return new torch.utils.DataLoader(new torch.utils.TensorDataset(x, y), { batchSize: 5, shuffle: true });
}

function epoch({ model, opt, sched }, loader) {
  model.train();
  for (const [x, y] of loader) {
    torch.tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(model.call(x), y).backward();
      opt.step();
    });
    x.dispose();
    y.dispose();
  }
  sched.step();
}

test('resuming from a checkpoint gives the same weights as never stopping', () => {
  const loader = makeData();
  const a = setup(0);
  torch.manualSeed(7);
  for (let e = 0; e < 4; e++) epoch(a, loader);
  const want = a.model.stateDict();

  const b = setup(0);
  torch.manualSeed(7);
  for (let e = 0; e < 2; e++) epoch(b, loader);
  const file = path.join(dir, 'ckpt.pt');
  torch.saveCheckpoint(file, { model: b.model, optimizer: b.opt, scheduler: b.sched, epoch: 2, loss: 0.25, note: 'half way' });

  const c = setup(99); // different weights, and the RNG moved on
  torch.manualSeed(999);
  const info = torch.loadCheckpoint(file, { model: c.model, optimizer: c.opt, scheduler: c.sched });
  assert.equal(info.epoch, 2);
  assert.equal(info.loss, 0.25);
  assert.equal(info.extra.get('note'), 'half way');
  for (let e = 0; e < 2; e++) epoch(c, loader);
  torch.tidy(() => {
    for (const [k, v] of c.model.stateDict()) assert.deepEqual(flat(v), flat(want.get(k)), `${k}: bit-identical to the uninterrupted run`);
  });
  assert.deepEqual(c.sched.getLastLr(), a.sched.getLastLr());
  torch.dispose([...want.values()]);
  for (const r of [a, b, c]) {
    r.opt.dispose();
    r.model.dispose();
  }
  torch.dispose(loader.dataset.tensors);
});

test('the checkpoint is an ordinary PyTorch checkpoint, both ways', () => {
  const file = path.join(dir, 'ckpt.pt');
  const fromPy = path.join(dir, 'from-python.pt');
  const py = runPython(
    `
import json, sys, torch, torch.nn as nn
d = json.load(sys.stdin)
c = torch.load(d['file'])
out = {'keys': list(c.keys()), 'epoch': c['epoch'], 'rng': list(c['rng_state'].shape),
       'model': list(c['model_state_dict'].keys()), 'opt_groups': len(c['optimizer_state_dict']['param_groups'])}
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
torch.save({'epoch': 5, 'model_state_dict': m.state_dict(), 'optimizer_state_dict': opt.state_dict(), 'loss': 1.5}, d['out'])
out['w'] = m[3].weight.reshape(-1).tolist()
print(json.dumps(out))
`,
    { file, out: fromPy },
  );
  assert.deepEqual(py.keys, ['epoch', 'model_state_dict', 'optimizer_state_dict', 'scheduler_state_dict', 'loss', 'rng_state', 'note']);
  assert.equal(py.epoch, 2);
  assert.deepEqual(py.rng, [5056]);
  assert.deepEqual(py.model, ['0.weight', '0.bias', '3.weight', '3.bias']);
  const c = setup(1);
  const info = torch.loadCheckpoint(fromPy, { model: c.model, optimizer: c.opt });
  assert.equal(info.epoch, 5);
  assert.equal(info.loss, 1.5);
  assert.deepEqual(flat(c.model.at(3).weight), py.w);
  assert.throws(
    () => torch.loadCheckpoint(fromPy, { model: c.model, scheduler: c.sched }),
    /has no 'scheduler_state_dict' for the scheduler given; its keys: epoch, model_state_dict, optimizer_state_dict, loss/,
  );
  c.opt.dispose();
  c.model.dispose();
});

test('no tensors leaked by this file', () => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
