/** torch.* free functions: joins, where, and the function form of every Tensor method (torch.add(a, b)). */
import { native, type Id } from './binding';
import { TorchError, argError } from './errors';
import { BINARY, LIST, UNARY, codeOf } from './ops/codes';
import { Tensor, checkInt, idOf, wrap, type Scalar, type TensorOrScalar } from './tensor';
import { callOp } from './ops/call';
import { minMax, type DimKeepdimOptions, type ValuesIndices } from './tensors/reductions';

function idList(fn: string, tensors: Tensor[]): Id[] {
  if (!Array.isArray(tensors)) argError(fn, 'tensors', 'an array of Tensors', tensors);
  const n = tensors.length;
  if (n === 0) throw new TorchError(`${fn}: argument 'tensors' must be a non-empty array of Tensors`, 'ERR_TORCH_ARG');
  const ids: Id[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = tensors[i];
    ids[i] = t instanceof Tensor && t._h >= 0 ? t._h : idOf(t, fn, `tensors[${i}]`); // idOf: the error
  }
  return ids;
}

const CAT = codeOf(LIST, 'cat');
const STACK = codeOf(LIST, 'stack');

// cat and stack are one unboxed call (native.listOp, up to 64 tensors; more take the dispatcher),
// as Python's torch.cat / torch.stack.

/** PyTorch's `torch.cat(tensors, dim=0)`: joins tensors of the same shape (except in `dim`) along an existing dimension. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  const ids = idList('cat()', tensors);
  checkInt('cat()', 'dim', dim);
  return ids.length <= 64 ? wrap(native.listOp(CAT, dim, ...ids)) : callOp('cat', ids, dim);
}
/** PyTorch's `torch.concat`: an alias of cat(). */
export const concat = cat;

/** PyTorch's `torch.stack(tensors, dim=0)`: joins tensors of the same shape along a new dimension `dim`. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  const ids = idList('stack()', tensors);
  checkInt('stack()', 'dim', dim);
  return ids.length <= 64 ? wrap(native.listOp(STACK, dim, ...ids)) : callOp('stack', ids, dim);
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

/** PyTorch's `torch.manual_seed(seed)`: seeds the default generators (rand, randn, dropout, shuffling), for reproducible runs. */
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

/** PyTorch's `torch.get_num_threads()`: libtorch's intra-op thread count. */
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
  ...BINARY,
  ...UNARY.filter((n): n is Exclude<typeof n, 'sumAll' | 'meanAll'> => n !== 'sumAll' && n !== 'meanAll'),
  'clamp',
  'softmax',
  'logSoftmax',
  'reshape',
  'flatten',
  'squeeze',
  'unsqueeze',
  'permute',
  'transpose',
  'narrow',
  'select',
  'split',
  'chunk',
  'unbind',
  'sum',
  'mean',
  'prod',
  'argmax',
  'argmin',
  'std',
  'var',
  'norm',
  'logsumexp',
  'cumsum',
  'all',
  'any',
  'sort',
  'topk',
  'gather',
  'indexSelect',
  'maskedSelect',
  'equal',
  'allclose',
  'leakyRelu',
  'flatten',
  'clone',
  'detach',
] as const;

/** @internal The function forms by name, `fn.add(a, b)` = `a.add(b)`; the named exports below are taken from it. */
export const fn: { [K in (typeof METHODS)[number]]: M<K> } = Object.fromEntries([...new Set(METHODS)].map((n) => [n, method(n)])) as any;

