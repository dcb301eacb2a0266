/**
 * safetensors (https://github.com/huggingface/safetensors): read and write, in TypeScript over the
 * raw storage bindings (binding/storage.cc).
 *
 * The format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, ..., __metadata__?: { key: string } }`
 * (padded with spaces), then the data buffer; offsets are relative to the data buffer and each
 * tensor's bytes are its elements in row-major order, little-endian.
 *
 * Every file is validated before any tensor is made, with the reference implementation's rules
 * (`read_metadata` / `Metadata::validate`): the header at most 100 MB and inside the file, valid UTF-8
 * JSON with an object at the top, each entry a known dtype, a shape of non-negative integers whose
 * byte size does not overflow, data_offsets inside the data buffer with end - begin equal to the
 * shape's byte size, and the entries tiling the data buffer exactly — no overlaps, no gaps, nothing
 * after the last one. Each violation is a TorchError (code ERR_TORCH_FILE) naming the tensor; a
 * failed load creates no tensors.
 *
 * `loadFile(path)` maps the file and makes CPU tensors over it without copying (copy-on-write: writing
 * to a loaded tensor never touches the file); the mapping lives as long as the last such tensor.
 * `saveFile` writes atomically (temp file, fsync, rename), every tensor contiguous, and lays the data
 * out largest element size first so every tensor is aligned for zero-copy loading; the header keeps
 * the order the tensors were given in, which is the order loadFile returns them in.
 * @module
 */
import * as fs from 'fs';
import { constants as bufferConstants } from 'buffer';
import { native, type Id } from '../binding';
import { targetDevice } from '../device';
import { dtypeCode, dtypeFromCode, itemSize, type DType } from '../dtype';
import { TorchError, argError, describe } from '../errors';
import { op } from '../ops/handles';
import { Tensor, idOf, wrap } from '../tensor';
import { writeFileAtomic } from './atomic';

/** The reference implementation's limit on the header (MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

/** safetensors dtype names of the dtypes torch-node has. */
export const SAFETENSORS_DTYPES: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int8: 'I8',
  uint8: 'U8',
  int16: 'I16',
  int32: 'I32',
  int64: 'I64',
  bool: 'BOOL',
};

const FROM_SAFETENSORS: Record<string, DType> = Object.fromEntries(Object.entries(SAFETENSORS_DTYPES).map(([d, s]) => [s, d as DType]));

/** Every dtype the format defines, with its size in bits (torch-node can inspect all, load those above). */
const BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

/** One tensor as the header describes it. */
export interface TensorInfo {
  /** The tensor's name (its state-dict key). */
  name: string;
  /** The torch-node dtype, or null for a safetensors dtype torch-node has no tensors of (U16, F8_E4M3, ...). */
  dtype: DType | null;
  /** The dtype as the file names it ('F32', 'BF16', ...). */
  safetensorsDtype: string;
  /** The tensor's shape. */
  shape: number[];
  /** The number of elements. */
  numel: number;
  /** Bytes of data (end - begin). */
  nbytes: number;
  /** [begin, end) relative to the data buffer. */
  dataOffsets: [number, number];
}

/** What the header of a safetensors file says, validated; reading it touches no tensor data. */
export interface Header {
  /** Entries in the order the header lists them (loadFile returns tensors in this order). */
  tensors: TensorInfo[];
  /** `__metadata__`, or null when the file has none. */
  metadata: Record<string, string> | null;
  /** N, the header's length in bytes. */
  headerBytes: number;
  /** Where the data buffer starts in the file: 8 + N. */
  dataStart: number;
  /** Length of the data buffer. */
  dataBytes: number;
}

/** The options of loadFile (PyTorch's safetensors.torch.load_file with `device=`). */
export interface LoadOptions {
  /** Where the tensors go: 'cpu' (default), 'cuda', 'cuda:N'. */
  device?: string;
  /** Map the file and make CPU tensors over it without copying (default true). */
  mmap?: boolean;
}

