/**
 * The exported graph as torch-node runs it: each serialized graph (the top one and the subgraphs
 * of higher-order operators) is compiled once at load into steps — an operator resolved to a
 * dispatcher handle (native.callOp), a Python operator on symbolic values (`_operator.mul`,
 * `torch.sym_max`, ...), or a higher-order operator with its compiled subgraphs — and interpreted
 * node by node with autograd on, so a program trains.
 *
 * Higher-order operators run here: `cond` (the branch the predicate picks), `while_loop` (the body
 * while the condition graph is true; each iteration's intermediate tensors are freed as it ends) and
 * `wrap_with_set_grad_enabled` (the subgraph with grad mode set). Any other is a TorchError naming it.
 */
import { native } from '../binding';
import { enableGrad, noGrad } from '../autograd';
import { tidy } from '../scope';
import { Tensor, wrap } from '../tensor';
import { brief, exportError, serdeDevice, serdeLayout, serdeMemoryFormat, serdeScalarType } from './archive';
import { SYM_OPS, type SymValue } from './symbolic';
import { WRAPPED_DTYPE, wrappedNumber } from '../ops/call';
import { schemaOfHandle } from '../ops/schema';

/** What a graph value is at run time: a tensor, a symbolic int/float/bool (a number or boolean), a list... */
export type Value = Tensor | SymValue | string | null | undefined | Value[];

type Arg = Record<string, any>;

const HIGHER_ORDER_PREFIX = 'torch.ops.higher_order.';
const HIGHER_ORDER = ['cond', 'while_loop', 'wrap_with_set_grad_enabled'] as const;
type HigherOrder = (typeof HIGHER_ORDER)[number];
/** Subgraphs nest at most this deep (a cond inside a while_loop body is depth 2). */
export const MAX_GRAPH_DEPTH = 16;
/** And hold at most this many nodes in all (a hostile archive cannot make compile time explode). */
export const MAX_NODES = 1_000_000;

export interface OpEntry {
  target: string;
  handle: number;
  /** Argument names in schema order (keyword-only ones included). */
  names: string[];
  /** Per argument: whether its type is Tensor or Tensor? (a number there becomes a 0-dim tensor, as Python's wrapped numbers). */
  tensorParams: boolean[];
  /** Per return: whether it is a Tensor (tensor ids must be wrapped so they are freed). */
  tensorReturns: ('tensor' | 'list' | 'other')[];
}

type Step =
  | { kind: 'op'; node: any; at: string; op: OpEntry }
  | { kind: 'sym'; node: any; at: string; fn: (...a: SymValue[]) => SymValue }
  | { kind: 'hop'; node: any; at: string; hop: HigherOrder; graphs: Map<number, CompiledGraph> };

export interface CompiledGraph {
  name: string;
  inputs: Arg[];
  outputs: Arg[];
  steps: Step[];
}

/** Resolves 'torch.ops.aten.conv2d.default' to a dispatcher handle and its schema's argument names. */
function resolveOp(target: string, where: string): OpEntry {
  const parts = target.split('.');
  if (parts.length !== 5 || parts[0] !== 'torch' || parts[1] !== 'ops') {
    throw exportError(
      `${where}: the graph calls ${brief(target)}, which is not an operator (torch.ops.<namespace>.<name>.<overload>) nor a symbolic-size operator torch-node knows`,
      'ERR_TORCH_UNSUPPORTED',
    );
  }
  const [, , ns, name, overload] = parts;
  let handle: number;
  try {
    handle = native.findOp(`${ns}::${name}`, overload === 'default' ? '' : overload);
  } catch {
    throw exportError(`${where}: the graph calls operator ${target}, which this libtorch (${native.builtWithLibtorch}) does not have`, 'ERR_TORCH_UNSUPPORTED');
  }
  const sch = schemaOfHandle(handle);
  const { names, tensorParams } = sch;
  const tensorReturns = sch.returns.map((r) => r.kind);
  if (names.length > 15)
    throw exportError(`${where}: operator ${target} has ${names.length} arguments; torch-node's callOp takes at most 15`, 'ERR_TORCH_UNSUPPORTED');
  return { target, handle, names, tensorParams, tensorReturns };
}

