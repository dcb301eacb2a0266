#!/usr/bin/env node
'use strict';
// An HTTP inference server with nothing but node:http: a TorchScript model answers POST /predict
// through ScriptModule.forwardAsync, which runs the model on libuv's thread pool, so the event loop
// stays free to accept, parse and answer other requests while models run.
//
//   node examples/server.js [--model file.pt] [--arch cnn|resnet18] [--port 3000] [--host 127.0.0.1]
//                           [--pool N] [--threads N] [--sync] [--save file.pt]
//
//   --model FILE   a TorchScript archive (torch.jit.save here, or torch.jit.save / .save in Python)
//   --arch NAME    without --model: build and trace a model at start-up, random init (seed 0):
//                  'cnn' (default; a small CNN on [N, 3, 32, 32]) or 'resnet18' (torch.vision's
//                  ResNet-18 on [N, 3, 224, 224])
//   --save FILE    save the traced --arch model (torch.jit.save) before serving
//   --pool N       forwards run in parallel on libuv's thread pool, N threads (UV_THREADPOOL_SIZE;
//                  default: the CPU cores. libuv's own default, 4, oversubscribes a 2-core machine
//                  and the event loop then waits for CPU; bench/README.md has the trade-off)
//   --threads N    libtorch's intra-op threads per forward (torch.setNumThreads; default 1: with
//                  several requests in flight, parallelism comes from running them side by side)
//   --sync         call forward() on the event loop instead (for comparison: it blocks the loop)
//
// Endpoints:
//   POST /predict   body: JSON {"input": [flat row-major numbers], "shape": [1, 3, 32, 32]}, or
//                   {"input": nested arrays}; or Content-Type application/octet-stream with raw
//                   little-endian float32 values and the shape in an X-Shape header ("1,3,32,32").
//                   Large inputs should use the binary form: parsing megabytes of JSON blocks
//                   the event loop as surely as a synchronous forward does.
//                   -> 200 {"shape": [1, 10], "output": [flat float32 values], "argmax": [3]}
//                   -> 400 bad input, 413 body too large, 500 the model failed: {"error", "code"}
//   GET  /stats     {"served", "inFlight", "liveTensors", "cpuBytes", "rssBytes", "heapUsedBytes",
//                   "eventLoopDelayMs": {p50, p99, max, mean, count}, "eventLoopUtilization"}:
//                   event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) and the
//                   share of time the loop was busy, since start or the last POST /stats/reset
//   POST /stats/reset
//   GET  /health    {"ok": true}
//
// SIGTERM / SIGINT: stop accepting, let the forwards in flight finish and answer, exit 0.
// `require('./examples/server')` gives { createServer, buildModel } for use in-process.
const http = require('node:http');
const os = require('node:os');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const torch = require('..');

const MAX_BODY = 64 * 1024 * 1024;

/** A small CNN for 3x32x32 inputs, written as a JS module (traced at start-up). */
class SmallCNN extends torch.nn.Module {
  constructor(numClasses = 10) {
    super();
    const { nn } = torch;
    this.registerModule(
      'features',
      new nn.Sequential(
        new nn.Conv2d(3, 16, 3, { padding: 1 }),
        new nn.BatchNorm2d(16),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(16, 32, 3, { padding: 1 }),
        new nn.BatchNorm2d(32),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
      ),
    );
    this.registerModule('head', new nn.Linear(32, numClasses));
  }
  forward(x) {
    const f = this.features.call(x).mean([2, 3]);
    return torch.nn.functional.softmax(this.head.call(f), 1);
  }
}

const ARCHS = {
  cnn: { make: () => new SmallCNN(), shape: [1, 3, 32, 32] },
  resnet18: { make: () => torch.vision.models.resnet18(), shape: [1, 3, 224, 224] },
};

