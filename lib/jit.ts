/**
 * torch.jit: TorchScript modules scripted or traced in Python. A ScriptModule is an nn.Module whose
 * parameters and buffers are the TorchScript module's own tensors, so everything that works on
 * modules works here: namedParameters(), stateDict(), loadStateDict() (atomic), train()/eval(),
 * to(), freeze(), optimizers, and Sequential(...children) to cut a network into a feature extractor.
 * Parameters may be replaced with new shapes (a new head): registerParameter on the submodule.
 * Note (LIBTORCH-NOTES): TorchScript is deprecated upstream; the lasting path for pretrained
 * networks is an architecture built from torch-node's layers plus a state dict.
 */
import * as fs from 'fs';
import { native, type Id } from './binding';
import { targetDevice } from './device';
import { TorchError, argError } from './errors';
import { Module, Parameter } from './nn/module';
import { commitFileAtomic, tempPathFor } from './serialization/atomic';
import { keep } from './scope';
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

export class ScriptModule extends Module {
  /** The TorchScript class name, e.g. '__torch__.torchvision.models.resnet.ResNet'. */
  readonly qualifiedName: string;
  /** The Python class name it was compiled from ('ResNet'). */
  readonly originalName: string;
  /** Its methods ('forward', ...). */
  readonly methods: string[];
  /** @internal */
  readonly _handle: number;

  /** @internal ScriptModules come from torch.jit.load(). */
  constructor(handle: number) {
    super();
    this._handle = handle;
    const [qualified, training, methods] = native.jitInfo(handle);
    this.qualifiedName = qualified;
    this.originalName = qualified.split('.').pop() ?? qualified;
    this.methods = methods;
    this.training = training;
    const [children, params, buffers] = native.jitMembers(handle);
    for (const [name, h] of children) super.registerModule(name, new ScriptModule(h));
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

  override forward(...args: unknown[]): any {
    return this.runMethod('forward', ...args);
  }

  /** Calls any method of the TorchScript module by name. */
  runMethod(name: string, ...args: unknown[]): any {
    if (!this.methods.includes(name)) {
      throw new TorchError(`${this.originalName} has no TorchScript method '${name}' (it has ${this.methods.join(', ')})`, 'ERR_TORCH_ARG');
    }
    return fromNative(native.jitCall(this._handle, name, args.map((a, i) => toNative(a, `${name}() argument ${i}`))));
  }

  override train(mode = true): this {
    if (typeof mode !== 'boolean') argError('train()', 'mode', 'a boolean', mode);
    native.jitTrain(this._handle, mode);
    return super.train(mode);
  }

  /** Registers or replaces a parameter of this (sub)module, new shapes allowed: the new-head recipe. */
  override registerParameter<T extends Tensor | null>(name: string, param: T): T extends null ? null : Parameter {
    if (param === null) throw new TorchError('registerParameter(): a TorchScript module cannot drop a parameter; register a new tensor instead', 'ERR_TORCH_ARG');
    const p = param instanceof Parameter ? param : new Parameter(param);
    native.jitSetTensor(this._handle, name, p._h, 'parameter');
    const old = this._parameters.get(name);
    if (old && old !== p) old.dispose();
    this._parameters.set(name, p);
    (this as any)[name] = p;
    return p as any;
  }

  override registerBuffer<T extends Tensor | null>(name: string, tensor: T): T {
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

