/**
 * torch.utils.data.DistributedSampler: each of `numReplicas` processes takes its `rank`'s share of a
 * dataset, with PyTorch's indices exactly — the same permutation (torch.randperm with a generator
 * seeded `seed + epoch`, PyTorch's CPU mt19937 and algorithm reimplemented in ./data), the same
 * padding (indices repeated from the start so every rank gets `numSamples`) or truncation
 * (`dropLast`), then `indices[rank : totalSize : numReplicas]`. It draws nothing from the global
 * generator and makes no tensors.
 *
 * Without `numReplicas` / `rank` the values come from the default process group, as PyTorch's
 * dist.get_world_size() / dist.get_rank(): from the lookup lib/distributed.ts registers at load with
 * setDefaultGroupInfo() (`{ rank, worldSize }` while a group is initialized, null otherwise); with
 * no initialized group it throws, asking for `{ numReplicas, rank }`.
 */
import { TorchError, argError, checkOptions, describe } from '../errors';
import { CpuGenerator, randpermWith } from './data';

/** The keyword arguments of PyTorch's `torch.utils.data.DistributedSampler` (camelCase). */
export interface DistributedSamplerOptions {
  /** The number of processes (PyTorch's num_replicas); the default group's world size by default. */
  numReplicas?: number;
  /** This process's rank in [0, numReplicas); the default group's rank by default. */
  rank?: number;
  /** Shuffle with a generator seeded `seed + epoch` (true by default, as PyTorch). */
  shuffle?: boolean;
  /** The same on every rank (0 by default). */
  seed?: number;
  /** Drop the tail so every rank gets the same number of samples, instead of padding by repetition. */
  dropLast?: boolean;
}

/** What the default process group says; null while none is initialized. */
export type DefaultGroupInfo = { rank: number; worldSize: number } | null;

let groupLookup: (() => DefaultGroupInfo) | null = null;

/**
 * @internal For lib/distributed.ts: registers how DistributedSampler finds the default process
 * group's rank and world size (null: unregister). The function returns null while no group is
 * initialized.
 */
export function setDefaultGroupInfo(lookup: (() => DefaultGroupInfo) | null): void {
  if (lookup !== null && typeof lookup !== 'function') argError('setDefaultGroupInfo()', 'lookup', 'a function or null', lookup);
  groupLookup = lookup;
}

function defaultGroup(): DefaultGroupInfo {
  return groupLookup ? groupLookup() : null;
}

const KNOWN = ['numReplicas', 'rank', 'shuffle', 'seed', 'dropLast'];

/**
 * torch.utils.data.DistributedSampler: `new DistributedSampler(dataset, { numReplicas, rank })`,
 * handed to `new DataLoader(dataset, { sampler, batchSize })`; call `setEpoch(epoch)` before each
 * epoch (fit() does it for its trainLoader) so the order changes between epochs.
 */
export class DistributedSampler implements Iterable<number> {
  /** The dataset sampled (only its length is read). */
  readonly dataset: {
    /** The number of items. */
    readonly length: number;
  };
  /** The number of processes sharing the dataset. */
  readonly numReplicas: number;
  /** This process's rank in [0, numReplicas). */
  readonly rank: number;
  /** Whether the order is a permutation seeded `seed + epoch`. */
  readonly shuffle: boolean;
  /** The shuffle's base seed, the same on every rank. */
  readonly seed: number;
  /** Whether the tail is dropped rather than padded by repetition. */
  readonly dropLast: boolean;
  /** Indices per rank per epoch (PyTorch's num_samples). */
  readonly numSamples: number;
  /** numSamples * numReplicas. */
  readonly totalSize: number;
  /** The epoch the next iteration shuffles for (setEpoch). */
  epoch = 0;

