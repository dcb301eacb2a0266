/**
 * torch.nn.parallel: DistributedDataParallel on c10d's Reducer (binding/distributed.cc) and
 * DataParallel.
 *
 * DistributedDataParallel(module, { bucketCapMB, findUnusedParameters, broadcastBuffers,
 * gradientAsBucketView, processGroup }) follows torch/nn/parallel/distributed.py step for step:
 * at construction the parameters' shapes are compared across ranks and rank 0's parameters and
 * buffers broadcast; the Reducer gets the parameters that require grad (one bucket until the first
 * backward rebuilds them in gradient order); each forward (with grad enabled) prepares the Reducer,
 * broadcasts rank 0's buffers first (BatchNorm statistics, with broadcastBuffers) and, after the
 * wrapped forward, prepares the backward; during backward() the Reducer all-reduces each bucket and
 * averages the gradients. `ddp.module` is the wrapped model and the state-dict keys carry the
 * `module.` prefix, as PyTorch's (strip it with torch.stripPrefix(sd, 'module.')). Hooks and
 * autograd run as usual; Python ranks running DistributedDataParallel can train with Node ranks.
 *
 * DataParallel(module, { deviceIds, outputDevice, dim }): single-process scatter, replicate, gather
 * over several CUDA devices, as PyTorch's; the module itself under `module.` without CUDA.
 * @module
 */
import { isGradEnabled, noGrad } from '../autograd';
import { tidy } from '../scope';
import { TorchError, argError, checkOptions } from '../errors';
import { Tensor } from '../tensor';
import * as distributed from '../distributed';
import { cat } from '../functions';
import * as cuda from '../cuda';
import { cudaIndexOf } from '../device';
import { Module, RAW, setSlot, replicaOf } from './module';

const { dist, distError, groupOf } = distributed;
const BROADCAST_BUCKET_BYTES = 250 * 1024 * 1024;

function tensorsIn(v: unknown, out: Tensor[] = [], seen = new Set<unknown>()): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v);
    if (Array.isArray(v)) v.forEach((x) => tensorsIn(x, out, seen));
    else if (v instanceof Map) v.forEach((x) => tensorsIn(x, out, seen));
    else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => tensorsIn(x, out, seen));
  }
  return out;
}

/** The keyword arguments of PyTorch's `nn.parallel.DistributedDataParallel`. */
export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (default 25, as PyTorch). */
  bucketCapMB?: number;
  /** Allow parameters that get no gradient in a step (each forward's output is searched for them). */
  findUnusedParameters?: boolean;
  /** Broadcast rank 0's buffers (BatchNorm statistics) before each forward (default true). */
  broadcastBuffers?: boolean;
  /** Gradients are views into the all-reduce buckets (saves a copy). */
  gradientAsBucketView?: boolean;
  /** The group whose ranks train together (default: the default group from initProcessGroup). */
  processGroup?: distributed.ProcessGroup | null;
  /** Accepted as PyTorch's; CPU and one-device modules take none (a model on cuda:i takes [i]). */
  deviceIds?: number[] | null;
  /** Accepted as PyTorch's and unused (the output stays where the module puts it). */
  outputDevice?: number | null;
}

/**
 * PyTorch's `torch.nn.parallel.DistributedDataParallel(module, ...)`: wraps a module so each rank's backward() all-reduces
 * and averages the gradients (see the namespace's description). Requires torch.distributed.initProcessGroup first.
 */
export class DistributedDataParallel<M extends Module = Module> extends Module {
  /** The wrapped module (state-dict keys carry `module.`). */
  declare module: M;
  /** The group the gradients are averaged over. */
  declare processGroup: distributed.ProcessGroup;
  /** Whether parameters that get no gradient in a step are allowed (found from each forward's output). */
  declare findUnusedParameters: boolean;
  /** Whether rank 0's buffers are broadcast before each forward. */
  declare broadcastBuffers: boolean;
  /** @internal */ declare _reducer: number;
  /** @internal */ declare _sync: boolean;
  /** @internal */ declare _forwardParamSync: boolean;
  /** @internal */ declare _buffers0: Tensor[];

