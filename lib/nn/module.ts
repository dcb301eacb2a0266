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
import '../disposable';
import { native } from '../binding';
import { noGrad } from '../autograd';
import { targetDevice, type DeviceLike } from '../device';
import { isDType, type DType } from '../dtype';
import { TorchError, argError, describe } from '../errors';
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

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export type StateDictLike = Map<string, Tensor> | Record<string, Tensor>;

export function stateDictEntries(fn: string, sd: StateDictLike): [string, Tensor][] {
  if (sd instanceof Map) return [...sd.entries()];
  if (sd && typeof sd === 'object') return Object.entries(sd);
  return argError(fn, 'stateDict', 'a Map or an object of tensors', sd);
}

export class Module {
  training = true;
  /** @internal */ readonly _parameters = new Map<string, Tensor | null>();
  /** @internal */ readonly _buffers = new Map<string, Tensor | null>();
  /** @internal */ readonly _nonPersistent = new Set<string>();
  /** @internal */ readonly _modules = new Map<string, Module | null>();

  /** The computation; subclasses implement it. */
  forward(..._args: any[]): any {
    throw new TorchError(`${this.constructor.name} has no forward(): subclasses of Module must implement it`);
  }

  /** model(x) in Python: runs forward. */
  call(...args: any[]): any {
    return this.forward(...args);
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
    (this as any)[name] = p;
    return p as any;
  }

  /** Registers (or replaces) a buffer; `persistent: false` keeps it out of the state dict. */
  registerBuffer<T extends Tensor | null>(name: string, tensor: T, options: { persistent?: boolean } = {}): T {
    const fn = 'registerBuffer()';
    checkName(fn, 'buffer', name);
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
    (this as any)[name] = tensor;
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
    (this as any)[name] = module;
    return module;
  }

  addModule<M extends Module | null>(name: string, module: M): M {
    return this.registerModule(name, module);
  }

  // ---- traversal ----------------------------------------------------------------------------------
  /** (name, module) for this module and every descendant, depth-first, each module once. */
  namedModules(prefix = '', memo = new Set<Module>()): Map<string, Module> {
    const out = new Map<string, Module>();
    const walk = (m: Module, p: string) => {
      if (memo.has(m)) return;
      memo.add(m);
      out.set(p, m);
      for (const [name, child] of m._modules) if (child) walk(child, p ? `${p}.${name}` : name);
    };
    walk(this, prefix);
    return out;
  }
  modules(): Module[] {
    return [...this.namedModules().values()];
  }
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
  children(): Module[] {
    return [...this.namedChildren().values()];
  }

