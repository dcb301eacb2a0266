/**
 * torch.optim.Optimizer: param groups, per-parameter state, zeroGrad, and PyTorch's state-dict layout.
 *
 * Param groups are plain objects with camelCase keys (`opt.paramGroups[0].lr = 0.01`, `weightDecay`);
 * stateDict() writes them under PyTorch's snake_case names, in PyTorch's key order, so a checkpoint
 * written here loads in Python (`optimizer.load_state_dict(torch.load(...))`) and the other way round.
 *
 * Memory: the optimizer owns its state tensors (keep()-ed, freed by dispose()); a step makes its
 * temporaries inside tidy() and leaks nothing. stateDict() returns views of the state tensors that
 * belong to the caller's scope (they share storage, as Python's state_dict() shares the tensors).
 *
 * Frozen parameters (requiresGrad false) may stay in the list, as in PyTorch: they keep their index
 * in the state dict but are never updated, even if they hold a stale gradient. One warning per
 * optimizer says so.
 */
import { checkBool } from '../checks';
import '../disposable';
import { toCamel, toSnake } from '../names';
import { native } from '../binding';
import { enableGrad, noGrad } from '../autograd';
import { TorchError, argError, checkOptions, describe } from '../errors';
import { scalarTensor } from '../creation';
import { keep, tidy } from '../scope';
import { Tensor, wrap } from '../tensor';
import { isMarkedFloat, isTuple, markFloat, tuple } from '../serialization/torch-file';

/** One entry of `params` given as a group: `{ params: [...], lr: 1e-4 }`. */
export interface ParamGroupSpec {
  /** The group's parameters (one tensor or several). */
  params: Tensor[] | Tensor;
  [option: string]: unknown;
}

/** What an optimizer takes as `params`: the tensors to optimise (e.g. `model.parameters()`), or param groups with their own options. */
export type ParamsLike = Tensor[] | ParamGroupSpec[];

/** A param group as the optimizer holds it: the parameters and every hyper-parameter (camelCase). */
export interface ParamGroup {
  /** The group's parameters. */
  params: Tensor[];
  /** The group's learning rate (what schedulers change). */
  lr: number;
  [option: string]: any;
}

/** One entry of a parameter's state: a tensor (a momentum buffer, a moment), a number, or null. */
export type StateValue = Tensor | number | null;
/** A parameter's state by PyTorch's key (`'momentum_buffer'`, `'exp_avg'`, `'step'`, ...). */
export type ParamState = Map<string, StateValue>;

/** What loadStateDict() accepts: what stateDict() or torch.load() of a Python checkpoint returns. */
export type OptimizerStateDict =
  | Map<string, unknown>
  | {
      /** Per-parameter state by parameter index. */
      state: Map<number, Map<string, unknown>> | Record<string, unknown>;
      /** The groups' options (snake_case) and parameter indices. */
      param_groups: unknown[];
    };

/** How an option is checked, and whether Python keeps it as a float. */
export interface OptionSpec {
  /** camelCase name (the group key); the state-dict key is its snake_case form. */
  name: string;
  default: unknown;
  check?: (v: unknown) => string | null; // the expected-description when bad, else null
  /** Saved as a Python float even when integral (PyTorch's default is a float). */
  float?: boolean;
  /** Set by the optimizer, not an option the user passes (AdamW's decoupledWeightDecay). */
  fixed?: boolean;
}

export { toCamel, toSnake };

// ---- option checks --------------------------------------------------------------------------------
export const nonNegative = (v: unknown) => (typeof v === 'number' && v >= 0 ? null : 'a non-negative number');
export const isNumber = (v: unknown) => (typeof v === 'number' && !Number.isNaN(v) ? null : 'a number');
export const isBool = (v: unknown) => (typeof v === 'boolean' ? null : 'a boolean');
export const nullOrBool = (v: unknown) => (v === null || typeof v === 'boolean' ? null : 'null or a boolean');
export const isFalse = (v: unknown) => (v === false ? null : 'false (a step autograd can differentiate through is not available)');

