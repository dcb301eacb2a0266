'use strict';
// torch.vision.models GoogLeNet, Inception v3 and RegNet (Y-400MF, Y-800MF, X-400MF built and run;
// all fifteen configurations' stage parameters) against Python torchvision 0.29.
//
// Python builds each model after manual_seed(0) (its initial weights and printed form recorded), gives
// every bias and BN affine non-trivial values, runs three train-mode passes so the BN running
// statistics are non-trivial (averaged over the passes, so they fit the activations and eval outputs
// stay O(1)), and saves the state dict. Then torchvision's *own builders* run with
// weights='DEFAULT', their download replaced by that file (WeightsEnum.get_state_dict patched), so the
// builders' behaviour is the reference: GoogLeNet's transform_input and dropped aux heads
// (`(aux1): None`), Inception v3's kept AuxLogits. torch-node loads the same file through its
// builders' `weights` option, strictly; key order, module names and classes, printed form (str(model))
// and eval output must equal torchvision's — outputs within atol 1e-4 + rtol 1e-4 (float32, one
// thread). Fresh models after torch.manualSeed(0) have torchvision's initial weights: first values
// exactly, per-tensor sums and sums of squares within 1e-9 relative (GoogLeNet and Inception draw
// through trunc_normal_). Train mode: GoogLeNet's GoogLeNetOutputs (with the same dropout draws after
// the same seed) and a backward through the main and both aux heads; Inception v3's InceptionOutputs
// at 299x299 (the smallest input its aux head accepts). Inputs are small (GoogLeNet 64x64,
// Inception v3 80x80 in eval, RegNet 32x32) to keep the file fast.
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

// torch-node builder, torchvision builder (built and compared in full).
const REGNETS = [
  ['regnetY_400mf', 'regnet_y_400mf'],
  ['regnetY_800mf', 'regnet_y_800mf'],
  ['regnetX_400mf', 'regnet_x_400mf'],
];
// Every RegNet builder: its stage parameters and weights file names are compared.
const ALL_REGNETS = [
  ...['400mf', '800mf', '1_6gf', '3_2gf', '8gf', '16gf', '32gf', '128gf'].map((s) => [`regnetY_${s}`, `regnet_y_${s}`]),
  ...['400mf', '800mf', '1_6gf', '3_2gf', '8gf', '16gf', '32gf'].map((s) => [`regnetX_${s}`, `regnet_x_${s}`]),
];
// Inputs: torch.manual_seed(seed); torch.randn(shape) on both sides (the same generator draws).
const INPUTS = { x64: [11, [2, 3, 64, 64]], x80: [12, [2, 3, 80, 80]], x32: [13, [2, 3, 32, 32]], x299: [14, [2, 3, 299, 299]] };

