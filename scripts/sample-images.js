'use strict';
// Real photographs for tests and the demo, from a registry package: scikit-image's wheel on PyPI
// bundles sample images (skimage/data: chelsea.png a cat, coffee.png a cup of coffee, astronaut.png,
// rocket.jpg, motorcycle_left.png, ...; public domain or CC0, see scikit-image's data/README). The wheel
// is downloaded once with pip (no dependencies, nothing installed) and the images are extracted into
// the torch-node cache. `node scripts/sample-images.js` prints the folder.
const { wheelFiles } = require('./wheels');

const SKIMAGE = '0.26.0';

function sampleImagesDir() {
  return wheelFiles({
    what: 'sample images',
    pkg: 'scikit-image',
    version: SKIMAGE,
    folder: `sample-images-scikit-image-${SKIMAGE}`,
    pattern: 'skimage/data/[^/]+\\.(png|jpg|txt|md)',
  });
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
