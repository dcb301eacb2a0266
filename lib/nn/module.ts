/**
 * torch.nn.Module and Parameter, with PyTorch's semantics: registration order is state-dict order,
 * registering a name again replaces it (a head swap), train()/eval() propagate, stateDict() holds
 * parameters and persistent buffers, loadStateDict() is strict by default — and, unlike PyTorch,
 * atomic: when it throws, nothing has changed.
 *
 * Memory: a module owns its parameters and buffers (they survive tidy() and are freed by
 * module.dispose() or, as a backstop, the GC). Tensors that stateDict(), parameters() views, forward
 * etc. return belong to the caller's scope as usual.
 */
import { checkBool, checkDtype } from '../checks';
import '../disposable';
import { native } from '../binding';
import { isGradEnabled, noGrad } from '../autograd';
import { targetDevice, type DeviceLike } from '../device';
import { isDType, type DType } from '../dtype';
import { TorchError, argError, checkOptions, describe } from '../errors';
import { RemovableHandle } from '../hooks';
import { BINARY_INPLACE, UNARY } from '../ops/codes';
import { keep } from '../scope';
import { Tensor, idOf, wrap } from '../tensor';

// Native op codes used here (lib/ops/codes.ts).
const UNARY_DETACH = UNARY.indexOf('detach');
const BINARY_COPY = BINARY_INPLACE.indexOf('copy_');

/** A tensor that is a module parameter: a leaf that requires grad by default (torch.nn.Parameter). */
export class Parameter extends Tensor {
  /** Shares `data`'s storage, as PyTorch's Parameter(data) does; owned by whoever registers it. */
  constructor(data: Tensor, requiresGrad = true) {
    const id = native.unary(UNARY_DETACH, idOf(data, 'Parameter()', 'data'));
    super(id);
    if (requiresGrad) native.setRequiresGrad(id, true);
    keep(this);
  }
  /**
   * @internal A Parameter over an existing native tensor (the same TensorImpl, no detach): how the
   * parameters of a TorchScript module are exposed, so gradients and in-place updates reach it.
   */
  static _fromId(id: number): Parameter {
    const p = Reflect.construct(Tensor, [id], Parameter) as Parameter;
    keep(p);
    return p;
  }
  /** As PyTorch prints a Parameter. */
  override toString(): string {
    return this.isDisposed ? super.toString() : `Parameter containing:\n${super.toString()}`;
  }
}

const NAME_RE = /^[^.]+$/;

function checkName(fn: string, kind: string, name: unknown): string {
  if (typeof name !== 'string' || name === '' || !NAME_RE.test(name)) {
    argError(fn, 'name', `a non-empty ${kind} name without '.'`, name);
  }
  return name;
}

/** @internal The object behind a module's Proxy (`module[RAW]`): writes to it skip the traps. */
export const RAW = Symbol('torch-node.Module.raw');
/** @internal A prototype property: the Proxy handler a Module subclass wants (containers add index traps). */
export const TRAPS = Symbol('torch-node.Module.traps');
/** The Proxy of a raw module (`raw[SELF]`), to recognise a module assigned as its own child. */
const SELF = Symbol('torch-node.Module.self');

/**
 * @internal Sets an attribute that is never registered (a reference to another module, say),
 * non-enumerable, on the object behind the Proxy.
 */
export function setPlain(m: Module, name: string, value: unknown): void {
  Object.defineProperty((m as any)[RAW] ?? m, name, { value, writable: true, enumerable: false, configurable: true });
}

/** @internal Sets the plain property behind a registered name, bypassing the traps. */
export function setSlot(m: Module, name: string, value: unknown): void {
  Reflect.defineProperty((m as any)[RAW] ?? m, name, { value, writable: true, enumerable: true, configurable: true });
}

function typeName(v: unknown): string {
  if (v instanceof Tensor) return v.isDisposed ? 'Tensor (disposed)' : `Tensor (${v.dtype})`;
  return describe(v);
}

/** A TypeScript class field declared without an initialiser (`fc: Linear;`) defines undefined. */
function isBareFieldDefinition(desc: PropertyDescriptor): boolean {
  return desc.value === undefined && desc.writable === true && desc.enumerable === true && desc.configurable === true;
}

/**
 * PyTorch's nn.Module.__setattr__: a Parameter registers (or replaces, keeping its position) a
 * parameter; a Module a child; a tensor or null onto a buffer name replaces the buffer; null onto a
 * parameter or child name clears it; anything else onto those names is PyTorch's TypeError.
 */
function setAttr(raw: Module, name: string, value: unknown, desc: PropertyDescriptor): boolean {
  const self = (raw as any)[SELF] as Module;
  if (value instanceof Parameter) {
    checkName(`${raw.constructor.name}.${name} = ...`, 'parameter', name);
    if (value.isDisposed) throw new TorchError(`cannot assign a disposed Parameter as parameter '${name}'`, 'ERR_TORCH_DISPOSED');
    raw._buffers.delete(name);
    raw._nonPersistent.delete(name);
    raw._modules.delete(name);
    raw._parameters.set(name, value);
  } else if (raw._parameters.has(name)) {
    if (value === undefined && isBareFieldDefinition(desc)) return true;
    if (value !== null) {
      throw new TorchError(
        `cannot assign ${typeName(value)} as parameter '${name}' (torch.nn.Parameter or null expected): ` +
          `wrap it, ${raw.constructor.name}.${name} = new nn.Parameter(t), or copy the values in place, ` +
          `noGrad(() => m.${name}.copy_(t))`,
        'ERR_TORCH_TYPE',
      );
    }
    raw._parameters.set(name, null);
  } else if (value instanceof Module) {
    checkName(`${raw.constructor.name}.${name} = ...`, 'module', name);
    if (value === self) throw new TorchError(`cannot assign a module as its own child '${name}'`, 'ERR_TORCH_ARG');
    raw._parameters.delete(name);
    raw._buffers.delete(name);
    raw._nonPersistent.delete(name);
    raw._modules.set(name, value);
  } else if (raw._modules.has(name)) {
    if (value === undefined && isBareFieldDefinition(desc)) return true;
    if (value !== null) {
      throw new TorchError(
        `cannot assign ${typeName(value)} as child module '${name}' (torch.nn.Module or null expected); ` + `delete m.${name} unregisters it`,
        'ERR_TORCH_TYPE',
      );
    }
    raw._modules.set(name, null);
  } else if (raw._buffers.has(name)) {
    if (value === undefined && isBareFieldDefinition(desc)) return true;
    if (value !== null && !(value instanceof Tensor)) {
      throw new TorchError(`cannot assign ${typeName(value)} as buffer '${name}' (torch.Tensor or null expected)`, 'ERR_TORCH_TYPE');
    }
    if (value !== null) {
      idOf(value, `${raw.constructor.name}.${name} = ...`, 'value');
      keep(value);
    }
    raw._buffers.set(name, value);
  } else {
    return Reflect.defineProperty(raw, name, desc);
  }
  setSlot(raw, name, value);
  return true;
}

