'use strict';
// `npm install` runs this: find (or fetch) libtorch, then use a matching prebuild from prebuilds/
// when there is one, else compile the addon with cmake-js against the libtorch found.
// Writes build/config.json: which libtorch the addon was built for and which Python has torch.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibtorch } = require('./libtorch');
const { findPrebuild } = require('./prebuilds');
const { findGlooHeaders } = require('./gloo-headers');
const { findCudaHeaders } = require('./cuda-headers');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force-compile');

function writeConfig(lt, binary) {
  const dir = path.join(root, 'build');
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    libtorchVersion: lt.version,
    libtorchRoot: lt.root,
    libtorchSource: lt.source,
    cxx11abi: lt.cxx11abi,
    hasCudaLibrary: lt.hasCuda,
    python: lt.python || null,
    // Relative to the package, so a moved package still finds it.
    binary: path.relative(root, binary),
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  // The addon's RUNPATH starts with $ORIGIN/../../build/libtorch-lib: point it at this libtorch.
  const link = path.join(dir, 'libtorch-lib');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(lt.libDir, link);
}

function main() {
  let lt;
  try {
    lt = findLibtorch();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  console.error(`torch-node: libtorch ${lt.version} from ${lt.source}${lt.tested ? '' : ' (not a version torch-node was tested with)'}`);

  if (!force) {
    const pre = findPrebuild(root, lt);
    if (pre.file) {
      console.error(`torch-node: using prebuilt ${path.relative(root, pre.file)}; no compiler needed`);
      writeConfig(lt, pre.file);
      return;
    }
    if (pre.note) console.error(`torch-node: ${pre.note}; building from source`);
  }

  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const args = [cmakeJs, 'compile', `--CDLIBTORCH_ROOT=${lt.root}`, `--CDTORCH_CXX11_ABI=${lt.cxx11abi}`];
  // torch.distributed's Gloo backend needs gloo's headers (scripts/gloo-headers.js); without them the
  // addon builds all the same and torch.distributed.isAvailable() gives the reason.
  const gloo = findGlooHeaders();
  if (gloo.include) args.push(`--CDGLOO_INCLUDE=${gloo.include}`);
  else {
    console.error(`torch-node: building without torch.distributed's Gloo backend: ${gloo.reason}`);
    args.push(`--CDGLOO_UNAVAILABLE_REASON=${gloo.reason}`);
  }
  // The NCCL backend (binding/nccl/, an optional library next to the addon) needs CUDA's and NCCL's
  // headers (scripts/cuda-headers.js); without them it is not built and isNcclAvailable() says why.
  const cuda = findCudaHeaders(lt);
  if (cuda.includes) args.push(`--CDNCCL_INCLUDES=${cuda.includes.join(';')}`);
  else {
    if (lt.hasCuda) console.error(`torch-node: building without torch.distributed's NCCL backend: ${cuda.reason}`);
    args.push(`--CDNCCL_UNAVAILABLE_REASON=${cuda.reason}`);
  }
  // `cmake-js compile` reuses an existing configuration: one made without these settings (an older
  // checkout's build/) is dropped so that CMake configures again (objects are kept).
  const cache = path.join(root, 'build', 'CMakeCache.txt');
  const want = [
    gloo.include ? `GLOO_INCLUDE:UNINITIALIZED=${gloo.include}` : 'GLOO_UNAVAILABLE_REASON:',
    cuda.includes ? `NCCL_INCLUDES:UNINITIALIZED=${cuda.includes.join(';')}` : 'NCCL_UNAVAILABLE_REASON:',
  ];
  if (fs.existsSync(cache) && !want.every((w) => fs.readFileSync(cache, 'utf8').includes(w))) fs.rmSync(cache);
  if (process.env.TORCH_NODE_DEBUG === '1') args.push('--debug');
  console.error(`torch-node: node ${args.map((a) => (path.basename(a) === 'cmake-js' ? 'cmake-js' : a)).join(' ')}`);
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: process.env.CMAKE_BUILD_PARALLEL_LEVEL || '2' },
  });
  if (r.status !== 0) {
    console.error(
      `torch-node: building the addon against libtorch ${lt.version} (${lt.root}) failed (exit ${r.status}). ` +
        'A C++20 compiler (g++ 11+), cmake 3.15+ and ninja or make are needed; see the output above.',
    );
    process.exit(1);
  }
  writeConfig(lt, path.join(root, 'build', 'Release', 'torch_node.node'));
}

main();
// With dist/ shipped prebuilt (an installed package), the V8 code cache for this Node is written now;
// in a checkout the TypeScript build (`prepare`) writes it after compiling dist/.
if (fs.existsSync(path.join(root, 'dist', 'code-cache.js'))) {
  spawnSync(process.execPath, [path.join(__dirname, 'code-cache.js')], { cwd: root, stdio: 'inherit' });
}
