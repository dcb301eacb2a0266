'use strict';
// The version of a libtorch folder, read from its headers: by scripts/libtorch.js when it looks for
// libtorch at install, and by the library's loader (dist/binding.js) to check that the libtorch the
// addon was built against is still the one there. Plain JavaScript: see common/cache.js.
const fs = require('fs');
const path = require('path');

const HEADERS = ['include/torch/headeronly/version.h', 'include/torch/csrc/api/include/torch/version.h'];

/** Reads TORCH_VERSION_{MAJOR,MINOR,PATCH} from the headers of a libtorch folder: '2.15.0', or null. */
function headerVersion(root) {
  for (const rel of HEADERS) {
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const part = (n) => {
      const m = text.match(new RegExp(`#define\\s+TORCH_VERSION_${n}\\s+(\\d+)`));
      return m ? m[1] : null;
    };
    const [ma, mi, pa] = [part('MAJOR'), part('MINOR'), part('PATCH')];
    if (ma !== null && mi !== null && pa !== null) return `${ma}.${mi}.${pa}`;
  }
  return null;
}

module.exports = { headerVersion };