/** PyTorch's nn.Module.__delattr__: `delete m.fc` unregisters a parameter, buffer or child. */
function delAttr(raw: Module, name: string): void {
  if (raw._parameters.has(name)) raw._parameters.delete(name);
  else if (raw._buffers.has(name)) {
    raw._buffers.delete(name);
    raw._nonPersistent.delete(name);
  } else raw._modules.delete(name);
}

/** @internal The traps every module's Proxy has; containers extend them (lib/nn/layers.ts). */
export const baseTraps: ProxyHandler<Module> = {
  defineProperty(target, key, desc) {
    if (typeof key === 'string' && 'value' in desc) return setAttr(target, key, desc.value, desc);
    return Reflect.defineProperty(target, key, desc);
  },
  deleteProperty(target, key) {
    if (typeof key === 'string') delAttr(target, key);
    return Reflect.deleteProperty(target, key);
  },
};

/** A module's own state-dict entries: its parameters, then its persistent buffers (PyTorch's _save_to_state_dict). */
function ownState(m: Module): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  for (const [name, t] of m._parameters) if (t) out.push([name, t]);
  for (const [name, t] of m._buffers) if (t && !m._nonPersistent.has(name)) out.push([name, t]);
  return out;
}

function moduleTraps(raw: Module): ProxyHandler<Module> {
  return ((raw as any)[TRAPS] as ProxyHandler<Module> | undefined) ?? baseTraps;
}

/**
 * @internal Python's Module._replicate_for_data_parallel: a shallow copy of `m` (same prototype, same
 * plain attributes and hooks) with no parameters of its own and copies of its buffer and child maps,
 * behind a Proxy of its own. DataParallel then sets the replica's tensors and children.
 */
export function replicaOf(m: Module): Module {
  const raw = (m as any)[RAW] as Module;
  const r = Object.create(Object.getPrototypeOf(raw)) as Module;
  for (const key of Reflect.ownKeys(raw)) {
    if (key === RAW || key === SELF || key === '_parameters' || key === '_buffers' || key === '_modules') continue;
    Object.defineProperty(r, key, Object.getOwnPropertyDescriptor(raw, key)!);
  }
  Object.defineProperty(r, '_parameters', { value: new Map(), enumerable: true });
  Object.defineProperty(r, '_buffers', { value: new Map(raw._buffers), enumerable: true });
  Object.defineProperty(r, '_modules', { value: new Map(raw._modules), enumerable: true });
  Object.defineProperty(r, RAW, { value: r });
  const proxy = new Proxy(r, moduleTraps(r));
  Object.defineProperty(r, SELF, { value: proxy });
  return proxy;
}

// ---- hooks ------------------------------------------------------------------------------------------
type HookKind = 'forwardPre' | 'forward' | 'backward' | 'backwardPre' | 'stateDictPre' | 'stateDictPost' | 'loadStateDictPre' | 'loadStateDictPost';
interface HookEntry {
  fn: (...args: any[]) => any;
  alwaysCall: boolean;
}
/** @internal */
export type Hooks = Partial<Record<HookKind, HookEntry[]>>;

function addHook(m: Module, kind: HookKind, fn: string, hook: unknown, options: { prepend?: boolean; alwaysCall?: boolean }): RemovableHandle {
  if (typeof hook !== 'function') argError(fn, 'hook', 'a function', hook);
  if (options === null || typeof options !== 'object') argError(fn, 'options', 'an object', options);
  checkOptions(fn, options, kind === 'forward' ? ['prepend', 'alwaysCall'] : ['prepend']);
  const entry: HookEntry = { fn: hook as HookEntry['fn'], alwaysCall: options.alwaysCall === true };
  const hooks = (m._hooks ??= {});
  const list = (hooks[kind] ??= []);
  if (options.prepend) list.unshift(entry);
  else list.push(entry);
  return new RemovableHandle(() => {
    const l = m._hooks?.[kind];
    const i = l ? l.indexOf(entry) : -1;
    if (i < 0) return;
    l!.splice(i, 1);
    if (l!.length === 0) delete m._hooks![kind];
    if (Object.keys(m._hooks!).length === 0) m._hooks = null;
  });
}

/** A copy of `m`'s hooks of `kind` (a hook may remove itself while they run), or undefined when it has none. */
function hooksOf(m: Module, kind: HookKind): HookEntry[] | undefined {
  const l = m._hooks?.[kind];
  return l?.length ? [...l] : undefined;
}

const needsGrad = (v: unknown): v is Tensor => v instanceof Tensor && !v.isDisposed && v.requiresGrad;