export function argKind(a: Arg, at = 'the graph'): [string, any] {
  const keys = a && typeof a === 'object' ? Object.keys(a) : [];
  if (keys.length !== 1) throw exportError(`${at}: an argument is ${brief(a)}, not a one-field union`);
  return [keys[0], a[keys[0]]];
}

/** The name a graph input or output binds (tensor, symbolic value), or null for a constant. */
export function argName(a: Arg, at: string): string | null {
  const [k, v] = argKind(a, at);
  if (k === 'as_tensor') return nameOf(v?.name, at);
  if (k === 'as_sym_int' || k === 'as_sym_float' || k === 'as_sym_bool') return typeof v?.as_name === 'string' ? v.as_name : null;
  return null;
}

interface CompileState {
  where: string;
  ops: Map<string, OpEntry>;
  nodes: number;
  targets: Set<string>;
}

function compile(g: any, name: string, depth: number, st: CompileState): CompiledGraph {
  const where = st.where;
  if (depth > MAX_GRAPH_DEPTH) throw exportError(`${where}: subgraph '${name}' is nested ${depth} levels deep (torch-node runs at most ${MAX_GRAPH_DEPTH})`);
  if (!g || !Array.isArray(g.nodes) || !Array.isArray(g.inputs) || !Array.isArray(g.outputs)) {
    throw exportError(`${where}: graph '${name}' has no nodes / inputs / outputs lists`);
  }
  st.nodes += g.nodes.length;
  if (st.nodes > MAX_NODES) throw exportError(`${where}: the graphs hold more than ${MAX_NODES} nodes`);
  const steps: Step[] = [];
  for (const node of g.nodes) {
    // Node.name came with schema 8.x's later minors (torch 2.6 - 2.8 wrote none): optional, for messages only.
    const hasName = typeof node?.name === 'string' || node?.name === undefined || node?.name === null;
    if (!node || typeof node.target !== 'string' || !hasName || !Array.isArray(node.inputs) || !Array.isArray(node.outputs)) {
      throw exportError(`${where}: graph '${name}' has a malformed node ${brief(node)}`);
    }
    const target: string = node.target;
    const at = `${where}: node '${typeof node.name === 'string' ? node.name : nodeLabel(node)}' (${target})`;
    for (const i of node.inputs)
      if (!i || typeof i !== 'object' || !('arg' in i) || typeof i.name !== 'string') throw exportError(`${at}: a malformed argument ${brief(i)}`);
    for (const o of node.outputs) checkBinding(o, at);
    st.targets.add(target);
    const sym = SYM_OPS[target];
    if (sym) {
      steps.push({ kind: 'sym', node, at, fn: sym });
      continue;
    }
    if (target.startsWith(HIGHER_ORDER_PREFIX)) {
      const hop = target.slice(HIGHER_ORDER_PREFIX.length) as HigherOrder;
      if (!HIGHER_ORDER.includes(hop)) {
        throw exportError(
          `${where}: the graph uses the higher-order operator ${target}, which torch-node does not run (it runs ${HIGHER_ORDER.map((h) => HIGHER_ORDER_PREFIX + h).join(', ')})`,
          'ERR_TORCH_UNSUPPORTED',
        );
      }
      const want = hop === 'wrap_with_set_grad_enabled' ? 2 : 4;
      if (hop === 'wrap_with_set_grad_enabled' ? node.inputs.length < want : node.inputs.length !== want) {
        throw exportError(
          `${at}: has ${node.inputs.length} arguments; ${hop} takes ${hop === 'wrap_with_set_grad_enabled' ? 'at least 2 (enabled, subgraph, ...inputs)' : hop === 'cond' ? '4 (pred, true graph, false graph, operands)' : '4 (cond graph, body graph, carried inputs, additional inputs)'}`,
        );
      }
      const graphAt = hop === 'cond' ? [1, 2] : hop === 'while_loop' ? [0, 1] : [1];
      const graphs = new Map<number, CompiledGraph>();
      for (const j of graphAt) {
        const [k, v] = argKind(node.inputs[j].arg, at);
        if (k !== 'as_graph') throw exportError(`${at}: argument ${j} is ${k}, not a subgraph (as_graph)`);
        graphs.set(j, compile(v?.graph, nameOf(v?.name, at), depth + 1, st));
      }
      steps.push({ kind: 'hop', node, at, hop, graphs });
      continue;
    }
    let op = st.ops.get(target);
    if (!op) {
      op = resolveOp(target, where);
      st.ops.set(target, op);
    }
    for (const i of node.inputs) {
      if (!op.names.includes(i.name)) throw exportError(`${at}: passes argument '${i.name}', which ${target} (${native.opSchema(op.handle)}) does not take`);
    }
    steps.push({ kind: 'op', node, at, op });
  }
  for (const a of g.inputs) checkBinding(a, `${where}: graph '${name}' input`);
  return { name, inputs: g.inputs, outputs: g.outputs, steps };
}

