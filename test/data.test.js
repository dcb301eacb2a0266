'use strict';
// TensorDataset / DataLoader / randomSplit: batching, dropLast, collate, shuffling (orders equal
// PyTorch's for a seeded generator and for the global RNG), errors; no tensors leaked.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');
const { TensorDataset, DataLoader, randomSplit, defaultCollate } = require('../dist').utils.data;
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;

let py;
test.before(() => {
  py = runPython(`
import json, sys, torch
from torch.utils.data import DataLoader, TensorDataset, random_split
ds = TensorDataset(torch.arange(10))
out = {}
dl = DataLoader(ds, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(7))
out['seeded'] = [[b[0].tolist() for b in dl] for _ in range(3)]
dl = DataLoader(ds, batch_size=4, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(3))
out['seededDrop'] = [[b[0].tolist() for b in dl] for _ in range(2)]
torch.manual_seed(5)
dl = DataLoader(ds, batch_size=4, shuffle=True)
out['global'] = [[b[0].tolist() for b in dl] for _ in range(2)]
out['after'] = torch.rand(3).tolist()
out['split'] = [list(s.indices) for s in random_split(range(10), [3, 7], generator=torch.Generator().manual_seed(1))]
torch.manual_seed(2)
out['splitFrac'] = [list(s.indices) for s in random_split(range(10), [0.3, 0.7])]
print(json.dumps(out))
`);
});

const rows = (loader) => [...loader].map((b) => torch.tidy(() => b[0].tolist()));

test('TensorDataset and DataLoader: batches, shapes, dropLast, length', () => {
  torch.tidy(() => {
    const x = torch.arange(20, { dtype: 'float32' }).reshape([10, 2]);
    const y = torch.arange(10);
    const ds = new TensorDataset(x, y);
    assert.equal(ds.length, 10);
    const [xi, yi] = ds.get(3);
    assert.deepEqual(xi.tolist(), [6, 7]);
    assert.equal(yi.item(), 3);
    assert.deepEqual(ds.get(-1)[1].item(), 9);
    const dl = new DataLoader(ds, { batchSize: 4 });
    assert.equal(dl.length, 3);
    const batches = [...dl];
    assert.deepEqual(
      batches.map((b) => b[0].shape),
      [
        [4, 2],
        [4, 2],
        [2, 2],
      ],
    );
    assert.deepEqual(
      batches.map((b) => b[1].tolist()),
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
      ],
    );
    assert.equal(batches[0][0].dtype, 'float32');
    const dd = new DataLoader(ds, { batchSize: 4, dropLast: true });
    assert.equal(dd.length, 2);
    assert.deepEqual(
      rows(new DataLoader(ds, { batchSize: 4, dropLast: true })).map((r) => r.length),
      [4, 4],
    );
    assert.equal(new DataLoader(ds).length, 10);
  });
});

test('custom collate and defaultCollate on numbers, objects and arrays', () => {
  torch.tidy(() => {
    const ds = { length: 5, get: (i) => ({ x: torch.full([2], i), label: i, w: i / 2, name: `s${i}` }) };
    const dl = new DataLoader(ds, { batchSize: 2 });
    const b = [...dl][0];
    assert.deepEqual(b.x.tolist(), [
      [0, 0],
      [1, 1],
    ]);
    assert.equal(b.label.dtype, 'int64');
    assert.equal(b.w.dtype, 'float64');
    assert.deepEqual(b.name, ['s0', 's1']);
    const sums = [...new DataLoader(ds, { batchSize: 2, collate: (s) => s.reduce((a, e) => a + e.label, 0) })];
    assert.deepEqual(sums, [1, 5, 4]);
    assert.deepEqual(
      defaultCollate([
        [1, true],
        [2, false],
      ]).map((t) => t.tolist()),
      [
        [1, 2],
        [true, false],
      ],
    );
    assert.throws(() => defaultCollate([[1], [1, 2]]), /each element in list of batch should be of equal size/);
    assert.throws(() => defaultCollate([new Map()]), /defaultCollate\(\): a batch must contain tensors/);
  });
});

test('shuffle: every index once per epoch, same seed same order, equal to PyTorch', () => {
  torch.tidy(() => {
    const ds = new TensorDataset(torch.arange(10));
    const dl = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    const epochs = [0, 1, 2].map(() => rows(dl));
    for (const e of epochs)
      assert.deepEqual(
        e.flat().sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
    assert.notDeepEqual(epochs[0], epochs[1]);
    assert.deepEqual(epochs, py.seeded);
    const again = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    assert.deepEqual(rows(again), epochs[0]);
    const drop = new DataLoader(ds, { batchSize: 4, shuffle: true, dropLast: true, seed: 3 });
    assert.deepEqual([rows(drop), rows(drop)], py.seededDrop);
    torch.manualSeed(5);
    const g = new DataLoader(ds, { batchSize: 4, shuffle: true });
    assert.deepEqual([rows(g), rows(g)], py.global);
    const after = torch.rand([3]).tolist();
    after.forEach((v, i) => assert.ok(Math.abs(v - py.after[i]) < 1e-7, 'global RNG stream after the loader'));
  });
});

test('randomSplit: sizes, disjoint cover, seeded and global orders equal PyTorch', () => {
  torch.tidy(() => {
    const ds = new TensorDataset(torch.arange(10));
    const [a, b] = randomSplit(ds, [3, 7], { seed: 1 });
    assert.equal(a.length, 3);
    assert.equal(b.length, 7);
    assert.deepEqual(
      [...a.indices, ...b.indices].sort((p, q) => p - q),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual([a.indices, b.indices], py.split);
    assert.equal(a.get(0)[0].item(), a.indices[0]);
    torch.manualSeed(2);
    assert.deepEqual(
      randomSplit(ds, [0.3, 0.7]).map((s) => s.indices),
      py.splitFrac,
    );
    assert.throws(() => randomSplit(ds, [3, 3]), /randomSplit\(\): sum of input lengths \(6\) does not equal the length of the input dataset \(10\)/);
  });
});

test('bad input errors', () => {
  torch.tidy(() => {
    assert.throws(
      () => new TensorDataset(torch.zeros([3]), torch.zeros([4, 2])),
      /TensorDataset\(\): size mismatch between tensors: first dimensions are 3, 4/,
    );
    assert.throws(() => new TensorDataset(), /TensorDataset\(\): at least one tensor is needed/);
    assert.throws(() => new TensorDataset(torch.tensor(1)), /0-dimensional/);
    assert.throws(() => new TensorDataset([1, 2]), /TensorDataset\(\): argument 'tensors\[0\]' must be a Tensor/);
    const ds = new TensorDataset(torch.zeros([3]));
    assert.throws(() => ds.get(3), /TensorDataset.get\(\): index 3 is out of range for a dataset of length 3/);
    assert.throws(() => new DataLoader(ds, { batchSize: 0 }), /DataLoader\(\): argument 'batchSize' must be a positive integer/);
    assert.throws(() => new DataLoader([1, 2]), /DataLoader\(\): argument 'dataset' must be a Dataset/);
    assert.throws(() => new DataLoader(ds, { seed: -1 }), /DataLoader\(\): argument 'seed' must be a non-negative integer/);
    assert.throws(() => new DataLoader(ds, { collate: 3 }), /argument 'collate' must be a function/);
  });
});

test('no tensors leaked by this file', () => {
  assert.equal(torch.memory().liveTensors, baseline);
});
