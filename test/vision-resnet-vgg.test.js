'use strict';
// torch.vision.models ResNet-18/34/50/101, VGG-16 and VGG-16-BN against Python torchvision 0.29.
// Python builds each model after manual_seed(0), gives every bias (and BN affine) non-trivial values,
// runs three train-mode passes so the BN running statistics are non-trivial, saves the state dict with
// torch.save, and records the eval output on a fixed input. torch-node loads each file strictly
// through the builder's `weights` option; the state-dict key order and the module names, classes and
// printed form equal torchvision's; the eval output matches within atol 1e-4 + rtol 1e-4 (float32,
// one thread; on the development machine the outputs were bit-identical). Freshly built models (no
// weights) after torch.manualSeed(0) equal torchvision's initial weights: the first values exactly,
// per-tensor sums within 1e-9 relative. ResNet-18 in train mode (batch statistics, running-stat
// update, backward through the in-place residual sum) matches within the same tolerance.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const models = torch.vision.models;
const baseline = torch.memory().liveTensors;
torch.setNumThreads(1); // as the Python reference

const RTOL = 1e-4;
const ATOL = 1e-4;

// torch-node builder, torchvision builder, input side (ResNets 64x64; VGG needs >= 32x32).
const ARCHS = [
  ['resnet18', 'resnet18', 64],
  ['resnet34', 'resnet34', 64],
  ['resnet50', 'resnet50', 64],
  ['resnet101', 'resnet101', 64],
  ['vgg16', 'vgg16', 32],
  ['vgg16Bn', 'vgg16_bn', 32],
];

const PY_FIXTURES = `
import json, sys, torch, torchvision
torch.set_num_threads(1)
inp = json.load(sys.stdin)
out = {}
gen = torch.Generator().manual_seed(1)
x64 = torch.randn(2, 3, 64, 64, generator=gen)
x32 = torch.randn(2, 3, 32, 32, generator=gen)
out['x64'] = x64.reshape(-1).tolist()
out['x32'] = x32.reshape(-1).tolist()
for js, name, side in inp['archs']:
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)()
    init = {k: [v.double().sum().item(), v.double().pow(2).sum().item(), v.reshape(-1)[:4].double().tolist()]
            for k, v in m.state_dict().items()}
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k.endswith('bias'):
                p.uniform_(-0.2, 0.2)
            elif p.dim() == 1:  # BN weight
                p.uniform_(0.5, 1.5)
    m.train()
    with torch.no_grad():
        for i in range(3):
            m(torch.randn(4, 3, side, side) * (1 + 0.5 * i) + 0.1 * i)
    m.eval()
    f = f"{inp['dir']}/{name}.pth"
    torch.save(m.state_dict(), f)
    x = x64 if side == 64 else x32
    with torch.no_grad():
        y = m(x)
    r = {
        'file': f,
        'keys': list(m.state_dict().keys()),
        'modules': [[n, type(s).__name__] for n, s in m.named_modules()],
        'repr': str(m),
        'init': init,
        'y': y.reshape(-1).tolist(),
    }
    if name == 'resnet18':
        # train mode: batch statistics, the running-stat update, backward through the residual sums
        m.train()
        yt = m(x)
        (yt * torch.linspace(-1, 1, yt.numel()).reshape(yt.shape)).sum().backward()
        r['train'] = {
            'y': yt.detach().reshape(-1).tolist(),
            'conv1_grad': m.conv1.weight.grad.reshape(-1).tolist(),
            'fc_grad': m.fc.weight.grad.reshape(-1)[:2000].tolist(),
            'layer4_ds_grad': m.layer4[0].downsample[0].weight.grad.reshape(-1)[:2000].tolist(),
            'bn1_running_mean': m.bn1.running_mean.tolist(),
            'last_bn_running_var': m.layer4[1].bn2.running_var.tolist(),
        }
    out[js] = r
    del m
print(json.dumps(out))
`;

const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());

/** Asserts |a - b| <= atol + rtol |b| elementwise; returns the largest absolute difference. */
function close(a, b, what, rtol = RTOL, atol = ATOL) {
  assert.equal(a.length, b.length, `${what}: length`);
  let worst = 0;
  a.forEach((x, i) => {
    const d = Math.abs(x - b[i]);
    if (!(d <= atol + rtol * Math.abs(b[i]))) assert.fail(`${what}[${i}]: torch-node ${x} vs torchvision ${b[i]}`);
    worst = Math.max(worst, d);
  });
  return worst;
}

function input(side) {
  return torch.tensor(py[side === 64 ? 'x64' : 'x32'], { dtype: 'float32' }).reshape([2, 3, side, side]);
}

