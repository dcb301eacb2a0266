'use strict';
// Real photographs for tests and the demo, from a registry package: scikit-image's wheel on PyPI
// bundles sample images (skimage/data: chelsea.png a cat, coffee.png a cup of coffee, astronaut.png,
// rocket.jpg, motorcycle_left.png, ...; public domain or CC0, see scikit-image's data/README). The wheel
// is downloaded once with pip (no dependencies, nothing installed) and the images are extracted into
// the torch-node cache. `node scripts/sample-images.js` prints the folder.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { cacheDir, findLibtorch } = require('./libtorch');

const SKIMAGE = '0.26.0';

function sampleImagesDir() {
  const dir = path.join(cacheDir(), `sample-images-scikit-image-${SKIMAGE}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  if (process.env.TORCH_NODE_SKIP_FETCH === '1') {
    throw new Error(`sample images not in ${dir} and TORCH_NODE_SKIP_FETCH=1 forbids fetching scikit-image ${SKIMAGE} from PyPI`);
  }
  const python = findLibtorch({ log: () => {} }).python;
  if (!python) throw new Error('sample images: no Python with pip found to download scikit-image from PyPI');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-skimage-'));
  try {
    const args = ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', `scikit-image==${SKIMAGE}`, '-d', tmp];
    if (process.env.TORCH_NODE_INDEX_URL) args.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
    const r = spawnSync(python, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sample images: pip download scikit-image==${SKIMAGE} failed: ${r.stderr.trim().split('\n').pop()}`);
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    const part = `${dir}.part-${process.pid}`;
    const x = spawnSync(
      python,
      ['-c', `import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.startswith('skimage/data/') and n.rsplit('.', 1)[-1] in ('png', 'jpg', 'txt', 'md'):
        with open(os.path.join(sys.argv[2], os.path.basename(n)), 'wb') as f:
            f.write(z.read(n))`, path.join(tmp, wheel), (fs.mkdirSync(part, { recursive: true }), part)],
      { encoding: 'utf8' },
    );
    if (x.status !== 0) throw new Error(`sample images: extracting ${wheel} failed: ${x.stderr}`);
    fs.writeFileSync(path.join(part, '.complete'), `${wheel}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(part, dir);
    return dir;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { sampleImagesDir, SKIMAGE };

if (require.main === module) {
  try {
    console.log(sampleImagesDir());
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
