/**
 * Pointwise ops (PyTorch's "Pointwise Ops", activations, comparisons): the native fast path's
 * methods (add, mul, exp, relu, add_, ...: their names and types come from binding/ops/pointwise.def
 * through the generated lib/ops/codes.ts), and those that take options (addScaled, divMode, clamp,
 * gelu, leakyRelu, softmax, logSoftmax, equal, allclose, detach_). Added to Tensor here.
 */
import { native } from '../binding';
import { checkDtype, checkInt, checkNumber, checkScalar, disposedError, idOf, selfId } from '../checks';
import { dtypeCode, type DType } from '../dtype';
import { TorchError, argError, checkOptions } from '../errors';
import {
  BINARY,
  BINARY_INPLACE,
  CONV,
  DIM,
  INTS,
  LIST,
  POOL,
  REDUCE,
  SCALAR,
  SCALAR_INPLACE,
  SHAPE,
  TERNARY,
  UNARY,
  UNARY_INPLACE,
  type FastPathMethods,
  codeOf,
} from '../ops/codes';
import { callInplace, callOp, callValue } from '../ops/call';
import { callMethodAsPython, type MemoryFormat } from '../ops/resolve';
import { toSnake } from '../names';
import { Tensor, addMethods, wrap, type TensorOrScalar } from '../tensor';

/** self (op) alpha * other: add.Tensor / add.Scalar with alpha. */
function binaryAlpha(self: Tensor, name: 'add' | 'sub', other: TensorOrScalar, alpha: number): Tensor {
  const fn = `${name}()`;
  checkNumber(fn, 'alpha', alpha);
  const id = selfId(self, fn);
  if (other instanceof Tensor) return callOp(`${name}.Tensor`, id, idOf(other, fn, 'other'), alpha);
  return callOp(`${name}.Scalar`, id, checkScalar(fn, 'other', other), alpha);
}

const DIM_SOFTMAX = codeOf(DIM, 'softmax');
const DIM_LOG_SOFTMAX = codeOf(DIM, 'logSoftmax');

