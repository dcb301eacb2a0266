'use strict';
// `torch-node run` (lib/cli/run.ts), the torchrun counterpart: the launcher is run as a user runs it
// (node bin/torch-node.js run ...) on a fixture script written to a temp dir. Checked: torchrun's
// variables in every worker, the script's arguments passed through, a failing rank stopping the
// others (SIGTERM, then SIGKILL for a worker that ignores it) with the rank and exit code reported,
// signals to the launcher reaching the workers, no worker left running afterwards, and the usage
// errors (exit 2, the message naming the flag). Needs no addon and no network beyond loopback.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const BIN = path.join(__dirname, '..', 'bin', 'torch-node.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-run-'));
const FIXTURE = path.join(tmp, 'worker.js');
const VARS = [
  'RANK',
  'WORLD_SIZE',
  'LOCAL_RANK',
  'LOCAL_WORLD_SIZE',
  'GROUP_RANK',
  'GROUP_WORLD_SIZE',
  'ROLE_NAME',
  'ROLE_RANK',
  'ROLE_WORLD_SIZE',
  'MASTER_ADDR',
  'MASTER_PORT',
  'TORCHELASTIC_RUN_ID',
  'TORCHELASTIC_RESTART_COUNT',
  'TORCHELASTIC_MAX_RESTARTS',
  'TORCHELASTIC_USE_AGENT_STORE',
  'OMP_NUM_THREADS',
  'INHERITED_BY_WORKERS',
];

// The worker: `worker.js MODE DIR [args...]`. Every mode first writes DIR/pid-RANK.
fs.writeFileSync(
  FIXTURE,
  `'use strict';
const fs = require('fs');
const path = require('path');
const [mode, dir, ...args] = process.argv.slice(2);
const rank = process.env.RANK;
const world = Number(process.env.WORLD_SIZE);
fs.writeFileSync(path.join(dir, 'pid-' + rank), String(process.pid));
const env = {};
for (const k of ${JSON.stringify(VARS)}) if (process.env[k] !== undefined) env[k] = process.env[k];
const othersReady = () => { for (let r = 0; r < world; r++) if (!fs.existsSync(path.join(dir, 'pid-' + r))) return false; return true; };
const whenAllReady = (f) => { const t0 = Date.now(); const poll = () => (othersReady() || Date.now() - t0 > 5000 ? f() : setTimeout(poll, 10)); poll(); };
if (mode === 'env') {
  console.log(JSON.stringify({ env, args, pid: process.pid }));
} else if (mode === 'fail') {
  // rank 1 exits 3 once every worker has started; the others would sleep 30 s
  if (args.includes('stubborn') && rank === '0') process.on('SIGTERM', () => console.log('rank 0 ignores SIGTERM'));
  if (rank === '1') whenAllReady(() => process.exit(3));
  else setTimeout(() => {}, 30000);
} else if (mode === 'sleep') {
  setTimeout(() => {}, 30000);
} else if (mode === 'lines') {
  process.stdout.write('line one\\nline two\\npartial');
  process.stderr.write('to stderr\\n');
}
`,
);

let runs = 0;
/** Runs the launcher; resolves to { code, signal, stdout, stderr, ms, dir }. `onStart(child, dir)` may signal it. */
function launcher(args, { env = {}, onStart, mode, scriptArgs = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, `run${runs++}-`));
  const childEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const argv = mode ? [BIN, 'run', ...args, FIXTURE, mode, dir, ...scriptArgs] : [BIN, 'run', ...args];
  const t0 = Date.now();
  const child = spawn(process.execPath, argv, { env: childEnv, cwd: tmp });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const guard = setTimeout(() => child.kill('SIGKILL'), 20000);
  if (onStart) onStart(child, dir);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, dir });
    });
  });
}

