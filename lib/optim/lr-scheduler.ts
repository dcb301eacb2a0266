/**
 * torch.optim.lrScheduler: PyTorch's learning-rate schedulers with its recurrences (not closed forms,
 * where PyTorch uses recurrences), so lr sequences equal Python's; and its state-dict layout (the
 * scheduler's attributes under their Python names, in Python's order), so a scheduler checkpoint
 * moves between the two.
 *
 * As PyTorch, constructing a scheduler performs its initial step (sets `initialLr` in the param
 * groups and the first lr); call `optimizer.step()` before `scheduler.step()` in the loop.
 *
 * Required arguments may be given positionally or in the options object:
 * `new StepLR(opt, 30, { gamma: 0.1 })` or `new StepLR(opt, { stepSize: 30, gamma: 0.1 })`.
 * @module
 */
import { checkBool, checkInt, checkNumber } from '../checks';
import { TorchError, argError, checkOptions, describe } from '../errors';
import { Tensor } from '../tensor';
import { isMarkedFloat, markFloat } from '../serialization/torch-file';
import { Optimizer, toCamel } from './optimizer';
import { cos, powi } from './pymath';

type Kind = 'float' | 'int' | 'auto';

/** One attribute of a scheduler as it appears in Python's state_dict(). */
interface Field {
  key: string;
  get: () => unknown;
  set: (v: unknown) => void;
  kind: Kind;
}

/** A scheduler's state dict as loadStateDict() takes it: a Map (what stateDict() and torch.load return) or a plain object, keyed by Python's attribute names. */
export type SchedulerStateDict = Map<string, unknown> | Record<string, unknown>;

const pyMod = (a: number, n: number) => ((a % n) + n) % n;
const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

