'use strict';
// torch.optim against Python PyTorch, run live. Every optimizer in several configurations (momentum,
// Nesterov, dampening, weight decay, maximize, amsgrad, AdamW's decoupled decay, centered RMSprop
// with momentum, Adagrad's lr decay and initial accumulator, two param groups with their own lr)
// trains the same parameters on the same data and loss for 20 steps in both languages, with a frozen
// parameter in the list. Parameters and state tensors must agree to rtol 1e-5 / atol 1e-6 (the 'step'
// counters exactly); the frozen parameter must stay bit-identical. stateDict() has Python's structure
// (keys, order, containers; and, written with torch.save and described by Python, the exact Python
// types: int / float / tuple / bool / None). Checkpoints move both ways: Python trains 5 steps and
// saves optimizer.state_dict(), torch-node loads it and trains 5 more = Python's 10 steps; and the
// reverse.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const optim = require('../dist').optim;
const { isTuple } = require('../dist/serialization/torch-file');
const { runPython } = require('./helpers/python');

const nn = torch.nn;
const baseline = torch.memory().liveTensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-optim-'));
const RTOL = 1e-5;
const ATOL = 1e-6;
const STEPS = 20;
const K = 5; // steps before the checkpoint
const M = 5; // steps after it

// ---- the problem: deterministic data, a small linear model, MSE plus a quartic term -----------------
function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round(((s / 2 ** 32) * 2 - 1) * 1e4) / 1e4;
  };
}
const rnd = lcg(42);
const mat = (r, c) => Array.from({ length: r }, () => Array.from({ length: c }, rnd));
const INIT = { W: mat(3, 4), b: mat(1, 3)[0], F: mat(1, 2)[0] };
const DATA = { X: mat(6, 4), Y: mat(6, 3) };

// Configurations in Python's keyword names; `groups` splits [W, b, F] by index with per-group options.
const CONFIGS = [
  { name: 'SGD', kw: { lr: 0.1 } },
  { name: 'SGD', kw: { lr: 0.05, momentum: 0.9 } },
  { name: 'SGD', kw: { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01 } },
  { name: 'SGD', kw: { lr: 0.05, momentum: 0.8, dampening: 0.3, weight_decay: 0.1, maximize: true } },
  { name: 'Adam', kw: { lr: 0.01 } },
  { name: 'Adam', kw: { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.1, amsgrad: true } },
  { name: 'Adam', kw: { lr: 0.01, maximize: true } },
  { name: 'AdamW', kw: { lr: 0.01, weight_decay: 0.1 } },
  { name: 'AdamW', kw: { lr: 0.02, amsgrad: true } },
  { name: 'RMSprop', kw: { lr: 0.01 } },
  { name: 'RMSprop', kw: { lr: 0.01, alpha: 0.9, centered: true, momentum: 0.5, weight_decay: 0.05 } },
  { name: 'RMSprop', kw: { lr: 0.005, momentum: 0.9, maximize: true } },
  { name: 'Adagrad', kw: { lr: 0.1 } },
  { name: 'Adagrad', kw: { lr: 0.1, lr_decay: 0.05, weight_decay: 0.1, initial_accumulator_value: 0.1, eps: 1e-8 } },
  {
    name: 'SGD',
    kw: { lr: 0.1, momentum: 0.9 },
    groups: [
      { idx: [0], kw: { lr: 0.01 } },
      { idx: [1, 2], kw: { weight_decay: 0.1 } },
    ],
  },
  {
    name: 'Adam',
    kw: { lr: 0.01 },
    groups: [
      { idx: [0], kw: { lr: 0.001, amsgrad: true } },
      { idx: [1, 2], kw: {} },
    ],
  },
];
const label = (c) => `${c.name}(${JSON.stringify(c.kw)}${c.groups ? `, groups ${JSON.stringify(c.groups)}` : ''})`;