const PY_FIXTURES = `
import json, os, sys, warnings, torch, torchvision
from torchvision.models import _api
from torchvision.models import regnet as tv_regnet
warnings.simplefilter('ignore')
torch.set_num_threads(1)
inp = json.load(sys.stdin)
D = inp['dir']
out = {}

X = {}
for k, (seed, shape) in inp['inputs'].items():
    torch.manual_seed(seed)
    X[k] = torch.randn(*shape)
out['xsums'] = {k: v.double().sum().item() for k, v in X.items()}

def init_stats(m):
    return {k: [v.double().sum().item(), v.double().pow(2).sum().item(), v.reshape(-1)[:4].double().tolist()]
            for k, v in m.state_dict().items()}

def describe(m):
    return {'keys': list(m.state_dict().keys()),
            'modules': [[n, type(s).__name__] for n, s in m.named_modules()],
            'repr': str(m)}

def perturb(m):
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k.endswith('bias'):
                p.uniform_(-0.2, 0.2)
            elif p.dim() == 1:  # BN weight
                p.uniform_(0.5, 1.5)

def bn_passes(m, side):
    # momentum None for the passes (a cumulative average): the running statistics then fit the
    # activations, so eval outputs stay O(1) through these deep nets; restored after
    bns = [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    for b in bns:
        b.momentum = None
    m.train()
    with torch.no_grad():
        for i in range(3):
            m(torch.randn(4, 3, side, side) * (1 + 0.5 * i) + 0.1 * i)
    m.eval()
    for b in bns:
        b.momentum = 0.1

def flat(t):
    return t.detach().reshape(-1).tolist()

def eval_out(m, x):
    m.eval()
    with torch.no_grad():
        return flat(m(x))

def ramp(t):
    return torch.linspace(-1, 1, t.numel()).reshape(t.shape)

# torchvision's builders with weights, reading our file instead of downloading
SOURCE = {}
_api.WeightsEnum.get_state_dict = lambda self, *a, **k: torch.load(SOURCE['file'])

# ---- GoogLeNet
torch.manual_seed(0)
m = torchvision.models.googlenet()
g = {'init': init_stats(m), 'plain': describe(m)}
perturb(m)
torch.manual_seed(1)
m.transform_input = True  # as the builder with weights will run it
bn_passes(m, 64)
m.transform_input = False
g['file'] = f'{D}/googlenet.pth'
torch.save(m.state_dict(), g['file'])
g['noaux'] = describe(torchvision.models.GoogLeNet(aux_logits=False, init_weights=False))
SOURCE['file'] = g['file']
mw = torchvision.models.googlenet(weights='DEFAULT')
g['weights'] = describe(mw)
g['weights']['y'] = eval_out(mw, X['x64'])
mwa = torchvision.models.googlenet(weights='DEFAULT', aux_logits=True)
g['weightsAux'] = describe(mwa)
mwa.train()
torch.manual_seed(5)
o = mwa(X['x64'])
loss = (o.logits * ramp(o.logits)).sum() + 0.3 * (o.aux_logits2 * ramp(o.aux_logits2)).sum() + 0.3 * (o.aux_logits1 * ramp(o.aux_logits1)).sum()
loss.backward()
params = dict(mwa.named_parameters())
buffers = dict(mwa.named_buffers())
g['train'] = {
    'type': type(o).__name__,
    'logits': flat(o.logits), 'aux2': flat(o.aux_logits2), 'aux1': flat(o.aux_logits1),
    'grads': {k: flat(params[k].grad)[:2000] for k in inp['googlenetGrads']},
    'buffers': {k: flat(buffers[k]) for k in inp['googlenetBuffers']},
}
out['googlenet'] = g
del m, mw, mwa, o, params, buffers

# ---- Inception v3
torch.manual_seed(0)
m = torchvision.models.inception_v3()
i = {'init': init_stats(m), 'plain': describe(m)}
perturb(m)
aux = m.AuxLogits
m.AuxLogits = None  # the aux head needs 299x299 in train mode; its running stats stay unused in eval
torch.manual_seed(2)
m.transform_input = True  # as the builder with weights will run it
bn_passes(m, 80)
m.transform_input = False
m.AuxLogits = aux
i['file'] = f'{D}/inception_v3.pth'
torch.save(m.state_dict(), i['file'])
i['noaux'] = describe(torchvision.models.Inception3(aux_logits=False, init_weights=False))
SOURCE['file'] = i['file']
mw = torchvision.models.inception_v3(weights='DEFAULT')
i['weights'] = describe(mw)
i['weights']['y'] = eval_out(mw, X['x80'])
# inception_v3(weights=..., aux_logits=False) raises in torchvision (_ovewrite_named_param wants True);
# torch-node runs what its builder then intends: the same two lines as its 'if not original_aux_logits'
mna = torchvision.models.inception_v3(weights='DEFAULT')
mna.aux_logits = False
mna.AuxLogits = None
i['weightsNoAux'] = describe(mna)
del mna
mw.train()
torch.manual_seed(6)
with torch.no_grad():
    o = mw(X['x299'])
i['train'] = {'type': type(o).__name__, 'logits': flat(o.logits), 'aux': flat(o.aux_logits),
              'running_var': flat(mw.AuxLogits.conv1.bn.running_var)}
out['inception'] = i
del m, mw, o

# ---- RegNet
for js, name in inp['regnets']:
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)()
    r = {'init': init_stats(m), **describe(m)}
    perturb(m)
    torch.manual_seed(3)
    bn_passes(m, 32)
    r['file'] = f'{D}/{name}.pth'
    torch.save(m.state_dict(), r['file'])
    r['y'] = eval_out(m, X['x32'])
    out[js] = r
    del m

# every RegNet builder's BlockParams, from torchvision's own builders (no model built)
tv_regnet._regnet = lambda params, weights, progress, **kwargs: params
out['blockParams'] = {name: vars(getattr(tv_regnet, name)()) for js, name in inp['allRegnets']}

# every builder's weights names and their files in the hub cache
out['files'] = {name: {k: os.path.basename(E[k].url) for k in E.__members__}
                for name in ['googlenet', 'inception_v3'] + [n for js, n in inp['allRegnets']]
                for E in [torchvision.models.get_model_weights(name)]}
print(json.dumps(out))
`;

