'use strict';
// torch.load against hostile and broken files: pickles that call os.system / eval / getattr /
// subprocess.Popen / exec, wrong storage sizes, out-of-range offsets and view extents, huge
// declared shapes, truncated and corrupt zips, zip bombs, bad byteorder, not-a-zip files, the
// legacy format and TorchScript archives. Each must be a TorchError whose message says what is
// wrong (asserted by regex), nothing may run (a marker file the payloads would create stays
// absent), and a failed load must leave no tensors behind. Ends with a bounded fuzz run
// (test/fuzz/torch-load.js) in a child process, so a native crash shows as a failed exit.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { spawnSync } = require('child_process');
const torch = require('../dist');
const tf = require('../dist/serialization/torch-file');
const { pickle } = require('../dist/serialization/pickle');
const { zipChunks } = require('../dist/serialization/zip');
const { runPython } = require('./helpers/python');

const baseline = torch.memory().liveTensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-hostile-'));
const marker = path.join(dir, 'MARKER');

test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(torch.memory().liveTensors, baseline, 'live tensors back to the baseline');
});

/** Loading `input` must throw a TorchError matching `re` (and with `code` if given), leaving nothing alive. */
function rejects(input, re, code, options) {
  const live = torch.memory().liveTensors;
  assert.throws(
    () => tf.load(input, options),
    (e) => {
      assert.ok(e instanceof torch.TorchError, `expected a TorchError, got ${e?.stack}`);
      assert.match(e.message, re);
      if (code) assert.equal(e.code, code, e.message);
      return true;
    },
  );
  assert.equal(torch.memory().liveTensors, live, 'a failed load leaves no tensors');
  assert.equal(fs.existsSync(marker), false, 'no payload ran');
}

let crafted;
test.before(() => {
  crafted = new Set(runPython(fs.readFileSync(path.join(__dirname, 'reference', 'hostile.py'), 'utf8'), { dir, marker }));
});
const file = (name) => {
  assert.ok(crafted.has(name), `hostile.py wrote ${name}`);
  return path.join(dir, `${name}.pt`);
};

test('pickles that want to run code name the global and run nothing', () => {
  const unsafe = (g) =>
    new RegExp(`unsupported global '${g.replace('.', '\\.')}' in .*: this file wants to run code, and torch-node never runs code from a file`);
  rejects(file('os_system'), unsafe('posix.system'), 'ERR_TORCH_UNSAFE');
  rejects(file('raw_os_system'), unsafe('os.system'), 'ERR_TORCH_UNSAFE');
  rejects(file('builtins_eval'), unsafe('builtins.eval'), 'ERR_TORCH_UNSAFE');
  rejects(file('builtins_exec'), unsafe('builtins.exec'), 'ERR_TORCH_UNSAFE'); // protocol 4: STACK_GLOBAL
  rejects(file('builtins_getattr'), unsafe('builtins.getattr'), 'ERR_TORCH_UNSAFE');
  rejects(file('subprocess_popen'), unsafe('subprocess.Popen'), 'ERR_TORCH_UNSAFE');
  rejects(file('after_tensor'), unsafe('posix.system'), 'ERR_TORCH_UNSAFE');
  rejects(file('newobj_unknown'), unsafe('builtins.object'), 'ERR_TORCH_UNSAFE');
  rejects(file('inst_opcode'), /opcode 0x69 \('i'\) builds arbitrary objects, and torch-node never runs code from a file/, 'ERR_TORCH_UNSAFE');
  rejects(file('build_on_list'), /BUILD of a list: only OrderedDict, Tensor and Parameter can be built/, 'ERR_TORCH_UNSAFE');
  // Also in memory and through the async and mmap paths.
  rejects(new Uint8Array(fs.readFileSync(file('os_system'))), unsafe('posix.system'));
  rejects(file('os_system'), unsafe('posix.system'), 'ERR_TORCH_UNSAFE', { mmap: true });
});

test('loadAsync rejects the same way', async () => {
  await assert.rejects(tf.loadAsync(file('builtins_eval')), /unsupported global 'builtins\.eval'/);
  await assert.rejects(tf.loadAsync(file('view_extent')), /needs 9 elements of storage '0', which holds 4 float32 elements/);
  assert.equal(torch.memory().liveTensors, baseline);
});

