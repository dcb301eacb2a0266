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
 * DataParallel(module, { deviceIds }): on the CPU or one device it is the module itself under a
 * `module.` prefix — what checkpoints made with it look like; several CUDA devices are not split
 * across yet (a TorchError says so and points to DistributedDataParallel).
 */
import { isGradEnabled, noGrad } from '../autograd';
import { tidy } from '../scope';
import { TorchError, argError, checkOptions } from '../errors';
import { Tensor } from '../tensor';
import * as distributed from '../distributed';
import { Module } from './module';

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

export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (default 25, as PyTorch). */
  bucketCapMB?: number;
  /** Allow parameters that get no gradient in a step (each forward's output is searched for them). */
  findUnusedParameters?: boolean;
  /** Broadcast rank 0's buffers (BatchNorm statistics) before each forward (default true). */
  broadcastBuffers?: boolean;
  /** Gradients are views into the all-reduce buckets (saves a copy). */
  gradientAsBucketView?: boolean;
  processGroup?: distributed.ProcessGroup | null;
  /** Accepted as PyTorch's; CPU and one-device modules take none (a model on cuda:i takes [i]). */
  deviceIds?: number[] | null;
  outputDevice?: number | null;
}

export class DistributedDataParallel<M extends Module = Module> extends Module {
  declare module: M;
  declare processGroup: distributed.ProcessGroup;
  declare findUnusedParameters: boolean;
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
      throw new TorchError(`${fn}: the module has no parameter that requires grad; DistributedDataParallel is not needed (as PyTorch's error)`, 'ERR_TORCH_ARG');
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
      dist.ddpVerify(g._h, params.map((p) => p._h));
      // Detached views of the parameters (Python's p.detach()), freed when the broadcast is done.
      tidy(() => noGrad(() => dist.ddpBroadcastCoalesced(g._h, [...params.map((p) => p.detach()), ...(this.broadcastBuffers ? buffers : [])].map((t) => t._h), BROADCAST_BUCKET_BYTES, 0)));
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

  override forward(...args: any[]): any {
    const grad = isGradEnabled();
    const where = `DistributedDataParallel.forward() on rank ${this.processGroup.rank} of ${this.processGroup.size}`;
    try {
      if (grad && this._sync) dist.ddpPrepareForward(this._reducer, true);
      else if (grad) dist.ddpRebuildBuckets(this._reducer);
      if (this._forwardParamSync && this.broadcastBuffers && this._buffers0.length) {
        noGrad(() => dist.ddpBroadcastCoalesced(this.processGroup._h, this._buffers0.map((b) => b._h), BROADCAST_BUCKET_BYTES, 0));
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

/**
 * DataParallel(module, { deviceIds }): on the CPU or one device, the module under a `module.` prefix
 * (the keys of checkpoints saved from it). Splitting a batch over several CUDA devices in one process
 * is not done yet: use DistributedDataParallel, one process per device, as PyTorch recommends.
 */
export class DataParallel<M extends Module = Module> extends Module {
  declare module: M;
  constructor(module: M, options: { deviceIds?: number[] | null; outputDevice?: number | null; dim?: number } = {}) {
    super();
    if (!(module instanceof Module)) argError('DataParallel()', 'module', 'a Module', module);
    checkOptions('DataParallel()', options, ['deviceIds', 'outputDevice', 'dim']);
    const ids = options.deviceIds ?? null;
    if (ids !== null && ids.length > 1) {
      throw new TorchError(
        'DataParallel(): splitting a batch over several CUDA devices in one process is not in torch-node yet; ' +
          'use DistributedDataParallel with one process per device (npx torch-node run --nproc-per-node N), as PyTorch recommends',
        'ERR_TORCH_UNSUPPORTED',
      );
    }
    this.registerModule('module', module);
  }
  override forward(...args: any[]): any {
    return this.module.call(...args);
  }
}
