/**
 * Reductions (PyTorch's "Reduction Ops"): sum, mean, prod, max, min, argmax, argmin, std, var, norm,
 * logsumexp, cumsum, all, any, sort, topk. Added to Tensor by addMethods (lib/tensor.ts).
 */
import { native } from '../binding';
import { bindArgs, checkBool, checkDims, checkDtype, checkInt, checkNumber, idOf, isKw, selfId } from '../checks';
import { dtypeCode, type DType } from '../dtype';
import { TorchError, argError, checkOptions } from '../errors';
import { namedTuple, type NamedTuple } from '../named-tuple';
import { BINARY, DIM, REDUCE, UNARY, codeOf } from '../ops/codes';
import { callOp, callOps } from '../ops/call';
import { Tensor, addMethods, wrap } from '../tensor';

/** The keyword arguments of sum/mean/prod: PyTorch's `keepdim=` and `dtype=`. A boolean in their place is keepdim. */
export interface ReduceOptions {
  /** Keep the reduced dimensions with size 1 (default false). */
  keepdim?: boolean;
  /** Cast the input to this dtype before reducing (e.g. to sum int8 without overflow). */
  dtype?: DType;
}

/**
 * What max(dim), min(dim), sort and topk return: Python's named tuple (values, indices), as an array
 * that also has the two by name: `const [values, indices] = x.max(1)` and `x.max(1).values`.
 */
export type ValuesIndices = NamedTuple<['values', 'indices'], [Tensor, Tensor]>;

/** The two results of an operator returning (values, indices), as a ValuesIndices. */
function valuesIndices([values, indices]: Tensor[]): ValuesIndices {
  return namedTuple(['values', 'indices'], [values, indices]);
}

/** std/var's options: PyTorch's correction (or the older unbiased) and keepdim; a boolean is unbiased. */
export type VarOptions = { correction?: number; unbiased?: boolean; keepdim?: boolean } | boolean;

/** Python's keyword-only call `x.sum(dim=1, keepdim=True)`: `x.sum({ dim: 1, keepdim: true })`. */
export interface ReduceDimOptions extends ReduceOptions {
  /** The dim (or dims) to reduce; null or absent: every element. */
  dim?: number | number[] | null;
}
/** Python's `x.std(dim=1, unbiased=False)`: `x.std({ dim: 1, unbiased: false })`. */
export type VarDimOptions = Exclude<VarOptions, boolean> & { dim?: number | number[] | null };
/** Python's `x.max(dim=1, keepdim=True)`: `x.max({ dim: 1, keepdim: true })`. */
export interface DimKeepdimOptions {
  /** The dim to reduce. */
  dim?: number | null;
  /** Keep it with size 1 (default false). */
  keepdim?: boolean;
}
/** sort's keywords: `dim` (default -1), `descending` (default false), `stable` (keyword-only in PyTorch). */
export interface SortOptions {
  /** The dimension sorted along (default -1). */
  dim?: number;
  /** Largest first (default false). */
  descending?: boolean;
  /** Keep the order of equal elements (PyTorch's sort(stable=True)). */
  stable?: boolean | null;
}
/** topk's keywords: `dim` (default -1), `largest` (default true), `sorted` (default true). */
export interface TopkOptions {
  /** How many elements (Python's k=). */
  k?: number;
  /** The dimension searched (default -1). */
  dim?: number;
  /** The largest k (default true), else the smallest. */
  largest?: boolean;
  /** Return them sorted (default true). */
  sorted?: boolean;
}

const UNARY_SUM_ALL = UNARY.indexOf('sumAll');
const UNARY_MEAN_ALL = UNARY.indexOf('meanAll');
const MAXIMUM = BINARY.indexOf('maximum');
const MINIMUM = BINARY.indexOf('minimum');
const REDUCE_CODES = { sum: REDUCE.indexOf('sum'), mean: REDUCE.indexOf('mean') };