const GOOGLENET_GRADS = ['conv1.conv.weight', 'inception4b.branch2.1.conv.weight', 'aux1.fc2.weight', 'aux2.conv.conv.weight', 'fc.weight'];
const GOOGLENET_BUFFERS = ['conv1.bn.running_mean', 'aux1.conv.bn.running_var', 'inception5b.branch4.1.bn.running_mean'];

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

function input(name) {
  const [seed, shape] = INPUTS[name];
  torch.manualSeed(seed);
  return torch.randn(shape);
}

/** Key order, module names and classes, and printed form against a describe() record. */
function sameTree(model, ref, what) {
  const keys = torch.tidy(() => [...model.stateDict().keys()]);
  assert.deepEqual(keys, ref.keys, `${what}: state-dict keys`);
  assert.deepEqual(
    [...model.namedModules()].map(([n, m]) => [n, m.constructor.name]),
    ref.modules,
    `${what}: named modules`,
  );
  assert.equal(model.toString(), ref.repr, `${what}: printed form`);
}

/** The eval-mode output on the named input (made and freed inside). */
function evalOutput(model, inputName) {
  model.eval();
  return torch.tidy(() => torch.noGrad(() => flat(model.forward(input(inputName)))));
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
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-googlenet-'));
  py = runPython(PY_FIXTURES, {
    dir,
    inputs: INPUTS,
    regnets: REGNETS,
    allRegnets: ALL_REGNETS,
    googlenetGrads: GOOGLENET_GRADS,
    googlenetBuffers: GOOGLENET_BUFFERS,
  });
});
test.after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the seeded inputs are the same on both sides', () => {
  for (const name of Object.keys(INPUTS)) {
    const s = torch.tidy(() => input(name).double().sum().item());
    assert.ok(Math.abs(s - py.xsums[name]) <= 1e-9 * Math.abs(py.xsums[name]) + 1e-9, `${name}: ${s} vs ${py.xsums[name]}`);
  }
});

test("googlenet({ weights }): torchvision's builder with weights — strict load, transform_input, aux heads dropped as (aux1): None", (t) => {
  const ref = py.googlenet.weights;
  const model = models.googlenet({ weights: py.googlenet.file });
  try {
    assert.equal(model.weightsReport.source, py.googlenet.file);
    assert.deepEqual(model.weightsReport.newKeys, []);
    assert.equal(model.transformInput, true);
    assert.equal(model.auxLogits, false);
    assert.equal(model.aux1, null);
    sameTree(model, ref, 'googlenet with weights');
    const worst = close(evalOutput(model, 'x64'), ref.y, 'googlenet eval output');
    t.diagnostic(`max |torch-node - torchvision| ${worst.toExponential(2)}; max |torchvision| ${Math.max(...ref.y.map(Math.abs)).toExponential(2)}`);
  } finally {
    model.dispose();
  }
  // auxLogits: true keeps the (not pretrained) heads, as torchvision's aux_logits=True
  const withAux = models.googlenet({ weights: py.googlenet.file, auxLogits: true });
  try {
    sameTree(withAux, py.googlenet.weightsAux, 'googlenet with weights and auxLogits');
    // the whole file, aux heads included, reloads strictly
    const file = torch.load(py.googlenet.file);
    assert.deepEqual(withAux.loadStateDict(file), { missingKeys: [], unexpectedKeys: [] });
    for (const v of file.values()) v.dispose();
  } finally {
    withAux.dispose();
  }
});

