/**
 * The Tensor: a JS object holding an integer id into the native tensor table (binding/registry.h).
 * This file is the class itself (construction by wrap(), lifetime, metadata, autograd state, data
 * out, devices and dtypes, printing) and the module the rest of the library imports. The methods of
 * each PyTorch doc area live in lib/tensors/ and are added to the class when this module loads:
 *
 *   views.ts       reshape, view, expand, permute, transpose, squeeze, unsqueeze, flatten, ...
 *   indexing.ts    select, narrow, slice, index (Python's x[...]), indexPut_, gather, split, chunk, ...
 *   reductions.ts  sum, mean, prod, max, min, argmax, std, var, norm, logsumexp, cumsum, sort, topk, ...
 *   pointwise.ts   the native fast path's methods (add, exp, relu, add_, ...), clamp, gelu, softmax, ...
 *
 * Each declares its methods as a class, merges it into Tensor's type
 * (`declare module '../tensor' { interface Tensor extends TensorViews {} }`) and installs the methods
 * with addMethods(). They import this module, so they are loaded at its end, once the class exists.
 * Methods validate their arguments with lib/checks.ts (re-exported here, where they always were) and
 * then call the native fast path (by op code) or any ATen operator through the dispatcher
 * (lib/ops/call.ts).
 */
import './disposable';
import { native, type Id } from './binding';
import { checkBool, checkDtype, checkInt, idOf, selfId } from './checks';
import { targetDevice, type DeviceLike } from './device';
import { carrierOf, dtypeCode, dtypeFromCode, isDType, itemSize, type DType, type TypedArray } from './dtype';
import { TorchError, argError, checkOptions } from './errors';
import { formatTensor } from './format';
import { RemovableHandle } from './hooks';
import { adopt, disposeTracked, keep, setTensorCheck, track, type Tracked } from './scope';

/** A Python number as ops take it: a number or a boolean. */
export type Scalar = number | boolean;
/** An operand that may be a tensor or a number/boolean (`x.add(1)`, `x.add(y)`). */
export type TensorOrScalar = Tensor | Scalar;
/** Nested arrays of `T` (what torch.tensor() takes and tolist() returns). */
export type NestedArray<T> = T | NestedArray<T>[];

/** A tensor's autograd node (PyTorch's `grad_fn`), as `Tensor.gradFn` returns it. */
export interface GradFn {
  /** The node's name, e.g. `'AddBackward0'` (PyTorch's `grad_fn.name()`). */
  name(): string;
  /** `'<AddBackward0>'`. */
  toString(): string;
}

/** Wraps a native result id as a Tensor owned by the current scope. */
export function wrap(id: Id): Tensor {
  const t = new Tensor(id);
  track(t);
  return t;
}

const FLAG_CONTIGUOUS = 1;
const FLAG_LEAF = 2;
const FLAG_RETAINS_GRAD = 8;

