/**
 * Reading a `torch.export.save` archive (.pt2). Three layouts, by the torch that wrote them:
 *   - torch >= 2.9: a zip whose one top folder holds `models/model.json` (the serialized
 *     ExportedProgram, torch/_export/serde/schema.py) and raw tensor payloads under `data/weights/`
 *     and `data/constants/`, each described by a `*_config.json` (fqn -> path_name, tensor_meta);
 *   - torch 2.8: the same folder, but the weights and constants pickled whole by torch.save
 *     (`data/weights/model.pt`, `data/constants/model.pt`), as PyTorch still reads them;
 *   - torch 2.1 - 2.7: the legacy zip, its records at the top level: `serialized_exported_program.json`
 *     (the same ExportedProgram), `version` (the schema version, e.g. "8.2") and, since torch 2.3,
 *     `serialized_state_dict.pt` and `serialized_constants.pt` (torch.save pickles) and
 *     `serialized_example_inputs.pt` (not needed here).
 * As PyTorch 2.15's torch.export.load, only schema 8.x is read (torch 2.6 and later); an archive of
 * schema 7.x (torch 2.5), 5.x (2.3, 2.4) or older is refused with a TorchError saying to re-export it.
 *
 * The zip is read with lib/serialization/zip.ts (every size and offset checked against the file);
 * each payload's byte count is checked against its tensor_meta before a tensor is made. Pickled
 * payloads go through torch.load's restricted unpickler (lib/serialization/): no code runs, storages
 * are checked against their records, and anything but a dict of tensors is refused.
 */
import * as fs from 'fs';
import { native } from '../binding';
import { dtypeCode, itemSize, type DType } from '../dtype';
import { TorchError } from '../errors';
import { op } from '../ops/handles';
import { readDirectory, readEntry, type ReadRequest, type ZipDirectory, type ZipEntry } from '../serialization/zip';
import { keep, tidy } from '../scope';
import { isParameter, load as torchLoad } from '../serialization/torch-file';
import { Tensor, wrap } from '../tensor';

/** The export schema major version this reader understands (torch 2.15 writes 8.20; 2.6 wrote 8.2). */
export const SCHEMA_MAJOR = 8;
/** The torch releases that wrote each older schema major version (torch/_export/serde/schema.py). */
const OLD_SCHEMAS: Record<number, string> = { 1: 'torch 2.1', 2: 'torch 2.2', 5: 'torch 2.3 or 2.4', 7: 'torch 2.5' };

/** The TorchError for an archive of another schema major version (PyTorch 2.15 refuses these too). */
function schemaError(where: string, major: unknown, minor: unknown, layout: string): TorchError {
  const v = `${brief(major)}${minor === undefined ? '' : `.${brief(minor)}`}`;
  const by = typeof major === 'number' && OLD_SCHEMAS[major] ? ` (written by ${OLD_SCHEMAS[major]})` : '';
  const fix =
    typeof major === 'number' && major > SCHEMA_MAJOR
      ? `Re-export it with a torch whose schema major version is ${SCHEMA_MAJOR} (2.6 - 2.15), or update torch-node.`
      : `PyTorch 2.15's torch.export.load refuses it too. Re-export the model with torch 2.6 or later: torch.export.save(torch.export.export(model, args), 'model.pt2').`;
  return exportError(
    `${where} is a ${layout} saved with torch.export schema version ${v}${by}; torch-node reads schema ${SCHEMA_MAJOR}.x (torch 2.6 - 2.15; 2.15 writes 8.20). ${fix}`,
    'ERR_TORCH_VERSION',
  );
}

/** The legacy zip's program record (torch 2.1 - 2.7 wrote every record at the top level). */
const LEGACY_PROGRAM = 'serialized_exported_program.json';

export function exportError(msg: string, code = 'ERR_TORCH_LOAD'): TorchError {
  return new TorchError(`torch.export.load: ${msg}`, code);
}

