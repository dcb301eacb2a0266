/**
 * Atomic file writes for torch.save and safetensors.saveFile: the data goes to a temporary file in
 * the same directory, is fsynced, then renamed over the target (and the directory fsynced), so a
 * crash mid-save leaves the previous file intact and never a half-written one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TorchError } from '../errors';

/** Writes `chunks` (in order) to `file` atomically. */
export function writeFileAtomic(file: string, chunks: Iterable<Uint8Array>): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw new TorchError(`cannot write ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');
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
    throw new TorchError(`cannot write ${file}: ${(e as Error).message}`, 'ERR_TORCH_IO');
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    /* directories cannot be fsynced on every filesystem; the rename is done */
  }
}
