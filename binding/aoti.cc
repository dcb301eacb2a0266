// torch.inductor.aotiLoadPackage: AOTInductor packages (`torch._inductor.aoti_compile_and_package`)
// run by libtorch's own loader, torch::inductor::AOTIModelPackageLoader. Inference only.
//
// The JS side (lib/export/aoti.ts) unpacks the .pt2 into torch-node's cache (keyed by the file's
// hash), reads its metadata, checks the CPU's instruction sets and each call's inputs; this file
// loads the unpacked folder and runs it. The package's library resolves symbols of libtorch.so,
// which the addon does not link (only libtorch_cpu and c10): it is loaded once with RTLD_GLOBAL,
// from the libtorch the addon runs with, before the first package.
//
// Calls: aotiRun blocks the JS thread; aotiRunAsync runs on libuv's pool (at::init_num_threads()
// first, so the generated OpenMP kernels keep the thread count the user set; under InferenceMode).
// The loader's container holds `numRunners` model instances and hands each call a free one, so up
// to numRunners calls run at once and more wait. A package handle freed while calls are in flight
// stays alive until they end (each worker holds it). No C++ exception leaves this file.
#include "convert.h"
#include "registry.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace torch_node {
namespace {

using Loader = torch::inductor::AOTIModelPackageLoader;

std::unordered_map<int, std::shared_ptr<Loader>> g_packages;
int g_next_package = 1;

std::shared_ptr<Loader> PackageAt(Napi::Env env, const Napi::Value& v) {
  auto it = g_packages.find(v.As<Napi::Number>().Int32Value());
  if (it == g_packages.end()) ThrowTorchError(env, "the AOTInductor package was disposed", "", "ERR_TORCH_DISPOSED");
  return it->second;
}

// libtorch.so next to the libtorch_cpu.so this process uses, loaded once (RTLD_GLOBAL).
std::string LoadLibtorch() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&at::set_num_threads), &info) || !info.dli_fname) {
      error = "cannot locate libtorch_cpu.so in this process";
      return;
    }
    std::string dir = info.dli_fname;
    dir = dir.substr(0, dir.rfind('/'));
    if (!dlopen((dir + "/libtorch.so").c_str(), RTLD_NOW | RTLD_GLOBAL)) {
      const char* e = dlerror();
      error = "AOTInductor packages need libtorch.so, which could not be loaded from " + dir + ": " +
              (e ? e : "unknown error");
    }
  });
  return error;
}

std::vector<at::Tensor> Inputs(Napi::Env env, const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(GetTensor(env, arr.Get(i)));
  return out;
}

Napi::Value Strings(Napi::Env env, const std::vector<std::string>& xs) {
  auto out = Napi::Array::New(env, xs.size());
  for (size_t i = 0; i < xs.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, xs[i]));
  return out;
}

Napi::Value Outputs(Napi::Env env, std::vector<at::Tensor>& ts) {
  auto out = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) out.Set(static_cast<uint32_t>(i), Wrap(env, std::move(ts[i])));
  ts.clear();
  return out;
}

// aotiLoad(folder, modelName, numRunners, deviceIndex) -> handle
Napi::Value AotiLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::string err = LoadLibtorch();
  if (!err.empty()) ThrowTorchError(env, err, "", "ERR_TORCH_LOAD");
  auto loader = std::make_shared<Loader>(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                                         /*run_single_threaded=*/false,
                                         static_cast<size_t>(info[2].As<Napi::Number>().Uint32Value()),
                                         static_cast<c10::DeviceIndex>(info[3].As<Napi::Number>().Int32Value()));
  int id = g_next_package++;
  g_packages.emplace(id, std::move(loader));
  return Napi::Number::New(env, id);
  TORCH_GUARD_END(env)
}

Napi::Value AotiFree(const Napi::CallbackInfo& info) {
  g_packages.erase(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// aotiRun(handle, ids[]) -> ids[]
Napi::Value AotiRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto pkg = PackageAt(env, info[0]);
  auto inputs = Inputs(env, info[1]);
  std::vector<at::Tensor> outputs;
  {
    c10::InferenceMode guard;
    outputs = pkg->run(inputs);
  }
  return Outputs(env, outputs);
  TORCH_GUARD_END(env)
}

class RunWorker final : public PromiseWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<Loader> pkg, std::vector<at::Tensor> inputs)
      : PromiseWorker(env, "torch-node.aotiForwardAsync"), pkg_(std::move(pkg)), inputs_(std::move(inputs)) {}

 protected:
  void Run() override {
    at::init_num_threads();
    c10::InferenceMode guard;
    outputs_ = pkg_->run(inputs_);
    inputs_.clear();
  }
  Napi::Value Settle(Napi::Env env) override {
    Napi::Value out = Outputs(env, outputs_);
    SyncExternalMemory(env);
    return out;
  }

 private:
  std::shared_ptr<Loader> pkg_;
  std::vector<at::Tensor> inputs_;
  std::vector<at::Tensor> outputs_;
};

// aotiRunAsync(handle, ids[]) -> Promise<ids[]>
Napi::Value AotiRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return (new RunWorker(env, PackageAt(env, info[0]), Inputs(env, info[1])))->Start();
  TORCH_GUARD_END(env)
}

// aotiCallSpec(handle) -> [inSpec, outSpec] (pytree specs as JSON text)
Napi::Value AotiCallSpec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Strings(env, PackageAt(env, info[0])->get_call_spec());
  TORCH_GUARD_END(env)
}

// aotiConstantNames(handle) -> fully qualified names of the model's constants (weights)
Napi::Value AotiConstantNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Strings(env, PackageAt(env, info[0])->get_constant_fqns());
  TORCH_GUARD_END(env)
}

// aotiLoadConstants(handle, names[], ids[], checkFullUpdate): replaces weights in the active buffer,
// as Python's AOTICompiledModel.load_constants (lib/export/aoti.ts refuses it while calls are in flight).
Napi::Value AotiLoadConstants(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto pkg = PackageAt(env, info[0]);
  auto names = info[1].As<Napi::Array>();
  auto ids = info[2].As<Napi::Array>();
  std::unordered_map<std::string, at::Tensor> map;
  for (uint32_t i = 0; i < names.Length(); i++)
    map.emplace(names.Get(i).As<Napi::String>().Utf8Value(), GetTensor(env, ids.Get(i)));
  pkg->load_constants(map, /*use_inactive=*/false, info[3].ToBoolean().Value());
  return env.Undefined();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitAoti(Napi::Env env, Napi::Object exports) {
  auto a = Napi::Object::New(env);
  a.Set("load", Napi::Function::New(env, AotiLoad, "load"));
  a.Set("free", Napi::Function::New(env, AotiFree, "free"));
  a.Set("run", Napi::Function::New(env, AotiRun, "run"));
  a.Set("runAsync", Napi::Function::New(env, AotiRunAsync, "runAsync"));
  a.Set("callSpec", Napi::Function::New(env, AotiCallSpec, "callSpec"));
  a.Set("constantNames", Napi::Function::New(env, AotiConstantNames, "constantNames"));
  a.Set("loadConstants", Napi::Function::New(env, AotiLoadConstants, "loadConstants"));
  exports.Set("aoti", a);
  // Packages go before the env (their runners hold threads and memory).
  env.AddCleanupHook([] { g_packages.clear(); });
}

}  // namespace torch_node
