'use strict';
const { makeUsage, makePosInt } = require('./args');
// Inference off the event loop: examples/server.js under load, in its own process, with the
// client in this one. For each case the server starts fresh (a model traced at start-up, random
// init), takes a warm-up, then `--requests` POST /predict requests from `--concurrency` clients,
// each sending its next request as soon as its last one is answered (keep-alive agent; raw float32
// bodies, so the client's and server's JSON costs stay out of the way). Recorded: throughput, client-side latency, and the server's own event-loop
// delay while the requests were in flight (perf_hooks.monitorEventLoopDelay, 1 ms resolution,
// reset after the warm-up) and the share of that time its event loop was busy ("loop busy",
// performance.eventLoopUtilization), read from GET /stats.
//
// The goal (issue "Async API for TypeScript servers"): with forwardAsync, the server's event-loop
// delay p99 < 5 ms while requests are in flight. The sync rows (forward() on the event loop) are
// the comparison. Every answer is checked against the first answer for the same input (the inputs
// cycle through 16), so a wrong answer fails the run.
//
//   node bench/async.js [--arch cnn|resnet18|all] [--modes async,sync] [--requests N]
//                       [--concurrency C] [--pool N] [--threads N] [--json]
//
//   --arch         cnn: examples/server.js's small CNN, [1, 3, 32, 32]; resnet18: torch.vision's
//                  ResNet-18, [1, 3, 224, 224] (default: all)
//   --requests N   per case (default 2000 for cnn, 200 for resnet18)
//   --concurrency  requests in flight (default 64)
//   --pool N       the server's --pool: UV_THREADPOOL_SIZE (default: the server's, the CPU cores)
//   --threads N    the server's torch.setNumThreads (default 1)
//
// Exit status: 0 whether or not the goal is met; 1 when a case could not be measured or an
// answer was wrong. Also run by bench/run.js (skip with --no-async).
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const GOAL_P99_MS = 5;
const ARCHS = {
  cnn: { shape: [1, 3, 32, 32], requests: 2000 },
  resnet18: { shape: [1, 3, 224, 224], requests: 200 },
};
const DISTINCT_INPUTS = 16;

function parseArgs(argv) {
  const o = { archs: Object.keys(ARCHS), modes: ['async', 'sync'], requests: null, concurrency: 64, pool: null, threads: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--arch') {
      const v = val();
      o.archs = v === 'all' ? Object.keys(ARCHS) : v.split(',');
      for (const k of o.archs) if (!ARCHS[k]) usage(`unknown arch '${k}'`);
    } else if (a === '--modes') {
      o.modes = val().split(',');
      for (const m of o.modes) if (m !== 'async' && m !== 'sync') usage(`unknown mode '${m}'`);
    } else if (a === '--requests') o.requests = posInt(a, val());
    else if (a === '--concurrency') o.concurrency = posInt(a, val());
    else if (a === '--pool') o.pool = posInt(a, val());
    else if (a === '--threads') o.threads = posInt(a, val());
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') usage(null);
    else usage(`unknown argument ${a}`);
  }
  return o;
}

function usage(err) {
  const text = 'usage: node bench/async.js [--arch cnn|resnet18|all] [--modes async,sync] [--requests N] [--concurrency C] [--pool N] [--threads N] [--json]';
  makeUsage('bench/async.js', text)(err);
}
const posInt = makePosInt(usage);