test('storage sizes, offsets, view extents and shapes are checked against the archive', () => {
  rejects(file('wrong_numel'), /storage '0' declares 100 float32 elements \(400 bytes\), but its record 'wrong_numel\/data\/0' holds 16 bytes/);
  rejects(file('numel_huge'), /storage '0' declares 4611686018427387904 elements/);
  rejects(
    file('offset_out_of_range'),
    /a tensor of shape \[1\] with strides \[1\] at offset 10 needs 11 elements of storage '0', which holds 4 float32 elements/,
  );
  rejects(file('view_extent'), /shape \[3, 3\] with strides \[3, 1\] at offset 0 needs 9 elements of storage '0'/);
  rejects(file('view_extent_offset'), /shape \[3\] with strides \[1\] at offset 2 needs 5 elements/);
  rejects(file('huge_shape'), /shape \[1099511627776, 1099511627776\] .* has 1208925819614629174706176 elements, more than torch-node can index/);
  rejects(file('huge_shape_stride0'), /strides \[0, 0\] .* more than torch-node can index/);
  rejects(file('negative_stride'), /a tensor's stride holds -1, not a non-negative integer/);
  rejects(file('float_size'), /a tensor's size holds a float, not a non-negative integer/);
  rejects(file('size_stride_mismatch'), /a tensor has 2 sizes but 1 strides/);
  rejects(file('missing_record'), /storage '7' has no record 'missing_record\/data\/7' in the archive/);
  rejects(file('dtype_clash'), /storage '0' is used as both float32 and float64/);
  rejects(file('int_requires_grad'), /a tensor of dtype int64 is marked requires_grad/);
  rejects(file('not_a_storage'), /a tensor's storage is a string, not a storage/);
  rejects(file('bad_pid'), /persistent ids of kind string "module" are not supported/);
  rejects(
    file('complex_storage'),
    /holds ComplexFloatStorage storages \('torch\.ComplexFloatStorage'\), which torch-node does not support/,
    'ERR_TORCH_UNSUPPORTED',
  );
});

test('broken pickles: truncated, bad memo, huge lengths, deep nesting, unknown opcodes, stack underflow', () => {
  rejects(file('pickle_truncated'), /pickle_truncated\/data\.pkl\) at byte \d+: (a GLOBAL name without its newline|the pickle data ends early)/);
  rejects(file('bad_memo'), /BINGET of memo 5, which was never stored/);
  rejects(file('long_string'), /the pickle data ends early \(needs 2147483647 more bytes, 4 left\)/);
  rejects(file('deep_nesting'), /containers nested more than 1000 levels deep/);
  rejects(file('unknown_opcode'), /unsupported pickle opcode 0xff/);
  rejects(file('stack_underflow'), /the pickle stack is empty/);
});

test('byteorder, the legacy format, TorchScript archives and files that are not zips', () => {
  rejects(file('big_endian'), /written on a big-endian machine \(byteorder 'big'\); torch-node reads little-endian files only/, 'ERR_TORCH_UNSUPPORTED');
  rejects(file('bad_byteorder'), /unknown byteorder "middle"/);
  // the legacy (pre-1.6) format loads (test/legacy-format.test.js has its golden and hostile cases)
  torch.tidy(() => assert.deepEqual(tf.load(file('legacy')).get('w').tolist(), [1, 1]));
  rejects(file('torchscript'), /this is a TorchScript archive \(torch\.jit\.save\); load it with torch\.jit\.load/);
  const notZip = /is not a valid PyTorch zip archive: (no end-of-central-directory record|the file is \d+ bytes, too short)/;
  rejects(new Uint8Array(0), notZip);
  rejects(Buffer.from('hello, world: not a checkpoint at all\n'), notZip);
  rejects(Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(4096, 7)]), notZip);
  const rnd = Buffer.alloc(1 << 20);
  for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761) >>> 24;
  rejects(rnd, notZip);
  fs.writeFileSync(path.join(dir, 'empty.pt'), '');
  rejects(path.join(dir, 'empty.pt'), /the file is 0 bytes, too short/);
});