/** Module.call with hooks: PyTorch's _call_impl. */
function callWithHooks(m: Module, args: any[]): any {
  for (const h of hooksOf(m, 'forwardPre') ?? []) {
    const r = h.fn(m, args);
    if (r !== undefined && r !== null) args = Array.isArray(r) ? r : [r];
  }
  const backward = hooksOf(m, 'backward') || hooksOf(m, 'backwardPre') ? new BackwardHooks(m) : null;
  if (backward && isGradEnabled()) args = backward.setupInputs(args);
  const forwardHooks = hooksOf(m, 'forward') ?? [];
  let out: any;
  try {
    out = m.forward(...args);
  } catch (e) {
    for (const h of forwardHooks) {
      if (!h.alwaysCall) continue;
      try {
        h.fn(m, args, undefined);
      } catch {
        /* the forward's error is the one reported, as PyTorch */
      }
    }
    throw e;
  }
  for (const h of forwardHooks) {
    const r = h.fn(m, args, out);
    if (r !== undefined && r !== null) out = r;
  }
  if (backward && isGradEnabled()) backward.setupOutputs(out);
  return out;
}

/**
 * PyTorch's BackwardHook, on tensor hooks: each input that requires grad goes into forward as an
 * alias whose gradient is the gradient with respect to the input; each output that requires grad
 * has a hook that records its gradient. When the last input gradient arrives, the module's
 * backward hooks run with both.
 */
class BackwardHooks {
  private gradOutputs: (Tensor | null)[] = [];
  private gradInputs: (Tensor | null)[] = [];
  private inputIndex: number[] = [];
  private pending = 0;
  private done = false;
  constructor(private readonly m: Module) {}

  setupInputs(args: any[]): any[] {
    this.gradInputs = args.map(() => null);
    const out = args.map((a, i) => {
      if (!needsGrad(a)) return a;
      this.inputIndex.push(i);
      const alias = a.viewAs(a);
      alias.registerHook((g) => this.onInputGrad(i, g));
      return alias;
    });
    this.pending = this.inputIndex.length;
    return out;
  }

  setupOutputs(out: unknown): void {
    const outs: unknown[] = out instanceof Tensor ? [out] : Array.isArray(out) ? out : [];
    this.gradOutputs = outs.map(() => null);
    let waiting = outs.filter(needsGrad).length;
    outs.forEach((o, i) => {
      if (!needsGrad(o)) return;
      o.registerHook((g) => {
        let grad: Tensor = g;
        this.gradOutputs[i] = grad;
        waiting--;
        for (const h of hooksOf(this.m, 'backwardPre') ?? []) {
          const r = h.fn(this.m, [...this.gradOutputs]);
          if (r !== undefined && r !== null) {
            const list = Array.isArray(r) ? r : [r];
            if (outs.length > 1 && list[i] !== this.gradOutputs[i]) {
              throw new TorchError(
                `a full backward pre-hook of ${this.m.constructor.name} replaced gradOutput, which torch-node supports for modules with one output only`,
                'ERR_TORCH_UNSUPPORTED',
              );
            }
            grad = list[i];
            this.gradOutputs[i] = grad;
          }
        }
        if (waiting === 0 && this.inputIndex.length === 0) this.runHooks(true);
        return grad === g ? undefined : grad;
      });
    });
  }

  private onInputGrad(i: number, g: Tensor): Tensor | undefined {
    this.gradInputs[i] = g;
    this.pending--;
    if (this.pending > 0 || this.done) return undefined;
    const replaced = this.runHooks(false);
    if (!replaced) return undefined;
    const changed = this.inputIndex.filter((j) => replaced[j] !== this.gradInputs[j]);
    if (changed.some((j) => j !== i)) {
      throw new TorchError(
        `a full backward hook of ${this.m.constructor.name} replaced gradInput of an argument whose gradient had already gone on; torch-node can replace gradInput for a module with one tensor input that requires grad`,
        'ERR_TORCH_UNSUPPORTED',
      );
    }
    return replaced[i] ?? undefined;
  }

  /** Runs the backward hooks; returns the gradInput to use, or undefined when unchanged. */
  private runHooks(noInputs: boolean): (Tensor | null)[] | undefined {
    this.done = true;
    let gradInput = [...this.gradInputs];
    let replaced = false;
    for (const h of hooksOf(this.m, 'backward') ?? []) {
      const r = h.fn(this.m, gradInput, [...this.gradOutputs]);
      if (r === undefined || r === null) continue;
      if (!Array.isArray(r) || r.length !== gradInput.length) {
        throw new TorchError(
          `a full backward hook of ${this.m.constructor.name} returned ${describe(r)}; expected an array of ${gradInput.length} (Tensor or null), or undefined`,
          'ERR_TORCH_ARG',
        );
      }
      if (noInputs && r.some((x) => x !== null && x !== undefined)) {
        throw new TorchError(
          'a backward hook for a module where no input requires gradient must return undefined, or null for every gradient',
          'ERR_TORCH_ARG',
        );
      }
      gradInput = r;
      replaced = true;
    }
    return replaced ? gradInput : undefined;
  }
}

/** What loadStateDict() returns: PyTorch's `_IncompatibleKeys` (missing_keys, unexpected_keys). */
export interface LoadResult {
  /** Keys the module has that the state dict lacks. */
  missingKeys: string[];
  /** Keys in the state dict that the module does not have. */
  unexpectedKeys: string[];
}

/** A state dict as loadStateDict() takes it: a Map (what stateDict() and torch.load return) or a plain object of tensors. */
export type StateDictLike = Map<string, Tensor> | Record<string, Tensor>;

export function stateDictEntries(fn: string, sd: StateDictLike): [string, Tensor][] {
  if (sd instanceof Map) return [...sd.entries()];
  if (sd && typeof sd === 'object' && !(sd instanceof Module) && !(sd instanceof Tensor)) return Object.entries(sd);
  if (sd instanceof Module) {
    throw new TorchError(`${fn}: argument 'stateDict' must be a state dict, got a module (${sd.constructor.name}); pass other.stateDict()`, 'ERR_TORCH_ARG');
  }
  if (sd === undefined) {
    throw new TorchError(
      `${fn}: argument 'stateDict' must be a Map or an object of tensors, got undefined. ` +
        `If it was read from a checkpoint: torch.load returns Python dicts as Maps, so read entries with ` +
        `ckpt.get('model_state_dict'), not ckpt['model_state_dict'] or ckpt.model_state_dict`,
      'ERR_TORCH_ARG',
    );
  }
  return argError(fn, 'stateDict', 'a Map or an object of tensors', sd);
}

