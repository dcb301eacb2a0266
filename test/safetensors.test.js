'use strict';
// safetensors (lib/serialization/safetensors.ts): round trips of every dtype with identical bits,
// interop both ways with Python PyTorch 2.15 run live (the reference Python has no `safetensors`
// package, so test/reference/safetensors_ref.py writes and reads the format by hand from its spec),
// zero-copy mmap loading, and hostile files — each rejected with a TorchError whose message is
// asserted — plus a bounded fuzz run in a child process (test/fuzz/safetensors-fuzz.js).
// Tolerance: none — every comparison is of the exact bytes (SHA-256 of the row-major LE bytes).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const torch = require('../dist');
const st = require('../dist/serialization/safetensors');
const { native } = require('../dist/binding');
const { idOf, wrap } = require('../dist/tensor');
const { safetensorsFixtures } = require('./helpers/safetensors-fixtures');

const baseline = torch.memory().liveTensors;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-safetensors-'));
const { py, fixture, pyFile } = safetensorsFixtures(tmp);

const ST = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int8: 'I8',
  uint8: 'U8',
  int16: 'I16',
  int32: 'I32',
  int64: 'I64',
  bool: 'BOOL',
};
const CODES = { uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11, bfloat16: 15 };
const SIZE = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, int32: 4, int64: 8, bool: 1 };

/** The row-major bytes of a tensor's elements. */
function bytesOf(t) {
  return torch.tidy(() => {
    const c = t.contiguous().clone();
    return Buffer.from(native.storageBytes(idOf(c, 'bytesOf', 't')));
  });
}
const sha = (t) => crypto.createHash('sha256').update(bytesOf(t)).digest('hex');
const info = (t) => ({ dtype: ST[t.dtype], shape: t.shape, sha256: sha(t) });
const describeAll = (m) => Object.fromEntries([...m].map(([k, t]) => [k, info(t)]));

/** A tensor with exactly these bytes. */
function fromBytes(bytes, dtype, shape) {
  const n = bytes.length / SIZE[dtype];
  return wrap(native.fromBytes(bytes, CODES[dtype], n)).reshape(shape);
}

/** Every dtype from random bits (NaN payloads, denormals, infinities included), views and corner shapes. */
function jsTensors() {
  const out = new Map();
  for (const dtype of Object.keys(ST)) {
    const bytes = crypto.randomBytes(24 * SIZE[dtype]);
    if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i] &= 1;
    out.set(`${dtype}.bits`, fromBytes(bytes, dtype, [4, 6]));
  }
  out.set('f16.special', torch.tensor([0, -0, Infinity, -Infinity, NaN, 65504, 6e-8, -1.5]).to('float16'));
  out.set('bf16.special', torch.tensor([0, -0, Infinity, -Infinity, NaN, 3e38, 1e-40, -1.5]).to('bfloat16'));
  out.set('i64.extremes', torch.tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n])));
  out.set('scalar', torch.tensor([2.5]).reshape([]));
  out.set('empty', torch.zeros(0, 5));
  out.set('transposed', torch.arange(12).reshape(3, 4).t()); // not contiguous: written row-major
  out.set('narrowed', torch.arange(100, { dtype: 'int16' }).narrow(0, 10, 5)); // a view into a bigger storage
  out.set('u8.odd', torch.tensor([1, 2, 3], { dtype: 'uint8' })); // an odd size before wider dtypes
  return out;
}

