'use strict';
// The memory model (lib/scope.ts): dispose(), tidy() scopes, keep(), Symbol.dispose, the GC backstop,
// and leak checks over many tensors. Accounting comes from torch.memory(): liveTensors (ids in the
// native table) and cpuBytes (bytes held by libtorch's CPU allocator, counted by the addon).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const torch = require('../dist');

const live = () => torch.memory().liveTensors;
const cpuBytes = () => torch.memory().cpuBytes;
const fileBaseline = live();

function assertDisposedError(fn, what) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof torch.TorchError, `${what}: expected a TorchError, got ${e?.constructor?.name}`);
    assert.equal(e.code, 'ERR_TORCH_DISPOSED', what);
    assert.match(e.message, /disposed/, what);
    return true;
  });
}

test('dispose() frees the tensor now and is idempotent', () => {
  const base = live();
  const bytes = cpuBytes();
  const t = torch.zeros(1024); // 4 KiB of float32
  assert.equal(live(), base + 1);
  assert.ok(cpuBytes() >= bytes + 4096, 'cpuBytes counts the new storage');
  assert.equal(t.isDisposed, false);
  t.dispose();
  assert.equal(t.isDisposed, true);
  assert.equal(live(), base);
  assert.equal(cpuBytes(), bytes);
  t.dispose(); // idempotent: no throw, no double free
  t.dispose();
  assert.equal(live(), base);
  assert.equal(String(t), 'tensor(<disposed>)');
});

test('a view is a tensor of its own but shares (and keeps alive) the storage', () => {
  const base = live();
  const bytes = cpuBytes();
  const t = torch.zeros(1024);
  const withT = cpuBytes(); // 4096 bytes and the allocator's slack (cpuBytes counts usable size)
  assert.ok(withT >= bytes + 4096);
  const v = t.view(32, 32);
  assert.equal(live(), base + 2);
  assert.equal(cpuBytes(), withT, 'storage counted once');
  t.dispose();
  assert.equal(live(), base + 1);
  assert.equal(cpuBytes(), withT, 'the view still holds the storage');
  assert.equal(
    torch.tidy(() => v.sum().item()),
    0,
  );
  v.dispose();
  assert.equal(cpuBytes(), bytes);
});

test('use after dispose throws TorchError ERR_TORCH_DISPOSED naming the problem', () => {
  const base = live();
  const t = torch.ones(3);
  const other = torch.ones(3);
  t.dispose();
  assertDisposedError(() => t.add(1), 'binary op on self');
  assertDisposedError(() => t.exp(), 'unary op');
  assertDisposedError(() => t.sum(), 'dispatcher op');
  assertDisposedError(() => t.shape, 'shape');
  assertDisposedError(() => t.tolist(), 'tolist()');
  assertDisposedError(() => t.item(), 'item()');
  assertDisposedError(() => t.add_(1), 'in-place op');
  assertDisposedError(() => other.add(t), 'as an argument');
  assertDisposedError(() => torch.cat([other, t]), 'in a list argument');
  assertDisposedError(() => torch.zerosLike(t), 'creation from a disposed tensor');
  // The message says which argument and what to do about it.
  assert.throws(() => other.mul(t), /mul\(\): argument 'other' was disposed/);
  assert.throws(() => t.mul(other), /mul\(\): the tensor was disposed.*keep\(\)/);
  other.dispose();
  assert.equal(live(), base);
});

test('torch.dispose() frees a tensor, arrays, objects, Maps and Sets of tensors', () => {
  const base = live();
  const a = torch.ones(1);
  const b = torch.ones(2);
  const c = torch.ones(3);
  const d = torch.ones(4);
  torch.dispose([a, { b, nested: [c] }]);
  assert.equal(live(), base + 1);
  assert.ok(a.isDisposed && b.isDisposed && c.isDisposed);
  torch.dispose(d);
  assert.equal(live(), base);
  // Maps (a loaded checkpoint's dicts) and Sets, nested in each other.
  const e = torch.ones(5);
  const f = torch.ones(6);
  const g = torch.ones(7);
  torch.dispose(
    new Map([
      ['model', new Map([['w', e]])],
      ['extra', new Set([f, { g }])],
      ['epoch', 3],
    ]),
  );
  assert.ok(e.isDisposed && f.isDisposed && g.isDisposed);
  assert.equal(live(), base);
});

