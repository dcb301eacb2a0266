'use strict';
// torch.vision.models' ConvNeXt (tiny; small/base/large as configurations) and EfficientNet-V2 (S; M/L
// as configurations) against Python torchvision 0.29.
// For ConvNeXt-Tiny and EfficientNet-V2-S, torchvision builds the model after manual_seed(0) (its
// initial weights are recorded), perturbs every bias, norm weight and layer_scale, runs three
// train-mode batches (so BatchNorm running statistics are non-trivial), saves the state dict, and
// records on a fixed input the eval output, a train-mode output after manual_seed(7) (stochastic
// depth and dropout draw the same rows) and, after a backward, a sample of parameter gradients.
// torch-node loads each file strictly through the builder's `weights` option and must list
// torchvision's keys, module names and classes in order, print the same structure, start from
// torchvision's initial weights after the same seed (first values exactly, sums and sums of squares
// within 1e-9 relative), and reproduce the outputs within atol 1e-4 + rtol 1e-4 (float32, one thread
// on both sides) and the gradients within 1e-4 + 1e-3 of each parameter's largest gradient.
// The larger configurations are compared with torchvision's built on the meta device: keys, shapes,
// module names and classes, printed form and parameter count.
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

// torchvision name -> [torch-node builder, input side, head keys, grad keys sampled]
const ARCHS = {
  convnext_tiny: ['convnextTiny', 32, ['classifier.2.weight', 'classifier.2.bias']],
  efficientnet_v2_s: ['efficientnetV2S', 64, ['classifier.1.weight', 'classifier.1.bias']],
};
// Configurations compared on structure only (torchvision name -> torch-node builder).
const CONFIGS = {
  convnext_small: 'convnextSmall',
  convnext_base: 'convnextBase',
  convnext_large: 'convnextLarge',
  efficientnet_v2_m: 'efficientnetV2M',
  efficientnet_v2_l: 'efficientnetV2L',
};

const PY = `
import json, os, sys, torch
from torchvision import models as tvm
torch.set_num_threads(1)
d = json.load(sys.stdin)
def describe(m):
    return {'keys': list(m.state_dict().keys()),
            'shapes': [list(v.shape) for v in m.state_dict().values()],
            'modules': [[n, type(s).__name__] for n, s in m.named_modules()],
            'repr': str(m),
            'params': sum(p.numel() for p in m.parameters())}
def files(name):
    e = tvm.get_model_weights(name)
    f = {w.name: os.path.basename(w.url) for w in e}
    f['DEFAULT'] = os.path.basename(e.DEFAULT.url)
    return f
out = {}
for name, side in d['archs'].items():
    torch.manual_seed(0)
    m = getattr(tvm, name)()
    r = describe(m)
    r['init'] = {k: [v.double().sum().item(), v.double().pow(2).sum().item(), v.reshape(-1)[:4].double().tolist()]
                 for k, v in m.state_dict().items()}
    r['files'] = files(name)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k.endswith('bias'):
                p.uniform_(-0.2, 0.2, generator=g)
            elif k.endswith('layer_scale'):
                p.uniform_(0.1, 0.5, generator=g)
            elif p.dim() == 1:
                p.uniform_(0.5, 1.5, generator=g)
        m.train()
        for i in range(3):
            m(torch.randn(4, 3, side, side, generator=g) * (1 + 0.5 * i) + 0.1 * i)
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
    sample = names[:4] + names[len(names) // 2:len(names) // 2 + 4] + names[-4:]
    grads = {k: p.grad for k, p in m.named_parameters() if k in sample}
    torch.save({'x': x, 'y': y, 'y_train': yt.detach(), 'grads': grads}, os.path.join(d['dir'], name + '.io.pt'))
    r['grad_keys'] = sample
    out[name] = r
    del m
for name in d['configs']:
    with torch.device('meta'):
        out[name] = describe(getattr(tvm, name)())
    out[name]['files'] = files(name)
print(json.dumps(out))
`;

let dir;
let py;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-convnext-effv2-'));
  py = runPython(PY, { dir, archs: Object.fromEntries(Object.entries(ARCHS).map(([k, v]) => [k, v[1]])), configs: Object.keys(CONFIGS) });
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
    const worst = maxDiff(a, b);
    assert.ok(excess <= 0, `${what}: differs by up to ${worst} (max |ref| ${maxAbs(b)})`);
    return worst;
  });
}
const modulesOf = (m) => [...m.namedModules()].map(([n, s]) => [n, s.constructor.name]);
const paramCount = (m) => m.parameters().reduce((n, p) => n + p.numel(), 0);

