'use strict';
// torch.cuda. Two sets of tests, one of which is skipped (with the reason printed, never a silent
// pass): without CUDA, the CPU-only behaviour (why it is off, no-op helpers, clear errors); with
// CUDA, transfers, ops against the CPU results, cross-device errors, memory accounting and seeding.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');

const live = () => torch.memory().liveTensors;
const fileBaseline = live();

const available = torch.cuda.isAvailable();
const reason = torch.cuda.unavailableReason();
const needsCuda = available ? {} : { skip: 'CUDA unavailable: ' + reason };
const needsNoCuda = available ? { skip: 'CUDA is available: the CPU-only behaviour cannot be checked here' } : {};
if (!available) console.log('CUDA tests skipped: ' + reason);

const MiB = 1 << 20;

// ---- always ------------------------------------------------------------------------------------

test('isAvailable() and unavailableReason() agree', () => {
  assert.equal(typeof available, 'boolean');
  if (available) assert.equal(reason, null);
  else {
    assert.equal(typeof reason, 'string');
    assert.ok(reason.trim().length > 0, 'the reason is not empty');
  }
  assert.equal(typeof torch.cuda.deviceCount(), 'number');
  assert.equal(torch.cuda.deviceCount() > 0, available);
});

test('argument checks in torch.cuda name the parameter', () => {
  assert.throws(() => torch.cuda.synchronize(1.5), /cuda\.synchronize\(\): argument 'device' must be an integer, got number 1\.5/);
  assert.throws(() => torch.cuda.memoryAllocated('0'), /cuda\.memoryAllocated\(\): argument 'device' must be an integer, got string "0"/);
  assert.throws(() => torch.cuda.manualSeed(-1), /cuda\.manualSeed\(\): argument 'seed' must be a non-negative integer, got number -1/);
  assert.throws(() => torch.cuda.manualSeedAll(0.5), /cuda\.manualSeedAll\(\): argument 'seed' must be a non-negative integer/);
  assert.throws(() => torch.cuda.manualSeed(-1), torch.TorchError);
});

// ---- without CUDA ------------------------------------------------------------------------------

test('without CUDA: deviceCount() is 0 and memoryAllocated() is 0', needsNoCuda, () => {
  assert.equal(torch.cuda.deviceCount(), 0);
  assert.equal(torch.cuda.memoryAllocated(), 0);
  assert.equal(torch.cuda.memoryAllocated(0), 0);
  assert.equal(torch.memory().cudaBytes, 0);
});

test('without CUDA: emptyCache(), manualSeed() and manualSeedAll() are no-ops', needsNoCuda, () => {
  torch.cuda.emptyCache();
  torch.cuda.manualSeed(123);
  torch.cuda.manualSeedAll(123);
  // ... and leave the CPU generator alone
  torch.manualSeed(5);
  const a = torch.tidy(() => torch.randn(8).tolist());
  torch.manualSeed(5);
  torch.cuda.manualSeed(99);
  const b = torch.tidy(() => torch.randn(8).tolist());
  assert.deepEqual(a, b);
});

test('without CUDA: synchronize() throws ERR_TORCH_NO_CUDA with the reason', needsNoCuda, () => {
  assert.throws(
    () => torch.cuda.synchronize(),
    (e) => {
      assert.ok(e instanceof torch.TorchError);
      assert.equal(e.code, 'ERR_TORCH_NO_CUDA');
      assert.match(e.message, /CUDA is not available/);
      assert.ok(e.message.includes(reason), `names the reason: ${e.message}`);
      return true;
    },
  );
});

test('without CUDA: putting a tensor on cuda throws a TorchError mentioning CUDA', needsNoCuda, () => {
  const base = live();
  torch.tidy(() => {
    const t = torch.ones(2);
    const calls = {
      'cuda()': () => t.cuda(),
      "to('cuda')": () => t.to('cuda'),
      "to({ device: 'cuda:0' })": () => t.to({ device: 'cuda:0' }),
      "zeros({ device: 'cuda' })": () => torch.zeros(2, { device: 'cuda' }),
      "tensor({ device: 'cuda' })": () => torch.tensor([1, 2], { device: 'cuda' }),
    };
    for (const [name, call] of Object.entries(calls)) {
      assert.throws(call, (e) => {
        assert.ok(e instanceof torch.TorchError, `${name}: a TorchError`);
        assert.match(e.message, /cuda/i, `${name}: mentions CUDA`);
        assert.ok(!e.message.includes('Exception raised from'), `${name}: no C++ backtrace`);
        return true;
      });
    }
    assert.deepEqual(t.tolist(), [1, 1], 'the CPU tensor is untouched');
  });
  assert.equal(live(), base);
});

