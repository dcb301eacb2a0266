'use strict';
// torch.distributed on c10d's Gloo backend: several Node processes on loopback (test/helpers/
// dist-worker.js), each collective against the values it must give on 2 and 3 ranks; env://,
// tcp:// and file:// rendezvous; a Node rank and a Python rank (init_process_group) in one job; and
// the faults that must be TorchErrors on the surviving rank, never aborts: a dead peer, a missing
// peer, a timeout, a port in use, and (TORCH_DISTRIBUTED_DEBUG=DETAIL) shapes that differ.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const d = torch.distributed;
const worker = path.join(__dirname, 'helpers', 'dist-worker.js');
const skip = d.isAvailable() ? {} : { skip: `torch.distributed unavailable: ${d.unavailableReason()}` };
if (!d.isAvailable()) console.log(`# distributed tests skipped: ${d.unavailableReason()}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs a process to its end (killed after timeoutMs): { code, signal, out, err, json (its last JSON line) }. */
function runProcess(cmd, args, { env = {}, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(out.trim().split('\n').pop());
      } catch {
        /* no JSON: the exit code and stderr say why */
      }
      resolve({ code, signal, out, err, json });
    });
  });
}

/** Runs `scenario` on every rank; resolves with each rank's JSON result (and exit codes). */
function ranks(scenario, world, where, { env = {}, timeoutMs = 20000, only } = {}) {
  const list = only ?? Array.from({ length: world }, (_, r) => r);
  return Promise.all(
    list.map(async (rank) => {
      const r = await runProcess(process.execPath, [worker, scenario, String(rank), String(world), String(where)], {
        env: { OMP_NUM_THREADS: '1', ...(typeof env === 'function' ? env(rank) : env) },
        timeoutMs,
      });
      return { rank, code: r.code, signal: r.signal, result: r.json, stderr: r.err };
    }),
  );
}

const sum = (n, f) => Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0);

for (const world of [2, 3]) {
  test(`every collective on ${world} ranks gives the expected values`, skip, async () => {
    const runs = await ranks('collectives', world, await freePort());
    for (const { rank, code, result, stderr } of runs) {
      assert.equal(code, 0, stderr);
      assert.ok(result && !result.error, JSON.stringify(result) + stderr);
      assert.deepEqual([result.worldSize, result.myRank, result.backend], [world, rank, 'gloo']);
      assert.deepEqual(result.sum, [sum(world, (r) => r + 1), sum(world, (r) => 10 - r), -sum(world, (r) => r)]);
      assert.deepEqual(result.max, [world, 10, 0]);
      assert.deepEqual(result.min, [1, 10 - (world - 1), -(world - 1)]);
      assert.deepEqual(result.product, [[1, 2, 6][world - 1], [10, 90, 720][world - 1], world === 2 ? 0 : 0]);
      assert.deepEqual(result.bor, [world === 2 ? 1 : 3, world === 2 ? 3 : 7]);
      assert.deepEqual(result.avg, [sum(world, (r) => r) / world, sum(world, (r) => 2 * r + 1) / world]);
      assert.deepEqual(result.broadcast, [0, 1, 2, 3, 4]);
      if (rank === 0) assert.deepEqual(result.reduce, [sum(world, (r) => r + 1), sum(world, (r) => r + 1)]);
      assert.deepEqual(
        result.allGather,
        Array.from({ length: world }, (_, r) => [r, r]),
      );
      if (rank === 1)
        assert.deepEqual(
          result.gather,
          Array.from({ length: world }, (_, r) => r * 10),
        );
      assert.deepEqual(result.scatter, [rank * 100, rank * 100]);
      assert.equal(
        result.reduceScatter,
        sum(world, (r) => rank + r),
      );
      if (rank === 1) assert.deepEqual(result.recv, [7, 8]);
      assert.deepEqual(
        result.objects,
        Array.from({ length: world }, (_, r) => [r, `r${r}`, [1, 2.5, null, true]]),
      );
      assert.deepEqual(result.objectList, ['a', 42, [1, 2]]);
      assert.deepEqual(result.async, Array(3).fill(sum(world, (r) => 2 * r)));
      if (rank !== 0) assert.ok(result.asyncTicks > 20, `the event loop turned while the collective waited (${result.asyncTicks} ticks)`);
      assert.deepEqual(result.asyncWait, [world, world]);
      if (rank === 0 || rank === world - 1) assert.deepEqual(result.subgroup, [rank === 0 ? 0 : 1, 2, world - 1]);
      else assert.equal(result.subgroup, null, 'a rank outside new_group gets null');
      assert.equal(result.initializedAfter, false);
    }
  });
}

test('env:// (the launcher variables) and file:// rendezvous', skip, async () => {
  const port = await freePort();
  const env = (rank) => ({ MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: '2' });
  for (const { code, result, stderr } of await ranks('env', 2, 0, { env })) {
    assert.equal(code, 0, stderr);
    assert.equal(result.sum, 3, JSON.stringify(result));
    assert.equal(result.worldSize, 2);
    // Python 2.15's get_backend()/get_backend_config() after init_process_group() without a backend
    // on a machine without an accelerator: 'undefined' and 'cpu:gloo'.
    if (result.cuda) assert.deepEqual([result.backend, result.config], ['gloo', 'cpu:gloo,cuda:gloo']);
    else assert.deepEqual([result.backend, result.config], ['undefined', 'cpu:gloo']);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-dist-')), 'store');
  for (const { code, result, stderr } of await ranks('file', 3, file)) {
    assert.equal(code, 0, stderr);
    assert.equal(result.sum, 6, JSON.stringify(result));
  }
  const r = await ranks('env', 1, 0, { env: { MASTER_ADDR: '', MASTER_PORT: '', RANK: '', WORLD_SIZE: '' } });
  assert.match(r[0].result.error, /env:\/\/ needs the environment variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; launch with `npx torch-node run/);
});

