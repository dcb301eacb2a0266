/**
 * The `torch-node` command (bin/torch-node.js):
 *
 *   torch-node inspect FILE [--json]        tensors of a .safetensors, .pt/.pth or TorchScript file
 *   torch-node convert IN OUT [--force]     .pt/.pth <-> .safetensors
 *   torch-node run --nproc-per-node N S.js  start N workers of a distributed job, like torchrun (run.ts)
 *
 * `main(argv)` returns the exit code: 0 done, 1 the file or the conversion failed, 2 the command
 * line was wrong. Errors the user can fix (TorchError, bad arguments) print one message and no
 * stack; anything else is a bug and prints its stack. Modules that load the native addon are
 * required lazily, so `--help` works even where the addon does not load.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TorchError } from '../errors';
import type { Tensor } from '../tensor';
import type { Header } from '../serialization/safetensors';
import type { ZipEntry } from '../serialization/zip';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const defaultIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** A mistake on the command line (exit code 2). */
class UsageError extends Error {}

const HELP = `Usage: torch-node <command> [options]

Commands:
  inspect FILE [--json]      List the tensors in FILE as a tree of keys with dtype, shape and
                             bytes, and the totals (tensors, parameters, bytes). FILE is a
                             .safetensors file, a torch.save file (.pt, .pth, .bin, .ckpt) or a
                             TorchScript archive (whose records are listed).
                             --json  print one JSON object instead, for scripts
  convert IN OUT [options]   Convert between torch.save files (.pt, .pth, .bin, .ckpt) and
                             .safetensors, either direction. Nested dicts of tensors become dotted
                             names ('model.fc.weight'); a .safetensors file becomes a flat dict.
                             --key K             convert only the dict at K (e.g. state_dict)
                             --skip-non-tensors  drop values that are not tensors (epoch, lr, ...)
                             --force             overwrite OUT if it exists
  run [options] SCRIPT [ARGS...]
                             Start the workers of a distributed job, like PyTorch's torchrun:
                             'node SCRIPT ARGS...' once per process, each with torchrun's
                             variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
                             MASTER_ADDR, MASTER_PORT, ...) for initProcessGroup() (env://; rank 0
                             hosts the store). If a worker fails, the others are stopped (SIGTERM,
                             then SIGKILL) and the failed rank is reported; signals to the launcher
                             are passed on to the workers.
                             --nproc-per-node N  processes on this node (default 1; also
                                                 --nproc_per_node); OMP_NUM_THREADS=1 if unset and N > 1
                             --nnodes M          nodes in the job (default 1; static, no elastic MIN:MAX)
                             --node-rank R       this node's rank, 0..M-1 (default 0)
                             --master-addr A     rank 0's address (default 127.0.0.1)
                             --master-port P     rank 0's store port (default: a free port on A;
                                                 required with --nnodes > 1)
                             --rdzv-id ID        TORCHELASTIC_RUN_ID (default none)
                             --prefix-output     prefix each output line with [default<rank>]:
                             --term-timeout S    seconds between SIGTERM and SIGKILL (default 5)
                             Options go before SCRIPT; everything after it is the script's.
  help                       Show this help (also --help, -h).

Exit status: 0 done, 1 the file could not be read or written (run: a worker failed), 2 wrong
command line (run: 128 + N when stopped by signal N).
`;

const TORCH_EXTS = new Set(['.pt', '.pth', '.bin', '.ckpt', '.ptl', '.zip']);
type Kind = 'safetensors' | 'torch';

/** What a file is: by extension, else by its first bytes. */
function kindOf(file: string, role: string): Kind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.safetensors') return 'safetensors';
  if (TORCH_EXTS.has(ext)) return 'torch';
  let head = Buffer.alloc(0);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(16);
      head = head.subarray(0, fs.readSync(fd, head, 0, 16, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* reported by the caller */
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'torch';
  if (head.length >= 9 && head.readBigUInt64LE(0) < 100_000_000n && head[8] === 0x7b) return 'safetensors';
  throw new TorchError(
    `${role} ${file}: unsupported file type${ext ? ` '${ext}'` : ''}: expected .safetensors, a torch.save file (.pt, .pth, .bin, .ckpt) or a TorchScript archive`,
    'ERR_TORCH_CLI',
  );
}

function requireFile(file: string, role: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new TorchError(`${role} ${file}: no such file`, 'ERR_TORCH_IO');
  }
  if (!st.isFile()) throw new TorchError(`${role} ${file}: not a file`, 'ERR_TORCH_IO');
}

