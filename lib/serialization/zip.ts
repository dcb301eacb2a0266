/**
 * The zip container of PyTorch's `.pt` files, read and written in TypeScript.
 *
 * Reading works on any random-access source: the parsers are generators that yield
 * `{ offset, length }` read requests and receive the bytes back, so one parser serves the sync
 * reader (fs.readSync), the async one (fs.promises, off the event loop) and in-memory buffers.
 * Everything a file declares is checked before it is used: the end records, the central
 * directory, every entry's local header, sizes and offsets against the file (zip64 included),
 * overlapping entries (the classic zip-bomb trick of many entries over the same bytes), and the
 * declared size of compressed entries against deflate's maximum ratio. Every failure is a
 * TorchError saying what is wrong and where.
 *
 * Writing produces exactly the layout PyTorch's writer (caffe2's PyTorchStreamWriter over
 * miniz) produces: stored entries under `<archive>/`, the local header's extra field padded
 * with an 'FB' record so each entry's data starts on a 64-byte boundary (which is what lets a
 * loader memory-map tensors in place), a data descriptor after each non-empty entry, zip64 extra
 * fields for sizes or offsets >= 4 GiB, and always the zip64 end records. Output is a stream of
 * chunks, so a large checkpoint is never held in memory whole.
 */
import * as zlib from 'zlib';
import { native } from '../binding';
import { TorchError } from '../errors';

export const ALIGNMENT = 64;
const U32_MAX = 0xffffffff;
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const FLAG_UTF8 = 0x0800;
const FLAG_DESCRIPTOR = 0x0008; // set (as miniz does) only on entries with data, which a data descriptor follows

/** Records larger than this are never read into one JS buffer (torch-file.ts copies them through a mapping). */
export const MAX_BUFFER_BYTES = 0x7fffffff;

export interface ZipEntry {
  /** Full name inside the archive, e.g. 'archive/data/0'. */
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Offset of the entry's data in the file (from its local header). */
  dataOffset: number;
}

export interface ZipDirectory {
  /** Entries in central-directory order. */
  entries: ZipEntry[];
  byName: Map<string, ZipEntry>;
  fileSize: number;
}

export interface ReadRequest {
  offset: number;
  length: number;
}

/** A parser step: yields read requests, receives exactly the bytes asked for. */
export type Reader<T> = Generator<ReadRequest, T, Uint8Array>;

function corrupt(where: string, what: string): TorchError {
  return new TorchError(`torch.load: ${where} is not a valid PyTorch zip archive: ${what}`, 'ERR_TORCH_LOAD');
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A little-endian u64 as a number, or null if above 2^53. */
function u64(dv: DataView, off: number): number | null {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi > 0x1fffff) return null;
  return hi * 0x100000000 + lo;
}

const utf8 = new TextDecoder('utf-8');
const enc = new TextEncoder();

/** Starts of the file that are not zips but something we can name. */
export function sniffNonZip(head: Uint8Array): string | null {
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return 'legacy';
  if (head.length >= 262 && utf8.decode(head.subarray(257, 262)) === 'ustar') return 'legacy-tar';
  if (head.length >= 8 && utf8.decode(head.subarray(0, 8)) === 'PYTORCH1') return 'preview';
  return null;
}

/** One read, checked: a driver that returns fewer bytes than asked (a file that shrank) is an error, not a RangeError. */
function* readExact(offset: number, length: number, where: string): Reader<Uint8Array> {
  const b: Uint8Array = yield { offset, length };
  if (!b || b.length !== length) throw corrupt(where, `reading ${length} bytes at byte ${offset} returned ${b ? b.length : 0} (the file is truncated)`);
  return b;
}