// The function forms of Tensor methods, as PyTorch's torch.* functions: torch.add(a, b) is a.add(b).
/** PyTorch's `torch.add`: {@link Tensor.add} as a function (the tensor comes first). */
export const add = fn.add;
/** PyTorch's `torch.sub`: {@link Tensor.sub} as a function (the tensor comes first). */
export const sub = fn.sub;
/** PyTorch's `torch.mul`: {@link Tensor.mul} as a function (the tensor comes first). */
export const mul = fn.mul;
/** PyTorch's `torch.div`: {@link Tensor.div} as a function (the tensor comes first). */
export const div = fn.div;
/** PyTorch's `torch.pow`: {@link Tensor.pow} as a function (the tensor comes first). */
export const pow = fn.pow;
/** PyTorch's `torch.remainder`: {@link Tensor.remainder} as a function (the tensor comes first). */
export const remainder = fn.remainder;
/** PyTorch's `torch.fmod`: {@link Tensor.fmod} as a function (the tensor comes first). */
export const fmod = fn.fmod;
/** PyTorch's `torch.floor_divide`: {@link Tensor.floorDivide} as a function (the tensor comes first). */
export const floorDivide = fn.floorDivide;
/** PyTorch's `torch.maximum`: {@link Tensor.maximum} as a function (the tensor comes first). */
export const maximum = fn.maximum;
/** PyTorch's `torch.minimum`: {@link Tensor.minimum} as a function (the tensor comes first). */
export const minimum = fn.minimum;
/** PyTorch's `torch.eq`: {@link Tensor.eq} as a function (the tensor comes first). */
export const eq = fn.eq;
/** PyTorch's `torch.ne`: {@link Tensor.ne} as a function (the tensor comes first). */
export const ne = fn.ne;
/** PyTorch's `torch.lt`: {@link Tensor.lt} as a function (the tensor comes first). */
export const lt = fn.lt;
/** PyTorch's `torch.le`: {@link Tensor.le} as a function (the tensor comes first). */
export const le = fn.le;
/** PyTorch's `torch.gt`: {@link Tensor.gt} as a function (the tensor comes first). */
export const gt = fn.gt;
/** PyTorch's `torch.ge`: {@link Tensor.ge} as a function (the tensor comes first). */
export const ge = fn.ge;
/** PyTorch's `torch.atan2`: {@link Tensor.atan2} as a function (the tensor comes first). */
export const atan2 = fn.atan2;
/** PyTorch's `torch.logical_and`: {@link Tensor.logicalAnd} as a function (the tensor comes first). */
export const logicalAnd = fn.logicalAnd;
/** PyTorch's `torch.logical_or`: {@link Tensor.logicalOr} as a function (the tensor comes first). */
export const logicalOr = fn.logicalOr;
/** PyTorch's `torch.logical_xor`: {@link Tensor.logicalXor} as a function (the tensor comes first). */
export const logicalXor = fn.logicalXor;
/** PyTorch's `torch.bitwise_and`: {@link Tensor.bitwiseAnd} as a function (the tensor comes first). */
export const bitwiseAnd = fn.bitwiseAnd;
/** PyTorch's `torch.bitwise_or`: {@link Tensor.bitwiseOr} as a function (the tensor comes first). */
export const bitwiseOr = fn.bitwiseOr;
/** PyTorch's `torch.bitwise_xor`: {@link Tensor.bitwiseXor} as a function (the tensor comes first). */
export const bitwiseXor = fn.bitwiseXor;
/** PyTorch's `torch.matmul`: {@link Tensor.matmul} as a function (the tensor comes first). */
export const matmul = fn.matmul;
/** PyTorch's `torch.mm`: {@link Tensor.mm} as a function (the tensor comes first). */
export const mm = fn.mm;
/** PyTorch's `torch.bmm`: {@link Tensor.bmm} as a function (the tensor comes first). */
export const bmm = fn.bmm;
/** PyTorch's `torch.neg`: {@link Tensor.neg} as a function (the tensor comes first). */
export const neg = fn.neg;
/** PyTorch's `torch.abs`: {@link Tensor.abs} as a function (the tensor comes first). */
export const abs = fn.abs;
/** PyTorch's `torch.exp`: {@link Tensor.exp} as a function (the tensor comes first). */
export const exp = fn.exp;
/** PyTorch's `torch.log`: {@link Tensor.log} as a function (the tensor comes first). */
export const log = fn.log;
/** PyTorch's `torch.sqrt`: {@link Tensor.sqrt} as a function (the tensor comes first). */
export const sqrt = fn.sqrt;
/** PyTorch's `torch.sin`: {@link Tensor.sin} as a function (the tensor comes first). */
export const sin = fn.sin;
/** PyTorch's `torch.cos`: {@link Tensor.cos} as a function (the tensor comes first). */
export const cos = fn.cos;
/** PyTorch's `torch.tan`: {@link Tensor.tan} as a function (the tensor comes first). */
export const tan = fn.tan;
/** PyTorch's `torch.tanh`: {@link Tensor.tanh} as a function (the tensor comes first). */
export const tanh = fn.tanh;
/** PyTorch's `torch.sigmoid`: {@link Tensor.sigmoid} as a function (the tensor comes first). */
export const sigmoid = fn.sigmoid;
/** PyTorch's `torch.relu`: {@link Tensor.relu} as a function (the tensor comes first). */
export const relu = fn.relu;
/** PyTorch's `torch.floor`: {@link Tensor.floor} as a function (the tensor comes first). */
export const floor = fn.floor;
/** PyTorch's `torch.ceil`: {@link Tensor.ceil} as a function (the tensor comes first). */
export const ceil = fn.ceil;
/** PyTorch's `torch.round`: {@link Tensor.round} as a function (the tensor comes first). */
export const round = fn.round;
/** PyTorch's `torch.sign`: {@link Tensor.sign} as a function (the tensor comes first). */
export const sign = fn.sign;
/** PyTorch's `torch.reciprocal`: {@link Tensor.reciprocal} as a function (the tensor comes first). */
export const reciprocal = fn.reciprocal;
/** PyTorch's `torch.rsqrt`: {@link Tensor.rsqrt} as a function (the tensor comes first). */
export const rsqrt = fn.rsqrt;
/** PyTorch's `torch.log1p`: {@link Tensor.log1p} as a function (the tensor comes first). */
export const log1p = fn.log1p;
/** PyTorch's `torch.expm1`: {@link Tensor.expm1} as a function (the tensor comes first). */
export const expm1 = fn.expm1;
/** PyTorch's `torch.logical_not`: {@link Tensor.logicalNot} as a function (the tensor comes first). */
export const logicalNot = fn.logicalNot;
/** PyTorch's `torch.isnan`: {@link Tensor.isnan} as a function (the tensor comes first). */
export const isnan = fn.isnan;
/** PyTorch's `torch.clone`: {@link Tensor.clone} as a function (the tensor comes first). */
export const clone = fn.clone;
/** PyTorch's `torch.detach`: {@link Tensor.detach} as a function (the tensor comes first). */
export const detach = fn.detach;
/** PyTorch's `torch.square`: {@link Tensor.square} as a function (the tensor comes first). */
export const square = fn.square;
/** PyTorch's `torch.log2`: {@link Tensor.log2} as a function (the tensor comes first). */
export const log2 = fn.log2;
/** PyTorch's `torch.log10`: {@link Tensor.log10} as a function (the tensor comes first). */
export const log10 = fn.log10;
/** PyTorch's `torch.trunc`: {@link Tensor.trunc} as a function (the tensor comes first). */
export const trunc = fn.trunc;
/** PyTorch's `torch.erf`: {@link Tensor.erf} as a function (the tensor comes first). */
export const erf = fn.erf;
/** PyTorch's `torch.asin`: {@link Tensor.asin} as a function (the tensor comes first). */
export const asin = fn.asin;
/** PyTorch's `torch.acos`: {@link Tensor.acos} as a function (the tensor comes first). */
export const acos = fn.acos;
/** PyTorch's `torch.atan`: {@link Tensor.atan} as a function (the tensor comes first). */
export const atan = fn.atan;
/** PyTorch's `torch.sinh`: {@link Tensor.sinh} as a function (the tensor comes first). */
export const sinh = fn.sinh;
/** PyTorch's `torch.cosh`: {@link Tensor.cosh} as a function (the tensor comes first). */
export const cosh = fn.cosh;
/** PyTorch's `torch.isinf`: {@link Tensor.isinf} as a function (the tensor comes first). */
export const isinf = fn.isinf;
/** PyTorch's `torch.isfinite`: {@link Tensor.isfinite} as a function (the tensor comes first). */
export const isfinite = fn.isfinite;
/** PyTorch's `torch.bitwise_not`: {@link Tensor.bitwiseNot} as a function (the tensor comes first). */
export const bitwiseNot = fn.bitwiseNot;
/** PyTorch's `torch.frac`: {@link Tensor.frac} as a function (the tensor comes first). */
export const frac = fn.frac;
/** PyTorch's `torch.silu`: {@link Tensor.silu} as a function (the tensor comes first). */
export const silu = fn.silu;
/** PyTorch's `torch.t`: {@link Tensor.t} as a function (the tensor comes first). */
export const t = fn.t;
/** PyTorch's `torch.clamp`: {@link Tensor.clamp} as a function (the tensor comes first). */
export const clamp = fn.clamp;
/** PyTorch's `torch.softmax`: {@link Tensor.softmax} as a function (the tensor comes first). */
export const softmax = fn.softmax;
/** PyTorch's `torch.log_softmax`: {@link Tensor.logSoftmax} as a function (the tensor comes first). */
export const logSoftmax = fn.logSoftmax;
/** PyTorch's `torch.reshape`: {@link Tensor.reshape} as a function (the tensor comes first). */
export const reshape = fn.reshape;
/** PyTorch's `torch.flatten`: {@link Tensor.flatten} as a function (the tensor comes first). */
export const flatten = fn.flatten;
/** PyTorch's `torch.squeeze`: {@link Tensor.squeeze} as a function (the tensor comes first). */
export const squeeze = fn.squeeze;
/** PyTorch's `torch.unsqueeze`: {@link Tensor.unsqueeze} as a function (the tensor comes first). */
export const unsqueeze = fn.unsqueeze;
/** PyTorch's `torch.permute`: {@link Tensor.permute} as a function (the tensor comes first). */
export const permute = fn.permute;
/** PyTorch's `torch.transpose`: {@link Tensor.transpose} as a function (the tensor comes first). */
export const transpose = fn.transpose;
/** PyTorch's `torch.narrow`: {@link Tensor.narrow} as a function (the tensor comes first). */
export const narrow = fn.narrow;
/** PyTorch's `torch.select`: {@link Tensor.select} as a function (the tensor comes first). */
export const select = fn.select;
/** PyTorch's `torch.split`: {@link Tensor.split} as a function (the tensor comes first). */
export const split = fn.split;
/** PyTorch's `torch.chunk`: {@link Tensor.chunk} as a function (the tensor comes first). */
export const chunk = fn.chunk;
/** PyTorch's `torch.unbind`: {@link Tensor.unbind} as a function (the tensor comes first). */
export const unbind = fn.unbind;
/** PyTorch's `torch.sum`: {@link Tensor.sum} as a function (the tensor comes first). */
export const sum = fn.sum;
/** PyTorch's `torch.mean`: {@link Tensor.mean} as a function (the tensor comes first). */
export const mean = fn.mean;
/** PyTorch's `torch.prod`: {@link Tensor.prod} as a function (the tensor comes first). */
export const prod = fn.prod;
/** PyTorch's `torch.argmax`: {@link Tensor.argmax} as a function (the tensor comes first). */
export const argmax = fn.argmax;
/** PyTorch's `torch.argmin`: {@link Tensor.argmin} as a function (the tensor comes first). */
export const argmin = fn.argmin;
/** PyTorch's `torch.std`: {@link Tensor.std} as a function (the tensor comes first). */
export const std = fn.std;
/** PyTorch's `torch.norm`: {@link Tensor.norm} as a function (the tensor comes first). */
export const norm = fn.norm;
/** PyTorch's `torch.logsumexp`: {@link Tensor.logsumexp} as a function (the tensor comes first). */
export const logsumexp = fn.logsumexp;
/** PyTorch's `torch.cumsum`: {@link Tensor.cumsum} as a function (the tensor comes first). */
export const cumsum = fn.cumsum;
/** PyTorch's `torch.all`: {@link Tensor.all} as a function (the tensor comes first). */
export const all = fn.all;
/** PyTorch's `torch.any`: {@link Tensor.any} as a function (the tensor comes first). */
export const any = fn.any;
/** PyTorch's `torch.sort`: {@link Tensor.sort} as a function (the tensor comes first). */
export const sort = fn.sort;
/** PyTorch's `torch.topk`: {@link Tensor.topk} as a function (the tensor comes first). */
export const topk = fn.topk;
/** PyTorch's `torch.gather`: {@link Tensor.gather} as a function (the tensor comes first). */
export const gather = fn.gather;
/** PyTorch's `torch.index_select`: {@link Tensor.indexSelect} as a function (the tensor comes first). */
export const indexSelect = fn.indexSelect;
/** PyTorch's `torch.masked_select`: {@link Tensor.maskedSelect} as a function (the tensor comes first). */
export const maskedSelect = fn.maskedSelect;
/** PyTorch's `torch.equal`: {@link Tensor.equal} as a function (the tensor comes first). */
export const equal = fn.equal;
/** PyTorch's `torch.allclose`: {@link Tensor.allclose} as a function (the tensor comes first). */
export const allclose = fn.allclose;
/**
 * torch.max(input) -> the maximum; torch.max(input, other) -> the elementwise maximum;
 * torch.max(input, dim, keepdim?) -> (values, indices), Python's named tuple:
 * `const [values, indices] = torch.max(x, 1)` or `torch.max(x, 1).values`.
 */
