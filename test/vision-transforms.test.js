'use strict';
// torch.vision.io and torch.vision.transforms on real photographs (scikit-image's sample images, from
// PyPI): decoding against torchvision.io.read_image, the deterministic pipeline (Resize, CenterCrop,
// ToTensor, Normalize) and seeded random ones (RandomResizedCrop, RandomHorizontalFlip) against
// torchvision's tensor transforms on the same input, errors; no tensors leaked.
//
// Tolerances: PNG decoding is lossless, so it is exact. JPEG decoders may differ (sharp bundles
// mozjpeg, torchvision libjpeg-turbo; IDCT and chroma upsampling choices): a few levels at most.
// Transforms on the same tensor run the same ATen kernels as torchvision's tensor path: exact for
// uint8 results, 1e-6 for float. torchvision on a PIL image resizes with PIL's own filter instead;
// that path is compared too and differs by a few levels (measured and bounded below).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');
const { sampleImagesDir } = require('../scripts/sample-images');

const { vision } = torch;
const T = vision.transforms;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-vt-'));
const images = sampleImagesDir();
torch.setNumThreads(1); // as the Python reference: multi-threaded bilinear kernels can round a .5 the other way
const baseline = torch.memory().liveTensors;
const IMAGES = { cat: 'chelsea.png', coffee: 'coffee.png', rocket: 'rocket.jpg', camera: 'camera.png' };
const maxAbs = (a, b) => torch.tidy(() => a.to('float64').sub(b.to('float64')).abs().max().item());

const decoded = {};

test('readImage decodes real PNG, JPEG and WebP photos as torchvision.io.read_image does (RGB uint8 [3, H, W])', async () => {
  for (const [name, file] of Object.entries(IMAGES)) decoded[name] = torch.keep(await vision.readImage(path.join(images, file)));
  const fromBuffer = await vision.readImage(fs.readFileSync(path.join(images, IMAGES.cat)));
  const gray = await vision.readImage(path.join(images, IMAGES.camera), { mode: 'GRAY' });
  const file = path.join(dir, 'decoded.pt');
  torch.save(new Map(Object.entries(decoded)), file);
  const py = runPython(
    `
import json, sys, torch
from torchvision.io import read_image, ImageReadMode
d = json.load(sys.stdin)
ours = torch.load(d['file'])
out = {}
for name, f in d['images'].items():
    tv = read_image(f, ImageReadMode.RGB)
    diff = (tv.int() - ours[name].int()).abs()
    out[name] = {'shape': list(tv.shape), 'max': diff.max().item(), 'mean': diff.float().mean().item()}
out['graySum'] = read_image(d['images']['camera'], ImageReadMode.GRAY).sum().item()
print(json.dumps(out))
`,
    { file, images: Object.fromEntries(Object.entries(IMAGES).map(([k, f]) => [k, path.join(images, f)])) },
  );
  for (const [name, file] of Object.entries(IMAGES)) {
    const t = decoded[name];
    assert.equal(t.dtype, 'uint8');
    assert.deepEqual(t.shape, py[name].shape, name);
    if (file.endsWith('.png')) assert.equal(py[name].max, 0, `${name}: PNG decodes exactly`);
    else {
      assert.ok(py[name].max <= 8 && py[name].mean < 0.5, `${name}: JPEG within 8 levels (mean ${py[name].mean.toFixed(3)}); got max ${py[name].max}`);
    }
  }
  assert.deepEqual(decoded.camera.shape.slice(0, 1), [3], 'a grey image becomes RGB');
  assert.equal(maxAbs(fromBuffer, decoded.cat), 0, 'a buffer decodes as the file does');
  // WebP: a lossless WebP of the cat decodes to the PNG's pixels
  const webp = await require('sharp')(path.join(images, IMAGES.cat)).webp({ lossless: true }).toBuffer();
  const fromWebp = await vision.readImage(webp);
  assert.equal(maxAbs(fromWebp, decoded.cat), 0, 'lossless WebP decodes exactly');
  fromWebp.dispose();
  assert.deepEqual(gray.shape, [1, ...decoded.camera.shape.slice(1)]);
  assert.equal(
    torch.tidy(() => gray.to('int64').sum().item()),
    py.graySum,
  );
  torch.dispose([fromBuffer, gray]);
});

