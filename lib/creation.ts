/** Tensor creation: torch.tensor(), zeros, ones, full, empty, arange, linspace, eye, rand*, *Like. */
import { native } from './binding';
import { targetDevice, type DeviceLike } from './device';
import { carrierOf, dtypeCode, dtypeOfTypedArray, type DType, type TypedArray } from './dtype';
import { TorchError, argError, checkOptions, describe } from './errors';
import { callOp } from './ops/call';
import { checkBool } from './checks';
import { type Tensor, checkDtype, checkInt, idOf, shapeFrom, wrap, type NestedArray } from './tensor';

/** The keyword arguments of PyTorch's factory functions (`dtype=`, `device=`, `requires_grad=`). */
export interface TensorOptions {
  /**
   * The element type: float32 by default, but tensor(), full() and arange() infer it from their arguments,
   * randint() makes int64 and the *Like functions take the input's.
   */
  dtype?: DType;
  /** Where the tensor lives (default `'cpu'`; the *Like functions take the input's). */
  device?: DeviceLike;
  /** Whether autograd records operations on the new tensor (default false). */
  requiresGrad?: boolean;
}

const FACTORY_KEYS = ['dtype', 'device', 'requiresGrad'] as const;

function opts(fn: string, o: TensorOptions | undefined): { dtype: number | null; device: string | null; requiresGrad: boolean } {
  if (o === undefined) return { dtype: null, device: null, requiresGrad: false };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) argError(fn, 'options', '{ dtype, device, requiresGrad }', o);
  // Python's TypeError for an unknown keyword: a misspelt or snake_case key (requires_grad) is never ignored.
  checkOptions(fn, o, FACTORY_KEYS);
  return {
    dtype: o.dtype == null ? null : dtypeCode(checkDtype(fn, o.dtype)),
    device: o.device == null ? null : targetDevice(fn, o.device),
    requiresGrad: o.requiresGrad == null ? false : checkBool(fn, 'requiresGrad', o.requiresGrad),
  };
}

function finish(t: Tensor, requiresGrad: boolean): Tensor {
  if (requiresGrad) native.setRequiresGrad(t._h, true);
  return t;
}

/** Splits `(2, 3, { dtype })` or `([2, 3], { dtype })` into a shape and options. */
function sizeAndOptions(fn: string, args: unknown[]): [number[], TensorOptions | undefined] {
  const last = args[args.length - 1];
  const hasOpts = typeof last === 'object' && last !== null && !Array.isArray(last);
  const sizes = hasOpts ? args.slice(0, -1) : args;
  return [shapeFrom(fn, sizes), hasOpts ? (last as TensorOptions) : undefined];
}

type SizeArgs = (number | number[] | TensorOptions)[];

/**
 * torch.tensor(data, { dtype, device, requiresGrad }): data is a number, a boolean, nested arrays of
 * them, or a typed array. Dtype inference as PyTorch, except that JS cannot tell 1.0 from 1: arrays
 * of integers become int64 — pass { dtype: 'float32' } or a Float32Array for floats.
 */
export function tensor(data: NestedArray<number | boolean> | TypedArray, options?: TensorOptions): Tensor {
  const fn = 'tensor()';
  const o = opts(fn, options);
  if (ArrayBuffer.isView(data)) {
    const dt = dtypeOfTypedArray(data);
    if (dt === null) argError(fn, 'data', 'a Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Int32Array or BigInt64Array', data);
    const carrier = carrierOf(dt).code;
    return finish(wrap(native.fromData(data, carrier, [data.length], o.dtype ?? carrier, o.device ?? undefined)), o.requiresGrad);
  }
  // Nested arrays: find the shape from the first elements, then check every element against it.
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  const flat = new Float64Array(numel);
  let allBool = true;
  let allInt = true;
  let pos = 0;
  const walk = (v: unknown, d: number, path: string) => {
    if (d < shape.length) {
      if (!Array.isArray(v)) {
        throw new TorchError(`${fn}: data${path} is ${describe(v)} but an array of length ${shape[d]} was expected (ragged nested arrays)`, 'ERR_TORCH_ARG');
      }
      if (v.length !== shape[d]) {
        throw new TorchError(`${fn}: data${path} has length ${v.length}, expected ${shape[d]} (ragged nested arrays)`, 'ERR_TORCH_ARG');
      }
      for (let i = 0; i < v.length; i++) walk(v[i], d + 1, `${path}[${i}]`);
      return;
    }
    if (typeof v === 'number') {
      allBool = false;
      if (allInt && !Number.isInteger(v)) allInt = false;
      flat[pos++] = v;
    } else if (typeof v === 'boolean') {
      allInt = allInt && true;
      flat[pos++] = v ? 1 : 0;
    } else {
      throw new TorchError(`${fn}: data${path} is ${describe(v)}; expected a number or a boolean`, 'ERR_TORCH_ARG');
    }
  };
  walk(data, 0, '');
  let dtype: number;
  if (o.dtype !== null) dtype = o.dtype;
  else if (numel > 0 && allBool) dtype = dtypeCode('bool');
  else if (numel > 0 && allInt) dtype = dtypeCode('int64');
  else dtype = dtypeCode('float32');
  return finish(wrap(native.fromData(flat, dtypeCode('float64'), shape, dtype, o.device ?? undefined)), o.requiresGrad);
}