const PY = String.raw`
import json, math, sys, torch
torch.set_num_threads(1)
inp = json.load(sys.stdin)
D = inp['data']

def make_params(init):
    W = torch.nn.Parameter(torch.tensor(init['W'], dtype=torch.float32))
    b = torch.nn.Parameter(torch.tensor(init['b'], dtype=torch.float32))
    F = torch.nn.Parameter(torch.tensor(init['F'], dtype=torch.float32), requires_grad=False)
    return [W, b, F]

def kwargs(kw):
    kw = dict(kw)
    if 'betas' in kw: kw['betas'] = tuple(kw['betas'])
    return kw

def build(cfg, params):
    cls = getattr(torch.optim, cfg['name'])
    if cfg.get('groups'):
        return cls([dict(params=[params[i] for i in g['idx']], **kwargs(g['kw'])) for g in cfg['groups']], **kwargs(cfg['kw']))
    return cls(params, **kwargs(cfg['kw']))

X = torch.tensor(D['X'], dtype=torch.float32)
Y = torch.tensor(D['Y'], dtype=torch.float32)
def run(opt, params, n):
    W, b, F = params
    for _ in range(n):
        opt.zero_grad()
        loss = (X.matmul(W.t()).add(b).sub(Y).pow(2).mean()).add(W.pow(4).sum().mul(0.01))
        loss.backward()
        opt.step()

def desc(v):
    if isinstance(v, dict): return ['dict', [[desc(k), desc(x)] for k, x in v.items()]]
    if isinstance(v, tuple): return ['tuple', [desc(x) for x in v]]
    if isinstance(v, list): return ['list', [desc(x) for x in v]]
    if isinstance(v, torch.Tensor): return ['tensor', str(v.dtype).replace('torch.', ''), list(v.shape)]
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', v]
    if isinstance(v, float): return ['float', v if math.isfinite(v) else str(v)]
    if v is None: return ['None']
    if isinstance(v, str): return ['str', v]
    return ['?', type(v).__name__]

def state_values(opt):
    sd = opt.state_dict()
    return {str(i): {k: (v.reshape(-1).tolist() if v.dim() else v.item()) if torch.is_tensor(v) else v for k, v in s.items()} for i, s in sd['state'].items()}

out = []
mode = inp['mode']
for ci, cfg in enumerate(inp['configs']):
    params = make_params(inp['init'])
    opt = build(cfg, params)
    if mode == 'golden':
        run(opt, params, inp['steps'])
        out.append(dict(params=[p.reshape(-1).tolist() for p in params], state=state_values(opt), desc=desc(opt.state_dict())))
    elif mode == 'save':
        run(opt, params, inp['k'])
        torch.save({'model': {'W': params[0], 'b': params[1], 'F': params[2]}, 'optimizer': opt.state_dict()}, inp['files'][ci])
        d = desc(opt.state_dict())
        run(opt, params, inp['m'])
        out.append(dict(params=[p.reshape(-1).tolist() for p in params], desc=d))
    elif mode == 'resume':
        ck = torch.load(inp['files'][ci])
        loaded = ck['model']
        params = [torch.nn.Parameter(loaded['W']), torch.nn.Parameter(loaded['b']), torch.nn.Parameter(loaded['F'], requires_grad=False)]
        opt = build(cfg, params)
        opt.load_state_dict(ck['optimizer'])
        d = desc(ck['optimizer'])
        run(opt, params, inp['m'])
        out.append(dict(params=[p.reshape(-1).tolist() for p in params], desc=d))
print(json.dumps(out))
`;

// ---- the torch-node side ------------------------------------------------------------------------------
const camel = (k) => k.replace(/_([a-z])/g, (_m, c) => c.toUpperCase());
const camelKw = (kw) => Object.fromEntries(Object.entries(kw).map(([k, v]) => [camel(k), v]));

function makeParams(init) {
  return torch.tidy(() => [
    new nn.Parameter(torch.tensor(init.W, { dtype: 'float32' })),
    new nn.Parameter(torch.tensor(init.b, { dtype: 'float32' })),
    new nn.Parameter(torch.tensor(init.F, { dtype: 'float32' }), false),
  ]);
}

function build(cfg, params) {
  const Cls = optim[cfg.name];
  if (cfg.groups)
    return new Cls(
      cfg.groups.map((g) => ({ params: g.idx.map((i) => params[i]), ...camelKw(g.kw) })),
      camelKw(cfg.kw),
    );
  return new Cls(params, camelKw(cfg.kw));
}

