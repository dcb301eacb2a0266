/**
 * torch.distributed on libtorch's own engine, c10d (binding/distributed.cc): TCPStore, FileStore and
 * PrefixStore, ProcessGroup with the Gloo backend (CPU and CUDA tensors) and the NCCL backend (CUDA
 * tensors; binding/nccl/, a library loaded only where CUDA is), collectives and point-to-point with
 * PyTorch's names. initProcessGroup lays out its store keys as Python's init_process_group does
 * (PrefixStore('default_pg') -> PrefixStore('0/') -> PrefixStore('cpu/' or 'cuda/') -> backend), so
 * Node and Python ranks join one job.
 *
 * Blocking and async: a collective called as in Python blocks this thread until it is done (the
 * event loop waits, as Python's interpreter does). With `{ asyncOp: true }` it returns a Work:
 * `work.wait()` blocks, `await work` (or `work.getFuture()`) waits on libuv's pool while the event
 * loop turns — the form for servers.
 *
 * Faults are TorchErrors naming the rank: a peer that died or never came, a timeout (`timeout` in
 * milliseconds; Python's default 30 minutes), a port in use. Collectives whose shapes or dtypes
 * differ across ranks make Gloo abort the process, as in PyTorch; with TORCH_DISTRIBUTED_DEBUG=DETAIL
 * every collective first compares them across ranks (c10d's ProcessGroupWrapper, as Python's debug
 * mode) and a mismatch is a TorchError on every rank instead.
 * @module
 */
import { native, ncclLibraryPath } from './binding';
import { TorchError, argError, checkOptions } from './errors';
import { pickle, unpickle } from './serialization/pickle';
import { markDicts } from './serialization/torch-file';
import { type Tensor, idOf, wrap } from './tensor';
import { empty, tensor as makeTensor, zeros } from './creation';
import { tidy } from './scope';
import { setDefaultGroupInfo } from './train/distributed-sampler';

type Id = number;
type BackendKind = 'gloo' | 'nccl';
type DeviceKind = 'cpu' | 'cuda';
interface NativeDistributed {
  info(): [boolean, string | null];
  storeTcp(
    host: string,
    port: number,
    isServer: boolean,
    worldSize: number | null,
    timeoutMs: number,
    waitWorkers: boolean,
    multiTenant: boolean,
  ): [Id, number];
  storeFile(path: string, worldSize: number, timeoutMs: number): Id;
  storePrefix(prefix: string, store: Id): Id;
  storeSet(store: Id, key: string, value: Uint8Array): void;
  storeGet(store: Id, key: string): Uint8Array;
  storeAdd(store: Id, key: string, amount: number): number;
  storeWait(store: Id, keys: string[], timeoutMs: number | null): void;
  storeCheck(store: Id, keys: string[]): boolean;
  storeDeleteKey(store: Id, key: string): boolean;
  storeNumKeys(store: Id): number;
  storeSetTimeout(store: Id, timeoutMs: number): void;
  storeFree(store: Id): void;
  ncclInfo(libraryPath: string): [boolean, string | null, string | null];
  pgNew(
    groupStore: Id,
    rank: number,
    size: number,
    timeoutMs: number,
    check: boolean,
    backends: [BackendKind, Id, Id | null, DeviceKind[]][],
    defaultKind: BackendKind,
    name: string,
    globalRanks: number[],
  ): Id;
  pgFree(pg: Id): void;
  pgAllreduce(pg: Id, ts: Id[], op: number): Id;
  pgAllreduceAutograd(pg: Id, t: Id, op: number): Id;
  pgBroadcast(pg: Id, ts: Id[], src: number): Id;
  pgReduce(pg: Id, ts: Id[], dst: number, op: number): Id;
  pgAllgather(pg: Id, outs: Id[], input: Id): Id;
  pgGather(pg: Id, outs: Id[], input: Id, dst: number): Id;
  pgScatter(pg: Id, out: Id, ins: Id[], src: number): Id;
  pgReduceScatter(pg: Id, out: Id, ins: Id[], op: number): Id;
  pgP2P(pg: Id, t: Id, peer: number, tag: number, isRecv: boolean): Id;
  pgBarrier(pg: Id, timeoutMs: number | null): Id;
  workWait(w: Id): void;
  workWaitAsync(w: Id): Promise<void>;
  workIsCompleted(w: Id): boolean;
  workFree(w: Id): void;
  ddpVerify(pg: Id, params: Id[]): void;
  ddpBroadcastCoalesced(pg: Id, ts: Id[], bufferBytes: number, src: number): void;
  ddpReducer(pg: Id, params: Id[], names: string[], bucketCapBytes: number, findUnused: boolean, gradAsBucketView: boolean): Id;
  ddpPrepareForward(r: Id, gradEnabled: boolean): boolean;
  ddpRebuildBuckets(r: Id): boolean;
  ddpPrepareForBackward(r: Id, outputs: Id[]): void;
  ddpFree(r: Id): void;
}
/** @internal */
export const dist = (native as unknown as { distributed: NativeDistributed }).distributed;

/** Python's default_pg_timeout (30 minutes) and the store's default (5 minutes), in milliseconds. */
export const DEFAULT_PG_TIMEOUT_MS = 30 * 60 * 1000;
/** A store's default timeout (PyTorch's 5 minutes), in milliseconds. */
export const DEFAULT_STORE_TIMEOUT_MS = 5 * 60 * 1000;

/** torch.distributed.ReduceOp. */
export const ReduceOp = {
  /** The sum over ranks (the default). */
  SUM: 0,
  /** The mean over ranks. */
  AVG: 1,
  /** The product over ranks. */
  PRODUCT: 2,
  /** The elementwise minimum over ranks. */
  MIN: 3,
  /** The elementwise maximum over ranks. */
  MAX: 4,
  /** Bitwise and (integer and bool tensors). */
  BAND: 5,
  /** Bitwise or (integer and bool tensors). */
  BOR: 6,
  /** Bitwise xor (integer and bool tensors). */
  BXOR: 7,
} as const;
/** One of ReduceOp's values, as collectives take it (`{ op: ReduceOp.MAX }`). */
export type ReduceOpCode = (typeof ReduceOp)[keyof typeof ReduceOp];

