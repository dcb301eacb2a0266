'use strict';
// `npm run prebuild`: builds the addon against the libtorch found (scripts/libtorch.js) and stores it
// as prebuilds/<platform>-<arch>/torch-node.libtorch-<version>.<variant>.napi.node, the layout
// node-gyp-build reads, with the libtorch version and variant in the name so the loader picks by them.
// prebuildify itself is not used: it can only drive node-gyp, and this addon builds with cmake-js;
// the naming and N-API tag are the same as prebuildify's.
// Variant: 'cuda' when that libtorch has libtorch_cuda.so (the binary then uses CUDA where a driver is
// present and still runs on CPU-only machines), else 'cpu'.
//
// `--reuse <build dir>` packages an addon already compiled there (by `npm install` from source)
// instead of compiling again; it must have been built against the libtorch found now.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibtorch } = require('./libtorch');
const { prebuildName } = require('./prebuilds');

const root = path.resolve(__dirname, '..');
const lt = findLibtorch();
let binary;
const reuse = process.argv.indexOf('--reuse');
if (reuse !== -1) {
  const buildDir = path.resolve(process.argv[reuse + 1] || path.join(root, 'build'));
  let config;
  try {
    config = JSON.parse(fs.readFileSync(path.join(buildDir, 'config.json'), 'utf8'));
  } catch (e) {
    console.error(`torch-node: --reuse ${buildDir}: no config.json written by scripts/install.js there (${e.message})`);
    process.exit(1);
  }
  binary = path.join(buildDir, 'Release', 'torch_node.node');
  if (config.binary !== path.join('build', 'Release', 'torch_node.node') || !fs.existsSync(binary)) {
    console.error(
      `torch-node: --reuse ${buildDir}: the addon there was not compiled from source (it uses ${config.binary}); run npm run prebuild without --reuse`,
    );
    process.exit(1);
  }
  if (config.libtorchVersion !== lt.version) {
    console.error(`torch-node: --reuse ${buildDir}: that addon was built against libtorch ${config.libtorchVersion}, but libtorch ${lt.version} is found now`);
    process.exit(1);
  }
} else {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'install.js'), '--force-compile'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
  binary = path.join(root, 'build', 'Release', 'torch_node.node');
}
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
const out = path.join(dir, prebuildName(lt.version, lt.hasCuda ? 'cuda' : 'cpu'));
fs.copyFileSync(binary, out);
spawnSync('strip', ['--strip-unneeded', out]);
// torch.distributed's NCCL backend travels next to it (lib/binding.ts ncclLibraryPath() finds it).
const nccl = path.join(path.dirname(binary), 'torch_node_nccl.so');
if (fs.existsSync(nccl)) {
  const ncclOut = out.replace(/\.napi\.node$/, '.nccl.so');
  fs.copyFileSync(nccl, ncclOut);
  spawnSync('strip', ['--strip-unneeded', ncclOut]);
}
console.log(`torch-node: prebuild ${path.relative(root, out)} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB) for libtorch ${lt.version}`);
