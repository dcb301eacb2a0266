'use strict';
// torch.inductor.aotiLoadPackage against Python: a package compiled by Python's
// torch._inductor.aoti_compile_and_package (a Conv/BatchNorm/residual/Linear model with a dynamic
// batch of 1..64 and a dict output, the ranges in the `torch_node.inputs` metadata entry) gives
// Python's aoti_load_package outputs at three batch sizes; wrong dtype, rank, size, out-of-range batch
// and a CPU the package was not compiled for are TorchErrors; the package is unpacked into the
// cache (nothing in the temp folder); forwardAsync calls in parallel equal the sync result;
// loadConstants swaps weights; hostile packages are TorchErrors; nothing leaks. The compiled package
// is cached by torch version and script (compiling takes ~30 s); the Python outputs are computed live.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const torch = require('../dist');
const { runPython, findPython } = require('./helpers/python');

const compiler = ['c++', 'g++', 'clang++'].find((c) => !spawnSync(c, ['--version']).error);
const skip = compiler ? {} : { skip: "no C++ compiler here for Python's AOTInductor export step (c++, g++, clang++)" };
if (!compiler) console.log('AOTI tests skipped: ' + skip.skip);

const baseline = torch.memory().liveTensors;
const close = (a, b, what, tol = 1e-5) => {
  const d = a.sub(b).abs().max().item();
  assert.ok(d <= tol, `${what}: max difference ${d} > ${tol}`);
};

// Python: the model, its export and the package (compiled once per torch version and script), and
// the outputs of Python's aoti_load_package and of eager for batches 1, 4 and 7.
const EXPORT = `
import json, os, sys, hashlib, zipfile, shutil, warnings
warnings.filterwarnings('ignore')
import torch, torch.nn as nn
req = json.load(sys.stdin)
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv = nn.Conv2d(3, 8, 3, padding=1); s.bn = nn.BatchNorm2d(8); s.fc = nn.Linear(8, 5)
    def forward(s, x):
        y = torch.relu(s.bn(s.conv(x))) + s.conv(x)
        f = y.mean((2, 3))
        return {'logits': s.fc(f), 'features': f}
m = Net().eval()
with torch.no_grad():
    m.bn.running_mean.uniform_(-0.2, 0.2); m.bn.running_var.uniform_(0.5, 2.0)
def torch_node_inputs(ep):
    # What torch-node checks each input against: dtype and sizes, ranges for the dynamic ones.
    rc = {str(k): [int(v.lower), int(min(v.upper, 2**53))] for k, v in ep.range_constraints.items()}
    out = []
    for node in ep.graph.nodes:
        if node.op == 'placeholder' and node.name in ep.graph_signature.user_inputs:
            v = node.meta['val']
            out.append({'dtype': str(v.dtype).replace('torch.', ''),
                        'shape': [int(s) if isinstance(s, int) else rc[str(s)] for s in v.shape]})
    return json.dumps(out)
pkg = req['pkg']
if not os.path.exists(pkg):
    x = torch.randn(4, 3, 12, 12)
    ep = torch.export.export(m, (x,), dynamic_shapes={'x': {0: torch.export.Dim('batch', min=1, max=64)}})
    tmp = pkg + '.partial.pt2'
    torch._inductor.aoti_compile_and_package(ep, package_path=tmp, inductor_configs={
        'aot_inductor.metadata': {'torch_node.inputs': torch_node_inputs(ep)}})
    os.replace(tmp, pkg)
    sd = {k: v for k, v in m.state_dict().items()}
    torch.save(sd, pkg + '.weights.pt')
m.load_state_dict(torch.load(pkg + '.weights.pt'))
compiled = torch._inductor.aoti_load_package(pkg)
out = {'batches': {}}
for b in (1, 4, 7):
    x = torch.linspace(-1, 1, b * 3 * 12 * 12).reshape(b, 3, 12, 12).sin()
    with torch.no_grad():
        a = compiled(x); e = m(x)
    out['batches'][str(b)] = {'aoti': {k: v.reshape(-1).tolist() for k, v in a.items()}, 'eager': {k: v.reshape(-1).tolist() for k, v in e.items()}}
# Hostile variants, written next to the package: an entry escaping the folder, and a package whose
# metadata claims a CPU this one is not (the ISA list or the machine is rewritten).
def rewrite(dst, edit):
    with zipfile.ZipFile(pkg) as src, zipfile.ZipFile(dst, 'w') as out_zip:
        for info in src.infolist():
            data = src.read(info.filename)
            name, data = edit(info.filename, data)
            out_zip.writestr(name, data)
rewrite(req['escape'], lambda n, d: (n.replace('/data/aotinductor/', '/../../escape/') if n.endswith('.cpp') else n, d))
def other_cpu(n, d):
    if n.endswith('wrapper_metadata.json'):
        meta = json.loads(d); meta.update(req['cpu']); d = json.dumps(meta).encode()
    return n, d
rewrite(req['wrongIsa'], other_cpu)
print(json.dumps(out))
`;

