'use strict';
// nn.DataParallel. Without CUDA it is the module under `module.` (PyTorch's behaviour there). The
// scatter / replicate / gather path is checked here over CPU "devices" (an internal option; on a
// GPU machine test/cuda.test.js runs it on CUDA devices): outputs and gradients equal the module's on
// the whole batch, BatchNorm statistics come from the first chunk only (as PyTorch's), nested
// inputs and outputs split and join, replicas have no parameters of their own.
const test = require('node:test');
const assert = require('node:assert');
const torch = require('../dist');

const nn = torch.nn;
const maxDiff = (a, b) => a.sub(b).abs().max().item();

test(
  'without CUDA, DataParallel is the module under module. (PyTorch: device_ids = [])',
  { skip: torch.cuda.isAvailable() ? 'CUDA is available: DataParallel splits over its devices here (test/cuda.test.js)' : false },
  () =>
    torch.tidy(() => {
      const m = new nn.Linear(3, 2);
      const dp = new nn.DataParallel(m);
      assert.deepEqual(dp.deviceIds, []);
      assert.deepEqual([...dp.stateDict().keys()], ['module.weight', 'module.bias']);
      const x = torch.randn([4, 3]);
      assert.equal(maxDiff(dp.call(x), m.call(x)), 0);
    }),
);

test('scatter, replicate, gather: outputs and gradients equal the module on the whole batch', () =>
  torch.tidy(() => {
    torch.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(5, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const ref = new nn.Sequential(new nn.Linear(5, 8), new nn.ReLU(), new nn.Linear(8, 3));
    torch.noGrad(() => ref.parameters().forEach((p, i) => p.copy_(model.parameters()[i])));
    const dp = new nn.DataParallel(model, { _devices: ['cpu', 'cpu', 'cpu'] });
    const x = torch.randn([7, 5]); // chunks of 3, 3, 1
    const y = dp.call(x);
    const ry = ref.call(x);
    assert.deepEqual(y.shape, [7, 3]);
    assert.ok(maxDiff(y, ry) < 1e-6);
    y.square().mean().backward();
    ry.square().mean().backward();
    for (const [i, p] of model.parameters().entries()) {
      assert.ok(p.grad, 'gradients reach the original parameters');
      assert.ok(maxDiff(p.grad, ref.parameters()[i].grad) < 1e-6, `parameter ${i}`);
    }
    // Under noGrad the replicas get detached copies.
    const z = torch.noGrad(() => dp.call(x));
    assert.equal(z.requiresGrad, false);
    assert.ok(maxDiff(z, ry) < 1e-6);
    // A batch of 2 over 3 devices: 2 replicas (Python's zip of the chunks).
    assert.deepEqual(dp.call(torch.randn([2, 5])).shape, [2, 3]);
  }));

test('BatchNorm in replicas: normalized per chunk, running statistics from the first chunk (as PyTorch)', () =>
  torch.tidy(() => {
    torch.manualSeed(1);
    const bn = new nn.BatchNorm1d(4);
    const dp = new nn.DataParallel(bn, { _devices: ['cpu', 'cpu'] });
    const x = torch.randn([6, 4]);
    const y = dp.call(x);
    const [a, b] = x.chunk(2);
    const plain = new nn.BatchNorm1d(4);
    assert.ok(maxDiff(y.narrow(0, 0, 3), plain.call(a)) < 1e-6);
    assert.ok(maxDiff(y.narrow(0, 3, 3), new nn.BatchNorm1d(4).call(b)) < 1e-6);
    assert.ok(maxDiff(bn.runningMean, plain.runningMean) < 1e-7, "the module's statistics are the first chunk's");
    assert.equal(bn.numBatchesTracked.item(), 1n);
  }));

test('nested inputs and outputs: arrays, objects and non-tensors scatter and gather; replicas own no parameters', () =>
  torch.tidy(() => {
    class Two extends nn.Module {
      constructor() {
        super();
        this.lin = new nn.Linear(2, 2);
      }
      forward(pair, opts) {
        if (opts.number) return 1;
        return { sum: this.lin.call(pair[0]).add(pair[1]).mul(opts.scale), own: torch.tensor([this.parameters().length]), parts: [pair[0].sum(1)], none: null };
      }
    }
    const m = new Two();
    const dp = new nn.DataParallel(m, { _devices: ['cpu', 'cpu'] });
    const a = torch.randn([4, 2]);
    const b = torch.randn([4, 2]);
    const out = dp.call([a, b], { scale: 3 });
    assert.ok(maxDiff(out.sum, m.lin.call(a).add(b).mul(3)) < 1e-6, 'a non-tensor argument reaches every replica');
    assert.ok(maxDiff(out.parts[0], a.sum(1)) < 1e-6);
    assert.equal(out.none, null);
    assert.deepEqual(out.own.tolist().map(Number), [0, 0], "replicas have no parameters of their own (PyTorch's _replicate_for_data_parallel)");
    // Python's gather cannot rebuild a number either (int(map(...)) is a TypeError).
    assert.throws(() => dp.call([a, b], { number: true }), { name: 'TorchError', message: /cannot gather a number output from the replicas/ });
    assert.deepEqual([...dp.stateDict().keys()], ['module.lin.weight', 'module.lin.bias']);
  }));
