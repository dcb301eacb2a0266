/**
 * torch.export.load: an ExportedProgram read from a `torch.export.save` archive, and its
 * `.module()`: an nn.Module whose parameters and buffers carry the exported fully-qualified names
 * ('layer1.0.conv1.weight') and whose forward interprets the exported ATen graph node by node
 * through the dispatcher (native.callOp; lib/export/graph.ts) — no compiler, autograd intact, so it
 * trains.
 *
 * Supported:
 * - graphs of ATen (and other registered) operators with every argument kind of the schema that
 *   names a value torch-node has: tensors, tensor lists, optionals, ints / floats / bools / strings
 *   and their lists, SymInt / SymFloat / SymBool (literal or computed), dtypes, devices, layouts,
 *   memory formats;
 * - parameters, buffers (persistent or not), tensor constants; buffer / parameter / user-input
 *   mutations written back after each forward (BatchNorm's running statistics in a train-mode export);
 * - dynamic shapes: input dimensions exported with `dynamic_shapes` bind their symbols from the
 *   actual inputs (derived dimensions such as 2*batch are solved), the archive's range_constraints
 *   are checked before running (as PyTorch, a lower bound of 2 or less is not enforced: export lets
 *   0/1 through), and symbolic values in the graph (aten.sym_size, `_operator.*`, `torch.sym_*`
 *   nodes, SymInt arguments and outputs) are computed at run time;
 * - higher-order operators `cond`, `while_loop` and `wrap_with_set_grad_enabled`, their subgraphs
 *   interpreted (any other higher-order operator is a TorchError naming it);
 * - pytree inputs and outputs (module_call_graph's in_spec / out_spec): a dict input is passed as a
 *   plain object or a Map, a tuple or list as an array; tuple and list outputs come back as arrays,
 *   dict outputs as plain objects, None as null, symbolic int outputs as numbers. Inputs exported as
 *   constants (an int, None) must be passed with the same value.
 *
 * Not supported (a TorchError saying so): custom objects and tokens, joint/training graphs,
 * pickled payloads, complex and float8 dtypes.
 *
 * As PyTorch's `ep.module()` (torch 2.15), the module runs in the mode it was exported in:
 * train() and eval() throw (re-export in the other mode instead).
 */
import { noGrad } from '../autograd';
import type { DType } from '../dtype';
import { TorchError } from '../errors';
import { Module, Parameter } from '../nn/module';
import { keep, tidy } from '../scope';
import { native, type Id } from '../binding';
import { Tensor, idOf, wrap } from '../tensor';
import { brief, exportError, readArchive, serdeDtype, type TensorMeta } from './archive';
import { argKind, compileProgram, planGraph, runGraph, type CompiledGraph, type Value } from './graph';
import { countLeaves, flatten, parseSpec, unflatten, type Spec } from './pytree';
import { Unbound, evalExpr, freeSymbols, parseExpr, showExpr, solveLinear, type Expr } from './symbolic';

type Arg = Record<string, any>;

/** One input dimension: static, or a symbolic expression of the archive's symbols. */
type Dim = { fixed: number } | { expr: Expr; text: string };

/** A user input (a leaf of the input pytree), as the graph takes it. */
interface UserInput {
  /** The graph's placeholder name. */
  name: string;
  kind: 'tensor' | 'symint' | 'constant';
  meta?: TensorMeta;
  dtype?: DType;
  dims?: Dim[];
  /** for a symint input */
  expr?: Expr;
  /** for a constant input: the exported value */
  constant?: unknown;
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

function dimOf(s: any, what: string): Dim {
  if (typeof s?.as_int === 'number') return { fixed: s.as_int };
  if (s?.as_expr && typeof s.as_expr.expr_str === 'string') {
    const expr = parseExpr(s.as_expr.expr_str, what);
    return { expr, text: showExpr(expr) };
  }
  throw exportError(`${what}: a size ${brief(s)} is neither an int nor a symbolic expression`);
}
const showDim = (d: Dim): string => ('fixed' in d ? String(d.fixed) : d.text);

/** The signature, specs, ranges and compiled graph of a program: shared by every module() it makes. */
class Program {
  readonly graph: CompiledGraph;
  readonly targets: string[];
  readonly inputs: InputSlot[] = [];
  readonly outputs: OutputSlot[] = [];
  readonly userInputs: UserInput[] = [];
  /** The user-facing arguments: positional names and the spec of each; then keyword ones. */
  readonly argNames: string[] = [];
  readonly argSpecs: Spec[] | null = null;
  readonly outSpec: Spec | null = null;
  /** symbol -> declared [min, max] (null: unbounded) */
  readonly ranges = new Map<string, { min: number | null; max: number | null }>();

