/**
 * Calls an ATen operator the way Python's binding does: picks the overload whose schema the
 * arguments fit (a Tensor, a number, an integer list, a dtype, ...), in the order libtorch declares
 * them, then converts and calls it through the dispatcher. The generated Tensor methods and torch.*
 * functions (lib/ops/generated.ts, written by scripts/gen-api.js) are made of these.
 *
 * Python's conventions, in JS: positional arguments as in the schema (a method's `self` is the
 * tensor), keyword-only ones (after `*`) and any other by name in one trailing options object
 * (camelCase or snake_case); an integer list as the only positional argument may be spread
 * (`x.newZeros(2, 3)`, as Python's `x.new_zeros(2, 3)`); named tuples are arrays that also carry the
 * names (`const [values, indices] = x.kthvalue(2)` or `.values`); an in-place operator returns the
 * tensor it wrote to. A call no overload fits is a TorchError that lists PyTorch's signatures.
 */
import { native, type Id } from '../binding';
import { dtypeCode, dtypeFromCode, isDType } from '../dtype';
import { TorchError, describe } from '../errors';
import { namedTuple } from '../named-tuple';
import { toSnake } from '../names';
import { Tensor, idOf, wrap } from '../tensor';
import { wrappedNumber } from './call';
import { schemaOfHandle } from './schema';
import type { SigArg, Signature } from './signature';

/** Memory formats, as Python's torch.contiguous_format etc. */
export type MemoryFormat = 'contiguous_format' | 'preserve_format' | 'channels_last' | 'channels_last_3d';
const MEMORY_FORMATS: Record<string, number> = { contiguous_format: 0, preserve_format: 1, channels_last: 2, channels_last_3d: 3 };
/** Layouts torch-node's tensors have: only strided ones. */
export type Layout = 'strided';

/** Argument types a generated call converts (anything else makes an overload unusable). */
const TYPES = new Set([
  'Tensor',
  'Tensor[]',
  'Tensor?[]',
  'Scalar',
  'int',
  'SymInt',
  'float',
  'bool',
  'int[]',
  'SymInt[]',
  'float[]',
  'bool[]',
  'ScalarType',
  'str',
  'Device',
  'Layout',
  'MemoryFormat',
  'Generator',
]);

/** Whether torch-node can call this overload, as a method (first argument `Tensor self`) or a function. */
export function usable(sig: Signature, asMethod: boolean): string | null {
  const bad = sig.args.find((a) => !TYPES.has(a.type) || (a.type === 'Generator' && !a.optional));
  if (bad) return `argument '${bad.name}' has type ${bad.type}`;
  const written = sig.args.find((a) => a.written && a.name !== 'self');
  if (written) return `writes to argument '${written.name}' (an out= variant)`;
  if (sig.args.length > 15) return 'more than 15 arguments';
  if (sig.returns.some((r) => !['Tensor', 'Tensor[]', 'Scalar', 'int', 'float', 'bool', 'int[]', 'SymInt', 'SymInt[]', 'ScalarType'].includes(r.type)))
    return 'returns a type torch-node does not convert';
  if (asMethod && (sig.args[0]?.name !== 'self' || sig.args[0].type !== 'Tensor' || sig.args[0].optional)) return 'no Tensor self';
  return null;
}