/** Parses the end records and the central directory, and checks every local header. */
export function* readDirectory(fileSize: number, where: string): Reader<ZipDirectory> {
  if (fileSize < 22) throw corrupt(where, `the file is ${fileSize} bytes, too short for a zip end record (22 bytes)`);
  const tailLen = Math.min(fileSize, 22 + 0xffff + 20);
  const tailStart = fileSize - tailLen;
  const tail = yield* readExact(tailStart, tailLen, where);
  const tdv = view(tail);
  // The end record is the last signature whose comment ends exactly at the end of the file;
  // failing that, the last signature at all (a file with trailing bytes).
  let eocd = -1;
  let fallback = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tdv.getUint32(i, true) !== SIG_EOCD) continue;
    if (fallback < 0) fallback = i;
    if (i + 22 + tdv.getUint16(i + 20, true) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) eocd = fallback;
  if (eocd < 0) throw corrupt(where, 'no end-of-central-directory record (not a zip file, or truncated)');
  const eocdAbs = tailStart + eocd;
  let count = tdv.getUint16(eocd + 10, true);
  let cdSize: number | null = tdv.getUint32(eocd + 12, true);
  let cdOffset: number | null = tdv.getUint32(eocd + 16, true);
  const diskNo = tdv.getUint16(eocd + 4, true);
  const cdDisk = tdv.getUint16(eocd + 6, true);
  let cdEnd = eocdAbs; // the central directory must end before this
  // zip64: a locator right before the end record points at the zip64 end record.
  if (eocdAbs >= 20) {
    const loc = eocd >= 20 ? tail.subarray(eocd - 20, eocd) : yield* readExact(eocdAbs - 20, 20, where);
    const ldv = view(loc);
    if (ldv.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const z64 = u64(ldv, 8);
      if (z64 === null || z64 + 56 > eocdAbs - 20) throw corrupt(where, `the zip64 end record offset ${z64 ?? '>2^53'} is outside the file`);
      const rec = yield* readExact(z64, 56, where);
      const rdv = view(rec);
      if (rdv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw corrupt(where, `no zip64 end record at byte ${z64}`);
      const n64 = u64(rdv, 32);
      cdSize = u64(rdv, 40);
      cdOffset = u64(rdv, 48);
      if (n64 === null) throw corrupt(where, 'the zip64 end record declares more than 2^53 entries');
      count = n64;
      cdEnd = z64;
    }
  }
  if (cdEnd === eocdAbs && (diskNo !== 0 || cdDisk !== 0)) throw corrupt(where, 'multi-disk (split) archives are not supported');
  if (cdSize === null || cdOffset === null || cdOffset + cdSize > cdEnd) {
    throw corrupt(where, `the central directory (${cdSize ?? '>2^53'} bytes at byte ${cdOffset ?? '>2^53'}) runs past its end record at byte ${cdEnd}`);
  }
  if (count * 46 > cdSize) throw corrupt(where, `${count} entries cannot fit in a central directory of ${cdSize} bytes`);
  if (count === 0) throw corrupt(where, 'the archive holds no files');
  const cd = yield* readExact(cdOffset, cdSize, where);
  const dv = view(cd);
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  const rawNames = new Map<ZipEntry, Uint8Array>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    const at = `central directory entry ${i} (byte ${cdOffset + p})`;
    if (p + 46 > cd.length) throw corrupt(where, `${at} is truncated`);
    if (dv.getUint32(p, true) !== SIG_CENTRAL) throw corrupt(where, `${at} has a bad signature`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let comp: number | null = dv.getUint32(p + 20, true);
    let size: number | null = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let lho: number | null = dv.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw corrupt(where, `${at} runs past the central directory`);
    const rawName = cd.slice(p + 46, p + 46 + nameLen);
    const name = utf8.decode(rawName);
    // zip64 extended information: the fields that are 0xFFFFFFFF, in this order.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = dv.getUint16(q, true);
      const len = dv.getUint16(q + 2, true);
      if (q + 4 + len > extraEnd) throw corrupt(where, `${at} ('${name}') has a truncated extra field`);
      if (id === 1) {
        let r = q + 4;
        const next = (): number | null => {
          if (r + 8 > q + 4 + len) throw corrupt(where, `${at} ('${name}') has a short zip64 extra field`);
          const v = u64(dv, r);
          r += 8;
          return v;
        };
        if (size === U32_MAX) size = next();
        if (comp === U32_MAX) comp = next();
        if (lho === U32_MAX) lho = next();
      }
      q += 4 + len;
    }
    if (size === null || comp === null || lho === null) throw corrupt(where, `${at} ('${name}') declares a size or offset above 2^53`);
    if (flags & 1) throw corrupt(where, `entry '${name}' is encrypted`);
    if (method !== 0 && method !== 8) throw corrupt(where, `entry '${name}' uses compression method ${method} (only stored and deflate are supported)`);
    if (method === 0 && comp !== size) throw corrupt(where, `stored entry '${name}' declares ${comp} bytes stored but ${size} bytes of data`);
    if (byName.has(name)) throw corrupt(where, `the archive holds two entries named '${name}'`);
    const e: ZipEntry = { name, method, crc32: crc, compressedSize: comp, size, localHeaderOffset: lho, dataOffset: -1 };
    rawNames.set(e, rawName);
    entries.push(e);
    byName.set(name, e);
    p = end;
  }
  // Local headers: where each entry's data starts, and that entries do not overlap.
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    if (e.localHeaderOffset + 30 > cdOffset) throw corrupt(where, `the local header of '${e.name}' (byte ${e.localHeaderOffset}) lies outside the data area`);
    const raw = rawNames.get(e) as Uint8Array;
    const readLen = Math.min(30 + raw.length, cdOffset - e.localHeaderOffset);
    const h = yield* readExact(e.localHeaderOffset, readLen, where);
    const hdv = view(h);
    if (hdv.getUint32(0, true) !== SIG_LOCAL) throw corrupt(where, `no local header for '${e.name}' at byte ${e.localHeaderOffset}`);
    const nameLen = hdv.getUint16(26, true);
    const extraLen = hdv.getUint16(28, true);
    e.dataOffset = e.localHeaderOffset + 30 + nameLen + extraLen;
    const dataEnd = e.dataOffset + e.compressedSize;
    if (dataEnd > cdOffset) {
      throw corrupt(
        where,
        `entry '${e.name}' declares ${e.compressedSize} bytes at byte ${e.dataOffset}, past the end of the data area (byte ${cdOffset}; the file may be truncated)`,
      );
    }
    const next = sorted[i + 1];
    if (next && dataEnd > next.localHeaderOffset) {
      throw corrupt(where, `entries '${e.name}' and '${next.name}' overlap (bytes ${e.localHeaderOffset}..${dataEnd} and ${next.localHeaderOffset}..)`);
    }
    const lraw = h.subarray(30, 30 + nameLen);
    const lname = utf8.decode(lraw);
    if (nameLen !== raw.length || lraw.some((b, j) => b !== raw[j])) {
      throw corrupt(where, `the local header at byte ${e.localHeaderOffset} names '${lname}', the central directory '${e.name}'`);
    }
  }
  return { entries, byName, fileSize };
}

