/**
 * torch.inductor.aotiLoadPackage: AOTInductor packages, the `.pt2` files that Python's
 * `torch._inductor.aoti_compile_and_package(ep)` writes (a model compiled ahead of time to a shared
 * library), run by libtorch's own loader (binding/aoti.cc). Inference only; no compiler or Python is
 * needed at run time.
 *
 * What this file adds to libtorch's loader, which trusts its caller:
 * - The package is unpacked once into torch-node's cache, in a folder named by the file's sha256
 *   (entries checked as torch.load checks zips: no absolute or `..` paths, sizes and CRCs), and the
 *   loader gets the folder: nothing is left in the temp folder, and the next load starts at once.
 * - The package's platform, machine and CPU instruction sets (metadata AOTI_CPU_ISA, e.g. AVX512)
 *   are compared with this machine's before anything is loaded: a package compiled for a CPU this
 *   one is not is a TorchError, not an illegal instruction.
 * - Every call's inputs are checked against what the package was compiled for: count, dtype,
 *   device, rank, static sizes (read from the package's generated code) and the declared ranges of
 *   dynamic sizes (`inputs` option or the `torch_node.inputs` metadata entry; the package's own bound
 *   checks are not trusted: they were seen to be wrong), then made contiguous.
 * - forwardAsync runs on libuv's pool; up to `numRunners` calls run at once (the loader's runners).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir } from '../../common/cache';
import { native, type Id } from '../binding';
import type { DType } from '../dtype';
import { TorchError, argError, checkOptions } from '../errors';
import { decodeEntry, readDirectory, runSync, checkEntrySize, type ReadRequest, type ZipEntry } from '../serialization/zip';
import { Tensor, idOf, wrap } from '../tensor';
import { flatten, parseSpec, unflatten, type Spec } from './pytree';

interface NativeAoti {
  load(folder: string, modelName: string, numRunners: number, deviceIndex: number): Id;
  free(h: Id): void;
  run(h: Id, inputs: Id[]): Id[];
  runAsync(h: Id, inputs: Id[]): Promise<Id[]>;
  callSpec(h: Id): [string, string];
  constantNames(h: Id): string[];
  loadConstants(h: Id, names: string[], ids: Id[], checkFullUpdate: boolean): void;
}
const aoti = (native as unknown as { aoti: NativeAoti }).aoti;

/** One input as the package expects it; a size is a number (static), null (any) or [min, max] (dynamic, inclusive). */
export interface AotiInputSpec {
  /** The input's dtype. */
  dtype?: DType;
  /** The input's sizes: a number (static), null (any) or [min, max] (dynamic, inclusive). */
  shape?: (number | null | [number, number])[];
}

/** The options of aotiLoadPackage: libtorch's AOTIModelPackageLoader settings (model name, runners, device) and the inputs' specs. */
export interface AotiLoadOptions {
  /** How many calls may run at once (the loader's runners; default 1). */
  numRunners?: number;
  /** The model's name inside the package (default 'model'). */
  modelName?: string;
  /** For a CUDA package: the device ('cuda:1'); default the current one. */
  device?: string;
  /** The inputs' declared dtypes and sizes (ranges of dynamic sizes); default: the `torch_node.inputs` metadata entry, else what the package's code says. */
  inputs?: AotiInputSpec[];
}

const where0 = 'aotiLoadPackage()';
const aotiError = (msg: string, code = 'ERR_TORCH_LOAD') => new TorchError(`${where0}: ${msg}`, code);

// ---- the cache ------------------------------------------------------------------------------------
/** A safe relative path for an archive entry, or a TorchError. */
function entryPath(name: string, file: string): string {
  if (name.includes('\\') || name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').some((p) => p === '..' || p === '.')) {
    throw aotiError(`${file} holds an entry with an unsafe path (${JSON.stringify(name)}); refusing to unpack it`);
  }
  return name;
}

interface Package {
  entries: ZipEntry[];
  read: (r: ReadRequest) => Uint8Array;
  /** The archive's top folder ('model' for model.pt2). */
  prefix: string;
  /** The model's metadata (its wrapper_metadata.json: what libtorch's loader reads too). */
  meta: Record<string, string>;
}