/** A short rendering of a value read from an archive, for messages (depth- and length-bounded: no JSON.stringify on hostile nesting). */
export function brief(v: unknown, max = 120): string {
  const walk = (x: unknown, d: number): string => {
    if (typeof x === 'string') return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x);
    if (x === null || typeof x !== 'object') return String(x);
    if (d >= 3) return Array.isArray(x) ? '[…]' : '{…}';
    if (Array.isArray(x))
      return `[${x
        .slice(0, 8)
        .map((y) => walk(y, d + 1))
        .join(', ')}${x.length > 8 ? ', …' : ''}]`;
    const ks = Object.keys(x);
    return `{${ks
      .slice(0, 8)
      .map((k) => `${JSON.stringify(k)}: ${walk((x as Record<string, unknown>)[k], d + 1)}`)
      .join(', ')}${ks.length > 8 ? ', …' : ''}}`;
  };
  const s = walk(v, 0);
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** torch/_export/serde/schema.py ScalarType -> torch-node dtype (those torch-node has). */
const SERDE_DTYPE: Record<number, DType> = {
  1: 'uint8',
  2: 'int8',
  3: 'int16',
  4: 'int32',
  5: 'int64',
  6: 'float16',
  7: 'float32',
  8: 'float64',
  12: 'bool',
  13: 'bfloat16',
};
const SERDE_DTYPE_NAMES: Record<number, string> = {
  9: 'complex32',
  10: 'complex64',
  11: 'complex128',
  28: 'uint16',
  29: 'float8_e4m3fn',
  30: 'float8_e5m2',
  34: 'uint32',
  35: 'uint64',
};
/** ScalarType -> c10::ScalarType code (for as_scalar_type arguments). */
const SERDE_TO_C10: Record<number, number> = {
  1: 0,
  2: 1,
  3: 2,
  4: 3,
  5: 4,
  6: 5,
  7: 6,
  8: 7,
  9: 8,
  10: 9,
  11: 10,
  12: 11,
  13: 15,
  28: 27,
  29: 24,
  30: 23,
  34: 28,
  35: 29,
};
/** Layout (serde) -> c10::Layout. */
const SERDE_LAYOUT: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 0 };
/** MemoryFormat (serde) -> c10::MemoryFormat. */
const SERDE_MEMORY_FORMAT: Record<number, number> = { 1: 0, 2: 2, 3: 3, 4: 1 };

/** An enum code from the archive: an integer (anything else would be stringified as a property key). */
const code = (c: unknown, what: string, kind: string): number => {
  if (!Number.isInteger(c)) throw exportError(`${what}: ${kind} ${brief(c)} is not an enum code`);
  return c as number;
};