/** torch.fromTypedArray(data, shape, options): a typed array's elements with the given shape. */
export function fromTypedArray(data: TypedArray, shape: number[], options?: TensorOptions): Tensor {
  const fn = 'fromTypedArray()';
  const o = opts(fn, options);
  const dt = dtypeOfTypedArray(data);
  if (dt === null) argError(fn, 'data', 'a supported typed array', data);
  const carrier = carrierOf(dt).code;
  return finish(wrap(native.fromData(data, carrier, shapeFrom(fn, [shape]), o.dtype ?? carrier, o.device ?? undefined)), o.requiresGrad);
}

function factory(name: string, key: string) {
  return (...args: SizeArgs): Tensor => {
    const fn = `${name}()`;
    const [shape, options] = sizeAndOptions(fn, args);
    const o = opts(fn, options);
    return finish(callOp(key, shape, o.dtype, null, o.device), o.requiresGrad);
  };
}

/** PyTorch's `torch.zeros(*size, dtype=, device=, requires_grad=)`: `zeros(2, 3)` or `zeros([2, 3], { dtype })`; float32 by default. */
export const zeros = factory('zeros', 'zeros');
/** PyTorch's `torch.ones`: `ones(2, 3)` or `ones([2, 3], { dtype })`; float32 by default. */
export const ones = factory('ones', 'ones');
/** PyTorch's `torch.empty`: an uninitialised tensor, `empty(2, 3)` or `empty([2, 3], { dtype })`; float32 by default. */
export const empty = factory('empty', 'empty.memory_format');
/** PyTorch's `torch.rand`: uniform samples from [0, 1), `rand(2, 3)` or `rand([2, 3], { dtype })`; uses the global generator (torch.manualSeed). */
export const rand = factory('rand', 'rand');
/** PyTorch's `torch.randn`: standard normal samples, `randn(2, 3)` or `randn([2, 3], { dtype })`; uses the global generator (torch.manualSeed). */
export const randn = factory('randn', 'randn');

/**
 * PyTorch's `torch.full(size, fill_value)`: a tensor of `size` filled with `fillValue`; the dtype is
 * inferred as PyTorch does (bool, int64 for an integer, else float32) unless `options.dtype` is given.
 */
export function full(size: number[], fillValue: number | boolean, options?: TensorOptions): Tensor {
  const fn = 'full()';
  const shape = shapeFrom(fn, [size]);
  if (typeof fillValue !== 'number' && typeof fillValue !== 'boolean') argError(fn, 'fillValue', 'a number or boolean', fillValue);
  const o = opts(fn, options);
  // PyTorch infers the dtype from the fill value: bool, int64 for integers, else float32.
  let dtype = o.dtype;
  if (dtype === null) dtype = dtypeCode(typeof fillValue === 'boolean' ? 'bool' : Number.isInteger(fillValue) ? 'int64' : 'float32');
  return finish(callOp('full', shape, fillValue, dtype, null, o.device), o.requiresGrad);
}

/** arange(end), arange(start, end, step?, options?) */
export function arange(...args: (number | TensorOptions)[]): Tensor {
  const fn = 'arange()';
  const last = args[args.length - 1];
  const o = opts(fn, typeof last === 'object' ? (last as TensorOptions) : undefined);
  const nums = (typeof last === 'object' ? args.slice(0, -1) : args) as number[];
  nums.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) argError(fn, ['start', 'end', 'step'][nums.length === 1 ? 1 : i], 'a finite number', v);
  });
  if (nums.length === 1) return finish(callOp('arange', nums[0], o.dtype, null, o.device), o.requiresGrad);
  if (nums.length === 2 || nums.length === 3) {
    const step = nums[2] ?? 1;
    if (step === 0) throw new TorchError(`${fn}: argument 'step' must be nonzero`, 'ERR_TORCH_ARG');
    return finish(callOp('arange.start_step', nums[0], nums[1], step, o.dtype, null, o.device), o.requiresGrad);
  }
  throw new TorchError(`${fn}: expected (end) or (start, end, step?), got ${nums.length} numbers`, 'ERR_TORCH_ARG');
}

