/**
 * Argument checks, one copy each: every public function validates its arguments with these before a
 * native call, so a bad value is a TorchError naming the function, the parameter, what it accepts and
 * what it got ("reshape(): argument 'size[1]' must be an integer >= -1, got string \"a\"").
 *
 * This module and lib/tensor.ts import each other (idOf needs the Tensor class, the class's methods
 * check their arguments here); neither uses the other while it loads, so either may load first.
 */
import type { Id } from './binding';
import { DTYPES, isDType, type DType } from './dtype';
import { TorchError, argError, checkOptions } from './errors';
import { Tensor, type Scalar } from './tensor';

// ---- numbers and flags --------------------------------------------------------------------------------

/** An integer; with `min`, at least min ("a non-negative integer" for 0, "a positive integer" for 1). */
export function checkInt(fn: string, param: string, v: unknown, min?: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || (min !== undefined && v < min)) {
    argError(fn, param, min === undefined ? 'an integer' : min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`, v);
  }
  return v;
}

/** A number, not NaN; `ok` narrows it further, `what` says how ("a number in (0, 1]"). */
export function checkNumber(fn: string, param: string, v: unknown, ok: (x: number) => boolean = () => true, what = 'a number'): number {
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) argError(fn, param, what, v);
  return v;
}

/** A finite number above 0. */
export function checkPositive(fn: string, param: string, v: unknown): number {
  return checkNumber(fn, param, v, (x) => x > 0 && Number.isFinite(x), 'a positive number');
}

/** A probability (a dropout rate, a flip chance): a number in [0, 1]. */
export function checkProbability(fn: string, param: string, v: unknown): number {
  return checkNumber(fn, param, v, (x) => x >= 0 && x <= 1, 'a probability between 0 and 1');
}

export function checkBool(fn: string, param: string, v: unknown): boolean {
  if (typeof v !== 'boolean') argError(fn, param, 'a boolean', v);
  return v;
}

/** A Python scalar as an op argument: a number or a boolean. */
export function checkScalar(fn: string, param: string, v: unknown): Scalar {
  if (typeof v !== 'number' && typeof v !== 'boolean') argError(fn, param, 'a number or boolean', v);
  return v;
}

// ---- dims, shapes, dtypes -----------------------------------------------------------------------------

/** A dim or a list of dims (`sum(1)`, `sum([0, 2])`) -> the list. */
export function checkDims(fn: string, param: string, v: unknown): number[] {
  if (typeof v === 'number') return [checkInt(fn, param, v)];
  if (!Array.isArray(v)) argError(fn, param, 'an integer or an array of integers', v);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x)) checkInt(fn, `${param}[${i}]`, x); // the message only when it fails
  }
  return v as number[];
}

/** `f(2, 3)` or `f([2, 3])` -> [2, 3], checked. */
export function shapeFrom(fn: string, args: unknown[], allowNegativeOne = false): number[] {
  const shape = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  shape.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < (allowNegativeOne ? -1 : 0)) {
      argError(fn, `size[${i}]`, allowNegativeOne ? 'an integer >= -1' : 'a non-negative integer', s);
    }
  });
  return shape as number[];
}

export function checkDtype(fn: string, d: unknown): DType {
  if (!isDType(d)) argError(fn, 'dtype', `one of ${DTYPES.join(', ')}`, d);
  return d;
}

// ---- tensors ------------------------------------------------------------------------------------------

/** The error for a disposed tensor used as `param` ('self': the tensor a method was called on). */
export function disposedError(fn: string, param: string): TorchError {
  return new TorchError(
    `${fn}: ${param === 'self' ? 'the tensor' : `argument '${param}'`} was disposed and cannot be used; ` +
      'keep it alive (return it from tidy() or call keep()) or recreate it',
    'ERR_TORCH_DISPOSED',
  );
}

/** The id of a tensor argument, checked: a Tensor, not disposed. */
export function idOf(v: unknown, fn: string, param: string): Id {
  if (!(v instanceof Tensor)) argError(fn, param, 'a Tensor', v);
  const h = v._h;
  if (h < 0) throw disposedError(fn, param);
  return h;
}

/** An optional tensor argument (PyTorch's `Tensor?`): its id, or null for null/undefined. */
export function optIdOf(v: unknown, fn: string, param: string): Id | null {
  return v == null ? null : idOf(v, fn, param);
}

/** The id of the tensor a method was called on, checked: not disposed. */
export function selfId(t: Tensor, fn: string): Id {
  const h = t._h;
  if (h < 0) throw disposedError(fn, 'self');
  return h;
}

// ---- Python's positional and keyword arguments -----------------------------------------------------

/** A plain options object (Python's keywords), not a Tensor or an array. */
export const isKw = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tensor);

/**
 * Python's binding of a hand-written method's arguments: the positional ones fill `names` in order,
 * and a trailing options object (the keywords, camelCased) may name any parameter not given
 * positionally, or one of the keyword-only `kwOnly`. An unknown key, an argument given twice or too
 * many arguments is a TorchError (Python's TypeError).
 */
export function bindArgs(fn: string, names: readonly string[], given: readonly unknown[], kwOnly: readonly string[] = []): Record<string, unknown> {
  let n = given.length;
  while (n > 0 && given[n - 1] === undefined) n--;
  const kw = n > 0 && isKw(given[n - 1]) ? (given[--n] as Record<string, unknown>) : null;
  if (n > names.length) throw new TorchError(`${fn}: takes at most ${names.length} positional arguments (${names.join(', ')}), got ${n}`, 'ERR_TORCH_ARG');
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    if (isKw(given[i])) throw new TorchError(`${fn}: an options object must be the last argument`, 'ERR_TORCH_ARG');
    out[names[i]] = given[i];
  }
  if (kw !== null) {
    for (const k of Object.keys(kw)) {
      const i = names.indexOf(k);
      if (i !== -1 && i < n) throw new TorchError(`${fn}: got multiple values for argument '${k}'`, 'ERR_TORCH_ARG');
    }
    checkOptions(fn, kw, [...names.slice(n), ...kwOnly]);
    for (const k of Object.keys(kw)) if (kw[k] !== undefined) out[k] = kw[k];
  }
  return out;
}
