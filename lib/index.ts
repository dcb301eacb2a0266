/**
 * torch-node: `import * as torch from 'torch-node'` or `const torch = require('torch-node')`.
 * Re-exports only; names follow PyTorch (see README's PyTorch <-> torch-node table).
 * @module
 */
// First: the modules required after this one compile from V8's code cache when there is one.
import './code-cache';
export { Tensor, slice, Slice } from './tensor';
export type { Scalar, TensorOrScalar, NestedArray, ReduceOptions, IndexItem, GradFn, ValuesIndices } from './tensor';
export type { NamedTuple } from './named-tuple';
export * from './creation';
export * from './functions';
export { noGrad, enableGrad, inferenceMode, isGradEnabled, setGradEnabled, isInferenceModeEnabled } from './autograd';
export { tidy, keep, memory, emptyCache, configureCpuCache } from './scope';
export type { CpuCacheSettings } from './scope';
export type { MemoryInfo } from './scope';
export { TorchError } from './errors';
export { Device, device } from './device';
export type { DeviceLike } from './device';
export {
  float32,
  float64,
  float16,
  bfloat16,
  int8,
  uint8,
  int16,
  int32,
  int64,
  bool,
  float,
  double,
  half,
  long,
  int,
  short,
  DTYPES,
} from './dtype';
export type { DType, TypedArray } from './dtype';
export * as cuda from './cuda';
export * as distributed from './distributed';
export * as nn from './nn';
export * as jit from './jit';
export * as export from './export';
export * as inductor from './inductor';
export { ops } from './ops/aten';
export * from './ops/generated';
export {
  nonzeroOf as nonzero,
  uniqueOf as unique,
  uniqueConsecutiveOf as uniqueConsecutive,
  asTensor,
  broadcastShapes,
  unravelIndex,
  einsum,
  tensordot,
  cdist,
} from './ops/extras';
export type { UniqueOptions } from './ops/extras';
export { contiguousFormat, preserveFormat, channelsLast, channelsLast3d, strided } from './ops/formats';
export type { MemoryFormat, Layout } from './ops/resolve';
export * as optim from './optim';
export * as safetensors from './serialization/safetensors';
export { save, load, saveAsync, loadAsync, tuple, orderedDict } from './serialization/torch-file';
export type { LoadOptions, MapLocation, MappedStorage, SaveOptions } from './serialization/torch-file';
export * as utils from './train';
export * as vision from './vision';
export {
  freeze,
  unfreeze,
  freezeUntil,
  trainableParameters,
  countParameters,
  frozenReport,
  formatFrozenReport,
  keepFrozenBatchNormEval,
  trainKeepingFrozenBatchNorm,
  setDropout,
  filterStateDict,
  stripPrefix,
  addPrefix,
  renameKeys,
  shareParameters,
  summary,
  saveCheckpoint,
  loadCheckpoint,
  fit,
  EarlyStopping,
  ModelCheckpoint,
  plotHistory,
} from './train';
import { native } from './binding';

/** Releases a tensor (or every tensor in an array, object, Map or Set, nested) now. */
export function dispose(x: unknown): void {
  const { Tensor } = require('./tensor') as typeof import('./tensor');
  if (x instanceof Tensor) x.dispose();
  else if (Array.isArray(x) || x instanceof Set) x.forEach(dispose);
  else if (x instanceof Map)
    x.forEach((v) => dispose(v)); // a loaded checkpoint (dicts are Maps)
  else if (x && typeof x === 'object') Object.values(x).forEach(dispose);
}

/** The libtorch version the addon was built against. */
export const libtorchVersion: string = native.builtWithLibtorch;
/** This package's version (package.json), as `torch.__version__` names PyTorch's. */
export const version: string = require('../package.json').version;