/**
 * PyTorch's `torch.Tensor`: an n-dimensional array on a device, with autograd. Made by torch.tensor(),
 * the creation functions and ops, never with `new`. Its memory is native: free it with dispose(), or
 * make tensors inside tidy(), which frees all but what it returns; the GC is only a backstop.
 */
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
  /** dispose(), for `using t = torch.ones(2)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Whether dispose() has freed this tensor (any use then throws a TorchError). */
  get isDisposed(): boolean {
    return this._h < 0;
  }

  // ---- metadata ---------------------------------------------------------------------------------
  /** The sizes of the dimensions (PyTorch's `shape`, as an array; `[]` for a 0-d tensor). */
  get shape(): number[] {
    return native.shape(selfId(this, 'shape'));
  }
  /** The element type, e.g. `'float32'` (PyTorch's `dtype`, as a string). */
  get dtype(): DType {
    return dtypeFromCode(native.dtype(selfId(this, 'dtype')));
  }
  /** Where the tensor lives: `'cpu'` or `'cuda:<index>'` (PyTorch's `device`, as a string). */
  get device(): string {
    return native.device(selfId(this, 'device'));
  }
  /** The number of dimensions (PyTorch's `ndim`). */
  get ndim(): number {
    return native.dim(selfId(this, 'ndim'));
  }
  /** Whether the tensor is on a CUDA device (PyTorch's `is_cuda`). */
  get isCuda(): boolean {
    return this.device.startsWith('cuda');
  }
  /** The number of dimensions (PyTorch's `dim()`). */
  dim(): number {
    return native.dim(selfId(this, 'dim()'));
  }
  /** The number of elements (PyTorch's `numel()`). */
  numel(): number {
    return native.numel(selfId(this, 'numel()'));
  }
  /** PyTorch's `size()`: the shape; `size(dim)` is one dimension's size (negative dims count from the end; out of range throws). */
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
  /** PyTorch's `stride()`: the strides in elements; `stride(dim)` is one dimension's stride. */
  stride(): number[];
  stride(dim: number): number;
  stride(dim?: number): number[] | number {
    const s = native.strides(selfId(this, 'stride()'));
    if (dim === undefined) return s;
    checkInt('stride()', 'dim', dim);
    return s[dim < 0 ? dim + s.length : dim];
  }
  /** The offset of the first element in the storage, in elements (PyTorch's `storage_offset()`). */
  storageOffset(): number {
    return native.storageOffset(selfId(this, 'storageOffset()'));
  }
  /** Whether the tensor is contiguous in row-major order (PyTorch's `is_contiguous()`). */
  isContiguous(): boolean {
    return (native.flags(selfId(this, 'isContiguous()')) & FLAG_CONTIGUOUS) !== 0;
  }
  /** The size of one element in bytes (PyTorch's `element_size()`). */
  elementSize(): number {
    return itemSize(this.dtype);
  }
  /** Whether this tensor and `other` view the same storage. */
  sharesStorageWith(other: Tensor): boolean {
    return native.sameStorage(selfId(this, 'sharesStorageWith()'), idOf(other, 'sharesStorageWith()', 'other'));
  }

  /** The tensor with its dimensions reversed (Tensor.T; `permute(n-1, ..., 0)`). */
  get T(): Tensor {
    return this.permute([...Array(this.ndim).keys()].reverse());
  }

  // ---- autograd ---------------------------------------------------------------------------------
  /** Whether autograd records operations on this tensor (PyTorch's `requires_grad`); settable on leaves. */
  get requiresGrad(): boolean {
    return native.meta(selfId(this, 'requiresGrad'))[3];
  }
  /** Sets requiresGrad (PyTorch's `x.requires_grad = on`); only leaves can be set. */
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(selfId(this, 'requiresGrad'), checkBool('requiresGrad', 'value', on));
  }
  /** PyTorch's `requires_grad_(requires_grad=True)`: sets requiresGrad in place; returns this. */
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
  /** Replaces the gradient, or clears it with null (PyTorch's `x.grad = g`). */
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
  /** Whether the tensor is a leaf of the autograd graph (made by the user, not by an op that requires grad); PyTorch's `is_leaf`. */
  get isLeaf(): boolean {
    return (native.flags(selfId(this, 'isLeaf')) & FLAG_LEAF) !== 0;
  }
  /** Whether retainGrad() was called on this non-leaf tensor (PyTorch's `retains_grad`). */
  get retainsGrad(): boolean {
    return (native.flags(selfId(this, 'retainsGrad')) & FLAG_RETAINS_GRAD) !== 0;
  }
  /** The autograd node that made this tensor (`gradFn.name()` is e.g. 'AddBackward0'), or null. */
  get gradFn(): GradFn | null {
    const name = native.gradFn(selfId(this, 'gradFn'));
    if (name === null) return null;
    return { name: () => name, toString: () => `<${name}>` };
  }
  /** PyTorch's `retain_grad()`: keeps `grad` for a non-leaf tensor after backward(); returns this. */
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

  /**
   * PyTorch's `backward(gradient=None, retain_graph=None, create_graph=False)`: accumulates the gradients of
   * this tensor into the leaves' `grad`. `gradient` is required unless the tensor has one element;
   * `retainGraph` defaults to `createGraph`, which records the backward pass for higher-order gradients.
   */
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
  /**
   * to('cuda'), to('float64'), to(other), to({ device, dtype, copy }), to('cuda', 'float16') — as PyTorch's Tensor.to:
   * `to(device, dtype, non_blocking=False, copy=False)`; `nonBlocking` only changes when a copy may run, not its result.
   */
  to(
    target: DeviceLike | DType | Tensor | { device?: DeviceLike; dtype?: DType; copy?: boolean; nonBlocking?: boolean },
    opts?: { dtype?: DType; copy?: boolean; nonBlocking?: boolean },
  ): Tensor;
  to(device: DeviceLike, dtype: DType, opts?: { copy?: boolean; nonBlocking?: boolean }): Tensor;
  to(target: unknown, second?: unknown, third?: unknown): Tensor {
    const id = selfId(this, 'to()');
    let dtype: number | null = null;
    let device: string | null = null;
    let copy = false;
    const options = (o: unknown, param: string): void => {
      if (o === undefined) return;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) argError('to()', param, 'an options object { dtype, copy, nonBlocking }', o);
      checkOptions('to()', o, ['dtype', 'copy', 'nonBlocking']);
      const { dtype: d, copy: c, nonBlocking: nb } = o as { dtype?: unknown; copy?: unknown; nonBlocking?: unknown };
      if (d !== undefined) {
        // Python's to(device, dtype=...).
        if (device === null || dtype !== null) argError('to()', 'target', "a device when a dtype is given too (to('cuda', { dtype }))", target);
        dtype = dtypeCode(checkDtype('to()', d));
      }
      if (c !== undefined) copy = checkBool('to()', 'copy', c);
      if (nb !== undefined) checkBool('to()', 'nonBlocking', nb);
    };
    if (target instanceof Tensor) {
      const [, code, dev] = native.meta(idOf(target, 'to()', 'other'));
      dtype = code;
      device = dev;
    } else if (typeof target === 'string' && isDType(target)) {
      dtype = dtypeCode(target);
    } else if (typeof target === 'string' || (typeof target === 'object' && target !== null && 'type' in target)) {
      device = targetDevice('to()', target as DeviceLike);
    } else if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
      const t = target as { device?: DeviceLike; dtype?: unknown; copy?: unknown; nonBlocking?: unknown };
      checkOptions('to()', t, ['device', 'dtype', 'copy', 'nonBlocking']);
      if (t.dtype !== undefined) dtype = dtypeCode(checkDtype('to()', t.dtype));
      if (t.device !== undefined) device = targetDevice('to()', t.device);
      if (t.copy !== undefined) copy = checkBool('to()', 'copy', t.copy);
      if (t.nonBlocking !== undefined) checkBool('to()', 'nonBlocking', t.nonBlocking);
    } else {
      argError('to()', 'target', 'a device, a dtype, a Tensor or { device, dtype }', target);
    }
    if (typeof second === 'string') {
      // Python's to(device, dtype, ...): the dtype comes second.
      if (device === null || dtype !== null) argError('to()', 'target', "a device when a dtype is the second argument (to('cuda', 'float16'))", target);
      dtype = dtypeCode(checkDtype('to()', second));
      options(third, 'options');
    } else {
      options(second, 'options');
      if (third !== undefined) argError('to()', 'dtype', 'a dtype string as the second argument', second);
    }
    return wrap(native.to(id, dtype, device, copy));
  }
  /** The tensor on the CPU, as PyTorch's `cpu()` (a new handle sharing the storage when it is already there). */
  cpu(): Tensor {
    return wrap(native.to(selfId(this, 'cpu()'), null, 'cpu', false));
  }
  /** The tensor on `'cuda'` (or `'cuda:<index>'`), as PyTorch's `cuda()` (sharing the storage when it is already there). */
  cuda(index?: number): Tensor {
    const dev = targetDevice('cuda()', index === undefined ? 'cuda' : `cuda:${checkInt('cuda()', 'device', index)}`);
    return wrap(native.to(selfId(this, 'cuda()'), null, dev, false));
  }
  /** `to('float32')` (PyTorch's `float()`). */
  float(): Tensor {
    return this.to('float32');
  }
  /** `to('float64')` (PyTorch's `double()`). */
  double(): Tensor {
    return this.to('float64');
  }
  /** `to('float16')` (PyTorch's `half()`). */
  half(): Tensor {
    return this.to('float16');
  }
  /** `to('int64')` (PyTorch's `long()`). */
  long(): Tensor {
    return this.to('int64');
  }
  /** `to('int32')` (PyTorch's `int()`). */
  int(): Tensor {
    return this.to('int32');
  }
  /** `to('bool')` (PyTorch's `bool()`). */
  bool(): Tensor {
    return this.to('bool');
  }
  /** PyTorch's `type(dtype)`: `to(dtype)`. */
  type(dtype: DType): Tensor {
    return this.to(checkDtype('type()', dtype));
  }

  // ---- printing -----------------------------------------------------------------------------------
  /** PyTorch's repr: `tensor([[1., 2.], [3., 4.]], dtype=torch.float64)`. */
  toString(): string {
    if (this._h < 0) return 'tensor(<disposed>)';
    return formatTensor(this);
  }
}

