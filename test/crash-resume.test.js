'use strict';
// Crash-safe resume (CPU): a training process killed with SIGKILL in the middle of an epoch, and
// again in the middle of writing a checkpoint, then resumed from its last checkpoint, ends with
// weights bit-identical to a run that was never interrupted. The half-written checkpoint never
// replaces the good one.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const torch = require('../dist');

const script = path.join(__dirname, 'helpers', 'crash-train.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-crash-'));
const env = { ...process.env, OMP_NUM_THREADS: '1' };
delete env.KILL_AT;

/** Runs the training script; with killOnSave, SIGKILLs it as soon as a checkpoint's temporary file appears. */
function train(dir, { killAt, killOnSave } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir], { env: killAt ? { ...env, KILL_AT: killAt } : env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let tmpSeen = null;
    let exited = false;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal, out, tmpSeen });
    });
    if (killOnSave) {
      const poll = () => {
        if (exited) return;
        const tmp = fs.readdirSync(dir).find((f) => f.startsWith('.last.pt.') && f.endsWith('.tmp'));
        if (tmp) {
          child.kill('SIGKILL');
          tmpSeen = tmp;
          return;
        }
        setImmediate(poll);
      };
      poll();
    }
  });
}

const weights = (file) => torch.tidy(() => [...torch.load(file)].map(([k, v]) => [k, v.reshape(-1).tolist()]));

test('SIGKILL during an epoch and during a save, then resume: bit-identical to the uninterrupted run', { timeout: 300_000 }, async () => {
  const ref = path.join(root, 'ref');
  fs.mkdirSync(ref);
  const r0 = await train(ref);
  assert.equal(r0.code, 0, r0.out);
  const want = weights(path.join(ref, 'final.pt'));

  const dir = path.join(root, 'crash');
  fs.mkdirSync(dir);
  // 1. killed in the middle of epoch 3 (0-based 2): the last checkpoint is the one after epoch 2
  const r1 = await train(dir, { killAt: '2:3' });
  assert.equal(r1.signal, 'SIGKILL', r1.out);
  assert.match(r1.out, /Epoch 2\/6/);
  assert.doesNotMatch(r1.out, /Epoch 3\/6/);
  assert.equal(
    torch.tidy(() => torch.load(path.join(dir, 'last.pt')).get('epoch')),
    2,
  );

  // 2. resumed, then killed while writing the checkpoint after epoch 3
  const r2 = await train(dir, { killOnSave: true });
  assert.equal(r2.signal, 'SIGKILL', r2.out);
  assert.match(r2.out, /resumed at epoch 2/);
  assert.ok(r2.tmpSeen, 'the kill landed while a checkpoint was being written');
  assert.ok(fs.existsSync(path.join(dir, r2.tmpSeen)), 'the process died before the half-written file was renamed');
  const epochAfterKill = torch.tidy(() => torch.load(path.join(dir, 'last.pt')).get('epoch'));
  assert.equal(epochAfterKill, 2, 'last.pt is still the complete checkpoint of epoch 2');

  // 3. resumed again, to the end
  const r3 = await train(dir);
  assert.equal(r3.code, 0, r3.out);
  assert.match(r3.out, /resumed at epoch 2/);
  assert.match(r3.out, /Epoch 6\/6/);
  const got = weights(path.join(dir, 'final.pt'));
  assert.deepEqual(
    got.map(([k]) => k),
    want.map(([k]) => k),
  );
  for (let i = 0; i < want.length; i++) assert.deepEqual(got[i][1], want[i][1], `${want[i][0]}: bit-identical to the uninterrupted run`);
  // and the history in the checkpoint covers all six epochs, as the uninterrupted run's does
  const hist = (d) => torch.tidy(() => Object.fromEntries(torch.load(path.join(d, 'last.pt')).get('history')));
  assert.deepEqual(hist(dir), hist(ref));
  fs.rmSync(root, { recursive: true, force: true });
});