/**
 * Reads the package's zip directory and the model's metadata, without unpacking anything: the
 * checks that refuse a package (not one, no such model, another CPU) come before any disk write.
 */
function openPackage(file: string, data: Uint8Array, modelName: string): Package {
  const read = (r: ReadRequest): Uint8Array => {
    if (r.offset + r.length > data.length) throw aotiError(`${file}: read past the end of the file (${r.offset}+${r.length} > ${data.length}; truncated?)`);
    return data.subarray(r.offset, r.offset + r.length);
  };
  let entries: ZipEntry[];
  try {
    entries = runSync(readDirectory(data.length, file), read).entries;
  } catch (e) {
    throw e instanceof TorchError ? aotiError(e.message.replace(/^torch\.load: /, ''), e.code) : e;
  }
  // <archive>/data/aotinductor/<model>/: the generated code, its library and metadata.
  const models = new Map<string, string>();
  for (const e of entries) {
    const m = /^([^/]+)\/data\/aotinductor\/([^/]+)\//.exec(e.name);
    if (m && !models.has(m[2])) models.set(m[2], m[1]);
  }
  const prefix = models.get(modelName);
  if (prefix === undefined) {
    throw aotiError(
      models.size
        ? `${file} has no model '${modelName}' (it has ${[...models.keys()].join(', ')}; pass { modelName })`
        : `${file} is not an AOTInductor package (no data/aotinductor/ folder): a torch.export.save archive loads with torch.export.load, TorchScript with torch.jit.load`,
    );
  }
  const dir = `${prefix}/data/aotinductor/${modelName}/`;
  const metas = entries.filter((e) => e.name.startsWith(dir) && e.name.endsWith('_metadata.json') && !e.name.slice(dir.length).includes('/'));
  const metaEntry = metas.find((e) => e.name.endsWith('.wrapper_metadata.json')) ?? metas[0];
  let meta: Record<string, string> = {};
  if (metaEntry) {
    checkEntrySize(metaEntry, file);
    try {
      meta = JSON.parse(new TextDecoder().decode(decodeEntry(metaEntry, read({ offset: metaEntry.dataOffset, length: metaEntry.compressedSize }), file)));
    } catch (e) {
      if (e instanceof TorchError) throw aotiError(e.message.replace(/^torch\.load: /, ''), e.code);
      throw aotiError(`${file}: ${metaEntry.name} is not valid JSON: ${(e as Error).message}`);
    }
  }
  return { entries, read, prefix, meta };
}

