/**
 * torch.ops: every operator libtorch registers, by PyTorch's own spelling, for whatever torch-node
 * does not wrap as a method or function:
 *
 *   torch.ops.aten.add.Tensor(a, b, { alpha: 2 })     // Python: torch.ops.aten.add.Tensor(a, b, alpha=2)
 *   torch.ops.aten.relu(x)                            // the default overload
 *   torch.ops.aten.max.dim(x, 1)                      // [values, indices]
 *
 * Arguments are positional as in the schema and keyword-only ones (after `*`) come in a trailing
 * plain object (snake_case as in the schema, or camelCase), as Python's keywords. They are converted
 * by the schema's types as the generated methods' are (lib/ops/resolve.ts): dtypes by name
 * ('float64'), a number where a Tensor goes as a 0-dim tensor. Results follow the schema: a Tensor,
 * an array for a tuple (with names where the schema names them) or a Tensor[], a dtype by name,
 * numbers and booleans as they are; in-place and out= overloads (`add_.Tensor`, `add.out`) return
 * the tensors they wrote to, as Python's. Names are checked when first used: an unknown operator or
 * overload is a TorchError naming what exists; arguments that do not fit are a TorchError naming the
 * argument and the schema.
 */
import { native } from '../binding';
import { TorchError } from '../errors';
import { callOverload } from './resolve';
import { schemaOfHandle } from './schema';

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
  const { text, names } = schemaOfHandle(handle);
  const count = names.length;
  if (count > 15) throw new TorchError(`${label}: ${count} arguments; torch-node calls operators with at most 15`, 'ERR_TORCH_UNSUPPORTED');
  const fn = `${label}()`;
  const call = (...given: unknown[]): any => callOverload(handle, fn, given);
  Object.defineProperty(call, 'name', { value: label });
  Object.defineProperty(call, 'schema', { value: text });
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
