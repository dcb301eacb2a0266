/**
 * Python API names that are not one ATen operator of the same name (Python-level functions in
 * torch/functional.py and torch/_tensor.py, or methods whose Python argument order differs from the
 * schema's): written here by hand on top of the operators, each with a golden case in
 * test/generated-ops.test.js (Python's inputs from test/reference/op_cases.py).
 */
import { tensor, type TensorOptions } from '../creation';
import { isDType, type DType } from '../dtype';
import { TorchError, argError, checkOptions } from '../errors';
import { Tensor, type NestedArray, type Scalar } from '../tensor';
import { callAten } from './resolve';

declare module '../tensor' {
  interface Tensor {
    /** Python's `x.ndimension()`: the number of dimensions (same as dim()). */
    ndimension(): number;
    /** Python's `x.nelement()`: the number of elements (same as numel()). */
    nelement(): number;
    /** Python's `x.short()`: `x.to('int16')`. */
    short(): Tensor;
    /** Python's `x.char()`: `x.to('int8')`. */
    char(): Tensor;
    /** Python's `x.byte()`: `x.to('uint8')`. */
    byte(): Tensor;
    /** Python's `x.bfloat16()`: `x.to('bfloat16')`. */
    bfloat16(): Tensor;
    /** Python's `x.new_tensor(data, dtype=None, device=None, requires_grad=False)`: x's dtype and device unless given. */
    newTensor(data: NestedArray<number | boolean>, options?: TensorOptions): Tensor;
    /** Python's `x.polygamma(n)`: the n-th derivative of digamma. */
    polygamma(n: number): Tensor;
    /** Python's `x.where(condition, y)`: x where condition holds, else y. */
    where(condition: Tensor, y: Tensor | Scalar): Tensor;
    /** Python's `x.nonzero()`: indices of non-zero elements, [n, ndim]; `{ asTuple: true }`: one index tensor per dim. */
    nonzero(options?: { asTuple?: false }): Tensor;
    /** Python's `x.nonzero(as_tuple=True)`: one index tensor per dimension. */
    nonzero(options: { asTuple: true }): Tensor[];
    /** Python's `x.unique(sorted=True, return_inverse=False, return_counts=False, dim=None)`. */
    unique(options?: UniqueOptions): Tensor | Tensor[];
    /** Python's `x.unique_consecutive(return_inverse=False, return_counts=False, dim=None)`. */
    uniqueConsecutive(options?: Omit<UniqueOptions, 'sorted'>): Tensor | Tensor[];
  }
}

/** Options of torch.unique / Tensor.unique (Python's keyword arguments, camelCased). */
export interface UniqueOptions {
  /** Sort the unique values (default true). */
  sorted?: boolean;
  /** Also return, for each input element, the index of its value in the output. */
  returnInverse?: boolean;
  /** Also return how often each unique value occurs. */
  returnCounts?: boolean;
  /** Unique slices along this dimension instead of unique elements (default: the flattened input). */
  dim?: number | null;
}

function define(name: string, f: (this: Tensor, ...args: never[]) => unknown): void {
  Object.defineProperty(Tensor.prototype, name, { value: f, writable: true, configurable: true });
}

const opts = <T extends object>(fn: string, o: unknown, known: readonly string[]): Partial<T> => {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o) || o instanceof Tensor) argError(fn, 'options', `an options object (${known.join(', ')})`, o);
  checkOptions(fn, o, known);
  return o as Partial<T>;
};

define('ndimension', function (this: Tensor) {
  return this.dim();
});
define('nelement', function (this: Tensor) {
  return this.numel();
});
for (const [name, dtype] of [
  ['short', 'int16'],
  ['char', 'int8'],
  ['byte', 'uint8'],
  ['bfloat16', 'bfloat16'],
] as const) {
  define(name, function (this: Tensor) {
    return this.to(dtype);
  });
}
define('newTensor', function (this: Tensor, data: NestedArray<number | boolean>, options?: TensorOptions) {
  const o = opts<TensorOptions>('Tensor.newTensor()', options, ['dtype', 'device', 'requiresGrad']);
  return tensor(data, { dtype: this.dtype, device: this.device, ...o });
});
define('polygamma', function (this: Tensor, n: number) {
  return callAten('polygamma', [''], 'Tensor.polygamma()', null, [n, this]);
});
define('where', function (this: Tensor, condition: Tensor, y: Tensor | Scalar) {
  return callAten('where', ['self', 'ScalarOther'], 'Tensor.where()', null, [condition, this, y]);
});

function nonzero(self: Tensor, options: unknown, fn: string): Tensor | Tensor[] {
  const o = opts<{ asTuple: boolean }>(fn, options, ['asTuple']);
  return o.asTuple ? (callAten('nonzero_numpy', [''], fn, null, [self]) as Tensor[]) : (callAten('nonzero', [''], fn, null, [self]) as Tensor);
}
define('nonzero', function (this: Tensor, options?: { asTuple?: boolean }) {
  return nonzero(this, options, 'Tensor.nonzero()');
});

