// libtorch's CPU allocator, replaced by one that counts live bytes, keeps a bounded cache of freed
// large blocks, and keeps freed small blocks per thread.
//
// Counting: memory().cpuBytes is the sum of live storages (views are not counted twice) and sees
// memory libtorch allocates internally too.
//
// Three kinds of block, by size:
//   - small (data + header <= 4 KiB): by 64-byte size class, from malloc, and kept per thread when
//     freed (at most 1024 per class and 2 MiB per thread) for the next one of that class. tidy()
//     frees a scope's tensors all at once, more than glibc's own per-thread cache takes (7 per
//     size), and the allocations of the next scope then took malloc's slow path: ~100 ns of the
//     ~250 ns per-op overhead of `a.relu()` in a tidy() of 1000 ops (bench/README.md, per-op rows).
//   - medium (up to kLargeBlock, 32 MiB): malloc's. glibc serves them from its heap (above its
//     dynamic mmap threshold, which rises to 32 MiB at most) and reuses a freed block for the next
//     request of any size, while its memory is still in the CPU cache. With TORCH_NODE_THP=1, those of
//     2 MiB or more are advised for transparent huge pages (AdviseHuge; off by default). An earlier version mapped
//     every block from 128 KiB here, each size in its own mapping: ResNet-18 batch-1 inference ran
//     8-10% slower than the same TorchScript graph in Python (oneDNN's reorders and convolutions
//     writing into cold memory), and as fast once these went back to malloc (bench/README.md).
//   - large (>= 32 MiB): mapped here, not by malloc (glibc maps blocks this large afresh on every
//     request, and the kernel zeroes each page as it is first touched). Freed ones go to a cache,
//     keyed by size, so that the next tensor of that size (the same activation in the next training
//     step, the same gradient) reuses pages that are already resident (measured on ResNet-18 at 224,
//     batch 16: Python takes 54,000-90,000 fresh pages per training step, mostly these). The cache
//     is bounded and never holds memory for long once the process goes quiet:
//       - at most `limit` bytes (default min(2 GiB, physical memory / 4); TORCH_NODE_CPU_CACHE_MB or
//         torch.setCpuCacheLimit()); over it, the least recently freed blocks are unmapped first;
//       - everything is unmapped once no large block was allocated or freed for `idle` ms (default
//         1000; checked by the JS side's unref'd timer and on every large allocation);
//       - torch.emptyCache() unmaps everything at once; memory().cpuCachedBytes reports it.
//     A freed large block is given back to the kernel through munmap, never to malloc's heap.
//
// Every block carries a 64-byte header in front of the data (its kind and mapped size), so one
// deleter frees both kinds and DataPtrs stay simple (data == context, one deleter), as libtorch's
// own are: some kernels use raw_allocate(), which asserts that. The data is 64-byte aligned, as
// c10's default CPU allocator's.
#include "cpu_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace torch_node {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kHeader = 64;
constexpr size_t kLargeBlock = size_t{32} << 20;
constexpr size_t kPage = 4096;
constexpr size_t kPopulateMax = size_t{1} << 30;
constexpr uint32_t kMagic = 0x746e6f64;  // "tnod"
enum : uint32_t { kSmall = 1, kLarge = 2, kClassed = 3 };

struct Header {
  uint32_t magic;
  uint32_t kind;
  uint64_t mapped;  // large: bytes mapped (header included); small: usable bytes counted
};
static_assert(sizeof(Header) <= kHeader);

std::atomic<int64_t> g_cpu_bytes{0};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

size_t DefaultLimit() {
  if (const char* mb = std::getenv("TORCH_NODE_CPU_CACHE_MB"); mb && *mb) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(mb, &end, 10);
    if (end && *end == '\0') return static_cast<size_t>(v) << 20;
  }
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  size_t quarter = (pages > 0 && page > 0) ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : 0;
  size_t two_gib = size_t{2} << 30;
  return quarter > 0 && quarter < two_gib ? quarter : two_gib;
}

