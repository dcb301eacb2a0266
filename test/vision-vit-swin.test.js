'use strict';
// torch.vision.models' VisionTransformer (vitB_16) and SwinTransformer (swinT; swinS/swinB as
// configurations) against Python torchvision 0.29.
// Numeric checks use small models (2 cores): ViTs built through the class (image 32, patch 8, two
// layers, hidden 64; one with representationSize, one with a convolutional stem), Swin-T itself at
// 36 x 36 (odd feature maps: padding to whole windows, shifted-window masks, odd patch merging) and a
// small Swin built through the class. For each, torchvision builds the model after manual_seed(0)
// (its initial weights are recorded), perturbs every bias, norm weight, class token and the zeroed
// head, runs it, saves the state dict and records on a fixed input the eval output, a train-mode
// output after manual_seed(7) (dropout, attention dropout and stochastic depth draw alike) and, after
// a backward, the parameter gradients (a sample for Swin-T). torch-node loads each file strictly and
// must list torchvision's keys, module names and classes, print the same structure, start from
// torchvision's initial weights after the same seed (first values exactly, sums and sums of squares
// within 1e-9 relative), and reproduce the outputs within atol 1e-4 + rtol 1e-4 (float32, one thread
// on both sides) and the gradients within 1e-4 + 1e-3 of each parameter's largest gradient.
// The full vitB_16 (and swinS, swinB) are compared on keys, module names and classes, printed form,
// parameter count and (vitB_16) initial weights.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const { models } = torch.vision;
torch.setNumThreads(1); // as the Python reference
const baseline = torch.memory().liveTensors;

// name -> [Python constructor expression, torch-node constructor, input side, sample gradients only]
const SMALL = {
  vit_small: [
    'VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10, dropout=0.1, attention_dropout=0.1)',
    () =>
      new models.VisionTransformer({
        imageSize: 32,
        patchSize: 8,
        numLayers: 2,
        numHeads: 4,
        hiddenDim: 64,
        mlpDim: 128,
        numClasses: 10,
        dropout: 0.1,
        attentionDropout: 0.1,
      }),
    32,
  ],
  vit_repr: [
    'VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10, representation_size=48)',
    () =>
      new models.VisionTransformer({
        imageSize: 32,
        patchSize: 8,
        numLayers: 2,
        numHeads: 4,
        hiddenDim: 64,
        mlpDim: 128,
        numClasses: 10,
        representationSize: 48,
      }),
    32,
  ],
  vit_stem: [
    'VisionTransformer(image_size=32, patch_size=4, num_layers=1, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=7, conv_stem_configs=[ConvStemConfig(16, 3, 2), ConvStemConfig(24, 3, 2)])',
    () =>
      new models.VisionTransformer({
        imageSize: 32,
        patchSize: 4,
        numLayers: 1,
        numHeads: 2,
        hiddenDim: 32,
        mlpDim: 64,
        numClasses: 7,
        convStemConfigs: [
          { outChannels: 16, kernelSize: 3, stride: 2 },
          { outChannels: 24, kernelSize: 3, stride: 2 },
        ],
      }),
    32,
  ],
  swin_t: ['swin_t()', () => models.swinT(), 36, true],
  swin_small: [
    'SwinTransformer(patch_size=[2, 2], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4], mlp_ratio=2.0, dropout=0.1, attention_dropout=0.1, stochastic_depth_prob=0.2, num_classes=5)',
    () =>
      new models.SwinTransformer({
        patchSize: [2, 2],
        embedDim: 16,
        depths: [2, 2],
        numHeads: [2, 4],
        windowSize: [4, 4],
        mlpRatio: 2.0,
        dropout: 0.1,
        attentionDropout: 0.1,
        stochasticDepthProb: 0.2,
        numClasses: 5,
      }),
    20,
  ],
};
// Structure only: torchvision name -> torch-node builder.
const FULL = { vit_b_16: 'vitB_16', swin_s: 'swinS', swin_b: 'swinB' };

