/**
 * torch.utils.data: the Dataset interface, TensorDataset, Subset, DataLoader and randomSplit.
 *
 * Randomness follows PyTorch exactly. A DataLoader given `seed` behaves as PyTorch's
 * `DataLoader(..., shuffle=True, generator=torch.Generator().manual_seed(seed))`: it owns a private
 * generator (PyTorch's CPU mt19937, reimplemented here so the global RNG is left alone), draws the
 * per-epoch base seed from it as PyTorch's iterator does, then a randperm (PyTorch's CPU algorithm),
 * so every epoch's order equals PyTorch's. Without `seed`, it draws from the global generator as
 * PyTorch does (one int64 per epoch for the worker base seed, one more for the sampler's seed when
 * shuffling), so after the same torch.manualSeed the order, and the global RNG stream after it, match
 * PyTorch's. randomSplit likewise: `{ seed }` = `generator=torch.Generator().manual_seed(seed)`,
 * none = the global generator.
 *
 * A DataLoader may take a `sampler` instead of shuffling (PyTorch's rule: not together with
 * shuffle: true): any iterable of dataset indices with a `length` — an array of indices, or a
 * DistributedSampler (./distributed-sampler), which gives each process its share of the dataset with
 * PyTorch's indices. The loader still draws its per-epoch base seed as PyTorch's does.
 *
 * Memory: batches are ordinary results, owned by the tidy() scope current when the loop asks for the
 * next batch (or by the GC backstop); `for (const b of loader) torch.tidy(() => ...)` does not free b —
 * dispose it, or wrap the whole loop body including iteration. TensorDataset keeps the tensors it was
 * given (not copies) and does not dispose them.
 * @module
 */
import { checkInt } from '../checks';
import type { Id } from '../binding';
import { empty, tensor } from '../creation';
import { dtypeCode } from '../dtype';
import { TorchError, argError, describe } from '../errors';
import { stack } from '../functions';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { callInplace, callOp } from '../ops/call';

// ---- PyTorch's CPU generator (at::mt19937) and randperm ------------------------------------------
/** @internal PyTorch's CPU generator: mt19937 seeded with the low 32 bits of the seed. */
export class CpuGenerator {
  private readonly mt = new Uint32Array(624);
  private idx = 624;
  constructor(seed: number | bigint) {
    const s = Number(BigInt.asUintN(32, BigInt(seed)));
    const mt = this.mt;
    mt[0] = s;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }
  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.idx = 0;
  }
  /** generator->random(): one 32-bit draw. */
  random(): number {
    if (this.idx >= 624) this.twist();
    let y = this.mt[this.idx++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
  /** generator->random64(): two draws, the first the high half. */
  random64(): bigint {
    const hi = BigInt(this.random());
    const lo = BigInt(this.random());
    return (hi << 32n) | lo;
  }
  /** torch.empty((), dtype=int64).random_(generator=g).item() */
  randomInt64(): bigint {
    return this.random64() % (1n << 63n);
  }
}

/** @internal torch.randperm(n, generator=g).tolist() with PyTorch's CPU algorithm. */
export function randpermWith(n: number, g: CpuGenerator): number[] {
  const r = Array.from({ length: n }, (_, i) => i);
  const small = n < Math.floor(0xffffffff / 20);
  for (let i = 0; i < n - 1; i++) {
    const z = small ? g.random() % (n - i) : Number(g.random64() % BigInt(n - i));
    const t = r[i];
    r[i] = r[i + z];
    r[i + z] = t;
  }
  return r;
}

/** An int64 draw from the global generator (torch.empty((), dtype=int64).random_().item()). */
function globalInt64(): bigint {
  return tidy(() => {
    const t = empty([], { dtype: 'int64' });
    callInplace('random_', t._h as Id, null);
    return (t.toTypedArray() as BigInt64Array)[0];
  });
}

/** torch.randperm(n) from the global generator. */
function globalRandperm(n: number): number[] {
  return tidy(() => {
    const t = callOp('randperm', n, dtypeCode('int64'), null, null);
    return Array.from(t.toTypedArray() as BigInt64Array, Number);
  });
}

function checkSeed(fn: string, seed: unknown): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) argError(fn, 'seed', 'a non-negative integer', seed);
  return seed as number;
}

