'use strict';
// torch.save / torch.load (lib/serialization/torch-file.ts) against Python PyTorch, run live:
// Python writes fixtures (ResNet-18 state dict, an Adam checkpoint, every dtype, views sharing a
// storage, non-contiguous tensors, a DataParallel state dict, nested containers, Parameters, a
// protocol-4 pickle); torch-node loads them with identical bits, keys, order, shapes, strides,
// dtypes, requires_grad and storage sharing; torch-node saves them (and objects it builds) and
// Python's default torch.load (weights_only=True) reads them back equal, with the same types
// (dict / OrderedDict, tuple / list, int / float, Parameter). Both sides describe values the same
// way (test/reference/serialization.py: describe); tensors are compared by the SHA-256 of their
// raw bytes, so every comparison is bit-exact (NaN payloads, -0, float16 / bfloat16 included).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const torch = require('../dist');
const { native } = require('../dist/binding');
const tf = require('../dist/serialization/torch-file');
const zip = require('../dist/serialization/zip');
const { runPython } = require('./helpers/python');

const REF = fs.readFileSync(path.join(__dirname, 'reference', 'serialization.py'), 'utf8');
const py = (input) => runPython(REF, input);
const baseline = torch.memory().liveTensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-ser-'));
const FIXTURES = ['resnet18', 'checkpoint', 'dtypes', 'views', 'noncontig', 'dataparallel', 'nested', 'params', 'proto4'];

// ---- describe(): the JS twin of serialization.py's Describer ------------------------------------
function f64(x) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, false);
  return Buffer.from(dv.buffer).toString('hex');
}

function rawBytes(t) {
  return torch.tidy(() => {
    const flat = t.detach().contiguous().reshape(-1);
    const n = flat.numel();
    if (n === 0) return Buffer.alloc(0);
    const isz = flat.elementSize();
    const all = Buffer.from(native.storageBytes(flat._h));
    return all.subarray(flat.storageOffset() * isz, (flat.storageOffset() + n) * isz);
  });
}

function describer() {
  const storages = new Map();
  let empty = 0;
  const storageIndex = (t) => {
    const [ptr] = native.storageInfo(t._h);
    const key = ptr === 'empty' ? `empty${++empty}` : `${t.device}:${ptr}`;
    if (!storages.has(key)) storages.set(key, storages.size);
    return storages.get(key);
  };
  const d = (v, container, key) => {
    if (v === null) return { k: 'none' };
    if (typeof v === 'boolean') return { k: 'bool', v };
    if (typeof v === 'bigint') return { k: 'int', v: String(v) };
    if (typeof v === 'number') {
      const asFloat = !Number.isSafeInteger(v) || Object.is(v, -0) || (container !== undefined && tf.isMarkedFloat(container, key));
      return asFloat ? { k: 'float', v: f64(v) } : { k: 'int', v: String(v) };
    }
    if (typeof v === 'string') return { k: 'str', v };
    if (v instanceof torch.Tensor) {
      return {
        k: tf.isParameter(v) ? 'param' : 'tensor',
        dtype: v.dtype,
        shape: v.shape,
        stride: v.stride(),
        offset: v.storageOffset(),
        rg: v.requiresGrad,
        sha: crypto.createHash('sha256').update(rawBytes(v)).digest('hex'),
        storage: storageIndex(v),
        device: v.device.split(':')[0],
      };
    }
    if (v instanceof Uint8Array) return { k: 'bytes', v: Buffer.from(v).toString('hex') };
    if (v instanceof torch.Device) return { k: 'device', v: v.toString() };
    if (Array.isArray(v)) return { k: tf.isTuple(v) ? 'tuple' : 'list', v: v.map((x, i) => d(x, v, i)) };
    if (v instanceof Map) {
      const out = { k: tf.isOrderedDict(v) || Object.hasOwn(v, '_metadata') ? 'odict' : 'dict', v: [...v].map(([k, x]) => [d(k), d(x, v, k)]) };
      if (Object.hasOwn(v, '_metadata')) out.meta = d(v._metadata);
      return out;
    }
    if (v instanceof Set) return { k: 'set', v: [...v].map((x) => JSON.stringify(sortKeys(d(x)))).sort() };
    if (typeof v === 'object') return { k: 'dict', v: Object.entries(v).map(([k, x]) => [d(k), d(x, v, k)]) };
    throw new Error(`cannot describe ${typeof v}`);
  };
  return d;
}
const describe = (v) => describer()(v);

