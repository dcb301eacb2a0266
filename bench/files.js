'use strict';
// Checkpoint load/save: a ~500 MB float32 state dict (16 tensors of 32 MiB), written by Python's
// torch.save, timed in torch-node and in Python PyTorch on the same machine, each measurement in a
// fresh process, median of `repeat` runs. The files are read once before timing, so the page cache
// holds them: the numbers are the libraries' costs, not the disk's. Saves write to the same
// directory (tmpdir); torch-node's saves are atomic (temp file, fsync, rename) — Python's are not.
//
//   node bench/files.js [--size-mb 512] [--repeat 3] [--json]     (also run by bench/run.js)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runNode(code, env = {}) {
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', ...env },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`node bench child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function runPy(python, code, input) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bench-py-'));
  const file = path.join(dir, 'b.py');
  fs.writeFileSync(file, code);
  const r = spawnSync(python, [file], { input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 26 });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`python bench child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// Each case: a timed operation in a fresh process; `ms` is what it reports.
const NODE = {
  load: `const t=require('./dist'); const f=process.env.F; const t0=process.hrtime.bigint(); const sd=t.load(f); const ms=Number(process.hrtime.bigint()-t0)/1e6; let n=0; for (const v of sd.values()) n+=v.numel(); console.log(JSON.stringify({ms, n}));`,
  // Also times require (as the Python side times import torch) and says whether V8's code cache for
  // dist/ was used (lib/code-cache.ts).
  loadMmap: `const r0=process.hrtime.bigint(); const t=require('./dist'); const importMs=Number(process.hrtime.bigint()-r0)/1e6; const f=process.env.F; const t0=process.hrtime.bigint(); const sd=t.load(f,{mmap:true}); const ms=Number(process.hrtime.bigint()-t0)/1e6; let n=0; for (const v of sd.values()) n+=v.numel(); const cc=require('./dist/code-cache').codeCacheStats; console.log(JSON.stringify({ms, n, importMs, codeCache: cc.mode + ' (' + cc.used + ' modules)'}));`,
  stLoad: `const t=require('./dist'); const f=process.env.ST; const t0=process.hrtime.bigint(); const sd=t.safetensors.loadFile(f,{mmap:false}); const ms=Number(process.hrtime.bigint()-t0)/1e6; console.log(JSON.stringify({ms, n: sd.size}));`,
  stLoadMmap: `const t=require('./dist'); const f=process.env.ST; const t0=process.hrtime.bigint(); const sd=t.safetensors.loadFile(f); const ms=Number(process.hrtime.bigint()-t0)/1e6; console.log(JSON.stringify({ms, n: sd.size}));`,
  save: `const t=require('./dist'); const sd=t.load(process.env.F); const t0=process.hrtime.bigint(); t.save(sd, process.env.OUT); const ms=Number(process.hrtime.bigint()-t0)/1e6; console.log(JSON.stringify({ms}));`,
  saveNoFsync: `const t=require('./dist'); const sd=t.load(process.env.F); const t0=process.hrtime.bigint(); t.save(sd, process.env.OUT, { fsync: false }); const ms=Number(process.hrtime.bigint()-t0)/1e6; console.log(JSON.stringify({ms}));`,
  stSave: `const t=require('./dist'); const sd=t.load(process.env.F); const t0=process.hrtime.bigint(); t.safetensors.saveFile(sd, process.env.OUT); const ms=Number(process.hrtime.bigint()-t0)/1e6; console.log(JSON.stringify({ms}));`,
};

const PY = `
import json, sys, time
t_import = time.perf_counter()
import torch
import_ms = (time.perf_counter() - t_import) * 1000
d = json.load(sys.stdin)
op = d['op']
if op == 'make':
    torch.manual_seed(0)
    n = d['size_mb'] * 2**20 // 4 // 16
    torch.save({f'layer{i}.weight': torch.randn(n) for i in range(16)}, d['f'])
    print(json.dumps({'ms': 0})); sys.exit(0)
t0 = time.perf_counter()
if op == 'load':
    sd = torch.load(d['f'])
elif op == 'loadMmap':
    sd = torch.load(d['f'], mmap=True)