/** A name for a node saved without one: what it binds ('conv2d', or 'getitem, getitem_1'), for messages. */
function nodeLabel(node: { outputs: unknown[] }): string {
  const names: string[] = [];
  for (const o of node.outputs.slice(0, 4)) {
    const v = o && typeof o === 'object' ? Object.values(o)[0] : undefined;
    const list = Array.isArray(v) ? v : [v];
    for (const x of list.slice(0, 4)) {
      const n = x?.name ?? x?.as_name ?? x?.as_tensor?.name;
      if (typeof n === 'string') names.push(n.length > 40 ? `${n.slice(0, 40)}…` : n);
    }
  }
  return names.length ? names.join(', ') : '<unnamed>';
}

/** Checks, at load, that what a node binds names its values with strings. */
function checkBinding(o: Arg, at: string): void {
  const [k, v] = argKind(o, at);
  if (k === 'as_tensor') {
    nameOf(v?.name, at);
  } else if (k === 'as_tensors') {
    for (const x of arr(v, at)) nameOf(x?.name, at);
  } else if (k === 'as_optional_tensors') {
    for (const x of arr(v, at)) if (x?.as_tensor) nameOf(x.as_tensor.name, at);
  } else if ((k === 'as_sym_int' || k === 'as_sym_float' || k === 'as_sym_bool') && v && typeof v === 'object' && 'as_name' in v) {
    nameOf(v.as_name, at);
  }
}

/** Compiles the top graph and every subgraph; returns it with the targets used (first-use order). */
export function compileProgram(g: any, where: string): { graph: CompiledGraph; targets: string[] } {
  const st: CompileState = { where, ops: new Map(), nodes: 0, targets: new Set() };
  const graph = compile(g, '<top>', 0, st);
  return { graph, targets: [...st.targets] };
}

/** A value's name in the graph (a string, checked: archive data never reaches a message unbounded). */
function nameOf(x: unknown, at: string): string {
  if (typeof x !== 'string') throw exportError(`${at}: a value name ${brief(x)} is not a string`);
  return x;
}

const SCALAR_KIND: Record<string, string> = { as_int: 'number', as_float: 'number', as_bool: 'boolean', as_string: 'string' };

function arr(v: unknown, at: string): any[] {
  if (!Array.isArray(v)) throw exportError(`${at}: expected a list, got ${brief(v)}`);
  return v;
}

function lookup(env: Map<string, Value>, name: string, at: string): Value {
  if (!env.has(name)) throw exportError(`${at}: value '${name}' is not defined before its use`);
  return env.get(name);
}

function symArg(env: Map<string, Value>, v: any, at: string): SymValue {
  const [k, x] = argKind(v, at);
  if (k === 'as_int' || k === 'as_float' || k === 'as_bool') return x;
  if (k === 'as_name') {
    const r = lookup(env, nameOf(x, at), at);
    if (typeof r !== 'number' && typeof r !== 'boolean') throw exportError(`${at}: symbolic value '${x}' is not a number or boolean`);
    return r;
  }
  throw exportError(`${at}: a symbolic value of kind ${k}`);
}