function sortKeys(o) {
  if (Array.isArray(o)) return o.map(sortKeys);
  if (o && typeof o === 'object')
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  return o;
}

/** Disposes every tensor inside a loaded value. */
function release(v, seen = new Set()) {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof torch.Tensor) return v.dispose();
  if (Array.isArray(v) || v instanceof Set) for (const x of v) release(x, seen);
  else if (v instanceof Map) {
    for (const [k, x] of v) {
      release(k, seen);
      release(x, seen);
    }
    if (v._metadata) release(v._metadata, seen);
  } else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) release(x, seen);
}

function withLoaded(file, options, fn) {
  const obj = tf.load(file, options);
  try {
    return fn(obj);
  } finally {
    release(obj);
  }
}

let pyDesc;
test.before(() => {
  pyDesc = py({ cmd: 'write', dir });
});
test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline, 'live tensors back to the baseline');
});

// ---- Python -> torch-node ------------------------------------------------------------------------
test('Python files load with identical bits, keys, order, shapes, strides, dtypes, requires_grad and sharing', () => {
  for (const name of FIXTURES) {
    withLoaded(path.join(dir, `${name}.pt`), undefined, (obj) => {
      assert.deepEqual(describe(obj), pyDesc[name], `${name}.pt`);
    });
  }
});

test('ResNet-18 state dict: an OrderedDict Map in PyTorch order with _metadata, every tensor as Python has it', () => {
  withLoaded(path.join(dir, 'resnet18.pt'), undefined, (sd) => {
    assert.ok(sd instanceof Map && tf.isOrderedDict(sd));
    assert.equal(sd.size, 122);
    assert.deepEqual([...sd.keys()].slice(0, 3), ['conv1.weight', 'bn1.weight', 'bn1.bias']);
    assert.deepEqual(sd.get('fc.weight').shape, [1000, 512]);
    assert.equal(sd.get('bn1.num_batches_tracked').dtype, 'int64');
    assert.ok(sd._metadata instanceof Map && sd._metadata.get('layer1.0').get('version') === 1);
    assert.equal(Object.keys(sd).includes('_metadata'), false, '_metadata is not enumerable');
  });
});

test('Adam checkpoint: int keys stay numbers, betas a tuple, lr a float, step a float32 scalar', () => {
  withLoaded(path.join(dir, 'checkpoint.pt'), undefined, (ck) => {
    assert.equal(ck.get('epoch'), 7);
    const opt = ck.get('optimizer_state_dict');
    assert.deepEqual([...opt.get('state').keys()], [0, 1, 2, 3, 4, 5]);
    const group = opt.get('param_groups')[0];
    assert.ok(tf.isTuple(group.get('betas')));
    assert.equal(group.get('foreach'), null);
    assert.ok(tf.isMarkedFloat(ck, 'best'), "'best' was 1.0 in Python");
    const step = opt.get('state').get(0).get('step');
    assert.equal(step.dtype, 'float32');
    assert.deepEqual(step.shape, []);
    assert.equal(ck.get('note'), 'ünïcode ✓');
  });
});

test('views share one storage; non-contiguous tensors keep their strides', () => {
  withLoaded(path.join(dir, 'views.pt'), undefined, (v) => {
    const base = v.get('base');
    for (const k of ['grid', 'row', 'col', 'slice', 'cube']) assert.ok(v.get(k).sharesStorageWith(base), k);
    assert.equal(v.get('again'), base, 'the same Python object loads as the same Tensor');
    assert.deepEqual(v.get('col').stride(), [6]);
    assert.equal(v.get('col').storageOffset(), 2);
    assert.deepEqual(v.get('col').tolist(), [2, 8, 14, 20]);
    // Writing through one view is seen through the others, as in PyTorch.
    v.get('row').fill_(-1);
    assert.deepEqual(base.reshape(-1).tolist().slice(5, 13), [5, -1, -1, -1, -1, -1, -1, 12]);
  });
  withLoaded(path.join(dir, 'noncontig.pt'), undefined, (v) => {
    assert.equal(v.get('transposed').isContiguous(), false);
    assert.deepEqual(v.get('transposed').stride(), [1, 5]);
    assert.deepEqual(v.get('expanded').stride(), [1, 0]);
    assert.deepEqual(v.get('channels_last').stride(), [48, 1, 12, 3]);
  });
});