test('without CUDA: creating or moving a tensor to cuda says CUDA is not available and why, as synchronize() does', needsNoCuda, () => {
  torch.tidy(() => {
    const t = torch.ones(2);
    for (const call of [
      () => t.cuda(),
      () => t.to({ device: 'cuda:0' }),
      () => torch.zeros(2, { device: 'cuda' }),
      () => torch.tensor([1], { device: 'cuda' }),
    ]) {
      assert.throws(call, (e) => {
        assert.equal(e.code, 'ERR_TORCH_NO_CUDA');
        assert.match(e.message, /CUDA is not available/);
        assert.ok(e.message.includes(reason));
        assert.ok(e.message.length < 1000, `a short message, got ${e.message.length} characters`);
        return true;
      });
    }
  });
});

// ---- with CUDA ---------------------------------------------------------------------------------

// Tolerance of CUDA vs CPU results: rtol 1e-4 / atol 1e-5 (float32; reductions and matmul sum in a
// different order on the GPU). Integer results and transfers must be exact.
const RTOL = 1e-4;
const ATOL = 1e-5;

function assertCloseTensors(gpu, cpu, what) {
  torch.tidy(() => {
    const back = gpu.cpu();
    assert.equal(gpu.device, 'cuda:0', `${what}: result on cuda:0`);
    assert.deepEqual(back.shape, cpu.shape, `${what}: shape`);
    assert.equal(back.dtype, cpu.dtype, `${what}: dtype`);
    if (!back.allclose(cpu, { rtol: RTOL, atol: ATOL })) {
      const diff = back.double().sub(cpu.double()).abs().max().item();
      assert.fail(`${what}: CUDA differs from CPU by up to ${diff} (rtol ${RTOL}, atol ${ATOL})`);
    }
  });
}

test('with CUDA: to(cuda) and back keeps values, dtypes and shapes', needsCuda, () => {
  torch.tidy(() => {
    const cases = [
      torch.tensor(
        [
          [1.5, -2.25],
          [3, 4e-3],
        ],
        { dtype: 'float32' },
      ),
      torch.tensor([1e-300, -2.5, 1e300], { dtype: 'float64' }),
      torch.tensor([-(2 ** 53), 7, 2 ** 40]),
      torch.tensor([true, false, true]),
      torch.tensor([0.5, -1, 65504], { dtype: 'float16' }),
      torch.tensor([1, -2, 3], { dtype: 'int32' }),
      torch.arange(24, { dtype: 'float32' }).reshape(2, 3, 4).transpose(0, 2), // non-contiguous
    ];
    for (const cpu of cases) {
      const g = cpu.to('cuda');
      assert.equal(g.device, 'cuda:0');
      assert.equal(g.isCuda, true);
      assert.equal(g.dtype, cpu.dtype);
      assert.deepEqual(g.shape, cpu.shape);
      const back = g.cpu();
      assert.equal(back.device, 'cpu');
      assert.deepEqual(back.tolist(), cpu.tolist());
      assert.deepEqual(g.tolist(), cpu.tolist(), 'tolist() straight from the GPU');
      assert.deepEqual(cpu.cuda().to('cpu').tolist(), cpu.tolist());
      assert.deepEqual(cpu.cuda(0).device, 'cuda:0');
    }
    const d = cases[0].to({ device: 'cuda', dtype: 'float64' });
    assert.equal(d.device, 'cuda:0');
    assert.equal(d.dtype, 'float64');
    assert.equal(torch.zeros(2, { device: 'cuda:0' }).device, 'cuda:0');
    assert.equal(torch.tensor([1, 2], { device: 'cuda', dtype: 'float32' }).sum().item(), 3);
  });
});

