/**
 * The Tensor: a JS object holding an integer id into the native tensor table (binding/registry.h).
 * Methods validate their arguments here (TorchError naming the parameter) and then call either the
 * native fast path (pointwise ops, by op code) or any ATen operator through the dispatcher (by
 * schema name, lib/ops/handles.ts). Pointwise methods are generated from lib/ops/codes.ts.
 */
import './disposable';
import { native, type Id } from './binding';
import { targetDevice, type DeviceLike } from './device';
import {
  carrierOf,
  dtypeCode,
  dtypeFromCode,
  isDType,
  itemSize,
  DTYPES,
  type DType,
  type TypedArray,
} from './dtype';
import { TorchError, argError } from './errors';
import { RemovableHandle } from './hooks';
import { BINARY, BINARY_INPLACE, REDUCE, SCALAR, SCALAR_INPLACE, UNARY, UNARY_INPLACE, type FastPathMethods } from './ops/codes';
import { op } from './ops/handles';
import { adopt, disposeTracked, keep, setTensorCheck, track, type Tracked } from './scope';
import { formatTensor } from './format';
import { callInplace, callOp, callOps, callValue } from './ops/call';

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type NestedArray<T> = T | NestedArray<T>[];

/** Both Python forms of a shape: `reshape(2, 3)` and `reshape([2, 3])`. */
export type ShapeArgs = number[] | [number[]];

export interface ReduceOptions {
  keepdim?: boolean;
  dtype?: DType;
}

export interface GradFn {
  name(): string;
  toString(): string;
}

/** One entry of Tensor.index(): a number (select), slice(...), null (new axis), '...', or a tensor. */
export type IndexItem = number | Slice | null | '...' | Tensor;

export class Slice {
  constructor(
    readonly start: number | null = null,
    readonly end: number | null = null,
    readonly step: number = 1,
  ) {}
}

/** The slice helper: `x.index([slice(1, 3), 0])` is Python's `x[1:3, 0]`. */
export function slice(start: number | null = null, end: number | null = null, step = 1): Slice {
  for (const [name, v] of [['start', start], ['end', end]] as const) {
    if (v !== null && !Number.isInteger(v)) argError('slice()', name, 'an integer or null', v);
  }
  if (!Number.isInteger(step) || step <= 0) argError('slice()', 'step', 'a positive integer', step);
  return new Slice(start, end, step);
}

const disposedError = (fn: string, param: string) =>
  new TorchError(
    `${fn}: ${param === 'self' ? 'the tensor' : `argument '${param}'`} was disposed and cannot be used; ` +
      'keep it alive (return it from tidy() or call keep()) or recreate it',
    'ERR_TORCH_DISPOSED',
  );

/** The id of a tensor argument, checked: a Tensor, not disposed. */
export function idOf(v: unknown, fn: string, param: string): Id {
  if (!(v instanceof Tensor)) argError(fn, param, 'a Tensor', v);
  const h = v._h;
  if (h < 0) throw disposedError(fn, param);
  return h;
}

function selfId(t: Tensor, fn: string): Id {
  const h = t._h;
  if (h < 0) throw disposedError(fn, 'self');
  return h;
}

/** Wraps a native result id as a Tensor owned by the current scope. */
export function wrap(id: Id): Tensor {
  const t = new Tensor(id);
  track(t);
  return t;
}

export function checkInt(fn: string, param: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) argError(fn, param, 'an integer', v);
  return v;
}

function checkBool(fn: string, param: string, v: unknown): boolean {
  if (typeof v !== 'boolean') argError(fn, param, 'a boolean', v);
  return v;
}

function checkNumber(fn: string, param: string, v: unknown): number {
  if (typeof v !== 'number') argError(fn, param, 'a number', v);
  return v;
}

