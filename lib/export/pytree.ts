/**
 * The pytree specs an exported program records for its inputs and outputs (module_call_graph's
 * in_spec / out_spec, torch.utils._pytree's JSON, protocol 1): which nested tuples, lists and dicts
 * the user-facing arguments and results are made of. Inputs are flattened by the spec (a dict from a
 * plain object or a Map, a tuple or list from an array); outputs are rebuilt from it (tuples and
 * lists as arrays, dicts as plain objects, None as null).
 */
import { TorchError } from '../errors';
import { brief, exportError } from './archive';

export type Spec =
  | { kind: 'leaf' }
  | { kind: 'none' }
  | { kind: 'seq'; type: string; children: Spec[] }
  | { kind: 'dict'; type: string; keys: (string | number)[]; children: Spec[] };

const MAX_DEPTH = 64;
const DICTS = new Set(['builtins.dict', 'collections.OrderedDict', 'collections.defaultdict']);
const SEQS = new Set(['builtins.tuple', 'builtins.list', 'collections.namedtuple', 'torch.Size']);

/** Reads a serialized treespec ('[1, {...}]'); every node type is checked here, at load. */
export function parseSpec(text: unknown, what: string): Spec {
  let json: any;
  try {
    json = JSON.parse(String(text));
  } catch (e) {
    throw exportError(`${what}: the pytree spec is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(json) || json[0] !== 1)
    throw exportError(`${what}: the pytree spec has protocol ${brief(Array.isArray(json) ? json[0] : json)}; torch-node reads protocol 1`);
  const walk = (s: any, depth: number): Spec => {
    if (depth > MAX_DEPTH) throw exportError(`${what}: the pytree spec is nested deeper than ${MAX_DEPTH} levels`);
    if (!s || typeof s !== 'object') throw exportError(`${what}: a pytree spec node is ${brief(s)}`);
    const kids = Array.isArray(s.children_spec) ? s.children_spec : [];
    if (s.type === null || s.type === undefined) {
      if (kids.length) throw exportError(`${what}: a pytree leaf has children`);
      return { kind: 'leaf' };
    }
    if (s.type === 'builtins.NoneType') return { kind: 'none' };
    const children = kids.map((k: any) => walk(k, depth + 1));
    if (SEQS.has(s.type)) return { kind: 'seq', type: s.type, children };
    if (DICTS.has(s.type)) {
      let ctx: unknown;
      try {
        ctx = JSON.parse(s.context ?? 'null');
      } catch {
        ctx = null;
      }
      // defaultdict's context is [default_factory, keys]
      const keys = s.type === 'collections.defaultdict' && Array.isArray(ctx) && Array.isArray(ctx[1]) ? ctx[1] : ctx;
      if (!Array.isArray(keys) || keys.length !== children.length || keys.some((k) => typeof k !== 'string' && typeof k !== 'number')) {
        throw exportError(`${what}: a ${s.type} pytree node's keys ${brief(s.context)} do not match its ${children.length} children`);
      }
      return { kind: 'dict', type: s.type, keys, children };
    }
    throw exportError(
      `${what}: the inputs or outputs contain a ${s.type}, a pytree node type torch-node does not map to JavaScript (tuples, lists, dicts and None are supported)`,
      'ERR_TORCH_UNSUPPORTED',
    );
  };
  return walk(json[1], 0);
}

export function countLeaves(s: Spec): number {
  return s.kind === 'leaf' ? 1 : s.kind === 'none' ? 0 : s.children.reduce((n, c) => n + countLeaves(c), 0);
}

/** A readable path: x["img"], args[1][0]. */
const childPath = (path: string, s: Spec, j: number): string => (s.kind === 'dict' ? `${path}[${JSON.stringify(s.keys[j])}]` : `${path}[${j}]`);

/**
 * Flattens the value for one spec into leaves (with their paths, for messages); throws a TorchError
 * naming the path where the value does not have the exported structure.
 */
export function flatten(s: Spec, v: unknown, path: string, fn: string, out: { path: string; value: unknown }[]): void {
  const got = (x: unknown): string =>
    x === null
      ? 'null'
      : x === undefined
        ? 'undefined'
        : Array.isArray(x)
          ? `an array of length ${x.length}`
          : x instanceof Map
            ? `a Map of ${x.size}`
            : typeof x === 'object'
              ? ((x as object).constructor?.name ?? 'an object')
              : typeof x;
  if (s.kind === 'leaf') {
    out.push({ path, value: v });
    return;
  }
  if (s.kind === 'none') {
    if (v !== null && v !== undefined) throw new TorchError(`${fn}: input ${path} must be null (it was None when exported), got ${got(v)}`, 'ERR_TORCH_ARG');
    return;
  }
  if (s.kind === 'seq') {
    if (!Array.isArray(v) || v.length !== s.children.length) {
      throw new TorchError(
        `${fn}: input ${path} must be an array of ${s.children.length} (a ${s.type.replace(/^builtins\./, '')} when exported), got ${got(v)}`,
        'ERR_TORCH_ARG',
      );
    }
    s.children.forEach((c, j) => flatten(c, v[j], childPath(path, s, j), fn, out));
    return;
  }
  const isMap = v instanceof Map;
  const proto = v !== null && typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (!isMap && proto !== Object.prototype && proto !== null) {
    throw new TorchError(
      `${fn}: input ${path} must be an object or a Map with keys ${s.keys.map((k) => JSON.stringify(k)).join(', ')} (a dict when exported), got ${got(v)}`,
      'ERR_TORCH_ARG',
    );
  }
  const keys = isMap ? [...(v as Map<unknown, unknown>).keys()] : Object.keys(v as object);
  const norm = (k: unknown): string => String(k);
  const want = new Set(s.keys.map(norm));
  const missing = s.keys.filter((k) => !keys.some((x) => norm(x) === norm(k)));
  const extra = keys.filter((k) => !want.has(norm(k)));
  if (missing.length || extra.length) {
    throw new TorchError(
      `${fn}: input ${path} must have the keys ${s.keys.map((k) => JSON.stringify(k)).join(', ')} (as exported)` +
        `${missing.length ? `; missing ${missing.map((k) => JSON.stringify(k)).join(', ')}` : ''}${extra.length ? `; unexpected ${extra.map((k) => JSON.stringify(k)).join(', ')}` : ''}`,
      'ERR_TORCH_ARG',
    );
  }
  const get = (k: string | number): unknown => {
    if (!isMap) return (v as Record<string, unknown>)[String(k)];
    const m = v as Map<unknown, unknown>;
    return m.has(k) ? m.get(k) : m.get(String(k));
  };
  s.children.forEach((c, j) => flatten(c, get(s.keys[j]), childPath(path, s, j), fn, out));
}

/** Rebuilds a result from its leaves: arrays for tuples and lists, plain objects for dicts, null for None. */
export function unflatten(s: Spec, leaves: unknown[]): unknown {
  let i = 0;
  const walk = (x: Spec): unknown => {
    if (x.kind === 'leaf') return leaves[i++];
    if (x.kind === 'none') return null;
    const kids = x.children.map(walk);
    if (x.kind === 'seq') return kids;
    const o: Record<string, unknown> = {};
    x.keys.forEach((k, j) => (o[String(k)] = kids[j]));
    return o;
  };
  return walk(s);
}