/** @internal */
export function distError(e: unknown, what: string): never {
  if (e instanceof TorchError) {
    if (!e.code || e.code === 'ERR_TORCH') e.code = 'ERR_TORCH_DIST';
    e.message = `${what}: ${e.message}`;
    throw e;
  }
  throw e;
}

// ---- availability -------------------------------------------------------------------------------
/** torch.distributed.is_available(): c10d is in every build; true when the Gloo backend is too. */
export function isAvailable(): boolean {
  return dist.info()[0];
}
/** PyTorch's `torch.distributed.is_gloo_available()`. */
export function isGlooAvailable(): boolean {
  return dist.info()[0];
}
/**
 * True where the NCCL backend can run: the addon was built with it (CUDA's and NCCL's headers were
 * found, scripts/cuda-headers.js), CUDA is usable, and its library (next to the addon) loads.
 * Unlike Python's is_nccl_available(), false on a machine without a CUDA device.
 */
export function isNcclAvailable(): boolean {
  return dist.ncclInfo(ncclLibraryPath())[0];
}
/** The NCCL version the backend runs with ('2.27.5'), or null when it is not available. */
export function ncclVersion(): string | null {
  return dist.ncclInfo(ncclLibraryPath())[2];
}
/** Why isAvailable() (or with 'nccl', isNcclAvailable()) is false; null when it is true. */
export function unavailableReason(backend: 'gloo' | 'nccl' = 'gloo'): string | null {
  if (backend === 'nccl') return dist.ncclInfo(ncclLibraryPath())[1];
  return dist.info()[1];
}

/**
 * Python's BackendConfig: which backend serves which device for a `backend` string, as
 * init_process_group reads it. undefined: the accelerator's default (CUDA: nccl, else cpu: gloo);
 * 'gloo': cpu and cuda; 'nccl': cuda; 'cpu:gloo,cuda:nccl' and the like: as written.
 * @internal
 */
export function backendConfig(fn: string, backend: unknown): { name: string; map: [DeviceKind, BackendKind][] } {
  const allowed = "'gloo', 'nccl' or 'device:backend' pairs such as 'cpu:gloo,cuda:nccl'";
  if (backend === undefined || backend === null || backend === 'undefined') {
    const cuda = native.cuda.isAvailable();
    return { name: 'undefined', map: [cuda ? ['cuda', 'nccl'] : ['cpu', 'gloo']] };
  }
  if (typeof backend !== 'string') argError(fn, 'backend', allowed, backend);
  const b = backend.toLowerCase();
  if (b === 'gloo')
    return {
      name: 'gloo',
      map: [
        ['cpu', 'gloo'],
        ['cuda', 'gloo'],
      ],
    };
  if (b === 'nccl') return { name: 'nccl', map: [['cuda', 'nccl']] };
  if (!b.includes(':')) argError(fn, 'backend', allowed, backend);
  const map: [DeviceKind, BackendKind][] = [];
  for (const pair of b.split(',')) {
    const [device, kind, extra] = pair.split(':');
    if (extra !== undefined || (device !== 'cpu' && device !== 'cuda') || (kind !== 'gloo' && kind !== 'nccl')) argError(fn, 'backend', allowed, backend);
    if (kind === 'nccl' && device !== 'cuda') {
      throw new TorchError(`${fn}: backend '${backend}': NCCL serves CUDA tensors only; use '${device}:gloo'`, 'ERR_TORCH_ARG');
    }
    if (map.some(([d]) => d === device)) argError(fn, 'backend', `${allowed}, each device once`, backend);
    map.push([device, kind]);
  }
  return { name: b, map };
}

function requireBackends(fn: string, map: [DeviceKind, BackendKind][], name: string): void {
  const kinds = new Set(map.map(([, k]) => k));
  if (kinds.has('gloo') && !isGlooAvailable()) {
    throw new TorchError(`${fn}: torch.distributed's Gloo backend is not in this build: ${unavailableReason()}`, 'ERR_TORCH_DIST_UNAVAILABLE');
  }
  if (kinds.has('nccl') && !isNcclAvailable()) {
    const hint = name === 'undefined' ? " (the default backend on a CUDA machine, as in PyTorch; pass { backend: 'gloo' } to use Gloo)" : '';
    throw new TorchError(`${fn}: torch.distributed's NCCL backend is not available${hint}: ${unavailableReason('nccl')}`, 'ERR_TORCH_DIST_UNAVAILABLE');
  }
}

// ---- stores -------------------------------------------------------------------------------------
const storeRegistry = new FinalizationRegistry<Id>((h) => dist.storeFree(h));
const enc = new TextEncoder();

