'use strict';
// `npm publish` runs this first (prepublishOnly): a package without a prebuild for the pinned
// libtorch would make every user compile the addon, so publishing stops until `npm run prebuild`
// has made one (and dist/ is built).
const fs = require('fs');
const path = require('path');
const { PINNED_TORCH } = require('./libtorch');
const { listPrebuilds } = require('./prebuilds');

const root = path.resolve(__dirname, '..');
const problems = [];
const pre = listPrebuilds(root).filter((p) => p.libtorchVersion === PINNED_TORCH);
if (!pre.length) problems.push(`no prebuild for libtorch ${PINNED_TORCH} in prebuilds/${process.platform}-${process.arch}/: run npm run prebuild`);
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) problems.push('dist/ is not built: run npm run build:ts');
if (problems.length) {
  console.error(`npm publish stopped:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.error(`prebuilds for libtorch ${PINNED_TORCH}: ${pre.map((p) => path.basename(p.file)).join(', ')}`);
