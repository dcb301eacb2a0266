'use strict';
// torch.optim.lrScheduler against Python PyTorch, run live: each scheduler (two param groups with
// different lrs) steps 20 times in both languages; the lr sequence (and the momentum / beta1 that
// OneCycleLR cycles) must be exactly equal, as must getLastLr(). stateDict() has Python's keys, order
// and values; written with torch.save and read by Python, its exact Python types. A schedule stopped
// after 8 steps and resumed from a checkpoint (optimizer + scheduler state dicts) continues exactly
// as the uninterrupted one: Python's checkpoint resumed in torch-node and the other way round.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const optim = require('../dist').optim;
const { runPython } = require('./helpers/python');

const { lrScheduler } = optim;
const baseline = torch.memory().liveTensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-sched-'));
const STEPS = 20;
const K = 8;

const METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.9, 0.9, 0.88, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5, 0.6, 0.6];
const CONFIGS = [
  { sched: 'StepLR', kw: { step_size: 3, gamma: 0.5 } },
  { sched: 'MultiStepLR', kw: { milestones: [2, 5, 5, 9], gamma: 0.3 } },
  { sched: 'ExponentialLR', kw: { gamma: 0.9 } },
  { sched: 'CosineAnnealingLR', kw: { T_max: 6, eta_min: 0.001 }, cos: true },
  { sched: 'LinearLR', kw: { start_factor: 0.25, total_iters: 4 } },
  { sched: 'LinearLR', kw: { start_factor: 0.9, end_factor: 0.1, total_iters: 10 } },
  { sched: 'LambdaLR', kw: { lr_lambda: 'warm' } },
  { sched: 'LambdaLR', kw: { lr_lambda: ['inv', 'warm'] } },
  { sched: 'OneCycleLR', kw: { max_lr: [0.5, 0.05], total_steps: STEPS }, optKw: { momentum: 0.9 }, cos: true },
  { sched: 'OneCycleLR', kw: { max_lr: 0.3, total_steps: STEPS + 5, three_phase: true, anneal_strategy: 'linear' }, opt: 'Adam' },
  { sched: 'ReduceLROnPlateau', kw: { factor: 0.5, patience: 2, cooldown: 1, threshold: 0.01, min_lr: 0.004 } },
  { sched: 'ReduceLROnPlateau', kw: { mode: 'max', threshold_mode: 'abs', patience: 1, min_lr: [0.02, 0] } },
  {
    sched: 'SequentialLR',
    subs: [
      { sched: 'LinearLR', kw: { start_factor: 0.1, total_iters: 5 } },
      { sched: 'CosineAnnealingLR', kw: { T_max: 15 } },
    ],
    kw: { milestones: [5] },
    cos: true,
  },
  {
    sched: 'SequentialLR',
    subs: [
      { sched: 'ExponentialLR', kw: { gamma: 0.9 } },
      { sched: 'StepLR', kw: { step_size: 2 } },
      { sched: 'LinearLR', kw: {} },
    ],
    kw: { milestones: [4, 10] },
  },
];
const label = (c) => `${c.sched}(${JSON.stringify(c.subs ? c.subs.map((s) => s.sched) : c.kw)})`;