/**
 * PyTorch's implementation switches. They are kept (a checkpoint keeps them, and PyTorch reads them
 * back), but torch-node always runs the single-tensor algorithm (foreach and fused are faster
 * PyTorch kernels of the same math; capturable only moves 'step' to the parameter's device).
 * differentiable (a step autograd can see through) is not available.
 */
export const FOREACH: OptionSpec = { name: 'foreach', default: null, check: nullOrBool };
export const DIFFERENTIABLE: OptionSpec = { name: 'differentiable', default: false, check: isFalse };
export const CAPTURABLE: OptionSpec = { name: 'capturable', default: false, check: isBool };
export const FUSED: OptionSpec = { name: 'fused', default: null, check: nullOrBool };

/** Keys PyTorch's schedulers add to groups; floats in Python. */
const FLOAT_GROUP_KEYS = new Set(['lr', 'initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum']);

const floatKeys = new WeakMap<ParamGroup, Set<string>>();

/**
 * PyTorch's `torch.optim.Optimizer`: the base of SGD, Adam, AdamW, RMSprop and Adagrad. `zeroGrad()`, `step()`,
 * `paramGroups`, `state`, `stateDict()` / `loadStateDict()` in PyTorch's layout; `dispose()` frees the state.
 */
export abstract class Optimizer {
  /** The defaults given to the constructor (camelCase), applied to groups that do not set them. */
  readonly defaults: Record<string, unknown>;
  /** The param groups; their options may be changed between steps (that is what schedulers do). */
  paramGroups: ParamGroup[] = [];
  /** Per-parameter state, in the order parameters were first stepped (PyTorch's order). */
  state = new Map<Tensor, ParamState>();
  /** @internal set by step(); schedulers warn when stepped before the optimizer */
  _optCalled = false;
  /** @internal */ protected readonly _name: string;
  /** @internal */ protected readonly _specs: OptionSpec[];
  private _warnedFrozen = false;
  private _disposed = false;

  /**
   * @param name the class name used in messages ('SGD')
   * @param specs every hyper-parameter in PyTorch's defaults order
   * @param options the user's options (camelCase; snake_case accepted too)
   */
  protected constructor(name: string, params: ParamsLike, specs: OptionSpec[], options: Record<string, unknown> | undefined) {
    this._name = name;
    this._specs = specs;
    const fn = `${name}()`;
    if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
      argError(fn, 'options', 'an object of options', options);
    }
    const given = normalizeKeys(options ?? {});
    const known = specs.filter((s) => !s.fixed).map((s) => s.name);
    checkOptions(fn, given, known, name);
    const defaults: Record<string, unknown> = {};
    for (const s of specs) defaults[s.name] = s.name in given && !s.fixed ? given[s.name] : s.default;
    this.defaults = defaults;
    this._checkGroup(fn, defaults, '');