  constructor(module: M, options: DistributedDataParallelOptions = {}) {
    super();
    const fn = 'DistributedDataParallel()';
    if (!(module instanceof Module)) argError(fn, 'module', 'a Module', module);
    checkOptions(fn, options, ['bucketCapMB', 'findUnusedParameters', 'broadcastBuffers', 'gradientAsBucketView', 'processGroup', 'deviceIds', 'outputDevice']);
    const g = groupOf(fn, options.processGroup);
    const cap = options.bucketCapMB ?? 25;
    if (typeof cap !== 'number' || !(cap > 0)) argError(fn, 'bucketCapMB', 'a positive number', cap);
    const ids = options.deviceIds;
    if (ids != null && (!Array.isArray(ids) || ids.length > 1)) {
      throw new TorchError(`${fn}: deviceIds must be null or a single device ([i]); one process drives one device, as in PyTorch`, 'ERR_TORCH_ARG');
    }
    this.registerModule('module', module);
    const named = [...module.namedParameters()].filter(([, p]) => p.requiresGrad);
    if (named.length === 0) {
      throw new TorchError(
        `${fn}: the module has no parameter that requires grad; DistributedDataParallel is not needed (as PyTorch's error)`,
        'ERR_TORCH_ARG',
      );
    }
    const where = `${fn} on rank ${g.rank} of ${g.size}`;
    // Plain attributes (none is a Module or a Parameter, so nothing registers).
    this.processGroup = g;
    this.findUnusedParameters = options.findUnusedParameters ?? false;
    this.broadcastBuffers = options.broadcastBuffers ?? true;
    this._sync = true;
    this._forwardParamSync = true;
    const params = module.parameters();
    const buffers = module.buffers();
    this._buffers0 = buffers;
    try {
      dist.ddpVerify(
        g._h,
        params.map((p) => p._h),
      );
      // Detached views of the parameters (Python's p.detach()), freed when the broadcast is done.
      tidy(() =>
        noGrad(() =>
          dist.ddpBroadcastCoalesced(
            g._h,
            [...params.map((p) => p.detach()), ...(this.broadcastBuffers ? buffers : [])].map((t) => t._h),
            BROADCAST_BUCKET_BYTES,
            0,
          ),
        ),
      );
      this._reducer = dist.ddpReducer(
        g._h,
        named.map(([, p]) => p._h),
        named.map(([n]) => n),
        Math.floor(cap * 1024 * 1024),
        this.findUnusedParameters,
        options.gradientAsBucketView ?? false,
      );
    } catch (e) {
      distError(e, where);
    }
    reducers.register(this, this._reducer);
  }

  /**
   * PyTorch's `DistributedDataParallel.forward`: the wrapped module's forward on `args`, its output returned; rank 0's buffers are broadcast first
   * (broadcastBuffers) and, with grad enabled outside noSync(), the Reducer is readied so that the next backward() all-reduces and averages the gradients.
   */
  override forward(...args: any[]): any {
    const grad = isGradEnabled();
    const where = `DistributedDataParallel.forward() on rank ${this.processGroup.rank} of ${this.processGroup.size}`;
    try {
      if (grad && this._sync) dist.ddpPrepareForward(this._reducer, true);
      else if (grad) dist.ddpRebuildBuckets(this._reducer);
      if (this._forwardParamSync && this.broadcastBuffers && this._buffers0.length) {
        noGrad(() =>
          dist.ddpBroadcastCoalesced(
            this.processGroup._h,
            this._buffers0.map((b) => b._h),
            BROADCAST_BUCKET_BYTES,
            0,
          ),
        );
      }
    } catch (e) {
      distError(e, where);
    }
    const out = this.module.call(...args);
    if (grad && this._sync) {
      this._forwardParamSync = true;
      try {
        dist.ddpPrepareForBackward(this._reducer, this.findUnusedParameters ? tensorsIn(out).map((t) => t._h) : []);
      } catch (e) {
        distError(e, where);
      }
    } else this._forwardParamSync = false;
    return out;
  }