interface Overload {
  handle: number;
  sig: Signature;
  /** Arguments after a method's self (all of a function's). */
  params: SigArg[];
  /** How many may be given positionally. */
  maxPos: number;
  /** One int-list (or Tensor-list) positional parameter: Python accepts it spread (x.new_zeros(2, 3), torch.broadcast_tensors(a, b)). */
  varargs: 'int' | 'tensor' | null;
  /** Has Python's TensorOptions (dtype, layout, device, pin_memory): requires_grad is accepted too. */
  factory: boolean;
  /** Per return, the index in sig.args of the argument it writes to and returns (in-place and out= overloads), else -1. */
  writes: number[];
  /** Every return is an argument written to (writes has no -1): the call may return those arguments themselves. */
  writesAll: boolean;
  /** torch.ops: arguments of types not converted here are passed as given (the addon converts or refuses them). */
  loose: boolean;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** A trailing plain object: Python's keyword arguments (torch.ops and the generated calls read them alike). */
export const isOptions = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

// 0: does not fit; 1: fits; 2: fits by conversion (a number for a Tensor, as Python's wrapped numbers).
function fits(v: unknown, a: SigArg, loose: boolean): 0 | 1 | 2 {
  // As Python: an optional type without a default (`Tensor? weight`) must still be given (null is fine).
  if (v === undefined) return a.hasDefault ? 1 : 0;
  if (v === null) return a.optional ? 1 : 0;
  switch (a.type) {
    case 'Tensor':
      return v instanceof Tensor ? 1 : typeof v === 'number' || typeof v === 'boolean' ? 2 : 0;
    case 'Scalar':
      return typeof v === 'number' || typeof v === 'boolean' ? 1 : 0;
    case 'int':
    case 'SymInt':
      return isInt(v) ? 1 : 0;
    case 'float':
      return typeof v === 'number' ? 1 : 0;
    case 'bool':
      return typeof v === 'boolean' ? 1 : 0;
    case 'int[]':
    case 'SymInt[]':
      return isInt(v) || (Array.isArray(v) && v.every(isInt)) ? 1 : 0;
    case 'float[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number') ? 1 : 0;
    case 'bool[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'boolean') ? 1 : 0;
    case 'Tensor[]':
      return Array.isArray(v) && v.every((x) => x instanceof Tensor) ? 1 : 0;
    case 'Tensor?[]':
      return Array.isArray(v) && v.every((x) => x instanceof Tensor || x === null || x === undefined) ? 1 : 0;
    // torch.ops also takes the enums' integer codes, as Python's does (and returns a ScalarType as one).
    case 'ScalarType':
      return isDType(v) || (loose && isInt(v)) ? 1 : 0;
    case 'MemoryFormat':
      return (typeof v === 'string' && v in MEMORY_FORMATS) || (loose && isInt(v)) ? 1 : 0;
    case 'Layout':
      return v === 'strided' ? 1 : 0;
    case 'Device':
      return typeof v === 'string' || (typeof v === 'object' && v !== null && v.constructor?.name === 'Device') ? 1 : 0;
    case 'str':
      return typeof v === 'string' ? 1 : 0;
    case 'Generator':
      return 0; // only absent or null
    default:
      return loose ? 1 : 0;
  }
}

/** What `fits` wants, in words, for error messages. */
function expected(a: SigArg): string {
  const base: Record<string, string> = {
    Tensor: 'a Tensor (or a number)',
    Scalar: 'a number',
    int: 'an integer',
    SymInt: 'an integer',
    float: 'a number',
    bool: 'a boolean',
    'int[]': 'an integer or an array of integers',
    'SymInt[]': 'an integer or an array of integers',
    'float[]': 'an array of numbers',
    'bool[]': 'an array of booleans',
    'Tensor[]': 'an array of Tensors',
    'Tensor?[]': 'an array of Tensors or nulls',
    ScalarType: "a dtype ('float32', 'int64', ...)",
    MemoryFormat: `a memory format (${Object.keys(MEMORY_FORMATS).join(', ')})`,
    Layout: "'strided'",
    Device: "a device ('cpu', 'cuda:0', ...)",
    str: 'a string',
    Generator: 'null (torch-node passes no Generator)',
  };
  return `${base[a.type] ?? a.type}${a.optional ? ' or null' : ''}`;
}

function toNative(v: unknown, a: SigArg, label: string, made: Tensor[]): unknown {
  if (v === undefined || v === null) return v;
  switch (a.type) {
    case 'Tensor':
      if (v instanceof Tensor) return idOf(v, label, a.name);
      {
        const t = wrappedNumber(v as number | boolean);
        made.push(t);
        return t._h;
      }
    case 'Tensor[]':
    case 'Tensor?[]':
      return (v as (Tensor | null)[]).map((t, i) => (t instanceof Tensor ? idOf(t, label, `${a.name}[${i}]`) : null));
    case 'ScalarType':
      return typeof v === 'number' ? v : dtypeCode(v as never, label);
    case 'MemoryFormat':
      return typeof v === 'number' ? v : MEMORY_FORMATS[v as string];
    case 'Layout':
      return 0;
    case 'Device':
      return String(v);
    default:
      // A type not converted here (torch.ops only): tensors as their ids, anything else as given.
      return TYPES.has(a.type) ? v : anyNative(v, label, a.name);
  }
}