export function checkDims(fn: string, param: string, v: unknown): number[] {
  if (typeof v === 'number') return [checkInt(fn, param, v)];
  if (!Array.isArray(v)) argError(fn, param, 'an integer or an array of integers', v);
  v.forEach((x, i) => checkInt(fn, `${param}[${i}]`, x));
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

function reduceOpts(fn: string, v: boolean | ReduceOptions | undefined): { keepdim: boolean; dtype: number | null } {
  if (v === undefined) return { keepdim: false, dtype: null };
  if (typeof v === 'boolean') return { keepdim: v, dtype: null };
  if (typeof v !== 'object' || v === null) argError(fn, 'keepdim', 'a boolean or { keepdim, dtype }', v);
  return {
    keepdim: v.keepdim === undefined ? false : checkBool(fn, 'keepdim', v.keepdim),
    dtype: v.dtype === undefined ? null : dtypeCode(checkDtype(fn, v.dtype)),
  };
}

function scalarArg(fn: string, param: string, v: unknown): Scalar {
  if (typeof v !== 'number' && typeof v !== 'boolean') argError(fn, param, 'a number or boolean', v);
  return v;
}

const UNARY_SUM_ALL = UNARY.indexOf('sumAll');
const UNARY_MEAN_ALL = UNARY.indexOf('meanAll');
const BINARY_CODES = Object.fromEntries(BINARY.map((n, i) => [n, i]));
const SCALAR_CODES = Object.fromEntries(SCALAR.map((n, i) => [n, i]));
const REDUCE_CODES = { sum: REDUCE.indexOf('sum'), mean: REDUCE.indexOf('mean') };
const FLAG_CONTIGUOUS = 1;
const FLAG_LEAF = 2;
const FLAG_RETAINS_GRAD = 8;

export class Tensor implements Tracked {
  /** @internal native table id; -1 once disposed */
  _h: Id;
  /** @internal */
  _reg = false;
  /** @internal */
  _kept = false;
  /** @internal the wrapper `grad` returned last (owned by this tensor) */
  _gradCache?: Tensor | null = undefined;

  /** @internal Tensors are made by torch.tensor(), creation functions and ops, never by `new`. */
  constructor(id: Id) {
    this._h = id;
  }

  // ---- lifetime ---------------------------------------------------------------------------------
  /** Frees the native memory now (and this tensor's handle on its grad). Idempotent; any later use throws a TorchError. */
  dispose(): void {
    if (this._gradCache) {
      disposeTracked(this._gradCache);
      this._gradCache = null;
    }
    disposeTracked(this);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  get isDisposed(): boolean {
    return this._h < 0;
  }

  // ---- metadata ---------------------------------------------------------------------------------
  get shape(): number[] {
    return native.shape(selfId(this, 'shape'));
  }
  get dtype(): DType {
    return dtypeFromCode(native.dtype(selfId(this, 'dtype')));
  }
  get device(): string {
    return native.device(selfId(this, 'device'));
  }
  get ndim(): number {
    return native.dim(selfId(this, 'ndim'));
  }
  get isCuda(): boolean {
    return this.device.startsWith('cuda');
  }
  dim(): number {
    return native.dim(selfId(this, 'dim()'));
  }
  numel(): number {
    return native.numel(selfId(this, 'numel()'));
  }
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    const shape = native.shape(selfId(this, 'size()'));
    if (dim === undefined) return shape;
    checkInt('size()', 'dim', dim);
    const d = dim < 0 ? dim + shape.length : dim;
    if (d < 0 || d >= shape.length) {
      throw new TorchError(
        `size(): dim ${dim} is out of range for a tensor with ${shape.length} dimensions (expected ${-shape.length}..${shape.length - 1})`,
        'ERR_TORCH_ARG',
      );
    }
    return shape[d];
  }
  stride(): number[];
  stride(dim: number): number;
  stride(dim?: number): number[] | number {
    const s = native.strides(selfId(this, 'stride()'));
    if (dim === undefined) return s;
    checkInt('stride()', 'dim', dim);
    return s[dim < 0 ? dim + s.length : dim];
  }
  storageOffset(): number {
    return native.storageOffset(selfId(this, 'storageOffset()'));
  }
  isContiguous(): boolean {
    return (native.flags(selfId(this, 'isContiguous()')) & FLAG_CONTIGUOUS) !== 0;
  }
  elementSize(): number {
    return itemSize(this.dtype);
  }
  /** Whether this tensor and `other` view the same storage. */
  sharesStorageWith(other: Tensor): boolean {
    return native.sameStorage(selfId(this, 'sharesStorageWith()'), idOf(other, 'sharesStorageWith()', 'other'));
  }

  // ---- autograd ---------------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return native.meta(selfId(this, 'requiresGrad'))[3];
  }
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(selfId(this, 'requiresGrad'), checkBool('requiresGrad', 'value', on));
  }
  requiresGrad_(on = true): this {
    native.setRequiresGrad(selfId(this, 'requiresGrad_()'), checkBool('requiresGrad_()', 'requiresGrad', on));
    return this;
  }
  /**
   * The accumulated gradient, or null. The same object on every access while the gradient is the
   * same tensor (as `x.grad is x.grad` in PyTorch). It belongs to this tensor and is freed with it
   * (dispose(), or the tidy() that frees the tensor, unless that tidy returns the grad). When the
   * gradient is replaced or cleared (`grad = null`, zeroGrad()), the old handle passes to the
   * current scope like any other result, so `g = x.grad; x.grad = null; g.sum()` keeps working.
   */
  get grad(): Tensor | null {
    const id = selfId(this, 'grad');
    const cached = this._gradCache;
    if (cached && cached._h >= 0 && native.gradIs(id, cached._h)) return cached;
    this._releaseGradCache();
    const g = native.grad(id);
    if (g === null) return null;
    const t = keep(new Tensor(g));
    this._gradCache = t;
    return t;
  }
  set grad(g: Tensor | null) {
    native.setGrad(selfId(this, 'grad'), g === null ? null : idOf(g, 'grad', 'value'));
    this._releaseGradCache();
  }
  /** @internal the old grad handle becomes the current scope's */
  _releaseGradCache(): void {
    if (this._gradCache) {
      adopt(this._gradCache);
      this._gradCache = null;
    }
  }
  get isLeaf(): boolean {
    return (native.flags(selfId(this, 'isLeaf')) & FLAG_LEAF) !== 0;
  }
  get retainsGrad(): boolean {
    return (native.flags(selfId(this, 'retainsGrad')) & FLAG_RETAINS_GRAD) !== 0;
  }
  /** The autograd node that made this tensor (`gradFn.name()` is e.g. 'AddBackward0'), or null. */
  get gradFn(): GradFn | null {
    const name = native.gradFn(selfId(this, 'gradFn'));
    if (name === null) return null;
    return { name: () => name, toString: () => `<${name}>` };
  }
  retainGrad(): this {
    native.retainGrad(selfId(this, 'retainGrad()'));
    return this;
  }
  /**
   * Tensor.register_hook: `hook(grad)` runs when this tensor's gradient is computed during
   * backward(); a Tensor it returns replaces the gradient (undefined or null keeps it). Returns a
   * handle whose remove() unregisters it. Hooks always run on the JS thread: while any hook is
   * registered, backward() runs the graph on a worker thread and serves hook calls (also those
   * autograd reaches on its CUDA device threads) on this one, so backward() stays synchronous.
   */
  registerHook(hook: (grad: Tensor) => Tensor | null | undefined | void): RemovableHandle {
    const fn = 'registerHook()';
    const id = selfId(this, fn);
    if (typeof hook !== 'function') argError(fn, 'hook', 'a function (grad) => Tensor | undefined', hook);
    const handle = native.registerHook(id, (gid: Id) => {
      const r = hook(wrap(gid));
      if (r === undefined || r === null) return undefined;
      return idOf(r, 'a tensor hook', 'its return value');
    });
    return new RemovableHandle(() => {
      if (!this.isDisposed) native.removeHook(this._h, handle);
    });
  }

  backward(gradient?: Tensor | null, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    const g = gradient == null ? null : idOf(gradient, 'backward()', 'gradient');
    native.backward(selfId(this, 'backward()'), g, options.retainGraph ?? null, options.createGraph ?? false);
  }

  // ---- data out -----------------------------------------------------------------------------------
  /** The elements in row-major order (float16/bfloat16 as Float32Array, bool as Uint8Array, int64 as BigInt64Array). */
  toTypedArray(): TypedArray {
    const id = selfId(this, 'toTypedArray()');
    const { ctor } = carrierOf(dtypeFromCode(native.dtype(id)));
    return new ctor(native.toBuffer(id));
  }
  /** Nested arrays of numbers (booleans for bool tensors), like PyTorch's tolist(); a number for 0-d. */
  tolist(): any {
    const id = selfId(this, 'tolist()');
    const [shape, code] = native.meta(id);
    const dtype = dtypeFromCode(code);
    const { ctor } = carrierOf(dtype);
    const data = new ctor(native.toBuffer(id));
    const flat: (number | boolean)[] =
      dtype === 'bool'
        ? Array.from(data as Uint8Array, (x) => x !== 0)
        : dtype === 'int64'
          ? Array.from(data as BigInt64Array, (x) => Number(x))
          : Array.from(data as Float32Array);
    if (shape.length === 0) return flat[0];
    let pos = 0;
    const build = (d: number): unknown[] => {
      const out = new Array(shape[d]);
      for (let i = 0; i < shape[d]; i++) out[i] = d === shape.length - 1 ? flat[pos++] : build(d + 1);
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor. */
  item(): number;
  item<T extends number | boolean>(): T;
  item(): number | boolean {
    return native.item(selfId(this, 'item()'));
  }

  // ---- devices and dtypes -------------------------------------------------------------------------
  /** to('cuda'), to('float64'), to(other), to({ device, dtype, copy }) — as PyTorch's Tensor.to. */
  to(target: DeviceLike | DType | Tensor | { device?: DeviceLike; dtype?: DType; copy?: boolean }, opts: { copy?: boolean } = {}): Tensor {
    const id = selfId(this, 'to()');
    let dtype: number | null = null;
    let device: string | null = null;
    let copy = opts.copy ?? false;
    if (target instanceof Tensor) {
      const [, code, dev] = native.meta(idOf(target, 'to()', 'other'));
      dtype = code;
      device = dev;
    } else if (typeof target === 'string' && isDType(target)) {
      dtype = dtypeCode(target);
    } else if (typeof target === 'string' || (typeof target === 'object' && target !== null && 'type' in target)) {
      device = targetDevice('to()', target);
    } else if (typeof target === 'object' && target !== null) {
      if (target.dtype !== undefined) dtype = dtypeCode(checkDtype('to()', target.dtype));
      if (target.device !== undefined) device = targetDevice('to()', target.device);
      if (target.copy !== undefined) copy = target.copy;
    } else {
      argError('to()', 'target', 'a device, a dtype, a Tensor or { device, dtype }', target);
    }
    return wrap(native.to(id, dtype, device, copy));
  }
  cpu(): Tensor {
    return wrap(native.to(selfId(this, 'cpu()'), null, 'cpu', false));
  }
  cuda(index?: number): Tensor {
    const dev = targetDevice('cuda()', index === undefined ? 'cuda' : `cuda:${checkInt('cuda()', 'device', index)}`);
    return wrap(native.to(selfId(this, 'cuda()'), null, dev, false));
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  type(dtype: DType): Tensor {
    return this.to(checkDtype('type()', dtype));
  }

  // ---- arithmetic with options --------------------------------------------------------------------
  /** self + alpha * other */
  addScaled(other: TensorOrScalar, alpha: number): Tensor {
    return this._binaryAlpha('add', other, alpha);
  }
  private _binaryAlpha(name: 'add' | 'sub', other: TensorOrScalar, alpha: number): Tensor {
    const fn = `${name}()`;
    checkNumber(fn, 'alpha', alpha);
    const id = selfId(this, fn);
    if (other instanceof Tensor) return callOp(`${name}.Tensor`, id, idOf(other, fn, 'other'), alpha);
    return callOp(`${name}.Scalar`, id, scalarArg(fn, 'other', other), alpha);
  }
  /** div with rounding: div(other, { roundingMode: 'trunc' | 'floor' }) */
  divMode(other: TensorOrScalar, roundingMode: 'trunc' | 'floor'): Tensor {
    if (roundingMode !== 'trunc' && roundingMode !== 'floor') argError('div()', 'roundingMode', "'trunc' or 'floor'", roundingMode);
    const id = selfId(this, 'div()');
    if (other instanceof Tensor) return callOp('div.Tensor_mode', id, idOf(other, 'div()', 'other'), roundingMode);
    return callOp('div.Scalar_mode', id, scalarArg('div()', 'other', other), roundingMode);
  }
  clamp(min?: number | Tensor | null, max?: number | Tensor | null): Tensor {
    const id = selfId(this, 'clamp()');
    if (min == null && max == null) throw new TorchError("clamp(): at least one of 'min' and 'max' must be given", 'ERR_TORCH_ARG');
    if (min instanceof Tensor || max instanceof Tensor) {
      const lo = min == null ? null : min instanceof Tensor ? idOf(min, 'clamp()', 'min') : undefined;
      const hi = max == null ? null : max instanceof Tensor ? idOf(max, 'clamp()', 'max') : undefined;
      if (lo === undefined || hi === undefined) argError('clamp()', 'min/max', 'both tensors or both numbers', min);
      return callOp('clamp.Tensor', id, lo, hi);
    }
    if (min != null) checkNumber('clamp()', 'min', min);
    if (max != null) checkNumber('clamp()', 'max', max);
    return callOp('clamp', id, min ?? null, max ?? null);
  }
  clamp_(min?: number | null, max?: number | null): this {
    const id = selfId(this, 'clamp_()');
    if (min == null && max == null) throw new TorchError("clamp_(): at least one of 'min' and 'max' must be given", 'ERR_TORCH_ARG');
    if (min != null) checkNumber('clamp_()', 'min', min);
    if (max != null) checkNumber('clamp_()', 'max', max);
    callInplace('clamp_', id, min ?? null, max ?? null);
    return this;
  }
  clip(min?: number | null, max?: number | null): Tensor {
    return this.clamp(min, max);
  }
  gelu(options?: { approximate?: 'none' | 'tanh' }): Tensor {
    const id = selfId(this, 'gelu()');
    const approx = options?.approximate ?? 'none';
    if (approx !== 'none' && approx !== 'tanh') argError('gelu()', 'approximate', "'none' or 'tanh'", approx);
    if (approx === 'none') return wrap(native.unary(UNARY.indexOf('gelu'), id));
    return callOp('gelu', id, approx);
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    checkNumber('leakyRelu()', 'negativeSlope', negativeSlope);
    return callOp('leaky_relu', selfId(this, 'leakyRelu()'), negativeSlope);
  }
  softmax(dim: number, options: { dtype?: DType } = {}): Tensor {
    checkInt('softmax()', 'dim', dim);
    const dt = options.dtype === undefined ? null : dtypeCode(checkDtype('softmax()', options.dtype));
    return callOp('softmax.int', selfId(this, 'softmax()'), dim, dt);
  }
  logSoftmax(dim: number, options: { dtype?: DType } = {}): Tensor {
    checkInt('logSoftmax()', 'dim', dim);
    const dt = options.dtype === undefined ? null : dtypeCode(checkDtype('logSoftmax()', options.dtype));
    return callOp('log_softmax.int', selfId(this, 'logSoftmax()'), dim, dt);
  }
  /** True when both have the same shape and elements. */
  equal(other: Tensor): boolean {
    return callValue<boolean>('equal', selfId(this, 'equal()'), idOf(other, 'equal()', 'other'));
  }
  allclose(other: Tensor, options: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
    return native.callOp(
      op('allclose'),
      selfId(this, 'allclose()'),
      idOf(other, 'allclose()', 'other'),
      options.rtol ?? 1e-5,
      options.atol ?? 1e-8,
      options.equalNan ?? false,
    ) as boolean;
  }

  // ---- views --------------------------------------------------------------------------------------
  reshape(...shape: ShapeArgs): Tensor {
    return callOp('reshape', selfId(this, 'reshape()'), shapeFrom('reshape()', shape, true));
  }
  view(...shape: ShapeArgs): Tensor {
    return callOp('view', selfId(this, 'view()'), shapeFrom('view()', shape, true));
  }
  expand(...shape: ShapeArgs): Tensor {
    return callOp('expand', selfId(this, 'expand()'), shapeFrom('expand()', shape, true));
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  reshapeAs(other: Tensor): Tensor {
    return this.reshape(other.shape);
  }
  viewAs(other: Tensor): Tensor {
    return this.view(other.shape);
  }
  permute(...dims: ShapeArgs): Tensor {
    const d = dims.length === 1 && Array.isArray(dims[0]) ? dims[0] : (dims as number[]);
    return callOp('permute', selfId(this, 'permute()'), checkDims('permute()', 'dims', d));
  }
  transpose(dim0: number, dim1: number): Tensor {
    checkInt('transpose()', 'dim0', dim0);
    checkInt('transpose()', 'dim1', dim1);
    return callOp('transpose.int', selfId(this, 'transpose()'), dim0, dim1);
  }
  get T(): Tensor {
    const n = this.ndim;
    return this.permute([...Array(n).keys()].reverse());
  }
  squeeze(dim?: number | number[]): Tensor {
    const id = selfId(this, 'squeeze()');
    if (dim === undefined) return callOp('squeeze', id);
    if (typeof dim === 'number') return callOp('squeeze.dim', id, checkInt('squeeze()', 'dim', dim));
    return callOp('squeeze.dims', id, checkDims('squeeze()', 'dim', dim));
  }
  unsqueeze(dim: number): Tensor {
    return callOp('unsqueeze', selfId(this, 'unsqueeze()'), checkInt('unsqueeze()', 'dim', dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    checkInt('flatten()', 'startDim', startDim);
    checkInt('flatten()', 'endDim', endDim);
    return callOp('flatten.using_ints', selfId(this, 'flatten()'), startDim, endDim);
  }
  unflatten(dim: number, sizes: number[]): Tensor {
    checkInt('unflatten()', 'dim', dim);
    return callOp('unflatten.int', selfId(this, 'unflatten()'), dim, shapeFrom('unflatten()', [sizes], true));
  }

  // ---- indexing -----------------------------------------------------------------------------------
  select(dim: number, index: number): Tensor {
    checkInt('select()', 'dim', dim);
    checkInt('select()', 'index', index);
    return callOp('select.int', selfId(this, 'select()'), dim, index);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    checkInt('narrow()', 'dim', dim);
    checkInt('narrow()', 'start', start);
    checkInt('narrow()', 'length', length);
    return callOp('narrow', selfId(this, 'narrow()'), dim, start, length);
  }
  /** Python's x[start:end:step] along one dimension. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    checkInt('slice()', 'dim', dim);
    const s = slice(start, end, step);
    return callOp('slice.Tensor', selfId(this, 'slice()'), dim, s.start, s.end, s.step);
  }
  /**
   * Python indexing: `x.index([0, slice(1, 3), null, idxTensor])` is `x[0, 1:3, None, idx]`. Numbers
   * select, slices slice, null adds an axis, '...' skips the remaining dimensions, integer tensors
   * and boolean masks index like PyTorch's advanced indexing. A single tensor may be passed alone.
   */
  index(indices: IndexItem[] | Tensor): Tensor {
    const items = indices instanceof Tensor ? [indices] : indices;
    if (!Array.isArray(items)) argError('index()', 'indices', 'an array of index items or a Tensor', indices);
    const ellipses = items.filter((x) => x === '...').length;
    if (ellipses > 1) throw new TorchError("index(): at most one '...' may appear", 'ERR_TORCH_ARG');
    const ndim = this.ndim;
    const consumed = items.reduce<number>(
      (n, x) => n + (x === null || x === '...' ? 0 : x instanceof Tensor && x.dtype === 'bool' ? x.ndim : 1),
      0,
    );
    if (consumed > ndim) {
      throw new TorchError(`index(): too many indices for a tensor of dimension ${ndim} (got ${consumed})`, 'ERR_TORCH_ARG');
    }
    let cur: Tensor = this;
    const made: Tensor[] = [];
    const advanced: (Tensor | null)[] = [];
    let dim = 0;
    const step = (t: Tensor) => {
      if (cur !== this) made.push(cur);
      cur = t;
    };
    items.forEach((x, i) => {
      if (typeof x === 'number') {
        checkInt('index()', `indices[${i}]`, x);
        step(cur.select(dim, x));
      } else if (x instanceof Slice) {
        step(cur.slice(dim, x.start, x.end, x.step));
        advanced[dim] = null;
        dim++;
      } else if (x === null) {
        step(cur.unsqueeze(dim));
        advanced[dim] = null;
        dim++;
      } else if (x === '...') {
        const skip = ndim - consumed;
        for (let k = 0; k < skip; k++) advanced[dim + k] = null;
        dim += skip;
      } else if (x instanceof Tensor) {
        idOf(x, 'index()', `indices[${i}]`);
        advanced[dim] = x;
        dim += x.dtype === 'bool' ? x.ndim : 1;
        for (let k = advanced.length; k < dim; k++) advanced[k] = null;
      } else {
        argError('index()', `indices[${i}]`, "a number, slice(), null, '...' or a Tensor", x);
      }
    });
    if (advanced.some((a) => a instanceof Tensor)) {
      // Drop trailing nulls; booleans masks span several dims, so pad like PyTorch's applySlicing.
      const list: (Id | null)[] = [];
      let last = 0;
      for (let k = 0; k < advanced.length; k++) if (advanced[k] instanceof Tensor) last = k;
      for (let k = 0; k <= last; k++) {
        const a = advanced[k];
        if (a === undefined) continue;
        list.push(a === null ? null : a._h);
        if (a instanceof Tensor && a.dtype === 'bool') k += a.ndim - 1;
      }
      step(callOp('index.Tensor', cur._h, list));
    }
    for (const t of made) t.dispose();
    return cur === this ? wrap(native.alias(this._h)) : cur;
  }
  /** x[indices] = values (in place), with the same index items as index() for tensors. */
  indexPut_(indices: (Tensor | null)[], values: TensorOrScalar, accumulate = false): this {
    const id = selfId(this, 'indexPut_()');
    const list = indices.map((t, i) => (t === null ? null : idOf(t, 'indexPut_()', `indices[${i}]`)));
    const v = values instanceof Tensor ? values : null;
    if (v) callInplace('index_put_', id, list, idOf(v, 'indexPut_()', 'values'), accumulate);
    else {
      const tmp = callOp('scalar_tensor', scalarArg('indexPut_()', 'values', values), native.dtype(id), null, native.device(id));
      try {
        callInplace('index_put_', id, list, tmp._h, accumulate);
      } finally {
        tmp.dispose();
      }
    }
    return this;
  }
  maskedFill(mask: Tensor, value: Scalar): Tensor {
    return callOp('masked_fill.Scalar', selfId(this, 'maskedFill()'), idOf(mask, 'maskedFill()', 'mask'), scalarArg('maskedFill()', 'value', value));
  }
  maskedFill_(mask: Tensor, value: Scalar): this {
    callInplace('masked_fill_.Scalar', selfId(this, 'maskedFill_()'), idOf(mask, 'maskedFill_()', 'mask'), scalarArg('maskedFill_()', 'value', value));
    return this;
  }
  maskedSelect(mask: Tensor): Tensor {
    return callOp('masked_select', selfId(this, 'maskedSelect()'), idOf(mask, 'maskedSelect()', 'mask'));
  }
  gather(dim: number, index: Tensor): Tensor {
    checkInt('gather()', 'dim', dim);
    return callOp('gather', selfId(this, 'gather()'), dim, idOf(index, 'gather()', 'index'));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    checkInt('indexSelect()', 'dim', dim);
    return callOp('index_select', selfId(this, 'indexSelect()'), dim, idOf(index, 'indexSelect()', 'index'));
  }
  split(splitSize: number | number[], dim = 0): Tensor[] {
    const id = selfId(this, 'split()');
    checkInt('split()', 'dim', dim);
    if (Array.isArray(splitSize)) {
      return callOps('split_with_sizes', id, checkDims('split()', 'splitSize', splitSize), dim);
    }
    if (!Number.isInteger(splitSize) || splitSize <= 0) argError('split()', 'splitSize', 'a positive integer or an array of sizes', splitSize);
    return callOps('split.Tensor', id, splitSize, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    if (!Number.isInteger(chunks) || chunks <= 0) argError('chunk()', 'chunks', 'a positive integer', chunks);
    checkInt('chunk()', 'dim', dim);
    return callOps('chunk', selfId(this, 'chunk()'), chunks, dim);
  }
  unbind(dim = 0): Tensor[] {
    checkInt('unbind()', 'dim', dim);
    return callOps('unbind.int', selfId(this, 'unbind()'), dim);
  }

  // ---- reductions ---------------------------------------------------------------------------------
  sum(dim?: number | number[] | null, keepdim?: boolean | ReduceOptions): Tensor {
    return this._reduceDims('sum', 'sum.dim_IntList', dim, keepdim);
  }
  mean(dim?: number | number[] | null, keepdim?: boolean | ReduceOptions): Tensor {
    return this._reduceDims('mean', 'mean.dim', dim, keepdim);
  }
  /** sum/mean: over everything (`aten::NAME`), or over dims (`dimOp`), with keepdim and dtype. */
  private _reduceDims(name: 'sum' | 'mean', dimOp: string, dim: number | number[] | null | undefined, keepdim: boolean | ReduceOptions | undefined): Tensor {
    const fn = `${name}()`;
    const id = selfId(this, fn);
    const o = reduceOpts(fn, keepdim);
    if (dim == null && !o.keepdim) {
      if (o.dtype === null) return wrap(native.unary(name === 'sum' ? UNARY_SUM_ALL : UNARY_MEAN_ALL, id));
      return callOp(name, id, o.dtype);
    }
    const dims = dim == null ? null : checkDims(fn, 'dim', dim);
    // Over dims without a dtype: the fast path (an unboxed call), else the dispatcher.
    if (dims !== null && o.dtype === null) return wrap(native.reduceDims(REDUCE_CODES[name], id, dims, o.keepdim));
    return callOp(dimOp, id, dims, o.keepdim, o.dtype);
  }
  prod(dim?: number | null, keepdim?: boolean | ReduceOptions): Tensor {
    const id = selfId(this, 'prod()');
    const o = reduceOpts('prod()', keepdim);
    if (dim == null) return callOp('prod', id, o.dtype);
    return callOp('prod.dim_int', id, checkInt('prod()', 'dim', dim), o.keepdim, o.dtype);
  }
  /** max() -> the maximum; max(dim, keepdim?) -> { values, indices }; max(other) -> elementwise maximum. */
  max(): Tensor;
  max(other: Tensor): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number | Tensor, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return this._minmax('max', dim, keepdim);
  }
  min(): Tensor;
  min(other: Tensor): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number | Tensor, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return this._minmax('min', dim, keepdim);
  }
  private _minmax(name: 'max' | 'min', dim: number | Tensor | undefined, keepdim: boolean): Tensor | { values: Tensor; indices: Tensor } {
    const fn = `${name}()`;
    const id = selfId(this, fn);
    if (dim === undefined) return callOp(name, id);
    if (dim instanceof Tensor) return wrap(native.binary(BINARY_CODES[name === 'max' ? 'maximum' : 'minimum'], id, idOf(dim, fn, 'other')));
    checkInt(fn, 'dim', dim);
    checkBool(fn, 'keepdim', keepdim);
    const [values, indices] = callOps(`${name}.dim`, id, dim, keepdim);
    return { values, indices };
  }
  argmax(dim?: number | null, keepdim = false): Tensor {
    if (dim != null) checkInt('argmax()', 'dim', dim);
    return callOp('argmax', selfId(this, 'argmax()'), dim ?? null, checkBool('argmax()', 'keepdim', keepdim));
  }
  argmin(dim?: number | null, keepdim = false): Tensor {
    if (dim != null) checkInt('argmin()', 'dim', dim);
    return callOp('argmin', selfId(this, 'argmin()'), dim ?? null, checkBool('argmin()', 'keepdim', keepdim));
  }
  /** std(dim?, { correction = 1 (or unbiased), keepdim }) as PyTorch's Tensor.std. */
  std(dim?: number | number[] | null, options: { correction?: number; unbiased?: boolean; keepdim?: boolean } | boolean = {}): Tensor {
    return this._varStd('std', dim, options);
  }
  var(dim?: number | number[] | null, options: { correction?: number; unbiased?: boolean; keepdim?: boolean } | boolean = {}): Tensor {
    return this._varStd('var', dim, options);
  }
  private _varStd(name: 'std' | 'var', dim: number | number[] | null | undefined, options: { correction?: number; unbiased?: boolean; keepdim?: boolean } | boolean): Tensor {
    const fn = `${name}()`;
    const o = typeof options === 'boolean' ? { unbiased: options } : options;
    const correction = o.correction ?? (o.unbiased === false ? 0 : 1);
    checkNumber(fn, 'correction', correction);
    const dims = dim == null ? null : checkDims(fn, 'dim', dim);
    return callOp(`${name}.correction`, selfId(this, fn), dims, correction, o.keepdim ?? false);
  }
  /** norm(p = 2, dim?, keepdim?) */
  norm(p: number | 'fro' = 2, dim?: number | number[] | null, keepdim = false): Tensor {
    const id = selfId(this, 'norm()');
    const pv = p === 'fro' ? 2 : checkNumber('norm()', 'p', p);
    if (dim == null) return callOp('norm.Scalar', id, pv);
    return callOp('norm.ScalarOpt_dim', id, pv, checkDims('norm()', 'dim', dim), keepdim);
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return callOp('logsumexp', selfId(this, 'logsumexp()'), checkDims('logsumexp()', 'dim', dim), keepdim);
  }
  cumsum(dim: number, options: { dtype?: DType } = {}): Tensor {
    checkInt('cumsum()', 'dim', dim);
    const dt = options.dtype === undefined ? null : dtypeCode(checkDtype('cumsum()', options.dtype));
    return callOp('cumsum', selfId(this, 'cumsum()'), dim, dt);
  }
  all(dim?: number | null, keepdim = false): Tensor {
    if (dim == null) return callOp('all', selfId(this, 'all()'));
    return callOp('all.dim', selfId(this, 'all()'), checkInt('all()', 'dim', dim), keepdim);
  }
  any(dim?: number | null, keepdim = false): Tensor {
    if (dim == null) return callOp('any', selfId(this, 'any()'));
    return callOp('any.dim', selfId(this, 'any()'), checkInt('any()', 'dim', dim), keepdim);
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOps('sort', selfId(this, 'sort()'), checkInt('sort()', 'dim', dim), descending);
    return { values, indices };
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOps('topk', selfId(this, 'topk()'), checkInt('topk()', 'k', k), checkInt('topk()', 'dim', dim), largest, sorted);
    return { values, indices };
  }

  // ---- printing -----------------------------------------------------------------------------------
  /** PyTorch's repr: `tensor([[1., 2.], [3., 4.]], dtype=torch.float64)`. */
  toString(): string {
    if (this._h < 0) return 'tensor(<disposed>)';
    return formatTensor(this);
  }
}

setTensorCheck((v: unknown): v is Tracked => v instanceof Tensor);

// ---- the fast path's methods ----------------------------------------------------------------------
// Their names and types come from binding/ops/pointwise.def (lib/ops/codes.ts is generated from it);
// declaration merging types them; the loops below install them on the prototype. The addon's tables
// are built from the same file: a build or a codes.ts out of step with it is an error here, at load.
export interface Tensor extends FastPathMethods {
  detach_(): this;
}
{
  const built = native.fastPathNames();
  const ours: Record<string, readonly string[]> = {
    binary: BINARY, scalar: SCALAR, unary: UNARY, binaryInplace: BINARY_INPLACE, scalarInplace: SCALAR_INPLACE, unaryInplace: UNARY_INPLACE,
    reduce: REDUCE,
  };
  for (const [kind, names] of Object.entries(ours)) {
    if (JSON.stringify(built[kind]) !== JSON.stringify(names)) {
      throw new TorchError(
        `torch-node's native addon and lib/ops/codes.ts disagree on the ${kind} fast-path ops (the addon has ${JSON.stringify(built[kind])}): ` +
          'rebuild the addon (npm run build) after editing binding/ops/pointwise.def, and regenerate the codes (node scripts/gen-ops.js)',
        'ERR_TORCH_LOAD',
      );
    }
  }
}

const proto = Tensor.prototype as any;

for (const name of new Set<string>([...BINARY, ...SCALAR])) {
  const code = BINARY_CODES[name];
  const scode = SCALAR_CODES[name];
  const fn = `${name}()`;
  proto[name] = function binaryOp(this: Tensor, other: TensorOrScalar): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    if (other instanceof Tensor) {
      const b = other._h;
      if (b < 0) throw disposedError(fn, 'other');
      if (code === undefined) argError(fn, 'other', 'a number', other);
      return wrap(native.binary(code, a, b));
    }
    if (typeof other === 'number' || typeof other === 'boolean') {
      if (scode === undefined) argError(fn, 'other', 'a Tensor', other);
      return wrap(native.binaryScalar(scode, a, other));
    }
    return argError(fn, 'other', scode === undefined ? 'a Tensor' : code === undefined ? 'a number' : 'a Tensor or a number', other);
  };
}

UNARY.forEach((name, code) => {
  if (name === 'gelu' || name === 'sumAll' || name === 'meanAll') return; // defined in the class
  const fn = `${name}()`;
  proto[name] = function unaryOp(this: Tensor): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    return wrap(native.unary(code, a));
  };
});

const BIN_IN = Object.fromEntries(BINARY_INPLACE.map((n, i) => [n, i]));
const SCALAR_IN = Object.fromEntries(SCALAR_INPLACE.map((n, i) => [n, i]));
for (const name of new Set<string>([...BINARY_INPLACE, ...SCALAR_INPLACE])) {
  const code = BIN_IN[name];
  const scode = SCALAR_IN[name];
  const fn = `${name}()`;
  proto[name] = function binaryInplace(this: Tensor, other: TensorOrScalar): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    if (other instanceof Tensor) {
      if (code === undefined) argError(fn, 'other', 'a number', other);
      native.binaryInplace(code, a, idOf(other, fn, 'other'));
      return this;
    }
    if (typeof other === 'number' || typeof other === 'boolean') {
      if (scode === undefined) argError(fn, 'other', 'a Tensor', other);
      native.scalarInplace(scode, a, other);
      return this;
    }
    return argError(fn, 'other', 'a Tensor or a number', other);
  };
}

UNARY_INPLACE.forEach((name, code) => {
  const fn = `${name}()`;
  proto[name] = function unaryInplace(this: Tensor): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    native.unaryInplace(code, a);
    return this;
  };
});

// console.log / util.inspect show the repr (set here so the .d.ts does not need Node's types).
proto[Symbol.for('nodejs.util.inspect.custom')] = function inspectTensor(this: Tensor): string {
  return this.toString();
};

proto.detach_ = function detach_(this: Tensor): Tensor {
  callInplace('detach_', selfId(this, 'detach_()'));
  return this;
};

