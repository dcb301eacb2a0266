/**
 * torch.save / torch.load for PyTorch's zip format (what torch.save has written since 1.6), in
 * TypeScript over zip.ts and pickle.ts. Nothing from a file is ever executed.
 *
 * load(path, { mapLocation, mmap }) runs in three phases, so a bad file fails before anything is
 * allocated and a failed load leaves nothing behind:
 *   1. plan: read the zip directory and data.pkl, unpickle (restricted) to TensorRef/StorageRef
 *      descriptions, and check every storage against its record (dtype x numel = record bytes) and
 *      every tensor's size/stride/offset against its storage; resolve mapLocation per storage;
 *   2. storages: one 1-D tensor per storage record (a copy, or with mmap a zero-copy view of the
 *      mapped file), moved to its device;
 *   3. tensors: each tensor is `empty(0).set_(storage, offset, size, stride)` as PyTorch's
 *      _rebuild_tensor does, so views that shared a storage in Python share it here and
 *      non-contiguous tensors keep their strides; then the descriptions in the result are replaced.
 * The parsers are generators yielding read requests; load drives them with fs.readSync (or the
 * mapping), loadAsync with fs.promises (file I/O off the event loop; tensors are made on the main
 * thread between reads).
 *
 * Conversions and the marks that make a round trip exact (pickle.ts holds the marks):
 *   - dict -> Map (int keys stay numbers, str keys strings); OrderedDict -> Map remembered as an
 *     OrderedDict, with its `_metadata` attribute as a non-enumerable `_metadata` property.
 *     Saving: a Map remembered as OrderedDict, or one with a `_metadata` property, is written as
 *     an OrderedDict (with `_metadata` set by BUILD); any other Map as a plain dict.
 *   - tuple -> Array remembered as a tuple; list -> Array. Saving: remembered tuples (and arrays
 *     marked with `tuple()`) are written as tuples, other arrays as lists.
 *   - int -> number, or BigInt beyond +-2^53; float -> number, and when the float has an integral
 *     value (lr=1.0) its container remembers that key, so it is saved as a float again. Saving:
 *     BigInt -> int; an integral JS number (|n| <= 2^53, not -0) -> int unless its key is marked
 *     (`markFloat()`); any other number -> float.
 *   - Parameter -> Tensor with requiresGrad as saved, remembered as a Parameter; saving writes
 *     remembered Parameters and torch-node nn.Parameter objects as Parameters, others as tensors.
 *   - bool, str, None <-> boolean, string, null; bytes <-> Uint8Array; set <-> Set;
 *     torch.device <-> Device; torch.Size -> tuple; a torch dtype -> its dtype string (saved back
 *     as a string: JS strings carry no mark); plain objects save as dicts with string keys.
 *   - A bare storage in the file loads as a 1-D tensor over it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { native, type Id } from '../binding';
import { Device, targetDevice } from '../device';
import { dtypeCode, dtypeFromCode, isFloatingPoint, itemSize, type DType } from '../dtype';
import { TorchError, argError, checkOptions, describe } from '../errors';
import { op } from '../ops/handles';
import { Tensor, wrap } from '../tensor';
import { writeFileAtomic, writeFileAtomicAsync, type AtomicWriteOptions } from './atomic';
import {
  STORAGE_NAMES,
  StorageRef,
  TensorRef,
  forEachSlot,
  markFloatKey,
  pickle,
  pyOrderedDicts,
  pyFloatKeys,
  pyParameters,
  pyTuples,
  storageTypeOf,
  unpickle,
  type TensorReduce,
} from './pickle';
import {
  MAX_BUFFER_BYTES,
  archiveNameFor,
  checkCrc32,
  checkEntrySize,
  decodeEntry,
  readDirectory,
  readEntry,
  runSync,
  sniffNonZip,
  zipChunks,
  type ReadRequest,
  type Reader,
  type ZipEntry,
  type ZipRecord,
} from './zip';

export type DeviceSpec = string | Device;
/** PyTorch's map_location: a device for every storage, a {saved: target} table, or a function of the saved location. */
export type MapLocation =
  | DeviceSpec
  | Record<string, DeviceSpec>
  | Map<string, DeviceSpec>
  | ((location: string) => DeviceSpec | null | undefined)
  | ((storage: MappedStorage, location: string) => MappedStorage | DeviceSpec | null | undefined);

/** The options of torch.load: PyTorch's `map_location=` and `mmap=`. */
export interface LoadOptions {
  /** Where each storage goes (PyTorch's `map_location`); default: where it was saved. */
  mapLocation?: MapLocation;
  /** Map the file and make CPU tensors over it without copying (copy-on-write pages). */
  mmap?: boolean;
}

/** Records above this size are not read through a JS buffer but copied from a temporary mapping. */
const HUGE_RECORD = 1 << 30;

// ---- public helpers for the marks ---------------------------------------------------------------
/** Marks an array to be saved as a Python tuple; returns it. */
export function tuple<T extends unknown[]>(items: T): T {
  pyTuples.add(items);
  return items;
}
/** Whether an array was loaded from (or marked as) a Python tuple. */
export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && pyTuples.has(v);
}
/** Marks a Map to be saved as collections.OrderedDict; returns it. */
export function orderedDict<M extends Map<unknown, unknown>>(m: M): M {
  pyOrderedDicts.add(m);
  return m;
}
/** Whether a Map was loaded from (or marked as) an OrderedDict. */
export function isOrderedDict(v: unknown): boolean {
  return v instanceof Map && pyOrderedDicts.has(v);
}
/** Marks `container[key]` (a Map key, array index or object key) as a Python float even when its value is integral. */
export function markFloat(container: object, key: unknown): void {
  markFloatKey(container, key);
}
/** Whether `container[key]` holds a Python float (loaded as one, or marked with markFloat()). */
export function isMarkedFloat(container: object, key: unknown): boolean {
  return pyFloatKeys.get(container)?.has(key) ?? false;
}
/** Whether a loaded tensor was a torch.nn.Parameter in the file. */
export function isParameter(t: unknown): boolean {
  return t instanceof Tensor && pyParameters.has(t);
}

