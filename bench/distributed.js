#!/usr/bin/env node
'use strict';
// torch.distributed vs Python, 2 ranks on loopback (Gloo), one intra-op thread per rank, each side
// in the same run: an all-reduce of 100 MB (25M float32), and a DistributedDataParallel training
// step of ResNet-18 (10 classes, batch 8 per rank at 128x128, SGD momentum). Times are rank 0's,
// the median over the timed iterations after warm-up. Targets: <= 1.0x Python.
//
//   node bench/distributed.js [--iters 5] [--json]
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');

const NODE_WORKER = `
const torch = require(${JSON.stringify(path.join(root, 'dist'))});
const d = torch.distributed;
const [rank, port, iters, what] = process.argv.slice(2).map((v, i) => (i === 3 ? v : Number(v)));
torch.setNumThreads(1);
d.initProcessGroup({ backend: 'gloo', initMethod: 'tcp://127.0.0.1:' + port, rank, worldSize: 2, timeout: 120000 });
const times = [];
if (what === 'allreduce') {
  const t = torch.ones([25_000_000]);
  d.allReduce(t);
  for (let i = 0; i < iters; i++) {
    t.fill_(1);
    d.barrier();
    const t0 = process.hrtime.bigint();
    d.allReduce(t);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (t.max().item() !== 2) throw new Error('wrong all-reduce result');
} else {
  torch.manualSeed(0);
  const model = new torch.nn.parallel.DistributedDataParallel(torch.vision.models.resnet18({ numClasses: 10 }));
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.randn([8, 3, 128, 128]);
  const y = torch.randint(0, 10, [8]);
  const step = () => torch.tidy(() => {
    opt.zeroGrad();
    torch.nn.functional.crossEntropy(model.call(x), y).backward();
    opt.step();
  });
  step();
  step();
  for (let i = 0; i < iters; i++) {
    d.barrier();
    const t0 = process.hrtime.bigint();
    step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
d.destroyProcessGroup();
console.log(JSON.stringify({ times }));
`;

const PY_WORKER = `
import json, sys, time, torch, torch.distributed as dist, torchvision
rank, port, iters, what = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(1)
dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
times = []
if what == 'allreduce':
    t = torch.ones(25_000_000)
    dist.all_reduce(t)
    for _ in range(iters):
        t.fill_(1)
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(t)
        times.append((time.perf_counter() - t0) * 1000)
    assert t.max().item() == 2
else:
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torchvision.models.resnet18(num_classes=10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(8, 3, 128, 128)
    y = torch.randint(0, 10, (8,))
    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    step(); step()
    for _ in range(iters):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
dist.destroy_process_group()
print(json.dumps({'times': times}))
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function runRank(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`${path.basename(cmd)} rank exited ${code}: ${err.slice(-1500)}`));
      }
    });
  });
}

const { median } = require('./common');

async function runDistributedBench(options = {}) {
  const log = options.log ?? ((m) => process.stderr.write(m));
  const iters = options.iters ?? 5;
  const torch = require(path.join(root, 'dist'));
  if (!torch.distributed.isAvailable()) return { skipped: `torch.distributed unavailable: ${torch.distributed.unavailableReason()}` };
  const { python } = require('../test/helpers/python').findPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bench-dist-'));
  const nodeFile = path.join(dir, 'worker.js');
  const pyFile = path.join(dir, 'worker.py');
  fs.writeFileSync(nodeFile, NODE_WORKER);
  fs.writeFileSync(pyFile, PY_WORKER);
  const rows = [];
  try {
    for (const [key, label] of [
      ['allreduce', 'all-reduce 100 MB, 2 ranks'],
      ['ddp', 'DDP step, ResNet-18 batch 8x128x128 per rank, 2 ranks'],
    ]) {
      const side = async (impl) => {
        log(`  distributed ${key}: ${impl}…\n`);
        const port = await freePort();
        const [cmd, file] = impl === 'node' ? [process.execPath, nodeFile] : [python, pyFile];
        const [r0] = await Promise.all([0, 1].map((rank) => runRank(cmd, [file, String(rank), String(port), String(iters), key])));
        return { median: median(r0.times), times: r0.times };
      };
      const node = await side('node');
      const py = await side('python');
      const ratio = node.median / py.median;
      rows.push({ key, label, node, python: py, ratio, goal: 1.0, verdict: ratio <= 1.0 ? 'PASS' : 'MISS' });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { iters, rows };
}

function formatDistributedBench(res) {
  if (res.skipped) return `distributed: skipped (${res.skipped})`;
  const lines = [`torch.distributed, 2 ranks on loopback (Gloo, 1 thread each), rank 0's median of ${res.iters} timed iterations:`];
  for (const r of res.rows) {
    lines.push(
      `  ${r.label}: node ${r.node.median.toFixed(1)} ms, python ${r.python.median.toFixed(1)} ms, ${r.ratio.toFixed(2)}x (target <= ${r.goal}x) ${r.verdict}`,
    );
  }
  return lines.join('\n');
}

module.exports = { runDistributedBench, formatDistributedBench };

if (require.main === module) {
  const args = process.argv.slice(2);
  const iters = args.includes('--iters') ? Number(args[args.indexOf('--iters') + 1]) : 5;
  runDistributedBench({ iters }).then(
    (res) => {
      if (args.includes('--json')) console.log(JSON.stringify(res, null, 2));
      else console.log(formatDistributedBench(res));
    },
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
