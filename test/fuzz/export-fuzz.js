#!/usr/bin/env node
'use strict';
// Fuzz target for torch.export.load (lib/export/): mutates real torch.export.save archives (.pt2)
// and loads each one; whatever loads is made into a module and run on inputs built from the
// archive's own input specs. A quarter of the inputs are raw byte mutations (truncations, flipped
// bits, lying sizes in the zip headers); the rest edit the JSON records (models/model.json and the
// weights' config) and re-zip them with valid CRCs, so the mutations reach the archive reader, the
// graph compiler and the interpreter: values replaced by hostile ones (wrong types, huge or
// negative numbers, deep nesting), operator targets swapped for unknown / higher-order / symbolic
// ones, subgraphs nested hundreds deep, pytree specs and symbolic sizes garbled, schema versions
// changed, tensor sizes and strides that lie about their payloads. Archives in the older layouts
// (torch 2.6's legacy zip with its records at the top level, torch 2.8's pickled weights) are
// mutated the same way, and their torch.save pickles (the state dict, the constants) are corrupted
// too: bytes flipped or cut in the pickle or in a storage record, re-zipped with valid CRCs so the
// corruption reaches torch.load's restricted unpickler. Every load and run must either
// succeed or throw a TorchError, leave no tensors behind and end in bounded time. Anything else —
// another exception, a leak, a crash of the process — fails: the input is written next to the
// report and the exit status is non-zero (a native crash shows as a signal in the parent).
// test/export.test.js runs a bounded run of this script on the archives it exports.
//
//   node test/fuzz/export-fuzz.js --file a.pt2 [--file b.pt2] [--iterations 2000] [--seed 7] [--out DIR]
//
// The last line of stdout is a JSON summary: { iterations, loaded, ran, errors: { code: count }, kinds, seed }.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const { fuzzArgs, random } = require('./harness');
const { nestedConds } = require('../helpers/export');

const args = process.argv.slice(2);
const { iterations, seed, files, outDir } = fuzzArgs('export-fuzz', args);
if (files.length === 0) {
  console.error('export-fuzz: give at least one --file archive.pt2 (torch.export.save output)');
  process.exit(2);
}

const torch = require('../../dist');
const tex = require('../../dist/export');
const zip = require('../../dist/serialization/zip');
const { unflatten, countLeaves } = require('../../dist/export/pytree');

const { rand, randInt, pick } = random(seed);

function nest(depth, leaf) {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}
// Values a mutation puts in place of another. Numbers stay small where they could be sizes the
// graph allocates (a legitimate archive may ask for a huge tensor; that is not a file-safety issue),
// except in the tensor metadata the reader checks against the payload before allocating.
const HOSTILE = () =>
  pick([
    0,
    1,
    -1,
    2,
    3,
    7,
    65,
    1.5,
    -0.0,
    null,
    true,
    false,
    '',
    'x',
    'torch.ops.aten.add.Tensor',
    [],
    {},
    [[]],
    { as_int: 1 },
    { as_tensor: { name: 'nope' } },
    { as_graph: { name: 'g', graph: null } },
    DEEP,
    { a: DEEP },
    nest(50, {}),
  ]);
// Nesting deeper than JSON.stringify recurses is spliced into the text after stringifying.
const DEEP = '@@deep-nesting@@';
const DEEP_JSON = '['.repeat(100000) + '0' + ']'.repeat(100000);
const HUGE = () => pick([2 ** 31, 2 ** 53, -(2 ** 31), 1e300, -5, 2 ** 40, 0.5]);
const TARGETS = [
  'torch.ops.aten.not_an_op.default',
  'torch.ops.higher_order.map_impl',
  'torch.ops.higher_order.cond',
  'torch.ops.higher_order.while_loop',
  'torch.ops.higher_order.wrap_with_set_grad_enabled',
  '_operator.floordiv',
  '_operator.truediv',
  'torch.sym_max',
  'torch.ops.aten.sym_size.int',
  'torch.ops.aten._assert_scalar.default',
  'builtins.eval',
  'os.system',
  'torch.ops.aten.add',
  '#ns:op',
  '',
];

/** Every (container, key) in a JSON value, up to a bound (for picking a random place to mutate). */
function places(root, limit = 20000) {
  const out = [];
  const stack = [root];
  while (stack.length && out.length < limit) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    for (const k of Object.keys(v)) {
      out.push([v, k]);
      stack.push(v[k]);
    }
  }
  return out;
}