test('with CUDA: ops on CUDA match the CPU results', needsCuda, () => {
  torch.tidy(() => {
    torch.manualSeed(0);
    const a = torch.randn(64, 32);
    const b = torch.randn(64, 32);
    const m = torch.randn(32, 16);
    const ga = a.cuda();
    const gb = b.cuda();
    const gm = m.cuda();
    const ops = {
      add: (x, y) => x.add(y),
      mul: (x, y) => x.mul(y),
      div: (x, y) => x.div(y.abs().add(1)),
      scalar: (x) => x.mul(2.5).sub(1),
      exp: (x) => x.exp(),
      tanh: (x) => x.tanh(),
      sigmoid: (x) => x.sigmoid(),
      relu: (x) => x.relu(),
      sqrtAbs: (x) => x.abs().sqrt(),
      clamp: (x) => x.clamp(-0.5, 0.5),
      softmax: (x) => x.softmax(1),
      logSoftmax: (x) => x.logSoftmax(1),
      sum: (x) => x.sum(),
      sumDim: (x) => x.sum(1),
      mean0: (x) => x.mean(0),
      std: (x) => x.std(1),
      matmul: (x, _y, w) => x.matmul(w),
      transposeMm: (x, y) => x.t().mm(y),
      where: (x, y) => torch.where(x.gt(0), x, y),
    };
    for (const [name, f] of Object.entries(ops)) assertCloseTensors(f(ga, gb, gm), f(a, b, m), name);
    // integer results are exact
    assert.deepEqual(ga.argmax(1).cpu().tolist(), a.argmax(1).tolist());
    assert.deepEqual(ga.gt(gb).cpu().tolist(), a.gt(b).tolist());
  });
});

test('with CUDA: autograd on CUDA gives the CPU gradients', needsCuda, () => {
  torch.tidy(() => {
    torch.manualSeed(1);
    const x0 = torch.randn(8, 4);
    const w0 = torch.randn(4, 3);
    const grads = (device) => {
      const x = x0.to(device);
      const w = w0.to(device).requiresGrad_();
      x.matmul(w).tanh().pow(2).mean().backward();
      return w.grad;
    };
    assertCloseTensors(grads('cuda'), grads('cpu'), 'w.grad');
  });
});

test('with CUDA: tensor hooks and module backward hooks run (in JS) and give the CPU gradients', needsCuda, () => {
  // Autograd reaches a CUDA node's hooks on its device thread; the JS thread serves them (autograd.cc).
  torch.tidy(() => {
    torch.manualSeed(2);
    const x0 = torch.randn(5, 4);
    const run = (device) => {
      torch.manualSeed(3);
      const lin = new torch.nn.Linear(4, 3).to(device);
      const x = x0.to(device).requiresGrad_();
      let seen = null;
      lin.registerFullBackwardHook((m, gin, gout) => {
        seen = gout[0].to('cpu');
        return [gin[0].mul(2)];
      });
      x.registerHook((g) => g.add(1));
      lin.call(x).pow(2).sum().backward();
      const out = [x.grad.to('cpu'), lin.weight.grad.to('cpu'), seen];
      lin.dispose();
      return out;
    };
    const [gpu, cpu] = [run('cuda'), run('cpu')];
    gpu.forEach((g, i) => assertCloseTensors(g, cpu[i], `hooked gradient ${i}`));
  });
});

test('with CUDA: an op mixing cuda and cpu tensors names both devices', needsCuda, () => {
  torch.tidy(() => {
    const g = torch.ones(3, { device: 'cuda' });
    const c = torch.ones(3);
    for (const call of [() => g.add(c), () => c.mul(g), () => g.reshape(3, 1).mm(c.reshape(1, 3))]) {
      assert.throws(call, (e) => {
        assert.ok(e instanceof torch.TorchError);
        assert.match(e.message, /same device/);
        assert.match(e.message, /cuda:0/);
        assert.match(e.message, /cpu/);
        assert.ok(!e.message.includes('Exception raised from'));
        return true;
      });
    }
  });
});

test('with CUDA: synchronize() returns', needsCuda, () => {
  torch.tidy(() => {
    torch.ones(1024, { device: 'cuda' }).mul(2);
  });
  torch.cuda.synchronize();
  torch.cuda.synchronize(0);
});