test('every dtype round-trips with identical bits: file (mmap and not) and memory; output is byte-stable', () =>
  torch.tidy(() => {
    const t = jsTensors();
    const file = path.join(tmp, 'roundtrip.safetensors');
    st.saveFile(t, file);
    const bytes = fs.readFileSync(file);
    assert.equal(Buffer.compare(bytes, Buffer.from(st.save(t))), 0, 'saveFile and save write the same bytes');
    const want = describeAll(t);
    for (const [how, m] of [
      ['loadFile', st.loadFile(file)],
      ['loadFile mmap:false', st.loadFile(file, { mmap: false })],
      ['load', st.load(bytes)],
    ]) {
      assert.deepEqual([...m.keys()], [...t.keys()], `${how}: order`);
      assert.deepEqual(describeAll(m), want, `${how}: dtypes, shapes and bits`);
      assert.equal(Buffer.compare(Buffer.from(st.save(m)), bytes), 0, `${how}: saving what was loaded gives the same bytes`);
    }
    // The view wrote its 5 elements, not its 100-element storage.
    const h = st.readHeader(file);
    assert.deepEqual(h.tensors.find((x) => x.name === 'narrowed').nbytes, 10);
    assert.deepEqual(st.loadFile(file).get('narrowed').tolist(), [10, 11, 12, 13, 14]);
    assert.deepEqual(st.loadFile(file).get('transposed').tolist(), [
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
  }));

test('names keep their order and spelling (integer-like, dotted, unicode, empty, __proto__)', () =>
  torch.tidy(() => {
    const names = ['10', 'b', '2', '0', 'a.b.c', 'ünï/cødé 🙂', '', '__proto__', 'constructor'];
    const m = new Map(names.map((n, i) => [n, torch.full([2], i)]));
    const file = path.join(tmp, 'names.safetensors');
    st.saveFile(m, file);
    const back = st.loadFile(file);
    assert.deepEqual([...back.keys()], names);
    names.forEach((n, i) => assert.deepEqual(back.get(n).tolist(), [i, i]));
    assert.deepEqual(
      st.readHeader(file).tensors.map((x) => x.name),
      names,
    );
    // A plain object works as input too.
    st.saveFile({ w: torch.ones(2), b: torch.zeros(1) }, file);
    assert.deepEqual([...st.loadFile(file).keys()], ['w', 'b']);
  }));

test('metadata round-trips as strings; loadMetadata and readHeader do not need the data', () =>
  torch.tidy(() => {
    const file = path.join(tmp, 'meta.safetensors');
    const meta = new Map([
      ['format', 'pt'],
      ['quote"s', 'a\nb "c" ü'],
      ['__proto__', 'x'],
      ['json', JSON.stringify({ lr: 0.1 })],
    ]);
    st.saveFile({ w: torch.ones(3) }, file, meta);
    const got = st.loadMetadata(file);
    assert.deepEqual(Object.entries(got), [...meta]);
    assert.equal(Object.getPrototypeOf(got), Object.prototype, "a '__proto__' key is data, not a prototype");
    st.saveFile({ w: torch.ones(3) }, file, { a: '1' });
    assert.deepEqual(st.loadMetadata(file), { a: '1' });
    st.saveFile({ w: torch.ones(3) }, file);
    assert.equal(st.loadMetadata(file), null);
    // readHeader validates the whole header against the file but reads no tensor data.
    const h = st.readHeader(file);
    assert.deepEqual(h.tensors, [{ name: 'w', dtype: 'float32', safetensorsDtype: 'F32', shape: [3], numel: 3, nbytes: 12, dataOffsets: [0, 12] }]);
    assert.equal(h.headerBytes % 8, 0);
    assert.equal(h.dataStart, 8 + h.headerBytes);
    assert.throws(
      () => st.saveFile({ w: torch.ones(1) }, file, { epoch: 3 }),
      /safetensors\.saveFile\(\): metadata must map strings to strings \(the format allows nothing else\), got string "epoch" -> number 3/,
    );
    assert.throws(() => st.saveFile({ w: torch.ones(1) }, file, 'x'), /argument 'metadata' must be a Map or an object of string -> string, got string "x"/);
  }));

test('Python-written files (every dtype, torchvision ResNet-18) load with identical bits, order and metadata', () =>
  torch.tidy(() => {
    const ref = fixture();
    for (const [name, expected, order, meta] of [
      ['dtypes.safetensors', ref.dtypes, ref.order.dtypes, { source: 'python', n: '23' }],
      ['resnet18.safetensors', ref.resnet18, ref.order.resnet18, { format: 'pt' }],
    ]) {
      assert.equal(order[order.length - 1], name === 'dtypes.safetensors' ? '0' : 'fc.bias');
      for (const mmap of [true, false]) {
        const m = st.loadFile(pyFile(name), { mmap });
        assert.deepEqual([...m.keys()], order, `${name}: order`);
        assert.deepEqual(describeAll(m), expected, `${name} (mmap ${mmap}): dtypes, shapes, bits`);
        for (const t of m.values()) t.dispose();
      }
      assert.deepEqual(st.loadMetadata(pyFile(name)), meta);
    }
    const r = st.loadFile(pyFile('resnet18.safetensors'));
    assert.equal(r.size, 122);
    assert.deepEqual(r.get('fc.weight').shape, [1000, 512]);
    assert.equal(r.get('bn1.num_batches_tracked').item(), 7);
  }));

test('torch-node-written files read back in Python bit for bit, in the spec layout', () =>
  torch.tidy(() => {
    const ref = fixture();
    const t = jsTensors();
    const a = path.join(tmp, 'js-dtypes.safetensors');
    st.saveFile(t, a, { writer: 'torch-node', n: String(t.size) });
    // ResNet-18 from Python's file, written again by torch-node (through the mmap load).
    const b = path.join(tmp, 'js-resnet18.safetensors');
    st.saveFile(st.loadFile(pyFile('resnet18.safetensors')), b, { format: 'pt' });
    const got = py({ cmd: 'read', files: [a, b] });
    assert.deepEqual(got[a].tensors, describeAll(t));
    assert.deepEqual(got[a].order, [...t.keys()]);
    assert.deepEqual(got[a].metadata, { writer: 'torch-node', n: String(t.size) });
    assert.deepEqual(got[b].tensors, ref.resnet18, "the bits Python reads are torchvision's");
    assert.deepEqual(got[b].order, ref.order.resnet18);
    for (const f of [a, b]) {
      assert.deepEqual(got[f].layout.header_multiple_of_8, true);
      assert.deepEqual(got[f].layout.padding_is_spaces, true);
      assert.deepEqual(got[f].layout.aligned, true, 'every tensor starts at a multiple of its element size');
    }
  }));

test('mmap loading is zero-copy (64 MB file) and copy-on-write; values equal a copying load', () => {
  const file = path.join(tmp, 'big.safetensors');
  torch.tidy(() => st.saveFile({ x: torch.arange(16 * 1024 * 1024, { dtype: 'float32' }), y: torch.ones(7, { dtype: 'int64' }) }, file));
  assert.ok(fs.statSync(file).size > 64 * 1024 * 1024);
  torch.tidy(() => {
    const before = torch.memory().cpuBytes;
    const mapped = st.loadFile(file);
    const grew = torch.memory().cpuBytes - before;
    assert.ok(grew < 1024 * 1024, `mmap load grew cpuBytes by ${grew}`);
    const copied = st.loadFile(file, { mmap: false });
    assert.ok(torch.memory().cpuBytes - before >= 64 * 1024 * 1024, 'a copying load owns its memory');
    assert.ok(mapped.get('x').equal(copied.get('x')));
    assert.ok(mapped.get('y').equal(copied.get('y')));
    assert.deepEqual(
      mapped
        .get('x')
        .narrow(0, 16 * 1024 * 1024 - 2, 2)
        .tolist(),
      [16777214, 16777215],
    );
    // Writing to a mapped tensor copies the page; the file is untouched.
    mapped.get('x').narrow(0, 0, 4).fill_(-1);
    assert.deepEqual(mapped.get('x').narrow(0, 0, 5).tolist(), [-1, -1, -1, -1, 4]);
    assert.deepEqual(st.loadFile(file, { mmap: false }).get('x').narrow(0, 0, 5).tolist(), [0, 1, 2, 3, 4]);
  });
  // The mapping outlives the load call: tensors stay valid while the file is replaced.
  torch.tidy(() => {
    const m = st.loadFile(file);
    st.saveFile({ z: torch.zeros(1) }, file);
    assert.deepEqual(m.get('y').tolist(), [1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual([...st.loadFile(file).keys()], ['z']);
  });
});

test('tensors at offsets unaligned for their dtype (foreign writers) load correctly', () =>
  torch.tidy(() => {
    // U8[3] then F32[2] at data offset 3, with an unpadded header: nothing is aligned.
    const header = JSON.stringify({
      u: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
      f: { dtype: 'F32', shape: [2], data_offsets: [3, 11] },
      d: { dtype: 'F64', shape: [1], data_offsets: [11, 19] },
    });
    const data = Buffer.alloc(19);
    data.set([7, 8, 9]);
    data.writeFloatLE(1.5, 3);
    data.writeFloatLE(-2, 7);
    data.writeDoubleLE(Math.PI, 11);
    const file = path.join(tmp, 'unaligned.safetensors');
    fs.writeFileSync(file, raw(header, data));
    for (const m of [st.loadFile(file), st.loadFile(file, { mmap: false }), st.load(fs.readFileSync(file))]) {
      assert.deepEqual(m.get('u').tolist(), [7, 8, 9]);
      assert.deepEqual(m.get('f').tolist(), [1.5, -2]);
      assert.deepEqual(m.get('d').tolist(), [Math.PI]);
    }
  }));

test('device and option checks', () =>
  torch.tidy(() => {
    const file = path.join(tmp, 'dev.safetensors');
    st.saveFile({ w: torch.arange(6).reshape(2, 3) }, file);
    assert.equal(st.loadFile(file, { device: 'cpu' }).get('w').device, 'cpu');
    if (torch.cuda.isAvailable()) {
      for (const mmap of [true, false]) {
        const w = st.loadFile(file, { device: 'cuda', mmap }).get('w');
        assert.equal(w.device, 'cuda:0');
        assert.deepEqual(w.tolist(), [
          [0, 1, 2],
          [3, 4, 5],
        ]);
      }
      // Saving from CUDA writes the same bytes.
      const cpu = st.loadFile(file);
      assert.equal(Buffer.compare(Buffer.from(st.save({ w: cpu.get('w').cuda() })), Buffer.from(st.save(cpu))), 0);
    } else {
      assert.throws(() => st.loadFile(file, { device: 'cuda' }), /safetensors\.loadFile\(\): CUDA is not available/);
    }
    assert.throws(
      () => st.loadFile(file, { device: 'tpu' }),
      /safetensors\.loadFile\(\): argument 'device' must be 'cpu', 'cuda', 'cuda:N' or a torch\.device, got string "tpu"/,
    );
    assert.throws(() => st.loadFile(file, { mmap: 'yes' }), /safetensors\.loadFile\(\): argument 'mmap' must be a boolean, got string "yes"/);
    assert.throws(() => st.loadFile(42), /safetensors\.loadFile\(\): argument 'path' must be a file path \(string\), got number 42/);
    assert.throws(
      () => st.loadFile(path.join(tmp, 'nope.safetensors')),
      (e) => e.code === 'ERR_TORCH_IO' && /cannot open .*nope\.safetensors: ENOENT/.test(e.message),
    );
    assert.throws(
      () => st.loadFile(tmp),
      (e) => e.code === 'ERR_TORCH_IO' && /is not a file/.test(e.message),
    );
    assert.throws(() => st.load('abc'), /safetensors\.load\(\): argument 'data' must be a Uint8Array or Buffer, got string "abc"/);
  }));

test('saveFile: argument errors name the problem; a failed save leaves the previous file intact', () =>
  torch.tidy(() => {
    const file = path.join(tmp, 'keep.safetensors');
    st.saveFile({ w: torch.ones(2) }, file);
    const before = fs.readFileSync(file);
    const gone = torch.ones(1);
    gone.dispose();
    assert.throws(() => st.saveFile({ w: torch.ones(2), g: gone }, file), /safetensors\.saveFile\(\): argument 'tensors\["g"\]' was disposed/);
    assert.throws(() => st.saveFile({ w: [1, 2] }, file), /safetensors\.saveFile\(\): argument 'tensors\["w"\]' must be a Tensor, got an array of length 2/);
    assert.throws(() => st.saveFile(new Map([['__metadata__', torch.ones(1)]]), file), /'__metadata__' is reserved by the format and cannot name a tensor/);
    assert.throws(() => st.saveFile(new Map([[1, torch.ones(1)]]), file), /argument 'tensors' must be keyed by strings, got number 1/);
    assert.throws(() => st.saveFile(torch.ones(1), file), /argument 'tensors' must be a Map or an object of name -> Tensor, got a Tensor/);
    assert.throws(() => st.saveFile({ w: torch.ones(1) }, ''), /argument 'path' must be a file path \(string\)/);
    assert.throws(
      () => st.saveFile({ w: torch.ones(1) }, path.join(tmp, 'no', 'dir', 'x.safetensors')),
      (e) => e.code === 'ERR_TORCH_IO' && /cannot write/.test(e.message),
    );
    assert.equal(Buffer.compare(fs.readFileSync(file), before), 0);
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left behind',
    );
  }));

// ---- hostile files ----------------------------------------------------------------------------

/** A file: 8-byte LE length (default: the header's), the header text, the data. */
function raw(header, data = Buffer.alloc(0), length) {
  const h = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(length ?? h.length));
  return Buffer.concat([len, h, data]);
}
const entry = (dtype, shape, offsets) => ({ dtype, shape, data_offsets: offsets });
const hdr = (o) => JSON.stringify(o);

const HOSTILE = [
  ['a file shorter than the length field', () => Buffer.from([1, 2, 3, 4, 5]), /the file is 5 bytes, too short for the 8-byte header length/],
  [
    'header length beyond the file',
    () => raw('{}', Buffer.alloc(40), 1000),
    /the header length 1000 runs past the end of the file \(50 bytes; header at bytes 8\.\.1008\)/,
  ],
  [
    'a header over 100 MB declared',
    () => raw('{}', Buffer.alloc(0), 100_000_001),
    /the header declares 100000001 bytes, more than the 100 MB limit \(100000000 bytes\)/,
  ],
  ['a 2^64-1 header length', () => raw('{}', Buffer.alloc(0), 2n ** 64n - 1n), /the header declares 18446744073709551615 bytes, more than the 100 MB limit/],
  ['invalid JSON', () => raw('{"a": {"dtype": "F32", '), /the header is not valid JSON: /],
  ['a header that is not an object', () => raw('[1, 2]'), /the header must be a JSON object starting with '\{', got "\[1, 2\]"/],
  [
    'a header that is not UTF-8',
    () => Buffer.concat([raw('{"\xff"}').subarray(0, 8), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])]),
    /the header is not valid UTF-8/,
  ],
  [
    'an unknown dtype',
    () => raw(hdr({ a: entry('F128', [1], [0, 16]) }), Buffer.alloc(16)),
    /tensor "a": unknown dtype "F128"; safetensors dtypes are BOOL, U8, I8/,
  ],
  ['a dtype that is not a string', () => raw(hdr({ a: entry(7, [1], [0, 4]) }), Buffer.alloc(4)), /tensor "a": unknown dtype number 7/],
  [
    'offsets past the data buffer',
    () => raw(hdr({ a: entry('F32', [100], [0, 400]) }), Buffer.alloc(16)),
    /tensor "a": data_offsets \[0, 400\] run past the end of the data buffer \(16 bytes\): the file is truncated or the offsets are wrong/,
  ],
  [
    'overlapping entries',
    () => raw(hdr({ a: entry('F32', [4], [0, 16]), b: entry('F32', [4], [8, 24]) }), Buffer.alloc(24)),
    /tensor "b" \(data_offsets \[8, 24\]\) overlaps tensor "a" \(data_offsets \[0, 16\]\)/,
  ],
  [
    'two entries over the same bytes',
    () => raw(hdr({ a: entry('F32', [4], [0, 16]), b: entry('I32', [4], [0, 16]) }), Buffer.alloc(16)),
    /tensor "b" \(data_offsets \[0, 16\]\) overlaps tensor "a"/,
  ],
  [
    'a size mismatch',
    () => raw(hdr({ a: entry('F32', [4], [0, 12]) }), Buffer.alloc(12)),
    /tensor "a": data_offsets \[0, 12\] hold 12 bytes, but shape \[4\] of F32 needs 16 bytes/,
  ],
  [
    'huge shapes (2^40 x 2^40)',
    () => raw(hdr({ a: entry('F32', [2 ** 40, 2 ** 40], [0, 16]) }), Buffer.alloc(16)),
    /tensor "a": shape \[1099511627776, 1099511627776\] has more elements than a tensor can hold \(its size overflows 64 bits\)/,
  ],
  [
    'a huge shape with a matching size',
    () => raw(hdr({ a: entry('F32', [2 ** 40], [0, 2 ** 42]) }), Buffer.alloc(16)),
    /tensor "a": data_offsets \[0, 4398046511104\] run past the end of the data buffer \(16 bytes\)/,
  ],
  [
    'a shape beyond 2^53',
    () => raw('{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}}', Buffer.alloc(1)),
    /tensor "a": shape\[0\] = 18446744073709552000 is too large/,
  ],
  [
    'a negative dimension',
    () => raw(hdr({ a: entry('F32', [-1], [0, 4]) }), Buffer.alloc(4)),
    /tensor "a": shape\[0\] must be a non-negative integer, got number -1/,
  ],
  [
    'a fractional dimension',
    () => raw(hdr({ a: entry('F32', [1.5], [0, 4]) }), Buffer.alloc(4)),
    /tensor "a": shape\[0\] must be a non-negative integer, got number 1\.5/,
  ],
  [
    'a gap between entries',
    () => raw(hdr({ a: entry('F32', [4], [0, 16]), b: entry('F32', [4], [20, 36]) }), Buffer.alloc(36)),
    /bytes 16\.\.20 of the data buffer belong to no tensor \(a gap after "a", before "b"\)/,
  ],
  [
    'a gap at the start',
    () => raw(hdr({ a: entry('F32', [4], [4, 20]) }), Buffer.alloc(20)),
    /bytes 0\.\.4 of the data buffer belong to no tensor \(a gap at the start, before "a"\)/,
  ],
  [
    'bytes after the last tensor',
    () => raw(hdr({ a: entry('F32', [4], [0, 16]) }), Buffer.alloc(20)),
    /the data buffer is 20 bytes but the tensors cover only 16: 4 bytes after the last tensor "a" belong to no tensor/,
  ],
  [
    'a truncated file',
    () => raw(hdr({ a: entry('F32', [4], [0, 16]), b: entry('F32', [4], [16, 32]) }), Buffer.alloc(32)).subarray(0, -5),
    /tensor "b": data_offsets \[16, 32\] run past the end of the data buffer \(27 bytes\): the file is truncated/,
  ],
  [
    'non-string metadata',
    () => raw(hdr({ __metadata__: { epoch: 3 }, a: entry('U8', [1], [0, 1]) }), Buffer.alloc(1)),
    /__metadata__ value "epoch" must be a string, got number 3/,
  ],
  [
    'metadata that is not an object',
    () => raw(hdr({ __metadata__: ['x'] }), Buffer.alloc(0)),
    /__metadata__ must be an object of strings, got an array of length 1/,
  ],
  [
    'a name listed twice',
    () => raw('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', Buffer.alloc(2)),
    /the header lists "a" twice/,
  ],
  ['an entry without data_offsets', () => raw(hdr({ a: { dtype: 'F32', shape: [1] } }), Buffer.alloc(4)), /tensor "a": the entry has no 'data_offsets'/],
  ['an entry that is not an object', () => raw(hdr({ a: 5 })), /tensor "a": the entry must be an object \{ dtype, shape, data_offsets \}, got number 5/],
  [
    'offsets that are not a pair',
    () => raw(hdr({ a: entry('U8', [1], [0]) }), Buffer.alloc(1)),
    /tensor "a": data_offsets must be \[begin, end\] with non-negative integers, got \[0\]/,
  ],
  [
    'offsets that end before they begin',
    () => raw(hdr({ a: entry('U8', [0], [1, 0]) }), Buffer.alloc(1)),
    /tensor "a": data_offsets \[1, 0\] end before they begin/,
  ],
  [
    'a sub-byte dtype that ends mid-byte',
    () => raw(hdr({ a: entry('F4', [3], [0, 2]) }), Buffer.alloc(2)),
    /tensor "a": shape \[3\] of F4 is not a whole number of bytes/,
  ],
];

