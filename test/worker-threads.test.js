'use strict';
// The addon in several worker_threads at once: each thread has its own tensor table (its tensors,
// its liveTensors), results as on the main thread; a worker terminated in the middle of a
// forwardAsync (the forward still running on libuv's pool) ends cleanly, and the main thread and a
// new worker go on unaffected.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { Worker } = require('worker_threads');
const torch = require('../dist');

const DIST = path.join(__dirname, '..', 'dist');

function runWorker(code, workerData) {
  const w = new Worker(`const torch = require(${JSON.stringify(DIST)}); const { parentPort, workerData } = require('worker_threads');\n${code}`, {
    eval: true,
    workerData,
  });
  const done = new Promise((resolve, reject) => {
    const out = [];
    w.on('message', (m) => out.push(m));
    w.on('error', reject);
    w.on('exit', (code) => resolve({ code, messages: out }));
  });
  return { worker: w, done };
}

test("four workers at once, each with its own tensors, give the main thread's results", async () => {
  const code = `
const [x, w] = torch.tidy(() => [
  torch.arange(64 * 32, { dtype: 'float32' }).reshape([64, 32]).mul(0.01 * (workerData + 1)).sin(),
  torch.arange(32 * 8, { dtype: 'float32' }).reshape([32, 8]).cos(),
]);
const y = torch.tidy(() => x.matmul(w).relu().sum(0));
parentPort.postMessage({ y: Array.from(y.toTypedArray()), live: torch.memory().liveTensors });
`;
  const runs = [0, 1, 2, 3].map((seed) => runWorker(code, seed));
  const before = torch.memory().liveTensors;
  const results = await Promise.all(runs.map((r) => r.done));
  results.forEach(({ code: exit, messages }, seed) => {
    assert.equal(exit, 0);
    const [{ y, live }] = messages;
    assert.equal(live, 3, "a worker's liveTensors counts its own tensors only (x, w, y)");
    torch.tidy(() => {
      const x = torch
        .arange(64 * 32, { dtype: 'float32' })
        .reshape([64, 32])
        .mul(0.01 * (seed + 1))
        .sin();
      const w = torch
        .arange(32 * 8, { dtype: 'float32' })
        .reshape([32, 8])
        .cos();
      assert.deepEqual(y, Array.from(x.matmul(w).relu().sum(0).toTypedArray()), `worker ${seed}`);
    });
  });
  assert.equal(torch.memory().liveTensors, before, "the workers' tensors are not the main thread's");
});

test('a worker terminated during forwardAsync ends cleanly; the main thread and a new worker go on', async () => {
  const code = `
const layers = [];
for (let i = 0; i < 8; i++) layers.push(new torch.nn.Linear(1024, 1024), new torch.nn.ReLU());
const model = torch.jit.trace(new torch.nn.Sequential(...layers), [torch.zeros([8, 1024])]);
const x = torch.randn([2048, 1024]);
parentPort.postMessage('started');
model.forwardAsync(x).then((y) => parentPort.postMessage('finished ' + y.shape));
`;
  const { worker, done } = runWorker(code, 0);
  await new Promise((resolve) => worker.once('message', resolve)); // the forward is queued
  await new Promise((resolve) => setTimeout(resolve, 50));
  await worker.terminate();
  const { messages } = await done;
  assert.ok(!messages.includes('finished'), 'terminated before the forward finished');
  // The main thread is unaffected, and a fresh worker runs.
  torch.tidy(() => assert.equal(torch.ones([3]).mul(2).sum().item(), 6));
  const again = runWorker('parentPort.postMessage(torch.tidy(() => torch.arange(5).sum().item()));', 0);
  const r = await again.done;
  assert.deepEqual([r.code, r.messages], [0, [10]]);
});
