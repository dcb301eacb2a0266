/**
 * fit(): the training loop PyTorch users write by hand (../shared/RECIPES.md 15–17), done once:
 * epochs over a train loader with optional validation, model.train()/eval() and no-grad validation,
 * loss and metrics averaged per sample, LR-scheduler stepping, callbacks (EarlyStopping,
 * ModelCheckpoint, your own), a progress bar on a TTY (one line per epoch otherwise and in CI), and the
 * history of every metric per epoch — which plotHistory() draws.
 *
 * A trainLoader whose `sampler` has setEpoch (a DataLoader with a DistributedSampler) gets
 * `sampler.setEpoch(epoch)` (0-based, counting from initialEpoch) at the start of every epoch, before
 * onEpochBegin, as the distributed recipe does by hand — so each epoch is shuffled differently and a
 * resumed run sees the orders an uninterrupted one would. The valLoader's sampler is left alone.
 *
 * Each batch runs in its own tidy() scope, so the batch, the output and the loss are freed after the
 * step: a loop of any length holds no more tensors than one step does.
 */
import { checkInt } from '../checks';
import { noGrad } from '../autograd';
import { targetDevice, type DeviceLike } from '../device';
import { TorchError, argError, checkOptions, describe } from '../errors';
import { Module } from '../nn/module';
import { DistributedDataParallel } from '../nn/parallel';
import { allReduce, ReduceOp } from '../distributed';
import { tensor as makeTensor } from '../creation';
import { Optimizer } from '../optim/optimizer';
import { LRScheduler, OneCycleLR, ReduceLROnPlateau } from '../optim/lr-scheduler';
import { tidy } from '../scope';
import { isFloatingPoint } from '../dtype';
import { Tensor } from '../tensor';
import type { Callback, FitContext, History, Logs } from './callbacks';
import { clipGradNorm_ } from './clip';
import { keepFrozenBatchNormEval } from './freeze';

/** A metric: a built-in name, or (output, target) => the batch's mean value (a number or a one-element tensor). */
export type Metric = 'accuracy' | 'binaryAccuracy' | ((output: any, target: any) => number | Tensor);

/** The options of fit(): what to train on, for how long, with what; Keras' fit() in PyTorch's terms. */
export interface FitOptions {
  /**
   * Yields [input, target] batches (a DataLoader over a TensorDataset does); input may be an array of tensors (model.call(...input)).
   * If it has a `sampler` with setEpoch (a DistributedSampler), setEpoch(epoch) is called before each epoch.
   */
  trainLoader: Iterable<unknown>;
  /** Validation batches, run in eval mode without gradients after each epoch; their metrics are named valLoss, valAccuracy, ... */
  valLoader?: Iterable<unknown>;
  /** The epoch to stop before (as Keras: with initialEpoch 5 and epochs 10, five more are run). */
  epochs: number;
  /** The optimizer (stepped after every batch). */
  optimizer: Optimizer;
  /** A loss module (new nn.CrossEntropyLoss()) or a function (output, target) => scalar tensor. */
  lossFn: Module | ((output: any, target: any) => Tensor);
  /** Stepped after every epoch (or every batch: schedulerInterval); ReduceLROnPlateau gets schedulerMonitor's value. */
  scheduler?: LRScheduler;
  /** 'batch' for OneCycleLR by default, else 'epoch'. */
  schedulerInterval?: 'epoch' | 'batch';
  /** The metric ReduceLROnPlateau steps on: 'valLoss' with a valLoader, else 'loss'. */
  schedulerMonitor?: string;
  /** ['accuracy'] or { name: metric }; 'accuracy' takes class-index targets, 'binaryAccuracy' logits against 0/1 targets. */
  metrics?: Metric[] | Record<string, Metric>;
  /** Hooks run at the start and end of training, each epoch and each batch (EarlyStopping, ModelCheckpoint, your own). */
  callbacks?: Callback[];
  /** Moves each batch there (the model is yours to move). */
  device?: DeviceLike;
  /** clipGradNorm_(parameters, value) before every optimizer step. */
  clipGradNorm?: number;
  /** 0-based epoch to start from, e.g. loadCheckpoint(...).epoch to resume. */
  initialEpoch?: number;
  /** The history so far (as a checkpoint saved by ModelCheckpoint holds it), to continue. */
  history?: History | Map<string, number[]>;
  /** BatchNorm layers whose parameters are all frozen stay in eval mode while training. */
  keepFrozenBatchNormEval?: boolean;
  /** 'auto': a progress bar on a TTY, one line per epoch otherwise and when CI is set. */
  verbose?: 'auto' | 'bar' | 'epoch' | 'none';
  /** Where progress goes; process.stdout by default. */
  output?: {
    /** Writes progress text. */
    write(s: string): unknown;
    /** Whether it is a terminal (a progress bar is drawn on one). */
    isTTY?: boolean;
  };
}