function bisectRight(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < sorted[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Merges `(opt, value, options)` and `(opt, { name: value, ...options })`. */
function opts<T extends object>(first: unknown, rest: T | undefined, name: string): T & Record<string, unknown> {
  if (first !== null && typeof first === 'object' && !Array.isArray(first) && !(first instanceof Tensor)) {
    return { ...(first as object) } as T & Record<string, unknown>;
  }
  return { ...(rest ?? {}), ...(first === undefined ? {} : { [name]: first }) } as T & Record<string, unknown>;
}

/** The base of every scheduler except ReduceLROnPlateau's bookkeeping (which PyTorch also keeps apart). */
export abstract class LRScheduler {
  /** The optimizer whose param groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer;
  /** The learning rates the schedule starts from (each group's `initialLr`). */
  baseLrs: number[] = [];
  /** The number of step() calls so far (PyTorch's `last_epoch`; 0 after construction). */
  lastEpoch = -1;
  /** @internal */ _stepCount = 0;
  /** @internal */ _isInitial = false;
  /** @internal */ _getLrCalledWithinStep = false;
  /** @internal */ _lastLr: number[] = [];
  /** @internal */ protected readonly _name: string;
  private _warnedOrder = false;

  protected constructor(name: string, optimizer: Optimizer) {
    this._name = name;
    if (!(optimizer instanceof Optimizer)) argError(`${name}()`, 'optimizer', 'an Optimizer', optimizer);
    this.optimizer = optimizer;
  }

  /** PyTorch's LRScheduler.__init__ after the subclass has set its own attributes. */
  protected _init(lastEpoch: unknown): void {
    const fn = `${this._name}()`;
    const le = checkInt(fn, 'lastEpoch', lastEpoch, -1);
    if (le === -1) {
      for (const g of this.optimizer.paramGroups) if (!('initialLr' in g)) g.initialLr = g.lr;
    } else {
      this.optimizer.paramGroups.forEach((g, i) => {
        if (!('initialLr' in g)) {
          throw new TorchError(
            `${fn}: lastEpoch ${le} resumes a schedule, but paramGroups[${i}] has no 'initialLr'; load the optimizer's state dict first, or start with lastEpoch -1`,
            'ERR_TORCH_ARG',
          );
        }
      });
    }
    this.baseLrs = this.optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = le;
    this._initialStep();
  }

  /** @internal */
  _initialStep(): void {
    this._stepCount = 0;
    this._isInitial = true;
    try {
      this.step();
    } finally {
      this._isInitial = false;
    }
  }

  /** The learning rates the scheduler set last, one per param group. */
  getLastLr(): number[] {
    return [...this._lastLr];
  }

  /** The next learning rates (called by step(); use getLastLr() to read the current ones). */
  abstract getLr(): number[];

  /** @internal The closed form used by SequentialLR at a milestone (PyTorch's _get_closed_form_lr). */
  protected _closedFormLr(): number[] | null {
    return null;
  }

  /** Advances the schedule by one step (call after optimizer.step()). */
  step(): void {
    if (this._stepCount === 1 && !this.optimizer._optCalled && !this._warnedOrder) {
      this._warnedOrder = true;
      process.emitWarning(
        `${this._name}.step() was called before optimizer.step(); call optimizer.step() first, ` +
          'or the first value of the learning-rate schedule is skipped (as PyTorch warns)',
        { code: 'TORCH_NODE_SCHEDULER_ORDER' },
      );
    }
    this._stepCount++;
    this._updateLr();
  }

  /** @internal */
  _updateLr(epoch?: number): void {
    this._getLrCalledWithinStep = true;
    let values: number[];
    try {
      if (epoch === undefined) {
        this.lastEpoch++;
        values = this.getLr();
      } else {
        this.lastEpoch = epoch;
        values = this._closedFormLr() ?? this.getLr();
      }
    } finally {
      this._getLrCalledWithinStep = false;
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = values[i];
    });
    this._lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  protected _groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  // ---- state dict ---------------------------------------------------------------------------------
  /** @internal The subclass's attributes that PyTorch sets before LRScheduler.__init__. */
  protected _ownFields(): Field[] {
    return [];
  }

  /** @internal Every attribute in Python's __dict__ order (without the optimizer). */
  protected _fields(): Field[] {
    return [
      ...this._ownFields(),
      { key: 'base_lrs', get: () => [...this.baseLrs], set: (v) => (this.baseLrs = numbers(v)), kind: 'float' },
      { key: 'last_epoch', get: () => this.lastEpoch, set: (v) => (this.lastEpoch = num(v)), kind: 'int' },
      { key: '_step_count', get: () => this._stepCount, set: (v) => (this._stepCount = num(v)), kind: 'int' },
      { key: '_is_initial', get: () => this._isInitial, set: (v) => (this._isInitial = Boolean(v)), kind: 'auto' },
      { key: '_get_lr_called_within_step', get: () => this._getLrCalledWithinStep, set: (v) => (this._getLrCalledWithinStep = Boolean(v)), kind: 'auto' },
      { key: '_last_lr', get: () => [...this._lastLr], set: (v) => (this._lastLr = numbers(v)), kind: 'float' },
    ];
  }

  /** PyTorch's scheduler.state_dict(): a Map of its attributes under their Python names. */
  stateDict(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const f of this._fields()) {
      const v = f.get();
      out.set(f.key, v);
      if (f.kind === 'float') {
        if (typeof v === 'number') markFloat(out, f.key);
        else if (Array.isArray(v)) v.forEach((_x, i) => markFloat(v, i));
      }
    }
    return out;
  }

  /** Restores what stateDict() (or Python's state_dict(), through torch.load) returned. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const fn = `${this._name}.loadStateDict()`;
    const sd =
      stateDict instanceof Map
        ? stateDict
        : stateDict && typeof stateDict === 'object'
          ? new Map(Object.entries(stateDict))
          : argError(fn, 'stateDict', 'a Map or an object', stateDict);
    const fields = new Map(this._fields().map((f) => [f.key, f]));
    for (const [k, v] of sd) {
      const f = fields.get(k as string);
      if (f) f.set(v instanceof Map ? v : Array.isArray(v) ? v : typeof v === 'bigint' ? Number(v) : v);
    }
    this._afterLoad();
  }

  /** @internal */
  protected _afterLoad(): void {}
}

function numbers(v: unknown): number[] {
  if (!Array.isArray(v)) throw new TorchError(`a scheduler state dict holds a list of numbers where it has ${describe(v)}`, 'ERR_TORCH_ARG');
  return v.map(num);
}

// ---- StepLR -------------------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.StepLR`. */
export interface StepLROptions {
  /** The period of the decay, in steps (required). */
  stepSize?: number;
  /** The multiplicative factor (default 0.1). */
  gamma?: number;
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.StepLR`: multiplies the lr by gamma every stepSize steps. */
export class StepLR extends LRScheduler {
  /** The period of the decay, in steps. */
  stepSize: number;
  /** The multiplicative factor. */
  gamma: number;
  constructor(optimizer: Optimizer, stepSize: number | StepLROptions, options?: StepLROptions) {
    super('StepLR', optimizer);
    const o = opts(stepSize, options, 'stepSize');
    checkOptions('StepLR()', o, ['stepSize', 'gamma', 'lastEpoch']);
    this.stepSize = checkInt('StepLR()', 'stepSize', o.stepSize, 1);
    this.gamma = checkNumber('StepLR()', 'gamma', o.gamma ?? 0.1);
    this._init(o.lastEpoch ?? -1);
  }
  getLr(): number[] {
    if (this.lastEpoch === 0 || pyMod(this.lastEpoch, this.stepSize) !== 0) return this._groupLrs();
    return this.optimizer.paramGroups.map((g) => g.lr * this.gamma);
  }
  protected override _closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * powi(this.gamma, Math.floor(this.lastEpoch / this.stepSize)));
  }
  protected override _ownFields(): Field[] {
    return [
      { key: 'step_size', get: () => this.stepSize, set: (v) => (this.stepSize = num(v)), kind: 'int' },
      { key: 'gamma', get: () => this.gamma, set: (v) => (this.gamma = num(v)), kind: 'float' },
    ];
  }
}

// ---- MultiStepLR --------------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.MultiStepLR`. */
export interface MultiStepLROptions {
  /** The steps at which the lr is multiplied by gamma (required). */
  milestones?: number[];
  /** The multiplicative factor (default 0.1). */
  gamma?: number;
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.MultiStepLR`: multiplies the lr by gamma at each milestone (by gamma^n for a milestone given n times). */
export class MultiStepLR extends LRScheduler {
  /** Milestone -> how many times it was given (Python's Counter). */
  milestones: Map<number, number>;
  /** The multiplicative factor. */
  gamma: number;
  constructor(optimizer: Optimizer, milestones: number[] | MultiStepLROptions, options?: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    const o = opts(milestones, options, 'milestones');
    checkOptions('MultiStepLR()', o, ['milestones', 'gamma', 'lastEpoch']);
    if (!Array.isArray(o.milestones)) argError('MultiStepLR()', 'milestones', 'an array of integers', o.milestones);
    this.milestones = new Map();
    o.milestones.forEach((m, i) => {
      checkInt('MultiStepLR()', `milestones[${i}]`, m);
      this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    });
    this.gamma = checkNumber('MultiStepLR()', 'gamma', o.gamma ?? 0.1);
    this._init(o.lastEpoch ?? -1);
  }
  getLr(): number[] {
    const n = this.milestones.get(this.lastEpoch);
    if (n === undefined) return this._groupLrs();
    return this.optimizer.paramGroups.map((g) => g.lr * powi(this.gamma, n));
  }
  protected override _closedFormLr(): number[] {
    const sorted: number[] = [];
    for (const [m, n] of this.milestones) for (let i = 0; i < n; i++) sorted.push(m);
    sorted.sort((a, b) => a - b);
    return this.baseLrs.map((b) => b * powi(this.gamma, bisectRight(sorted, this.lastEpoch)));
  }
  protected override _ownFields(): Field[] {
    return [
      {
        key: 'milestones',
        get: () => new Map(this.milestones),
        set: (v) => {
          const m = v instanceof Map ? v : new Map(Object.entries(v as object).map(([k, x]) => [Number(k), x]));
          this.milestones = new Map([...m].map(([k, x]) => [num(k), num(x)]));
        },
        kind: 'int',
      },
      { key: 'gamma', get: () => this.gamma, set: (v) => (this.gamma = num(v)), kind: 'float' },
    ];
  }
}

// ---- ExponentialLR ------------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.ExponentialLR`. */
export interface ExponentialLROptions {
  /** The multiplicative factor applied every step (required). */
  gamma?: number;
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.ExponentialLR`: multiplies the lr by gamma every step. */
export class ExponentialLR extends LRScheduler {
  /** The multiplicative factor applied every step. */
  gamma: number;
  constructor(optimizer: Optimizer, gamma: number | ExponentialLROptions, options?: ExponentialLROptions) {
    super('ExponentialLR', optimizer);
    const o = opts(gamma, options, 'gamma');
    checkOptions('ExponentialLR()', o, ['gamma', 'lastEpoch']);
    this.gamma = checkNumber('ExponentialLR()', 'gamma', o.gamma);
    this._init(o.lastEpoch ?? -1);
  }
  getLr(): number[] {
    if (this._isInitial) return this._groupLrs();
    return this.optimizer.paramGroups.map((g) => g.lr * this.gamma);
  }
  protected override _closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * powi(this.gamma, this.lastEpoch));
  }
  protected override _ownFields(): Field[] {
    return [{ key: 'gamma', get: () => this.gamma, set: (v) => (this.gamma = num(v)), kind: 'float' }];
  }
}

// ---- CosineAnnealingLR --------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** The number of steps of the half cosine (PyTorch's `T_max`; required). */
  TMax?: number;
  /** Alias of TMax. */
  tMax?: number;
  /** The minimum learning rate (default 0). */
  etaMin?: number;
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.CosineAnnealingLR`: cosine annealing from the base lr to etaMin over TMax steps (PyTorch's recurrence). */
export class CosineAnnealingLR extends LRScheduler {
  /** The number of steps of the half cosine. */
  TMax: number;
  /** The minimum learning rate. */
  etaMin: number;
  constructor(optimizer: Optimizer, TMax: number | CosineAnnealingLROptions, options?: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    const o = opts(TMax, options, 'TMax');
    if ('tMax' in o && !('TMax' in o)) {
      o.TMax = o.tMax;
    }
    delete o.tMax;
    checkOptions('CosineAnnealingLR()', o, ['TMax', 'etaMin', 'lastEpoch']);
    this.TMax = checkInt('CosineAnnealingLR()', 'TMax', o.TMax, 1);
    this.etaMin = checkNumber('CosineAnnealingLR()', 'etaMin', o.etaMin ?? 0);
    this._init(o.lastEpoch ?? -1);
  }
  getLr(): number[] {
    const { lastEpoch: e, TMax: T, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (this._isInitial) return this._groupLrs();
    if (this._stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + cos((e * Math.PI) / T))) / 2);
    }
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - cos(Math.PI / T))) / 2);
    }
    return groups.map((g) => ((1 + cos((Math.PI * e) / T)) / (1 + cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
  protected override _closedFormLr(): number[] {
    const { lastEpoch: e, TMax: T, etaMin } = this;
    return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + cos((Math.PI * e) / T))) / 2);
  }
  protected override _ownFields(): Field[] {
    return [
      { key: 'T_max', get: () => this.TMax, set: (v) => (this.TMax = num(v)), kind: 'int' },
      { key: 'eta_min', get: () => this.etaMin, set: (v) => (this.etaMin = num(v)), kind: 'float' },
    ];
  }
}