  /**
   * no_sync(): forwards and backwards inside `fn` accumulate gradients locally without all-reducing
   * them (gradient accumulation); the first forward-backward after it synchronizes. Returns fn's result.
   */
  noSync<T>(fn: () => T): T {
    if (typeof fn !== 'function') argError('noSync()', 'fn', 'a function', fn);
    const old = this._sync;
    this._sync = false;
    try {
      const r = fn();
      if (r instanceof Promise) throw new TorchError('noSync(): fn returned a Promise; the context holds for synchronous code only', 'ERR_TORCH_ARG');
      return r;
    } finally {
      this._sync = old;
    }
  }
}

const reducers = new FinalizationRegistry<number>((h) => dist.ddpFree(h));

/** A device for DataParallel: an index of a CUDA device, or 'cuda:i'. */
function cudaIndex(fn: string, name: string, v: unknown, count: number): number {
  const i = cudaIndexOf(v);
  if (i === null || i < 0 || i >= count) {
    argError(fn, name, `a CUDA device index in [0, ${count}) or 'cuda:i' (this machine has ${count} CUDA device${count === 1 ? '' : 's'})`, v);
  }
  return i;
}

/** PyTorch's scatter (torch/nn/parallel/scatter_gather.py): tensors chunked along dim, one chunk per device. */
function scatter(obj: unknown, devices: string[], dim: number): unknown[] {
  if (obj instanceof Tensor) {
    const chunks = obj.chunk(devices.length, dim);
    return chunks.map((c, i) => (c.device === devices[i] ? c : c.to(devices[i])));
  }
  if (Array.isArray(obj)) {
    if (obj.length === 0) return devices.map(() => []);
    const parts = obj.map((o) => scatter(o, devices, dim));
    const n = Math.min(...parts.map((p) => p.length)); // zip(): the shortest wins, as Python's
    return Array.from({ length: n }, (_, i) => parts.map((p) => p[i]));
  }
  // A dict, as a Map or a plain object: each value scattered, one dict of the same kind per replica.
  const dict =
    obj instanceof Map ? obj : obj && typeof obj === 'object' && Object.getPrototypeOf(obj) === Object.prototype ? new Map(Object.entries(obj)) : null;
  if (dict) {
    const keys = [...dict.keys()];
    const parts = keys.map((k) => scatter(dict.get(k), devices, dim));
    const n = parts.length ? Math.min(...parts.map((p) => p.length)) : devices.length;
    return Array.from({ length: n }, (_, i) => {
      const pairs = keys.map((k, j): [unknown, unknown] => [k, parts[j][i]]);
      return obj instanceof Map ? new Map(pairs) : Object.fromEntries(pairs);
    });
  }
  return devices.map(() => obj);
}

