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
import { type SigArg, type Signature, parseSignature } from './signature';

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
  /** Writes to self and returns it: the call returns the tensor itself. */
  inplace: boolean;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** A trailing plain object: Python's keyword arguments (torch.ops and the generated calls read them alike). */
export const isOptions = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

// 0: does not fit; 1: fits; 2: fits by conversion (a number for a Tensor, as Python's wrapped numbers).
function fits(v: unknown, a: SigArg): 0 | 1 | 2 {
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
    case 'ScalarType':
      return isDType(v) ? 1 : 0;
    case 'MemoryFormat':
      return typeof v === 'string' && v in MEMORY_FORMATS ? 1 : 0;
    case 'Layout':
      return v === 'strided' ? 1 : 0;
    case 'Device':
      return typeof v === 'string' || (typeof v === 'object' && v !== null && v.constructor?.name === 'Device') ? 1 : 0;
    case 'str':
      return typeof v === 'string' ? 1 : 0;
    default:
      return 0; // Generator: only absent or null
  }
}

const SCALAR_TENSOR = native.findOp('aten::scalar_tensor', '');

function toNative(v: unknown, a: SigArg, label: string, made: Tensor[]): unknown {
  if (v === undefined || v === null) return v;
  switch (a.type) {
    case 'Tensor':
      if (v instanceof Tensor) return idOf(v, label, a.name);
      {
        // A Python number where a Tensor goes: a 0-dim tensor (bool, int64 or float32), as PyTorch's wrapped numbers.
        const t = wrap(native.callOp(SCALAR_TENSOR, v, typeof v === 'boolean' ? 11 : isInt(v) ? 4 : 6, null, null, null) as Id);
        made.push(t);
        return t._h;
      }
    case 'Tensor[]':
    case 'Tensor?[]':
      return (v as (Tensor | null)[]).map((t, i) => (t instanceof Tensor ? idOf(t, label, `${a.name}[${i}]`) : null));
    case 'ScalarType':
      return dtypeCode(v as never, label);
    case 'MemoryFormat':
      return MEMORY_FORMATS[v as string];
    case 'Layout':
      return 0;
    case 'Device':
      return String(v);
    default:
      return v;
  }
}

const sets = new Map<string, Overload[]>();

function overloads(name: string, names: readonly string[], asMethod: boolean): Overload[] {
  const key = `${asMethod ? 'm' : 'f'}:${name}`;
  let list = sets.get(key);
  if (list) return list;
  list = names.map((o) => {
    const handle = native.findOp(`aten::${name}`, o);
    const sig = parseSignature(native.opSchema(handle));
    const why = usable(sig, asMethod);
    if (why) throw new TorchError(`aten::${name}.${o || 'default'}: ${why} (regenerate lib/ops/generated.ts: node scripts/gen-api.js)`, 'ERR_TORCH_INTERNAL');
    const params = asMethod ? sig.args.slice(1) : sig.args;
    const pos = params.filter((a) => !a.kwOnly);
    const ret = sig.returns;
    return {
      handle,
      sig,
      params,
      maxPos: pos.length,
      varargs: pos.length !== 1 ? null : /^(Sym)?[Ii]nt\[\]$/.test(pos[0].type) ? 'int' : pos[0].type === 'Tensor[]' ? 'tensor' : null,
      factory: ['dtype', 'layout', 'device', 'pin_memory'].every((n) => params.some((a) => a.name === n)),
      inplace: ret.length === 1 && ret[0].written && sig.args[0]?.name === 'self' && sig.args[0].written,
    };
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
      let i = o.params.findIndex((a) => a.name === k);
      if (i < 0) i = o.params.findIndex((a) => a.name === toSnake(k));
      if (i < 0 || i < pos.length) return null;
      values[i] = v;
    }
  }
  let cost = 0;
  for (let i = 0; i < o.params.length; i++) {
    const f = fits(values[i], o.params[i]);
    if (f === 0) return null;
    if (f === 2) cost++;
  }
  return { values, cost };
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

function convertReturn(x: unknown, type: string): unknown {
  if (type === 'Tensor') return typeof x === 'number' ? wrap(x as Id) : x;
  if (type === 'Tensor[]') return Array.isArray(x) ? x.map((y) => (typeof y === 'number' ? wrap(y as Id) : y)) : x;
  if (type === 'ScalarType') return typeof x === 'number' ? dtypeFromCode(x) : x;
  return x;
}

/** Calls aten::name with Python's overload resolution; `self` is the tensor of a method call, else null. */
export function callAten(name: string, names: readonly string[], label: string, self: Tensor | null, given: unknown[]): unknown {
  const asMethod = self !== null;
  const list = overloads(name, names, asMethod);
  const args = [...given];
  while (args.length && args[args.length - 1] === undefined) args.pop();
  const kwargs = args.length && isOptions(args[args.length - 1]) ? (args.pop() as Record<string, unknown>) : null;
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
  const made: Tensor[] = [];
  try {
    const nat: unknown[] = best.params.map((a, i) => toNative(bound[i], a, label, made));
    if (self) nat.unshift(idOf(self, label, 'self'));
    // torch.abs_(x) as x.abs_(): the result is the tensor written to, not a second handle to it.
    const target = self ?? bound[0];
    if (best.inplace && target instanceof Tensor) {
      native.callOpInplace(best.handle, ...nat);
      return target;
    }
    const r = native.callOp(best.handle, ...nat);
    const rets = best.sig.returns;
    if (rets.length === 0) return undefined;
    if (rets.length === 1) {
      const out = convertReturn(r, rets[0].type);
      // Python's factories take requires_grad=True (not a schema argument).
      if (best.factory && kwargs && (kwargs.requiresGrad === true || kwargs.requires_grad === true) && out instanceof Tensor) out.requiresGrad_(true);
      return out;
    }
    const items = (r as unknown[]).map((x, i) => convertReturn(x, rets[i].type));
    return rets.every((x) => x.name)
      ? namedTuple(
          rets.map((x) => x.name as string),
          items,
        )
      : items;
  } finally {
    for (const t of made) t.dispose();
  }
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