test('hostile files: each is a TorchError (ERR_TORCH_FILE) naming the problem; nothing is created', () => {
  const live = torch.memory().liveTensors;
  for (const [name, make, message] of HOSTILE) {
    const bytes = make();
    const file = path.join(tmp, 'hostile.safetensors');
    fs.writeFileSync(file, bytes);
    const check = (how) => (e) => {
      assert.ok(e instanceof torch.TorchError, `${name} (${how}): ${e?.stack}`);
      assert.equal(e.code, 'ERR_TORCH_FILE', `${name} (${how})`);
      assert.match(e.message, message, `${name} (${how})`);
      return true;
    };
    assert.throws(() => st.loadFile(file), check('loadFile'));
    assert.throws(() => st.loadFile(file, { mmap: false }), check('loadFile copy'));
    assert.throws(() => st.load(bytes), check('load'));
    assert.throws(() => st.readHeader(file), check('readHeader'));
    assert.equal(torch.memory().liveTensors, live, `${name}: no tensor was created`);
  }
  // The file is named in file errors, the buffer in memory errors.
  const mismatch = HOSTILE.find(([name]) => name === 'a size mismatch')[1];
  fs.writeFileSync(path.join(tmp, 'h2.safetensors'), mismatch());
  assert.throws(
    () => st.loadFile(path.join(tmp, 'h2.safetensors')),
    /^TorchError: safetensors\.loadFile\(\): .*h2\.safetensors: tensor "a": data_offsets \[0, 12\] hold/,
  );
  assert.throws(() => st.load(mismatch()), /^TorchError: safetensors\.load\(\): the buffer: tensor "a": data_offsets \[0, 12\] hold/);
});