  /** (name, parameter) in PyTorch's order; shared parameters once. The parameters themselves, not copies. */
  namedParameters(options: { prefix?: string; recurse?: boolean } = {}): Map<string, Parameter> {
    return this._namedMembers((m) => m._parameters, options) as Map<string, Parameter>;
  }
  parameters(options: { recurse?: boolean } = {}): Parameter[] {
    return [...this.namedParameters(options).values()];
  }
  namedBuffers(options: { prefix?: string; recurse?: boolean } = {}): Map<string, Tensor> {
    return this._namedMembers((m) => m._buffers, options);
  }
  buffers(options: { recurse?: boolean } = {}): Tensor[] {
    return [...this.namedBuffers(options).values()];
  }
  private _namedMembers(get: (m: Module) => Map<string, Tensor | null>, options: { prefix?: string; recurse?: boolean }): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    const mods = options.recurse === false ? new Map([[options.prefix ?? '', this as Module]]) : this.namedModules(options.prefix ?? '');
    for (const [mp, m] of mods) {
      for (const [name, t] of get(m)) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.set(mp ? `${mp}.${name}` : name, t);
      }
    }
    return out;
  }

  /** getSubmodule('layer4.1'), as PyTorch: a clear error naming the missing part. */
  getSubmodule(target: string): Module {
    if (typeof target !== 'string') argError('getSubmodule()', 'target', 'a dotted module path', target);
    if (target === '') return this;
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
    return m;
  }

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
  train(mode = true): this {
    if (typeof mode !== 'boolean') argError('train()', 'mode', 'a boolean', mode);
    this.training = mode;
    for (const child of this.children()) child.train(mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Sets requiresGrad on every parameter (freeze: requiresGrad_(false)). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }
  /** Clears gradients: to null (PyTorch's default, setToNone) or to zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
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
  to(target: DeviceLike | DType | { device?: DeviceLike; dtype?: DType }): this {
    const fn = 'Module.to()';
    let device: string | undefined;
    let dtype: DType | undefined;
    if (typeof target === 'string' && isDType(target)) dtype = target;
    else if (typeof target === 'string' || (typeof target === 'object' && target !== null && 'type' in target)) device = targetDevice(fn, target);
    else if (typeof target === 'object' && target !== null) {
      device = target.device === undefined ? undefined : targetDevice(fn, target.device);
      dtype = target.dtype;
    } else argError(fn, 'target', 'a device, a dtype or { device, dtype }', target);
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
  cuda(index?: number): this {
    return this.to(index === undefined ? 'cuda' : `cuda:${index}`);
  }
  cpu(): this {
    return this.to('cpu');
  }
  float(): this {
    return this.to('float32');
  }
  double(): this {
    return this.to('float64');
  }
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
    const out = new Map<string, Tensor>();
    for (const [name, t] of this._stateEntries(options.prefix ?? '')) {
      out.set(name, options.keepVars ? t : wrap(native.unary(UNARY_DETACH, t._h)));
    }
    return out;
  }

  /** @internal (name, the live parameter or buffer) in state-dict order. */
  _stateEntries(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const walk = (m: Module, p: string) => {
      for (const [name, t] of m._parameters) if (t) out.push([p + name, t]);
      for (const [name, t] of m._buffers) if (t && !m._nonPersistent.has(name)) out.push([p + name, t]);
      for (const [name, child] of m._modules) if (child) walk(child, `${p}${name}.`);
    };
    walk(this, prefix);
    return out;
  }

  /**
   * Copies a state dict into this module's parameters and buffers (under no-grad, converted to each
   * one's device and dtype). strict (default): every key must match; one TorchError lists every
   * missing key, unexpected key and shape mismatch. Shape mismatches are errors even when not strict,
   * as in PyTorch. Atomic: when it throws, no parameter or buffer has changed.
   */
  loadStateDict(stateDict: StateDictLike, options: { strict?: boolean } = {}): LoadResult {
    const fn = 'loadStateDict()';
    const strict = options.strict ?? true;
    const given = stateDictEntries(fn, stateDict);
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
    const missingKeys = [...targets.keys()].filter((k) => !givenKeys.has(k));
    const lines: string[] = [];
    if (strict && missingKeys.length) lines.push(`missing keys (${missingKeys.length}): ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) lines.push(`unexpected keys (${unexpectedKeys.length}): ${unexpectedKeys.join(', ')}`);
    if (mismatches.length) lines.push(`shape mismatches (${mismatches.length}):\n    ${mismatches.join('\n    ')}`);
    if (problems.length) lines.push(`bad values (${problems.length}):\n    ${problems.join('\n    ')}`);
    if (lines.length) {
      throw new TorchError(
        `loadStateDict(): cannot load the state dict into ${this.constructor.name}; nothing was changed.\n  ${lines.join('\n  ')}`,
        'ERR_TORCH_STATE_DICT',
      );
    }
    // Convert everything first, then copy: a failure while converting changes nothing.
    noGrad(() => {
      const staged = pairs.map(([target, value]) => value.to({ device: target.device, dtype: target.dtype }, { copy: false }));
      try {
        pairs.forEach(([target], i) => native.binaryInplace(BINARY_COPY, target._h, staged[i]._h));
      } finally {
        for (const s of staged) s.dispose();
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- lifetime ---------------------------------------------------------------------------------
  /** Frees every parameter and buffer of this module and its descendants now. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of m._parameters.values()) t?.dispose();
      for (const t of m._buffers.values()) t?.dispose();
    }
  }
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
