'use strict';
// torch.vision.models' DenseNet-121/161/169/201, SqueezeNet 1.0/1.1 and ShuffleNetV2 x0.5/x1.0/x1.5/x2.0
// against Python torchvision 0.29.
//
// For every architecture, torchvision builds the model after manual_seed(0) and records its state-dict
// keys, named_modules (names and classes), str(model), parameter count, the weights enum's file names,
// and per-tensor sums, sums of squares and first values of the initial weights. torch-node, after
// torch.manualSeed(0), must build the same: equal keys, modules and repr; the first four values of
// every tensor exactly equal; sums within 1e-9 relative (exact init parity holds for all ten).
//
// For DenseNet-121, both SqueezeNets and all four ShuffleNets (the small ones; DenseNet-161/169/201 are
// checked for structure, init and one small forward only, to keep the file fast on two cores),
// torchvision also gives every bias and BatchNorm weight non-trivial values, runs three train-mode
// passes so BatchNorm statistics are non-trivial, saves the state dict, and records the eval output on a
// fixed 2x3x64x64 input. torch-node loads the file strictly through the builder's `weights` option and
// must reproduce the output within atol 1e-4 + rtol 1e-4 (float32, both sides on one thread).
// DenseNet-121 and ShuffleNetV2 x0.5 also run one train-mode forward + backward (batch statistics,
// running-stat update, gradients through the dense concatenations / the channel shuffle), within the
// same tolerance.
//
// torchvision's released DenseNet checkpoints use the pre-0.4 key form `denselayer1.norm.1.weight`
// and have no num_batches_tracked; torchvision renames the keys on load and BatchNorm fills the
// counters. A file in that form must load too, by path and by weights name from $TORCH_HOME.
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

// [torch-node builder, torchvision builder, weights enum, golden (a saved state dict and an eval output)]
const ARCHS = [
  ['densenet121', 'densenet121', 'DenseNet121_Weights', true],
  ['densenet161', 'densenet161', 'DenseNet161_Weights', false],
  ['densenet169', 'densenet169', 'DenseNet169_Weights', false],
  ['densenet201', 'densenet201', 'DenseNet201_Weights', false],
  ['squeezenet1_0', 'squeezenet1_0', 'SqueezeNet1_0_Weights', true],
  ['squeezenet1_1', 'squeezenet1_1', 'SqueezeNet1_1_Weights', true],
  ['shufflenetV2X0_5', 'shufflenet_v2_x0_5', 'ShuffleNet_V2_X0_5_Weights', true],
  ['shufflenetV2X1_0', 'shufflenet_v2_x1_0', 'ShuffleNet_V2_X1_0_Weights', true],
  ['shufflenetV2X1_5', 'shufflenet_v2_x1_5', 'ShuffleNet_V2_X1_5_Weights', true],
  ['shufflenetV2X2_0', 'shufflenet_v2_x2_0', 'ShuffleNet_V2_X2_0_Weights', true],
];

