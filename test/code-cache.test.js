'use strict';
// V8's code cache for dist/ (lib/code-cache.ts, scripts/code-cache.js): written after a warm-up,
// used by later processes, found by the SHA-1 of each module's source (a changed file never runs
// another's bytecode), ignored when corrupt or turned off.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const { spawnSync } = require('node:child_process');
const { compileModule, codeCacheStats } = require('../dist/code-cache');

const root = path.resolve(__dirname, '..');
const sha1 = (s) => crypto.createHash('sha1').update(s).digest('hex');

function node(args, env) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

// A child that requires torch-node, checks a save/load round trip and prints the cache's stats.
const CHILD = `
const torch = require('./dist');
const f = require('path').join(process.env.DIR, 'x.pt');
const x = torch.arange(12).reshape([3, 4]).float();
torch.save({ x, epoch: 3 }, f);
const back = torch.load(f, { mmap: true });
if (!torch.equal(back.get('x'), x) || back.get('epoch') !== 3) throw new Error('round trip differs');
const { codeCacheStats, codeCacheFile } = require('./dist/code-cache');
console.log(JSON.stringify({ ...codeCacheStats, file: codeCacheFile() }));
`;

function child(env) {
  const out = node(['-e', CHILD], env).stdout.trim().split('\n').pop();
  return JSON.parse(out);
}

test('the cache written after the warm-up is used by a later process, every module of dist/ from it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-cc-'));
  try {
    const env = { TORCH_NODE_CACHE: dir, DIR: dir };
    const before = child(env);
    assert.equal(before.mode, 'off', 'no cache yet: modules compile as usual');
    assert.ok(!fs.existsSync(before.file));
    node([path.join(root, 'scripts', 'code-cache.js'), '--strict'], env);
    assert.ok(fs.statSync(before.file).size > 100_000, 'a cache file of some size');
    const after = child(env);
    assert.equal(after.mode, 'read');
    assert.equal(after.rejected, 0);
    assert.equal(after.missing, 0);
    assert.ok(after.used >= 50, `modules compiled from the cache: ${after.used}`);
    // Written for this dist/ as it is: the next build's writer keeps it; --force writes it again.
    const written = fs.statSync(before.file).mtimeMs;
    assert.match(node([path.join(root, 'scripts', 'code-cache.js'), '--strict'], env).stderr, /V8 code cache up to date/);
    assert.equal(fs.statSync(before.file).mtimeMs, written);
    assert.match(node([path.join(root, 'scripts', 'code-cache.js'), '--strict', '--force'], env).stderr, /V8 code cache for \d+ modules/);
    // Turned off: nothing read.
    assert.equal(child({ ...env, TORCH_NODE_CODE_CACHE: '0' }).mode, 'off');
    // A corrupt file is ignored (and said why in the stats): the library works as without it.
    for (const bytes of [Buffer.from('garbage'), Buffer.concat([Buffer.from('TNCC0001'), Buffer.from([255, 255, 0, 0])])]) {
      fs.writeFileSync(before.file, bytes);
      const bad = child(env);
      assert.equal(bad.mode, 'off');
      assert.match(bad.error, /not a torch-node code cache|truncated index/);
    }
    // Writing prunes the caches of installs that are gone (and unreadable ones), keeps its own.
    const gone = path.join(path.dirname(before.file), 'v8-0.0-x64-000000000000.bin');
    const json = Buffer.from(JSON.stringify({ dist: path.join(dir, 'no-such-install', 'dist'), modules: {} }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.length);
    fs.writeFileSync(gone, Buffer.concat([Buffer.from('TNCC0001'), len, json]));
    node([path.join(root, 'scripts', 'code-cache.js'), '--strict'], env);
    assert.ok(!fs.existsSync(gone), 'the cache of a removed install is pruned');
    assert.equal(child(env).mode, 'read', 'its own cache is rewritten and read');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Cached data for `src`, with its functions compiled (as the writer makes it after the warm-up).
function cachedDataFor(src) {
  const script = new vm.Script(Module.wrap(src), { filename: 'a.js' });
  const m = { exports: {} };
  script.runInThisContext().call(m.exports, m.exports, require, m, 'a.js', __dirname);
  m.exports.f();
  return script.createCachedData();
}

// A module as Node's loader makes one before compiling it.
function compile(src, cache) {
  const filename = path.join(__dirname, 'fake-module.js');
  const m = new Module(filename, module);
  m.filename = filename;
  m.paths = Module._nodeModulePaths(__dirname);
  compileModule(m, src, filename, cache);
  return m.exports;
}

test("a module whose source changed never runs the old source's bytecode, even at the same length", () => {
  const a = 'exports.f = function () { return 1 + 1; };';
  const b = 'exports.f = function () { return 1 - 1; };';
  assert.equal(a.length, b.length);
  const data = cachedDataFor(a);
  const s0 = { ...codeCacheStats };
  // Found by A's hash: B misses and compiles from source.
  assert.equal(compile(b, new Map([[sha1(a), data]])).f(), 0);
  assert.equal(codeCacheStats.missing, s0.missing + 1);
  assert.equal(codeCacheStats.used, s0.used);
  // A with its own entry is compiled from the cache, and behaves as A.
  assert.equal(compile(a, new Map([[sha1(a), data]])).f(), 2);
  assert.equal(codeCacheStats.used, s0.used + 1);
  // Data that does not fit the source (another length) under the right hash: V8 rejects it.
  const c = 'exports.f = function () { return 40 + 2; };';
  assert.equal(compile(c, new Map([[sha1(c), data]])).f(), 42);
  assert.equal(codeCacheStats.rejected, s0.rejected + 1);
});

test("a module compiled by the cache's loader gets Node's require, module, exports, __filename and __dirname", () => {
  const src = `
    exports.self = this === exports;
    exports.file = __filename;
    exports.dir = __dirname;
    exports.resolved = require.resolve('./code-cache.test.js');
    exports.path = require('path').sep;
    exports.cache = require.cache === require('module')._cache;
    module.exports.kept = true;`;
  const e = compile(src, new Map());
  assert.equal(e.self, true);
  assert.equal(e.file, path.join(__dirname, 'fake-module.js'));
  assert.equal(e.dir, __dirname);
  assert.equal(e.resolved, __filename);
  assert.equal(e.path, path.sep);
  assert.equal(e.cache, true);
  assert.equal(e.kept, true);
});

test('no module of dist/ uses import() (scripts compiled by vm.Script have no dynamic-import hook)', () => {
  const dist = path.join(root, 'dist');
  const files = fs
    .readdirSync(dist, { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(dist, f));
  assert.ok(files.length > 50);
  const users = files.filter((f) => /(^|[^.\w$])import\s*\(/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(users, []);
});
