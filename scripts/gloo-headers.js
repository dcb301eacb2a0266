'use strict';
// gloo's headers for torch.distributed's Gloo backend (binding/distributed.cc). libtorch_cpu.so has
// gloo compiled in and exports ProcessGroupGloo, but the torch wheel ships no gloo headers, and
// ProcessGroupGloo.hpp needs them. They come from Debian's libgloo-dev (headers only; nothing of it
// is linked), pinned by version and sha256, downloaded once with `apt-get download` (no install) and
// unpacked with dpkg-deb into the torch-node cache. Where that is impossible (no apt, no network) the
// addon is built without the Gloo backend and torch.distributed.isAvailable() says why.
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const { cacheDir } = require('./libtorch');

const GLOO_DEB_VERSION = '0.0~git20220518.5b14351-3';
const GLOO_DEB_SHA256 = { x64: '80529c9fd8af452faf489e686b94bf87075965c40673803810c4f41634b1e299' };

function glooDir() {
  return path.join(cacheDir(), `gloo-headers-${GLOO_DEB_VERSION.replace(/[^A-Za-z0-9.-]/g, '_')}`);
}

/** { include } when the headers are (or could be put) in the cache, else { reason }. */
function findGlooHeaders(log = (m) => console.error(m)) {
  if (process.env.TORCH_NODE_GLOO_INCLUDE) {
    const inc = process.env.TORCH_NODE_GLOO_INCLUDE;
    if (fs.existsSync(path.join(inc, 'gloo', 'algorithm.h'))) return { include: inc };
    return { reason: `TORCH_NODE_GLOO_INCLUDE=${inc} has no gloo/algorithm.h` };
  }
  const dir = glooDir();
  const include = path.join(dir, 'usr', 'include');
  if (fs.existsSync(path.join(include, 'gloo', 'algorithm.h'))) return { include };
  if (process.platform !== 'linux') return { reason: `the Gloo backend is built on Linux only (this is ${process.platform})` };
  const expected = GLOO_DEB_SHA256[process.arch];
  if (!expected) return { reason: `no pinned libgloo-dev for ${process.arch}` };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-gloo-'));
  try {
    const download = () => spawnSync('apt-get', ['download', `libgloo-dev=${GLOO_DEB_VERSION}`], { cwd: tmp, encoding: 'utf8' });
    let r = download();
    if (r.status !== 0 && typeof process.getuid === 'function' && process.getuid() === 0) {
      log('torch-node: apt-get download libgloo-dev failed; running apt-get update once and retrying');
      spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      r = download();
    }
    if (r.error || r.status !== 0) {
      return {
        reason: `could not download Debian's libgloo-dev ${GLOO_DEB_VERSION} (gloo's headers): ${(r.error ? r.error.message : r.stderr || '').trim().split('\n').pop()}`,
      };
    }
    const deb = fs.readdirSync(tmp).find((f) => f.endsWith('.deb'));
    const sha = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(tmp, deb)))
      .digest('hex');
    if (sha !== expected) return { reason: `libgloo-dev ${GLOO_DEB_VERSION} has sha256 ${sha}, expected ${expected}` };
    const staging = `${dir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    const x = spawnSync('dpkg-deb', ['-x', path.join(tmp, deb), staging], { encoding: 'utf8' });
    if (x.error || x.status !== 0) return { reason: `dpkg-deb could not unpack libgloo-dev: ${(x.error ? x.error.message : x.stderr).trim()}` };
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
    log(`torch-node: gloo headers from Debian's libgloo-dev ${GLOO_DEB_VERSION} in ${dir}`);
    return { include };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { GLOO_DEB_VERSION, findGlooHeaders, glooDir };

if (require.main === module) {
  const r = findGlooHeaders();
  console.log(r.include ? r.include : `unavailable: ${r.reason}`);
  process.exit(r.include ? 0 : 1);
}
