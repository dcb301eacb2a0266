#include "registry.h"

#include "cpu_allocator.h"

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

// What a live tensor holds besides its data (TensorImpl, autograd meta, table slot), roughly: it is
// reported to V8 too, so that many small tensors left to the GC still make it collect.
constexpr int64_t kPerTensorBytes = 512;
// What this thread's isolate was last told (each worker thread has its own isolate).
thread_local int64_t tl_reported = 0;

void SyncExternalMemory(Napi::Env env) {
  int64_t cur = CpuBytes() + (tl_table ? tl_table->live() : 0) * kPerTensorBytes;
  int64_t diff = cur - tl_reported;
  if (diff > (1 << 20) || diff < -(1 << 20)) {
    Napi::MemoryManagement::AdjustExternalMemory(env, diff);
    tl_reported = cur;
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
  CpuCacheStats c = GetCpuCacheStats();
  o.Set("cpuCachedBytes", Napi::Number::New(env, static_cast<double>(c.cached_bytes)));
  o.Set("cpuCacheLimit", Napi::Number::New(env, static_cast<double>(c.limit_bytes)));
  o.Set("cpuCacheIdleMs", Napi::Number::New(env, static_cast<double>(c.idle_ms)));
  return o;
}

// trimCpuCache(force): unmaps the cached blocks, all of them (force) or only if the cache was idle.
Napi::Value TrimCpuCacheJs(const Napi::CallbackInfo& info) {
  TrimCpuCache(info.Length() > 0 && info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

// configureCpuCache(limitBytes, idleMs): -1 leaves a setting as it is.
Napi::Value ConfigureCpuCacheJs(const Napi::CallbackInfo& info) {
  ConfigureCpuCache(static_cast<int64_t>(info[0].As<Napi::Number>().DoubleValue()),
                    static_cast<int64_t>(info[1].As<Napi::Number>().DoubleValue()));
  return info.Env().Undefined();
}

}  // namespace

void InitRegistry(Napi::Env env, Napi::Object exports) {
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("freeMany", Napi::Function::New(env, FreeMany, "freeMany"));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
  exports.Set("trimCpuCache", Napi::Function::New(env, TrimCpuCacheJs, "trimCpuCache"));
  exports.Set("configureCpuCache", Napi::Function::New(env, ConfigureCpuCacheJs, "configureCpuCache"));
}

}  // namespace torch_node