/** Runs fn with TORCH_HOME set to home, restoring it after. */
function withTorchHome(home, fn) {
  const old = process.env.TORCH_HOME;
  process.env.TORCH_HOME = home;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.TORCH_HOME;
    else process.env.TORCH_HOME = old;
  }
}

let py;
let dir;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-resnet-vgg-'));
  py = runPython(PY_FIXTURES, { dir, archs: ARCHS });
});
test.after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

for (const [js, pyName, side] of ARCHS) {
  test(`${js}: torchvision's ${pyName} state dict loads strictly; same keys, module names and eval output`, (t) => {
    const ref = py[js];
    const model = models[js]({ weights: ref.file });
    try {
      assert.equal(model.weightsReport.source, ref.file);
      assert.deepEqual(model.weightsReport.newKeys, []);
      const sd = model.stateDict();
      assert.deepEqual([...sd.keys()], ref.keys);
      for (const t of sd.values()) t.dispose();
      // strict reload of the same file through loadStateDict: nothing missing, nothing unexpected
      const file = torch.load(ref.file);
      assert.deepEqual(model.loadStateDict(file), { missingKeys: [], unexpectedKeys: [] });
      for (const t of file.values()) t.dispose();
      assert.deepEqual(
        [...model.namedModules()].map(([n, m]) => [n, m.constructor.name]),
        ref.modules,
      );
      assert.equal(model.toString(), ref.repr);
      model.eval();
      const y = torch.tidy(() => {
        const x = input(side);
        return torch.noGrad(() => model.forward(x));
      });
      assert.deepEqual(y.shape, [2, 1000]);
      const worst = close(flat(y), ref.y, `${js} eval output`);
      t.diagnostic(`max |torch-node - torchvision| ${worst.toExponential(2)}; max |torchvision| ${Math.max(...ref.y.map(Math.abs)).toExponential(2)}`);
      y.dispose();
    } finally {
      model.dispose();
    }
  });
}

test("freshly built models after manualSeed(0) have torchvision's initial weights", () => {
  for (const [js] of ARCHS) {
    torch.manualSeed(0);
    const model = models[js]();
    try {
      const ref = py[js].init;
      torch.tidy(() => {
        const sd = model.stateDict();
        assert.deepEqual([...sd.keys()], Object.keys(ref), `${js}: keys`);
        for (const [k, t] of sd) {
          const d = t.double();
          const [sum, sq, first] = ref[k];
          assert.deepEqual(d.reshape(-1).slice(0, 0, 4).tolist(), first, `${js} ${k}: first values`);
          const s = d.sum().item();
          const q = d.pow(2).sum().item();
          assert.ok(Math.abs(s - sum) <= 1e-9 * (Math.abs(sum) + 1), `${js} ${k}: sum ${s} vs ${sum}`);
          assert.ok(Math.abs(q - sq) <= 1e-9 * (Math.abs(sq) + 1), `${js} ${k}: sum of squares ${q} vs ${sq}`);
        }
      });
    } finally {
      model.dispose();
    }
  }
});

test('resnet18 in train mode: output, running statistics and gradients match torchvision', (t) => {
  const ref = py.resnet18.train;
  const model = models.resnet18({ weights: py.resnet18.file });
  try {
    model.train();
    torch.tidy(() => {
      const y = model.forward(input(64));
      const w = torch.linspace(-1, 1, y.numel()).reshape(y.shape);
      y.mul(w).sum().backward();
      const worst = [close(flat(y), ref.y, 'train output'), close(flat(model.conv1.weight.grad), ref.conv1_grad, 'conv1.weight.grad')];
      worst.push(close(flat(model.fc.weight.grad).slice(0, 2000), ref.fc_grad, 'fc.weight.grad'));
      const ds = model.getParameter('layer4.0.downsample.0.weight');
      worst.push(close(flat(ds.grad).slice(0, 2000), ref.layer4_ds_grad, 'layer4.0.downsample.0.weight.grad'));
      t.diagnostic(
        `max |diff|: output ${worst[0].toExponential(2)}, conv1 grad ${worst[1].toExponential(2)}, fc grad ${worst[2].toExponential(2)}, downsample grad ${worst[3].toExponential(2)}`,
      );
      close(flat(model.bn1.runningMean), ref.bn1_running_mean, 'bn1.running_mean', 1e-5, 1e-6);
      close(flat(model.getSubmodule('layer4.1.bn2').runningVar), ref.last_bn_running_var, 'layer4.1.bn2.running_var', 1e-5, 1e-6);
    });
  } finally {
    model.dispose();
  }
});