const PY = String.raw`
import json, math, sys, torch
from torch.optim import lr_scheduler as L
inp = json.load(sys.stdin)
LAMBDAS = {'warm': lambda e: min(1.0, (e + 1) / 5), 'inv': lambda e: 1 / (e + 1)}

def make(cfg):
    ps = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    cls = getattr(torch.optim, cfg.get('opt', 'SGD'))
    opt = cls([{'params': [ps[0]]}, {'params': [ps[1]], 'lr': 0.01}], lr=0.1, **cfg.get('optKw', {}))
    return opt, sched(cfg, opt)

def sched(cfg, opt):
    kw = dict(cfg['kw'])
    if 'lr_lambda' in kw:
        l = kw['lr_lambda']
        kw['lr_lambda'] = [LAMBDAS[x] for x in l] if isinstance(l, list) else LAMBDAS[l]
    if cfg['sched'] == 'SequentialLR':
        kw['schedulers'] = [sched(s, opt) for s in cfg['subs']]
    return getattr(L, cfg['sched'])(opt, **kw)

def desc(v):
    if isinstance(v, dict): return ['dict', [[desc(k), desc(x)] for k, x in v.items()]]
    if isinstance(v, tuple): return ['tuple', [desc(x) for x in v]]
    if isinstance(v, list): return ['list', [desc(x) for x in v]]
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', v]
    if isinstance(v, float): return ['float', v if math.isfinite(v) else str(v)]
    if v is None: return ['None']
    if isinstance(v, str): return ['str', v]
    return ['?', type(v).__name__]

def record(opt):
    g = opt.param_groups
    return [[x['lr'] for x in g], [x['momentum'] if 'momentum' in x else x['betas'][0] for x in g]]

def run(cfg, opt, s, start, n, out):
    for i in range(start, start + n):
        opt.step()
        if cfg['sched'] == 'ReduceLROnPlateau': s.step(inp['metrics'][i])
        else: s.step()
        out.append(dict(last=s.get_last_lr(), groups=record(opt)))

res = []
for ci, cfg in enumerate(inp['configs']):
    if inp['mode'] == 'golden':
        opt, s = make(cfg)
        seq = [dict(last=s.get_last_lr(), groups=record(opt))]
        run(cfg, opt, s, 0, inp['steps'], seq)
        res.append(dict(seq=seq, desc=desc(s.state_dict())))
    elif inp['mode'] == 'save':
        opt, s = make(cfg)
        seq = []
        run(cfg, opt, s, 0, inp['k'], seq)
        torch.save({'optimizer': opt.state_dict(), 'scheduler': s.state_dict()}, inp['files'][ci])
        d = desc(s.state_dict())
        seq = []
        run(cfg, opt, s, inp['k'], inp['steps'] - inp['k'], seq)
        res.append(dict(seq=seq, desc=d))
    else:
        opt, s = make(cfg)
        ck = torch.load(inp['files'][ci])
        opt.load_state_dict(ck['optimizer'])
        s.load_state_dict(ck['scheduler'])
        d = desc(ck['scheduler'])
        seq = []
        run(cfg, opt, s, inp['k'], inp['steps'] - inp['k'], seq)
        res.append(dict(seq=seq, desc=d))
print(json.dumps(res))
`;

// ---- the torch-node side ------------------------------------------------------------------------------
const LAMBDAS = { warm: (e) => Math.min(1.0, (e + 1) / 5), inv: (e) => 1 / (e + 1) };
const camel = (k) => k.replace(/_([a-z])/g, (_m, c) => c.toUpperCase());

function make(cfg) {
  const ps = torch.tidy(() => [new torch.nn.Parameter(torch.zeros([2])), new torch.nn.Parameter(torch.zeros([3]))]);
  const Cls = optim[cfg.opt ?? 'SGD'];
  const opt = new Cls([{ params: [ps[0]] }, { params: [ps[1]], lr: 0.01 }], { lr: 0.1, ...cfg.optKw });
  return { ps, opt, s: sched(cfg, opt) };
}

function sched(cfg, opt) {
  const o = Object.fromEntries(Object.entries(cfg.kw).map(([k, v]) => [camel(k), v]));
  if (o.lrLambda) o.lrLambda = Array.isArray(o.lrLambda) ? o.lrLambda.map((x) => LAMBDAS[x]) : LAMBDAS[o.lrLambda];
  if (cfg.sched === 'SequentialLR') o.schedulers = cfg.subs.map((s) => sched(s, opt));
  return new lrScheduler[cfg.sched](opt, o);
}

const record = (opt) => [opt.paramGroups.map((g) => g.lr), opt.paramGroups.map((g) => ('momentum' in g ? g.momentum : g.betas[0]))];