/** PyTorch's gather: the replicas' outputs concatenated along dim on the output device (autograd sees it). */
function gather(outputs: unknown[], target: string, dim: number): unknown {
  const first = outputs[0];
  if (first instanceof Tensor) {
    const ts = outputs as Tensor[];
    if (ts.every((t) => t.dim() === 0)) {
      // Python warns and returns a vector: "all input tensors were scalars; will instead unsqueeze".
      process.emitWarning(
        'DataParallel: was asked to gather along dimension 0, but all input tensors were scalars; will instead unsqueeze and return a vector.',
      );
      return cat(
        ts.map((t) => t.to(target).reshape([1])),
        0,
      );
    }
    return cat(
      ts.map((t) => (t.device === target ? t : t.to(target))),
      dim,
    );
  }
  if (first === null || first === undefined) return first;
  if (Array.isArray(first)) {
    const out = first.map((_, i) =>
      gather(
        outputs.map((o) => (o as unknown[])[i]),
        target,
        dim,
      ),
    );
    return Object.assign(
      out,
      ...Object.keys(first)
        .filter((k) => !/^\d+$/.test(k))
        .map((k) => ({
          [k]: gather(
            outputs.map((o) => (o as any)[k]),
            target,
            dim,
          ),
        })),
    );
  }
  if (first instanceof Map) {
    return new Map(
      [...first.keys()].map((k) => [
        k,
        gather(
          outputs.map((o) => (o as Map<unknown, unknown>).get(k)),
          target,
          dim,
        ),
      ]),
    );
  }
  if (typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    return Object.fromEntries(
      Object.keys(first).map((k) => [
        k,
        gather(
          outputs.map((o) => (o as any)[k]),
          target,
          dim,
        ),
      ]),
    );
  }
  throw new TorchError(
    `DataParallel: cannot gather a ${typeof first} output from the replicas (tensors, arrays, Maps, objects and null can be gathered)`,
    'ERR_TORCH_TYPE',
  );
}

/**
 * PyTorch's replicate(): one shallow copy of every module per device (the first device's are the
 * originals' tensors), parameters as autograd-visible copies (their gradients flow back into the
 * original parameters), buffers as copies (the first device keeps the originals, so BatchNorm's
 * statistics are the first chunk's, as in PyTorch). Like PyTorch's replicas, they have no
 * parameters of their own (parameters() is empty); forward reads them as attributes.
 */
function replicate(root: Module, devices: string[], detach: boolean): Module[] {
  const modules = [...root.modules()];
  const params = new Map<Tensor, Tensor[]>();
  const copy = (t: Tensor, d: string, i: number): Tensor => {
    if (i === 0) return t;
    const src = detach || !t.requiresGrad ? t.detach() : t;
    return src.to(d, { copy: true });
  };
  for (const p of root.parameters())
    params.set(
      p,
      devices.map((d, i) => copy(p, d, i)),
    );
  const buffers = new Map<Tensor, Tensor[]>();
  for (const b of root.buffers())
    buffers.set(
      b,
      devices.map((d, i) => copy(b, d, i)),
    );
  return devices.map((_, i) => {
    const copies = new Map<Module, Module>();
    for (const m of modules) copies.set(m, replicaOf(m));
    for (const m of modules) {
      const r = copies.get(m)!;
      const raw = (r as any)[RAW] as Module;
      for (const [name, p] of m._parameters) setSlot(r, name, p ? params.get(p)![i] : null);
      for (const [name, b] of m._buffers) {
        const c = b ? buffers.get(b)![i] : null;
        raw._buffers.set(name, c);
        setSlot(r, name, c);
      }
      for (const [name, child] of m._modules) {
        const c = child ? copies.get(child)! : null;
        raw._modules.set(name, c);
        setSlot(r, name, c);
      }
    }
    return copies.get(root)!;
  });
}

/** The keyword arguments of PyTorch's `nn.DataParallel`. */
export interface DataParallelOptions {
  /** CUDA devices to split the batch over (indices or 'cuda:i'); default: every CUDA device. */
  deviceIds?: (number | string)[] | null;
  /** Where outputs are gathered (default: deviceIds[0]); -1: the CPU. */
  outputDevice?: number | string | null;
  /** The batch dimension inputs are split along and outputs joined along (default 0). */
  dim?: number;
  /** @internal the devices themselves ('cpu' x N in tests: the scatter/replicate/gather path without GPUs) */
  _devices?: string[];
}

