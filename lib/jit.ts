/**
 * torch.jit: TorchScript modules scripted or traced in Python, or traced here from a JS module with
 * torch.jit.trace. A ScriptModule is an nn.Module whose parameters and buffers are the TorchScript
 * module's own tensors, so everything that works on modules works here: namedParameters(),
 * stateDict(), loadStateDict() (atomic), train()/eval(), to(), freeze(), optimizers, and
 * Sequential(...children) to cut a network into a feature extractor. Parameters may be replaced with
 * new shapes (a new head): registerParameter on the submodule.
 *
 * forwardAsync / runMethodAsync run a method on libuv's thread pool (binding/jit_async.cc) under
 * InferenceMode, so a server's event loop keeps turning during inference.
 *
 * Note (LIBTORCH-NOTES): TorchScript is deprecated upstream; the lasting path for pretrained
 * networks is an architecture built from torch-node's layers plus a state dict.
 * @module
 */
import { checkBool } from './checks';
import * as fs from 'fs';
import { native, type Id, type TraceModuleSpec } from './binding';
import { noGrad } from './autograd';
import { targetDevice, type DeviceLike } from './device';
import type { DType } from './dtype';
import { TorchError, argError, describe } from './errors';
import { Module, Parameter, setPlain, type LoadResult, type StateDictLike } from './nn/module';
import { commitFileAtomic, tempPathFor } from './serialization/atomic';
import { keep, tidy } from './scope';
import { Tensor, idOf, wrap } from './tensor';

function toNative(v: unknown, where: string): unknown {
  if (v instanceof Tensor) return idOf(v, where, 'input');
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x, i) => toNative(x, `${where}[${i}]`));
  if (v instanceof Map) return [...v].map(([k, x]) => [toNative(k, where), toNative(x, where)]);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.entries(v as object).map(([k, x]) => [k, toNative(x, where)]);
  }
  return argError(where, 'input', 'tensors, numbers, booleans, strings, arrays, Maps or plain objects', v);
}

function fromNative(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromNative);
  const o = v as { __t?: Id; __d?: [unknown, unknown][] };
  if (o.__t !== undefined) return wrap(o.__t);
  if (o.__d !== undefined) return new Map(o.__d.map(([k, x]) => [fromNative(k), fromNative(x)]));
  return v;
}

/** PyTorch's `torch.jit.ScriptModule`: a TorchScript module loaded with torch.jit.load (or made by torch.jit.trace), usable as any nn.Module. */
export class ScriptModule extends Module {
  /** The TorchScript class name, e.g. '__torch__.torchvision.models.resnet.ResNet'. */
  readonly qualifiedName: string;
  /** The Python class name it was compiled from ('ResNet'). */
  readonly originalName: string;
  /** Its methods ('forward', ...). */
  readonly methods: string[];
  /** @internal */
  readonly _handle: number;
  /** @internal the top module: it counts the async calls in flight on the whole tree (a plain reference, not a child) */
  declare readonly _root: ScriptModule;
  /** @internal async calls in flight (on the root only) */
  _inFlight = 0;

  /** @internal ScriptModules come from torch.jit.load() and torch.jit.trace(). */
  constructor(handle: number, root?: ScriptModule) {
    super();
    this._handle = handle;
    setPlain(this, '_root', root ?? this);
    const [qualified, training, methods] = native.jitInfo(handle);
    this.qualifiedName = qualified;
    this.originalName = qualified.split('.').pop() ?? qualified;
    this.methods = methods;
    this.training = training;
    const [children, params, buffers] = native.jitMembers(handle);
    for (const [name, h] of children) super.registerModule(name, new ScriptModule(h, this._root));
    for (const [name, id] of params) {
      const p = Parameter._fromId(id);
      this._parameters.set(name, p);
      (this as any)[name] = p;
    }
    for (const [name, id] of buffers) {
      const b = keep(new Tensor(id));
      this._buffers.set(name, b);
      (this as any)[name] = b;
    }
  }