/** A zip's records (name inside its top folder, or the whole name for a legacy zip without one -> bytes). */
function records(buf) {
  const gen = zip.readDirectory(buf.length, 'seed');
  let step = gen.next();
  while (!step.done) step = gen.next(buf.subarray(step.value.offset, step.value.offset + step.value.length));
  const entries = step.value.entries;
  const first = entries[0].name;
  const prefix =
    first.includes('/') && entries.every((e) => e.name.startsWith(first.slice(0, first.indexOf('/') + 1))) ? first.slice(0, first.indexOf('/')) : '';
  const data = (e) => {
    const raw = buf.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
    return e.method === 8 ? zlib.inflateRawSync(raw) : raw;
  };
  return { prefix, records: entries.map((e) => ({ name: prefix ? e.name.slice(prefix.length + 1) : e.name, data: data(e) })) };
}

/** A stored zip of records, under `prefix/` (torch's layout) or at the top level (the legacy export zip), with valid CRCs. */
function rezip(prefix, recs) {
  if (prefix)
    return Buffer.concat([
      ...zip.zipChunks(
        prefix,
        recs.map((r) => ({ name: r.name, size: r.data.length, data: r.data })),
      ),
    ]);
  const parts = [];
  const central = [];
  let pos = 0;
  for (const r of recs) {
    const name = Buffer.from(r.name);
    const crc = zlib.crc32(r.data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(r.data.length, 18);
    head.writeUInt32LE(r.data.length, 22);
    head.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(r.data.length, 20);
    c.writeUInt32LE(r.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(pos, 42);
    central.push(c, name);
    parts.push(head, name, Buffer.from(r.data));
    pos += 30 + name.length + r.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(recs.length, 8);
  end.writeUInt16LE(recs.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(pos, 16);
  return Buffer.concat([...parts, cd, end]);
}

const isModel = (r) => r.name === 'models/model.json' || r.name === 'serialized_exported_program.json';
/** The torch.save pickles the reader loads: the legacy zip's state dict and constants, torch 2.8's data/weights/model.pt. */
const isPickle = (r) => /(^serialized_(state_dict|constants)\.pt|^data\/(weights|constants)\/model\.pt)$/.test(r.name);

/** Corrupts one pickled payload (its data.pkl or a storage record, or the record itself) and re-zips with valid CRCs. */
function mutatePickle(seedRecs) {
  const recs = seedRecs.records.map((r) => ({ ...r }));
  const target = pick(recs.filter(isPickle));
  let data = Buffer.from(target.data);
  const kind = randInt(4);
  if (kind === 0) {
    data = data.subarray(0, randInt(data.length));
  } else {
    let inner;
    try {
      inner = records(data);
    } catch {
      inner = null;
    }
    if (!inner || kind === 1) {
      for (let i = 0, n = 1 + randInt(4); i < n; i++) data[randInt(data.length)] ^= 1 << randInt(8);
    } else {
      // inside the torch.save zip, so the CRCs hold: data.pkl (kind 2) or a storage record (kind 3)
      const pkl = inner.records.find((r) => r.name === 'data.pkl');
      const storages = inner.records.filter((r) => /^data\/\d+$/.test(r.name));
      const r = kind === 2 || storages.length === 0 ? pkl : pick(storages);
      if (r) {
        const b = Buffer.from(r.data);
        if (kind === 3 && rand() < 0.5) r.data = b.subarray(0, randInt(b.length));
        else {
          for (let i = 0, n = 1 + randInt(3); i < n; i++) b[randInt(b.length)] = rand() < 0.5 ? randInt(256) : b[randInt(b.length)];
          r.data = b;
        }
      }
      data = rezip(inner.prefix, inner.records);
    }
  }
  target.data = data;
  return { kind: 'pickle', data: rezip(seedRecs.prefix, recs) };
}

/** Mutates model.json (or the weights' config) of an otherwise valid archive. */
function mutateJson(seedRecs) {
  const recs = seedRecs.records.map((r) => ({ ...r }));
  const jsonRecs = recs.filter((r) => r.name.endsWith('.json'));
  const model = recs.find(isModel);
  const target = rand() < 0.75 ? model : pick(jsonRecs);
  const j = JSON.parse(Buffer.from(target.data).toString('utf8'));
  const all = places(j);
  let kind = randInt(9);
  if (target !== model && kind >= 2 && kind <= 6) kind = 0;
  switch (kind) {
    case 0: {
      const n = 1 + randInt(3);
      for (let i = 0; i < n; i++) {
        const [o, k] = pick(all);
        o[k] = HOSTILE();
      }
      break;
    }
    case 1: {
      // delete a key or an array element
      const [o, k] = pick(all);
      if (Array.isArray(o)) o.splice(Number(k), 1);
      else delete o[k];
      break;
    }
    case 2: {
      const nodes = places(j).filter(([o, k]) => k === 'target' && typeof o[k] === 'string');
      if (nodes.length) {
        const [o] = pick(nodes);
        o.target = pick(TARGETS);
      }
      break;
    }
    case 3: {
      // a deep chain of nested subgraphs as a node's argument
      const g = j.graph_module?.graph;
      if (g && Array.isArray(g.nodes) && g.nodes.length) {
        const depth = pick([17, 40, 300]);
        const node = pick(g.nodes);
        node.target = 'torch.ops.higher_order.cond';
        node.inputs = [
          { name: '', arg: { as_bool: true }, kind: 1 },
          { name: '', arg: { as_graph: { name: 't', graph: nestedConds(depth) } }, kind: 1 },
          { name: '', arg: { as_graph: { name: 'f', graph: nestedConds(1) } }, kind: 1 },
          { name: '', arg: { as_tensors: [] }, kind: 1 },
        ];
      }
      break;
    }
    case 4: {
      // the pytree specs
      const sig = j.graph_module?.module_call_graph?.[0]?.signature;
      if (sig) {
        const key = pick(['in_spec', 'out_spec']);
        sig[key] = pick([
          '[1, ' + '{"type": "builtins.tuple", "context": "null", "children_spec": ['.repeat(3000) + ']}'.repeat(3000) + ']',
          '[2, {}]',
          'not json',
          '[1, {"type": "collections.Counter", "context": "null", "children_spec": []}]',
          '[1, {"type": "builtins.dict", "context": "[\\"a\\"]", "children_spec": []}]',
          String(sig[key]).replace(/null, "context"/, '"builtins.list", "context"'),
        ]);
      }
      break;
    }
    case 5: {
      // symbolic sizes
      const exprs = places(j).filter(([o, k]) => k === 'expr_str');
      const bad = pick([
        "Symbol('s0'",
        'Mul('.repeat(500) + ')'.repeat(500),
        "Foo(Symbol('s0'))",
        "Add(Symbol('s0', positive=True), Symbol('s1'))",
        "FloorDiv(Symbol('s0'), Integer(0))",
        'x'.repeat(5000),
        "Mul(Integer(0), Symbol('s0'))",
      ]);
      if (exprs.length) pick(exprs)[0].expr_str = bad;
      else if (j.range_constraints) j.range_constraints.s0 = { min_val: 5, max_val: 2 };
      break;
    }
    case 6:
      j.schema_version = pick([{ major: 9, minor: 0 }, { major: 7, minor: 99 }, { major: '8' }, null, { major: 8, minor: -1 }]);
      break;
    default: {
      // tensor metadata that lies (sizes, strides, offsets, dtypes) — checked against the payload before allocating
      const metas = places(j).filter(([o, k]) => k === 'sizes' || k === 'strides' || k === 'storage_offset' || k === 'dtype');
      if (metas.length) {
        const [o, k] = pick(metas);
        if (Array.isArray(o[k]) && o[k].length) o[k][randInt(o[k].length)] = { as_int: HUGE() };
        else if (k === 'storage_offset') o[k] = { as_int: HUGE() };
        else if (k === 'dtype') o[k] = pick([0, 9, 29, 99, -1]);
        else o[k] = [{ as_int: HUGE() }];
      }
    }
  }
  target.data = Buffer.from(JSON.stringify(j).split(JSON.stringify(DEEP)).join(DEEP_JSON));
  return {
    kind: `json-${['replace', 'delete', 'target', 'nesting', 'pytree', 'symbolic', 'schema', 'meta'][Math.min(kind, 7)]}`,
    data: rezip(seedRecs.prefix, recs),
  };
}

function mutateBytes(src) {
  const buf = Buffer.from(src);
  const kind = randInt(4);
  if (kind === 0) return { kind: 'truncate', data: buf.subarray(0, randInt(buf.length)) };
  if (kind === 1) {
    for (let i = 0, n = 1 + randInt(8); i < n; i++) buf[randInt(buf.length)] ^= 1 << randInt(8);
    return { kind: 'flip', data: buf };
  }
  // zip headers: sizes and offsets that lie
  const heads = [];
  for (let i = 0; i + 4 <= buf.length; i++) if (buf[i] === 0x50 && buf[i + 1] === 0x4b && [1, 3, 5, 6].includes(buf[i + 2])) heads.push(i);
  const h = heads.length ? pick(heads) : 0;
  const p = Math.min(buf.length - 4, h + 4 + randInt(40));
  buf.writeUInt32LE(pick([0, 1, 0xffffffff, 0x7fffffff, buf.length, buf.length + 1, randInt(2 ** 32)]), Math.max(0, p));
  return { kind: kind === 2 ? 'zip-size' : 'zip-offset', data: buf };
}

/** Inputs for a loaded program, built from its own input specs (null when they would be large). */
function inputsFor(ep) {
  const p = ep._graph;
  const leaves = [];
  for (const u of p.userInputs) {
    if (u.kind === 'constant') leaves.push(u.constant);
    else if (u.kind === 'symint') leaves.push(3);
    else {
      const shape = u.meta.sizes.map((d) => (typeof d.as_int === 'number' ? d.as_int : (d.as_expr?.hint?.as_int ?? 2)));
      if (shape.some((d) => !Number.isInteger(d) || d < 0 || d > 4096) || shape.reduce((a, b) => a * b, 1) > 1 << 20) return null;
      leaves.push(torch.ones(shape, { dtype: u.dtype }));
    }
  }
  if (!p.argSpecs) return leaves;
  let i = 0;
  return p.argSpecs.map((spec) => {
    const n = countLeaves(spec);
    const v = unflatten(spec, leaves.slice(i, i + n));
    i += n;
    return v;
  });
}

function fail(i, what, input, err) {
  const file = path.join(outDir, `failure-${seed}-${i}.pt2`);
  fs.writeFileSync(file, input);
  console.error(`iteration ${i}: ${what}; input saved as ${file}`);
  if (err) console.error(err?.stack ? err.stack : err);
  process.exit(1);
}

const corpus = files.map((f) => new Uint8Array(fs.readFileSync(f)));
const structured = corpus.map(records);
const baseline = torch.memory().liveTensors;
const summary = { iterations, loaded: 0, ran: 0, errors: {}, kinds: {}, seed };
const started = Date.now();
for (let i = 0; i < iterations; i++) {
  const k = randInt(corpus.length);
  const pickled = structured[k].records.some(isPickle);
  const u = rand();
  const m = u < 0.25 ? mutateBytes(corpus[k]) : pickled && u < 0.55 ? mutatePickle(structured[k]) : mutateJson(structured[k]);
  summary.kinds[m.kind] = (summary.kinds[m.kind] || 0) + 1;
  const input = new Uint8Array(m.data);
  if (args.includes('--verbose')) {
    fs.writeFileSync(path.join(outDir, 'current.pt2'), input);
    process.stderr.write(`${i} ${m.kind}\n`);
  }
  const t0 = Date.now();
  let ep;
  let mod;
  try {
    ep = tex.load(input);
    summary.loaded++;
    mod = ep.module();
    torch.tidy(() => {
      const xs = inputsFor(ep);
      if (xs) {
        torch.noGrad(() => mod.forward(...xs));
        summary.ran++;
      }
    });
  } catch (e) {
    if (!(e instanceof torch.TorchError)) fail(i, `${m.kind}: threw ${e?.constructor?.name}, not a TorchError`, input, e);
    summary.errors[e.code] = (summary.errors[e.code] || 0) + 1;
  } finally {
    if (mod) mod.dispose();
    if (ep) ep.dispose();
  }
  if (Date.now() - t0 > 10000) fail(i, `${m.kind}: took ${Date.now() - t0} ms`, input);
  const live = torch.memory().liveTensors;
  if (live !== baseline) fail(i, `${m.kind}: ${live - baseline} tensors left alive`, input);
}
summary.ms = Date.now() - started;
if (!args.includes('--keep')) fs.rmSync(outDir, { recursive: true, force: true });
console.log(JSON.stringify(summary));
