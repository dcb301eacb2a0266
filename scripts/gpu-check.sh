#!/usr/bin/env bash
# The GPU check, prepared for a session that is lent a device machine (the device tool). That machine
# has Python PyTorch (its own version: the addon is built against it), nvcc, cmake and ninja, but no
# Node and no network, so this machine packs what it needs into .gpu/ (ignored by git):
#
#   here:    bash scripts/gpu-check.sh prepare
#   there:   device run: command "bash scripts/gpu-check.sh run", carry [".gpu", "dist"], timeout_s 560
#
# `run` builds the addon (and torch.distributed's NCCL library, binding/nccl/, from the toolkit's and
# the nvidia wheels' headers) against the device's torch, then runs the CUDA tests (test/cuda.test.js:
# tensors, autograd, tensor and module backward hooks on CUDA), the porting and distributed tests (NCCL
# collectives beside Gloo and DDP on CUDA among them), and the fine-tune bench on the GPU; the logs
# land in $OUT. Packed: the node binary (xz), the node_modules
# the build and those tests need (no TypeScript: dist/ is carried built), and gloo's headers.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
prepare)
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  rm -rf .gpu && mkdir -p .gpu
  node scripts/build-ts.js
  xz -T0 -9 -c "$(command -v node)" >.gpu/node.xz
  tar -cJf .gpu/node_modules.tar.xz --exclude=node_modules/typescript --exclude='node_modules/@types' \
    --exclude='node_modules/@napi-rs' --exclude='node_modules/@img' --exclude=node_modules/chart.js \
    --exclude='node_modules/@oven' --exclude=node_modules/bun --exclude='node_modules/@biomejs' node_modules
  gloo=$(node scripts/gloo-headers.js) && tar -C "$gloo" -cJf .gpu/gloo-include.tar.xz gloo
  du -sh .gpu dist
  ;;
run)
  out=${OUT:-/tmp/gpu-check-out}
  mkdir -p "$out" /tmp/gpu-node/bin /tmp/gpu-gloo
  xz -dc .gpu/node.xz >/tmp/gpu-node/bin/node && chmod +x /tmp/gpu-node/bin/node
  export PATH=/tmp/gpu-node/bin:$PATH
  tar -xJf .gpu/node_modules.tar.xz
  tar -C /tmp/gpu-gloo -xJf .gpu/gloo-include.tar.xz
  # TORCH_NODE_WERROR=0: the device's compiler and torch (2.11) may warn where this machine's do not.
  export TORCH_NODE_GLOO_INCLUDE=/tmp/gpu-gloo TORCH_NODE_SKIP_FETCH=1 CMAKE_BUILD_PARALLEL_LEVEL=16 TORCH_NODE_WERROR=0
  nvidia-smi -L | tee "$out/gpu.txt" || true
  { node scripts/install.js --force-compile 2>&1 | tail -30; } | tee "$out/build.log"
  set +e
  node -e "const d = require('./dist').distributed; console.log('NCCL', d.isNcclAvailable(), d.ncclVersion(), d.unavailableReason('nccl'))" 2>&1 | tee "$out/nccl.txt"
  node --test --test-concurrency=1 test/cuda.test.js test/porting.test.js test/distributed.test.js test/data-parallel.test.js test/sync-batchnorm.test.js test/aoti.test.js 2>&1 | tee "$out/tests.log" | tail -60
  node bench/finetune.js --device cuda 2>&1 | tee "$out/finetune-cuda.log" | tail -30
  ;;
*)
  echo "usage: bash scripts/gpu-check.sh prepare|run" >&2
  exit 2
  ;;
esac