  /**
   * Runs the TorchScript module's `forward` method on this thread (runMethod('forward', ...args)): tensors, numbers, booleans, strings, arrays, Maps and plain
   * objects in; its result out (tensors, lists and tuples as arrays, dicts as Maps).
   */
  override forward(...args: unknown[]): any {
    return this.runMethod('forward', ...args);
  }

  /** Calls any method of the TorchScript module by name. */
  runMethod(name: string, ...args: unknown[]): any {
    if (!this.methods.includes(name)) {
      throw new TorchError(`${this.originalName} has no TorchScript method '${name}' (it has ${this.methods.join(', ')})`, 'ERR_TORCH_ARG');
    }
    return fromNative(
      native.jitCall(
        this._handle,
        name,
        args.map((a, i) => toNative(a, `${name}() argument ${i}`)),
      ),
    );
  }

  /**
   * forward on libuv's thread pool: resolves with what forward() would return. The method runs
   * under InferenceMode (set on the worker thread), so its outputs are inference tensors: use them
   * for predictions, not as inputs to a backward pass. Several calls may be in flight on one module;
   * the module must not change meanwhile (train(), to(), loadStateDict(), registerParameter() and
   * registerBuffer() throw ERR_TORCH_BUSY). The inputs may be disposed as soon as this returns: the
   * call holds its own references (do not change them in place meanwhile). Argument and runtime
   * errors reject with a TorchError. The outputs belong to the caller (no tidy() scope spans an
   * await): dispose() them.
   *
   * Threads: calls run on libuv's pool — UV_THREADPOOL_SIZE threads (default 4), shared with fs,
   * dns and crypto — each forward using torch.setNumThreads() intra-op threads. For CPU-bound models
   * keep pool threads x intra-op threads at or below the cores (examples/server.js: pool = cores,
   * 1 intra-op thread each); more makes the event loop wait for a core.
   */
  forwardAsync(...args: unknown[]): Promise<any> {
    return this.runMethodAsync('forward', ...args);
  }

  /** Any method of the TorchScript module on libuv's thread pool, as forwardAsync. */
  runMethodAsync(name: string, ...args: unknown[]): Promise<any> {
    let pending: Promise<unknown>;
    try {
      if (!this.methods.includes(name)) {
        throw new TorchError(`${this.originalName} has no TorchScript method '${name}' (it has ${this.methods.join(', ')})`, 'ERR_TORCH_ARG');
      }
      const nativeArgs = args.map((a, i) => toNative(a, `${name}Async() argument ${i}`));
      pending = native.jitCallAsync(this._handle, name, nativeArgs);
    } catch (e) {
      return Promise.reject(e);
    }
    const root = this._root;
    root._inFlight++;
    return pending.then(
      (r) => {
        root._inFlight--;
        return fromNative(r);
      },
      (e) => {
        root._inFlight--;
        throw e;
      },
    );
  }

  /** forwardAsync / runMethodAsync calls on this module's tree not finished yet. */
  get pendingCalls(): number {
    return this._root._inFlight;
  }

  private _assertIdle(fn: string): void {
    const n = this._root._inFlight;
    if (n > 0) {
      throw new TorchError(
        `${fn}: ${n} forwardAsync call${n === 1 ? ' is' : 's are'} running on this TorchScript module; ` +
          'a module cannot change while it runs on another thread (await the calls first)',
        'ERR_TORCH_BUSY',
      );
    }
  }

  override train(mode = true): this {
    checkBool('train()', 'mode', mode);
    this._assertIdle('train()');
    native.jitTrain(this._handle, mode);
    return super.train(mode);
  }

  override to(
    target: DeviceLike | DType | { device?: DeviceLike; dtype?: DType; nonBlocking?: boolean },
    dtypeOrOptions?: DType | { dtype?: DType; nonBlocking?: boolean },
  ): this {
    this._assertIdle('Module.to()');
    return super.to(target, dtypeOrOptions);
  }

