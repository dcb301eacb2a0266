/**
 * Atomic file writes for torch.save, safetensors.saveFile and torch.jit.save: the data goes to a
 * temporary file in the same directory, is fsynced, then renamed over the target (and the directory
 * fsynced), so a crash mid-save leaves the previous file intact and never a half-written one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../binding';
import { TorchError } from '../errors';

/** A fresh temporary name beside `file` (same directory, so the rename is atomic). */
export function tempPathFor(file: string): string {
  const dir = path.dirname(path.resolve(file));
  return path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

const ioError = (file: string, e: unknown) => (e instanceof TorchError ? e : new TorchError(`cannot write ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO'));

function syncDir(file: string): void {
  try {
    const dfd = fs.openSync(path.dirname(path.resolve(file)), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    /* directories cannot be fsynced on every filesystem; the rename is done */
  }
}

async function syncDirAsync(file: string): Promise<void> {
  try {
    const dfh = await fs.promises.open(path.dirname(path.resolve(file)), 'r');
    await dfh.sync().finally(() => dfh.close());
  } catch {
    /* as syncDir */
  }
}

/**
 * Starts the disk writes of what was written so far every WRITEBACK_STEP bytes, so that the final
 * fsync overlaps the writing instead of following it (512 MB on this project's VM: 1.04-1.20 s
 * against 1.22-1.61 s for write + fsync).
 */
const WRITEBACK_STEP = 8 << 20;
function writeback(fd: number): (n: number) => void {
  let written = 0;
  let started = 0;
  return (n) => {
    written += n;
    if (written - started >= WRITEBACK_STEP) {
      native.startWriteback(fd, started, written - started);
      started = written;
    }
  };
}

// ---- replacing the target ------------------------------------------------------------------------
// rename() over an existing file releases the old file's blocks before it returns (300-350 ms for a
// 512 MB checkpoint on ext4 here). The old file gets a second, hidden name first, so that the rename
// only swaps names, and that name is unlinked on libuv's thread pool: the save returns once the new
// file is durable and in place, and the old one's blocks are freed beside it. Old names still pending
// when the process exits are unlinked then (process.exit() too); only a crash in between leaves one
// (`.NAME.<pid>.<time>.<random>.tmp.old`, beside the file).
const pendingOld = new Set<string>();
let exitHookInstalled = false;

function releaseOld(old: string): void {
  pendingOld.add(old);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const o of pendingOld) fs.rmSync(o, { force: true });
    });
  }
  fs.unlink(old, () => pendingOld.delete(old));
}

/** Renames `tmp` over `file`, releasing the old content off this thread (see above). */
function replaceSync(tmp: string, file: string): void {
  let old: string | null = `${tmp}.old`;
  try {
    fs.linkSync(file, old); // fails when there is no file yet, or no hard links: a plain rename then
  } catch {
    old = null;
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    if (old) fs.rmSync(old, { force: true });
    throw e;
  }
  if (old) releaseOld(old);
}

async function replaceAsync(tmp: string, file: string): Promise<void> {
  let old: string | null = `${tmp}.old`;
  try {
    await fs.promises.link(file, old);
  } catch {
    old = null;
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (e) {
    if (old) await fs.promises.rm(old, { force: true });
    throw e;
  }
  if (old) releaseOld(old);
}

export interface AtomicWriteOptions {
  /**
   * false: skip the fsyncs. The write stays atomic for the process (temp file, rename: a crash of
   * this process mid-save leaves the previous file), but data still in the page cache can be lost
   * in a power cut or a kernel crash — as with Python's torch.save, which does not fsync either.
   * Default true.
   */
  fsync?: boolean;
}

/** Writes `chunks` (in order) to `file` atomically. */
export function writeFileAtomic(file: string, chunks: Iterable<Uint8Array>, options: AtomicWriteOptions = {}): void {
  const durable = options.fsync !== false;
  const tmp = tempPathFor(file);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw ioError(file, e);
  }
  try {
    const wb = durable ? writeback(fd) : () => undefined;
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += fs.writeSync(fd, c, off, c.byteLength - off);
      wb(c.byteLength);
    }
    if (durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    replaceSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw ioError(file, e);
  }
  if (durable) syncDir(file);
}

/** writeFileAtomic with fs.promises: the writes happen off the event loop. */
export async function writeFileAtomicAsync(file: string, chunks: Iterable<Uint8Array>, options: AtomicWriteOptions = {}): Promise<void> {
  const durable = options.fsync !== false;
  const tmp = tempPathFor(file);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(tmp, 'wx', 0o644);
  } catch (e) {
    throw ioError(file, e);
  }
  try {
    const wb = durable ? writeback(fh.fd) : () => undefined;
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
      wb(c.byteLength);
    }
    if (durable) await fh.sync();
    await fh.close();
    await replaceAsync(tmp, file);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw ioError(file, e);
  }
  if (durable) await syncDirAsync(file);
}

/**
 * Finishes an atomic write that something else (libtorch) made to `tmp` (from tempPathFor(file)):
 * fsync, rename over `file`, fsync the directory. On failure the temporary file is removed.
 */
export function commitFileAtomic(tmp: string, file: string): void {
  try {
    const fd = fs.openSync(tmp, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    replaceSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw ioError(file, e);
  }
  syncDir(file);
}