test("inceptionV3({ weights }): torchvision's builder with weights — strict load, transform_input, AuxLogits kept", (t) => {
  const ref = py.inception.weights;
  const model = models.inceptionV3({ weights: py.inception.file });
  try {
    assert.equal(model.transformInput, true);
    assert.equal(model.auxLogits, true);
    assert.ok(model.AuxLogits instanceof models.Inception3Aux);
    sameTree(model, ref, 'inception_v3 with weights');
    const worst = close(evalOutput(model, 'x80'), ref.y, 'inception_v3 eval output');
    t.diagnostic(`max |torch-node - torchvision| ${worst.toExponential(2)}; max |torchvision| ${Math.max(...ref.y.map(Math.abs)).toExponential(2)}`);
  } finally {
    model.dispose();
  }
  const noAux = models.inceptionV3({ weights: py.inception.file, auxLogits: false });
  try {
    assert.equal(noAux.AuxLogits, null);
    sameTree(noAux, py.inception.weightsNoAux, 'inception_v3 with weights and auxLogits false');
  } finally {
    noAux.dispose();
  }
});

for (const [js, pyName] of REGNETS) {
  test(`${js}: torchvision's ${pyName} state dict loads strictly; same keys, module names, printed form and eval output`, (t) => {
    const ref = py[js];
    const model = models[js]({ weights: ref.file });
    try {
      assert.deepEqual(model.weightsReport.newKeys, []);
      sameTree(model, ref, js);
      assert.ok(model.trunkOutput === model.trunk_output);
      const worst = close(evalOutput(model, 'x32'), ref.y, `${js} eval output`);
      t.diagnostic(`max |torch-node - torchvision| ${worst.toExponential(2)}; max |torchvision| ${Math.max(...ref.y.map(Math.abs)).toExponential(2)}`);
    } finally {
      model.dispose();
    }
  });
}

test("freshly built models after manualSeed(0) have torchvision's initial weights, keys, module tree and printed form", () => {
  const cases = [
    ['googlenet', () => models.googlenet(), py.googlenet.init, py.googlenet.plain],
    ['inceptionV3', () => models.inceptionV3(), py.inception.init, py.inception.plain],
    ...REGNETS.map(([js]) => [js, () => models[js](), py[js].init, py[js]]),
  ];
  for (const [name, build, init, tree] of cases) {
    torch.manualSeed(0);
    const model = build();
    try {
      sameTree(model, tree, name);
      torch.tidy(() => {
        const sd = model.stateDict();
        assert.deepEqual([...sd.keys()], Object.keys(init), `${name}: keys`);
        for (const [k, v] of sd) {
          const d = v.double();
          const [sum, sq, first] = init[k];
          assert.deepEqual(d.reshape(-1).slice(0, 0, 4).tolist(), first, `${name} ${k}: first values`);
          const s = d.sum().item();
          const q = d.pow(2).sum().item();
          assert.ok(Math.abs(s - sum) <= 1e-9 * (Math.abs(sum) + 1), `${name} ${k}: sum ${s} vs ${sum}`);
          assert.ok(Math.abs(q - sq) <= 1e-9 * (Math.abs(sq) + 1), `${name} ${k}: sum of squares ${q} vs ${sq}`);
        }
      });
    } finally {
      model.dispose();
    }
  }
  // The classes without aux heads: torchvision's `self.aux1 = None` is a plain attribute (not printed).
  for (const [name, build, ref] of [
    ['GoogLeNet({ auxLogits: false })', () => new models.GoogLeNet({ auxLogits: false, initWeights: false }), py.googlenet.noaux],
    ['Inception3({ auxLogits: false })', () => new models.Inception3({ auxLogits: false, initWeights: false }), py.inception.noaux],
  ]) {
    const model = build();
    try {
      sameTree(model, ref, name);
    } finally {
      model.dispose();
    }
  }
});

