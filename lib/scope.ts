/**
 * The memory model. A tensor's native memory is freed by dispose(), by the tidy() scope it was made
 * in, or — for tensors that escape every scope — by a FinalizationRegistry when the GC collects the
 * wrapper. Inside tidy() the hot path pays no per-tensor finalizer: a tensor is only pushed onto the
 * scope's array, and the scope frees all of them with one native call.
 */
import { native } from './binding';
import { TorchError, argError, checkOptions } from './errors';

/** What the scope machinery needs of a tensor (lib/tensor.ts implements it). */
export interface Tracked {
  _h: number; // native table id; -1 once disposed
  _reg: boolean; // registered with the FinalizationRegistry
  _kept: boolean; // exempt from tidy() disposal (keep())
  _gradCache?: Tracked | null; // the handle Tensor.grad returned, owned by this tensor
}

const registry = new FinalizationRegistry<number>((id) => {
  native.free(id);
});

let top: Tracked[] | null = null;
let depth = 0;

/** Called for every new tensor: the current scope owns it, else the GC backstop does. */
export function track(t: Tracked): void {
  if (top !== null) top.push(t);
  else registerGc(t);
}

function registerGc(t: Tracked): void {
  if (!t._reg) {
    registry.register(t, t._h, t);
    t._reg = true;
  }
}

/** Frees a tensor's native memory now. Idempotent. */
export function disposeTracked(t: Tracked): void {
  const id = t._h;
  if (id < 0) return;
  t._h = -1;
  if (t._reg) {
    registry.unregister(t);
    t._reg = false;
  }
  native.free(id);
}

/**
 * Hands a tensor that something else owned (a grad handle whose tensor let go of it) to the current
 * scope, like any new result: tidy() frees it, else the GC backstop (it is registered already).
 */
export function adopt(t: Tracked): void {
  if (t._h < 0) return;
  t._kept = false;
  registerGc(t);
  if (top !== null) top.push(t);
}

let idBuffer = new Int32Array(1024);

function freeScope(scope: Tracked[], keep: Set<Tracked>, outer: Tracked[] | null): void {
  let n = 0;
  const free = (t: Tracked) => {
    if (n === idBuffer.length) {
      native.freeMany(idBuffer, n);
      n = 0;
    }
    idBuffer[n++] = t._h;
    t._h = -1;
    // The tensor's grad handle goes with it, unless the scope returns it.
    const g = t._gradCache;
    if (g && g._h >= 0) {
      t._gradCache = null;
      if (keep.has(g)) {
        g._kept = false;
        if (outer !== null) outer.push(g);
      } else {
        if (g._reg) {
          registry.unregister(g);
          g._reg = false;
        }
        free(g);
      }
    }
  };
  for (let i = 0; i < scope.length; i++) {
    const t = scope[i];
    if (t._h < 0) continue;
    if (t._kept || keep.has(t)) {
      if (outer !== null && !t._kept) outer.push(t);
      else registerGc(t);
      continue;
    }
    free(t);
  }
  if (n > 0) native.freeMany(idBuffer, n);
  if (idBuffer.length > 1 << 16) idBuffer = new Int32Array(1024);
}

/** Collects the tensors in a result: the tensor itself, or inside arrays, Maps, Sets and plain objects. */
function collect(v: unknown, out: Set<Tracked>, isTensor: (v: unknown) => v is Tracked, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  if (isTensor(v)) {
    out.add(v);
    return;
  }
  seen.add(v);
  if (Array.isArray(v)) for (const x of v) collect(x, out, isTensor, seen);
  else if (v instanceof Map)
    for (const [k, x] of v) {
      collect(k, out, isTensor, seen);
      collect(x, out, isTensor, seen);
    }
  else if (v instanceof Set) for (const x of v) collect(x, out, isTensor, seen);
  else {
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) for (const x of Object.values(v)) collect(x, out, isTensor, seen);
  }
}

let isTensorFn: (v: unknown) => v is Tracked = (_v): _v is Tracked => false;
export function setTensorCheck(fn: (v: unknown) => v is Tracked): void {
  isTensorFn = fn;
}