let py;
let dir;
const files = {};
test.before(() => {
  if (!compiler) return;
  const cache = path.join(
    process.env.TORCH_NODE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'torch-node'),
    'test-aoti',
  );
  fs.mkdirSync(cache, { recursive: true });
  const key = crypto
    .createHash('sha256')
    .update(findPython().version + EXPORT)
    .digest('hex')
    .slice(0, 16);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-aoti-'));
  files.pkg = path.join(cache, `net-${key}.pt2`);
  files.escape = path.join(dir, 'escape.pt2');
  files.wrongIsa = path.join(dir, 'wrong-isa.pt2');
  // An instruction set this CPU lacks, or, where it has them all, another machine.
  const flags = (
    fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags')) || ''
  ).split(/\s+/);
  const lacking = [
    ['AVX512_FP16', 'avx512_fp16'],
    ['AMX_FP16', 'amx_fp16'],
    ['AMX_TILE', 'amx_tile'],
    ['AVX512', 'avx512f'],
  ].find(([, f]) => !flags.includes(f));
  files.cpu = lacking ? { AOTI_CPU_ISA: `AVX2 ${lacking[0]}` } : { AOTI_MACHINE: 'aarch64' };
  py = runPython(EXPORT, { pkg: files.pkg, escape: files.escape, wrongIsa: files.wrongIsa, cpu: files.cpu }, { timeout: 600000 });
});
test.after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

const input = (b) =>
  torch
    .linspace(-1, 1, b * 3 * 12 * 12)
    .reshape([b, 3, 12, 12])
    .sin();

test("outputs equal Python's aoti_load_package at batches 1, 4 and 7 (dict output, dynamic batch)", skip, () =>
  torch.tidy(() => {
    const m = torch.inductor.aotiLoadPackage(files.pkg);
    assert.deepEqual(
      m.inputSpecs.map((s) => [s.dtype, s.device, s.shape]),
      [['float32', 'cpu', [[1, 64], 3, 12, 12]]],
    );
    assert.ok(m.folder.startsWith(path.join(path.dirname(path.dirname(files.pkg)), 'aoti')), `unpacked into the cache: ${m.folder}`);
    for (const b of [1, 4, 7]) {
      const out = m.forward(input(b));
      assert.deepEqual(Object.keys(out), ['logits', 'features']);
      assert.deepEqual(out.logits.shape, [b, 5]);
      // The same compiled code on the same CPU: equal to Python's to float rounding; to eager within 1e-5.
      close(out.logits.reshape([-1]), torch.tensor(py.batches[b].aoti.logits), `batch ${b} logits vs Python AOTI`, 1e-6);
      close(out.features.reshape([-1]), torch.tensor(py.batches[b].aoti.features), `batch ${b} features vs Python AOTI`, 1e-6);
      close(out.logits.reshape([-1]), torch.tensor(py.batches[b].eager.logits), `batch ${b} logits vs Python eager`, 1e-5);
    }
    // A non-contiguous input is made contiguous first (the compiled code assumes contiguous strides).
    const x = input(4);
    const nc = x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
    assert.equal(nc.isContiguous(), false);
    close(m.forward(nc).logits, m.forward(x).logits, 'non-contiguous input', 0);
    m.dispose();
    assert.throws(() => m.forward(x), { code: 'ERR_TORCH_DISPOSED' });
  }),
);