const pidsIn = (dir) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('pid-'))
    .map((f) => [Number(f.slice(4)), Number(fs.readFileSync(path.join(dir, f), 'utf8'))]);
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
function assertNoneRunning(dir, expected) {
  const pids = pidsIn(dir);
  assert.equal(pids.length, expected, `pid files in ${dir}`);
  for (const [rank, pid] of pids) assert.ok(!alive(pid), `rank ${rank} (pid ${pid}) is still running`);
}
async function waitFor(cond, ms = 8000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
const records = (stdout) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .sort((a, b) => Number(a.env.RANK) - Number(b.env.RANK));

test('3 workers: torchrun variables for every rank, script args passed through', async () => {
  const r = await launcher(['--nproc-per-node', '3'], {
    mode: 'env',
    scriptArgs: ['--lr', '0.1', '--nproc-per-node', '7', 'x y'],
    env: { OMP_NUM_THREADS: undefined, INHERITED_BY_WORKERS: 'yes', TORCHELASTIC_USE_AGENT_STORE: 'True' },
  });
  assert.equal(r.code, 0, r.stderr);
  const recs = records(r.stdout);
  assert.deepEqual(
    recs.map((x) => x.env.RANK),
    ['0', '1', '2'],
    'each rank exactly once',
  );
  assert.equal(new Set(recs.map((x) => x.pid)).size, 3, 'three processes');
  const port = recs[0].env.MASTER_PORT;
  assert.match(port, /^\d+$/);
  assert.ok(Number(port) > 0 && Number(port) < 65536, `port ${port}`);
  for (const [i, { env, args }] of recs.entries()) {
    assert.deepEqual(env, {
      RANK: String(i),
      WORLD_SIZE: '3',
      LOCAL_RANK: String(i),
      LOCAL_WORLD_SIZE: '3',
      GROUP_RANK: '0',
      GROUP_WORLD_SIZE: '1',
      ROLE_NAME: 'default',
      ROLE_RANK: String(i),
      ROLE_WORLD_SIZE: '3',
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: port,
      TORCHELASTIC_RUN_ID: 'none',
      TORCHELASTIC_RESTART_COUNT: '0',
      TORCHELASTIC_MAX_RESTARTS: '0',
      OMP_NUM_THREADS: '1', // set because it was unset and N > 1 ...
      INHERITED_BY_WORKERS: 'yes', // the environment is inherited ...
      // ... but not TORCHELASTIC_USE_AGENT_STORE: this launcher hosts no store
    });
    assert.deepEqual(args, ['--lr', '0.1', '--nproc-per-node', '7', 'x y'], "options after the script are the script's");
  }
  assert.match(r.stderr, /Setting OMP_NUM_THREADS environment variable for each process to be 1 in default/);
  assertNoneRunning(r.dir, 3);
});

test('torchrun spellings, a given port and OMP_NUM_THREADS, one worker, multi-node ranks', async () => {
  let r = await launcher(['--nproc_per_node=2', '--master_port=29555', '--master-addr', 'localhost', '--rdzv-id', 'job7'], {
    mode: 'env',
    env: { OMP_NUM_THREADS: '4' },
  });
  assert.equal(r.code, 0, r.stderr);
  let recs = records(r.stdout);
  assert.deepEqual(
    recs.map((x) => [x.env.RANK, x.env.MASTER_ADDR, x.env.MASTER_PORT, x.env.OMP_NUM_THREADS, x.env.TORCHELASTIC_RUN_ID]),
    [
      ['0', 'localhost', '29555', '4', 'job7'],
      ['1', 'localhost', '29555', '4', 'job7'],
    ],
  );
  assert.doesNotMatch(r.stderr, /OMP_NUM_THREADS/, 'no warning when the user set it');

  r = await launcher([], { mode: 'env', env: { OMP_NUM_THREADS: undefined } });
  assert.equal(r.code, 0, r.stderr);
  recs = records(r.stdout);
  assert.deepEqual(
    recs.map((x) => [x.env.RANK, x.env.WORLD_SIZE, x.env.OMP_NUM_THREADS]),
    [['0', '1', undefined]],
    'default: one worker, OMP_NUM_THREADS left alone',
  );
  assert.equal(r.stderr, '');

  r = await launcher(['--nnodes', '2', '--node-rank', '1', '--nproc-per-node', '2', '--master-addr', '10.1.2.3', '--master-port', '29600'], { mode: 'env' });
  assert.equal(r.code, 0, r.stderr);
  recs = records(r.stdout);
  assert.deepEqual(
    recs.map((x) => [x.env.RANK, x.env.LOCAL_RANK, x.env.WORLD_SIZE, x.env.LOCAL_WORLD_SIZE, x.env.GROUP_RANK, x.env.GROUP_WORLD_SIZE, x.env.MASTER_ADDR]),
    [
      ['2', '0', '4', '2', '1', '2', '10.1.2.3'],
      ['3', '1', '4', '2', '1', '2', '10.1.2.3'],
    ],
  );
});

test('--prefix-output prefixes every line of both streams with [default<rank>]:', async () => {
  const r = await launcher(['--nproc-per-node', '2', '--prefix-output'], { mode: 'lines', env: { OMP_NUM_THREADS: '1' } });
  assert.equal(r.code, 0, r.stderr);
  for (const rank of [0, 1]) {
    assert.ok(r.stdout.includes(`[default${rank}]:line one\n[default${rank}]:line two\n`), r.stdout);
    assert.ok(r.stdout.includes(`[default${rank}]:partial\n`), 'an unterminated last line is written with a newline');
    assert.ok(r.stderr.includes(`[default${rank}]:to stderr\n`), r.stderr);
  }
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 6);
});

