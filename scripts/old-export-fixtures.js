'use strict';
// The .pt2 archives that torch.export.save wrote in older torch 2.x versions, for
// test/export-old-versions.test.js: for each version below, a venv in torch-node's cache holding
// that torch (created once), in which test/reference/old_export.py exports the test models and
// records that torch's own outputs. The archives and outputs.json land in
//   <cache>/old-torch/torch-<version>/fixtures-<hash of old_export.py>/
// so changing the Python script makes new ones; the venvs stay (node ... --prune removes them and
// keeps the fixtures).
//
//   node scripts/old-export-fixtures.js [2.6.0 2.8.0 ...] [--prune]
//
// What each version writes (torch's _export/serde and export/pt2_archive, as released):
//   2.5.1  the legacy zip (serialized_exported_program.json, serialized_state_dict.pt,
//          serialized_constants.pt, serialized_example_inputs.pt, version) with schema 7.3
//   2.6.0  the same legacy zip with schema 8.2 (2.7 wrote it too, with 8.7)
//   2.8.0  the PT2 archive (<name>/models/model.json, archive_format, ...) with schema 8.8, its
//          weights and constants still pickled whole (data/weights/model.pt, data/constants/model.pt)
//   2.9.1  the PT2 archive with schema 8.14 and raw payloads described by
//          data/weights/model_weights_config.json (one payload per storage), as 2.15 writes
//
// The PyPI wheels for Linux link libtorch_cuda against NVIDIA's CUDA libraries, so `import torch`
// needs them even on a CPU-only machine (tried: torch with --no-deps fails to import). Installed
// here: torch with --no-deps, then its pinned requirements except those it only loads on demand
// (triton, cusolver, nvrtc, nvtx), with --no-compile --no-cache-dir: 60 - 80 s and 4.2 - 5.4 GB per
// version here (the full set: 100 - 135 s, up to 6.7 GB). If that torch then does not import, the
// package of the library it names is added, else the rest of its requirements.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { cacheDir } = require('../common/cache');

const VERSIONS = ['2.5.1', '2.6.0', '2.8.0', '2.9.1'];
const SCRIPT = path.join(__dirname, '..', 'test', 'reference', 'old_export.py');
// Requirements that `import torch` and torch.export do not load on a CPU (libtorch_cuda_linalg and
// libcaffe2_nvrtc are dlopened on first use; triton is the GPU compiler).
const ON_DEMAND = ['triton', 'nvidia-cusolver-cu12', 'nvidia-cuda-nvrtc-cu12', 'nvidia-nvtx-cu12'];
// The package holding a library an ImportError names (when a version does need one of them).
const LIBRARY_PACKAGE = { libcusolver: 'nvidia-cusolver-cu12', libnvrtc: 'nvidia-cuda-nvrtc-cu12', libnvToolsExt: 'nvidia-nvtx-cu12' };

const versionDir = (v) => path.join(cacheDir(), 'old-torch', `torch-${v}`);
const venvPython = (v) => path.join(versionDir(v), 'venv', 'bin', 'python');
const scriptHash = () => crypto.createHash('sha256').update(fs.readFileSync(SCRIPT)).digest('hex').slice(0, 12);
const fixturesDir = (v) => path.join(versionDir(v), `fixtures-${scriptHash()}`);

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 20 * 60 * 1000, maxBuffer: 1 << 26, ...opts });
}
const tail = (r) => `${r.error ? r.error.message + '; ' : ''}${(r.stderr || r.stdout || '').trim().split('\n').pop()}`;

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs fn holding <dir>/.lock (another process making the same version waits; a lock older than 30 min is stale). */
function withLock(dir, fn) {
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, '.lock');
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > 30 * 60 * 1000) fs.rmSync(lock, { recursive: true, force: true });
      else sleep(2000);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** The installed torch version in the version's venv, or null. */
function probe(v) {
  const py = venvPython(v);
  if (!fs.existsSync(py)) return { ok: false, why: 'no venv' };
  const r = run(py, ['-c', 'import torch, torch.export; print(torch.__version__)'], { timeout: 120000 });
  if (r.status === 0 && r.stdout.trim().split('+')[0] === v) return { ok: true };
  return { ok: false, why: tail(r) };
}

