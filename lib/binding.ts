/**
 * Loads the native addon and types its surface. Everything in lib/ reaches native code through
 * `native` below. Loading tries each place a binary can be (like sharp's loader) and, when all fail,
 * throws one TorchError listing every attempt and the fix.
 *
 * Every function here is synchronous and throws TorchError, except jitCallAsync, which returns a
 * Promise (rejected with a TorchError). Tensors cross as integer ids into the native tensor table
 * (binding/registry.h); dtypes as c10::ScalarType codes; devices as strings.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TorchError } from './errors';

export type Id = number;

export interface NativeCuda {
  isAvailable(): boolean;
  unavailableReason(): string | null;
  deviceCount(): number;
  synchronize(index?: number): void;
  manualSeed(seed: number, all: boolean): void;
  emptyCache(): void;
  memoryAllocated(index?: number): number;
  setDevice(index: number): void;
  currentDevice(): number;
}

/** One module of the tree jitTrace mirrors as TorchScript modules (specs[0] is the root). */
export type TraceModuleSpec = [
  className: string,
  training: boolean,
  parameters: [string, Id][],
  buffers: [string, Id, boolean][],
  children: [string, number][],
];

export interface Binding {
  builtWithLibtorch: string;
  setErrorClass(cls: typeof TorchError): void;
  // registry.cc
  free(id: Id): boolean;
  freeMany(ids: Int32Array, count: number): void;
  memoryStats(): {
    liveTensors: number;
    cpuBytes: number;
    cpuCachedBytes: number;
    cpuCacheLimit: number;
    cpuCacheIdleMs: number;
  };
  trimCpuCache(force: boolean): void;
  configureCpuCache(limitBytes: number, idleMs: number): void;
  // ops/dispatch.cc
  findOp(name: string, overload: string): number;
  callOp(handle: number, ...args: unknown[]): unknown;
  callOpInplace(handle: number, ...args: unknown[]): void;
  opSchema(handle: number): string;
  /** The overload names of an operator ('' is the default). */
  opOverloads(name: string): string[];
  // ops/pointwise.cc (codes: lib/ops/codes.ts)
  binary(code: number, a: Id, b: Id): Id;
  binaryScalar(code: number, a: Id, s: number | boolean): Id;
  unary(code: number, a: Id): Id;
  reduceDims(code: number, a: Id, dims: number[], keepdim: boolean): Id;
  /** The kinds after REDUCE (lib/ops/codes.ts): unboxed calls of ops that would otherwise take callOp. */
  dimOp(code: number, a: Id, dim: number): Id;
  /** Up to four integers; null where the op takes an optional one (slice's start and end). */
  intsOp(code: number, a: Id, v0: number, v1: number | null, v2?: number | null, v3?: number | null): Id;
  /** Lists come as trailing arguments (at most 64), not arrays: reading an array's elements costs more than the call. */
  shapeOp(code: number, a: Id, ...ints: number[]): Id;
  listOp(code: number, dim: number, ...tensors: Id[]): Id;
  /** Then stride, padding and dilation, each as many integers as the convolution has dimensions. */
  convOp(code: number, input: Id, weight: Id, bias: Id | null, groups: number, ...ints: number[]): Id;
  ternary(code: number, a: Id, b: Id, c: Id | null): Id;
  /** 2-D pooling: kernel size, stride, padding, dilation, two integers each. */
  poolOp(code: number, input: Id, ceilMode: boolean, k0: number, k1: number, s0: number, s1: number, p0: number, p1: number, d0: number, d1: number): Id;
  binaryInplace(code: number, a: Id, b: Id): void;
  scalarInplace(code: number, a: Id, s: number | boolean): void;
  unaryInplace(code: number, a: Id): void;
  /** Per kind (binary, scalar, unary, binaryInplace, scalarInplace, unaryInplace, reduce, dim, ints, shape, list, conv, ternary, pool): the fast path's op names, in code order. */
  fastPathNames(): Record<string, string[]>;
  // tensor.cc
  fromData(data: ArrayBufferView, carrierCode: number, shape: number[], dtypeCode: number, device?: string): Id;
  toBuffer(id: Id): ArrayBuffer;
  crc32(data: Uint8Array, crc?: number): number;
  startWriteback(fd: number, offset: number, length: number): void;
  readStored(fd: number, offset: number, nbytes: number, dtypeCode: number, numel: number, wantCrc: boolean): [Id, number];
  readStoredAsync(fd: number, offset: number, nbytes: number, dtypeCode: number, numel: number, wantCrc: boolean): Promise<[Id, number]>;
  item(id: Id): number | boolean;
  meta(id: Id): [number[], number, string, boolean];
  shape(id: Id): number[];
  strides(id: Id): number[];
  dtype(id: Id): number;
  device(id: Id): string;
  dim(id: Id): number;
  numel(id: Id): number;
  flags(id: Id): number;
  storageOffset(id: Id): number;
  sameStorage(a: Id, b: Id): boolean;
  to(id: Id, dtypeCode: number | null, device: string | null, copy: boolean): Id;
  alias(id: Id): Id;
  nativeRepr(id: Id): string;
  // autograd.cc
  setRequiresGrad(id: Id, on: boolean): void;
  grad(id: Id): Id | null;
  setGrad(id: Id, grad: Id | null): void;
  gradIs(id: Id, other: Id): boolean;
  retainGrad(id: Id): void;
  setData(id: Id, data: Id): void;
  backward(id: Id, grad: Id | null, retainGraph: boolean | null, createGraph: boolean): void;
  /** Tensor.register_hook: fn(gradId) returns a replacement tensor id or undefined; returns the hook's handle. While hooks are alive, backward() runs the graph on a worker thread and calls them on the JS thread. */
  registerHook(id: Id, fn: (gradId: Id) => Id | undefined): number;
  removeHook(id: Id, handle: number): void;
  gradFn(id: Id): string | null;
  withGradMode<T>(enabled: boolean, fn: () => T): T;
  withInferenceMode<T>(fn: () => T, enabled?: boolean): T;
  isGradEnabled(): boolean;
  setGradEnabled(on: boolean): void;
  isInferenceModeEnabled(): boolean;
  manualSeed(seed: number): void;
  getRngState(): Id;
  setRngState(state: Id): void;
  // cuda.cc
  cuda: NativeCuda;
  // storage.cc (raw storages for lib/serialization)
  fromBytes(bytes: Uint8Array, dtypeCode: number, numel: number): Id;
  storageInfo(id: Id): [key: string, nbytes: number, storageOffset: number, dtypeCode: number, device: string];
  storageBytes(id: Id): ArrayBuffer;
  storageView(id: Id): ArrayBuffer | null;
  mmapOpen(path: string): [handle: number, size: number];
  fromMapped(handle: number, byteOffset: number, dtypeCode: number, numel: number): Id;
  /** A new tensor (not a view) over `base`'s whole storage: empty + set_(storage, offset, sizes, strides). */
  onStorage(base: Id, storageOffset: number, sizes: number[], strides: number[]): Id;
  mmapRead(handle: number, byteOffset: number, length: number): Uint8Array;
  mmapClose(handle: number): void;
  // script_module.cc (TorchScript; lib/jit.ts)
  jitLoad(path: string, device: string | null): number;
  jitInfo(handle: number): [typeName: string, training: boolean, methods: string[]];
  jitMembers(handle: number): [children: [string, number][], parameters: [string, Id][], buffers: [string, Id][]];
  jitCall(handle: number, method: string, args: unknown[]): unknown;
  jitTrain(handle: number, on: boolean): void;
  jitSetTensor(handle: number, name: string, id: Id, kind: 'parameter' | 'buffer'): void;
  jitSave(handle: number, path: string): void;
  jitSchema(handle: number): string | null;
  jitFree(handle: number): void;
  // jit_trace.cc (torch.jit.trace; lib/jit.ts)
  jitTrace(specs: TraceModuleSpec[], inputs: unknown[], fn: (...inputs: unknown[]) => unknown, argNames: string[], strict: boolean): number;
  jitUntraced<T>(fn: () => T): T;
  jitGraph(handle: number, method: string): string | null;
  // jit_async.cc — async: runs on libuv's thread pool under InferenceMode; argument errors throw, run errors reject
  jitCallAsync(handle: number, method: string, args: unknown[]): Promise<unknown>;
  // settings.cc
  setNumThreads(n: number): void;
  getNumThreads(): number;
}

