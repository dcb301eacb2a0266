'use strict';
// torch.utils.data.DistributedSampler: every rank's indices and len() equal PyTorch's (golden, one
// Python run) over dataset sizes 0..1000, 1..4 (and 8) replicas, shuffle on/off, dropLast on/off,
// seeds (negative and > 2^32 too) and epochs set with setEpoch; DataLoader with a sampler (batches
// equal PyTorch's DataLoader(sampler=...), global RNG stream after it too; an array as a sampler);
// fit() calls sampler.setEpoch each epoch (batches equal the hand-written PyTorch loop's); errors
// (sampler + shuffle, bad rank, no process group, options); the process-group hook; no tensors leaked.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { TensorDataset, DataLoader, DistributedSampler } = torch.utils.data;
const { setDefaultGroupInfo } = require('../dist/train/distributed-sampler');
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;

const CASES = [];
for (const n of [0, 1, 2, 7, 10, 11, 100]) {
  for (const numReplicas of [1, 2, 3, 4]) {
    for (const shuffle of [true, false]) {
      for (const dropLast of [false, true]) {
        for (const seed of shuffle ? [0, 13] : [0]) CASES.push({ n, numReplicas, shuffle, dropLast, seed, epochs: shuffle ? [0, 1, 7] : [0, 3] });
      }
    }
  }
}
// More replicas than samples, bigger datasets, odd seeds (negative wraps to uint64; > 2^32 keeps the low bits).
for (const dropLast of [false, true]) {
  CASES.push({ n: 7, numReplicas: 8, shuffle: true, dropLast, seed: 1, epochs: [0, 2] });
  CASES.push({ n: 3, numReplicas: 8, shuffle: false, dropLast, seed: 0, epochs: [0] });
  CASES.push({ n: 1000, numReplicas: 3, shuffle: true, dropLast, seed: 2024, epochs: [0, 1, 99] });
  CASES.push({ n: 37, numReplicas: 4, shuffle: true, dropLast, seed: -5, epochs: [0, 4, 5] });
  CASES.push({ n: 37, numReplicas: 2, shuffle: true, dropLast, seed: 2 ** 40 + 3, epochs: [0, 1] });
}

let py;
test.before(() => {
  py = runPython(
    `
import json, sys, torch
from torch.utils.data import DataLoader, TensorDataset, DistributedSampler
inp = json.load(sys.stdin)
out = {'cases': []}
for c in inp['cases']:
    ds = list(range(c['n']))
    per_rank = []
    for rank in range(c['numReplicas']):
        s = DistributedSampler(ds, num_replicas=c['numReplicas'], rank=rank, shuffle=c['shuffle'], seed=c['seed'], drop_last=c['dropLast'])
        epochs = []
        for e in c['epochs']:
            s.set_epoch(e)
            epochs.append(list(s))
        per_rank.append({'len': len(s), 'epochs': epochs})
    out['cases'].append(per_rank)

ds = TensorDataset(torch.arange(11) * 10)
loaders = {}
for drop in (False, True):
    s = DistributedSampler(ds, num_replicas=3, rank=1, seed=5)
    dl = DataLoader(ds, batch_size=2, sampler=s, drop_last=drop)
    torch.manual_seed(3)
    epochs = []
    for e in range(3):
        s.set_epoch(e)
        epochs.append([b[0].tolist() for b in dl])
    loaders[str(drop)] = {'len': len(dl), 'epochs': epochs, 'after': torch.randint(0, 1 << 30, (4,)).tolist()}
out['loader'] = loaders

# The hand-written distributed loop fit() stands for: set_epoch(epoch) before every epoch.
x = torch.arange(13, dtype=torch.float32).reshape(13, 1)
ds = TensorDataset(x, x.clone())
s = DistributedSampler(ds, num_replicas=2, rank=0, seed=9)
dl = DataLoader(ds, batch_size=3, sampler=s)
fit_targets = []
for epoch in range(1, 4):
    s.set_epoch(epoch)
    fit_targets.append([b[1].flatten().tolist() for b in dl])
out['fit'] = fit_targets
print(json.dumps(out))
`,
    { cases: CASES },
  );
});

test('indices and len() equal PyTorch for every rank, size, replica count, shuffle, dropLast, seed and epoch', () => {
  assert.equal(py.cases.length, CASES.length);
  let checked = 0;
  CASES.forEach((c, k) => {
    for (let rank = 0; rank < c.numReplicas; rank++) {
      const s = new DistributedSampler({ length: c.n }, { numReplicas: c.numReplicas, rank, shuffle: c.shuffle, seed: c.seed, dropLast: c.dropLast });
      const want = py.cases[k][rank];
      const what = `n=${c.n} numReplicas=${c.numReplicas} rank=${rank} shuffle=${c.shuffle} dropLast=${c.dropLast} seed=${c.seed}`;
      assert.equal(s.length, want.len, `len, ${what}`);
      c.epochs.forEach((e, j) => {
        s.setEpoch(e);
        assert.equal(s.epoch, e);
        const got = [...s];
        assert.deepEqual(got, want.epochs[j], `epoch ${e}, ${what}`);
        assert.deepEqual(s.indices(), got);
        checked++;
      });
    }
  });
  assert.ok(checked > 500, `${checked} rank/epoch orders checked`);
});