  override loadStateDict(stateDict: StateDictLike, options: { strict?: boolean } = {}): LoadResult {
    this._assertIdle('loadStateDict()');
    return super.loadStateDict(stateDict, options);
  }

  /** Registers or replaces a parameter of this (sub)module, new shapes allowed: the new-head recipe. */
  override registerParameter<T extends Tensor | null>(name: string, param: T): T extends null ? null : Parameter {
    this._assertIdle('registerParameter()');
    if (param === null)
      throw new TorchError('registerParameter(): a TorchScript module cannot drop a parameter; register a new tensor instead', 'ERR_TORCH_ARG');
    const p = param instanceof Parameter ? param : new Parameter(param);
    native.jitSetTensor(this._handle, name, p._h, 'parameter');
    const old = this._parameters.get(name);
    if (old && old !== p) old.dispose();
    this._parameters.set(name, p);
    (this as any)[name] = p;
    return p as any;
  }

  override registerBuffer<T extends Tensor | null>(name: string, tensor: T): T {
    this._assertIdle('registerBuffer()');
    if (tensor === null) throw new TorchError('registerBuffer(): a TorchScript module cannot drop a buffer', 'ERR_TORCH_ARG');
    native.jitSetTensor(this._handle, name, idOf(tensor, 'registerBuffer()', 'tensor'), 'buffer');
    keep(tensor);
    this._buffers.set(name, tensor);
    (this as any)[name] = tensor;
    return tensor;
  }

  override registerModule<M extends Module | null>(name: string, _module: M): M {
    throw new TorchError(
      `registerModule('${name}'): a TorchScript module's submodules cannot be added or replaced (its compiled code depends on their types). ` +
        'Replace their parameters (getSubmodule(...).registerParameter), or use new nn.Sequential(...model.children()) to drop layers.',
      'ERR_TORCH_ARG',
    );
  }

  /** The forward schema, e.g. 'forward(__torch__.X self, Tensor x) -> Tensor'. */
  schema(): string | null {
    return native.jitSchema(this._handle);
  }

  /** The forward method's TorchScript graph as text (PyTorch's module.graph), or null without one. */
  get graph(): string | null {
    return this.methods.includes('forward') ? native.jitGraph(this._handle, 'forward') : null;
  }

  override extraRepr(): string {
    return `original_name=${this.originalName}`;
  }

  override toString(): string {
    // PyTorch prints scripted modules as RecursiveScriptModule(original_name=...).
    const childLines = [...this._modules].map(([n, m]) => `(${n}): ${String(m).split('\n').join('\n  ')}`);
    if (childLines.length === 0) return `RecursiveScriptModule(${this.extraRepr()})`;
    return `RecursiveScriptModule(\n  ${[this.extraRepr(), ...childLines].join('\n  ')}\n)`;
  }

  override dispose(): void {
    super.dispose();
    for (const m of this.modules()) if (m instanceof ScriptModule) native.jitFree(m._handle);
  }
}

/** torch.jit.load(path, { mapLocation }): a module saved by torch.jit.save / ScriptModule.save. */
export function load(file: string, options: { mapLocation?: string } = {}): ScriptModule {
  if (typeof file !== 'string') argError('jit.load()', 'path', 'a file path', file);
  if (!fs.existsSync(file)) throw new TorchError(`jit.load(): no such file: ${file}`, 'ERR_TORCH_IO');
  const device = options.mapLocation === undefined ? null : targetDevice('jit.load()', options.mapLocation);
  let handle: number;
  try {
    handle = native.jitLoad(file, device);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new TorchError(`jit.load(): ${file} is not a TorchScript archive libtorch can read: ${msg}`, 'ERR_TORCH_FILE');
  }
  return new ScriptModule(handle);
}

