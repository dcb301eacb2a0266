'use strict';
// torch.vision.models' MobileNetV2, MobileNetV3-Small/Large and EfficientNet-B0 against torchvision
// 0.29: torchvision builds each model (seed 0), perturbs its 1-d parameters and runs three train-mode
// batches so BatchNorm statistics are non-trivial, saves the state dict to a .pth, and records a fixed
// input with the eval output, a train-mode output after manual_seed(7) (dropout and stochastic depth)
// and that output's parameter gradients. torch-node must load the .pth strictly with the builder,
// list state-dict keys and module names in torchvision's order, print the same structure, start
// from torchvision's initial weights after the same seed, and reproduce the outputs and gradients.
// Tolerances (float32, both sides on one thread; observed differences are 0): outputs 1e-4 abs;
// gradients 1e-4 abs + 1e-3 of each parameter's largest gradient; initial-weight sums 1e-6 relative.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const { models } = torch.vision;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // as the Python reference

// torchvision name -> [torch-node builder, classifier head keys]
const ARCHS = {
  mobilenet_v2: ['mobilenetV2', ['classifier.1.weight', 'classifier.1.bias']],
  mobilenet_v3_small: ['mobilenetV3Small', ['classifier.3.weight', 'classifier.3.bias']],
  mobilenet_v3_large: ['mobilenetV3Large', ['classifier.3.weight', 'classifier.3.bias']],
  efficientnet_b0: ['efficientnetB0', ['classifier.1.weight', 'classifier.1.bias']],
};

let dir;
let py;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-mobile-'));
  py = runPython(
    `
import json, os, sys, torch
from torchvision import models as tvm
torch.set_num_threads(1)
d = json.load(sys.stdin)
enums = {'mobilenet_v2': tvm.MobileNet_V2_Weights, 'mobilenet_v3_small': tvm.MobileNet_V3_Small_Weights,
         'mobilenet_v3_large': tvm.MobileNet_V3_Large_Weights, 'efficientnet_b0': tvm.EfficientNet_B0_Weights}
out = {}
for name in d['archs']:
    torch.manual_seed(0)
    m = getattr(tvm, name)()
    r = {'init': [float(v.double().sum()) for v in m.state_dict().values()],
         'keys': list(m.state_dict().keys()),
         'modules': [n for n, _ in m.named_modules()],
         'repr': str(m)}
    e = enums[name]
    r['files'] = {w.name: os.path.basename(w.url) for w in e}
    r['files']['DEFAULT'] = os.path.basename(e.DEFAULT.url)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.2)
        m.train()
        for i in range(3):
            m(torch.randn(4, 3, 64, 64, generator=g) * (1 + i))
    torch.save(m.state_dict(), os.path.join(d['dir'], name + '.pth'))
    m.eval()
    x = torch.randn(2, 3, 64, 64, generator=g)
    with torch.no_grad():
        y = m(x)
    m.train()
    torch.manual_seed(7)
    yt = m(x)
    (yt * torch.arange(yt.numel(), dtype=yt.dtype).reshape(yt.shape).cos()).sum().backward()
    grads = {k: p.grad for k, p in m.named_parameters()}
    torch.save({'x': x, 'y': y, 'y_train': yt.detach(), 'grads': grads}, os.path.join(d['dir'], name + '.io.pt'))
    out[name] = r
print(json.dumps(out))
`,
    { archs: Object.keys(ARCHS), dir },
  );
});

test.after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name) => path.join(dir, `${name}.pth`);
const maxAbs = (t) => torch.tidy(() => t.abs().max().item());
const maxDiff = (a, b) => torch.tidy(() => a.sub(b).abs().max().item());
// The printed structure equals torchvision's exactly, inplace=True included.
const structure = (s) => s;