/** The colleague-owned .pt reader/writer, loaded only when a .pt file is involved. */
function torchFile(): {
  load(p: string, o?: { mapLocation?: string; mmap?: boolean }): unknown;
  save(obj: unknown, p: string): void;
} {
  try {
    return require('../serialization/torch-file');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /torch-file/.test((e as Error).message)) {
      throw new TorchError('this build of torch-node cannot read or write .pt files (serialization/torch-file is missing)', 'ERR_TORCH_CLI');
    }
    throw e;
  }
}

// ---- argument parsing ---------------------------------------------------------------------------

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(args: string[], known: Record<string, 'flag' | 'value'>, cmd: string): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const kind = known[name];
      if (!kind) throw new UsageError(`${cmd}: unknown option '${name}' (options: ${Object.keys(known).join(', ') || 'none'})`);
      if (kind === 'flag') {
        if (inline !== undefined) throw new UsageError(`${cmd}: option '${name}' takes no value`);
        flags.set(name, true);
      } else {
        const v = inline ?? args[++i];
        if (v === undefined) throw new UsageError(`${cmd}: option '${name}' needs a value`);
        flags.set(name, v);
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

// ---- walking loaded objects ---------------------------------------------------------------------

interface TensorRow {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
  bytes: number;
}

interface ValueRow {
  name: string;
  type: string;
  value: unknown;
}

function isTensor(v: unknown): v is Tensor {
  const { Tensor } = require('../tensor') as typeof import('../tensor');
  return v instanceof Tensor;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Calls `leaf(path, value)` for every tensor and non-container value under `root` (Maps, arrays, plain objects). */
function walk(root: unknown, leaf: (p: string[], v: unknown) => void, p: string[] = [], seen = new Set<unknown>()): void {
  if (root instanceof Map || Array.isArray(root) || isPlainObject(root)) {
    if (seen.has(root)) {
      leaf(p, '<cycle>');
      return;
    }
    seen.add(root);
    const entries: [unknown, unknown][] = root instanceof Map ? [...root.entries()] : Array.isArray(root) ? root.map((v, i) => [i, v]) : Object.entries(root);
    if (entries.length === 0 && p.length > 0) leaf(p, root);
    for (const [k, v] of entries) walk(v, leaf, [...p, typeof k === 'string' ? k : String(k)], seen);
    seen.delete(root);
    return;
  }
  leaf(p, root);
}

function describeValue(v: unknown): { type: string; value: unknown } {
  if (v === null || v === undefined) return { type: 'None', value: null };
  if (typeof v === 'bigint') return { type: 'int', value: v.toString() };
  if (typeof v === 'number') return { type: Number.isInteger(v) ? 'int' : 'float', value: v };
  if (typeof v === 'boolean') return { type: 'bool', value: v };
  if (typeof v === 'string') return { type: 'str', value: v };
  if (v instanceof Uint8Array) return { type: 'bytes', value: `${v.byteLength} bytes` };
  if (v instanceof Map) return { type: 'dict', value: '{}' };
  if (Array.isArray(v)) return { type: 'list', value: '[]' };
  if (v instanceof Set) return { type: 'set', value: `${v.size} items` };
  const name = (v as object).constructor?.name ?? 'object';
  return { type: name, value: String(v) };
}

function tensorRow(name: string, t: Tensor): TensorRow {
  const { itemSize } = require('../dtype') as typeof import('../dtype');
  const numel = t.numel();
  return { name, dtype: t.dtype, shape: t.shape, numel, bytes: numel * itemSize(t.dtype) };
}

// ---- rendering ----------------------------------------------------------------------------------

const fmtInt = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, word: string) => `${fmtInt(n)} ${word}${n === 1 ? '' : 's'}`;

/** Indented JSON with arrays of numbers (shapes, offsets) on one line. Only arrays that span lines are
 *  joined, and JSON strings never hold a raw newline, so string contents are never touched. */
function toJson(v: unknown): string {
  const numbers = /\[\n\s*(-?[\d.eE+]+(?:,\n\s*-?[\d.eE+]+)*)\n\s*\]/g;
  return JSON.stringify(v, null, 2).replace(numbers, (_m, body: string) => `[${body.split(/,\n\s*/).join(', ')}]`) + '\n';
}

function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

interface Node {
  children: Map<string, Node>;
  row?: { kind: 'tensor'; t: TensorRow } | { kind: 'value'; v: ValueRow };
  tensors: number;
  params: number;
  bytes: number;
}

const newNode = (): Node => ({ children: new Map(), tensors: 0, params: 0, bytes: 0 });

/** Renders rows as a tree of dotted names, single-child chains collapsed ('layer1.0.conv1'). */
function renderTree(rows: ({ path: string[] } & NonNullable<Node['row']>)[]): string[] {
  const root = newNode();
  for (const r of rows) {
    let n = root;
    const add = (x: Node) => {
      if (r.kind === 'tensor') {
        x.tensors++;
        x.params += r.t.numel;
        x.bytes += r.t.bytes;
      }
    };
    add(n);
    for (const part of r.path) {
      let c = n.children.get(part);
      if (!c) n.children.set(part, (c = newNode()));
      n = c;
      add(n);
    }
    if (n.row) {
      // Two rows at one path ('a.b' as a key and as a nested path): keep both, the second suffixed.
      const dup = newNode();
      dup.row = r;
      add(dup);
      n.children.set('(again)', dup);
    } else {
      n.row = r;
    }
  }
  const lines: [string, string][] = [];
  const visit = (node: Node, indent: string) => {
    for (let [name, c] of node.children) {
      while (!c.row && c.children.size === 1) {
        const [k, only] = [...c.children][0];
        name = `${name}.${k}`;
        c = only;
      }
      const label = indent + (name === '' ? "''" : name);
      if (c.row?.kind === 'tensor') {
        const t = c.row.t;
        lines.push([label, `${t.dtype.padEnd(8)} ${`[${t.shape.join(', ')}]`.padEnd(18)} ${fmtBytes(t.bytes).padStart(10)}`]);
      } else if (c.row?.kind === 'value') {
        let s = typeof c.row.v.value === 'string' && c.row.v.type === 'str' ? JSON.stringify(c.row.v.value) : String(c.row.v.value);
        if (s.length > 60) s = s.slice(0, 57) + '...';
        lines.push([label, `${c.row.v.type.padEnd(8)} ${s}`]);
      } else {
        lines.push([label, c.tensors ? `(${plural(c.tensors, 'tensor')}, ${plural(c.params, 'parameter')}, ${fmtBytes(c.bytes)})` : '']);
      }
      if (c.children.size) visit(c, indent + '  ');
    }
  };
  visit(root, '');
  const width = Math.min(60, Math.max(0, ...lines.map(([l]) => l.length)));
  return lines.map(([l, r]) => (r ? `${l.padEnd(width)}  ${r}` : l).trimEnd());
}

function totalsLine(rows: TensorRow[]): { tensors: number; parameters: number; bytes: number } {
  return {
    tensors: rows.length,
    parameters: rows.reduce((a, r) => a + r.numel, 0),
    bytes: rows.reduce((a, r) => a + r.bytes, 0),
  };
}

function fmtTotals(t: { tensors: number; parameters: number; bytes: number }): string {
  return `total: ${plural(t.tensors, 'tensor')}, ${plural(t.parameters, 'parameter')}, ${plural(t.bytes, 'byte')} (${fmtBytes(t.bytes)})`;
}

// ---- inspect ------------------------------------------------------------------------------------

function inspectSafetensors(file: string, json: boolean, io: Io): void {
  const st = require('../serialization/safetensors') as typeof import('../serialization/safetensors');
  const h: Header = st.readHeader(file);
  const rows: TensorRow[] = h.tensors.map((t) => ({
    name: t.name,
    dtype: t.dtype ?? t.safetensorsDtype,
    shape: t.shape,
    numel: t.numel,
    bytes: t.nbytes,
  }));
  const totals = totalsLine(rows);
  if (json) {
    const tensors = h.tensors.map((t) => ({
      name: t.name,
      dtype: t.dtype,
      safetensorsDtype: t.safetensorsDtype,
      shape: t.shape,
      numel: t.numel,
      bytes: t.nbytes,
      dataOffsets: t.dataOffsets,
    }));
    io.stdout(toJson({ file, format: 'safetensors', headerBytes: h.headerBytes, metadata: h.metadata, tensors, totals }));
    return;
  }
  const out = [`${file}: safetensors, header ${fmtInt(h.headerBytes)} bytes`];
  out.push(...renderTree(rows.map((t) => ({ path: t.name.split('.'), kind: 'tensor' as const, t }))));
  out.push(fmtTotals(totals));
  if (h.metadata) {
    out.push('metadata:');
    for (const [k, v] of Object.entries(h.metadata)) out.push(`  ${k}: ${v.length > 200 ? v.slice(0, 197) + '...' : v}`);
  }
  io.stdout(out.join('\n') + '\n');
}

/** The zip directory of a file, or null if it is not a zip. */
function zipDirectory(file: string): { entries: ZipEntry[] } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new TorchError(`cannot read ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(4);
    if (size < 4 || fs.readSync(fd, head, 0, 4, 0) < 4 || head.readUInt32LE(0) !== 0x04034b50) return null;
    const zip = require('../serialization/zip') as typeof import('../serialization/zip');
    const gen = zip.readDirectory(size, file);
    let step = gen.next();
    while (!step.done) {
      const { offset, length } = step.value;
      const b = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const n = fs.readSync(fd, b, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      step = gen.next(b.subarray(0, got));
    }
    return step.value;
  } finally {
    fs.closeSync(fd);
  }
}

function isTorchScript(entries: ZipEntry[]): boolean {
  return entries.some((e) => {
    const rel = e.name.slice(e.name.indexOf('/') + 1);
    return rel === 'constants.pkl' || rel.startsWith('code/');
  });
}

function inspectTorchScript(file: string, entries: ZipEntry[], json: boolean, io: Io): void {
  const records = entries.map((e) => ({ name: e.name, bytes: e.size, compressedBytes: e.compressedSize }));
  const totals = { records: records.length, bytes: records.reduce((a, r) => a + r.bytes, 0) };
  if (json) {
    io.stdout(toJson({ file, format: 'torchscript', records, totals }));
    return;
  }
  const width = Math.min(70, Math.max(...records.map((r) => r.name.length)));
  const out = [`${file}: TorchScript archive (torch.jit.save), ${records.length} records`];
  for (const r of records) {
    out.push(
      `${r.name.padEnd(width)}  ${fmtBytes(r.bytes).padStart(10)}${r.compressedBytes !== r.bytes ? `  (${fmtBytes(r.compressedBytes)} compressed)` : ''}`,
    );
  }
  out.push(`total: ${plural(totals.records, 'record')}, ${plural(totals.bytes, 'byte')} (${fmtBytes(totals.bytes)})`);
  io.stdout(out.join('\n') + '\n');
}

function inspectTorch(file: string, json: boolean, io: Io): void {
  const dir = zipDirectory(file);
  if (dir && isTorchScript(dir.entries)) return inspectTorchScript(file, dir.entries, json, io);
  const { tidy } = require('../scope') as typeof import('../scope');
  type Row = Parameters<typeof renderTree>[0][number];
  const { tensors, values, rows } = tidy(() => {
    const obj = torchFile().load(file, { mapLocation: 'cpu', mmap: true });
    const tensors: TensorRow[] = [];
    const values: ValueRow[] = [];
    const rows: Row[] = [];
    walk(obj, (p, v) => {
      const name = p.join('.');
      const parts = name === '' ? ['(the whole file)'] : name.split('.');
      if (isTensor(v)) {
        const t = tensorRow(name, v);
        tensors.push(t);
        rows.push({ path: parts, kind: 'tensor', t });
      } else {
        const r = { name, ...describeValue(v) };
        values.push(r);
        rows.push({ path: parts, kind: 'value', v: r });
      }
    });
    return { tensors, values, rows };
  });
  const totals = totalsLine(tensors);
  if (json) {
    io.stdout(toJson({ file, format: 'pytorch', tensors, values, totals }));
    return;
  }
  const out = [`${file}: torch.save archive`];
  out.push(...renderTree(rows));
  out.push(fmtTotals(totals));
  io.stdout(out.join('\n') + '\n');
}

function inspect(args: string[], io: Io): number {
  const { positional, flags } = parseArgs(args, { '--json': 'flag' }, 'inspect');
  if (positional.length !== 1) throw new UsageError(`inspect: expected one FILE, got ${positional.length} (usage: torch-node inspect FILE [--json])`);
  const file = positional[0];
  requireFile(file, 'inspect:');
  const json = flags.has('--json');
  if (kindOf(file, 'inspect:') === 'safetensors') inspectSafetensors(file, json, io);
  else inspectTorch(file, json, io);
  return 0;
}

// ---- convert ------------------------------------------------------------------------------------

function convert(args: string[], io: Io): number {
  const { positional, flags } = parseArgs(args, { '--force': 'flag', '-f': 'flag', '--key': 'value', '--skip-non-tensors': 'flag' }, 'convert');
  if (positional.length !== 2) throw new UsageError(`convert: expected IN and OUT, got ${positional.length} argument(s) (usage: torch-node convert IN OUT)`);
  const [input, output] = positional;
  requireFile(input, 'convert:');
  const outExt = path.extname(output).toLowerCase();
  const outKind: Kind | null = outExt === '.safetensors' ? 'safetensors' : TORCH_EXTS.has(outExt) && outExt !== '.zip' && outExt !== '.ptl' ? 'torch' : null;
  if (!outKind)
    throw new UsageError(
      `convert: cannot tell the format to write from OUT's extension${outExt ? ` '${outExt}'` : ''}: use .safetensors or .pt / .pth / .bin / .ckpt`,
    );
  const inKind = kindOf(input, 'convert:');
  if (inKind === outKind)
    throw new UsageError(
      `convert: ${input} and ${output} are both ${inKind === 'torch' ? 'torch.save files' : 'safetensors files'}; convert goes between .pt/.pth and .safetensors`,
    );
  if (fs.existsSync(output)) {
    if (path.resolve(output) === path.resolve(input)) throw new UsageError('convert: IN and OUT are the same file');
    if (!flags.has('--force') && !flags.has('-f')) throw new TorchError(`convert: ${output} exists; pass --force to overwrite it`, 'ERR_TORCH_CLI');
  }
  const key = flags.get('--key');
  const { tidy } = require('../scope') as typeof import('../scope');
  const st = require('../serialization/safetensors') as typeof import('../serialization/safetensors');
  if (inKind === 'safetensors') {
    if (key !== undefined) throw new UsageError('convert: --key applies to torch.save input');
    const meta = st.loadMetadata(input);
    const n = tidy(() => {
      const tensors = st.loadFile(input);
      torchFile().save(tensors, output);
      return tensors.size;
    });
    io.stdout(
      `wrote ${output}: ${plural(n, 'tensor')} as a flat dict${meta ? `; the file's metadata (${plural(Object.keys(meta).length, 'entry').replace(/entrys$/, 'entries')}) has no place in a .pt file and was left out` : ''}\n`,
    );
    return 0;
  }
  const dir = zipDirectory(input);
  if (dir && isTorchScript(dir.entries)) {
    throw new TorchError(`convert: ${input} is a TorchScript archive (torch.jit.save); convert reads torch.save files such as state dicts`, 'ERR_TORCH_CLI');
  }
  const skip = flags.has('--skip-non-tensors');
  const result = tidy(() => {
    let obj = torchFile().load(input, { mapLocation: 'cpu', mmap: true });
    if (typeof key === 'string') {
      for (const part of key.split('.')) {
        const next: unknown =
          obj instanceof Map ? (obj.get(part) ?? obj.get(Number(part))) : isPlainObject(obj) || Array.isArray(obj) ? (obj as any)[part] : undefined;
        if (next === undefined) {
          const keys = obj instanceof Map ? [...obj.keys()] : obj && typeof obj === 'object' ? Object.keys(obj) : [];
          throw new TorchError(
            `convert: ${input} has no key '${key}' (at '${part}'; keys there: ${keys.slice(0, 10).map(String).join(', ') || 'none'})`,
            'ERR_TORCH_CLI',
          );
        }
        obj = next;
      }
    }
    const tensors = new Map<string, Tensor>();
    const skipped: string[] = [];
    walk(obj, (p, v) => {
      if (!isTensor(v)) {
        skipped.push(p.length ? p.join('.') : '(the whole file)');
        return;
      }
      const name = p.length ? p.join('.') : 'tensor'; // a file holding one bare tensor
      if (tensors.has(name)) throw new TorchError(`convert: two tensors flatten to the name '${name}'`, 'ERR_TORCH_CLI');
      tensors.set(name, v);
    });
    if (skipped.length && !skip) {
      throw new TorchError(
        `convert: ${input} holds ${skipped.length} value(s) that are not tensors (${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', ...' : ''}); ` +
          'safetensors stores only tensors: pass --skip-non-tensors to leave them out, or --key to pick the dict of tensors (e.g. --key state_dict)',
        'ERR_TORCH_CLI',
      );
    }
    if (tensors.size === 0) throw new TorchError(`convert: ${input} holds no tensors`, 'ERR_TORCH_CLI');
    st.saveFile(tensors, output, { format: 'pt' });
    return { n: tensors.size, skipped };
  });
  io.stdout(
    `wrote ${output}: ${plural(result.n, 'tensor')}${result.skipped.length ? `; left out ${result.skipped.length} non-tensor value(s): ${result.skipped.slice(0, 5).join(', ')}${result.skipped.length > 5 ? ', ...' : ''}` : ''}\n`,
  );
  return 0;
}

