'use strict';
// Real images for the demo: the handwritten digits scikit-learn's wheel on PyPI bundles
// (sklearn/datasets/data/digits.csv.gz: 1,797 scans, 8x8 pixels, 16 grey levels, 10 classes; the UCI
// "Optical Recognition of Handwritten Digits" test set, CC BY 4.0). The wheel is downloaded once with
// pip (no dependencies, nothing installed), the CSV extracted into the torch-node cache, and read here
// without Python: digitsDataset() returns { images: Uint8Array (N*64, values 0..16), labels, n }.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { wheelFiles } = require('./wheels');

const SKLEARN = '1.8.0';

function digitsFile() {
  const dir = wheelFiles({
    what: 'digits',
    pkg: 'scikit-learn',
    version: SKLEARN,
    folder: `digits-scikit-learn-${SKLEARN}`,
    members: { 'sklearn/datasets/data/digits.csv.gz': { file: 'digits.csv.gz' } },
  });
  return path.join(dir, 'digits.csv.gz');
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