test('DataParallel state dicts keep their module. prefix; Parameters load as tensors with requiresGrad as saved', () => {
  withLoaded(path.join(dir, 'dataparallel.pt'), undefined, (sd) => {
    assert.deepEqual([...sd.keys()], ['module.0.weight', 'module.0.bias', 'module.2.weight', 'module.2.bias']);
  });
  withLoaded(path.join(dir, 'params.pt'), undefined, (p) => {
    assert.equal(p.get('w').requiresGrad, true);
    assert.ok(tf.isParameter(p.get('w')) && p.get('w').isLeaf);
    assert.equal(p.get('frozen').requiresGrad, false);
    assert.equal(p.get('rg').requiresGrad, true);
    assert.equal(tf.isParameter(p.get('rg')), false);
  });
});

test('nested values: ints beyond 2^53 are BigInt, floats keep -0 / NaN / inf, sets, bytes, devices, tuple keys', () => {
  withLoaded(path.join(dir, 'nested.pt'), undefined, (n) => {
    assert.equal(n.get('big'), 2n ** 64n);
    assert.equal(n.get('neg_big'), -(2n ** 70n));
    assert.equal(n.get('int_keys').get(2 ** 40), 'big key');
    const fl = n.get('floats');
    assert.ok(Object.is(fl[1], -0) && Number.isNaN(fl[2]) && fl[3] === Infinity);
    assert.ok(tf.isMarkedFloat(fl, 0));
    assert.deepEqual([...n.get('set')].sort(), [1, 2, 3]);
    assert.deepEqual([...n.get('bytes')], [0, 255, 97, 98]);
    assert.equal(n.get('device').toString(), 'cpu');
    const [tk] = [...n.get('tuple_key').keys()];
    assert.ok(tf.isTuple(tk));
    assert.deepEqual(tk, [1, 2]);
    assert.ok(tf.isTuple(n.get('size')));
  });
});

// ---- torch-node -> Python -------------------------------------------------------------------------
test('round trip: Python -> torch-node load -> save -> Python torch.load (weights_only=True) equals the original', () => {
  const files = [];
  for (const name of FIXTURES) {
    const out = path.join(dir, `rt-${name}.pt`);
    withLoaded(path.join(dir, `${name}.pt`), undefined, (obj) => tf.save(obj, out));
    files.push(out);
  }
  const back = py({ cmd: 'describe', files });
  FIXTURES.forEach((name, i) => assert.deepEqual(back[files[i]], pyDesc[name], `rt-${name}.pt`));
});

test('saves are byte-stable: save -> load -> save writes identical bytes', () => {
  fs.mkdirSync(path.join(dir, 'a'));
  fs.mkdirSync(path.join(dir, 'b'));
  for (const name of FIXTURES) {
    const a = path.join(dir, 'a', `${name}.pt`);
    const b = path.join(dir, 'b', `${name}.pt`);
    withLoaded(path.join(dir, `${name}.pt`), undefined, (obj) => tf.save(obj, a));
    withLoaded(a, undefined, (obj) => tf.save(obj, b));
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), `${name}: second save differs from the first`);
  }
});

/** An archive's records, read with zip.ts. */
function zipRecords(buf) {
  const gen = zip.readDirectory(buf.length, 'test');
  let step = gen.next();
  while (!step.done) step = gen.next(buf.subarray(step.value.offset, step.value.offset + step.value.length));
  const prefix = step.value.entries[0].name.split('/')[0];
  return {
    prefix,
    records: step.value.entries.map((e) => ({ name: e.name.slice(prefix.length + 1), size: e.size, data: buf.subarray(e.dataOffset, e.dataOffset + e.size) })),
  };
}

test("the zip writer lays records out exactly as PyTorch's writer does (byte for byte, given the same records)", () => {
  for (const name of FIXTURES) {
    const buf = fs.readFileSync(path.join(dir, `${name}.pt`));
    const { prefix, records } = zipRecords(buf);
    assert.ok(Buffer.concat([...zip.zipChunks(prefix, records)]).equals(buf), `${name}.pt`);
  }
});