// ---- datasets ------------------------------------------------------------------------------------
/** A map-style dataset: `length` items, `get(i)` for 0 <= i < length. */
export interface Dataset<T = unknown> {
  /** The number of items (Python's `__len__`). */
  readonly length: number;
  /** Item `index`, 0 <= index < length (Python's `__getitem__`). */
  get(index: number): T;
}

function checkIndex(fn: string, i: unknown, n: number): number {
  if (!Number.isInteger(i)) argError(fn, 'index', 'an integer', i);
  let k = i as number;
  if (k < 0) k += n;
  if (k < 0 || k >= n) throw new TorchError(`${fn}: index ${i} is out of range for a dataset of length ${n}`, 'ERR_TORCH_INDEX');
  return k;
}

/** torch.utils.data.TensorDataset: item i is the i-th row of every tensor. */
export class TensorDataset implements Dataset<Tensor[]> {
  /** The tensors given (not copies); all have the same first dimension. */
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    const fn = 'TensorDataset()';
    if (tensors.length === 0) throw new TorchError(`${fn}: at least one tensor is needed`, 'ERR_TORCH_ARG');
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) argError(fn, `tensors[${i}]`, 'a Tensor', t);
      if (t.dim() === 0) throw new TorchError(`${fn}: tensors[${i}] is 0-dimensional; every tensor needs a first (sample) dimension`, 'ERR_TORCH_ARG');
    });
    const sizes = tensors.map((t) => t.size(0));
    if (!sizes.every((s) => s === sizes[0])) {
      throw new TorchError(`${fn}: size mismatch between tensors: first dimensions are ${sizes.join(', ')}`, 'ERR_TORCH_ARG');
    }
    this.tensors = tensors;
  }
  /** The number of rows (the tensors' first dimension). */
  get length(): number {
    return this.tensors[0].size(0);
  }
  /** [t0[index], t1[index], ...]: row `index` of every tensor (negative counts from the end). */
  get(index: number): Tensor[] {
    const i = checkIndex('TensorDataset.get()', index, this.length);
    return this.tensors.map((t) => t.select(0, i));
  }
}

/** torch.utils.data.Subset: the items of `dataset` at `indices`, in that order. */
export class Subset<T = unknown> implements Dataset<T> {
  constructor(
    /** The whole dataset. */
    readonly dataset: Dataset<T>,
    /** The indices of the dataset's items in the subset, in order. */
    readonly indices: number[],
  ) {
    const fn = 'Subset()';
    checkDataset(fn, dataset);
    if (!Array.isArray(indices) || !indices.every((x) => Number.isInteger(x))) argError(fn, 'indices', 'an array of integers', indices);
  }
  /** The number of indices. */
  get length(): number {
    return this.indices.length;
  }
  /** The dataset's item at indices[index]. */
  get(index: number): T {
    return this.dataset.get(this.indices[checkIndex('Subset.get()', index, this.indices.length)]);
  }
}

function checkDataset(fn: string, d: unknown): void {
  const ok = d != null && typeof d === 'object' && Number.isInteger((d as any).length) && (d as any).length >= 0 && typeof (d as any).get === 'function';
  if (!ok) argError(fn, 'dataset', 'a Dataset (an object with an integer `length` and a `get(i)` method)', d);
}