/** An argument's run-time value. */
function value(env: Map<string, Value>, a: Arg, at: string): Value {
  const [k, v] = argKind(a, at);
  const tensor = (x: any): Tensor => {
    const t = lookup(env, nameOf(x?.name, at), at);
    if (!(t instanceof Tensor)) throw exportError(`${at}: '${x?.name}' is not a tensor`);
    return t;
  };
  switch (k) {
    case 'as_tensor':
      return tensor(v);
    case 'as_tensors':
      return arr(v, at).map(tensor);
    case 'as_optional_tensors':
      return arr(v, at).map((x) => (x?.as_tensor ? tensor(x.as_tensor) : null));
    case 'as_optional_tensor':
      return v?.as_tensor ? tensor(v.as_tensor) : null;
    case 'as_none':
      return null;
    case 'as_int':
    case 'as_float':
    case 'as_bool':
    case 'as_string':
      if (typeof v !== SCALAR_KIND[k]) throw exportError(`${at}: ${k} holds ${brief(v)}`);
      return v;
    case 'as_ints':
    case 'as_floats':
    case 'as_bools':
    case 'as_strings':
      for (const x of arr(v, at)) if (typeof x !== SCALAR_KIND[k.slice(0, -1)]) throw exportError(`${at}: ${k} holds ${brief(x)}`);
      return v;
    case 'as_sym_int':
    case 'as_sym_bool':
    case 'as_sym_float':
      return symArg(env, v, at);
    case 'as_sym_ints':
    case 'as_sym_floats':
    case 'as_sym_bools':
      return arr(v, at).map((x) => symArg(env, x, at));
    case 'as_scalar_type':
      return serdeScalarType(v, at);
    case 'as_layout':
      return serdeLayout(v, at);
    case 'as_memory_format':
      return serdeMemoryFormat(v, at);
    case 'as_device':
      if (typeof v?.type !== 'string') throw exportError(`${at}: a device ${brief(v)}`);
      return serdeDevice(v);
    default:
      throw exportError(`${at}: argument kind ${k} is not supported`, 'ERR_TORCH_UNSUPPORTED');
  }
}

/** Binds a node's (or a graph input's) output argument to its value. */
function bind(env: Map<string, Value>, o: Arg, val: Value, at: string): void {
  const [k, v] = argKind(o, at);
  const set = (name: string, t: Value): void => {
    if (!(t instanceof Tensor)) throw exportError(`${at}: expected a tensor for '${name}'`);
    env.set(name, t);
  };
  switch (k) {
    case 'as_tensor':
      return set(nameOf(v?.name, at), val);
    case 'as_tensors':
      if (!Array.isArray(val) || val.length !== arr(v, at).length)
        throw exportError(`${at}: expected ${v.length} tensors, got ${Array.isArray(val) ? val.length : typeof val}`);
      return (v as { name: string }[]).forEach((x, j) => set(nameOf(x?.name, at), val[j]));
    case 'as_optional_tensors':
      return arr(v, at).forEach((x, j) => {
        const t = Array.isArray(val) ? val[j] : undefined;
        if (x?.as_tensor && t instanceof Tensor) env.set(nameOf(x.as_tensor.name, at), t);
      });
    case 'as_sym_int':
    case 'as_sym_float':
    case 'as_sym_bool':
      if (typeof v?.as_name === 'string') {
        if (typeof val !== 'number' && typeof val !== 'boolean')
          throw exportError(`${at}: expected a number for symbolic value '${v.as_name}', got ${val instanceof Tensor ? 'a tensor' : typeof val}`);
        env.set(v.as_name, val);
      }
      return;
    case 'as_none':
    case 'as_int':
    case 'as_float':
    case 'as_bool':
    case 'as_string':
      return; // a constant: nothing to bind
    default:
      throw exportError(`${at}: output kind ${k} is not supported`, 'ERR_TORCH_UNSUPPORTED');
  }
}

const toNative = (v: Value): unknown => (v instanceof Tensor ? v._h : Array.isArray(v) ? v.map(toNative) : v);

function truthy(v: Value, at: string): boolean {
  if (typeof v === 'boolean' || typeof v === 'number') return Boolean(v);
  if (v instanceof Tensor) {
    if (v.numel() !== 1) throw exportError(`${at}: the predicate is a tensor of shape [${v.shape.join(', ')}], not one value`);
    return Boolean(noGrad(() => v.item()));
  }
  throw exportError(`${at}: the predicate is ${v === null ? 'null' : typeof v}, not a boolean or a one-element tensor`);
}