test('inputs are checked before the call: dtype, rank, size, the declared batch range, count', skip, () =>
  torch.tidy(() => {
    const m = torch.inductor.aotiLoadPackage(files.pkg);
    const bad = [
      [input(2).double(), 'ERR_TORCH_DTYPE', /input 0 \(\w+\): expected dtype float32, got float64/],
      [torch.zeros([2, 3, 12]), 'ERR_TORCH_SHAPE', /expected 4 dimensions \[1\.\.64, 3, 12, 12\], got 3/],
      [torch.zeros([2, 3, 12, 13]), 'ERR_TORCH_SHAPE', /expected size 12 at dimension 3/],
      [torch.zeros([65, 3, 12, 12]), 'ERR_TORCH_SHAPE', /expected dimension 0 in the declared range 1\.\.64 .*got 65/],
      [[1, 2], 'ERR_TORCH_ARG', /must be a Tensor/],
    ];
    for (const [x, code, re] of bad)
      assert.throws(
        () => m.forward(x),
        (e) => e.code === code && re.test(e.message),
        String(code),
      );
    assert.throws(() => m.forward(input(1), input(1)), /input args must be an array of 1 \(a tuple when exported\), got an array of length 2/);
    // Declared specs override the metadata and must agree with the compiled code.
    assert.throws(
      () => torch.inductor.aotiLoadPackage(files.pkg, { inputs: [{ shape: [[1, 8], 3, 12, 11] }] }),
      /dimension 3 is declared 11 but the package was compiled for 12/,
    );
    const narrow = torch.inductor.aotiLoadPackage(files.pkg, { inputs: [{ shape: [[1, 8], 3, 12, 12] }] });
    assert.throws(() => narrow.forward(input(9)), /declared range 1\.\.8/);
    narrow.dispose();
    assert.throws(() => torch.inductor.aotiLoadPackage(files.pkg, { numRunners: 0 }), /argument 'numRunners' must be an integer from 1 to 256/);
    assert.throws(() => torch.inductor.aotiLoadPackage(files.pkg, { bogus: 1 }), /unknown option 'bogus'/);
    m.dispose();
  }),
);

test('a package for another CPU, an escaping entry, a non-package: TorchErrors, and nothing left in the temp folder', skip, () => {
  const loaderTemps = () =>
    fs.readdirSync(os.tmpdir()).filter((d) => {
      try {
        return (
          fs.existsSync(path.join(os.tmpdir(), d, 'data', 'aotinductor')) ||
          fs.readdirSync(path.join(os.tmpdir(), d)).some((s) => fs.existsSync(path.join(os.tmpdir(), d, s, 'data', 'aotinductor')))
        );
      } catch {
        return false;
      }
    });
  const before = loaderTemps();
  assert.throws(
    () => torch.inductor.aotiLoadPackage(files.wrongIsa),
    (e) =>
      e.code === 'ERR_TORCH_PLATFORM' &&
      /(instruction sets this CPU lacks|compiled for aarch64)/.test(e.message) &&
      (files.cpu.AOTI_MACHINE || /ATEN_CPU_CAPABILITY=avx2/.test(e.message)),
  );
  assert.throws(() => torch.inductor.aotiLoadPackage(files.escape), /an entry with an unsafe path/);
  const ckpt = path.join(dir, 'ckpt.pt');
  torch.tidy(() => torch.save(new Map([['w', torch.ones([2])]]), ckpt));
  assert.throws(() => torch.inductor.aotiLoadPackage(ckpt), /is not an AOTInductor package \(no data\/aotinductor\/ folder\)/);
  const truncated = path.join(dir, 'truncated.pt2');
  fs.writeFileSync(truncated, fs.readFileSync(files.pkg).subarray(0, 5000));
  assert.throws(() => torch.inductor.aotiLoadPackage(truncated), { name: 'TorchError' });
  assert.throws(() => torch.inductor.aotiLoadPackage(path.join(dir, 'missing.pt2')), { code: 'ERR_TORCH_IO' });
  assert.deepEqual(loaderTemps(), before, 'no unpacked package left in the temp folder');
});