/** What fit() returns. */
export interface FitResult {
  /** Every metric per epoch (including those of a history passed in), and `epoch`: the 1-based epoch numbers. */
  history: History;
  /** Whether a callback stopped training before `epochs`. */
  stoppedEarly: boolean;
  /** The number of epochs this call ran. */
  epochsRun: number;
}

const KNOWN = [
  'trainLoader',
  'valLoader',
  'epochs',
  'optimizer',
  'lossFn',
  'scheduler',
  'schedulerInterval',
  'schedulerMonitor',
  'metrics',
  'callbacks',
  'device',
  'clipGradNorm',
  'initialEpoch',
  'history',
  'keepFrozenBatchNormEval',
  'verbose',
  'output',
];

/** Trains `model`; returns the history. `const { history } = fit(model, { trainLoader, valLoader, epochs, optimizer, lossFn })`. */
export function fit(model: Module, options: FitOptions): FitResult {
  const fn = 'fit()';
  if (!(model instanceof Module)) argError(fn, 'model', 'an nn.Module', model);
  if (typeof options !== 'object' || options === null) argError(fn, 'options', '{ trainLoader, epochs, optimizer, lossFn, ... }', options);
  checkOptions(fn, options, KNOWN);
  const o = options;
  checkIterable(fn, 'trainLoader', o.trainLoader);
  if (o.valLoader !== undefined) checkIterable(fn, 'valLoader', o.valLoader);
  if (!(o.optimizer instanceof Optimizer)) argError(fn, 'optimizer', 'a torch.optim optimizer', o.optimizer);
  if (!(o.lossFn instanceof Module) && typeof o.lossFn !== 'function')
    argError(fn, 'lossFn', 'a loss module or a function (output, target) => Tensor', o.lossFn);
  const initialEpoch = o.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) argError(fn, 'initialEpoch', 'a non-negative integer', initialEpoch);
  checkInt(fn, 'epochs', o.epochs, 1);
  if (o.epochs < initialEpoch) argError(fn, 'epochs', `at least initialEpoch (${initialEpoch}): epochs is the epoch to stop before`, o.epochs);
  if (o.scheduler !== undefined && !(o.scheduler instanceof LRScheduler)) argError(fn, 'scheduler', 'a torch.optim.lrScheduler scheduler', o.scheduler);
  if (o.scheduler && o.scheduler.optimizer !== o.optimizer)
    throw new TorchError(`${fn}: the scheduler was made for another optimizer than the one given`, 'ERR_TORCH_ARG');
  const interval = o.schedulerInterval ?? (o.scheduler instanceof OneCycleLR ? 'batch' : 'epoch');
  if (interval !== 'epoch' && interval !== 'batch') argError(fn, 'schedulerInterval', "'epoch' or 'batch'", interval);
  if (interval === 'batch' && o.scheduler instanceof ReduceLROnPlateau)
    argError(fn, 'schedulerInterval', "'epoch' for ReduceLROnPlateau (it steps on an epoch's metric)", interval);
  const schedulerMonitor = o.schedulerMonitor ?? (o.valLoader ? 'valLoss' : 'loss');
  if (typeof schedulerMonitor !== 'string') argError(fn, 'schedulerMonitor', 'a metric name', schedulerMonitor);
  if (o.clipGradNorm !== undefined && !(typeof o.clipGradNorm === 'number' && o.clipGradNorm > 0))
    argError(fn, 'clipGradNorm', 'a positive number', o.clipGradNorm);
  const callbacks = o.callbacks ?? [];
  if (!Array.isArray(callbacks) || !callbacks.every((c) => c && typeof c === 'object')) argError(fn, 'callbacks', 'an array of callback objects', callbacks);
  const metrics = normalizeMetrics(fn, o.metrics);
  const device = o.device === undefined ? undefined : targetDevice(fn, o.device);
  const verbose = o.verbose ?? 'auto';
  if (!['auto', 'bar', 'epoch', 'none'].includes(verbose)) argError(fn, 'verbose', "'auto', 'bar', 'epoch' or 'none'", verbose);
  const out = o.output ?? process.stdout;
  if (!out || typeof out.write !== 'function') argError(fn, 'output', 'a stream with write()', out);
  // Data-parallel: one voice (rank 0) prints, as torchrun jobs usually do.
  const group = model instanceof DistributedDataParallel ? model.processGroup : null;
  const rank = group?.rank ?? 0;
  const modeAsked = verbose === 'auto' ? (out.isTTY && !process.env.CI ? 'bar' : 'epoch') : verbose;
  const mode = rank === 0 ? modeAsked : 'none';

  const history: History = {};
  if (o.history !== undefined) {
    const entries = o.history instanceof Map ? [...o.history] : typeof o.history === 'object' && o.history ? Object.entries(o.history) : null;
    if (!entries?.every(([k, v]) => typeof k === 'string' && Array.isArray(v)))
      argError(fn, 'history', 'a history ({ metric: numbers[] } or a Map)', o.history);
    for (const [k, v] of entries as [string, number[]][]) history[k] = v.map(Number);
  }
  history.epoch ??= [];

  const ctx: FitContext = {
    model,
    optimizer: o.optimizer,
    scheduler: o.scheduler,
    epochs: o.epochs,
    history,
    stopTraining: false,
    rank,
    worldSize: group?.size ?? 1,
  };
  const params = o.optimizer.paramGroups.flatMap((g) => g.params);
  const step = { model, lossFn: o.lossFn, metrics, device };
  const progress = new Progress(mode, out, o.epochs);
  const wasTraining = model.training;
  let epochsRun = 0;
  let failed = true;
  call(callbacks, 'onTrainBegin', ctx);
  try {
    for (let epoch = initialEpoch; epoch < o.epochs && !ctx.stopTraining; epoch++) {
      setSamplerEpoch(o.trainLoader, epoch);
      call(callbacks, 'onEpochBegin', epoch, ctx);
      const started = performance.now();
      const lr = o.optimizer.paramGroups[0]?.lr;
      model.train();
      if (o.keepFrozenBatchNormEval) keepFrozenBatchNormEval(model);
      progress.epochBegin(epoch, lengthOf(o.trainLoader));
      const train = runEpoch(
        fn,
        'trainLoader',
        o.trainLoader,
        step,
        (loss) => {
          loss.backward();
          if (o.clipGradNorm !== undefined) clipGradNorm_(params, o.clipGradNorm).dispose();
          o.optimizer.step();
          if (interval === 'batch' && o.scheduler) o.scheduler.step();
        },
        o.optimizer,
        (batch, logs, mean) => {
          call(callbacks, 'onBatchEnd', batch, logs, ctx);
          progress.batch(batch, mean);
        },
      );
      const logs: Logs = { ...train };
      if (o.valLoader) {
        model.eval();
        const val = noGrad(() => runEpoch(fn, 'valLoader', o.valLoader!, step, null, null, null));
        for (const [k, v] of Object.entries(val)) logs['val' + k[0].toUpperCase() + k.slice(1)] = v;
      }
      if (typeof lr === 'number') logs.lr = lr;
      if (group && group.size > 1) averageLogs(logs, group);
      if (o.scheduler && interval === 'epoch') {
        if (o.scheduler instanceof ReduceLROnPlateau) {
          const v = logs[schedulerMonitor];
          if (typeof v !== 'number')
            throw new TorchError(
              `${fn}: schedulerMonitor '${schedulerMonitor}' is not among this epoch's metrics (${Object.keys(logs).join(', ')})`,
              'ERR_TORCH_ARG',
            );
          o.scheduler.step(v);
        } else {
          o.scheduler.step();
        }
      }
      history.epoch.push(epoch + 1);
      for (const [k, v] of Object.entries(logs)) (history[k] ??= []).push(v);
      epochsRun++;
      progress.epochEnd(logs, (performance.now() - started) / 1000);
      call(callbacks, 'onEpochEnd', epoch, logs, ctx);
      if (group && group.size > 1) ctx.stopTraining = anyRank(ctx.stopTraining, group);
    }
    failed = false;
  } finally {
    model.train(wasTraining);
    try {
      call(callbacks, 'onTrainEnd', ctx);
    } catch (e) {
      if (!failed) throw e; // the first error is the one to report
    }
  }
  return { history, stoppedEarly: ctx.stopTraining && initialEpoch + epochsRun < o.epochs, epochsRun };
}

