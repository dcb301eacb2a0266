/**
 * fit() callbacks: the hooks (Keras' names, camelCase), EarlyStopping and ModelCheckpoint.
 * Epoch arguments are 0-based indexes, as in `for epoch in range(epochs)`; printed epochs, file-name
 * templates and the `epoch` saved in a checkpoint count completed epochs (1-based), so
 * `fit({ initialEpoch: loadCheckpoint(...).epoch })` resumes with the next one.
 */
import { checkBool } from '../checks';
import { TorchError, argError, checkOptions } from '../errors';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import { keep, tidy } from '../scope';
import { markFloat, save } from '../serialization/torch-file';
import type { Tensor } from '../tensor';
import { saveCheckpoint, type Stateful } from './checkpoint';

/** One epoch's metrics: loss, accuracy..., valLoss, valAccuracy..., lr. */
export type Logs = Record<string, number>;

/** Every metric per epoch, by name; `epoch` holds the 1-based epoch numbers. */
export type History = Record<string, number[]>;

/** What callbacks see: the training run, and `stopTraining` to end it after this epoch. */
export interface FitContext {
  /** The model being trained. */
  readonly model: Module;
  /** The optimizer stepping it. */
  readonly optimizer: Optimizer;
  /** fit()'s scheduler, if one was given. */
  readonly scheduler: Stateful | undefined;
  /** The total number of epochs asked for. */
  readonly epochs: number;
  /** The metrics of the epochs completed so far. */
  readonly history: History;
  /** Set to true (in onEpochEnd or onBatchEnd) to stop after the current epoch. */
  stopTraining: boolean;
  /**
   * With a DistributedDataParallel model: this process's rank and the group's size (else 0 and 1).
   * Epoch logs are averaged over the ranks before callbacks see them, a stop on any rank stops every
   * rank, and ModelCheckpoint writes on rank 0 only.
   */
  readonly rank?: number;
  /** The number of data-parallel ranks (1 without DistributedDataParallel). */
  readonly worldSize?: number;
}

/** fit()'s hooks; implement any of them (a plain object works too). */
export interface Callback {
  /** Before the first epoch. */
  onTrainBegin?(ctx: FitContext): void;
  /** Before each epoch (`epoch` is 0-based). */
  onEpochBegin?(epoch: number, ctx: FitContext): void;
  /** After each optimizer step; logs has this batch's `loss` and `size`. */
  onBatchEnd?(batch: number, logs: Logs, ctx: FitContext): void;
  /** After each epoch, with its metrics (averaged over the epoch, validation included). */
  onEpochEnd?(epoch: number, logs: Logs, ctx: FitContext): void;
  /** After the last epoch (also when a callback stopped training). */
  onTrainEnd?(ctx: FitContext): void;
}

/** Whether the monitored metric should decrease (`'min'`), increase (`'max'`), or `'auto'`: max for names containing "acc", else min. */
export type Mode = 'min' | 'max' | 'auto';

/** Tracks the best value of one monitored metric ('auto': max for accuracies, min otherwise). */
class Monitor {
  readonly name: string;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  best: number;

  constructor(fn: string, monitor: unknown, mode: unknown, minDelta: unknown) {
    if (typeof monitor !== 'string' || !monitor) argError(fn, 'monitor', "a metric name such as 'valLoss'", monitor);
    if (mode !== 'min' && mode !== 'max' && mode !== 'auto') argError(fn, 'mode', "'min', 'max' or 'auto'", mode);
    if (typeof minDelta !== 'number' || !(minDelta >= 0)) argError(fn, 'minDelta', 'a non-negative number', minDelta);
    this.name = monitor;
    this.mode = mode === 'auto' ? (/acc/i.test(monitor) ? 'max' : 'min') : mode;
    this.minDelta = minDelta;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** The monitored value from this epoch's logs; a TorchError naming the metrics there if absent. */
  value(fn: string, logs: Logs): number {
    const v = logs[this.name];
    if (typeof v !== 'number') {
      throw new TorchError(
        `${fn}: monitor '${this.name}' is not among this epoch's metrics (${Object.keys(logs).join(', ')}); ` +
          (this.name.startsWith('val') ? 'pass fit() a valLoader, or monitor a training metric' : 'pick one of those'),
        'ERR_TORCH_ARG',
      );
    }
    return v;
  }

  /** Keras' and Lightning's rule: better by more than minDelta. NaN never improves. */
  improved(v: number): boolean {
    return this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
  }

  reset(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }
}

/** The options of EarlyStopping (Keras' and Lightning's names, camelCase). */
export interface EarlyStoppingOptions {
  /** The metric to watch; 'valLoss' by default. */
  monitor?: string;
  /** Epochs without improvement before stopping; 3 by default. */
  patience?: number;
  /** The smallest change that counts as an improvement; 0 by default. */
  minDelta?: number;
  /** `'min'`, `'max'` or `'auto'` (default: max for accuracies, else min). */
  mode?: Mode;
  /** Put the best epoch's weights back when training ends; true by default (recipe 17: keep the best weights). */
  restoreBestWeights?: boolean;
}

/** Stops when the monitored metric has not improved for `patience` epochs, and keeps the best weights. */
export class EarlyStopping implements Callback {
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** Whether the best epoch's weights are put back when training ends. */
  readonly restoreBestWeights: boolean;
  private readonly monitor: Monitor;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The 0-based epoch the best value was seen in, or -1. */
  bestEpoch = -1;
  /** The 0-based epoch training was stopped after, or -1 if it was not. */
  stoppedEpoch = -1;
  private bestWeights: Map<string, Tensor> | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const fn = 'EarlyStopping()';
    if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ monitor, patience, minDelta, mode, restoreBestWeights }', options);
    checkOptions(fn, options, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights']);
    this.monitor = new Monitor(fn, options.monitor ?? 'valLoss', options.mode ?? 'auto', options.minDelta ?? 0);
    const patience = options.patience ?? 3;
    if (!Number.isInteger(patience) || patience < 0) argError(fn, 'patience', 'a non-negative integer', patience);
    this.patience = patience;
    const restore = options.restoreBestWeights ?? true;
    checkBool(fn, 'restoreBestWeights', restore);
    this.restoreBestWeights = restore;
  }