// Freed large blocks, findable by size (best fit: the smallest at least as large as asked) and by
// age (least recently freed first, for eviction): both O(log n). A block is reused for a request of
// up to 1/8 less than its size, so the waste per reuse is bounded.
class BlockCache {
 public:
  // A cached block of at least `mapped` bytes, or nullptr. Sets *got to its size.
  void* Take(size_t mapped, size_t* got) {
    std::vector<Span> drop;
    void* out = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      int64_t now = NowMs();
      if (!lru_.empty() && now - last_use_ > idle_ms_) DrainLocked(&drop);
      last_use_ = now;
      auto it = by_size_.lower_bound(mapped);
      if (it != by_size_.end() && it->first - mapped <= mapped / 8) {
        Lru::iterator b = it->second;
        out = b->base;
        *got = b->mapped;
        cached_ -= b->mapped;
        by_size_.erase(it);
        lru_.erase(b);
      }
    }
    Unmap(drop);
    return out;
  }

  // Keeps a freed block, or unmaps it when it does not fit under the limit.
  void Give(void* base, size_t mapped) {
    std::vector<Span> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_use_ = NowMs();
      if (mapped > limit_) {
        drop.push_back({base, mapped});
      } else {
        while (cached_ + mapped > limit_) EvictOldestLocked(&drop);
        lru_.push_back(Block{base, mapped, {}});
        Lru::iterator b = std::prev(lru_.end());
        b->by_size = by_size_.emplace(mapped, b);
        cached_ += mapped;
      }
    }
    Unmap(drop);
  }

  // Unmaps everything (force), or everything if the cache has been idle for longer than idle_ms_.
  void Trim(bool force) {
    std::vector<Span> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (force || NowMs() - last_use_ > idle_ms_) DrainLocked(&drop);
    }
    Unmap(drop);
  }

  void Configure(int64_t limit, int64_t idle_ms) {
    std::vector<Span> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (limit >= 0) limit_ = static_cast<size_t>(limit);
      if (idle_ms >= 0) idle_ms_ = idle_ms;
      while (cached_ > limit_) EvictOldestLocked(&drop);
    }
    Unmap(drop);
  }

  CpuCacheStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {static_cast<int64_t>(cached_), static_cast<int64_t>(limit_), idle_ms_};
  }

 private:
  struct Span {
    void* base;
    size_t mapped;
  };
  struct Block;
  using Lru = std::list<Block>;                         // oldest first
  using BySize = std::multimap<size_t, Lru::iterator>;  // the same blocks by size
  struct Block {
    void* base;
    size_t mapped;
    BySize::iterator by_size;
  };

  void DrainLocked(std::vector<Span>* drop) {
    for (const Block& b : lru_) drop->push_back({b.base, b.mapped});
    lru_.clear();
    by_size_.clear();
    cached_ = 0;
  }

  void EvictOldestLocked(std::vector<Span>* drop) {
    const Block& b = lru_.front();
    drop->push_back({b.base, b.mapped});
    cached_ -= b.mapped;
    by_size_.erase(b.by_size);
    lru_.pop_front();
  }

  static void Unmap(const std::vector<Span>& drop) {
    for (const Span& s : drop) munmap(s.base, s.mapped);
  }

  std::mutex mu_;
  Lru lru_;
  BySize by_size_;
  size_t cached_ = 0;
  size_t limit_ = DefaultLimit();
  int64_t idle_ms_ = 1000;
  int64_t last_use_ = 0;
};

BlockCache& Cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: frees may come during exit
  return *cache;
}