test('Symbol.dispose frees the tensor (explicit resource management)', () => {
  const base = live();
  assert.equal(typeof Symbol.dispose, 'symbol');
  const t = torch.ones(5);
  assert.equal(typeof t[Symbol.dispose], 'function');
  t[Symbol.dispose]();
  assert.equal(t.isDisposed, true);
  assert.equal(live(), base);
  t[Symbol.dispose](); // idempotent too
  assert.equal(live(), base);
});

test('tidy() frees what was made inside, except the returned tensor', () => {
  const base = live();
  const made = [];
  const r = torch.tidy(() => {
    const a = torch.ones(2, 2);
    const b = a.mul(3);
    made.push(a, b);
    assert.equal(torch.memory().scopeDepth, 1);
    return b.add(1);
  });
  assert.equal(torch.memory().scopeDepth, 0);
  assert.ok(
    made.every((t) => t.isDisposed),
    'intermediates disposed',
  );
  assert.equal(r.isDisposed, false);
  assert.deepEqual(r.tolist(), [
    [4, 4],
    [4, 4],
  ]);
  assert.equal(live(), base + 1);
  r.dispose();
  assert.equal(live(), base);
});

test('tidy() keeps tensors inside returned arrays, plain objects, Maps and Sets', () => {
  const base = live();
  const dropped = [];
  const r = torch.tidy('containers', () => {
    const t = (n) => torch.full([n], n);
    dropped.push(t(0), t(0));
    return {
      arr: [t(1), [t(2)]],
      obj: { x: t(3), deep: { y: t(4) } },
      map: new Map([['k', t(5)]]),
      set: new Set([t(6)]),
      n: 42,
    };
  });
  assert.ok(dropped.every((t) => t.isDisposed));
  assert.equal(live(), base + 6);
  assert.deepEqual(r.arr[0].tolist(), [1]);
  assert.deepEqual(r.arr[1][0].tolist(), [2, 2]);
  assert.deepEqual(r.obj.x.tolist(), [3, 3, 3]);
  assert.equal(r.obj.deep.y.numel(), 4);
  assert.equal(r.map.get('k').numel(), 5);
  assert.equal([...r.set][0].numel(), 6);
  assert.equal(r.n, 42);
  torch.dispose([r.arr, r.obj, r.map.get('k'), [...r.set]]);
  assert.equal(live(), base);
});

test('tidy() keeps tensors inside a returned null-prototype object (Object.create(null))', () => {
  const base = live();
  const r = torch.tidy(() => {
    const o = Object.create(null);
    o.t = torch.ones(2);
    return o;
  });
  try {
    assert.equal(r.t.isDisposed, false);
    assert.equal(live(), base + 1);
  } finally {
    r.t.dispose();
  }
});

test('tidy() never frees a tensor made outside it, returned or not', () => {
  const base = live();
  const outside = torch.ones(2);
  torch.tidy(() => {
    outside.mul(2);
  });
  assert.equal(outside.isDisposed, false, 'used inside, not returned');
  const r = torch.tidy(() => [outside, outside.add(1)]);
  assert.equal(outside.isDisposed, false, 'returned');
  assert.equal(live(), base + 2);
  torch.dispose(r);
  assert.equal(live(), base);
});