/**
 * Runs fn and disposes every tensor created inside it except those in its result (a tensor, or
 * tensors inside returned arrays, Maps, Sets and plain objects) and those passed to keep().
 * Scopes nest: what a scope returns belongs to the enclosing scope. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  const fn = typeof a === 'function' ? a : b;
  if (typeof fn !== 'function') {
    throw new TorchError(`tidy(): argument 'fn' must be a function, got ${typeof fn}`, 'ERR_TORCH_ARG');
  }
  const outer = top;
  const scope: Tracked[] = [];
  top = scope;
  depth++;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    top = outer;
    depth--;
    freeScope(scope, new Set(), outer);
    throw e;
  }
  top = outer;
  depth--;
  if (result instanceof Promise) {
    freeScope(scope, new Set(), outer);
    throw new TorchError(
      'tidy(): fn returned a Promise; tidy() is synchronous and has freed the tensors made so far. ' +
        'Await outside tidy(), or dispose() tensors yourself in async code.',
      'ERR_TORCH_ARG',
    );
  }
  const keepSet = new Set<Tracked>();
  collect(result, keepSet, isTensorFn);
  freeScope(scope, keepSet, outer);
  return result;
}

/** Exempts a tensor from every enclosing tidy(); the GC (or dispose()) frees it later. */
export function keep<T extends Tracked>(t: T): T {
  t._kept = true;
  registerGc(t);
  return t;
}

export function scopeDepth(): number {
  return depth;
}

/** What torch.memory() returns: live tensors and bytes held, for leak checks. */
export interface MemoryInfo {
  /** Tensors alive in the native table (ids not yet disposed or collected). */
  liveTensors: number;
  /** Bytes held by libtorch's CPU allocator (storages, counted once even when viewed many times). */
  cpuBytes: number;
  /**
   * Bytes of freed large CPU blocks (>= 32 MiB) the allocator keeps for reuse, so that the next
   * tensor of that size (the next step's activation) needs no fresh pages from the kernel. Not part
   * of `cpuBytes`. Bounded by the cache limit, given back once no large block was used for the idle
   * time, and at once by `emptyCache()`; see `configureCpuCache()`.
   */
  cpuCachedBytes: number;
  /** Bytes allocated on the current CUDA device (0 without CUDA). */
  cudaBytes: number;
  /** Nesting depth of tidy() at the time of the call. */
  scopeDepth: number;
}

/** A snapshot of torch-node's memory: live tensors, CPU bytes (and the allocator's cache), CUDA bytes, and the tidy() depth. */
export function memory(): MemoryInfo {
  const s = native.memoryStats();
  return {
    liveTensors: s.liveTensors,
    cpuBytes: s.cpuBytes,
    cpuCachedBytes: s.cpuCachedBytes,
    cudaBytes: native.cuda.isAvailable() ? native.cuda.memoryAllocated() : 0,
    scopeDepth: depth,
  };
}

/** The CPU block cache's settings, as configureCpuCache() takes and returns them. */
export interface CpuCacheSettings {
  /** Most bytes of freed large blocks kept; 0 turns the cache off. Default min(2 GiB, RAM / 4), or TORCH_NODE_CPU_CACHE_MB. */
  limitBytes: number;
  /** Everything cached is given back once no large block was allocated or freed for this long. Default 1000. */
  idleMs: number;
}

/**
 * Sets the CPU block cache's limit and idle time (either may be left out) and returns the settings
 * now in force. Lowering the limit gives back the blocks over it at once.
 */
export function configureCpuCache(options: Partial<CpuCacheSettings> = {}): CpuCacheSettings {
  const fn = 'torch.configureCpuCache()';
  if (options === null || typeof options !== 'object') argError(fn, 'options', 'an object', options);
  checkOptions(fn, options, ['limitBytes', 'idleMs']);
  const { limitBytes, idleMs } = options;
  for (const [name, v] of [
    ['limitBytes', limitBytes],
    ['idleMs', idleMs],
  ] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) argError(fn, name, 'a non-negative integer', v);
  }
  native.configureCpuCache(limitBytes ?? -1, idleMs ?? -1);
  const s = native.memoryStats();
  return { limitBytes: s.cpuCacheLimit, idleMs: s.cpuCacheIdleMs };
}

/**
 * Gives every cached block back: the CPU block cache's (see `memory().cpuCachedBytes`) and, when
 * CUDA is available, the CUDA caching allocator's (`torch.cuda.emptyCache()`).
 */
export function emptyCache(): void {
  native.trimCpuCache(true);
  if (native.cuda.isAvailable()) native.cuda.emptyCache();
}

// The idle release: once no large block was allocated or freed for idleMs, the cache is given back
// even if the process makes no further torch call (a server between bursts). Unref'd: it never
// keeps the process alive.
setInterval(() => native.trimCpuCache(false), 250).unref();
