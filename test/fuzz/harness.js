'use strict';
// What the fuzz targets (test/fuzz/*.js) share: their command line (--iterations, --seed, --file
// repeated, --out) and a reproducible random source (xorshift32 from the seed).
const fs = require('fs');
const os = require('os');
const path = require('path');

/** { iterations, seed, files, outDir } from argv (outDir: a new temp folder named after `name` unless --out). */
function fuzzArgs(name, argv = process.argv.slice(2)) {
  const opt = (flag, def) => {
    const i = argv.indexOf(`--${flag}`);
    return i >= 0 ? argv[i + 1] : def;
  };
  return {
    iterations: Number(opt('iterations', '1000')),
    seed: Number(opt('seed', String(Date.now() % 1e9))),
    files: argv.flatMap((a, i) => (a === '--file' ? [argv[i + 1]] : [])),
    outDir: opt('out', null) ?? fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`)),
  };
}

/** xorshift32 from `seed`: rand() in [0, 1), randInt(n) in [0, n), pick(xs). */
function random(seed) {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const randInt = (n) => Math.floor(rand() * n);
  return { rand, randInt, pick: (xs) => xs[randInt(xs.length)] };
}

/** A zip archive's records (name inside its top folder -> bytes), to rebuild mutated archives with valid CRCs. */
function records(buf) {
  const zip = require('../../dist/serialization/zip');
  const gen = zip.readDirectory(buf.length, 'seed');
  let step = gen.next();
  while (!step.done) step = gen.next(buf.subarray(step.value.offset, step.value.offset + step.value.length));
  const dir = step.value;
  const prefix = dir.entries[0].name.slice(0, dir.entries[0].name.indexOf('/'));
  return { prefix, records: dir.entries.map((e) => ({ name: e.name.slice(prefix.length + 1), data: buf.subarray(e.dataOffset, e.dataOffset + e.size) })) };
}

module.exports = { fuzzArgs, random, records };