/**
 * torch.utils.data.random_split: `lengths` as counts summing to the dataset's length, or fractions
 * summing to 1 (floors, then the remainder handed out one by one from the first split, as PyTorch).
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: number[], options: { seed?: number } = {}): Subset<T>[] {
  const fn = 'randomSplit()';
  checkDataset(fn, dataset);
  if (!Array.isArray(lengths) || lengths.length === 0 || !lengths.every((x) => typeof x === 'number' && x >= 0)) {
    argError(fn, 'lengths', 'a non-empty array of non-negative numbers', lengths);
  }
  const seed = checkSeed(fn, options?.seed);
  const n = dataset.length;
  let counts = lengths.slice();
  const total = lengths.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) <= 1e-9 && total <= 1 + 1e-9 && !lengths.every(Number.isInteger)) {
    counts = lengths.map((f) => Math.floor(n * f));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] += 1;
  } else if (!lengths.every(Number.isInteger)) {
    argError(fn, 'lengths', 'integer counts, or fractions summing to 1', lengths);
  }
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum !== n) throw new TorchError(`${fn}: sum of input lengths (${sum}) does not equal the length of the input dataset (${n})`, 'ERR_TORCH_ARG');
  const perm = seed === undefined ? globalRandperm(n) : randpermWith(n, new CpuGenerator(seed));
  const out: Subset<T>[] = [];
  let offset = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.slice(offset, offset + c)));
    offset += c;
  }
  return out;
}

// ---- collation -----------------------------------------------------------------------------------
/**
 * torch.utils.data.default_collate: tensors are stacked; numbers become an int64 tensor when all are
 * integers, else float64 (Python's float, as PyTorch); booleans a bool tensor; strings stay an array;
 * arrays (tuples) and plain objects (dicts) are collated field by field.
 */
export function defaultCollate(batch: unknown[]): any {
  const fn = 'defaultCollate()';
  if (!Array.isArray(batch) || batch.length === 0) argError(fn, 'batch', 'a non-empty array of samples', batch);
  const elem = batch[0];
  if (elem instanceof Tensor) {
    batch.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new TorchError(`${fn}: sample ${i} is ${describe(x)} where sample 0 is a Tensor`, 'ERR_TORCH_ARG');
    });
    return stack(batch as Tensor[], 0);
  }
  if (typeof elem === 'number') {
    if (!batch.every((x) => typeof x === 'number')) throw new TorchError(`${fn}: samples mix numbers and other types`, 'ERR_TORCH_ARG');
    const ints = (batch as number[]).every(Number.isInteger);
    return tensor(batch as number[], { dtype: ints ? 'int64' : 'float64' });
  }
  if (typeof elem === 'boolean') return tensor(batch as boolean[], { dtype: 'bool' });
  if (typeof elem === 'string') return batch.slice();
  if (Array.isArray(elem)) {
    const len = elem.length;
    if (!batch.every((x) => Array.isArray(x) && x.length === len)) {
      throw new TorchError(`${fn}: each element in list of batch should be of equal size`, 'ERR_TORCH_ARG');
    }
    return elem.map((_, k) => defaultCollate(batch.map((x) => (x as unknown[])[k])));
  }
  if (elem !== null && typeof elem === 'object' && Object.getPrototypeOf(elem) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(elem)) out[key] = defaultCollate(batch.map((x) => (x as any)[key]));
    return out;
  }
  throw new TorchError(`${fn}: a batch must contain tensors, numbers, booleans, strings, arrays or plain objects; found ${describe(elem)}`, 'ERR_TORCH_ARG');
}

// ---- DataLoader ------------------------------------------------------------------------------------
export { DistributedSampler } from './distributed-sampler';
export type { DistributedSamplerOptions } from './distributed-sampler';

/**
 * torch.utils.data.Sampler: the dataset indices of one epoch, in order (iterated again each epoch),
 * and how many there are. An array of indices is one; so is a DistributedSampler. A `setEpoch(epoch)`
 * method, if it has one, is called by fit() before each epoch.
 */
export interface Sampler extends Iterable<number> {
  /** The number of indices per epoch. */
  readonly length: number;
  /** Called by fit() before each epoch, so a shuffling sampler can reshuffle. */
  setEpoch?(epoch: number): void;
}

/** The keyword arguments of PyTorch's `torch.utils.data.DataLoader` (camelCase). */
export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Reshuffle the items every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Turns an array of samples into a batch; defaultCollate by default. */
  collate?: (samples: T[]) => B;
  /** Seeds the loader's own generator (= PyTorch's generator=torch.Generator().manual_seed(seed)). */
  seed?: number;
  /** The indices to load, in order (e.g. a DistributedSampler); not with shuffle: true. */
  sampler?: Sampler;
}

