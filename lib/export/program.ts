/**
 * torch.export.load: an ExportedProgram read from a `torch.export.save` archive, and its
 * `.module()`: an nn.Module whose parameters and buffers carry the exported fully-qualified names
 * ('layer1.0.conv1.weight') and whose forward interprets the exported ATen graph node by node
 * through the dispatcher (native.callOp) — no compiler, autograd intact, so it trains.
 *
 * Supported: static-shape graphs of ATen (and other registered) operators; tensor, tensor-list,
 * optional, int/float/bool(-list), string, concrete SymInt, dtype, device, layout and memory-format
 * arguments; parameter / buffer / tensor-constant / tensor user inputs; user outputs and buffer /
 * parameter / user-input mutations. Higher-order ops (cond, while_loop,
 * wrap_with_set_grad_enabled, ...) and symbolic shapes throw a TorchError naming what is missing.
 *
 * As PyTorch's `ep.module()` (torch 2.15), the module runs in the mode it was exported in:
 * train() and eval() throw (re-export in the other mode instead).
 */
import { native, type Id } from '../binding';
import { noGrad } from '../autograd';
import type { DType } from '../dtype';
import { TorchError } from '../errors';
import { Module, Parameter } from '../nn/module';
import { keep, tidy } from '../scope';
import { Tensor, idOf, wrap } from '../tensor';
import {
  exportError, readArchive, serdeDevice, serdeDtype, serdeLayout, serdeMemoryFormat, serdeScalarType, type TensorMeta,
} from './archive';

const SCALAR_TENSOR = native.findOp('aten::scalar_tensor', '');

/** Higher-order operators: their subgraphs are not interpreted yet. */
const HIGHER_ORDER = /^torch\.ops\.higher_order\./;