const PY = `
import json, os, sys, torch
from torchvision import models as tvm
from torchvision.models import swin_t
from torchvision.models.vision_transformer import VisionTransformer, ConvStemConfig
from torchvision.models.swin_transformer import SwinTransformer
torch.set_num_threads(1)
d = json.load(sys.stdin)
def describe(m):
    return {'keys': list(m.state_dict().keys()),
            'shapes': [list(v.shape) for v in m.state_dict().values()],
            'modules': [[n, type(s).__name__] for n, s in m.named_modules()],
            'repr': str(m),
            'params': sum(p.numel() for p in m.parameters())}
def init(m):
    return {k: [v.double().sum().item(), v.double().pow(2).sum().item(), v.reshape(-1)[:4].double().tolist()]
            for k, v in m.state_dict().items()}
def files(name):
    e = tvm.get_model_weights(name)
    f = {w.name: os.path.basename(w.url) for w in e}
    f['DEFAULT'] = os.path.basename(e.DEFAULT.url)
    return f
out = {}
for name, (expr, side, sample) in d['small'].items():
    torch.manual_seed(0)
    m = eval(expr)
    r = describe(m)
    r['init'] = init(m)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k.endswith('bias'):
                p.uniform_(-0.2, 0.2, generator=g)
            elif p.dim() == 1:
                p.uniform_(0.5, 1.5, generator=g)
            elif k.endswith('head.weight') or k == 'class_token':
                p.normal_(0, 0.1, generator=g)
        m.train()
        for i in range(2):
            m(torch.randn(2, 3, side, side, generator=g))
    torch.save(m.state_dict(), os.path.join(d['dir'], name + '.pth'))
    m.eval()
    x = torch.randn(2, 3, side, side, generator=g)
    with torch.no_grad():
        y = m(x)
    m.train()
    torch.manual_seed(7)
    yt = m(x)
    (yt * torch.arange(yt.numel(), dtype=yt.dtype).reshape(yt.shape).cos()).sum().backward()
    names = [k for k, _ in m.named_parameters()]
    keep = names[:4] + names[len(names) // 2:len(names) // 2 + 4] + names[-4:] if sample else names
    grads = {k: p.grad for k, p in m.named_parameters() if k in keep}
    torch.save({'x': x, 'y': y, 'y_train': yt.detach(), 'grads': grads}, os.path.join(d['dir'], name + '.io.pt'))
    r['grad_keys'] = keep
    if name == 'vit_small':
        # a state dict as saved before torchvision's MLP refactor: mlp.linear_1 / mlp.linear_2
        legacy = {}
        for k, v in m.state_dict().items():
            legacy[k.replace('.mlp.0.', '.mlp.linear_1.').replace('.mlp.3.', '.mlp.linear_2.')] = v
        torch.save(legacy, os.path.join(d['dir'], 'vit_small_legacy.pth'))
        r['legacy_keys'] = list(legacy.keys())
    out[name] = r
    del m
for name in d['full']:
    torch.manual_seed(0)
    m = getattr(tvm, name)()
    out[name] = describe(m)
    if name == 'vit_b_16':
        out[name]['init'] = init(m)
    del m
for name in ['vit_b_16', 'swin_t', 'swin_s', 'swin_b']:
    out.setdefault(name, {})['files'] = files(name)
print(json.dumps(out))
`;

let dir;
let py;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-vit-swin-'));
  py = runPython(PY, {
    dir,
    small: Object.fromEntries(Object.entries(SMALL).map(([k, [expr, , side, sample]]) => [k, [expr, side, !!sample]])),
    full: Object.keys(FULL),
  });
});
test.after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name) => path.join(dir, `${name}.pth`);
const maxAbs = (t) => torch.tidy(() => t.abs().max().item());
const maxDiff = (a, b) => torch.tidy(() => a.sub(b).abs().max().item());
/** |a - b| <= atol + rtol |b| elementwise; returns the largest |a - b|. */
function close(a, b, what, atol = 1e-4, rtol = 1e-4) {
  return torch.tidy(() => {
    assert.deepEqual(a.shape, b.shape, `${what}: shape`);
    const excess = a.sub(b).abs().sub(b.abs().mul(rtol).add(atol)).max().item();
    assert.ok(excess <= 0, `${what}: differs by up to ${maxDiff(a, b)} (max |ref| ${maxAbs(b)})`);
    return maxDiff(a, b);
  });
}
const modulesOf = (m) => [...m.namedModules()].map(([n, s]) => [n, s.constructor.name]);
const paramCount = (m) => m.parameters().reduce((n, p) => n + p.numel(), 0);

