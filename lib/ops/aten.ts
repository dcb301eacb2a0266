/**
 * torch.ops: every operator libtorch registers, by PyTorch's own spelling, for whatever torch-node
 * does not wrap as a method or function:
 *
 *   torch.ops.aten.add.Tensor(a, b, { alpha: 2 })     // Python: torch.ops.aten.add.Tensor(a, b, alpha=2)
 *   torch.ops.aten.relu(x)                            // the default overload
 *   torch.ops.aten.max.dim(x, 1)                      // [values, indices]
 *
 * Arguments are positional as in the schema; keyword arguments come in a trailing plain object
 * (snake_case as in the schema, or camelCase). Tensors may be nested in arrays (Tensor[] arguments).
 * Results follow the schema: a Tensor, an array for a tuple or a Tensor[], numbers and booleans as
 * they are; an in-place overload (`add_.Tensor`) returns the tensor it wrote to, as Python's. Names
 * are checked when first used: an unknown operator or overload is a TorchError naming what exists.
 */
import { native, type Id } from '../binding';
import { TorchError } from '../errors';
import { toSnake } from '../names';
import { Tensor, idOf, wrap } from '../tensor';
import { isOptions } from './resolve';
import { schemaOfHandle, type OpSchema } from './schema';

function toNative(v: unknown, fn: string, what: string): unknown {
  if (v instanceof Tensor) return idOf(v, fn, what);
  if (Array.isArray(v)) return v.map((x, i) => toNative(x, fn, `${what}[${i}]`));
  return v;
}

/** One overload as a function. */
function overloadFn(ns: string, name: string, overload: string): (...args: unknown[]) => any {
  const label = `torch.ops.${ns}.${name}.${overload || 'default'}`;
  let handle: number;
  try {
    handle = native.findOp(`${ns}::${name}`, overload);
  } catch {
    const known = native.opOverloads(`${ns}::${name}`).map((o) => o || 'default');
    throw new TorchError(
      known.length
        ? `${label}: ${ns}::${name} has no overload '${overload || 'default'}'; it has ${known.join(', ')}`
        : `${label}: libtorch ${native.builtWithLibtorch} has no operator ${ns}::${name}`,
      'ERR_TORCH_ARG',
    );
  }
  const schema: OpSchema = schemaOfHandle(handle);
  if (schema.names.length > 15)
    throw new TorchError(`${label}: ${schema.names.length} arguments; torch-node calls operators with at most 15`, 'ERR_TORCH_UNSUPPORTED');
  const inplace = schema.returns.length === 1 && schema.returns[0].alias !== null ? schema.written.indexOf(schema.returns[0].alias) : -1;
  const call = (...given: unknown[]): any => {
    const fn = `${label}()`;
    const kwargs = given.length && isOptions(given[given.length - 1]) ? (given.pop() as Record<string, unknown>) : {};
    if (given.length > schema.names.length)
      throw new TorchError(`${fn}: takes ${schema.names.length} arguments (${schema.text}), got ${given.length}`, 'ERR_TORCH_ARG');
    const args: unknown[] = given.map((v, i) => toNative(v, fn, `argument '${schema.names[i]}'`));
    const objs: unknown[] = [...given];
    for (const [k, v] of Object.entries(kwargs)) {
      const pos = schema.names.indexOf(k) >= 0 ? schema.names.indexOf(k) : schema.names.indexOf(toSnake(k));
      if (pos < 0) throw new TorchError(`${fn}: no argument '${k}' (${schema.text})`, 'ERR_TORCH_ARG');
      if (pos < given.length) throw new TorchError(`${fn}: argument '${schema.names[pos]}' given twice`, 'ERR_TORCH_ARG');
      args[pos] = toNative(v, fn, `argument '${schema.names[pos]}'`);
      objs[pos] = v;
    }
    for (let i = 0; i < args.length; i++) if (!(i in args)) args[i] = undefined;
    if (inplace >= 0 && objs[inplace] instanceof Tensor) {
      native.callOpInplace(handle, ...args);
      return objs[inplace];
    }
    const r = native.callOp(handle, ...args);
    const outs = schema.returns.length === 1 ? [r] : (r as unknown[]);
    const results = schema.returns.map((ret, j) => {
      const x = outs?.[j];
      if (ret.kind === 'tensor' && typeof x === 'number') return wrap(x as Id);
      if (ret.kind === 'list' && Array.isArray(x)) return x.map((y) => (typeof y === 'number' ? wrap(y as Id) : y));
      return x;
    });
    if (schema.returns.length === 0) return undefined;
    return schema.returns.length === 1 ? results[0] : results;
  };
  Object.defineProperty(call, 'name', { value: label });
  Object.defineProperty(call, 'schema', { value: schema.text });
  return call;
}

const packets = new Map<string, any>();

/** torch.ops.<ns>.<name>: callable (its default overload), with each overload as a property. */
function packet(ns: string, name: string): any {
  const key = `${ns}::${name}`;
  let p = packets.get(key);
  if (p) return p;
  const overloads = new Map<string, (...a: unknown[]) => any>();
  const get = (o: string) => {
    let f = overloads.get(o);
    if (!f) {
      f = overloadFn(ns, name, o === 'default' ? '' : o);
      overloads.set(o, f);
    }
    return f;
  };
  const self = (...args: unknown[]) => get('default')(...args);
  p = new Proxy(self, {
    get(target, prop) {
      if (typeof prop !== 'string' || prop in Function.prototype) return Reflect.get(target, prop);
      if (prop === 'overloads') return native.opOverloads(key).map((o) => o || 'default');
      return get(prop);
    },
  });
  packets.set(key, p);
  return p;
}

function namespace(ns: string): any {
  return new Proxy({}, { get: (_t, name) => (typeof name === 'string' ? packet(ns, name) : undefined) });
}

/** torch.ops.aten, torch.ops.prims, ... (any namespace libtorch registers). */
export const ops: Record<string, any> & {
  /** PyTorch's `torch.ops.aten`: every ATen operator, `ops.aten.add.Tensor(a, b)`, `ops.aten.relu(x)` (the default overload). */
  aten: any;
} = new Proxy({} as any, {
  get: (t, ns) => {
    if (typeof ns !== 'string') return undefined;
    if (!(ns in t)) t[ns] = namespace(ns);
    return t[ns];
  },
});
