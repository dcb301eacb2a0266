'use strict';
// Real images for the demo: the handwritten digits scikit-learn's wheel on PyPI bundles
// (sklearn/datasets/data/digits.csv.gz: 1,797 scans, 8x8 pixels, 16 grey levels, 10 classes; the UCI
// "Optical Recognition of Handwritten Digits" test set, CC BY 4.0). The wheel is downloaded once with
// pip (no dependencies, nothing installed), the CSV extracted into the torch-node cache, and read here
// without Python: digitsDataset() returns { images: Uint8Array (N*64, values 0..16), labels, n }.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { spawnSync } = require('child_process');
const { cacheDir, findLibtorch } = require('./libtorch');

const SKLEARN = '1.8.0';

function digitsFile() {
  const dir = path.join(cacheDir(), `digits-scikit-learn-${SKLEARN}`);
  const file = path.join(dir, 'digits.csv.gz');
  if (fs.existsSync(file)) return file;
  if (process.env.TORCH_NODE_SKIP_FETCH === '1') throw new Error(`${file} is missing and TORCH_NODE_SKIP_FETCH=1 forbids fetching scikit-learn ${SKLEARN} from PyPI`);
  const python = findLibtorch({ log: () => {} }).python;
  if (!python) throw new Error('digits: no Python with pip found to download scikit-learn from PyPI');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-sklearn-'));
  try {
    const args = ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', `scikit-learn==${SKLEARN}`, '-d', tmp];
    if (process.env.TORCH_NODE_INDEX_URL) args.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
    const r = spawnSync(python, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`digits: pip download scikit-learn==${SKLEARN} failed: ${r.stderr.trim().split('\n').pop()}`);
    const wheel = path.join(tmp, fs.readdirSync(tmp).find((f) => f.endsWith('.whl')));
    fs.mkdirSync(dir, { recursive: true });
    const part = `${file}.part-${process.pid}`;
    const x = spawnSync(python, ['-c', "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('sklearn/datasets/data/digits.csv.gz'))", wheel, part], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`digits: extracting from ${path.basename(wheel)} failed: ${x.stderr}`);
    fs.renameSync(part, file);
    return file;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The 1,797 digits: images (N x 64, row-major 8x8, values 0..16) and labels (0..9). */
function digitsDataset() {
  const rows = zlib.gunzipSync(fs.readFileSync(digitsFile())).toString('utf8').trim().split('\n');
  const n = rows.length;
  const images = new Uint8Array(n * 64);
  const labels = new Int32Array(n);
  rows.forEach((row, i) => {
    const v = row.split(',').map(Number);
    if (v.length !== 65) throw new Error(`digits.csv row ${i} has ${v.length} values, expected 65`);
    for (let k = 0; k < 64; k++) images[i * 64 + k] = v[k];
    labels[i] = v[64];
  });
  return { images, labels, n };
}

module.exports = { digitsFile, digitsDataset, SKLEARN };

if (require.main === module) {
  const d = digitsDataset();
  console.log(`${digitsFile()}: ${d.n} digits`);
}
