'use strict';
// Other JavaScript runtimes. Bun (its npm package, a devDependency: the binary inside) loads the
// addon and gives Node's results for tensors, autograd, a module, torch.load and a TorchScript
// forwardAsync. Electron is not checked here: its npm package downloads the binary from GitHub at
// install, which this project's machines cannot reach (README: Runtimes).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

// The platform package's binary (what bun's postinstall links to node_modules/.bin/bun).
const bun = [
  path.join(__dirname, '..', 'node_modules', '@oven', `bun-${process.platform}-${process.arch}`, 'bin', 'bun'),
  path.join(__dirname, '..', 'node_modules', '.bin', 'bun'),
].find((p) => fs.existsSync(p));
const version = bun ? spawnSync(bun, ['--version'], { encoding: 'utf8' }) : null;
const skip =
  version && version.status === 0 ? {} : { skip: `bun is not installed (npm ci installs it as a devDependency)${version ? `: ${version.stderr}` : ''}` };

const SCRIPT = `
const torch = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
(async () => {
  const out = {};
  const x = torch.arange(6, { dtype: 'float32' }).reshape([2, 3]).sin();
  out.matmul = x.matmul(x.t()).tolist();
  torch.manualSeed(0);
  const m = new torch.nn.Linear(3, 2);
  const y = m.call(x.requiresGrad_());
  y.square().sum().backward();
  out.grad = m.weight.grad.tolist();
  out.inputGrad = x.grad.tolist();
  const file = process.argv[2];
  torch.save(m.stateDict(), file);
  out.loaded = torch.load(file).get('bias').tolist();
  const traced = torch.jit.trace(m, [torch.zeros([1, 3])]);
  out.async = (await traced.forwardAsync(torch.ones([1, 3]))).tolist();
  out.live = torch.memory().liveTensors > 0;
  console.log(JSON.stringify(out));
})();
`;

test("Bun runs the addon and gives Node's results", skip, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bun-'));
  const script = path.join(dir, 'check.js');
  fs.writeFileSync(script, SCRIPT);
  const run = (cmd) => {
    const r = spawnSync(cmd, [script, path.join(dir, `${path.basename(cmd)}.pt`)], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const inBun = run(bun);
  const inNode = run(process.execPath);
  assert.deepEqual(inBun, inNode);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`bun ${version.stdout.trim()}: the same results as node ${process.version}`);
});