// Small blocks by size class (64-byte steps up to kClassMax, header included), kept per thread for
// reuse (see the top of the file).
constexpr size_t kClassStep = 64;
constexpr size_t kClassMax = 4096;
constexpr size_t kClasses = kClassMax / kClassStep;
constexpr int kClassCap = 1024;                  // blocks per class and thread
constexpr size_t kClassBytes = size_t{2} << 20;  // and at most 2 MiB per thread in all
struct ClassCache {
  void* items[kClasses][kClassCap];
  int count[kClasses] = {};
  size_t bytes = 0;
};
// The cache is made on a thread's first small allocation and freed with the thread (the owner's
// destructor); the pointer itself is a trivial thread_local, so the hot path has no init guard.
thread_local ClassCache* tl_classes = nullptr;
struct ClassCacheOwner {
  ~ClassCacheOwner() {
    ClassCache* cc = tl_classes;
    tl_classes = nullptr;
    if (!cc) return;
    for (size_t c = 0; c < kClasses; c++)
      for (int i = 0; i < cc->count[c]; i++) free(cc->items[c][i]);
    delete cc;
  }
};
ClassCache* Classes() {
  ClassCache* cc = tl_classes;
  if (cc) return cc;
  thread_local ClassCacheOwner owner;
  (void)owner;
  return tl_classes = new ClassCache();
}

void CountedFree(void* data) {
  if (!data) return;
  char* base = static_cast<char*>(data) - kHeader;
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (h.magic != kMagic) {  // not ours (from c10's allocator before ours was installed): its way
    free(data);
    return;
  }
  if (h.kind == kClassed) {
    g_cpu_bytes.fetch_sub(static_cast<int64_t>(h.mapped), std::memory_order_relaxed);
    size_t c = (h.mapped + kHeader) / kClassStep - 1;
    ClassCache* cc = tl_classes;  // null on a thread that never allocated (or after its exit): free()
    size_t size = h.mapped + kHeader;
    if (cc && cc->count[c] < kClassCap && cc->bytes + size <= kClassBytes) {
      cc->items[c][cc->count[c]++] = base;
      cc->bytes += size;
    } else {
      free(base);
    }
    return;
  }
  if (h.kind == kLarge) {
    g_cpu_bytes.fetch_sub(static_cast<int64_t>(h.mapped - kHeader), std::memory_order_relaxed);
    Cache().Give(base, h.mapped);
  } else {
    g_cpu_bytes.fetch_sub(static_cast<int64_t>(h.mapped), std::memory_order_relaxed);
    free(base);
  }
}

// TORCH_NODE_THP=1: blocks of 2 MiB or more get their whole 2 MiB pages marked for transparent huge
// pages (MADV_HUGEPAGE; the kernel's default mode is "madvise"), so a block's first touch takes one
// fault per 2 MiB instead of 512, and the kernels reading it miss the TLB less (glibc does the same
// for its whole heap under GLIBC_TUNABLES=glibc.malloc.hugetlb=1). Off by default: where the
// hypervisor takes free guest memory back (virtio-balloon free page reporting, this project's
// machines), the free 2 MiB blocks a huge page takes are the memory it took back, and first touching
// fresh memory ran 2-5x slower (torch.load of 512 MB: 1.3-1.9 s against 0.3-0.4 s, every second or
// third process); the steady-state gain was 2-4% (bench/README.md).
constexpr size_t kHuge = size_t{2} << 20;
bool g_huge = [] {
  const char* v = std::getenv("TORCH_NODE_THP");
  return v && std::string(v) == "1";
}();

