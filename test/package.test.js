'use strict';
// The package as users meet it: ESM and CommonJS entries, the TypeScript types, and the loader's and
// libtorch discovery's error messages.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const node = (args, opts = {}) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', ...opts });

test('ESM entry: named, namespace and default imports', () => {
  const code = `
    import * as torch from 'torch-node';
    import def, { tensor, zeros, tidy, cuda, TorchError } from 'torch-node';
    import { var as variance } from 'torch-node';
    const t = tensor([[1, 2], [3, 4]], { dtype: 'float32' });
    if (String(t.add(zeros(2, 2))) !== 'tensor([[1., 2.],\\n        [3., 4.]])') throw new Error('bad value');
    if (def.tensor !== torch.tensor || typeof variance !== 'function' || typeof cuda.isAvailable !== 'function') throw new Error('bad exports');
    if (!(new TorchError('x') instanceof Error)) throw new Error('bad TorchError');
    console.log(tidy(() => variance(t).item()).toFixed(4));
  `;
  const r = node(['--input-type=module', '-e', code]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1.6667');
});

test('CommonJS entry', () => {
  const r = node(['-e', "const torch = require('torch-node'); console.log(torch.ones(3).sum().item(), typeof torch.noGrad)"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '3 function');
});

test('TypeScript: a strict program type-checks against the generated .d.ts, and misuse does not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-types-'));
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'commonjs',
      lib: ['ES2022', 'ESNext.Disposable'],
      types: [],
      baseUrl: '.',
      paths: { 'torch-node': [path.join(root, 'dist', 'index.d.ts')] },
      skipLibCheck: false,
    },
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...config, files: ['good.ts'] }));
  fs.writeFileSync(
    path.join(dir, 'good.ts'),
    `import * as torch from 'torch-node';
     const x: torch.Tensor = torch.randn(2, 3, { requiresGrad: true });
     const d: torch.DType = x.dtype;
     const shape: number[] = x.shape;
     const { values, indices } = x.max(1);
     const [maxValues, argmaxes] = torch.max(x, 1);
     const sorted: torch.Tensor = x.sort(1, true).values;
     const top: torch.Tensor[] = [...x.topk(2)];
     const named: torch.ValuesIndices = x.min(0);
     const whole: torch.Tensor = torch.max(x).add(torch.min(x, x).sum());
     const y = torch.tidy(() => x.matmul(torch.ones([3, 2])).relu().sum());
     y.backward();
     const g: torch.Tensor | null = x.grad;
     const n: number = torch.noGrad(() => x.mul(2).sum().item());
     const m: torch.MemoryInfo = torch.memory();
     const why: string | null = torch.cuda.unavailableReason();
     const parts: torch.Tensor[] = torch.chunk(x, 2, 1);
     const sel = x.index([0, torch.slice(1, 3)]);
     const { nn } = torch;
     const F = nn.functional;
     class Net extends nn.Module {
       conv = this.registerModule('conv', new nn.Conv2d(3, 8, 3, { padding: 1 }));
       bn = this.registerModule('bn', new nn.BatchNorm2d(8));
       fc = this.registerModule('fc', new nn.Linear(8, 10));
       forward(x: torch.Tensor) {
         const h = F.adaptiveAvgPool2d(this.bn.call(this.conv.call(x)).relu(), 1);
         return this.fc.call(h.flatten(1));
       }
     }
     const model = new Net();
     const r: torch.nn.LoadResult = model.loadStateDict(model.stateDict(), { strict: false });
     model.registerModule('fc', new nn.Linear(model.fc.inFeatures, 5));
     const frozen: string[] = torch.freeze(model);
     torch.unfreeze(model, 'fc.*');
     const loss: torch.Tensor = F.crossEntropy(model.call(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1]));
     export { d, shape, values, indices, maxValues, argmaxes, sorted, top, named, whole, g, n, m, why, parts, sel, r, frozen, loss };`,
  );
  const good = node([tsc, '-p', dir]);
  assert.equal(good.status, 0, good.stdout + good.stderr);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...config, files: ['bad.ts'] }));
  fs.writeFileSync(
    path.join(dir, 'bad.ts'),
    "import * as torch from 'torch-node';\nconst d: torch.DType = 'float128';\ntorch.zeros(2).add('x');\nexport { d };\n",
  );
  const bad = node([tsc, '-p', dir]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout, /float128/);
  assert.match(bad.stdout, /bad\.ts\(3,/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('loading an addon built for another libtorch version names both versions and the fix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-ver-'));
  fs.mkdirSync(path.join(dir, 'include', 'torch', 'headeronly'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'include', 'torch', 'headeronly', 'version.h'),
    '#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 14\n#define TORCH_VERSION_PATCH 1\n',
  );
  const real = JSON.parse(fs.readFileSync(path.join(root, 'build', 'config.json'), 'utf8'));
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ ...real, libtorchRoot: dir }));
  const r = node(['-e', "try { require('./dist') } catch (e) { console.log(e.name + ': ' + e.message); process.exit(3) }"], {
    env: { ...process.env, TORCH_NODE_CONFIG: cfg },
  });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /TorchError: torch-node was built against libtorch 2\.15\.\d+, but .* now holds libtorch 2\.14\.1/);
  assert.match(r.stdout, /npm rebuild torch-node/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('when no addon can be loaded, one error lists every attempt and the fix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-pkg-'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  const r = node(['-e', `try { require(${JSON.stringify(path.join(dir, 'dist'))}) } catch (e) { console.log(e.message); process.exit(3) }`], {
    env: { ...process.env, TORCH_NODE_BINARY: path.join(dir, 'nope.node') },
  });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /could not load its native addon\. Tried:/);
  assert.match(r.stdout, /nope\.node: not there/);
  assert.match(r.stdout, /build[/]Release[/]torch_node\.node: not there/);
  assert.match(r.stdout, /npm install/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a binary that fails to load is reported with the loader message', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-bad-'));
  const bad = path.join(dir, 'broken.node');
  fs.writeFileSync(bad, 'not an ELF file');
  const pkg = path.join(dir, 'pkg');
  fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  const r = node(['-e', `try { require(${JSON.stringify(path.join(pkg, 'dist'))}) } catch (e) { console.log(e.message); process.exit(3) }`], {
    env: { ...process.env, TORCH_NODE_BINARY: bad },
  });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /broken\.node: .*(invalid ELF header|file too short)/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('libtorch discovery: LIBTORCH pointing at a wrong folder is a clear error', () => {
  const r = node([path.join(root, 'scripts', 'libtorch.js'), '--no-fetch'], { env: { ...process.env, LIBTORCH: '/nonexistent/libtorch' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /LIBTORCH=\/nonexistent\/libtorch cannot be used: .*has no lib\/libtorch_cpu\.so: not a libtorch folder/);
});

test('libtorch discovery: a libtorch 1.x is refused with the version named', () => {
  const { describeRoot } = require('../scripts/libtorch');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-lt-'));
  fs.mkdirSync(path.join(dir, 'lib'));
  for (const f of ['libtorch_cpu.so', 'libc10.so']) fs.writeFileSync(path.join(dir, 'lib', f), '');
  fs.mkdirSync(path.join(dir, 'include', 'ATen'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'include', 'ATen', 'ATen.h'), '');
  fs.mkdirSync(path.join(dir, 'include', 'torch', 'csrc', 'api', 'include', 'torch'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'include', 'torch', 'csrc', 'api', 'include', 'torch', 'version.h'),
    '#define TORCH_VERSION_MAJOR 1\n#define TORCH_VERSION_MINOR 13\n#define TORCH_VERSION_PATCH 1\n',
  );
  assert.throws(() => describeRoot(dir, 'test'), /is libtorch 1\.13\.1; torch-node needs libtorch 2\.x \(pinned 2\.15\.0\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('libtorch discovery: with nothing found and fetching forbidden, the error lists every attempt', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-cache-'));
  const env = { ...process.env, TORCH_NODE_CACHE: cache, TORCH_NODE_SKIP_FETCH: '1', TORCH_NODE_PYTHON: '/nonexistent/python' };
  delete env.LIBTORCH;
  const r = node([path.join(root, 'scripts', 'libtorch.js')], { env: { ...env, PATH: '/nonexistent' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /could not find libtorch\. Tried:/);
  assert.match(r.stderr, /\/nonexistent\/python: not found/);
  assert.match(r.stderr, /skipped because TORCH_NODE_SKIP_FETCH=1/);
  assert.match(r.stderr, /set LIBTORCH/);
  fs.rmSync(cache, { recursive: true, force: true });
});

test('the library never requires scripts/ (install-time code): it runs from dist/ and common/ alone', () => {
  const requiresScripts = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js') && /require\((['"])[./]*scripts\//.test(fs.readFileSync(p, 'utf8'))) requiresScripts.push(path.relative(root, p));
    }
  };
  walk(path.join(root, 'dist'));
  assert.deepEqual(requiresScripts, [], 'no file in dist/ requires scripts/');
  // A package without scripts/: the loader checks the build's libtorch version (common/libtorch-version.js)
  // and EfficientNet-Lite0's weights path comes from common/efficientnet-lite0.js.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-noscripts-'));
  for (const d of ['dist', 'common']) fs.cpSync(path.join(root, d), path.join(dir, d), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  const code = `const t = require(${JSON.stringify(path.join(dir, 'dist'))});
    console.log(t.ones(2).sum().item(), t.libtorchVersion, require('path').basename(t.vision.models.efficientnetLite0CachedWeights()));`;
  const r = node(['-e', code], {
    env: {
      ...process.env,
      TORCH_NODE_BINARY: path.join(root, 'build', 'Release', 'torch_node.node'),
      TORCH_NODE_CONFIG: path.join(root, 'build', 'config.json'),
      TORCH_NODE_CACHE: path.join(dir, 'cache'),
    },
  });
  assert.equal(r.status, 0, r.stderr);
  const { headerVersion } = require('../common/libtorch-version');
  const cfg = JSON.parse(fs.readFileSync(path.join(root, 'build', 'config.json'), 'utf8'));
  assert.equal(r.stdout.trim(), `2 ${headerVersion(cfg.libtorchRoot)} efficientnet-lite0-57934424.pth`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('libtorch discovery finds the libtorch this addon was built with', () => {
  const { headerVersion } = require('../scripts/libtorch');
  const cfg = JSON.parse(fs.readFileSync(path.join(root, 'build', 'config.json'), 'utf8'));
  assert.equal(headerVersion(cfg.libtorchRoot), require('../dist').libtorchVersion);
});
