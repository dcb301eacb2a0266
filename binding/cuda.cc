// CUDA without a second build: the addon links only c10 and torch_cpu, and at init dlopens
// libtorch_cuda.so (RTLD_GLOBAL) from the libtorch it was loaded with, before any CUDA query (CUDA is
// decided once per process). Linking it instead would need -Wl,--no-as-needed, or the linker drops
// it silently (pytorch#36437). When anything is missing, unavailableReason() says what.
// Sync; throws TorchError when a CUDA call is made without CUDA.
#include "convert.h"
#include "registry.h"

#include <ATen/Context.h>
#include <ATen/DeviceAccelerator.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/headeronly/version.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>

namespace torch_node {
namespace {

bool g_loaded = false;  // libtorch_cuda.so loaded
std::string g_reason;   // why it is not (empty when loaded)
std::string g_lib_dir;

std::string LibtorchDir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&at::globalContext), &info) && info.dli_fname) {
    std::string p = info.dli_fname;
    auto pos = p.rfind('/');
    if (pos != std::string::npos) return p.substr(0, pos);
  }
  return "";
}

bool FileExists(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0;
}

std::string DlError() {
  const char* e = dlerror();
  return e ? e : "unknown dlopen error";
}

std::string RuntimeReason() {
  // libcudart is loaded with libtorch_cuda; ask it why there is no device.
  using CountFn = int (*)(int*);
  using ErrFn = const char* (*)(int);
  auto count = reinterpret_cast<CountFn>(dlsym(RTLD_DEFAULT, "cudaGetDeviceCount"));
  auto err = reinterpret_cast<ErrFn>(dlsym(RTLD_DEFAULT, "cudaGetErrorString"));
  if (!count) return "CUDA libraries are loaded but no CUDA device is usable";
  int n = 0;
  int rc = count(&n);
  if (rc != 0) {
    return std::string("the CUDA driver reports: ") + (err ? err(rc) : "error " + std::to_string(rc));
  }
  if (n == 0) return "no CUDA device found";
  return "";
}

std::once_flag g_avail_once;
bool g_available = false;

bool Available() {
  std::call_once(g_avail_once, [] {
    if (!g_loaded) return;
    g_available = at::globalContext().hasCUDA() && at::detail::getCUDAHooks().deviceCount() > 0;
    if (!g_available) g_reason = RuntimeReason();
    if (!g_available && g_reason.empty()) g_reason = "libtorch reports CUDA unavailable";
  });
  return g_available;
}

void RequireCuda(Napi::Env env, const char* what) {
  if (!Available())
    ThrowTorchError(env, std::string(what) + ": CUDA is not available: " + g_reason, "", "ERR_TORCH_NO_CUDA");
}

c10::DeviceIndex IndexArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsNumber())
    return static_cast<c10::DeviceIndex>(info[i].As<Napi::Number>().Int32Value());
  return at::detail::getCUDAHooks().getCurrentDevice();
}

Napi::Value IsAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Boolean::New(env, Available());
  TORCH_GUARD_END(env)
}

Napi::Value UnavailableReason(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  if (Available()) return env.Null();
  return Napi::String::New(env, g_reason);
  TORCH_GUARD_END(env)
}

Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, Available() ? at::detail::getCUDAHooks().deviceCount() : 0);
  TORCH_GUARD_END(env)
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  RequireCuda(env, "cuda.synchronize");
  at::detail::getCUDAHooks().deviceSynchronize(IndexArg(info, 0));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// cudaManualSeed(seed, all): the current device's generator, or every device's.
Napi::Value CudaManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  if (!Available()) return env.Undefined();  // as PyTorch: seeding without CUDA is silently ignored
  uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  bool all = info[1].ToBoolean().Value();
  auto n = at::detail::getCUDAHooks().deviceCount();
  auto cur = at::detail::getCUDAHooks().getCurrentDevice();
  for (c10::DeviceIndex i = 0; i < n; ++i) {
    if (!all && i != cur) continue;
    auto gen = at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, i));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  if (!Available()) return env.Undefined();  // as PyTorch: a no-op without CUDA
#if TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 9
  at::accelerator::emptyCache();
#else
  ThrowTorchError(env, "cuda.emptyCache needs libtorch 2.9 or newer");
#endif
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value MemoryAllocated(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  if (!Available()) return Napi::Number::New(env, 0);
#if TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 9
  auto stats = at::accelerator::getDeviceStats(IndexArg(info, 0));
  return Napi::Number::New(env, static_cast<double>(stats.allocated_bytes[0].current));
#else
  ThrowTorchError(env, "cuda.memoryAllocated needs libtorch 2.9 or newer");
#endif
  TORCH_GUARD_END(env)
}

// setDevice(index): torch.cuda.set_device.
Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  RequireCuda(env, "cuda.setDevice");
  int64_t i = info[0].As<Napi::Number>().Int64Value();
  auto n = at::detail::getCUDAHooks().deviceCount();
  if (i < 0 || i >= n) {
    ThrowTorchError(env,
                    "cuda.setDevice: device index " + std::to_string(i) + " is out of range: this machine has " +
                        std::to_string(n) + " CUDA device" + (n == 1 ? "" : "s"),
                    "", "ERR_TORCH_ARG");
  }
  at::accelerator::setDeviceIndex(static_cast<c10::DeviceIndex>(i));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value CurrentDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  RequireCuda(env, "cuda.currentDevice");
  return Napi::Number::New(env, at::detail::getCUDAHooks().getCurrentDevice());
  TORCH_GUARD_END(env)
}

}  // namespace

// For the other files (distributed.cc's NCCL backend): CUDA is usable, else why not.
bool CudaAvailable() { return Available(); }
std::string CudaUnavailableReason() { return Available() ? "" : g_reason; }

// Called once at addon init, before anything touches CUDA.
void LoadCuda() {
  if (const char* off = std::getenv("TORCH_NODE_NO_CUDA"); off && std::string(off) == "1") {
    g_reason = "disabled by TORCH_NODE_NO_CUDA=1";
    return;
  }
  g_lib_dir = LibtorchDir();
  std::string lib = g_lib_dir + "/libtorch_cuda.so";
  if (!FileExists(lib)) {
    g_reason = "libtorch at " + g_lib_dir + " is a CPU-only build (no libtorch_cuda.so)";
    return;
  }
  // Without a driver there is nothing to gain from loading ~3 GB of CUDA libraries.
  if (!dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL)) {
    g_reason = "no NVIDIA driver: libcuda.so.1 could not be loaded (" + DlError() + ")";
    return;
  }
  if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    g_reason = "libtorch_cuda.so failed to load: " + DlError();
    return;
  }
  g_loaded = true;
}

void InitCuda(Napi::Env env, Napi::Object exports) {
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("isAvailable", Napi::Function::New(env, IsAvailable, "isAvailable"));
  cuda.Set("unavailableReason", Napi::Function::New(env, UnavailableReason, "unavailableReason"));
  cuda.Set("deviceCount", Napi::Function::New(env, DeviceCount, "deviceCount"));
  cuda.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
  cuda.Set("manualSeed", Napi::Function::New(env, CudaManualSeed, "manualSeed"));
  cuda.Set("emptyCache", Napi::Function::New(env, EmptyCache, "emptyCache"));
  cuda.Set("memoryAllocated", Napi::Function::New(env, MemoryAllocated, "memoryAllocated"));
  cuda.Set("setDevice", Napi::Function::New(env, SetDevice, "setDevice"));
  cuda.Set("currentDevice", Napi::Function::New(env, CurrentDevice, "currentDevice"));
  exports.Set("cuda", cuda);
}

}  // namespace torch_node