/** Every rank's epoch logs averaged (float64), so callbacks decide alike on every rank. */
function averageLogs(logs: Logs, group: DistributedDataParallel['processGroup']): void {
  const keys = Object.keys(logs)
    .filter((k) => typeof logs[k] === 'number' && k !== 'lr')
    .sort();
  if (!keys.length) return;
  tidy(() => {
    const t = makeTensor(
      keys.map((k) => logs[k] as number),
      { dtype: 'float64' },
    );
    allReduce(t, { group });
    const avg = t.div(group.size).tolist() as number[];
    keys.forEach((k, i) => (logs[k] = avg[i]));
  });
}

/** A stop asked on any rank stops all of them (else the others would wait in the next all-reduce). */
function anyRank(flag: boolean, group: DistributedDataParallel['processGroup']): boolean {
  return tidy(() => {
    const t = makeTensor([flag ? 1 : 0], { dtype: 'int64' });
    allReduce(t, { op: ReduceOp.MAX, group });
    return Number(t.item()) > 0;
  });
}

interface StepParts {
  model: Module;
  lossFn: FitOptions['lossFn'];
  metrics: [string, (output: any, target: any) => number][];
  device: ReturnType<typeof targetDevice> | undefined;
}

/**
 * One pass over a loader; returns the per-sample means of the loss and the metrics. With `update`
 * (training), each batch zeroes the gradients, steps through update(loss) and reports onBatch.
 */