test('defaults: shuffle true, seed 0, dropLast false, epoch 0; iterating again gives the same order until setEpoch', () => {
  const s = new DistributedSampler({ length: 10 }, { numReplicas: 2, rank: 1 });
  assert.equal(s.shuffle, true);
  assert.equal(s.seed, 0);
  assert.equal(s.dropLast, false);
  assert.equal(s.epoch, 0);
  assert.equal(s.numSamples, 5);
  assert.equal(s.totalSize, 10);
  const c = CASES.findIndex((x) => x.n === 10 && x.numReplicas === 2 && x.shuffle && !x.dropLast && x.seed === 0);
  assert.deepEqual([...s], py.cases[c][1].epochs[0]);
  assert.deepEqual([...s], py.cases[c][1].epochs[0]);
  // Arrays (and any object with a length) serve as the dataset, as anything with len() does in PyTorch.
  assert.deepEqual([...new DistributedSampler([5, 6, 7], { numReplicas: 2, rank: 0, shuffle: false })], [0, 2]);
});

test("DataLoader with a DistributedSampler yields PyTorch's batches, epoch by epoch; the global RNG stream matches after it", () => {
  torch.tidy(() => {
    const ds = new TensorDataset(torch.arange(11).mul(10));
    for (const drop of [false, true]) {
      const s = new DistributedSampler(ds, { numReplicas: 3, rank: 1, seed: 5 });
      const dl = new DataLoader(ds, { batchSize: 2, sampler: s, dropLast: drop });
      assert.equal(dl.sampler, s);
      const want = py.loader[drop ? 'True' : 'False'];
      assert.equal(dl.length, want.len);
      torch.manualSeed(3);
      for (let e = 0; e < 3; e++) {
        s.setEpoch(e);
        assert.deepEqual(
          [...dl].map((b) => b[0].tolist()),
          want.epochs[e],
          `epoch ${e} dropLast ${drop}`,
        );
      }
      assert.deepEqual(
        torch
          .randint(0, 2 ** 30, [4])
          .tolist()
          .map(Number),
        want.after,
      );
    }
  });
});

test('DataLoader takes any iterable of indices with a length as a sampler (an array; shuffle: false is allowed)', () => {
  torch.tidy(() => {
    const ds = new TensorDataset(torch.arange(5));
    const dl = new DataLoader(ds, { batchSize: 2, sampler: [3, 1, 4, 0, 0], shuffle: false });
    assert.equal(dl.length, 3);
    assert.deepEqual(
      [...dl].map((b) => b[0].tolist()),
      [[3, 1], [4, 0], [0]],
    );
    assert.deepEqual(
      [...new DataLoader(ds, { batchSize: 2, sampler: [2, 4, 1], dropLast: true })].map((b) => b[0].tolist()),
      [[2, 4]],
    );
  });
});

test("fit() calls sampler.setEpoch(epoch) before each epoch: the batches equal the hand-written PyTorch loop's", () => {
  torch.tidy(() => {
    const x = torch.arange(13, { dtype: 'float32' }).reshape([13, 1]);
    const ds = new TensorDataset(x, x.clone());
    const s = new DistributedSampler(ds, { numReplicas: 2, rank: 0, seed: 9 });
    const trainLoader = new DataLoader(ds, { batchSize: 3, sampler: s });
    const model = new torch.nn.Linear(1, 1);
    const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.001 });
    const seen = [];
    const atBegin = [];
    const lossFn = (out, target) => {
      seen[seen.length - 1].push(target.flatten().tolist());
      return out.sub(target).pow(2).mean();
    };
    const callbacks = [
      {
        onEpochBegin: (epoch) => {
          atBegin.push([epoch, s.epoch]);
          seen.push([]);
        },
      },
    ];
    const r = torch.fit(model, { trainLoader, epochs: 4, initialEpoch: 1, optimizer, lossFn, callbacks, verbose: 'none' });
    assert.equal(r.epochsRun, 3);
    assert.deepEqual(atBegin, [
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    assert.deepEqual(seen, py.fit);
    assert.notDeepEqual(seen[0], seen[1]);
    optimizer.dispose();
    model.dispose();
  });
});