/** Builds an architecture with random weights (seed 0), in eval mode, and traces it. */
function buildModel(arch = 'cnn') {
  const spec = ARCHS[arch];
  if (!spec) throw new Error(`unknown --arch '${arch}' (${Object.keys(ARCHS).join(', ')})`);
  torch.manualSeed(0);
  const eager = spec.make().eval();
  const example = torch.randn(spec.shape);
  const traced = torch.jit.trace(eager, example);
  example.dispose();
  // The traced module holds the same parameter tensors itself: the JS module's handles can go.
  eager.dispose();
  return { model: traced.eval(), inputShape: spec.shape };
}

class HttpError extends Error {
  constructor(status, message, code = 'ERR_BAD_REQUEST') {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `body larger than ${limit} bytes`, 'ERR_TOO_LARGE'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function parseShape(s) {
  const shape = String(s)
    .split(',')
    .map((d) => Number(d.trim()));
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new HttpError(400, `X-Shape must be comma-separated non-negative integers, got '${s}'`);
  }
  return shape;
}

// The request's input tensor (owned by the caller).
function inputTensor(req, body) {
  const type = (req.headers['content-type'] || '').split(';')[0].trim();
  if (type === 'application/octet-stream') {
    if (!req.headers['x-shape']) throw new HttpError(400, 'a binary body needs an X-Shape header');
    if (body.length % 4 !== 0) throw new HttpError(400, `a float32 body has a multiple of 4 bytes, got ${body.length}`);
    // A Float32Array view needs 4-byte alignment; Buffer.concat's result may not have it.
    const data = body.byteOffset % 4 === 0 ? new Float32Array(body.buffer, body.byteOffset, body.length / 4) : new Float32Array(Uint8Array.from(body).buffer);
    return torch.fromTypedArray(data, parseShape(req.headers['x-shape']));
  }
  let msg;
  try {
    msg = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not JSON: ${e.message}`);
  }
  if (!msg || !Array.isArray(msg.input)) throw new HttpError(400, "JSON body needs an 'input' array");
  if (msg.shape !== undefined) {
    if (!Array.isArray(msg.shape)) throw new HttpError(400, "'shape' must be an array");
    return torch.fromTypedArray(Float32Array.from(msg.input), msg.shape);
  }
  return torch.tensor(msg.input, { dtype: 'float32' });
}

// Output values, shape and the argmax over the last dimension (computed in JS from the values).
function describeOutput(y) {
  const shape = y.shape;
  const values = y.toTypedArray();
  const last = shape.length ? shape[shape.length - 1] : 1;
  const argmax = [];
  for (let row = 0; row + last <= values.length && last > 0; row += last) {
    let best = 0;
    for (let j = 1; j < last; j++) if (values[row + j] > values[row + best]) best = j;
    argmax.push(best);
  }
  return { shape, output: Array.from(values), argmax };
}

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * An http.Server answering with `model` (a ScriptModule). options: { sync: false, maxBodyBytes,
 * keepAliveTimeout (ms, default 65000) }.
 * server.stats() gives what GET /stats answers.
 */
function createServer(model, options = {}) {
  const sync = !!options.sync;
  const limit = options.maxBodyBytes ?? MAX_BODY;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let eluSince = performance.eventLoopUtilization();
  let served = 0;
  let inFlight = 0;

  async function predict(req, res) {
    const body = await readBody(req, limit);
    const x = inputTensor(req, body);
    let y;
    inFlight++;
    try {
      // The input may be disposed as soon as forwardAsync returns: the call holds its own reference.
      y = sync ? torch.inferenceMode(() => model.forward(x)) : await model.forwardAsync(x);
    } catch (e) {
      throw new HttpError(500, e.message, e.code || 'ERR_TORCH');
    } finally {
      inFlight--;
      x.dispose();
    }
    try {
      send(res, 200, describeOutput(y));
    } finally {
      y.dispose();
    }
    served++;
  }

  const stats = () => {
    const ms = (ns) => ns / 1e6;
    return {
      served,
      inFlight,
      liveTensors: torch.memory().liveTensors,
      cpuBytes: torch.memory().cpuBytes,
      rssBytes: process.memoryUsage().rss,
      heapUsedBytes: process.memoryUsage().heapUsed,
      eventLoopDelayMs: {
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        max: ms(delay.max),
        mean: ms(delay.mean),
        count: delay.count,
      },
      // The share of time the event loop was busy (not waiting for I/O) over the same span.
      eventLoopUtilization: performance.eventLoopUtilization(eluSince).utilization,
    };
  };

  const server = http.createServer((req, res) => {
    const route = `${req.method} ${req.url.split('?')[0]}`;
    let work;
    if (route === 'POST /predict') work = predict(req, res);
    else if (route === 'GET /stats') work = Promise.resolve(send(res, 200, stats()));
    else if (route === 'POST /stats/reset') {
      delay.reset();
      eluSince = performance.eventLoopUtilization();
      work = Promise.resolve(send(res, 200, { ok: true }));
    } else if (route === 'GET /health') work = Promise.resolve(send(res, 200, { ok: true }));
    else work = Promise.reject(new HttpError(404, `no route ${route}`, 'ERR_NOT_FOUND'));
    work.catch((e) => {
      const status = e instanceof HttpError ? e.status : e instanceof torch.TorchError ? 400 : 500;
      if (!res.headersSent) send(res, status, { error: e.message, code: e.code || 'ERR_INTERNAL' });
      else res.destroy();
    });
  });
  // Keep-alive: Node closes a connection idle for keepAliveTimeout (5 s by default) when its timer
  // fires; after the event loop was busy for longer (sync forwards of a large model, a burst), every
  // idle connection's timer fires at once while clients are already writing their next request on
  // them, and each such request is reset (ECONNRESET). Idle connections are kept for a minute instead
  // (longer than the usual client and proxy idle timeouts, so the client closes first), and the
  // header timeout must exceed it, as Node requires.
  server.keepAliveTimeout = options.keepAliveTimeout ?? 65_000;
  server.headersTimeout = server.keepAliveTimeout + 1_000;
  server.stats = stats;
  server.on('close', () => delay.disable());
  return server;
}

function parseArgs(argv) {
  const o = { model: null, arch: 'cnn', port: 3000, host: '127.0.0.1', pool: null, threads: 1, sync: false, save: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--model') o.model = val();
    else if (a === '--arch') o.arch = val();
    else if (a === '--port') o.port = Number(val());
    else if (a === '--host') o.host = val();
    else if (a === '--pool') o.pool = Number(val());
    else if (a === '--threads') o.threads = Number(val());
    else if (a === '--save') o.save = val();
    else if (a === '--sync') o.sync = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  // libuv reads UV_THREADPOOL_SIZE when the pool starts, at the first piece of work queued on it:
  // setting it here, before any, is in time.
  if (o.pool !== null) process.env.UV_THREADPOOL_SIZE = String(o.pool);
  else if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(os.availableParallelism?.() ?? os.cpus().length);
  torch.setNumThreads(o.threads);
  let model;
  if (o.model) {
    model = torch.jit.load(o.model).eval();
  } else {
    model = buildModel(o.arch).model;
    if (o.save) torch.jit.save(model, o.save);
  }
  const server = createServer(model, { sync: o.sync });
  server.listen(o.port, o.host, () => {
    const { port } = server.address();
    process.stdout.write(
      `listening on http://${o.host}:${port} (${o.model || o.arch}, ${o.sync ? 'sync forward' : 'forwardAsync'}, ` +
        `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}, ${torch.getNumThreads()} intra-op thread(s) per forward)\n`,
    );
  });
  // Stop accepting, let the forwards in flight finish and answer, then exit (keep-alive
  // connections would otherwise hold server.close() open).
  const stop = () => {
    server.close();
    const exitWhenIdle = () => {
      if (server.stats().inFlight > 0) return setTimeout(exitWhenIdle, 5);
      model.dispose();
      process.exit(0);
    };
    exitWhenIdle();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

module.exports = { createServer, buildModel, SmallCNN };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`examples/server.js: ${e.message}\n`);
    process.exit(1);
  }
}
