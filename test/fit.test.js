'use strict';
// fit(): the same history and weights as the loop PyTorch users write by hand (golden, three
// optimizer/scheduler set-ups), EarlyStopping on a scripted metric (right epoch, best weights back),
// ModelCheckpoint best/last (Python reads them; resuming with initialEpoch equals never stopping),
// progress output (bar on a TTY, one line per epoch otherwise and in CI), plotHistory PNG/SVG checked
// by PIL and ElementTree (both curves drawn), errors; no tensors leaked.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const { nn, optim, utils } = torch;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-fit-'));
torch.setNumThreads(1);
const baseline = torch.memory().liveTensors;
const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());

torch.manualSeed(0);
const data = {
  x: torch.keep(torch.randn(48, 4)),
  y: torch.keep(torch.randint(0, 3, [48])),
  xv: torch.keep(torch.randn(16, 4)),
  yv: torch.keep(torch.randint(0, 3, [16])),
};
const trainSet = new utils.TensorDataset(data.x, data.y);
const valSet = new utils.TensorDataset(data.xv, data.yv);
const makeModel = () => new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
const loaders = () => ({
  trainLoader: new utils.DataLoader(trainSet, { batchSize: 10, shuffle: true, seed: 5 }), // 5 batches, the last of 8
  valLoader: new utils.DataLoader(valSet, { batchSize: 16 }),
});

const EPOCHS = 5;
const CONFIGS = {
  sgdStep: {
    make: (m) => {
      const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
      return { optimizer: opt, scheduler: new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 }) };
    },
    py: `opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5); per_batch = False; clip = None`,
  },
  adamwOneCycleClip: {
    make: (m) => {
      const opt = new optim.AdamW(m.parameters(), { lr: 0.01 });
      return { optimizer: opt, scheduler: new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.05, totalSteps: EPOCHS * 5 }), clipGradNorm: 0.5 };
    },
    py: `opt = torch.optim.AdamW(m.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=${EPOCHS * 5}); per_batch = True; clip = 0.5`,
  },
  plateau: {
    make: (m) => {
      const opt = new optim.SGD(m.parameters(), { lr: 0.3 });
      return { optimizer: opt, scheduler: new optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 }) };
    },
    py: `opt = torch.optim.SGD(m.parameters(), lr=0.3)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5); per_batch = False; clip = None`,
  },
};

// The loop of PyTorch's transfer-learning tutorial: per-sample means of loss and accuracy.
const PY_LOOP = `
import json, sys, torch, torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
d = json.load(sys.stdin)
f = torch.load(d['file'])
out = {}
for name, setup in d['configs'].items():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    m.load_state_dict(f['init'])
    exec(setup)
    crit = nn.CrossEntropyLoss()
    train = DataLoader(TensorDataset(f['x'], f['y']), batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(5))
    val = DataLoader(TensorDataset(f['xv'], f['yv']), batch_size=16)
    h = {k: [] for k in ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr']}
    for epoch in range(d['epochs']):
        m.train()
        lr = opt.param_groups[0]['lr']
        tot = correct = n = 0
        for xb, yb in train:
            opt.zero_grad()
            o = m(xb)
            loss = crit(o, yb)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(m.parameters(), clip)
            opt.step()
            if per_batch:
                sched.step()
            tot += loss.item() * len(xb); correct += (o.argmax(1) == yb).sum().item(); n += len(xb)
        m.eval()
        vtot = vcorrect = vn = 0
        with torch.no_grad():
            for xb, yb in val:
                o = m(xb)
                vtot += crit(o, yb).item() * len(xb); vcorrect += (o.argmax(1) == yb).sum().item(); vn += len(xb)
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(vtot / vn)
        elif not per_batch:
            sched.step()
        for k, v in zip(h, [tot / n, correct / n, vtot / vn, vcorrect / vn, lr]):
            h[k].append(v)
    out[name] = {'history': h, 'weights': {k: v.reshape(-1).tolist() for k, v in m.state_dict().items()}}
print(json.dumps(out))
`;

