// ScriptModule.forwardAsync / runMethodAsync: a TorchScript method run on libuv's thread pool, so
// inference does not block the event loop.
//
// Main thread (jitCallAsync): the method is looked up and the JS arguments are converted to IValues
// by its schema, exactly as for the synchronous jitCall. The worker holds its own references to
// everything it touches — the torch::jit::Method (which owns the module object), the input
// tensors — so a module or tensor that JS disposes while a call is in flight stays alive until the
// call ends. Worker thread (Execute): only libtorch runs there, under c10::InferenceMode, set inside
// Execute because grad mode is thread-local; nothing touches N-API or the tensor table. Main thread
// again (OnOK / OnError): outputs are stored in the tensor table and the promise resolves, or it
// rejects with a TorchError. No C++ exception leaves any of the three.
//
// Concurrency: several calls may run the same module at once. TorchScript's executor is built for
// that (plans are compiled under its own lock, each call has its own interpreter state), as long
// as nothing changes the module meanwhile; lib/jit.ts refuses train(), to(), registerParameter(),
// registerBuffer() and loadStateDict() on a module with calls in flight.
#include "script_module.h"

#include "registry.h"

#include <c10/core/InferenceMode.h>

namespace torch_node {
namespace {

class MethodWorker final : public PromiseWorker {
 public:
  MethodWorker(Napi::Env env, torch::jit::Method method, std::vector<c10::IValue> inputs)
      : PromiseWorker(env, "torch-node.forwardAsync"), method_(std::move(method)), inputs_(std::move(inputs)) {}

 protected:
  void Run() override {
    c10::InferenceMode guard;
    result_ = method_(std::move(inputs_));
    inputs_.clear();
  }
  Napi::Value Settle(Napi::Env env) override {
    Napi::Value out = FromScriptValue(env, result_);
    result_ = c10::IValue();
    SyncExternalMemory(env);
    return out;
  }

 private:
  torch::jit::Method method_;
  std::vector<c10::IValue> inputs_;
  c10::IValue result_;
};

// jitCallAsync(handle, methodName, args[]) -> Promise<tagged result>. Argument errors throw
// synchronously (before anything is queued); errors while running reject.
Napi::Value JitCallAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto [method, inputs] =
      MethodCall(env, ModuleAt(env, info[0]), info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Array>());
  return (new MethodWorker(env, std::move(method), std::move(inputs)))->Start();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitJitAsync(Napi::Env env, Napi::Object exports) {
  exports.Set("jitCallAsync", Napi::Function::New(env, JitCallAsync, "jitCallAsync"));
}

}  // namespace torch_node
