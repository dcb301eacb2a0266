/**
 * V8's code cache for torch-node's own modules: what Python's `.pyc` files are to `import torch`.
 *
 * V8 compiles a function when it is first called, so the first `torch.load` in a process spent more
 * time compiling the zip reader, unpickler and planner than running them. A cache written once per
 * Node version (`scripts/code-cache.js`, run by `npm install` and the build after a warm-up that
 * calls those paths) holds their bytecode; the modules of dist/ are then compiled from it.
 *
 * Safety: an entry is found by the SHA-1 of the module's source, so a changed file (an upgrade, a
 * patch) never runs another file's bytecode; V8 checks its own version and flags and rejects data
 * from another build (the module is then compiled as usual). An unreadable or corrupt cache is
 * ignored. `TORCH_NODE_CODE_CACHE=0` turns it off; Bun, and processes with source maps enabled,
 * compile as usual.
 * @internal
 * @module
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';

const Module = require('module') as {
  prototype: { _compile(content: string, filename: string): unknown; require(id: string): unknown };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  _cache: unknown;
  _extensions: unknown;
};

const MAGIC = 'TNCC0001';
const distDir = __dirname;
const mainModule = require.main;

/** Where this install's cache for this Node (V8 version, architecture) lives. */
export function codeCacheFile(): string {
  // The cache folder's rule is shared with the install scripts (required here, not at load: a copy
  // of dist/ without common/ must still load, without a cache).
  const { cacheDir } = require('../common/cache') as { cacheDir(): string };
  const where = crypto.createHash('sha1').update(distDir).digest('hex').slice(0, 12);
  const v8 = process.versions.v8.replace(/[^0-9A-Za-z.-]/g, '_');
  return path.join(cacheDir(), 'code-cache', `v8-${v8}-${process.arch}-${where}.bin`);
}

/** What happened to this process's modules (for tests and the bench). */
export const codeCacheStats = { mode: 'off' as 'off' | 'read' | 'write', used: 0, rejected: 0, missing: 0, error: '' };

const compiled = new Map<string, vm.Script>(); // by source hash, in write mode

/** A cache file's index: the dist/ it was written for (where, and its fingerprint), and each module's data by source hash. */
interface Index {
  dist: string;
  fingerprint?: string;
  modules: Record<string, [number, number]>;
}

/** SHA-1 over every module of dist/ (path and source): any change to dist/ changes it. */
function distFingerprint(): string {
  const h = crypto.createHash('sha1');
  const files = (fs.readdirSync(distDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).sort();
  for (const f of files)
    h.update(`${f}\0`)
      .update(fs.readFileSync(path.join(distDir, f)))
      .update('\0');
  return h.digest('hex');
}

/** The index of a cache file from its first bytes (enough for any index), or null when it is unreadable. */
function readIndexOf(file: string): Index | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(Math.min(fs.fstatSync(fd).size, 1 << 20));
      fs.readSync(fd, head, 0, head.length, 0);
      return readIndex(head).index;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null; // missing, written by another version, or corrupt
  }
}

/**
 * Whether `file` was written for this dist/ as it is now (same place, same sources): the writer then
 * has nothing to do (the TypeScript build runs it on every build, and `npm test` builds).
 */
export function codeCacheIsCurrent(file = codeCacheFile()): boolean {
  const index = readIndexOf(file);
  return index !== null && index.dist === distDir && index.fingerprint === distFingerprint();
}

function readIndex(buf: Buffer): { index: Index; base: number } {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('not a torch-node code cache');
  const n = buf.readUInt32LE(8);
  if (12 + n > buf.length) throw new Error('truncated index');
  const index = JSON.parse(buf.toString('utf8', 12, 12 + n)) as Index;
  if (typeof index?.dist !== 'string' || typeof index.modules !== 'object' || index.modules === null) throw new Error('bad index');
  return { index, base: 12 + n };
}

function parse(buf: Buffer): Map<string, Buffer> {
  const { index, base } = readIndex(buf);
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(index.modules)) {
    if (!/^[0-9a-f]{40}$/.test(k) || !Array.isArray(v)) throw new Error('bad index entry');
    const [off, len] = v;
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len <= 0 || base + off + len > buf.length) {
      throw new Error('index entry out of range');
    }
    out.set(k, buf.subarray(base + off, base + off + len));
  }
  return out;
}

/**
 * Compiles one module of dist/ as Node's loader does (the same wrapper, `this`, arguments), with
 * its cached bytecode when `cache` has an entry for exactly this source.
 */