function runEpoch(
  fn: string,
  name: string,
  loader: Iterable<unknown>,
  s: StepParts,
  update: ((loss: Tensor) => void) | null,
  optimizer: Optimizer | null,
  onBatch: ((batch: number, logs: Logs, meanLoss: number) => void) | null,
): Logs {
  const it = loader[Symbol.iterator]();
  const sums: Record<string, number> = { loss: 0 };
  for (const [m] of s.metrics) sums[m] = 0;
  let count = 0;
  for (let batch = 0; ; batch++) {
    // The iterator runs inside the scope, so the batch it makes is freed with the step.
    const r = tidy(() => {
      const next = it.next();
      if (next.done) return null;
      const [inputs, target, n] = unpack(fn, name, batch, next.value, s.device);
      if (optimizer) optimizer.zeroGrad();
      const output = s.model.call(...inputs);
      const loss = s.lossFn instanceof Module ? s.lossFn.call(output, target) : s.lossFn(output, target);
      if (!(loss instanceof Tensor) || loss.numel() !== 1) {
        throw new TorchError(
          `${fn}: lossFn must return a one-element tensor, got ${loss instanceof Tensor ? `shape [${loss.shape.join(', ')}]` : describe(loss)}`,
          'ERR_TORCH_ARG',
        );
      }
      if (update) update(loss);
      const value = loss.item();
      sums.loss += value * n;
      if (s.metrics.length) {
        noGrad(() => {
          const detached = output instanceof Tensor ? output.detach() : output;
          for (const [m, f] of s.metrics) sums[m] += f(detached, target) * n;
        });
      }
      return { value, n };
    });
    if (!r) break;
    count += r.n;
    if (onBatch) onBatch(batch, { loss: r.value, size: r.n }, sums.loss / count);
  }
  if (count === 0) throw new TorchError(`${fn}: ${name} yielded no batches`, 'ERR_TORCH_ARG');
  const logs: Logs = {};
  for (const [k, v] of Object.entries(sums)) logs[k] = v / count;
  return logs;
}

