'use strict';
// torch-node's cache folder, shared by the install scripts (scripts/: libtorch, headers, wheels) and
// the library (dist/: AOTInductor packages, EfficientNet-Lite0's weights). Plain JavaScript with no
// dependencies, so both can require it: scripts/ runs at `npm install`, before dist/ is built.
const os = require('os');
const path = require('path');

/** $TORCH_NODE_CACHE, else $XDG_CACHE_HOME/torch-node, else ~/.cache/torch-node. */
function cacheDir() {
  if (process.env.TORCH_NODE_CACHE) return path.resolve(process.env.TORCH_NODE_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'torch-node');
}

module.exports = { cacheDir };
