/**
 * Typed calls of ATen operators by schema key ('sum.dim_IntList': aten::sum, overload dim_IntList;
 * 'aten::' is implied, another namespace is written out). The handle is looked up once per key
 * (lib/ops/handles.ts); arguments are converted by the operator's schema (binding/ops/dispatch.cc).
 * Every key the library uses is resolved by test/op-schemas.test.js, so a misspelt one fails there,
 * not at its first call.
 */
import { native, type Id } from '../binding';
import { dtypeCode } from '../dtype';
import { wrap, type Tensor } from '../tensor';
import { op } from './handles';

/** An operator whose result is one tensor. */
export function callOp(key: string, ...args: unknown[]): Tensor {
  return wrap(native.callOp(op(key), ...args) as Id);
}

/** An operator whose results are several tensors (a tuple or a list), in order. */
export function callOps(key: string, ...args: unknown[]): Tensor[] {
  return (native.callOp(op(key), ...args) as Id[]).map((id) => wrap(id));
}

/** An operator whose result is not a tensor (a number, a boolean, a list of them): typed by the caller. */
export function callValue<T extends number | boolean | number[] | boolean[]>(key: string, ...args: unknown[]): T {
  return native.callOp(op(key), ...args) as T;
}

/** An in-place operator (its result is its first argument, already held). */
export function callInplace(key: string, ...args: unknown[]): void {
  native.callOpInplace(op(key), ...args);
}

const SCALAR_TENSOR = op('scalar_tensor');

/** The dtype codes of PyTorch's wrapped numbers: bool, int64, float32. */
export const WRAPPED_DTYPE = { bool: dtypeCode('bool'), int: dtypeCode('int64'), float: dtypeCode('float32') } as const;

/**
 * A JS number or boolean where an operator takes a Tensor, made as PyTorch makes its "wrapped
 * numbers": a 0-dimensional tensor of dtype bool, int64 (an integer, or `kind` 'int') or float32.
 * The caller disposes it after the call.
 */
export function wrappedNumber(v: unknown, kind?: keyof typeof WRAPPED_DTYPE): Tensor {
  const k = kind ?? (typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int' : 'float');
  return wrap(native.callOp(SCALAR_TENSOR, v, WRAPPED_DTYPE[k], null, null, null) as Id);
}