test("a ResNet-18 state dict re-saved by torch-node has Python's data.pkl byte for byte and the same records", () => {
  const out = path.join(dir, 'resave', 'resnet18.pt');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  withLoaded(path.join(dir, 'resnet18.pt'), undefined, (sd) => tf.save(sd, out));
  const a = zipRecords(fs.readFileSync(path.join(dir, 'resnet18.pt')));
  const b = zipRecords(fs.readFileSync(out));
  assert.deepEqual(
    b.records.map((r) => r.name),
    a.records.map((r) => r.name),
  );
  for (let i = 0; i < a.records.length; i++) {
    if (a.records[i].name === '.data/serialization_id') continue; // a hash torch-node derives its own way
    assert.ok(Buffer.from(b.records[i].data).equals(Buffer.from(a.records[i].data)), a.records[i].name);
  }
});

function jsObject() {
  const base = torch.arange(12).to('float32');
  const grid = base.reshape(3, 4);
  const t = torch.tensor([1.5, -2, 3]);
  const dtypes = new Map();
  for (const dt of torch.DTYPES) dtypes.set(dt, torch.tensor(dt === 'bool' ? [1, 0, 1] : [0, 1, 2, 100], { dtype: dt }));
  const withMeta = new Map([['w', torch.ones(2)]]);
  Object.defineProperty(withMeta, '_metadata', { value: new Map([['', new Map([['version', 1]])]]), enumerable: false, writable: true });
  const floats = { lr: 1, momentum: 0.9, negzero: -0, nan: NaN, inf: -Infinity, huge: 1e300 };
  tf.markFloat(floats, 'lr');
  const rg = torch.randn([2, 2]).requiresGrad_(true);
  return {
    plain: { a: 1, b: 'two', c: null, d: true, e: false },
    intKeys: new Map([
      [0, 'zero'],
      [7, new Map([['x', 1]])],
      [-3, [1, 2]],
    ]),
    ordered: tf.orderedDict(
      new Map([
        ['z', 1],
        ['a', 2],
      ]),
    ),
    stateDict: withMeta,
    tuple: tf.tuple([1, 'a', tf.tuple([])]),
    list: [1, [2, [3]], []],
    floats,
    big: 2n ** 70n,
    bytes: new Uint8Array([0, 1, 255]),
    set: new Set([3, 1, 2]),
    device: torch.device('cpu'),
    dtypes,
    views: { base, grid, row: grid.select(0, 1), col: grid.select(1, 2), t: grid.t(), again: base },
    expanded: torch.ones([3, 1]).expand(3, 4),
    scalar: torch.tensor(5, { dtype: 'int64' }),
    empty: torch.zeros([0, 2]),
    rg,
    same: [t, t],
  };
}

test('torch-node objects save so that Python reads them with weights_only=True: same types, bits, strides and sharing', () => {
  torch.tidy(() => {
    const obj = jsObject();
    const file = path.join(dir, 'jsobj.pt');
    tf.save(obj, file);
    const want = describe(obj);
    const got = py({ cmd: 'describe', files: [file] })[file];
    assert.deepEqual(got, want);
    // And torch-node reads its own file back the same (a fresh Map of the plain object is a dict).
    withLoaded(file, undefined, (back) => assert.deepEqual(describe(back), want));
  });
});

test('Python re-saving a torch-node file gives back what torch-node wrote (Python -> torch-node -> Python -> torch-node)', () => {
  torch.tidy(() => {
    tf.save(jsObject(), path.join(dir, 'js-obj.pt'));
  });
  py({ cmd: 'roundtrip', dir, names: ['obj'] });
  const a = withLoaded(path.join(dir, 'js-obj.pt'), undefined, describe);
  const b = withLoaded(path.join(dir, 'py-obj.pt'), undefined, describe);
  assert.deepEqual(b, a);
});