/** Unpacks the package (once) into <cache>/aoti/<sha256>/ and returns that folder. */
function unpack(file: string, data: Uint8Array, pkg: Package): string {
  const hash = crypto.createHash('sha256').update(data).digest('hex');
  const folder = path.join(cacheDir(), 'aoti', hash);
  if (fs.existsSync(path.join(folder, '.complete'))) return folder;
  const staging = `${folder}.partial-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(staging, { recursive: true });
  try {
    for (const e of pkg.entries) {
      const rel = entryPath(e.name, file);
      if (rel.endsWith('/')) continue;
      checkEntrySize(e, file);
      const bytes = decodeEntry(e, pkg.read({ offset: e.dataOffset, length: e.compressedSize }), file);
      const out = path.join(staging, rel);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, bytes, { mode: 0o644 });
    }
    fs.writeFileSync(path.join(staging, '.complete'), '');
    fs.rmSync(folder, { recursive: true, force: true });
    fs.renameSync(staging, folder);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (fs.existsSync(path.join(folder, '.complete'))) return folder; // another process won the race
    if (e instanceof TorchError) throw e.message.startsWith(where0) ? e : aotiError(e.message.replace(/^torch\.load: /, ''), e.code);
    throw aotiError(`cannot unpack ${file} into ${folder}: ${(e as Error).message}`, 'ERR_TORCH_IO');
  }
  return folder;
}

// ---- the host -------------------------------------------------------------------------------------
// AOTI_CPU_ISA names (torch/_inductor/cpu_vec_isa.py) and the /proc/cpuinfo flags each needs.
const ISA_FLAGS: Record<string, string[]> = {
  AVX2: ['avx2', 'fma'],
  AVX512: ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'],
  AVX512_VNNI: ['avx512_vnni'],
  AVX512_BF16: ['avx512_bf16'],
  AVX512_FP16: ['avx512_fp16'],
  AMX_TILE: ['amx_tile'],
  AMX_BF16: ['amx_bf16'],
  AMX_FP16: ['amx_fp16'],
  AMX_INT8: ['amx_int8'],
  NEON: ['asimd'],
  SVE: ['sve'],
  SVE256: ['sve'],
};

let hostFlags: Set<string> | null = null;
function cpuFlags(): Set<string> {
  if (hostFlags) return hostFlags;
  hostFlags = new Set();
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    if (line) for (const f of line.split(':')[1].trim().split(/\s+/)) hostFlags.add(f);
  } catch {
    /* not Linux: the machine/platform checks still hold */
  }
  return hostFlags;
}

const MACHINES: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x' };

/** Throws when the package was compiled for another platform, machine or CPU than this one. */
export function checkHost(meta: Record<string, string>, file: string): void {
  const platform = meta.AOTI_PLATFORM;
  if (platform && platform !== process.platform) throw aotiError(`${file} was compiled for ${platform}; this is ${process.platform}`, 'ERR_TORCH_PLATFORM');
  const machine = meta.AOTI_MACHINE;
  const here = MACHINES[process.arch] ?? process.arch;
  if (machine && machine !== here) throw aotiError(`${file} was compiled for ${machine} CPUs; this is ${here}`, 'ERR_TORCH_PLATFORM');
  const isa = (meta.AOTI_CPU_ISA ?? '').split(/\s+/).filter(Boolean);
  const flags = cpuFlags();
  if (!flags.size) return;
  const missing = isa.filter((name) => ISA_FLAGS[name]?.some((f) => !flags.has(f)));
  if (missing.length) {
    throw aotiError(
      `${file} was compiled for CPU instruction sets this CPU lacks: ${missing.join(', ')} (the package needs ${isa.join(' ')}); ` +
        'running it would die on an illegal instruction. Export a portable package on the Python side: ' +
        'ATEN_CPU_CAPABILITY=avx2 TORCHINDUCTOR_CPP_MARCH=x86-64-v3 python export.py',
      'ERR_TORCH_PLATFORM',
    );
  }
}

// ---- what the package expects -------------------------------------------------------------------
interface InputCheck {
  name: string;
  dtype: DType | null;
  device: 'cpu' | 'cuda' | null;
  /** Sizes: a number (static), null (dynamic, any), [min, max] (declared range). Null: rank unknown. */
  shape: (number | null | [number, number])[] | null;
}

const AOTI_DTYPES: Record<string, DType> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/** Reads the inputs' dtypes, devices and sizes from the package's generated wrapper code. */
function parseInputs(cpp: string): InputCheck[] {
  const names: string[] = [];
  for (const m of cpp.matchAll(/inputs_info_\[(\d+)\]\.name = "(\w+)";/g)) names[Number(m[1])] = m[2];
  return names.map((name) => {
    const check: InputCheck = { name, dtype: null, device: null, shape: null };
    const dt = new RegExp(`${name}_expected_dtype = aoti_torch_dtype_(\\w+)\\(\\)`).exec(cpp);
    if (dt) check.dtype = AOTI_DTYPES[dt[1]] ?? null;
    const dev = new RegExp(`${name}_expected_device_type = (\\d+);`).exec(cpp);
    if (dev) check.device = dev[1] === '0' ? 'cpu' : dev[1] === '1' ? 'cuda' : null;
    const sizes = new RegExp(`assert_size_stride\\(${name}, \\{([^}]*)\\}`).exec(cpp);
    if (sizes) {
      check.shape = sizes[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => (/^-?\d+L?$/.test(s) ? Number(s.replace(/L$/, '')) : null));
    }
    return check;
  });
}

function checkSpecs(fn: string, specs: unknown, n: number): AotiInputSpec[] {
  if (!Array.isArray(specs) || specs.length !== n) argError(fn, 'inputs', `an array of ${n} input spec${n === 1 ? '' : 's'} ({ dtype, shape })`, specs);
  for (const s of specs as AotiInputSpec[]) {
    const ok =
      s &&
      typeof s === 'object' &&
      (s.shape === undefined ||
        (Array.isArray(s.shape) &&
          s.shape.every((d) => d === null || Number.isInteger(d) || (Array.isArray(d) && d.length === 2 && d.every(Number.isInteger) && d[0] <= d[1]))));
    if (!ok) argError(fn, 'inputs', 'specs { dtype?, shape?: (number | null | [min, max])[] }', s);
  }
  return specs as AotiInputSpec[];
}

/** The declared specs merged into what the code says (a declared size must agree with a static one). */
function mergeSpecs(fn: string, parsed: InputCheck[], declared: AotiInputSpec[] | null): InputCheck[] {
  if (!declared) return parsed;
  return parsed.map((p, i) => {
    const d = declared[i];
    const out = { ...p };
    if (d.dtype) {
      if (p.dtype && d.dtype !== p.dtype)
        throw new TorchError(`${fn}: input ${i} is declared ${d.dtype} but the package was compiled for ${p.dtype}`, 'ERR_TORCH_ARG');
      out.dtype = d.dtype;
    }
    if (d.shape) {
      if (p.shape && p.shape.length !== d.shape.length) {
        throw new TorchError(
          `${fn}: input ${i} is declared with ${d.shape.length} dimensions but the package was compiled for ${p.shape.length}`,
          'ERR_TORCH_ARG',
        );
      }
      out.shape = d.shape.map((s, k) => {
        const compiled = p.shape ? p.shape[k] : null;
        if (typeof compiled === 'number' && s !== null && s !== compiled && !(Array.isArray(s) && s[0] <= compiled && compiled <= s[1])) {
          throw new TorchError(
            `${fn}: input ${i} dimension ${k} is declared ${JSON.stringify(s)} but the package was compiled for ${compiled}`,
            'ERR_TORCH_ARG',
          );
        }
        return typeof compiled === 'number' ? compiled : s;
      });
    }
    return out;
  });
}

// ---- the package ----------------------------------------------------------------------------------
const registry = new FinalizationRegistry<Id>((h) => aoti.free(h));

/** A loaded AOTInductor package (Python's AOTICompiledModel). Call it with forward() or forwardAsync(). */
export class AOTICompiledModel {
  /** The folder the package was unpacked into (in torch-node's cache). */
  readonly folder: string;
  /** The package's metadata: AOTI_* entries and what was passed as aot_inductor.metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** What each input is checked against. */
  readonly inputSpecs: readonly Readonly<InputCheck>[];
  private h: Id;
  /** The positional arguments' spec (the package's in_spec is (args, kwargs)). */
  private readonly argsSpec: Spec;
  private readonly outSpec: Spec;
  private inflight = 0;

  /** @internal use torch.inductor.aotiLoadPackage */
  constructor(file: string, options: AotiLoadOptions) {
    const fn = where0;
    checkOptions(fn, options, ['numRunners', 'modelName', 'device', 'inputs']);
    const numRunners = options.numRunners ?? 1;
    if (!Number.isInteger(numRunners) || numRunners < 1 || numRunners > 256) argError(fn, 'numRunners', 'an integer from 1 to 256', numRunners);
    const modelName = options.modelName ?? 'model';
    if (typeof modelName !== 'string' || !/^[\w.-]+$/.test(modelName)) argError(fn, 'modelName', 'a model name (letters, digits, _ . -)', modelName);
    if (typeof file !== 'string') argError(fn, 'path', 'a file path', file);
    let data: Uint8Array;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw aotiError(`cannot read ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');
    }
    const pkg = openPackage(file, data, modelName);
    const meta = pkg.meta;
    checkHost(meta, file);
    let deviceIndex = -1;
    if (meta.AOTI_DEVICE_KEY === 'cuda') {
      if (!native.cuda.isAvailable())
        throw aotiError(`${file} was compiled for CUDA, which is not available here: ${native.cuda.unavailableReason()}`, 'ERR_TORCH_NO_CUDA');
      if (options.device !== undefined) {
        const m = /^cuda(?::(\d+))?$/.exec(String(options.device));
        if (!m) argError(fn, 'device', "'cuda' or 'cuda:<index>'", options.device);
        deviceIndex = m[1] === undefined ? -1 : Number(m[1]);
      }
    } else if (options.device !== undefined && options.device !== 'cpu') {
      throw new TorchError(`${fn}: ${file} was compiled for ${meta.AOTI_DEVICE_KEY ?? 'cpu'}; it cannot run on ${options.device}`, 'ERR_TORCH_ARG');
    }
    this.folder = unpack(file, data, pkg);
    const modelDir = path.join(this.folder, pkg.prefix, 'data', 'aotinductor', modelName);
    const files = fs.readdirSync(modelDir);
    const cpp = files.find((n) => n.endsWith('.wrapper.cpp')) ?? files.find((n) => n.endsWith('.cpp'));
    const parsed = cpp ? parseInputs(fs.readFileSync(path.join(modelDir, cpp), 'utf8')) : [];
    this.h = aoti.load(path.join(this.folder, pkg.prefix), modelName, numRunners, deviceIndex);
    registry.register(this, this.h, this);
    this.metadata = Object.freeze({ ...meta });
    const [inSpec, outSpec] = aoti.callSpec(this.h);
    // The call spec's pytrees, read by the same checked reader as torch.export.load's.
    const spec = (text: string, what: string): Spec => {
      try {
        return parseSpec(text, `${file}: ${what}`);
      } catch (e) {
        this.dispose();
        throw e instanceof TorchError ? aotiError(e.message.replace(/^torch\.export\.load: /, ''), e.code) : e;
      }
    };
    const top = spec(inSpec, 'in_spec');
    this.argsSpec = top.kind === 'seq' && top.children[0] ? top.children[0] : { kind: 'seq', type: 'builtins.tuple', children: [] };
    this.outSpec = spec(outSpec, 'out_spec');
    let declared: AotiInputSpec[] | null = null;
    const metaInputs = this.metadata['torch_node.inputs'];
    try {
      if (options.inputs !== undefined) declared = checkSpecs(fn, options.inputs, parsed.length);
      else if (metaInputs) declared = checkSpecs(`${fn} (the package's torch_node.inputs metadata)`, JSON.parse(metaInputs), parsed.length);
      this.inputSpecs = Object.freeze(mergeSpecs(fn, parsed, declared).map((s) => Object.freeze(s)));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private handle(fn: string): Id {
    if (this.h < 0) throw new TorchError(`${fn}: the package was disposed`, 'ERR_TORCH_DISPOSED');
    return this.h;
  }

  /** Flattens the arguments as the package's in_spec says and checks each tensor; returns ids (contiguous). */
  private inputs(fn: string, args: unknown[]): { ids: Id[]; temps: Tensor[] } {
    const flat: { path: string; value: unknown }[] = [];
    flatten(this.argsSpec, args, 'args', fn, flat);
    const leaves = flat.map((l) => l.value);
    if (leaves.length !== this.inputSpecs.length && this.inputSpecs.length) {
      throw new TorchError(
        `${fn}: the package takes ${this.inputSpecs.length} tensor input${this.inputSpecs.length === 1 ? '' : 's'}, got ${leaves.length}`,
        'ERR_TORCH_ARG',
      );
    }
    const ids: Id[] = [];
    const temps: Tensor[] = [];
    leaves.forEach((t, i) => {
      const what = `input ${i}${this.inputSpecs[i] ? ` (${this.inputSpecs[i].name})` : ''}`;
      if (!(t instanceof Tensor)) argError(fn, what, 'a Tensor', t);
      idOf(t, fn, what);
      const spec = this.inputSpecs[i];
      if (spec) {
        const expected = (x: string) => `${fn}: ${what}: expected ${x}`;
        if (spec.dtype && t.dtype !== spec.dtype) throw new TorchError(`${expected(`dtype ${spec.dtype}`)}, got ${t.dtype}`, 'ERR_TORCH_DTYPE');
        if (spec.device && t.device.split(':')[0] !== spec.device)
          throw new TorchError(`${expected(`a tensor on ${spec.device}`)}, got one on ${t.device}`, 'ERR_TORCH_DEVICE');
        if (spec.shape) {
          const shape = t.shape;
          const want = `[${spec.shape.map((s) => (s === null ? '*' : Array.isArray(s) ? `${s[0]}..${s[1]}` : s)).join(', ')}]`;
          if (shape.length !== spec.shape.length)
            throw new TorchError(`${expected(`${spec.shape.length} dimensions ${want}`)}, got ${shape.length} ([${shape.join(', ')}])`, 'ERR_TORCH_SHAPE');
          spec.shape.forEach((s, k) => {
            const v = shape[k];
            if (typeof s === 'number' && v !== s)
              throw new TorchError(`${expected(`size ${s} at dimension ${k} (shape ${want})`)}, got ${v} ([${shape.join(', ')}])`, 'ERR_TORCH_SHAPE');
            if (Array.isArray(s) && (v < s[0] || v > s[1])) {
              throw new TorchError(`${expected(`dimension ${k} in the declared range ${s[0]}..${s[1]} (shape ${want})`)}, got ${v}`, 'ERR_TORCH_SHAPE');
            }
          });
        }
      }
      if (t.isContiguous()) ids.push(t._h);
      else {
        const c = t.contiguous();
        temps.push(c);
        ids.push(c._h);
      }
    });
    return { ids, temps };
  }

  private outputs(ids: Id[]): unknown {
    return unflatten(
      this.outSpec,
      ids.map((id) => wrap(id)),
    );
  }

  /** Runs the model on this thread (Python's compiled_model(*args)); the outputs as the package's out_spec says. */
  forward(...args: unknown[]): any {
    const fn = 'AOTICompiledModel.forward()';
    const h = this.handle(fn);
    const { ids, temps } = this.inputs(fn, args);
    try {
      return this.outputs(aoti.run(h, ids));
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /** call() is forward(), as for modules. */
  call(...args: unknown[]): any {
    return this.forward(...args);
  }

  /** Runs the model on libuv's pool; up to numRunners calls at once. Inputs must stay alive until it settles. */
  async forwardAsync(...args: unknown[]): Promise<any> {
    const fn = 'AOTICompiledModel.forwardAsync()';
    const h = this.handle(fn);
    const { ids, temps } = this.inputs(fn, args);
    this.inflight++;
    try {
      return this.outputs(await aoti.runAsync(h, ids));
    } finally {
      this.inflight--;
      for (const t of temps) t.dispose();
    }
  }

  /** The fully qualified names of the model's constants (weights), e.g. 'fc.weight'. */
  constantNames(): string[] {
    return aoti.constantNames(this.handle('constantNames()'));
  }

  /**
   * Replaces weights (Python's load_constants): a Map or object from constantNames() to tensors of
   * the same shape and dtype. With checkFullUpdate every constant must be given.
   */
  loadConstants(constants: Map<string, Tensor> | Record<string, Tensor>, options: { checkFullUpdate?: boolean } = {}): void {
    const fn = 'loadConstants()';
    const h = this.handle(fn);
    checkOptions(fn, options, ['checkFullUpdate']);
    if (this.inflight) throw new TorchError(`${fn}: ${this.inflight} forwardAsync call(s) are running; await them first`, 'ERR_TORCH_BUSY');
    const entries = constants instanceof Map ? [...constants.entries()] : Object.entries(constants ?? {});
    const known = new Set(this.constantNames());
    for (const [k, t] of entries) {
      if (!known.has(k)) throw new TorchError(`${fn}: the package has no constant '${k}' (it has ${[...known].join(', ')})`, 'ERR_TORCH_ARG');
      idOf(t, fn, `constants['${k}']`);
    }
    aoti.loadConstants(
      h,
      entries.map(([k]) => k),
      entries.map(([, t]) => t._h),
      options.checkFullUpdate ?? false,
    );
  }

  /** Frees the loaded model now (calls in flight finish first). */
  dispose(): void {
    if (this.h < 0) return;
    registry.unregister(this);
    aoti.free(this.h);
    this.h = -1;
  }
}

/**
 * torch._inductor.aoti_load_package: loads an AOTInductor package (`.pt2` from
 * `torch._inductor.aoti_compile_and_package`). See AOTICompiledModel.
 */
export function aotiLoadPackage(path: string, options: AotiLoadOptions = {}): AOTICompiledModel {
  return new AOTICompiledModel(path, options);
}