function anyNative(v: unknown, label: string, what: string): unknown {
  if (v instanceof Tensor) return idOf(v, label, what);
  if (Array.isArray(v)) return v.map((x, i) => anyNative(x, label, `${what}[${i}]`));
  return v;
}

function makeOverload(handle: number, sig: Signature, asMethod: boolean, loose: boolean): Overload {
  const params = asMethod ? sig.args.slice(1) : sig.args;
  const pos = params.filter((a) => !a.kwOnly);
  const writes = sig.returns.map((r) => (r.written ? sig.args.findIndex((a) => a.written && a.alias === r.alias) : -1));
  return {
    handle,
    sig,
    params,
    maxPos: pos.length,
    varargs: loose || pos.length !== 1 ? null : /^(Sym)?[Ii]nt\[\]$/.test(pos[0].type) ? 'int' : pos[0].type === 'Tensor[]' ? 'tensor' : null,
    factory: !loose && ['dtype', 'layout', 'device', 'pin_memory'].every((n) => params.some((a) => a.name === n)),
    writes,
    writesAll: writes.length > 0 && writes.every((w) => w >= 0),
    loose,
  };
}

const sets = new Map<string, Overload[]>();

function overloads(name: string, names: readonly string[], asMethod: boolean): Overload[] {
  const key = `${asMethod ? 'm' : 'f'}:${name}`;
  let list = sets.get(key);
  if (list) return list;
  list = names.map((o) => {
    const handle = native.findOp(`aten::${name}`, o);
    const { sig } = schemaOfHandle(handle);
    const why = usable(sig, asMethod);
    if (why) throw new TorchError(`aten::${name}.${o || 'default'}: ${why} (regenerate lib/ops/generated.ts: node scripts/gen-api.js)`, 'ERR_TORCH_INTERNAL');
    return makeOverload(handle, sig, asMethod, false);
  });
  sets.set(key, list);
  return list;
}

/** [positional values by parameter] or null when the call does not fit `o`; `cost` counts conversions. */
function bind(o: Overload, given: unknown[], kwargs: Record<string, unknown> | null): { values: unknown[]; cost: number } | null {
  let pos = given;
  if (o.varargs === 'int' && given.length > 1 && given.every(isInt)) pos = [given];
  if (o.varargs === 'tensor' && given.length >= 1 && given.every((g) => g instanceof Tensor)) pos = [given];
  if (pos.length > o.maxPos) return null;
  const values: unknown[] = new Array(o.params.length);
  for (let i = 0; i < pos.length; i++) values[i] = pos[i];
  if (kwargs) {
    for (const [k, v] of Object.entries(kwargs)) {
      if (o.factory && (k === 'requiresGrad' || k === 'requires_grad') && typeof v === 'boolean') continue;
      const i = paramIndex(o, k);
      if (i < 0 || i < pos.length) return null;
      values[i] = v;
    }
  }
  let cost = 0;
  for (let i = 0; i < o.params.length; i++) {
    const f = fits(values[i], o.params[i], o.loose);
    if (f === 0) return null;
    if (f === 2) cost++;
  }
  return { values, cost };
}

function paramIndex(o: Overload, key: string): number {
  const i = o.params.findIndex((a) => a.name === key);
  return i >= 0 ? i : o.params.findIndex((a) => a.name === toSnake(key));
}

const typeName = (v: unknown): string =>
  v instanceof Tensor
    ? 'Tensor'
    : Array.isArray(v)
      ? `[${v.map(typeName).join(', ')}]`
      : isDType(v)
        ? `dtype '${v}'`
        : typeof v === 'object' && v !== null
          ? `{ ${Object.keys(v).join(', ')} }`
          : describe(v);