test(`fit() equals the hand-written PyTorch loop: history and weights after ${EPOCHS} epochs (SGD+StepLR, AdamW+OneCycleLR per batch+clipping, ReduceLROnPlateau)`, () => {
  torch.manualSeed(1);
  const init = makeModel();
  const file = path.join(dir, 'golden-input.pt');
  torch.tidy(() => torch.save(new Map([['init', init.stateDict()], ...Object.entries(data)]), file));
  const py = runPython(PY_LOOP, { file, epochs: EPOCHS, configs: Object.fromEntries(Object.entries(CONFIGS).map(([k, c]) => [k, c.py])) });
  for (const [name, config] of Object.entries(CONFIGS)) {
    const model = makeModel();
    torch.tidy(() => model.loadStateDict(init.stateDict()));
    const parts = config.make(model);
    const { history, epochsRun, stoppedEarly } = utils.fit(model, {
      ...loaders(),
      ...parts,
      epochs: EPOCHS,
      lossFn: new nn.CrossEntropyLoss(),
      metrics: ['accuracy'],
      verbose: 'none',
    });
    assert.equal(epochsRun, EPOCHS);
    assert.equal(stoppedEarly, false);
    assert.deepEqual(history.epoch, [1, 2, 3, 4, 5]);
    for (const [k, want] of Object.entries(py[name].history)) {
      assert.equal(history[k].length, EPOCHS, `${name} ${k}`);
      history[k].forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${name}: ${k}[${i}] = ${v}, PyTorch ${want[i]}`));
    }
    torch.tidy(() => {
      for (const [k, v] of model.stateDict()) {
        const want = py[name].weights[k];
        flat(v).forEach((a, i) => assert.ok(Math.abs(a - want[i]) <= 1e-5, `${name}: ${k}[${i}] = ${a}, PyTorch ${want[i]}`));
      }
    });
    assert.equal(model.training, true, 'the model is left in the mode it was in');
    parts.optimizer.dispose();
    model.dispose();
  }
  init.dispose();
});

/** A model whose weights change each epoch, and a metric that reads a scripted sequence, one value per epoch. */
function scripted(sequence) {
  const model = makeModel();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05 });
  let epoch = 0;
  const snapshots = [];
  const recorder = {
    onEpochEnd(e, logs, ctx) {
      snapshots.push(torch.tidy(() => flat(ctx.model.at(2).weight)));
      epoch = e + 1;
    },
  };
  const metrics = { score: () => sequence[epoch] };
  return { model, optimizer, recorder, metrics, snapshots };
}

test('EarlyStopping stops at the right epoch on a scripted metric and restores the best weights', () => {
  const sequence = [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.69, 0.5, 0.4, 0.3];
  const cases = [
    // [options, epochs run, best epoch (0-based)]
    [{ monitor: 'valScore', patience: 3 }, 6, 2], // 0.75, 0.72, 0.71 do not beat 0.7
    [{ monitor: 'valScore', patience: 4 }, 10, 9], // 0.69 beats 0.7 in time, then it keeps improving
    [{ monitor: 'valScore', patience: 4, minDelta: 0.05 }, 7, 2], // 0.69 is not 0.05 better than 0.7
    [{ monitor: 'valScore', patience: 0 }, 4, 2],
  ];
  for (const [options, runs, bestEpoch] of cases) {
    const s = scripted(sequence);
    const es = new utils.EarlyStopping(options);
    const r = utils.fit(s.model, {
      ...loaders(),
      epochs: 10,
      optimizer: s.optimizer,
      lossFn: new nn.CrossEntropyLoss(),
      metrics: s.metrics,
      callbacks: [s.recorder, es],
      verbose: 'none',
    });
    const what = JSON.stringify(options);
    assert.equal(r.epochsRun, runs, what);
    assert.equal(r.stoppedEarly, runs < 10, what);
    assert.deepEqual(r.history.valScore, sequence.slice(0, runs), what);
    assert.equal(es.bestEpoch, bestEpoch, what);
    assert.equal(es.best, sequence[bestEpoch], what);
    assert.equal(es.stoppedEpoch, runs < 10 ? runs - 1 : -1, what);
    assert.deepEqual(flat(s.model.at(2).weight), s.snapshots[bestEpoch], `${what}: the best epoch's weights are back`);
    if (bestEpoch !== runs - 1) assert.notDeepEqual(s.snapshots[runs - 1], s.snapshots[bestEpoch]);
    s.optimizer.dispose();
    s.model.dispose();
  }
  // restoreBestWeights: false keeps the last weights; mode 'max' (auto for accuracies) watches for increases
  const s = scripted([0.1, 0.5, 0.4, 0.3, 0.2]);
  const es = new utils.EarlyStopping({ monitor: 'valScoreAcc', patience: 2, restoreBestWeights: false });
  const r = utils.fit(s.model, {
    ...loaders(),
    epochs: 5,
    optimizer: s.optimizer,
    lossFn: new nn.CrossEntropyLoss(),
    metrics: { scoreAcc: s.metrics.score },
    callbacks: [s.recorder, es],
    verbose: 'none',
  });
  assert.equal(r.epochsRun, 4);
  assert.equal(es.bestEpoch, 1);
  assert.deepEqual(flat(s.model.at(2).weight), s.snapshots[3]);
  s.optimizer.dispose();
  s.model.dispose();
});

test('ModelCheckpoint writes best and last; Python reads them; fit() resumed from last equals never stopping', () => {
  const run = (epochs, extra = {}) => {
    torch.manualSeed(3);
    const model = makeModel();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
    return { model, optimizer, scheduler, epochs, lossFn: new nn.CrossEntropyLoss(), metrics: ['accuracy'], verbose: 'none', ...extra };
  };
  // an unseeded shuffle draws from the global RNG, which the checkpoint holds
  const fitWith = (r, more) => {
    const { model, ...rest } = r;
    return utils.fit(model, { ...loaders(), trainLoader: new utils.DataLoader(trainSet, { batchSize: 10, shuffle: true }), ...rest, ...more });
  };
  // uninterrupted: 6 epochs
  const a = run(6);
  torch.manualSeed(11);
  const full = fitWith(a, {});

  // interrupted after 3, checkpoints every epoch
  const best = new utils.ModelCheckpoint(path.join(dir, 'best.pt'), { saveBestOnly: true });
  const last = new utils.ModelCheckpoint(path.join(dir, 'last.pt'));
  const perEpoch = new utils.ModelCheckpoint(path.join(dir, 'w-{epoch}-{valLoss}.pt'), { weightsOnly: true, monitor: 'loss' });
  const b = run(6);
  torch.manualSeed(11);
  fitWith(b, { epochs: 3, callbacks: [best, last, perEpoch] });
  assert.deepEqual(
    last.saved,
    [1, 2, 3].map(() => path.join(dir, 'last.pt')),
  );
  assert.equal(perEpoch.saved.length, 3);
  assert.match(path.basename(perEpoch.saved[2]), /^w-3-\d+\.\d{4}\.pt$/);

  // a fresh process would do this: new objects, then loadCheckpoint
  const c = run(6);
  torch.manualSeed(999);
  const info = utils.loadCheckpoint(path.join(dir, 'last.pt'), { model: c.model, optimizer: c.optimizer, scheduler: c.scheduler });
  assert.equal(info.epoch, 3);
  const resumed = fitWith(c, { initialEpoch: info.epoch, history: info.extra.get('history') });
  assert.equal(resumed.epochsRun, 3);
  assert.deepEqual(resumed.history, full.history, 'the history continues');
  torch.tidy(() => {
    for (const [k, v] of c.model.stateDict()) assert.deepEqual(flat(v), flat(a.model.stateDict().get(k)), `${k}: bit-identical to the uninterrupted run`);
  });

  const bestEpoch = full.history.valLoss.slice(0, 3).reduce((bi, v, i, vs) => (v < vs[bi] ? i : bi), 0) + 1;
  const py = runPython(
    `
import json, sys, torch
d = json.load(sys.stdin)
b = torch.load(d['best']); l = torch.load(d['last']); w = torch.load(d['w'])
print(json.dumps({'best': b['epoch'], 'last': l['epoch'], 'keys': list(l.keys()), 'history': l['history'],
                  'types': sorted({type(v).__name__ for v in l['history']['loss']}), 'w': list(w.keys())}))
`,
    { best: path.join(dir, 'best.pt'), last: path.join(dir, 'last.pt'), w: perEpoch.saved[0] },
  );
  assert.equal(py.best, bestEpoch);
  assert.equal(py.last, 3);
  assert.deepEqual(py.keys, ['epoch', 'model_state_dict', 'optimizer_state_dict', 'scheduler_state_dict', 'loss', 'rng_state', 'history']);
  assert.deepEqual(py.types, ['float']);
  assert.deepEqual(py.history.epoch, [1, 2, 3]);
  assert.deepEqual(py.history.valLoss, full.history.valLoss.slice(0, 3));
  assert.deepEqual(py.w, ['0.weight', '0.bias', '2.weight', '2.bias']);
  for (const r of [a, b, c]) {
    r.optimizer.dispose();
    r.model.dispose();
  }
});

function capture(isTTY) {
  const chunks = [];
  return { isTTY, write: (s) => chunks.push(s), text: () => chunks.join('') };
}

test('progress: a redrawn bar on a TTY, one line per epoch otherwise and when CI is set, nothing with verbose none', () => {
  const go = (output, verbose) => {
    const model = makeModel();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const r = utils.fit(model, { ...loaders(), epochs: 3, optimizer, lossFn: new nn.CrossEntropyLoss(), metrics: ['accuracy'], output, verbose });
    model.dispose();
    return r.history;
  };
  const ci = process.env.CI;
  try {
    delete process.env.CI;
    const tty = capture(true);
    go(tty, 'auto');
    const text = tty.text();
    assert.match(text, /\rEpoch 1\/3 \[={30}\] 5\/5 - \d+\.\ds - loss: \d\.\d{4}\x1b\[K/);
    assert.equal(text.split('\n').length, 4, 'one finished line per epoch');

    const pipe = capture(false);
    const h = go(pipe, 'auto');
    const lines = pipe.text().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[3], '');
    lines.slice(0, 3).forEach((l, i) => {
      assert.equal(
        l,
        `Epoch ${i + 1}/3 - ${l.split(' - ')[1]} - loss: ${h.loss[i].toFixed(4)} - accuracy: ${h.accuracy[i].toFixed(4)} - valLoss: ${h.valLoss[i].toFixed(4)} - valAccuracy: ${h.valAccuracy[i].toFixed(4)} - lr: 0.1000`,
      );
      assert.doesNotMatch(l, /\r|\x1b/);
    });

    process.env.CI = 'true';
    const ciTty = capture(true);
    go(ciTty, 'auto');
    assert.equal(ciTty.text().split('\n').length, 4);
    assert.doesNotMatch(ciTty.text(), /\r/, 'no bar in CI even on a TTY');

    const quiet = capture(true);
    go(quiet, 'none');
    assert.equal(quiet.text(), '');
  } finally {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  }
});

test('plotHistory draws train and validation curves into a valid PNG and SVG (checked by PIL and ElementTree)', () => {
  const history = {
    epoch: [1, 2, 3, 4, 5, 6],
    loss: [1.2, 0.9, 0.7, 0.55, 0.45, 0.4],
    accuracy: [0.5, 0.6, 0.7, 0.8, 0.85, 0.9],
    valLoss: [1.25, 1.0, 0.85, 0.8, 0.82, 0.9],
    valAccuracy: [0.45, 0.55, 0.62, 0.66, 0.65, 0.64],
    lr: [0.1, 0.1, 0.05, 0.05, 0.025, 0.025],
  };
  const png = path.join(dir, 'curves.png');
  const svg = path.join(dir, 'curves.svg');
  const trainOnly = path.join(dir, 'train-only.png');
  assert.deepEqual(utils.plotHistory({ history }, png), ['loss', 'accuracy']);
  assert.deepEqual(utils.plotHistory(new Map(Object.entries(history)), svg, { title: 'run 1', width: 500, height: 300 }), ['loss', 'accuracy']);
  assert.deepEqual(utils.plotHistory({ loss: history.loss }, trainOnly, { metrics: ['loss'] }), ['loss']);
  assert.deepEqual([...fs.readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const py = runPython(
    `
import json, sys
from PIL import Image
import xml.etree.ElementTree as ET
d = json.load(sys.stdin)
out = {}
def colors(path):
    im = Image.open(path); im.verify()
    im = Image.open(path).convert('RGB')
    px = list(im.getdata())
    half = im.size[0] // 2
    def count(rgb, left):
        return sum(1 for i, p in enumerate(px) if p == rgb and ((i % im.size[0]) < half) == left)
    return {'size': list(im.size), 'format': Image.open(path).format,
            'trainLeft': count((31, 119, 180), True), 'valLeft': count((255, 127, 14), True),
            'trainRight': count((31, 119, 180), False), 'valRight': count((255, 127, 14), False)}
out['png'] = colors(d['png'])
out['trainOnly'] = colors(d['trainOnly'])
root = ET.parse(d['svg']).getroot()
strokes = [e.get('stroke') for e in root.iter() if e.get('stroke')]
out['svg'] = {'tag': root.tag, 'width': root.get('width'), 'height': root.get('height'),
              'panels': len([e for e in root if e.tag.endswith('svg')]),
              'train': strokes.count('#1F77B4'), 'val': strokes.count('#FF7F0E')}
print(json.dumps(out))
`,
    { png, svg, trainOnly },
  );
  assert.deepEqual(py.png.size, [1280, 400]);
  assert.equal(py.png.format, 'PNG');
  for (const k of ['trainLeft', 'valLeft', 'trainRight', 'valRight']) assert.ok(py.png[k] > 300, `PNG: ${k} curve drawn (${py.png[k]} pixels)`);
  assert.deepEqual(py.trainOnly.size, [640, 400]);
  assert.ok(py.trainOnly.trainLeft + py.trainOnly.trainRight > 300);
  assert.equal(py.trainOnly.valLeft + py.trainOnly.valRight, 0, 'no validation curve without validation data');
  assert.equal(py.svg.tag, '{http://www.w3.org/2000/svg}svg');
  assert.equal(py.svg.width, '1000');
  assert.equal(py.svg.height, '300');
  assert.equal(py.svg.panels, 2);
  assert.ok(py.svg.train >= 2 && py.svg.val >= 2, `SVG: both curves in both panels (${py.svg.train}, ${py.svg.val})`);

  assert.throws(() => utils.plotHistory(history, path.join(dir, 'curves.jpg')), /plotHistory\(\): argument 'file' must be a path ending in '.png' or '.svg'/);
  assert.throws(() => utils.plotHistory({ epoch: [1] }, png), /the history has no metric to draw/);
  assert.throws(() => utils.plotHistory(history, png, { metrics: ['f1'] }), /no metric f1 in the history; it has loss, accuracy/);
  assert.throws(() => utils.plotHistory([1, 2], png), /argument 'history' must be fit\(\)'s history/);
  assert.ok(fs.statSync(png).size > 1000, 'a failed call leaves the earlier file alone');
});

test('fit() errors name what was wrong', () => {
  const model = makeModel();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  const base = { ...loaders(), epochs: 2, optimizer, lossFn: new nn.CrossEntropyLoss(), verbose: 'none' };
  const cases = [
    [{ epochs: 0 }, /fit\(\): argument 'epochs' must be a positive integer, got number 0/],
    [{ initialEpoch: 3 }, /argument 'epochs' must be at least initialEpoch \(3\)/],
    [{ trainLoader: 5 }, /argument 'trainLoader' must be an iterable of \[input, target\] batches/],
    [{ optimizer: {} }, /argument 'optimizer' must be a torch.optim optimizer/],
    [{ lossFn: 'mse' }, /argument 'lossFn' must be a loss module or a function/],
    [{ lossFn: (o) => o }, /lossFn must return a one-element tensor, got shape \[10, 3\]/],
    [{ metrics: ['f1'] }, /argument 'metrics.f1' must be 'accuracy', 'binaryAccuracy' or a function/],
    [{ metrics: ['binaryAccuracy'] }, /metric 'binaryAccuracy' takes logits and 0\/1 targets with as many elements, got float32 \[10, 3\] and int64 \[10\]/],
    [{ trainLoader: [[data.x]] }, /trainLoader batch 0 must be \[input, target\], got an array of length 1/],
    [{ trainLoader: [] }, /trainLoader yielded no batches/],
    [{ verbose: 2 }, /argument 'verbose' must be 'auto', 'bar', 'epoch' or 'none'/],
    [{ lr: 0.1 }, /unknown option 'lr'/],
    [{ callbacks: [new utils.EarlyStopping({ monitor: 'valF1' })] }, /EarlyStopping: monitor 'valF1' is not among this epoch's metrics \(loss, valLoss, lr\)/],
    [
      { valLoader: undefined, callbacks: [new utils.EarlyStopping()] },
      /monitor 'valLoss' is not among this epoch's metrics \(loss, lr\); pass fit\(\) a valLoader/,
    ],
    [
      { callbacks: [new utils.ModelCheckpoint(path.join(dir, 'x-{f1}.pt'))] },
      /'\{f1\}' in '.*x-\{f1\}.pt' is neither \{epoch\} nor one of this epoch's metrics/,
    ],
    [{ device: 'cuda' }, /CUDA is not available|ERR_TORCH_NO_CUDA/],
  ];
  for (const [extra, re] of cases) {
    if (extra.device === 'cuda' && torch.cuda.isAvailable()) continue; // the CUDA path is tested in cuda.test.js
    assert.throws(
      () => utils.fit(model, { ...base, ...extra }),
      (e) => e instanceof torch.TorchError && re.test(e.message),
      `${JSON.stringify(Object.keys(extra))}: ${re}`,
    );
  }
  assert.throws(() => new utils.EarlyStopping({ patience: -1 }), /EarlyStopping\(\): argument 'patience' must be a non-negative integer/);
  assert.throws(() => new utils.EarlyStopping({ mode: 'up' }), /argument 'mode' must be 'min', 'max' or 'auto'/);
  assert.throws(() => new utils.ModelCheckpoint(path.join(dir, 'a.pt'), { every: 2 }), /ModelCheckpoint\(\): unknown option 'every'/);
  assert.equal(model.training, true, 'a failed fit() leaves the mode as it was');
  optimizer.dispose();
  model.dispose();
});

test('no tensors leaked by this file', () => {
  torch.dispose(Object.values(data));
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