test('a truncated zip is an error at every cut point, and corrupt data fails its CRC', () => {
  const valid = fs.readFileSync(file('valid'));
  torch.tidy(() => void tf.load(valid)); // the base file is fine (tidy frees what it loaded)
  let cuts = 0;
  for (let n = 0; n < valid.length; n += 3) {
    rejects(valid.subarray(0, n), /torch\.load: <buffer>.*(not a valid PyTorch zip archive|truncated|ends early)/, 'ERR_TORCH_LOAD');
    cuts++;
  }
  assert.ok(cuts > 500, `${cuts} cut points`);
  // One flipped bit in a tensor record: the CRC catches it (mmap loads do not read the data, so do not check it).
  const pos = valid.indexOf('valid/data/0') + 'valid/data/0'.length;
  const dataStart = Math.ceil((pos + 4) / 64) * 64; // the record's data starts on the next 64-byte boundary
  const bad = Buffer.from(valid);
  bad[dataStart + 1] ^= 0x10;
  const crcError = /entry 'valid\/data\/0' fails its CRC check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): the file is corrupt/;
  rejects(bad, crcError);
  // From a path the record is read natively into the tensor, checksummed as it arrives: the same check.
  const badFile = path.join(dir, 'bad-crc.pt');
  fs.writeFileSync(badFile, bad);
  const before = torch.memory().liveTensors;
  rejects(badFile, crcError);
  assert.equal(torch.memory().liveTensors, before, 'the tensor read before the CRC failed is freed');
});

test('loadAsync reads records on the thread pool with the same checks; a file that ends early is ERR_TORCH_IO', async () => {
  const valid = fs.readFileSync(file('valid'));
  const pos = valid.indexOf('valid/data/0') + 'valid/data/0'.length;
  const bad = Buffer.from(valid);
  bad[Math.ceil((pos + 4) / 64) * 64 + 1] ^= 0x10;
  const badFile = path.join(dir, 'bad-crc-async.pt');
  fs.writeFileSync(badFile, bad);
  const before = torch.memory().liveTensors;
  await assert.rejects(tf.loadAsync(badFile), (e) => e instanceof torch.TorchError && /entry 'valid\/data\/0' fails its CRC check/.test(e.message));
  assert.equal(torch.memory().liveTensors, before, 'nothing is left alive after the failed async load');
  const good = await tf.loadAsync(file('valid'));
  assert.ok(torch.memory().liveTensors > before);
  torch.dispose(good); // a Map, as Python's dict
  assert.equal(torch.memory().liveTensors, before);
  // The native reader on a file shorter than the record it is asked for (as when a file is truncated
  // while it is being loaded): ERR_TORCH_IO naming the byte, sync and async, and no tensor left behind.
  const { native } = require('../dist/binding');
  const short = path.join(dir, 'short.bin');
  fs.writeFileSync(short, Buffer.alloc(100, 1));
  const fd = fs.openSync(short, 'r');
  try {
    const ioError = (e) =>
      e instanceof torch.TorchError &&
      e.code === 'ERR_TORCH_IO' &&
      /the file ended at byte 100 while reading 400 bytes at 0 \(was it truncated while loading\?\)/.test(e.message);
    assert.throws(() => native.readStored(fd, 0, 400, 6, 100, true), ioError);
    await assert.rejects(native.readStoredAsync(fd, 0, 400, 6, 100, true), ioError);
    assert.throws(() => native.readStored(fd, 0, 401, 6, 100, true), /readStored: 401 bytes do not hold 100 elements of Float/);
    const [id, crc] = await native.readStoredAsync(fd, 0, 100, 1, 100, true); // 100 int8 ones
    assert.equal(crc, zlib.crc32(Buffer.alloc(100, 1)) >>> 0, 'the async reader checksums as zlib does');
    native.free(id);
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(torch.memory().liveTensors, before);
});

test('the native record reader checksums with carry-less multiplication and with the table alike', () => {
  // A real checkpoint (records of sizes that are not multiples of the 1 MiB read chunk or of 16 bytes)
  // loads with both CRC implementations (binding/crc32.cc), and the flipped bit is caught by both.
  const big = path.join(dir, 'crc-big.pt');
  torch.tidy(() => tf.save({ a: torch.arange(0, 700001, 1, { dtype: 'float64' }), b: torch.ones([3, 5], { dtype: 'float32' }) }, big));
  const bytes = fs.readFileSync(big);
  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 40000] ^= 1; // inside the larger record's data, near its end
  const flippedFile = path.join(dir, 'crc-big-flipped.pt');
  fs.writeFileSync(flippedFile, flipped);
  const code = `
    const tf = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist'))});
    const m = tf.load(${JSON.stringify(big)});
    const a = m.get('a');
    const out = { sum: a.sum().item(), n: a.numel(), b: m.get('b').sum().item() };
    try { tf.load(${JSON.stringify(flippedFile)}); out.flipped = 'loaded'; } catch (e) { out.flipped = e.message; }
    console.log(JSON.stringify(out));`;
  for (const env of [{}, { TORCH_NODE_CRC: 'table' }]) {
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.n, 700001, JSON.stringify(env));
    assert.equal(out.sum, (700000 * 700001) / 2, JSON.stringify(env));
    assert.equal(out.b, 15);
    assert.match(out.flipped, /fails its CRC check/, JSON.stringify(env));
  }
});