/**
 * torch.nn.DataParallel: single-process data parallelism over several CUDA devices, as PyTorch's:
 * each forward chunks the inputs along `dim` (scatter), copies the module to every device
 * (replicate: parameter copies that autograd sees, so gradients sum into the original parameters),
 * runs every replica, and concatenates the outputs on `outputDevice` (gather). The module must be on
 * deviceIds[0]. BatchNorm's running statistics are updated from the first device's chunk only, as in
 * PyTorch. The replicas run one after another from this thread: their kernels are queued on their
 * devices asynchronously, so the devices still work at once. Without CUDA it is the module itself; on
 * one CUDA device the module is moved there (as PyTorch's). The state-dict keys carry `module.`, as
 * PyTorch's. For training on several GPUs PyTorch recommends DistributedDataParallel, as do we.
 */
export class DataParallel<M extends Module = Module> extends Module {
  /** The wrapped module (state-dict keys carry `module.`). */
  declare module: M;
  /** The CUDA devices used (empty without CUDA, as PyTorch's device_ids). */
  declare deviceIds: number[];
  /** The CUDA device index outputs are gathered on (-1: the CPU), or null without CUDA. */
  declare outputDevice: number | null;
  /** The dimension inputs are split along and outputs joined along. */
  declare dim: number;
  /** @internal */ declare _devices: string[];
  /** @internal */ declare _output: string;

  constructor(module: M, options: DataParallelOptions = {}) {
    super();
    const fn = 'DataParallel()';
    if (!(module instanceof Module)) argError(fn, 'module', 'a Module', module);
    checkOptions(fn, options, ['deviceIds', 'outputDevice', 'dim', '_devices']);
    const dim = options.dim ?? 0;
    if (!Number.isInteger(dim)) argError(fn, 'dim', 'an integer', dim);
    this.registerModule('module', module);
    this.dim = dim;
    if (options._devices) {
      this.deviceIds = options._devices.map((_, i) => i);
      this._devices = [...options._devices];
      this.outputDevice = 0;
      this._output = this._devices[0];
      return;
    }
    if (!cuda.isAvailable()) {
      this.deviceIds = [];
      this._devices = [];
      this.outputDevice = null;
      this._output = 'cpu';
      return;
    }
    const count = cuda.deviceCount();
    const ids = options.deviceIds ?? Array.from({ length: count }, (_, i) => i);
    if (!Array.isArray(ids) || ids.length === 0) argError(fn, 'deviceIds', 'a non-empty array of CUDA device indices', ids);
    this.deviceIds = ids.map((v) => cudaIndex(fn, 'deviceIds', v, count));
    const out = options.outputDevice ?? this.deviceIds[0];
    this.outputDevice = out === -1 || out === 'cpu' ? -1 : cudaIndex(fn, 'outputDevice', out, count);
    this._devices = this.deviceIds.map((i) => `cuda:${i}`);
    this._output = this.outputDevice === -1 ? 'cpu' : `cuda:${this.outputDevice}`;
    if (this.deviceIds.length === 1) module.to(this._devices[0]);
  }

  /**
   * PyTorch's `DataParallel.forward`: the inputs split along `dim` over the devices (scatter), the module replicated and run on each chunk, the outputs
   * concatenated along `dim` on outputDevice (gather); on one device, the module on the inputs moved there; without CUDA, the module's own forward.
   */
  override forward(...args: any[]): any {
    if (this._devices.length === 0) return this.module.call(...args);
    const src = this._devices[0];
    for (const t of [...this.module.parameters(), ...this.module.buffers()]) {
      if (t.device !== src) {
        throw new TorchError(
          `DataParallel: module must have its parameters and buffers on device ${src} (deviceIds[0]) but found one of them on device: ${t.device}; ` +
            `move it first: model.to('${src}')`,
          'ERR_TORCH_DEVICE',
        );
      }
    }
    let inputs = scatter(args, this._devices, this.dim) as unknown[][];
    if (inputs.length === 0) inputs = [[]];
    if (this._devices.length === 1) return this.module.call(...inputs[0]);
    const replicas = replicate(this.module, this._devices.slice(0, inputs.length), !isGradEnabled());
    const outputs = replicas.map((r, i) => r.call(...inputs[i]));
    return gather(outputs, this._output, this.dim);
  }
}