test('nested tidy(): the inner result escapes to the outer scope and is freed there', () => {
  const base = live();
  let inner;
  let innerTmp;
  let outerTmp;
  const r = torch.tidy(() => {
    inner = torch.tidy(() => {
      innerTmp = torch.ones(3);
      assert.equal(torch.memory().scopeDepth, 2);
      return innerTmp.mul(2);
    });
    assert.equal(innerTmp.isDisposed, true, 'inner temporary freed when the inner scope ends');
    assert.equal(inner.isDisposed, false, 'inner result alive in the outer scope');
    outerTmp = inner.add(1);
    return outerTmp.sum();
  });
  assert.equal(inner.isDisposed, true, 'inner result freed by the outer scope (not returned by it)');
  assert.equal(outerTmp.isDisposed, true);
  assert.equal(r.item(), 9);
  r.dispose();
  assert.equal(live(), base);
});

test('a throw inside tidy() frees everything made inside and rethrows the same error', () => {
  const base = live();
  const made = [];
  const boom = new Error('boom');
  assert.throws(
    () =>
      torch.tidy(() => {
        made.push(torch.ones(4), torch.ones(4).exp());
        throw boom;
      }),
    (e) => e === boom,
  );
  assert.ok(made.every((t) => t.isDisposed));
  assert.equal(torch.memory().scopeDepth, 0);
  assert.equal(live(), base);
  // A native error inside a nested scope: the outer scope stays usable and frees its own tensors.
  const r = torch.tidy(() => {
    const keepMe = torch.ones(2, 3);
    assert.throws(() => torch.tidy(() => keepMe.add(torch.ones(4, 5))), torch.TorchError);
    assert.equal(torch.memory().scopeDepth, 1);
    assert.equal(keepMe.isDisposed, false);
    return keepMe.sum();
  });
  assert.equal(r.item(), 6);
  r.dispose();
  assert.equal(live(), base);
});

test('tidy() rejects a Promise-returning function with a TorchError and frees its tensors', () => {
  const base = live();
  let made;
  assert.throws(
    () =>
      torch.tidy(async () => {
        made = torch.ones(8);
        return made;
      }),
    (e) => {
      assert.ok(e instanceof torch.TorchError);
      assert.equal(e.code, 'ERR_TORCH_ARG');
      assert.match(e.message, /tidy\(\).*Promise/);
      return true;
    },
  );
  assert.equal(made.isDisposed, true);
  assert.equal(live(), base);
  assert.equal(torch.memory().scopeDepth, 0);
});

test('tidy() without a function throws a TorchError naming the argument', () => {
  assert.throws(() => torch.tidy(), /tidy\(\): argument 'fn' must be a function, got undefined/);
  assert.throws(() => torch.tidy('name', 3), /tidy\(\): argument 'fn' must be a function, got number/);
});

test('keep() exempts a tensor from every enclosing tidy()', () => {
  const base = live();
  let tmp;
  let kept;
  torch.tidy(() => {
    torch.tidy(() => {
      tmp = torch.ones(2);
      kept = torch.keep(tmp.mul(5));
    });
    assert.equal(kept.isDisposed, false);
  });
  assert.equal(tmp.isDisposed, true);
  assert.equal(kept.isDisposed, false, 'kept tensor survives the outer scope too');
  assert.deepEqual(kept.tolist(), [5, 5]);
  assert.equal(live(), base + 1);
  kept.dispose();
  assert.equal(live(), base);
});

test('grad accessor: the same object on every access, owned by its tensor', () => {
  const base = live();
  torch.tidy(() => {
    const w = torch.ones(3, { requiresGrad: true });
    w.mul(w).sum().backward();
    const g1 = w.grad;
    assert.equal(w.grad, g1, 'w.grad is w.grad, as in PyTorch');
    g1.dispose();
    const g2 = w.grad;
    assert.notEqual(g2, g1, 'a disposed handle is replaced');
    assert.deepEqual(g2.tolist(), [2, 2, 2], 'disposing a handle leaves the gradient alive');
  });
  assert.equal(live(), base, 'tidy() freed the tensor and its grad handle');
  // Without a scope: dispose() frees the tensor's grad handle too.
  const w = torch.ones(2, { requiresGrad: true });
  torch.tidy(() => w.sum().backward());
  const g = w.grad;
  w.dispose();
  assert.ok(g.isDisposed);
  assert.equal(live(), base);
});