/** torch.jit.save(module, path): atomic (a temporary file renamed over the target). */
export function save(module: ScriptModule, file: string): void {
  if (!(module instanceof ScriptModule)) argError('jit.save()', 'module', 'a ScriptModule (from torch.jit.load)', module);
  const tmp = tempPathFor(file);
  try {
    native.jitSave(module._handle, tmp);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    commitFileAtomic(tmp, file);
  } catch (e) {
    throw new TorchError(`jit.save(): ${(e as Error).message}`, 'ERR_TORCH_IO');
  }
}

// ---- torch.jit.trace ------------------------------------------------------------------------------

/** What a trace takes and returns: tensors, arrays of them (tuples) and Maps (or objects) of string to tensor. */
export type TraceValue = Tensor | TraceValue[] | Map<string, Tensor> | { [key: string]: Tensor };

/** The options of torch.jit.trace: PyTorch's `check_trace=`, `check_tolerance=` and `strict=`. */
export interface TraceOptions {
  /**
   * Runs the traced module on the example inputs and compares its output with the JS forward's
   * (default true); a difference throws ERR_TORCH_TRACE. Off for modules with random ops.
   */
  checkTrace?: boolean;
  /** Relative and absolute tolerance of that check (default 1e-5, PyTorch's check_tolerance). */
  checkTolerance?: number;
  /** PyTorch's strict (default true): false lets forward return a Map (a dict output). */
  strict?: boolean;
}

// Names a forward's parameters go by in the traced schema, read from its source when they are plain
// identifiers (forward(x, mask) -> 'x', 'mask'); otherwise the tracer numbers them.
const PY_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from global if ' +
    'import in is lambda nonlocal not or pass raise return try while with yield self'
  ).split(' '),
);
function parameterNames(f: Function, count: number): string[] {
  const m = /^[^(]*\(([^)]*)\)/.exec(Function.prototype.toString.call(f));
  if (!m) return [];
  const names = m[1]
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  const ok = names.length >= count && new Set(names).size === names.length && names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && !PY_KEYWORDS.has(n));
  return ok ? names.slice(0, count) : [];
}

