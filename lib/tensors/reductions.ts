/**
 * Reductions (PyTorch's "Reduction Ops"): sum, mean, prod, max, min, argmax, argmin, std, var, norm,
 * logsumexp, cumsum, all, any, sort, topk. Added to Tensor by addMethods (lib/tensor.ts).
 */
import { native } from '../binding';
import { checkBool, checkDims, checkDtype, checkInt, checkNumber, idOf, selfId } from '../checks';
import { dtypeCode, type DType } from '../dtype';
import { argError, checkOptions } from '../errors';
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
export function minMax(self: Tensor, name: 'max' | 'min', dim: number | Tensor | undefined, keepdim: boolean): Tensor | ValuesIndices {
  const fn = `${name}()`;
  const id = selfId(self, fn);
  if (dim === undefined) return callOp(name, id);
  if (dim instanceof Tensor) return wrap(native.binary(name === 'max' ? MAXIMUM : MINIMUM, id, idOf(dim, fn, 'other')));
  checkInt(fn, 'dim', dim);
  checkBool(fn, 'keepdim', keepdim);
  return valuesIndices(callOps(`${name}.dim`, id, dim, keepdim));
}

function varStd(self: Tensor, name: 'std' | 'var', dim: number | number[] | null | undefined, options: VarOptions, keepdim: boolean | undefined): Tensor {
  const fn = `${name}()`;
  if (typeof options !== 'boolean' && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    argError(fn, 'options', 'an unbiased boolean or { correction, unbiased, keepdim }', options);
  }
  if (typeof options !== 'boolean') checkOptions(fn, options, ['correction', 'unbiased', 'keepdim']);
  // Python's std(dim, unbiased, keepdim): a positional keepdim after a positional unbiased.
  if (keepdim !== undefined && typeof options !== 'boolean') argError(fn, 'unbiased', 'a boolean when keepdim follows it', options);
  const o = typeof options === 'boolean' ? { unbiased: options, keepdim: keepdim === undefined ? false : checkBool(fn, 'keepdim', keepdim) } : options;
  const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
  checkNumber(fn, 'correction', correction);
  const dims = dim == null ? null : checkDims(fn, 'dim', dim);
  return callOp(`${name}.correction`, selfId(self, fn), dims, correction, o.keepdim ?? false);
}

const DIM_CUMSUM = codeOf(DIM, 'cumsum');