// ---- hand-built zips: bombs, overlaps, lying sizes ----------------------------------------------
const u16 = (v) => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v) => {
  const b = BigInt(v);
  return [...u32(Number(b & 0xffffffffn)), ...u32(Number(b >> 32n))];
};

/**
 * A zip whose every field can lie: entries { name, data (bytes stored), method, size (declared
 * uncompressed), comp (declared compressed), crc, lho (declared local header offset), zip64 }.
 */
function makeZip(entries) {
  const parts = [];
  const central = [];
  let pos = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const lho = pos;
    const local = Buffer.from([
      ...u32(0x04034b50),
      ...u16(20),
      ...u16(0),
      ...u16(e.method ?? 0),
      ...u16(0),
      ...u16(0),
      ...u32(0),
      ...u32(0),
      ...u32(0),
      ...u16(name.length),
      ...u16(0),
    ]);
    parts.push(local, name, e.data);
    pos += local.length + name.length + e.data.length;
    const size = e.size ?? e.data.length;
    const comp = e.comp ?? e.data.length;
    const big = e.zip64 || size >= 0xffffffff || comp >= 0xffffffff;
    const extra = big ? [...u16(1), ...u16(16), ...u64(size), ...u64(comp)] : [];
    central.push(
      Buffer.from([
        ...u32(0x02014b50),
        ...u16(20),
        ...u16(20),
        ...u16(0),
        ...u16(e.method ?? 0),
        ...u16(0),
        ...u16(0),
        ...u32(e.crc ?? zlib.crc32(e.raw ?? e.data) >>> 0),
        ...u32(big ? 0xffffffff : comp),
        ...u32(big ? 0xffffffff : size),
        ...u16(name.length),
        ...u16(extra.length),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u32(0),
        ...u32(e.lho ?? lho),
      ]),
      name,
      Buffer.from(extra),
    );
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.from([
    ...u32(0x06054b50),
    ...u16(0),
    ...u16(0),
    ...u16(entries.length),
    ...u16(entries.length),
    ...u32(cd.length),
    ...u32(pos),
    ...u16(0),
  ]);
  return Buffer.concat([...parts, cd, eocd]);
}

/** data.pkl bytes: { w: tensor over storage '0' (numel elements of float32), shape [n] }. */
function pklFor(numel, n = 1) {
  return Buffer.from(
    pickle(new Map([['w', { fake: true }]]), {
      tensorOf: (v) =>
        v.fake
          ? { storageName: 'FloatStorage', key: '0', location: 'cpu', numel, offset: 0, size: [n], stride: [1], requiresGrad: false, parameter: false }
          : null,
    }),
  );
}

const version = { name: 'a/version', data: Buffer.from('3\n') };