/** The package root (lib/ compiles to dist/, one level below it). */
export const packageRoot = path.resolve(__dirname, '..');

interface BuildConfig {
  libtorchVersion: string;
  libtorchRoot: string;
  libtorchSource: string;
  python: string | null;
  binary: string;
}

/** What scripts/install.js recorded (TORCH_NODE_CONFIG points elsewhere, for tools and tests). */
export function buildConfig(): BuildConfig | null {
  try {
    const file = process.env.TORCH_NODE_CONFIG || path.join(packageRoot, 'build', 'config.json');
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

// The same reading of TORCH_VERSION_* from libtorch's headers as at install (common/, shared with
// scripts/, ships in the package); required only when there is a build config to check, so a bare
// dist/ still reports its load attempts.
function headerVersion(root: string): string | null {
  return (require('../common/libtorch-version') as typeof import('../common/libtorch-version')).headerVersion(root);
}

function load(): Binding {
  const attempts: string[] = [];
  const config = buildConfig();
  const candidates: string[] = [];
  if (process.env.TORCH_NODE_BINARY) candidates.push(path.resolve(process.env.TORCH_NODE_BINARY));
  if (config?.binary) candidates.push(path.resolve(packageRoot, config.binary));
  candidates.push(path.join(packageRoot, 'build', 'Release', 'torch_node.node'));
  // Prebuilds for the libtorch recorded at install (scripts/prebuilds.js names them by version).
  const preDir = path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
  if (config?.libtorchVersion && fs.existsSync(preDir)) {
    for (const variant of ['cuda', 'cpu']) {
      candidates.push(path.join(preDir, `torch-node.libtorch-${config.libtorchVersion}.${variant}.napi.node`));
    }
  }
  const seen = new Set<string>();
  for (const file of candidates) {
    if (seen.has(file)) continue;
    seen.add(file);
    if (!fs.existsSync(file)) {
      attempts.push(`${file}: not there`);
      continue;
    }
    let b: Binding;
    try {
      b = require(file) as Binding;
    } catch (e) {
      attempts.push(`${file}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    // The libtorch the addon was built for must still be the one it loads.
    if (config?.libtorchRoot) {
      const now = headerVersion(config.libtorchRoot);
      if (now && now !== b.builtWithLibtorch) {
        throw new TorchError(
          `torch-node was built against libtorch ${b.builtWithLibtorch}, but ${config.libtorchRoot} now holds ` +
            `libtorch ${now}. Fix: run 'npm rebuild torch-node' to build against libtorch ${now}, ` +
            `or point LIBTORCH at a libtorch ${b.builtWithLibtorch} and reinstall.`,
          'ERR_TORCH_VERSION',
        );
      }
    }
    b.setErrorClass(TorchError);
    loadedFile = file;
    return fastProperties(b);
  }
  throw new TorchError(
    'torch-node could not load its native addon. Tried:\n' +
      attempts.map((a) => `  - ${a}`).join('\n') +
      '\nFix: run `npm install` (or `npm rebuild torch-node`) in the package to find libtorch and build or ' +
      'pick the addon; set LIBTORCH to a libtorch 2.x folder if the libtorch it was built with was removed; ' +
      'set TORCH_NODE_BINARY to use a specific .node file.',
    'ERR_TORCH_LOAD',
  );
}

/**
 * The addon's exports as an object literal: V8 keeps an object whose ~100 properties were added one
 * by one (as N-API adds exports) in dictionary mode, so every `native.x` in a hot path was a hash
 * lookup (15-50 ns per call measured on the per-op rows); an object literal has fast properties.
 */
function fastProperties<T extends object>(o: T): T {
  const keys = Object.keys(o).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
  if (keys.length !== Object.keys(o).length) return o;
  return new Function('o', `return { ${keys.map((k) => `${k}: o.${k}`).join(', ')} };`)(o) as T;
}

let loadedFile = '';
export const native: Binding = load();

/**
 * Where torch.distributed's NCCL backend library sits for the addon that was loaded: next to it, as
 * torch_node_nccl.so (a build) or <prebuild>.nccl.so (scripts/prebuild.js).
 */
export function ncclLibraryPath(): string {
  if (path.basename(loadedFile) === 'torch_node.node') return path.join(path.dirname(loadedFile), 'torch_node_nccl.so');
  return loadedFile.replace(/(\.napi)?\.node$/, '.nccl.so');
}