  constructor(dataset: { readonly length: number }, options: DistributedSamplerOptions = {}) {
    const fn = 'DistributedSampler()';
    if (dataset == null || (typeof dataset !== 'object' && typeof dataset !== 'function') || !isCount(dataset.length)) {
      argError(fn, 'dataset', 'a Dataset (an object with a non-negative integer `length`)', dataset);
    }
    if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ numReplicas, rank, shuffle, seed, dropLast }', options);
    checkOptions(fn, options, KNOWN);
    const o = options;
    if (o.numReplicas !== undefined && !(Number.isSafeInteger(o.numReplicas) && o.numReplicas >= 1))
      argError(fn, 'numReplicas', 'a positive integer', o.numReplicas);
    if (o.rank !== undefined && !Number.isSafeInteger(o.rank)) argError(fn, 'rank', 'an integer', o.rank);
    for (const k of ['shuffle', 'dropLast'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'boolean') argError(fn, k, 'a boolean', o[k]);
    }
    if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) argError(fn, 'seed', 'an integer', o.seed);

    let numReplicas = o.numReplicas;
    let rank = o.rank;
    if (numReplicas === undefined || rank === undefined) {
      const g = defaultGroup();
      if (!g) {
        const missing = [numReplicas === undefined && 'numReplicas', rank === undefined && 'rank'].filter(Boolean).join(' and ');
        throw new TorchError(
          `${fn}: ${missing} not given and the default process group has not been initialized; ` +
            "pass { numReplicas, rank } (e.g. the world size and this process's rank), or call torch.distributed.initProcessGroup() first",
          'ERR_TORCH_ARG',
        );
      }
      numReplicas ??= g.worldSize;
      rank ??= g.rank;
      if (!(Number.isSafeInteger(numReplicas) && numReplicas >= 1)) {
        throw new TorchError(`${fn}: the default process group gave a world size of ${describe(numReplicas)}`, 'ERR_TORCH_ARG');
      }
      if (!Number.isSafeInteger(rank)) throw new TorchError(`${fn}: the default process group gave a rank of ${describe(rank)}`, 'ERR_TORCH_ARG');
    }
    if (rank >= numReplicas || rank < 0) {
      throw new TorchError(`${fn}: Invalid rank ${rank}, rank should be in the interval [0, ${numReplicas - 1}]`, 'ERR_TORCH_ARG');
    }
    this.dataset = dataset;
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = o.shuffle ?? true;
    this.seed = o.seed ?? 0;
    this.dropLast = o.dropLast ?? false;
    const n = dataset.length;
    // PyTorch: ceil((n - R) / R) when dropping an uneven tail (0 when n < R), else ceil(n / R).
    this.numSamples = this.dropLast && n % numReplicas !== 0 ? Math.max(0, Math.ceil((n - numReplicas) / numReplicas)) : Math.ceil(n / numReplicas);
    this.totalSize = this.numSamples * numReplicas;
  }

  /** The number of indices one epoch yields on this rank (PyTorch's len(sampler)). */
  get length(): number {
    return this.numSamples;
  }

  /** Sets the epoch the next iteration shuffles for; call it before each epoch, with the same value on every rank. */
  setEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch)) argError('DistributedSampler.setEpoch()', 'epoch', 'an integer', epoch);
    this.epoch = epoch;
  }

  /** This rank's indices for the current epoch, in order. */
  indices(): number[] {
    const fn = 'DistributedSampler';
    const n = this.dataset.length;
    if (!isCount(n)) throw new TorchError(`${fn}: the dataset's length became ${describe(n)}`, 'ERR_TORCH_ARG');
    let indices: number[];
    if (this.shuffle) {
      // torch.Generator().manual_seed(seed + epoch): negative seeds wrap to uint64, as PyTorch.
      indices = randpermWith(n, new CpuGenerator(BigInt(this.seed) + BigInt(this.epoch)));
    } else {
      indices = Array.from({ length: n }, (_, i) => i);
    }
    const total = this.totalSize;
    if (!this.dropLast) {
      const padding = total - indices.length;
      if (padding <= indices.length) {
        // A negative padding (the dataset grew) slices from the end, as Python's indices[:padding] does.
        indices = indices.concat(indices.slice(0, padding));
      } else if (indices.length > 0) {
        const pad: number[] = [];
        for (let i = 0; i < padding; i++) pad.push(indices[i % indices.length]);
        indices = indices.concat(pad);
      }
    } else {
      indices = indices.slice(0, total);
    }
    if (indices.length !== total) {
      throw new TorchError(
        `${fn}: number of indices (${indices.length}) does not match totalSize (${total}); the dataset's length changed from when the sampler was made`,
        'ERR_TORCH_ARG',
      );
    }
    const out: number[] = [];
    for (let i = this.rank; i < total; i += this.numReplicas) out.push(indices[i]);
    return out;
  }

  /** This rank's indices for the current epoch. */
  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}