test('googlenet in train mode: GoogLeNetOutputs [logits, auxLogits2, auxLogits1], same dropout draws, gradients and running statistics', (t) => {
  const ref = py.googlenet.train;
  assert.equal(ref.type, 'GoogLeNetOutputs');
  const model = models.googlenet({ weights: py.googlenet.file, auxLogits: true });
  try {
    model.train();
    torch.tidy(() => {
      const x = input('x64');
      torch.manualSeed(5);
      const out = model.forward(x);
      assert.ok(Array.isArray(out) && out.length === 3, 'an array of three');
      const [logits, aux2, aux1] = out;
      assert.equal(out.logits, logits);
      assert.equal(out.auxLogits2, aux2);
      assert.equal(out.auxLogits1, aux1);
      assert.deepEqual(Object.keys(out), ['0', '1', '2'], 'the names are not enumerable');
      const worst = [close(flat(logits), ref.logits, 'logits'), close(flat(aux2), ref.aux2, 'auxLogits2'), close(flat(aux1), ref.aux1, 'auxLogits1')];
      const ramp = (y) => torch.linspace(-1, 1, y.numel()).reshape(y.shape);
      const loss = logits
        .mul(ramp(logits))
        .sum()
        .add(aux2.mul(ramp(aux2)).sum().mul(0.3))
        .add(aux1.mul(ramp(aux1)).sum().mul(0.3));
      loss.backward();
      for (const k of GOOGLENET_GRADS) worst.push(close(flat(model.getParameter(k).grad).slice(0, 2000), ref.grads[k], `${k}.grad`));
      const buffers = model.namedBuffers();
      for (const k of GOOGLENET_BUFFERS) close(flat(buffers.get(k)), ref.buffers[k], k, 1e-5, 1e-6);
      t.diagnostic(`max |diff| outputs and gradients: ${worst.map((w) => w.toExponential(2)).join(', ')}`);
    });
    // eval mode: the logits tensor, as torchvision
    model.eval();
    const y = torch.tidy(() => torch.noGrad(() => model.forward(input('x64'))));
    assert.ok(y instanceof torch.Tensor);
    y.dispose();
    // no aux heads: train mode returns the tensor too (aux_logits False)
    const plain = models.googlenet({ weights: py.googlenet.file });
    try {
      plain.train();
      const z = torch.tidy(() => torch.noGrad(() => plain.forward(input('x64'))));
      assert.ok(z instanceof torch.Tensor);
      z.dispose();
    } finally {
      plain.dispose();
    }
  } finally {
    model.dispose();
  }
});

test('inceptionV3 in train mode at 299x299: InceptionOutputs [logits, auxLogits] with the same dropout draws', (t) => {
  const ref = py.inception.train;
  assert.equal(ref.type, 'InceptionOutputs');
  const model = models.inceptionV3({ weights: py.inception.file });
  try {
    model.train();
    torch.tidy(() => {
      const x = input('x299');
      torch.manualSeed(6);
      const out = torch.noGrad(() => model.forward(x));
      assert.ok(Array.isArray(out) && out.length === 2);
      const [logits, aux] = out;
      assert.equal(out.logits, logits);
      assert.equal(out.auxLogits, aux);
      const worst = [close(flat(logits), ref.logits, 'logits'), close(flat(aux), ref.aux, 'auxLogits')];
      close(flat(model.AuxLogits.conv1.bn.runningVar), ref.running_var, 'AuxLogits.conv1.bn.running_var', 1e-5, 1e-6);
      t.diagnostic(`max |diff| logits ${worst[0].toExponential(2)}, aux ${worst[1].toExponential(2)}`);
    });
  } finally {
    model.dispose();
  }
});

test("RegNet: every builder's BlockParams equal torchvision's (float32 width rounding included)", () => {
  for (const [js, pyName] of ALL_REGNETS) {
    const ref = py.blockParams[pyName];
    const bp = models.BlockParams.fromInitParams(models.REGNET_PARAMS[pyName]);
    assert.deepEqual(
      {
        depths: bp.depths,
        widths: bp.widths,
        groupWidths: bp.groupWidths,
        bottleneckMultipliers: bp.bottleneckMultipliers,
        strides: bp.strides,
        seRatio: bp.seRatio,
      },
      {
        depths: ref.depths,
        widths: ref.widths,
        groupWidths: ref.group_widths,
        bottleneckMultipliers: ref.bottleneck_multipliers,
        strides: ref.strides,
        seRatio: ref.se_ratio,
      },
      js,
    );
  }
});