for (const [name, [builder, head]] of Object.entries(ARCHS)) {
  test(`${builder}(): torchvision's ${name} structure, names, order and initial weights`, () => {
    const want = py[name];
    torch.manualSeed(0);
    const m = models[builder]();
    torch.tidy(() => {
      assert.deepEqual([...m.stateDict().keys()], want.keys, 'state-dict keys in order');
      assert.deepEqual([...m.namedModules().keys()], want.modules, 'module names in order');
      assert.equal(structure(String(m)), structure(want.repr), 'printed structure');
      assert.deepEqual(head, want.keys.slice(-2), 'the head is the last Linear');
      const sums = [...m.stateDict().values()].map((v) => v.to('float64').sum().item());
      sums.forEach((s, i) => {
        const w = want.init[i];
        if (!(Math.abs(s - w) <= 1e-6 * Math.max(1, Math.abs(w)))) assert.fail(`initial ${want.keys[i]}: sum ${s} vs torchvision ${w}`);
      });
    });
    m.dispose();
  });

  test(`${builder}({ weights: file }): loads torchvision's state dict strictly; eval and train outputs and gradients match`, () => {
    torch.tidy(() => {
      const m = models[builder]({ weights: file(name) });
      assert.deepEqual(m.weightsReport.newKeys, []);
      assert.deepEqual([...m.stateDict().keys()], py[name].keys);
      assert.deepEqual(m.loadStateDict(torch.load(file(name))), { missingKeys: [], unexpectedKeys: [] });
      const io = torch.load(path.join(dir, `${name}.io.pt`));
      const x = io.get('x');
      m.eval();
      const y = torch.noGrad(() => m.forward(x));
      assert.deepEqual(y.shape, [2, 1000]);
      const d = maxDiff(y, io.get('y'));
      assert.ok(d <= 1e-4, `eval output differs by ${d} (max |y| ${maxAbs(io.get('y'))})`);
      // Train mode after the same seed: the same dropout and stochastic-depth draws, batch statistics.
      m.train();
      torch.manualSeed(7);
      const yt = m.forward(x);
      const dt = maxDiff(yt, io.get('y_train'));
      assert.ok(dt <= 1e-4, `train output differs by ${dt}`);
      yt.mul(torch.arange(yt.numel()).reshape(yt.shape).cos()).sum().backward();
      const grads = io.get('grads');
      for (const [k, p] of m.namedParameters()) {
        const g = grads.get(k);
        const dg = maxDiff(p.grad, g);
        assert.ok(dg <= 1e-4 + 1e-3 * maxAbs(g), `gradient of ${k} differs by ${dg} (max |g| ${maxAbs(g)})`);
      }
      m.dispose();
    });
  });

  test(`${builder}({ weights, numClasses: 5 }): only the head (${head.join(', ')}) is new`, () => {
    torch.tidy(() => {
      const m = models[builder]({ weights: file(name), numClasses: 5, report: false });
      const r = m.weightsReport;
      assert.deepEqual(r.newKeys, head);
      assert.equal(r.numClasses, 5);
      assert.deepEqual(
        r.loaded,
        py[name].keys.filter((k) => !head.includes(k)),
      );
      const sd = m.stateDict();
      const fileSd = torch.load(file(name));
      for (const k of r.loaded) assert.equal(maxDiff(sd.get(k), fileSd.get(k)), 0, `${k} loaded`);
      assert.equal(sd.get(head[0]).shape[0], 5);
      assert.deepEqual(sd.get(head[0]).shape.slice(1), fileSd.get(head[0]).shape.slice(1));
      m.eval();
      const y = torch.noGrad(() => m.forward(torch.randn([2, 3, 64, 64])));
      assert.deepEqual(y.shape, [2, 5]);
      m.dispose();
    });
  });

  test(`${builder}({ weights: name }): torchvision's weight file names, looked up in the hub cache`, () => {
    const saved = process.env.TORCH_HOME;
    const home = fs.mkdtempSync(path.join(dir, 'home-'));
    process.env.TORCH_HOME = home;
    try {
      const files = py[name].files;
      for (const [weights, fileName] of Object.entries(files)) {
        assert.throws(
          () => models[builder]({ weights }),
          (e) => e.code === 'ERR_TORCH_FILE' && e.message.includes(fileName) && e.message.includes(home),
          `${weights} -> ${fileName}`,
        );
      }
      assert.throws(
        () => models[builder]({ weights: 'IMAGENET9K_V9' }),
        new RegExp(`no torchvision weights named 'IMAGENET9K_V9' for ${name}; known: ${Object.keys(files).join(', ')}`),
      );
      // The file where torchvision would have downloaded it: 'DEFAULT' finds it.
      const ckpt = path.join(home, 'hub', 'checkpoints');
      fs.mkdirSync(ckpt, { recursive: true });
      fs.symlinkSync(file(name), path.join(ckpt, files.DEFAULT));
      torch.tidy(() => {
        const m = models[builder]({ weights: 'DEFAULT' });
        assert.equal(m.weightsReport.source, path.join(ckpt, files.DEFAULT));
        const io = torch.load(path.join(dir, `${name}.io.pt`));
        m.eval();
        assert.ok(
          maxDiff(
            torch.noGrad(() => m.forward(io.get('x'))),
            io.get('y'),
          ) <= 1e-4,
        );
        m.dispose();
      });
    } finally {
      if (saved === undefined) delete process.env.TORCH_HOME;
      else process.env.TORCH_HOME = saved;
    }
  });
}