for (const [name, [builder, side, head]] of Object.entries(ARCHS)) {
  test(`${builder}(): torchvision's ${name} keys, module names and classes, printed form, initial weights`, () => {
    const want = py[name];
    torch.manualSeed(0);
    const m = models[builder]();
    try {
      assert.deepEqual(modulesOf(m), want.modules, 'module names and classes in order');
      assert.equal(String(m), want.repr, 'printed structure');
      assert.equal(paramCount(m), want.params, 'parameter count');
      assert.deepEqual(want.keys.slice(-2), head, 'the head is the last Linear');
      torch.tidy(() => {
        const sd = m.stateDict();
        assert.deepEqual([...sd.keys()], want.keys, 'state-dict keys in order');
        for (const [k, t] of sd) {
          const d = t.double();
          const [sum, sq, first] = want.init[k];
          assert.deepEqual(d.reshape(-1).slice(0, 0, 4).tolist(), first, `${k}: first values`);
          const s = d.sum().item();
          const q = d.pow(2).sum().item();
          assert.ok(Math.abs(s - sum) <= 1e-9 * (Math.abs(sum) + 1), `${k}: sum ${s} vs ${sum}`);
          assert.ok(Math.abs(q - sq) <= 1e-9 * (Math.abs(sq) + 1), `${k}: sum of squares ${q} vs ${sq}`);
        }
      });
    } finally {
      m.dispose();
    }
  });

  test(`${builder}({ weights: file }): loads torchvision's state dict strictly; eval and train outputs and gradients match`, (t) => {
    torch.tidy(() => {
      const m = models[builder]({ weights: file(name) });
      try {
        assert.equal(m.weightsReport.source, file(name));
        assert.deepEqual(m.weightsReport.newKeys, []);
        assert.deepEqual([...m.stateDict().keys()], py[name].keys);
        assert.deepEqual(m.loadStateDict(torch.load(file(name))), { missingKeys: [], unexpectedKeys: [] });
        const io = torch.load(path.join(dir, `${name}.io.pt`));
        const x = io.get('x');
        assert.deepEqual(x.shape, [2, 3, side, side]);
        m.eval();
        const y = torch.noGrad(() => m.forward(x));
        assert.deepEqual(y.shape, [2, 1000]);
        const de = close(y, io.get('y'), 'eval output');
        // Train mode after the same seed: the same stochastic-depth and dropout draws (and batch statistics).
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
        t.diagnostic(`max |torch-node - torchvision|: eval ${de.toExponential(2)}, train ${dt.toExponential(2)}, sampled gradients ${dg.toExponential(2)}`);
      } finally {
        m.dispose();
      }
    });
  });

  test(`${builder}({ weights, numClasses: 5 }): only the head (${head.join(', ')}) is new`, () => {
    torch.tidy(() => {
      const m = models[builder]({ weights: file(name), numClasses: 5, report: false });
      try {
        const r = m.weightsReport;
        assert.deepEqual(r.newKeys, head);
        assert.equal(r.numClasses, 5);
        assert.deepEqual(
          r.loaded,
          py[name].keys.filter((k) => !head.includes(k)),
        );
        const sd = m.stateDict();
        assert.deepEqual([...sd.keys()], py[name].keys, 'key order unchanged');
        const fileSd = torch.load(file(name));
        for (const k of r.loaded) assert.equal(maxDiff(sd.get(k), fileSd.get(k)), 0, `${k} loaded`);
        assert.deepEqual(sd.get(head[0]).shape, [5, fileSd.get(head[0]).shape[1]]);
        m.eval();
        assert.deepEqual(torch.noGrad(() => m.forward(torch.randn([1, 3, side, side]))).shape, [1, 5]);
      } finally {
        m.dispose();
      }
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
          (e) =>
            e instanceof torch.TorchError &&
            e.code === 'ERR_TORCH_FILE' &&
            e.message.includes(`${builder}()`) &&
            e.message.includes(fileName) &&
            e.message.includes(home),
          `${weights} -> ${fileName}`,
        );
      }
      assert.throws(
        () => models[builder]({ weights: 'IMAGENET9K_V9' }),
        new RegExp(`no torchvision weights named 'IMAGENET9K_V9' for ${name}; known: ${Object.keys(files).join(', ')}`),
      );
      const ckpt = path.join(home, 'hub', 'checkpoints');
      fs.mkdirSync(ckpt, { recursive: true });
      fs.symlinkSync(file(name), path.join(ckpt, files.DEFAULT));
      torch.tidy(() => {
        const m = models[builder]({ weights: 'DEFAULT' });
        try {
          assert.equal(m.weightsReport.source, path.join(ckpt, files.DEFAULT));
          const io = torch.load(path.join(dir, `${name}.io.pt`));
          m.eval();
          close(
            torch.noGrad(() => m.forward(io.get('x'))),
            io.get('y'),
            'eval output from the hub cache',
          );
        } finally {
          m.dispose();
        }
      });
    } finally {
      if (saved === undefined) delete process.env.TORCH_HOME;
      else process.env.TORCH_HOME = saved;
    }
  });
}