test('numClasses with weights rebuilds only the head (aux heads that are kept included)', () => {
  const g = models.googlenet({ weights: py.googlenet.file, numClasses: 10, report: false });
  try {
    assert.deepEqual(g.weightsReport.newKeys, ['fc.weight', 'fc.bias']);
    assert.equal(g.weightsReport.numClasses, 10);
    // loaded + new = the keys of the model returned (the dropped aux heads are in neither)
    assert.deepEqual(
      g.weightsReport.loaded,
      py.googlenet.weights.keys.filter((k) => !k.startsWith('fc.')),
    );
    sameTree(g, { ...py.googlenet.weights, repr: py.googlenet.weights.repr.replace('out_features=1000', 'out_features=10') }, 'googlenet 10 classes');
    const y = torch.tidy(() => {
      g.eval();
      return torch.noGrad(() => g.forward(input('x64')));
    });
    assert.deepEqual(y.shape, [2, 10]);
    y.dispose();
  } finally {
    g.dispose();
  }
  // the report printed by default when the head is rebuilt: the file, and the model's own keys
  const logged = [];
  const log = console.log;
  console.log = (...args) => logged.push(args.join(' '));
  let gr;
  try {
    gr = models.googlenet({ weights: py.googlenet.file, numClasses: 10 });
  } finally {
    console.log = log;
    gr?.dispose();
  }
  assert.deepEqual(logged, [
    `googlenet: loaded ${py.googlenet.weights.keys.length - 2} tensors from ${py.googlenet.file}; new head fc.weight, fc.bias for 10 classes (the weights have 1000)`,
  ]);
  const ga = models.googlenet({ weights: py.googlenet.file, numClasses: 10, auxLogits: true, report: false });
  try {
    assert.deepEqual(ga.weightsReport.newKeys, ['fc.weight', 'fc.bias', 'aux1.fc2.weight', 'aux1.fc2.bias', 'aux2.fc2.weight', 'aux2.fc2.bias']);
    assert.deepEqual(ga.aux1.fc2.weight.shape, [10, 1024]);
  } finally {
    ga.dispose();
  }
  const inc = models.inceptionV3({ weights: py.inception.file, numClasses: 7, report: false });
  try {
    assert.deepEqual(inc.weightsReport.newKeys, ['fc.weight', 'fc.bias', 'AuxLogits.fc.weight', 'AuxLogits.fc.bias']);
    assert.deepEqual(inc.AuxLogits.fc.weight.shape, [7, 768]);
    const file = torch.load(py.inception.file);
    const sd = inc.stateDict();
    assert.deepEqual([...sd.keys()], py.inception.weights.keys);
    for (const [k, v] of file) if (!inc.weightsReport.newKeys.includes(k)) assert.ok(v.equal(sd.get(k)), `${k}: loaded from the file`);
    for (const v of [...file.values(), ...sd.values()]) v.dispose();
  } finally {
    inc.dispose();
  }
  const r = models.regnetX_400mf({ weights: py.regnetX_400mf.file, numClasses: 3, report: false });
  try {
    assert.deepEqual(r.weightsReport.newKeys, ['fc.weight', 'fc.bias']);
    assert.deepEqual(r.fc.weight.shape, [3, 400]);
  } finally {
    r.dispose();
  }
});

test('weights without aux heads (a state dict saved after they were dropped) load into a model without them', () => {
  for (const [builder, file, prefix, x, ref] of [
    ['googlenet', py.googlenet.file, 'aux', 'x64', py.googlenet.weights.y],
    ['inceptionV3', py.inception.file, 'AuxLogits.', 'x80', py.inception.weights.y],
  ]) {
    const full = torch.load(file);
    const sd = new Map([...full].filter(([k]) => !k.startsWith(prefix)));
    const model = models[builder]({ weights: sd });
    try {
      assert.equal(model.weightsReport.source, 'the state dict given');
      assert.deepEqual(
        torch.tidy(() => [...model.stateDict().keys()]),
        [...sd.keys()],
      );
      close(evalOutput(model, x), ref, `${builder} without aux heads`);
      // asking for aux heads that the weights lack: a TorchError listing the missing keys
      assert.throws(
        () => models[builder]({ weights: sd, auxLogits: true }),
        (e) =>
          e instanceof torch.TorchError && e.code === 'ERR_TORCH_STATE_DICT' && e.message.includes(`does not fit`) && e.message.includes(`missing ${prefix}`),
      );
    } finally {
      model.dispose();
      for (const v of full.values()) v.dispose();
    }
  }
});