  constructor(
    readonly where: string,
    readonly model: any,
  ) {
    const g = model.graph_module.graph;
    const sig = model.graph_module.signature;
    if (!Array.isArray(sig.input_specs) || !Array.isArray(sig.output_specs) || !Array.isArray(g.inputs) || !Array.isArray(g.outputs)) {
      throw exportError(`${where}: models/model.json's signature or graph has no input / output lists`);
    }
    const name = (x: unknown, what: string): string => {
      if (typeof x !== 'string') throw exportError(`${where}: ${what} is ${brief(x)}, not a name`);
      return x;
    };
    for (const s of sig.input_specs) {
      const [k, v] = argKind(s, where);
      const at = `${where}: a ${k} input spec`;
      if (k === 'parameter') this.inputs.push({ arg: name(v?.arg?.name, at), kind: 'parameter', fqn: name(v.parameter_name, `${at}'s parameter_name`) });
      else if (k === 'buffer') this.inputs.push({ arg: name(v?.arg?.name, at), kind: 'buffer', fqn: name(v.buffer_name, `${at}'s buffer_name`) });
      else if (k === 'tensor_constant')
        this.inputs.push({ arg: name(v?.arg?.name, at), kind: 'constant', fqn: name(v.tensor_constant_name, `${at}'s tensor_constant_name`) });
      else if (k === 'user_input') this.inputs.push(this.userInput(v?.arg, g));
      else
        throw exportError(`${where}: an input spec of kind ${k} (custom objects, tokens and constant inputs are not supported yet)`, 'ERR_TORCH_UNSUPPORTED');
    }
    if (sig.input_specs.length !== g.inputs.length) throw exportError(`${where}: ${sig.input_specs.length} input specs for ${g.inputs.length} graph inputs`);
    if (sig.output_specs.length !== g.outputs.length) {
      throw exportError(`${where}: ${sig.output_specs.length} output specs for ${g.outputs.length} graph outputs`);
    }
    sig.output_specs.forEach((s: Arg, i: number) => {
      const [k, v] = argKind(s, where);
      const arg = g.outputs[i];
      const at = `${where}: a ${k} output spec`;
      if (k === 'user_output') this.outputs.push({ arg, kind: 'user', target: '' });
      else if (k === 'buffer_mutation') this.outputs.push({ arg, kind: 'buffer', target: name(v?.buffer_name, `${at}'s buffer_name`) });
      else if (k === 'parameter_mutation') this.outputs.push({ arg, kind: 'parameter', target: name(v?.parameter_name, `${at}'s parameter_name`) });
      else if (k === 'user_input_mutation') this.outputs.push({ arg, kind: 'user_input', target: name(v?.user_input_name, `${at}'s user_input_name`) });
      else throw exportError(`${where}: an output spec of kind ${k} (joint/training graphs and tokens are not supported yet)`, 'ERR_TORCH_UNSUPPORTED');
    });
    for (const [sym, r] of Object.entries((model.range_constraints ?? {}) as Record<string, any>)) {
      const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
      this.ranges.set(sym, { min: num(r?.min_val), max: num(r?.max_val) });
    }
    const { graph, targets } = compileProgram(g, where);
    this.graph = graph;
    this.targets = targets;

    const sigs = model.graph_module.module_call_graph;
    const root = Array.isArray(sigs) ? sigs.find((m: any) => m?.fqn === '') : null;
    const rs = root?.signature;
    if (rs?.out_spec) this.outSpec = parseSpec(rs.out_spec, `${where}: out_spec`);
    if (rs?.in_spec) {
      const spec = parseSpec(rs.in_spec, `${where}: in_spec`);
      // (args, kwargs)
      if (spec.kind !== 'seq' || spec.children.length !== 2 || spec.children[0].kind !== 'seq' || spec.children[1].kind !== 'dict') {
        throw exportError(`${where}: in_spec is not an (args, kwargs) pair`);
      }
      const [args, kwargs] = spec.children as [Extract<Spec, { kind: 'seq' }>, Extract<Spec, { kind: 'dict' }>];
      const names: unknown[] = Array.isArray(rs.forward_arg_names) ? rs.forward_arg_names : [];
      args.children.forEach((_, i) => this.argNames.push(typeof names[i] === 'string' ? (names[i] as string) : `args[${i}]`));
      kwargs.keys.forEach((k) => this.argNames.push(String(k)));
      this.argSpecs = [...args.children, ...kwargs.children];
      const leaves = this.argSpecs.reduce((n, s) => n + countLeaves(s), 0);
      if (leaves !== this.userInputs.length) {
        throw exportError(`${where}: in_spec has ${leaves} leaves but the graph takes ${this.userInputs.length} user inputs`);
      }
    } else {
      this.userInputs.forEach((u) => this.argNames.push(u.name));
    }
    if (this.outSpec && countLeaves(this.outSpec) !== this.outputs.filter((o) => o.kind === 'user').length) {
      throw exportError(
        `${where}: out_spec has ${countLeaves(this.outSpec)} leaves but the graph has ${this.outputs.filter((o) => o.kind === 'user').length} user outputs`,
      );
    }
  }