void AdviseHuge(void* base, size_t size) {
#ifdef MADV_HUGEPAGE
  uintptr_t lo = (reinterpret_cast<uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t hi = (reinterpret_cast<uintptr_t>(base) + size) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // advice: a failure changes nothing
#else
  (void)base;
  (void)size;
#endif
}

// A fresh large block: populated up front (one call instead of a page fault per page as the tensor
// is first written: 339 ms against 390-420 ms for loading 512 MB), except for blocks so large that a
// tensor might never touch all of them. With TORCH_NODE_THP=1 it is advised for transparent huge
// pages first (as medium blocks), so that populating it takes huge pages where the kernel has them.
void* MapLarge(size_t want) {
  bool populate = want <= kPopulateMax;
#if defined(MADV_HUGEPAGE) && defined(MADV_POPULATE_WRITE)
  if (g_huge) {
    void* base = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    AdviseHuge(base, want);
    if (!populate || madvise(base, want, MADV_POPULATE_WRITE) == 0) return base;
    munmap(base, want);  // a kernel before 5.14: populated the old way below
  }
#endif
  void* base =
      mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
  return base == MAP_FAILED ? nullptr : base;
}

void* AllocateLarge(size_t n) {
  size_t want = (n + kHeader + kPage - 1) / kPage * kPage;
  size_t mapped = want;
  void* base = Cache().Take(want, &mapped);
  if (!base) {
    base = MapLarge(want);
    if (!base) {
      Cache().Trim(/*force=*/true);  // give the cache back and try once more
      base = MapLarge(want);
      if (!base) return nullptr;
    }
  }
  Header h{kMagic, kLarge, mapped};
  std::memcpy(base, &h, sizeof h);
  g_cpu_bytes.fetch_add(static_cast<int64_t>(mapped - kHeader), std::memory_order_relaxed);
  return static_cast<char*>(base) + kHeader;
}

void* AllocateSmall(size_t n) {
  void* base = nullptr;
  if (n + kHeader <= kClassMax) {
    size_t c = (n + kHeader + kClassStep - 1) / kClassStep - 1;
    size_t size = (c + 1) * kClassStep;
    ClassCache* cc = Classes();
    if (cc->count[c] > 0) {
      base = cc->items[c][--cc->count[c]];
      cc->bytes -= size;
    } else if (posix_memalign(&base, kAlignment, size) != 0 || !base) {
      return nullptr;
    }
    Header h{kMagic, kClassed, size - kHeader};
    std::memcpy(base, &h, sizeof h);
    g_cpu_bytes.fetch_add(static_cast<int64_t>(size - kHeader), std::memory_order_relaxed);
    return static_cast<char*>(base) + kHeader;
  }
  if (posix_memalign(&base, kAlignment, n + kHeader) != 0 || !base) return nullptr;
  if (n >= kHuge && g_huge) AdviseHuge(base, n + kHeader);
  uint64_t usable = malloc_usable_size(base) - kHeader;
  Header h{kMagic, kSmall, usable};
  std::memcpy(base, &h, sizeof h);
  g_cpu_bytes.fetch_add(static_cast<int64_t>(usable), std::memory_order_relaxed);
  return static_cast<char*>(base) + kHeader;
}

class CountingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    if (n == 0) return {nullptr, nullptr, &CountedFree, c10::Device(c10::DeviceType::CPU)};
    void* p = n >= kLargeBlock ? AllocateLarge(n) : AllocateSmall(n);
    if (!p) TORCH_CHECK_WITH(OutOfMemoryError, false, "torch-node: out of CPU memory allocating ", n, " bytes");
    return {p, p, &CountedFree, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &CountedFree; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
};

}  // namespace

int64_t CpuBytes() { return g_cpu_bytes.load(std::memory_order_relaxed); }

CpuCacheStats GetCpuCacheStats() { return Cache().Stats(); }
void TrimCpuCache(bool force) { Cache().Trim(force); }
void ConfigureCpuCache(int64_t limit_bytes, int64_t idle_ms) { Cache().Configure(limit_bytes, idle_ms); }

void InstallCountingAllocator() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  // TORCH_NODE_COUNT_CPU_BYTES=0 leaves libtorch's allocator alone (memory().cpuBytes is then 0).
  if (const char* off = std::getenv("TORCH_NODE_COUNT_CPU_BYTES"); off && std::string(off) == "0") return;
  static CountingAllocator allocator;
  c10::SetCPUAllocator(&allocator, /*priority=*/100);
}

}  // namespace torch_node
