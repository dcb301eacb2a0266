'use strict';
// `npm test`: compiles lib/ (so edits are tested), checks the addon loads, then runs every
// test/*.test.js with node's test runner. Golden tests need Python PyTorch: test/helpers/python.js
// finds the one recorded at install time (or fetches the pinned torch into the cache).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const step = (args, opts = {}) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status || 1);
};

step([path.join(__dirname, 'build-ts.js')]);
step([
  '-e',
  "const t = require('./dist'); console.log(`torch-node ${t.version}: libtorch ${t.libtorchVersion}; CUDA: ${t.cuda.isAvailable() ? t.cuda.deviceCount() + ' device(s)' : 'off (' + t.cuda.unavailableReason() + ')'}`)",
]);

const only = process.argv.slice(2);
const files = fs
  .readdirSync(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => path.join('test', f));
// One file at a time: the machine has 2 cores and some tests measure memory.
step(['--test', '--test-concurrency=1', ...files], { env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || '2' } });