test('a Node rank and a Python rank (init_process_group) run collectives together', skip, async () => {
  const port = await freePort();
  const py = new Promise((resolve) => {
    setImmediate(() => {
      try {
        resolve(
          runPython(
            `
import json, sys, torch, torch.distributed as dist
req = json.load(sys.stdin)
dist.init_process_group('gloo', init_method=f"tcp://127.0.0.1:{req['port']}", rank=1, world_size=2)
t = torch.tensor([2.0, 4.0]); dist.all_reduce(t)
b = torch.tensor([9.0, 8.0, 7.0]); dist.broadcast(b, src=1)
objs = [None, None]; dist.all_gather_object(objs, {'from': 'python', 'rank': 1})
dist.barrier()
print(json.dumps({'sum': t.tolist(), 'objects': [dict(o) for o in objs]}))
dist.destroy_process_group()
`,
            { port },
            { timeout: 30000 },
          ),
        );
      } catch (e) {
        resolve({ error: e.message });
      }
    });
  });
  // runPython is synchronous: start the Node rank first, in its own process.
  const nodeRank = ranks('python', 2, port, { only: [0] });
  const [pyResult, [node]] = await Promise.all([py, nodeRank]);
  assert.equal(node.code, 0, node.stderr);
  assert.deepEqual(node.result.sum, [3, 6], JSON.stringify(node.result));
  assert.deepEqual(pyResult.sum, [3, 6], JSON.stringify(pyResult));
  assert.deepEqual(node.result.broadcast, [9, 8, 7], 'Python rank 1 broadcast to the Node rank');
  assert.deepEqual(node.result.objects, [
    { from: 'node', rank: 0 },
    { from: 'python', rank: 1 },
  ]);
  assert.deepEqual(
    pyResult.objects,
    [
      { from: 'node', rank: 0 },
      { from: 'python', rank: 1 },
    ],
    'Python unpickles what Node pickled',
  );
});

test('faults are TorchErrors naming the rank: a dead peer, a missing peer', skip, async () => {
  const [dead0] = await ranks('deadPeer', 2, await freePort());
  assert.equal(dead0.code, 0, dead0.stderr);
  assert.equal(dead0.result.code, 'ERR_TORCH_DIST', JSON.stringify(dead0.result));
  assert.match(dead0.result.error, /^allReduce\(\) on rank 0 of 2: /);
  assert.ok(dead0.result.ms < 8000, `within the 5 s timeout and some slack (${dead0.result.ms} ms)`);
  assert.equal(dead0.result.stillUsable, 2, 'the surviving process goes on');

  const [alone] = await ranks('alone', 2, await freePort(), { only: [0] });
  assert.equal(alone.code, 0, alone.stderr);
  assert.match(alone.result.error, /initProcessGroup\(\) on rank 0 of 2: could not host the store on 127\.0\.0\.1:\d+/);
  assert.ok(alone.result.ms < 5000, `the 1.5 s timeout holds (${alone.result.ms} ms)`);
  assert.equal(alone.result.initialized, false);
});