/**
 * PyTorch's `torch.nn.Module`: the base class of every layer and model. Subclass it, implement
 * forward(), and register parameters, buffers and children by assigning them (`this.fc = new nn.Linear(4, 2)`)
 * or with registerParameter / registerBuffer / registerModule; call the model with `model.forward(x)`
 * (or `model.call(x)` to run hooks).
 */
export class Module {
  /** Whether the module is in training mode (PyTorch's `training`); set by train() and eval(). */
  training = true;
  /** @internal */ readonly _parameters = new Map<string, Tensor | null>();
  /** @internal */ readonly _buffers = new Map<string, Tensor | null>();
  /** @internal */ readonly _nonPersistent = new Set<string>();
  /** @internal */ readonly _modules = new Map<string, Module | null>();
  /** @internal hooks by kind (forward, forwardPre, backward, stateDictPre, ...), null until one is registered */
  _hooks: Hooks | null = null;

  /**
   * Every module is a Proxy over itself that traps property definition and deletion (never reads,
   * so forward's `this.conv1` stays a plain property load): `model.fc = new nn.Linear(...)`,
   * `lin.weight = new nn.Parameter(t)`, class fields and `delete model.fc` register and unregister
   * as PyTorch's nn.Module.__setattr__ / __delattr__ do.
   */
  constructor() {
    Object.defineProperty(this, RAW, { value: this });
    const proxy = new Proxy(this, moduleTraps(this));
    Object.defineProperty(this, SELF, { value: proxy });
    return proxy;
  }

  /** The computation; subclasses implement it. */
  forward(..._args: any[]): any {
    throw new TorchError(`${this.constructor.name} has no forward(): subclasses of Module must implement it`);
  }

  /** model(x) in Python: runs the forward pre-hooks, forward, then the forward and backward hooks. */
  call(...args: any[]): any {
    if (this._hooks === null) return this.forward(...args);
    return callWithHooks(this, args);
  }

  // ---- hooks ------------------------------------------------------------------------------------
  /**
   * register_forward_pre_hook: `hook(module, args)` runs before forward; an array it returns
   * replaces the arguments (another value becomes the only argument; undefined/null keeps them).
   */
  registerForwardPreHook(hook: (module: this, args: any[]) => any, options: { prepend?: boolean } = {}): RemovableHandle {
    return addHook(this, 'forwardPre', 'registerForwardPreHook()', hook, options);
  }
  /**
   * register_forward_hook: `hook(module, args, output)` runs after forward; a value it returns
   * replaces the output. `alwaysCall`: also run (with output undefined) when forward throws.
   */
  registerForwardHook(hook: (module: this, args: any[], output: any) => any, options: { prepend?: boolean; alwaysCall?: boolean } = {}): RemovableHandle {
    return addHook(this, 'forward', 'registerForwardHook()', hook, options);
  }
  /**
   * register_full_backward_hook: `hook(module, gradInput, gradOutput)` runs when the gradients with
   * respect to the module's inputs are computed (gradInput has one entry per argument, null where
   * it is not a tensor that requires grad); an array it returns replaces gradInput. If no input
   * requires grad it runs once gradOutput is known, with gradInput all null. Like PyTorch, the
   * hooks run for calls made through `module.call(x)`, not `module.forward(x)`. A module with
   * several tensor inputs can observe their gradients but not replace them (a TorchError says so).
   */
  registerFullBackwardHook(
    hook: (module: this, gradInput: (Tensor | null)[], gradOutput: (Tensor | null)[]) => any,
    options: { prepend?: boolean } = {},
  ): RemovableHandle {
    return addHook(this, 'backward', 'registerFullBackwardHook()', hook, options);
  }
  /** register_full_backward_pre_hook: `hook(module, gradOutput)` before the module's gradients; an array it returns replaces gradOutput. */
  registerFullBackwardPreHook(hook: (module: this, gradOutput: (Tensor | null)[]) => any, options: { prepend?: boolean } = {}): RemovableHandle {
    return addHook(this, 'backwardPre', 'registerFullBackwardPreHook()', hook, options);
  }
  /** register_state_dict_pre_hook: `hook(module, prefix, keepVars)` before stateDict() collects this module's entries. */
  registerStateDictPreHook(hook: (module: this, prefix: string, keepVars: boolean) => void): RemovableHandle {
    return addHook(this, 'stateDictPre', 'registerStateDictPreHook()', hook, {});
  }
  /** register_state_dict_post_hook: `hook(module, stateDict, prefix)` after this module's entries (and its children's) are in `stateDict`, which it may change. */
  registerStateDictPostHook(hook: (module: this, stateDict: Map<string, Tensor>, prefix: string) => void): RemovableHandle {
    return addHook(this, 'stateDictPost', 'registerStateDictPostHook()', hook, {});
  }
  /** register_load_state_dict_pre_hook: `hook(module, stateDict, prefix, strict)` before loading; it may change `stateDict` (a copy of what was given), e.g. rename old keys. */
  registerLoadStateDictPreHook(hook: (module: this, stateDict: Map<string, Tensor>, prefix: string, strict: boolean) => void): RemovableHandle {
    return addHook(this, 'loadStateDictPre', 'registerLoadStateDictPreHook()', hook, {});
  }
  /**
   * register_load_state_dict_post_hook: `hook(module, incompatibleKeys)` after loading; it may
   * empty `incompatibleKeys.missingKeys` / `unexpectedKeys` in place, and strict checks what is
   * left, as PyTorch. (With such a hook a strict load that then fails has already copied the values;
   * without one, a failed load changes nothing.)
   */
  registerLoadStateDictPostHook(hook: (module: this, incompatibleKeys: LoadResult) => void): RemovableHandle {
    return addHook(this, 'loadStateDictPost', 'registerLoadStateDictPostHook()', hook, {});
  }