elif op in ('save', 'saveFsync'):
    sd = torch.load(d['f'])
    t0 = time.perf_counter()
    torch.save(sd, d['out'])
    if op == 'saveFsync':
        import os
        fd = os.open(d['out'], os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
ms = (time.perf_counter() - t0) * 1000
print(json.dumps({'ms': ms, 'importMs': import_ms}))
`;

function runFilesBench(options = {}) {
  const sizeMb = options.sizeMb ?? 512;
  const repeat = options.repeat ?? 3;
  const log = options.log ?? ((s) => process.stderr.write(s));
  const { findPython } = require('../test/helpers/python');
  const { python } = findPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bench-files-'));
  const f = path.join(dir, 'state.pt');
  const st = path.join(dir, 'state.safetensors');
  const out = path.join(dir, 'out.bin');
  try {
    log(`files: writing a ${sizeMb} MB state dict with Python…`);
    runPy(python, PY, { op: 'make', f, size_mb: sizeMb });
    runNode(`const t=require('./dist'); t.safetensors.saveFile(t.load(process.env.F), process.env.ST); console.log('{}')`, { F: f, ST: st });
    for (const p of [f, st]) fs.readFileSync(p); // into the page cache
    const samples = {};
    let codeCache = '';
    const add = (k, ms) => (samples[k] ||= []).push(ms);
    for (let r = 0; r < repeat; r++) {
      log(` run ${r + 1}/${repeat}`);
      add('python load', runPy(python, PY, { op: 'load', f }).ms);
      add('node load', runNode(NODE.load, { F: f }).ms);
      const pm = runPy(python, PY, { op: 'loadMmap', f });
      add('python load mmap', pm.ms);
      add('python import torch', pm.importMs);
      const nm = runNode(NODE.loadMmap, { F: f });
      add('node load mmap', nm.ms);
      add('node require', nm.importMs);
      codeCache = nm.codeCache;
      add('node safetensors load', runNode(NODE.stLoad, { ST: st }).ms);
      add('node safetensors load mmap', runNode(NODE.stLoadMmap, { ST: st }).ms);
      add('python save', runPy(python, PY, { op: 'save', f, out }).ms);
      add('python save + fsync', runPy(python, PY, { op: 'saveFsync', f, out }).ms);
      add('node save (atomic, fsync)', runNode(NODE.save, { F: f, OUT: out }).ms);
      add('node save (atomic, fsync: false)', runNode(NODE.saveNoFsync, { F: f, OUT: out }).ms);
      add('node safetensors save (atomic, fsync)', runNode(NODE.stSave, { F: f, OUT: out }).ms);
    }
    log('\n');
    const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    const rows = [
      ['load', med['node load'], med['python load']],
      ['load, mmap', med['node load mmap'], med['python load mmap']],
      ['require / import torch (same processes)', med['node require'], med['python import torch']],
      ['load, safetensors', med['node safetensors load'], med['python load']],
      ['load, safetensors mmap', med['node safetensors load mmap'], med['python load mmap']],
      ['save (torch-node: atomic + fsync)', med['node save (atomic, fsync)'], med['python save']],
      ['save, safetensors (atomic + fsync)', med['node safetensors save (atomic, fsync)'], med['python save']],
      ['save, both durable (python + fsync)', med['node save (atomic, fsync)'], med['python save + fsync']],
      ['save, neither fsynced (torch-node fsync: false)', med['node save (atomic, fsync: false)'], med['python save']],
    ].map(([op, node, py]) => ({ op, nodeMs: node, pythonMs: py, ratio: node / py, goal: node / py <= 1.0 ? 'PASS' : 'MISS' }));
    return { sizeMb, repeat, statistic: 'median ms', cache: 'files in the page cache', codeCache, rows, samples };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function formatFilesBench(res) {
  const lines = [
    `checkpoint load/save: ${res.sizeMb} MB float32 state dict (16 tensors) written by Python's torch.save; median of ${res.repeat} fresh processes; files in the page cache; V8 code cache: ${res.codeCache}`,
    '',
    'op                                   torch-node ms   python ms   node/py   node<=1x py',
    '-----------------------------------  -------------   ---------   -------   -----------',
  ];
  for (const r of res.rows) {
    lines.push(
      `${r.op.padEnd(35)}  ${r.nodeMs.toFixed(1).padStart(13)}   ${r.pythonMs.toFixed(1).padStart(9)}   ${(r.ratio.toFixed(2) + 'x').padStart(7)}   ${r.goal.padStart(11)}`,
    );
  }
  lines.push('', 'safetensors rows compare with Python torch.load of the .pt file (the Python safetensors package is not installed here).');
  return lines.join('\n');
}

module.exports = { runFilesBench, formatFilesBench };

if (require.main === module) {
  const args = process.argv.slice(2);
  const val = (k, d) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
  const res = runFilesBench({ sizeMb: val('--size-mb', 512), repeat: val('--repeat', 3) });
  if (args.includes('--json')) console.log(JSON.stringify(res, null, 2));
  else console.log(formatFilesBench(res));
}
