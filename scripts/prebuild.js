'use strict';
// `npm run prebuild`: builds the addon against the libtorch found (scripts/libtorch.js) and stores it
// as prebuilds/<platform>-<arch>/torch-node.libtorch-<version>.<variant>.napi.node, the layout
// node-gyp-build reads, with the libtorch version and variant in the name so the loader picks by them.
// prebuildify itself is not used: it can only drive node-gyp, and this addon builds with cmake-js;
// the naming and N-API tag are the same as prebuildify's.
// Variant: 'cuda' when that libtorch has libtorch_cuda.so (the binary then uses CUDA where a driver is
// present and still runs on CPU-only machines), else 'cpu'.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibtorch } = require('./libtorch');
const { prebuildName } = require('./prebuilds');

const root = path.resolve(__dirname, '..');
const lt = findLibtorch();
const r = spawnSync(process.execPath, [path.join(__dirname, 'install.js'), '--force-compile'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status || 1);
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
const out = path.join(dir, prebuildName(lt.version, lt.hasCuda ? 'cuda' : 'cpu'));
fs.copyFileSync(path.join(root, 'build', 'Release', 'torch_node.node'), out);
spawnSync('strip', ['--strip-unneeded', out]);
console.log(`torch-node: prebuild ${path.relative(root, out)} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB) for libtorch ${lt.version}`);