test('faults are TorchErrors naming the rank: a timeout, a port in use', skip, async () => {
  const [late0] = await ranks('timeout', 2, await freePort());
  assert.equal(late0.result.code, 'ERR_TORCH_DIST', JSON.stringify(late0.result));
  assert.match(late0.result.error, /allReduce\(\) on rank 0 of 2: .*(timeout|Timed out|timed out)/i);
  assert.ok(late0.result.ms < 4000, `${late0.result.ms} ms`);

  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const busy = blocker.address().port;
  try {
    const [r] = await ranks('alone', 2, busy, { only: [0] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.result.error, /could not host the store on 127\.0\.0\.1:\d+: .*(address already in use|EADDRINUSE|bind)/i, JSON.stringify(r.result));
  } finally {
    blocker.close();
  }
});

test('TORCH_DISTRIBUTED_DEBUG=DETAIL: collectives whose shapes differ are an error on every rank, not an abort', skip, async () => {
  const runs = await ranks('mismatch', 2, await freePort(), { env: { TORCH_DISTRIBUTED_DEBUG: 'DETAIL' } });
  for (const { rank, code, result, stderr } of runs) {
    assert.equal(code, 0, `rank ${rank} exited ${code}: ${stderr}`);
    assert.equal(result.code, 'ERR_TORCH_DIST', JSON.stringify(result));
    assert.match(result.error, /allReduce\(\) on rank \d of 2: .*(shape|size|mismatch|Detected)/i);
    assert.equal(result.usable, 2);
  }
});

test('DistributedDataParallel on 2 ranks: the weights of one process on the full batch after 20 SGD steps; noSync keeps gradients local', skip, async () => {
  const runs = await ranks('ddp', 2, await freePort(), { timeoutMs: 60000 });
  for (const { code, result, stderr } of runs) {
    assert.equal(code, 0, stderr);
    assert.ok(result && !result.error, JSON.stringify(result) + stderr);
    assert.ok(result.maxDiff < 1e-5, `max |ddp - full batch| = ${result.maxDiff} (tolerance 1e-5, float32)`);
    assert.equal(result.localsDiffer, true);
    assert.deepEqual(result.keys, ['module.0.weight', 'module.0.bias', 'module.2.weight', 'module.2.bias'], "PyTorch's module. prefix");
  }
});

test('DDP with a BatchNorm model: a Node rank and a Python rank train together and each equals a Python-only 2-rank run', skip, async () => {
  const { findPython } = require('./helpers/python');
  const { python } = findPython();
  const script = path.join(__dirname, 'reference', 'ddp_rank.py');
  const steps = 20;
  const pyRank = async (rank, port) => {
    const r = await runProcess(python, [script, String(rank), '2', String(port), String(steps)], { env: { OMP_NUM_THREADS: '1' } });
    return r.json ?? { error: `python rank ${rank} exited ${r.code}: ${r.err.slice(-2000)}` };
  };
  const portA = await freePort();
  const [py0, py1] = await Promise.all([pyRank(0, portA), pyRank(1, portA)]);
  assert.ok(py0.losses && py1.losses, JSON.stringify([py0.error, py1.error]));
  const portB = await freePort();
  const [[node0], mixed1] = await Promise.all([ranks('ddpBn', 2, portB, { only: [0], timeoutMs: 60000, env: { DDP_STEPS: String(steps) } }), pyRank(1, portB)]);
  assert.equal(node0.code, 0, node0.stderr);
  assert.ok(node0.result.losses, JSON.stringify(node0.result) + node0.stderr);
  assert.ok(mixed1.losses, mixed1.error);
  close(node0.result.losses, py0.losses, 1e-5, 'Node rank 0 losses vs the Python-only run');
  close(mixed1.losses, py1.losses, 1e-5, 'Python rank 1 beside Node vs the Python-only run');
  for (const [k, w] of Object.entries(py0.weights)) close(node0.result.weights[k], w, 1e-5, k);
});

function close(a, b, tol, msg) {
  assert.equal(a.length, b.length, msg);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol * (1 + Math.abs(b[i])), `${msg} [${i}]: ${x} vs ${b[i]}`));
}