export function compileModule(
  mod: { exports: unknown; require(id: string): unknown },
  content: string,
  filename: string,
  cache: Map<string, Uint8Array> | null,
): unknown {
  const hash = crypto.createHash('sha1').update(content).digest('hex');
  const cachedData = cache?.get(hash) as Buffer | undefined;
  const script = new vm.Script(Module.wrap(content), { filename, cachedData });
  if (cachedData) {
    if (script.cachedDataRejected) codeCacheStats.rejected++;
    else codeCacheStats.used++;
  } else if (cache) codeCacheStats.missing++;
  if (codeCacheStats.mode === 'write') compiled.set(hash, script);
  const fn = script.runInThisContext({ displayErrors: true }) as (...a: unknown[]) => unknown;
  // The module's `require`, as Node's loader makes it.
  const req = Object.assign((id: string) => mod.require(id), {
    resolve: Object.assign((request: string, options?: unknown) => Module._resolveFilename(request, mod, false, options), {
      paths: (request: string) => Module._resolveLookupPaths(request, mod),
    }),
    main: mainModule,
    cache: Module._cache,
    extensions: Module._extensions,
  });
  return fn.call(mod.exports, mod.exports, req, mod, filename, path.dirname(filename));
}

/**
 * Writes the bytecode V8 holds now for every module compiled since this process started in write
 * mode (`TORCH_NODE_CODE_CACHE=write`): call it after a warm-up, so that the functions the warm-up
 * ran are in it. Atomic (temporary file, rename). Returns the file and its number of entries.
 */
export function writeCodeCache(file = codeCacheFile()): { file: string; entries: number; bytes: number } {
  if (codeCacheStats.mode !== 'write') throw new Error('writeCodeCache: the process was not started with TORCH_NODE_CODE_CACHE=write');
  const parts: Buffer[] = [];
  const index: Index = { dist: distDir, fingerprint: distFingerprint(), modules: {} };
  let off = 0;
  for (const [hash, script] of compiled) {
    const data = script.createCachedData();
    index.modules[hash] = [off, data.length];
    parts.push(data);
    off += data.length;
  }
  const head = Buffer.from(JSON.stringify(index), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const all = Buffer.concat([Buffer.from(MAGIC, 'latin1'), len, head, ...parts]);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, all);
  fs.renameSync(tmp, file);
  prune(path.dirname(file));
  return { file, entries: compiled.size, bytes: all.length };
}

/** Removes the caches of installs whose dist/ is gone (each install location writes its own file). */
function prune(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const f = path.join(dir, name);
    try {
      if (name.endsWith('.tmp')) {
        if (Date.now() - fs.statSync(f).mtimeMs > 3600_000) fs.rmSync(f, { force: true }); // a writer that died
        continue;
      }
      if (!name.endsWith('.bin')) continue;
      const dist = readIndexOf(f)?.dist;
      if (dist === undefined || !fs.existsSync(path.join(dist, 'code-cache.js'))) fs.rmSync(f, { force: true });
    } catch {
      // another process may be writing or removing it: leave it
    }
  }
}

function install(): void {
  const setting = process.env.TORCH_NODE_CODE_CACHE;
  if (setting === '0' || setting === 'off') return;
  const proc = process as unknown as { versions: Record<string, string | undefined>; sourceMapsEnabled?: boolean };
  if (proc.versions.bun !== undefined || proc.sourceMapsEnabled) return;
  if (typeof Module.prototype._compile !== 'function' || typeof vm.Script.prototype.createCachedData !== 'function') return;
  let cache: Map<string, Buffer> | null = null;
  if (setting === 'write') codeCacheStats.mode = 'write';
  else {
    try {
      cache = parse(fs.readFileSync(codeCacheFile()));
    } catch (e) {
      // No cache, an unusable one, or no cache folder to find it in: Node compiles as usual.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') codeCacheStats.error = (e as Error).message;
      return;
    }
    codeCacheStats.mode = 'read';
  }
  const original = Module.prototype._compile;
  const prefix = distDir + path.sep;
  Module.prototype._compile = function (this: { exports: unknown; require(id: string): unknown }, content: string, filename: string) {
    if (typeof filename !== 'string' || !filename.startsWith(prefix) || !filename.endsWith('.js')) return original.call(this, content, filename);
    return compileModule(this, content, filename, cache);
  };
}

try {
  install();
} catch (e) {
  codeCacheStats.error = (e as Error).message; // never a reason for require('torch-node') to fail
}