  // ---- registration -----------------------------------------------------------------------------
  /** Registers (or replaces) a parameter; a plain tensor is made a Parameter. Also sets this[name]. */
  registerParameter<T extends Tensor | null>(name: string, param: T): T extends null ? null : Parameter {
    const fn = 'registerParameter()';
    checkName(fn, 'parameter', name);
    if (this._modules.has(name) || this._buffers.has(name)) {
      throw new TorchError(`${fn}: '${name}' is already a ${this._modules.has(name) ? 'submodule' : 'buffer'}`, 'ERR_TORCH_ARG');
    }
    let p: Parameter | null = null;
    if (param !== null) {
      idOf(param, fn, 'param');
      p = param instanceof Parameter ? param : new Parameter(param);
    }
    this._parameters.set(name, p);
    setSlot(this, name, p);
    return p as any;
  }

  /** Registers (or replaces) a buffer; `persistent: false` keeps it out of the state dict. */
  registerBuffer<T extends Tensor | null>(name: string, tensor: T, options: { persistent?: boolean } = {}): T {
    const fn = 'registerBuffer()';
    checkName(fn, 'buffer', name);
    checkOptions(fn, options, ['persistent']);
    if (this._modules.has(name) || this._parameters.has(name)) {
      throw new TorchError(`${fn}: '${name}' is already a ${this._modules.has(name) ? 'submodule' : 'parameter'}`, 'ERR_TORCH_ARG');
    }
    if (tensor !== null) {
      idOf(tensor, fn, 'tensor');
      keep(tensor);
    }
    this._buffers.set(name, tensor);
    if (options.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    setSlot(this, name, tensor);
    return tensor;
  }

  /** Registers (or replaces — the head swap) a child module. Also sets this[name]. */
  registerModule<M extends Module | null>(name: string, module: M): M {
    const fn = 'registerModule()';
    checkName(fn, 'module', name);
    if (module !== null && !(module instanceof Module)) argError(fn, 'module', 'a Module or null', module);
    if (this._parameters.has(name) || this._buffers.has(name)) {
      throw new TorchError(`${fn}: '${name}' is already a ${this._parameters.has(name) ? 'parameter' : 'buffer'}`, 'ERR_TORCH_ARG');
    }
    this._modules.set(name, module);
    setSlot(this, name, module);
    return module;
  }

  /** PyTorch's `add_module`: the same as registerModule(). */
  addModule<M extends Module | null>(name: string, module: M): M {
    return this.registerModule(name, module);
  }

  // ---- traversal ----------------------------------------------------------------------------------
  /**
   * (name, module) for this module and every descendant, depth-first, each module once; Python's keywords as
   * `namedModules({ prefix, removeDuplicate })` (`removeDuplicate: false` lists a shared module under every name).
   */
  namedModules(prefix: string | { prefix?: string; removeDuplicate?: boolean; memo?: Set<Module> } = '', memo = new Set<Module>()): Map<string, Module> {
    let dedup = true;
    if (typeof prefix === 'object' && prefix !== null) {
      checkOptions('namedModules()', prefix, ['prefix', 'removeDuplicate', 'memo']);
      dedup = checkBool('namedModules()', 'removeDuplicate', prefix.removeDuplicate ?? true);
      memo = prefix.memo ?? memo;
      prefix = prefix.prefix ?? '';
    }
    if (typeof prefix !== 'string') argError('namedModules()', 'prefix', 'a string or { prefix, removeDuplicate }', prefix);
    const out = new Map<string, Module>();
    const walk = (m: Module, p: string) => {
      if (memo.has(m)) return;
      if (dedup) memo.add(m);
      out.set(p, m);
      for (const [name, child] of m._modules) if (child) walk(child, p ? `${p}.${name}` : name);
    };
    walk(this, prefix);
    return out;
  }
  /** This module and every descendant, depth-first, each once (PyTorch's `modules()`). */
  modules(): Module[] {
    return [...this.namedModules().values()];
  }
  /** (name, module) for the immediate children in registration order, each module once (PyTorch's `named_children()`). */
  namedChildren(): Map<string, Module> {
    const out = new Map<string, Module>();
    const seen = new Set<Module>();
    for (const [name, child] of this._modules) {
      if (child && !seen.has(child)) {
        seen.add(child);
        out.set(name, child);
      }
    }
    return out;
  }
  /** The immediate children in registration order (PyTorch's `children()`). */
  children(): Module[] {
    return [...this.namedChildren().values()];
  }

  /** (name, parameter) in PyTorch's order; shared parameters once. The parameters themselves, not copies. */
  namedParameters(options: { prefix?: string; recurse?: boolean; removeDuplicate?: boolean } = {}): Map<string, Parameter> {
    checkOptions('namedParameters()', options, ['prefix', 'recurse', 'removeDuplicate']);
    return this._namedMembers((m) => m._parameters, options) as Map<string, Parameter>;
  }
  /** The parameters themselves (not copies), shared ones once; `recurse: false` for this module's own only (PyTorch's `parameters()`). */
  parameters(options: { recurse?: boolean } = {}): Parameter[] {
    checkOptions('parameters()', options, ['recurse']);
    return [...this.namedParameters(options).values()];
  }
  /** (name, buffer) in PyTorch's order, persistent or not, shared ones once; `prefix` is prepended to every name, `recurse: false` for this module's own only. */
  namedBuffers(options: { prefix?: string; recurse?: boolean; removeDuplicate?: boolean } = {}): Map<string, Tensor> {
    checkOptions('namedBuffers()', options, ['prefix', 'recurse', 'removeDuplicate']);
    return this._namedMembers((m) => m._buffers, options);
  }
  /** The buffers themselves (running statistics etc.), shared ones once (PyTorch's `buffers()`). */
  buffers(options: { recurse?: boolean } = {}): Tensor[] {
    checkOptions('buffers()', options, ['recurse']);
    return [...this.namedBuffers(options).values()];
  }
  private _namedMembers(
    get: (m: Module) => Map<string, Tensor | null>,
    options: { prefix?: string; recurse?: boolean; removeDuplicate?: boolean },
  ): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    // As PyTorch's _named_members: remove_duplicate=False lists shared modules and tensors under every name.
    const dedup = options.removeDuplicate ?? true;
    const prefix = options.prefix ?? '';
    const mods = options.recurse === false ? new Map([[prefix, this as Module]]) : this.namedModules({ prefix, removeDuplicate: dedup });
    for (const [mp, m] of mods) {
      for (const [name, t] of get(m)) {
        if (!t || (dedup && seen.has(t))) continue;
        seen.add(t);
        out.set(mp ? `${mp}.${name}` : name, t);
      }
    }
    return out;
  }