test('the head is replaceable through model.classifier; the report names the head keys', () => {
  const logs = [];
  const log = console.log;
  console.log = (...a) => logs.push(a.join(' '));
  let m;
  try {
    m = models.mobilenetV3Small({ weights: file('mobilenet_v3_small'), numClasses: 5 });
  } finally {
    console.log = log;
  }
  assert.equal(logs.length, 1);
  assert.match(
    logs[0],
    /mobilenet_v3_small: loaded 242 tensors from .*; new head classifier\.3\.weight, classifier\.3\.bias for 5 classes \(the weights have 1000\)/,
  );
  torch.tidy(() => {
    const old = m.classifier.at(3);
    m.classifier.registerModule('3', new torch.nn.Linear(1024, 7));
    old.dispose();
    m.eval();
    assert.deepEqual(torch.noGrad(() => m.forward(torch.randn([1, 3, 32, 32]))).shape, [1, 7]);
    assert.deepEqual([...m.stateDict().keys()], py.mobilenet_v3_small.keys);
  });
  m.dispose();
});

test('weights of another architecture are refused, naming the mismatches', () => {
  torch.tidy(() => {
    assert.throws(
      () => models.efficientnetB0({ weights: file('mobilenet_v2') }),
      /efficientnetB0\(\): .*mobilenet_v2\.pth does not fit efficientnet_b0: missing features\.1\.0\.block\.0\.0\.weight/,
    );
  });
});

// A shape mismatch makes loadStateDict() throw inside withWeights(), which then does not dispose the
// model it built (lib/vision/weights.ts disposes it only for missing/unexpected keys): the tensors
// stay live until the GC collects them. Checked in a child process so this file's leak check holds.
test('weights with mismatched shapes are refused, and the model built for them is freed', () => {
  const { spawnSync } = require('child_process');
  const code = `
    const torch = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist'))});
    const before = torch.memory().liveTensors;
    let message = '';
    try { torch.vision.models.mobilenetV3Large({ weights: ${JSON.stringify(file('mobilenet_v3_small'))} }); } catch (e) { message = e.message; }
    console.log(JSON.stringify({ message, leaked: torch.memory().liveTensors - before }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { message, leaked } = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.match(
    message,
    /cannot load the state dict into MobileNetV3; nothing was changed[\s\S]*shape mismatches[\s\S]*classifier\.0\.weight: checkpoint \[1024, 576\] vs model \[1280, 960\]/,
  );
  assert.equal(leaked, 0, 'tensors left live by the failed build');
});

test('the model classes are exported', () => {
  assert.equal(typeof models.MobileNetV2, 'function');
  assert.equal(typeof models.MobileNetV3, 'function');
  assert.equal(typeof models.EfficientNet, 'function');
  const m = new models.MobileNetV2({ numClasses: 3, widthMult: 0.5 });
  assert.ok(m instanceof torch.nn.Module);
  torch.tidy(() => {
    m.eval();
    assert.deepEqual(torch.noGrad(() => m.forward(torch.randn([1, 3, 32, 32]))).shape, [1, 3]);
  });
  m.dispose();
  // MobileNetV3 and EfficientNet from their stage tables, as torchvision's builders do.
  const { invertedResidualSetting, lastChannel } = models.mobilenetV3Conf('mobilenet_v3_small', { reducedTail: true });
  assert.equal(lastChannel, 512);
  const v3 = new models.MobileNetV3(invertedResidualSetting, lastChannel, { numClasses: 4, dropout: 0.1 });
  const eff = new models.EfficientNet(models.efficientnetConf(1.0, 1.0), 0.2, { numClasses: 2, stochasticDepthProb: 0 });
  torch.tidy(() => {
    v3.eval();
    eff.eval();
    assert.deepEqual(torch.noGrad(() => v3.forward(torch.randn([1, 3, 32, 32]))).shape, [1, 4]);
    assert.deepEqual(torch.noGrad(() => eff.forward(torch.randn([1, 3, 32, 32]))).shape, [1, 2]);
  });
  v3.dispose();
  eff.dispose();
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
