'use strict';
// The CPU block cache (binding/cpu_allocator.cc): freed storages of 32 MiB or more are kept for reuse,
// bounded by a limit, given back when the process goes quiet (idle time) and at once by
// torch.emptyCache(). memory().cpuCachedBytes reports it; memory().cpuBytes never includes it.
const test = require('node:test');
const assert = require('node:assert/strict');
const torch = require('../dist');

const MiB = 1 << 20;
// A float32 tensor of BLOCK elements is 32 MiB, the smallest storage the cache takes (smaller ones
// are malloc's).
const BLOCK = 8 * MiB;
const mem = () => torch.memory();
const rss = () => process.memoryUsage().rss;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const defaults = torch.configureCpuCache();

// Each test starts from an empty cache with the default settings, and leaves it so.
function fresh() {
  torch.configureCpuCache(defaults);
  torch.emptyCache();
  assert.equal(mem().cpuCachedBytes, 0);
}

test('defaults: a limit of min(2 GiB, RAM / 4) and a 1 s idle time', () => {
  const ram = require('node:os').totalmem();
  assert.equal(defaults.idleMs, 1000);
  if (process.env.TORCH_NODE_CPU_CACHE_MB === undefined) {
    assert.equal(defaults.limitBytes, Math.min(2 ** 31, Math.floor(ram / 4)));
  }
});

test('a freed large storage is cached and reused by the next one of its size; smaller ones are not cached', () => {
  fresh();
  const bytes0 = mem().cpuBytes;
  const a = torch.ones(BLOCK); // 32 MiB of float32
  assert.ok(mem().cpuBytes >= bytes0 + 32 * MiB);
  a.dispose();
  assert.equal(mem().cpuBytes, bytes0, 'cpuBytes drops at dispose(): the cache is not counted in it');
  const cached = mem().cpuCachedBytes;
  assert.ok(cached >= 32 * MiB && cached < 32 * MiB + 8192, `one 32 MiB block cached, got ${cached}`);
  const b = torch.full([BLOCK], 3, { dtype: 'float32' });
  assert.equal(mem().cpuCachedBytes, 0, 'the next 32 MiB storage takes the cached block');
  torch.tidy(() => {
    assert.deepEqual(b.slice(0, 0, 4).tolist(), [3, 3, 3, 3]);
    assert.equal(b.sum().item(), 3 * BLOCK, 'the reused block holds the new values everywhere');
  });
  b.dispose();
  torch.ones(1000).dispose();
  torch.ones(MiB).dispose(); // 4 MiB
  assert.equal(mem().cpuCachedBytes, cached, 'storages under 32 MiB go back to malloc, not the cache');
  fresh();
});

test('a block is reused only for a request at most 1/8 smaller', () => {
  fresh();
  torch.ones(2 * BLOCK).dispose(); // 64 MiB block cached
  const cached = mem().cpuCachedBytes;
  const small = torch.ones(BLOCK + MiB); // 36 MiB: would waste almost half of the block, so a fresh mapping
  assert.equal(mem().cpuCachedBytes, cached);
  const close = torch.ones(2 * BLOCK - MiB); // 60 MiB: reuses it
  assert.equal(mem().cpuCachedBytes, 0);
  torch.dispose([small, close]);
  fresh();
});

test('the limit bounds the cache: the least recently freed blocks go first; a block over the limit is never cached', () => {
  fresh();
  const set = torch.configureCpuCache({ limitBytes: 72 * MiB });
  assert.equal(set.limitBytes, 72 * MiB);
  assert.equal(set.idleMs, defaults.idleMs, 'a setting left out is unchanged');
  const ts = [1, 2, 3].map((v) => torch.full([BLOCK], v, { dtype: 'float32' })); // three 32 MiB blocks
  torch.dispose(ts);
  const cached = mem().cpuCachedBytes;
  assert.ok(cached > 32 * MiB && cached <= 72 * MiB, `two 32 MiB blocks fit under 72 MiB, got ${cached}`);
  // Which two: the blocks of 2 and 3 (the one freed first was evicted). torch.empty() takes cached
  // blocks as they are, so their old values show which ones they are.
  const reused = [torch.empty([BLOCK]), torch.empty([BLOCK])];
  assert.equal(mem().cpuCachedBytes, 0);
  const firsts = torch.tidy(() => reused.map((t) => t.slice(0, 0, 1).item()).sort());
  assert.deepEqual(firsts, [2, 3], 'the least recently freed block was the one given back');
  torch.dispose(reused);
  const big = torch.ones(4 * BLOCK); // 128 MiB > limit
  big.dispose();
  assert.equal(mem().cpuCachedBytes, cached, 'a block larger than the limit is unmapped, not cached');
  torch.configureCpuCache({ limitBytes: 40 * MiB });
  assert.ok(mem().cpuCachedBytes <= 40 * MiB, 'lowering the limit gives back what is over it at once');
  torch.configureCpuCache({ limitBytes: 0 });
  assert.equal(mem().cpuCachedBytes, 0, 'limit 0 turns the cache off');
  torch.ones(BLOCK).dispose();
  assert.equal(mem().cpuCachedBytes, 0);
  fresh();
});