// ---- LinearLR -----------------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.LinearLR`. */
export interface LinearLROptions {
  /** The factor on the lr at the first step, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** The factor on the lr at the end, in [0, 1] (default 1). */
  endFactor?: number;
  /** The number of steps until endFactor is reached (default 5). */
  totalIters?: number;
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.LinearLR`: scales the lr linearly from startFactor to endFactor over totalIters steps (a warm-up). */
export class LinearLR extends LRScheduler {
  /** The factor on the lr at the first step. */
  startFactor: number;
  /** The factor on the lr at the end. */
  endFactor: number;
  /** The number of steps until endFactor is reached. */
  totalIters: number;
  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    const fn = 'LinearLR()';
    const o = { ...options } as Record<string, unknown>;
    checkOptions(fn, o, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    this.startFactor = checkNumber(fn, 'startFactor', o.startFactor ?? 1 / 3, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
    this.endFactor = checkNumber(fn, 'endFactor', o.endFactor ?? 1, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
    this.totalIters = checkInt(fn, 'totalIters', o.totalIters ?? 5, 1);
    this._init(o.lastEpoch ?? -1);
  }
  getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr * this.startFactor);
    if (this._isInitial || this.lastEpoch > this.totalIters) return this._groupLrs();
    const d = this.endFactor - this.startFactor;
    return groups.map((g) => g.lr * (1.0 + d / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * d)));
  }
  protected override _closedFormLr(): number[] {
    const d = this.endFactor - this.startFactor;
    return this.baseLrs.map((b) => b * (this.startFactor + (d * Math.min(this.totalIters, this.lastEpoch)) / this.totalIters));
  }
  protected override _ownFields(): Field[] {
    return [
      { key: 'start_factor', get: () => this.startFactor, set: (v) => (this.startFactor = num(v)), kind: 'float' },
      { key: 'end_factor', get: () => this.endFactor, set: (v) => (this.endFactor = num(v)), kind: 'float' },
      { key: 'total_iters', get: () => this.totalIters, set: (v) => (this.totalIters = num(v)), kind: 'int' },
    ];
  }
}

// ---- LambdaLR -----------------------------------------------------------------------------------------
/** A LambdaLR factor: the step index to the multiplier of the initial lr. */
export type LrLambda = (epoch: number) => number;
/** The keyword arguments of PyTorch's `lr_scheduler.LambdaLR`. */
export interface LambdaLROptions {
  /** One function for every param group, or one per group (required). */
  lrLambda?: LrLambda | LrLambda[];
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.LambdaLR`: lr = initial lr * lrLambda(step), one function for all groups or one per group. */
export class LambdaLR extends LRScheduler {
  /** The function of each param group (not saved in the state dict, as PyTorch). */
  lrLambdas: LrLambda[];
  constructor(optimizer: Optimizer, lrLambda: LrLambda | LrLambda[] | LambdaLROptions, options?: LambdaLROptions) {
    super('LambdaLR', optimizer);
    const fn = 'LambdaLR()';
    const o = typeof lrLambda === 'function' || Array.isArray(lrLambda) ? { ...(options ?? {}), lrLambda } : opts(lrLambda, options, 'lrLambda');
    checkOptions(fn, o as Record<string, unknown>, ['lrLambda', 'lastEpoch']);
    const l = o.lrLambda;
    const n = optimizer.paramGroups.length;
    if (typeof l === 'function') this.lrLambdas = Array(n).fill(l);
    else if (Array.isArray(l)) {
      if (l.length !== n)
        throw new TorchError(`${fn}: argument 'lrLambda' has ${l.length} functions, but the optimizer has ${n} param groups`, 'ERR_TORCH_ARG');
      l.forEach((f, i) => typeof f !== 'function' && argError(fn, `lrLambda[${i}]`, 'a function', f));
      this.lrLambdas = [...l];
    } else argError(fn, 'lrLambda', 'a function or an array of functions', l);
    this._init(o.lastEpoch ?? -1);
  }
  getLr(): number[] {
    return this.baseLrs.map((b, i) => {
      const f = this.lrLambdas[i](this.lastEpoch);
      if (typeof f !== 'number') throw new TorchError(`LambdaLR: lrLambda[${i}](${this.lastEpoch}) returned ${describe(f)}, not a number`, 'ERR_TORCH_ARG');
      return b * f;
    });
  }
  protected override _fields(): Field[] {
    // Functions are not saved (PyTorch saves None for them), at the end of the dict.
    return [...super._fields(), { key: 'lr_lambdas', get: () => this.lrLambdas.map(() => null), set: () => {}, kind: 'auto' }];
  }
}

// ---- OneCycleLR ---------------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.OneCycleLR`. */
export interface OneCycleLROptions {
  /** The peak learning rate, one for all groups or one per group (required). */
  maxLr?: number | number[];
  /** The number of steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number | null;
  /** With stepsPerEpoch: totalSteps = epochs * stepsPerEpoch. */
  epochs?: number | null;
  /** With epochs: totalSteps = epochs * stepsPerEpoch. */
  stepsPerEpoch?: number | null;
  /** The share of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** How the lr anneals: `'cos'` (default) or `'linear'`. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (or Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** The lowest momentum, reached at the peak lr (default 0.85). */
  baseMomentum?: number | number[];
  /** The highest momentum, at the start and end (default 0.95). */
  maxMomentum?: number | number[];
  /** The initial lr is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final lr is the initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** A third phase that anneals to the final lr after a symmetric rise and fall (default false). */
  threePhase?: boolean;
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  endStepIsFloat: boolean;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

/** PyTorch's `torch.optim.lr_scheduler.OneCycleLR`: the 1cycle policy: lr up to maxLr then down far below the start; momentum the other way. Step it every batch. */
export class OneCycleLR extends LRScheduler {
  /** The number of steps in the cycle. */
  totalSteps: number;
  /** @internal */ _schedulePhases: Phase[];
  /** @internal */ _annealFuncType: 'cos' | 'linear';
  /** Whether momentum cycles. */
  cycleMomentum: boolean;
  /** Whether the momentum cycled is Adam's beta1 (the optimizer has `betas`). */
  useBeta1 = false;