/** c10d::Store: a key-value store every rank reaches (rendezvous, small shared state). */
export class Store {
  /** @internal */ _h: Id;
  /** @internal */ constructor(h: Id) {
    this._h = h;
    storeRegistry.register(this, h, this);
  }
  /** @internal */ _id(fn: string): Id {
    if (this._h < 0) throw new TorchError(`${fn}: the store was closed`, 'ERR_TORCH_DIST');
    return this._h;
  }
  /** Sets `key` to a string or bytes. */
  set(key: string, value: string | Uint8Array): void {
    const v = typeof value === 'string' ? enc.encode(value) : value;
    if (!(v instanceof Uint8Array)) argError('Store.set()', 'value', 'a string or a Uint8Array', value);
    dist.storeSet(this._id('Store.set()'), String(key), v);
  }
  /** The bytes of `key` (a Buffer), waiting for it up to the store's timeout. */
  get(key: string): Uint8Array {
    try {
      return dist.storeGet(this._id('Store.get()'), String(key));
    } catch (e) {
      return distError(e, `Store.get('${key}')`);
    }
  }
  /** Adds `amount` to the integer at `key` (0 if absent) and returns the result. */
  add(key: string, amount: number): number {
    if (!Number.isInteger(amount)) argError('Store.add()', 'amount', 'an integer', amount);
    return dist.storeAdd(this._id('Store.add()'), String(key), amount);
  }
  /** Waits until every key is set (up to `timeout` ms, else the store's timeout). */
  wait(keys: string[], timeout?: number): void {
    if (!Array.isArray(keys)) argError('Store.wait()', 'keys', 'an array of keys', keys);
    try {
      dist.storeWait(this._id('Store.wait()'), keys.map(String), timeout ?? null);
    } catch (e) {
      distError(e, `Store.wait([${keys.join(', ')}])`);
    }
  }
  /** Whether every key is set, without waiting (PyTorch's `Store.check`). */
  check(keys: string[]): boolean {
    return dist.storeCheck(this._id('Store.check()'), keys.map(String));
  }
  /** Deletes a key; true if it existed (PyTorch's `Store.delete_key`). */
  deleteKey(key: string): boolean {
    return dist.storeDeleteKey(this._id('Store.deleteKey()'), String(key));
  }
  /** The number of keys set (PyTorch's `Store.num_keys`). */
  numKeys(): number {
    return dist.storeNumKeys(this._id('Store.numKeys()'));
  }
  /** The timeout of get() and wait(), in milliseconds (PyTorch's `Store.set_timeout`). */
  setTimeout(timeout: number): void {
    dist.storeSetTimeout(this._id('Store.setTimeout()'), checkTimeout('Store.setTimeout()', timeout));
  }
  /** Releases the store (a TCPStore server stops serving). */
  close(): void {
    if (this._h < 0) return;
    storeRegistry.unregister(this);
    dist.storeFree(this._h);
    this._h = -1;
  }
}

function checkTimeout(fn: string, t: unknown): number {
  if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) argError(fn, 'timeout', 'a positive number of milliseconds', t);
  return t;
}

/** torch.distributed.TCPStore(hostName, port, { worldSize, isMaster, timeout, waitForWorkers, multiTenant }). */
export class TCPStore extends Store {
  /** The port it serves or reaches (the one chosen when port 0 was asked of a master). */
  declare readonly port: number;
  constructor(
    /** The host name of the master's server. */
    readonly host: string,
    port: number,
    options: { worldSize?: number | null; isMaster?: boolean; timeout?: number; waitForWorkers?: boolean; multiTenant?: boolean } = {},
  ) {
    const fn = 'TCPStore()';
    if (typeof host !== 'string' || host === '') argError(fn, 'hostName', 'a host name', host);
    if (!Number.isInteger(port) || port < 0 || port > 65535) argError(fn, 'port', 'an integer from 0 to 65535', port);
    checkOptions(fn, options, ['worldSize', 'isMaster', 'timeout', 'waitForWorkers', 'multiTenant']);
    const ws = options.worldSize ?? null;
    if (ws !== null && (!Number.isInteger(ws) || ws < 1)) argError(fn, 'worldSize', 'a positive integer or null', ws);
    const timeout = checkTimeout(fn, options.timeout ?? DEFAULT_STORE_TIMEOUT_MS);
    let r: [Id, number];
    try {
      r = dist.storeTcp(host, port, options.isMaster ?? false, ws, timeout, options.waitForWorkers ?? true, options.multiTenant ?? false);
    } catch (e) {
      return distError(e, `TCPStore(${host}:${port}${options.isMaster ? ', master' : ''})`);
    }
    super(r[0]);
    Object.defineProperty(this, 'port', { value: r[1], enumerable: true });
  }
}

/** torch.distributed.FileStore(fileName, worldSize): a store in a file every rank can open. */
export class FileStore extends Store {
  constructor(
    /** The file's path. */
    readonly path: string,
    worldSize = -1,
    options: { timeout?: number } = {},
  ) {
    if (typeof path !== 'string' || path === '') argError('FileStore()', 'fileName', 'a file path', path);
    if (!Number.isInteger(worldSize)) argError('FileStore()', 'worldSize', 'an integer', worldSize);
    super(dist.storeFile(path, worldSize, checkTimeout('FileStore()', options.timeout ?? DEFAULT_STORE_TIMEOUT_MS)));
  }
}

/** torch.distributed.PrefixStore(prefix, store): every key of `store` under `prefix/`. */
export class PrefixStore extends Store {
  constructor(
    /** The prefix put before every key (`prefix/key`). */
    readonly prefix: string,
    /** The store underneath. */
    readonly store: Store,
  ) {
    if (!(store instanceof Store)) argError('PrefixStore()', 'store', 'a Store', store);
    super(dist.storePrefix(String(prefix), store._id('PrefixStore()')));
  }
}

// ---- process groups and works -------------------------------------------------------------------
const groupRegistry = new FinalizationRegistry<Id>((h) => dist.pgFree(h));
const workRegistry = new FinalizationRegistry<Id>((h) => dist.workFree(h));

/** A process group: this rank's place in it and the ranks (of the default group) it holds. */
export class ProcessGroup {
  /** @internal */ _h: Id;
  constructor(
    /** @internal */ h: Id,
    /** This process's rank in the group. */
    readonly rank: number,
    /** The number of ranks in the group. */
    readonly size: number,
    /** Its members' ranks in the default group (group rank i is ranks[i]). */
    readonly ranks: number[],
    /** The group's name (PyTorch's group_name). */
    readonly name: string,
    /** The backend the group was made with (`'gloo'`, `'nccl'`, or a 'device:backend' list). */
    readonly backend = 'gloo',
    /** Which backend serves which device ('cpu:gloo,cuda:gloo'), as Python's get_backend_config(). */
    readonly backendConfig = 'cpu:gloo,cuda:gloo',
    /** @internal what the group holds on to */ readonly _stores: Store[] = [],
  ) {
    this._h = h;
    groupRegistry.register(this, h, this);
  }
  /** This process's rank in the group (PyTorch's `ProcessGroup.rank()`). */
  getRank(): number {
    return this.rank;
  }
  /** @internal */ _free(): void {
    if (this._h < 0) return;
    groupRegistry.unregister(this);
    dist.pgFree(this._h);
    this._h = -1;
  }
}