test('numClasses 10 with weights rebuilds only the head; the rest is loaded', () => {
  for (const [js, head] of [
    ['resnet18', ['fc.weight', 'fc.bias']],
    ['vgg16Bn', ['classifier.6.weight', 'classifier.6.bias']],
  ]) {
    const ref = py[js];
    const model = models[js]({ weights: ref.file, numClasses: 10, report: false });
    try {
      const r = model.weightsReport;
      assert.deepEqual(r.newKeys, head);
      assert.equal(r.numClasses, 10);
      assert.deepEqual(
        r.loaded,
        ref.keys.filter((k) => !head.includes(k)),
      );
      const sd = model.stateDict();
      assert.deepEqual([...sd.keys()], ref.keys, `${js}: key order unchanged`);
      assert.deepEqual(sd.get(head[0]).shape, [10, head[0].startsWith('fc') ? 512 : 4096]);
      const file = torch.load(ref.file);
      for (const [k, t] of file) {
        if (!head.includes(k)) assert.ok(t.equal(sd.get(k)), `${js} ${k}: loaded from the file`);
      }
      for (const t of [...file.values(), ...sd.values()]) t.dispose();
      model.eval();
      const y = torch.tidy(() => {
        const x = input(js === 'resnet18' ? 64 : 32);
        return torch.noGrad(() => model.forward(x));
      });
      assert.deepEqual(y.shape, [2, 10]);
      y.dispose();
    } finally {
      model.dispose();
    }
  }
});

test("the head swap: registerModule('fc', new Linear(model.fc.inFeatures, 10)) keeps torchvision's key order", () => {
  const model = models.resnet18();
  try {
    assert.equal(model.fc.inFeatures, 512);
    const old = model.fc;
    model.registerModule('fc', new nn.Linear(model.fc.inFeatures, 10));
    old.dispose();
    const keys = torch.tidy(() => [...model.stateDict().keys()]);
    assert.deepEqual(keys, py.resnet18.keys);
    model.eval();
    const y = torch.tidy(() => torch.noGrad(() => model.forward(torch.randn([1, 3, 64, 64]))));
    assert.deepEqual(y.shape, [1, 10]);
    y.dispose();
  } finally {
    model.dispose();
  }
  const v = models.vgg16Bn();
  try {
    assert.equal(v.classifier.at(6).inFeatures, 4096);
    assert.ok(v.features instanceof nn.Sequential && v.avgpool instanceof nn.AdaptiveAvgPool2d);
  } finally {
    v.dispose();
  }
});