test('Resize, CenterCrop, ToTensor, Normalize equal torchvision on the same tensors; the PIL path differs by a few levels', () => {
  const file = path.join(dir, 'pipeline-in.pt');
  const outFile = path.join(dir, 'pipeline-out.pt');
  torch.save(new Map(Object.entries(decoded)), file);
  const py = runPython(
    `
import json, sys, torch
import torchvision.transforms as T
from PIL import Image
d = json.load(sys.stdin)
ours = torch.load(d['file'])
res = {}
pil = {}
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
for name, img in ours.items():
    r = T.Resize(256)(img)
    r2 = T.Resize([100, 150], antialias=False)(img)
    rn = T.Resize(64, interpolation=T.InterpolationMode.NEAREST)(img)
    rm = T.Resize(200, max_size=240)(img)
    c = T.CenterCrop(224)(r)
    odd = T.CenterCrop([223, 101])(r)
    big = T.CenterCrop(600)(img)
    x = c.to(torch.float32).div(255)
    n = T.Normalize(mean, std)(x)
    res.update({f'{name}.resize': r, f'{name}.resize2': r2, f'{name}.nearest': rn, f'{name}.max': rm, f'{name}.crop': c,
                f'{name}.odd': odd, f'{name}.big': big, f'{name}.norm': n})
    # torchvision's usual Python pipeline: a PIL image
    p = T.Compose([T.Resize(256), T.CenterCrop(224), T.PILToTensor()])(Image.open(d['images'][name]).convert('RGB'))
    diff = (p.int() - c.int()).abs()
    pil[name] = {'max': diff.max().item(), 'mean': diff.float().mean().item()}
torch.save(res, d['out'])
print(json.dumps(pil))
`,
    { file, out: outFile, images: Object.fromEntries(Object.entries(IMAGES).map(([k, f]) => [k, path.join(images, f)])) },
  );
  const want = torch.load(outFile);
  const mean = T.IMAGENET_MEAN;
  const std = T.IMAGENET_STD;
  for (const [name, img] of Object.entries(decoded)) {
    torch.tidy(() => {
      const r = new T.Resize(256).call(img);
      const got = {
        resize: r,
        resize2: new T.Resize([100, 150], { antialias: false }).call(img),
        nearest: new T.Resize(64, { interpolation: 'nearest' }).call(img),
        max: new T.Resize(200, { maxSize: 240 }).call(img),
        crop: new T.CenterCrop(224).call(r),
        odd: new T.CenterCrop([223, 101]).call(r),
        big: new T.CenterCrop(600).call(img),
        norm: new T.Compose([new T.CenterCrop(224), new T.ToTensor(), new T.Normalize(mean, std)]).call(r),
      };
      for (const [k, v] of Object.entries(got)) {
        const w = want.get(`${name}.${k}`);
        assert.deepEqual(v.shape, w.shape, `${name} ${k}: shape`);
        assert.equal(v.dtype, w.dtype, `${name} ${k}: dtype`);
        const d = maxAbs(v, w);
        assert.ok(k === 'norm' ? d <= 1e-6 : d === 0, `${name} ${k}: differs from torchvision by ${d}`);
      }
    });
    // PIL's resampling filter is not ATen's: bounded, and small on average
    assert.ok(py[name].max <= 40 && py[name].mean < 1.5, `${name}: PIL path differs by max ${py[name].max}, mean ${py[name].mean}`);
  }
  torch.dispose([...want.values()]);
});

