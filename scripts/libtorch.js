'use strict';
// Finds libtorch for building and loading torch-node, in this order:
//   1. the LIBTORCH environment variable (a libtorch folder: lib/, include/),
//   2. an installed Python `torch` (TORCH_NODE_PYTHON, python3, python),
//   3. the pinned `torch` wheel from PyPI, installed into a per-user cache (a venv that also serves
//      as the Python reference for the golden tests), reused next time.
// Every step records what it tried, so a failure can say exactly what happened and what to do.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
// Shared with the library (dist/), which must not require scripts/.
const { cacheDir } = require('../common/cache');
const { headerVersion } = require('../common/libtorch-version');

const PINNED_TORCH = '2.15.0';
// libtorch versions torch-node has been built and tested against (major.minor).
const TESTED = ['2.15'];
// What the golden tests need besides torch in the reference Python: torchvision's architectures
// (0.29.2 is the newest on PyPI; it declares torch>=2.14 and its models run on 2.15), numpy, and
// expecttest (PyTorch's OpInfo database, the inputs of test/generated-ops.test.js, imports it).
const REFERENCE_PACKAGES = ['numpy', 'torchvision==0.29.2', 'pillow', 'expecttest==0.3.0'];

function pinnedVenvDir() {
  return path.join(cacheDir(), `python-torch-${PINNED_TORCH}`);
}

/** Checks that `root` looks like a libtorch folder; returns a description or throws with the reason. */
function describeRoot(root, source) {
  const libDir = path.join(root, 'lib');
  const need = ['libtorch_cpu.so', 'libc10.so'];
  for (const f of need) {
    if (!fs.existsSync(path.join(libDir, f))) {
      throw new Error(`${root} has no lib/${f}: not a libtorch folder`);
    }
  }
  if (!fs.existsSync(path.join(root, 'include', 'ATen', 'ATen.h'))) {
    throw new Error(`${root} has no include/ATen/ATen.h: libtorch headers are missing`);
  }
  const version = headerVersion(root);
  if (!version) throw new Error(`${root}: cannot read TORCH_VERSION from its headers`);
  if (!version.startsWith('2.')) {
    throw new Error(`${root} is libtorch ${version}; torch-node needs libtorch 2.x (pinned ${PINNED_TORCH})`);
  }
  // The wheels since 2.7 use the C++11 ABI; an old pre-cxx11 libtorch zip does not.
  const c10 = fs.readFileSync(path.join(libDir, 'libc10.so'));
  const cxx11abi = c10.includes('St7__cxx11') ? 1 : 0;
  const hasCuda = fs.existsSync(path.join(libDir, 'libtorch_cuda.so'));
  return { root, libDir, version, cxx11abi, hasCuda, source, tested: TESTED.includes(version.split('.').slice(0, 2).join('.')) };
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout || 120000, ...opts });
}

/** Asks a Python interpreter where its torch lives. Returns { root, python } or throws. */
function pythonTorch(python) {
  const r = run(python, ['-c', 'import os, sys, torch; print(os.path.dirname(torch.__file__)); print(sys.executable)']);
  if (r.error) throw new Error(`${python}: ${r.error.code === 'ENOENT' ? 'not found' : r.error.message}`);
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop();
    throw new Error(`${python}: cannot import torch (${last})`);
  }
  const [root, exe] = r.stdout.trim().split('\n');
  return { root, python: exe };
}

function fetchPinned(attempts, log) {
  if (process.env.TORCH_NODE_SKIP_FETCH === '1') {
    attempts.push(`fetch of torch==${PINNED_TORCH}: skipped because TORCH_NODE_SKIP_FETCH=1`);
    return null;
  }
  const venv = pinnedVenvDir();
  const py = path.join(venv, 'bin', 'python');
  if (!fs.existsSync(py)) {
    log(`torch-node: installing torch==${PINNED_TORCH} from PyPI into ${venv} (once per machine; about 4 GB with its CUDA libraries)`);
    fs.mkdirSync(path.dirname(venv), { recursive: true });
    const hostPython = ['python3', 'python'].find((p) => !run(p, ['--version']).error);
    if (!hostPython) {
      attempts.push('fetch: no python3 to create the cache venv with (install python3 and python3-venv)');
      return null;
    }
    const mk = run(hostPython, ['-m', 'venv', venv], { stdio: 'inherit' });
    if (mk.status !== 0) {
      attempts.push(`fetch: '${hostPython} -m venv ${venv}' failed (on Debian: apt-get install python3-venv)`);
      fs.rmSync(venv, { recursive: true, force: true });
      return null;
    }
  }
  const probe = run(py, ['-c', 'import torch, numpy; print(torch.__version__)']);
  if (probe.status !== 0 || !probe.stdout.startsWith(PINNED_TORCH)) {
    const args = ['-m', 'pip', 'install', '--disable-pip-version-check', `torch==${PINNED_TORCH}`, ...REFERENCE_PACKAGES];
    if (process.env.TORCH_NODE_INDEX_URL) args.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
    log(`torch-node: ${py} ${args.join(' ')}`);
    const pip = run(py, args, { stdio: 'inherit', timeout: 60 * 60 * 1000 });
    if (pip.status !== 0) {
      attempts.push(`fetch: pip install torch==${PINNED_TORCH} into ${venv} failed (exit ${pip.status}); is PyPI reachable, or set TORCH_NODE_INDEX_URL?`);
      return null;
    }
  }
  const found = pythonTorch(py);
  return { ...describeRoot(found.root, `torch==${PINNED_TORCH} fetched into ${venv}`), python: found.python };
}