test("the larger configurations: torchvision's keys, shapes, module names and classes, printed form, parameter count and weight files", () => {
  for (const [name, builder] of Object.entries(CONFIGS)) {
    const want = py[name];
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
    } finally {
      m.dispose();
    }
    const saved = process.env.TORCH_HOME;
    process.env.TORCH_HOME = path.join(dir, 'nowhere');
    try {
      for (const [weights, fileName] of Object.entries(want.files)) {
        assert.throws(
          () => models[builder]({ weights }),
          (e) => e.code === 'ERR_TORCH_FILE' && e.message.includes(fileName),
          `${builder} ${weights} -> ${fileName}`,
        );
      }
    } finally {
      if (saved === undefined) delete process.env.TORCH_HOME;
      else process.env.TORCH_HOME = saved;
    }
  }
});

test('the classes build from their stage tables, as the builders do', () => {
  const { ConvNeXt, CNBlock, EfficientNet, FusedMBConv, MBConv } = models;
  // a two-stage ConvNeXt and a small EfficientNetV2-like network, through the classes
  const cn = new ConvNeXt([models.cnBlockConfig(16, 32, 1), models.cnBlockConfig(32, null, 2)], { numClasses: 3, stochasticDepthProb: 0.1, layerScale: 0.5 });
  const eff = new EfficientNet(
    [models.fusedMBConvConfig(1, 3, 1, 8, 8, 1), models.fusedMBConvConfig(4, 3, 2, 8, 16, 2), models.mbConvConfig(4, 3, 2, 16, 24, 1)],
    0.2,
    { numClasses: 4, lastChannel: 64 },
  );
  try {
    assert.ok(cn.features.at(1).at(0) instanceof CNBlock);
    assert.equal(cn.features.at(1).at(0).stochasticDepth.p, 0);
    assert.equal(cn.features.at(3).at(1).stochasticDepth.p, 0.1);
    assert.equal(
      torch.tidy(() => cn.features.at(3).at(0).layerScale.mean().item()),
      0.5,
    );
    assert.ok(eff.features.at(1).at(0) instanceof FusedMBConv && eff.features.at(3).at(0) instanceof MBConv);
    assert.equal(eff.features.at(1).at(0).block.length, 1, 'FusedMBConv without expansion: one conv');
    assert.equal(eff.features.at(2).at(0).block.length, 2, 'FusedMBConv with expansion: expand and project');
    assert.ok(eff.features.at(2).at(1).useResConnect && !eff.features.at(2).at(0).useResConnect);
    torch.tidy(() => {
      cn.eval();
      eff.eval();
      assert.deepEqual(torch.noGrad(() => cn.forward(torch.randn([2, 3, 16, 16]))).shape, [2, 3]);
      assert.deepEqual(torch.noGrad(() => eff.forward(torch.randn([2, 3, 16, 16]))).shape, [2, 4]);
    });
  } finally {
    cn.dispose();
    eff.dispose();
  }
});