/** The dtype of a Python number passed where a schema wants a Tensor, by its argument kind: bool, int64 or float32. */
const numberKind = (kind: string): keyof typeof WRAPPED_DTYPE => (/bool$/.test(kind) ? 'bool' : /int$/.test(kind) ? 'int' : 'float');
const numberDtype = (kind: string): number => WRAPPED_DTYPE[numberKind(kind)];
/** That number as PyTorch passes it: a 0-dim tensor. */
const numberTensor = (v: unknown, kind: string): Tensor => wrappedNumber(v, numberKind(kind));

function callOp(step: Extract<Step, { kind: 'op' }>, env: Map<string, Value>): Value[] {
  const { node, op, at } = step;
  const args: unknown[] = [];
  let last = -1;
  for (const i of node.inputs) {
    const pos = op.names.indexOf(i.name);
    const aat = `${at}, argument '${i.name}'`;
    let v = toNative(value(env, i.arg, aat));
    const kind = argKind(i.arg, aat)[0];
    if (op.tensorParams[pos] && /^as_(int|float|bool|sym_int|sym_float|sym_bool)$/.test(kind)) {
      // A Python number where the schema wants a Tensor: a 0-dim tensor (int64 / float32 / bool).
      v = numberTensor(v, kind)._h;
    }
    args[pos] = v;
    last = Math.max(last, pos);
  }
  // Gaps (defaults skipped before a later keyword) are filled natively from the schema.
  for (let j = 0; j <= last; j++) if (!(j in args)) args[j] = undefined;
  const r = native.callOp(op.handle, ...args);
  // Wrap every tensor the op returned (so the scope frees what the graph does not use).
  const rs = op.tensorReturns.length === 1 ? [r] : (r as unknown[]);
  return op.tensorReturns.map((kind, j) => {
    const x = rs?.[j];
    if (kind === 'tensor' && typeof x === 'number') return wrap(x);
    if (kind === 'list' && Array.isArray(x)) return x.map((y) => (typeof y === 'number' ? wrap(y) : y));
    return x as Value;
  });
}

function bindAll(env: Map<string, Value>, outs: Arg[], results: Value[], at: string): void {
  if (outs.length === 1 && results.length > 1)
    bind(env, outs[0], results, at); // one output naming a tuple
  else if (outs.length <= results.length) outs.forEach((o, j) => bind(env, o, results[j], at));
  else throw exportError(`${at}: ${outs.length} outputs for ${results.length} results`);
}

/** Runs a compiled graph on its inputs (in graph.inputs order); returns its outputs' values. */
export function runGraph(g: CompiledGraph, inputs: Value[], where: string): Value[] {
  if (inputs.length !== g.inputs.length) throw exportError(`${where}: graph '${g.name}' takes ${g.inputs.length} inputs, got ${inputs.length}`);
  const env = new Map<string, Value>();
  g.inputs.forEach((a, i) => {
    const [k, v] = argKind(a, where);
    if (k === 'as_tensor') env.set(nameOf(v?.name, where), inputs[i]);
    else bind(env, a, inputs[i], `${where}: graph '${g.name}' input ${i}`);
  });
  for (const step of g.steps) {
    const { node, at } = step;
    if (step.kind === 'op') {
      bindAll(env, node.outputs, callOp(step, env), at);
    } else if (step.kind === 'sym') {
      const args = (node.inputs as Arg[]).map((i) => value(env, i.arg, at));
      for (const a of args) if (typeof a !== 'number' && typeof a !== 'boolean') throw exportError(`${at}: an argument is not a number or boolean`);
      bindAll(env, node.outputs, [step.fn(...(args as SymValue[]))], at);
    } else {
      bindAll(env, node.outputs, runHigherOrder(step, env, where), at);
    }
  }
  return g.outputs.map((o) => value(env, o, `${where}: graph '${g.name}' output`));
}

const list = (v: Value, at: string): Value[] => {
  if (!Array.isArray(v)) throw exportError(`${at}: expected a list of operands`);
  return v;
};