test('fit() on a DDP model: the same averaged logs on every rank, a stop on one rank stops all, rank 0 prints and saves', skip, async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-fit-')), 'best.pt');
  const runs = await ranks('fit', 2, await freePort(), { timeoutMs: 60000, env: { CKPT_FILE: file } });
  const [r0, r1] = runs.map((r) => {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.result && !r.result.error, JSON.stringify(r.result) + r.stderr);
    return r.result;
  });
  assert.equal(r0.epochsRun, 3, 'rank 1 asked to stop after epoch 3; rank 0 stopped with it');
  assert.equal(r1.epochsRun, 3);
  assert.deepEqual(r0.loss, r1.loss, 'epoch losses are averaged over the ranks: the same on both');
  assert.equal(r0.printedLines, 3, 'rank 0 prints one line per epoch');
  assert.equal(r1.printedLines, 0, 'rank 1 prints nothing');
  assert.equal(r0.saved, 3);
  assert.equal(r1.saved, 0, 'only rank 0 writes checkpoints');
  const sd = torch.load(file);
  assert.ok(sd.has('module.0.weight'), "the DDP model's state dict, module. keys as PyTorch's");
  torch.dispose(sd);
});

test("launchers: `torchrun --no-python node script.js` (the agent's store) and `torch-node run`", skip, async () => {
  const { findPython } = require('./helpers/python');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-launch-'));
  const script = path.join(dir, 'train.js');
  fs.writeFileSync(
    script,
    `const torch = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
const d = torch.distributed;
d.initProcessGroup({ backend: 'gloo', timeout: 20000 });
const t = torch.full([2], d.getRank() + 1, { dtype: 'float32' });
d.allReduce(t);
console.log(JSON.stringify({ rank: d.getRank(), worldSize: d.getWorldSize(), sum: t.tolist(), agent: process.env.TORCHELASTIC_USE_AGENT_STORE || null }));
d.destroyProcessGroup();
`,
  );
  const collect = async (cmd, args) => {
    const r = await runProcess(cmd, args);
    const lines = r.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    return { code: r.code, lines: lines.sort((a, b) => a.rank - b.rank), err: r.err };
  };
  const tr = await collect(findPython().python, [
    '-m',
    'torch.distributed.run',
    '--nproc-per-node=2',
    `--master-port=${await freePort()}`,
    '--no-python',
    process.execPath,
    script,
  ]);
  assert.equal(tr.code, 0, tr.err.slice(-2000));
  assert.deepEqual(
    tr.lines,
    [0, 1].map((rank) => ({ rank, worldSize: 2, sum: [3, 3], agent: 'True' })),
  );
  const own = await collect(process.execPath, [path.join(__dirname, '..', 'bin', 'torch-node.js'), 'run', '--nproc-per-node', '3', script]);
  assert.equal(own.code, 0, own.err.slice(-2000));
  assert.deepEqual(
    own.lines,
    [0, 1, 2].map((rank) => ({ rank, worldSize: 3, sum: [6, 6], agent: null })),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('argument checks name what was wrong; no group: a clear error', () => {
  assert.throws(() => d.allReduce(torch.ones([2])), /the default process group has not been initialized; call torch\.distributed\.initProcessGroup\(\) first/);
  assert.throws(() => d.initProcessGroup({ backend: 'mpi' }), /argument 'backend' must be 'gloo', 'nccl' or 'device:backend' pairs/);
  assert.throws(() => d.initProcessGroup({ backend: 'cpu:nccl' }), /NCCL serves CUDA tensors only; use 'cpu:gloo'/);
  assert.throws(() => d.initProcessGroup({ backend: 'cpu:gloo,cpu:gloo' }), /each device once/);
  assert.throws(() => d.initProcessGroup({ initMethod: 'tcp://127.0.0.1:1' }), /tcp:\/\/ needs rank and worldSize/);
  assert.throws(() => d.initProcessGroup({ bogus: 1 }), /unknown option 'bogus'/);
  assert.throws(() => new d.TCPStore('127.0.0.1', 70000), /argument 'port' must be an integer from 0 to 65535/);
});

test('NCCL: isNcclAvailable() says why not; a backend that cannot run is a clear error, never a fallback', () => {
  const fsLib = require('fs');
  const { ncclLibraryPath } = require('../dist/binding');
  if (d.isNcclAvailable()) {
    assert.equal(d.unavailableReason('nccl'), null);
    assert.match(d.ncclVersion(), /^\d+\.\d+\.\d+/);
    return;
  }
  const reason = d.unavailableReason('nccl');
  assert.equal(typeof reason, 'string');
  assert.equal(d.ncclVersion(), null);
  if (fsLib.existsSync(ncclLibraryPath())) {
    // The NCCL library was built here (scripts/cuda-headers.js found the headers); no device to run it.
    if (!torch.cuda.isAvailable()) assert.match(reason, /^CUDA is not available: /);
  } else {
    assert.match(reason, /^this build of torch-node has no NCCL backend: /);
  }
  const store = new d.TCPStore('127.0.0.1', 0, { isMaster: true, worldSize: 1, timeout: 2000 });
  for (const backend of ['nccl', 'cpu:gloo,cuda:nccl']) {
    assert.throws(
      () => d.initProcessGroup({ backend, store, rank: 0, worldSize: 1 }),
      (e) => {
        assert.equal(e.code, 'ERR_TORCH_DIST_UNAVAILABLE');
        assert.ok(e.message.includes(reason), e.message);
        return true;
      },
    );
  }
  assert.equal(d.isInitialized(), false);
  store.close();
});

test(
  'NCCL collectives beside Gloo in one group, and DDP on CUDA (one process per device)',
  skip.skip ? skip : d.isNcclAvailable() ? {} : { skip: `NCCL unavailable: ${d.unavailableReason('nccl')}` },
  async () => {
    const world = Math.min(2, torch.cuda.deviceCount());
    const runs = await ranks('nccl', world, await freePort(), { timeoutMs: 120000 });
    const sum = (f) => Array.from({ length: world }, (_, r) => f(r)).reduce((a, b) => a + b, 0);
    for (const { rank, code, result, stderr } of runs) {
      assert.equal(code, 0, stderr);
      assert.ok(result && !result.error, JSON.stringify(result) + stderr.slice(-2000));
      assert.deepEqual([result.backend, result.config, result.device], ['cpu:gloo,cuda:nccl', 'cpu:gloo,cuda:nccl', rank]);
      assert.deepEqual(result.allReduce, [sum((r) => r + 1), sum((r) => 2 * (r + 1))]);
      assert.deepEqual(result.broadcast, [0, 1, 2, 3]);
      assert.deepEqual(
        result.allGather,
        Array.from({ length: world }, (_, r) => [r, r]),
      );
      assert.equal(
        result.reduceScatter,
        sum((r) => r + rank),
      );
      assert.equal(
        result.cpuAllReduce,
        sum((r) => r + 1),
      );
      assert.equal(result.paramDevice, `cuda:${rank}`);
      assert.ok(result.ddpMaxDiff < 1e-5, `DDP on NCCL vs one process on the full batch: ${result.ddpMaxDiff}`);
    }
  },
);

for (const world of [2, 3]) {
  test(
    `SyncBatchNorm under DDP on ${world} ranks equals BatchNorm on the full batch (outputs, input gradients, weights, running statistics)`,
    skip,
    async () => {
      const runs = await ranks('syncbn', world, await freePort(), { timeoutMs: 60000 });
      for (const { code, result, stderr } of runs) {
        assert.equal(code, 0, stderr);
        assert.ok(result && !result.error, JSON.stringify(result) + stderr.slice(-2000));
        assert.deepEqual(result.types, ['SyncBatchNorm', 'SyncBatchNorm']);
        assert.deepEqual(result.bufferNames, [
          '1.running_mean',
          '1.running_var',
          '1.num_batches_tracked',
          '5.running_mean',
          '5.running_var',
          '5.num_batches_tracked',
        ]);
        // float32 over 6 SGD steps with momentum; the two-pass statistics differ from one process's in rounding only.
        for (const k of ['maxOut', 'maxGradIn', 'maxParam', 'maxBuffer', 'evalDiff']) assert.ok(result[k] < 2e-5, `${k} = ${result[k]}`);
      }
    },
  );
}

test('TCPStore and PrefixStore: set, get, add, wait, check, deleteKey', skip, () => {
  const master = new d.TCPStore('127.0.0.1', 0, { isMaster: true, worldSize: 1, timeout: 2000 });
  const client = new d.TCPStore('127.0.0.1', master.port, { timeout: 2000 });
  master.set('k', 'v1');
  assert.equal(Buffer.from(client.get('k')).toString(), 'v1');
  assert.equal(client.add('n', 2), 2);
  assert.equal(master.add('n', 3), 5);
  const p = new d.PrefixStore('job', client);
  p.set('x', new Uint8Array([1, 2, 3]));
  assert.deepEqual([...master.get('job/x')], [1, 2, 3]);
  assert.equal(master.check(['k', 'job/x']), true);
  assert.equal(master.deleteKey('k'), true);
  assert.equal(master.check(['k']), false);
  const t0 = Date.now();
  assert.throws(
    () => client.wait(['never'], 300),
    (e) => e.code === 'ERR_TORCH_DIST' && /Store\.wait\(\[never\]\)/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 2000);
  for (const s of [p, client, master]) s.close();
  assert.throws(() => master.get('k'), /the store was closed/);
});
