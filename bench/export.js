#!/usr/bin/env node
'use strict';
// torch.export and AOTInductor vs Python, ResNet-18 on CPU, one intra-op thread on both sides, each
// side in fresh processes in the same run:
//   - inference, batch 4 at 224x224: torch.inductor.aotiLoadPackage vs Python's aoti_load_package
//     (the same package; target <= 1.0x), Python eager shown beside;
//   - inference through torch.export.load(...).module() (the exported graph interpreted node by node
//     through the dispatcher) vs Python eager (target <= 1.05x);
//   - a fine-tune step (train-mode export, SGD momentum, batch 8 at 128x128) through the exported
//     module vs Python eager (target <= 1.05x).
// The exports and the package are made by Python once per torch version and cached in
// <cache>/bench-export/ (compiling ResNet-18 with AOTInductor takes minutes on two cores).
//
//   node bench/export.js [--iters 10] [--rounds 3] [--json]
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

const PREPARE = `
import json, os, sys, warnings
warnings.filterwarnings('ignore')
import torch, torchvision
out = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=10)
if not os.path.exists(os.path.join(out, 'weights.pt')):
    torch.save(m.state_dict(), os.path.join(out, 'weights.tmp')); os.replace(os.path.join(out, 'weights.tmp'), os.path.join(out, 'weights.pt'))
m.load_state_dict(torch.load(os.path.join(out, 'weights.pt')))
x = torch.randn(4, 3, 224, 224)
if not os.path.exists(os.path.join(out, 'eval.pt2')):
    ep = torch.export.export(m.eval(), (x,))
    torch.export.save(ep, os.path.join(out, 'eval.tmp.pt2')); os.replace(os.path.join(out, 'eval.tmp.pt2'), os.path.join(out, 'eval.pt2'))
if not os.path.exists(os.path.join(out, 'aoti.pt2')):
    ep = torch.export.export(m.eval(), (x,))
    torch._inductor.aoti_compile_and_package(ep, package_path=os.path.join(out, 'aoti.tmp.pt2'))
    os.replace(os.path.join(out, 'aoti.tmp.pt2'), os.path.join(out, 'aoti.pt2'))
if not os.path.exists(os.path.join(out, 'train.pt2')):
    ep = torch.export.export(m.train(), (torch.randn(8, 3, 128, 128),))
    torch.export.save(ep, os.path.join(out, 'train.tmp.pt2')); os.replace(os.path.join(out, 'train.tmp.pt2'), os.path.join(out, 'train.pt2'))
print(json.dumps({'ok': True}))
`;

const NODE_SIDE = `
const torch = require(${JSON.stringify(path.join(root, 'dist'))});
const [dir, what, iters] = process.argv.slice(2);
torch.setNumThreads(1);
const times = [];
const time = (f) => { const t0 = process.hrtime.bigint(); f(); times.push(Number(process.hrtime.bigint() - t0) / 1e6); };
torch.manualSeed(0);
if (what === 'aoti') {
  const m = torch.inductor.aotiLoadPackage(dir + '/aoti.pt2');
  const x = torch.randn([4, 3, 224, 224]);
  // The output is freed with each call, as Python's is when it is dropped (a tensor returned from
  // tidy() would outlive it, until the GC).
  const call = () => torch.tidy(() => { m.forward(x); });
  for (let i = 0; i < 2; i++) call();
  for (let i = 0; i < +iters; i++) time(call);
} else if (what === 'epInfer') {
  const m = torch.export.load(dir + '/eval.pt2').module();
  const x = torch.randn([4, 3, 224, 224]);
  const call = () => torch.tidy(() => { torch.noGrad(() => m.call(x)); });
  for (let i = 0; i < 2; i++) call();
  for (let i = 0; i < +iters; i++) time(call);
} else {
  const m = torch.export.load(dir + '/train.pt2').module();
  const opt = new torch.optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.randn([8, 3, 128, 128]);
  const y = torch.randint(0, 10, [8]);
  const step = () => torch.tidy(() => { opt.zeroGrad(); torch.nn.functional.crossEntropy(m.call(x), y).backward(); opt.step(); });
  for (let i = 0; i < 2; i++) step();
  for (let i = 0; i < +iters; i++) time(step);
}
console.log(JSON.stringify({ times }));
`;

const PY_SIDE = `
import json, sys, time, warnings
warnings.filterwarnings('ignore')
import torch, torchvision
d, what, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(1)
torch.manual_seed(0)
times = []
def timed(f):
    t0 = time.perf_counter(); f(); times.append((time.perf_counter() - t0) * 1000)
m = torchvision.models.resnet18(num_classes=10)
m.load_state_dict(torch.load(d + '/weights.pt'))
if what in ('aoti', 'eager'):
    f = torch._inductor.aoti_load_package(d + '/aoti.pt2') if what == 'aoti' else m.eval()
    x = torch.randn(4, 3, 224, 224)
    with torch.no_grad():
        for _ in range(2): f(x)
        for _ in range(iters): timed(lambda: f(x))
else:
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(8, 3, 128, 128); y = torch.randint(0, 10, (8,))
    def step():
        opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
    for _ in range(2): step()
    for _ in range(iters): timed(step)
print(json.dumps({'times': times}))
`;