let X;
let Y;
function run(opt, [W, b], n) {
  for (let i = 0; i < n; i++) {
    opt.zeroGrad();
    torch.tidy(() => X.matmul(W.t()).add(b).sub(Y).pow(2).mean().add(W.pow(4).sum().mul(0.01)).backward());
    opt.step();
  }
}

const flat = (t) => torch.tidy(() => t.reshape(-1).tolist());
const disposeAll = (...xs) => xs.flat().forEach((x) => x.dispose());
/** Disposes every tensor in a value (Maps, arrays, objects): what stateDict() and torch.load() return. */
function disposeDeep(v) {
  if (v instanceof torch.Tensor) v.dispose();
  else if (v instanceof Map) for (const x of v.values()) disposeDeep(x);
  else if (Array.isArray(v)) v.forEach(disposeDeep);
  else if (v && typeof v === 'object') Object.values(v).forEach(disposeDeep);
}

function close(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= ATOL + RTOL * Math.abs(e), `${what}[${i}]: ${a} vs Python ${e} (rtol ${RTOL}, atol ${ATOL})`);
  });
}

// The JS twin of desc() for an in-memory state dict: Python's int and float are both JS numbers.
function describeJs(v) {
  if (v instanceof Map) return ['dict', [...v].map(([k, x]) => [describeJs(k), describeJs(x)])];
  if (Array.isArray(v)) return [isTuple(v) ? 'tuple' : 'list', v.map(describeJs)];
  if (v instanceof torch.Tensor) return ['tensor', v.dtype, v.shape];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'number') return ['number', Number.isFinite(v) ? v : String(v)];
  if (v === null) return ['None'];
  if (typeof v === 'string') return ['str', v];
  return ['?', typeof v];
}
function numbersOf(d) {
  if (!Array.isArray(d)) return d;
  if (d[0] === 'int' || d[0] === 'float') return ['number', d[1]];
  return d.map(numbersOf);
}

// ---- tests ----------------------------------------------------------------------------------------------
test.before(() => {
  X = torch.tidy(() => torch.tensor(DATA.X, { dtype: 'float32' }));
  Y = torch.tidy(() => torch.tensor(DATA.Y, { dtype: 'float32' }));
  torch.keep(X);
  torch.keep(Y);
});

test(`every optimizer and configuration equals PyTorch over ${STEPS} steps: parameters, state, frozen parameter, state-dict structure`, (t) => {
  const ref = runPython(PY, { mode: 'golden', configs: CONFIGS, init: INIT, data: DATA, steps: STEPS });
  let exact = 0;
  let total = 0;
  CONFIGS.forEach((cfg, ci) => {
    const what = label(cfg);
    const params = makeParams(INIT);
    const opt = build(cfg, params);
    run(opt, params, STEPS);
    const r = ref[ci];
    params.forEach((p, i) => {
      const v = flat(p);
      close(v, r.params[i], `${what} param ${i}`);
      v.forEach((x, j) => {
        total++;
        if (Math.fround(x) === Math.fround(r.params[i][j])) exact++;
      });
    });
    assert.deepEqual(flat(params[2]), INIT.F.map(Math.fround), `${what}: the frozen parameter is bit-identical`);
    const sd = opt.stateDict();
    assert.deepEqual(describeJs(sd), numbersOf(r.desc), `${what}: stateDict() structure equals Python's`);
    const state = sd.get('state');
    assert.deepEqual([...state.keys()].map(String), Object.keys(r.state), `${what}: state keys`);
    for (const [i, s] of state) {
      for (const [k, v] of s) {
        const e = r.state[String(i)][k];
        if (k === 'step') assert.equal(v.item(), e, `${what}: state[${i}].step`);
        else close(flat(v), e, `${what}: state[${i}].${k}`);
      }
    }
    disposeDeep(sd);
    opt.dispose();
    disposeAll(params);
  });
  t.diagnostic(`${exact} of ${total} parameter values bit-identical to PyTorch (float32)`);
});