function run(cfg, { opt, s }, start, n, out) {
  for (let i = start; i < start + n; i++) {
    opt.step();
    if (cfg.sched === 'ReduceLROnPlateau') s.step(METRICS[i]);
    else s.step();
    out.push({ last: s.getLastLr(), groups: record(opt) });
  }
}

function describeJs(v) {
  if (v instanceof Map) return ['dict', [...v].map(([k, x]) => [describeJs(k), describeJs(x)])];
  if (Array.isArray(v)) return ['list', v.map(describeJs)];
  if (typeof v === 'boolean') return ['bool', v];
  if (typeof v === 'number') return ['number', Number.isFinite(v) ? v : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'];
  if (v === null) return ['None'];
  if (typeof v === 'string') return ['str', v];
  return ['?', typeof v];
}
function numbersOf(d) {
  if (!Array.isArray(d)) return d;
  if (d[0] === 'int' || d[0] === 'float') return ['number', d[1]];
  return d.map(numbersOf);
}
/**
 * Exact equality; where the schedule uses cos (`cfg.cos`), 1 ulp is allowed: torch-node's cos is
 * correctly rounded, C libraries' cos (Python's math.cos) is not quite (glibc 2.36 misrounds ~0.1% of
 * arguments, and its FMA variant may differ again), so neither side can promise the other's last bit.
 */
let ulpDiffs = 0;
function sameSeq(actual, expected, cfg, what) {
  if (!cfg.cos) return assert.deepEqual(actual, expected, what);
  const walk = (a, e) => {
    if (typeof e === 'number') {
      if (a !== e) {
        assert.ok(Math.abs(a - e) <= Math.abs(e) * Number.EPSILON, `${what}: ${a} vs Python ${e} (more than 1 ulp)`);
        ulpDiffs++;
      }
      return;
    }
    if (e === null || typeof e !== 'object') return assert.equal(a, e, what);
    if (Array.isArray(e)) {
      assert.equal(a.length, e.length, what);
      e.forEach((x, i) => walk(a[i], x));
    } else for (const k of Object.keys(e)) walk(a[k], e[k]);
  };
  walk(actual, expected);
}
const done = ({ ps, opt }) => {
  opt.dispose();
  ps.forEach((p) => p.dispose());
};

// ---- tests ----------------------------------------------------------------------------------------------
test(`every scheduler's lr sequence over ${STEPS} steps equals PyTorch's exactly; getLastLr; stateDict structure`, (t) => {
  const ref = runPython(PY, { mode: 'golden', configs: CONFIGS, steps: STEPS, metrics: METRICS });
  CONFIGS.forEach((cfg, ci) => {
    const what = label(cfg);
    const m = make(cfg);
    const seq = [{ last: m.s.getLastLr(), groups: record(m.opt) }];
    run(cfg, m, 0, STEPS, seq);
    seq.forEach((x, i) => sameSeq(x, ref[ci].seq[i], cfg, `${what}: step ${i}`));
    sameSeq(describeJs(m.s.stateDict()), numbersOf(ref[ci].desc), cfg, `${what}: stateDict()`);
    done(m);
  });
  t.diagnostic(`values 1 ulp from Python's (cos-based schedules only): ${ulpDiffs}`);
});

test(`resume from a checkpoint after ${K} steps, both ways: equal to the uninterrupted schedule; exact Python types`, () => {
  const pyFiles = CONFIGS.map((_c, i) => path.join(dir, `py-${i}.pt`));
  const jsFiles = CONFIGS.map((_c, i) => path.join(dir, `js-${i}.pt`));
  const ref = runPython(PY, { mode: 'save', configs: CONFIGS, steps: STEPS, k: K, metrics: METRICS, files: pyFiles });
  const mine = [];
  CONFIGS.forEach((cfg, ci) => {
    const what = label(cfg);
    // Python's checkpoint, resumed here.
    const m = make(cfg);
    const ck = torch.load(pyFiles[ci]);
    m.opt.loadStateDict(ck.get('optimizer'));
    m.s.loadStateDict(ck.get('scheduler'));
    const seq = [];
    run(cfg, m, K, STEPS - K, seq);
    seq.forEach((x, i) => sameSeq(x, ref[ci].seq[i], cfg, `${what}: resumed from Python, step ${K + i + 1}`));
    done(m);
    // torch-node's checkpoint, for Python.
    const m2 = make(cfg);
    run(cfg, m2, 0, K, []);
    torch.save(
      new Map([
        ['optimizer', m2.opt.stateDict()],
        ['scheduler', m2.s.stateDict()],
      ]),
      jsFiles[ci],
    );
    const seq2 = [];
    run(cfg, m2, K, STEPS - K, seq2);
    mine.push(seq2);
    done(m2);
  });
  const back = runPython(PY, { mode: 'resume', configs: CONFIGS, steps: STEPS, k: K, metrics: METRICS, files: jsFiles });
  CONFIGS.forEach((cfg, ci) => {
    const what = label(cfg);
    sameSeq(back[ci].desc, ref[ci].desc, cfg, `${what}: torch-node's state dict, read by Python, has Python's keys, order, values and types`);
    back[ci].seq.forEach((x, i) => sameSeq(x, ref[ci].seq[i], cfg, `${what}: Python resumed from torch-node, step ${K + i + 1}`));
    mine[ci].forEach((x, i) => sameSeq(x, ref[ci].seq[i], cfg, `${what}: torch-node uninterrupted, step ${K + i + 1}`));
  });
});

test('schedulers set initialLr, accept positional arguments, and warn when stepped before the optimizer', async () => {
  await new Promise((r) => setImmediate(r));
  const seen = [];
  const onWarning = (w) => w.code === 'TORCH_NODE_SCHEDULER_ORDER' && seen.push(w.message);
  process.on('warning', onWarning);
  try {
    const p = torch.tidy(() => new torch.nn.Parameter(torch.zeros([2])));
    const opt = new optim.SGD([p], { lr: 1 });
    const s = new lrScheduler.StepLR(opt, 2, { gamma: 0.5 });
    assert.equal(opt.paramGroups[0].initialLr, 1);
    assert.equal(opt.stateDict().get('param_groups')[0].get('initial_lr'), 1);
    s.step();
    s.step();
    assert.deepEqual(s.getLastLr(), [0.5]);
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, 1);
    assert.match(seen[0], /StepLR\.step\(\) was called before optimizer\.step\(\)/);
    const c = new lrScheduler.CosineAnnealingLR(opt, 10);
    assert.equal(c.TMax, 10);
    const e = new lrScheduler.ExponentialLR(opt, 0.5);
    assert.equal(e.gamma, 0.5);
    opt.dispose();
    p.dispose();
  } finally {
    process.off('warning', onWarning);
  }
});

