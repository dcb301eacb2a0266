'use strict';
// Prebuilt binaries live in prebuilds/<platform>-<arch>/ and are named by the libtorch version they
// were built against and their variant, e.g. torch-node.libtorch-2.15.0.cuda.napi.node. node-gyp-build
// ignores tags it does not know, so the choice by libtorch version is ours (here and in lib/binding.ts).
const fs = require('fs');
const path = require('path');
const { parseTags } = require('node-gyp-build');

function prebuildName(libtorchVersion, variant) {
  return `torch-node.libtorch-${libtorchVersion}.${variant}.napi.node`;
}

/** Lists prebuilds for this platform: [{ file, libtorchVersion, variant }]. */
function listPrebuilds(root) {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((f) => {
      const m = f.match(/^torch-node\.libtorch-(\d+\.\d+\.\d+)\.(cpu|cuda)\.napi\.node$/);
      // node-gyp-build's own tag parser must agree that this is an N-API build.
      if (!m || !parseTags(f)?.napi) return null;
      return { file: path.join(dir, f), libtorchVersion: m[1], variant: m[2] };
    })
    .filter(Boolean);
}

/** The prebuild for this libtorch, or { note } saying why none fits. A cuda build runs on CPU too. */
function findPrebuild(root, lt) {
  const all = listPrebuilds(root);
  if (!all.length) return { note: null };
  const same = all.filter((p) => p.libtorchVersion === lt.version);
  if (!same.length) {
    return { note: `prebuilds are for libtorch ${[...new Set(all.map((p) => p.libtorchVersion))].join(', ')}, not ${lt.version}` };
  }
  const pick = same.find((p) => p.variant === (lt.hasCuda ? 'cuda' : 'cpu')) || same[0];
  return { file: pick.file };
}

module.exports = { prebuildName, listPrebuilds, findPrebuild };