// Python's torch.unique: the unique values, plus the inverse indices and the counts when asked.
function unique(self: Tensor, options: unknown, fn: string, consecutive: boolean): Tensor | Tensor[] {
  const o = opts<UniqueOptions>(fn, options, consecutive ? ['returnInverse', 'returnCounts', 'dim'] : ['sorted', 'returnInverse', 'returnCounts', 'dim']);
  const inv = o.returnInverse ?? false;
  const counts = o.returnCounts ?? false;
  const dim = o.dim ?? null;
  const all = (
    consecutive
      ? callAten('unique_consecutive', [''], fn, null, [self, { return_inverse: inv, return_counts: counts, dim }])
      : dim === null
        ? callAten('_unique2', [''], fn, null, [self, o.sorted ?? true, inv, counts])
        : callAten('unique_dim', [''], fn, null, [self, dim, o.sorted ?? true, inv, counts])
  ) as Tensor[];
  const keep = [true, inv, counts];
  const out = all.filter((t, i) => {
    if (!keep[i]) t.dispose();
    return keep[i];
  });
  return out.length === 1 ? out[0] : out;
}
define('unique', function (this: Tensor, options?: UniqueOptions) {
  return unique(this, options, 'Tensor.unique()', false);
});
define('uniqueConsecutive', function (this: Tensor, options?: Omit<UniqueOptions, 'sorted'>) {
  return unique(this, options, 'Tensor.uniqueConsecutive()', true);
});

/** Python's `torch.nonzero(input, as_tuple=False)`. */
export function nonzeroOf(input: Tensor, options?: { asTuple?: boolean }): Tensor | Tensor[] {
  return nonzero(input, options, 'torch.nonzero()');
}

/** Python's `torch.unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)`. */
export function uniqueOf(input: Tensor, options?: UniqueOptions): Tensor | Tensor[] {
  return unique(input, options, 'torch.unique()', false);
}

/** Python's `torch.unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)`. */
export function uniqueConsecutiveOf(input: Tensor, options?: Omit<UniqueOptions, 'sorted'>): Tensor | Tensor[] {
  return unique(input, options, 'torch.uniqueConsecutive()', true);
}

/** Python's `torch.as_tensor(data, dtype=None, device=None)`: a tensor as it is (no copy) when dtype and device match. */
export function asTensor(data: Tensor | NestedArray<number | boolean>, options: { dtype?: DType; device?: string } = {}): Tensor {
  const o = opts<{ dtype: DType; device: string }>('torch.asTensor()', options, ['dtype', 'device']);
  if (o.dtype !== undefined && !isDType(o.dtype)) argError('torch.asTensor()', 'dtype', 'a dtype', o.dtype);
  if (data instanceof Tensor) {
    const same = (o.dtype === undefined || o.dtype === data.dtype) && (o.device === undefined || o.device === data.device);
    return same ? data : data.to({ dtype: o.dtype, device: o.device });
  }
  return tensor(data, o);
}

/** Python's `torch.broadcast_shapes(*shapes)`: the shape the shapes broadcast to; a TorchError when they do not. */
export function broadcastShapes(...shapes: (number | number[])[]): number[] {
  const out: number[] = [];
  for (const s of shapes) {
    const shape = typeof s === 'number' ? [s] : s;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      argError('torch.broadcastShapes()', 'shapes', 'shapes (arrays of non-negative integers)', s);
    for (let i = 1; i <= shape.length; i++) {
      const d = shape[shape.length - i];
      const cur = out.length - i;
      if (cur < 0) out.unshift(d);
      else if (out[cur] === 1) out[cur] = d;
      else if (d !== 1 && d !== out[cur]) {
        throw new TorchError(`torch.broadcastShapes(): shape mismatch: the size ${d} at dimension -${i} does not broadcast with ${out[cur]}`, 'ERR_TORCH_ARG');
      }
    }
  }
  return out;
}

/** Python's `torch.unravel_index(indices, shape)`: flat indices as one coordinate tensor per dimension. */
export function unravelIndex(indices: Tensor | number, shape: number | number[]): Tensor[] {
  const fn = 'torch.unravelIndex()';
  const dims = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) argError(fn, 'shape', 'a shape (non-negative integers)', shape);
  const idx = indices instanceof Tensor ? indices : tensor(indices, { dtype: 'int64' });
  if (idx.dtype === 'bool' || idx.dtype.startsWith('float') || idx.dtype === 'bfloat16')
    throw new TorchError(`${fn}: expected 'indices' to be an integer tensor, got ${idx.dtype}`, 'ERR_TORCH_ARG');
  const numel = dims.reduce((a, b) => a * b, 1);
  const bad = idx.lt(-numel).logicalOr(idx.ge(numel));
  const outOfRange = bad.any().item();
  bad.dispose();
  if (outOfRange) throw new TorchError(`${fn}: 'indices' must be in the range [-${numel}, ${numel - 1}] for the shape [${dims.join(', ')}]`, 'ERR_TORCH_ARG');
  const flat = idx.remainder(numel);
  const out: Tensor[] = [];
  let rest = flat;
  for (let i = dims.length - 1; i >= 0; i--) {
    out.unshift(rest.remainder(dims[i]));
    const next = rest.divMode(dims[i], 'floor');
    if (rest !== flat) rest.dispose();
    rest = next;
  }
  rest.dispose();
  flat.dispose();
  if (!(indices instanceof Tensor)) idx.dispose();
  return out;
}