test('checkpoints move both ways: Python 5 steps -> torch-node 5 more = Python 10; torch-node 5 -> Python 5 more; exact Python types', () => {
  const pyFiles = CONFIGS.map((_c, i) => path.join(dir, `py-${i}.pt`));
  const jsFiles = CONFIGS.map((_c, i) => path.join(dir, `js-${i}.pt`));
  const ref = runPython(PY, { mode: 'save', configs: CONFIGS, init: INIT, data: DATA, k: K, m: M, files: pyFiles });
  const jsFinal = [];
  CONFIGS.forEach((cfg, ci) => {
    const what = label(cfg);
    // Python's checkpoint resumed here.
    const ck = torch.load(pyFiles[ci]);
    const model = ck.get('model');
    const params = torch.tidy(() => [new nn.Parameter(model.get('W')), new nn.Parameter(model.get('b')), new nn.Parameter(model.get('F'), false)]);
    const opt = build(cfg, params);
    opt.loadStateDict(ck.get('optimizer'));
    disposeDeep(ck);
    run(opt, params, M);
    params.forEach((p, i) => close(flat(p), ref[ci].params[i], `${what}: resumed from Python, param ${i}`));
    opt.dispose();
    disposeAll(params);

    // torch-node's checkpoint, for Python to resume.
    const mine = makeParams(INIT);
    const opt2 = build(cfg, mine);
    run(opt2, mine, K);
    const sd = opt2.stateDict();
    torch.save(
      new Map([
        [
          'model',
          new Map([
            ['W', mine[0]],
            ['b', mine[1]],
            ['F', mine[2]],
          ]),
        ],
        ['optimizer', sd],
      ]),
      jsFiles[ci],
    );
    disposeDeep(sd);
    run(opt2, mine, M);
    jsFinal.push(mine.map(flat));
    opt2.dispose();
    disposeAll(mine);
  });
  const back = runPython(PY, { mode: 'resume', configs: CONFIGS, init: INIT, data: DATA, m: M, files: jsFiles });
  CONFIGS.forEach((cfg, ci) => {
    const what = label(cfg);
    assert.deepEqual(back[ci].desc, ref[ci].desc, `${what}: torch-node's state dict, read by Python, has Python's keys, order and types`);
    back[ci].params.forEach((p, i) => {
      close(p, ref[ci].params[i], `${what}: Python resumed from torch-node, param ${i}`);
      close(jsFinal[ci][i], p, `${what}: torch-node uninterrupted vs Python resumed, param ${i}`);
    });
  });
});

test('a step leaks no tensor; state tensors are owned by the optimizer and freed by dispose()', () => {
  const params = makeParams(INIT);
  const opt = new optim.Adam(params, { lr: 0.01, amsgrad: true });
  run(opt, params, 1);
  const live = torch.memory().liveTensors;
  run(opt, params, 3);
  assert.equal(torch.memory().liveTensors, live, 'steady state: no tensor per step');
  torch.tidy(() => {
    opt.stateDict(); // views for the caller, freed by its scope; the state survives
  });
  run(opt, params, 1);
  assert.equal(opt.state.get(params[0]).get('step').item(), 5);
  opt.zeroGrad();
  opt.dispose();
  assert.equal(torch.memory().liveTensors, live - 8, '2 parameters x (step, exp_avg, exp_avg_sq, max_exp_avg_sq) freed');
  assert.throws(() => opt.step(), /Adam\.step\(\): this Adam optimizer was disposed/);
  opt.dispose(); // idempotent
  disposeAll(params);
});