const PY_FIXTURES = `
import json, os, re, sys, torch, torchvision
from torchvision import models as tvm
torch.set_num_threads(1)
inp = json.load(sys.stdin)
out = {}
gen = torch.Generator().manual_seed(1)
x = torch.randn(2, 3, 64, 64, generator=gen)
xs = torch.randn(1, 3, 32, 32, generator=gen)
out['x'] = x.reshape(-1).tolist()
out['xs'] = xs.reshape(-1).tolist()
def grads(m, names):
    return {n: m.get_parameter(n).grad.reshape(-1)[:2000].tolist() for n in names}
for js, name, enum, golden in inp['archs']:
    torch.manual_seed(0)
    m = getattr(tvm, name)()
    e = getattr(tvm, enum)
    r = {
        'keys': list(m.state_dict().keys()),
        'modules': [[n, type(s).__name__] for n, s in m.named_modules()],
        'repr': str(m),
        'numParams': sum(p.numel() for p in m.parameters()),
        'metaParams': e.DEFAULT.meta['num_params'],
        'files': dict([(w.name, os.path.basename(w.url)) for w in e] + [('DEFAULT', os.path.basename(e.DEFAULT.url))]),
        'init': {k: [v.double().sum().item(), v.double().pow(2).sum().item(), v.reshape(-1)[:4].double().tolist()]
                 for k, v in m.state_dict().items()},
    }
    if not golden:
        m.eval()
        with torch.no_grad():
            r['ys'] = m(xs).reshape(-1).tolist()
        out[js] = r
        continue
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k.endswith('bias'):
                p.uniform_(-0.2, 0.2)
            elif p.dim() == 1:  # BN weight
                p.uniform_(0.5, 1.5)
    m.train()
    with torch.no_grad():
        for i in range(3):
            m(torch.randn(4, 3, 64, 64) * (1 + 0.5 * i) + 0.1 * i)
    m.eval()
    r['file'] = f"{inp['dir']}/{name}.pth"
    torch.save(m.state_dict(), r['file'])
    with torch.no_grad():
        r['y'] = m(x).reshape(-1).tolist()
    if name == 'densenet121':
        # torchvision's released form: 'denselayerN.norm.1.weight', no num_batches_tracked
        legacy = {}
        for k, v in m.state_dict().items():
            if k.endswith('num_batches_tracked'):
                continue
            legacy[re.sub(r'(denselayer\\d+\\.(?:norm|relu|conv))([12])\\.', r'\\1.\\2.', k)] = v
        r['legacyFile'] = f"{inp['dir']}/densenet121-legacy.pth"
        r['legacyKeys'] = list(legacy.keys())
        torch.save(legacy, r['legacyFile'])
    if name in ('densenet121', 'shufflenet_v2_x0_5'):
        m.train()
        yt = m(x)
        (yt * torch.linspace(-1, 1, yt.numel()).reshape(yt.shape)).sum().backward()
        if name == 'densenet121':
            names = ['features.conv0.weight', 'features.denseblock1.denselayer1.conv1.weight',
                     'features.denseblock3.denselayer24.norm2.weight', 'features.transition2.conv.weight',
                     'classifier.weight', 'classifier.bias']
            stats = {'features.norm0.running_mean': m.features.norm0.running_mean.tolist(),
                     'features.norm5.running_var': m.features.norm5.running_var.tolist()}
        else:
            names = ['conv1.0.weight', 'stage2.0.branch1.0.weight', 'stage3.3.branch2.3.weight',
                     'stage4.0.branch2.6.weight', 'conv5.0.weight', 'fc.weight']
            stats = {'stage2.1.branch2.1.running_mean': m.stage2[1].branch2[1].running_mean.tolist(),
                     'conv5.1.running_var': m.conv5[1].running_var.tolist()}
        r['train'] = {'y': yt.detach().reshape(-1).tolist(), 'grads': grads(m, names), 'stats': stats}
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

const input = () => torch.tensor(py.x, { dtype: 'float32' }).reshape([2, 3, 64, 64]);

/** The eval output of `model` on the fixed input. */
function evalOutput(model) {
  model.eval();
  return torch.tidy(() => {
    const x = input();
    return flat(torch.noGrad(() => model.forward(x)));
  });
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

/** Runs fn with console.log captured; returns [fn's result, the lines logged]. */
function captureLog(fn) {
  const lines = [];
  const old = console.log;
  console.log = (...a) => lines.push(a.join(' '));
  try {
    return [fn(), lines];
  } finally {
    console.log = old;
  }
}

let py;
let dir;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-densenet-squeeze-shuffle-'));
  py = runPython(PY_FIXTURES, { dir, archs: ARCHS });
});
test.after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

for (const [js, pyName] of ARCHS) {
  test(`${js}(): torchvision's ${pyName} keys, module names and classes, repr, parameter count and initial weights`, () => {
    const ref = py[js];
    torch.manualSeed(0);
    const model = models[js]();
    try {
      assert.deepEqual(
        [...model.namedModules()].map(([n, m]) => [n, m.constructor.name]),
        ref.modules,
      );
      assert.equal(model.toString(), ref.repr);
      const n = model.parameters().reduce((s, p) => s + p.numel(), 0);
      assert.equal(n, ref.numParams);
      assert.equal(n, ref.metaParams, "torchvision's documented num_params");
      torch.tidy(() => {
        const sd = model.stateDict();
        assert.deepEqual([...sd.keys()], ref.keys);
        for (const [k, t] of sd) {
          const d = t.double();
          const [sum, sq, first] = ref.init[k];
          assert.deepEqual(d.reshape(-1).slice(0, 0, 4).tolist(), first, `${js} ${k}: first values`);
          const s = d.sum().item();
          const q = d.pow(2).sum().item();
          assert.ok(Math.abs(s - sum) <= 1e-9 * (Math.abs(sum) + 1), `${js} ${k}: sum ${s} vs ${sum}`);
          assert.ok(Math.abs(q - sq) <= 1e-9 * (Math.abs(sq) + 1), `${js} ${k}: sum of squares ${q} vs ${sq}`);
        }
      });
      if (ref.ys) {
        // the big DenseNets: one small eval forward of the freshly initialised model
        model.eval();
        const ys = torch.tidy(() => {
          const x = torch.tensor(py.xs, { dtype: 'float32' }).reshape([1, 3, 32, 32]);
          return flat(torch.noGrad(() => model.forward(x)));
        });
        close(ys, ref.ys, `${js} eval output (initial weights, 1x3x32x32)`);
      }
    } finally {
      model.dispose();
    }
  });
}