function noMatch(label: string, list: Overload[], given: unknown[], kwargs: Record<string, unknown> | null, asMethod: boolean): never {
  const got = [...given, ...(kwargs ? [kwargs] : [])].map(typeName).join(', ');
  const sigs = list.map((o) => {
    const args = (asMethod ? o.sig.text.replace(/\(Tensor(\([a-z]!?\))? self(, )?/, '(') : o.sig.text).replace(/^aten::/, '');
    return `  ${args}`;
  });
  throw new TorchError(`${label}: no overload takes (${got}); PyTorch's are:\n${sigs.join('\n')}`, 'ERR_TORCH_ARG');
}

/** Why a call does not fit the one overload it names (torch.ops), as Python's torch.ops says it. */
function misfit(label: string, o: Overload, given: unknown[], kwargs: Record<string, unknown> | null): never {
  const fail: (why: string) => never = (why) => {
    throw new TorchError(`${label}: ${why} (${o.sig.text})`, 'ERR_TORCH_ARG');
  };
  if (given.length > o.maxPos) {
    const kw = o.params.filter((a) => a.kwOnly).map((a) => a.name);
    fail(
      `takes ${o.maxPos} positional argument(s) but ${given.length} were given` +
        (kw.length ? `; keyword-only ones (${kw.join(', ')}) go in a trailing options object, as Python's keywords` : ''),
    );
  }
  const values: unknown[] = [...given];
  for (const [k, v] of Object.entries(kwargs ?? {})) {
    const i = paramIndex(o, k);
    if (i < 0) fail(`no argument '${k}'`);
    if (i < given.length) fail(`argument '${o.params[i].name}' given twice`);
    values[i] = v;
  }
  for (let i = 0; i < o.params.length; i++) {
    const a = o.params[i];
    const v = values[i];
    if (fits(v, a, o.loose) !== 0) continue;
    if (v === undefined) fail(`missing argument '${a.name}'`);
    fail(`argument '${a.name}' must be ${expected(a)}, got ${typeName(v)}`);
  }
  return fail('the arguments do not fit');
}

function convertReturn(x: unknown, type: string, loose: boolean): unknown {
  if (type === 'Tensor') return typeof x === 'number' ? wrap(x as Id) : x;
  if (type === 'Tensor[]') return Array.isArray(x) ? x.map((y) => (typeof y === 'number' ? wrap(y as Id) : y)) : x;
  // torch.result_type gives a dtype; torch.ops.aten.result_type its code, as Python's does.
  if (type === 'ScalarType' && !loose) return typeof x === 'number' ? dtypeFromCode(x) : x;
  return x;
}

/** Several returns: a named tuple when the schema names them all (values, indices), else an array. */
const tuple = (rets: Signature['returns'], items: unknown[]): unknown[] =>
  rets.every((x) => x.name)
    ? namedTuple(
        rets.map((x) => x.name as string),
        items,
      )
    : items;

/** Converts the bound arguments, calls the overload and converts its results. */
function invoke(o: Overload, bound: unknown[], self: Tensor | null, kwargs: Record<string, unknown> | null, label: string): unknown {
  const made: Tensor[] = [];
  try {
    const nat: unknown[] = o.params.map((a, i) => toNative(bound[i], a, label, made));
    if (self) nat.unshift(idOf(self, label, 'self'));
    const rets = o.sig.returns;
    // In-place and out= overloads (torch.abs_(x) as x.abs_()): the result is the tensor written to, not a second handle to it.
    if (o.writesAll) {
      const arg = (w: number) => (self ? (w === 0 ? self : bound[w - 1]) : bound[w]);
      if (o.writes.every((w) => arg(w) instanceof Tensor)) {
        native.callOpInplace(o.handle, ...nat);
        const outs = o.writes.map(arg);
        return outs.length === 1 ? outs[0] : tuple(rets, outs);
      }
    }
    const r = native.callOp(o.handle, ...nat);
    if (rets.length === 0) return undefined;
    if (rets.length === 1) {
      const out = convertReturn(r, rets[0].type, o.loose);
      // Python's factories take requires_grad=True (not a schema argument).
      if (o.factory && kwargs && (kwargs.requiresGrad === true || kwargs.requires_grad === true) && out instanceof Tensor) out.requiresGrad_(true);
      return out;
    }
    return tuple(
      rets,
      (r as unknown[]).map((x, i) => convertReturn(x, rets[i].type, o.loose)),
    );
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Splits Python-style arguments: trailing undefined dropped, a trailing plain object as the keywords. */
function splitArgs(given: unknown[]): [unknown[], Record<string, unknown> | null] {
  const args = [...given];
  while (args.length && args[args.length - 1] === undefined) args.pop();
  const kwargs = args.length && isOptions(args[args.length - 1]) ? (args.pop() as Record<string, unknown>) : null;
  return [args, kwargs];
}

/** Calls aten::name with Python's overload resolution; `self` is the tensor of a method call, else null. */
export function callAten(name: string, names: readonly string[], label: string, self: Tensor | null, given: unknown[]): unknown {
  const asMethod = self !== null;
  const list = overloads(name, names, asMethod);
  const [args, kwargs] = splitArgs(given);
  let best: Overload | null = null;
  let bound: unknown[] = [];
  let bestCost = Infinity;
  for (const o of list) {
    const b = bind(o, args, kwargs);
    if (b && b.cost < bestCost) {
      best = o;
      bound = b.values;
      bestCost = b.cost;
      if (b.cost === 0) break;
    }
  }
  if (!best) noMatch(label, list, args, kwargs, asMethod);
  return invoke(best, bound, self, kwargs, label);
}

const singles = new Map<number, Overload>();

/**
 * Calls one overload by its handle, as Python's `torch.ops.aten.<name>.<overload>(...)`: positional
 * arguments then keywords in a trailing object, converted by the schema's types (dtypes by name,
 * numbers for tensors as wrapped numbers); a call that does not fit is a TorchError naming the
 * argument and the schema. Any schema torch.ops reaches, including out= overloads (which return the
 * tensors written to) and argument types not listed here (passed to the addon as they are).
 */
export function callOverload(handle: number, label: string, given: unknown[]): unknown {
  let o = singles.get(handle);
  if (!o) {
    o = makeOverload(handle, schemaOfHandle(handle).sig, false, true);
    singles.set(handle, o);
  }
  const [args, kwargs] = splitArgs(given);
  const b = bind(o, args, kwargs);
  if (!b) misfit(label, o, args, kwargs);
  return invoke(o, b.values, null, kwargs, label);
}

/** Every overload of aten::name a Tensor method can call, by overload name (computed once per name). */
const methodOverloadNames = new Map<string, string[]>();

/**
 * A fast-path Tensor method called with more than its one fast argument (`x.add(y, { alpha: 2 })`,
 * `x.div(y, { roundingMode: 'floor' })`, `x.round({ decimals: 2 })`): the call as Python makes it,
 * resolved against every overload of `aten::name`, so a keyword is honoured or is a TorchError listing
 * PyTorch's signatures, never dropped.
 */
export function callMethodAsPython(name: string, js: string, self: Tensor, given: unknown[], fastArgs: number): unknown {
  let names = methodOverloadNames.get(name);
  if (!names) {
    let all: string[] = [];
    try {
      all = native.opOverloads(`aten::${name}`);
    } catch {
      /* no such operator: no overloads */
    }
    names = all.filter((o) => usable(schemaOfHandle(native.findOp(`aten::${name}`, o)).sig, true) === null);
    methodOverloadNames.set(name, names);
  }
  const label = `Tensor.${js}()`;
  if (names.length === 0)
    throw new TorchError(
      `${label}: takes ${fastArgs === 0 ? 'no arguments' : 'one argument'} (PyTorch has no keywords for it), got ${given.length}`,
      'ERR_TORCH_ARG',
    );
  return callAten(name, names, label, self, given);
}

const GENERATED = Symbol.for('torch-node.generated');

/** A generated Tensor method: `aten::name` with `self` = this. */
export function method(name: string, names: readonly string[], js: string): (this: Tensor, ...args: unknown[]) => unknown {
  const label = `Tensor.${js}()`;
  const f = function (this: Tensor, ...args: unknown[]): unknown {
    return callAten(name, names, label, this, args);
  };
  Object.defineProperty(f, 'name', { value: js });
  Object.defineProperty(f, GENERATED, { value: `aten::${name}` });
  return f;
}

/** A generated torch.* function: `aten::name`. */
export function fn(name: string, names: readonly string[], js: string): (...args: unknown[]) => unknown {
  const label = `torch.${js}()`;
  const f = (...args: unknown[]): unknown => callAten(name, names, label, null, args);
  Object.defineProperty(f, 'name', { value: js });
  Object.defineProperty(f, GENERATED, { value: `aten::${name}` });
  return f;
}

/** Whether a function was generated from a schema (scripts/coverage.js and scripts/gen-api.js tell them from hand-written ones). */
export function isGenerated(f: unknown): boolean {
  return typeof f === 'function' && GENERATED in f;
}
