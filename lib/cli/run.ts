/**
 * `torch-node run`: the torch-node counterpart of PyTorch's `torchrun` for machines without Python.
 *
 *   torch-node run --nproc-per-node N [--nnodes 1] [--node-rank 0] [--master-addr 127.0.0.1]
 *                  [--master-port P] [--prefix-output] [--term-timeout 5] script.js [script args...]
 *
 * It starts N workers `node script.js args...` (this Node, process.execPath; NODE_OPTIONS and the rest
 * of the environment are inherited) and gives each the variables torchrun gives its workers:
 *
 *   RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK (the node rank), GROUP_WORLD_SIZE,
 *   ROLE_NAME ('default'), ROLE_RANK, ROLE_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
 *   TORCHELASTIC_RUN_ID ('none' unless --rdzv-id), TORCHELASTIC_RESTART_COUNT (0),
 *   TORCHELASTIC_MAX_RESTARTS (0), TORCH_NCCL_ASYNC_ERROR_HANDLING (inherited, else 1), and
 *   OMP_NUM_THREADS=1 when it is unset and N > 1 (with torchrun's warning).
 *
 * The launcher hosts no store: rank 0 hosts the rendezvous TCPStore in the user's program
 * (`torch.distributed.initProcessGroup()` with init method env://, which reads MASTER_ADDR/PORT).
 * So, unlike torchrun, it does not set TORCHELASTIC_USE_AGENT_STORE, and it removes one inherited from
 * the environment (an outer torchrun's), which would otherwise send the workers to a store that is
 * not there.
 *
 * --master-port: when not given, the launcher picks a free port (binds port 0 on MASTER_ADDR, reads
 * the port, closes it) where torchrun defaults to 29500: two jobs on one machine then do not clash.
 * There is a short window between closing the port and rank 0 binding it in which another program
 * could take it; pass --master-port to rule that out. With --nnodes > 1 every node must agree on the
 * port, so --master-port is required there.
 *
 * Multi-node (--nnodes > 1) is static: run the same command on every node with its --node-rank and
 * the same --master-addr/--master-port (node 0's address); RANK = nodeRank * N + localRank,
 * WORLD_SIZE = nnodes * N. No elastic features (no restarts, no --nnodes MIN:MAX, no rdzv backends).
 *
 * Failure handling as torchrun's: when a worker exits non-zero (or is killed by a signal) the others
 * get SIGTERM, then SIGKILL after --term-timeout seconds (default 5); the launcher prints which rank
 * failed with which exit code or signal (a short form of torchrun's ChildFailedError summary) and
 * exits 1. SIGINT, SIGTERM and SIGHUP sent to the launcher are forwarded to the workers (the same
 * grace period, then SIGKILL; a second signal kills at once) and the launcher exits 128 + the signal
 * number. It exits 0 when every worker exits 0.
 *
 * torchrun itself works too: `torchrun --nproc-per-node=2 --no-python node train.js` starts the
 * workers the same way, but then MASTER_ADDR/MASTER_PORT name torchrun's agent store and
 * TORCHELASTIC_USE_AGENT_STORE=True tells rank 0 to connect to it as a client instead of hosting
 * one; initProcessGroup follows that variable as PyTorch does.
 */
import * as net from 'net';
import * as os from 'os';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, type ChildProcess } from 'child_process';

export interface RunIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A mistake on the `run` command line; main.ts turns it into its UsageError (exit 2). */
export class RunUsageError extends Error {}

export interface RunOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** undefined: pick a free port. */
  masterPort?: number;
  runId: string;
  prefixOutput: boolean;
  /** Seconds between SIGTERM and SIGKILL when stopping workers. */
  termTimeout: number;
  script: string;
  scriptArgs: string[];
}

export const RUN_USAGE =
  'torch-node run [--nproc-per-node N] [--nnodes 1] [--node-rank 0] [--master-addr 127.0.0.1] [--master-port P] [--prefix-output] [--term-timeout 5] script.js [args...]';

/** Option name -> [canonical name, takes a value]. torchrun's underscore spellings are aliases. */
const OPTIONS: Record<string, [string, boolean]> = {
  '--nproc-per-node': ['--nproc-per-node', true],
  '--nproc_per_node': ['--nproc-per-node', true],
  '--nnodes': ['--nnodes', true],
  '--node-rank': ['--node-rank', true],
  '--node_rank': ['--node-rank', true],
  '--master-addr': ['--master-addr', true],
  '--master_addr': ['--master-addr', true],
  '--master-port': ['--master-port', true],
  '--master_port': ['--master-port', true],
  '--rdzv-id': ['--rdzv-id', true],
  '--rdzv_id': ['--rdzv-id', true],
  '--prefix-output': ['--prefix-output', false],
  '--term-timeout': ['--term-timeout', true],
  '--standalone': ['--standalone', false],
  '--help': ['--help', false],
  '-h': ['--help', false],
};