    if (params instanceof Tensor) argError(fn, 'params', 'an array of tensors or of param groups', params);
    if (!Array.isArray(params)) argError(fn, 'params', 'an array of tensors or of param groups', params);
    if (params.length === 0) throw new TorchError(`${fn}: argument 'params' is an empty list; the optimizer needs at least one parameter`, 'ERR_TORCH_ARG');
    const groups: ParamGroupSpec[] = params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroupSpec[]);
    groups.forEach((g, i) => this._addGroup(fn, g, groups.length > 1 || !(params[0] instanceof Tensor) ? `params[${i}].` : ''));
  }

  // ---- param groups -----------------------------------------------------------------------------------
  /** Adds a group (progressive unfreezing): `{ params: [...], lr?: ..., ...other options }`. */
  addParamGroup(group: ParamGroupSpec): void {
    this._checkAlive('addParamGroup()');
    this._addGroup('addParamGroup()', group, 'paramGroup.');
  }

  private _addGroup(fn: string, spec: ParamGroupSpec, where: string): void {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec) || spec instanceof Tensor) {
      argError(fn, where ? where.slice(0, -1) : 'paramGroup', 'an object { params, ...options }', spec);
    }
    const raw = spec.params;
    const list: unknown[] = raw instanceof Tensor ? [raw] : Array.isArray(raw) ? raw : argError(fn, `${where}params`, 'a Tensor or an array of tensors', raw);
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) argError(fn, `${where}params[${i}]`, 'a Tensor', p);
      if (p.isDisposed) throw new TorchError(`${fn}: ${where}params[${i}] was disposed`, 'ERR_TORCH_DISPOSED');
      if (!p.isLeaf)
        throw new TorchError(`${fn}: ${where}params[${i}] is not a leaf tensor; an optimizer can only update leaves (parameters)`, 'ERR_TORCH_ARG');
    });
    const params = list as Tensor[];
    if (new Set(params).size !== params.length) {
      process.emitWarning(`${this._name}: a parameter group holds the same parameter more than once; it will be updated once per occurrence`, {
        code: 'TORCH_NODE_DUPLICATE_PARAMS',
      });
    }
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    if (params.some((p) => seen.has(p))) {
      throw new TorchError(`${fn}: some parameters appear in more than one parameter group`, 'ERR_TORCH_ARG');
    }
    // PyTorch's key order: the group's own keys as given, then the defaults it does not set.
    const own = normalizeKeys(spec as Record<string, unknown>);
    const group = { params: [...params] } as ParamGroup;
    for (const [k, v] of Object.entries(own)) if (k !== 'params') group[k] = Array.isArray(v) ? [...v] : v;
    for (const [k, v] of Object.entries(this.defaults)) if (!(k in group)) group[k] = Array.isArray(v) ? [...v] : v;
    this._checkGroup(fn, group, where);
    this._warnFrozen(params);
    this.paramGroups.push(group);
    this._initGroup(group);
  }

  /** @internal Hook: optimizers whose state is made eagerly (Adagrad) fill it here. */
  protected _initGroup(_group: ParamGroup): void {}

  private _warnFrozen(params: Tensor[]): void {
    if (this._warnedFrozen) return;
    const frozen = params.filter((p) => !p.requiresGrad).length;
    if (frozen === 0) return;
    this._warnedFrozen = true;
    process.emitWarning(
      `${this._name}: ${frozen} of the parameters given do not require grad (frozen); they keep their place in the ` +
        'param groups and state dict, as in PyTorch, but are never updated. Pass trainableParameters(model) to leave them out.',
      { code: 'TORCH_NODE_FROZEN_PARAMS' },
    );
  }

  /** Checks every known option of a group (also run at each step: groups are writable). */
  protected _checkGroup(fn: string, group: Record<string, unknown>, where: string): void {
    for (const s of this._specs) {
      if (!s.check || !(s.name in group)) continue;
      const bad = s.check(group[s.name]);
      if (bad !== null) argError(fn, `${where}${s.name}`, bad, group[s.name]);
    }
    this._checkExtra(fn, group, where);
  }

  /** @internal Hook for checks across options (SGD's nesterov, Adam's betas). */
  protected _checkExtra(_fn: string, _group: Record<string, unknown>, _where: string): void {}

  // ---- gradients and steps --------------------------------------------------------------------------------
  /** Clears every parameter's gradient: to null (default, as PyTorch), or to zeros with `{ setToNone: false }` (or Python's positional `zeroGrad(false)`). */
  zeroGrad(options: { setToNone?: boolean } | boolean = {}): void {
    this._checkAlive('zeroGrad()');
    const o = typeof options === 'boolean' ? { setToNone: options } : options;
    if (o === null || typeof o !== 'object') argError('zeroGrad()', 'options', 'a setToNone boolean or { setToNone }', o);
    checkOptions('zeroGrad()', o, ['setToNone']);
    const setToNone = o.setToNone ?? true;
    checkBool('zeroGrad()', 'setToNone', setToNone);
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.isDisposed) continue;
        if (setToNone) {
          // A handle the user took with p.grad passes to the current scope (see Tensor.grad).
          p.grad = null;
          continue;
        }
        const gid = native.grad(p._h);
        if (gid === null) continue;
        const grad = wrap(gid);
        try {
          if (grad.gradFn !== null) grad.detach_();
          else grad.requiresGrad_(false);
          noGrad(() => grad.zero_());
        } finally {
          grad.dispose();
        }
      }
    }
  }

  /**
   * One optimisation step over every parameter that has a gradient (and requires grad). With a
   * closure, it is called first with grad enabled and its result returned, as PyTorch's step(closure).
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const fn = `${this._name}.step()`;
    this._checkAlive(fn);
    let loss: T | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') argError(fn, 'closure', 'a function', closure);
      loss = enableGrad(closure);
    }
    this.paramGroups.forEach((g, i) => this._checkGroup(fn, g, `paramGroups[${i}].`));
    this._optCalled = true;
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) {
          const items: StepItem[] = [];
          for (const p of group.params) {
            if (p.isDisposed) throw new TorchError(`${fn}: a parameter of this optimizer was disposed`, 'ERR_TORCH_DISPOSED');
            if (!p.requiresGrad) continue;
            const gid = native.grad(p._h);
            if (gid === null) continue;
            items.push({ param: p, grad: wrap(gid) });
          }
          if (items.length) this._update(group, items);
        }
      }),
    );
    return loss;
  }

  /** @internal The math of one group (under no-grad, inside tidy): every item has a gradient. */
  protected abstract _update(group: ParamGroup, items: StepItem[]): void;

  /** @internal The state of p, created empty on first use (PyTorch's defaultdict). */
  protected _stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = new Map()));
    return s;
  }

  /** @internal Stores a tensor the optimizer owns from now on (kept out of every tidy). */
  protected _own(state: ParamState, key: string, t: Tensor): Tensor {
    const old = state.get(key);
    if (old instanceof Tensor && old !== t) old.dispose();
    state.set(key, keep(t));
    return t;
  }

  // ---- state dict -----------------------------------------------------------------------------------------
  /**
   * PyTorch's optimizer.state_dict(): `Map { state: Map<index, Map<name, Tensor|number>>,
   * param_groups: [Map { ...hyper-parameters (snake_case), params: [indices] }] }`. State tensors
   * are views sharing the optimizer's storage (as Python's are the same tensors); they belong to
   * the caller's scope.
   */
  stateDict(): Map<string, unknown> {
    this._checkAlive('stateDict()');
    const index = new Map<Tensor, number>();
    let start = 0;
    const groups = this.paramGroups.map((g) => {
      const fk = floatKeys.get(g);
      const m = new Map<string, unknown>();
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params') continue;
        const key = toSnake(k);
        let value = v;
        if (Array.isArray(v)) {
          value = [...v];
          if (isTuple(v) || k === 'betas') tuple(value as unknown[]);
          if (k === 'betas') (value as unknown[]).forEach((_x, i) => markFloat(value as object, i));
          else (v as unknown[]).forEach((_x, i) => isMarkedFloat(v, i) && markFloat(value as object, i));
        }
        m.set(key, value);
        if (typeof v === 'number' && (FLOAT_GROUP_KEYS.has(k) || fk?.has(k) || this._specs.some((s) => s.name === k && s.float))) markFloat(m, key);
      }
      g.params.forEach((p, i) => {
        if (!index.has(p)) index.set(p, start + i);
      });
      m.set(
        'params',
        g.params.map((p) => index.get(p) as number),
      );
      start += g.params.length;
      return m;
    });
    const state = new Map<number, Map<string, unknown>>();
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const out = new Map<string, unknown>();
      for (const [k, v] of s) out.set(k, v instanceof Tensor ? wrap(native.alias(v._h)) : v);
      state.set(i, out);
    }
    return new Map<string, unknown>([
      ['state', state],
      ['param_groups', groups],
    ]);
  }

  /**
   * Restores a state dict from stateDict() or from torch.load() of a Python checkpoint: every
   * hyper-parameter of every group, and the state tensors (copied to each parameter's device and
   * dtype; `step` stays as saved). The groups must have as many parameters as the optimizer's.
   * Atomic: when it throws, nothing has changed.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const fn = `${this._name}.loadStateDict()`;
    this._checkAlive(fn);
    const sd = entriesOf(fn, 'stateDict', stateDict);
    if (!sd.has('state') || !sd.has('param_groups')) {
      throw new TorchError(
        `${fn}: a state dict has the keys 'state' and 'param_groups'; got ${[...sd.keys()].map((k) => `'${String(k)}'`).join(', ') || 'none'}`,
        'ERR_TORCH_ARG',
      );
    }
    const savedGroups = sd.get('param_groups');
    if (!Array.isArray(savedGroups)) argError(fn, 'param_groups', 'an array of groups', savedGroups);
    if (savedGroups.length !== this.paramGroups.length) {
      throw new TorchError(`${fn}: the state dict has ${savedGroups.length} parameter group(s), the optimizer has ${this.paramGroups.length}`, 'ERR_TORCH_ARG');
    }
    const groups = savedGroups.map((g, i) => entriesOf(fn, `param_groups[${i}]`, g));
    const idMap = new Map<number, Tensor>();
    groups.forEach((g, i) => {
      const ids = g.get('params');
      if (!Array.isArray(ids)) argError(fn, `param_groups[${i}].params`, 'an array of parameter indices', ids);
      const mine = this.paramGroups[i].params;
      if (ids.length !== mine.length) {
        throw new TorchError(`${fn}: param_groups[${i}] has ${ids.length} parameter(s), the optimizer's group ${i} has ${mine.length}`, 'ERR_TORCH_ARG');
      }
      ids.forEach((id, j) => {
        if (typeof id !== 'number' && typeof id !== 'bigint') argError(fn, `param_groups[${i}].params[${j}]`, 'an integer', id);
        idMap.set(Number(id), mine[j]);
      });
    });
    // The new groups (PyTorch: the saved groups with our params), checked before anything changes.
    const newGroups = groups.map((g, i) => {
      const group = { params: this.paramGroups[i].params } as ParamGroup;
      const fk = new Set<string>();
      for (const [k, v] of g) {
        if (k === 'params' || typeof k !== 'string') continue;
        const key = toCamel(k);
        group[key] = Array.isArray(v) ? copyArray(v) : v;
        if (typeof v === 'number' && isMarkedFloat(g, k)) fk.add(key);
      }
      for (const [k, v] of Object.entries(this.defaults)) if (!(k in group)) group[k] = Array.isArray(v) ? [...v] : v;
      this._fixLoadedGroup(group);
      this._checkGroup(fn, group, `param_groups[${i}].`);
      floatKeys.set(group, fk);
      return group;
    });
    const groupOf = new Map<Tensor, ParamGroup>();
    newGroups.forEach((g) => g.params.forEach((p) => groupOf.set(p, g)));
    const savedState = entriesOf(fn, 'state', sd.get('state'));
    const staged: [Tensor, ParamState][] = [];
    const made: Tensor[] = [];
    try {
      for (const [k, v] of savedState) {
        const param = idMap.get(Number(k));
        if (param === undefined) continue; // PyTorch keeps such entries under their id; nothing can use them
        const entries = entriesOf(fn, `state[${String(k)}]`, v);
        const s: ParamState = new Map();
        for (const [name, value] of entries) {
          if (typeof name !== 'string') continue;
          s.set(name, this._castState(fn, param, groupOf.get(param) as ParamGroup, `state[${String(k)}].${name}`, name, value, made));
        }
        staged.push([param, s]);
      }
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
    this._disposeState();
    for (const [p, s] of staged) this.state.set(p, s);
    this.paramGroups = newGroups;
  }

  /** @internal Casts one saved state value as PyTorch's _process_value_according_to_param_policy. */
  private _castState(fn: string, param: Tensor, group: ParamGroup, where: string, key: string, value: unknown, made: Tensor[]): StateValue {
    if (typeof value === 'bigint') value = Number(value);
    if (value === null) return null;
    if (typeof value === 'number') {
      // Old checkpoints hold 'step' as a number; PyTorch's __setstate__ makes it a tensor.
      if (key === 'step' && this._stepIsTensor) return this._newStep(param, group, value, made);
      return value;
    }
    if (!(value instanceof Tensor)) {
      throw new TorchError(`${fn}: ${where} must be a Tensor or a number, got ${describe(value)}`, 'ERR_TORCH_ARG');
    }
    if (value.isDisposed) throw new TorchError(`${fn}: ${where} was disposed`, 'ERR_TORCH_DISPOSED');
    let t: Tensor;
    if (key === 'step') {
      t = group.capturable || group.fused ? value.to({ dtype: 'float32', device: param.device, copy: true }) : value.clone();
    } else {
      const ps = param.shape;
      const vs = value.shape;
      if (ps.length !== vs.length || ps.some((d, i) => d !== vs[i])) {
        throw new TorchError(`${fn}: ${where} has shape [${vs.join(', ')}] but its parameter has shape [${ps.join(', ')}]`, 'ERR_TORCH_ARG');
      }
      const isFloat = ['float32', 'float64', 'float16', 'bfloat16'].includes(param.dtype);
      t = value.to(isFloat ? { dtype: param.dtype, device: param.device, copy: true } : { device: param.device, copy: true });
    }
    made.push(keep(t));
    return t;
  }

  /** @internal Whether this optimizer keeps 'step' as a tensor (all but SGD). */
  protected get _stepIsTensor(): boolean {
    return true;
  }

  /** @internal A 'step' tensor as PyTorch makes it: float32, on the CPU (on the param's device when capturable or fused). */
  protected _newStep(param: Tensor, group: ParamGroup, value: number, made?: Tensor[]): Tensor {
    const onDevice = Boolean(group.capturable || group.fused);
    const t = keep(scalarTensor(value, { dtype: 'float32', device: onDevice ? param.device : 'cpu' }));
    made?.push(t);
    return t;
  }

  /** @internal Hook: what PyTorch's __setstate__ does to a loaded group (AdamW forces decoupled decay). */
  protected _fixLoadedGroup(_group: ParamGroup): void {}

  // ---- lifetime -----------------------------------------------------------------------------------------
  private _disposeState(): void {
    for (const s of this.state.values()) for (const v of s.values()) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** Frees every state tensor (momentum buffers, moments). Idempotent; the optimizer cannot be used after. */
  dispose(): void {
    this._disposeState();
    this._disposed = true;
  }
  /** dispose(), for `using opt = new optim.SGD(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Whether dispose() has been called. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  private _checkAlive(fn: string): void {
    if (this._disposed) throw new TorchError(`${fn}: this ${this._name} optimizer was disposed`, 'ERR_TORCH_DISPOSED');
  }

  /** PyTorch's repr: the class name and each group's options. */
  toString(): string {
    const lines = [`${this._name} (`];
    this.paramGroups.forEach((g, i) => {
      lines.push(`Parameter Group ${i}`);
      for (const k of Object.keys(g).sort()) if (k !== 'params') lines.push(`    ${toSnake(k)}: ${formatValue(g[k])}`);
    });
    lines.push(')');
    return lines.join('\n');
  }
}

/** One parameter in a step: the parameter and its gradient (a temporary handle). */
export interface StepItem {
  param: Tensor;
  grad: Tensor;
}

function formatValue(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `(${v.map(formatValue).join(', ')})`;
  return String(v);
}

/** snake_case option names become camelCase; others stay. */
function normalizeKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k === 'params' ? k : toCamel(k)] = v;
  return out;
}

function copyArray(v: unknown[]): unknown[] {
  const c = [...v];
  if (isTuple(v)) tuple(c);
  v.forEach((_x, i) => isMarkedFloat(v, i) && markFloat(c, i));
  return c;
}

/** A Map, or a plain object (numeric keys of `state` as numbers), as a Map. */
function entriesOf(fn: string, what: string, v: unknown): Map<unknown, unknown> {
  if (v instanceof Map) return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor)) {
    return new Map(Object.entries(v).map(([k, x]) => [/^\d+$/.test(k) ? Number(k) : k, x]));
  }
  return argError(fn, what, 'a Map or an object', v);
}