test('hand-built zips: deflate bombs, lying and overlapping entries, duplicates, bad end records', () => {
  // A deflate entry declaring 2^40 bytes from 100 compressed bytes: refused before any allocation.
  const bomb = makeZip([
    { name: 'a/data.pkl', data: pklFor(2 ** 38) },
    version,
    { name: 'a/data/0', data: Buffer.alloc(100, 1), method: 8, size: 2 ** 40, crc: 0 },
  ]);
  rejects(bomb, /compressed entry 'a\/data\/0' declares 1099511627776 bytes from 100 compressed bytes, beyond deflate's maximum ratio \(a zip bomb\?\)/);
  // 16 MB of zeros deflated to a few KB but declared as 16 bytes: inflation stops at the declared size.
  const zeros = zlib.deflateRawSync(Buffer.alloc(16 << 20));
  const liar = makeZip([{ name: 'a/data.pkl', data: pklFor(4) }, version, { name: 'a/data/0', data: zeros, method: 8, size: 16, crc: 0 }]);
  rejects(liar, /entry 'a\/data\/0' does not inflate to its declared 16 bytes/);
  // Deflated records are otherwise fine (what a zip tool re-packing a .pt file produces).
  const four = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  const pkl = pklFor(4, 4);
  const deflated = makeZip([
    { name: 'a/data.pkl', data: zlib.deflateRawSync(pkl), raw: pkl, method: 8, size: pkl.length },
    version,
    { name: 'a/data/0', data: zlib.deflateRawSync(four), raw: four, method: 8, size: 16 },
  ]);
  const ok = tf.load(deflated);
  assert.deepEqual(ok.get('w').tolist(), [1, 2, 3, 4]);
  ok.get('w').dispose();
  // A stored entry declaring more data than the file holds (zip64 sizes).
  rejects(
    makeZip([{ name: 'a/data.pkl', data: pkl }, version, { name: 'a/data/0', data: four, size: 2 ** 50, comp: 2 ** 50, zip64: true }]),
    /entry 'a\/data\/0' declares 1125899906842624 bytes at byte \d+, past the end of the data area/,
  );
  // An entry whose data runs over the next entry (overlapping entries: the zip-bomb trick).
  rejects(
    makeZip([{ name: 'a/data.pkl', data: pkl }, { name: 'a/data/0', data: four, size: 40, comp: 40 }, version]),
    /entries 'a\/data\/0' and 'a\/version' overlap/,
  );
  // Many central-directory entries over one local header.
  const many = makeZip([
    { name: 'a/data.pkl', data: pkl },
    version,
    ...Array.from({ length: 20 }, (_, i) => ({ name: `a/data/${i}`, data: i === 0 ? four : Buffer.alloc(0), lho: 0 })),
  ]);
  rejects(many, /not a valid PyTorch zip archive: (entries .* overlap|the local header at byte 0 names 'a\/data\.pkl', the central directory 'a\/data\/\d+')/);
  rejects(makeZip([{ name: 'a/data.pkl', data: pkl }, { name: 'a/data.pkl', data: pkl }, version]), /the archive holds two entries named 'a\/data\.pkl'/);
  rejects(makeZip([{ name: 'a/data.pkl', data: pkl }, version, { name: 'a/data/0', data: four, method: 12 }]), /entry 'a\/data\/0' uses compression method 12/);
  rejects(makeZip([{ name: 'a/version', data: Buffer.from('3\n') }]), /the archive has no 'a\/data\.pkl'/);
  rejects(makeZip([{ name: 'data.pkl', data: pkl }]), /the first file in the archive, 'data\.pkl', is not in a folder/);
  rejects(
    makeZip([
      { name: 'a/data.pkl', data: pkl },
      { name: 'a/version', data: Buffer.from('99\n') },
    ]),
    /file format version 99 is not supported/,
  );
  // End records that point outside the file.
  const good = makeZip([{ name: 'a/data.pkl', data: pkl }, version, { name: 'a/data/0', data: four }]);
  const badCd = Buffer.from(good);
  badCd.writeUInt32LE(0x7fffffff, badCd.length - 6); // central directory offset
  rejects(badCd, /the central directory \(\d+ bytes at byte 2147483647\) runs past its end record/);
  const badCount = Buffer.from(good);
  badCount.writeUInt16LE(60000, badCount.length - 12);
  rejects(badCount, /60000 entries cannot fit in a central directory of \d+ bytes/);
  const w = tf.load(good);
  assert.deepEqual(w.get('w').tolist(), [1, 2, 3, 4]);
  w.get('w').dispose();
});

test('torch-node writes the same zip layout it checks: its own file passes, with data aligned to 64 bytes', () => {
  const out = path.join(dir, 'own.pt');
  torch.tidy(() => tf.save({ a: torch.ones(3), b: torch.arange(5) }, out));
  const records = [...zipChunks('own', [{ name: 'data.pkl', size: 1, data: Buffer.from('x') }])];
  assert.equal(records[0].length % 64, 0, 'the header is padded so data starts on a 64-byte boundary');
  const back = tf.load(out, { mmap: true });
  assert.deepEqual(back.get('b').tolist(), [0, 1, 2, 3, 4]);
  back.get('a').dispose();
  back.get('b').dispose();
});

test('bounded fuzz: 500 mutations of real files each load or throw a TorchError; no crash, no leak', () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fuzz', 'torch-load.js'), '--iterations', '500', '--seed', '20251123', '--file', file('valid')], {
    encoding: 'utf8',
    timeout: 60000,
  });
  assert.equal(r.signal, null, `the fuzz process died of ${r.signal}:\n${r.stderr}`);
  assert.equal(r.status, 0, `the fuzz run failed:\n${r.stderr}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(summary.iterations, 500);
  const errors = Object.values(summary.errors).reduce((a, b) => a + b, 0);
  assert.equal(summary.loaded + errors, 500);
  assert.ok(errors > 250, `most mutations are refused (${errors})`);
});