function reduceOpts(fn: string, v: boolean | ReduceOptions | undefined, extra?: { dtype?: DType }): { keepdim: boolean; dtype: number | null } {
  const o = { keepdim: false, dtype: null as number | null };
  if (typeof v === 'boolean') o.keepdim = v;
  else if (v !== undefined) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) argError(fn, 'keepdim', 'a boolean or { keepdim, dtype }', v);
    checkOptions(fn, v, ['keepdim', 'dtype']);
    if (v.keepdim !== undefined) o.keepdim = checkBool(fn, 'keepdim', v.keepdim);
    if (v.dtype !== undefined) o.dtype = dtypeCode(checkDtype(fn, v.dtype));
  }
  if (extra !== undefined) {
    // Python's sum(dim, keepdim, dtype=...): the keywords after a positional keepdim.
    if (typeof v !== 'boolean') argError(fn, 'keepdim', 'a boolean when options follow it', v);
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) argError(fn, 'options', '{ dtype }', extra);
    checkOptions(fn, extra, ['dtype']);
    if (extra.dtype !== undefined) o.dtype = dtypeCode(checkDtype(fn, extra.dtype));
  }
  return o;
}

const FN = { sum: 'sum()', mean: 'mean()' };

/** sum/mean/prod({ dim, keepdim, dtype }), Python's keywords without a positional dim, as (dim, { keepdim, dtype }, undefined). */
function dimFirst(
  fn: string,
  kw: Record<string, unknown>,
  keepdim: unknown,
  options: unknown,
): [number | number[] | null | undefined, ReduceOptions, undefined] {
  const a = bindArgs(fn, ['dim', 'keepdim'], [kw, keepdim, options], ['dtype']);
  return [a.dim as number | number[] | null | undefined, { keepdim: a.keepdim as boolean | undefined, dtype: a.dtype as DType | undefined }, undefined];
}

/** sum/mean: over everything (`aten::NAME`), or over dims (`dimOp`), with keepdim and dtype. */
function reduceDims(
  self: Tensor,
  name: 'sum' | 'mean',
  dimOp: string,
  dim: number | number[] | null | undefined,
  keepdim: boolean | ReduceOptions | undefined,
  extra: { dtype?: DType } | undefined,
): Tensor {
  const fn = FN[name];
  const id = selfId(self, fn);
  const o = reduceOpts(fn, keepdim, extra);
  if (dim == null && !o.keepdim) {
    if (o.dtype === null) return wrap(native.unary(name === 'sum' ? UNARY_SUM_ALL : UNARY_MEAN_ALL, id));
    return callOp(name, id, o.dtype);
  }
  const dims = dim == null ? null : checkDims(fn, 'dim', dim);
  // Over dims without a dtype: the fast path (an unboxed call), else the dispatcher.
  if (dims !== null && o.dtype === null) return wrap(native.reduceDims(REDUCE_CODES[name], id, dims, o.keepdim));
  return callOp(dimOp, id, dims, o.keepdim, o.dtype);
}

/** max/min: over everything, elementwise against another tensor, or along a dim (values and indices). */
export function minMax(self: Tensor, name: 'max' | 'min', args: readonly unknown[]): Tensor | ValuesIndices {
  const fn = `${name}()`;
  const id = selfId(self, fn);
  if (args.length === 0) return callOp(name, id);
  if (args[0] instanceof Tensor) {
    if (args.length > 1)
      throw new TorchError(`${fn}: takes one tensor to compare with (as PyTorch's ${name}(other)), got ${args.length} arguments`, 'ERR_TORCH_ARG');
    return wrap(native.binary(name === 'max' ? MAXIMUM : MINIMUM, id, idOf(args[0], fn, 'other')));
  }
  // max(dim, keepdim=False), or Python's keywords: max(1, { keepdim: true }), max({ dim: 1 }).
  const a = bindArgs(fn, ['dim', 'keepdim'], args);
  if (a.dim === undefined)
    throw new TorchError(`${fn}: keepdim needs a dim, as in PyTorch: ${name}(dim, keepdim) or ${name}({ dim, keepdim })`, 'ERR_TORCH_ARG');
  const keepdim = a.keepdim === undefined ? false : checkBool(fn, 'keepdim', a.keepdim);
  return valuesIndices(callOps(`${name}.dim`, id, checkInt(fn, 'dim', a.dim), keepdim));
}