  /** getSubmodule('layer4.1'), as PyTorch: a clear error naming the missing part. */
  getSubmodule<T extends Module = Module>(target: string): T {
    if (typeof target !== 'string') argError('getSubmodule()', 'target', 'a dotted module path', target);
    if (target === '') return this as unknown as T;
    let m: Module = this;
    const parts = target.split('.');
    parts.forEach((part, i) => {
      const next = m._modules.get(part);
      if (!next) {
        const where = parts.slice(0, i).join('.') || m.constructor.name;
        throw new TorchError(`getSubmodule(): ${where} has no submodule '${part}' (looking for '${target}')`, 'ERR_TORCH_ARG');
      }
      m = next;
    });
    return m as T;
  }

  /** The parameter at a dotted path, e.g. `'layer4.1.conv1.weight'` (PyTorch's `get_parameter`); throws a TorchError if there is none. */
  getParameter(target: string): Parameter {
    const dot = target.lastIndexOf('.');
    const m = this.getSubmodule(dot < 0 ? '' : target.slice(0, dot));
    const p = m._parameters.get(target.slice(dot + 1));
    if (!p) throw new TorchError(`getParameter(): no parameter '${target}'`, 'ERR_TORCH_ARG');
    return p as Parameter;
  }

  /** Calls fn on every submodule (children first) and this module, as PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes and gradients ---------------------------------------------------------------------
  /** Sets training mode on this module and every descendant (PyTorch's `train(mode=True)`); returns this. */
  train(mode = true): this {
    checkBool('train()', 'mode', mode);
    this.training = mode;
    for (const child of this.children()) child.train(mode);
    return this;
  }
  /** Evaluation mode: `train(false)` (dropout off, batch norm uses its running statistics); returns this. */
  eval(): this {
    return this.train(false);
  }
  /** Sets requiresGrad on every parameter (freeze: requiresGrad_(false)). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }
  /** Clears gradients: to null (PyTorch's default, setToNone) or to zeros (`{ setToNone: false }`, or Python's positional `zeroGrad(false)`). */
  zeroGrad(options: { setToNone?: boolean } | boolean = {}): void {
    const o = typeof options === 'boolean' ? { setToNone: options } : options;
    if (o === null || typeof o !== 'object') argError('zeroGrad()', 'options', 'a setToNone boolean or { setToNone }', o);
    checkOptions('zeroGrad()', o, ['setToNone']);
    const setToNone = checkBool('zeroGrad()', 'setToNone', o.setToNone ?? true);
    for (const p of this.parameters()) {
      if (setToNone) p.grad = null;
      else {
        p.grad?.zero_();
      }
    }
  }