test('a failing rank stops the others; the launcher names the rank and its exit code', async () => {
  const r = await launcher(['--nproc-per-node', '3'], { mode: 'fail' });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms < 10000, `took ${r.ms} ms`);
  assert.match(r.stderr, /torch-node run: rank 1 \(local_rank 1, pid \d+\) exited with code 3; stopped the other 2 workers\n/);
  assert.match(r.stderr, /worker\.js FAILED/);
  assert.match(
    r.stderr,
    /Root Cause \(first observed failure\):\n\[0\]:\n {2}time {6}: \S+\n {2}host {6}: .*\n {2}rank {6}: 1 \(local_rank: 1\)\n {2}exitcode {2}: 3 \(pid: \d+\)\n/,
  );
  assert.match(r.stderr, /Failures:\n {2}<NO_OTHER_FAILURES>/, 'the workers the launcher stopped are not failures');
  assertNoneRunning(r.dir, 3);
});

test('a worker that ignores SIGTERM is killed after --term-timeout', async () => {
  const r = await launcher(['--nproc-per-node', '3', '--term-timeout', '1'], { mode: 'fail', scriptArgs: ['stubborn'] });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms >= 1000 && r.ms < 8000, `took ${r.ms} ms`);
  assert.match(r.stdout, /rank 0 ignores SIGTERM/);
  assert.match(r.stderr, /torch-node run: sent SIGKILL to rank 0: still running 1 s after being asked to stop\n/);
  assert.match(r.stderr, /rank 1 \(local_rank 1, pid \d+\) exited with code 3/);
  assertNoneRunning(r.dir, 3);
});

for (const [sig, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
]) {
  test(`${sig} to the launcher stops the workers; exit ${code}`, async () => {
    const r = await launcher(['--nproc-per-node', '2'], {
      mode: 'sleep',
      env: { OMP_NUM_THREADS: '1' },
      onStart: (child, dir) => {
        waitFor(() => fs.existsSync(path.join(dir, 'pid-0')) && fs.existsSync(path.join(dir, 'pid-1'))).then(
          () => child.kill(sig),
          () => child.kill('SIGKILL'),
        );
      },
    });
    assert.equal(r.code, code, `exit (stderr: ${r.stderr})`);
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
    assert.match(r.stderr, new RegExp(`torch-node run: received ${sig}; stopped 2 workers\\n`));
    assert.doesNotMatch(r.stderr, /FAILED/, 'workers stopped on request are not failures');
    assertNoneRunning(r.dir, 2);
  });
}

test('usage errors: exit 2, the message names the flag', () => {
  const cli = (...args) => spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', cwd: tmp, timeout: 10000 });
  const cases = [
    [[], /^torch-node: run: expected the script to run \(usage: torch-node run /],
    [['--nproc-per-node', '2'], /run: expected the script to run/],
    [['--nproc-per-node', '0', FIXTURE], /run: --nproc-per-node must be a positive integer, got '0'/],
    [['--nproc-per-node', 'two', FIXTURE], /run: --nproc-per-node must be a positive integer, got 'two'/],
    [['--nproc_per_node=1.5', FIXTURE], /run: --nproc-per-node must be a positive integer, got '1.5'/],
    [['--nproc-per-node'], /run: option '--nproc-per-node' needs a value/],
    [['--bogus', FIXTURE], /run: unknown option '--bogus' \(options: --nproc-per-node, /],
    [['--nnodes', '2', FIXTURE], /run: --master-port is required with --nnodes > 1/],
    [['--nnodes', '1:4', FIXTURE], /run: --nnodes '1:4': elastic MIN:MAX ranges are not supported/],
    [['--nnodes', '2', '--node-rank', '2', '--master-port', '1234', FIXTURE], /run: --node-rank must be an integer from 0 to 1, got '2'/],
    [['--master-port', '70000', FIXTURE], /run: --master-port must be an integer from 1 to 65535, got '70000'/],
    [['--term-timeout', 'soon', FIXTURE], /run: --term-timeout must be a number of seconds >= 0, got 'soon'/],
    [['--prefix-output=yes', FIXTURE], /run: option '--prefix-output' takes no value/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, /\nRun 'torch-node --help' for usage\.\n$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  }
  const missing = cli('--nproc-per-node', '2', path.join(tmp, 'missing.js'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^torch-node: run: .*missing\.js: no such file\n$/);
  const unknown = spawnSync(process.execPath, [BIN, 'launch'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'launch' \(commands: inspect, convert, run, help\)/);
});

test("help: torch-node --help lists run; run --help shows it; --help after the script is the script's", async () => {
  for (const args of [['--help'], ['run', '--help'], ['run', '--nproc-per-node', '2', '-h']]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /\n {2}run \[options\] SCRIPT \[ARGS\.\.\.\]\n/);
    assert.match(r.stdout, /--nproc-per-node N/);
  }
  const r = await launcher([], { mode: 'env', scriptArgs: ['--help'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(records(r.stdout)[0].args, ['--help']);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