test('forwardAsync: 8 calls over 2 runners equal the sync results; loadConstants swaps weights', skip, async () => {
  const m = torch.inductor.aotiLoadPackage(files.pkg, { numRunners: 2 });
  const xs = [1, 2, 3, 4, 5, 6, 7, 8].map((b) => torch.tidy(() => input(b)));
  const sync = xs.map((x) => m.forward(x));
  const outs = await Promise.all(xs.map((x) => m.forwardAsync(x)));
  torch.tidy(() => outs.forEach((o, i) => close(o.logits, sync[i].logits, `call ${i}`, 0)));
  const names = m.constantNames();
  assert.ok(names.includes('fc.weight'), names.join(', '));
  const sd = torch.load(files.pkg + '.weights.pt');
  torch.tidy(() => {
    m.loadConstants(new Map([['fc.weight', torch.zerosLike(sd.get('fc.weight'))]]));
    const zeroed = m.forward(xs[3]).logits;
    // With fc.weight zero every row is fc.bias: the output no longer depends on the input.
    close(zeroed, zeroed.narrow(0, 0, 1).expand([4, 5]), 'rows equal after zeroing fc.weight', 0);
    m.loadConstants({ 'fc.weight': sd.get('fc.weight') });
    close(m.forward(xs[3]).logits, sync[3].logits, 'weights restored', 1e-6);
    assert.throws(() => m.loadConstants({ nope: torch.ones([1]) }), /the package has no constant 'nope'/);
  });
  m.dispose();
  torch.dispose([xs, sync.map((o) => [o.logits, o.features]), outs.map((o) => [o.logits, o.features]), [...sd.values()]]);
});

const cudaSkip = !compiler ? skip : torch.cuda.isAvailable() ? {} : { skip: `CUDA unavailable: ${torch.cuda.unavailableReason()}` };
test("a CUDA package: outputs equal Python's on the GPU; CPU inputs are refused", cudaSkip, () => {
  const out = runPython(
    `
import json, sys, os, warnings
warnings.filterwarnings('ignore')
import torch, torch.nn as nn
req = json.load(sys.stdin)
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 10 * 10, 4)).cuda().eval()
x = torch.linspace(-1, 1, 2 * 3 * 12 * 12, device='cuda').reshape(2, 3, 12, 12)
ep = torch.export.export(m, (x,))
torch._inductor.aoti_compile_and_package(ep, package_path=req['pkg'])
with torch.no_grad():
    y = torch._inductor.aoti_load_package(req['pkg'])(x)
print(json.dumps({'y': y.reshape(-1).tolist()}))
`,
    { pkg: path.join(dir, 'cuda.pt2') },
    { timeout: 600000 },
  );
  torch.tidy(() => {
    const m = torch.inductor.aotiLoadPackage(path.join(dir, 'cuda.pt2'));
    assert.equal(m.metadata.AOTI_DEVICE_KEY, 'cuda');
    const x = torch.linspace(-1, 1, 2 * 3 * 12 * 12).reshape([2, 3, 12, 12]);
    const y = m.forward(x.to('cuda'));
    assert.equal(y.device, 'cuda:0');
    close(y.cpu().reshape([-1]), torch.tensor(out.y), 'CUDA package vs Python', 1e-5);
    assert.throws(() => m.forward(x), { code: 'ERR_TORCH_DEVICE' });
    m.dispose();
  });
});

test('no tensors leaked by this file', skip, () => {
  global.gc?.();
  assert.equal(torch.memory().liveTensors, baseline);
});