function checkInit(m, want, what) {
  torch.tidy(() => {
    const sd = m.stateDict();
    assert.deepEqual([...sd.keys()], Object.keys(want), `${what}: keys`);
    for (const [k, t] of sd) {
      const d = t.double();
      const [sum, sq, first] = want[k];
      assert.deepEqual(d.reshape(-1).slice(0, 0, 4).tolist(), first, `${what} ${k}: first values`);
      const s = d.sum().item();
      const q = d.pow(2).sum().item();
      assert.ok(Math.abs(s - sum) <= 1e-9 * (Math.abs(sum) + 1), `${what} ${k}: sum ${s} vs ${sum}`);
      assert.ok(Math.abs(q - sq) <= 1e-9 * (Math.abs(sq) + 1), `${what} ${k}: sum of squares ${q} vs ${sq}`);
    }
  });
}

for (const [name, [, make, side]] of Object.entries(SMALL)) {
  test(`${name}: torchvision's keys, module names and classes, printed form and initial weights`, () => {
    const want = py[name];
    torch.manualSeed(0);
    const m = make();
    try {
      assert.deepEqual(modulesOf(m), want.modules, 'module names and classes in order');
      assert.equal(String(m), want.repr, 'printed structure');
      assert.equal(paramCount(m), want.params, 'parameter count');
      checkInit(m, want.init, name);
    } finally {
      m.dispose();
    }
  });

  test(`${name}: torchvision's state dict loads strictly; eval and train outputs and gradients match`, (t) => {
    torch.tidy(() => {
      const m = make();
      try {
        assert.deepEqual(m.loadStateDict(torch.load(file(name))), { missingKeys: [], unexpectedKeys: [] });
        assert.deepEqual([...m.stateDict().keys()], py[name].keys);
        const io = torch.load(path.join(dir, `${name}.io.pt`));
        const x = io.get('x');
        assert.deepEqual(x.shape, [2, 3, side, side]);
        m.eval();
        const de = close(
          torch.noGrad(() => m.forward(x)),
          io.get('y'),
          'eval output',
        );
        // Train mode after the same seed: the same dropout, attention-dropout and stochastic-depth draws.
        m.train();
        torch.manualSeed(7);
        const yt = m.forward(x);
        const dt = close(yt, io.get('y_train'), 'train output');
        yt.mul(torch.arange(yt.numel()).reshape(yt.shape).cos()).sum().backward();
        const grads = io.get('grads');
        assert.deepEqual([...grads.keys()], py[name].grad_keys);
        let dg = 0;
        for (const [k, g] of grads) {
          const d = maxDiff(m.getParameter(k).grad, g);
          assert.ok(d <= 1e-4 + 1e-3 * maxAbs(g), `gradient of ${k} differs by ${d} (max |g| ${maxAbs(g)})`);
          dg = Math.max(dg, d);
        }
        t.diagnostic(`max |torch-node - torchvision|: eval ${de.toExponential(2)}, train ${dt.toExponential(2)}, gradients ${dg.toExponential(2)}`);
      } finally {
        m.dispose();
      }
    });
  });
}

test("a legacy ViT state dict (mlp.linear_1 / mlp.linear_2) loads strictly, renamed as torchvision's MLPBlock does", () => {
  torch.tidy(() => {
    const m = SMALL.vit_small[1]();
    try {
      const legacy = torch.load(file('vit_small_legacy'));
      assert.ok([...legacy.keys()].includes('encoder.layers.encoder_layer_0.mlp.linear_1.weight'));
      assert.deepEqual(m.loadStateDict(legacy), { missingKeys: [], unexpectedKeys: [] });
      m.eval();
      const io = torch.load(path.join(dir, 'vit_small.io.pt'));
      close(
        torch.noGrad(() => m.forward(io.get('x'))),
        io.get('y'),
        'eval output after the legacy load',
      );
    } finally {
      m.dispose();
    }
  });
});