/** argmax/argmin(dim=None, keepdim=False), positional or as Python's keywords. */
function argMinMax(self: Tensor, name: 'argmax' | 'argmin', args: readonly unknown[]): Tensor {
  const fn = `${name}()`;
  const a = bindArgs(fn, ['dim', 'keepdim'], args);
  const dim = a.dim == null ? null : checkInt(fn, 'dim', a.dim);
  return callOp(name, selfId(self, fn), dim, a.keepdim === undefined ? false : checkBool(fn, 'keepdim', a.keepdim));
}

function varStd(
  self: Tensor,
  name: 'std' | 'var',
  dim: number | number[] | null | undefined | VarDimOptions,
  options: VarOptions | undefined,
  keepdim: boolean | undefined,
): Tensor {
  const fn = `${name}()`;
  if (isKw(dim)) {
    // Python's keyword-only call: std(dim=1, unbiased=False) as std({ dim: 1, unbiased: false }).
    const a = bindArgs(fn, ['dim', 'unbiased', 'keepdim'], [dim, options, keepdim], ['correction']);
    [dim, options, keepdim] = [
      a.dim as number | number[] | null | undefined,
      { unbiased: a.unbiased, keepdim: a.keepdim, correction: a.correction } as VarOptions,
      undefined,
    ];
  }
  options ??= {};
  if (typeof options !== 'boolean' && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    argError(fn, 'options', 'an unbiased boolean or { correction, unbiased, keepdim }', options);
  }
  if (typeof options !== 'boolean') {
    checkOptions(fn, options, ['correction', 'unbiased', 'keepdim']);
    if (options.correction !== undefined && options.unbiased !== undefined) {
      throw new TorchError(`${fn}: takes correction or unbiased, not both (as in PyTorch)`, 'ERR_TORCH_ARG');
    }
  }
  // Python's std(dim, unbiased, keepdim): a positional keepdim after a positional unbiased.
  if (keepdim !== undefined && typeof options !== 'boolean') argError(fn, 'unbiased', 'a boolean when keepdim follows it', options);
  const o = typeof options === 'boolean' ? { unbiased: options, keepdim: keepdim === undefined ? false : checkBool(fn, 'keepdim', keepdim) } : options;
  const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
  checkNumber(fn, 'correction', correction);
  const dims = dim == null ? null : checkDims(fn, 'dim', dim);
  return callOp(`${name}.correction`, selfId(self, fn), dims, correction, o.keepdim ?? false);
}

const DIM_CUMSUM = codeOf(DIM, 'cumsum');

/** Python's `x.any(dim=1, keepdim=True)` / `x.logsumexp(1, keepdim=True)`: `{ dim, keepdim }`. */
export interface DimsKeepdimOptions {
  /** The dim (or dims) to reduce. */
  dim?: number | number[] | null;
  /** Keep the reduced dims with size 1 (default false). */
  keepdim?: boolean;
}
/** Python's `x.norm(p=2, dim=1, keepdim=True, dtype=...)`: `{ p, dim, keepdim, dtype }`. */
export interface NormOptions extends DimsKeepdimOptions {
  /** The order (default 2; 'fro' is 2). */
  p?: number | 'fro';
  /** Compute and return in this dtype. */
  dtype?: DType;
}