  // ---- devices and dtypes ----------------------------------------------------------------------
  /**
   * Moves or casts every parameter and buffer in place (the same Tensor objects, so optimizers built
   * on them keep working): to('cuda'), to('float64'), to({ device, dtype }). Dtype casts apply to
   * floating-point tensors only, as in PyTorch.
   */
  to(
    target: DeviceLike | DType | { device?: DeviceLike; dtype?: DType; nonBlocking?: boolean },
    dtypeOrOptions?: DType | { dtype?: DType; nonBlocking?: boolean },
  ): this {
    const fn = 'Module.to()';
    let device: string | undefined;
    let dtype: DType | undefined;
    if (typeof target === 'string' && isDType(target)) dtype = target;
    else if (typeof target === 'string' || (typeof target === 'object' && target !== null && 'type' in target)) device = targetDevice(fn, target);
    else if (typeof target === 'object' && target !== null) {
      checkOptions(fn, target, ['device', 'dtype', 'nonBlocking']);
      device = target.device === undefined ? undefined : targetDevice(fn, target.device);
      dtype = target.dtype === undefined ? undefined : checkDtype(fn, target.dtype);
    } else argError(fn, 'target', 'a device, a dtype or { device, dtype }', target);
    if (dtypeOrOptions !== undefined) {
      // Python's module.to(device, dtype) / to(device, dtype=..., non_blocking=...).
      let d: unknown = dtypeOrOptions;
      if (typeof dtypeOrOptions === 'object' && dtypeOrOptions !== null) {
        checkOptions(fn, dtypeOrOptions, ['dtype', 'nonBlocking']);
        d = dtypeOrOptions.dtype;
      }
      if (d !== undefined) {
        if (device === undefined || dtype !== undefined) argError(fn, 'target', "a device when a dtype follows it (to('cuda', 'float16'))", target);
        dtype = checkDtype(fn, d);
      }
    }
    noGrad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        const floating = ['float32', 'float64', 'float16', 'bfloat16'].includes(t.dtype);
        const moved = t.to({ device: device ?? t.device, dtype: dtype && floating ? dtype : t.dtype });
        native.setData(t._h, moved._h);
        moved.dispose();
        const g = t.grad;
        if (g) {
          const moved = g.to({ device: device ?? g.device, dtype: dtype && floating ? dtype : g.dtype });
          t.grad = moved;
          moved.dispose();
        }
      }
    });
    return this;
  }
  /** Moves every parameter and buffer to `'cuda'` (or `'cuda:<index>'`) in place; returns this. */
  cuda(index?: number): this {
    return this.to(index === undefined ? 'cuda' : `cuda:${index}`);
  }
  /** Moves every parameter and buffer to the CPU in place; returns this. */
  cpu(): this {
    return this.to('cpu');
  }
  /** Casts floating-point parameters and buffers to float32 in place; returns this. */
  float(): this {
    return this.to('float32');
  }
  /** Casts floating-point parameters and buffers to float64 in place; returns this. */
  double(): this {
    return this.to('float64');
  }
  /** Casts floating-point parameters and buffers to float16 in place; returns this. */
  half(): this {
    return this.to('float16');
  }

  // ---- state dict ------------------------------------------------------------------------------
  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (each module's own
   * parameters, then its buffers, then its children). Values are detached views sharing storage
   * (PyTorch's keep_vars=False), owned by the current scope.
   */
  stateDict(options: { prefix?: string; keepVars?: boolean } = {}): Map<string, Tensor> {
    checkOptions('stateDict()', options, ['prefix', 'keepVars']);
    const out = new Map<string, Tensor>();
    const keepVars = options.keepVars ?? false;
    const walk = (m: Module, p: string) => {
      for (const h of hooksOf(m, 'stateDictPre') ?? []) h.fn(m, p, keepVars);
      for (const [name, t] of ownState(m)) out.set(p + name, keepVars ? t : wrap(native.unary(UNARY_DETACH, t._h)));
      for (const [name, child] of m._modules) if (child) walk(child, `${p}${name}.`);
      for (const h of hooksOf(m, 'stateDictPost') ?? []) h.fn(m, out, p);
    };
    walk(this, options.prefix ?? '');
    return out;
  }

  /** @internal (prefix, module) for every module in state-dict order (shared modules under each name). */
  _prefixedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const walk = (m: Module, p: string) => {
      out.push([p, m]);
      for (const [name, child] of m._modules) if (child) walk(child, `${p}${name}.`);
    };
    walk(this, prefix);
    return out;
  }

  /** @internal (name, the live parameter or buffer) in state-dict order. */
  _stateEntries(prefix = ''): [string, Tensor][] {
    return this._prefixedModules(prefix).flatMap(([p, m]) => ownState(m).map(([name, t]) => [p + name, t] as [string, Tensor]));
  }

  /**
   * Copies a state dict into this module's parameters and buffers (under no-grad, converted to each
   * one's device and dtype). strict (default): every key must match; one TorchError lists every
   * missing key, unexpected key and shape mismatch. Shape mismatches are errors even when not strict,
   * as in PyTorch. Atomic: when it throws, no parameter or buffer has changed.
   */
  loadStateDict(stateDict: StateDictLike, options: { strict?: boolean; assign?: false } = {}): LoadResult {
    const fn = 'loadStateDict()';
    checkOptions(fn, options, ['strict', 'assign']);
    if (options.assign !== undefined && options.assign !== false) {
      throw new TorchError(
        `${fn}: assign is not supported (loadStateDict copies into the existing parameters, keeping their dtype and device); ` +
          'to adopt a tensor as it is, register it: module.registerParameter(name, new nn.Parameter(t))',
        'ERR_TORCH_ARG',
      );
    }
    const strict = checkBool(fn, 'strict', options.strict ?? true);
    let given = stateDictEntries(fn, stateDict);
    const withHooks = this._prefixedModules().filter(([, m]) => m._hooks !== null);
    if (withHooks.some(([, m]) => hooksOf(m, 'loadStateDictPre'))) {
      // As PyTorch: the hooks see (and may change) a shallow copy, never the caller's dict.
      const copy = new Map(given);
      for (const [p, m] of withHooks) for (const h of hooksOf(m, 'loadStateDictPre') ?? []) h.fn(m, copy, p, strict);
      given = [...copy];
    }
    const postHooks = withHooks.flatMap(([, m]) => (hooksOf(m, 'loadStateDictPost') ?? []).map((h) => [m, h] as const));
    const targets = new Map(this._stateEntries());
    const givenKeys = new Set<string>();
    const unexpectedKeys: string[] = [];
    const mismatches: string[] = [];
    const problems: string[] = [];
    const pairs: [Tensor, Tensor][] = [];
    for (const [key, value] of given) {
      givenKeys.add(key);
      const target = targets.get(key);
      if (!target) {
        unexpectedKeys.push(key);
        continue;
      }
      if (!(value instanceof Tensor)) {
        problems.push(`${key}: expected a Tensor, got ${describe(value)}`);
        continue;
      }
      if (value.isDisposed) {
        problems.push(`${key}: the tensor was disposed`);
        continue;
      }
      const a = value.shape;
      const b = target.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        mismatches.push(`${key}: checkpoint [${a.join(', ')}] vs model [${b.join(', ')}]`);
        continue;
      }
      pairs.push([target, value]);
    }
    // A BatchNorm counter absent where its running mean is given: a file from before PyTorch 0.4.1,
    // which BatchNorm loads keeping its own counter (its _load_from_state_dict), as here.
    const legacyCounter = (k: string) => k.endsWith('num_batches_tracked') && givenKeys.has(`${k.slice(0, -'num_batches_tracked'.length)}running_mean`);
    const missingKeys = [...targets.keys()].filter((k) => !givenKeys.has(k) && !legacyCounter(k));
    const fail = (changed: boolean, keys: LoadResult) => {
      const lines: string[] = [];
      if (strict && keys.missingKeys.length) lines.push(`missing keys (${keys.missingKeys.length}): ${keys.missingKeys.join(', ')}`);
      if (strict && keys.unexpectedKeys.length) lines.push(`unexpected keys (${keys.unexpectedKeys.length}): ${keys.unexpectedKeys.join(', ')}`);
      if (mismatches.length) {
        lines.push(
          `shape mismatches (${mismatches.length}):\n    ${mismatches.join('\n    ')}\n  ` +
            `to load every entry whose shape fits and leave the rest (a new head) as built: ` +
            `model.loadStateDict(filterStateDict(sd, model, { matchShapes: true }), { strict: false })`,
        );
      }
      if (problems.length) lines.push(`bad values (${problems.length}):\n    ${problems.join('\n    ')}`);
      if (lines.length === 0) return;
      throw new TorchError(
        `loadStateDict(): cannot load the state dict into ${this.constructor.name}; ` +
          `${changed ? 'the values were copied before the load-state-dict post-hooks ran' : 'nothing was changed'}.\n  ${lines.join('\n  ')}`,
        'ERR_TORCH_STATE_DICT',
      );
    };
    const result: LoadResult = { missingKeys, unexpectedKeys };
    if (postHooks.length === 0 || mismatches.length || problems.length) fail(false, result);
    this._copyStateValues(pairs);
    if (postHooks.length) {
      for (const [m, h] of postHooks) h.fn(m, result);
      fail(true, result);
    }
    return result;
  }

  /** @internal Copies each value into its target under no-grad, converted to the target's device and dtype. */
  _copyStateValues(pairs: [Tensor, Tensor][]): void {
    // Convert everything first, then copy: a failure while converting changes nothing.
    noGrad(() => {
      const staged = pairs.map(([target, value]) => value.to({ device: target.device, dtype: target.dtype }, { copy: false }));
      try {
        pairs.forEach(([target], i) => native.binaryInplace(BINARY_COPY, target._h, staged[i]._h));
      } finally {
        for (const s of staged) s.dispose();
      }
    });
  }

  // ---- lifetime ---------------------------------------------------------------------------------
  /** Frees every parameter and buffer of this module and its descendants now. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of m._parameters.values()) t?.dispose();
      for (const t of m._buffers.values()) t?.dispose();
    }
  }
  /** dispose(), for `using m = new nn.Linear(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- printing -----------------------------------------------------------------------------------
  /** What goes between the parentheses of this module's line (PyTorch's extra_repr). */
  extraRepr(): string {
    return '';
  }
  /** PyTorch's module repr. */
  toString(): string {
    const extra = this.extraRepr();
    const childLines = [...this._modules].map(([name, m]) => {
      const s = m ? m.toString() : 'None';
      return `(${name}): ${s.split('\n').join('\n  ')}`;
    });
    const lines = [...(extra ? extra.split('\n') : []), ...childLines];
    const name = this.constructor.name;
    if (lines.length === 0) return `${name}()`;
    if (childLines.length === 0 && lines.length === 1) return `${name}(${extra})`;
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }
}