test('swinT({ weights: file }) and numClasses 5: the builder loads strictly; only the head is new', () => {
  torch.tidy(() => {
    const m = models.swinT({ weights: file('swin_t') });
    try {
      assert.equal(m.weightsReport.source, file('swin_t'));
      assert.deepEqual(m.weightsReport.newKeys, []);
      m.eval();
      const io = torch.load(path.join(dir, 'swin_t.io.pt'));
      close(
        torch.noGrad(() => m.forward(io.get('x'))),
        io.get('y'),
        'eval output',
      );
    } finally {
      m.dispose();
    }
    const m5 = models.swinT({ weights: file('swin_t'), numClasses: 5, report: false });
    try {
      assert.deepEqual(m5.weightsReport.newKeys, ['head.weight', 'head.bias']);
      assert.deepEqual([...m5.stateDict().keys()], py.swin_t.keys);
      assert.deepEqual(m5.head.weight.shape, [5, 768]);
      m5.eval();
      assert.deepEqual(torch.noGrad(() => m5.forward(torch.randn([1, 3, 32, 32]))).shape, [1, 5]);
    } finally {
      m5.dispose();
    }
  });
});

test("vitB_16, swinS, swinB: torchvision's keys, shapes, module names and classes, printed form, parameter count; vitB_16's initial weights", () => {
  for (const [name, builder] of Object.entries(FULL)) {
    const want = py[name];
    torch.manualSeed(0);
    const m = models[builder]();
    try {
      torch.tidy(() => {
        const sd = m.stateDict();
        assert.deepEqual([...sd.keys()], want.keys, `${builder}: keys`);
        assert.deepEqual(
          [...sd.values()].map((v) => v.shape),
          want.shapes,
          `${builder}: shapes`,
        );
      });
      assert.deepEqual(modulesOf(m), want.modules, `${builder}: modules`);
      assert.equal(String(m), want.repr, `${builder}: printed form`);
      assert.equal(paramCount(m), want.params, `${builder}: parameter count`);
      if (want.init) checkInit(m, want.init, builder);
    } finally {
      m.dispose();
    }
  }
});

test("weights names: torchvision's file names, looked up in the hub cache; vitB_16's SWAG E2E weights are for 384 x 384", () => {
  const saved = process.env.TORCH_HOME;
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  process.env.TORCH_HOME = home;
  try {
    for (const [name, builder] of [
      ['vit_b_16', 'vitB_16'],
      ['swin_t', 'swinT'],
      ['swin_s', 'swinS'],
      ['swin_b', 'swinB'],
    ]) {
      const files = py[name].files;
      for (const [weights, fileName] of Object.entries(files)) {
        assert.throws(
          () => models[builder]({ weights }),
          (e) =>
            e instanceof torch.TorchError &&
            e.code === 'ERR_TORCH_FILE' &&
            e.message.includes(`${builder}()`) &&
            e.message.includes(fileName) &&
            e.message.includes(home),
          `${builder} ${weights} -> ${fileName}`,
        );
      }
      assert.throws(
        () => models[builder]({ weights: 'IMAGENET9K_V9' }),
        new RegExp(`no torchvision weights named 'IMAGENET9K_V9' for ${name}; known: ${Object.keys(files).join(', ')}`),
      );
    }
    // swin_t from the hub cache by name
    const ckpt = path.join(home, 'hub', 'checkpoints');
    fs.mkdirSync(ckpt, { recursive: true });
    fs.symlinkSync(file('swin_t'), path.join(ckpt, py.swin_t.files.DEFAULT));
    torch.tidy(() => {
      const m = models.swinT({ weights: 'IMAGENET1K_V1' });
      try {
        assert.equal(m.weightsReport.source, path.join(ckpt, py.swin_t.files.DEFAULT));
      } finally {
        m.dispose();
      }
    });
  } finally {
    if (saved === undefined) delete process.env.TORCH_HOME;
    else process.env.TORCH_HOME = saved;
  }
  // The image size fixes the position embedding: a ViT-B/16 state dict for 384 x 384 input
  torch.tidy(() => {
    const sd = new Map();
    torch.manualSeed(0);
    const big = models.vitB_16({ imageSize: 384 });
    try {
      assert.equal(big.imageSize, 384);
      assert.deepEqual(big.encoder.posEmbedding.shape, [1, 577, 768]);
      for (const [k, v] of big.stateDict()) sd.set(k, v);
      assert.throws(
        () => models.vitB_16({ weights: sd }),
        (e) =>
          e instanceof torch.TorchError &&
          e.message.includes('encoder.pos_embedding: checkpoint [1, 577, 768] vs model [1, 197, 768]') &&
          e.message.includes('pass it as the imageSize option'),
      );
      const again = models.vitB_16({ weights: sd, imageSize: 384 });
      assert.equal(again.seqLength, 577);
      again.dispose();
    } finally {
      big.dispose();
    }
  });
});

