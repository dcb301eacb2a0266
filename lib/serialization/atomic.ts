/**
 * Atomic file writes for torch.save, safetensors.saveFile and torch.jit.save: the data goes to a
 * temporary file in the same directory, is fsynced, then renamed over the target (and the directory
 * fsynced), so a crash mid-save leaves the previous file intact and never a half-written one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TorchError } from '../errors';

/** A fresh temporary name beside `file` (same directory, so the rename is atomic). */
export function tempPathFor(file: string): string {
  const dir = path.dirname(path.resolve(file));
  return path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
}

const ioError = (file: string, e: unknown) =>
  e instanceof TorchError ? e : new TorchError(`cannot write ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');

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

/** Writes `chunks` (in order) to `file` atomically. */
export function writeFileAtomic(file: string, chunks: Iterable<Uint8Array>): void {
  const tmp = tempPathFor(file);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw ioError(file, e);
  }
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += fs.writeSync(fd, c, off, c.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw ioError(file, e);
  }
  syncDir(file);
}

/** writeFileAtomic with fs.promises: the writes happen off the event loop. */
export async function writeFileAtomicAsync(file: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const tmp = tempPathFor(file);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(tmp, 'wx', 0o644);
  } catch (e) {
    throw ioError(file, e);
  }
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
    }
    await fh.sync();
    await fh.close();
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw ioError(file, e);
  }
  await syncDirAsync(file);
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
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw ioError(file, e);
  }
  syncDir(file);
}
