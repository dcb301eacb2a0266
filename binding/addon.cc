// Module init only: sets up the process (allocator, CUDA), the per-env tensor table and the
// exports of each binding file. lib/binding.ts types every export.
#include "registry.h"
#include "cpu_allocator.h"

#include <torch/headeronly/version.h>

#include <mutex>
#include <sstream>

namespace torch_node {

void InitDispatch(Napi::Env env, Napi::Object exports);
void InitPointwise(Napi::Env env, Napi::Object exports);
void InitTensor(Napi::Env env, Napi::Object exports);
void InitAutograd(Napi::Env env, Napi::Object exports);
void InitCuda(Napi::Env env, Napi::Object exports);
void InitSettings(Napi::Env env, Napi::Object exports);
void InitStorage(Napi::Env env, Napi::Object exports);
void InitScriptModule(Napi::Env env, Napi::Object exports);
void InitJitTrace(Napi::Env env, Napi::Object exports);
void InitJitAsync(Napi::Env env, Napi::Object exports);
void InitDistributed(Napi::Env env, Napi::Object exports);
void InitAoti(Napi::Env env, Napi::Object exports);
void InitGraphPlan(Napi::Env env, Napi::Object exports);
void LoadCuda();

std::string C10Message(const c10::Error& e) {
  // what_without_backtrace() still ends with the "Exception raised from ..." line in some builds.
  std::string m = e.msg();
  auto pos = m.find("\nException raised from");
  if (pos != std::string::npos) m = m.substr(0, pos);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

void ThrowTorchError(Napi::Env env, const std::string& message, const std::string& native_stack, const char* code) {
  auto* data = env.GetInstanceData<InstanceData>();
  Napi::Object err;
  if (data && !data->torch_error.IsEmpty()) {
    err = data->torch_error.New({Napi::String::New(env, message)});
  } else {
    err = Napi::Error::New(env, message).Value();
  }
  err.Set("code", Napi::String::New(env, code));
  if (!native_stack.empty()) err.Set("nativeStack", Napi::String::New(env, native_stack));
  throw Napi::Error(env, err);
}

namespace {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  auto* data = info.Env().GetInstanceData<InstanceData>();
  data->torch_error = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

std::once_flag g_process_once;

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  std::call_once(g_process_once, [] {
    InstallCountingAllocator();
    LoadCuda();
  });
  auto* data = new InstanceData();
  env.SetInstanceData<InstanceData>(data);
  auto* table = new TensorTable();
  tl_table = table;
  env.AddCleanupHook([table] {
    table->Clear();
    if (tl_table == table) tl_table = nullptr;
    delete table;
  });

  std::ostringstream version;
  version << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH;
  exports.Set("builtWithLibtorch", Napi::String::New(env, version.str()));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  InitRegistry(env, exports);
  InitDispatch(env, exports);
  InitPointwise(env, exports);
  InitTensor(env, exports);
  InitAutograd(env, exports);
  InitCuda(env, exports);
  InitSettings(env, exports);
  InitStorage(env, exports);
  InitScriptModule(env, exports);
  InitJitTrace(env, exports);
  InitJitAsync(env, exports);
  InitDistributed(env, exports);
  InitAoti(env, exports);
  InitGraphPlan(env, exports);
  return exports;
}

}  // namespace torch_node

static Napi::Object InitTorchNode(Napi::Env env, Napi::Object exports) { return torch_node::Init(env, exports); }

NODE_API_MODULE(torch_node, InitTorchNode)
