'use strict';
// Freezing and state-dict recipes (../shared/RECIPES.md A, B). The transfer-learning recipe runs end
// to end in both languages and must agree: weights after one SGD step to 1e-5 (rtol 1e-4), frozen
// weights bit-identical.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const F = nn.functional;
const baseline = torch.memory().liveTensors;
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());

class Backbone extends nn.Module {
  conv = this.registerModule('conv', new nn.Conv2d(3, 8, 3, { padding: 1 }));
  bn = this.registerModule('bn', new nn.BatchNorm2d(8));
  pool = this.registerModule('pool', new nn.AdaptiveAvgPool2d(1));
  fc = this.registerModule('fc', new nn.Linear(8, 10));
  forward(x) {
    return torch.tidy(() => this.fc.call(this.pool.call(this.bn.call(this.conv.call(x)).relu()).flatten(1)));
  }
}

/** One torch.optim.SGD step over the module's trainable parameters (as the seeds filter them). */
function sgdStep(module, lr) {
  const opt = new torch.optim.SGD(torch.trainableParameters(module), { lr });
  opt.step();
  opt.dispose();
}

test('freeze / unfreeze by glob, freezeUntil, counts and the report', () =>
  torch.tidy(() => {
    const m = new Backbone();
    assert.deepEqual(torch.freeze(m), ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'fc.weight', 'fc.bias']);
    assert.equal(torch.countParameters(m, { trainable: true }), 0);
    assert.match(torch.formatFrozenReport(m), /warning: every parameter is frozen; the loss will not move/);
    assert.deepEqual(torch.unfreeze(m, 'fc.*'), ['fc.weight', 'fc.bias']);
    assert.deepEqual(torch.unfreeze(m, 'bn'), ['bn.weight', 'bn.bias'], 'a bare module path matches everything under it');
    assert.deepEqual(torch.trainableParameters(m), [m.bn.weight, m.bn.bias, m.fc.weight, m.fc.bias]);
    assert.equal(torch.countParameters(m), 216 + 8 + 16 + 90);
    assert.equal(torch.countParameters(m, { trainable: true }), 16 + 90);
    assert.equal(torch.countParameters(m, { trainable: false }), 224);
    const report = torch.frozenReport(m);
    assert.deepEqual(report[0], { name: 'conv.weight', shape: [8, 3, 3, 3], numel: 216, requiresGrad: false });
    assert.match(torch.formatFrozenReport(m), /trainable 106 of 330 parameters \(32\.1%\)/);
    torch.unfreeze(m);
    assert.deepEqual(torch.freezeUntil(m, 'pool'), ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias']);
    assert.deepEqual(torch.freezeUntil(m, 'fc', { inclusive: true }).slice(-2), ['fc.weight', 'fc.bias']);
    assert.throws(
      () => torch.freeze(m, 'layer9.*'),
      /freeze\(\): no parameter matches 'layer9\.\*'; names look like 'conv\.weight', 'conv\.bias', 'bn\.weight'/,
    );
    assert.throws(() => torch.freezeUntil(m, 'head'), /freezeUntil\(\): Backbone has no child 'head'; children: conv, bn, pool, fc/);
    m.dispose();
  }));

test('after one step, frozen parameters are bit-identical and the others moved; unfreeze resumes training', () =>
  torch.tidy(() => {
    torch.manualSeed(0);
    const m = new Backbone();
    torch.freeze(m);
    torch.unfreeze(m, 'fc');
    const x = torch.randn(4, 3, 6, 6);
    const y = torch.tensor([1, 3, 5, 7]);
    const before = new Map([...m.namedParameters()].map(([k, p]) => [k, flat(p)]));
    F.crossEntropy(m.call(x), y).backward();
    assert.equal(m.conv.weight.grad, null, 'no gradient reaches a frozen parameter');
    sgdStep(m, 0.1);
    for (const [k, p] of m.namedParameters()) {
      if (k.startsWith('fc.')) assert.notDeepEqual(flat(p), before.get(k), `${k} moved`);
      else assert.deepEqual(flat(p), before.get(k), `${k} is bit-identical`);
    }
    m.zeroGrad();
    torch.unfreeze(m, 'conv.*');
    F.crossEntropy(m.call(x), y).backward();
    sgdStep(m, 0.1);
    assert.notDeepEqual(flat(m.conv.weight), before.get('conv.weight'), 'conv trains again after unfreeze');
    assert.deepEqual(flat(m.bn.weight), before.get('bn.weight'), 'bn still frozen');
    m.dispose();
  }));