interface OpEntry {
  target: string;
  handle: number;
  /** Argument names in schema order (keyword-only ones included). */
  names: string[];
  /** Per argument: whether its type is Tensor or Tensor? (a number there becomes a 0-dim tensor, as Python's wrapped numbers). */
  tensorParams: boolean[];
  /** Per return: whether it is a Tensor (tensor ids must be wrapped so they are freed). */
  tensorReturns: ('tensor' | 'list' | 'other')[];
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[' || ch === '(') depth++;
    if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Resolves 'torch.ops.aten.conv2d.default' to a dispatcher handle and its schema's argument names. */
function resolveOp(target: string, where: string): OpEntry {
  if (HIGHER_ORDER.test(target)) {
    throw exportError(`${where}: the graph uses the higher-order operator ${target}, which torch-node does not run yet (only plain operator graphs)`, 'ERR_TORCH_UNSUPPORTED');
  }
  const parts = target.split('.');
  if (parts.length !== 5 || parts[0] !== 'torch' || parts[1] !== 'ops') {
    throw exportError(`${where}: the graph calls ${JSON.stringify(target)}, which is not an operator (torch.ops.<namespace>.<name>.<overload>)`, 'ERR_TORCH_UNSUPPORTED');
  }
  const [, , ns, name, overload] = parts;
  let handle: number;
  try {
    handle = native.findOp(`${ns}::${name}`, overload === 'default' ? '' : overload);
  } catch {
    throw exportError(`${where}: the graph calls operator ${target}, which this libtorch (${native.builtWithLibtorch}) does not have`, 'ERR_TORCH_UNSUPPORTED');
  }
  const schema = native.opSchema(handle);
  const arrow = schema.lastIndexOf(') ->');
  const params = splitTop(schema.slice(schema.indexOf('(') + 1, arrow));
  const decls = params.filter((a) => a !== '*').map((a) => a.split('=')[0].trim());
  const names = decls.map((a) => a.split(' ').pop() as string);
  const tensorParams = decls.map((a) => /^Tensor(\([^)]*\))?\??\s/.test(a));
  let ret = schema.slice(arrow + 4).trim();
  if (ret.startsWith('(') && ret.endsWith(')')) ret = ret.slice(1, -1);
  const tensorReturns = splitTop(ret).map((r) => (/^Tensor(\(.*?\))?\[\]/.test(r) ? 'list' : /^Tensor\b/.test(r) ? 'tensor' : 'other')) as OpEntry['tensorReturns'];
  if (names.length > 15) throw exportError(`${where}: operator ${target} has ${names.length} arguments; torch-node's callOp takes at most 15`, 'ERR_TORCH_UNSUPPORTED');
  return { target, handle, names, tensorParams, tensorReturns };
}

type Arg = Record<string, any>;

function argKind(a: Arg): [string, any] {
  const keys = Object.keys(a ?? {});
  if (keys.length !== 1) throw exportError(`an argument is ${JSON.stringify(a)}, not a one-field union`);
  return [keys[0], a[keys[0]]];
}

function symInt(v: any, what: string): number {
  const [k, x] = argKind(v);
  if (k === 'as_int') return x;
  throw exportError(`${what}: the graph has a symbolic size (${JSON.stringify(v)}); dynamic shapes are not supported yet — export with static shapes`, 'ERR_TORCH_UNSUPPORTED');
}

interface InputSlot {
  arg: string;
  kind: 'parameter' | 'buffer' | 'constant' | 'user';
  fqn: string;
}

interface OutputSlot {
  arg: Arg;
  kind: 'user' | 'buffer' | 'parameter' | 'user_input';
  target: string;
}

/** A parsed, checked graph with its op table: shared by every module() of a program. */
class Graph {
  readonly nodes: { node: any; op: OpEntry }[] = [];
  readonly inputs: InputSlot[] = [];
  readonly outputs: OutputSlot[] = [];
  readonly userInputs: { name: string; meta: TensorMeta }[] = [];
  readonly outSpec: any;

  constructor(readonly where: string, readonly model: any) {
    const g = model.graph_module.graph;
    const sig = model.graph_module.signature;
    for (const s of sig.input_specs) {
      const [k, v] = argKind(s);
      if (k === 'parameter') this.inputs.push({ arg: v.arg.name, kind: 'parameter', fqn: v.parameter_name });
      else if (k === 'buffer') this.inputs.push({ arg: v.arg.name, kind: 'buffer', fqn: v.buffer_name });
      else if (k === 'tensor_constant') this.inputs.push({ arg: v.arg.name, kind: 'constant', fqn: v.tensor_constant_name });
      else if (k === 'user_input') {
        const [ak, av] = argKind(v.arg);
        if (ak !== 'as_tensor') throw exportError(`${where}: a user input of kind ${ak} (only tensor inputs are supported yet)`, 'ERR_TORCH_UNSUPPORTED');
        const meta = g.tensor_values?.[av.name];
        if (!meta) throw exportError(`${where}: user input '${av.name}' has no tensor_values entry`);
        this.inputs.push({ arg: av.name, kind: 'user', fqn: av.name });
        this.userInputs.push({ name: av.name, meta });
      } else throw exportError(`${where}: an input spec of kind ${k} (custom objects, tokens and constant inputs are not supported yet)`, 'ERR_TORCH_UNSUPPORTED');
    }
    if (sig.output_specs.length !== g.outputs.length) {
      throw exportError(`${where}: ${sig.output_specs.length} output specs for ${g.outputs.length} graph outputs`);
    }
    sig.output_specs.forEach((s: Arg, i: number) => {
      const [k, v] = argKind(s);
      const arg = g.outputs[i];
      if (k === 'user_output') this.outputs.push({ arg, kind: 'user', target: '' });
      else if (k === 'buffer_mutation') this.outputs.push({ arg, kind: 'buffer', target: v.buffer_name });
      else if (k === 'parameter_mutation') this.outputs.push({ arg, kind: 'parameter', target: v.parameter_name });
      else if (k === 'user_input_mutation') this.outputs.push({ arg, kind: 'user_input', target: v.user_input_name });
      else throw exportError(`${where}: an output spec of kind ${k} (joint/training graphs and tokens are not supported yet)`, 'ERR_TORCH_UNSUPPORTED');
    });
    const symbols = Object.keys(g.sym_int_values ?? {}).concat(Object.keys(g.sym_float_values ?? {}), Object.keys(g.sym_bool_values ?? {}));
    if (symbols.length > 0) {
      throw exportError(
        `${where}: the graph has symbolic (dynamic) values (${symbols.slice(0, 4).join(', ')}${symbols.length > 4 ? ', ...' : ''}); ` +
          'dynamic shapes are not supported yet: export with static shapes (no dynamic_shapes)',
        'ERR_TORCH_UNSUPPORTED',
      );
    }
    const ops = new Map<string, OpEntry>();
    for (const node of g.nodes) {
      let entry = ops.get(node.target);
      if (!entry) {
        entry = resolveOp(String(node.target), where);
        ops.set(node.target, entry);
      }
      for (const i of node.inputs) {
        if (!entry.names.includes(i.name)) throw exportError(`${where}: node '${node.name}' passes argument '${i.name}', which ${node.target} (${native.opSchema(entry.handle)}) does not take`);
      }
      this.nodes.push({ node, op: entry });
    }
    const sigs = model.graph_module.module_call_graph;
    const root = Array.isArray(sigs) ? sigs.find((m: any) => m.fqn === '') : null;
    let spec: any = null;
    try {
      spec = root?.signature?.out_spec ? JSON.parse(root.signature.out_spec)[1] : null;
    } catch {
      spec = null;
    }
    this.outSpec = spec;
  }
}

/** Rebuilds the user outputs from the pytree out_spec (leaf, tuple/list as arrays, dict as objects). */
function unflatten(spec: any, leaves: Tensor[]): unknown {
  if (!spec) return leaves.length === 1 ? leaves[0] : leaves;
  let i = 0;
  const walk = (s: any): unknown => {
    if (s.type === null || s.type === undefined) return leaves[i++];
    const kids = (s.children_spec ?? []).map(walk);
    if (s.type === 'builtins.dict' || s.type === 'collections.OrderedDict') {
      const keys = JSON.parse(s.context ?? '[]') as unknown[];
      const o: Record<string, unknown> = {};
      keys.forEach((k, j) => (o[String(k)] = kids[j]));
      return o;
    }
    return kids;
  };
  const out = walk(spec);
  if (i !== leaves.length) return leaves;
  return out;
}

function shapeOf(meta: TensorMeta): (number | null)[] {
  return meta.sizes.map((s) => (typeof s.as_int === 'number' ? s.as_int : null));
}

/** What `ExportedProgram.module()` returns: an nn.Module running the exported graph. */
export class ExportedModule extends Module {
  /** @internal */ declare _graph: Graph;
  /** @internal fqn -> [owner module, leaf name] */ declare _slots: Map<string, [Module, string]>;
  /** @internal tensor constants (not parameters or buffers; freed by dispose) */ declare _constants: Map<string, Tensor>;

  /** @internal built by ExportedProgram.module() */
  constructor(graph: Graph, weights: Map<string, Tensor>, params: Set<string>, constants: Map<string, Tensor>) {
    super();
    Object.defineProperty(this, '_graph', { value: graph, writable: true });
    Object.defineProperty(this, '_slots', { value: new Map(), writable: true });
    Object.defineProperty(this, '_constants', { value: new Map(), writable: true });
    const persistent = new Map<string, boolean>();
    for (const s of graph.model.graph_module.signature.input_specs) if (s.buffer) persistent.set(s.buffer.buffer_name, s.buffer.persistent !== false);
    try {
      const place = (fqn: string): [Module, string] => {
        const parts = fqn.split('.');
        let m: Module = this;
        for (const p of parts.slice(0, -1)) {
          let child = m._modules.get(p);
          if (!child) child = m.registerModule(p, new Module());
          m = child;
        }
        const slot: [Module, string] = [m, parts[parts.length - 1]];
        this._slots.set(fqn, slot);
        return slot;
      };
      for (const [fqn, t] of weights) {
        const [m, leaf] = place(fqn);
        // The module's tensors share storage with the program's (as PyTorch's ep.module()).
        if (params.has(fqn)) m.registerParameter(leaf, new Parameter(t));
        else m.registerBuffer(leaf, keep(t.detach()), { persistent: persistent.get(fqn) ?? true });
      }
      // Non-persistent buffers are saved with the constants.
      for (const [fqn, isPersistent] of persistent) {
        const t = constants.get(fqn);
        if (!isPersistent && !weights.has(fqn) && t) {
          const [m, leaf] = place(fqn);
          m.registerBuffer(leaf, keep(t.detach()), { persistent: false });
        }
      }
      for (const [fqn, t] of constants) this._constants.set(fqn, keep(t.detach()));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  override train(mode = true): this {
    // Module's constructor path never calls train(); PyTorch's ep.module() refuses both.
    throw new TorchError(
      `ExportedModule.${mode ? 'train' : 'eval'}(): an exported graph runs in the mode it was exported in ` +
        `(calling ${mode ? 'train' : 'eval'}() is not supported, as in PyTorch's ep.module()); ` +
        `export the model again after model.${mode ? 'train' : 'eval'}() in Python`,
      'ERR_TORCH_UNSUPPORTED',
    );
  }
  override eval(): this {
    return this.train(false);
  }

  private tensorFor(fqn: string, kind: InputSlot['kind']): Tensor {
    if (kind === 'constant') {
      const c = this._constants.get(fqn);
      if (!c) throw exportError(`tensor constant '${fqn}' is not in the archive`);
      return c;
    }
    const slot = this._slots.get(fqn);
    const t = slot ? (kind === 'parameter' ? slot[0]._parameters.get(slot[1]) : slot[0]._buffers.get(slot[1])) : undefined;
    if (!t) throw exportError(`${kind} '${fqn}' is missing from the module (it is not in the archive's weights, or was removed)`);
    return t;
  }

  private checkInputs(inputs: unknown[]): void {
    const g = this._graph;
    const fn = 'ExportedModule.forward()';
    if (inputs.length !== g.userInputs.length) {
      throw new TorchError(`${fn}: expected ${g.userInputs.length} input${g.userInputs.length === 1 ? '' : 's'} (${g.userInputs.map((u) => u.name).join(', ')}), got ${inputs.length}`, 'ERR_TORCH_ARG');
    }
    g.userInputs.forEach((u, i) => {
      const x = inputs[i];
      if (!(x instanceof Tensor)) throw new TorchError(`${fn}: input '${u.name}' must be a Tensor, got ${x === null ? 'null' : typeof x}`, 'ERR_TORCH_ARG');
      idOf(x, fn, u.name);
      const want = shapeOf(u.meta);
      const dtype: DType = serdeDtype(u.meta.dtype, `input '${u.name}'`);
      const shape = x.shape;
      const desc = `${dtype}[${want.map((d) => d ?? '?').join(', ')}]`;
      if (x.dtype !== dtype) throw new TorchError(`${fn}: input '${u.name}' must be ${desc} (as exported), got dtype ${x.dtype}`, 'ERR_TORCH_ARG');
      if (shape.length !== want.length || want.some((d, j) => d !== null && d !== shape[j])) {
        throw new TorchError(`${fn}: input '${u.name}' must have shape [${want.map((d) => d ?? '?').join(', ')}] (as exported: ${desc}), got [${shape.join(', ')}]`, 'ERR_TORCH_ARG');
      }
    });
  }

  override forward(...inputs: Tensor[]): any {
    this.checkInputs(inputs);
    const g = this._graph;
    const env = new Map<string, Tensor>();
    let u = 0;
    for (const s of g.inputs) env.set(s.arg, s.kind === 'user' ? (inputs[u++] as Tensor) : this.tensorFor(s.fqn, s.kind));
    const kept = new Set<Tensor>(env.values());
    const result = tidy(() => {
      const tensorArg = (name: string, at: string): Id => {
        const t = env.get(name);
        if (!t) throw exportError(`${at}: tensor '${name}' is not defined before its use`);
        return t._h;
      };
      const value = (a: Arg, at: string): unknown => {
        const [k, v] = argKind(a);
        switch (k) {
          case 'as_tensor':
            return tensorArg(v.name, at);
          case 'as_tensors':
            return (v as { name: string }[]).map((x) => tensorArg(x.name, at));
          case 'as_optional_tensors':
            return (v as Arg[]).map((x) => (x.as_tensor ? tensorArg(x.as_tensor.name, at) : null));
          case 'as_optional_tensor':
            return v.as_tensor ? tensorArg(v.as_tensor.name, at) : null;
          case 'as_none':
            return null;
          case 'as_int':
          case 'as_ints':
          case 'as_float':
          case 'as_floats':
          case 'as_bool':
          case 'as_bools':
          case 'as_string':
          case 'as_strings':
            return v;
          case 'as_sym_int':
          case 'as_sym_bool':
          case 'as_sym_float': {
            const [sk, sv] = argKind(v);
            if (sk === 'as_int' || sk === 'as_bool' || sk === 'as_float') return sv;
            return symInt(v, at);
          }
          case 'as_sym_ints':
            return (v as Arg[]).map((x) => symInt(x, at));
          case 'as_scalar_type':
            return serdeScalarType(v, at);
          case 'as_layout':
            return serdeLayout(v, at);
          case 'as_memory_format':
            return serdeMemoryFormat(v, at);
          case 'as_device':
            return serdeDevice(v);
          default:
            throw exportError(`${at}: argument kind ${k} is not supported yet`, 'ERR_TORCH_UNSUPPORTED');
        }
      };
      for (const { node, op } of g.nodes) {
        const at = `node '${node.name}' (${op.target})`;
        const args: unknown[] = [];
        let last = -1;
        for (const i of node.inputs) {
          const pos = op.names.indexOf(i.name);
          let v = value(i.arg, `${at}, argument '${i.name}'`);
          const kind = argKind(i.arg)[0];
          if (op.tensorParams[pos] && /^as_(int|float|bool|sym_int|sym_float|sym_bool)$/.test(kind)) {
            // A Python number where the schema wants a Tensor: a 0-dim tensor (int64 / float32 / bool).
            const code = typeof v === 'boolean' ? 11 : /int$/.test(kind) ? 4 : 6;
            v = wrap(native.callOp(SCALAR_TENSOR, v, code, null, null, null) as Id)._h;
          }
          args[pos] = v;
          last = Math.max(last, pos);
        }
        // Gaps (defaults skipped before a later keyword) are filled natively from the schema.
        for (let j = 0; j <= last; j++) if (!(j in args)) args[j] = undefined;
        const r = native.callOp(op.handle, ...args);
        // Wrap every tensor the op returned (so the scope frees what the graph does not use).
        const rs = op.tensorReturns.length === 1 ? [r] : (r as unknown[]);
        const wrapped = op.tensorReturns.map((kind, j) => {
          const x = rs?.[j];
          if (kind === 'tensor' && typeof x === 'number') return wrap(x);
          if (kind === 'list' && Array.isArray(x)) return x.map((y) => (typeof y === 'number' ? wrap(y) : y));
          return x;
        });
        const outs = node.outputs as Arg[];
        const bind = (o: Arg, val: unknown): void => {
          const [k, v] = argKind(o);
          if (k === 'as_tensor') {
            if (!(val instanceof Tensor)) throw exportError(`${at}: expected a tensor output '${v.name}'`);
            env.set(v.name, val);
          } else if (k === 'as_tensors') {
            (v as { name: string }[]).forEach((x, j) => {
              const t = (val as unknown[])?.[j];
              if (!(t instanceof Tensor)) throw exportError(`${at}: expected a tensor output '${x.name}'`);
              env.set(x.name, t);
            });
          } else if (k === 'as_optional_tensors') {
            (v as Arg[]).forEach((x, j) => {
              const t = (val as unknown[])?.[j];
              if (x.as_tensor && t instanceof Tensor) env.set(x.as_tensor.name, t);
            });
          } else if (k !== 'as_none') {
            throw exportError(`${at}: output kind ${k} is not supported yet`, 'ERR_TORCH_UNSUPPORTED');
          }
        };
        if (outs.length === 1 && wrapped.length > 1) {
          // One output naming a tuple (as_tensors over a multi-return op).
          bind(outs[0], wrapped);
        } else {
          outs.forEach((o, j) => bind(o, wrapped[j]));
        }
      }
      const userOut: Tensor[] = [];
      for (const o of g.outputs) {
        const [k, v] = argKind(o.arg);
        if (k !== 'as_tensor') throw exportError(`graph output of kind ${k} is not supported yet`, 'ERR_TORCH_UNSUPPORTED');
        const t = env.get(v.name);
        if (!t) throw exportError(`graph output '${v.name}' is not defined`);
        if (o.kind === 'user') {
          userOut.push(t);
          continue;
        }
        let dest: Tensor;
        if (o.kind === 'user_input') {
          const idx = g.userInputs.findIndex((x) => x.name === o.target);
          dest = inputs[idx];
        } else dest = this.tensorFor(o.target, o.kind === 'buffer' ? 'buffer' : 'parameter');
        if (dest && dest._h !== t._h) noGrad(() => dest.copy_(t));
      }
      // Outputs that are inputs (a parameter returned as is) must survive the scope as new handles.
      return userOut.map((t) => (kept.has(t) ? t.detach() : t));
    });
    return unflatten(g.outSpec, result);
  }

  override dispose(): void {
    super.dispose();
    for (const t of this._constants.values()) t.dispose();
    this._constants.clear();
  }
}

/** torch.export.ExportedProgram, as loaded: its state dict and graph; .module() makes a runnable Module. */
export class ExportedProgram {
  /** Where it was loaded from. */
  readonly where: string;
  /** The export schema version it was saved with ({ major, minor }). */
  readonly schemaVersion: { major: number; minor: number };
  /** The torch version that saved it (when recorded). */
  readonly torchVersion: string | null;
  /** Parameters and buffers by fully-qualified name (owned by the program; freed by dispose()). */
  readonly stateDict: Map<string, Tensor>;
  /** Tensor constants by name. */
  readonly constants: Map<string, Tensor>;
  /** @internal */ readonly _params: Set<string>;
  /** @internal */ readonly _graph: Graph;

  /** @internal use torch.export.load() */
  constructor(f: string | Uint8Array) {
    const a = readArchive(f);
    try {
      this._graph = new Graph(a.where, a.model);
    } catch (e) {
      for (const t of a.weights.values()) t.dispose();
      for (const t of a.constants.values()) t.dispose();
      throw e;
    }
    this.where = a.where;
    this.schemaVersion = { major: a.model.schema_version.major, minor: a.model.schema_version.minor };
    this.torchVersion = typeof a.model.torch_version === 'string' ? a.model.torch_version : null;
    this.stateDict = a.weights;
    this.constants = a.constants;
    this._params = a.params;
    for (const s of this._graph.inputs) {
      if (s.kind === 'user') continue;
      const have = s.kind === 'constant' ? this.constants.has(s.fqn) : this.stateDict.has(s.fqn) || (s.kind === 'buffer' && this.constants.has(s.fqn));
      if (!have) {
        this.dispose();
        throw exportError(`${a.where}: the graph takes ${s.kind} '${s.fqn}', which the archive's ${s.kind === 'constant' ? 'constants' : 'weights'} do not hold`);
      }
    }
  }

  /** The names of the parameters (a subset of stateDict's keys). */
  get parameterNames(): string[] {
    return [...this._params];
  }

  /** The operators the graph calls, in first-use order ('torch.ops.aten.conv2d.default', ...). */
  get operators(): string[] {
    return [...new Set(this._graph.nodes.map((n) => n.op.target))];
  }

  /** A new Module running the graph; its parameters share storage with this program's state dict. */
  module(): ExportedModule {
    return new ExportedModule(this._graph, this.stateDict, this._params, this.constants);
  }

  /** Frees the program's tensors (modules made by module() keep theirs until their own dispose()). */
  dispose(): void {
    for (const t of this.stateDict.values()) t.dispose();
    for (const t of this.constants.values()) t.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * torch.export.load(f): reads a `torch.export.save` archive (.pt2, a path or its bytes) into an
 * ExportedProgram; `.module()` gives a trainable nn.Module running the graph.
 */
export function load(f: string | Uint8Array): ExportedProgram {
  return new ExportedProgram(f);
}
