'use strict';
// The headers binding/nccl/ (torch.distributed's NCCL backend, an optional library) compiles with:
// ProcessGroupNCCL.hpp includes cuda_runtime.h (whose crt/ folder it needs too) and nccl.h. Nothing of
// CUDA is linked into the addon itself. Looked for, in order:
//   1. TORCH_NODE_CUDA_INCLUDE (folders separated by ':'),
//   2. the nvidia-* wheels next to a Python torch (nvidia/cu13/include or nvidia/cuda_runtime/include,
//      nvidia/nccl/include) plus a CUDA toolkit's include/ (CUDA_HOME, /usr/local/cuda) for crt/,
//   3. where crt/ is still missing: the nvidia-cuda-crt wheel of the same version as the installed
//      nvidia-cuda-runtime, downloaded once from PyPI with that Python's pip into the torch-node cache
//      (sha256-pinned for the versions torch-node was tested with).
// Returns { includes } or { reason }; on a libtorch without libtorch_cuda.so there is nothing to build.
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const { cacheDir } = require('./libtorch');

// nvidia-cuda-crt wheels checked here: version -> sha256 (the runtime torch 2.15.0's wheel pulls).
const CRT_SHA256 = {
  '13.2.86': 'e3ab08801bf9b1e6dc979275d25e816bb5000521b648e19c324d5eef0c79f1da',
};

const has = (dir, rel) => fs.existsSync(path.join(dir, rel));

function toolkitIncludes() {
  return [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda']
    .filter(Boolean)
    .map((d) => path.join(d, 'include'))
    .filter((d) => has(d, 'cuda_runtime.h'));
}

/** The nvidia-cuda-runtime version installed next to torch (site-packages), or null. */
function runtimeVersion(site) {
  if (!fs.existsSync(site)) return null;
  const info = fs.readdirSync(site).find((f) => /^nvidia_cuda_runtime(_cu\d+)?-[\d.]+\.dist-info$/.test(f));
  return info ? info.match(/-([\d.]+)\.dist-info$/)[1] : null;
}

function fetchCrt(python, version, log) {
  const dir = path.join(cacheDir(), `cuda-crt-${version}`);
  const include = path.join(dir, 'include');
  if (has(include, 'crt/host_config.h')) return { include };
  if (process.env.TORCH_NODE_SKIP_FETCH === '1')
    return { reason: `crt/ headers missing and TORCH_NODE_SKIP_FETCH=1 (nvidia-cuda-crt==${version} not fetched)` };
  if (!python) return { reason: 'crt/ headers missing (set CUDA_HOME to a CUDA toolkit, or TORCH_NODE_CUDA_INCLUDE)' };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-crt-'));
  try {
    log(`torch-node: fetching nvidia-cuda-crt==${version} (CUDA's crt/ headers, for the NCCL backend) from PyPI`);
    const r = spawnSync(python, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '-d', tmp, `nvidia-cuda-crt==${version}`], {
      encoding: 'utf8',
      timeout: 300000,
    });
    if (r.error || r.status !== 0) {
      return { reason: `could not download nvidia-cuda-crt==${version}: ${(r.error ? r.error.message : r.stderr || '').trim().split('\n').pop()}` };
    }
    const whl = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    const sha = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(tmp, whl)))
      .digest('hex');
    if (CRT_SHA256[version] && sha !== CRT_SHA256[version]) return { reason: `${whl} has sha256 ${sha}, expected ${CRT_SHA256[version]}` };
    if (!CRT_SHA256[version]) log(`torch-node: nvidia-cuda-crt ${version} is not one torch-node pinned (sha256 ${sha})`);
    const unpacked = path.join(tmp, 'x');
    const x = spawnSync(python, ['-m', 'zipfile', '-e', path.join(tmp, whl), unpacked], { encoding: 'utf8' });
    if (x.error || x.status !== 0) return { reason: `could not unpack ${whl}: ${(x.error ? x.error.message : x.stderr).trim()}` };
    const nv = path.join(unpacked, 'nvidia');
    const found = fs
      .readdirSync(nv)
      .map((d) => path.join(nv, d, 'include'))
      .find((d) => has(d, 'crt/host_config.h'));
    if (!found) return { reason: `${whl} has no include/crt/host_config.h` };
    const staging = `${dir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    fs.renameSync(found, path.join(staging, 'include'));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
    return { include };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** { includes: [...] } for building binding/nccl/ against libtorch `lt` (scripts/libtorch.js), or { reason }. */
function findCudaHeaders(lt, log = (m) => console.error(m)) {
  if (!lt.hasCuda) return { reason: `libtorch at ${lt.root} is a CPU-only build (no libtorch_cuda.so)` };
  if (process.env.TORCH_NODE_CUDA_INCLUDE) {
    const includes = process.env.TORCH_NODE_CUDA_INCLUDE.split(':').filter(Boolean);
    for (const h of ['cuda_runtime.h', 'crt/host_config.h', 'nccl.h']) {
      if (!includes.some((d) => has(d, h))) return { reason: `TORCH_NODE_CUDA_INCLUDE=${process.env.TORCH_NODE_CUDA_INCLUDE} has no ${h}` };
    }
    return { includes };
  }
  const site = path.dirname(lt.root);
  const nv = path.join(site, 'nvidia');
  const wheelIncludes = fs.existsSync(nv)
    ? fs
        .readdirSync(nv)
        .map((d) => path.join(nv, d, 'include'))
        .filter((d) => has(d, 'cuda_runtime.h') || has(d, 'nccl.h'))
    : [];
  const includes = [...wheelIncludes, ...toolkitIncludes()];
  if (!includes.some((d) => has(d, 'cuda_runtime.h'))) return { reason: `no cuda_runtime.h next to ${lt.root} or in a CUDA toolkit (CUDA_HOME)` };
  if (!includes.some((d) => has(d, 'nccl.h'))) return { reason: `no nccl.h (the nvidia-nccl wheel) next to ${lt.root}` };
  if (!includes.some((d) => has(d, 'crt/host_config.h'))) {
    const version = runtimeVersion(site);
    if (!version) return { reason: `CUDA's crt/ headers are missing and no nvidia-cuda-runtime wheel is next to ${lt.root} to match a crt wheel to` };
    const crt = fetchCrt(lt.python, version, log);
    if (!crt.include) return crt;
    // crt/ must be found from cuda_runtime.h's folder's search path: any -I works (it is <crt/...>-relative).
    includes.push(crt.include);
  }
  return { includes };
}

module.exports = { findCudaHeaders, CRT_SHA256 };

if (require.main === module) {
  const { findLibtorch } = require('./libtorch');
  const r = findCudaHeaders(findLibtorch());
  console.log(r.includes ? r.includes.join('\n') : `unavailable: ${r.reason}`);
  process.exit(r.includes ? 0 : 1);
}