test('bad arguments and inputs: TorchErrors that name the problem', () => {
  const { VisionTransformer, SwinTransformer } = models;
  const vitOpts = { imageSize: 32, patchSize: 8, numLayers: 1, numHeads: 2, hiddenDim: 16, mlpDim: 32 };
  assert.throws(() => new VisionTransformer({ ...vitOpts, imageSize: 30 }), /Input shape indivisible by patch size! \(imageSize 30, patchSize 8\)/);
  assert.throws(() => new VisionTransformer({ ...vitOpts, numHeads: 3 }), /hiddenDim \(16\) must be divisible by numHeads \(3\)/);
  assert.throws(() => new VisionTransformer({ ...vitOpts, hiddenDim: 0 }), /argument 'hiddenDim' must be a positive integer/);
  assert.throws(() => new VisionTransformer({ ...vitOpts, image_size: 32 }), /unknown option 'image_size'/);
  assert.throws(() => new VisionTransformer({ ...vitOpts, dropout: 2 }), /argument 'dropout' must be a probability/);
  assert.throws(() => models.vitB_16({ imageSize: 0 }), /argument 'imageSize' must be a positive integer/);
  assert.throws(() => models.vitB_16({ progress: true }), /unknown option 'progress'/);
  assert.throws(() => models.swinT({ numClasses: -1 }), /numClasses/);
  const swinOpts = { patchSize: [2, 2], embedDim: 8, depths: [1, 1], numHeads: [2, 2], windowSize: [4, 4] };
  assert.throws(() => new SwinTransformer({ ...swinOpts, windowSize: [4] }), /windowSize must be an array of 2 integers/);
  assert.throws(() => new SwinTransformer({ ...swinOpts, numHeads: [2] }), /argument 'numHeads' must be an array of 2 positive head counts/);
  assert.throws(() => new SwinTransformer({ ...swinOpts, numHeads: [3, 2] }), /stage 0's channels \(8\) must be divisible by its numHeads \(3\)/);
  assert.throws(() => new SwinTransformer({ ...swinOpts, depths: [1, 0] }), /needs at least 2 blocks/);

  const vit = new VisionTransformer(vitOpts);
  const swin = new SwinTransformer(swinOpts);
  try {
    vit.eval();
    swin.eval();
    torch.tidy(() => {
      assert.throws(
        () => vit.forward(torch.randn([1, 3, 32, 16])),
        (e) => e instanceof torch.TorchError && e.message.includes('Wrong image width! Expected 32 but got 16!'),
      );
      assert.throws(() => vit.forward(torch.randn([1, 3, 24, 32])), /Wrong image height! Expected 32 but got 24!/);
      assert.throws(() => vit.forward(torch.randn([3, 32, 32])), /VisionTransformer: expected 4D input/);
      assert.throws(() => vit.encoder.forward(torch.randn([5, 16])), /Encoder: Expected \(batch_size, seq_length, hidden_dim\) got torch\.Size\(\[5, 16\]\)/);
      assert.throws(() => swin.forward(torch.randn([3, 16, 16])), /SwinTransformer: expected 4D input/);
      assert.throws(
        () => swin.forward(torch.randn([1, 4, 16, 16])),
        (e) => e instanceof torch.TorchError,
      );
      assert.throws(() => swin.forward(null), /argument 'input' must be a Tensor/);
      // any input size works for Swin (padded to whole windows)
      assert.deepEqual(torch.noGrad(() => swin.forward(torch.randn([1, 3, 10, 6]))).shape, [1, 1000]);
    });
  } finally {
    vit.dispose();
    swin.dispose();
  }
  assert.equal(torch.memory().liveTensors, baseline, 'nothing left behind by the failed calls');
});

test('after dispose(), no tensors are left', () => {
  for (const make of [SMALL.vit_small[1], SMALL.swin_small[1]]) {
    const m = make();
    torch.tidy(() => {
      const y = m.forward(torch.randn([2, 3, 32, 32]));
      y.sum().backward();
    });
    m.dispose();
  }
  assert.equal(torch.memory().liveTensors, baseline);
});