/** all/any(dim=None, keepdim=False), positional or keywords; several dims or keepdim over all: `.dims`. */
function allAny(self: Tensor, name: 'all' | 'any', dim: unknown, keepdim: unknown): Tensor {
  const fn = `${name}()`;
  const id = selfId(self, fn);
  const a = bindArgs(fn, ['dim', 'keepdim'], [dim, keepdim]);
  const kd = a.keepdim == null ? false : checkBool(fn, 'keepdim', a.keepdim);
  if (a.dim == null && !kd) return callOp(name, id);
  if (typeof a.dim === 'number') return callOp(`${name}.dim`, id, checkInt(fn, 'dim', a.dim), kd);
  return callOp(`${name}.dims`, id, a.dim == null ? null : checkDims(fn, 'dim', a.dim as number[]), kd);
}

export class TensorReductions {
  /** PyTorch's `sum(dim=None, keepdim=False, dtype=None)`: over every element, or over `dim` (a dim or several); keywords as `sum(1, { keepdim })` or `sum({ dim, keepdim, dtype })`. */
  sum(this: Tensor, dim?: number | number[] | null | ReduceDimOptions, keepdim?: boolean | ReduceOptions, options?: { dtype?: DType }): Tensor {
    if (isKw(dim)) return reduceDims(this, 'sum', 'sum.dim_IntList', ...dimFirst('sum()', dim, keepdim, options));
    return reduceDims(this, 'sum', 'sum.dim_IntList', dim as number | number[] | null | undefined, keepdim, options);
  }
  /** PyTorch's `mean(dim=None, keepdim=False, dtype=None)`: over every element, or over `dim` (a dim or several); keywords as `mean({ dim, keepdim, dtype })`. */
  mean(this: Tensor, dim?: number | number[] | null | ReduceDimOptions, keepdim?: boolean | ReduceOptions, options?: { dtype?: DType }): Tensor {
    if (isKw(dim)) return reduceDims(this, 'mean', 'mean.dim', ...dimFirst('mean()', dim, keepdim, options));
    return reduceDims(this, 'mean', 'mean.dim', dim as number | number[] | null | undefined, keepdim, options);
  }
  /** PyTorch's `prod(dim=None, keepdim=False, dtype=None)`: the product of every element, or along one `dim`; keywords as `prod({ dim, keepdim, dtype })`. */
  prod(this: Tensor, dim?: number | null | (ReduceOptions & { dim?: number }), keepdim?: boolean | ReduceOptions, options?: { dtype?: DType }): Tensor {
    const id = selfId(this, 'prod()');
    if (isKw(dim)) [dim, keepdim, options] = dimFirst('prod()', dim, keepdim, options) as [number | null, ReduceOptions, undefined];
    const o = reduceOpts('prod()', keepdim, options);
    if (dim == null) {
      if (o.keepdim) throw new TorchError('prod(): keepdim needs a dim, as in PyTorch: prod(dim, keepdim) or prod({ dim, keepdim })', 'ERR_TORCH_ARG');
      return callOp('prod', id, o.dtype);
    }
    return callOp('prod.dim_int', id, checkInt('prod()', 'dim', dim), o.keepdim, o.dtype);
  }
  /**
   * max() -> the maximum; max(other) -> the elementwise maximum; max(dim, keepdim?) -> (values,
   * indices) as Python's named tuple: `const [values, indices] = x.max(1)` or `x.max(1).values`; Python's
   * keywords as `x.max(1, { keepdim: true })` or `x.max({ dim: 1, keepdim: true })`.
   */
  max(this: Tensor): Tensor;
  max(this: Tensor, other: Tensor): Tensor;
  max(this: Tensor, dim: number, keepdim?: boolean | { keepdim?: boolean }): ValuesIndices;
  max(this: Tensor, options: DimKeepdimOptions & { dim: number }): ValuesIndices;
  max(this: Tensor, ...args: unknown[]): Tensor | ValuesIndices {
    return minMax(this, 'max', args);
  }
  /** min() -> the minimum; min(other) -> the elementwise minimum; min(dim, keepdim?) or min({ dim, keepdim }) -> (values, indices), as max. */
  min(this: Tensor): Tensor;
  min(this: Tensor, other: Tensor): Tensor;
  min(this: Tensor, dim: number, keepdim?: boolean | { keepdim?: boolean }): ValuesIndices;
  min(this: Tensor, options: DimKeepdimOptions & { dim: number }): ValuesIndices;
  min(this: Tensor, ...args: unknown[]): Tensor | ValuesIndices {
    return minMax(this, 'min', args);
  }
  /** PyTorch's `argmax(dim=None, keepdim=False)`: the int64 index of the maximum (in the flattened tensor when `dim` is omitted); also `argmax(1, { keepdim })`, `argmax({ dim, keepdim })`. */
  argmax(this: Tensor, dim?: number | null | DimKeepdimOptions, keepdim?: boolean | { keepdim?: boolean }): Tensor;
  argmax(this: Tensor, ...args: unknown[]): Tensor {
    return argMinMax(this, 'argmax', args);
  }
  /** PyTorch's `argmin(dim=None, keepdim=False)`: the int64 index of the minimum (in the flattened tensor when `dim` is omitted); keywords as argmax. */
  argmin(this: Tensor, dim?: number | null | DimKeepdimOptions, keepdim?: boolean | { keepdim?: boolean }): Tensor;
  argmin(this: Tensor, ...args: unknown[]): Tensor {
    return argMinMax(this, 'argmin', args);
  }
  /** std(dim?, { correction = 1 (or unbiased), keepdim }) as PyTorch's Tensor.std; Python's `std(unbiased=False)` is `std({ unbiased: false })`, and `{ dim }` may be in the object. */
  std(this: Tensor, dim?: number | number[] | null | VarDimOptions, options?: VarOptions, keepdim?: boolean): Tensor {
    return varStd(this, 'std', dim, options, keepdim);
  }
  /** PyTorch's `var(dim=None, correction=1, keepdim=False)`: the variance (Bessel-corrected by default; `{ correction: 0 }` or `false` for the population variance). */
  var(this: Tensor, dim?: number | number[] | null | VarDimOptions, options?: VarOptions, keepdim?: boolean): Tensor {
    return varStd(this, 'var', dim, options, keepdim);
  }
  /** norm(p = 2, dim?, keepdim?) */
  norm(
    this: Tensor,
    p?: number | 'fro' | NormOptions,
    dim?: number | number[] | null | NormOptions,
    keepdim?: boolean | NormOptions,
    dtype?: DType | NormOptions,
  ): Tensor {
    const fn = 'norm()';
    const id = selfId(this, fn);
    const a = bindArgs(fn, ['p', 'dim', 'keepdim', 'dtype'], [p, dim, keepdim, dtype]);
    const pv = a.p == null || a.p === 'fro' ? 2 : checkNumber(fn, 'p', a.p);
    const kd = a.keepdim == null ? false : checkBool(fn, 'keepdim', a.keepdim);
    const dt = a.dtype == null ? null : dtypeCode(checkDtype(fn, a.dtype));
    const dims = a.dim == null ? null : checkDims(fn, 'dim', a.dim as number | number[]);
    // Python's torch.norm over every dim with keepdim (or a dtype) is linalg.vector_norm over all of them.
    if (dims === null && !kd && dt === null) return callOp('norm.Scalar', id, pv);
    if (dims === null) return callOp('linalg_vector_norm', id, pv, null, kd, dt);
    if (dt !== null) return callOp('norm.ScalarOpt_dim_dtype', id, pv, dims, kd, dt);
    return callOp('norm.ScalarOpt_dim', id, pv, dims, kd);
  }
  /** PyTorch's `logsumexp(dim, keepdim=False)`: log(sum(exp(x))) over `dim`, computed stably. */
  logsumexp(this: Tensor, dim: number | number[] | DimsKeepdimOptions, keepdim?: boolean | DimsKeepdimOptions): Tensor {
    const fn = 'logsumexp()';
    const id = selfId(this, fn);
    const a = bindArgs(fn, ['dim', 'keepdim'], [dim, keepdim]);
    if (a.dim === undefined) argError(fn, 'dim', 'a dim or a list of dims (PyTorch requires it)', undefined);
    return callOp('logsumexp', id, checkDims(fn, 'dim', a.dim as number | number[]), a.keepdim == null ? false : checkBool(fn, 'keepdim', a.keepdim));
  }
  /** PyTorch's `cumsum(dim, dtype=None)`: the cumulative sum along `dim`. */
  cumsum(this: Tensor, dim: number, options: { dtype?: DType } = {}): Tensor {
    checkInt('cumsum()', 'dim', dim);
    checkOptions('cumsum()', options, ['dtype']);
    const id = selfId(this, 'cumsum()');
    if (options.dtype === undefined) return wrap(native.dimOp(DIM_CUMSUM, id, dim)); // unboxed
    return callOp('cumsum', id, dim, dtypeCode(checkDtype('cumsum()', options.dtype)));
  }
  /** PyTorch's `all(dim=None, keepdim=False)`: a bool tensor, true where every element (along `dim`) is non-zero. */
  all(this: Tensor, dim?: number | number[] | null | DimsKeepdimOptions, keepdim?: boolean | DimsKeepdimOptions): Tensor {
    return allAny(this, 'all', dim, keepdim);
  }
  /** PyTorch's `any(dim=None, keepdim=False)`: a bool tensor, true where some element (along `dim`) is non-zero. */
  any(this: Tensor, dim?: number | number[] | null | DimsKeepdimOptions, keepdim?: boolean | DimsKeepdimOptions): Tensor {
    return allAny(this, 'any', dim, keepdim);
  }
  /** sort(dim = -1, descending = false) -> (values, indices), as Python's named tuple (see max); keywords as `sort({ dim, descending, stable })` or `sort(1, { descending })`. */
  sort(this: Tensor, dim?: number | SortOptions, descending?: boolean | Omit<SortOptions, 'dim'>): ValuesIndices;
  sort(this: Tensor, ...args: unknown[]): ValuesIndices {
    const fn = 'sort()';
    const id = selfId(this, fn);
    const a = bindArgs(fn, ['dim', 'descending'], args, ['stable']);
    const dim = a.dim === undefined ? -1 : checkInt(fn, 'dim', a.dim);
    const descending = a.descending === undefined ? false : checkBool(fn, 'descending', a.descending);
    if (a.stable == null) return valuesIndices(callOps('sort', id, dim, descending));
    return valuesIndices(callOps('sort.stable', id, checkBool(fn, 'stable', a.stable), dim, descending));
  }
  /** topk(k, dim = -1, largest = true, sorted = true) -> (values, indices), as Python's named tuple (see max); keywords as `topk(2, { dim, largest, sorted })`. */
  topk(this: Tensor, k: number | TopkOptions, dim?: number | TopkOptions, largest?: boolean | TopkOptions, sorted?: boolean | TopkOptions): ValuesIndices;
  topk(this: Tensor, ...args: unknown[]): ValuesIndices {
    const fn = 'topk()';
    const id = selfId(this, fn);
    const a = bindArgs(fn, ['k', 'dim', 'largest', 'sorted'], args);
    if (a.k === undefined) throw new TorchError("topk(): missing argument 'k'", 'ERR_TORCH_ARG');
    const flag = (name: string, v: unknown) => (v === undefined ? true : checkBool(fn, name, v));
    return valuesIndices(
      callOps('topk', id, checkInt(fn, 'k', a.k), a.dim === undefined ? -1 : checkInt(fn, 'dim', a.dim), flag('largest', a.largest), flag('sorted', a.sorted)),
    );
  }
}

declare module '../tensor' {
  interface Tensor extends TensorReductions {}
}
addMethods(TensorReductions);
