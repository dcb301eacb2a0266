'use strict';
// Writes lib/ops/generated.ts: the Tensor methods and torch.* functions of Python's public API that
// torch-node does not write by hand, each an ATen operator of the same name called with Python's
// overload resolution (lib/ops/resolve.ts), with TypeScript signatures from the operator's schemas.
//
// The names: Python's dir(torch.Tensor) and dir(torch) (the reference Python), less the reasoned
// exclusions of scripts/coverage.js, less what lib/ defines by hand, where libtorch registers
// aten::<name> with at least one overload torch-node can call (no Dimname, no out= variant, every
// argument type convertible). Every generated name needs a golden case (test/generated-ops.test.js,
// cases from PyTorch's own OpInfo samples, test/reference/op_cases.py).
//
//   node scripts/gen-api.js           rewrite lib/ops/generated.ts (needs dist/ built: npm run build:ts)
//   node scripts/gen-api.js --check   exit 1 when it is stale
//   node scripts/gen-api.js --report  also list the candidates that could not be generated, with why
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const OUT = path.join(root, 'lib', 'ops', 'generated.ts');

const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await arguments eval'.split(
    ' ',
  ),
);

function schemasFromPython(names) {
  const { findPython } = require('../test/helpers/python');
  const { python } = findPython();
  const code = `
import json, sys, torch
names = json.loads(sys.stdin.read())
out = {}
for n in names:
    try:
        out[n] = [str(s) for s in torch._C._jit_get_schemas_for_operator('aten::' + n)]
    except Exception:
        out[n] = []
print(json.dumps({'version': torch.__version__.split('+')[0], 'schemas': out}))
`;
  const r = spawnSync(python, ['-c', code], { input: JSON.stringify(names), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** The candidates: Python names torch-node does not define by hand. */
function candidates() {
  const { pythonNames, camel, EXCLUDED } = require('./coverage');
  const torch = require(path.join(root, 'dist'));
  const { isGenerated } = require(path.join(root, 'dist', 'ops', 'resolve'));
  const names = pythonNames();
  const proto = torch.Tensor.prototype;
  const F = torch.nn.functional;
  const hand = {
    Tensor: (js, py) => [js, py].some((n) => n in proto && !isGenerated(Object.getOwnPropertyDescriptor(proto, n)?.value ?? null)),
    torch: (js, py) => [js, py].some((n) => (n in torch && !isGenerated(torch[n])) || n in F),
  };
  const out = { Tensor: [], torch: [] };
  for (const kind of ['Tensor', 'torch']) {
    for (const py of names[kind]) {
      if (EXCLUDED.some(([k, re]) => k === kind && re.test(py))) continue;
      if (hand[kind](camel(py), py)) continue;
      out[kind].push(py);
    }
  }
  return out;
}

function tsType(a, where) {
  const base = {
    Tensor: 'Tensor',
    Scalar: 'Scalar',
    int: 'number',
    SymInt: 'number',
    float: 'number',
    bool: 'boolean',
    'int[]': 'number | number[]',
    'SymInt[]': 'number | number[]',
    'float[]': 'number[]',
    'bool[]': 'boolean[]',
    'Tensor[]': 'Tensor[]',
    'Tensor?[]': '(Tensor | null)[]',
    ScalarType: 'DType',
    MemoryFormat: 'MemoryFormat',
    Layout: 'Layout',
    Device: 'DeviceLike',
    str: 'string',
    Generator: 'null',
  }[a.type];
  if (!base) throw new Error(`${where}: no TypeScript type for ${a.type}`);
  return a.optional && base !== 'null' ? `${base.includes('|') ? `(${base})` : base} | null` : base;
}

function returnType(sig, asMethod) {
  const r = sig.returns;
  const one = (x) =>
    ({
      Tensor: 'Tensor',
      'Tensor[]': 'Tensor[]',
      Scalar: 'number',
      int: 'number',
      SymInt: 'number',
      float: 'number',
      bool: 'boolean',
      'int[]': 'number[]',
      'SymInt[]': 'number[]',
      ScalarType: 'DType',
    })[x.type];
  if (r.length === 0) return 'void';
  if (r.length === 1 && r[0].written && sig.args[0]?.written) return asMethod ? 'this' : 'Tensor';
  if (r.length === 1) return one(r[0]);
  const tuple = `[${r.map(one).join(', ')}]`;
  return r.every((x) => x.name) ? `NamedTuple<[${r.map((x) => `'${x.name}'`).join(', ')}], ${tuple}>` : tuple;
}

const pname = (n) => {
  const { toCamel } = require(path.join(root, 'dist', 'names'));
  const c = toCamel(n);
  return RESERVED.has(c) ? `${c}_` : c;
};

/** TypeScript signatures (parameter lists and return) of one overload. */
function signatures(sig, asMethod) {
  const params = asMethod ? sig.args.slice(1) : sig.args;
  const pos = params.filter((a) => !a.kwOnly && a.type !== 'Generator');
  const kw = params.filter((a) => a.type !== 'Generator' && (a.kwOnly || a.hasDefault || a.optional));
  const ret = returnType(sig, asMethod);
  const where = sig.text;
  const p = (a, optional) => `${pname(a.name)}${optional ? '?' : ''}: ${tsType(a, where)}`;
  const factory = ['dtype', 'layout', 'device', 'pin_memory'].every((n) => params.some((a) => a.name === n));
  const kwTypes = kw.map((a) => `${pname(a.name)}?: ${tsType(a, where)}`);
  if (factory) kwTypes.push('requiresGrad?: boolean');
  const opts = kwTypes.length ? `options?: { ${kwTypes.join('; ')} }` : null;
  const required = pos.filter((a) => !a.hasDefault);
  const optional = pos.filter((a) => a.hasDefault);
  const out = [];
  const list = (ps) => ps.join(', ');
  out.push(`(${list([...required.map((a) => p(a, false)), ...optional.map((a) => p(a, true)), ...(opts ? [opts] : [])])}): ${ret}`);
  if (optional.length && opts) out.push(`(${list([...required.map((a) => p(a, false)), opts])}): ${ret}`);
  // Python's x.new_zeros(2, 3) and torch.broadcast_tensors(a, b): a list as the only positional argument, spread.
  if (pos.length === 1 && /^(Sym)?[Ii]nt\[\]$/.test(pos[0].type)) out.push(`(...${pname(pos[0].name)}: number[]): ${ret}`);
  if (pos.length === 1 && pos[0].type === 'Tensor[]') out.push(`(...${pname(pos[0].name)}: Tensor[]): ${ret}`);
  return out;
}

function generate(report) {
  const { parseSignature } = require(path.join(root, 'dist', 'ops', 'signature'));
  const { usable } = require(path.join(root, 'dist', 'ops', 'resolve'));
  const { native } = require(path.join(root, 'dist', 'binding'));
  const { camel } = require('./coverage');
  const cand = candidates();
  const all = [...new Set([...cand.Tensor, ...cand.torch])];
  const { version, schemas } = schemasFromPython(all);
  const skipped = { Tensor: [], torch: [] };
  const build = (kind) => {
    const asMethod = kind === 'Tensor';
    const entries = [];
    for (const py of cand[kind]) {
      // Python also lists TorchScript-only schemas (aten::acosh.int(int a)); only the dispatcher's count.
      const registered = new Set(native.opOverloads(`aten::${py}`));
      const sigs = (schemas[py] ?? []).map(parseSignature).filter((s) => registered.has(s.overload));
      if (!sigs.length) {
        skipped[kind].push([py, `libtorch has no aten::${py}`]);
        continue;
      }
      const ok = sigs.filter((s) => !usable(s, asMethod));
      if (!ok.length) {
        skipped[kind].push([py, `no usable overload (${sigs.map((s) => usable(s, asMethod)).join('; ')})`]);
        continue;
      }
      entries.push({ py, js: camel(py), overloads: ok.map((s) => s.overload), sigs: ok });
    }
    return entries;
  };
  const methods = build('Tensor');
  const functions = build('torch');
  const q = (s) => `'${s}'`;
  const doc = (e, kind) =>
    `  /** PyTorch's \`${kind === 'Tensor' ? 'Tensor' : 'torch'}.${e.py}\`: ${e.sigs.map((s) => `\`${s.text.replace(/^aten::/, '')}\``).join(', ')}. */`;
  const methodDecls = methods.map((e) => {
    const sigs = [...new Set(e.sigs.flatMap((s) => signatures(s, true)))];
    // Each overload carries the doc comment (TypeDoc documents signatures one by one).
    return sigs.map((s) => `  ${doc(e, 'Tensor')}\n    ${e.js}${s};`).join('\n');
  });
  const fnDecls = functions.map((e) => {
    const sigs = [...new Set(e.sigs.flatMap((s) => signatures(s, false)))];
    const make = `fn(${q(e.py)}, [${e.overloads.map(q).join(', ')}], ${q(e.js)}) as never`;
    // One signature: a function type (the linter's preference); several: an overloaded call type.
    const sigDoc = `  /** PyTorch's \`torch.${e.py}\`. */`;
    const type = sigs.length === 1 ? sigs[0].replace(/\): ([^)]*)$/, ') => $1') : `{\n${sigs.map((s) => `${sigDoc}\n  ${s};`).join('\n')}\n}`;
    return `${doc(e, 'torch').replace(/^ {2}/, '')}\nexport const ${e.js}: ${type} = ${make};`;
  });
  const text = `// GENERATED by scripts/gen-api.js from libtorch ${version}'s operator schemas — do not edit; run
// \`node scripts/gen-api.js\` (test/generated-ops.test.js fails while this file is stale).
/**
 * The rest of Python's torch.Tensor methods and torch.* functions (those lib/ does not define by
 * hand), each the ATen operator of the same name with Python's overload resolution
 * (lib/ops/resolve.ts). Every one has a golden case against PyTorch (test/generated-ops.test.js).
 */
import type { DeviceLike } from '../device';
import type { DType } from '../dtype';
import type { NamedTuple } from '../named-tuple';
import { Tensor, type Scalar } from '../tensor';
import { fn, type Layout, type MemoryFormat, method } from './resolve';

declare module '../tensor' {
  interface Tensor {
${methodDecls.join('\n')}
  }
}

/** [js name, aten name, overloads in libtorch's order]. */
const METHODS: [string, string, string[]][] = [
${methods.map((e) => `  [${q(e.js)}, ${q(e.py)}, [${e.overloads.map(q).join(', ')}]],`).join('\n')}
];
for (const [js, name, overloads] of METHODS) {
  Object.defineProperty(Tensor.prototype, js, { value: method(name, overloads, js), writable: true, configurable: true });
}

/** The generated methods as [js name, Python name] (for coverage and tests). */
export const GENERATED_METHODS: readonly [string, string][] = METHODS.map((m) => [m[0], m[1]]);

${fnDecls.join('\n')}

/** The generated torch.* functions as [js name, Python name]. */
export const GENERATED_FUNCTIONS: readonly [string, string][] = [
${functions.map((e) => `  [${q(e.js)}, ${q(e.py)}],`).join('\n')}
];
`;
  if (report) {
    for (const kind of ['Tensor', 'torch']) {
      console.log(`${kind}: generated ${kind === 'Tensor' ? methods.length : functions.length}; not generated ${skipped[kind].length}:`);
      for (const [py, why] of skipped[kind]) console.log(`  ${py}: ${why}`);
    }
  }
  return text;
}

module.exports = { generate, OUT };

if (require.main === module) {
  const text = generate(process.argv.includes('--report'));
  if (process.argv.includes('--check')) {
    const now = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
    if (now !== text) {
      console.error(`${path.relative(root, OUT)} is stale: run node scripts/gen-api.js`);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUT, text);
    console.log(`wrote ${path.relative(root, OUT)}`);
  }
}