const CANONICAL = [...new Set(Object.values(OPTIONS).map(([c]) => c))].filter((c) => c !== '--help');

function intOption(name: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
    throw new RunUsageError(`run: ${name} must be ${range}, got '${v}'`);
  }
  return Number(v);
}

/** Parses `run`'s arguments: launcher options, then the script; everything after the script is its own.
 *  'help' when --help / -h comes before the script. */
export function parseRunArgs(args: string[]): RunOptions | 'help' {
  const got = new Map<string, string | true>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const opt = OPTIONS[name];
    if (!opt) throw new RunUsageError(`run: unknown option '${name}' (options: ${CANONICAL.join(', ')}; the script's own options go after the script)`);
    const [canon, takesValue] = opt;
    if (!takesValue) {
      if (eq > 0) throw new RunUsageError(`run: option '${name}' takes no value`);
      if (canon === '--help') return 'help';
      got.set(canon, true);
      continue;
    }
    const v = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (v === undefined || v === '') throw new RunUsageError(`run: option '${name}' needs a value`);
    got.set(canon, v);
  }
  if (i >= args.length) throw new RunUsageError(`run: expected the script to run (usage: ${RUN_USAGE})`);
  const script = args[i];
  const scriptArgs = args.slice(i + 1);

  const str = (k: string) => got.get(k) as string | undefined;
  const nprocPerNode = str('--nproc-per-node') === undefined ? 1 : intOption('--nproc-per-node', str('--nproc-per-node')!, 1);
  const nnodesRaw = str('--nnodes');
  if (nnodesRaw?.includes(':')) {
    const [lo, hi] = nnodesRaw.split(':');
    if (lo !== hi) throw new RunUsageError(`run: --nnodes '${nnodesRaw}': elastic MIN:MAX ranges are not supported; give the number of nodes`);
  }
  const nnodes = nnodesRaw === undefined ? 1 : intOption('--nnodes', nnodesRaw.split(':')[0], 1);
  const nodeRank = str('--node-rank') === undefined ? 0 : intOption('--node-rank', str('--node-rank')!, 0, nnodes - 1);
  if (got.has('--standalone') && nnodes !== 1) throw new RunUsageError('run: --standalone means one node; it cannot go with --nnodes > 1');
  const masterPort = str('--master-port') === undefined ? undefined : intOption('--master-port', str('--master-port')!, 1, 65535);
  if (nnodes > 1 && masterPort === undefined) {
    throw new RunUsageError('run: --master-port is required with --nnodes > 1 (every node must use the same port)');
  }
  const masterAddr = str('--master-addr') ?? '127.0.0.1';
  let termTimeout = 5;
  if (str('--term-timeout') !== undefined) {
    termTimeout = Number(str('--term-timeout'));
    if (!Number.isFinite(termTimeout) || termTimeout < 0 || str('--term-timeout')!.trim() === '') {
      throw new RunUsageError(`run: --term-timeout must be a number of seconds >= 0, got '${str('--term-timeout')}'`);
    }
  }
  return {
    nprocPerNode,
    nnodes,
    nodeRank,
    masterAddr,
    masterPort,
    runId: str('--rdzv-id') ?? 'none',
    prefixOutput: got.has('--prefix-output'),
    termTimeout,
    script,
    scriptArgs,
  };
}

/** A port free on `host` now: bind port 0, read it, close. Falls back to all interfaces if `host` cannot be bound. */
export function freePort(host: string): Promise<number> {
  const tryListen = (h: string | undefined) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      const onListening = () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      };
      if (h === undefined) srv.listen(0, onListening);
      else srv.listen(0, h, onListening);
    });
  return tryListen(host).catch(() => tryListen(undefined));
}

/** The environment torchrun gives worker `localRank` (without the inherited variables). */
export function workerEnv(o: RunOptions, localRank: number, masterPort: number): Record<string, string> {
  const worldSize = o.nnodes * o.nprocPerNode;
  const rank = o.nodeRank * o.nprocPerNode + localRank;
  return {
    LOCAL_RANK: String(localRank),
    RANK: String(rank),
    GROUP_RANK: String(o.nodeRank),
    ROLE_RANK: String(rank),
    ROLE_NAME: 'default',
    LOCAL_WORLD_SIZE: String(o.nprocPerNode),
    WORLD_SIZE: String(worldSize),
    GROUP_WORLD_SIZE: String(o.nnodes),
    ROLE_WORLD_SIZE: String(worldSize),
    MASTER_ADDR: o.masterAddr,
    MASTER_PORT: String(masterPort),
    TORCHELASTIC_RESTART_COUNT: '0',
    TORCHELASTIC_MAX_RESTARTS: '0',
    TORCHELASTIC_RUN_ID: o.runId,
    TORCH_NCCL_ASYNC_ERROR_HANDLING: process.env.TORCH_NCCL_ASYNC_ERROR_HANDLING ?? '1',
  };
}