/**
 * What an async collective returns (c10d::Work): `wait()` blocks until it is done, `await work` or
 * `work.getFuture()` waits off the event loop. Errors (a timeout, a dead peer) come from either.
 */
export class Work implements PromiseLike<void> {
  private _h: Id;
  private _future: Promise<void> | null = null;
  /** @internal */ constructor(
    h: Id,
    private readonly what: string,
    private readonly after?: () => void,
  ) {
    this._h = h;
    workRegistry.register(this, h, this);
  }
  /** Blocks until the collective is done; true, as Python's. */
  wait(): true {
    if (this._future) throw new TorchError(`${this.what}: wait() after getFuture(): await the promise instead`, 'ERR_TORCH_DIST');
    if (this._h >= 0) {
      try {
        dist.workWait(this._h);
      } catch (e) {
        this._release();
        distError(e, this.what);
      }
      this._release();
      this.after?.();
    }
    return true;
  }
  /** Whether the collective has finished, without waiting (PyTorch's `Work.is_completed()`). */
  isCompleted(): boolean {
    return this._h < 0 || dist.workIsCompleted(this._h);
  }
  /** A Promise that settles when the collective is done, waited for on libuv's pool. */
  getFuture(): Promise<void> {
    if (!this._future) {
      if (this._h < 0) this._future = Promise.resolve();
      else {
        const h = this._h;
        this._future = dist.workWaitAsync(h).then(
          () => {
            this._release();
            this.after?.();
          },
          (e) => {
            this._release();
            return distError(e, this.what);
          },
        );
      }
    }
    return this._future;
  }
  then<R1 = void, R2 = never>(onOk?: ((v: void) => R1 | PromiseLike<R1>) | null, onErr?: ((e: any) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.getFuture().then(onOk, onErr);
  }
  private _release(): void {
    if (this._h < 0) return;
    workRegistry.unregister(this);
    dist.workFree(this._h);
    this._h = -1;
  }
}

interface World {
  group: ProcessGroup;
  /** The default_pg-prefixed store new groups are made on. */
  store: Store;
  timeout: number;
  groupCount: number;
  check: boolean;
  /** The backend string the default group was made with (new groups use it unless told otherwise). */
  backend: unknown;
}
let world: World | null = null;

function defaultWorld(fn: string): World {
  if (!world) {
    throw new TorchError(`${fn}: the default process group has not been initialized; call torch.distributed.initProcessGroup() first`, 'ERR_TORCH_DIST');
  }
  return world;
}

/** @internal */
export function groupOf(fn: string, group: ProcessGroup | null | undefined): ProcessGroup {
  const g = group ?? defaultWorld(fn).group;
  if (!(g instanceof ProcessGroup)) argError(fn, 'group', 'a ProcessGroup', g);
  if (g._h < 0) throw new TorchError(`${fn}: the process group was destroyed`, 'ERR_TORCH_DIST');
  return g;
}

/** The keyword arguments of PyTorch's `torch.distributed.init_process_group` (initProcessGroup). */
export interface InitOptions {
  /**
   * 'gloo' (CPU and CUDA tensors), 'nccl' (CUDA tensors), or pairs such as 'cpu:gloo,cuda:nccl'.
   * Left out, as in PyTorch: 'nccl' for CUDA where a CUDA device is, else Gloo for CPU.
   */
  backend?: string;
  /** 'env://' (default: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE), 'tcp://host:port' or 'file:///path'. */
  initMethod?: string;
  /** A store instead of initMethod (then rank and worldSize are required). */
  store?: Store;
  /** This process's rank (default: the RANK environment variable, or from initMethod). */
  rank?: number;
  /** The number of processes (default: the WORLD_SIZE environment variable, or from initMethod). */
  worldSize?: number;
  /** Milliseconds for the backend's operations and the rendezvous (Python's default: 30 minutes). */
  timeout?: number;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new TorchError(`initProcessGroup(): environment variable ${name}=${v} is not an integer`, 'ERR_TORCH_DIST');
  return n;
}

/**
 * torch.distributed.init_process_group: joins (or hosts, on rank 0) the rendezvous and creates the
 * default group. Launch with `npx torch-node run --nproc-per-node N script.js` or
 * `torchrun --nproc-per-node N --no-python node script.js`, which set the env:// variables.
 */
export function initProcessGroup(options: InitOptions = {}): void {
  const fn = 'initProcessGroup()';
  checkOptions(fn, options, ['backend', 'initMethod', 'store', 'rank', 'worldSize', 'timeout']);
  if (world) throw new TorchError(`${fn}: trying to initialize the default process group twice`, 'ERR_TORCH_DIST');
  const config = backendConfig(fn, options.backend);
  requireBackends(fn, config.map, config.name);
  const timeout = checkTimeout(fn, options.timeout ?? DEFAULT_PG_TIMEOUT_MS);
  let rank = options.rank;
  let worldSize = options.worldSize;
  let store: Store;
  if (options.store !== undefined) {
    if (options.initMethod !== undefined) throw new TorchError(`${fn}: pass either initMethod or store, not both`, 'ERR_TORCH_ARG');
    if (!(options.store instanceof Store)) argError(fn, 'store', 'a Store', options.store);
    if (rank === undefined || worldSize === undefined) throw new TorchError(`${fn}: with a store, rank and worldSize are required`, 'ERR_TORCH_ARG');
    store = options.store;
  } else {
    const method = options.initMethod ?? 'env://';
    if (typeof method !== 'string') argError(fn, 'initMethod', "'env://', 'tcp://host:port' or 'file:///path'", method);
    let url: URL;
    try {
      url = new URL(method);
    } catch {
      return argError(fn, 'initMethod', "'env://', 'tcp://host:port' or 'file:///path'", method);
    }
    const q = (k: string) => (url.searchParams.has(k) ? Number(url.searchParams.get(k)) : undefined);
    rank ??= q('rank');
    worldSize ??= q('world_size');
    if (url.protocol === 'env:') {
      rank ??= envInt('RANK');
      worldSize ??= envInt('WORLD_SIZE');
      const addr = process.env.MASTER_ADDR;
      const port = envInt('MASTER_PORT');
      const missing = [
        rank === undefined && 'RANK',
        worldSize === undefined && 'WORLD_SIZE',
        !addr && 'MASTER_ADDR',
        port === undefined && 'MASTER_PORT',
      ].filter(Boolean);
      if (missing.length) {
        throw new TorchError(
          `${fn}: env:// needs the environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
            'launch with `npx torch-node run --nproc-per-node N script.js` (or torchrun --no-python), or pass rank and worldSize with initMethod tcp://host:port',
          'ERR_TORCH_DIST',
        );
      }
      // torchrun hosts the store in its agent when it says so; then every rank is a client.
      const agent = process.env.TORCHELASTIC_USE_AGENT_STORE === 'True';
      store = rendezvousTcp(fn, addr!, port!, rank!, worldSize!, timeout, agent);
    } else if (url.protocol === 'tcp:') {
      if (rank === undefined || worldSize === undefined)
        throw new TorchError(`${fn}: tcp:// needs rank and worldSize (options, or ?rank=&world_size= in the URL)`, 'ERR_TORCH_ARG');
      if (!url.port) throw new TorchError(`${fn}: tcp:// needs a port, e.g. tcp://127.0.0.1:29500`, 'ERR_TORCH_ARG');
      store = rendezvousTcp(fn, url.hostname, Number(url.port), rank, worldSize, timeout, false);
    } else if (url.protocol === 'file:') {
      if (rank === undefined || worldSize === undefined)
        throw new TorchError(`${fn}: file:// needs rank and worldSize (options, or ?rank=&world_size= in the URL)`, 'ERR_TORCH_ARG');
      store = new FileStore(decodeURIComponent(url.pathname), worldSize, { timeout });
    } else {
      return argError(fn, 'initMethod', "'env://', 'tcp://host:port' or 'file:///path'", method);
    }
  }
  if (!Number.isInteger(worldSize) || worldSize! < 1) argError(fn, 'worldSize', 'a positive integer', worldSize);
  if (!Number.isInteger(rank) || rank! < 0 || rank! >= worldSize!) argError(fn, 'rank', `an integer in [0, ${worldSize})`, rank);
  store.setTimeout(timeout);
  const defaultStore = new PrefixStore('default_pg', store);
  const w: World = { group: null as unknown as ProcessGroup, store: defaultStore, timeout, groupCount: 0, check: false, backend: options.backend };
  w.check = process.env.TORCH_DISTRIBUTED_DEBUG === 'DETAIL';
  const name = String(w.groupCount++);
  // The default group's global ranks are [] in Python's options (the group is the world).
  w.group = makeGroup(
    fn,
    w,
    config,
    name,
    rank!,
    worldSize!,
    Array.from({ length: worldSize! }, (_, i) => i),
    [store, defaultStore],
    [],
  );
  world = w;
}

function rendezvousTcp(fn: string, host: string, port: number, rank: number, worldSize: number, timeout: number, agent: boolean): Store {
  try {
    return new TCPStore(host, port, { worldSize, isMaster: !agent && rank === 0, timeout, multiTenant: true });
  } catch (e) {
    if (e instanceof TorchError) {
      e.message =
        `${fn} on rank ${rank} of ${worldSize}: ${rank === 0 && !agent ? `could not host the store on ${host}:${port}` : `could not reach the store at ${host}:${port}`}: ` +
        e.message.replace(/^TCPStore\([^)]*\): /, '');
    }
    throw e;
  }
}

function makeGroup(
  fn: string,
  w: World,
  config: { name: string; map: [DeviceKind, BackendKind][] },
  name: string,
  rank: number,
  size: number,
  ranks: number[],
  keep: Store[],
  globalRanks: number[],
): ProcessGroup {
  // Python's _new_process_group_helper: PrefixStore(f"{group_name}/"), then per backend
  // PrefixStore(f"{device}/") (one backend, under its first device's prefix, when a single backend
  // serves every device), and in DETAIL debug mode a helper Gloo group under
  // PrefixStore(f"pg_wrapper:{group_name}") of that.
  const groupStore = new PrefixStore(`${name}/`, w.store);
  const stores: Store[] = [groupStore];
  const kinds = [...new Set(config.map.map(([, k]) => k))];
  const specs: [BackendKind, Id, Id | null, DeviceKind[]][] = [];
  const entries: [DeviceKind, BackendKind][] = kinds.length === 1 ? [config.map[0]] : config.map;
  for (const [device, kind] of entries) {
    const backendStore = new PrefixStore(`${device}/`, groupStore);
    const helperStore = w.check ? new PrefixStore(`pg_wrapper:${name}`, backendStore) : null;
    stores.push(backendStore, ...(helperStore ? [helperStore] : []));
    const devices = kinds.length === 1 ? config.map.map(([d]) => d) : [device];
    specs.push([kind, backendStore._h, helperStore ? helperStore._h : null, devices]);
  }
  const defaultKind = (config.map.find(([d]) => d === 'cuda') ?? config.map[0])[1];
  let h: Id;
  try {
    h = dist.pgNew(groupStore._h, rank, size, w.timeout, w.check, specs, defaultKind, name, globalRanks);
  } catch (e) {
    return distError(e, `${fn} on rank ${rank} of ${size}`);
  }
  const configText = config.map.map(([d, k]) => `${d}:${k}`).join(',');
  return new ProcessGroup(h, rank, size, ranks, name, config.name, configText, [...keep, ...stores]);
}

/** PyTorch's `torch.distributed.is_initialized()`: whether initProcessGroup has run (and destroyProcessGroup has not). */
export function isInitialized(): boolean {
  return world !== null;
}
/** This process's rank in `group` (default: the default group); -1 if it is not a member. */
export function getRank(group?: ProcessGroup | null): number {
  return groupOf('getRank()', group).rank;
}
/** The number of ranks in `group` (default: the default group); PyTorch's `get_world_size`. */
export function getWorldSize(group?: ProcessGroup | null): number {
  return groupOf('getWorldSize()', group).size;
}
/** The backend the group was made with: 'gloo', 'nccl', a 'device:backend' string, or 'undefined' (Python's, for the default). */
export function getBackend(group?: ProcessGroup | null): string {
  return groupOf('getBackend()', group).backend;
}
/** Which backend serves which device, e.g. 'cpu:gloo,cuda:gloo' (Python's get_backend_config). */
export function getBackendConfig(group?: ProcessGroup | null): string {
  return groupOf('getBackendConfig()', group).backendConfig;
}
/** The default group's rank of group rank `groupRank` (Python's get_global_rank). */
export function getGlobalRank(group: ProcessGroup, groupRank: number): number {
  const g = groupOf('getGlobalRank()', group);
  const r = g.ranks[groupRank];
  if (r === undefined) argError('getGlobalRank()', 'groupRank', `a rank in [0, ${g.size})`, groupRank);
  return r;
}

/** Destroys `group`, or with none the default group and every group made since (Python's destroy_process_group()). */
export function destroyProcessGroup(group?: ProcessGroup | null): void {
  if (group) {
    group._free();
    return;
  }
  const w = defaultWorld('destroyProcessGroup()');
  for (const g of createdGroups) g._free();
  createdGroups.length = 0;
  w.group._free();
  for (const s of w.group._stores) s.close();
  world = null;
}

const createdGroups: ProcessGroup[] = [];

/**
 * torch.distributed.new_group(ranks): a group of some ranks. Every rank of the default group must
 * call it, in the same order, as in PyTorch; a rank outside `ranks` gets null (Python's
 * GroupMember.NON_GROUP_MEMBER). The name (the store prefix) is Python's: the sha1 of the ranks and
 * a per-job counter, so Python ranks join the same group.
 */
export function newGroup(ranks?: number[] | null, options: { timeout?: number; backend?: string } = {}): ProcessGroup | null {
  const fn = 'newGroup()';
  checkOptions(fn, options, ['timeout', 'backend']);
  const w = defaultWorld(fn);
  const config = backendConfig(fn, options.backend ?? w.backend);
  requireBackends(fn, config.map, config.name);
  const size = w.group.size;
  const list = ranks == null ? Array.from({ length: size }, (_, i) => i) : [...ranks].sort((a, b) => a - b);
  if (!Array.isArray(list) || list.some((r) => !Number.isInteger(r) || r < 0 || r >= size) || new Set(list).size !== list.length) {
    argError(fn, 'ranks', `distinct ranks in [0, ${size})`, ranks);
  }
  const useHashed = ranks != null;
  const name = useHashed
    ? require('crypto')
        .createHash('sha1')
        .update(`${list.join('_')}_${w.groupCount}`)
        .digest('hex')
    : String(w.groupCount);
  w.groupCount++;
  const me = w.group.rank;
  if (!list.includes(me)) return null;
  const g = makeGroup(fn, { ...w, timeout: options.timeout ?? w.timeout }, config, name, list.indexOf(me), list.length, list, [], list);
  createdGroups.push(g);
  return g;
}

// ---- collectives --------------------------------------------------------------------------------
interface CollectiveOptions {
  group?: ProcessGroup | null;
  asyncOp?: boolean;
}

function tensorArg(fn: string, name: string, t: unknown): Id {
  return idOf(t, fn, name);
}

function run(fn: string, g: ProcessGroup, asyncOp: boolean | undefined, start: () => Id, after?: () => void): Work | void {
  let h: Id;
  try {
    h = start();
  } catch (e) {
    return distError(e, `${fn} on rank ${g.rank} of ${g.size}`);
  }
  const work = new Work(h, `${fn} on rank ${g.rank} of ${g.size}`, after);
  if (asyncOp) return work;
  work.wait();
}

function opCode(fn: string, op: unknown): number {
  const v = op ?? ReduceOp.SUM;
  if (!Object.values(ReduceOp).includes(v as ReduceOpCode))
    argError(fn, 'op', 'a torch.distributed.ReduceOp (SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR)', op);
  return v as number;
}

function groupRankOf(fn: string, g: ProcessGroup, globalRank: unknown, name: string): number {
  if (!Number.isInteger(globalRank)) argError(fn, name, 'a rank (an integer)', globalRank);
  const i = g.ranks.indexOf(globalRank as number);
  if (i < 0) argError(fn, name, `a rank of the group (${g.ranks.join(', ')})`, globalRank);
  return i;
}

/** all_reduce(tensor, op=SUM): every rank ends with the reduction of everyone's tensor, in place. */
export function allReduce(tensor: Tensor, options: CollectiveOptions & { op?: ReduceOpCode } = {}): Work | void {
  const fn = 'allReduce()';
  checkOptions(fn, options, ['op', 'group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const op = opCode(fn, options.op);
  return run(fn, g, options.asyncOp, () => dist.pgAllreduce(g._h, [id], op));
}

/**
 * torch.distributed.nn.functional: collectives autograd sees (PyTorch's names). allReduce returns a
 * new tensor, the reduction of `tensor` across the group; in backward the incoming gradient is
 * all-reduced with the same op (as Python's _AllReduce), so every rank's loss reaches every rank's
 * input. Blocking, forward and backward: each rank must run the same graph. nn.SyncBatchNorm is built
 * on it.
 */
export const nn = {
  /** torch.distributed.nn.functional. */
  functional: {
    /**
     * PyTorch's `torch.distributed.nn.functional.all_reduce(tensor, op=ReduceOp.SUM, group=None)`: a new tensor,
     * the reduction of `tensor` across the group, whose gradient is all-reduced in backward.
     */
    allReduce(tensor: Tensor, options: { op?: ReduceOpCode; group?: ProcessGroup | null } = {}): Tensor {
      const fn = 'distributed.nn.functional.allReduce()';
      checkOptions(fn, options, ['op', 'group']);
      const g = groupOf(fn, options.group);
      const id = tensorArg(fn, 'tensor', tensor);
      const op = opCode(fn, options.op);
      try {
        return wrap(dist.pgAllreduceAutograd(g._h, id, op));
      } catch (e) {
        return distError(e, `${fn} on rank ${g.rank} of ${g.size}`);
      }
    },
  },
};

/** broadcast(tensor, src): every rank's tensor becomes rank src's. */
export function broadcast(tensor: Tensor, options: CollectiveOptions & { src?: number } = {}): Work | void {
  const fn = 'broadcast()';
  checkOptions(fn, options, ['src', 'group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const src = groupRankOf(fn, g, options.src ?? g.ranks[0], 'src');
  return run(fn, g, options.asyncOp, () => dist.pgBroadcast(g._h, [id], src));
}

/** reduce(tensor, dst, op): rank dst ends with the reduction. */
export function reduce(tensor: Tensor, options: CollectiveOptions & { dst?: number; op?: ReduceOpCode } = {}): Work | void {
  const fn = 'reduce()';
  checkOptions(fn, options, ['dst', 'op', 'group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const dst = groupRankOf(fn, g, options.dst ?? g.ranks[0], 'dst');
  const op = opCode(fn, options.op);
  return run(fn, g, options.asyncOp, () => dist.pgReduce(g._h, [id], dst, op));
}

function sameShapes(fn: string, name: string, list: unknown, n: number, like: Tensor): Id[] {
  if (!Array.isArray(list) || list.length !== n) argError(fn, name, `an array of ${n} tensors (one per rank)`, list);
  return list.map((t, i) => {
    const id = idOf(t, fn, `${name}[${i}]`);
    const s = (t as Tensor).shape;
    if (s.length !== like.shape.length || s.some((d, j) => d !== like.shape[j]) || (t as Tensor).dtype !== like.dtype) {
      throw new TorchError(
        `${fn}: ${name}[${i}] is [${s.join(', ')}] ${(t as Tensor).dtype}, but the tensor is [${like.shape.join(', ')}] ${like.dtype}; they must match`,
        'ERR_TORCH_ARG',
      );
    }
    return id;
  });
}

/** all_gather(tensorList, tensor): tensorList[i] receives rank i's tensor. */
export function allGather(tensorList: Tensor[], tensor: Tensor, options: CollectiveOptions = {}): Work | void {
  const fn = 'allGather()';
  checkOptions(fn, options, ['group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const outs = sameShapes(fn, 'tensorList', tensorList, g.size, tensor);
  return run(fn, g, options.asyncOp, () => dist.pgAllgather(g._h, outs, id));
}

/** gather(tensor, gatherList on dst, dst). */
export function gather(tensor: Tensor, options: CollectiveOptions & { gatherList?: Tensor[] | null; dst?: number } = {}): Work | void {
  const fn = 'gather()';
  checkOptions(fn, options, ['gatherList', 'dst', 'group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const dst = groupRankOf(fn, g, options.dst ?? g.ranks[0], 'dst');
  let outs: Id[] = [];
  if (g.rank === dst) outs = sameShapes(fn, 'gatherList', options.gatherList, g.size, tensor);
  else if (options.gatherList?.length)
    throw new TorchError(`${fn}: gatherList must be given on the destination rank only (rank ${g.ranks[dst]})`, 'ERR_TORCH_ARG');
  return run(fn, g, options.asyncOp, () => dist.pgGather(g._h, outs, id, dst));
}

/** scatter(tensor, scatterList on src, src): tensor receives src's scatterList[rank]. */
export function scatter(tensor: Tensor, options: CollectiveOptions & { scatterList?: Tensor[] | null; src?: number } = {}): Work | void {
  const fn = 'scatter()';
  checkOptions(fn, options, ['scatterList', 'src', 'group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const src = groupRankOf(fn, g, options.src ?? g.ranks[0], 'src');
  let ins: Id[] = [];
  if (g.rank === src) ins = sameShapes(fn, 'scatterList', options.scatterList, g.size, tensor);
  else if (options.scatterList?.length)
    throw new TorchError(`${fn}: scatterList must be given on the source rank only (rank ${g.ranks[src]})`, 'ERR_TORCH_ARG');
  return run(fn, g, options.asyncOp, () => dist.pgScatter(g._h, id, ins, src));
}

/** reduce_scatter(output, inputList, op): output receives the reduction of everyone's inputList[rank]. */
export function reduceScatter(output: Tensor, inputList: Tensor[], options: CollectiveOptions & { op?: ReduceOpCode } = {}): Work | void {
  const fn = 'reduceScatter()';
  checkOptions(fn, options, ['op', 'group', 'asyncOp']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'output', output);
  const ins = sameShapes(fn, 'inputList', inputList, g.size, output);
  const op = opCode(fn, options.op);
  return run(fn, g, options.asyncOp, () => dist.pgReduceScatter(g._h, id, ins, op));
}

/** send(tensor, dst): blocks until rank dst has received it (isend returns a Work). */
export function send(tensor: Tensor, dst: number, options: { group?: ProcessGroup | null; tag?: number } = {}): void {
  p2p('send()', tensor, dst, options, false, false);
}
/** recv(tensor, src): blocks until `tensor` has been filled with what rank src sent. */
export function recv(tensor: Tensor, src: number, options: { group?: ProcessGroup | null; tag?: number } = {}): void {
  p2p('recv()', tensor, src, options, true, false);
}
/** isend(tensor, dst): send without blocking; returns a Work to wait on. */
export function isend(tensor: Tensor, dst: number, options: { group?: ProcessGroup | null; tag?: number } = {}): Work {
  return p2p('isend()', tensor, dst, options, false, true) as Work;
}
/** irecv(tensor, src): recv without blocking; returns a Work to wait on. */
export function irecv(tensor: Tensor, src: number, options: { group?: ProcessGroup | null; tag?: number } = {}): Work {
  return p2p('irecv()', tensor, src, options, true, true) as Work;
}
function p2p(fn: string, tensor: Tensor, peer: number, options: { group?: ProcessGroup | null; tag?: number }, isRecv: boolean, asyncOp: boolean): Work | void {
  checkOptions(fn, options, ['group', 'tag']);
  const g = groupOf(fn, options.group);
  const id = tensorArg(fn, 'tensor', tensor);
  const p = groupRankOf(fn, g, peer, isRecv ? 'src' : 'dst');
  if (p === g.rank) throw new TorchError(`${fn}: rank ${g.ranks[p]} cannot ${isRecv ? 'receive from' : 'send to'} itself`, 'ERR_TORCH_ARG');
  const tag = options.tag ?? 0;
  if (!Number.isInteger(tag)) argError(fn, 'tag', 'an integer', tag);
  return run(fn, g, asyncOp, () => dist.pgP2P(g._h, id, p, tag, isRecv));
}

/** barrier(): returns when every rank of the group has called it. */
export function barrier(options: CollectiveOptions & { timeout?: number } = {}): Work | void {
  const fn = 'barrier()';
  checkOptions(fn, options, ['group', 'asyncOp', 'timeout']);
  const g = groupOf(fn, options.group);
  const timeout = options.timeout === undefined ? null : checkTimeout(fn, options.timeout);
  return run(fn, g, options.asyncOp, () => dist.pgBarrier(g._h, timeout));
}

// ---- objects ------------------------------------------------------------------------------------
// As Python's all_gather_object / broadcast_object_list: each object pickled (protocol 2, by
// torch-node's pickler: numbers, strings, booleans, null, arrays, Maps and plain objects — no
// tensors) into a uint8 tensor; sizes exchanged first, then the padded bytes. A Python rank reads
// these pickles, and torch-node reads Python's (through the same restricted unpickler as torch.load:
// nothing from a peer is ever executed). Dicts arrive as Maps, as from torch.load (`obj.get('k')`).
const noTensors = { tensorOf: () => null };

function toBytes(fn: string, obj: unknown): Uint8Array {
  try {
    return pickle(obj, noTensors);
  } catch (e) {
    if (e instanceof TorchError)
      e.message = `${fn}: ${e.message.replace(/^torch\.save: /, '')} (objects are pickled; tensors go through the tensor collectives)`;
    throw e;
  }
}
function fromBytes(fn: string, bytes: Uint8Array, rank: number): unknown {
  return markDicts(
    unpickle(bytes, {
      where: `${fn}: the object from rank ${rank}`,
      persistentLoad: () => {
        throw new TorchError(`${fn}: the object from rank ${rank} holds a tensor storage; send tensors with the tensor collectives`, 'ERR_TORCH_DIST');
      },
    }),
  );
}

/** all_gather_object(objectList, obj): objectList[i] becomes rank i's obj (fills the array in place). */
export function allGatherObject(objectList: unknown[], obj: unknown, options: { group?: ProcessGroup | null } = {}): void {
  const fn = 'allGatherObject()';
  checkOptions(fn, options, ['group']);
  const g = groupOf(fn, options.group);
  if (!Array.isArray(objectList) || objectList.length !== g.size) argError(fn, 'objectList', `an array of length ${g.size} (the group's size)`, objectList);
  const bytes = toBytes(fn, obj);
  tidy(() => {
    const mine = makeTensor([bytes.length], { dtype: 'int64' });
    const sizes = Array.from({ length: g.size }, () => zeros([1], { dtype: 'int64' }));
    allGather(sizes, mine, { group: g });
    const lens = sizes.map((s) => Number(s.item()));
    const max = Math.max(...lens);
    const input = zeros([max], { dtype: 'uint8' });
    if (bytes.length) input.narrow(0, 0, bytes.length).copy_(makeTensor(Array.from(bytes), { dtype: 'uint8' }));
    const outs = Array.from({ length: g.size }, () => empty([max], { dtype: 'uint8' }));
    allGather(outs, input, { group: g });
    outs.forEach((o, i) => {
      objectList[i] = fromBytes(fn, (o.toTypedArray() as Uint8Array).subarray(0, lens[i]), g.ranks[i]);
    });
  });
}

/** broadcast_object_list(objectList, src): every rank's objectList becomes src's (in place). */
export function broadcastObjectList(objectList: unknown[], options: { src?: number; group?: ProcessGroup | null } = {}): void {
  const fn = 'broadcastObjectList()';
  checkOptions(fn, options, ['src', 'group']);
  const g = groupOf(fn, options.group);
  if (!Array.isArray(objectList)) argError(fn, 'objectList', 'an array', objectList);
  const src = groupRankOf(fn, g, options.src ?? g.ranks[0], 'src');
  const isSrc = g.rank === src;
  tidy(() => {
    const encoded = isSrc ? objectList.map((o) => toBytes(fn, o)) : [];
    const sizes = isSrc
      ? makeTensor(
          encoded.map((b) => b.length),
          { dtype: 'int64' },
        )
      : zeros([objectList.length], { dtype: 'int64' });
    broadcast(sizes, { src: g.ranks[src], group: g });
    const lens = (sizes.tolist() as number[]).map(Number);
    const total = lens.reduce((a, b) => a + b, 0);
    const flat = isSrc
      ? makeTensor(
          encoded.flatMap((b) => Array.from(b)),
          { dtype: 'uint8' },
        )
      : empty([total], { dtype: 'uint8' });
    if (total) broadcast(flat, { src: g.ranks[src], group: g });
    if (!isSrc) {
      const all = flat.toTypedArray() as Uint8Array;
      let off = 0;
      lens.forEach((n, i) => {
        objectList[i] = fromBytes(fn, all.subarray(off, off + n), g.ranks[src]);
        off += n;
      });
    }
  });
}

/** @internal for DistributedSampler and fit(): the default group's rank and size, or null. */
export function defaultGroupInfo(): { rank: number; worldSize: number } | null {
  return world ? { rank: world.group.rank, worldSize: world.group.size } : null;
}
setDefaultGroupInfo(defaultGroupInfo);