(Module.prototype as any)[Symbol.for('nodejs.util.inspect.custom')] = function inspectModule(this: Module) {
  return this.toString();
};

/**
 * @internal A module that presents another module's parameters, buffers and children as its own
 * (the same maps), so that state-dict names are the inner module's where the view is registered:
 * nn.Frozen and the feature extractor. `_inner` is a reference, not a child; train()/eval() reach it.
 */
export abstract class MemberView<M extends Module = Module> extends Module {
  /** @internal The wrapped module (a plain reference, not a child). */
  declare readonly _inner: M;
  protected constructor(fn: string, inner: M) {
    super();
    if (!(inner instanceof Module)) argError(fn, 'module', 'a Module', inner);
    setPlain(this, '_inner', inner);
    const raw = (this as any)[RAW];
    for (const k of ['_parameters', '_buffers', '_nonPersistent', '_modules'] as const) {
      Object.defineProperty(raw, k, { value: inner[k], enumerable: true });
    }
    this.training = inner.training;
  }
  override train(mode = true): this {
    super.train(mode);
    this._inner.training = mode;
    return this;
  }
}

// ---- freeing intermediates as Python's reference counting does ---------------------------------

/** Marked classes, with the forward each had when marked (a forward patched later is not trusted). */
const RETAINS_NOTHING = new WeakMap<abstract new (...args: any[]) => Module, unknown>();

/**
 * Marks torch-node's own module classes whose forward keeps no reference to its arguments or its
 * result (every built-in layer and torchvision block). Subclasses are not covered: a user's class
 * may keep what it is given.
 */
export function markRetainsNothing(...classes: (abstract new (...args: any[]) => Module)[]): void {
  for (const c of classes) RETAINS_NOTHING.set(c, c.prototype.forward);
}

/**
 * Whether calling `m` leaves no reference to its input or output anywhere: its class is a marked
 * built-in (not a subclass), its forward and call are the class's own (not patched on the instance
 * or the prototype), and neither it nor any module under it has hooks (a hook may hold what it sees).
 */
export function retainsNothing(m: Module): boolean {
  const raw: Module = (m as any)[RAW] ?? m; // the object behind the Proxy: plain property reads
  if (raw._hooks !== null || raw.call !== Module.prototype.call) return false;
  const marked = RETAINS_NOTHING.get(raw.constructor as never);
  if (marked === undefined || raw.forward !== marked) return false;
  for (const c of raw._modules.values()) if (c && !retainsNothing(c)) return false;
  return true;
}

/**
 * Runs `layers` one after the other on `x` (Sequential's forward) and frees each intermediate
 * tensor as soon as the next layer has read it, as Python's reference counting does, rather than
 * at the end of the caller's tidy(): its memory goes back to the allocator while it is still in the
 * CPU cache, for the next layer to write into. Only where no one else can hold it: between two
 * modules that both retain nothing (retainsNothing). Never freed: `x`, a kept tensor, and a result
 * that is its layer's input (an in-place layer, Identity). Autograd keeps what backward needs on
 * its own, so training is unaffected.
 */
export function chainForward(x: any, layers: Iterable<Module | null>): any {
  let y = x;
  let producerSafe = false;
  for (const m of layers) {
    if (!m) continue;
    const safe = retainsNothing(m);
    const z = m.call(y);
    if (z === y) {
      producerSafe &&= safe; // an in-place layer returned what it was given: both saw it
      continue;
    }
    if (safe && producerSafe && y !== x && y instanceof Tensor && !y._kept && !y.isDisposed) y.dispose();
    producerSafe = safe;
    y = z;
  }
  return y;
}
