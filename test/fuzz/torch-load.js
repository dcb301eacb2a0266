#!/usr/bin/env node
'use strict';
// Fuzz target for torch.load (lib/serialization/torch-file.ts): mutates real .pt files (byte
// flips, interesting values, truncations, splices, insertions) and loads each one; a third of
// the inputs that load are saved and loaded again. Half the inputs
// are raw mutations of the file, aimed mostly at the zip headers and data.pkl; the other half
// mutate data.pkl (or another record) and re-zip it with valid CRCs, so the unpickler and the
// size / offset checks see the mutations instead of the CRC check. Every load must either succeed or throw a TorchError, and
// leave no tensors behind. Anything else — another exception, a leak, a crash of the process —
// fails: the input is written next to the report and the exit status is non-zero (a native crash
// shows as a signal in the parent). test/hostile-files.test.js runs a bounded run of this script.
//
//   node test/fuzz/torch-load.js --iterations 100000 [--seed 7] [--file a.pt --file b.pt] [--out DIR]
//
// The last line of stdout is a JSON summary: { iterations, loaded, errors: { code: count }, seed }.
const fs = require('fs');
const path = require('path');

const { fuzzArgs, random, records } = require('./harness');

const args = process.argv.slice(2);
const { iterations, seed, files, outDir } = fuzzArgs('torch-load-fuzz', args);

const torch = require('../../dist');
const tf = require('../../dist/serialization/torch-file');
const zip = require('../../dist/serialization/zip');

const { rand, randInt } = random(seed);

/** Seed files: the ones given, plus one torch-node writes (views, several dtypes, nested values). */
function seeds() {
  const out = files.map((f) => new Uint8Array(fs.readFileSync(f)));
  const own = path.join(outDir, 'seed.pt');
  torch.tidy(() => {
    const base = torch.arange(12).to('float32');
    const sd = tf.orderedDict(
      new Map([
        ['w', base.reshape(3, 4)],
        ['b', torch.ones([4], { dtype: 'float16' })],
        ['n', torch.tensor(3, { dtype: 'int64' })],
      ]),
    );
    Object.defineProperty(sd, '_metadata', { value: new Map([['', new Map([['version', 1]])]]), enumerable: false, writable: true });
    tf.save(
      {
        sd,
        col: base.reshape(3, 4).t(),
        mask: torch.tensor([1, 0, 1], { dtype: 'bool' }),
        groups: [{ lr: 0.5, betas: tf.tuple([0.9, 0.99]) }],
        state: new Map([[0, 'x']]),
      },
      own,
    );
  });
  out.push(new Uint8Array(fs.readFileSync(own)));
  return out;
}

/** Offsets worth aiming at: the zip headers and the pickle. */
function hotRanges(buf) {
  const ranges = [];
  for (let i = 0; i + 4 <= buf.length; i++) {
    if (buf[i] === 0x50 && buf[i + 1] === 0x4b && (buf[i + 2] === 1 || buf[i + 2] === 3 || buf[i + 2] === 5 || buf[i + 2] === 6))
      ranges.push([i, Math.min(buf.length, i + 64)]);
  }
  const pkl = Buffer.from(buf).indexOf('data.pkl');
  if (pkl >= 0) ranges.push([pkl, Math.min(buf.length, pkl + 1200)]);
  return ranges;
}

/** Mutates data.pkl (or another record) inside an otherwise valid archive: this reaches the unpickler. */
function mutatePickle(seed) {
  const recs = seed.records.map((r) => ({ ...r }));
  const target = rand() < 0.85 ? recs.find((r) => r.name === 'data.pkl') : recs[randInt(recs.length)];
  const m = mutate(target.data, []);
  target.data = m.data;
  // Sometimes drop or duplicate a record.
  if (rand() < 0.05) recs.splice(randInt(recs.length), 1);
  const chunks = [
    ...zip.zipChunks(
      seed.prefix,
      recs.map((r) => ({ name: r.name, size: r.data.length, data: r.data })),
    ),
  ];
  return { kind: `pickle-${m.kind}`, data: Buffer.concat(chunks) };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x20, 0x0a];