/** torch.utils.data.DataLoader (single process): `for (const batch of loader)`; `length` batches. */
export class DataLoader<T = unknown, B = any> implements Iterable<B> {
  /** The dataset batches are drawn from. */
  readonly dataset: Dataset<T>;
  /** Items per batch. */
  readonly batchSize: number;
  /** Whether the items are reshuffled every epoch. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is dropped. */
  readonly dropLast: boolean;
  /** The function that turns samples into a batch. */
  readonly collate: (samples: T[]) => B;
  /** The seed of the loader's own generator, or undefined (the global generator). */
  readonly seed: number | undefined;
  /** The sampler given, if any (PyTorch's loader.sampler when it is not a default one). */
  readonly sampler: Sampler | undefined;
  private readonly generator: CpuGenerator | null;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    const fn = 'DataLoader()';
    checkDataset(fn, dataset);
    if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ batchSize, shuffle, dropLast, collate, seed, sampler }', options);
    const batchSize = options.batchSize ?? 1;
    checkInt(fn, 'batchSize', batchSize, 1);
    if (options.collate !== undefined && typeof options.collate !== 'function') argError(fn, 'collate', 'a function', options.collate);
    for (const k of ['shuffle', 'dropLast'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') argError(fn, k, 'a boolean', options[k]);
    }
    const sampler = options.sampler;
    if (sampler !== undefined) {
      const ok =
        sampler !== null &&
        typeof sampler === 'object' &&
        typeof (sampler as any)[Symbol.iterator] === 'function' &&
        Number.isSafeInteger(sampler.length) &&
        sampler.length >= 0;
      if (!ok) argError(fn, 'sampler', 'a Sampler (an iterable of indices with a non-negative integer `length`, e.g. a DistributedSampler)', sampler);
      if (options.shuffle === true)
        throw new TorchError(
          `${fn}: sampler option is mutually exclusive with shuffle; the sampler decides the order (DistributedSampler shuffles by default)`,
          'ERR_TORCH_ARG',
        );
    }
    this.sampler = sampler;
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.collate = options.collate ?? (defaultCollate as (s: T[]) => B);
    this.seed = checkSeed(fn, options.seed);
    this.generator = this.seed === undefined ? null : new CpuGenerator(this.seed);
  }

  /** The number of batches per epoch. */
  get length(): number {
    const n = this.sampler ? this.sampler.length : this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The given sampler, else RandomSampler / SequentialSampler, lazily, drawing as PyTorch's do. */
  private *indices(g: CpuGenerator | null): Generator<number> {
    if (this.sampler) {
      for (const i of this.sampler) {
        if (!Number.isSafeInteger(i)) throw new TorchError(`DataLoader: the sampler yielded ${describe(i)}, not an integer index`, 'ERR_TORCH_ARG');
        yield i;
      }
      return;
    }
    const n = this.dataset.length;
    if (!this.shuffle) {
      for (let i = 0; i < n; i++) yield i;
      return;
    }
    const gen = g ?? new CpuGenerator(globalInt64());
    if (n === 0) return;
    yield* randpermWith(n, gen);
    // PyTorch's RandomSampler then draws randperm(n)[:num_samples % n] (empty, but it consumes the
    // generator) once the whole permutation has been taken.
    randpermWith(n, gen);
  }

  /** One epoch: the batches in order (a new order each epoch when shuffling). */
  *[Symbol.iterator](): Iterator<B> {
    const g = this.generator;
    // _BaseDataLoaderIter draws a base seed (for workers) every epoch, shuffled or not.
    if (g) g.randomInt64();
    else globalInt64();
    const it = this.indices(g);
    const bs = this.batchSize;
    for (;;) {
      // BatchSampler: islice(bs) without dropLast; zip(*[it] * bs) with it.
      const idx: number[] = [];
      while (idx.length < bs) {
        const r = it.next();
        if (r.done) break;
        idx.push(r.value);
      }
      if (idx.length === 0 || (this.dropLast && idx.length < bs)) return;
      yield tidy(() => this.collate(idx.map((i) => this.dataset.get(i))));
    }
  }
}