test('paramGroups are writable (as schedulers use them); addParamGroup unfreezes progressively; zeroGrad(setToNone)', () => {
  const [W, b, F] = makeParams(INIT);
  const opt = new optim.SGD([W, b], { lr: 0.1 });
  assert.deepEqual(
    opt.paramGroups.map((g) => g.lr),
    [0.1],
  );
  opt.paramGroups[0].lr = 0;
  const before = flat(W);
  run(opt, [W, b], 1);
  assert.deepEqual(flat(W), before, 'lr 0 set through paramGroups: no change');
  // Unfreeze F and give it its own group and lr.
  F.requiresGrad_(true);
  opt.addParamGroup({ params: [F], lr: 0.5, weight_decay: 0.2 });
  assert.equal(opt.paramGroups[1].weightDecay, 0.2, 'snake_case options are accepted and stored camelCase');
  assert.equal(opt.paramGroups[1].momentum, 0, 'defaults fill the rest');
  opt.zeroGrad();
  torch.tidy(() => F.pow(2).sum().backward()); // grad = 2F
  const f0 = flat(F);
  opt.step();
  flat(F).forEach((x, i) => assert.ok(Math.abs(x - Math.fround(f0[i] - 0.5 * (2 * f0[i] + 0.2 * f0[i]))) < 1e-6));
  assert.deepEqual(
    opt
      .stateDict()
      .get('param_groups')
      .map((g) => g.get('params')),
    [[0, 1], [2]],
  );
  opt.zeroGrad({ setToNone: false });
  assert.deepEqual(
    torch.tidy(() => F.grad.tolist()),
    [0, 0],
    'setToNone: false zeroes the gradient',
  );
  torch.tidy(() => opt.zeroGrad()); // frees the grad handle F.grad gave above (it passes to the scope)
  assert.equal(F.grad, null, 'the default sets it to null');
  // step(closure): the closure runs with grad enabled (even under noGrad) and its result comes back.
  const f1 = flat(F);
  const loss = torch.noGrad(() =>
    opt.step(() => {
      opt.zeroGrad();
      return torch.tidy(() => {
        const l = F.pow(2).sum();
        l.backward();
        return l.item();
      });
    }),
  );
  assert.ok(Math.abs(loss - (f1[0] ** 2 + f1[1] ** 2)) < 1e-5);
  assert.notDeepEqual(flat(F), f1, 'the step used the gradient the closure made');
  opt.dispose();
  disposeAll(W, b, F);
});

test('frozen parameters: one warning per optimizer, never updated even with a stale gradient', async () => {
  await new Promise((r) => setImmediate(r)); // warnings of earlier tests arrive first
  const seen = [];
  const onWarning = (w) => w.code === 'TORCH_NODE_FROZEN_PARAMS' && seen.push(w.message);
  process.on('warning', onWarning);
  try {
    const [W, b, F] = makeParams(INIT);
    const G = torch.tidy(() => new nn.Parameter(torch.zeros([2]), false));
    const opt = new optim.SGD([W, F], { lr: 0.1 });
    opt.addParamGroup({ params: [b, G] });
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, 1, 'one warning for the optimizer');
    assert.match(seen[0], /SGD: 1 of the parameters given do not require grad \(frozen\)/);
    const stale = torch.tidy(() => torch.onesLike(F));
    F.grad = stale;
    const f0 = flat(F);
    run(opt, [W, b], 2);
    assert.deepEqual(flat(F), f0);
    opt.dispose();
    disposeAll(W, b, F, G, stale);
  } finally {
    process.off('warning', onWarning);
  }
});