test('BatchNorm inside a frozen part stays in eval mode: running statistics do not move', () =>
  torch.tidy(() => {
    const m = new Backbone();
    torch.freeze(m, ['conv', 'bn']);
    torch.trainKeepingFrozenBatchNorm(m);
    assert.equal(m.training, true);
    assert.equal(m.fc.training, true);
    assert.equal(m.bn.training, false, 'the frozen BatchNorm is in eval');
    const rm = flat(m.bn.runningMean);
    m.call(torch.randn(4, 3, 6, 6));
    assert.deepEqual(flat(m.bn.runningMean), rm, 'running mean unchanged');
    assert.equal(m.bn.numBatchesTracked.item(), 0);
    torch.unfreeze(m, 'bn');
    assert.deepEqual(torch.keepFrozenBatchNormEval(m.train()), [], 'an unfrozen BatchNorm is left in train mode');
    m.call(torch.randn(4, 3, 6, 6));
    assert.notDeepEqual(flat(m.bn.runningMean), rm, 'and updates its statistics');
    m.dispose();
  }));

test('nn.Frozen runs a submodule under no-grad: same output, no gradient into it', () =>
  torch.tidy(() => {
    const inner = new nn.Linear(3, 4);
    const model = new nn.Sequential(new nn.Frozen(inner), new nn.Linear(4, 2));
    const x = torch.randn(5, 3, { requiresGrad: true });
    const direct = inner.call(x);
    const out = model.call(x);
    assert.deepEqual(flat(model.at(0).call(x)), flat(direct));
    out.sum().backward();
    assert.equal(inner.weight.grad, null);
    assert.equal(x.grad, null, 'nothing flows back through the frozen part');
    assert.notEqual(model.at(1).weight.grad, null);
    assert.deepEqual([...model.stateDict().keys()], ['0.weight', '0.bias', '1.weight', '1.bias'], 'Frozen adds nothing to the names (issue 13)');
    model.dispose();
  }));

test('setDropout sets every dropout rate (the dropout-tuning recipe)', () => {
  const m = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout(0.5), new nn.Sequential(new nn.Dropout2d(0.1)));
  assert.equal(torch.setDropout(m, 0.3), 2);
  assert.equal(m.at(1).p, 0.3);
  assert.match(String(m), /Dropout\(p=0\.3, inplace=False\)/);
  assert.throws(() => torch.setDropout(m, 2), /setDropout\(\): argument 'p' must be a probability between 0 and 1, got number 2/);
  m.dispose();
});

test('state-dict recipes: partial load, DataParallel prefix, rename, shape filter', () =>
  torch.tidy(() => {
    torch.manualSeed(0);
    const src = new Backbone();
    const dst = new Backbone();
    dst.fc.dispose(); // the replaced head is ours to free (else the GC does)
    dst.registerModule('fc', new nn.Linear(8, 5));
    const sd = src.stateDict();
    assert.throws(() => dst.loadStateDict(sd), /fc\.weight: checkpoint \[10, 8\] vs model \[5, 8\]/);
    const partial = torch.filterStateDict(sd, dst, { matchShapes: true });
    assert.deepEqual(
      [...partial.keys()].filter((k) => k.startsWith('fc')),
      [],
      'mismatched head dropped',
    );
    const r = dst.loadStateDict(partial, { strict: false });
    assert.deepEqual(r.missingKeys, ['fc.weight', 'fc.bias']);
    assert.deepEqual(flat(dst.conv.weight), flat(src.conv.weight));
    const dp = torch.addPrefix(sd, 'module.');
    assert.ok([...dp.keys()].every((k) => k.startsWith('module.')));
    const back = torch.stripPrefix(dp);
    assert.deepEqual([...back.keys()], [...sd.keys()]);
    const renamed = torch.renameKeys(sd, (k) => (k.startsWith('fc.') ? null : k.replace(/^conv\./, 'features.0.')));
    assert.deepEqual([...renamed.keys()].slice(0, 2), ['features.0.weight', 'features.0.bias']);
    assert.ok(![...renamed.keys()].some((k) => k.startsWith('fc.')));
    assert.throws(() => torch.renameKeys(sd, () => 'same'), /renameKeys\(\): two keys map to 'same'/);
    src.dispose();
    dst.dispose();
  }));