test('grad accessor: a cleared or replaced grad handle passes to the current scope and stays usable', () => {
  const base = live();
  const out = torch.tidy(() => {
    const w = torch.ones(2, { requiresGrad: true });
    w.mul(3).sum().backward();
    const g = w.grad;
    w.grad = null;
    assert.equal(w.grad, null);
    assert.deepEqual(g.tolist(), [3, 3], 'the old handle still works');
    return g.clone();
  });
  assert.deepEqual(out.tolist(), [3, 3]);
  out.dispose();
  assert.equal(live(), base, 'the handle was freed with the scope');
  const kept = torch.tidy(() => {
    const w = torch.ones(2, { requiresGrad: true });
    w.mul(5).sum().backward();
    return w.grad; // a grad handle returned from tidy outlives its tensor
  });
  assert.deepEqual(kept.tolist(), [5, 5]);
  kept.dispose();
  assert.equal(live(), base);
});

// ---- leak checks ------------------------------------------------------------------------------

function mib(bytes) {
  return (bytes / (1 << 20)).toFixed(1) + ' MiB';
}

// 100 tidy() calls x 1000 new tensors each = 100k tensors per round, through every native path:
// binary and scalar fast paths, unary, dispatcher ops (sum) and views (expand).
function churnRound(a, b) {
  for (let i = 0; i < 100; i++) {
    torch.tidy(() => {
      let x = a;
      for (let j = 0; j < 200; j++) x = x.add(b).mul(0.5).relu().sum(0, true).expand(16);
      return undefined;
    });
  }
}

test('100k tensors per round in tidy(): liveTensors, cpuBytes and RSS return to baseline', () => {
  const a = torch.randn(16);
  const b = torch.randn(16);
  const base = live();
  const bytes = cpuBytes();
  churnRound(a, b); // warm-up: lets V8, glibc and libtorch reach their steady-state heaps
  assert.equal(live(), base);
  const rss0 = process.memoryUsage().rss;
  const rounds = 4; // 400k tensors (plus 100k of warm-up)
  for (let r = 0; r < rounds; r++) {
    churnRound(a, b);
    assert.equal(live(), base, `liveTensors after round ${r}`);
  }
  const growth = process.memoryUsage().rss - rss0;
  // cpuBytes is exact (a counting allocator): allow 64 KiB for any scratch buffer libtorch keeps;
  // a leak of even one 64-byte storage per tensor would show as ~25 MiB here.
  assert.ok(cpuBytes() - bytes <= 64 * 1024, `cpuBytes grew by ${cpuBytes() - bytes} bytes`);
  // Bound: RSS may grow by less than 50 MB over 400k tensors. A leak of the JS wrapper plus the
  // native slot (~200 bytes each) would be ~80 MB; a leaked storage per tensor more than that.
  assert.ok(growth < 50e6, `RSS grew by ${mib(growth)} over ${rounds * 100}k tensors`);
  torch.dispose([a, b]);
});

test('200 tensors of 4 MiB made and freed in tidy(): RSS stays bounded', () => {
  const base = live();
  const bytes = cpuBytes();
  const step = () =>
    torch.tidy(() => {
      const x = torch.ones(1 << 20); // 4 MiB of float32
      const y = x.mul(2); // another 4 MiB
      y.add_(1);
      return y.sum().item();
    });
  for (let i = 0; i < 20; i++) assert.equal(step(), 3 * (1 << 20)); // warm-up
  const rss0 = process.memoryUsage().rss;
  let peak = 0;
  for (let i = 0; i < 200; i++) {
    step();
    if (i % 20 === 0) peak = Math.max(peak, process.memoryUsage().rss - rss0);
  }
  const growth = process.memoryUsage().rss - rss0;
  assert.equal(live(), base);
  assert.equal(cpuBytes(), bytes);
  // Bound: < 50 MB of RSS growth, where leaking would cost 200 x 8 MiB = 1.6 GiB.
  assert.ok(growth < 50e6, `RSS grew by ${mib(growth)} (peak sample ${mib(peak)})`);
});