/**
 * Makes sure the cache venv's Python has the reference packages (installs what is missing, once).
 * Only for the venv torch-node created; another Python is left as it is. Returns what is missing.
 */
function ensureReferencePackages(python, log = (m) => console.error(m)) {
  const probe = run(python, ['-c', 'import numpy, torchvision, PIL, expecttest']);
  if (probe.status === 0) return [];
  if (!path.resolve(python).startsWith(cacheDir())) return ['numpy/torchvision/pillow (not installed in ' + python + ')'];
  if (process.env.TORCH_NODE_SKIP_FETCH === '1') return ['numpy/torchvision/pillow (TORCH_NODE_SKIP_FETCH=1)'];
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', ...REFERENCE_PACKAGES];
  if (process.env.TORCH_NODE_INDEX_URL) args.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
  log(`torch-node: ${python} ${args.join(' ')}`);
  const r = run(python, args, { stdio: 'inherit', timeout: 30 * 60 * 1000 });
  return r.status === 0 ? [] : [`pip install ${REFERENCE_PACKAGES.join(' ')} failed (exit ${r.status})`];
}

/**
 * Finds libtorch. options.fetch (default true) allows installing the pinned wheel.
 * Returns a description; throws one Error listing every attempt when nothing works.
 */
function findLibtorch(options = {}) {
  const log = options.log || ((m) => console.error(m));
  const attempts = [];
  if (process.env.LIBTORCH) {
    try {
      return describeRoot(path.resolve(process.env.LIBTORCH), 'LIBTORCH');
    } catch (e) {
      // An explicit LIBTORCH that is wrong is an error, not something to silently step over.
      throw new Error(`LIBTORCH=${process.env.LIBTORCH} cannot be used: ${e.message}`);
    }
  }
  const pythons = [process.env.TORCH_NODE_PYTHON, 'python3', 'python'].filter(Boolean);
  for (const p of pythons) {
    try {
      const found = pythonTorch(p);
      return { ...describeRoot(found.root, `Python torch (${found.python})`), python: found.python };
    } catch (e) {
      attempts.push(`Python torch: ${e.message}`);
    }
  }
  // The cache venv from an earlier fetch counts as an installed Python torch.
  const cached = path.join(pinnedVenvDir(), 'bin', 'python');
  if (fs.existsSync(cached)) {
    try {
      const found = pythonTorch(cached);
      return { ...describeRoot(found.root, `torch==${PINNED_TORCH} cached in ${pinnedVenvDir()}`), python: found.python };
    } catch (e) {
      attempts.push(`cached torch: ${e.message}`);
    }
  }
  if (options.fetch !== false) {
    try {
      const fetched = fetchPinned(attempts, log);
      if (fetched) return fetched;
    } catch (e) {
      attempts.push(`fetch: ${e.message}`);
    }
  }
  const err = new Error(
    'torch-node could not find libtorch. Tried:\n' +
      attempts.map((a) => `  - ${a}`).join('\n') +
      '\nFix one of: set LIBTORCH to a libtorch 2.x folder (with lib/ and include/); ' +
      `'pip install torch==${PINNED_TORCH}'; or allow the fetch (unset TORCH_NODE_SKIP_FETCH).`,
  );
  err.attempts = attempts;
  throw err;
}

module.exports = {
  PINNED_TORCH,
  TESTED,
  REFERENCE_PACKAGES,
  ensureReferencePackages,
  cacheDir,
  pinnedVenvDir,
  headerVersion,
  describeRoot,
  pythonTorch,
  findLibtorch,
};

if (require.main === module) {
  try {
    console.log(JSON.stringify(findLibtorch({ fetch: !process.argv.includes('--no-fetch') }), null, 2));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