test("weights names are looked up in $TORCH_HOME/hub/checkpoints under torchvision's file names", () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-home-'));
  try {
    const ckpt = path.join(home, 'hub', 'checkpoints');
    withTorchHome(home, () => {
      const builders = [['googlenet', 'googlenet'], ['inceptionV3', 'inception_v3'], ...ALL_REGNETS];
      let n = 0;
      for (const [js, pyName] of builders) {
        for (const [name, file] of Object.entries(py.files[pyName])) {
          n++;
          assert.throws(
            () => models[js]({ weights: name }),
            (e) =>
              e instanceof torch.TorchError &&
              e.code === 'ERR_TORCH_FILE' &&
              e.message.includes(`${js}()`) &&
              e.message.includes(file) &&
              e.message.includes(ckpt),
            `${js} ${name}`,
          );
        }
        assert.throws(
          () => models[js]({ weights: 'IMAGENET1K_V9' }),
          (e) => e instanceof torch.TorchError && e.message.includes(`known: ${Object.keys(py.files[pyName]).join(', ')}`),
          `${js}: the known names, in torchvision's order`,
        );
      }
      assert.ok(n > 40);
      // Once the file is there (as torchvision in Python would have left it), the name loads it.
      fs.mkdirSync(ckpt, { recursive: true });
      fs.copyFileSync(py.googlenet.file, path.join(ckpt, 'googlenet-1378be20.pth'));
      const model = models.googlenet({ weights: 'DEFAULT' });
      try {
        assert.equal(model.weightsReport.source, path.join(ckpt, 'googlenet-1378be20.pth'));
        close(evalOutput(model, 'x64'), py.googlenet.weights.y, 'googlenet from the hub cache');
      } finally {
        model.dispose();
      }
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('wrong weights: TorchErrors that name the file and the keys; nothing left behind', () => {
  const before = torch.memory().liveTensors;
  // GoogLeNet weights into Inception v3: no AuxLogits, so built without; then unexpected and missing keys
  assert.throws(
    () => models.inceptionV3({ weights: py.googlenet.file }),
    (e) =>
      e instanceof torch.TorchError && e.code === 'ERR_TORCH_STATE_DICT' && /fc\.weight: checkpoint \[1000, 1024\] vs model \[1000, 2048\]/.test(e.message),
  );
  // a file without fc.weight: the message names the file, not "the state dict given"
  const small = path.join(dir, 'small.pth');
  torch.tidy(() => torch.save(new Map([['conv1.conv.weight', torch.zeros([64, 3, 7, 7])]]), small));
  assert.throws(
    () => models.googlenet({ weights: small }),
    (e) => e instanceof torch.TorchError && e.message.includes(`${small} has no 'fc.weight', so it is not a googlenet state dict`),
  );
  // RegNet-Y-400MF weights into RegNet-Y-800MF
  assert.throws(
    () => models.regnetY_800mf({ weights: py.regnetY_400mf.file }),
    (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_STATE_DICT' && /shape mismatches \(\d+\):/.test(e.message),
  );
  assert.equal(torch.memory().liveTensors, before, 'live tensors after the failed loads');
});

test('bad inputs and options: TorchErrors naming the problem', () => {
  const g = models.googlenet({ weights: py.googlenet.file });
  const inc = models.inceptionV3({ weights: py.inception.file });
  const r = new models.RegNet(models.BlockParams.fromInitParams(models.REGNET_PARAMS.regnet_x_400mf));
  try {
    g.eval();
    inc.eval();
    r.eval();
    const err = (re) => (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_ARG' && re.test(e.message);
    torch.tidy(() => {
      assert.throws(() => g.forward(torch.zeros([2, 3, 14, 14])), err(/GoogLeNet\.forward\(\): the images are 14x14; GoogLeNet needs at least 15x15/));
      assert.throws(() => g.forward(torch.zeros([3, 64, 64])), err(/expected a batch of RGB images \[N, 3, H, W\], got a tensor of shape \[3, 64, 64\]/));
      assert.throws(() => g.forward(torch.zeros([1, 1, 64, 64])), err(/\[N, 3, H, W\].*\[1, 1, 64, 64\]/));
      assert.throws(() => g.forward([1, 2, 3]), err(/GoogLeNet\.forward\(\): argument 'x' must be a Tensor/));
      assert.throws(() => inc.forward(torch.zeros([1, 3, 74, 80])), err(/the images are 74x80; Inception v3 needs at least 75x75/));
      inc.train();
      assert.throws(
        () => inc.forward(torch.zeros([2, 3, 80, 80])),
        err(/Inception v3 in train mode with its auxiliary head \(AuxLogits\) needs at least 299x299/),
      );
      inc.eval();
      assert.throws(() => r.forward(torch.zeros([2, 4, 32, 32])), err(/RegNet\.forward\(\): expected a batch of RGB images/));
      // the smallest inputs work
      assert.deepEqual(torch.noGrad(() => g.forward(torch.zeros([1, 3, 15, 15]))).shape, [1, 1000]);
      assert.deepEqual(torch.noGrad(() => r.forward(torch.zeros([1, 3, 1, 1]))).shape, [1, 1000]);
    });
  } finally {
    g.dispose();
    inc.dispose();
    r.dispose();
  }
  const argErr = (re) => (e) => e instanceof torch.TorchError && re.test(e.message);
  // 'pretrained' is answered as by the other builders (withWeights names it)
  assert.throws(() => models.googlenet({ pretrained: true }), argErr(/googlenet\(\): .*'pretrained'/));
  assert.throws(() => models.inceptionV3({ pretrained: true, weights: 'DEFAULT' }), argErr(/inceptionV3\(\): .*'pretrained'/));
  assert.throws(
    () => models.googlenet({ dropuot: 0.1 }),
    argErr(/googlenet\(\): unknown option 'dropuot'; it takes numClasses, weights, report, auxLogits, transformInput, initWeights, dropout, dropoutAux/),
  );
  assert.throws(() => models.inceptionV3({ dropoutAux: 0.5 }), argErr(/unknown option 'dropoutAux'/));
  assert.throws(() => models.regnetY_400mf({ auxLogits: true }), argErr(/unknown option 'auxLogits'/));
  assert.throws(() => new models.GoogLeNet({ dropout: 2 }), argErr(/GoogLeNet\(\): argument 'dropout' must be a probability/));
  assert.throws(() => models.googlenet({ auxLogits: 'yes' }), argErr(/argument 'auxLogits' must be a boolean/));
  assert.throws(() => models.inceptionV3({ numClasses: 0 }), argErr(/numClasses/));
  assert.throws(() => new models.RegNet({}), argErr(/RegNet\(\): argument 'blockParams' must be a BlockParams/));
  assert.throws(
    () => models.BlockParams.fromInitParams({ depth: 16, w0: 50, wA: 27.89, wM: 2.09, groupWidth: 8 }),
    argErr(/invalid RegNet settings: needs wA >= 0, w0 a positive multiple of 8 and wM > 1/),
  );
  assert.throws(() => new models.BasicConv2d(3, 8), argErr(/BasicConv2d\(\): argument 'options'/));
});

test('the head swap keeps the key order; after dispose() no tensors are left', () => {
  const model = models.regnetY_400mf();
  try {
    const old = model.fc;
    model.registerModule('fc', new nn.Linear(model.fc.inFeatures, 5));
    old.dispose();
    assert.deepEqual(
      torch.tidy(() => [...model.stateDict().keys()]),
      py.regnetY_400mf.keys,
    );
    const y = torch.tidy(() => torch.noGrad(() => model.eval().forward(torch.randn([1, 3, 32, 32]))));
    assert.deepEqual(y.shape, [1, 5]);
    y.dispose();
  } finally {
    model.dispose();
  }
  assert.equal(torch.memory().liveTensors, baseline);
});
