'use strict';
// ResNet-18 fine-tuning and inference on CPU: torch-node (torch.vision.models.resnet18, JS modules
// -> N-API -> ATen) against Python PyTorch (torchvision.models.resnet18) on the same libtorch, side by
// side in the same run, with the same thread count on both.
//
//   node bench/finetune.js [--size 224] [--batch 16] [--infer-size 224] [--infer-batch 32]
//                          [--threads N] [--warmup 2] [--steps 5] [--repeat 3] [--rss-steps 50]
//                          [--no-rss] [--no-train] [--node-preload LIB.so] [--json]   (also run by bench/run.js)
//
// --no-train skips the two fine-tune step cases (the inference cases alone take ~1/4 of the time).
//
// --node-preload runs the torch-node workers with LD_PRELOAD=LIB.so: a diagnostic, used to test
// allocator settings without rebuilding the addon (bench/README.md, "Where the time goes").
//
// Rows (each a ratio torch-node / Python):
//   - fine-tune step, frozen backbone: only `fc` trains (a new 10-class head), the frozen BatchNorms
//     stay in eval mode (torch-node: keepFrozenBatchNormEval; Python: .eval() on those modules);
//     SGD(lr 0.01, momentum 0.9) over the trainable parameters, CrossEntropyLoss; batch 16 of
//     3 x size x size random images, random labels.
//   - fine-tune step, full: the same with every parameter trainable (model.train()).
//     One step = zero_grad, forward, loss, backward, optimizer step (torch-node inside one tidy()).
//   - inference latency (batch 1) and throughput (batch 32): eval(), inference mode, 1000 classes,
//     3 x infer-size x infer-size; plus batch 1 under no_grad.
//   --device cuda (bench/run.js adds this section when a GPU is present): the same cases on the GPU,
//     each timed call ending in a synchronize on both sides; no RSS row.
//   - peak RSS of a job of --rss-steps full fine-tune steps, each implementation in its own fresh
//     process (process.resourceUsage().maxRSS / resource.getrusage(RUSAGE_SELF).ru_maxrss).
//
// Timing: each repeat runs one fresh torch-node process and one fresh Python process (interleaved);
// each runs every timed case with --warmup untimed steps first, then --steps timed steps. The table
// shows the median over all timed steps of all repeats (per-repeat medians, min, max and every
// sample are in --json); also the minor page faults per timed step on each side. Both sides set OMP_NUM_THREADS / MKL_NUM_THREADS and call set_num_threads(--threads)
// (default: every core). Models are built after manual_seed(0), so both start from the same weights
// and data (resnet.ts follows torchvision's construction order): the first step's loss is printed
// for both as a check that the two sides do the same work.
const fs = require('fs');
const os = require('os');
const { machine, median } = require('./common');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const DEFAULTS = {
  size: 224,
  batch: 16,
  inferSize: 224,
  inferBatch: 32,
  threads: os.cpus().length,
  warmup: 2,
  steps: 5,
  inferWarmup: 3,
  inferSteps: 20,
  throughputSteps: 3,
  repeat: 3,
  rssSteps: 50,
  rss: true,
  classes: 10,
  lr: 0.01,
  momentum: 0.9,
  nodePreload: null,
  device: 'cpu',
  train: true,
};
const GOALS = { step: 1.02, rss: 1.1 };