export class TensorPointwise {
  /** self + alpha * other */
  addScaled(this: Tensor, other: TensorOrScalar, alpha: number): Tensor {
    return binaryAlpha(this, 'add', other, alpha);
  }
  /** div with rounding: div(other, { roundingMode: 'trunc' | 'floor' }) */
  divMode(this: Tensor, other: TensorOrScalar, roundingMode: 'trunc' | 'floor'): Tensor {
    if (roundingMode !== 'trunc' && roundingMode !== 'floor') argError('div()', 'roundingMode', "'trunc' or 'floor'", roundingMode);
    const id = selfId(this, 'div()');
    if (other instanceof Tensor) return callOp('div.Tensor_mode', id, idOf(other, 'div()', 'other'), roundingMode);
    return callOp('div.Scalar_mode', id, checkScalar('div()', 'other', other), roundingMode);
  }
  /** PyTorch's `clamp(min=None, max=None)`: each element limited to [min, max]; the bounds are both numbers or both tensors, at least one given. */
  clamp(this: Tensor, min?: number | Tensor | null, max?: number | Tensor | null): Tensor {
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
  /** PyTorch's `clamp_(min=None, max=None)`: clamp in place with number bounds; returns this. */
  clamp_<T extends Tensor>(this: T, min?: number | null, max?: number | null): T {
    const id = selfId(this, 'clamp_()');
    if (min == null && max == null) throw new TorchError("clamp_(): at least one of 'min' and 'max' must be given", 'ERR_TORCH_ARG');
    if (min != null) checkNumber('clamp_()', 'min', min);
    if (max != null) checkNumber('clamp_()', 'max', max);
    callInplace('clamp_', id, min ?? null, max ?? null);
    return this;
  }
  /** PyTorch's `clip`: an alias of clamp. */
  clip(this: Tensor, min?: number | null, max?: number | null): Tensor {
    return this.clamp(min, max);
  }
  /** PyTorch's `nn.functional.gelu(x, approximate='none')`: the Gaussian error linear unit (`approximate: 'tanh'` for the tanh approximation). */
  gelu(this: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor {
    const id = selfId(this, 'gelu()');
    const approx = options?.approximate ?? 'none';
    if (approx !== 'none' && approx !== 'tanh') argError('gelu()', 'approximate', "'none' or 'tanh'", approx);
    if (approx === 'none') return wrap(native.unary(UNARY.indexOf('gelu'), id));
    return callOp('gelu', id, approx);
  }
  /** PyTorch's `nn.functional.leaky_relu(x, negative_slope=0.01)`. */
  leakyRelu(this: Tensor, negativeSlope = 0.01): Tensor {
    checkNumber('leakyRelu()', 'negativeSlope', negativeSlope);
    return callOp('leaky_relu', selfId(this, 'leakyRelu()'), negativeSlope);
  }
  /** PyTorch's `softmax(dim, dtype=None)`: exp(x) normalised to sum to 1 along `dim` (`dtype` casts the input first). */
  softmax(this: Tensor, dim: number, options: { dtype?: DType } = {}): Tensor {
    checkInt('softmax()', 'dim', dim);
    checkOptions('softmax()', options, ['dtype']);
    const id = selfId(this, 'softmax()');
    // Without a dtype: the unboxed entry point; with one, the dispatcher.
    if (options.dtype === undefined) return wrap(native.dimOp(DIM_SOFTMAX, id, dim));
    return callOp('softmax.int', id, dim, dtypeCode(checkDtype('softmax()', options.dtype)));
  }
  /** PyTorch's `log_softmax(dim, dtype=None)`: log(softmax(x)) along `dim`, computed stably. */
  logSoftmax(this: Tensor, dim: number, options: { dtype?: DType } = {}): Tensor {
    checkInt('logSoftmax()', 'dim', dim);
    checkOptions('logSoftmax()', options, ['dtype']);
    const id = selfId(this, 'logSoftmax()');
    if (options.dtype === undefined) return wrap(native.dimOp(DIM_LOG_SOFTMAX, id, dim));
    return callOp('log_softmax.int', id, dim, dtypeCode(checkDtype('logSoftmax()', options.dtype)));
  }
  /** True when both have the same shape and elements. */
  equal(this: Tensor, other: Tensor): boolean {
    return callValue<boolean>('equal', selfId(this, 'equal()'), idOf(other, 'equal()', 'other'));
  }
  /** PyTorch's `allclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: whether |x - other| <= atol + rtol·|other| everywhere (broadcasting). */
  allclose(this: Tensor, other: Tensor, options: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
    const id = selfId(this, 'allclose()');
    return callValue<boolean>('allclose', id, idOf(other, 'allclose()', 'other'), options.rtol ?? 1e-5, options.atol ?? 1e-8, options.equalNan ?? false);
  }
  /** PyTorch's `detach_()`: detaches this tensor from the autograd graph in place, making it a leaf; returns this. */
  detach_<T extends Tensor>(this: T): T {
    callInplace('detach_', selfId(this, 'detach_()'));
    return this;
  }
}

// The fast-path methods with Python's keyword arguments (they take the dispatcher then: see install below).
declare module '../tensor' {
  interface Tensor extends TensorPointwise, FastPathMethods {
    /** PyTorch's `add(other, *, alpha=1)`: self + alpha·other. */
    add(other: TensorOrScalar, options?: { alpha?: Scalar }): Tensor;
    /** PyTorch's `sub(other, *, alpha=1)`: self - alpha·other. */
    sub(other: TensorOrScalar, options?: { alpha?: Scalar }): Tensor;
    /** PyTorch's `div(other, *, rounding_mode=None)`: true division, or rounded with `'trunc'` / `'floor'`. */
    div(other: TensorOrScalar, options?: { roundingMode?: 'trunc' | 'floor' | null }): Tensor;
    /** PyTorch's `add_(other, *, alpha=1)`: self += alpha·other; returns this. */
    add_(other: TensorOrScalar, options?: { alpha?: Scalar }): this;
    /** PyTorch's `sub_(other, *, alpha=1)`: self -= alpha·other; returns this. */
    sub_(other: TensorOrScalar, options?: { alpha?: Scalar }): this;
    /** PyTorch's `div_(other, *, rounding_mode=None)`: self /= other in place; returns this. */
    div_(other: TensorOrScalar, options?: { roundingMode?: 'trunc' | 'floor' | null }): this;
    /** PyTorch's `round(*, decimals=0)`: half to even, to `decimals` decimal places. */
    round(options?: { decimals?: number }): Tensor;
    /** PyTorch's `round_(*, decimals=0)`: round in place; returns this. */
    round_(options?: { decimals?: number }): this;
    /** PyTorch's `clone(*, memory_format=torch.preserve_format)`. */
    clone(options?: { memoryFormat?: MemoryFormat }): Tensor;
    /** PyTorch's `contiguous(memory_format=torch.contiguous_format)`. */
    contiguous(options?: { memoryFormat?: MemoryFormat }): Tensor;
  }
}
addMethods(TensorPointwise);

// ---- the fast path's methods ----------------------------------------------------------------------
// Declaration merging types them (FastPathMethods, above); the loops below install them on the
// prototype. The addon's tables are built from the same .def file: a build or a codes.ts out of step
// with it is an error here, at load.
{
  const built = native.fastPathNames();
  const ours: Record<string, readonly string[]> = {
    binary: BINARY,
    scalar: SCALAR,
    unary: UNARY,
    binaryInplace: BINARY_INPLACE,
    scalarInplace: SCALAR_INPLACE,
    unaryInplace: UNARY_INPLACE,
    reduce: REDUCE,
    dim: DIM,
    ints: INTS,
    shape: SHAPE,
    list: LIST,
    conv: CONV,
    ternary: TERNARY,
    pool: POOL,
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

const BINARY_CODES: Record<string, number> = Object.fromEntries(BINARY.map((n, i) => [n, i]));
const SCALAR_CODES: Record<string, number> = Object.fromEntries(SCALAR.map((n, i) => [n, i]));
const BINARY_INPLACE_CODES: Record<string, number> = Object.fromEntries(BINARY_INPLACE.map((n, i) => [n, i]));
const SCALAR_INPLACE_CODES: Record<string, number> = Object.fromEntries(SCALAR_INPLACE.map((n, i) => [n, i]));

/** Installs a generated method (not enumerable, as a class's own); a name defined twice is an error at load. */
function install(name: string, method: (this: Tensor, ...args: never[]) => unknown): void {
  if (Object.hasOwn(Tensor.prototype, name)) throw new TorchError(`torch-node: Tensor.${name} is defined twice`, 'ERR_TORCH_LOAD');
  Object.defineProperty(Tensor.prototype, name, { value: method, writable: true, configurable: true });
}

for (const name of new Set<string>([...BINARY, ...SCALAR])) {
  const code = BINARY_CODES[name];
  const scode = SCALAR_CODES[name];
  const fn = `${name}()`;
  const aten = toSnake(name);
  install(name, function binaryOp(this: Tensor, other: TensorOrScalar, options?: unknown): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    // More than the one fast argument (alpha=, rounding_mode=, ...): Python's overload resolution, never dropped.
    if (options !== undefined) return callMethodAsPython(aten, name, this, [other, options], 1) as Tensor;
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
  });
}

UNARY.forEach((name, code) => {
  if (name === 'gelu' || name === 'sumAll' || name === 'meanAll') return; // gelu takes options (above); the others are sum() and mean()
  const fn = `${name}()`;
  const aten = toSnake(name);
  install(name, function unaryOp(this: Tensor, options?: unknown): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    // Arguments (round(decimals=), clone(memory_format=), ...): Python's overload resolution, never dropped.
    if (options !== undefined) return callMethodAsPython(aten, name, this, [options], 0) as Tensor;
    return wrap(native.unary(code, a));
  });
});

for (const name of new Set<string>([...BINARY_INPLACE, ...SCALAR_INPLACE])) {
  const code = BINARY_INPLACE_CODES[name];
  const scode = SCALAR_INPLACE_CODES[name];
  const fn = `${name}()`;
  const aten = toSnake(name);
  install(name, function binaryInplace(this: Tensor, other: TensorOrScalar, options?: unknown): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    if (options !== undefined) {
      callMethodAsPython(aten, name, this, [other, options], 1);
      return this;
    }
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
  });
}

UNARY_INPLACE.forEach((name, code) => {
  const fn = `${name}()`;
  const aten = toSnake(name);
  install(name, function unaryInplace(this: Tensor, options?: unknown): Tensor {
    const a = this._h;
    if (a < 0) throw disposedError(fn, 'self');
    if (options !== undefined) {
      callMethodAsPython(aten, name, this, [options], 0);
      return this;
    }
    native.unaryInplace(code, a);
    return this;
  });
});