test('with CUDA: memoryAllocated() grows with a tensor and drops after dispose()', needsCuda, () => {
  torch.cuda.synchronize();
  const before = torch.cuda.memoryAllocated();
  const t = torch.empty(MiB, { device: 'cuda' }); // 4 MiB of float32
  const during = torch.cuda.memoryAllocated();
  assert.ok(during >= before + 4 * MiB, `grew from ${before} to ${during}`);
  assert.equal(torch.cuda.memoryAllocated(0), during);
  assert.equal(torch.memory().cudaBytes, during);
  t.dispose();
  assert.equal(torch.cuda.memoryAllocated(), before);
  torch.cuda.emptyCache();
  assert.equal(torch.cuda.memoryAllocated(), before);
});

test('with CUDA: 200 tensors of 4 MiB made and freed in tidy() leave no GPU memory behind', needsCuda, () => {
  const base = live();
  torch.cuda.synchronize();
  const before = torch.cuda.memoryAllocated();
  for (let i = 0; i < 200; i++) {
    torch.tidy(() => {
      torch.ones(MiB, { device: 'cuda' }).mul(2).add_(1);
    });
  }
  torch.cuda.synchronize();
  assert.equal(live(), base);
  assert.equal(torch.cuda.memoryAllocated(), before);
});

test('with CUDA: cuda.manualSeed() makes torch.randn on cuda reproducible', needsCuda, () => {
  torch.tidy(() => {
    torch.cuda.manualSeed(1234);
    const a = torch.randn(1000, { device: 'cuda' });
    torch.cuda.manualSeed(1234);
    const b = torch.randn(1000, { device: 'cuda' });
    torch.cuda.manualSeed(4321);
    const c = torch.randn(1000, { device: 'cuda' });
    assert.ok(a.equal(b), 'same seed, same numbers');
    assert.ok(!a.equal(c), 'another seed, other numbers');
    torch.cuda.manualSeedAll(1234);
    assert.ok(torch.randn(1000, { device: 'cuda' }).equal(a), 'manualSeedAll seeds the current device too');
    const s = a.std().item();
    assert.ok(s > 0.9 && s < 1.1, `standard normal numbers (std ${s})`);
  });
});

test('with CUDA: setDevice()/currentDevice(), and DataParallel over every device (one: the module moved there)', needsCuda, () => {
  const n = torch.cuda.deviceCount();
  torch.cuda.setDevice(n - 1);
  assert.equal(torch.cuda.currentDevice(), n - 1);
  torch.cuda.setDevice(0);
  assert.throws(() => torch.cuda.setDevice(n), /device index \d+ is out of range/);
  torch.tidy(() => {
    torch.manualSeed(0);
    const model = new torch.nn.Sequential(new torch.nn.Linear(5, 8), new torch.nn.ReLU(), new torch.nn.Linear(8, 3));
    const ref = new torch.nn.Sequential(new torch.nn.Linear(5, 8), new torch.nn.ReLU(), new torch.nn.Linear(8, 3));
    torch.noGrad(() => ref.parameters().forEach((p, i) => p.copy_(model.parameters()[i])));
    if (n > 1) model.to('cuda:0');
    const dp = new torch.nn.DataParallel(model);
    assert.equal(model.parameters()[0].device, 'cuda:0', 'one device: the module is moved there (as PyTorch)');
    assert.deepEqual(
      dp.deviceIds,
      Array.from({ length: n }, (_, i) => i),
    );
    const x = torch.randn([2 * n + 1, 5]);
    const y = dp.call(x);
    assert.equal(y.device, 'cuda:0');
    const ry = ref.call(x);
    assert.ok(y.cpu().sub(ry).abs().max().item() < 1e-5);
    y.square().mean().backward();
    ry.square().mean().backward();
    model.parameters().forEach((p, i) => assert.ok(p.grad.cpu().sub(ref.parameters()[i].grad).abs().max().item() < 1e-5, `gradient ${i}`));
    assert.throws(
      () => new torch.nn.DataParallel(new torch.nn.Linear(2, 2).to('cuda:0'), { deviceIds: [n] }),
      /argument 'deviceIds' must be a CUDA device index/,
    );
  });
});

test('no tensors leaked by this file', () => {
  assert.equal(live(), fileBaseline);
});