/** [input, target] -> ([inputs...], target, batch size), moved to the device. */
function unpack(fn: string, name: string, batch: number, value: unknown, device: StepParts['device']): [unknown[], unknown, number] {
  if (!Array.isArray(value) || value.length < 2) {
    throw new TorchError(`${fn}: ${name} batch ${batch} must be [input, target], got ${describe(value)}`, 'ERR_TORCH_ARG');
  }
  const move = (t: unknown) => (device && t instanceof Tensor ? t.to(device) : t);
  const inputs = (Array.isArray(value[0]) ? value[0] : [value[0]]).map(move);
  const target = move(value[1]);
  const first = target instanceof Tensor && target.dim() > 0 ? target : inputs.find((t) => t instanceof Tensor && t.dim() > 0);
  if (!(first instanceof Tensor)) throw new TorchError(`${fn}: ${name} batch ${batch} holds no tensor with a batch dimension`, 'ERR_TORCH_ARG');
  return [inputs, target, first.shape[0]];
}

function normalizeMetrics(fn: string, metrics: FitOptions['metrics']): StepParts['metrics'] {
  if (metrics === undefined) return [];
  const entries: [string, Metric][] = Array.isArray(metrics)
    ? metrics.map((m, i) => [typeof m === 'string' ? m : (m as { name?: string }).name || `metric${i}`, m])
    : typeof metrics === 'object' && metrics
      ? Object.entries(metrics)
      : argError(fn, 'metrics', "['accuracy'] or { name: metric }", metrics);
  return entries.map(([name, m]) => {
    if (name === 'loss' || name === 'lr' || name === 'epoch' || /^val[A-Z]/.test(name))
      argError(fn, 'metrics', `names other than loss, lr, epoch and val*`, name);
    if (m === 'accuracy') return [name, accuracy];
    if (m === 'binaryAccuracy') return [name, binaryAccuracy];
    if (typeof m !== 'function') argError(fn, `metrics.${name}`, "'accuracy', 'binaryAccuracy' or a function (output, target) => number", m);
    return [
      name,
      (output: unknown, target: unknown) => {
        const v = m(output, target);
        const x = v instanceof Tensor ? v.item() : v;
        if (typeof x !== 'number')
          throw new TorchError(`${fn}: metric '${name}' must return a number or a one-element tensor, got ${describe(v)}`, 'ERR_TORCH_ARG');
        return x;
      },
    ];
  });
}

/** The fraction of rows whose arg-max class equals the class-index target. */
function accuracy(output: unknown, target: unknown): number {
  if (!(output instanceof Tensor) || !(target instanceof Tensor) || output.dim() < 2 || isFloatingPoint(target.dtype) || target.dim() !== output.dim() - 1) {
    throw new TorchError(
      `fit(): metric 'accuracy' takes [N, C, ...] scores and [N, ...] class indices, got ${shapeOf(output)} and ${shapeOf(target)}; use 'binaryAccuracy' for logits against 0/1 targets`,
      'ERR_TORCH_ARG',
    );
  }
  return tidy(() => output.argmax(1).eq(target).sum().item() / target.numel());
}