test('valid dtypes torch-node has no tensors of: readable header, clear load error', () => {
  const file = path.join(tmp, 'u16.safetensors');
  fs.writeFileSync(file, raw(hdr({ a: entry('U16', [2], [0, 4]), b: entry('F8_E4M3', [4], [4, 8]) }), Buffer.alloc(8)));
  const h = st.readHeader(file);
  assert.deepEqual(
    h.tensors.map((t) => [t.name, t.dtype, t.safetensorsDtype, t.nbytes]),
    [
      ['a', null, 'U16', 4],
      ['b', null, 'F8_E4M3', 4],
    ],
  );
  assert.throws(
    () => st.loadFile(file),
    /tensor "a": dtype U16 is valid safetensors, but torch-node has no U16 tensors \(supported: F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL\)/,
  );
});

test('an empty file of tensors and the empty header round-trip', () =>
  torch.tidy(() => {
    const file = path.join(tmp, 'none.safetensors');
    st.saveFile(new Map(), file, { only: 'metadata' });
    assert.equal(st.loadFile(file).size, 0);
    assert.deepEqual(st.loadMetadata(file), { only: 'metadata' });
    assert.equal(st.load(raw('{}')).size, 0);
  }));

test('fuzz: 400 mutations of real files, each loads or throws a TorchError; no crash, no leak', () => {
  fixture();
  const r = spawnSync(
    process.execPath,
    [path.join(__dirname, 'fuzz', 'safetensors-fuzz.js'), '--iterations', '400', '--seed', '20240611', '--file', pyFile('dtypes.safetensors')],
    { encoding: 'utf8', timeout: 120000 },
  );
  assert.equal(r.signal, null, `the fuzz process was killed by ${r.signal}:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.deepEqual(out.failures, [], 'every failure is a TorchError');
  assert.equal(out.leaked, 0);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(out.loaded > 50 && out.rejected > 500, `loaded ${out.loaded}, rejected ${out.rejected}`);
});

test('no tensors leak', () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline);
});
