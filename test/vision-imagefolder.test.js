'use strict';
// ImageFolder on real photographs (crops of scikit-image's sample photos, written as PNG and JPEG):
// classes, sample order and targets equal torchvision.datasets.ImageFolder's; a frozen backbone with a
// new head trains end to end on it with a DataLoader and fit(); predict() names the classes; errors.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');
const { sampleImagesDir } = require('../scripts/sample-images');

const { vision, nn, optim, utils } = torch;
const T = vision.transforms;
torch.setNumThreads(1);
const baseline = torch.memory().liveTensors;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-imgfolder-'));
const images = sampleImagesDir();
const SOURCES = { cat: 'chelsea.png', coffee: 'coffee.png', rocket: 'rocket.jpg' };

/** Writes `n` crops of each source photo into root/<class>/ (some nested, some JPEG, one non-image). */
async function buildFolder(n) {
  torch.manualSeed(0);
  const crop = new T.RandomResizedCrop(80, { scale: [0.3, 1] });
  for (const [cls, file] of Object.entries(SOURCES)) {
    const img = await vision.readImage(path.join(images, file));
    fs.mkdirSync(path.join(root, cls, 'more'), { recursive: true });
    for (let i = 0; i < n; i++) {
      const c = crop.call(img);
      const jpeg = i % 3 === 2;
      const bytes = await vision.encodeImage(c, jpeg ? 'jpeg' : 'png');
      const sub = i % 4 === 3 ? 'more' : '';
      fs.writeFileSync(path.join(root, cls, sub, `${cls}_${String(i).padStart(2, '0')}.${jpeg ? 'JPG' : 'png'}`), bytes);
      c.dispose();
    }
    img.dispose();
    fs.writeFileSync(path.join(root, cls, 'notes.txt'), 'not an image');
  }
}

test("ImageFolder finds classes and samples in torchvision's order", async () => {
  await buildFolder(12);
  const ds = await vision.ImageFolder.load(root);
  const py = runPython(
    `
import json, sys
from torchvision.datasets import ImageFolder
d = ImageFolder(json.load(sys.stdin)['root'])
print(json.dumps({'classes': d.classes, 'classToIdx': d.class_to_idx, 'samples': d.samples, 'size': list(d[5][0].size)}))
`,
    { root },
  );
  assert.deepEqual(ds.classes, ['cat', 'coffee', 'rocket']);
  assert.deepEqual(ds.classes, py.classes);
  assert.deepEqual(ds.classToIdx, py.classToIdx);
  assert.deepEqual(ds.samples, py.samples);
  assert.equal(ds.length, 36);
  const [x, y] = ds.get(5);
  assert.deepEqual(x.shape, [3, py.size[1], py.size[0]]);
  assert.equal(x.dtype, 'uint8');
  assert.equal(y, 0);
  x.dispose();
  assert.throws(() => ds.get(36), /index 36 is out of range for 36 samples/);
  ds.dispose();
});

test('a frozen ResNet-18 backbone with a new head trains end to end on an ImageFolder (DataLoader + fit), and predict names the classes', async () => {
  const train = new T.Compose([
    new T.RandomResizedCrop(64, { scale: [0.5, 1] }),
    new T.RandomHorizontalFlip(),
    new T.ToTensor(),
    new T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD),
  ]);
  const ds = await vision.ImageFolder.load(root, { transform: train });
  torch.manualSeed(1);
  // (randomly initialised: this checks the plumbing; the pretrained recipe is in the Lite0 test and the demo)
  const model = vision.models.resnet18();
  torch.freeze(model);
  const oldHead = model.fc;
  model.registerModule('fc', new nn.Linear(model.fc.inFeatures, ds.classes.length));
  oldHead.dispose(); // the replaced head is ours to free (or the GC's)
  assert.deepEqual(torch.trainableParameters(model).length, 2);
  const optimizer = new optim.Adam(torch.trainableParameters(model), { lr: 0.01 });
  const loader = new utils.DataLoader(ds, { batchSize: 12, shuffle: true, seed: 0 });
  const { history } = utils.fit(model, {
    trainLoader: loader,
    epochs: 8,
    optimizer,
    lossFn: new nn.CrossEntropyLoss(),
    metrics: ['accuracy'],
    verbose: 'none',
    keepFrozenBatchNormEval: true,
  });
  assert.ok(history.loss[7] < history.loss[0] * 0.6, `the loss falls: ${history.loss.map((v) => v.toFixed(3)).join(', ')}`);
  assert.ok(history.accuracy[7] >= 0.8, `train accuracy ${history.accuracy[7]}`);

  // predict on the full photos (not the crops it saw)
  const evalT = new T.Compose([new T.Resize(64), new T.CenterCrop(64), new T.ToTensor(), new T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD)]);
  let right = 0;
  for (const [cls, file] of Object.entries(SOURCES)) {
    const [top] = await vision.predict(model, path.join(images, file), { labels: ds.classes, transform: evalT, topk: 1 });
    assert.ok(top.probability > 0 && top.probability <= 1);
    if (top.label === cls) right++;
  }
  assert.ok(right >= 2, `${right} of 3 photos named right`);
  assert.equal(model.training, true, 'predict() restores the mode');
  optimizer.dispose();
  model.dispose();
  ds.dispose();
});

test('ImageFolder errors: no class folder, a class with no image, a corrupt image', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-imgfolder-empty-'));
  await assert.rejects(vision.ImageFolder.load(empty), /couldn't find any class folder in/);
  fs.mkdirSync(path.join(empty, 'a'));
  fs.mkdirSync(path.join(empty, 'b'));
  fs.copyFileSync(path.join(images, 'coffee.png'), path.join(empty, 'a', 'x.png'));
  fs.writeFileSync(path.join(empty, 'b', 'readme.md'), 'no images');
  await assert.rejects(vision.ImageFolder.load(empty), /found no valid file for the classes b in .*; supported extensions are: \.jpg, \.jpeg, \.png/);
  fs.writeFileSync(path.join(empty, 'b', 'broken.png'), 'not a png');
  const before = torch.memory().liveTensors;
  await assert.rejects(vision.ImageFolder.load(empty), (e) => e instanceof torch.TorchError && /cannot decode .*broken\.png/.test(e.message));
  assert.equal(torch.memory().liveTensors, before, 'a failed load frees what it decoded');
  fs.rmSync(empty, { recursive: true, force: true });
});

test('no tensors leaked by this file', () => {
  fs.rmSync(root, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