function mutate(src, hot) {
  const buf = Buffer.from(src);
  const pos = () => {
    if (hot.length && rand() < 0.6) {
      const [a, b] = hot[randInt(hot.length)];
      return a + randInt(Math.max(1, b - a));
    }
    return randInt(buf.length);
  };
  const kind = randInt(7);
  switch (kind) {
    case 0: {
      // flip bits
      const n = 1 + randInt(8);
      for (let i = 0; i < n; i++) buf[pos()] ^= 1 << randInt(8);
      return { kind: 'flip', data: buf };
    }
    case 1: {
      // interesting byte values, sometimes a 4-byte run (sizes and offsets)
      const p = pos();
      const run = rand() < 0.5 ? 1 : 4;
      const v = INTERESTING[randInt(INTERESTING.length)];
      for (let i = 0; i < run && p + i < buf.length; i++) buf[p + i] = v;
      return { kind: 'interesting', data: buf };
    }
    case 2:
      return { kind: 'truncate', data: buf.subarray(0, randInt(buf.length)) };
    case 3: {
      // delete a range
      const p = pos();
      const n = 1 + randInt(32);
      return { kind: 'delete', data: Buffer.concat([buf.subarray(0, p), buf.subarray(p + n)]) };
    }
    case 4: {
      // insert random bytes
      const p = pos();
      const ins = Buffer.alloc(1 + randInt(16));
      for (let i = 0; i < ins.length; i++) ins[i] = randInt(256);
      return { kind: 'insert', data: Buffer.concat([buf.subarray(0, p), ins, buf.subarray(p)]) };
    }
    case 5: {
      // copy one chunk over another (duplicated headers, records pointing at each other)
      const a = pos();
      const b = pos();
      const n = 1 + randInt(64);
      buf.copy(buf, b, a, Math.min(buf.length, a + n));
      return { kind: 'splice', data: buf };
    }
    default: {
      // random bytes in a hot range
      const p = pos();
      const n = 1 + randInt(24);
      for (let i = 0; i < n && p + i < buf.length; i++) buf[p + i] = randInt(256);
      return { kind: 'random', data: buf };
    }
  }
}

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
  }
}

function fail(i, what, input, err) {
  const file = path.join(outDir, `failure-${seed}-${i}.pt`);
  fs.writeFileSync(file, input);
  console.error(`iteration ${i}: ${what}; input saved as ${file}`);
  if (err) console.error(err?.stack ? err.stack : err);
  process.exit(1);
}

const corpus = seeds();
const hots = corpus.map(hotRanges);
const structured = corpus.map(records);
const baseline = torch.memory().liveTensors;
const summary = { iterations, loaded: 0, errors: {}, kinds: {}, seed };
const tmpFile = path.join(outDir, 'current.pt');
for (let i = 0; i < iterations; i++) {
  const k = randInt(corpus.length);
  const m = rand() < 0.5 ? mutatePickle(structured[k]) : mutate(corpus[k], hots[k]);
  summary.kinds[m.kind] = (summary.kinds[m.kind] || 0) + 1;
  const input = new Uint8Array(m.data);
  // Most loads from memory (fast); some from a file, with and without mmap, to cover those paths.
  const mode = i % 10 === 0 ? 'mmap' : i % 10 === 5 ? 'file' : 'buffer';
  let result;
  try {
    if (mode === 'buffer') result = tf.load(input);
    else {
      fs.writeFileSync(tmpFile, input);
      result = tf.load(tmpFile, { mmap: mode === 'mmap' });
    }
    summary.loaded++;
  } catch (e) {
    if (!(e instanceof torch.TorchError)) fail(i, `${m.kind} (${mode}): threw ${e?.constructor?.name}, not a TorchError`, input, e);
    if (!e.message.startsWith('torch.load')) fail(i, `${m.kind} (${mode}): a TorchError that does not say torch.load: ${e.message}`, input);
    summary.errors[e.code] = (summary.errors[e.code] || 0) + 1;
  }
  // Whatever loads must save again, and load back.
  if (result !== undefined && i % 3 === 0) {
    try {
      tf.save(result, path.join(outDir, 'resaved.pt'));
      release(tf.load(path.join(outDir, 'resaved.pt')));
      summary.resaved = (summary.resaved || 0) + 1;
    } catch (e) {
      fail(i, `${m.kind} (${mode}): loaded, but saving it again failed: ${e?.message}`, input, e);
    }
  }
  release(result);
  const live = torch.memory().liveTensors;
  if (live !== baseline) fail(i, `${m.kind} (${mode}): ${live - baseline} tensors left alive`, input);
}
if (!args.includes('--keep')) fs.rmSync(outDir, { recursive: true, force: true });
console.log(JSON.stringify(summary));
