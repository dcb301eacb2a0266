'use strict';
// npm run demo -- --quick, as a user runs it on a fresh clone: the pretrained EfficientNet-Lite0 names
// the photos, every scenario trains, transfer beats training from scratch on the same budget, the
// learning-curve PNGs exist and are PNGs, and resuming a checkpoint gives bit-identical weights.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

test('npm run demo -- --quick', { timeout: 300_000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-demo-'));
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'demo', 'transfer.js'), '--quick', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  console.log(r.stdout.split('\n').map((l) => `# ${l}`).join('\n'));
  assert.match(r.stdout, /chelsea\.png \(a cat\): (tiger cat|tabby|Egyptian cat) /);
  assert.match(r.stdout, /coffee\.png \(a cup of coffee\): (espresso|cup|coffee mug) /);
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(s.rows.length, 4);
  assert.ok(s.transferBeatsScratch, 'the feature extractor beats training from scratch');
  assert.ok(s.resumeIdentical, 'resuming gives the uninterrupted weights');
  for (const png of s.curves) assert.deepEqual([...fs.readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  fs.rmSync(out, { recursive: true, force: true });
});