  private userInput(arg: Arg, g: any): InputSlot {
    const where = this.where;
    const [k, v] = argKind(arg, where);
    let u: UserInput;
    if (k === 'as_tensor') {
      const name = v?.name;
      if (typeof name !== 'string') throw exportError(`${where}: a user input is named ${brief(name)}`);
      const meta: TensorMeta = g.tensor_values?.[name];
      if (!meta || typeof meta !== 'object' || !Array.isArray(meta.sizes)) throw exportError(`${where}: user input '${name}' has no tensor_values entry`);
      const dims = meta.sizes.map((s, j) => dimOf(s, `${where}: input '${name}' dimension ${j}`));
      u = { name, kind: 'tensor', meta, dims, dtype: serdeDtype(meta.dtype, `${where}: input '${name}'`) };
    } else if (k === 'as_sym_int' && typeof v?.as_name === 'string') {
      const e = g.sym_int_values?.[v.as_name]?.as_expr?.expr_str;
      u = { name: v.as_name, kind: 'symint', expr: typeof e === 'string' ? parseExpr(e, `${where}: input '${v.as_name}'`) : undefined };
    } else if (['as_int', 'as_float', 'as_bool', 'as_string', 'as_none'].includes(k)) {
      u = { name: `<constant ${this.userInputs.length}>`, kind: 'constant', constant: k === 'as_none' ? null : v };
    } else {
      throw exportError(`${where}: a user input of kind ${k} (custom objects and tokens are not supported)`, 'ERR_TORCH_UNSUPPORTED');
    }
    this.userInputs.push(u);
    return { arg: u.name, kind: 'user', fqn: u.name };
  }
}

/**
 * Checks the user inputs against the exported program (structure, dtype, rank, static sizes,
 * symbolic sizes consistent and within their declared ranges), as PyTorch's ep.module() does before
 * running; returns the flat leaves in graph order.
 */
function checkInputs(p: Program, inputs: unknown[]): unknown[] {
  const fn = 'ExportedModule.forward()';
  if (inputs.length !== p.argNames.length) {
    throw new TorchError(
      `${fn}: expected ${p.argNames.length} input${p.argNames.length === 1 ? '' : 's'} (${p.argNames.join(', ')}), got ${inputs.length}`,
      'ERR_TORCH_ARG',
    );
  }
  const leaves: { path: string; value: unknown }[] = [];
  if (p.argSpecs) p.argSpecs.forEach((s, i) => flatten(s, inputs[i], p.argNames[i], fn, leaves));
  else inputs.forEach((x, i) => leaves.push({ path: p.argNames[i], value: x }));
  const symbols = new Map<string, number>();
  const boundBy = new Map<string, string>();
  const checkRange = (key: string, value: number, what: string, exported: string): void => {
    const r = p.ranges.get(key);
    if (!r) return;
    // As PyTorch (_check_symint): a lower bound of 2 or less is not enforced (0/1 are allowed at run time).
    if ((r.min !== null && r.min > 2 && value < r.min) || (r.max !== null && value > r.max)) {
      throw new TorchError(
        `${fn}: ${what} is ${value}, outside the range [${r.min ?? '-inf'}, ${r.max ?? 'inf'}] declared for its dynamic dimension ${key} (as exported: ${exported})`,
        'ERR_TORCH_ARG',
      );
    }
  };
  // Binds (or checks) one symbolic size against an actual value.
  const unify = (expr: Expr, text: string, value: number, what: string, exported: string): void => {
    const isSymbol = typeof expr === 'object' && expr.fn === 'Symbol';
    if (!isSymbol) checkRange(text, value, what, exported); // a derived dimension's own range (2*batch)
    const free = [...freeSymbols(expr)];
    const unbound = free.filter((s) => !symbols.has(s));
    if (unbound.length === 0) {
      const want = evalExpr(expr, symbols, what);
      if (want !== value) {
        const by = free.map((s) => `${s} = ${symbols.get(s)} from ${boundBy.get(s)}`).join(', ');
        throw new TorchError(`${fn}: ${what} is ${value}, but it must equal ${text} = ${want} (${by}) (as exported: ${exported})`, 'ERR_TORCH_ARG');
      }
      return;
    }
    if (unbound.length > 1)
      throw new TorchError(
        `${fn}: ${what} is ${text}, which has several unknown symbols (${unbound.join(', ')}); torch-node cannot solve it`,
        'ERR_TORCH_UNSUPPORTED',
      );
    const sym = unbound[0];
    let solved: number | null = value;
    if (!isSymbol) {
      try {
        solved = solveLinear(expr, sym, value, symbols, what);
      } catch (e) {
        if (!(e instanceof Unbound)) throw e;
        solved = null;
      }
    }
    if (solved === null)
      throw new TorchError(`${fn}: ${what} is ${value}, which is not of the form ${text} for an integer ${sym} (as exported: ${exported})`, 'ERR_TORCH_ARG');
    checkRange(sym, solved, isSymbol ? what : `${what} = ${text} gives ${sym}, which`, exported);
    symbols.set(sym, solved);
    boundBy.set(sym, what);
  };
  p.userInputs.forEach((u, i) => {
    const { path, value: x } = leaves[i];
    const label = `input '${path}'`;
    if (u.kind === 'constant') {
      const same = u.constant === null ? x === null || x === undefined : x === u.constant;
      if (!same)
        throw new TorchError(
          `${fn}: ${label} must be ${brief(u.constant)} (it was a constant when exported: the graph was specialized to it), got ${x instanceof Tensor ? 'a Tensor' : brief(x)}`,
          'ERR_TORCH_ARG',
        );
      return;
    }
    if (u.kind === 'symint') {
      if (typeof x !== 'number' || !Number.isInteger(x))
        throw new TorchError(
          `${fn}: ${label} must be an integer (a SymInt when exported), got ${x instanceof Tensor ? 'a Tensor' : typeof x}`,
          'ERR_TORCH_ARG',
        );
      if (u.expr) unify(u.expr, showExpr(u.expr), x, label, `SymInt ${showExpr(u.expr)}`);
      return;
    }
    if (!(x instanceof Tensor)) throw new TorchError(`${fn}: ${label} must be a Tensor, got ${x === null ? 'null' : typeof x}`, 'ERR_TORCH_ARG');
    idOf(x, fn, path);
    const dims = u.dims as Dim[];
    const desc = `${u.dtype}[${dims.map(showDim).join(', ')}]`;
    if (x.dtype !== u.dtype) throw new TorchError(`${fn}: ${label} must be ${desc} (as exported), got dtype ${x.dtype}`, 'ERR_TORCH_ARG');
    const shape = x.shape;
    const badShape = (): TorchError =>
      new TorchError(
        `${fn}: ${label} must have shape [${dims.map(showDim).join(', ')}] (as exported: ${desc}), got [${shape.join(', ')}]` +
          (dims.some((d) => !('fixed' in d)) ? '; its static dimensions are fixed (re-export with dynamic_shapes to vary them)' : ''),
        'ERR_TORCH_ARG',
      );
    if (shape.length !== dims.length) throw badShape();
    dims.forEach((d, j) => {
      if ('fixed' in d) {
        if (d.fixed !== shape[j]) throw badShape();
      } else unify(d.expr, d.text, shape[j], `${label} dimension ${j}`, desc);
    });
  });
  return leaves.map((l) => l.value);
}
interface NativePlans {
  planCreate(spec: unknown): number;
  planFree(id: number): void;
  planRunAsync(id: number, inputs: Id[]): Promise<[boolean, unknown][]>;
}
const nativePlans = native as unknown as NativePlans;

/** What `ExportedProgram.module()` returns: an nn.Module running the exported graph. */
export class ExportedModule extends Module {
  /** @internal */ declare _graph: Program;
  /** @internal fqn -> [owner module, leaf name] */ declare _slots: Map<string, [Module, string]>;
  /** @internal tensor constants (not parameters or buffers; freed by dispose) */ declare _constants: Map<string, Tensor>;
  /** @internal forwardAsync's native plan (made at its first call), or why there is none */ declare _plan: { id: number; keep: Tensor[] } | string | undefined;