test('GC backstop: tensors that escape every scope are freed when collected (child with --expose-gc)', () => {
  const dist = path.resolve(__dirname, '..', 'dist');
  const code = `
    const torch = require(${JSON.stringify(dist)});
    const live = () => torch.memory().liveTensors;
    const out = { base: live(), baseBytes: torch.memory().cpuBytes };
    const held = torch.full([4], 7); // referenced until the end: must not be collected
    out.base += 1;
    (function make() {
      for (let i = 0; i < 1000; i++) torch.ones(100).add(1); // 2000 tensors, outside any scope
      torch.tidy(() => { torch.keep(torch.ones(10)); });     // kept: the GC owns it
      torch.tidy(() => torch.ones(10));                     // returned to the top level: the GC owns it
    })();
    out.afterCreate = live();
    (async () => {
      let turns = 0;
      for (; turns < 100 && live() !== out.base; turns++) {
        gc();
        await new Promise((r) => setImmediate(r));  // FinalizationRegistry callbacks run on loop turns
        await new Promise((r) => setTimeout(r, 5));
      }
      out.turns = turns;
      out.final = live();
      out.heldValues = held.tolist();
      held.dispose();
      out.finalBytes = torch.memory().cpuBytes;
      console.log(JSON.stringify(out));
    })();
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.afterCreate, out.base + 2002, 'the child made 2002 unscoped tensors');
  assert.equal(out.final, out.base, `liveTensors back to baseline after ${out.turns} GC turns`);
  assert.deepEqual(out.heldValues, [7, 7, 7, 7], 'a reachable tensor is not collected');
  assert.equal(out.finalBytes, out.baseBytes);
});

// Sequential (and the torchvision forwards) free each intermediate once the next layer has read
// it, as Python's reference counting does, but only between torch-node's own layers without
// hooks: a user's module, a patched forward or a hook may hold what it saw, and that stays usable
// as it would in Python.
test('Sequential frees intermediates between built-in layers, never one a module or hook may hold', () => {
  const { nn } = torch;
  torch.manualSeed(0);
  const x = torch.randn([4, 8]);
  const seq = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.Tanh(), new nn.Identity(), new nn.Linear(16, 2));
  const expected = torch.noGrad(() => torch.tidy(() => seq.children().reduce((h, m) => m.forward(h), x)));
  const before = live();
  const y = torch.noGrad(() => seq.call(x));
  assert.equal(live(), before + 1, 'outside any tidy(), only the result is left: every intermediate was freed on the way');
  assert.ok(torch.equal(y, expected), 'the same values');
  assert.ok(!x.isDisposed, 'the input is never freed');
  y.dispose();

  // A user's module that keeps its input and output: both stay usable after the forward.
  class Keep extends nn.Module {
    forward(t) {
      this.seen = t;
      this.made = t.mul(2);
      return this.made;
    }
  }
  const keep = new Keep();
  const seq2 = new nn.Sequential(new nn.Linear(8, 4), keep, new nn.ReLU(), new nn.Linear(4, 2));
  const y2 = torch.noGrad(() => seq2.call(x));
  assert.ok(!keep.seen.isDisposed && !keep.made.isDisposed, "what a user's module holds is not freed");
  assert.deepEqual(keep.seen.shape, [4, 4]);
  // A subclass of a built-in layer may hold too.
  class MyLinear extends nn.Linear {
    forward(t) {
      this.last = t;
      return super.forward(t);
    }
  }
  const mine = new MyLinear(4, 2);
  const seq3 = new nn.Sequential(new nn.Linear(8, 4), new nn.ReLU(), mine);
  const y3 = torch.noGrad(() => seq3.call(x));
  assert.ok(!mine.last.isDisposed, 'a subclass of a built-in layer is not trusted');
  // A forward replaced on the instance, Python's monkey-patching.
  const patched = new nn.Tanh();
  let seenByPatch = null;
  let patchedOut = null;
  patched.forward = (t) => {
    seenByPatch = t;
    patchedOut = t.tanh();
    return patchedOut;
  };
  const seq4 = new nn.Sequential(new nn.Linear(8, 4), patched, new nn.Linear(4, 2));
  const y4 = torch.noGrad(() => seq4.call(x));
  assert.ok(!seenByPatch.isDisposed, 'a patched forward is not trusted');
  // A forward replaced on the class's prototype, for every instance.
  const original = nn.Tanh.prototype.forward;
  const seenByProto = [];
  nn.Tanh.prototype.forward = function (t) {
    seenByProto.push(t);
    return original.call(this, t);
  };
  const seq5 = new nn.Sequential(new nn.Linear(8, 4), new nn.Tanh(), new nn.Linear(4, 2));
  torch.tidy(() => {
    try {
      torch.noGrad(() => seq5.call(x));
    } finally {
      nn.Tanh.prototype.forward = original;
    }
    assert.ok(seenByProto.length === 1 && !seenByProto[0].isDisposed, 'a forward patched on the prototype is not trusted');
  });
  seq5.dispose();
  // A forward hook that stores the output of a layer (feature extraction).
  const stash = [];
  const h = seq[1].registerForwardHook((_m, args, out) => {
    stash.push(args[0], out);
  });
  const y5 = torch.noGrad(() => seq.call(x));
  h.remove();
  assert.ok(
    stash.every((t) => !t.isDisposed),
    "a hook's tensors are not freed",
  );
  assert.ok(torch.equal(y5, expected));
  torch.dispose([y2, y3, y4, y5, keep.seen, keep.made, mine.last, seenByPatch, patchedOut, ...stash, x, expected]);
  for (const m of [seq, seq2, seq3, seq4]) m.dispose();
});

test('a ResNet with user modules that share a tensor within one forward: nothing they hold is freed early', () => {
  const { nn, vision } = torch;
  torch.manualSeed(0);
  const model = vision.models.resnet18({ numClasses: 3 }).eval();
  // A skip connection through shared state, as ported Python code may write it: one module keeps
  // the features it saw, a later one reads them in the same forward.
  class Save extends nn.Module {
    forward(t) {
      this.saved = t;
      return t.mul(1);
    }
  }
  class Head extends nn.Module {
    constructor(save, fc) {
      super();
      this.save = save;
      this.fc = fc;
    }
    forward(t) {
      return this.fc.call(t).add(this.save.saved.mean());
    }
  }
  const save = new Save();
  const fc = model.fc;
  model.avgpool = new nn.Sequential(save, new nn.AdaptiveAvgPool2d([1, 1]));
  model.fc = new Head(save, fc);
  const x = torch.randn([1, 3, 64, 64]);
  const y = torch.tidy(() => torch.inferenceMode(() => model.call(x)));
  const expected = torch.tidy(() =>
    torch.inferenceMode(() => {
      let h = x;
      for (const name of ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4']) h = model[name].forward(h);
      return fc.forward(h.mean([2, 3])).add(h.mean());
    }),
  );
  assert.ok(torch.allclose(y, expected, { rtol: 1e-5, atol: 1e-6 }), 'the forward read the saved features (and did not throw ERR_TORCH_DISPOSED)');
  torch.dispose([x, y, expected]);
  model.dispose();
  fc.dispose();
});

test('no tensors leaked by this file', () => {
  assert.equal(live(), fileBaseline);
});