const OMP_WARNING =
  '\n*****************************************\n' +
  'Setting OMP_NUM_THREADS environment variable for each process to be 1 in default, to avoid your system ' +
  'being overloaded, please further tune the variable for optimal performance in your application as needed. \n' +
  '*****************************************\n';

interface Worker {
  localRank: number;
  rank: number;
  child: ChildProcess;
  pid?: number;
  exited: boolean;
  closed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
  time?: Date;
}

interface Failure {
  w: Worker;
  time: Date;
}

/** Splits a stream into lines and writes each with `prefix`; `flush` writes a last unterminated line. */
function linePrefixer(prefix: string, write: (t: string) => void): { push(chunk: Buffer): void; flush(): void } {
  let rest = '';
  return {
    push(chunk) {
      const text = rest + chunk.toString('utf8');
      const lines = text.split('\n');
      rest = lines.pop()!;
      if (lines.length) write(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    flush() {
      if (rest) write(`${prefix}${rest}\n`);
      rest = '';
    },
  };
}

function describeExit(w: Worker): string {
  if (w.spawnError) return `could not be started: ${w.spawnError.message}`;
  if (w.signal) return `was killed by signal ${w.signal}`;
  return `exited with code ${w.code}`;
}

function exitcodeOf(w: Worker): number {
  if (w.signal) return -(os.constants.signals[w.signal] ?? 1);
  return w.code ?? 1;
}

function failureBlock(f: Failure, i: number): string[] {
  const w = f.w;
  const lines = [
    `[${i}]:`,
    `  time      : ${f.time.toISOString()}`,
    `  host      : ${os.hostname()}`,
    `  rank      : ${w.rank} (local_rank: ${w.localRank})`,
    `  exitcode  : ${exitcodeOf(w)} (pid: ${w.pid ?? 'none'})`,
  ];
  if (w.signal) lines.push(`  signal    : ${w.signal} (${os.constants.signals[w.signal] ?? '?'})`);
  if (w.spawnError) lines.push(`  error     : ${w.spawnError.message}`);
  return lines;
}

/** Runs the workers; resolves to the launcher's exit code. */
export async function launch(o: RunOptions, io: RunIo): Promise<number> {
  const scriptPath = path.resolve(o.script);
  if (!fs.existsSync(scriptPath)) {
    let found = false;
    try {
      require.resolve(scriptPath);
      found = true;
    } catch {
      /* reported below */
    }
    if (!found) {
      io.stderr(`torch-node: run: ${o.script}: no such file\n`);
      return 1;
    }
  }

  const masterPort = o.masterPort ?? (await freePort(o.masterAddr));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.TORCHELASTIC_USE_AGENT_STORE; // our launcher hosts no store (see the header)
  if (env.OMP_NUM_THREADS === undefined && o.nprocPerNode > 1) {
    io.stderr(OMP_WARNING);
    env.OMP_NUM_THREADS = '1';
  }

  const workers: Worker[] = [];
  const failures: Failure[] = [];
  type Stop = { reason: 'failure' } | { reason: 'signal'; signal: NodeJS.Signals };
  let stopping = null as Stop | null; // 'as': assigned in callbacks, which TypeScript's narrowing does not see
  let killTimer: NodeJS.Timeout | undefined;
  let killedAfterTimeout: Worker[] = [];
  const decisions = new Set<NodeJS.Timeout>(); // deferred failure decisions (see 'exit')
  const closeTimers = new Set<NodeJS.Timeout>();

  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const checkDone = () => {
    if (workers.every((w) => w.exited && w.closed)) finish();
  };

  const running = () => workers.filter((w) => !w.exited && !w.spawnError);
  const sendAll = (sig: NodeJS.Signals) => {
    for (const w of running()) {
      try {
        w.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  const stopAll = (sig: NodeJS.Signals) => {
    sendAll(sig);
    if (killTimer === undefined && running().length) {
      killTimer = setTimeout(() => {
        killedAfterTimeout = running();
        sendAll('SIGKILL');
      }, o.termTimeout * 1000);
    }
  };

  const onWorkerFailed = (w: Worker) => {
    if (stopping) return; // exits caused by our own stopping are not failures
    failures.push({ w, time: w.time ?? new Date() });
    stopping = { reason: 'failure' };
    stopAll('SIGTERM');
  };

  // Signals to the launcher: forward them to the workers; a second one kills them at once.
  const signals: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping && stopping.reason === 'signal') {
      sendAll('SIGKILL');
      return;
    }
    if (!stopping) stopping = { reason: 'signal', signal: sig };
    stopAll(sig);
  };
  for (const s of signals) process.on(s, onSignal);

  try {
    for (let localRank = 0; localRank < o.nprocPerNode; localRank++) {
      const we = workerEnv(o, localRank, masterPort);
      const child = spawn(process.execPath, [o.script, ...o.scriptArgs], {
        env: { ...env, ...we },
        stdio: o.prefixOutput ? ['inherit', 'pipe', 'pipe'] : 'inherit',
      });
      const w: Worker = { localRank, rank: Number(we.RANK), child, pid: child.pid, exited: false, closed: false, code: null, signal: null };
      workers.push(w);
      if (o.prefixOutput) {
        const prefix = `[default${w.rank}]:`;
        const out = linePrefixer(prefix, (t) => io.stdout(t));
        const err = linePrefixer(prefix, (t) => io.stderr(t));
        child.stdout!.on('data', (c: Buffer) => out.push(c));
        child.stderr!.on('data', (c: Buffer) => err.push(c));
        child.stdout!.on('end', () => out.flush());
        child.stderr!.on('end', () => err.flush());
      }
      child.on('error', (e) => {
        // spawn failed (no pid), or a kill failed (ignored: the worker is gone or going)
        if (child.pid !== undefined || w.exited) return;
        w.spawnError = e;
        w.exited = true;
        w.closed = true;
        w.time = new Date();
        onWorkerFailed(w);
        checkDone();
      });
      child.once('exit', (code, signal) => {
        w.exited = true;
        w.code = code;
        w.signal = signal;
        w.time = new Date();
        if (code !== 0) {
          if (signal && signal !== 'SIGKILL') {
            // A worker killed by SIGINT/SIGTERM may have got the same signal as the launcher (Ctrl-C
            // reaches the whole process group): give the launcher's own handler a moment to run first.
            const t = setTimeout(() => {
              decisions.delete(t);
              onWorkerFailed(w);
            }, 100);
            decisions.add(t);
          } else {
            onWorkerFailed(w);
          }
        }
        // With piped output, wait for the pipes to drain, but not forever (a grandchild may hold them).
        const t = setTimeout(() => {
          closeTimers.delete(t);
          w.closed = true;
          checkDone();
        }, 2000);
        closeTimers.add(t);
        checkDone();
      });
      child.once('close', () => {
        w.closed = true;
        checkDone();
      });
      if (stopping) break; // a signal arrived while starting: start no more workers
    }
    // Workers started after a stop was decided (between spawn calls) get the signal too.
    if (stopping) stopAll(stopping.reason === 'signal' ? stopping.signal : 'SIGTERM');
    checkDone();
    await allDone;
    // Let a pending failure decision (see 'exit') land before reporting.
    while (decisions.size) await new Promise((r) => setTimeout(r, 20));
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    if (killTimer) clearTimeout(killTimer);
    for (const t of [...decisions, ...closeTimers]) clearTimeout(t);
  }

  const st = stopping;
  if (killedAfterTimeout.length) {
    io.stderr(
      `torch-node run: sent SIGKILL to rank${killedAfterTimeout.length > 1 ? 's' : ''} ${killedAfterTimeout.map((w) => w.rank).join(', ')}: still running ${o.termTimeout} s after being asked to stop\n`,
    );
  }
  if (st?.reason === 'signal') {
    io.stderr(`torch-node run: received ${st.signal}; stopped ${workers.length} worker${workers.length === 1 ? '' : 's'}\n`);
    return 128 + (os.constants.signals[st.signal] ?? 1);
  }
  if (failures.length) {
    const [root, ...others] = failures;
    const stopped = workers.filter((w) => !failures.some((f) => f.w === w) && (w.code !== 0 || w.signal)).length;
    const out = [
      `torch-node run: rank ${root.w.rank} (local_rank ${root.w.localRank}, pid ${root.w.pid ?? 'none'}) ${describeExit(root.w)}` +
        (stopped ? `; stopped the other ${stopped} worker${stopped === 1 ? '' : 's'}` : ''),
      'ChildFailedError:',
      '='.repeat(60),
      `${o.script} FAILED`,
      '-'.repeat(60),
      'Failures:',
      ...(others.length ? others.flatMap((f, i) => failureBlock(f, i + 1).map((l) => `  ${l}`)) : ['  <NO_OTHER_FAILURES>']),
      '-'.repeat(60),
      'Root Cause (first observed failure):',
      ...failureBlock(root, 0),
      '='.repeat(60),
    ];
    io.stderr(out.join('\n') + '\n');
    return 1;
  }
  return 0;
}