/** Python's `torch.einsum(equation, *operands)` (or the operands as one array). */
export function einsum(equation: string, ...operands: (Tensor | Tensor[])[]): Tensor {
  const fn = 'torch.einsum()';
  if (typeof equation !== 'string') argError(fn, 'equation', "a string such as 'ij,jk->ik'", equation);
  const list = operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands;
  if (!list.every((t) => t instanceof Tensor)) argError(fn, 'operands', 'tensors', operands);
  return callAten('einsum', [''], fn, null, [equation, list]) as Tensor;
}

/** Python's `torch.tensordot(a, b, dims=2)`: dims an integer (the last dims of a with the first of b) or two lists. */
export function tensordot(a: Tensor, b: Tensor, dims: number | [number[], number[]] | { dims?: number | [number[], number[]] } = 2): Tensor {
  const fn = 'torch.tensordot()';
  const d = typeof dims === 'object' && !Array.isArray(dims) ? (opts<{ dims: number | [number[], number[]] }>(fn, dims, ['dims']).dims ?? 2) : dims;
  let da: number[];
  let db: number[];
  if (typeof d === 'number') {
    if (!Number.isInteger(d) || d < 0) argError(fn, 'dims', 'a non-negative integer or two lists of dims', d);
    da = Array.from({ length: d }, (_v, i) => a.dim() - d + i);
    db = Array.from({ length: d }, (_v, i) => i);
  } else if (Array.isArray(d) && d.length === 2) {
    [da, db] = [d[0], d[1]].map((x) => (typeof x === 'number' ? [x] : x));
  } else argError(fn, 'dims', 'a non-negative integer or two lists of dims', d);
  return callAten('tensordot', [''], fn, null, [a, b, da, db]) as Tensor;
}

const CDIST_MODES: Record<string, number | null> = { use_mm_for_euclid_dist_if_necessary: null, use_mm_for_euclid_dist: 1, donot_use_mm_for_euclid_dist: 2 };

/** Python's `torch.cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary')`. */
export function cdist(
  x1: Tensor,
  x2: Tensor,
  p: number | { p?: number; computeMode?: string } = 2,
  computeMode = 'use_mm_for_euclid_dist_if_necessary',
): Tensor {
  const fn = 'torch.cdist()';
  let pv = p;
  let mode = computeMode;
  if (typeof p === 'object') {
    const o = opts<{ p: number; computeMode: string }>(fn, p, ['p', 'computeMode']);
    pv = o.p ?? 2;
    mode = o.computeMode ?? mode;
  }
  if (!(mode in CDIST_MODES)) argError(fn, 'computeMode', `one of ${Object.keys(CDIST_MODES).join(', ')}`, mode);
  return callAten('cdist', [''], fn, null, [x1, x2, pv, CDIST_MODES[mode]]) as Tensor;
}

/** The names above as [kind, js name, Python name] (test/generated-ops.test.js gives each a golden case). */
export const EXTRAS: readonly ['Tensor' | 'torch', string, string][] = [
  ['Tensor', 'ndimension', 'ndimension'],
  ['Tensor', 'nelement', 'nelement'],
  ['Tensor', 'short', 'short'],
  ['Tensor', 'char', 'char'],
  ['Tensor', 'byte', 'byte'],
  ['Tensor', 'bfloat16', 'bfloat16'],
  ['Tensor', 'newTensor', 'new_tensor'],
  ['Tensor', 'polygamma', 'polygamma'],
  ['Tensor', 'where', 'where'],
  ['Tensor', 'nonzero', 'nonzero'],
  ['Tensor', 'unique', 'unique'],
  ['Tensor', 'uniqueConsecutive', 'unique_consecutive'],
  ['torch', 'nonzero', 'nonzero'],
  ['torch', 'unique', 'unique'],
  ['torch', 'uniqueConsecutive', 'unique_consecutive'],
  ['torch', 'asTensor', 'as_tensor'],
  ['torch', 'broadcastShapes', 'broadcast_shapes'],
  ['torch', 'unravelIndex', 'unravel_index'],
  ['torch', 'einsum', 'einsum'],
  ['torch', 'tensordot', 'tensordot'],
  ['torch', 'cdist', 'cdist'],
];