  /** The best monitored value so far. */
  get best(): number {
    return this.monitor.best;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.monitor.reset();
    this.dropWeights();
  }

  onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): void {
    const v = this.monitor.value('EarlyStopping', logs);
    if (this.monitor.improved(v)) {
      this.monitor.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        this.dropWeights();
        this.bestWeights = tidy(() => {
          const copy = new Map<string, Tensor>();
          for (const [k, t] of ctx.model.stateDict()) copy.set(k, keep(t.clone()));
          return copy;
        });
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = epoch;
      ctx.stopTraining = true;
    }
  }

  onTrainEnd(ctx: FitContext): void {
    try {
      if (this.bestWeights) {
        ctx.model.loadStateDict(this.bestWeights);
      }
    } finally {
      this.dropWeights();
    }
  }

  private dropWeights(): void {
    if (this.bestWeights) for (const t of this.bestWeights.values()) t.dispose();
    this.bestWeights = null;
  }
}

/** The options of ModelCheckpoint. */
export interface ModelCheckpointOptions {
  /** The metric that decides "best"; 'valLoss' by default (used with saveBestOnly). */
  monitor?: string;
  /** `'min'`, `'max'` or `'auto'` (default: max for accuracies, else min). */
  mode?: Mode;
  /** Save only when the monitored metric improves (a "best" checkpoint); false: every epoch ("last"). */
  saveBestOnly?: boolean;
  /** Save model.stateDict() alone (torch.save) instead of a full checkpoint (saveCheckpoint). */
  weightsOnly?: boolean;
}

/**
 * Saves after each epoch, atomically: a full checkpoint by default (model, optimizer, scheduler,
 * epoch, loss, RNG state and the history so far: enough to resume exactly), or the weights alone.
 * `filepath` may hold `{epoch}` (1-based) and any metric name, e.g. 'ckpt-{epoch}-{valLoss}.pt'.
 * Resuming is exact when shuffles draw from the global RNG (a DataLoader without `seed`), which the
 * checkpoint restores; a loader with its own seed starts its sequence again, as in PyTorch.
 * `new ModelCheckpoint('best.pt', { saveBestOnly: true })`, `new ModelCheckpoint('last.pt')`.
 */
export class ModelCheckpoint implements Callback {
  /** The file to write, possibly a template with `{epoch}` and metric names. */
  readonly filepath: string;
  /** Whether only improvements of the monitored metric are saved. */
  readonly saveBestOnly: boolean;
  /** Whether only model.stateDict() is saved. */
  readonly weightsOnly: boolean;
  private readonly monitor: Monitor;
  /** The files written, in order (a template gives one per epoch). */
  readonly saved: string[] = [];

  constructor(filepath: string, options: ModelCheckpointOptions = {}) {
    const fn = 'ModelCheckpoint()';
    if (typeof filepath !== 'string' || !filepath) argError(fn, 'filepath', 'a file path', filepath);
    if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ monitor, mode, saveBestOnly, weightsOnly }', options);
    checkOptions(fn, options, ['monitor', 'mode', 'saveBestOnly', 'weightsOnly']);
    this.filepath = filepath;
    this.monitor = new Monitor(fn, options.monitor ?? 'valLoss', options.mode ?? 'auto', 0);
    for (const k of ['saveBestOnly', 'weightsOnly'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') argError(fn, k, 'a boolean', options[k]);
    }
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.weightsOnly = options.weightsOnly ?? false;
  }

  /** The best monitored value so far (saveBestOnly). */
  get best(): number {
    return this.monitor.best;
  }

  onTrainBegin(): void {
    this.monitor.reset();
  }

  onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): void {
    if ((ctx.rank ?? 0) !== 0) return; // data-parallel: rank 0 writes, as the usual recipe
    if (this.saveBestOnly) {
      const v = this.monitor.value('ModelCheckpoint', logs);
      if (!this.monitor.improved(v)) return;
      this.monitor.best = v;
    }
    const file = this.filepath.replace(/\{(\w+)\}/g, (whole, name: string) => {
      if (name === 'epoch') return String(epoch + 1);
      if (typeof logs[name] === 'number') return logs[name].toFixed(4);
      throw new TorchError(
        `ModelCheckpoint: '${whole}' in '${this.filepath}' is neither {epoch} nor one of this epoch's metrics (${Object.keys(logs).join(', ')})`,
        'ERR_TORCH_ARG',
      );
    });
    if (this.weightsOnly) {
      tidy(() => save(ctx.model.stateDict(), file));
    } else {
      saveCheckpoint(file, {
        model: ctx.model,
        optimizer: ctx.optimizer,
        scheduler: ctx.scheduler,
        epoch: epoch + 1,
        loss: logs.loss,
        history: historyForFile(ctx.history),
      });
    }
    this.saved.push(file);
  }
}

/** The history as a dict of float lists (integral values marked as Python floats; epoch stays int). */
function historyForFile(history: History): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [k, values] of Object.entries(history)) {
    const copy = [...values];
    if (k !== 'epoch') copy.forEach((v, i) => Number.isInteger(v) && markFloat(copy, i));
    out.set(k, copy);
  }
  return out;
}