// ---- loading: plan ----------------------------------------------------------------------------------
interface PlannedStorage {
  ref: StorageRef;
  entry: ZipEntry;
  device: string;
}

interface Plan {
  root: unknown;
  storages: PlannedStorage[];
  byRef: Map<StorageRef, PlannedStorage>;
}

const ascii = new TextDecoder('latin1');

function loadError(where: string, msg: string, code = 'ERR_TORCH_LOAD'): TorchError {
  return new TorchError(`torch.load: ${where}: ${msg}`, code);
}

function legacyError(where: string): TorchError {
  const f = where.replace(/'/g, "\\'");
  return loadError(
    where,
    "this is PyTorch's legacy serialization format (written before PyTorch 1.6, or with _use_new_zipfile_serialization=False), " +
      'which torch-node does not read. Convert it once with a recent PyTorch, which re-saves it in the zip format: ' +
      `python -c "import torch; torch.save(torch.load('${f}', weights_only=True), '${f}')"`,
    'ERR_TORCH_LEGACY_FORMAT',
  );
}

/** The `storage` argument of a two-argument mapLocation function: its methods say where to put it. */
export class MappedStorage {
  constructor(
    /** The device the storage will be loaded to. */
    readonly device = 'cpu',
  ) {}
  /** The storage on the CPU (Python's `storage.cpu()`). */
  cpu(): MappedStorage {
    return new MappedStorage('cpu');
  }
  /** The storage on `'cuda'` or `'cuda:<index>'` (Python's `storage.cuda(i)`). */
  cuda(index?: number): MappedStorage {
    return new MappedStorage(index === undefined ? 'cuda' : `cuda:${index}`);
  }
  /** The storage on `device` (Python's `storage.to(device)`). */
  to(device: DeviceSpec): MappedStorage {
    return new MappedStorage(String(device));
  }
}

function resolveLocation(location: string, mapLocation: MapLocation | undefined): string {
  let target: unknown = location;
  if (mapLocation === undefined || mapLocation === null) target = location;
  else if (typeof mapLocation === 'string' || mapLocation instanceof Device) target = mapLocation;
  else if (mapLocation instanceof Map) target = mapLocation.has(location) ? mapLocation.get(location) : location;
  else if (typeof mapLocation === 'function' && mapLocation.length >= 2) {
    // Python's map_location(storage, location): the storage as read (on the CPU) kept -> the CPU;
    // storage.cuda(i) / .to(d) -> there; None -> where it was saved.
    const storage = new MappedStorage();
    const r = (mapLocation as unknown as (s: MappedStorage, loc: string) => unknown)(storage, location);
    target = r === storage ? 'cpu' : r instanceof MappedStorage ? r.device : r === undefined || r === null ? location : r;
  } else if (typeof mapLocation === 'function') {
    const r = (mapLocation as (location: string) => unknown)(location);
    target = r === undefined || r === null ? location : r;
  } else if (typeof mapLocation === 'object') {
    target = Object.hasOwn(mapLocation, location) ? (mapLocation as Record<string, DeviceSpec>)[location] : location;
  }
  const spec = target instanceof Device ? target.toString() : target;
  if (typeof spec !== 'string' || !/^(cpu|cuda)(:\d+)?$/.test(spec)) {
    if (mapLocation === undefined || mapLocation === null) {
      throw new TorchError(
        `torch.load(): the file holds a storage saved on ${JSON.stringify(location)}, a device torch-node does not have; ` +
          "pass mapLocation to load it elsewhere, e.g. { mapLocation: 'cpu' }",
        'ERR_TORCH_UNSUPPORTED',
      );
    }
    throw new TorchError(
      `torch.load(): a storage saved on ${JSON.stringify(location)} maps to ${describe(target)}, which is not a device torch-node can load to ` +
        "('cpu', 'cuda' or 'cuda:N')",
      'ERR_TORCH_ARG',
    );
  }
  let dev: string;
  try {
    dev = targetDevice('torch.load()', spec);
  } catch (e) {
    if (e instanceof TorchError && e.code === 'ERR_TORCH_NO_CUDA') {
      if (mapLocation === undefined || mapLocation === null) {
        e.message += `. The file holds tensors saved on '${location}'; pass { mapLocation: 'cpu' } to load them on the CPU`;
      } else if (spec === location) {
        e.message += `. The file holds tensors saved on '${location}', which the mapLocation given does not map; map it, e.g. { mapLocation: { '${location}': 'cpu' } }, or pass { mapLocation: 'cpu' }`;
      }
    }
    throw e;
  }
  const m = /^cuda:(\d+)$/.exec(dev);
  if (m && Number(m[1]) >= native.cuda.deviceCount()) {
    throw new TorchError(
      `torch.load(): a storage maps to ${dev}, but this machine has ${native.cuda.deviceCount()} CUDA device(s); pass mapLocation (e.g. { mapLocation: 'cuda:0' })`,
      'ERR_TORCH_ARG',
    );
  }
  return dev;
}

function* plan(fileSize: number, where: string, options: LoadOptions): Reader<Plan> {
  const head: Uint8Array = yield { offset: 0, length: Math.min(fileSize, 512) };
  const isZip = head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b;
  if (!isZip) {
    const kind = sniffNonZip(head);
    if (kind === 'legacy') return yield* planLegacy(fileSize, where, options);
    if (kind === 'legacy-tar') throw legacyError(where);
    if (kind === 'preview')
      throw loadError(where, "this is the archive format of PyTorch's 1.0 preview release, which neither PyTorch nor torch-node reads any more");
  }
  const dir = yield* readDirectory(fileSize, where);
  const first = dir.entries[0].name;
  const slash = first.indexOf('/');
  if (slash <= 0) throw loadError(where, `the first file in the archive, '${first}', is not in a folder (not a torch.save file)`);
  const prefix = first.slice(0, slash + 1);
  const rec = (name: string) => dir.byName.get(prefix + name);
  if (rec('constants.pkl') || rec('code/')) {
    throw loadError(where, 'this is a TorchScript archive (torch.jit.save); load it with torch.jit.load');
  }
  const pkl = rec('data.pkl');
  if (!pkl) throw loadError(where, `the archive has no '${prefix}data.pkl' (not a torch.save file)`);
  const versionEntry = rec('.data/version') ?? rec('version');
  if (!versionEntry) throw loadError(where, `the archive has no '${prefix}version' record`);
  if (versionEntry.size > 64) throw loadError(where, `the version record is ${versionEntry.size} bytes`);
  const versionText = ascii.decode(yield* readEntry(versionEntry, where));
  const vm = /^\s*(\d+)\s*$/.exec(versionText);
  if (!vm) throw loadError(where, `the version record holds ${JSON.stringify(versionText.slice(0, 20))}, not a number`);
  const version = Number(vm[1]);
  if (version < 1 || version > 10) throw loadError(where, `file format version ${version} is not supported (PyTorch 2.x writes 1 to 10)`);
  const bo = rec('byteorder');
  if (bo) {
    if (bo.size > 16) throw loadError(where, `the byteorder record is ${bo.size} bytes`);
    const order = ascii.decode(yield* readEntry(bo, where));
    if (order === 'big') {
      throw loadError(
        where,
        "the file was written on a big-endian machine (byteorder 'big'); torch-node reads little-endian files only. Re-save it on a little-endian machine",
        'ERR_TORCH_UNSUPPORTED',
      );
    }
    if (order !== 'little') throw loadError(where, `unknown byteorder ${JSON.stringify(order.slice(0, 20))} (expected 'little' or 'big')`);
  }
  const pklWhere = `${where} (${pkl.name})`;
  const pklBytes = yield* readEntry(pkl, where);

  const byKey = new Map<string, StorageRef>();
  const storages: PlannedStorage[] = [];
  const byRef = new Map<StorageRef, PlannedStorage>();
  const persistentLoad = (pid: unknown[]): StorageRef => {
    const bad = (m: string) => loadError(pklWhere, `bad storage reference: ${m}`);
    if (pid.length !== 5) throw bad(`a persistent id of ${pid.length} items (expected ('storage', type, key, location, numel))`);
    const tag = pid[0] instanceof Uint8Array ? ascii.decode(pid[0]) : pid[0];
    if (tag !== 'storage') throw bad(`persistent ids of kind ${describe(tag)} are not supported (only 'storage')`);
    const type = storageTypeOf(pid[1]);
    if (!type) throw bad(`the storage type is ${describe(pid[1])}`);
    const [, , key, location, numel] = pid;
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw bad(`the storage key is ${describe(key)}`);
    const loc = location instanceof Uint8Array ? ascii.decode(location) : location;
    if (typeof loc !== 'string' || loc.length > 64) throw bad(`the storage location is ${describe(location)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
      throw bad(`storage '${key}' declares ${typeof numel === 'bigint' ? String(numel) : describe(numel)} elements`);
    const known = byKey.get(key);
    if (known && known.dtype === type.dtype) return known;
    if (known && !(known.numel === 0 && numel === 0)) throw bad(`storage '${key}' is used as both ${known.dtype} and ${type.dtype}`);
    const entry = rec(`data/${key}`);
    if (!entry) throw bad(`storage '${key}' has no record '${prefix}data/${key}' in the archive`);
    const nbytes = numel * itemSize(type.dtype);
    if (entry.size !== nbytes) {
      throw bad(`storage '${key}' declares ${numel} ${type.dtype} elements (${nbytes} bytes), but its record '${entry.name}' holds ${entry.size} bytes`);
    }
    const ref = new StorageRef(key, type.dtype, numel, loc, entry);
    const device = resolveLocation(loc, options.mapLocation);
    const ps: PlannedStorage = { ref, entry, device };
    if (!known) byKey.set(key, ref); // an empty record may also be referenced with another dtype: its own empty storage
    storages.push(ps);
    byRef.set(ref, ps);
    return ref;
  };
  const onTensor = (t: TensorRef) => {
    if (t.requiresGrad && !isFloatingPoint(t.storage.dtype)) {
      throw loadError(pklWhere, `a tensor of dtype ${t.storage.dtype} is marked requires_grad, which only floating-point tensors can be`);
    }
  };
  const root = unpickle(pklBytes, { where: pklWhere, persistentLoad, onTensor });
  return { root, storages, byRef };
}

// ---- loading: the legacy format -------------------------------------------------------------------
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/**
 * PyTorch's legacy format (torch.save before 1.6, or _use_new_zipfile_serialization=False): five
 * pickles in a row — the magic number, the protocol version (1001), sys_info, the object (storages as
 * persistent ids ('storage', type, key, location, numel, view_metadata)), the list of storage keys —
 * then each storage in that order as an int64 element count and its raw little-endian bytes.
 * Read with the same restricted unpickler as the zip format.
 */
function* planLegacy(fileSize: number, where: string, options: LoadOptions): Reader<Plan> {
  let chunk = Math.min(fileSize, 1 << 20);
  for (;;) {
    const head: Uint8Array = yield { offset: 0, length: chunk };
    try {
      return planLegacyFrom(head, fileSize, where, options);
    } catch (e) {
      // the pickles run past what was read: read more (the storages after them are not read here)
      if (!(e instanceof LegacyShort) || chunk >= fileSize)
        throw e instanceof LegacyShort ? loadError(where, 'the file ends inside its pickles (truncated)') : e;
      chunk = Math.min(fileSize, chunk * 4);
    }
  }
}

class LegacyShort extends Error {}

function planLegacyFrom(head: Uint8Array, fileSize: number, where: string, options: LoadOptions): Plan {
  let pos = 0;
  const refs: { ref: StorageRef; key: string }[] = [];
  const byKey = new Map<string, StorageRef>();
  const noStorage = (): StorageRef => {
    throw loadError(where, 'a storage in the header pickles of a legacy file');
  };
  const next = (what: string, persistentLoad: (pid: unknown[]) => StorageRef = noStorage, onTensor?: (t: TensorRef) => void): unknown => {
    let end = -1;
    try {
      const v = unpickle(head, { where: `${where} (legacy ${what})`, start: pos, persistentLoad, onTensor, onEnd: (e) => (end = e) });
      pos = end;
      return v;
    } catch (e) {
      if (e instanceof TorchError && /ends early/.test(e.message) && head.length < fileSize) throw new LegacyShort();
      throw e;
    }
  };
  const magic = next('magic number');
  if (magic !== LEGACY_MAGIC && !(typeof magic === 'bigint' && magic === LEGACY_MAGIC)) {
    throw loadError(where, `a pickle that does not start with PyTorch's magic number (found ${describe(magic)}): not a torch.save file`);
  }
  const protocol = next('protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw loadError(where, `legacy protocol version ${describe(protocol)} (expected ${LEGACY_PROTOCOL})`);
  const sysInfo = next('sys_info');
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) {
    throw loadError(where, 'the file was written on a big-endian machine; torch-node reads little-endian files only', 'ERR_TORCH_UNSUPPORTED');
  }
  const pklWhere = `${where} (legacy object pickle)`;
  const persistentLoad = (pid: unknown[]): StorageRef => {
    const bad = (m: string) => loadError(pklWhere, `bad storage reference: ${m}`);
    if (pid.length !== 6) throw bad(`a persistent id of ${pid.length} items (expected ('storage', type, key, location, numel, view_metadata))`);
    const tag = pid[0] instanceof Uint8Array ? ascii.decode(pid[0]) : pid[0];
    if (tag !== 'storage') throw bad(`persistent ids of kind ${describe(tag)} are not supported (only 'storage')`);
    const type = storageTypeOf(pid[1]);
    if (!type) throw bad(`the storage type is ${describe(pid[1])}`);
    const [, , key, location, numel, view] = pid;
    if (view !== null && view !== undefined) throw bad('storage views (view_metadata) are not supported; re-save the file with a recent PyTorch');
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw bad(`the storage key is ${describe(key)}`);
    const loc = location instanceof Uint8Array ? ascii.decode(location) : location;
    if (typeof loc !== 'string' || loc.length > 64) throw bad(`the storage location is ${describe(location)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw bad(`storage '${key}' declares ${describe(numel)} elements`);
    const known = byKey.get(key);
    if (known) {
      if (known.dtype !== type.dtype || known.numel !== numel)
        throw bad(`storage '${key}' is used as both ${known.dtype}[${known.numel}] and ${type.dtype}[${numel}]`);
      return known;
    }
    const ref = new StorageRef(key, type.dtype, numel, loc, null);
    byKey.set(key, ref);
    refs.push({ ref, key });
    return ref;
  };
  const onTensor = (t: TensorRef) => {
    if (t.requiresGrad && !isFloatingPoint(t.storage.dtype)) {
      throw loadError(pklWhere, `a tensor of dtype ${t.storage.dtype} is marked requires_grad, which only floating-point tensors can be`);
    }
  };
  const root = next('object', persistentLoad, onTensor);
  const keys = next('storage keys');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw loadError(where, `the storage key list is ${describe(keys)}`);
  if (new Set(keys).size !== keys.length || keys.length !== byKey.size || !keys.every((k) => byKey.has(k))) {
    throw loadError(where, `the storage key list (${keys.length} keys) does not match the ${byKey.size} storages the object uses`);
  }
  // Storage records: int64 element count, then the bytes; their offsets follow from the sizes.
  const storages: PlannedStorage[] = [];
  const byRef = new Map<StorageRef, PlannedStorage>();
  let offset = pos;
  for (const key of keys) {
    const ref = byKey.get(key)!;
    const nbytes = ref.numel * itemSize(ref.dtype);
    if (offset + 8 + nbytes > fileSize)
      throw loadError(
        where,
        `storage '${key}' (${nbytes} bytes at byte ${offset + 8}) runs past the end of the file (${fileSize} bytes): the file is truncated`,
      );
    if (offset + 8 <= head.length) {
      const count = new DataView(head.buffer, head.byteOffset + offset, 8).getBigInt64(0, true);
      if (count !== BigInt(ref.numel)) throw loadError(where, `storage '${key}' is declared with ${ref.numel} elements but its record says ${count}`);
    }
    const entry = {
      name: `storage '${key}'`,
      method: 0,
      crc32: 0,
      compressedSize: nbytes,
      size: nbytes,
      localHeaderOffset: offset,
      dataOffset: offset + 8,
    } as ZipEntry;
    ref.entry = entry;
    const ps: PlannedStorage = { ref, entry, device: resolveLocation(ref.location, options.mapLocation) };
    storages.push(ps);
    byRef.set(ref, ps);
    offset += 8 + nbytes;
  }
  return { root, storages, byRef };
}

// ---- loading: storages and tensors ------------------------------------------------------------------
/** A read the consumer does not keep past its next request (the driver may reuse one buffer). */
interface ScratchRequest extends ReadRequest {
  scratch: true;
}

/**
 * A stored record to read natively, straight into a new tensor (offset/length: the record's data):
 * the driver answers with [tensor id, CRC-32 of the data (0 unless wantCrc)] instead of bytes.
 */
interface StoredRequest extends ReadRequest {
  stored: { code: number; numel: number; wantCrc: boolean };
}
type StoredAnswer = [Id, number];

/** The native reader's I/O errors name the file, as the buffered path's do. */
function storedError(file: string, err: unknown): unknown {
  return err instanceof TorchError && err.code === 'ERR_TORCH_IO' ? new TorchError(`torch.load: ${file}: ${err.message}`, 'ERR_TORCH_IO') : err;
}

interface Materialize {
  where: string;
  mmapHandle: number | null;
  /** The file, for huge records copied through a temporary mapping (null for in-memory input). */
  file: string | null;
  /** The driver answers StoredRequests (reading from a file descriptor); else records come as bytes. */
  nativeReads: boolean;
  fileSize: number;
}

function* materialize(p: Plan, ctx: Materialize): Generator<ReadRequest | ScratchRequest, unknown, Uint8Array> {
  const bases = new Map<StorageRef, Id>();
  const made: Tensor[] = [];
  const byTensorRef = new Map<TensorRef, Tensor>();
  try {
    const baseOf = function* (ps: PlannedStorage): Generator<ReadRequest | ScratchRequest, Id, Uint8Array> {
      const { ref, entry: e, device } = ps;
      const known = bases.get(ref);
      if (known !== undefined) return known;
      const code = dtypeCode(ref.dtype);
      let id: Id;
      if (ref.numel === 0) {
        id = native.fromBytes(new Uint8Array(0), code, 0);
      } else if (ctx.mmapHandle !== null && e.method === 0 && e.dataOffset % itemSize(ref.dtype) === 0) {
        id = native.fromMapped(ctx.mmapHandle, e.dataOffset, code, ref.numel);
      } else if (ctx.nativeReads && e.method === 0) {
        // Straight from the file into the tensor's memory, checksummed chunk by chunk as it arrives.
        const wantCrc = e.crc32 !== 0; // 0: the writer skipped it (torch.serialization.set_crc32_options)
        const req: StoredRequest = { offset: e.dataOffset, length: e.compressedSize, stored: { code, numel: ref.numel, wantCrc } };
        let crc: number;
        [id, crc] = (yield req) as unknown as StoredAnswer;
        if (wantCrc && crc !== e.crc32) {
          native.free(id);
          checkCrc32(e, crc, ctx.where);
        }
      } else if (ctx.file !== null && e.method === 0 && e.size > HUGE_RECORD && e.dataOffset % itemSize(ref.dtype) === 0) {
        // Too big for one JS buffer: copy it out of a temporary mapping.
        const [h, mappedSize] = native.mmapOpen(ctx.file);
        try {
          if (mappedSize !== ctx.fileSize) {
            throw new TorchError(`torch.load: ${ctx.where} changed while it was being loaded (${ctx.fileSize} bytes, now ${mappedSize})`, 'ERR_TORCH_IO');
          }
          const mapped = native.fromMapped(h, e.dataOffset, code, ref.numel);
          try {
            id = native.callOp(op('clone'), mapped, null) as Id;
          } finally {
            native.free(mapped);
          }
        } finally {
          native.mmapClose(h);
        }
      } else {
        checkEntrySize(e, ctx.where, MAX_BUFFER_BYTES);
        const raw: Uint8Array = yield { offset: e.dataOffset, length: e.compressedSize, scratch: true };
        const bytes = decodeEntry(e, raw, ctx.where, true);
        id = native.fromBytes(bytes, code, ref.numel);
      }
      if (device !== 'cpu') {
        try {
          const moved = native.to(id, null, device, false);
          native.free(id);
          id = moved;
        } catch (err) {
          native.free(id);
          throw err;
        }
      }
      bases.set(ref, id);
      return id;
    };
    for (const ps of p.storages) yield* baseOf(ps);
    const tensorFor = function* (t: TensorRef): Generator<ReadRequest | ScratchRequest, Tensor, Uint8Array> {
      const known = byTensorRef.get(t);
      if (known) return known;
      const ps = p.byRef.get(t.storage);
      if (!ps) throw new TorchError(`torch.load: ${ctx.where}: internal error: storage '${t.storage.key}' was not planned`);
      const base = yield* baseOf(ps);
      const tensor = wrap(native.onStorage(base, t.offset, t.size, t.stride));
      made.push(tensor);
      if (t.requiresGrad) native.setRequiresGrad(tensor._h, true);
      if (t.parameter) pyParameters.add(tensor);
      byTensorRef.set(t, tensor);
      return tensor;
    };
    // Tensors in the order they appear (the walk below only swaps in what exists by then).
    const pending: TensorRef[] = [];
    const bare: StorageRef[] = [];
    forEachSlot(p.root, (v) => {
      if (v instanceof TensorRef) pending.push(v);
      else if (v instanceof StorageRef) bare.push(v);
      return v;
    });
    for (const t of pending) yield* tensorFor(t);
    const bareTensors = new Map<StorageRef, Tensor>();
    for (const s of bare) {
      if (!bareTensors.has(s)) bareTensors.set(s, yield* tensorFor(new TensorRef(s, 0, [s.numel], [1], false, false)));
    }
    return forEachSlot(p.root, (v) => (v instanceof TensorRef ? byTensorRef.get(v) : v instanceof StorageRef ? bareTensors.get(v) : v));
  } catch (err) {
    for (const t of made) t.dispose();
    throw err;
  } finally {
    for (const id of bases.values()) native.free(id);
  }
}

// ---- drivers ------------------------------------------------------------------------------------

async function runAsync<T>(gen: Generator<ReadRequest, T, Uint8Array>, read: (r: ReadRequest) => Promise<Uint8Array>): Promise<T> {
  let step = gen.next(undefined as unknown as Uint8Array);
  while (!step.done) {
    let bytes: Uint8Array;
    try {
      bytes = await read(step.value);
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(bytes);
  }
  return step.value;
}

function ioError(file: string, e: unknown): TorchError {
  if (e instanceof TorchError) return e;
  return new TorchError(`torch.load: cannot read ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');
}

/** Reads from a file descriptor; scratch requests share one growing buffer. */
function fdReader(fd: number, file: string): (r: ReadRequest) => Uint8Array {
  let scratch: Buffer | null = null;
  return (r) => {
    const stored = (r as StoredRequest).stored;
    if (stored) {
      try {
        return native.readStored(fd, r.offset, r.length, stored.code, stored.numel, stored.wantCrc) as unknown as Uint8Array;
      } catch (e) {
        throw storedError(file, e);
      }
    }
    let buf: Buffer;
    if ((r as ScratchRequest).scratch) {
      if (!scratch || scratch.length < r.length) scratch = Buffer.allocUnsafe(Math.max(r.length, scratch ? Math.min(scratch.length * 2, MAX_BUFFER_BYTES) : 0));
      buf = scratch.subarray(0, r.length);
    } else {
      buf = Buffer.allocUnsafe(r.length);
    }
    let done = 0;
    while (done < r.length) {
      const n = fs.readSync(fd, buf, done, r.length - done, r.offset + done);
      if (n === 0)
        throw new TorchError(
          `torch.load: ${file} ended at byte ${r.offset + done} while reading ${r.length} bytes at ${r.offset} (was it truncated while loading?)`,
          'ERR_TORCH_IO',
        );
      done += n;
    }
    return buf;
  };
}

function bufferReader(data: Uint8Array): (r: ReadRequest) => Uint8Array {
  return (r) => {
    if (r.offset + r.length > data.length)
      throw new TorchError(`torch.load: read past the end of the buffer (${r.offset}+${r.length} > ${data.length})`, 'ERR_TORCH_IO');
    return data.subarray(r.offset, r.offset + r.length);
  };
}

function checkLoadArgs(fn: string, file: unknown, options: unknown): { file: string | Uint8Array; options: LoadOptions } {
  if (typeof file !== 'string' && !(file instanceof Uint8Array)) argError(fn, 'f', 'a file path or a Uint8Array', file);
  if (options === undefined || options === null) return { file, options: {} };
  if (typeof options !== 'object') argError(fn, 'options', 'an object { mapLocation, mmap }', options);
  const o = options as LoadOptions;
  if (o.mmap !== undefined && typeof o.mmap !== 'boolean') argError(fn, 'mmap', 'a boolean', o.mmap);
  if (o.mmap && typeof file !== 'string') argError(fn, 'mmap', 'false for in-memory data (mmap needs a file path)', o.mmap);
  const m = o.mapLocation;
  if (
    m !== undefined &&
    m !== null &&
    typeof m !== 'string' &&
    typeof m !== 'function' &&
    !(m instanceof Device) &&
    !(m instanceof Map) &&
    typeof m !== 'object'
  ) {
    argError(fn, 'mapLocation', "a device ('cpu', 'cuda:1'), a { from: to } object or Map, or a function", m);
  }
  return { file, options: o };
}

/** The loaded object for a path or a buffer, read synchronously. */
function loadSync(file: string | Uint8Array, options: LoadOptions): unknown {
  return native.withGradMode(false, () => {
    if (file instanceof Uint8Array) {
      const read = bufferReader(file);
      const p = runSync(plan(file.length, '<buffer>', options), read);
      return runSync(materialize(p, { where: '<buffer>', mmapHandle: null, file: null, nativeReads: false, fileSize: file.length }), read);
    }
    if (options.mmap) {
      let handle: number;
      let size: number;
      try {
        [handle, size] = native.mmapOpen(file);
      } catch (e) {
        throw ioError(file, e);
      }
      try {
        const read = (r: ReadRequest) => native.mmapRead(handle, r.offset, r.length);
        const p = runSync(plan(size, file, options), read);
        return runSync(materialize(p, { where: file, mmapHandle: handle, file, nativeReads: false, fileSize: size }), read);
      } finally {
        native.mmapClose(handle); // the tensors keep the mapping alive
      }
    }
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw ioError(file, e);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const read = fdReader(fd, file);
      const p = runSync(plan(size, file, options), read);
      return runSync(materialize(p, { where: file, mmapHandle: null, file, nativeReads: true, fileSize: size }), read);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * torch.load(f, { mapLocation, mmap }): reads a file written by torch.save (PyTorch >= 1.6 or
 * torch-node). Tensors of every torch-node dtype, Parameters, nested dicts / lists / tuples and
 * plain values; see the file header for the conversions.
 */
export function load<T = any>(f: string | Uint8Array, options?: LoadOptions): T {
  const a = checkLoadArgs('torch.load()', f, options);
  return markDicts(loadSync(a.file, a.options)) as T;
}

/**
 * What Python reads as `ckpt['epoch']` is `ckpt.get('epoch')` here: torch.load gives dicts as Maps.
 * Their prototype is a Map.prototype behind a Proxy, so a lookup that Map does not answer — and
 * that names one of the dict's keys (`ckpt['epoch']`, `ckpt.epoch`) — throws a TorchError naming
 * .get() instead of giving undefined; `ckpt['epoch'] = 5` names .set(). They are still Maps.
 */
const dictProto: object = new Proxy(Map.prototype, {
  // The proxy stands between the dict and Map.prototype, so that `ckpt instanceof Map` holds.
  getPrototypeOf: () => Map.prototype,
  get(target, key, receiver) {
    if (typeof key === 'string' && !(key in target) && receiver instanceof Map && Map.prototype.has.call(receiver, key)) {
      throw new TorchError(`torch.load returns Python dicts as Maps: read '${key}' with .get('${key}'), not ['${key}'] or .${key}`, 'ERR_TORCH_ARG');
    }
    return Reflect.get(target, key, receiver);
  },
  set(target, key, value, receiver) {
    if (typeof key === 'string' && !(key in target)) {
      throw new TorchError(`torch.load returns Python dicts as Maps: write '${key}' with .set('${key}', value), not ['${key}'] = value`, 'ERR_TORCH_ARG');
    }
    return Reflect.set(target, key, value, receiver);
  },
});

/** @internal Gives every Map in `v` the loaded-dict prototype (torch.load's and torch.distributed's objects). */
export function markDicts(v: unknown, seen = new Set<object>()): unknown {
  if (v === null || typeof v !== 'object' || seen.has(v) || v instanceof Tensor) return v;
  seen.add(v);
  if (v instanceof Map) {
    if (Object.getPrototypeOf(v) === Map.prototype) Object.setPrototypeOf(v, dictProto);
    for (const [k, x] of v) {
      markDicts(k, seen);
      markDicts(x, seen);
    }
  } else if (Array.isArray(v) || v instanceof Set) for (const x of v) markDicts(x, seen);
  return v;
}

/**
 * torch.load with the file work done off the event loop (the archive's directory and pickles through
 * fs.promises, each stored record read and checksummed natively on libuv's thread pool); same result
 * as load().
 */
export async function loadAsync<T = any>(f: string | Uint8Array, options?: LoadOptions): Promise<T> {
  return markDicts(await loadAsyncImpl(f, options)) as T;
}

async function loadAsyncImpl(f: string | Uint8Array, options?: LoadOptions): Promise<unknown> {
  const a = checkLoadArgs('torch.loadAsync()', f, options);
  // In-memory data and mmap need no reads worth moving off the thread.
  if (typeof a.file !== 'string' || a.options.mmap) return loadSync(a.file, a.options);
  const file = a.file;
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    throw ioError(file, e);
  }
  try {
    const size = (await fh.stat()).size;
    let scratch: Buffer | null = null;
    const read = async (r: ReadRequest): Promise<Uint8Array> => {
      const stored = (r as StoredRequest).stored;
      if (stored) {
        // On libuv's thread pool, as fh.read is: the event loop stays free while records load.
        const answer = native.readStoredAsync(fh.fd, r.offset, r.length, stored.code, stored.numel, stored.wantCrc);
        return (await answer.catch((e) => Promise.reject(storedError(file, e)))) as unknown as Uint8Array;
      }
      let buf: Buffer;
      if ((r as ScratchRequest).scratch) {
        if (!scratch || scratch.length < r.length) scratch = Buffer.allocUnsafe(r.length);
        buf = scratch.subarray(0, r.length);
      } else buf = Buffer.allocUnsafe(r.length);
      let done = 0;
      while (done < r.length) {
        const { bytesRead } = await fh.read(buf, done, r.length - done, r.offset + done);
        if (bytesRead === 0)
          throw new TorchError(`torch.load: ${file} ended at byte ${r.offset + done} while reading (was it truncated while loading?)`, 'ERR_TORCH_IO');
        done += bytesRead;
      }
      return buf;
    };
    const p = await runAsync(plan(size, file, a.options), read);
    // Grad mode is per call: set it around each synchronous step rather than across awaits.
    const gen = materialize(p, { where: file, mmapHandle: null, file, nativeReads: true, fileSize: size });
    const stepNoGrad = (fn: () => IteratorResult<ReadRequest, unknown>) => native.withGradMode(false, fn);
    let step = stepNoGrad(() => gen.next(undefined as unknown as Uint8Array));
    while (!step.done) {
      let bytes: Uint8Array;
      try {
        bytes = await read(step.value);
      } catch (e) {
        step = stepNoGrad(() => gen.throw(e));
        continue;
      }
      step = stepNoGrad(() => gen.next(bytes));
    }
    return step.value;
  } finally {
    await fh.close();
  }
}

// ---- saving -------------------------------------------------------------------------------------
interface SavedStorage {
  key: string;
  dtype: DType;
  nbytes: number;
  /** An alias id that keeps the storage alive until it is written. */
  id: Id;
}

function isNnParameter(t: Tensor): boolean {
  for (let p = Object.getPrototypeOf(t); p && p !== Tensor.prototype; p = Object.getPrototypeOf(p)) {
    if (p.constructor?.name === 'Parameter') return true;
  }
  return false;
}

/** Pickles obj and collects the storages its tensors use (one record per storage). */
function serialize(obj: unknown): { pkl: Uint8Array; storages: SavedStorage[] } {
  const storages = new Map<string, SavedStorage>();
  let emptyCount = 0;
  try {
    const pkl = pickle(obj, {
      tensorOf(v: object): TensorReduce | null {
        if (!(v instanceof Tensor)) return null;
        if (v.isDisposed) throw new TorchError('a disposed tensor');
        const id = v._h;
        const [ptr, nbytes, offset, code, device] = native.storageInfo(id);
        let dtype: DType;
        try {
          dtype = dtypeFromCode(code);
        } catch (e) {
          throw new TorchError((e as Error).message);
        }
        const size = itemSize(dtype);
        const identity = ptr === 'empty' ? `empty:${emptyCount++}` : `${device}:${ptr}`;
        let s = storages.get(identity);
        if (!s) {
          if (nbytes % size !== 0) throw new TorchError(`a ${dtype} tensor whose storage of ${nbytes} bytes is not a whole number of elements`);
          s = { key: String(storages.size), dtype, nbytes, id: native.alias(id) };
          storages.set(identity, s);
        } else if (s.dtype !== dtype) {
          throw new TorchError(`two tensors that view one storage as different dtypes (${s.dtype} and ${dtype}); PyTorch cannot save that either`);
        }
        const [shape, , , requiresGrad] = native.meta(id);
        return {
          storageName: STORAGE_NAMES[dtype],
          key: s.key,
          location: device === 'cpu' ? 'cpu' : device.includes(':') ? device : `${device}:0`,
          numel: s.nbytes / size,
          offset,
          size: shape,
          stride: native.strides(id),
          requiresGrad,
          parameter: pyParameters.has(v) || isNnParameter(v),
        };
      },
    });
    return { pkl, storages: [...storages.values()] };
  } catch (e) {
    for (const s of storages.values()) native.free(s.id);
    throw e;
  }
}

const textRecord = (name: string, text: string): ZipRecord => {
  const data = new TextEncoder().encode(text);
  return { name, size: data.length, data };
};

/** c10::hash_combine over 64-bit values. */
function hashCombine(seed: bigint, v: bigint): bigint {
  const M = (1n << 64n) - 1n;
  return (seed ^ ((v + 0x9e3779b9n + ((seed << 6n) & M) + (seed >> 2n)) & M)) & M;
}

function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & ((1n << 64n) - 1n);
  return h;
}

/**
 * The records of a torch.save archive in PyTorch's order. The serialization id is deterministic:
 * a hash of the record names and the combined CRC-32s of their data (PyTorch's recipe, with FNV-1a
 * standing in for libstdc++'s string hash), so equal contents give byte-identical files.
 */
function* records(pkl: Uint8Array, storages: SavedStorage[], crcs: number[], names: string[]): Generator<ZipRecord> {
  yield { name: 'data.pkl', size: pkl.length, data: pkl };
  yield textRecord('.format_version', '1');
  yield textRecord('.storage_alignment', '64');
  yield textRecord('byteorder', 'little');
  for (const s of storages) {
    // A CPU storage is written straight from tensor memory; elsewhere (CUDA) through a copy.
    yield { name: `data/${s.key}`, size: s.nbytes, data: () => new Uint8Array(native.storageView(s.id) ?? native.storageBytes(s.id)) };
  }
  yield textRecord('version', '3\n');
  let nameHash = 0n;
  for (const n of names) nameHash = hashCombine(nameHash, fnv1a64(n));
  let crcHash = 0n;
  for (const c of crcs) crcHash = hashCombine(crcHash, BigInt(c));
  yield textRecord('.data/serialization_id', nameHash.toString().padStart(20, '0') + crcHash.toString().padStart(20, '0'));
}

/** torch.save's options: `fsync: false` skips the fsyncs (see AtomicWriteOptions). */
export type SaveOptions = AtomicWriteOptions;

function checkSaveOptions(fn: string, options: unknown): SaveOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') argError(fn, 'options', 'an object { fsync }', options);
  checkOptions(fn, options, ['fsync']);
  const { fsync } = options as SaveOptions;
  if (fsync !== undefined && typeof fsync !== 'boolean') argError(fn, 'fsync', 'a boolean', fsync);
  return { fsync };
}

function checkSaveArgs(fn: string, file: unknown): string {
  if (typeof file !== 'string' || file.length === 0) argError(fn, 'f', 'a file path', file);
  return file;
}

function chunksFor(obj: unknown, file: string): { chunks: Iterable<Uint8Array>; release: () => void } {
  const { pkl, storages } = serialize(obj);
  const crcs: number[] = [];
  const names: string[] = [];
  const chunks = zipChunks(archiveNameFor(path.basename(file)), records(pkl, storages, crcs, names), (r) => {
    names.push(r.name);
    if (r.name !== '.data/serialization_id' && r.crc32 !== 0) crcs.push(r.crc32);
  });
  return { chunks, release: () => storages.forEach((s) => native.free(s.id)) };
}

/**
 * torch.save(obj, f): writes obj in the zip format Python's torch.load reads with its default
 * weights_only=True. Atomic: a temporary file in the same directory, fsynced, then renamed, so a
 * failure (an object that cannot be saved, a full disk) leaves any previous file untouched.
 */
export function save(obj: unknown, f: string, options?: SaveOptions): void {
  const file = checkSaveArgs('torch.save()', f);
  const o = checkSaveOptions('torch.save()', options);
  const { chunks, release } = chunksFor(obj, file);
  try {
    writeFileAtomic(file, chunks, o);
  } finally {
    release();
  }
}

/** torch.save with the file writing done off the event loop; the same bytes as save(). */
// The tensors' data is read as the file is written (straight from tensor memory on CPU): do not
// modify them until the promise resolves.
export async function saveAsync(obj: unknown, f: string, options?: SaveOptions): Promise<void> {
  const file = checkSaveArgs('torch.saveAsync()', f);
  const o = checkSaveOptions('torch.saveAsync()', options);
  const { chunks, release } = chunksFor(obj, file);
  try {
    await writeFileAtomicAsync(file, chunks, o);
  } finally {
    release();
  }
}