  constructor(optimizer: Optimizer, maxLr: number | number[] | OneCycleLROptions, options?: OneCycleLROptions) {
    super('OneCycleLR', optimizer);
    const fn = 'OneCycleLR()';
    const o = typeof maxLr === 'number' || Array.isArray(maxLr) ? { ...(options ?? {}), maxLr } : opts(maxLr, options, 'maxLr');
    checkOptions(fn, o as Record<string, unknown>, [
      'maxLr',
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
      'lastEpoch',
    ]);
    if (o.totalSteps != null) this.totalSteps = checkInt(fn, 'totalSteps', o.totalSteps, 1);
    else if (o.epochs != null && o.stepsPerEpoch != null) {
      this.totalSteps = checkInt(fn, 'epochs', o.epochs, 1) * checkInt(fn, 'stepsPerEpoch', o.stepsPerEpoch, 1);
    } else {
      throw new TorchError(`${fn}: give either 'totalSteps' or both 'epochs' and 'stepsPerEpoch'`, 'ERR_TORCH_ARG');
    }
    const pct = checkNumber(fn, 'pctStart', o.pctStart ?? 0.3, (x) => x >= 0 && x <= 1, 'a number between 0 and 1');
    const T = this.totalSteps;
    const phase = (endStep: number, endStepIsFloat: boolean, s: string, e: string, sm: string, em: string): Phase => ({
      endStep,
      endStepIsFloat,
      startLr: s,
      endLr: e,
      startMomentum: sm,
      endMomentum: em,
    });
    this._schedulePhases = o.threePhase
      ? [
          phase(pct * T - 1, true, 'initial_lr', 'max_lr', 'max_momentum', 'base_momentum'),
          phase(2 * pct * T - 2, true, 'max_lr', 'initial_lr', 'base_momentum', 'max_momentum'),
          phase(T - 1, false, 'initial_lr', 'min_lr', 'max_momentum', 'max_momentum'),
        ]
      : [
          phase(pct * T - 1, true, 'initial_lr', 'max_lr', 'max_momentum', 'base_momentum'),
          phase(T - 1, false, 'max_lr', 'min_lr', 'base_momentum', 'max_momentum'),
        ];
    const anneal = o.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') argError(fn, 'annealStrategy', "'cos' or 'linear'", anneal);
    this._annealFuncType = anneal;
    const lastEpoch = o.lastEpoch ?? -1;
    const groups = optimizer.paramGroups;
    const perGroup = (name: string, v: unknown): number[] => {
      if (Array.isArray(v)) {
        if (v.length !== groups.length)
          throw new TorchError(`${fn}: argument '${name}' has ${v.length} values, but the optimizer has ${groups.length} param groups`, 'ERR_TORCH_ARG');
        return v.map((x, i) => checkNumber(fn, `${name}[${i}]`, x));
      }
      return groups.map(() => checkNumber(fn, name, v));
    };
    const maxLrs = perGroup('maxLr', o.maxLr);
    const divFactor = checkNumber(fn, 'divFactor', o.divFactor ?? 25);
    const finalDivFactor = checkNumber(fn, 'finalDivFactor', o.finalDivFactor ?? 1e4);
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / divFactor;
        g.maxLr = maxLrs[i];
        g.minLr = g.initialLr / finalDivFactor;
      });
    }
    this.cycleMomentum = o.cycleMomentum ?? true;
    checkBool(fn, 'cycleMomentum', this.cycleMomentum);
    if (this.cycleMomentum) {
      if (!('momentum' in optimizer.defaults) && !('betas' in optimizer.defaults)) {
        throw new TorchError(`${fn}: 'cycleMomentum' needs an optimizer with momentum or betas (pass cycleMomentum: false)`, 'ERR_TORCH_ARG');
      }
      this.useBeta1 = 'betas' in optimizer.defaults;
      const maxM = perGroup('maxMomentum', o.maxMomentum ?? 0.95);
      const baseM = perGroup('baseMomentum', o.baseMomentum ?? 0.85);
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          if (this.useBeta1) g.betas = [maxM[i], ...(g.betas as number[]).slice(1)];
          else g.momentum = maxM[i];
          g.maxMomentum = maxM[i];
          g.baseMomentum = baseM[i];
        });
      }
    }
    this._init(lastEpoch);
  }

  private _anneal(start: number, end: number, pct: number): number {
    if (this._annealFuncType === 'cos') {
      const cosOut = cos(Math.PI * pct) + 1;
      return end + ((start - end) / 2.0) * cosOut;
    }
    return (end - start) * pct + start;
  }

  getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new TorchError(`OneCycleLR: tried to step ${stepNum} times; the specified number of total steps is ${this.totalSteps}`, 'ERR_TORCH_ARG');
    }
    const phases = this._schedulePhases;
    return this.optimizer.paramGroups.map((g) => {
      let startStep = 0.0;
      let lr = 0;
      let momentum = 0;
      for (let i = 0; i < phases.length; i++) {
        const p = phases[i];
        if (stepNum <= p.endStep || i === phases.length - 1) {
          const pct = (stepNum - startStep) / (p.endStep - startStep);
          lr = this._anneal(g[toCamel(p.startLr)], g[toCamel(p.endLr)], pct);
          if (this.cycleMomentum) momentum = this._anneal(g[toCamel(p.startMomentum)], g[toCamel(p.endMomentum)], pct);
          break;
        }
        startStep = p.endStep;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) g.betas = [momentum, ...(g.betas as number[]).slice(1)];
        else g.momentum = momentum;
      }
      return lr;
    });
  }

  protected override _ownFields(): Field[] {
    const fields: Field[] = [
      { key: 'total_steps', get: () => this.totalSteps, set: (v) => (this.totalSteps = num(v)), kind: 'int' },
      {
        key: '_schedule_phases',
        get: () =>
          this._schedulePhases.map((p) => {
            const m = new Map<string, unknown>([
              ['end_step', p.endStep],
              ['start_lr', p.startLr],
              ['end_lr', p.endLr],
              ['start_momentum', p.startMomentum],
              ['end_momentum', p.endMomentum],
            ]);
            if (p.endStepIsFloat) markFloat(m, 'end_step');
            return m;
          }),
        set: (v) => {
          if (!Array.isArray(v)) throw new TorchError('OneCycleLR.loadStateDict(): _schedule_phases must be a list', 'ERR_TORCH_ARG');
          this._schedulePhases = v.map((x) => {
            const m = x instanceof Map ? x : new Map(Object.entries(x as object));
            return {
              endStep: num(m.get('end_step')),
              endStepIsFloat: isMarkedFloat(m, 'end_step') || !Number.isInteger(num(m.get('end_step'))),
              startLr: m.get('start_lr'),
              endLr: m.get('end_lr'),
              startMomentum: m.get('start_momentum'),
              endMomentum: m.get('end_momentum'),
            } as Phase;
          });
        },
        kind: 'auto',
      },
      { key: '_anneal_func_type', get: () => this._annealFuncType, set: (v) => (this._annealFuncType = v as 'cos' | 'linear'), kind: 'auto' },
      { key: 'cycle_momentum', get: () => this.cycleMomentum, set: (v) => (this.cycleMomentum = Boolean(v)), kind: 'auto' },
    ];
    if (this.cycleMomentum) fields.push({ key: 'use_beta1', get: () => this.useBeta1, set: (v) => (this.useBeta1 = Boolean(v)), kind: 'auto' });
    return fields;
  }
}