/** Deflate cannot expand data more than ~1032:1; a larger declared ratio is a bomb or corruption. */
/** Drives a Reader to its end with a synchronous byte source (errors from `read` are thrown into the reader). */
export function runSync<T>(gen: Reader<T>, read: (r: ReadRequest) => Uint8Array): T {
  let step = gen.next(undefined as unknown as Uint8Array);
  while (!step.done) {
    let bytes: Uint8Array;
    try {
      bytes = read(step.value);
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(bytes);
  }
  return step.value;
}

export function maxInflatedSize(compressed: number): number {
  return compressed * 1032 + 1024;
}

/** Checks a declared uncompressed size before anything is allocated for it. */
export function checkEntrySize(e: ZipEntry, where: string, limit = MAX_BUFFER_BYTES): void {
  if (e.method === 8 && e.size > maxInflatedSize(e.compressedSize)) {
    throw corrupt(
      where,
      `compressed entry '${e.name}' declares ${e.size} bytes from ${e.compressedSize} compressed bytes, beyond deflate's maximum ratio (a zip bomb?)`,
    );
  }
  if (e.size > limit) {
    throw new TorchError(
      `torch.load: ${where}: entry '${e.name}' is ${e.size} bytes, more than the ${limit} bytes torch-node reads into memory at once`,
      'ERR_TORCH_LOAD',
    );
  }
}

/** Turns an entry's raw (stored or deflated) bytes into its content, checking size and CRC. */
export function decodeEntry(e: ZipEntry, raw: Uint8Array, where: string, checkCrc = true): Uint8Array {
  if (raw.length !== e.compressedSize) throw corrupt(where, `entry '${e.name}': read ${raw.length} of its ${e.compressedSize} bytes (the file is truncated)`);
  let out = raw;
  if (e.method === 8) {
    checkEntrySize(e, where);
    try {
      out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      throw corrupt(where, `entry '${e.name}' does not inflate to its declared ${e.size} bytes: ${(err as Error).message}`);
    }
    if (out.length !== e.size) throw corrupt(where, `entry '${e.name}' inflates to ${out.length} bytes, not the declared ${e.size}`);
  }
  // A CRC of 0 on non-empty data means the writer skipped it (torch.serialization.set_crc32_options).
  if (checkCrc && out.length > 0 && e.crc32 !== 0) checkCrc32(e, native.crc32(out), where);
  return out;
}

/** Throws unless `crc` (computed over the entry's content) is the entry's stored CRC-32. */
export function checkCrc32(e: ZipEntry, crc: number, where: string): void {
  if (crc !== e.crc32) {
    throw corrupt(where, `entry '${e.name}' fails its CRC check (stored ${hex(e.crc32)}, computed ${hex(crc)}): the file is corrupt`);
  }
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** Reads and decodes one entry. */
export function* readEntry(e: ZipEntry, where: string, checkCrc = true): Reader<Uint8Array> {
  checkEntrySize(e, where);
  const raw = yield* readExact(e.dataOffset, e.compressedSize, where);
  return decodeEntry(e, raw, where, checkCrc);
}

// ---- writing ------------------------------------------------------------------------------------

export interface ZipRecord {
  /** Name inside the archive folder, e.g. 'data.pkl' or 'data/0'. */
  name: string;
  size: number;
  /** The bytes, or a function giving them when the record is written (big storages are fetched lazily). */
  data: Uint8Array | (() => Uint8Array);
}

function le16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function le64(v: number): number[] {
  const lo = v % 0x100000000;
  const hi = Math.floor(v / 0x100000000);
  return [...le32(lo), ...le32(hi)];
}

/** The zip64 extra field miniz writes: the given fields in order. */
function zip64Extra(fields: number[]): number[] {
  if (fields.length === 0) return [];
  return [...le16(1), ...le16(fields.length * 8), ...fields.flatMap(le64)];
}

/** The 'FB' padding record that puts the data of an entry on an ALIGNMENT boundary (as PyTorch). */
function padding(cursor: number, fullNameLen: number, size: number): number[] {
  let start = cursor + 30 + fullNameLen + 4;
  if (size >= U32_MAX || cursor >= U32_MAX) {
    start += 4;
    if (size >= U32_MAX) start += 16;
    if (cursor >= U32_MAX) start += 8;
  }
  const pad = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
  return [0x46, 0x42, ...le16(pad), ...new Array(pad).fill(0x5a)];
}

export interface WrittenRecord {
  name: string;
  crc32: number;
}

/**
 * The archive as a stream of chunks, in PyTorch's layout. `onRecord` sees each record's CRC once
 * its data has been produced (the serialization id is derived from them). Records are written in
 * the order given; the central directory and the (zip64) end records follow.
 */
export function* zipChunks(archive: string, records: Iterable<ZipRecord>, onRecord?: (r: WrittenRecord) => void): Generator<Uint8Array, void, undefined> {
  let pos = 0;
  const central: number[][] = [];
  let count = 0;
  for (const r of records) {
    const name = enc.encode(`${archive}/${r.name}`);
    const lho = pos;
    const size = r.size;
    const big = size >= U32_MAX || lho >= U32_MAX;
    const localZip64 = big ? zip64Extra([...(size >= U32_MAX ? [size, 0] : []), ...(lho >= U32_MAX ? [lho] : [])]) : [];
    const pad = padding(lho, name.length, size);
    const flags = size > 0 ? FLAG_UTF8 | FLAG_DESCRIPTOR : FLAG_UTF8;
    const header = new Uint8Array(30 + name.length + localZip64.length + pad.length);
    header.set([
      ...le32(SIG_LOCAL),
      ...le16(0),
      ...le16(flags),
      ...le16(0),
      ...le16(0),
      ...le16(0),
      ...le32(0),
      ...le32(0),
      ...le32(0),
      ...le16(name.length),
      ...le16(localZip64.length + pad.length),
    ]);
    header.set(name, 30);
    header.set(localZip64, 30 + name.length);
    header.set(pad, 30 + name.length + localZip64.length);
    yield header;
    pos += header.length;
    const data = typeof r.data === 'function' ? r.data() : r.data;
    if (data.byteLength !== size) throw new TorchError(`torch.save: record '${r.name}' produced ${data.byteLength} bytes, expected ${size}`);
    let crc = 0;
    if (size > 0) {
      crc = native.crc32(data);
      yield data;
      pos += size;
      const desc = big
        ? [...le32(SIG_DESCRIPTOR), ...le32(crc), ...le64(size), ...le64(size)]
        : [...le32(SIG_DESCRIPTOR), ...le32(crc), ...le32(size), ...le32(size)];
      yield Uint8Array.from(desc);
      pos += desc.length;
    }
    const cdZip64 = big ? zip64Extra([...(size >= U32_MAX ? [size, size] : []), ...(lho >= U32_MAX ? [lho] : [])]) : [];
    central.push([
      ...le32(SIG_CENTRAL),
      ...le16(0),
      ...le16(0),
      ...le16(flags),
      ...le16(0),
      ...le16(0),
      ...le16(0),
      ...le32(crc),
      ...le32(Math.min(size, U32_MAX)),
      ...le32(Math.min(size, U32_MAX)),
      ...le16(name.length),
      ...le16(cdZip64.length),
      ...le16(0),
      ...le16(0),
      ...le16(0),
      ...le32(0),
      ...le32(Math.min(lho, U32_MAX)),
      ...name,
      ...cdZip64,
    ]);
    count++;
    onRecord?.({ name: r.name, crc32: crc });
  }
  const cdOffset = pos;
  const cdBytes = Uint8Array.from(central.flat());
  yield cdBytes;
  pos += cdBytes.length;
  const z64 = pos;
  yield Uint8Array.from([
    ...le32(SIG_ZIP64_EOCD),
    ...le64(44),
    ...le16(0x031e),
    ...le16(0x2d),
    ...le32(0),
    ...le32(0),
    ...le64(count),
    ...le64(count),
    ...le64(cdBytes.length),
    ...le64(cdOffset),
    ...le32(SIG_ZIP64_LOCATOR),
    ...le32(0),
    ...le64(z64),
    ...le32(1),
    ...le32(SIG_EOCD),
    ...le16(0),
    ...le16(0),
    ...le16(Math.min(count, 0xffff)),
    ...le16(Math.min(count, 0xffff)),
    ...le32(Math.min(cdBytes.length, U32_MAX)),
    ...le32(Math.min(cdOffset, U32_MAX)),
    ...le16(0),
  ]);
}

/** PyTorch's archive folder name for a file: its base name without the extension ('archive' if empty). */
export function archiveNameFor(file: string): string {
  let start = 0;
  for (let i = 0; i < file.length; i++) if (file[i] === '/' || file[i] === '\\') start = i + 1;
  let end = file.length;
  for (let i = end; i > start; i--) {
    if (file[i - 1] === '.') {
      end = i - 1;
      break;
    }
  }
  const name = file.slice(start, end);
  return name.length ? name : 'archive';
}