test("seeded RandomResizedCrop and RandomHorizontalFlip make torchvision's crops and flips", () => {
  const file = path.join(dir, 'random-in.pt');
  const outFile = path.join(dir, 'random-out.pt');
  torch.save(
    new Map([
      ['cat', decoded.cat],
      ['rocket', decoded.rocket],
    ]),
    file,
  );
  const py = runPython(
    `
import json, sys, torch
import torchvision.transforms as T
d = json.load(sys.stdin)
ours = torch.load(d['file'])
res = {}
params = {}
for name, img in ours.items():
    for seed in range(6):
        torch.manual_seed(seed)
        t = T.Compose([T.RandomResizedCrop(96), T.RandomHorizontalFlip()])
        res[f'{name}.{seed}'] = t(img)
        torch.manual_seed(seed)
        params[f'{name}.{seed}'] = list(T.RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3]))
    torch.manual_seed(7)
    res[f'{name}.fallbackWide'] = T.RandomResizedCrop([40, 60], scale=(2.0, 3.0), ratio=(3.0, 4.0))(img)
    res[f'{name}.fallbackTall'] = T.RandomResizedCrop(50, scale=(2.0, 3.0), ratio=(0.2, 0.3))(img)
    res[f'{name}.fallbackIn'] = T.RandomResizedCrop(50, scale=(2.0, 3.0), ratio=(0.5, 2.0))(img)
    res[f'{name}.next'] = torch.rand(3)
torch.save(res, d['out'])
print(json.dumps(params))
`,
    { file, out: outFile },
  );
  const want = torch.load(outFile);
  for (const name of ['cat', 'rocket']) {
    const img = decoded[name];
    for (let seed = 0; seed < 6; seed++) {
      torch.tidy(() => {
        torch.manualSeed(seed);
        const got = new T.Compose([new T.RandomResizedCrop(96), new T.RandomHorizontalFlip()]).call(img);
        assert.equal(maxAbs(got, want.get(`${name}.${seed}`)), 0, `${name} seed ${seed}`);
        torch.manualSeed(seed);
        assert.deepEqual(new T.RandomResizedCrop(96).getParams(img), py[`${name}.${seed}`]);
      });
    }
    torch.tidy(() => {
      torch.manualSeed(7);
      assert.equal(maxAbs(new T.RandomResizedCrop([40, 60], { scale: [2, 3], ratio: [3, 4] }).call(img), want.get(`${name}.fallbackWide`)), 0);
      assert.equal(maxAbs(new T.RandomResizedCrop(50, { scale: [2, 3], ratio: [0.2, 0.3] }).call(img), want.get(`${name}.fallbackTall`)), 0);
      assert.equal(maxAbs(new T.RandomResizedCrop(50, { scale: [2, 3], ratio: [0.5, 2] }).call(img), want.get(`${name}.fallbackIn`)), 0);
      assert.equal(maxAbs(torch.rand(3), want.get(`${name}.next`)), 0, "the RNG advanced exactly as torchvision's");
    });
  }
  torch.dispose([...want.values()]);
});

test('bad images and bad transform arguments are TorchErrors naming the problem', async () => {
  await assert.rejects(
    vision.readImage(Buffer.from('not an image at all')),
    (e) => e instanceof torch.TorchError && /readImage\(\): cannot decode 19 bytes as an image/.test(e.message),
  );
  await assert.rejects(vision.readImage(path.join(dir, 'missing.png')), (e) => e instanceof torch.TorchError && /cannot decode .*missing\.png/.test(e.message));
  const truncated = fs.readFileSync(path.join(images, IMAGES.rocket)).subarray(0, 4000);
  await assert.rejects(vision.readImage(truncated), (e) => e instanceof torch.TorchError && /cannot decode 4000 bytes/.test(e.message));
  await assert.rejects(vision.readImage(42), /argument 'source' must be a file path or a Buffer/);
  assert.throws(() => new T.Resize(0), /Resize\(\): argument 'size' must be a positive integer, \[size\] or \[h, w\]/);
  assert.throws(() => new T.Resize([1, 2], { maxSize: 10 }), /maxSize applies only when size is one number/);
  torch.tidy(() => assert.throws(() => new T.Normalize([0.5], [0]).call(decoded.cat.to('float32')), /std \[0\] has a zero/));
  assert.throws(() => new T.Normalize(T.IMAGENET_MEAN, T.IMAGENET_STD).call(decoded.cat), /expected a float image \(use ToTensor first\), got uint8/);
  torch.tidy(() => assert.throws(() => new T.CenterCrop(10).call(torch.zeros(10)), /expected an image tensor \[C, H, W\] or \[N, C, H, W\], got shape \[10\]/));
  assert.throws(() => new T.RandomResizedCrop(10, { scale: [1, 0.5] }), /argument 'scale' must be \[min, max\] with min <= max/);
  const png = await vision.encodeImage(decoded.cat, 'png');
  const back = await vision.readImage(png);
  assert.equal(maxAbs(back, decoded.cat), 0, 'encodeImage(png) round-trips');
  back.dispose();
});

test('no tensors leaked by this file', () => {
  torch.dispose(Object.values(decoded));
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