/** The fraction of logits on the same side of 0 as their 0/1 target (with BCEWithLogitsLoss). */
function binaryAccuracy(output: unknown, target: unknown): number {
  if (!(output instanceof Tensor) || !(target instanceof Tensor) || output.numel() !== target.numel()) {
    throw new TorchError(
      `fit(): metric 'binaryAccuracy' takes logits and 0/1 targets with as many elements, got ${shapeOf(output)} and ${shapeOf(target)}`,
      'ERR_TORCH_ARG',
    );
  }
  return tidy(() => output.reshape(-1).gt(0).eq(target.reshape(-1).gt(0.5)).sum().item() / target.numel());
}

function shapeOf(v: unknown): string {
  return v instanceof Tensor ? `${v.dtype} [${v.shape.join(', ')}]` : describe(v);
}

function checkIterable(fn: string, name: string, v: unknown): void {
  if (v == null || typeof (v as any)[Symbol.iterator] !== 'function') argError(fn, name, 'an iterable of [input, target] batches (a DataLoader)', v);
}

/** loader.sampler.setEpoch(epoch) when the loader has such a sampler (DataLoader + DistributedSampler). */
function setSamplerEpoch(loader: Iterable<unknown>, epoch: number): void {
  const sampler = (loader as { sampler?: { setEpoch?: unknown } }).sampler;
  if (sampler != null && typeof sampler === 'object' && typeof sampler.setEpoch === 'function') sampler.setEpoch(epoch);
}

function lengthOf(loader: Iterable<unknown>): number | undefined {
  const n = (loader as { length?: unknown }).length;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

function call(callbacks: Callback[], hook: keyof Callback, ...args: unknown[]): void {
  for (const c of callbacks) {
    const f = c[hook] as ((...a: unknown[]) => void) | undefined;
    if (f !== undefined) {
      if (typeof f !== 'function') throw new TorchError(`fit(): callback ${describe(c)} has a ${hook} that is not a function`, 'ERR_TORCH_ARG');
      f.apply(c, args);
    }
  }
}

/** Formats a metric value: 4 decimals, or 3 significant digits for small values such as learning rates. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}

/** One epoch's metrics as fit() prints them: `loss: 0.1234 - accuracy: 0.9500`. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${formatValue(v)}`)
    .join(' - ');
}

/** A redrawn bar on a TTY, one line per epoch otherwise. */
class Progress {
  private total: number | undefined;
  private epoch = 0;
  private started = 0;
  private lastDraw = 0;

  constructor(
    private readonly mode: 'bar' | 'epoch' | 'none',
    private readonly out: { write(s: string): unknown },
    private readonly epochs: number,
  ) {}

  epochBegin(epoch: number, total: number | undefined): void {
    this.epoch = epoch;
    this.total = total;
    this.started = performance.now();
    this.lastDraw = 0;
  }

  batch(batch: number, meanLoss: number): void {
    if (this.mode !== 'bar') return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && batch + 1 !== this.total) return;
    this.lastDraw = now;
    const done = batch + 1;
    const width = 30;
    let bar: string;
    if (this.total) {
      const filled = Math.min(width, Math.floor((done / this.total) * width));
      bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled ? (filled === width ? '=' : '>') : ''}${'.'.repeat(width - filled)}] ${done}/${this.total}`;
    } else {
      bar = `${done} batches`;
    }
    const secs = ((now - this.started) / 1000).toFixed(1);
    this.out.write(`\r${this.head()} ${bar} - ${secs}s - loss: ${formatValue(meanLoss)}\x1b[K`);
  }

  epochEnd(logs: Logs, seconds: number): void {
    if (this.mode === 'none') return;
    const line = `${this.head()} - ${seconds.toFixed(1)}s - ${formatLogs(logs)}`;
    this.out.write(this.mode === 'bar' ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  private head(): string {
    return `Epoch ${this.epoch + 1}/${this.epochs}`;
  }
}
