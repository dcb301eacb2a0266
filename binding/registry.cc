#include "registry.h"

#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdlib>
#include <malloc.h>

namespace torch_node {

thread_local TensorTable* tl_table = nullptr;

int32_t TensorTable::Put(at::Tensor t) {
  int32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    slots_[id] = std::move(t);
  } else {
    id = static_cast<int32_t>(slots_.size());
    slots_.push_back(std::move(t));
  }
  ++live_;
  return id;
}

bool TensorTable::Release(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= slots_.size() || !slots_[id].defined()) return false;
  slots_[id].reset();
  free_.push_back(id);
  --live_;
  return true;
}

void TensorTable::Clear() {
  slots_.clear();
  free_.clear();
  live_ = 0;
}

Napi::Value Wrap(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  int32_t id = tl_table->Put(std::move(t));
  SyncExternalMemory(env);
  return Napi::Number::New(env, id);
}

// ---- CPU memory accounting -------------------------------------------------------------------
// libtorch's CPU allocator replaced by one that counts live bytes. It counts storages, so views are
// not counted twice, and it sees memory libtorch allocates internally too. Its DataPtrs are simple
// (data == context, one deleter) as libtorch's own are: some kernels use raw_allocate(), which
// asserts that. Alignment as c10's default CPU allocator (64 bytes).
namespace {

std::atomic<int64_t> g_cpu_bytes{0};
int64_t g_reported = 0;
constexpr size_t kAlignment = 64;

void CountedFree(void* p) {
  if (!p) return;
  g_cpu_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  free(p);
}

class CountingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    if (n == 0) return {nullptr, nullptr, &CountedFree, c10::Device(c10::DeviceType::CPU)};
    void* p = nullptr;
    if (posix_memalign(&p, kAlignment, n) != 0 || !p) {
      TORCH_CHECK_WITH(OutOfMemoryError, false, "torch-node: out of CPU memory allocating ", n, " bytes");
    }
    g_cpu_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
    return {p, p, &CountedFree, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &CountedFree; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
};

}  // namespace

int64_t CpuBytes() { return g_cpu_bytes.load(std::memory_order_relaxed); }

void InstallCountingAllocator() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  // Large blocks straight from mmap, so freed tensors give memory back to the OS instead of
  // fragmenting the heap (measured: +1.9 GB RSS without this; see LIBTORCH-NOTES).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // TORCH_NODE_COUNT_CPU_BYTES=0 leaves libtorch's allocator alone (memory().cpuBytes is then 0).
  if (const char* off = std::getenv("TORCH_NODE_COUNT_CPU_BYTES"); off && std::string(off) == "0") return;
  static CountingAllocator allocator;
  c10::SetCPUAllocator(&allocator, /*priority=*/100);
}

// What a live tensor holds besides its data (TensorImpl, autograd meta, table slot), roughly: it is
// reported to V8 too, so that many small tensors left to the GC still make it collect.
constexpr int64_t kPerTensorBytes = 512;

void SyncExternalMemory(Napi::Env env) {
  int64_t cur = g_cpu_bytes.load(std::memory_order_relaxed) + (tl_table ? tl_table->live() : 0) * kPerTensorBytes;
  int64_t diff = cur - g_reported;
  if (diff > (1 << 20) || diff < -(1 << 20)) {
    Napi::MemoryManagement::AdjustExternalMemory(env, diff);
    g_reported = cur;
  }
}

// ---- exports --------------------------------------------------------------------------------
namespace {

Napi::Value Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool freed = tl_table->Release(info[0].As<Napi::Number>().Int32Value());
  SyncExternalMemory(env);
  return Napi::Boolean::New(env, freed);
}

// Frees many ids at once (tidy's exit path): one call instead of one per tensor.
Napi::Value FreeMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arr = info[0].As<Napi::Int32Array>();
  size_t n = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : arr.ElementLength();
  for (size_t i = 0; i < n; ++i) tl_table->Release(arr[i]);
  SyncExternalMemory(env);
  return env.Undefined();
}

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveTensors", Napi::Number::New(env, static_cast<double>(tl_table->live())));
  o.Set("cpuBytes", Napi::Number::New(env, static_cast<double>(CpuBytes())));
  return o;
}

}  // namespace

void InitRegistry(Napi::Env env, Napi::Object exports) {
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("freeMany", Napi::Function::New(env, FreeMany, "freeMany"));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
}

}  // namespace torch_node