test('errors: sampler with shuffle, bad rank, no process group, options', () => {
  const ds = { length: 10 };
  const tds = torch.tidy(() => torch.keep(torch.arange(3)));
  const t3 = new TensorDataset(tds);
  const s = new DistributedSampler(ds, { numReplicas: 2, rank: 0 });
  assert.throws(() => new DataLoader(t3, { sampler: s, shuffle: true }), { name: 'TorchError', message: /sampler option is mutually exclusive with shuffle/ });
  assert.throws(() => new DataLoader(t3, { sampler: 5 }), { name: 'TorchError', message: /argument 'sampler' must be a Sampler/ });
  assert.throws(() => new DataLoader(t3, { sampler: { [Symbol.iterator]: () => [][Symbol.iterator]() } }), /argument 'sampler'/);
  torch.tidy(() => assert.throws(() => [...new DataLoader(t3, { sampler: [0, 1.5] })], { name: 'TorchError', message: /the sampler yielded number 1\.5/ }));
  tds.dispose();

  assert.throws(() => new DistributedSampler(ds, { numReplicas: 2, rank: 2 }), {
    name: 'TorchError',
    message: /Invalid rank 2, rank should be in the interval \[0, 1\]/,
  });
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 3, rank: -1 }), { message: /Invalid rank -1, rank should be in the interval \[0, 2\]/ });
  for (const o of [{}, { numReplicas: 2 }, { rank: 0 }]) {
    assert.throws(() => new DistributedSampler(ds, o), {
      name: 'TorchError',
      message: /not given and the default process group has not been initialized; pass \{ numReplicas, rank \}.*initProcessGroup/,
    });
  }
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 2, rank: 0, drop_last: true }), {
    name: 'TorchError',
    message: /unknown option 'drop_last'; it takes numReplicas, rank, shuffle, seed, dropLast/,
  });
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 0, rank: 0 }), /argument 'numReplicas' must be a positive integer, got number 0/);
  assert.throws(() => new DistributedSampler(ds, { numReplicas: '2', rank: 0 }), /argument 'numReplicas'/);
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 2, rank: 0.5 }), /argument 'rank' must be an integer/);
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 2, rank: 0, shuffle: 1 }), /argument 'shuffle' must be a boolean/);
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 2, rank: 0, dropLast: 'yes' }), /argument 'dropLast' must be a boolean/);
  assert.throws(() => new DistributedSampler(ds, { numReplicas: 2, rank: 0, seed: 1.5 }), /argument 'seed' must be an integer/);
  assert.throws(() => new DistributedSampler(null, { numReplicas: 2, rank: 0 }), /argument 'dataset' must be a Dataset/);
  assert.throws(() => new DistributedSampler({ length: -1 }, { numReplicas: 2, rank: 0 }), /argument 'dataset'/);
  assert.throws(() => new DistributedSampler(ds, 3), /argument 'options'/);
  assert.throws(() => s.setEpoch('1'), /setEpoch\(\): argument 'epoch' must be an integer/);
  // The dataset growing under the sampler (or shrinking with dropLast): PyTorch's assertion, as a TorchError.
  // (Shrinking without dropLast pads back to totalSize, as in PyTorch.)
  const grow = { length: 10 };
  const g = new DistributedSampler(grow, { numReplicas: 2, rank: 0 });
  const d = new DistributedSampler(grow, { numReplicas: 2, rank: 0, dropLast: true });
  grow.length = 12;
  assert.throws(() => [...g], { name: 'TorchError', message: /number of indices \(22\) does not match totalSize \(10\)/ });
  grow.length = 6;
  assert.equal([...g].length, 5);
  assert.throws(() => [...d], { name: 'TorchError', message: /number of indices \(6\) does not match totalSize \(10\)/ });
});

test('without numReplicas/rank the default process group registered through setDefaultGroupInfo is used', () => {
  let group = { rank: 2, worldSize: 3 };
  setDefaultGroupInfo(() => group);
  try {
    const s = new DistributedSampler({ length: 10 });
    assert.equal(s.numReplicas, 3);
    assert.equal(s.rank, 2);
    const t = new DistributedSampler({ length: 10 }, { rank: 0 });
    assert.equal(t.numReplicas, 3);
    assert.equal(t.rank, 0);
    assert.throws(() => new DistributedSampler({ length: 10 }, { numReplicas: 2 }), /Invalid rank 2, rank should be in the interval \[0, 1\]/);
    group = null;
    assert.throws(() => new DistributedSampler({ length: 10 }), /default process group has not been initialized/);
  } finally {
    setDefaultGroupInfo(null);
  }
  assert.throws(() => setDefaultGroupInfo(5), /argument 'lookup'/);
});

test('no tensors leaked', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
