// libtorch's CPU allocator as torch-node installs it: counts live bytes and caches freed large
// blocks (bounded, released when idle). See cpu_allocator.cc.
#pragma once

#include <cstdint>

namespace torch_node {

struct CpuCacheStats {
  int64_t cached_bytes;
  int64_t limit_bytes;
  int64_t idle_ms;
};

// Installs the allocator (once per process; TORCH_NODE_COUNT_CPU_BYTES=0 leaves libtorch's own).
void InstallCountingAllocator();
// Bytes of live CPU storages allocated through it.
int64_t CpuBytes();
CpuCacheStats GetCpuCacheStats();
// Unmaps the cached blocks: all of them (force), or all if no large block was used for idle_ms.
void TrimCpuCache(bool force);
// A negative value leaves that setting unchanged.
void ConfigureCpuCache(int64_t limit_bytes, int64_t idle_ms);

}  // namespace torch_node