test('shared and self-referencing containers keep their identity; a tuple containing itself is refused', () => {
  const list = [1];
  list.push(list);
  const shared = new Map([['k', 1]]);
  const file = path.join(dir, 'cycles.pt');
  tf.save({ list, a: shared, b: shared }, file);
  const back = tf.load(file);
  assert.equal(back.get('list')[1], back.get('list'));
  assert.equal(back.get('a'), back.get('b'));
  const fromPy = runPython(
    "import json, sys, torch\nr = torch.load(json.loads(sys.stdin.read()))\nprint(json.dumps([r['list'][1] is r['list'], r['a'] is r['b']]))",
    file,
  );
  assert.deepEqual(fromPy, [true, true]);
  const t = tf.tuple([1]);
  t.push(t);
  assert.throws(() => tf.save(t, file), /cannot save a tuple that contains itself \(at obj\[1\]\)/);
  const inner = [];
  const t2 = tf.tuple([inner]);
  inner.push(t2);
  assert.throws(() => tf.save({ t2 }, file), /cannot save a tuple that contains itself \(at obj\["t2"\]\[0\]\[0\]\)/);
});

// ---- mmap, mapLocation, async, atomic saves -----------------------------------------------------
test('mmap: the same tensors as a normal load, without copying a 64 MB file into memory', () => {
  const file = path.join(dir, 'big.pt');
  torch.tidy(() => tf.save({ big: torch.randn([16 * 1024 * 1024]), small: torch.arange(10) }, file));
  assert.ok(fs.statSync(file).size > 64 * 1024 * 1024);
  const before = torch.memory().cpuBytes;
  const mapped = tf.load(file, { mmap: true });
  const grown = torch.memory().cpuBytes - before;
  assert.ok(grown < 1024 * 1024, `cpuBytes grew by ${grown} bytes with mmap`);
  const copied = tf.load(file);
  assert.ok(torch.memory().cpuBytes - before >= 64 * 1024 * 1024, 'a normal load copies');
  torch.tidy(() => {
    assert.equal(mapped.get('big').eq(copied.get('big')).all().item(), true);
    assert.deepEqual(mapped.get('small').tolist(), copied.get('small').tolist());
  });
  // Copy-on-write: writing to a mapped tensor never touches the file.
  const sizeBefore = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  mapped.get('small').fill_(7);
  assert.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), sizeBefore);
  release(mapped);
  release(copied);
});