function className(m: Module | Function): string {
  const raw = m instanceof ScriptModule ? m.originalName : m instanceof Module ? m.constructor?.name : m.name;
  const name = (raw || 'Module').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

// The JS module tree as jitTrace's specs: each module once (shared submodules stay shared).
function moduleSpecs(root: Module): TraceModuleSpec[] {
  const specs: TraceModuleSpec[] = [];
  const index = new Map<Module, number>();
  const open = new Set<Module>();
  const visit = (m: Module, path: string): number => {
    const seen = index.get(m);
    if (seen !== undefined) {
      if (open.has(m)) throw new TorchError(`jit.trace(): the module tree has a cycle at '${path}'`, 'ERR_TORCH_ARG');
      return seen;
    }
    const i = specs.length;
    const spec: TraceModuleSpec = [className(m), m.training, [], [], []];
    specs.push(spec);
    index.set(m, i);
    open.add(m);
    for (const [name, p] of m._parameters) if (p) spec[2].push([name, idOf(p, 'jit.trace()', `parameter ${path}${name}`)]);
    for (const [name, b] of m._buffers) if (b) spec[3].push([name, idOf(b, 'jit.trace()', `buffer ${path}${name}`), !m._nonPersistent.has(name)]);
    for (const [name, c] of m._modules) if (c) spec[4].push([name, visit(c, `${path}${name}.`)]);
    open.delete(m);
    return i;
  };
  visit(root, '');
  return specs;
}

// A trace input or output as jitTrace reads it: ids, arrays (tuples), {__d: [[key, id], ...]}.
function encodeTraceValue(v: unknown, where: string): unknown {
  if (v instanceof Tensor) return idOf(v, 'jit.trace()', where);
  if (Array.isArray(v)) return v.map((x, i) => encodeTraceValue(x, `${where}[${i}]`));
  const entries = v instanceof Map ? [...v] : v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype ? Object.entries(v) : null;
  if (entries) {
    return {
      __d: entries.map(([k, x]) => {
        if (typeof k !== 'string') argError('jit.trace()', where, 'a Map with string keys', k);
        if (!(x instanceof Tensor)) argError('jit.trace()', `${where}.${k}`, 'a Tensor (a traced dict holds tensors)', x);
        return [k, idOf(x, 'jit.trace()', `${where}.${k}`)];
      }),
    };
  }
  return argError('jit.trace()', where, 'a Tensor, an array of tensors or a Map of string to Tensor (what a trace can take and return)', v);
}

// Compares the JS forward's output with the traced module's; returns a description of the first difference.
function traceDifference(eager: unknown, traced: unknown, tol: number, where: string): string | null {
  if (eager instanceof Tensor) {
    if (!(traced instanceof Tensor)) return `${where}: a Tensor from forward, ${describe(traced)} from the trace`;
    const a = eager.shape;
    const b = traced.shape;
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) return `${where}: shape [${a}] from forward, [${b}] from the trace`;
    if (eager.dtype !== traced.dtype) return `${where}: dtype ${eager.dtype} from forward, ${traced.dtype} from the trace`;
    const floating = ['float32', 'float64', 'float16', 'bfloat16'].includes(eager.dtype);
    if (floating ? eager.allclose(traced, { rtol: tol, atol: tol, equalNan: true }) : eager.equal(traced)) return null;
    const diff = floating ? tidy(() => (eager.sub(traced).abs().max() as Tensor).item()) : 'not equal';
    return `${where}: values differ (max |difference| ${diff}, tolerance ${tol.toExponential()})`;
  }
  if (Array.isArray(eager)) {
    if (!Array.isArray(traced) || traced.length !== eager.length) return `${where}: ${describe(eager)} from forward, ${describe(traced)} from the trace`;
    for (let i = 0; i < eager.length; i++) {
      const d = traceDifference(eager[i], traced[i], tol, `${where}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const entries = eager instanceof Map ? [...eager] : Object.entries(eager as object);
  if (!(traced instanceof Map)) return `${where}: ${describe(eager)} from forward, ${describe(traced)} from the trace`;
  for (const [k, x] of entries) {
    const d = traceDifference(x, traced.get(k), tol, `${where}.${k}`);
    if (d) return d;
  }
  return null;
}

// During a trace: the entry points that fill tensors from JS memory run with the tracer paused (so
// their results enter the graph as constants holding the data, as torch.tensor() does in PyTorch),
// and so do those that read tensors into JS (their values become JS numbers the graph cannot
// follow). Returns the restore function and the counts, for the warning.
const DATA_IN = ['fromData', 'fromBytes', 'fromMapped'] as const;
const DATA_OUT = ['item', 'toBuffer'] as const;
function pauseTracerAroundDataEntryPoints(): { restore: () => void; made: () => number; read: () => number } {
  const n: number[] = [0, 0];
  const saved: [string, Function][] = [];
  const table = native as unknown as Record<string, Function>;
  for (const [kind, names] of [
    [0, DATA_IN],
    [1, DATA_OUT],
  ] as const) {
    for (const name of names) {
      const orig = table[name];
      saved.push([name, orig]);
      table[name] = (...a: unknown[]) => {
        n[kind]++;
        return native.jitUntraced(() => orig(...a));
      };
    }
  }
  return {
    restore: () => {
      for (const [name, f] of saved) table[name] = f;
    },
    made: () => n[0],
    read: () => n[1],
  };
}

/**
 * torch.jit.trace(module, exampleInputs): runs module.forward once on the example inputs under
 * libtorch's tracer and returns a ScriptModule whose forward is the recorded graph of ATen ops. As in
 * PyTorch, the parameters and buffers stay attributes of the result (shared with `module`, not
 * copied), so jit.save writes an archive Python's torch.jit.load reads, and forwardAsync runs it
 * off the event loop. `exampleInputs` is one input or an array of the positional inputs; inputs
 * and outputs are tensors, arrays of tensors (tuples) and Maps of string to tensor. A plain function
 * may be traced too (tensors it closes over become constants).
 *
 * What a trace cannot see (as in PyTorch): JS control flow on tensor values (an `if` on x.item()
 * records the branch taken for the example), numbers read into JS (shapes from x.shape / size(),
 * item(), tolist()) — they are constants in the graph, so a forward that builds a view from
 * x.shape[0] is fixed to the example's batch size (x.flatten(1), view(-1, n) keep it free); tensors
 * made from JS data inside forward (torch.tensor()) are constants; random ops record as random ops,
 * and train-mode behaviour (Dropout, BatchNorm statistics) is recorded as it ran — call eval() first.
 * The trace runs under noGrad (the graph is the same either way) and leaves the module's mode alone;
 * checkTrace (default on) runs the result once and compares it with forward's output.
 */
export function trace(target: Module | ((...args: any[]) => any), exampleInputs: TraceValue | TraceValue[], options: TraceOptions = {}): ScriptModule {
  const fn = 'jit.trace()';
  if (!(target instanceof Module) && typeof target !== 'function') argError(fn, 'module', 'an nn.Module or a function', target);
  if (options === null || typeof options !== 'object') argError(fn, 'options', 'an object', options);
  const checkTrace = options.checkTrace ?? true;
  const tol = options.checkTolerance ?? 1e-5;
  const strict = options.strict ?? true;
  checkBool(fn, 'checkTrace', checkTrace);
  checkBool(fn, 'strict', strict);
  if (typeof tol !== 'number' || !(tol >= 0)) argError(fn, 'checkTolerance', 'a number >= 0', tol);
  const inputs: unknown[] = Array.isArray(exampleInputs) ? exampleInputs : [exampleInputs];
  const encoded = inputs.map((x, i) => encodeTraceValue(x, `exampleInputs[${i}]`));
  const isModule = target instanceof Module;
  const specs: TraceModuleSpec[] = isModule ? moduleSpecs(target) : [[className(target), false, [], [], []]];
  const run = isModule ? (...a: unknown[]) => target.call(...a) : (target as (...a: unknown[]) => unknown);
  const argNames = parameterNames(isModule ? target.forward : target, inputs.length);

  let traced: ScriptModule | undefined;
  const warnings: string[] = [];
  tidy(() =>
    noGrad(() => {
      let eager: unknown;
      const paused = pauseTracerAroundDataEntryPoints();
      let handle: number;
      try {
        handle = native.jitTrace(
          specs,
          encoded,
          (...tagged: unknown[]) => {
            eager = run(...tagged.map(fromNative));
            if (eager instanceof Promise) throw new TorchError(`${fn}: forward returned a Promise; a trace records synchronous code only`, 'ERR_TORCH_ARG');
            return encodeTraceValue(eager, 'forward() output');
          },
          argNames,
          strict,
        );
      } finally {
        paused.restore();
      }
      if (paused.made()) warnings.push(`${paused.made()} tensor(s) made from JS data inside forward (torch.tensor() and the like) are constants in the trace`);
      if (paused.read())
        warnings.push(
          `forward read tensor values into JS ${paused.read()} time(s) (item(), tolist(), toTypedArray()); what it computed from them is constant in the trace`,
        );
      const m = new ScriptModule(handle);
      if (checkTrace) {
        let diff: string | null;
        try {
          diff = traceDifference(eager, m.forward(...inputs), tol, 'output');
        } catch (e) {
          m.dispose();
          throw e;
        }
        if (diff) {
          m.dispose();
          throw new TorchError(
            `${fn}: the traced module does not reproduce forward on the example inputs — ${diff}. ` +
              'Random ops (Dropout in train mode: call eval() first) and values read into JS cannot be traced; ' +
              'pass { checkTrace: false } to keep the trace anyway.',
            'ERR_TORCH_TRACE',
          );
        }
      }
      traced = m;
    }),
  );
  for (const w of warnings) process.emitWarning(`${fn}: ${w}; the trace may be wrong for other inputs.`, 'TracerWarning');
  return traced!;
}
