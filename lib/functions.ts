/** torch.* free functions: joins, where, and the function form of every Tensor method (torch.add(a, b)). */
import { native, type Id } from './binding';
import { TorchError, argError } from './errors';
import { BINARY, UNARY } from './ops/codes';
import { Tensor, checkInt, idOf, wrap, type Scalar, type TensorOrScalar } from './tensor';
import { callOp } from './ops/call';
import { minMax, type ValuesIndices } from './tensors/reductions';

function idList(fn: string, tensors: Tensor[]): Id[] {
  if (!Array.isArray(tensors)) argError(fn, 'tensors', 'an array of Tensors', tensors);
  if (tensors.length === 0) throw new TorchError(`${fn}: argument 'tensors' must be a non-empty array of Tensors`, 'ERR_TORCH_ARG');
  return tensors.map((t, i) => idOf(t, fn, `tensors[${i}]`));
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return callOp('cat', idList('cat()', tensors), checkInt('cat()', 'dim', dim));
}
export const concat = cat;

export function stack(tensors: Tensor[], dim = 0): Tensor {
  return callOp('stack', idList('stack()', tensors), checkInt('stack()', 'dim', dim));
}

/** where(condition, x, y): x where condition holds, else y; x and y may be numbers. */
export function where(condition: Tensor, x: TensorOrScalar, y: TensorOrScalar): Tensor {
  const fn = 'where()';
  const c = idOf(condition, fn, 'condition');
  const scalar = (v: unknown, p: string): Scalar => {
    if (typeof v !== 'number' && typeof v !== 'boolean') argError(fn, p, 'a Tensor or a number', v);
    return v;
  };
  if (x instanceof Tensor && y instanceof Tensor) return callOp('where.self', c, idOf(x, fn, 'input'), idOf(y, fn, 'other'));
  if (x instanceof Tensor) return callOp('where.ScalarOther', c, idOf(x, fn, 'input'), scalar(y, 'other'));
  if (y instanceof Tensor) return callOp('where.ScalarSelf', c, scalar(x, 'input'), idOf(y, fn, 'other'));
  return callOp('where.Scalar', c, scalar(x, 'input'), scalar(y, 'other'));
}

export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) argError('manualSeed()', 'seed', 'a non-negative integer', seed);
  native.manualSeed(seed);
}

/** torch.get_rng_state(): the CPU generator's state as a uint8 tensor. */
export function getRngState(): Tensor {
  return wrap(native.getRngState());
}

/** torch.set_rng_state(state): restores the CPU generator (a state from getRngState or Python). */
export function setRngState(state: Tensor): void {
  native.setRngState(idOf(state, 'setRngState()', 'state'));
}

/** torch.set_num_threads: libtorch's intra-op thread count (process-wide). */
export function setNumThreads(n: number): void {
  checkInt('setNumThreads()', 'n', n, 1);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Calls `t.name(...rest)` after checking t is a Tensor: the function form of a method. */
function method(name: string) {
  return (t: Tensor, ...rest: unknown[]) => {
    idOf(t, `${name}()`, 'input');
    return (t as any)[name](...rest);
  };
}

type M<K extends keyof Tensor> = Tensor[K] extends (...a: infer A) => infer R ? (input: Tensor, ...a: A) => R : never;

const METHODS = [
  ...BINARY, ...UNARY.filter((n): n is Exclude<typeof n, 'sumAll' | 'meanAll'> => n !== 'sumAll' && n !== 'meanAll'), 'clamp', 'softmax', 'logSoftmax', 'reshape', 'flatten', 'squeeze', 'unsqueeze', 'permute',
  'transpose', 'narrow', 'select', 'split', 'chunk', 'unbind', 'sum', 'mean', 'prod', 'argmax', 'argmin',
  'std', 'var', 'norm', 'logsumexp', 'cumsum', 'all', 'any', 'sort', 'topk', 'gather', 'indexSelect', 'maskedSelect',
  'equal', 'allclose', 'leakyRelu', 'flatten', 'clone', 'detach',
] as const;

export const fn: { [K in (typeof METHODS)[number]]: M<K> } = Object.fromEntries(
  [...new Set(METHODS)].map((n) => [n, method(n)]),
) as any;

export const {
  add, sub, mul, div, pow, remainder, fmod, floorDivide, maximum, minimum, eq, ne, lt, le, gt, ge, atan2,
  logicalAnd, logicalOr, logicalXor, bitwiseAnd, bitwiseOr, bitwiseXor, matmul, mm, bmm,
  neg, abs, exp, log, sqrt, sin, cos, tan, tanh, sigmoid, relu, floor, ceil, round, sign, reciprocal, rsqrt,
  log1p, expm1, logicalNot, isnan, clone, detach, square, log2, log10, trunc, erf, asin, acos, atan, sinh, cosh,
  isinf, isfinite, bitwiseNot, frac, silu, t, clamp, softmax, logSoftmax, reshape, flatten, squeeze, unsqueeze,
  permute, transpose, narrow, select, split, chunk, unbind, sum, mean, prod, argmax, argmin, std,
  norm, logsumexp, cumsum, all, any, sort, topk, gather, indexSelect, maskedSelect, equal, allclose,
} = fn;
/**
 * torch.max(input) -> the maximum; torch.max(input, other) -> the elementwise maximum;
 * torch.max(input, dim, keepdim?) -> (values, indices), Python's named tuple:
 * `const [values, indices] = torch.max(x, 1)` or `torch.max(x, 1).values`.
 */
export function max(input: Tensor): Tensor;
export function max(input: Tensor, other: Tensor): Tensor;
export function max(input: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(input: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  idOf(input, 'max()', 'input');
  return minMax(input, 'max', dim, keepdim);
}
/** torch.min, as torch.max. */
export function min(input: Tensor): Tensor;
export function min(input: Tensor, other: Tensor): Tensor;
export function min(input: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(input: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  idOf(input, 'min()', 'input');
  return minMax(input, 'min', dim, keepdim);
}
const var_ = fn.var;
export { var_ as var };
export const gelu = (input: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor => {
  idOf(input, 'gelu()', 'input');
  return input.gelu(options);
};