export class TensorReductions {
  /** PyTorch's `sum(dim=None, keepdim=False, dtype=None)`: over every element, or over `dim` (a dim or several). */
  sum(this: Tensor, dim?: number | number[] | null, keepdim?: boolean | ReduceOptions, options?: { dtype?: DType }): Tensor {
    return reduceDims(this, 'sum', 'sum.dim_IntList', dim, keepdim, options);
  }
  /** PyTorch's `mean(dim=None, keepdim=False, dtype=None)`: over every element, or over `dim` (a dim or several). */
  mean(this: Tensor, dim?: number | number[] | null, keepdim?: boolean | ReduceOptions, options?: { dtype?: DType }): Tensor {
    return reduceDims(this, 'mean', 'mean.dim', dim, keepdim, options);
  }
  /** PyTorch's `prod(dim=None, keepdim=False, dtype=None)`: the product of every element, or along one `dim`. */
  prod(this: Tensor, dim?: number | null, keepdim?: boolean | ReduceOptions, options?: { dtype?: DType }): Tensor {
    const id = selfId(this, 'prod()');
    const o = reduceOpts('prod()', keepdim, options);
    if (dim == null) return callOp('prod', id, o.dtype);
    return callOp('prod.dim_int', id, checkInt('prod()', 'dim', dim), o.keepdim, o.dtype);
  }
  /**
   * max() -> the maximum; max(other) -> the elementwise maximum; max(dim, keepdim?) -> (values,
   * indices) as Python's named tuple: `const [values, indices] = x.max(1)` or `x.max(1).values`.
   */
  max(this: Tensor): Tensor;
  max(this: Tensor, other: Tensor): Tensor;
  max(this: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
  max(this: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
    return minMax(this, 'max', dim, keepdim);
  }
  /** min() -> the minimum; min(other) -> the elementwise minimum; min(dim, keepdim?) -> (values, indices), as max. */
  min(this: Tensor): Tensor;
  min(this: Tensor, other: Tensor): Tensor;
  min(this: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
  min(this: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
    return minMax(this, 'min', dim, keepdim);
  }
  /** PyTorch's `argmax(dim=None, keepdim=False)`: the int64 index of the maximum (in the flattened tensor when `dim` is omitted). */
  argmax(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    if (dim != null) checkInt('argmax()', 'dim', dim);
    return callOp('argmax', selfId(this, 'argmax()'), dim ?? null, checkBool('argmax()', 'keepdim', keepdim));
  }
  /** PyTorch's `argmin(dim=None, keepdim=False)`: the int64 index of the minimum (in the flattened tensor when `dim` is omitted). */
  argmin(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    if (dim != null) checkInt('argmin()', 'dim', dim);
    return callOp('argmin', selfId(this, 'argmin()'), dim ?? null, checkBool('argmin()', 'keepdim', keepdim));
  }
  /** std(dim?, { correction = 1 (or unbiased), keepdim }) as PyTorch's Tensor.std. */
  std(this: Tensor, dim?: number | number[] | null, options: VarOptions = {}, keepdim?: boolean): Tensor {
    return varStd(this, 'std', dim, options, keepdim);
  }
  /** PyTorch's `var(dim=None, correction=1, keepdim=False)`: the variance (Bessel-corrected by default; `{ correction: 0 }` or `false` for the population variance). */
  var(this: Tensor, dim?: number | number[] | null, options: VarOptions = {}, keepdim?: boolean): Tensor {
    return varStd(this, 'var', dim, options, keepdim);
  }
  /** norm(p = 2, dim?, keepdim?) */
  norm(this: Tensor, p: number | 'fro' = 2, dim?: number | number[] | null, keepdim = false): Tensor {
    const id = selfId(this, 'norm()');
    const pv = p === 'fro' ? 2 : checkNumber('norm()', 'p', p);
    if (dim == null) return callOp('norm.Scalar', id, pv);
    return callOp('norm.ScalarOpt_dim', id, pv, checkDims('norm()', 'dim', dim), keepdim);
  }
  /** PyTorch's `logsumexp(dim, keepdim=False)`: log(sum(exp(x))) over `dim`, computed stably. */
  logsumexp(this: Tensor, dim: number | number[], keepdim = false): Tensor {
    return callOp('logsumexp', selfId(this, 'logsumexp()'), checkDims('logsumexp()', 'dim', dim), keepdim);
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
  all(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    if (dim == null) return callOp('all', selfId(this, 'all()'));
    return callOp('all.dim', selfId(this, 'all()'), checkInt('all()', 'dim', dim), keepdim);
  }
  /** PyTorch's `any(dim=None, keepdim=False)`: a bool tensor, true where some element (along `dim`) is non-zero. */
  any(this: Tensor, dim?: number | null, keepdim = false): Tensor {
    if (dim == null) return callOp('any', selfId(this, 'any()'));
    return callOp('any.dim', selfId(this, 'any()'), checkInt('any()', 'dim', dim), keepdim);
  }
  /** sort(dim = -1, descending = false) -> (values, indices), as Python's named tuple (see max). */
  sort(this: Tensor, dim = -1, descending = false): ValuesIndices {
    const fn = 'sort()';
    return valuesIndices(callOps('sort', selfId(this, fn), checkInt(fn, 'dim', dim), checkBool(fn, 'descending', descending)));
  }
  /** topk(k, dim = -1, largest = true, sorted = true) -> (values, indices), as Python's named tuple (see max). */
  topk(this: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
    const fn = 'topk()';
    const id = selfId(this, fn);
    return valuesIndices(
      callOps('topk', id, checkInt(fn, 'k', k), checkInt(fn, 'dim', dim), checkBool(fn, 'largest', largest), checkBool(fn, 'sorted', sorted)),
    );
  }
}

declare module '../tensor' {
  interface Tensor extends TensorReductions {}
}
addMethods(TensorReductions);