function runHigherOrder(step: Extract<Step, { kind: 'hop' }>, env: Map<string, Value>, where: string): Value[] {
  const { node, at, graphs } = step;
  const arg = (j: number): Value => value(env, node.inputs[j].arg, at);
  switch (step.hop) {
    case 'cond': {
      const pred = truthy(arg(0), at);
      return runGraph(graphs.get(pred ? 1 : 2) as CompiledGraph, list(arg(3), at), where);
    }
    case 'wrap_with_set_grad_enabled': {
      const enabled = arg(0);
      if (typeof enabled !== 'boolean') throw exportError(`${at}: the grad mode is ${typeof enabled}, not a boolean`);
      const inputs = (node.inputs as Arg[]).slice(2).map((i) => value(env, i.arg, at));
      return (enabled ? enableGrad : noGrad)(() => runGraph(graphs.get(1) as CompiledGraph, inputs, where));
    }
    case 'while_loop': {
      const condG = graphs.get(0) as CompiledGraph;
      const bodyG = graphs.get(1) as CompiledGraph;
      const initial = list(arg(2), at);
      const additional = list(arg(3), at);
      let carried = initial;
      // Tensors the loop made for its carried values: freed once the next iteration replaces them.
      const made = new Set<Tensor>();
      for (;;) {
        const go = tidy(() => {
          const r = runGraph(condG, [...carried, ...additional], where);
          if (r.length !== 1) throw exportError(`${at}: the condition graph returns ${r.length} values, not one`);
          return truthy(r[0], at);
        });
        if (!go) break;
        const next = tidy(() => runGraph(bodyG, [...carried, ...additional], where));
        if (next.length !== carried.length) throw exportError(`${at}: the body returns ${next.length} values for ${carried.length} carried inputs`);
        for (const t of carried) {
          if (t instanceof Tensor && made.has(t) && !next.includes(t)) {
            made.delete(t);
            t.dispose();
          }
        }
        for (const t of next) if (t instanceof Tensor && !carried.includes(t) && !initial.includes(t) && !additional.includes(t)) made.add(t);
        carried = next;
      }
      return carried;
    }
  }
}

// ---- plans: the graph as native instructions, for forwardAsync (binding/graph_plan.cc) ----------
type PlanArg = ['s', number] | ['c', unknown] | ['l', PlanArg[]] | ['n'] | ['d'] | ['st', number, number];
type PlanInstr = ['op', number, PlanArg[], number[][], string] | ['sym', string, PlanArg[], number, string];
export interface PlanSpec {
  slots: number;
  inputs: number[];
  instrs: PlanInstr[];
  outputs: PlanArg[];
}

/** The positions of the arguments an operator writes to (`Tensor(a!) self`), from its schema. */
function writtenArgs(op: OpEntry): Set<number> {
  return new Set(schemaOfHandle(op.handle).written.flatMap((w, i) => (w ? [i] : [])));
}

/**
 * The graph as a plan that runs natively on libuv's pool: every value gets a slot; each operator
 * node becomes a call with its arguments as slots or constants (converted once by the schema);
 * Python numbers where the schema wants a tensor become 0-dim tensors made here (returned in
 * `keep`, owned by the caller). Returns a reason instead when the graph cannot be planned (control
 * flow, inputs that are not tensors).
 */