export function max(input: Tensor): Tensor;
export function max(input: Tensor, other: Tensor): Tensor;
export function max(input: Tensor, dim: number, keepdim?: boolean | { keepdim?: boolean }): ValuesIndices;
export function max(input: Tensor, options: DimKeepdimOptions & { dim: number }): ValuesIndices;
export function max(input: Tensor, ...args: unknown[]): Tensor | ValuesIndices {
  idOf(input, 'max()', 'input');
  return minMax(input, 'max', args);
}
/** torch.min, as torch.max. */
export function min(input: Tensor): Tensor;
export function min(input: Tensor, other: Tensor): Tensor;
export function min(input: Tensor, dim: number, keepdim?: boolean | { keepdim?: boolean }): ValuesIndices;
export function min(input: Tensor, options: DimKeepdimOptions & { dim: number }): ValuesIndices;
export function min(input: Tensor, ...args: unknown[]): Tensor | ValuesIndices {
  idOf(input, 'min()', 'input');
  return minMax(input, 'min', args);
}
/** PyTorch's `torch.var`: the function form of Tensor.var (exported as `var`, a reserved word in JavaScript). */
const var_ = fn.var;
export { var_ as var };
/** PyTorch's `torch.nn.functional.gelu` as a torch.* function: `approximate: 'tanh'` for the tanh approximation (default `'none'`). */
export const gelu = (input: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor => {
  idOf(input, 'gelu()', 'input');
  return input.gelu(options);
};
