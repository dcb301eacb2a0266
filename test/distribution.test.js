'use strict';
// `npm install torch-node` as a user meets it: the package is packed (with a prebuild made from the
// addon this checkout compiled), its file list checked, then installed into two fresh projects — a
// TypeScript ESM one ("type": "module") and a CommonJS one — with every compiler on PATH replaced by a
// shim that records being called. Each project type-checks a small program with tsc --noEmit, compiles
// and runs it (tensor math, a small model, save/load); no compiler may have run. A prebuild for another
// libtorch is refused with a clear message and a source build is attempted instead.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-dist-'));
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const { findLibtorch } = require('../scripts/libtorch');
const lt = findLibtorch({ fetch: false });

// Compilers replaced by shims that log their name and fail.
const shims = path.join(work, 'shims');
const shimLog = path.join(work, 'compilers-called.log');
fs.mkdirSync(shims);
for (const name of ['cmake', 'c++', 'g++', 'gcc', 'cc', 'clang', 'clang++', 'make', 'ninja']) {
  fs.writeFileSync(path.join(shims, name), `#!/bin/sh\necho "${name} $*" >> "${shimLog}"\nexit 1\n`, { mode: 0o755 });
}
const userEnv = {
  ...process.env,
  PATH: `${shims}${path.delimiter}${process.env.PATH}`,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
for (const k of Object.keys(userEnv))
  if (k.startsWith('npm_') && !['npm_config_audit', 'npm_config_fund', 'npm_config_update_notifier', 'npm_config_cache'].includes(k)) delete userEnv[k];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw r.error;
  return r;
}
const ok = (r, what) => assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);

