/** ATen operators by schema name ('sum.dim_IntList' = aten::sum, overload dim_IntList), looked up once. */
import { native } from '../binding';

const cache = new Map<string, number>();

export function op(key: string): number {
  let h = cache.get(key);
  if (h === undefined) {
    const dot = key.indexOf('.');
    const name = dot < 0 ? key : key.slice(0, dot);
    const overload = dot < 0 ? '' : key.slice(dot + 1);
    h = native.findOp(name.includes('::') ? name : `aten::${name}`, overload);
    cache.set(key, h);
  }
  return h;
}

/** The schema of an operator, as libtorch prints it (for error messages and debugging). */
export function schemaOf(key: string): string {
  return native.opSchema(op(key));
}