test('bad options: TorchError naming the option', () => {
  const p = torch.tidy(() => new torch.nn.Parameter(torch.zeros([2])));
  const opt = new optim.SGD([p], { lr: 0.1 });
  const L = lrScheduler;
  const cases = [
    [() => new L.StepLR(opt, 0), /StepLR\(\): argument 'stepSize' must be a positive integer, got number 0/],
    [() => new L.StepLR(opt, { stepSize: 2, gama: 0.1 }), /StepLR\(\): unknown option 'gama'; it takes stepSize, gamma, lastEpoch/],
    [() => new L.StepLR({}, 2), /StepLR\(\): argument 'optimizer' must be an Optimizer, got an object/],
    [() => new L.StepLR(opt, 2, { lastEpoch: 3 }), /StepLR\(\): lastEpoch 3 resumes a schedule, but paramGroups\[0\] has no 'initialLr'/],
    [() => new L.MultiStepLR(opt, [1, 2.5]), /MultiStepLR\(\): argument 'milestones\[1\]' must be an integer, got number 2.5/],
    [() => new L.ExponentialLR(opt, 'x'), /ExponentialLR\(\): argument 'gamma' must be a number, got string "x"/],
    [() => new L.CosineAnnealingLR(opt, { TMax: -1 }), /CosineAnnealingLR\(\): argument 'TMax' must be a positive integer, got number -1/],
    [() => new L.LinearLR(opt, { startFactor: 0 }), /LinearLR\(\): argument 'startFactor' must be a number in \(0, 1\], got number 0/],
    [() => new L.LinearLR(opt, { endFactor: 2 }), /LinearLR\(\): argument 'endFactor' must be a number in \[0, 1\], got number 2/],
    [() => new L.LambdaLR(opt, [() => 1, () => 1]), /LambdaLR\(\): argument 'lrLambda' has 2 functions, but the optimizer has 1 param groups/],
    [() => new L.OneCycleLR(opt, 0.1), /OneCycleLR\(\): give either 'totalSteps' or both 'epochs' and 'stepsPerEpoch'/],
    [
      () => new L.OneCycleLR(opt, 0.1, { totalSteps: 10, pctStart: 1.5 }),
      /OneCycleLR\(\): argument 'pctStart' must be a number between 0 and 1, got number 1.5/,
    ],
    [
      () => new L.OneCycleLR(opt, 0.1, { totalSteps: 10, annealStrategy: 'exp' }),
      /OneCycleLR\(\): argument 'annealStrategy' must be 'cos' or 'linear', got string "exp"/,
    ],
    [() => new L.ReduceLROnPlateau(opt, { factor: 1 }), /ReduceLROnPlateau\(\): argument 'factor' must be a number below 1, got number 1/],
    [() => new L.ReduceLROnPlateau(opt, { mode: 'up' }), /ReduceLROnPlateau\(\): argument 'mode' must be 'min' or 'max', got string "up"/],
    [() => new L.ReduceLROnPlateau(opt, { minLr: [0, 0] }), /ReduceLROnPlateau\(\): argument 'minLr' has 2 values, but the optimizer has 1 param groups/],
    [() => new L.SequentialLR(opt, [new L.ReduceLROnPlateau(opt)], []), /SequentialLR\(\): schedulers\[0\] is a ReduceLROnPlateau/],
    [
      () => new L.SequentialLR(opt, [new L.StepLR(opt, 2)], [3]),
      /SequentialLR\(\): argument 'milestones' must have one entry fewer than 'schedulers' \(1 schedulers, 1 milestones\)/,
    ],
  ];
  for (const [fn, re] of cases) assert.throws(fn, (e) => e instanceof torch.TorchError && re.test(e.message), String(re));
  const plateau = new L.ReduceLROnPlateau(opt);
  assert.throws(() => plateau.step('low'), /ReduceLROnPlateau\.step\(\): argument 'metrics' must be a number or a one-element Tensor, got string "low"/);
  const oc = new L.OneCycleLR(opt, 0.1, { totalSteps: 2 });
  opt.step();
  oc.step();
  oc.step();
  assert.throws(() => oc.step(), /OneCycleLR: tried to step 3 times; the specified number of total steps is 2/);
  opt.dispose();
  p.dispose();
});

test('ReduceLROnPlateau takes a one-element tensor as the metric', () => {
  const p = torch.tidy(() => new torch.nn.Parameter(torch.zeros([2])));
  const opt = new optim.SGD([p], { lr: 0.1 });
  const s = new lrScheduler.ReduceLROnPlateau(opt, { patience: 0 });
  torch.tidy(() => {
    s.step(torch.tensor(1.5));
    s.step(torch.tensor(2.5));
  });
  assert.equal(s.best, 1.5);
  assert.deepEqual(s.getLastLr(), [0.1 * 0.1]);
  opt.dispose();
  p.dispose();
});

test('no tensors leaked by this file', () => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
