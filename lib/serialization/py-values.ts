/**
 * What Python values look like after torch.load, beside the JS values themselves: the marks that
 * remember what JS cannot show (a tuple, an OrderedDict, a float key, object attributes, a
 * Parameter), and the descriptions of tensors and storages the unpickler produces for torch-file.ts.
 * Shared by the unpickler, the pickler and everything that reads or writes loaded values.
 */
import type { DType } from '../dtype';

// ---- marks: what Python had that JS values do not show ---------------------------------------
/** Arrays that were Python tuples (saved back as tuples; fresh arrays save as lists). */
export const pyTuples = new WeakSet<object>();
/** Maps that were collections.OrderedDict (saved back as OrderedDict; fresh Maps save as dict). */
export const pyOrderedDicts = new WeakSet<object>();
/** Container -> keys (Map keys, array indices, object keys) whose values were integral Python floats. */
export const pyFloatKeys = new WeakMap<object, Set<unknown>>();
/** OrderedDict -> attributes set by BUILD other than `_metadata` (which is a property on the Map). */
export const pyAttributes = new WeakMap<object, Map<string, unknown>>();
/** Tensors that were torch.nn.Parameter (saved back as Parameters). */
export const pyParameters = new WeakSet<object>();

export function markFloatKey(container: object, key: unknown): void {
  let s = pyFloatKeys.get(container);
  if (!s) pyFloatKeys.set(container, (s = new Set()));
  s.add(key);
}

// ---- what the unpickler produces for tensors -----------------------------------------------------
export class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}
}

/** One storage record of the archive: `data/<key>`, `numel` elements of `dtype`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly location: string,
    /** set by the loader: where the record is */
    public entry: unknown = null,
  ) {}
}

/** A tensor to be made over a storage: `set_(storage, offset, size, stride)`. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
    readonly parameter: boolean,
  ) {}
}

/** An integral-valued Python float, until the final walk records it as a float key. */
export class PyFloat {
  constructor(readonly value: number) {}
}

type GlobalKind =
  | 'OrderedDict'
  | 'dict'
  | 'rebuild'
  | 'rebuild_v2'
  | 'param'
  | 'param_state'
  | 'from_type_v2'
  | 'Parameter'
  | 'Tensor'
  | 'device'
  | 'Size'
  | 'set'
  | 'encode'
  | 'bytearray'
  | 'bytes'
  | 'storage'
  | 'dtype';

/** The storage type a persistent id names (its second item), or null if it names none. */
export function storageTypeOf(v: unknown): StorageType | null {
  return v instanceof Global && v.kind === 'storage' ? v.storageType : null;
}

export class Global {
  constructor(
    readonly path: string,
    readonly kind: GlobalKind,
    readonly storageType: StorageType | null = null,
    readonly dtype: DType | null = null,
  ) {}
}