/** The expected tarball layout: package.json, README, LICENSE, compiled JS and types, sources to build from, scripts, the prebuild. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^CMakeLists\.txt$/,
  /^dist\/.+\.(js|mjs|d\.ts)$/,
  /^common\/[a-z0-9-]+\.(js|d\.ts)$/,
  /^bin\/torch-node\.js$/,
  /^binding\/.+\.(cc|h|def)$/,
  /^scripts\/(install|libtorch|gloo-headers|cuda-headers|prebuild|prebuilds|build-ts|code-cache|efficientnet-lite0|wheels)\.js$/,
  /^prebuilds\/README\.md$/,
  /^prebuilds\/linux-x64\/torch-node\.libtorch-\d+\.\d+\.\d+\.(cpu|cuda)\.napi\.node$/,
  // torch.distributed's NCCL backend, next to a CUDA prebuild (built where CUDA's headers were found)
  /^prebuilds\/linux-x64\/torch-node\.libtorch-\d+\.\d+\.\d+\.cuda\.nccl\.so$/,
];

let tarball;

test('npm pack: the tarball holds the compiled library, types, sources, scripts and the prebuild, and nothing else', { timeout: 300_000 }, () => {
  // Stage the package as `npm pack` sees this checkout, then add a prebuild made from the addon
  // that `npm install` compiled here (scripts/prebuild.js --reuse; no second compile).
  const listing = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  ok(listing, 'npm pack --dry-run');
  const stage = path.join(work, 'stage');
  for (const { path: p } of JSON.parse(listing.stdout)[0].files) {
    fs.mkdirSync(path.dirname(path.join(stage, p)), { recursive: true });
    fs.copyFileSync(path.join(root, p), path.join(stage, p));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules')); // npm pack leaves it out
  ok(run(process.execPath, [path.join(stage, 'scripts', 'prebuild.js'), '--reuse', path.join(root, 'build')], { cwd: stage }), 'prebuild --reuse');
  const packed = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: stage });
  ok(packed, 'npm pack');
  const info = JSON.parse(packed.stdout)[0];
  tarball = path.join(work, info.filename);
  const files = info.files.map((f) => f.path);
  const unexpected = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
  assert.deepEqual(unexpected, [], 'nothing but the package files');
  for (const need of [
    'package.json',
    'LICENSE',
    'README.md',
    'CMakeLists.txt',
    'dist/index.js',
    'dist/index.mjs',
    'dist/index.d.ts',
    'scripts/install.js',
    'scripts/code-cache.js',
    'binding/registry.cc',
    'common/cache.js',
    'common/libtorch-version.js',
  ]) {
    assert.ok(files.includes(need), `${need} is in the tarball`);
  }
  const prebuild = files.find((f) => f.startsWith('prebuilds/linux-x64/') && f.endsWith('.napi.node'));
  assert.equal(prebuild, `prebuilds/linux-x64/torch-node.libtorch-${lt.version}.${lt.hasCuda ? 'cuda' : 'cpu'}.napi.node`);
  assert.ok(!files.some((f) => /^(test|bench|lib|node_modules|build)\//.test(f)), 'no tests, benches, TypeScript sources, modules or build outputs');
  console.log(
    `# tarball ${info.filename}: ${files.length} files, ${(info.size / 1048576).toFixed(1)} MiB packed, ${(info.unpackedSize / 1048576).toFixed(1)} MiB unpacked`,
  );
});

const PROGRAM = (importLine) => `${importLine}

const x: torch.Tensor = torch.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
const y = torch.tidy(() => x.matmul(x).add(1));
torch.manualSeed(0);
const make = () => new torch.nn.Sequential(new torch.nn.Linear(2, 3), new torch.nn.ReLU(), new torch.nn.Linear(3, 1));
const model = make();
const out: torch.Tensor = torch.noGrad(() => model.call(y));
torch.save(model.stateDict(), 'model.pt');
const sd = torch.load('model.pt') as Map<string, torch.Tensor>;
const copy = make();
const report: torch.nn.LoadResult = copy.loadStateDict(sd);
const out2: torch.Tensor = torch.noGrad(() => copy.call(y));
const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1 });
torch.tidy(() => {
  opt.zeroGrad();
  torch.nn.functional.mseLoss(model.call(y), torch.zeros(2, 1)).backward();
  opt.step();
});
console.log(JSON.stringify({
  y: y.tolist(),
  sameAfterLoad: torch.tidy(() => out.sub(out2).abs().max().item()) === 0,
  keys: [...sd.keys()],
  missing: report.missingKeys.length,
  stepped: torch.tidy(() => (model.at(0) as torch.nn.Linear).weight.sub((copy.at(0) as torch.nn.Linear).weight).abs().max().item()) > 0,
  version: torch.libtorchVersion,
}));
`;

const PROJECTS = {
  esm: {
    pkg: { name: 'user-esm-app', version: '1.0.0', private: true, type: 'module' },
    tsconfig: { module: 'nodenext', moduleResolution: 'nodenext' },
    program: PROGRAM("import * as torch from 'torch-node';"),
  },
  cjs: {
    pkg: { name: 'user-cjs-app', version: '1.0.0', private: true },
    tsconfig: { module: 'commonjs', moduleResolution: 'node10' },
    program: PROGRAM("import torch = require('torch-node');"),
  },
};

for (const [kind, project] of Object.entries(PROJECTS)) {
  test(`a fresh ${kind.toUpperCase()} TypeScript project installs the tarball with no compiler, type-checks and runs a program`, { timeout: 600_000 }, (t) => {
    if (!tarball) return t.skip('npm pack failed above');
    const dir = path.join(work, kind);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(project.pkg, null, 2));
    fs.rmSync(shimLog, { force: true });
    const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: dir, env: userEnv });
    ok(install, `npm install in the ${kind} project`);
    const log = install.stdout + install.stderr;
    assert.match(log, new RegExp(`torch-node: libtorch ${lt.version.replace(/\./g, '\\.')} from`));
    assert.match(log, /torch-node: using prebuilt prebuilds\/linux-x64\/torch-node\.libtorch-[\d.]+\.(cpu|cuda)\.napi\.node; no compiler needed/);
    assert.match(log, /torch-node: V8 code cache for \d+ modules/, 'the install wrote the code cache for this Node');
    assert.equal(fs.existsSync(shimLog) ? fs.readFileSync(shimLog, 'utf8') : '', '', 'no compiler, cmake, make or ninja was run');
    const installed = path.join(dir, 'node_modules', 'torch-node');
    assert.ok(!fs.existsSync(path.join(installed, 'build', 'Release')), 'nothing was compiled into the package');

    fs.writeFileSync(path.join(dir, 'main.ts'), project.program);
    const compilerOptions = { strict: true, target: 'ES2022', outDir: 'out', types: [], ...project.tsconfig };
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }, null, 2));
    ok(run(process.execPath, [tsc, '--noEmit', '-p', dir], { cwd: dir }), 'tsc --noEmit');
    ok(run(process.execPath, [tsc, '-p', dir], { cwd: dir }), 'tsc');
    const r = run(process.execPath, [path.join(dir, 'out', 'main.js')], { cwd: dir, env: userEnv });
    ok(r, `running the ${kind} program`);
    const got = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.deepEqual(got, {
      y: [
        [8, 11],
        [16, 23],
      ],
      sameAfterLoad: true,
      keys: ['0.weight', '0.bias', '2.weight', '2.bias'],
      missing: 0,
      stepped: true,
      version: lt.version,
    });
    assert.ok(fs.existsSync(path.join(dir, 'model.pt')));
  });
}

test('a prebuild for another libtorch is refused with a clear message, and a source build is tried instead', () => {
  if (!tarball) return;
  const pkg = path.join(work, 'other');
  fs.cpSync(path.join(work, 'stage'), pkg, { recursive: true });
  const preDir = path.join(pkg, 'prebuilds', 'linux-x64');
  for (const f of fs.readdirSync(preDir)) fs.renameSync(path.join(preDir, f), path.join(preDir, f.replace(/libtorch-\d+\.\d+\.\d+/, 'libtorch-2.9.1')));
  fs.rmSync(shimLog, { force: true });
  const r = run(process.execPath, [path.join(pkg, 'scripts', 'install.js')], { cwd: pkg, env: userEnv });
  assert.notEqual(r.status, 0, 'the source build fails: compilers are shims here');
  assert.match(r.stderr, new RegExp(`prebuilds are for libtorch 2\\.9\\.1, not ${lt.version.replace(/\./g, '\\.')}; building from source`));
  assert.match(r.stderr, /building the addon against libtorch .* failed .*A C\+\+20 compiler/);
  assert.match(fs.readFileSync(shimLog, 'utf8'), /cmake/, 'the source build was really tried');
});

test('clean up', () => {
  fs.rmSync(work, { recursive: true, force: true });
});
