'use strict';
// One rank of a torch.distributed test (test/distributed.test.js starts several). argv: scenario,
// rank, world size, port (or a file path for file://). Prints one JSON line: what the scenario saw,
// or { error, code } when it threw. OMP_NUM_THREADS=1 is set by the parent.
const torch = require('../../dist');
const d = torch.distributed;

const [scenario, rankArg, worldArg, where] = process.argv.slice(2);
const rank = Number(rankArg);
const ws = Number(worldArg);
const f32 = (v, shape) => torch.full(shape, v, { dtype: 'float32' });
const init = (extra = {}) => d.initProcessGroup({ backend: 'gloo', initMethod: `tcp://127.0.0.1:${where}`, rank, worldSize: ws, timeout: 5000, ...extra });

const scenarios = {
  async collectives() {
    init();
    const out = { rank, worldSize: d.getWorldSize(), myRank: d.getRank(), backend: d.getBackend() };
    for (const [name, op] of Object.entries({ sum: d.ReduceOp.SUM, max: d.ReduceOp.MAX, min: d.ReduceOp.MIN, product: d.ReduceOp.PRODUCT })) {
      const t = torch.tensor([rank + 1, 10 - rank, -rank], { dtype: 'float32' });
      d.allReduce(t, { op });
      out[name] = t.tolist();
    }
    const ints = torch.tensor([rank, 1 << rank], { dtype: 'int64' });
    d.allReduce(ints, { op: d.ReduceOp.BOR });
    out.bor = ints.tolist().map(Number);
    const avg = torch.tensor([rank, 2 * rank + 1], { dtype: 'float32' });
    d.allReduce(avg, { op: d.ReduceOp.AVG });
    out.avg = avg.tolist();
    const b = rank === ws - 1 ? torch.arange(5).float() : torch.zeros([5]);
    d.broadcast(b, { src: ws - 1 });
    out.broadcast = b.tolist();
    const r = f32(rank + 1, [2]);
    d.reduce(r, { dst: 0 });
    if (rank === 0) out.reduce = r.tolist();
    const list = Array.from({ length: ws }, () => torch.zeros([2]));
    d.allGather(list, f32(rank, [2]));
    out.allGather = list.map((x) => x.tolist());
    const gl = rank === 1 ? Array.from({ length: ws }, () => torch.zeros([1])) : null;
    d.gather(f32(rank * 10, [1]), { gatherList: gl, dst: 1 });
    if (gl) out.gather = gl.map((x) => x.item());
    const sc = torch.zeros([2]);
    d.scatter(sc, { scatterList: rank === 0 ? Array.from({ length: ws }, (_, i) => f32(i * 100, [2])) : null, src: 0 });
    out.scatter = sc.tolist();
    const rs = torch.zeros([1]);
    d.reduceScatter(
      rs,
      Array.from({ length: ws }, (_, i) => f32(i + rank, [1])),
    );
    out.reduceScatter = rs.item();
    if (rank === 0) d.send(torch.tensor([7, 8], { dtype: 'float32' }), 1);
    if (rank === 1) {
      const x = torch.zeros([2]);
      d.recv(x, 0);
      out.recv = x.tolist();
    }
    const objs = new Array(ws);
    d.allGatherObject(objs, { rank, tag: `r${rank}`, xs: [1, 2.5, null, true] });
    out.objects = objs.map((m) => [m.get('rank'), m.get('tag'), m.get('xs')]);
    const bl = rank === 0 ? ['a', 42, new Map([['k', [1, 2]]])] : [null, null, null];
    d.broadcastObjectList(bl, { src: 0 });
    out.objectList = [bl[0], bl[1], bl[2].get('k')];
    d.barrier();
    // asyncOp: the event loop turns while the collective waits on the pool
    const x = f32(2 * rank, [3]);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 1);
    const slow = rank === 0 ? new Promise((res) => setTimeout(res, 200)) : Promise.resolve();
    await slow;
    const w = d.allReduce(x, { asyncOp: true });
    await w;
    clearInterval(iv);
    out.async = x.tolist();
    out.asyncTicks = ticks;
    const y = f32(1, [2]);
    d.allReduce(y, { asyncOp: true }).wait();
    out.asyncWait = y.tolist();
    // a subgroup of ranks 0 and the last
    const g = d.newGroup([0, ws - 1]);
    if (g) {
      const z = f32(rank, [1]);
      d.allReduce(z, { group: g });
      out.subgroup = [g.rank, g.size, z.item()];
    } else out.subgroup = null;
    d.destroyProcessGroup();
    out.initializedAfter = d.isInitialized();
    return out;
  },
  async env() {
    // No backend: PyTorch's default, Gloo for CPU tensors where no CUDA device is (NCCL, CUDA only,
    // where one is: there this CPU scenario names gloo, as a Python script would have to).
    const cuda = torch.cuda.isAvailable();
    d.initProcessGroup({ timeout: 5000, ...(cuda ? { backend: 'gloo' } : {}) });
    const t = f32(rank + 1, [1]);
    d.allReduce(t);
    return { rank: d.getRank(), worldSize: d.getWorldSize(), sum: t.item(), backend: d.getBackend(), config: d.getBackendConfig(), cuda };
  },
  async file() {
    d.initProcessGroup({ backend: 'gloo', initMethod: `file://${where}`, rank, worldSize: ws, timeout: 5000 });
    const t = f32(rank + 1, [1]);
    d.allReduce(t);
    return { sum: t.item() };
  },
  async python() {
    // with a Python rank (test/distributed.test.js): same layout as init_process_group
    init({ timeout: 10000 });
    const t = torch.tensor([rank + 1, 2 * (rank + 1)], { dtype: 'float32' });
    d.allReduce(t);
    const b = torch.zeros([3]);
    d.broadcast(b, { src: 1 });
    const objs = new Array(ws);
    d.allGatherObject(objs, { from: 'node', rank });
    d.barrier();
    return { sum: t.tolist(), broadcast: b.tolist(), objects: objs.map((o) => (o instanceof Map ? Object.fromEntries(o) : o)) };
  },
  async deadPeer() {
    init();
    if (rank === 1) process.exit(0); // dies before the collective
    const t = f32(1, [4]);
    const t0 = Date.now();
    try {
      d.allReduce(t);
      return { error: 'no error' };
    } catch (e) {
      return { error: e.message, code: e.code, ms: Date.now() - t0, stillUsable: torch.ones([2]).sum().item() };
    }
  },
  async timeout() {
    init({ timeout: 1500 });
    const t = f32(1, [4]);
    if (rank === 1) {
      await new Promise((res) => setTimeout(res, 4000)); // late: rank 0 times out
      return { late: true };
    }
    const t0 = Date.now();
    try {
      d.allReduce(t);
      return { error: 'no error' };
    } catch (e) {
      return { error: e.message, code: e.code, ms: Date.now() - t0 };
    }
  },
  async ddp() {
    // DDP on shards == one process on the full batch (no BatchNorm): every rank starts from its own
    // random init; DDP broadcasts rank 0's; the local reference starts from the same weights.
    init();
    const nn = torch.nn;
    const make = () => new nn.Sequential(new nn.Linear(10, 32), new nn.ReLU(), new nn.Linear(32, 1));
    torch.manualSeed(1000 + rank);
    const model = make();
    const ddp = new nn.parallel.DistributedDataParallel(model);
    const ref = make();
    torch.noGrad(() => ref.parameters().forEach((p, i) => p.copy_(model.parameters()[i])));
    const opt = new torch.optim.SGD(ddp.parameters(), { lr: 0.1 });
    const ropt = new torch.optim.SGD(ref.parameters(), { lr: 0.1 });
    const shard = (r, step) => {
      const x = torch
        .arange(16 * 10, { dtype: 'float32' })
        .reshape([16, 10])
        .mul(0.01 * (step + 1))
        .add(r)
        .sin();
      return [x, x.sum(1, true).sin()];
    };
    const steps = 20;
    for (let s = 0; s < steps; s++) {
      torch.tidy(() => {
        const [x, y] = shard(rank, s);
        opt.zeroGrad();
        torch.nn.functional.mseLoss(ddp.call(x), y).backward();
        opt.step();
        const xs = [];
        const ys = [];
        for (let r = 0; r < ws; r++) {
          const [a, b] = shard(r, s);
          xs.push(a);
          ys.push(b);
        }
        ropt.zeroGrad();
        torch.nn.functional.mseLoss(ref.call(torch.cat(xs)), torch.cat(ys)).backward();
        ropt.step();
      });
    }
    const maxDiff = Math.max(...model.parameters().map((p, i) => p.sub(ref.parameters()[i]).abs().max().item()));
    // noSync: gradients stay local (they differ across ranks); the next synced step averages them.
    const local = torch.tidy(() => {
      ddp.noSync(() => {
        opt.zeroGrad();
        const [x, y] = shard(rank, 99);
        torch.nn.functional.mseLoss(ddp.call(x), y).backward();
      });
      return model.parameters()[0].grad.sum().item();
    });
    const locals = new Array(ws);
    d.allGatherObject(locals, local);
    const keys = [...ddp.stateDict().keys()];
    return { maxDiff, steps, localsDiffer: new Set(locals).size === ws, keys };
  },
  async nccl() {
    // NCCL on CUDA (one process per device, as PyTorch: setDevice(local rank) first), beside Gloo for
    // CPU tensors in one group ('cpu:gloo,cuda:nccl'); then DDP on CUDA against one process on the
    // full batch.
    const count = torch.cuda.deviceCount();
    torch.cuda.setDevice(rank % count);
    const dev = `cuda:${rank % count}`;
    d.initProcessGroup({ backend: 'cpu:gloo,cuda:nccl', initMethod: `tcp://127.0.0.1:${where}`, rank, worldSize: ws, timeout: 20000 });
    const out = { backend: d.getBackend(), config: d.getBackendConfig(), ncclVersion: d.ncclVersion(), device: torch.cuda.currentDevice() };
    const t = torch.tensor([rank + 1, 2 * (rank + 1)], { dtype: 'float32', device: dev });
    d.allReduce(t);
    out.allReduce = t.cpu().tolist();
    const b = rank === 0 ? torch.arange(4, { device: dev }).float() : torch.zeros([4], { device: dev });
    d.broadcast(b, { src: 0 });
    out.broadcast = b.cpu().tolist();
    const parts = Array.from({ length: ws }, () => torch.zeros([2], { device: dev }));
    d.allGather(parts, torch.full([2], rank, { device: dev }));
    out.allGather = parts.map((p) => p.cpu().tolist());
    const rs = torch.zeros([1], { device: dev });
    d.reduceScatter(
      rs,
      Array.from({ length: ws }, (_, i) => torch.full([1], rank + i, { device: dev })),
    );
    out.reduceScatter = rs.cpu().item();
    const w = d.allReduce(torch.ones([3], { device: dev }).mul(rank + 1), { asyncOp: true });
    await w;
    d.barrier();
    const cpu = torch.tensor([rank + 1], { dtype: 'float32' });
    d.allReduce(cpu);
    out.cpuAllReduce = cpu.item();
    const nn = torch.nn;
    torch.manualSeed(7);
    const make = () => new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 1));
    const model = make().to(dev);
    const ddp = new nn.parallel.DistributedDataParallel(model, { deviceIds: [rank % count] });
    const ref = make().to(dev);
    torch.noGrad(() => ref.parameters().forEach((p, i) => p.copy_(model.parameters()[i])));
    const opt = new torch.optim.SGD(ddp.parameters(), { lr: 0.1 });
    const ropt = new torch.optim.SGD(ref.parameters(), { lr: 0.1 });
    const shard = (r, step) => {
      const x = torch
        .arange(8 * 6, { dtype: 'float32', device: dev })
        .reshape([8, 6])
        .mul(0.02 * (step + 1))
        .add(r)
        .sin();
      return [x, x.sum(1, true).cos()];
    };
    for (let step = 0; step < 10; step++) {
      torch.tidy(() => {
        const [x, y] = shard(rank, step);
        opt.zeroGrad();
        nn.functional.mseLoss(ddp.call(x), y).backward();
        opt.step();
        const all = Array.from({ length: ws }, (_, r) => shard(r, step));
        ropt.zeroGrad();
        nn.functional.mseLoss(ref.call(torch.cat(all.map((a) => a[0]))), torch.cat(all.map((a) => a[1]))).backward();
        ropt.step();
      });
    }
    out.ddpMaxDiff = Math.max(...model.parameters().map((p, i) => p.sub(ref.parameters()[i]).abs().max().item()));
    out.paramDevice = model.parameters()[0].device;
    d.destroyProcessGroup();
    return out;
  },
  async syncbn() {
    // SyncBatchNorm under DDP on shards of different sizes == BatchNorm in one process on the full
    // batch: outputs, input gradients, running statistics and weights over several SGD steps.
    init({ timeout: 20000 });
    const nn = torch.nn;
    const make = () =>
      new nn.Sequential(
        new nn.Conv2d(3, 4, 3),
        new nn.BatchNorm2d(4),
        new nn.ReLU(),
        new nn.Flatten(),
        new nn.Linear(4 * 4 * 4, 2),
        new nn.BatchNorm1d(2, { momentum: null }),
      );
    torch.manualSeed(3);
    const model = make();
    const ref = make();
    torch.noGrad(() => ref.parameters().forEach((p, i) => p.copy_(model.parameters()[i])));
    const converted = nn.SyncBatchNorm.convertSyncBatchnorm(model);
    const ddp = new nn.parallel.DistributedDataParallel(converted);
    const opt = new torch.optim.SGD(ddp.parameters(), { lr: 0.05, momentum: 0.9 });
    const ropt = new torch.optim.SGD(ref.parameters(), { lr: 0.05, momentum: 0.9 });
    const n = 3 + rank; // shards of different sizes
    const shard = (r, step) =>
      torch
        .arange((3 + r) * 3 * 6 * 6, { dtype: 'float32' })
        .reshape([3 + r, 3, 6, 6])
        .mul(0.01 * (step + 1))
        .add(r * 0.3)
        .sin();
    const out = { types: [...converted.modules()].map((m) => m.constructor.name).filter((c) => /Norm/.test(c)) };
    let maxOut = 0;
    let maxGradIn = 0;
    const steps = 6;
    const offset = Array.from({ length: rank }, (_, r) => 3 + r).reduce((a, b) => a + b, 0);
    const total = Array.from({ length: ws }, (_, r) => 3 + r).reduce((a, b) => a + b, 0);
    for (let step = 0; step < steps; step++) {
      torch.tidy(() => {
        const x = shard(rank, step).requiresGrad_();
        const y = ddp.call(x);
        // Each rank's loss is world size x its share of the full-batch mean: DDP averages the weights'
        // gradients over the ranks, so they equal the full-batch mean's; the input's gradient (every
        // rank's loss reaches every input through the statistics) is world size x the full batch's.
        const loss = y
          .square()
          .sum()
          .mul(ws / total);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        const xs = torch.cat(Array.from({ length: ws }, (_, r) => shard(r, step))).requiresGrad_();
        const ry = ref.call(xs);
        ropt.zeroGrad();
        ry.square().sum().div(total).backward();
        ropt.step();
        maxOut = Math.max(
          maxOut,
          y
            .sub(ry.narrow(0, offset, n))
            .abs()
            .max()
            .item(),
        );
        maxGradIn = Math.max(
          maxGradIn,
          x.grad
            .sub(xs.grad.narrow(0, offset, n).mul(ws))
            .abs()
            .max()
            .item(),
        );
      });
    }
    out.maxOut = maxOut;
    out.maxGradIn = maxGradIn;
    out.maxParam = Math.max(...converted.parameters().map((p, i) => p.sub(ref.parameters()[i]).abs().max().item()));
    const bufs = [...converted.namedBuffers()];
    const rbufs = new Map(ref.namedBuffers());
    out.maxBuffer = Math.max(...bufs.map(([k, b]) => b.double().sub(rbufs.get(k).double()).abs().max().item()));
    out.bufferNames = bufs.map(([k]) => k);
    // eval: running statistics, no synchronization (a rank alone may call it).
    converted.eval();
    ref.eval();
    out.evalDiff = torch.noGrad(() =>
      converted
        .call(shard(rank, 0))
        .sub(ref.call(shard(rank, 0)))
        .abs()
        .max()
        .item(),
    );
    d.destroyProcessGroup();
    return out;
  },
  async ddpBn() {
    // The BatchNorm model of test/reference/ddp_rank.py, for a Node rank beside a Python rank.
    init({ timeout: 20000 });
    const nn = torch.nn;
    torch.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(8, 16), new nn.BatchNorm1d(16), new nn.ReLU(), new nn.Linear(16, 1));
    const ddp = new nn.parallel.DistributedDataParallel(model);
    const opt = new torch.optim.SGD(ddp.parameters(), { lr: 0.1, momentum: 0.9 });
    const losses = [];
    const steps = Number(process.env.DDP_STEPS || 20);
    for (let step = 0; step < steps; step++) {
      torch.tidy(() => {
        const x = torch
          .arange(16 * 8, { dtype: 'float32' })
          .reshape([16, 8])
          .mul(0.013 * (step + 1))
          .add(0.7 * rank)
          .sin();
        const y = x.sum(1, true).cos();
        opt.zeroGrad();
        const loss = torch.nn.functional.mseLoss(ddp.call(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      });
    }
    const weights = {};
    for (const [k, v] of ddp.stateDict()) weights[k] = v.double().reshape([-1]).tolist().map(Number);
    return { losses, weights };
  },
  async fit() {
    // fit() on a DDP model: logs averaged over ranks, EarlyStopping stops both together, rank 0 alone
    // prints and writes checkpoints.
    init();
    const nn = torch.nn;
    torch.manualSeed(3);
    const ddp = new nn.parallel.DistributedDataParallel(new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1)));
    const n = 64;
    const x = torch
      .arange(n * 4, { dtype: 'float32' })
      .reshape([n, 4])
      .mul(0.05)
      .sin();
    const y = x.sum(1, true).cos();
    const dataset = new torch.utils.data.TensorDataset(x, y);
    const sampler = new torch.utils.data.DistributedSampler(dataset, { shuffle: true, seed: 1 });
    const loader = new torch.utils.data.DataLoader(dataset, { batchSize: 8, sampler });
    const printed = [];
    const output = { write: (s) => printed.push(s), isTTY: false };
    const ckpt = new torch.utils.ModelCheckpoint(process.env.CKPT_FILE, { monitor: 'loss', weightsOnly: true });
    // rank 1 alone would stop at once (patience 0 on its own whim); the stop is shared
    const stopper = {
      onEpochEnd: (epoch, logs, ctx) => {
        if (rank === 1 && epoch === 2) ctx.stopTraining = true;
      },
    };
    const r = torch.utils.fit(ddp, {
      trainLoader: loader,
      epochs: 8,
      optimizer: new torch.optim.SGD(ddp.parameters(), { lr: 0.05 }),
      lossFn: new nn.MSELoss(),
      callbacks: [stopper, ckpt],
      verbose: 'epoch',
      output,
    });
    return { epochsRun: r.epochsRun, loss: r.history.loss, printedLines: printed.join('').split('\n').filter(Boolean).length, saved: ckpt.saved.length };
  },
  async alone() {
    // rank 0 of 2 with nobody else: the rendezvous times out
    const t0 = Date.now();
    try {
      d.initProcessGroup({ backend: 'gloo', initMethod: `tcp://127.0.0.1:${where}`, rank, worldSize: ws, timeout: 1500 });
      return { error: 'no error' };
    } catch (e) {
      return { error: e.message, code: e.code, ms: Date.now() - t0, initialized: d.isInitialized() };
    }
  },
  async mismatch() {
    // TORCH_DISTRIBUTED_DEBUG=DETAIL: shapes compared across ranks first, an error on both ranks
    init();
    try {
      d.allReduce(f32(1, [rank === 0 ? 3 : 4]));
      return { error: 'no error' };
    } catch (e) {
      return { error: e.message, code: e.code, usable: torch.ones([2]).sum().item() };
    }
  },
};

(async () => {
  let result;
  try {
    result = await scenarios[scenario]();
  } catch (e) {
    result = { error: e.message, code: e.code };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
})();