test('shared parameters (Siamese branches): one tensor, gradients from both uses accumulate', () =>
  torch.tidy(() => {
    const a = new nn.Linear(3, 2);
    const b = new nn.Linear(3, 2);
    assert.deepEqual(torch.shareParameters(a, b), ['weight', 'bias']);
    assert.equal(a.weight, b.weight);
    const x1 = torch.randn(4, 3);
    const x2 = torch.randn(4, 3);
    a.call(x1).sum().add(b.call(x2).sum()).backward();
    const expected = x1.sum(0).add(x2.sum(0)).unsqueeze(0).expand(2, 3);
    assert.ok(a.weight.grad.allclose(expected, { atol: 1e-6 }));
    a.dispose();
  }));

test('the transfer-learning recipe end to end equals PyTorch: pretrained weights, new head, frozen backbone, one SGD step', () => {
  const X = Array.from({ length: 4 * 3 * 6 * 6 }, (_, i) => Math.round(Math.cos(i * 0.11) * 1000) / 1000);
  const Y = [0, 4, 2, 1];
  const py = runPython(
    `
import torch, torch.nn as nn, torch.nn.functional as F, json, sys
d = json.load(sys.stdin)
class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1); self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1); self.fc = nn.Linear(8, 10)
    def forward(self, x):
        return self.fc(self.pool(self.bn(self.conv(x)).relu()).flatten(1))
torch.manual_seed(0)
pretrained = Backbone().state_dict()
m = Backbone()
m.load_state_dict(pretrained)
torch.manual_seed(1)
m.fc = nn.Linear(m.fc.in_features, 5)
for p in m.parameters(): p.requires_grad = False
for p in m.fc.parameters(): p.requires_grad = True
opt = torch.optim.SGD(filter(lambda p: p.requires_grad, m.parameters()), lr=0.1)
x = torch.tensor(d['x']).reshape(4, 3, 6, 6)
loss = F.cross_entropy(m(x), torch.tensor(d['y']))
opt.zero_grad(); loss.backward(); opt.step()
out = {k: v.reshape(-1).tolist() for k, v in m.state_dict().items()}
out['loss'] = loss.item()
print(json.dumps(out))
`,
    { x: X, y: Y },
  );
  torch.tidy(() => {
    torch.manualSeed(0);
    const pretrainedModel = new Backbone();
    const pretrained = pretrainedModel.stateDict();
    const m = new Backbone();
    m.loadStateDict(pretrained);
    torch.manualSeed(1);
    m.fc.dispose();
    m.registerModule('fc', new nn.Linear(m.fc.inFeatures, 5));
    torch.freeze(m);
    torch.unfreeze(m, 'fc');
    const x = torch.tensor(X, { dtype: 'float32' }).reshape(4, 3, 6, 6);
    const loss = F.crossEntropy(m.call(x), torch.tensor(Y));
    m.zeroGrad();
    loss.backward();
    sgdStep(m, 0.1);
    assert.ok(Math.abs(loss.item() - py.loss) < 1e-5, `loss ${loss.item()} vs ${py.loss}`);
    for (const [k, v] of m.stateDict()) {
      const got = flat(v);
      const want = py[k];
      if (k.startsWith('conv.')) assert.deepEqual(got, want, `${k}: frozen pretrained weight, bit-identical`);
      else got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]), `${k}[${i}]: ${g} vs ${want[i]}`));
    }
    pretrainedModel.dispose();
    m.dispose();
  });
});

test('summary lists layers, output shapes and trainable/frozen counts', () => {
  const m = new Backbone();
  torch.freeze(m, 'conv');
  const s = torch.summary(m, [2, 3, 6, 6]);
  assert.match(s, /conv \(Conv2d\)\s+\[2, 8, 6, 6\]\s+224\s+frozen/);
  assert.match(s, /fc \(Linear\)\s+\[2, 10\]\s+90\s+trainable/);
  assert.match(s, /total parameters: 330; trainable: 106; frozen: 224/);
  assert.equal(Object.hasOwn(m.conv, 'call'), false, 'the recording wrappers are removed');
  m.dispose();
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