/** Creates the venv for torch==v (once). Returns null, or why it could not. */
function ensureVenv(v, log) {
  if (probe(v).ok) return null;
  if (process.env.TORCH_NODE_SKIP_FETCH === '1')
    return `torch==${v} is not installed in ${path.dirname(path.dirname(venvPython(v)))} and TORCH_NODE_SKIP_FETCH=1`;
  const venv = path.join(versionDir(v), 'venv');
  const py = venvPython(v);
  const t0 = Date.now();
  if (!fs.existsSync(py)) {
    const host = ['python3', 'python'].find((p) => run(p, ['--version']).status === 0);
    if (!host) return 'no python3 to create a venv with';
    log(`old-export-fixtures: creating ${venv}`);
    const mk = run(host, ['-m', 'venv', venv]);
    if (mk.status !== 0) {
      fs.rmSync(venv, { recursive: true, force: true });
      return `'${host} -m venv ${venv}' failed: ${tail(mk)}`;
    }
  }
  const pip = (args) => {
    const full = ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '--no-compile', '--no-cache-dir', ...args];
    if (process.env.TORCH_NODE_INDEX_URL) full.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
    log(`old-export-fixtures: pip install ${args.join(' ')}`);
    return run(py, full);
  };
  let r = pip(['--no-deps', `torch==${v}`]);
  if (r.status !== 0) return `pip install torch==${v} failed (is PyPI reachable? TORCH_NODE_INDEX_URL sets another index): ${tail(r)}`;
  // torch's own requirements for this platform, pinned as it declares them, less the on-demand ones.
  const reqs = run(py, [
    '-c',
    'import json, importlib.metadata as m\n' +
      'from pip._vendor.packaging.requirements import Requirement\n' +
      "rs = [Requirement(s) for s in (m.requires('torch') or [])]\n" +
      "print(json.dumps([[r.name, str(r).split(';')[0].strip()] for r in rs if r.marker is None or r.marker.evaluate({'extra': ''})]))",
  ]);
  if (reqs.status !== 0) return `cannot read torch ${v}'s requirements: ${tail(reqs)}`;
  const all = JSON.parse(reqs.stdout);
  const needed = all.filter(([name]) => !ON_DEMAND.includes(name.toLowerCase())).map(([, spec]) => spec);
  r = pip(needed);
  if (r.status !== 0) return `pip install of torch ${v}'s requirements failed: ${tail(r)}`;
  let p = probe(v);
  // A library torch does load: install its package (pinned as torch pins it) and try again; failing
  // that, everything torch requires.
  for (let tries = 0; !p.ok && tries < 3; tries++) {
    const lib = /(lib[A-Za-z_]+)\.so[.\d]*: cannot open shared object file/.exec(p.why)?.[1];
    const spec = lib && all.find(([name]) => name.toLowerCase() === LIBRARY_PACKAGE[lib]);
    if (!spec) break;
    log(`old-export-fixtures: torch ${v} loads ${lib} at import; installing ${spec[1]}`);
    r = pip([spec[1]]);
    if (r.status !== 0) return `pip install ${spec[1]} failed: ${tail(r)}`;
    p = probe(v);
  }
  if (!p.ok) {
    log(`old-export-fixtures: torch ${v} does not import without its on-demand requirements (${p.why}); installing them too`);
    r = pip(all.map(([, spec]) => spec));
    if (r.status !== 0) return `pip install of torch ${v}'s requirements failed: ${tail(r)}`;
    p = probe(v);
    if (!p.ok) return `torch ${v} installed in ${venv} but does not import: ${p.why}`;
  }
  log(`old-export-fixtures: torch ${v} ready in ${venv} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return null;
}

/**
 * The fixtures for torch==v: { version, dir, outputs } (made once), or { version, skip } saying why
 * they could not be made (no network, no python3, ...). options.install === false: only what is
 * there already (no venv is made).
 */
function ensureVersion(v, options = {}) {
  const log = options.log || ((m) => console.error(m));
  const dir = fixturesDir(v);
  const read = () => ({ version: v, dir, outputs: JSON.parse(fs.readFileSync(path.join(dir, 'outputs.json'), 'utf8')) });
  if (fs.existsSync(path.join(dir, 'outputs.json'))) return read();
  return withLock(versionDir(v), () => {
    if (fs.existsSync(path.join(dir, 'outputs.json'))) return read();
    if (options.install === false && !probe(v).ok)
      return { version: v, skip: `torch ${v} is not installed in ${versionDir(v)} (${options.reason || 'install: false'})` };
    const why = ensureVenv(v, log);
    if (why) return { version: v, skip: why };
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    log(`old-export-fixtures: exporting the test models with torch ${v}`);
    const r = run(venvPython(v), [SCRIPT, tmp], { timeout: 10 * 60 * 1000, env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } });
    if (r.status !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      // The venv works (probed above): a failing export is a bug to see, not a reason to skip.
      throw new Error(`old-export-fixtures: ${SCRIPT} failed under torch ${v} (exit ${r.status}):\n${(r.stderr || '').slice(-4000)}`);
    }
    // Older fixture sets (made by an earlier old_export.py) go.
    for (const f of fs.readdirSync(versionDir(v))) {
      if (f.startsWith('fixtures-') && f !== path.basename(tmp)) fs.rmSync(path.join(versionDir(v), f), { recursive: true, force: true });
    }
    fs.renameSync(tmp, dir);
    return read();
  });
}

function ensureFixtures(versions = VERSIONS, options = {}) {
  return versions.map((v) => ensureVersion(v, options));
}

/** Removes the venvs (several GB each), keeping the fixtures they made. */
function prune(versions = VERSIONS) {
  for (const v of versions) fs.rmSync(path.join(versionDir(v), 'venv'), { recursive: true, force: true });
}

module.exports = { VERSIONS, ensureFixtures, ensureVersion, fixturesDir, venvPython, prune };

if (require.main === module) {
  const args = process.argv.slice(2);
  const versions = args.filter((a) => !a.startsWith('--'));
  for (const v of versions) {
    if (!/^2\.\d+\.\d+$/.test(v)) {
      console.error(`old-export-fixtures: '${v}' is not a torch 2.x.y version`);
      process.exit(2);
    }
  }
  const list = versions.length ? versions : VERSIONS;
  if (args.includes('--prune')) {
    prune(list);
  } else {
    const res = ensureFixtures(list);
    console.log(
      JSON.stringify(
        res.map((r) => (r.skip ? { version: r.version, skip: r.skip } : { version: r.version, dir: r.dir })),
        null,
        2,
      ),
    );
    if (res.some((r) => r.skip)) process.exit(1);
  }
}