// ---- entry ----------------------------------------------------------------------------------------

/** An API error's message without the API function's name, which means nothing on the command line. */
function cliMessage(e: TorchError): string {
  return e.message.replace(/^safetensors\.\w+\(\): /, '');
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        io.stderr(HELP);
        return 2;
      case 'help':
      case '--help':
      case '-h':
        io.stdout(HELP);
        return 0;
      case 'inspect':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.stdout(HELP);
          return 0;
        }
        return inspect(rest, io);
      case 'convert':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.stdout(HELP);
          return 0;
        }
        return convert(rest, io);
      case 'run': {
        const run = require('./run') as typeof import('./run');
        let options: import('./run').RunOptions | 'help';
        try {
          options = run.parseRunArgs(rest);
        } catch (e) {
          if (e instanceof run.RunUsageError) throw new UsageError(e.message);
          throw e;
        }
        if (options === 'help') {
          io.stdout(HELP);
          return 0;
        }
        return await run.launch(options, io);
      }
      default:
        throw new UsageError(`unknown command '${cmd}' (commands: inspect, convert, run, help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`torch-node: ${e.message}\nRun 'torch-node --help' for usage.\n`);
      return 2;
    }
    if (e instanceof TorchError) {
      io.stderr(`torch-node: ${cliMessage(e)}\n`);
      if (process.env.TORCH_NODE_DEBUG) io.stderr(`${e.stack}\n`);
      return 1;
    }
    io.stderr(`torch-node: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