// ---- the server process -----------------------------------------------------------------------------
function startServer(arch, mode, pool, threads) {
  const args = [path.join(root, 'examples', 'server.js'), '--arch', arch, '--port', '0', '--threads', String(threads)];
  if (pool) args.push('--pool', String(pool));
  if (mode === 'sync') args.push('--sync');
  const env = { ...process.env };
  delete env.UV_THREADPOOL_SIZE;
  const proc = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]), banner: out.trim() });
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${stderr}`)));
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.proc.on('exit', (code) => resolve(code));
    server.proc.kill('SIGTERM');
  });
}

// ---- the client ---------------------------------------------------------------------------------------
function client(port, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  // Resolves with the body's text (the caller parses it when it needs to).
  const call = (method, urlPath, body, headers) =>
    new Promise((resolve, reject) => {
      let retried = false;
      const send = () => {
        const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent, headers }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`${method} ${urlPath}: ${res.statusCode} ${text}`));
            else resolve(text);
          });
        });
        // A request written on a reused idle socket that the server closed meanwhile is reset before
        // anything is answered: retried once on a fresh socket (Node's documented pattern). The
        // server keeps idle sockets for a minute (examples/server.js), so this is the rare race.
        req.on('error', (e) => {
          if (req.reusedSocket && e.code === 'ECONNRESET' && !retried) {
            retried = true;
            send();
          } else reject(e);
        });
        req.end(body);
      };
      send();
    });
  return { call, close: () => agent.destroy() };
}

function inputs(shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = [];
  let s = 12345;
  for (let k = 0; k < DISTINCT_INPUTS; k++) {
    const a = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      a[j] = (s / 4294967296) * 4 - 2;
    }
    out.push(Buffer.from(a.buffer));
  }
  return out;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function runCase(arch, mode, o) {
  const spec = ARCHS[arch];
  const requests = o.requests ?? spec.requests;
  const server = await startServer(arch, mode, o.pool, o.threads);
  const c = client(server.port, o.concurrency);
  const bodies = inputs(spec.shape);
  const headers = { 'Content-Type': 'application/octet-stream', 'X-Shape': spec.shape.join(',') };
  const answers = new Array(DISTINCT_INPUTS).fill(null);
  let wrong = 0;
  const one = async (i) => {
    const k = i % DISTINCT_INPUTS;
    const t0 = performance.now();
    const text = await c.call('POST', '/predict', bodies[k], headers);
    const ms = performance.now() - t0;
    // The answer for an input is the same JSON text every time (kept cheap: the client shares the CPU).
    if (answers[k] === null) answers[k] = text;
    else if (answers[k] !== text) wrong++;
    return ms;
  };
  // `concurrency` workers, each sending its next request when its last one is answered.
  const load = async (count) => {
    const lat = [];
    let next = 0;
    const worker = async () => {
      while (next < count) lat.push(await one(next++));
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, count) }, worker));
    return lat;
  };
  try {
    // Warm-up: the executor's profiling runs, sockets, allocators.
    await load(Math.min(requests, 2 * o.concurrency));
    await c.call('POST', '/stats/reset');
    const t0 = performance.now();
    const lat = await load(requests);
    const seconds = (performance.now() - t0) / 1000;
    const stats = JSON.parse(await c.call('GET', '/stats'));
    lat.sort((a, b) => a - b);
    const d = stats.eventLoopDelayMs;
    return {
      arch,
      mode,
      requests,
      concurrency: o.concurrency,
      pool: Number(/UV_THREADPOOL_SIZE=(\d+)/.exec(server.banner)[1]),
      threads: o.threads,
      seconds,
      perSecond: requests / seconds,
      latencyMs: { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] },
      eventLoopDelayMs: { p50: d.p50, p99: d.p99, max: d.max, mean: d.mean },
      eventLoopUtilization: stats.eventLoopUtilization,
      wrongAnswers: wrong,
      liveTensors: stats.liveTensors,
      rssMb: stats.rssBytes / 2 ** 20,
      goal: mode === 'async' ? (d.p99 < GOAL_P99_MS ? 'PASS' : 'MISS') : 'n/a',
      banner: server.banner,
    };
  } finally {
    c.close();
    await stopServer(server);
  }
}

async function runAsyncBench(options = {}) {
  const o = { ...parseArgs([]), ...options };
  const log = options.log || (() => {});
  const cases = [];
  for (const arch of o.archs) {
    for (const mode of o.modes) {
      log(`async bench: ${arch} ${mode}…`);
      const r = await runCase(arch, mode, o);
      log(` ${r.perSecond.toFixed(0)}/s, event-loop p99 ${r.eventLoopDelayMs.p99.toFixed(2)} ms\n`);
      cases.push(r);
    }
  }
  const os = require('os');
  return {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
    goal: `server event-loop delay p99 < ${GOAL_P99_MS} ms with forwardAsync`,
    cases,
    pass: cases.every((c) => c.goal !== 'MISS'),
    ok: cases.every((c) => c.wrongAnswers === 0),
  };
}

function formatAsyncBench(res) {
  const rows = [
    [
      'model',
      'mode',
      'requests',
      'req/s',
      'latency p50 ms',
      'latency p99 ms',
      'loop busy',
      'loop delay p50 ms',
      'loop delay p99 ms',
      'loop delay max ms',
      `p99<${GOAL_P99_MS}ms`,
    ],
  ];
  for (const c of res.cases) {
    rows.push([
      c.arch,
      c.mode === 'async' ? 'forwardAsync' : 'sync forward',
      String(c.requests),
      c.perSecond.toFixed(0),
      c.latencyMs.p50.toFixed(1),
      c.latencyMs.p99.toFixed(1),
      `${(100 * c.eventLoopUtilization).toFixed(0)}%`,
      c.eventLoopDelayMs.p50.toFixed(2),
      c.eventLoopDelayMs.p99.toFixed(2),
      c.eventLoopDelayMs.max.toFixed(2),
      c.goal,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const c0 = res.cases[0];
  return [
    `examples/server.js under load (bench/async.js) — ${res.date}`,
    `${c0 ? `concurrency ${c0.concurrency}, UV_THREADPOOL_SIZE ${c0.pool}, ${c0.threads} intra-op thread(s) per forward; ` : ''}raw float32 bodies; client in another process on the same machine`,
    '',
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
    `verdict: ${res.pass ? 'PASS' : 'MISS'} — ${res.goal}` +
      (res.pass
        ? ''
        : ` (missed by: ${res.cases
            .filter((c) => c.goal === 'MISS')
            .map((c) => `${c.arch} ${c.eventLoopDelayMs.p99.toFixed(2)} ms`)
            .join(', ')})`) +
      (res.ok ? '; every answer matched' : '; WRONG ANSWERS (see wrongAnswers in --json)'),
  ].join('\n');
}

module.exports = { runAsyncBench, formatAsyncBench };

if (require.main === module) {
  const o = parseArgs(process.argv.slice(2));
  runAsyncBench({ ...o, log: (s) => process.stderr.write(s) })
    .then((res) => {
      process.stdout.write((o.json ? JSON.stringify(res, null, 2) : formatAsyncBench(res)) + '\n');
      if (!res.ok) process.exitCode = 1;
    })
    .catch((e) => {
      process.stderr.write(`bench/async.js: ${e?.stack ? e.stack : e}\n`);
      process.exit(1);
    });
}
