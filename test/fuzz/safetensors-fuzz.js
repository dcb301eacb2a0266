#!/usr/bin/env node
'use strict';
// Fuzzes the safetensors reader (lib/serialization/safetensors.ts) with mutations of real files:
// bit flips, header bytes and numbers replaced with hostile values, truncation, appended bytes,
// spans of the header deleted or repeated. Every mutant goes through load(buffer), loadFile with
// and without mmap, and readHeader; each must either load (its tensors' data is then read) or throw
// a TorchError. Anything else, a leaked tensor or a crash of the process is a failure.
//
//   node test/fuzz/safetensors-fuzz.js [--iterations N] [--seed S] [--file F.safetensors ...]
//
// test/safetensors.test.js runs a few hundred iterations; run millions by hand. Prints one JSON line
// {iterations, loaded, rejected, messages, failures, leaked} and exits 1 on any failure.
const fs = require('fs');
const os = require('os');
const path = require('path');
const torch = require('../../dist');
const st = require('../../dist/serialization/safetensors');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const iterations = Number(opt('--iterations', 1000));
let seed = Number(opt('--seed', Date.now() % 2 ** 31)) >>> 0 || 1;
const files = args.flatMap((a, i) => (args[i - 1] === '--file' ? [a] : []));

// xorshift32: reproducible from --seed.
function rand() {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 2 ** 32;
}
const ri = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[ri(xs.length)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-st-fuzz-'));
const baseline = torch.memory().liveTensors;

// The corpus: the files given, and a small file with every dtype written here.
const corpus = files.map((f) => fs.readFileSync(f));
torch.tidy(() => {
  const t = new Map([
    ['w', torch.randn(3, 4)],
    ['b', torch.randn(4).to('float16')],
    ['h', torch.randn(2, 2).to('bfloat16')],
    ['d', torch.randn(2).to('float64')],
    ['i8', torch.tensor([-1, 2, 3], { dtype: 'int8' })],
    ['u8', torch.tensor([1, 2, 250], { dtype: 'uint8' })],
    ['i16', torch.tensor([-300, 300], { dtype: 'int16' })],
    ['i32', torch.tensor([7], { dtype: 'int32' })],
    [
      'i64',
      torch.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'int64' },
      ),
    ],
    ['m', torch.tensor([true, false, true])],
    ['s', torch.tensor(2.5)],
    ['e', torch.zeros(0, 3)],
  ]);
  corpus.push(Buffer.from(st.save(t, { format: 'pt', note: 'fuzz seed' })));
});

const HOSTILE_NUMBERS = [
  '0',
  '-1',
  '1.5',
  '1e400',
  '4294967296',
  '9007199254740993',
  '18446744073709551616',
  '1099511627776',
  '2147483648',
  '99999999999999999999999',
  '-0',
  '[]',
  '{}',
  'null',
  '"x"',
];
const HEADER_CHARS = '0123456789[]{},:"-.eE FIUBOL_';

function headerSpan(buf) {
  if (buf.length < 8) return [8, 8];
  const n = Number(buf.readBigUInt64LE(0));
  return [8, Math.min(buf.length, 8 + (Number.isFinite(n) ? n : 0))];
}

function mutate(src) {
  let b = Buffer.from(src);
  const [h0, h1] = headerSpan(b);
  const kind = ri(10);
  switch (kind) {
    case 0: // flip a bit anywhere
      b[ri(b.length)] ^= 1 << ri(8);
      break;
    case 1: // a header byte becomes a JSON-ish character
      if (h1 > h0) b[h0 + ri(h1 - h0)] = HEADER_CHARS.charCodeAt(ri(HEADER_CHARS.length));
      break;
    case 2: // the length prefix
      b[ri(8)] = ri(256);
      break;
    case 3: // truncate
      b = b.subarray(0, ri(b.length));
      break;
    case 4: // append bytes
      b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + ri(64) }, () => ri(256)))]);
      break;
    case 5: {
      // a number of the header becomes a hostile value (length prefix kept consistent when it fits)
      const text = b.subarray(h0, h1).toString('latin1');
      const nums = [...text.matchAll(/-?\d+/g)];
      if (!nums.length) break;
      const m = pick(nums);
      const repl = pick(HOSTILE_NUMBERS);
      const t2 = text.slice(0, m.index) + repl + text.slice(m.index + m[0].length);
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(t2.length));
      b = Buffer.concat([head, Buffer.from(t2, 'latin1'), b.subarray(h1)]);
      break;
    }
    case 6: {
      // delete a span of the header (and fix the length)
      const text = b.subarray(h0, h1).toString('latin1');
      const i = ri(text.length + 1);
      const t2 = text.slice(0, i) + text.slice(i + ri(16));
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(t2.length));
      b = Buffer.concat([head, Buffer.from(t2, 'latin1'), b.subarray(h1)]);
      break;
    }
    case 7: {
      // repeat a span of the header
      const text = b.subarray(h0, h1).toString('latin1');
      const i = ri(text.length + 1);
      const t2 = text.slice(0, i) + text.slice(i, i + ri(40)) + text.slice(i);
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(t2.length));
      b = Buffer.concat([head, Buffer.from(t2, 'latin1'), b.subarray(h1)]);
      break;
    }
    case 8: // random bytes in the data buffer (always loads: data is not validated)
      if (b.length > h1) b[h1 + ri(b.length - h1)] = ri(256);
      break;
    default: // several flips
      for (let k = 0; k < 1 + ri(8); k++) b[ri(b.length)] = ri(256);
  }
  return { kind, bytes: b };
}

const { TorchError } = torch;
let loaded = 0;
let rejected = 0;
const messages = new Map();
const failures = [];
const file = path.join(dir, 'm.safetensors');

function attempt(what, fn, mutant) {
  try {
    const out = fn();
    if (out instanceof Map) {
      for (const t of out.values()) {
        t.toTypedArray(); // reads every byte of the tensor
        t.dispose();
      }
    }
    loaded++;
  } catch (e) {
    if (e instanceof TorchError) {
      rejected++;
      const key = e.message
        .replace(/^[^:]*: [^:]*: /, '')
        .replace(/\d+/g, 'N')
        .slice(0, 60);
      messages.set(key, (messages.get(key) || 0) + 1);
    } else {
      failures.push({ what, kind: mutant.kind, error: String(e?.stack ? e.stack : e), hex: mutant.bytes.subarray(0, 512).toString('hex') });
    }
  }
}

for (let i = 0; i < iterations; i++) {
  const m = mutate(pick(corpus));
  fs.writeFileSync(file, m.bytes);
  attempt('load', () => st.load(m.bytes), m);
  attempt('loadFile mmap', () => st.loadFile(file), m);
  attempt('loadFile copy', () => st.loadFile(file, { mmap: false }), m);
  attempt('readHeader', () => st.readHeader(file), m);
}
fs.rmSync(dir, { recursive: true, force: true });
const leaked = torch.memory().liveTensors - baseline;
const top = [...messages].sort((a, b) => b[1] - a[1]).slice(0, 25);
process.stdout.write(JSON.stringify({ iterations, loaded, rejected, leaked, messages: Object.fromEntries(top), failures: failures.slice(0, 20) }) + '\n');
process.exitCode = failures.length || leaked ? 1 : 0;