test('truncNormal_: torch.nn.init.trunc_normal_ draws, both of its sampling methods', () => {
  const ref = runPython(`
import json, torch
out = {}
for mean, std, a, b in [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, -0.5, 0.5), (0.3, 2.0, 1.0, 1.5), (0.0, 0.02, -2.0, 2.0)]:
    torch.manual_seed(3)
    t = torch.empty(40, 25)
    torch.nn.init.trunc_normal_(t, mean, std, a, b)
    out[f"{mean},{std},{a},{b}"] = t.reshape(-1).tolist()
print(json.dumps(out))
`);
  for (const [key, values] of Object.entries(ref)) {
    const [mean, std, a, b] = key.split(',').map(Number);
    torch.tidy(() => {
      torch.manualSeed(3);
      const t = torch.empty([40, 25]);
      models.truncNormal_(t, { mean, std, a, b });
      assert.deepEqual(t.reshape(-1).tolist(), values, `trunc_normal_(mean ${mean}, std ${std}, a ${a}, b ${b})`);
      const v = t.reshape(-1).tolist();
      assert.ok(v.every((x) => x >= Math.fround(a) && x <= Math.fround(b)));
    });
  }
  torch.tidy(() => {
    assert.throws(() => models.truncNormal_(torch.empty([2]), { std: 0 }), /argument 'std' must be a positive number/);
  });
});

test('bad arguments and inputs: TorchErrors that name the problem', () => {
  const { ConvNeXt, EfficientNet } = models;
  assert.throws(
    () => new ConvNeXt([]),
    (e) => e instanceof torch.TorchError && /The block_setting should not be empty/.test(e.message),
  );
  assert.throws(
    () => new ConvNeXt([{ inputChannels: 8 }]),
    (e) => e instanceof torch.TorchError && /argument 'blockSetting\[0\]' must be a CNBlockConfig/.test(e.message),
  );
  assert.throws(() => new ConvNeXt([models.cnBlockConfig(8, null, 1)]), /needs at least 2 blocks/);
  assert.throws(() => new ConvNeXt([models.cnBlockConfig(8, null, 2)], { stochasticDepthProb: 2 }), /stochasticDepthProb.*a probability/);
  assert.throws(() => models.convnextTiny({ numClasses: 0 }), /numClasses/);
  assert.throws(() => models.convnextTiny({ progress: true }), /unknown option 'progress'/);
  assert.throws(() => models.efficientnetV2S({ numClasses: 1.5 }), /numClasses/);
  assert.throws(() => new EfficientNet([models.fusedMBConvConfig(1, 3, 3, 8, 8, 1)], 0.2), /FusedMBConv\(\): illegal stride value/);
  assert.throws(() => models.efficientnetV2Conf('xl'), /argument 'arch' must be 's', 'm' or 'l'/);
  assert.throws(() => models.convnextConf('huge'), /argument 'arch' must be 'tiny', 'small', 'base' or 'large'/);
  // A state dict of the other architecture
  assert.throws(
    () => models.efficientnetV2S({ weights: file('convnext_tiny') }),
    (e) => e instanceof torch.TorchError && e.message.includes("has no 'classifier.1.weight', so it is not a efficientnet_v2_s state dict"),
  );
  assert.throws(
    () => models.convnextSmall({ weights: file('convnext_tiny') }),
    (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_STATE_DICT' &&
      /does not fit convnext_small: missing [^;]*features\.5\.9\.layer_scale/.test(e.message),
  );
  // Bad inputs to forward
  const m = new ConvNeXt([models.cnBlockConfig(8, null, 2)], { numClasses: 2 });
  try {
    m.eval();
    torch.tidy(() => {
      assert.throws(
        () => m.forward(torch.randn([3, 16, 16])),
        (e) => e instanceof torch.TorchError && /ConvNeXt: expected 4D input \(N, 3, H, W\) \(got 3D input\)/.test(e.message),
      );
      assert.throws(
        () => m.forward(torch.randn([1, 1, 16, 16])),
        (e) => e instanceof torch.TorchError && /channels|size|shape/i.test(e.message),
      );
      assert.throws(() => m.forward('x'), /argument 'input' must be a Tensor/);
    });
  } finally {
    m.dispose();
  }
  assert.equal(torch.memory().liveTensors, baseline, 'nothing left behind by the failed calls');
});

test('after dispose(), no tensors are left', () => {
  for (const builder of ['convnextTiny', 'efficientnetV2S']) {
    const m = models[builder]();
    m.eval();
    torch.tidy(() => {
      torch.noGrad(() => m.forward(torch.randn([1, 3, 32, 32])));
    });
    m.dispose();
  }
  assert.equal(torch.memory().liveTensors, baseline);
});