for (const [js, pyName, , golden] of ARCHS) {
  if (!golden) continue;
  test(`${js}({ weights: file }): torchvision's ${pyName} state dict loads strictly; same eval output`, (t) => {
    const ref = py[js];
    const model = models[js]({ weights: ref.file });
    try {
      assert.equal(model.weightsReport.source, ref.file);
      assert.deepEqual(model.weightsReport.newKeys, []);
      const keys = torch.tidy(() => [...model.stateDict().keys()]);
      assert.deepEqual(keys, ref.keys);
      const file = torch.load(ref.file);
      assert.deepEqual(model.loadStateDict(file), { missingKeys: [], unexpectedKeys: [] });
      for (const v of file.values()) v.dispose();
      const y = evalOutput(model);
      assert.equal(y.length, 2000);
      const worst = close(y, ref.y, `${js} eval output`);
      t.diagnostic(`max |torch-node - torchvision| ${worst.toExponential(2)}; max |torchvision| ${Math.max(...ref.y.map(Math.abs)).toExponential(2)}`);
    } finally {
      model.dispose();
    }
  });
}

for (const js of ['densenet121', 'shufflenetV2X0_5']) {
  test(`${js} in train mode: output, running statistics and gradients match torchvision`, (t) => {
    const ref = py[js].train;
    const model = models[js]({ weights: py[js].file });
    try {
      model.train();
      torch.tidy(() => {
        const y = model.forward(input());
        const w = torch.linspace(-1, 1, y.numel()).reshape(y.shape);
        y.mul(w).sum().backward();
        const worst = [close(flat(y), ref.y, `${js} train output`)];
        for (const [name, g] of Object.entries(ref.grads)) {
          worst.push(close(flat(model.getParameter(name).grad).slice(0, 2000), g, `${js} ${name}.grad`));
        }
        for (const [name, v] of Object.entries(ref.stats)) {
          const dot = name.lastIndexOf('.');
          const bn = model.getSubmodule(name.slice(0, dot));
          close(flat(bn._buffers.get(name.slice(dot + 1))), v, `${js} ${name}`, 1e-5, 1e-6);
        }
        t.diagnostic(`max |diff| output and gradients: ${worst.map((d) => d.toExponential(1)).join(', ')}`);
      });
    } finally {
      model.dispose();
    }
  });
}