  /** @internal built by ExportedProgram.module() */
  constructor(graph: Program, weights: Map<string, Tensor>, params: Set<string>, constants: Map<string, Tensor>, frozen: Set<string> = new Set()) {
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
        if (params.has(fqn)) m.registerParameter(leaf, new Parameter(t, !frozen.has(fqn)));
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

  /**
   * Runs the exported graph (PyTorch's `ep.module()(*args)`): the inputs checked against the program's input specs, this module's parameters and buffers used,
   * input and buffer mutations (e.g. a train-mode export's BatchNorm statistics) written back. Returns the outputs nested as the program's out_spec says.
   */
  override forward(...inputs: unknown[]): any {
    const p = this._graph;
    const leaves = checkInputs(p, inputs);
    const args: Value[] = [];
    let u = 0;
    for (const s of p.inputs) args.push(s.kind === 'user' ? (leaves[u++] as Value) : this.tensorFor(s.fqn, s.kind));
    const kept = new Set<unknown>(args);
    const result = tidy(() => {
      const outs = runGraph(p.graph, args, p.where);
      const userOut: Value[] = [];
      p.outputs.forEach((o, i) => {
        const t = outs[i];
        if (o.kind === 'user') {
          userOut.push(t);
          return;
        }
        if (!(t instanceof Tensor)) throw exportError(`${p.where}: the mutation of ${o.kind} '${o.target}' is not a tensor`);
        let dest: unknown;
        if (o.kind === 'user_input') {
          const idx = p.userInputs.findIndex((x) => x.name === o.target);
          dest = leaves[idx];
        } else dest = this.tensorFor(o.target, o.kind === 'buffer' ? 'buffer' : 'parameter');
        if (dest instanceof Tensor && dest._h !== t._h) noGrad(() => dest.copy_(t));
      });
      // Outputs that are inputs (a parameter returned as is) must survive the scope as new handles.
      return userOut.map((t) => (t instanceof Tensor && kept.has(t) ? t.detach() : t));
    });
    if (!p.outSpec) return result.length === 1 ? result[0] : result;
    return unflatten(p.outSpec, result);
  }

  /**
   * The forward on libuv's thread pool, under InferenceMode, so a server's event loop keeps turning:
   * the graph runs natively from a plan made at the first call (each node's operator and its
   * arguments resolved once). For eval-mode exports without control flow; a graph with `cond`,
   * `while_loop` or mutations (a train-mode export) is a TorchError naming why (use forward()).
   * The module's current parameters are used; do not change them while calls are in flight.
   */
  async forwardAsync(...inputs: unknown[]): Promise<any> {
    const fn = 'ExportedModule.forwardAsync()';
    const p = this._graph;
    if (this._plan === undefined) {
      const mutation = p.outputs.find((o) => o.kind !== 'user');
      if (mutation) {
        this._plan = `the graph writes back ${mutation.kind === 'user_input' ? 'an input' : `its ${mutation.kind} '${mutation.target}'`} (a train-mode export): forwardAsync runs inference (eval-mode exports)`;
      } else {
        const r = planGraph(p.graph, p.where);
        if ('reason' in r) this._plan = r.reason;
        else {
          try {
            this._plan = { id: nativePlans.planCreate(r.spec), keep: r.keep.map((t) => keep(t)) };
          } catch (e) {
            for (const t of r.keep) t.dispose();
            throw e;
          }
        }
      }
    }
    const plan = this._plan;
    if (typeof plan === 'string') throw new TorchError(`${fn}: ${plan}; use forward()`, 'ERR_TORCH_UNSUPPORTED');
    const leaves = checkInputs(p, inputs);
    const ids: Id[] = [];
    let u = 0;
    for (const s of p.inputs) {
      const t = s.kind === 'user' ? leaves[u++] : this.tensorFor(s.fqn, s.kind);
      if (!(t instanceof Tensor)) throw new TorchError(`${fn}: input '${s.arg}' is not a tensor (forwardAsync takes tensor inputs)`, 'ERR_TORCH_ARG');
      ids.push(t._h);
    }
    const raw = await nativePlans.planRunAsync(plan.id, ids);
    const result = raw.map(([isTensor, v]) => (isTensor ? wrap(v as Id) : v)) as Value[];
    if (!p.outSpec) return result.length === 1 ? result[0] : result;
    return unflatten(p.outSpec, result);
  }

  override dispose(): void {
    super.dispose();
    for (const t of this._constants.values()) t.dispose();
    this._constants.clear();
    if (this._plan && typeof this._plan !== 'string') {
      nativePlans.planFree(this._plan.id);
      for (const t of this._plan.keep) t.dispose();
    }
    this._plan = undefined;
  }
}

/** torch.export.ExportedProgram, as loaded: its state dict and graph; .module() makes a runnable Module. */
export class ExportedProgram {
  /** Where it was loaded from. */
  readonly where: string;
  /** The export schema version it was saved with ({ major, minor }). */
  readonly schemaVersion: {
    /** The major version. */
    major: number;
    /** The minor version. */
    minor: number;
  };
  /** The torch version that saved it (when recorded). */
  readonly torchVersion: string | null;
  /** Parameters and buffers by fully-qualified name (owned by the program; freed by dispose()). */
  readonly stateDict: Map<string, Tensor>;
  /** Tensor constants by name. */
  readonly constants: Map<string, Tensor>;
  /** @internal */ readonly _params: Set<string>;
  /** @internal parameters exported with requires_grad=False */ readonly _frozen: Set<string>;
  /** @internal */ readonly _graph: Program;

