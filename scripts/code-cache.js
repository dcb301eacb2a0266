'use strict';
// Writes V8's code cache for dist/ (lib/code-cache.ts): a child process started with
// TORCH_NODE_CODE_CACHE=write requires torch-node, runs the paths a first call should not compile
// (torch.save / torch.load with and without mmap, safetensors, a module's forward and backward, an
// optimizer step, load_state_dict), then writes the bytecode V8 holds into the cache folder
// (~/.cache/torch-node/code-cache/, one file per Node version and install). Run by the TypeScript
// build and by `npm install` when dist/ ships prebuilt; a failure only means no cache. A cache
// already written for this dist/ as it is (same place, same sources) is kept: nothing to do.
//
//   node scripts/code-cache.js [--strict] [--force]
//     --strict: exit 1 when the cache cannot be written; --force: write it even when it is current
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const strict = process.argv.includes('--strict');
const force = process.argv.includes('--force');

function current() {
  try {
    return require(path.join(root, 'dist', 'code-cache')).codeCacheIsCurrent();
  } catch {
    return false; // no dist/ to ask: the child below says why
  }
}

function warmUp() {
  const torch = require(path.join(root, 'dist'));
  const { nn, optim } = torch;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-code-cache-'));
  try {
    torch.tidy(() => {
      const model = new nn.Sequential(
        new nn.Conv2d(3, 4, 3, { padding: 1 }),
        new nn.BatchNorm2d(4),
        new nn.ReLU(),
        new nn.AdaptiveAvgPool2d(1),
        new nn.Flatten(),
        new nn.Linear(4, 2),
      );
      const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const x = torch.randn([2, 3, 8, 8]);
      const loss = nn.functional.crossEntropy(model.forward(x), torch.tensor([0, 1]));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const file = path.join(dir, 'state.pt');
      torch.save({ model: model.stateDict(), optimizer: opt.stateDict(), epoch: 1 }, file);
      for (const mmap of [false, true]) {
        const ckpt = torch.load(file, { mmap, mapLocation: 'cpu' });
        model.loadStateDict(ckpt.get('model'));
        opt.loadStateDict(ckpt.get('optimizer'));
      }
      const st = path.join(dir, 'state.safetensors');
      torch.safetensors.saveFile(model.stateDict(), st);
      torch.safetensors.loadFile(st);
      model.eval();
      torch.noGrad(() => model.forward(x));
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return require(path.join(root, 'dist', 'code-cache')).writeCodeCache();
}

if (process.env.TORCH_NODE_CODE_CACHE === 'write') {
  const r = warmUp();
  console.log(JSON.stringify(r));
} else if (!force && current()) {
  console.error('torch-node: V8 code cache up to date');
} else {
  const r = spawnSync(process.execPath, [__filename, ...process.argv.slice(2)], {
    env: { ...process.env, TORCH_NODE_CODE_CACHE: 'write', OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  if (r.status === 0) {
    const { file, entries, bytes } = JSON.parse(r.stdout.trim().split('\n').pop());
    console.error(`torch-node: V8 code cache for ${entries} modules (${(bytes / 1e6).toFixed(1)} MB) in ${file}`);
  } else {
    console.error(`torch-node: no V8 code cache written (modules compile on first use):\n${(r.stderr || String(r.error)).trim()}`);
    if (strict) process.exit(1);
  }
}