test('bad options and bad state dicts: TorchError naming the option', () => {
  const [W, b, F] = makeParams(INIT);
  const cases = [
    [() => new optim.SGD([W], { lr: -1 }), /SGD\(\): argument 'lr' must be a non-negative number, got number -1/],
    [() => new optim.SGD([W], { lr: 0.1, momentum: -0.5 }), /SGD\(\): argument 'momentum' must be a non-negative number, got number -0.5/],
    [
      () => new optim.SGD([W], { lr: 0.1, nesterov: true }),
      /SGD\(\): option 'nesterov' requires a positive 'momentum' and zero 'dampening' \(got momentum 0, dampening 0\)/,
    ],
    [() => new optim.SGD([W], { lr: 0.1, lrr: 1 }), /SGD\(\): unknown option 'lrr'; SGD takes lr, momentum, dampening, weightDecay, nesterov, maximize/],
    [() => new optim.SGD([W], { lr: '0.1' }), /SGD\(\): argument 'lr' must be a non-negative number, got string "0.1"/],
    [() => new optim.SGD([], { lr: 0.1 }), /SGD\(\): argument 'params' is an empty list/],
    [() => new optim.SGD([{ params: [W], lr: -2 }]), /SGD\(\): argument 'params\[0\]\.lr' must be a non-negative number, got number -2/],
    [() => new optim.SGD([{ params: [W] }, { params: [W] }]), /SGD\(\): some parameters appear in more than one parameter group/],
    [() => torch.tidy(() => new optim.SGD([W.mul(2)])), /SGD\(\): params\[0\] is not a leaf tensor/],
    [() => new optim.SGD([W, 3]), /SGD\(\): argument 'params\[1\]' must be a Tensor, got number 3/],
    [() => new optim.Adam([W], { betas: [1, 0.9] }), /Adam\(\): argument 'betas\[0\]' must be a number in \[0, 1\), got number 1/],
    [() => new optim.Adam([W], { betas: [0.9] }), /Adam\(\): argument 'betas' must be an array \[beta1, beta2\], got an array of length 1/],
    [() => new optim.Adam([W], { eps: -1 }), /Adam\(\): argument 'eps' must be a non-negative number/],
    [() => new optim.AdamW([W], { decoupledWeightDecay: false }), /AdamW\(\): unknown option 'decoupledWeightDecay'/],
    [() => new optim.RMSprop([W], { alpha: -0.1 }), /RMSprop\(\): argument 'alpha' must be a non-negative number, got number -0.1/],
    [() => new optim.RMSprop([W], { centered: 1 }), /RMSprop\(\): argument 'centered' must be a boolean, got number 1/],
    [() => new optim.Adagrad([W], { lrDecay: -1 }), /Adagrad\(\): argument 'lrDecay' must be a non-negative number, got number -1/],
    [() => new optim.Adagrad([W], { initialAccumulatorValue: -1 }), /Adagrad\(\): argument 'initialAccumulatorValue' must be a non-negative number/],
  ];
  for (const [fn, re] of cases) {
    assert.throws(fn, (e) => e instanceof torch.TorchError && re.test(e.message), String(re));
  }
  const opt = new optim.SGD([W, b], { lr: 0.1, momentum: 0.9 });
  opt.paramGroups[0].lr = 'fast';
  assert.throws(() => opt.step(), /SGD\.step\(\): argument 'paramGroups\[0\]\.lr' must be a non-negative number, got string "fast"/);
  opt.paramGroups[0].lr = 0.1;
  run(opt, [W, b], 1);
  const sd = opt.stateDict();
  const other = new optim.SGD([{ params: [W] }, { params: [b] }], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => other.loadStateDict(sd), /SGD\.loadStateDict\(\): the state dict has 1 parameter group\(s\), the optimizer has 2/);
  const three = new optim.SGD([W, b, F], { lr: 0.1 });
  assert.throws(() => three.loadStateDict(sd), /SGD\.loadStateDict\(\): param_groups\[0\] has 2 parameter\(s\), the optimizer's group 0 has 3/);
  const swapped = new optim.SGD([b, W], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => swapped.loadStateDict(sd), /SGD\.loadStateDict\(\): state\[0\]\.momentum_buffer has shape \[3, 4\] but its parameter has shape \[3\]/);
  assert.equal(swapped.state.size, 0, 'a failed load changes nothing');
  assert.throws(() => opt.loadStateDict(new Map([['state', new Map()]])), /a state dict has the keys 'state' and 'param_groups'/);
  disposeDeep(sd);
  [opt, other, three, swapped].forEach((o) => o.dispose());
  disposeAll(W, b, F);
});

test('a state dict as plain objects (e.g. from JSON-like code) loads too; hyper-parameters are restored', () => {
  const [W, b, F] = makeParams(INIT);
  const opt = new optim.Adam([W, b], { lr: 0.01 });
  run(opt, [W, b], 2);
  const sd = opt.stateDict();
  const plain = {
    state: Object.fromEntries([...sd.get('state')].map(([i, s]) => [String(i), Object.fromEntries(s)])),
    param_groups: sd.get('param_groups').map((g) => ({ ...Object.fromEntries(g), lr: 0.005, weight_decay: 0.5 })),
  };
  const opt2 = new optim.Adam([W, b], { lr: 0.01 });
  opt2.loadStateDict(plain);
  assert.equal(opt2.paramGroups[0].lr, 0.005);
  assert.equal(opt2.paramGroups[0].weightDecay, 0.5);
  assert.equal(opt2.state.get(W).get('step').item(), 2);
  assert.ok(!opt2.state.get(W).get('exp_avg').sharesStorageWith(sd.get('state').get(0).get('exp_avg')), 'loaded state is copied');
  disposeDeep(sd);
  [opt, opt2].forEach((o) => o.dispose());
  disposeAll(W, b, F);
});

test('no tensors leaked by this file', () => {
  X.dispose();
  Y.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