  /** @internal use torch.export.load() */
  constructor(f: string | Uint8Array) {
    const a = readArchive(f);
    try {
      this._graph = new Program(a.where, a.model);
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
    this._frozen = a.frozen;
    for (const s of this._graph.inputs) {
      if (s.kind === 'user') continue;
      const have = s.kind === 'constant' ? this.constants.has(s.fqn) : this.stateDict.has(s.fqn) || (s.kind === 'buffer' && this.constants.has(s.fqn));
      if (!have) {
        this.dispose();
        throw exportError(
          `${a.where}: the graph takes ${s.kind} '${s.fqn}', which the archive's ${s.kind === 'constant' ? 'constants' : 'weights'} do not hold`,
        );
      }
    }
  }

  /** The names of the parameters (a subset of stateDict's keys). */
  get parameterNames(): string[] {
    return [...this._params];
  }

  /** The operators the graph and its subgraphs call, in first-use order ('torch.ops.aten.conv2d.default', ...). */
  get operators(): string[] {
    return [...this._graph.targets];
  }

  /** The declared ranges of the dynamic dimensions (symbol -> { min, max }; null: unbounded). */
  get rangeConstraints(): Map<
    string,
    {
      /** The least size, or null. */
      min: number | null;
      /** The greatest size, or null. */
      max: number | null;
    }
  > {
    return new Map([...this._graph.ranges].map(([k, v]) => [k, { ...v }]));
  }

  /** A new Module running the graph; its parameters share storage with this program's state dict. */
  module(): ExportedModule {
    return new ExportedModule(this._graph, this.stateDict, this._params, this.constants, this._frozen);
  }

  /** Frees the program's tensors (modules made by module() keep theirs until their own dispose()). */
  dispose(): void {
    for (const t of this.stateDict.values()) t.dispose();
    for (const t of this.constants.values()) t.dispose();
  }
  /** dispose(), for `using ep = torch.export.load(...)`. */
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
