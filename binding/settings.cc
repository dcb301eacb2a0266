// Process-wide libtorch settings: intra-op thread count. Sync.
#include "common.h"

#include <ATen/Parallel.h>

namespace torch_node {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, at::get_num_threads());
  TORCH_GUARD_END(env)
}

}  // namespace

void InitSettings(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
}

}  // namespace torch_node