test('mapLocation: a device, a Device, a {from: to} object or Map, a function; CUDA without CUDA says why', () => {
  const file = path.join(dir, 'views.pt');
  const seen = [];
  for (const mapLocation of ['cpu', torch.device('cpu'), { cpu: 'cpu' }, new Map([['cpu', 'cpu']]), (loc) => (seen.push(loc), 'cpu'), () => null]) {
    withLoaded(file, { mapLocation }, (v) => assert.equal(v.get('base').device, 'cpu'));
  }
  assert.deepEqual(seen, ['cpu'], 'the function sees each storage location once');
  if (!torch.cuda.isAvailable()) {
    const live = torch.memory().liveTensors;
    for (const mapLocation of ['cuda', 'cuda:1', { cpu: 'cuda' }, () => 'cuda:0']) {
      assert.throws(
        () => tf.load(file, { mapLocation }),
        (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_NO_CUDA' && /CUDA is not available/.test(e.message),
      );
    }
    assert.equal(torch.memory().liveTensors, live, 'a failed load leaves no tensors');
  }
  assert.throws(() => tf.load(file, { mapLocation: 'tpu' }), /a storage saved on "cpu" maps to string "tpu", which is not a device torch-node can load to/);
  assert.throws(() => tf.load(file, { mapLocation: 42 }), /argument 'mapLocation' must be/);
});

test('mapLocation on files saved from CUDA (location cuda:0) or MPS: maps to the CPU, or loads on the GPU when there is one', () => {
  const file = path.join(dir, 'cuda-saved.pt');
  runPython(
    'import json, sys, torch, torch.serialization as s\n' +
      "req = json.loads(sys.stdin.read())\ns.location_tag = lambda storage: 'cuda:0'\n" +
      "torch.save({'w': torch.arange(4.0)}, req['file'])\n" +
      "s.location_tag = lambda storage: 'mps'\ntorch.save({'w': torch.arange(4.0)}, req['mps'])\nprint(json.dumps(True))",
    { file, mps: path.join(dir, 'mps-saved.pt') },
  );
  assert.throws(
    () => tf.load(path.join(dir, 'mps-saved.pt')),
    (e) => e.code === 'ERR_TORCH_UNSUPPORTED' && /a storage saved on "mps", a device torch-node does not have; pass mapLocation/.test(e.message),
  );
  withLoaded(path.join(dir, 'mps-saved.pt'), { mapLocation: 'cpu' }, (v) => assert.deepEqual(v.get('w').tolist(), [0, 1, 2, 3]));
  for (const mapLocation of ['cpu', { 'cuda:0': 'cpu' }, (loc) => (loc === 'cuda:0' ? 'cpu' : null)]) {
    withLoaded(file, { mapLocation }, (v) => {
      assert.equal(v.get('w').device, 'cpu');
      assert.deepEqual(v.get('w').tolist(), [0, 1, 2, 3]);
    });
  }
  if (torch.cuda.isAvailable()) {
    withLoaded(file, undefined, (v) => assert.equal(v.get('w').device, 'cuda:0'));
  } else {
    assert.throws(() => tf.load(file), /CUDA is not available.*saved on 'cuda:0'; pass \{ mapLocation: 'cpu' \}/s);
  }
});

test('loadAsync / saveAsync: same results as load / save, and the event loop keeps turning', async () => {
  const file = path.join(dir, 'resnet18.pt');
  let ticks = 0;
  let on = true;
  const tick = () => {
    ticks++;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  const obj = await tf.loadAsync(file);
  on = false;
  assert.ok(ticks > 5, `the event loop turned ${ticks} times during loadAsync`);
  try {
    assert.deepEqual(describe(obj), pyDesc.resnet18);
    const a = path.join(dir, 'async-a.pt');
    fs.mkdirSync(path.join(dir, 'async'), { recursive: true });
    const b = path.join(dir, 'async', 'async-a.pt'); // same base name: the archive folder inside is named after it
    await tf.saveAsync(obj, a);
    tf.save(obj, b);
    const back = await tf.loadAsync(a);
    assert.deepEqual(describe(back), pyDesc.resnet18);
    release(back);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'saveAsync and save write the same bytes');
  } finally {
    release(obj);
  }
  await assert.rejects(tf.loadAsync(path.join(dir, 'missing.pt')), (e) => e instanceof torch.TorchError && /cannot read .*missing\.pt/.test(e.message));
});

test('atomic save: an object that cannot be saved, or a write failing midway, leaves the previous file as it was', () => {
  const file = path.join(dir, 'atomic.pt');
  torch.tidy(() => tf.save({ w: torch.ones(3) }, file));
  const before = fs.readFileSync(file);
  const files = () => fs.readdirSync(dir).filter((f) => f.includes('atomic'));
  assert.throws(
    () => tf.save({ fn: () => 1 }, file),
    (e) => e instanceof torch.TorchError && /cannot save a function \(at obj\["fn"\]\)/.test(e.message),
  );
  assert.throws(() => tf.save(new Map([['x', [1, new Float32Array(2)]]]), file), /cannot save a Float32Array; make it a tensor first .*at obj\["x"\]\[1\]/);
  assert.throws(() => tf.save({ u: undefined }, file), /cannot save undefined/);
  const disposed = torch.ones(2);
  disposed.dispose();
  assert.throws(() => tf.save([disposed], file), /cannot save a disposed tensor \(at obj\[0\]\)/);
  // A disk that fills up after the first chunk.
  const real = fs.writeSync;
  let calls = 0;
  fs.writeSync = function (...args) {
    if (++calls > 1) {
      const e = new Error('ENOSPC: no space left on device, write');
      e.code = 'ENOSPC';
      throw e;
    }
    return real.apply(this, args);
  };
  try {
    torch.tidy(() =>
      assert.throws(
        () => tf.save({ w: torch.zeros(1000) }, file),
        (e) => e instanceof torch.TorchError && /cannot write .*ENOSPC/.test(e.message),
      ),
    );
  } finally {
    fs.writeSync = real;
  }
  assert.ok(calls > 1, 'the write failure was simulated');
  assert.ok(fs.readFileSync(file).equals(before), 'the previous file is unchanged');
  assert.deepEqual(files(), ['atomic.pt'], 'no temporary file is left behind');
  assert.throws(() => tf.save({}, path.join(dir, 'no-such-dir', 'x.pt')), /cannot write .*no-such-dir/);
  assert.throws(() => tf.save({}, ''), /argument 'f' must be a file path/);
});

test('saving over an existing file: the old content is released off the thread, and nothing is left behind', async () => {
  const sub = fs.mkdtempSync(path.join(dir, 'replace-'));
  const file = path.join(sub, 'ckpt.pt');
  const other = path.join(sub, 'other-name.pt');
  torch.tidy(() => tf.save({ w: torch.full([300000], 1, { dtype: 'float32' }) }, file));
  fs.linkSync(file, other); // a name the user made for the old content: it must keep it
  const oldBytes = fs.readFileSync(file);
  torch.tidy(() => tf.save({ w: torch.full([300000], 2, { dtype: 'float32' }) }, file));
  const three = torch.full([300000], 3, { dtype: 'float32' });
  await tf.saveAsync({ w: three }, file);
  three.dispose();
  for (let i = 0; i < 100 && fs.readdirSync(sub).length > 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(fs.readdirSync(sub).sort(), ['ckpt.pt', 'other-name.pt'], "the old content's hidden names are unlinked");
  torch.tidy(() => assert.equal(tf.load(file).get('w').sum().item(), 900000));
  assert.ok(fs.readFileSync(other).equals(oldBytes), 'another name of the old content still holds it');
  // A process that saves over a file and exits at once (process.exit) leaves no hidden name either:
  // here the background unlink never runs (stubbed), so only the exit hook can remove it.
  const code = `require('fs').unlink = () => {};
    const t = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist'))});
    t.save({ w: t.ones(100000) }, ${JSON.stringify(file)}); process.exit(0);`;
  const r = require('child_process').spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(sub).sort(), ['ckpt.pt', 'other-name.pt']);
  torch.tidy(() => assert.equal(tf.load(file).get('w').sum().item(), 100000));
});

test('save { fsync: false }: the same bytes, still atomic, without waiting for the disk; its options are checked', async () => {
  // The same file name in three folders: the archive's inner folder is named after the file.
  const [a, b, c] = ['a', 'b', 'c'].map((d) => {
    fs.mkdirSync(path.join(dir, `nofsync-${d}`), { recursive: true });
    return path.join(dir, `nofsync-${d}`, 'ckpt.pt');
  });
  const obj = { w: torch.arange(0, 1000, 1, { dtype: 'float32' }), step: 3 };
  try {
    tf.save(obj, a);
    tf.save(obj, b, { fsync: false });
    await tf.saveAsync(obj, c, { fsync: false });
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)) && fs.readFileSync(a).equals(fs.readFileSync(c)), 'same bytes with and without fsync');
    // Still atomic: a failing save leaves the previous file as it was.
    const before = fs.readFileSync(b);
    assert.throws(() => tf.save({ fn: () => 1 }, b, { fsync: false }), /cannot save a function/);
    assert.ok(fs.readFileSync(b).equals(before));
    assert.deepEqual(fs.readdirSync(path.dirname(b)), ['ckpt.pt'], 'no temporary file is left behind');
  } finally {
    torch.dispose(obj.w);
  }
  assert.throws(
    () => tf.save({}, a, { fsync: 'no' }),
    (e) => e.code === 'ERR_TORCH_ARG' && /argument 'fsync' must be a boolean/.test(e.message),
  );
  assert.throws(() => tf.save({}, a, { sync: false }), /unknown option 'sync'; it takes fsync/);
  assert.throws(() => tf.save({}, a, 5), /argument 'options' must be an object \{ fsync \}/);
  await assert.rejects(tf.saveAsync({}, a, { fsync: 1 }), /argument 'fsync' must be a boolean/);
});

test('load argument checks and in-memory data', () => {
  const file = path.join(dir, 'views.pt');
  withLoaded(new Uint8Array(fs.readFileSync(file)), undefined, (v) => assert.deepEqual(describe(v), pyDesc.views));
  assert.throws(() => tf.load(42), /argument 'f' must be a file path or a Uint8Array, got number 42/);
  assert.throws(() => tf.load(file, { mmap: 'yes' }), /argument 'mmap' must be a boolean/);
  assert.throws(() => tf.load(new Uint8Array(10), { mmap: true }), /mmap needs a file path/);
  assert.throws(
    () => tf.load(path.join(dir, 'nope.pt')),
    (e) => e.code === 'ERR_TORCH_IO' && /cannot read .*nope\.pt.*ENOENT/.test(e.message),
  );
});