test("weights names are looked up in $TORCH_HOME/hub/checkpoints under torchvision's file names", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-home-'));
  try {
    const ckpt = path.join(home, 'hub', 'checkpoints');
    withTorchHome(home, () => {
      for (const [builder, name, file] of [
        ['resnet18', 'IMAGENET1K_V1', 'resnet18-f37072fd.pth'],
        ['resnet18', 'DEFAULT', 'resnet18-f37072fd.pth'],
        ['resnet34', 'DEFAULT', 'resnet34-b627a593.pth'],
        ['resnet50', 'IMAGENET1K_V1', 'resnet50-0676ba61.pth'],
        ['resnet50', 'DEFAULT', 'resnet50-11ad3fa6.pth'],
        ['resnet101', 'IMAGENET1K_V1', 'resnet101-63fe2227.pth'],
        ['resnet101', 'IMAGENET1K_V2', 'resnet101-cd907fc2.pth'],
        ['vgg16', 'DEFAULT', 'vgg16-397923af.pth'],
        ['vgg16', 'IMAGENET1K_FEATURES', 'vgg16_features-amdegroot-88682ab5.pth'],
        ['vgg16Bn', 'IMAGENET1K_V1', 'vgg16_bn-6c64b313.pth'],
      ]) {
        assert.throws(
          () => models[builder]({ weights: name }),
          (e) =>
            e instanceof torch.TorchError &&
            e.code === 'ERR_TORCH_FILE' &&
            e.message.includes(`${builder}()`) &&
            e.message.includes(file) &&
            e.message.includes(ckpt),
          `${builder} ${name}`,
        );
      }
      assert.throws(
        () => models.resnet18({ weights: 'IMAGENET1K_V2' }),
        (e) => e instanceof torch.TorchError && /no torchvision weights named 'IMAGENET1K_V2' for resnet18; known: IMAGENET1K_V1, DEFAULT/.test(e.message),
      );
      // Once the file is there (as torchvision in Python would have left it), the name loads it.
      fs.mkdirSync(ckpt, { recursive: true });
      fs.copyFileSync(py.resnet18.file, path.join(ckpt, 'resnet18-f37072fd.pth'));
      const model = models.resnet18({ weights: 'DEFAULT' });
      try {
        assert.equal(model.weightsReport.source, path.join(ckpt, 'resnet18-f37072fd.pth'));
        model.eval();
        const y = torch.tidy(() => {
          const x = input(64);
          return torch.noGrad(() => model.forward(x));
        });
        close(flat(y), py.resnet18.y, 'resnet18 from the hub cache');
        y.dispose();
      } finally {
        model.dispose();
      }
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('a state dict of another architecture: a TorchError listing the missing and unexpected keys', () => {
  // resnet18's keys are a subset of resnet34's with the same shapes: only missing keys
  assert.throws(
    () => models.resnet34({ weights: py.resnet18.file }),
    (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_STATE_DICT' &&
      e.message.includes('does not fit resnet34') &&
      /missing [^;]*layer1\.2\.conv1\.weight/.test(e.message) &&
      e.message.includes('layer3.5.bn2.num_batches_tracked') &&
      !e.message.includes('unexpected'),
  );
  // and the other way round: only unexpected keys
  assert.throws(
    () => models.resnet18({ weights: py.resnet34.file }),
    (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_STATE_DICT' &&
      e.message.includes('does not fit resnet18') &&
      /unexpected [^;]*layer1\.2\.conv1\.weight/.test(e.message) &&
      !e.message.includes('missing'),
  );
  // A ResNet head is not a VGG head
  assert.throws(
    () => models.vgg16({ weights: py.resnet18.file }),
    (e) => e instanceof torch.TorchError && e.message.includes("has no 'classifier.6.weight', so it is not a vgg16 state dict"),
  );
  assert.equal(torch.memory().liveTensors, baseline, 'nothing left behind by the failed loads');
});

test('weights of another architecture with other shapes: a TorchError listing the shape mismatches, nothing left behind', () => {
  // ResNet-18 weights into ResNet-50: loadStateDict() throws its shape-mismatch error from inside
  // withWeights(), which must dispose the model it built.
  const before = torch.memory().liveTensors;
  assert.throws(
    () => models.resnet50({ weights: py.resnet18.file }),
    (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_STATE_DICT' &&
      /shape mismatches \(\d+\):/.test(e.message) &&
      e.message.includes('fc.weight: checkpoint [1000, 512] vs model [1000, 2048]'),
  );
  assert.equal(torch.memory().liveTensors, before, 'live tensors after the failed load');
});

test('bad arguments name the parameter', () => {
  assert.throws(() => models.resnet18({ numClasses: 0 }), /numClasses/);
  assert.throws(() => models.resnet50({ pretrained: true }), /'pretrained' is gone from torchvision.*weights: 'IMAGENET1K_V1'/);
  assert.throws(() => new models.ResNet(models.BasicBlock, [2, 2, 2]), /layers.*an array of 4 positive block counts/s);
  assert.throws(() => new models.BasicBlock(64, 64, { groups: 2 }), /BasicBlock only supports groups=1/);
});

// The forwards free each intermediate once the next layer has read it (nn.chainForward), unless
// a module of the model has hooks: a hook may hold an intermediate, as in Python, where it stays
// alive while referenced.
test('forward frees intermediates as it goes, but not while a hook may hold one', () => {
  for (const make of [() => models.resnet18(), () => models.resnet50()]) {
    torch.manualSeed(0);
    const model = make();
    model.eval();
    const x = torch.randn([1, 3, 32, 32]);
    const plain = torch.tidy(() => torch.inferenceMode(() => model.call(x)));
    // A stash taken by one hook, read by later ones in the same forward: bn1's output (which relu
    // changes in place and maxpool then reads).
    let stash = null;
    const seen = [];
    const hooks = [
      model.bn1.registerForwardHook((_m, _args, out) => {
        stash = out;
      }),
      model.layer1.registerForwardPreHook(() => {
        seen.push(stash.isDisposed);
      }),
      model.layer2.registerForwardHook(() => {
        seen.push(stash.isDisposed, torch.tidy(() => stash.abs().sum().item()) > 0);
      }),
    ];
    const hooked = torch.tidy(() => torch.inferenceMode(() => model.call(x)));
    assert.deepEqual(seen, [false, false, true], 'the stashed tensor is alive through the forward');
    assert.ok(stash.isDisposed, "and freed with the forward's scope, as before");
    for (const h of hooks) h.remove();
    assert.ok(
      torch.tidy(() => torch.equal(plain, hooked)),
      'the same output with and without hooks',
    );
    const before = torch.memory().liveTensors;
    torch.tidy(() => {
      torch.inferenceMode(() => model.call(x));
    });
    assert.equal(torch.memory().liveTensors, before, 'nothing left behind by a forward');
    torch.dispose([x, plain, hooked]);
    model.dispose();
  }
});

test('after dispose(), no tensors are left', () => {
  const model = models.resnet50();
  model.eval();
  const y = torch.tidy(() => torch.noGrad(() => model.forward(torch.randn([1, 3, 32, 32]))));
  y.dispose();
  model.dispose();
  assert.equal(torch.memory().liveTensors, baseline);
});
