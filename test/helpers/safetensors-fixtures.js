'use strict';
// The safetensors reference (test/reference/safetensors_ref.py) and the files Python writes with it,
// shared by test/safetensors.test.js and test/cli.test.js: safetensorsFixtures(tmp) gives
// { py(input), fixture(), pyFile(name) }, with Python's files written once into tmp/py.
const fs = require('fs');
const path = require('path');
const { runPython } = require('./python');

const REF = fs.readFileSync(path.join(__dirname, '..', 'reference', 'safetensors_ref.py'), 'utf8');

function safetensorsFixtures(tmp) {
  const py = (input) => runPython(REF, input);
  let fixtures;
  /** Python's files in tmp/py (written once): dtypes.safetensors, resnet18.safetensors. */
  const fixture = () => {
    if (!fixtures) {
      fs.mkdirSync(path.join(tmp, 'py'), { recursive: true });
      fixtures = py({ cmd: 'write', dir: path.join(tmp, 'py') });
    }
    return fixtures;
  };
  const pyFile = (name) => path.join(tmp, 'py', name);
  return { py, fixture, pyFile };
}

module.exports = { safetensorsFixtures };
