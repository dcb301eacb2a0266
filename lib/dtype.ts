import { TorchError, describe } from './errors';

/** Dtypes as strings, PyTorch's names without the `torch.` prefix. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

/** `torch.float32`: 32-bit floating point (the default dtype). */
export const float32: DType = 'float32';
/** `torch.float64`: 64-bit floating point. */
export const float64: DType = 'float64';
/** `torch.float16`: 16-bit IEEE floating point. */
export const float16: DType = 'float16';
/** `torch.bfloat16`: 16-bit brain floating point. */
export const bfloat16: DType = 'bfloat16';
/** `torch.int8`: 8-bit signed integer. */
export const int8: DType = 'int8';
/** `torch.uint8`: 8-bit unsigned integer (images). */
export const uint8: DType = 'uint8';
/** `torch.int16`: 16-bit signed integer. */
export const int16: DType = 'int16';
/** `torch.int32`: 32-bit signed integer. */
export const int32: DType = 'int32';
/** `torch.int64`: 64-bit signed integer (indices, class labels). */
export const int64: DType = 'int64';
// PyTorch's aliases.
/** `torch.float`: an alias of float32. */
export const float: DType = 'float32';
/** `torch.double`: an alias of float64. */
export const double: DType = 'float64';
/** `torch.half`: an alias of float16. */
export const half: DType = 'float16';
/** `torch.long`: an alias of int64. */
export const long: DType = 'int64';
/** `torch.int`: an alias of int32. */
export const int: DType = 'int32';
/** `torch.short`: an alias of int16. */
export const short: DType = 'int16';
/** `torch.bool`: boolean. */
export const bool: DType = 'bool';

/** c10::ScalarType codes: the integers the native side uses. */
const CODES: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};
const BY_CODE: (DType | undefined)[] = [];
for (const [k, v] of Object.entries(CODES)) BY_CODE[v] = k as DType;
const NATIVE_NAMES: Record<number, string> = { 8: 'complex32', 9: 'complex64', 10: 'complex128' };

/** Every dtype torch-node supports. */
export const DTYPES = Object.keys(CODES) as DType[];

export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && Object.hasOwn(CODES, v);
}

export function dtypeCode(d: DType, fn = 'dtype'): number {
  const c = CODES[d];
  if (c === undefined) {
    throw new TorchError(`${fn}: unknown dtype ${describe(d)}; expected one of ${DTYPES.join(', ')}`, 'ERR_TORCH_ARG');
  }
  return c;
}

export function dtypeFromCode(code: number): DType {
  const d = BY_CODE[code];
  if (!d) throw new TorchError(`tensor has dtype ${NATIVE_NAMES[code] ?? `#${code}`}, which torch-node does not support yet`);
  return d;
}

/** The typed arrays tensors are made from and read into (torch.tensor(), toTypedArray()); bool travels as Uint8Array, float16/bfloat16 as Float32Array. */
export type TypedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array;

/** The typed array that carries a dtype's elements across the boundary. */
export function carrierOf(d: DType): { code: number; ctor: new (b: ArrayBuffer | number) => TypedArray } {
  switch (d) {
    case 'float32':
    case 'float16':
    case 'bfloat16':
      return { code: 6, ctor: Float32Array };
    case 'float64':
      return { code: 7, ctor: Float64Array };
    case 'int8':
      return { code: 1, ctor: Int8Array };
    case 'uint8':
    case 'bool':
      return { code: 0, ctor: Uint8Array };
    case 'int16':
      return { code: 2, ctor: Int16Array };
    case 'int32':
      return { code: 3, ctor: Int32Array };
    case 'int64':
      return { code: 4, ctor: BigInt64Array };
  }
}

/** The dtype of a typed array's elements, or null for one torch-node does not take. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType | null {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof BigInt64Array) return 'int64';
  return null;
}

export function isFloatingPoint(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

export function itemSize(d: DType): number {
  switch (d) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
      return 2;
    default:
      return 1;
  }
}