test("densenet121: torchvision's legacy checkpoint form (norm.1, no num_batches_tracked) loads, by path and by name", () => {
  const ref = py.densenet121;
  assert.ok(ref.legacyKeys.includes('features.denseblock1.denselayer1.norm.1.weight'));
  assert.ok(!ref.legacyKeys.some((k) => k.endsWith('num_batches_tracked')));
  const before = torch.memory().liveTensors;
  const model = models.densenet121({ weights: ref.legacyFile });
  try {
    assert.equal(model.weightsReport.source, ref.legacyFile);
    close(evalOutput(model), ref.y, 'densenet121 from the legacy file');
    const nbt = model.getSubmodule('features.denseblock1.denselayer1.norm1').numBatchesTracked;
    assert.equal(nbt.item(), 0);
  } finally {
    model.dispose();
  }
  // numClasses other than the file's: the head is new, the rest loaded; the report names the file
  const [m10, lines] = captureLog(() => models.densenet121({ weights: ref.legacyFile, numClasses: 10 }));
  try {
    assert.deepEqual(m10.weightsReport.newKeys, ['classifier.weight', 'classifier.bias']);
    assert.equal(m10.weightsReport.numClasses, 10);
    assert.equal(lines.length, 1);
    assert.ok(lines[0].includes(`from ${ref.legacyFile}`) && lines[0].includes('for 10 classes (the weights have 1000)'), lines[0]);
    assert.deepEqual(m10.classifier.weight.shape, [10, 1024]);
    const keys = torch.tidy(() => [...m10.stateDict().keys()]);
    assert.deepEqual(keys, ref.keys, 'key order unchanged');
  } finally {
    m10.dispose();
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-home-'));
  try {
    const ckpt = path.join(home, 'hub', 'checkpoints');
    fs.mkdirSync(ckpt, { recursive: true });
    fs.copyFileSync(ref.legacyFile, path.join(ckpt, 'densenet121-a639ec97.pth'));
    withTorchHome(home, () => {
      const m = models.densenet121({ weights: 'DEFAULT' });
      try {
        assert.equal(m.weightsReport.source, path.join(ckpt, 'densenet121-a639ec97.pth'));
        close(evalOutput(m), ref.y, 'densenet121 from the hub cache');
      } finally {
        m.dispose();
      }
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  assert.equal(torch.memory().liveTensors, before, 'nothing left behind');
});

test("numClasses 10 with weights rebuilds only the head (SqueezeNet's 1x1 conv, ShuffleNet's fc)", () => {
  for (const [js, head, shape] of [
    ['squeezenet1_1', ['classifier.1.weight', 'classifier.1.bias'], [10, 512, 1, 1]],
    ['shufflenetV2X1_0', ['fc.weight', 'fc.bias'], [10, 1024]],
  ]) {
    const ref = py[js];
    const model = models[js]({ weights: ref.file, numClasses: 10, report: false });
    try {
      const r = model.weightsReport;
      assert.deepEqual(r.newKeys, head);
      assert.equal(r.source, ref.file);
      assert.deepEqual(
        r.loaded,
        ref.keys.filter((k) => !head.includes(k)),
      );
      torch.tidy(() => {
        const sd = model.stateDict();
        assert.deepEqual([...sd.keys()], ref.keys, `${js}: key order unchanged`);
        assert.deepEqual(sd.get(head[0]).shape, shape);
      });
      model.eval();
      const y = torch.tidy(() => torch.noGrad(() => model.forward(input())));
      assert.deepEqual(y.shape, [2, 10]);
      y.dispose();
    } finally {
      model.dispose();
    }
  }
});

test("weights names are looked up in $TORCH_HOME/hub/checkpoints under torchvision's file names", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-home-'));
  try {
    const ckpt = path.join(home, 'hub', 'checkpoints');
    withTorchHome(home, () => {
      for (const [js, pyName] of ARCHS) {
        const files = py[js].files;
        assert.deepEqual(Object.keys(files).sort(), ['DEFAULT', 'IMAGENET1K_V1'], `${js}: torchvision's weights names`);
        for (const [name, file] of Object.entries(files)) {
          assert.throws(
            () => models[js]({ weights: name }),
            (e) =>
              e instanceof torch.TorchError &&
              e.code === 'ERR_TORCH_FILE' &&
              e.message.includes(`${js}()`) &&
              e.message.includes(file) &&
              e.message.includes(ckpt) &&
              e.message.includes(`torchvision.models.${pyName}(weights='${name}')`),
            `${js} ${name}`,
          );
        }
        assert.throws(
          () => models[js]({ weights: 'IMAGENET1K_V2' }),
          (e) =>
            e instanceof torch.TorchError && e.message.includes(`no torchvision weights named 'IMAGENET1K_V2' for ${pyName}; known: IMAGENET1K_V1, DEFAULT`),
        );
      }
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('weights of another architecture: a TorchError naming the mismatch; nothing left behind', () => {
  const before = torch.memory().liveTensors;
  // SqueezeNet 1.0 and 1.1 share their key names; the shapes differ
  assert.throws(
    () => models.squeezenet1_1({ weights: py.squeezenet1_0.file }),
    (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_STATE_DICT' &&
      e.message.includes('features.0.weight: checkpoint [96, 3, 7, 7] vs model [64, 3, 3, 3]'),
  );
  // ShuffleNet x0.5 into x1.0: same keys, other widths
  assert.throws(
    () => models.shufflenetV2X1_0({ weights: py.shufflenetV2X0_5.file }),
    (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_STATE_DICT' && /shape mismatches \(\d+\):/.test(e.message),
  );
  // DenseNet-121 weights into DenseNet-169: the widths after block 3 differ
  assert.throws(
    () => models.densenet169({ weights: py.densenet121.file }),
    (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_STATE_DICT' &&
      e.message.includes('features.norm5.weight: checkpoint [1024] vs model [1664]') &&
      e.message.includes('classifier.weight: checkpoint [1000, 1024] vs model [1000, 1664]'),
  );
  // A state dict given as a Map with a layer's keys left out: they are missing, num_batches_tracked
  // included (the filling-in of num_batches_tracked for legacy files fills only BatchNorms that are there)
  const sd = torch.load(py.densenet121.file);
  try {
    assert.throws(
      () => models.densenet121({ weights: new Map([...sd].filter(([k]) => !k.includes('denselayer24.'))) }),
      (e) =>
        e instanceof torch.TorchError &&
        e.code === 'ERR_TORCH_STATE_DICT' &&
        /missing [^;]*features\.denseblock3\.denselayer24\.norm1\.weight/.test(e.message) &&
        e.message.includes('features.denseblock3.denselayer24.norm2.num_batches_tracked') &&
        !e.message.includes('unexpected'),
    );
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  // a ShuffleNet head is not a DenseNet head
  assert.throws(
    () => models.densenet121({ weights: py.shufflenetV2X0_5.file }),
    (e) => e instanceof torch.TorchError && e.message.includes("has no 'classifier.weight', so it is not a densenet121 state dict"),
  );
  assert.equal(torch.memory().liveTensors, before, 'live tensors after the failed loads');
});

test('bad arguments: a TorchError naming the problem', () => {
  const isArg = (re) => (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_ARG' && re.test(e.message);
  assert.throws(() => models.densenet121({ numClasses: 0 }), isArg(/densenet121\(\).*numClasses.*a positive integer/));
  assert.throws(() => models.densenet121({ numClasses: 2.5, weights: py.densenet121.file }), isArg(/numClasses/));
  assert.throws(() => models.squeezenet1_0({ numClasses: -3 }), isArg(/squeezenet1_0\(\).*numClasses/));
  assert.throws(() => models.shufflenetV2X0_5({ numClasses: 'ten' }), isArg(/shufflenetV2X0_5\(\).*numClasses/));
  assert.throws(() => models.densenet121({ pretrained: true }), isArg(/'pretrained' is gone.*weights: 'IMAGENET1K_V1'/));
  assert.throws(() => models.shufflenetV2X1_0({ weights: 42 }), isArg(/weights.*a file path, a state dict, or a torchvision weights name/));
  assert.throws(() => new models.DenseNet({ blockConfig: [6, 0, 24] }), isArg(/blockConfig/));
  assert.throws(() => new models.DenseNet({ growthRate: 0 }), isArg(/growthRate/));
  assert.throws(() => new models.DenseNet({ dropRate: 2 }), isArg(/dropRate/));
  assert.throws(() => new models.DenseNet({ memoryEfficient: true }), isArg(/unknown option 'memoryEfficient'/));
  assert.throws(() => new models.SqueezeNet('1_2'), isArg(/unsupported SqueezeNet version "1_2": '1_0' or '1_1' expected/));
  assert.throws(() => new models.SqueezeNet('1_0', { dropout: 1.5 }), isArg(/dropout/));
  assert.throws(() => new models.ShuffleNetV2([4, 8], [24, 48, 96, 192, 1024]), isArg(/stagesRepeats.*3 positive integers/));
  assert.throws(() => new models.ShuffleNetV2([4, 8, 4], [24, 48, 96, 192]), isArg(/stagesOutChannels.*5 positive integers/));
  assert.throws(() => new models.ShuffleNetInvertedResidual(24, 48, 4), isArg(/illegal stride value/));
  assert.throws(() => new models.ShuffleNetInvertedResidual(24, 48, 1), isArg(/invalid combination of stride 1, inp 24 and oup 48/));
  assert.throws(
    () => torch.tidy(() => models.channelShuffle(torch.zeros([1, 3, 2, 2]), 2)),
    isArg(/channelShuffle\(\): 3 channels cannot be split into 2 groups/),
  );
  assert.throws(() => torch.tidy(() => models.channelShuffle(torch.zeros([3, 2, 2]), 2)), isArg(/4D/));
  // too small an input: libtorch's own error, as a TorchError, and nothing leaked
  const before = torch.memory().liveTensors;
  const m = models.squeezenet1_1();
  try {
    m.eval();
    assert.throws(
      () => torch.tidy(() => torch.noGrad(() => m.forward(torch.zeros([1, 3, 8, 8])))),
      (e) => e instanceof torch.TorchError,
    );
  } finally {
    m.dispose();
  }
  assert.equal(torch.memory().liveTensors, before);
});

test('channelShuffle interleaves the groups as torchvision does; the blocks and head are usable', () => {
  torch.tidy(() => {
    const x = torch.arange(6).reshape([1, 6, 1, 1]);
    assert.deepEqual(models.channelShuffle(x, 2).reshape(-1).tolist(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(models.channelShuffle(x, 3).reshape(-1).tolist(), [0, 2, 4, 1, 3, 5]);
  });
  const model = models.shufflenetV2X0_5();
  try {
    assert.ok(model.stage2.at(0) instanceof models.ShuffleNetInvertedResidual);
    assert.equal(model.stage2.at(1).branch1.length, 0, 'stride 1: branch1 is an empty Sequential, as in torchvision');
    const old = model.fc;
    model.registerModule('fc', new nn.Linear(model.fc.inFeatures, 3));
    old.dispose();
    const keys = torch.tidy(() => [...model.stateDict().keys()]);
    assert.deepEqual(keys, py.shufflenetV2X0_5.keys);
    model.eval();
    const y = torch.tidy(() => torch.noGrad(() => model.forward(torch.randn([1, 3, 32, 32]))));
    assert.deepEqual(y.shape, [1, 3]);
    y.dispose();
  } finally {
    model.dispose();
  }
  // a _DenseLayer takes a tensor or the list of earlier features
  const layer = new models.DenseLayer(8, 4, 2, 0);
  try {
    layer.eval();
    torch.tidy(() => {
      const a = torch.randn([1, 5, 4, 4]);
      const b = torch.randn([1, 3, 4, 4]);
      const one = layer.forward(torch.cat([a, b], 1));
      const list = layer.forward([a, b]);
      assert.deepEqual(one.shape, [1, 4, 4, 4]);
      assert.ok(one.equal(list));
    });
    assert.equal(models.DenseBlock.name, '_DenseBlock');
    assert.equal(models.Transition.name, '_Transition');
  } finally {
    layer.dispose();
  }
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