const { median } = require('./common');

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    maxBuffer: 1 << 26,
    timeout: 3600000,
  });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || '').slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function runExportBench(options = {}) {
  const log = options.log ?? ((m) => process.stderr.write(m));
  const iters = options.iters ?? 10;
  const rounds = options.rounds ?? 3;
  const compiler = ['c++', 'g++', 'clang++'].find((c) => !spawnSync(c, ['--version']).error);
  if (!compiler) return { skipped: "no C++ compiler for Python's AOTInductor export step" };
  const { python, version } = require('../test/helpers/python').findPython();
  const cache = process.env.TORCH_NODE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'torch-node');
  const dir = path.join(
    cache,
    'bench-export',
    crypto
      .createHash('sha256')
      .update(version + PREPARE)
      .digest('hex')
      .slice(0, 16),
  );
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bench-export-'));
  const files = { prepare: path.join(tmp, 'prepare.py'), node: path.join(tmp, 'side.js'), py: path.join(tmp, 'side.py') };
  fs.writeFileSync(files.prepare, PREPARE);
  fs.writeFileSync(files.node, NODE_SIDE);
  fs.writeFileSync(files.py, PY_SIDE);
  try {
    log(`  export: preparing ResNet-18 exports and the AOTInductor package in ${dir} (minutes, once)…\n`);
    run(python, [files.prepare, dir], 'the Python export');
    // Each side runs in `rounds` fresh processes, node and Python alternating, and the timed calls
    // of all rounds are pooled: one process's memory placement moves a run by +-5% (the same kernels
    // on both sides), more than the difference measured.
    const side = (impl, what) => {
      log(`  export ${what}: ${impl}…\n`);
      const r =
        impl === 'node'
          ? run(process.execPath, [files.node, dir, what, String(iters)], `node ${what}`)
          : run(python, [files.py, dir, what, String(iters)], `python ${what}`);
      return r.times;
    };
    const pairs = [
      ['aoti', 'node', 'aoti'],
      ['aoti', 'python', 'aoti'],
      ['eager', 'python', 'eager'],
      ['epInfer', 'node', 'epInfer'],
      ['epTrain', 'node', 'epTrain'],
      ['train', 'python', 'train'],
    ];
    const times = {};
    for (let round = 0; round < rounds; round++) {
      for (const [key, impl, what] of pairs) (times[`${key}:${impl}`] ??= []).push(...side(impl, what));
    }
    const stat = (k) => ({ median: median(times[k]), times: times[k] });
    const eager = stat('eager:python');
    const rows = [];
    rows.push({
      key: 'aoti',
      label: 'ResNet-18 inference b4x224, aotiLoadPackage vs Python aoti_load_package',
      node: stat('aoti:node'),
      python: stat('aoti:python'),
      eager,
      goal: 1.0,
    });
    rows.push({
      key: 'epInfer',
      label: 'ResNet-18 inference b4x224, torch.export.load().module() vs Python eager',
      node: stat('epInfer:node'),
      python: eager,
      goal: 1.05,
    });
    rows.push({
      key: 'epTrain',
      label: 'ResNet-18 fine-tune step b8x128, exported train module vs Python eager',
      node: stat('epTrain:node'),
      python: stat('train:python'),
      goal: 1.05,
    });
    for (const r of rows) {
      r.ratio = r.node.median / r.python.median;
      r.verdict = r.ratio <= r.goal ? 'PASS' : 'MISS';
    }
    return { iters, rounds, rows };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function formatExportBench(res) {
  if (res.skipped) return `export: skipped (${res.skipped})`;
  const lines = [
    `torch.export / AOTInductor, ResNet-18 on CPU, 1 thread, median of ${res.rounds} x ${res.iters} timed calls (node and Python processes alternating):`,
  ];
  for (const r of res.rows) {
    const eager = r.eager ? ` (Python eager ${r.eager.median.toFixed(1)} ms)` : '';
    lines.push(
      `  ${r.label}: node ${r.node.median.toFixed(1)} ms, python ${r.python.median.toFixed(1)} ms${eager}, ${r.ratio.toFixed(2)}x (target <= ${r.goal}x) ${r.verdict}`,
    );
  }
  return lines.join('\n');
}

module.exports = { runExportBench, formatExportBench };

if (require.main === module) {
  const args = process.argv.slice(2);
  const iters = args.includes('--iters') ? Number(args[args.indexOf('--iters') + 1]) : 10;
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3;
  try {
    const res = runExportBench({ iters, rounds });
    if (args.includes('--json')) console.log(JSON.stringify(res, null, 2));
    else console.log(formatExportBench(res));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