export function serdeDtype(c: number, what: string): DType {
  const d = SERDE_DTYPE[code(c, what, 'dtype')];
  if (!d) throw exportError(`${what} has dtype ${SERDE_DTYPE_NAMES[c] ?? `#${c}`}, which torch-node does not support`);
  return d;
}
export function serdeScalarType(v: number, what: string): number {
  const c = SERDE_TO_C10[code(v, what, 'scalar type')];
  if (c === undefined) throw exportError(`${what}: unknown scalar type #${v}`);
  return c;
}
export function serdeLayout(v: number, what: string): number {
  const c = SERDE_LAYOUT[code(v, what, 'layout')];
  if (c === undefined) throw exportError(`${what}: unknown layout #${v}`);
  return c;
}
export function serdeMemoryFormat(v: number, what: string): number {
  const c = SERDE_MEMORY_FORMAT[code(v, what, 'memory format')];
  if (c === undefined) throw exportError(`${what}: unknown memory format #${v}`);
  return c;
}
export function serdeDevice(d: { type: string; index?: number | null }): string {
  if (typeof d?.type !== 'string' || !/^[a-z_]+$/.test(d.type)) throw exportError(`a device ${brief(d)} has no valid type`);
  if (d.index === null || d.index === undefined) return d.type;
  if (!Number.isInteger(d.index) || d.index < 0) throw exportError(`device '${d.type}' has index ${brief(d.index)}, not a non-negative integer`);
  return `${d.type}:${d.index}`;
}

export interface TensorMeta {
  dtype: number;
  sizes: { as_int?: number; as_expr?: unknown }[];
  strides: { as_int?: number }[];
  storage_offset: { as_int?: number };
  requires_grad: boolean;
  device: { type: string; index?: number | null };
  layout: number;
}

interface PayloadMeta {
  path_name: string;
  is_param: boolean;
  use_pickle: boolean;
  tensor_meta: TensorMeta | null;
}

export interface Archive {
  where: string;
  model: any;
  /** fqn -> tensor (parameters do not require grad here; the module makes Parameters of them). */
  weights: Map<string, Tensor>;
  params: Set<string>;
  /** Parameters saved with requires_grad=False (frozen when exported). */
  frozen: Set<string>;
  constants: Map<string, Tensor>;
}

function staticInts(xs: { as_int?: number }[], what: string): number[] {
  if (!Array.isArray(xs)) throw exportError(`${what}: ${brief(xs)} is not a list`);
  return xs.map((s, i) => {
    if (typeof s?.as_int !== 'number' || !Number.isInteger(s.as_int) || s.as_int < 0) {
      throw exportError(`${what}: entry ${i} is ${brief(s)}, not a static non-negative integer`);
    }
    return s.as_int;
  });
}

function runSync<T>(gen: Generator<ReadRequest, T, Uint8Array>, read: (r: ReadRequest) => Uint8Array): T {
  let step = gen.next(undefined as unknown as Uint8Array);
  while (!step.done) step = gen.next(read(step.value));
  return step.value;
}

function rewrap(e: unknown): unknown {
  if (e instanceof TorchError && e.message.startsWith('torch.load: ')) {
    const t = new TorchError('torch.export.load: ' + e.message.slice('torch.load: '.length), e.code);
    return t;
  }
  return e;
}

/** Reads and checks the archive; the tensors it returns are owned by the caller (kept, not scoped). */
export function readArchive(f: string | Uint8Array): Archive {
  let data: Uint8Array;
  const where = typeof f === 'string' ? f : '<buffer>';
  if (typeof f === 'string') {
    try {
      data = fs.readFileSync(f);
    } catch (e) {
      throw exportError(`cannot read ${f}: ${(e as Error).message}`, 'ERR_TORCH_IO');
    }
  } else if (f instanceof Uint8Array) {
    data = f;
  } else {
    throw new TorchError(`torch.export.load(): argument 'f' must be a file path or a Uint8Array, got ${typeof f}`, 'ERR_TORCH_ARG');
  }
  const read = (r: ReadRequest): Uint8Array => {
    if (r.offset + r.length > data.length) throw exportError(`${where}: read past the end of the file (${r.offset}+${r.length} > ${data.length}; truncated?)`);
    return data.subarray(r.offset, r.offset + r.length);
  };
  let dir: ZipDirectory;
  try {
    dir = runSync(readDirectory(data.length, where), read);
  } catch (e) {
    throw rewrap(e);
  }
  // The layout: a PT2 archive (a folder holding models/model.json) or the legacy zip of torch <= 2.7.
  const modelEntry = dir.entries.find((e) => /^[^/]+\/models\/model\.json$/.test(e.name));
  const legacy = !modelEntry && dir.byName.has(LEGACY_PROGRAM);
  if (!modelEntry && !legacy) {
    const names = dir.entries
      .slice(0, 5)
      .map((e) => e.name)
      .join(', ');
    throw exportError(
      `${where} is not a torch.export.save archive: it has no '<archive>/models/model.json' (torch >= 2.8) nor '${LEGACY_PROGRAM}' (torch <= 2.7) ` +
        `(entries: ${names}${dir.entries.length > 5 ? ', ...' : ''}). A TorchScript file loads with torch.jit.load, a checkpoint with torch.load.`,
    );
  }
  const root = modelEntry ? modelEntry.name.slice(0, modelEntry.name.indexOf('/') + 1) : '';
  const layout = legacy ? 'legacy torch.export.save zip (torch <= 2.7)' : 'PT2 archive';
  const entry = (name: string): ZipEntry | undefined => dir.byName.get(root + name);
  const bytesOf = (e: ZipEntry): Uint8Array => {
    try {
      return runSync(readEntry(e, where), read);
    } catch (err) {
      throw rewrap(err);
    }
  };
  const json = (name: string, required: boolean): any => {
    const e = entry(name);
    if (!e) {
      if (required) throw exportError(`${where}: the archive has no '${root}${name}'`);
      return null;
    }
    try {
      return JSON.parse(new TextDecoder().decode(bytesOf(e)));
    } catch (err) {
      if (err instanceof TorchError) throw err;
      throw exportError(`${where}: '${root}${name}' is not valid JSON: ${(err as Error).message}`);
    }
  };
  if (legacy) {
    // As PyTorch: the 'version' record first ("8.2"; torch 2.1 and 2.2 wrote a single number).
    const ve = entry('version');
    if (!ve) throw exportError(`${where}: the ${layout} has no 'version' record`);
    if (ve.size > 64) throw exportError(`${where}: the ${layout}'s 'version' record is ${ve.size} bytes, not a version number`);
    const text = new TextDecoder().decode(bytesOf(ve)).trim();
    const m = /^(\d{1,6})(?:\.(\d{1,6}))?$/.exec(text);
    if (!m) throw exportError(`${where}: the ${layout}'s 'version' record is ${brief(text)}, not a schema version such as "8.2"`);
    if (Number(m[1]) !== SCHEMA_MAJOR || m[2] === undefined) throw schemaError(where, Number(m[1]), m[2] === undefined ? undefined : Number(m[2]), layout);
  }
  const programName = legacy ? LEGACY_PROGRAM : 'models/model.json';
  const model = json(programName, true);
  const sv = model?.schema_version;
  if (!sv || typeof sv.major !== 'number') throw exportError(`${where}: ${programName} has no schema_version`);
  if (sv.major !== SCHEMA_MAJOR) throw schemaError(where, sv.major, sv.minor, layout);
  if (!model.graph_module?.graph || !model.graph_module?.signature) throw exportError(`${where}: ${programName} has no graph_module.graph / signature`);

  const made: Tensor[] = [];
  try {
    const frozen = new Set<string>();
    const load = (dirName: string, cfgName: string, what: string): { tensors: Map<string, Tensor>; params: Set<string> } => {
      const cfg = json(`${dirName}/${cfgName}`, false);
      const tensors = new Map<string, Tensor>();
      const params = new Set<string>();
      if (!cfg) return { tensors, params };
      const config = (cfg.config ?? {}) as Record<string, PayloadMeta>;
      if (typeof config !== 'object' || Array.isArray(config)) throw exportError(`${where}: ${dirName}/${cfgName} has a config of ${brief(config)}`);
      for (const [fqn, p] of Object.entries(config)) {
        const at = `${what} '${fqn}'`;
        if (!p || typeof p !== 'object') throw exportError(`${where}: ${at} is described by ${brief(p)}`);
        if (!p.tensor_meta || typeof p.tensor_meta !== 'object' || typeof p.tensor_meta.device?.type !== 'string')
          throw exportError(`${where}: ${at} has no tensor_meta with a device`);
        if (p.use_pickle) throw exportError(`${where}: ${at} is pickled (use_pickle), which torch-node does not read yet`);
        if (!p.tensor_meta) throw exportError(`${where}: ${at} has no tensor_meta`);
        if (typeof p.path_name !== 'string' || p.path_name.includes('/')) throw exportError(`${where}: ${at} has a bad path_name ${brief(p.path_name)}`);
        const m = p.tensor_meta;
        const dtype = serdeDtype(m.dtype, `${where}: ${at}`);
        const sizes = staticInts(m.sizes, `${where}: ${at} sizes`);
        const strides = staticInts(m.strides, `${where}: ${at} strides`);
        if (strides.length !== sizes.length) throw exportError(`${where}: ${at} has ${sizes.length} sizes but ${strides.length} strides`);
        const offset = staticInts([m.storage_offset], `${where}: ${at} storage_offset`)[0];
        let dev: string;
        try {
          dev = serdeDevice(m.device);
        } catch (err) {
          throw exportError(`${where}: ${at}: ${(err as Error).message.replace(/^torch\.export\.load: /, '')}`);
        }
        if (m.layout !== 7) throw exportError(`${where}: ${at} has layout #${m.layout}; only strided tensors are supported`);
        const e = entry(`${dirName}/${p.path_name}`);
        if (!e) throw exportError(`${where}: ${at} names '${root}${dirName}/${p.path_name}', which the archive does not hold`);
        if (p.is_param && m.requires_grad !== false && !['float16', 'float32', 'float64', 'bfloat16'].includes(dtype)) {
          throw exportError(`${where}: ${at} is a parameter that requires grad, but its dtype is ${dtype} (only floating-point tensors can require gradients)`);
        }
        const isz = itemSize(dtype);
        const numel = sizes.reduce((a, b) => a * b, 1);
        let extent = 0; // elements of storage the view reaches
        if (numel > 0) extent = offset + 1 + sizes.reduce((a, s, i) => a + (s - 1) * strides[i], 0);
        if (e.size % isz !== 0) throw exportError(`${where}: ${at}: its payload is ${e.size} bytes, not a multiple of ${dtype}'s ${isz} bytes`);
        if (e.size < extent * isz) {
          throw exportError(
            `${where}: ${at} is ${dtype}${JSON.stringify(sizes)} (strides ${JSON.stringify(strides)}, offset ${offset}) and needs ${extent * isz} bytes, but its payload '${p.path_name}' holds ${e.size}`,
          );
        }
        let t: Tensor;
        if (numel === 0) {
          t = wrap(native.callOp(op('zeros'), sizes, dtypeCode(dtype), null, null, null) as number);
        } else {
          const bytes = bytesOf(e);
          const base = native.fromBytes(bytes, dtypeCode(dtype), e.size / isz);
          try {
            const v = native.callOp(op('as_strided'), base, sizes, strides, offset) as number;
            try {
              t = wrap(native.callOp(op('clone'), v, null) as number);
            } finally {
              native.free(v);
            }
          } finally {
            native.free(base);
          }
        }
        if (dev !== 'cpu') {
          try {
            const moved = wrap(native.to(t._h, null, dev, false));
            t.dispose();
            t = moved;
          } catch (err) {
            t.dispose();
            throw err instanceof TorchError ? exportError(`${where}: ${at} is on device '${dev}': ${err.message}`) : err;
          }
        }
        keep(t);
        made.push(t);
        tensors.set(fqn, t);
        if (p.is_param) params.add(fqn);
        if (p.is_param && m.requires_grad === false) frozen.add(fqn);
      }
      return { tensors, params };
    };
    /** A dict of tensors pickled by torch.save (torch <= 2.8's weights and constants), read by torch.load's restricted unpickler. */
    const pickled = (name: string, what: string): { tensors: Map<string, Tensor>; params: Set<string> } => {
      const tensors = new Map<string, Tensor>();
      const params = new Set<string>();
      const e = entry(name);
      if (!e) throw exportError(`${where}: the archive has no '${root}${name}' (its ${what}s)`);
      if (e.size === 0) return { tensors, params }; // PyTorch reads an empty record as {}
      const bytes = bytesOf(e);
      // In a scope: whatever the pickle held is freed unless it is a tensor of the dict, kept below.
      tidy(() => {
        let obj: unknown;
        try {
          obj = torchLoad(bytes);
        } catch (err) {
          if (err instanceof TorchError && /^torch\.(export\.)?load: /.test(err.message)) {
            throw exportError(`${where}: '${root}${name}': ${err.message.replace(/^torch\.(export\.)?load: (<buffer>: )?/, '')}`, err.code);
          }
          throw err;
        }
        if (!(obj instanceof Map)) throw exportError(`${where}: '${root}${name}' holds ${brief(obj)}, not a dict of ${what}s`);
        for (const [k, t] of obj) {
          if (typeof k !== 'string') throw exportError(`${where}: '${root}${name}' has a key ${brief(k)}, not a name`);
          if (!(t instanceof Tensor))
            throw exportError(
              `${where}: ${what} '${k}' in '${root}${name}' is ${brief(t)}, not a tensor (custom objects are not supported)`,
              'ERR_TORCH_UNSUPPORTED',
            );
        }
        for (const [k, t] of obj as Map<string, Tensor>) {
          if (isParameter(t)) {
            params.add(k);
            if (!t.requiresGrad) frozen.add(k);
          }
          // as from the raw payloads: the module makes Parameters of them
          if (t.requiresGrad) t.requiresGrad_(false);
          made.push(keep(t));
          tensors.set(k, t);
        }
      });
      return { tensors, params };
    };
    const weightsConfig = 'data/weights/model_weights_config.json';
    const w = legacy
      ? pickled('serialized_state_dict.pt', 'weight')
      : !entry(weightsConfig) && entry('data/weights/model.pt')
        ? pickled('data/weights/model.pt', 'weight')
        : load('data/weights', 'model_weights_config.json', 'weight');
    const c = legacy
      ? pickled('serialized_constants.pt', 'constant')
      : !entry('data/constants/model_constants_config.json') && entry('data/constants/model.pt')
        ? pickled('data/constants/model.pt', 'constant')
        : load('data/constants', 'model_constants_config.json', 'constant');
    return { where, model, weights: w.tensors, params: w.params, frozen, constants: c.tensors };
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}