/** Tensors by name: a Map (what loadFile returns) or a plain object. */
export type TensorDict = Map<string, Tensor> | Record<string, Tensor>;
/** The header's `__metadata__`: string keys to string values. */
export type Metadata = Map<string, string> | Record<string, string>;

// ---- reading ----------------------------------------------------------------------------------

/** Random access to the bytes of a file or buffer. */
interface Source {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

function fileError(where: string, what: string): TorchError {
  return new TorchError(`${where}: ${what}`, 'ERR_TORCH_FILE');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The top-level keys of a JSON object text in order (the text is known to be valid JSON). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i++;
      while (text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(start, i + 1)));
        expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.hasOwn(o, k);
const INT64_MAX = (1n << 63n) - 1n;

function fmtShape(shape: unknown[]): string {
  return `[${shape.map((s) => (typeof s === 'number' ? String(s) : JSON.stringify(s))).join(', ')}]`;
}

/** Parses and validates the header of `src`; `where` prefixes every error ("loadFile(): x.safetensors"). */
function readHeaderFrom(src: Source, where: string): Header {
  if (src.size < 8) throw fileError(where, `the file is ${src.size} bytes, too short for the 8-byte header length (truncated, or not a safetensors file)`);
  const lenBytes = src.read(0, 8);
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw fileError(where, `the header declares ${n} bytes, more than the 100 MB limit (${MAX_HEADER_BYTES} bytes): corrupt, or not a safetensors file`);
  }
  const headerBytes = Number(n);
  if (8 + headerBytes > src.size) {
    throw fileError(
      where,
      `the header length ${headerBytes} runs past the end of the file (${src.size} bytes; header at bytes 8..${8 + headerBytes}): truncated, or not a safetensors file`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(src.read(8, headerBytes));
  } catch {
    throw fileError(where, 'the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw fileError(where, `the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw fileError(where, `the header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw fileError(where, 'the header must be a JSON object');
  const dataStart = 8 + headerBytes;
  const dataBytes = src.size - dataStart;

  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  const seen = new Set<string>();
  const keys = topLevelKeys(text);
  if (new Set(keys).size !== Object.keys(parsed).length) throw fileError(where, 'the header could not be read consistently (internal check)');
  for (const name of keys) {
    if (seen.has(name)) throw fileError(where, `the header lists ${JSON.stringify(name)} twice`);
    seen.add(name);
    const v = parsed[name];
    if (name === '__metadata__') {
      if (v === null) continue;
      if (!isObject(v)) throw fileError(where, `__metadata__ must be an object of strings, got ${describe(v)}`);
      for (const [k, x] of Object.entries(v)) {
        if (typeof x !== 'string') throw fileError(where, `__metadata__ value ${JSON.stringify(k)} must be a string, got ${describe(x)}`);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const bad = (what: string) => fileError(where, `tensor ${JSON.stringify(name)}: ${what}`);
    if (!isObject(v)) throw bad(`the entry must be an object { dtype, shape, data_offsets }, got ${describe(v)}`);
    for (const field of ['dtype', 'shape', 'data_offsets']) if (!own(v, field)) throw bad(`the entry has no '${field}'`);
    const st = v.dtype;
    if (typeof st !== 'string' || !own(BITS, st)) {
      throw bad(`unknown dtype ${typeof st === 'string' ? JSON.stringify(st) : describe(st)}; safetensors dtypes are ${Object.keys(BITS).join(', ')}`);
    }
    const shape = v.shape;
    if (!Array.isArray(shape)) throw bad(`shape must be an array of non-negative integers, got ${describe(shape)}`);
    let numel = 1n;
    let nonzero = 1n;
    for (let i = 0; i < shape.length; i++) {
      const s = shape[i];
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) throw bad(`shape[${i}] must be a non-negative integer, got ${describe(s)}`);
      if (!Number.isSafeInteger(s)) throw bad(`shape[${i}] = ${s} is too large`);
      numel *= BigInt(s);
      if (s !== 0) nonzero *= BigInt(s);
      if (nonzero > INT64_MAX) throw bad(`shape ${fmtShape(shape)} has more elements than a tensor can hold (its size overflows 64 bits)`);
    }
    const offs = v.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => typeof o !== 'number' || !Number.isInteger(o) || o < 0)) {
      throw bad(`data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) throw bad(`data_offsets ${JSON.stringify(offs)} are too large`);
    if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
    const bits = numel * BigInt(BITS[st]);
    if (bits % 8n !== 0n) throw bad(`shape ${fmtShape(shape)} of ${st} is not a whole number of bytes`);
    const need = bits / 8n;
    if (BigInt(end - begin) !== need) {
      throw bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape ${fmtShape(shape)} of ${st} needs ${need} bytes`);
    }
    if (end > dataBytes) {
      throw bad(`data_offsets [${begin}, ${end}] run past the end of the data buffer (${dataBytes} bytes): the file is truncated or the offsets are wrong`);
    }
    tensors.push({
      name,
      dtype: FROM_SAFETENSORS[st] ?? null,
      safetensorsDtype: st,
      shape: shape as number[],
      numel: Number(numel),
      nbytes: end - begin,
      dataOffsets: [begin, end],
    });
  }
  // The entries must tile the data buffer: sorted by offsets, each begins where the last ended.
  const sorted = tensors.slice().sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let pos = 0;
  let prev: TensorInfo | null = null;
  for (const t of sorted) {
    const [b, e] = t.dataOffsets;
    if (prev && b < pos) {
      throw fileError(
        where,
        `tensor ${JSON.stringify(t.name)} (data_offsets [${b}, ${e}]) overlaps tensor ${JSON.stringify(prev.name)} (data_offsets [${prev.dataOffsets[0]}, ${prev.dataOffsets[1]}])`,
      );
    }
    if (b > pos) {
      throw fileError(
        where,
        `bytes ${pos}..${b} of the data buffer belong to no tensor (a gap ${prev ? `after ${JSON.stringify(prev.name)}` : 'at the start'}, before ${JSON.stringify(t.name)})`,
      );
    }
    pos = e;
    prev = t;
  }
  if (pos !== dataBytes) {
    throw fileError(
      where,
      `the data buffer is ${dataBytes} bytes but the tensors cover only ${pos}: ${dataBytes - pos} bytes after ${prev ? `the last tensor ${JSON.stringify(prev.name)}` : 'the header'} belong to no tensor`,
    );
  }
  return { tensors, metadata, headerBytes, dataStart, dataBytes };
}

function openFile(fn: string, file: unknown): { fd: number; size: number; where: string } {
  if (typeof file !== 'string' || file.length === 0) argError(fn, 'path', 'a file path (string)', file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new TorchError(`${fn}: cannot open ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new TorchError(`${fn}: ${file} is not a file`, 'ERR_TORCH_IO');
  }
  return { fd, size: st.size, where: `${fn}: ${file}` };
}

function readFully(fd: number, into: Uint8Array, position: number, where: string): void {
  let off = 0;
  while (off < into.byteLength) {
    const n = fs.readSync(fd, into, off, Math.min(into.byteLength - off, 0x40000000), position + off);
    if (n === 0) throw fileError(where, `the file ended early (it changed while being read?)`);
    off += n;
  }
}

function fdSource(fd: number, size: number, where: string): Source {
  return {
    size,
    read(offset, length) {
      const b = Buffer.allocUnsafe(length);
      readFully(fd, b, offset, where);
      return b;
    },
  };
}

function bufferSource(buf: Uint8Array): Source {
  return { size: buf.byteLength, read: (offset, length) => buf.subarray(offset, offset + length) };
}

function supported(h: Header, where: string): void {
  for (const t of h.tensors) {
    if (t.dtype === null) {
      throw fileError(
        where,
        `tensor ${JSON.stringify(t.name)}: dtype ${t.safetensorsDtype} is valid safetensors, but torch-node has no ${t.safetensorsDtype} tensors (supported: ${Object.values(SAFETENSORS_DTYPES).join(', ')})`,
      );
    }
  }
}

/** The header of a safetensors file — names, dtypes, shapes, offsets, metadata — validated, without reading tensor data. */
export function readHeader(path: string): Header {
  const { fd, size, where } = openFile('safetensors.readHeader()', path);
  try {
    return readHeaderFrom(fdSource(fd, size, where), where);
  } finally {
    fs.closeSync(fd);
  }
}

/** `__metadata__` of a safetensors file (null if it has none), like Python's `safe_open(path).metadata()`. */
export function loadMetadata(path: string): Record<string, string> | null {
  const { fd, size, where } = openFile('safetensors.loadMetadata()', path);
  try {
    return readHeaderFrom(fdSource(fd, size, where), where).metadata;
  } finally {
    fs.closeSync(fd);
  }
}

let viewHandle = -1;
let viewDtypeHandle = -1;

/** A 1-D tensor `flat` reshaped to `shape` (a view); frees `flat`. */
function shaped(flat: Id, shape: number[]): Id {
  if (shape.length === 1) return flat;
  if (viewHandle < 0) viewHandle = op('view');
  try {
    return native.callOp(viewHandle, flat, shape) as Id;
  } finally {
    native.free(flat);
  }
}

/** `raw` (1-D uint8) reinterpreted as `code` elements; frees `raw`. */
function reinterpret(raw: Id, code: number): Id {
  if (code === 0) return raw;
  if (viewDtypeHandle < 0) viewDtypeHandle = op('view.dtype');
  try {
    return native.callOp(viewDtypeHandle, raw, code) as Id;
  } finally {
    native.free(raw);
  }
}

function checkOptions(fn: string, options: unknown): { device: string | null; mmap: boolean } {
  if (options === undefined || options === null) return { device: null, mmap: true };
  if (typeof options !== 'object') argError(fn, 'options', 'an object { device, mmap }', options);
  const o = options as LoadOptions;
  const device = o.device === undefined || o.device === null ? null : targetDevice(fn, o.device);
  if (o.mmap !== undefined && typeof o.mmap !== 'boolean') argError(fn, 'mmap', 'a boolean', o.mmap);
  return { device: device === 'cpu' ? null : device, mmap: o.mmap ?? true };
}

/**
 * Makes every tensor of a validated header with `make(info) -> 1-D id`, shapes and moves them, and
 * returns the Map — or, if anything fails, frees what it made and rethrows.
 */
function build(h: Header, device: string | null, make: (t: TensorInfo, code: number) => Id): Map<string, Tensor> {
  const ids: Id[] = [];
  try {
    for (const t of h.tensors) {
      let id = shaped(make(t, dtypeCode(t.dtype!)), t.shape);
      if (device !== null) {
        const moved = native.to(id, null, device, false);
        native.free(id);
        id = moved;
      }
      ids.push(id);
    }
  } catch (e) {
    for (const id of ids) native.free(id);
    throw e;
  }
  const out = new Map<string, Tensor>();
  h.tensors.forEach((t, i) => out.set(t.name, wrap(ids[i])));
  return out;
}

/**
 * Loads a safetensors file: a Map from name to tensor, in the header's order, like Python's
 * `safetensors.torch.load_file(path, device)`. With `mmap` (default) CPU tensors view the mapped file
 * without copying (copy-on-write); tensors whose offset in the file is not aligned for their dtype are
 * copied. With `mmap: false` every tensor is read into its own memory.
 */
export function loadFile(path: string, options?: LoadOptions): Map<string, Tensor> {
  const fn = 'safetensors.loadFile()';
  const { device, mmap } = checkOptions(fn, options);
  const { fd, size, where } = openFile(fn, path);
  let h: Header;
  try {
    h = readHeaderFrom(fdSource(fd, size, where), where);
    supported(h, where);
  } finally {
    fs.closeSync(fd);
  }
  const [handle, mappedSize] = native.mmapOpen(path);
  try {
    if (mappedSize !== size) throw fileError(where, `the file changed size while being loaded (${size} -> ${mappedSize} bytes)`);
    return build(h, device, (t, code) => {
      const at = h.dataStart + t.dataOffsets[0];
      if (t.numel === 0) return native.fromBytes(new Uint8Array(0), code, 0);
      // Zero-copy; with a device, build() copies it there and frees this view. Without mmap, one copy
      // straight out of the mapping (reading into a buffer first would copy twice).
      if (at % itemSize(t.dtype!) === 0) {
        const view = native.fromMapped(handle, at, code, t.numel);
        if (mmap || device !== null) return view;
        try {
          return native.to(view, null, null, true);
        } finally {
          native.free(view);
        }
      }
      // Unaligned for its dtype: copy the bytes, then view them as the dtype.
      const raw = native.fromMapped(handle, at, 0, t.nbytes);
      try {
        return reinterpret(native.to(raw, null, null, true), code);
      } finally {
        native.free(raw);
      }
    });
  } finally {
    native.mmapClose(handle);
  }
}

/** Loads tensors from safetensors bytes in memory (Python's `safetensors.torch.load(data)`); the tensors are copies. */
export function load(data: Uint8Array, options?: { device?: string }): Map<string, Tensor> {
  const fn = 'safetensors.load()';
  if (!(data instanceof Uint8Array)) argError(fn, 'data', 'a Uint8Array or Buffer', data);
  const { device } = checkOptions(fn, options);
  const where = `${fn}: the buffer`;
  const h = readHeaderFrom(bufferSource(data), where);
  supported(h, where);
  return build(h, device, (t, code) => native.fromBytes(data.subarray(h.dataStart + t.dataOffsets[0], h.dataStart + t.dataOffsets[1]), code, t.numel));
}

/** Parses the header of safetensors bytes in memory (validated; tensor data untouched). */
export function readHeaderFromBuffer(data: Uint8Array): Header {
  if (!(data instanceof Uint8Array)) argError('safetensors.readHeaderFromBuffer()', 'data', 'a Uint8Array or Buffer', data);
  return readHeaderFrom(bufferSource(data), 'safetensors.readHeaderFromBuffer(): the buffer');
}

// ---- writing ----------------------------------------------------------------------------------

interface Planned {
  name: string;
  id: Id;
  dtype: DType;
  shape: number[];
  nbytes: number;
  begin: number;
}

const FLAG_CONTIGUOUS = 1;
let cloneHandle = -1;
let contiguousHandle = -1;

/**
 * A tensor's elements as contiguous little-endian bytes: a view of its own memory where the tensor
 * is a whole contiguous CPU storage (the common case: written straight from tensor memory, as
 * torch.save does), else a copy. Callers consume it at once (write or copy it), before the tensor
 * can change.
 */
function tensorBytes(id: Id, nbytes: number): Uint8Array {
  const [, storageBytes, storageOffset] = native.storageInfo(id);
  const contiguous = (native.flags(id) & FLAG_CONTIGUOUS) !== 0;
  if (contiguous && storageOffset === 0 && storageBytes === nbytes) return new Uint8Array(native.storageView(id) ?? native.storageBytes(id));
  // A view (offset, part of a bigger storage, or strided): copy just its elements first.
  if (cloneHandle < 0) {
    cloneHandle = op('clone');
    contiguousHandle = op('contiguous');
  }
  const copy = native.withGradMode(false, () => native.callOp(contiguous ? cloneHandle : contiguousHandle, id) as Id);
  try {
    const out = new Uint8Array(native.storageBytes(copy));
    if (out.byteLength !== nbytes) throw new TorchError(`safetensors: internal error: a contiguous copy has ${out.byteLength} bytes, expected ${nbytes}`);
    return out;
  } finally {
    native.free(copy);
  }
}

function entriesOf(fn: string, tensors: unknown): [unknown, unknown][] {
  if (tensors instanceof Map) return [...tensors.entries()];
  if (isObject(tensors) && !(tensors instanceof Tensor)) return Object.entries(tensors);
  return argError(fn, 'tensors', 'a Map or an object of name -> Tensor', tensors);
}

/** Validates everything and computes the layout; nothing is read from the tensors' data yet. */
function plan(fn: string, tensors: unknown, metadata: unknown): { header: Uint8Array; planned: Planned[]; dataBytes: number } {
  const entries = entriesOf(fn, tensors);
  const planned: Planned[] = [];
  for (const [name, t] of entries) {
    if (typeof name !== 'string') argError(fn, 'tensors', 'keyed by strings', name);
    if (name === '__metadata__')
      throw new TorchError(`${fn}: '__metadata__' is reserved by the format and cannot name a tensor; pass metadata as the third argument`, 'ERR_TORCH_ARG');
    const id = idOf(t, fn, `tensors[${JSON.stringify(name)}]`);
    const [shape, code] = native.meta(id);
    const dtype = dtypeFromCode(code);
    const numel = shape.reduce((a, b) => a * b, 1);
    planned.push({ name, id, dtype, shape, nbytes: numel * itemSize(dtype), begin: 0 });
  }
  const meta: [string, string][] = [];
  if (metadata !== undefined && metadata !== null) {
    const m =
      metadata instanceof Map
        ? [...metadata.entries()]
        : isObject(metadata)
          ? Object.entries(metadata)
          : argError(fn, 'metadata', 'a Map or an object of string -> string', metadata);
    for (const [k, v] of m) {
      if (typeof k !== 'string' || typeof v !== 'string') {
        throw new TorchError(
          `${fn}: metadata must map strings to strings (the format allows nothing else), got ${describe(k)} -> ${describe(v)}; convert values with String() or JSON.stringify()`,
          'ERR_TORCH_ARG',
        );
      }
      meta.push([k, v]);
    }
  }
  // Data: largest element size first (stable), so every tensor is aligned when the data buffer is.
  const byAlign = planned.slice().sort((a, b) => itemSize(b.dtype) - itemSize(a.dtype));
  let pos = 0;
  for (const p of byAlign) {
    p.begin = pos;
    pos += p.nbytes;
  }
  // Header: built by hand so the keys keep their order (JSON.stringify puts integer-like keys first).
  const parts: string[] = [];
  if (meta.length) parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  for (const p of planned) {
    parts.push(
      `${JSON.stringify(p.name)}:{"dtype":"${SAFETENSORS_DTYPES[p.dtype]}","shape":[${p.shape.join(',')}],"data_offsets":[${p.begin},${p.begin + p.nbytes}]}`,
    );
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > MAX_HEADER_BYTES)
    throw new TorchError(`${fn}: the header would be ${padded} bytes, more than the format's 100 MB limit; save fewer tensors per file`, 'ERR_TORCH_ARG');
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, planned: byAlign, dataBytes: pos };
}

function* chunks(p: { header: Uint8Array; planned: Planned[] }): Generator<Uint8Array> {
  yield p.header;
  for (const t of p.planned) if (t.nbytes > 0) yield tensorBytes(t.id, t.nbytes);
}

/**
 * Writes tensors (a Map or an object, name -> Tensor, on any device) to a safetensors file, with
 * optional string metadata, like Python's `safetensors.torch.save_file`. The write is atomic: a
 * crash leaves the previous file intact.
 */
export function saveFile(tensors: TensorDict, path: string, metadata?: Metadata | null): void {
  const fn = 'safetensors.saveFile()';
  if (typeof path !== 'string' || path.length === 0) argError(fn, 'path', 'a file path (string)', path);
  const p = plan(fn, tensors, metadata);
  writeFileAtomic(path, chunks(p));
}

/** The safetensors bytes of tensors, in memory (Python's `safetensors.torch.save`). */
export function save(tensors: TensorDict, metadata?: Metadata | null): Uint8Array {
  const fn = 'safetensors.save()';
  const p = plan(fn, tensors, metadata);
  const total = p.header.byteLength + p.dataBytes;
  if (total > bufferConstants.MAX_LENGTH) throw new TorchError(`${fn}: ${total} bytes do not fit in one buffer; use saveFile()`, 'ERR_TORCH_ARG');
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks(p)) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}