// ---- torch-node worker ----------------------------------------------------------------------------
function nodeWorker(cfg) {
  const torch = require('../dist');
  const { nn } = torch;
  torch.setNumThreads(cfg.threads);
  const maxRssAfterImportKb = process.resourceUsage().maxRSS;
  const now = () => performance.now();
  const out = { threads: torch.getNumThreads(), samples: {}, loss0: {}, faults: {} };
  const faults = () => process.resourceUsage().minorPageFault;
  // CUDA: inputs are drawn on the CPU (the same numbers as Python's) and moved; every timed call
  // ends with a synchronize, so the time is the GPU's work, not only its launch.
  const dev = cfg.device;
  const cuda = dev !== 'cpu';
  const toDev = (t) => {
    if (!cuda) return t;
    const m = t.to(dev);
    t.dispose();
    return m;
  };
  const sync = () => {
    if (cuda) torch.cuda.synchronize();
  };

  function trainModel(full, size) {
    torch.manualSeed(0);
    const model = torch.vision.models.resnet18({ numClasses: cfg.classes });
    if (cuda) model.to(dev);
    if (!full) {
      torch.freeze(model);
      torch.unfreeze(model, 'fc');
    }
    model.train();
    if (!full) torch.keepFrozenBatchNormEval(model);
    const optimizer = new torch.optim.SGD(torch.trainableParameters(model), { lr: cfg.lr, momentum: cfg.momentum });
    const lossFn = new nn.CrossEntropyLoss();
    const x = torch.keep(toDev(torch.randn([cfg.batch, 3, size, size])));
    const y = torch.keep(toDev(torch.randint(0, cfg.classes, [cfg.batch])));
    const step = (read) =>
      torch.tidy(() => {
        optimizer.zeroGrad();
        const loss = lossFn.call(model.call(x), y);
        loss.backward();
        optimizer.step();
        const l = read ? loss.item() : undefined;
        sync();
        return l;
      });
    // Freed when the case ends, as Python frees them when its closure goes: later cases start from
    // the same live memory on both sides.
    const dispose = () => {
      optimizer.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
    };
    return { step, dispose };
  }

  function timeSteps(key, run, warmup, steps) {
    for (let i = 0; i < warmup; i++) {
      const l = run(i === 0);
      if (i === 0 && typeof l === 'number') out.loss0[key] = l;
    }
    const s = [];
    const f0 = faults();
    for (let i = 0; i < steps; i++) {
      const t0 = now();
      run(false);
      s.push(now() - t0);
    }
    out.faults[key] = (faults() - f0) / steps;
    out.samples[key] = s;
  }

  if (cfg.mode === 'rss') {
    out.maxRssAfterImportKb = maxRssAfterImportKb;
    const job = trainModel(true, cfg.size);
    out.maxRssAfterSetupKb = process.resourceUsage().maxRSS;
    for (let i = 0; i < cfg.rssSteps; i++) job.step(false);
    out.maxRssKb = process.resourceUsage().maxRSS;
    out.liveTensors = torch.memory().liveTensors;
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }

  for (const full of cfg.train ? [false, true] : []) {
    const job = trainModel(full, cfg.size);
    timeSteps(full ? 'full' : 'frozen', job.step, cfg.warmup, cfg.steps);
    job.dispose();
  }
  torch.manualSeed(0);
  const model = torch.vision.models.resnet18();
  if (cuda) model.to(dev);
  model.eval();
  const x1 = torch.keep(toDev(torch.randn([1, 3, cfg.inferSize, cfg.inferSize])));
  const xb = torch.keep(toDev(torch.randn([cfg.inferBatch, 3, cfg.inferSize, cfg.inferSize])));
  const infer =
    (x, mode = torch.inferenceMode) =>
    () =>
      torch.tidy(() => {
        mode(() => model.call(x));
        sync();
      });
  timeSteps('inferB1', infer(x1), cfg.inferWarmup, cfg.inferSteps);
  timeSteps('inferB1NoGrad', infer(x1, torch.noGrad), cfg.inferWarmup, cfg.inferSteps);
  timeSteps('inferBatch', infer(xb), 1, cfg.throughputSteps);
  out.liveTensors = torch.memory().liveTensors;
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ---- Python worker (the same cases; reads the config as JSON on stdin) ---------------------------
const PY_CODE = String.raw`
import json, resource, sys, time
import torch, torchvision
cfg = json.load(sys.stdin)
torch.set_num_threads(cfg['threads'])
dev = cfg['device']
cuda = dev != 'cpu'
def sync():
    if cuda:
        torch.cuda.synchronize()
max_rss_after_import_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {'threads': torch.get_num_threads(), 'samples': {}, 'loss0': {}, 'faults': {}, 'python': sys.version.split()[0],
       'torch': torch.__version__, 'torchvision': torchvision.__version__,
       'gpu': torch.cuda.get_device_name(torch.device(dev)) if cuda else None}

def train_model(full, size):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=cfg['classes']).to(dev)
    if not full:
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith('fc.'))
    model.train()
    if not full:
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d) and all(not p.requires_grad for p in m.parameters(recurse=False)):
                m.eval()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=cfg['lr'], momentum=cfg['momentum'])
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(cfg['batch'], 3, size, size).to(dev)
    y = torch.randint(0, cfg['classes'], (cfg['batch'],)).to(dev)
    def step(read):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        l = loss.item() if read else None
        sync()
        return l
    return step

def time_steps(key, run, warmup, steps):
    for i in range(warmup):
        l = run(i == 0)
        if i == 0 and l is not None:
            out['loss0'][key] = l
    s = []
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        t0 = time.perf_counter()
        run(False)
        s.append((time.perf_counter() - t0) * 1000)
    out['faults'][key] = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / steps
    out['samples'][key] = s

if cfg['mode'] == 'rss':
    out['maxRssAfterImportKb'] = max_rss_after_import_kb
    step = train_model(True, cfg['size'])
    out['maxRssAfterSetupKb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(cfg['rssSteps']):
        step(False)
    out['maxRssKb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))
    sys.exit(0)

for full in ((False, True) if cfg['train'] else ()):
    time_steps('full' if full else 'frozen', train_model(full, cfg['size']), cfg['warmup'], cfg['steps'])
torch.manual_seed(0)
model = torchvision.models.resnet18().to(dev)
model.eval()
x1 = torch.randn(1, 3, cfg['inferSize'], cfg['inferSize']).to(dev)
xb = torch.randn(cfg['inferBatch'], 3, cfg['inferSize'], cfg['inferSize']).to(dev)
def infer(x, mode=torch.inference_mode):
    def run(read):
        with mode():
            model(x)
        sync()
    return run
time_steps('inferB1', infer(x1), cfg['inferWarmup'], cfg['inferSteps'])
time_steps('inferB1NoGrad', infer(x1, torch.no_grad), cfg['inferWarmup'], cfg['inferSteps'])
time_steps('inferBatch', infer(xb), 1, cfg['throughputSteps'])
print(json.dumps(out))
`;

// ---- driver ---------------------------------------------------------------------------------------
function threadEnv(threads) {
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

function lastJson(stdout) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function runNodeWorker(cfg) {
  const env = threadEnv(cfg.threads);
  if (cfg.nodePreload) env.LD_PRELOAD = path.resolve(cfg.nodePreload); // a diagnostic (see bench/README.md)
  const r = spawnSync(process.execPath, [__filename, '--worker', JSON.stringify(cfg)], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    timeout: 1800000,
  });
  if (r.status !== 0) throw new Error(`finetune: torch-node worker (${cfg.mode}) failed (status ${r.status}, ${r.signal || 'no signal'}):\n${r.stderr}`);
  return lastJson(r.stdout);
}

function runPyWorker(python, cfg) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bench-finetune-'));
  const file = path.join(dir, 'finetune.py');
  fs.writeFileSync(file, PY_CODE);
  try {
    const r = spawnSync(python, [file], {
      input: JSON.stringify(cfg),
      env: threadEnv(cfg.threads),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      timeout: 1800000,
    });
    if (r.status !== 0) throw new Error(`finetune: Python worker (${cfg.mode}) failed (status ${r.status}, ${r.signal || 'no signal'}):\n${r.stderr}`);
    return lastJson(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function stats(samples) {
  if (samples.length === 0) return null;
  const s = [...samples].sort((a, b) => a - b);
  return { median: median(s), min: s[0], max: s[s.length - 1], n: s.length };
}

const CASES = [
  { key: 'frozen', label: 'fine-tune step, frozen backbone', unit: 'ms/step', goal: GOALS.step },
  { key: 'full', label: 'fine-tune step, full', unit: 'ms/step', goal: GOALS.step },
  { key: 'inferB1', label: 'inference latency, batch 1', unit: 'ms', goal: null },
  { key: 'inferB1NoGrad', label: 'inference latency, batch 1, no_grad', unit: 'ms', goal: null },
  { key: 'inferBatch', label: 'inference throughput, batch 32', unit: 'img/s', goal: null },
];

function runFinetuneBench(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const log = options.log ?? ((s) => process.stderr.write(s));
  const { findPython } = require('../test/helpers/python');
  const { python } = findPython();
  const cfg = {
    size: o.size,
    batch: o.batch,
    inferSize: o.inferSize,
    inferBatch: o.inferBatch,
    threads: o.threads,
    warmup: o.warmup,
    steps: o.steps,
    inferWarmup: o.inferWarmup,
    inferSteps: o.inferSteps,
    throughputSteps: o.throughputSteps,
    rssSteps: o.rssSteps,
    classes: o.classes,
    lr: o.lr,
    momentum: o.momentum,
    nodePreload: o.nodePreload,
    device: o.device,
    train: o.train,
  };
  if (!/^(cpu|cuda(:\d+)?)$/.test(o.device)) throw new Error(`finetune: --device must be cpu, cuda or cuda:N, got ${o.device}`);
  if (o.device !== 'cpu') {
    const torch = require('../dist');
    if (!torch.cuda.isAvailable()) throw new Error(`finetune: --device ${o.device}, but CUDA is not available: ${torch.cuda.unavailableReason()}`);
  }
  const loadBefore = os.loadavg();
  const t0 = Date.now();
  const samples = { node: {}, python: {} };
  const perRepeat = { node: {}, python: {} };
  const faultSamples = { node: {}, python: {} };
  const workers = { node: [], python: [] };
  let pyVersions = {};
  log(`finetune (ResNet-18, ${o.device === 'cpu' ? `${o.threads} threads` : o.device}):`);
  for (let r = 0; r < o.repeat; r++) {
    log(` ${r + 1}/${o.repeat} node…`);
    const n = runNodeWorker({ ...cfg, mode: 'time' });
    log(' python…');
    const p = runPyWorker(python, { ...cfg, mode: 'time' });
    for (const [impl, w] of [
      ['node', n],
      ['python', p],
    ]) {
      workers[impl].push({ threads: w.threads, loss0: w.loss0, liveTensors: w.liveTensors });
      if (impl === 'python') pyVersions = { python: w.python, pythonTorch: w.torch, torchvision: w.torchvision, gpu: w.gpu };
      for (const [k, s] of Object.entries(w.samples)) {
        (samples[impl][k] ||= []).push(...s);
        (perRepeat[impl][k] ||= []).push(stats(s).median);
      }
      for (const [k, f] of Object.entries(w.faults)) (faultSamples[impl][k] ||= []).push(f);
    }
  }
  let rss = null;
  if (o.rss && o.device === 'cpu') {
    log(` rss (${o.rssSteps} full steps) node…`);
    const n = runNodeWorker({ ...cfg, mode: 'rss' });
    log(' python…');
    const p = runPyWorker(python, { ...cfg, mode: 'rss' });
    rss = {
      steps: o.rssSteps,
      node: { maxRssKb: n.maxRssKb, maxRssAfterImportKb: n.maxRssAfterImportKb, maxRssAfterSetupKb: n.maxRssAfterSetupKb, liveTensors: n.liveTensors },
      python: { maxRssKb: p.maxRssKb, maxRssAfterImportKb: p.maxRssAfterImportKb, maxRssAfterSetupKb: p.maxRssAfterSetupKb },
      ratio: n.maxRssKb / p.maxRssKb,
      goal: n.maxRssKb / p.maxRssKb <= GOALS.rss ? 'PASS' : 'MISS',
    };
  }
  log(` (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  const rows = CASES.map((c) => {
    const node = stats(samples.node[c.key] || []);
    const py = stats(samples.python[c.key] || []);
    const ratio = node && py ? node.median / py.median : null; // time ratio (> 1: torch-node slower)
    return {
      key: c.key,
      label: c.key === 'inferBatch' ? `inference throughput, batch ${o.inferBatch}` : c.label,
      unit: c.unit,
      node,
      python: py,
      perRepeat: { node: perRepeat.node[c.key], python: perRepeat.python[c.key] },
      samples: { node: samples.node[c.key] || [], python: samples.python[c.key] || [] },
      minorFaultsPerStep: { node: stats(faultSamples.node[c.key] || [])?.median ?? null, python: stats(faultSamples.python[c.key] || [])?.median ?? null },
      ratio,
      goal: c.goal,
      verdict: c.goal == null || ratio == null ? null : ratio <= c.goal ? 'PASS' : 'MISS',
    };
  });
  return {
    date: new Date().toISOString(),
    machine: { ...machine(require('../dist')), ...pyVersions, pythonExecutable: python },
    settings: {
      ...cfg,
      repeat: o.repeat,
      rss: o.rss,
      statistic: 'median over all timed steps of all repeats (each repeat a fresh process per implementation)',
      optimizer: `SGD(lr ${o.lr}, momentum ${o.momentum})`,
      loss: 'CrossEntropyLoss',
      goals: { stepAtMost: GOALS.step, rssAtMost: GOALS.rss },
    },
    loadAverage: { before: loadBefore, after: os.loadavg() },
    workers,
    rows,
    rss,
    elapsedSeconds: (Date.now() - t0) / 1000,
  };
}

function formatFinetuneBench(res) {
  const s = res.settings;
  const m = res.machine;
  const la = (l) => l.map((v) => v.toFixed(2)).join(' ');
  const lines = [
    `ResNet-18 on ${s.device === 'cpu' ? 'CPU' : s.device + (res.machine.gpu ? ` (${res.machine.gpu})` : '')}, torch-node vs Python (torchvision) on the same libtorch — ${res.date}`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.os}; node ${m.node}, torch-node ${m.torchNode} on libtorch ${m.libtorch}; ` +
      `Python ${m.python}, torch ${m.pythonTorch}, torchvision ${m.torchvision}`,
    `${s.threads} threads on both sides; load average before ${la(res.loadAverage.before)}, after ${la(res.loadAverage.after)}`,
    `fine-tune: batch ${s.batch} of 3x${s.size}x${s.size}, ${s.classes}-class head, ${s.optimizer}, ${s.loss}; ` +
      `${s.warmup} warm-up + ${s.steps} timed steps per process`,
    `inference: eval(), inference mode (and no_grad), 3x${s.inferSize}x${s.inferSize}, 1000 classes; ` +
      `${s.inferWarmup} warm-up + ${s.inferSteps} timed calls at batch 1, 1 + ${s.throughputSteps} at batch ${s.inferBatch}`,
    `${s.repeat} repeats (fresh processes, interleaved); median over all timed steps`,
    '',
  ];
  const head = ['case', 'unit', 'torch-node', 'python', 'node/py', 'target', 'verdict', 'page faults/step node', 'python'];
  const rows = [head];
  const f = (v, d = 1) => (v == null ? 'n/a' : v.toFixed(d));
  for (const r of res.rows) {
    const thr = r.unit === 'img/s';
    const perBatch = s.inferBatch;
    const val = (st) => (st == null ? null : thr ? (perBatch * 1000) / st.median : st.median);
    rows.push([
      r.label,
      r.unit,
      f(val(r.node)),
      f(val(r.python)),
      r.ratio == null ? 'n/a' : r.ratio.toFixed(2) + 'x' + (thr ? ' (time)' : ''),
      r.goal == null ? '-' : `<= ${r.goal}x`,
      r.verdict ?? '-',
      f(r.minorFaultsPerStep.node, 0),
      f(r.minorFaultsPerStep.python, 0),
    ]);
  }
  if (res.rss) {
    rows.push([
      `peak RSS, ${res.rss.steps} full fine-tune steps`,
      'MB',
      f(res.rss.node.maxRssKb / 1024),
      f(res.rss.python.maxRssKb / 1024),
      res.rss.ratio.toFixed(2) + 'x',
      `<= ${GOALS.rss}x`,
      res.rss.goal,
      '',
      '',
    ]);
    const sub = (label, nKb, pKb) => rows.push([label, 'MB', f(nKb / 1024), f(pKb / 1024), (nKb / pKb).toFixed(2) + 'x', '-', '-', '', '']);
    const n = res.rss.node;
    const p = res.rss.python;
    sub('  after import (runtime + libtorch)', n.maxRssAfterImportKb, p.maxRssAfterImportKb);
    sub('  after setup (+ model, optimizer, data)', n.maxRssAfterSetupKb, p.maxRssAfterSetupKb);
    sub('  peak - after import (the job itself)', n.maxRssKb - n.maxRssAfterImportKb, p.maxRssKb - p.maxRssAfterImportKb);
  }
  const widths = head.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => r.map((v, c) => (c === 0 || c === 1 ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c]))).join('  ');
  lines.push(line(head), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) lines.push(line(r));
  lines.push('');
  const minRow = res.rows.map((r) => `${r.key} ${f(r.node?.min)}/${f(r.python?.min)}`).join(', ');
  lines.push(`min ms (node/python): ${minRow}`);
  const l0 = (impl) => {
    const l = res.workers[impl][0]?.loss0 || {};
    return `frozen ${f(l.frozen, 5)}, full ${f(l.full, 5)}`;
  };
  lines.push(`first-step loss (same seed, same weights and data): torch-node ${l0('node')}; python ${l0('python')}`);
  lines.push('node/py is a time ratio (> 1: torch-node slower; for throughput, python img/s / torch-node img/s).');
  lines.push('page faults/step: minor page faults per timed step (getrusage), median over repeats: memory the allocator had to take fresh from the kernel.');
  if (s.nodePreload) lines.push(`torch-node workers ran with LD_PRELOAD=${s.nodePreload}`);
  return lines.join('\n');
}

module.exports = { runFinetuneBench, formatFinetuneBench };

// ---- command line ---------------------------------------------------------------------------------
if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') {
    nodeWorker(JSON.parse(args[1]));
  } else {
    const opts = {};
    const num = {
      '--size': 'size',
      '--batch': 'batch',
      '--infer-size': 'inferSize',
      '--infer-batch': 'inferBatch',
      '--threads': 'threads',
      '--warmup': 'warmup',
      '--steps': 'steps',
      '--repeat': 'repeat',
      '--rss-steps': 'rssSteps',
    };
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (num[a]) {
        const v = Number(args[++i]);
        if (!Number.isInteger(v) || v < (a === '--warmup' ? 0 : 1)) {
          process.stderr.write(`bench/finetune.js: ${a} needs a ${a === '--warmup' ? 'non-negative' : 'positive'} integer\n`);
          process.exit(2);
        }
        opts[num[a]] = v;
      } else if (a === '--no-rss') opts.rss = false;
      else if (a === '--no-train') opts.train = false;
      else if (a === '--node-preload') opts.nodePreload = args[++i];
      else if (a === '--json') opts.json = true;
      else if (a === '--device') opts.device = args[++i];
      else {
        process.stderr.write(
          `bench/finetune.js: unknown argument ${a}\nusage: node bench/finetune.js [--size 224] [--batch 16] [--infer-size 224] [--infer-batch 32] [--threads N] [--warmup 2] [--steps 5] [--repeat 3] [--rss-steps 50] [--no-rss] [--no-train] [--device cpu|cuda] [--node-preload LIB.so] [--json]\n`,
        );
        process.exit(2);
      }
    }
    try {
      const res = runFinetuneBench(opts);
      if (opts.json) console.log(JSON.stringify(res, null, 2));
      else console.log(formatFinetuneBench(res));
    } catch (e) {
      process.stderr.write(`bench/finetune.js: ${e?.stack ? e.stack : e}\n`);
      process.exitCode = 1;
    }
  }
}