setTensorCheck((v: unknown): v is Tracked => v instanceof Tensor);

// console.log / util.inspect show the repr (set here so the .d.ts does not need Node's types).
Object.defineProperty(Tensor.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value: function inspectTensor(this: Tensor): string {
    return this.toString();
  },
  writable: true,
  configurable: true,
});

/**
 * Adds the methods of one doc area to Tensor: `area` is a class whose methods take `this: Tensor`
 * (an in-place one `this: T` and returns T, so a Parameter stays a Parameter); its file merges the
 * class into the Tensor interface (`declare module '../tensor' { interface Tensor extends Area {} }`),
 * so the types are the class's own. A name defined twice is an error at load.
 */
export function addMethods(area: { prototype: object }): void {
  for (const name of Object.getOwnPropertyNames(area.prototype)) {
    if (name === 'constructor') continue;
    if (Object.hasOwn(Tensor.prototype, name)) throw new TorchError(`torch-node: Tensor.${name} is defined twice`, 'ERR_TORCH_LOAD');
    Object.defineProperty(Tensor.prototype, name, Object.getOwnPropertyDescriptor(area.prototype, name)!);
  }
}

export { checkDims, checkDtype, checkInt, idOf, shapeFrom } from './checks';
export type { ShapeArgs } from './tensors/views';
export { Slice, slice, type IndexItem } from './tensors/indexing';
export type { ReduceOptions, ValuesIndices, VarOptions } from './tensors/reductions';

// The doc areas' methods: loaded last, as they add to the class defined above.
import './tensors/views';
import './tensors/indexing';
import './tensors/reductions';
import './tensors/pointwise';
