/**
 * Checkpoints in the layout PyTorch users write by hand (../shared/RECIPES.md 13):
 * {'epoch', 'model_state_dict', 'optimizer_state_dict', 'scheduler_state_dict', 'loss', 'rng_state',
 * ...extra}, saved atomically with torch.save — Python's torch.load reads it, and a checkpoint Python
 * wrote in that layout loads here. With the RNG state restored, resuming gives the same weights as
 * never stopping (dropout masks and unseeded shuffles continue where they were).
 */
import { TorchError, argError } from '../errors';
import { getRngState, setRngState } from '../functions';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import { load, save, type LoadOptions } from '../serialization/torch-file';
import { Tensor } from '../tensor';

/** Anything with PyTorch's stateDict()/loadStateDict() pair: optimizers, schedulers. */
export interface Stateful {
  /** The state to save. */
  stateDict(): unknown;
  /** Restores what stateDict() returned. */
  loadStateDict(sd: any): unknown;
}

/** What saveCheckpoint writes; any other key is saved as it is (an extra entry). */
export interface CheckpointParts {
  /** Saved as `model_state_dict`. */
  model?: Module;
  /** Saved as `optimizer_state_dict`. */
  optimizer?: Stateful;
  /** Saved as `scheduler_state_dict`. */
  scheduler?: Stateful;
  /** Saved as `epoch` (by convention the number of completed epochs). */
  epoch?: number;
  /** Saved as `loss` (a tensor as its value). */
  loss?: number | Tensor;
  [extra: string]: unknown;
}

const KEYS = { model: 'model_state_dict', optimizer: 'optimizer_state_dict', scheduler: 'scheduler_state_dict' } as const;

/** torch.save({epoch, model_state_dict, optimizer_state_dict, scheduler_state_dict, loss, rng_state, ...extra}, path), atomically. */
export function saveCheckpoint(path: string, parts: CheckpointParts): void {
  const fn = 'saveCheckpoint()';
  if (typeof path !== 'string') argError(fn, 'path', 'a file path', path);
  if (!parts || typeof parts !== 'object') argError(fn, 'parts', '{ model, optimizer, scheduler, epoch, loss, ... }', parts);
  tidy(() => {
    const ckpt = new Map<string, unknown>();
    const { model, optimizer, scheduler, epoch, loss, ...extra } = parts;
    if (epoch !== undefined) ckpt.set('epoch', epoch);
    if (model) ckpt.set(KEYS.model, model.stateDict());
    if (optimizer) ckpt.set(KEYS.optimizer, optimizer.stateDict());
    if (scheduler) ckpt.set(KEYS.scheduler, scheduler.stateDict());
    if (loss !== undefined) ckpt.set('loss', loss instanceof Tensor ? loss.item() : loss);
    ckpt.set('rng_state', getRngState());
    for (const [k, v] of Object.entries(extra)) ckpt.set(k, v);
    save(ckpt, path);
  });
}

/** What loadCheckpoint returns; the fields named in its `require` option are typed as present (and checked). */
export type LoadedCheckpoint<R extends 'epoch' | 'loss' = never> = {
  /** The checkpoint's `epoch`, if it has one. */
  epoch: number | undefined;
  /** The checkpoint's `loss`, if it has one. */
  loss: number | undefined;
  /** The checkpoint's other entries (tensors in it belong to the caller's scope). */
  extra: Map<string, unknown>;
} & { [K in R]: number };

/**
 * Loads a checkpoint into the given model / optimizer / scheduler (each strict) and restores the RNG
 * state (unless restoreRng is false). Every part asked for must be in the file; that is checked first.
 */
export function loadCheckpoint<R extends 'epoch' | 'loss' = never>(
  path: string,
  targets: {
    model?: Module;
    optimizer?: Stateful;
    scheduler?: Stateful;
    mapLocation?: LoadOptions['mapLocation'];
    strict?: boolean;
    restoreRng?: boolean;
    /** Entries that must be in the file (checked first): `{ require: ['epoch'] }` types `.epoch` as a number. */
    require?: R[];
  } = {},
): LoadedCheckpoint<R> {
  const fn = 'loadCheckpoint()';
  const ckpt = load(path, { mapLocation: targets.mapLocation });
  const consumed: unknown[] = [];
  let ok = false;
  try {
    if (!(ckpt instanceof Map)) throw new TorchError(`${fn}: ${path} holds ${typeof ckpt}, not a checkpoint dict`, 'ERR_TORCH_FILE');
    for (const k of targets.require ?? []) {
      if (k !== 'epoch' && k !== 'loss') argError(fn, 'require', "an array of 'epoch' and 'loss'", targets.require);
      if (!ckpt.has(k)) throw new TorchError(`${fn}: ${path} has no '${k}', which require names; its keys: ${[...ckpt.keys()].join(', ')}`, 'ERR_TORCH_FILE');
    }
    for (const part of ['model', 'optimizer', 'scheduler'] as const) {
      if (targets[part] && !ckpt.has(KEYS[part])) {
        throw new TorchError(`${fn}: ${path} has no '${KEYS[part]}' for the ${part} given; its keys: ${[...ckpt.keys()].join(', ')}`, 'ERR_TORCH_FILE');
      }
    }
    if (targets.model) targets.model.loadStateDict(ckpt.get(KEYS.model), { strict: targets.strict ?? true });
    if (targets.optimizer) targets.optimizer.loadStateDict(ckpt.get(KEYS.optimizer));
    if (targets.scheduler) targets.scheduler.loadStateDict(ckpt.get(KEYS.scheduler));
    if ((targets.restoreRng ?? true) && ckpt.get('rng_state') instanceof Tensor) setRngState(ckpt.get('rng_state'));
    const extra = new Map<string, unknown>();
    for (const [k, v] of ckpt) {
      if ([...Object.values(KEYS), 'epoch', 'loss', 'rng_state'].includes(k as string)) consumed.push(v);
      else extra.set(k as string, v);
    }
    const loss = ckpt.get('loss');
    ok = true;
    return { epoch: ckpt.get('epoch'), loss: loss instanceof Tensor ? (loss.item() as number) : loss, extra } as LoadedCheckpoint<R>;
  } finally {
    // What was loaded into the targets is a copy now; on failure, nothing of the file is kept.
    freeTensors(ok ? consumed : [ckpt]);
  }
}

function freeTensors(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof Tensor) v.dispose();
  else if (Array.isArray(v)) v.forEach((x) => freeTensors(x, seen));
  else if (v instanceof Map) v.forEach((x) => freeTensors(x, seen));
  else Object.values(v).forEach((x) => freeTensors(x, seen));
}