// ---- ReduceLROnPlateau --------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** `'min'` (default): the metric should decrease; `'max'`: it should increase. */
  mode?: 'min' | 'max';
  /** The lr is multiplied by factor (< 1) on a plateau (default 0.1). */
  factor?: number;
  /** Steps without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** The least change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** `'rel'` (default): threshold is relative to the best; `'abs'`: absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** A lower bound on the lr, for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** A reduction smaller than eps is not applied (default 1e-8). */
  eps?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.ReduceLROnPlateau`: multiplies the lr by factor when a metric has stopped improving for `patience` steps: step(metric). */
export class ReduceLROnPlateau extends LRScheduler {
  /** The lr multiplier on a plateau. */
  factor: number;
  /** The minLr given as one number (null when given per group). */
  defaultMinLr: number | null;
  /** The lower bound of each group's lr. */
  minLrs: number[];
  /** Steps without improvement tolerated before reducing. */
  patience: number;
  /** Steps to wait after a reduction. */
  cooldown: number;
  /** The smallest reduction applied. */
  eps: number;
  /** The worst value of the metric (Infinity in min mode, -Infinity in max mode). */
  modeWorse = Infinity;
  /** Whether the metric should decrease (`'min'`) or increase (`'max'`). */
  mode: 'min' | 'max' = 'min';
  /** The least change that counts as an improvement. */
  threshold = 1e-4;
  /** Whether threshold is relative or absolute. */
  thresholdMode: 'rel' | 'abs' = 'rel';
  /** The best metric seen so far. */
  best = Infinity;
  /** Steps left in the current cooldown. */
  cooldownCounter = 0;
  /** Steps since the metric last improved. */
  numBadEpochs = 0;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    super('ReduceLROnPlateau', optimizer);
    const fn = 'ReduceLROnPlateau()';
    const o = { ...options } as Record<string, unknown>;
    checkOptions(fn, o, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.factor = checkNumber(fn, 'factor', o.factor ?? 0.1, (x) => x < 1, 'a number below 1');
    const n = optimizer.paramGroups.length;
    const minLr = o.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n)
        throw new TorchError(`${fn}: argument 'minLr' has ${minLr.length} values, but the optimizer has ${n} param groups`, 'ERR_TORCH_ARG');
      this.defaultMinLr = null;
      this.minLrs = minLr.map((x, i) => checkNumber(fn, `minLr[${i}]`, x));
    } else {
      this.defaultMinLr = checkNumber(fn, 'minLr', minLr);
      this.minLrs = Array(n).fill(minLr);
    }
    this.patience = checkInt(fn, 'patience', o.patience ?? 10, 0);
    this.cooldown = checkInt(fn, 'cooldown', o.cooldown ?? 0, 0);
    this.eps = checkNumber(fn, 'eps', o.eps ?? 1e-8);
    this.lastEpoch = 0;
    this._lastLr = this._groupLrs();
    this._initIsBetter(fn, o.mode ?? 'min', o.threshold ?? 1e-4, o.thresholdMode ?? 'rel');
    this._reset();
  }

  private _initIsBetter(fn: string, mode: unknown, threshold: unknown, thresholdMode: unknown): void {
    if (mode !== 'min' && mode !== 'max') argError(fn, 'mode', "'min' or 'max'", mode);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') argError(fn, 'thresholdMode', "'rel' or 'abs'", thresholdMode);
    this.modeWorse = mode === 'min' ? Infinity : -Infinity;
    this.mode = mode;
    this.threshold = checkNumber(fn, 'threshold', threshold);
    this.thresholdMode = thresholdMode;
  }

  private _reset(): void {
    this.best = this.modeWorse;
    this.cooldownCounter = 0;
    this.numBadEpochs = 0;
  }

  /** Whether a cooldown is running. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  private _isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1.0 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1.0);
    return a > best + this.threshold;
  }

  getLr(): number[] {
    return this._groupLrs();
  }

  /** One step with the monitored metric (a number or a one-element tensor). */
  override step(metrics?: number | Tensor): void {
    const fn = 'ReduceLROnPlateau.step()';
    const current = metrics instanceof Tensor ? metrics.item() : metrics;
    if (typeof current !== 'number') argError(fn, 'metrics', 'a number or a one-element Tensor', metrics);
    const epoch = this.lastEpoch + 1;
    this.lastEpoch = epoch;
    if (this._isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this._reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this._lastLr = this._groupLrs();
  }

  private _reduceLr(): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.minLrs.length) {
      if (this.defaultMinLr === null) {
        throw new TorchError(
          `ReduceLROnPlateau: the optimizer has ${groups.length} param groups but minLrs has ${this.minLrs.length} (a group was added); set minLrs to match`,
          'ERR_TORCH_ARG',
        );
      }
      this.minLrs = Array(groups.length).fill(this.defaultMinLr);
    }
    groups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }

  protected override _fields(): Field[] {
    return [
      { key: 'factor', get: () => this.factor, set: (v) => (this.factor = num(v)), kind: 'float' },
      { key: 'default_min_lr', get: () => this.defaultMinLr, set: (v) => (this.defaultMinLr = v === null ? null : num(v)), kind: 'auto' },
      { key: 'min_lrs', get: () => [...this.minLrs], set: (v) => (this.minLrs = numbers(v)), kind: 'auto' },
      { key: 'patience', get: () => this.patience, set: (v) => (this.patience = num(v)), kind: 'int' },
      { key: 'cooldown', get: () => this.cooldown, set: (v) => (this.cooldown = num(v)), kind: 'int' },
      { key: 'eps', get: () => this.eps, set: (v) => (this.eps = num(v)), kind: 'float' },
      { key: 'last_epoch', get: () => this.lastEpoch, set: (v) => (this.lastEpoch = num(v)), kind: 'int' },
      { key: '_last_lr', get: () => [...this._lastLr], set: (v) => (this._lastLr = numbers(v)), kind: 'float' },
      { key: 'mode_worse', get: () => this.modeWorse, set: (v) => (this.modeWorse = num(v)), kind: 'float' },
      { key: 'mode', get: () => this.mode, set: (v) => (this.mode = v as 'min' | 'max'), kind: 'auto' },
      { key: 'threshold', get: () => this.threshold, set: (v) => (this.threshold = num(v)), kind: 'float' },
      { key: 'threshold_mode', get: () => this.thresholdMode, set: (v) => (this.thresholdMode = v as 'rel' | 'abs'), kind: 'auto' },
      { key: 'best', get: () => this.best, set: (v) => (this.best = num(v)), kind: 'float' },
      { key: 'cooldown_counter', get: () => this.cooldownCounter, set: (v) => (this.cooldownCounter = num(v)), kind: 'int' },
      { key: 'num_bad_epochs', get: () => this.numBadEpochs, set: (v) => (this.numBadEpochs = num(v)), kind: 'int' },
    ];
  }

  protected override _afterLoad(): void {
    this._initIsBetter('ReduceLROnPlateau.loadStateDict()', this.mode, this.threshold, this.thresholdMode);
  }
}

// ---- SequentialLR -------------------------------------------------------------------------------------
/** The keyword arguments of PyTorch's `lr_scheduler.SequentialLR`. */
export interface SequentialLROptions {
  /** The schedulers, run one after another (required; not ReduceLROnPlateau). */
  schedulers?: LRScheduler[];
  /** The steps at which the next scheduler takes over; one fewer than schedulers (required). */
  milestones?: number[];
  /** The index of the last step when resuming (default -1: start). */
  lastEpoch?: number;
}

/** PyTorch's `torch.optim.lr_scheduler.SequentialLR`: runs schedulers one after another, switching at the milestones (e.g. LinearLR warm-up, then CosineAnnealingLR). */
export class SequentialLR extends LRScheduler {
  /** @internal */ _schedulers: LRScheduler[];
  /** @internal */ _milestones: number[];

  constructor(optimizer: Optimizer, schedulers: LRScheduler[] | SequentialLROptions, milestones?: number[], options: { lastEpoch?: number } = {}) {
    super('SequentialLR', optimizer);
    const fn = 'SequentialLR()';
    const o: SequentialLROptions = Array.isArray(schedulers) ? { schedulers, milestones, ...options } : { ...schedulers };
    checkOptions(fn, o as Record<string, unknown>, ['schedulers', 'milestones', 'lastEpoch']);
    const list = o.schedulers;
    if (!Array.isArray(list) || list.length < 1) argError(fn, 'schedulers', 'a non-empty array of schedulers', list);
    list.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) argError(fn, `schedulers[${i}]`, 'an LRScheduler', s);
      if (s instanceof ReduceLROnPlateau)
        throw new TorchError(`${fn}: schedulers[${i}] is a ReduceLROnPlateau, which SequentialLR cannot run (its step needs a metric)`, 'ERR_TORCH_ARG');
      if (s.optimizer !== optimizer) throw new TorchError(`${fn}: schedulers[${i}] belongs to another optimizer`, 'ERR_TORCH_ARG');
    });
    const ms = o.milestones;
    if (!Array.isArray(ms)) argError(fn, 'milestones', 'an array of integers', ms);
    ms.forEach((m, i) => checkInt(fn, `milestones[${i}]`, m));
    if (ms.length !== list.length - 1) {
      throw new TorchError(
        `${fn}: argument 'milestones' must have one entry fewer than 'schedulers' (${list.length} schedulers, ${ms.length} milestones)`,
        'ERR_TORCH_ARG',
      );
    }
    this._schedulers = [...list];
    this._milestones = [...ms];
    this.lastEpoch = checkInt(fn, 'lastEpoch', o.lastEpoch ?? -1, -1) + 1;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr;
    this._recursiveUndo(this);
    const idx = bisectRight(this._milestones, 0);
    this._schedulers[idx]._initialStep();
    this._lastLr = this._schedulers[idx].getLastLr();
  }

  private _recursiveUndo(s: LRScheduler): void {
    if (s instanceof SequentialLR) for (const x of s._schedulers) this._recursiveUndo(x);
    else s.lastEpoch -= 1;
  }

  getLr(): number[] {
    return this._groupLrs();
  }

  override step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this._milestones, this.lastEpoch);
    const s = this._schedulers[idx];
    if (idx > 0 && this._milestones[idx - 1] === this.lastEpoch) s._updateLr(0);
    else s.step();
    this._lastLr = s.getLastLr();
  }

  protected override _fields(): Field[] {
    return [
      { key: '_milestones', get: () => [...this._milestones], set: (v) => (this._milestones = numbers(v)), kind: 'int' },
      { key: 'last_epoch', get: () => this.lastEpoch, set: (v) => (this.lastEpoch = num(v)), kind: 'int' },
      { key: '_last_lr', get: () => [...this._lastLr], set: (v) => (this._lastLr = numbers(v)), kind: 'float' },
      {
        key: '_schedulers',
        get: () => this._schedulers.map((s) => s.stateDict()),
        set: (v) => {
          if (!Array.isArray(v) || v.length !== this._schedulers.length) {
            throw new TorchError(`SequentialLR.loadStateDict(): _schedulers must be a list of ${this._schedulers.length} state dicts`, 'ERR_TORCH_ARG');
          }
          v.forEach((x, i) => this._schedulers[i].loadStateDict(x as SchedulerStateDict));
        },
        kind: 'auto',
      },
    ];
  }
}