export function planGraph(g: CompiledGraph, where: string): { spec: PlanSpec; keep: Tensor[] } | { reason: string } {
  const slots = new Map<string, number>();
  const keep: Tensor[] = [];
  const slot = (name: string, at: string, define = false): number => {
    let s = slots.get(name);
    if (s === undefined) {
      if (!define) throw exportError(`${at}: value '${name}' is not defined before its use`);
      s = slots.size;
      slots.set(name, s);
    }
    return s;
  };
  const inputs: number[] = [];
  for (const a of g.inputs) {
    const [k, v] = argKind(a, where);
    if (k !== 'as_tensor') return { reason: `the graph takes a ${k.replace(/^as_/, '')} input (forwardAsync runs graphs whose inputs are tensors)` };
    inputs.push(slot(nameOf(v?.name, where), where, true));
  }
  const symArgSpec = (x: any, at: string): PlanArg => {
    const [k, v] = argKind(x, at);
    if (k === 'as_name') return ['s', slot(nameOf(v, at), at)];
    return ['c', v];
  };
  const constTensor = (v: unknown, kind: string): PlanArg => {
    const c = numberTensor(v, kind);
    keep.push(c);
    return ['c', c._h];
  };
  const argSpec = (a: Arg, at: string, tensorParam: boolean): PlanArg => {
    const [k, v] = argKind(a, at);
    const t = (x: any): PlanArg => ['s', slot(nameOf(x?.name, at), at)];
    switch (k) {
      case 'as_tensor':
        return t(v);
      case 'as_tensors':
        return ['l', arr(v, at).map(t)];
      case 'as_optional_tensors':
        return ['l', arr(v, at).map((x) => (x?.as_tensor ? t(x.as_tensor) : ['n']))];
      case 'as_optional_tensor':
        return v?.as_tensor ? t(v.as_tensor) : ['n'];
      case 'as_none':
        return ['n'];
      case 'as_int':
      case 'as_float':
      case 'as_bool':
        if (tensorParam) return constTensor(v, k); // a 0-dim tensor, made once
        return ['c', v];
      case 'as_sym_int':
      case 'as_sym_float':
      case 'as_sym_bool': {
        const s = symArgSpec(v, at);
        if (!tensorParam) return s;
        return s[0] === 's' ? ['st', s[1], numberDtype(k)] : constTensor(s[1], k);
      }
      case 'as_sym_ints':
      case 'as_sym_floats':
      case 'as_sym_bools':
        return ['l', arr(v, at).map((x) => symArgSpec(x, at))];
      default:
        // Constants of every other kind convert as in forward (lists, dtypes, devices, layouts, ...).
        return ['c', value(new Map(), a, at)];
    }
  };
  const outSlots = (o: Arg, at: string): number[] => {
    const [k, v] = argKind(o, at);
    if (k === 'as_tensor') return [slot(nameOf(v?.name, at), at, true)];
    if (k === 'as_tensors') return arr(v, at).map((x) => slot(nameOf(x?.name, at), at, true));
    if (k === 'as_optional_tensors') return arr(v, at).map((x) => (x?.as_tensor ? slot(nameOf(x.as_tensor.name, at), at, true) : -1));
    if ((k === 'as_sym_int' || k === 'as_sym_float' || k === 'as_sym_bool') && typeof v?.as_name === 'string') return [slot(v.as_name, at, true)];
    return [-1];
  };
  const instrs: PlanInstr[] = [];
  for (const step of g.steps) {
    const { node, at } = step;
    if (step.kind === 'hop') return { reason: `the graph uses the higher-order operator ${node.target} (forwardAsync runs graphs without control flow)` };
    if (step.kind === 'sym') {
      const outs = outSlots(node.outputs[0], at);
      instrs.push(['sym', node.target, (node.inputs as Arg[]).map((i) => argSpec(i.arg, at, false)), outs[0], at]);
      continue;
    }
    const { op } = step;
    const args: PlanArg[] = [];
    const written = writtenArgs(op);
    for (const i of node.inputs as Arg[]) {
      const pos = op.names.indexOf(i.name);
      args[pos] = argSpec(i.arg, `${at}, argument '${i.name}'`, op.tensorParams[pos]);
      const a = args[pos];
      if (written.has(pos) && a[0] === 's' && inputs.includes(a[1])) {
        return {
          reason: `the graph updates a parameter or buffer in place (${op.target}; a train-mode export updating its statistics): forwardAsync runs inference graphs`,
        };
      }
    }
    for (let j = 0; j < args.length; j++) if (!args[j]) args[j] = ['d'];
    const outs: number[][] =
      node.outputs.length === 1 && op.tensorReturns.length > 1
        ? outSlots(node.outputs[0], at).map((s) => [s])
        : op.tensorReturns.map((_, r) => (node.outputs[r] ? outSlots(node.outputs[r], at) : [-1]));
    instrs.push(['op', op.handle, args, outs, at]);
  }
  const outputs = g.outputs.map((o) => argSpec(o, `${where}: graph output`, false));
  return { spec: { slots: slots.size, inputs, instrs, outputs }, keep };
}