test('emptyCache() gives the memory back to the kernel: RSS returns to where it was', () => {
  fresh();
  const rss0 = rss();
  torch.tidy(() => {
    for (let i = 0; i < 8; i++) torch.full([BLOCK], i, { dtype: 'float32' }); // 256 MiB live at once, every page written
  });
  const cached = mem().cpuCachedBytes;
  assert.ok(cached >= 256 * MiB, `all 8 blocks cached, got ${cached}`);
  assert.ok(rss() - rss0 > 200 * MiB, `the cached blocks are resident (RSS +${((rss() - rss0) / MiB).toFixed(1)} MiB)`);
  torch.emptyCache();
  assert.equal(mem().cpuCachedBytes, 0);
  const growth = rss() - rss0;
  // Bound: 32 MiB, where keeping the blocks would be 256 MiB.
  assert.ok(growth < 32 * MiB, `RSS after emptyCache() is ${(growth / MiB).toFixed(1)} MiB above the start`);
});

test('the cache is given back on its own once no large block was used for the idle time (no torch call needed)', async () => {
  fresh();
  torch.configureCpuCache({ idleMs: 100 });
  const rss0 = rss();
  torch.tidy(() => {
    for (let i = 0; i < 4; i++) torch.full([BLOCK], i, { dtype: 'float32' });
  });
  assert.ok(mem().cpuCachedBytes >= 128 * MiB);
  // Busy: blocks used more often than the idle time stay cached.
  for (let i = 0; i < 5; i++) {
    await sleep(40);
    torch.ones(BLOCK).dispose();
  }
  assert.ok(mem().cpuCachedBytes >= 128 * MiB, 'a cache in use is kept');
  await sleep(600); // idle 100 ms + the 250 ms release timer, with margin
  assert.equal(mem().cpuCachedBytes, 0, 'given back after the idle time');
  assert.ok(rss() - rss0 < 32 * MiB, `RSS back within 32 MiB (+${((rss() - rss0) / MiB).toFixed(1)} MiB)`);
  fresh();
});

test('a training-like loop reuses its blocks: cached plus live bytes stay flat over the steps', () => {
  fresh();
  const w = torch.randn([1], { requiresGrad: true });
  const step = () =>
    torch.tidy(() => {
      const x = torch.randn([BLOCK]); // 32 MiB, as its temporaries and gradients
      const loss = x.mul(w).relu().mul(w).sum();
      loss.backward();
      const g = w.grad.clone();
      w.grad = null;
      return g.abs().sum().item();
    });
  for (let i = 0; i < 3; i++) step(); // warm-up: the cache fills with this step's sizes
  const held0 = mem().cpuBytes + mem().cpuCachedBytes;
  for (let i = 0; i < 20; i++) step();
  const held = mem().cpuBytes + mem().cpuCachedBytes;
  assert.ok(Math.abs(held - held0) <= 1 * MiB, `live + cached moved by ${held - held0} bytes over 20 steps`);
  w.dispose();
  fresh();
});

test('configureCpuCache() checks its options', () => {
  const bad = [
    [{ limitBytes: -1 }, /limitBytes' must be a non-negative integer, got number -1/],
    [{ idleMs: 1.5 }, /idleMs' must be a non-negative integer, got number 1\.5/],
    [{ limitBytes: '1' }, /limitBytes' must be a non-negative integer/],
    [{ limit: 1 }, /unknown option 'limit'; it takes limitBytes, idleMs/],
    [null, /options' must be an object/],
  ];
  for (const [opts, re] of bad) {
    assert.throws(
      () => torch.configureCpuCache(opts),
      (e) => e instanceof torch.TorchError && e.code === 'ERR_TORCH_ARG' && re.test(e.message),
      JSON.stringify(opts),
    );
  }
  assert.deepEqual(torch.configureCpuCache(), defaults, 'a rejected call changes nothing');
});

// Medium storages (2 MiB up to the 32 MiB blocks) stay malloc's; with TORCH_NODE_THP=1 the whole
// 2 MiB pages inside them are advised for transparent huge pages (MADV_HUGEPAGE): the kernel marks
// that memory 'hg' in /proc/self/smaps. Off by default (first touch of fresh memory ran 2-5x slower
// on VMs whose hypervisor takes free memory back). Each case in a fresh process.
test('medium storages are advised for transparent huge pages only with TORCH_NODE_THP=1', (t) => {
  const fs = require('node:fs');
  const { spawnSync } = require('node:child_process');
  if (!fs.existsSync('/proc/self/smaps')) return t.skip('no /proc/self/smaps on this platform (Linux only)');
  const child = `
    const fs = require('fs');
    const hg = () => fs.readFileSync('/proc/self/smaps', 'utf8').split('\\n').filter((l) => l.startsWith('VmFlags:') && / hg( |$)/.test(l)).length;
    const before = hg();
    const torch = require(${JSON.stringify(require('node:path').join(__dirname, '..', 'dist'))});
    const xs = [];
    for (let i = 0; i < 4; i++) xs.push(torch.ones([(6 << 20) / 4]));
    const sum = xs.reduce((s, x) => s + x.sum().item(), 0);
    console.log(JSON.stringify({ before, after: hg(), sum }));
  `;
  const run = (env) => {
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const on = run({ TORCH_NODE_THP: '1' });
  const off = run({ TORCH_NODE_THP: undefined });
  const off0 = run({ TORCH_NODE_THP: '0' });
  assert.equal(off0.after, off0.before, 'TORCH_NODE_THP=0: no memory advised');
  assert.equal(on.sum, (4 * (6 << 20)) / 4, 'the values are unchanged');
  assert.equal(off.sum, on.sum);
  assert.equal(off.after, off.before, 'by default: no memory advised');
  assert.ok(on.after > on.before, `advised memory appears in /proc/self/smaps (${on.before} -> ${on.after} hg areas)`);
});
