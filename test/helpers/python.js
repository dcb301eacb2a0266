'use strict';
// The Python with PyTorch that golden tests and benchmarks compare against: the one recorded at
// build time (build/config.json), else TORCH_NODE_PYTHON, else the pinned cache venv (fetched by
// scripts/libtorch.js if missing). runPython(code, input) runs a script that reads JSON input from
// stdin and prints JSON; it returns the parsed result.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
let cached;

function findPython() {
  if (cached) return cached;
  const tries = [];
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(root, 'build', 'config.json'), 'utf8'));
    if (cfg.python) tries.push(cfg.python);
  } catch {
    /* not built through scripts/install.js */
  }
  if (process.env.TORCH_NODE_PYTHON) tries.unshift(process.env.TORCH_NODE_PYTHON);
  const { pinnedVenvDir, findLibtorch } = require('../../scripts/libtorch');
  tries.push(path.join(pinnedVenvDir(), 'bin', 'python'));
  for (const p of tries) {
    const r = spawnSync(p, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) {
      cached = { python: p, version: r.stdout.trim() };
      ensureReference(p);
      return cached;
    }
  }
  // Nothing yet: fetch the pinned torch into the cache (what `npm install` does on a fresh machine).
  const lt = findLibtorch({ fetch: true });
  if (!lt.python) throw new Error('no Python with torch found for golden tests; tried ' + tries.join(', '));
  cached = { python: lt.python, version: lt.version };
  ensureReference(lt.python);
  return cached;
}

// torchvision and numpy for the reference side (installed into torch-node's cache venv if missing).
function ensureReference(python) {
  const { ensureReferencePackages } = require('../../scripts/libtorch');
  const missing = ensureReferencePackages(python);
  if (missing.length) throw new Error(`the reference Python ${python} lacks: ${missing.join('; ')}`);
}

// The code runs from a temporary file (not -c): torch.jit.script needs the source of the classes it
// compiles.
function runPython(code, input = null, options = {}) {
  const { python } = findPython();
  const os = require('os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-py-'));
  const file = path.join(dir, 'script.py');
  fs.writeFileSync(file, code);
  const r = spawnSync(python, [file], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    timeout: options.timeout || 300000,
    // One thread, always: a fixed summation order for the reference (tests that compare train-mode
    // results call torch.setNumThreads(1) too).
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

module.exports = { findPython, runPython };
