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

let single = null;

test('npm run demo -- --quick', { timeout: 300_000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-demo-'));
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'demo', 'transfer.js'), '--quick', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  console.log(
    r.stdout
      .split('\n')
      .map((l) => `# ${l}`)
      .join('\n'),
  );
  assert.match(r.stdout, /chelsea\.png \(a cat\): (tiger cat|tabby|Egyptian cat) /);
  assert.match(r.stdout, /coffee\.png \(a cup of coffee\): (espresso|cup|coffee mug) /);
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(s.rows.length, 4);
  assert.ok(s.transferBeatsScratch, 'the feature extractor beats training from scratch');
  assert.ok(s.resumeIdentical, 'resuming gives the uninterrupted weights');
  for (const png of s.curves) assert.deepEqual([...fs.readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  single = s;
  fs.rmSync(out, { recursive: true, force: true });
});

test('npm run demo -- --quick --nproc 2: the fine-tune data-parallel (DDP, DistributedSampler) reaches the same accuracy', { timeout: 300_000 }, () => {
  const torch = require('../dist');
  if (!torch.distributed.isAvailable()) {
    console.log(`# skipped: torch.distributed unavailable: ${torch.distributed.unavailableReason()}`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-demo-ddp-'));
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'demo', 'transfer.js'), '--quick', '--nproc', '2', '--out', out], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' }, // as torchrun sets it: one thread per rank
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /data-parallel on 2 processes/);
  assert.equal((r.stdout.match(/^3\. Training/gm) || []).length, 1, 'rank 0 alone prints');
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(s.nproc, 2);
  assert.ok(s.transferBeatsScratch, 'the feature extractor beats training from scratch');
  assert.ok(s.resumeIdentical, 'resuming a data-parallel checkpoint gives the uninterrupted weights');
  // Another shuffle of the same data (the sampler's), the same global batch: the pretrained scenarios'
  // accuracies within 10 points of the single-process run's (2 epochs on 600 digits).
  if (single) {
    for (let i = 0; i < 3; i++) {
      const [a, b] = [s.rows[i].valAccuracy, single.rows[i].valAccuracy];
      assert.ok(Math.abs(a - b) <= 0.1, `${s.rows[i].scenario}: ${a} with 2 processes vs ${b} with one`);
    }
  }
  fs.rmSync(out, { recursive: true, force: true });
});