/** PyTorch's `torch.linspace(start, end, steps)`: `steps` evenly spaced values from `start` to `end` inclusive (float32 by default). */
export function linspace(start: number, end: number, steps: number, options?: TensorOptions): Tensor {
  const fn = 'linspace()';
  if (typeof start !== 'number') argError(fn, 'start', 'a number', start);
  if (typeof end !== 'number') argError(fn, 'end', 'a number', end);
  if (!Number.isInteger(steps) || steps < 0) argError(fn, 'steps', 'a non-negative integer', steps);
  const o = opts(fn, options);
  return finish(callOp('linspace', start, end, steps, o.dtype, null, o.device), o.requiresGrad);
}

/** PyTorch's `torch.eye(n, m=n)`: an n×m matrix with ones on the diagonal (float32 by default). */
export function eye(n: number, m?: number | TensorOptions, options?: TensorOptions): Tensor {
  const fn = 'eye()';
  if (typeof m === 'object') {
    options = m;
    m = undefined;
  }
  if (!Number.isInteger(n) || n < 0) argError(fn, 'n', 'a non-negative integer', n);
  if (m !== undefined && (!Number.isInteger(m) || m < 0)) argError(fn, 'm', 'a non-negative integer', m);
  const o = opts(fn, options);
  if (m === undefined) return finish(callOp('eye', n, o.dtype, null, o.device), o.requiresGrad);
  return finish(callOp('eye.m', n, m, o.dtype, null, o.device), o.requiresGrad);
}

/** randint(high, size, options?) or randint(low, high, size, options?): int64 by default, as PyTorch. */
export function randint(...args: (number | number[] | TensorOptions)[]): Tensor {
  const fn = 'randint()';
  const last = args[args.length - 1];
  const hasOpts = typeof last === 'object' && last !== null && !Array.isArray(last);
  const o = opts(fn, hasOpts ? (last as TensorOptions) : undefined);
  const rest = hasOpts ? args.slice(0, -1) : args;
  const size = rest[rest.length - 1];
  const bounds = rest.slice(0, -1);
  if (!Array.isArray(size)) argError(fn, 'size', 'an array of integers', size);
  bounds.forEach((b, i) => checkInt(fn, bounds.length === 1 ? 'high' : ['low', 'high'][i], b));
  const shape = shapeFrom(fn, [size]);
  const [low, high] = bounds.length === 1 ? [0, bounds[0] as number] : (bounds as number[]);
  if (bounds.length < 1 || bounds.length > 2) throw new TorchError(`${fn}: expected (high, size) or (low, high, size)`, 'ERR_TORCH_ARG');
  if (high <= low) throw new TorchError(`${fn}: 'high' (${high}) must be greater than 'low' (${low})`, 'ERR_TORCH_ARG');
  return finish(callOp('randint.low', low, high, shape, o.dtype ?? dtypeCode('int64'), null, o.device), o.requiresGrad);
}

function likeFactory(name: string, key: string) {
  return (t: Tensor, options?: TensorOptions): Tensor => {
    const fn = `${name}()`;
    const id = idOf(t, fn, 'input');
    const o = opts(fn, options);
    return finish(callOp(key, id, o.dtype, null, o.device), o.requiresGrad);
  };
}

/** PyTorch's `torch.zeros_like(input)`: zeros with `t`'s shape, and its dtype and device unless `options` says otherwise. */
export const zerosLike = likeFactory('zerosLike', 'zeros_like');
/** PyTorch's `torch.ones_like(input)`: ones with `t`'s shape, dtype and device unless `options` says otherwise. */
export const onesLike = likeFactory('onesLike', 'ones_like');
/** PyTorch's `torch.empty_like(input)`: an uninitialised tensor with `t`'s shape, dtype and device unless `options` says otherwise. */
export const emptyLike = likeFactory('emptyLike', 'empty_like');
/** PyTorch's `torch.rand_like(input)`: U[0, 1) samples with `t`'s shape, dtype and device unless `options` says otherwise. */
export const randLike = likeFactory('randLike', 'rand_like');
/** PyTorch's `torch.randn_like(input)`: standard normal samples with `t`'s shape, dtype and device unless `options` says otherwise. */
export const randnLike = likeFactory('randnLike', 'randn_like');

/** PyTorch's `torch.full_like(input, fill_value)`: `fillValue` with `t`'s shape, dtype and device unless `options` says otherwise. */
export function fullLike(t: Tensor, fillValue: number | boolean, options?: TensorOptions): Tensor {
  const fn = 'fullLike()';
  const id = idOf(t, fn, 'input');
  if (typeof fillValue !== 'number' && typeof fillValue !== 'boolean') argError(fn, 'fillValue', 'a number or boolean', fillValue);
  const o = opts(fn, options);
  return finish(callOp('full_like', id, fillValue, o.dtype, null, o.device), o.requiresGrad);
}

/** PyTorch's `torch.scalar_tensor(s)`: a 0-dimensional tensor holding `value` (float32 by default). */
export function scalarTensor(value: number | boolean, options?: TensorOptions): Tensor {
  const o = opts('scalarTensor()', options);
  return finish(callOp('scalar_tensor', value, o.dtype, null, o.device), o.requiresGrad);
}
