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

class MethodWorker final : public SafeAsyncWorker {
 public:
  MethodWorker(Napi::Env env, torch::jit::Method method, std::vector<c10::IValue> inputs)
      : SafeAsyncWorker(env, "torch-node.forwardAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        method_(std::move(method)),
        inputs_(std::move(inputs)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      c10::InferenceMode guard;
      result_ = method_(std::move(inputs_));
    } catch (const c10::Error& e) {
      Fail(C10Message(e), e.what());
    } catch (const std::exception& e) {
      Fail(e.what(), "");
    } catch (...) {
      Fail("unknown native error", "");
    }
    inputs_.clear();
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      Napi::Value out = FromScriptValue(env, result_);
      result_ = c10::IValue();
      SyncExternalMemory(env);
      deferred_.Resolve(out);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      Reject(env, e.what(), "");
    } catch (...) {
      Reject(env, "unknown native error", "");
    }
  }

  void OnError(const Napi::Error&) override { Reject(Env(), message_, native_stack_); }

 private:
  void Fail(std::string message, std::string native_stack) {
    // An empty message would make node-addon-api take the call for a success.
    message_ = message.empty() ? "unknown native error" : std::move(message);
    native_stack_ = std::move(native_stack);
    SetError(message_);
  }

  // Rejects with the same TorchError (class, .code, .nativeStack) a synchronous call would throw.
  void Reject(Napi::Env env, const std::string& message, const std::string& native_stack) {
    try {
      ThrowTorchError(env, message, native_stack);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  torch::jit::Method method_;
  std::vector<c10::IValue> inputs_;
  c10::IValue result_;
  std::string message_;
  std::string native_stack_;
};

// jitCallAsync(handle, methodName, args[]) -> Promise<tagged result>. Argument errors throw
// synchronously (before anything is queued); errors while running reject.
Napi::Value JitCallAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto [method, inputs] = MethodCall(env, ModuleAt(env, info[0]), info[1].As<Napi::String>().Utf8Value(),
                                     info[2].As<Napi::Array>());
  auto* worker = new MethodWorker(env, std::move(method), std::move(inputs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // the worker deletes itself after OnOK / OnError
  return promise;
  TORCH_GUARD_END(env)
}

}  // namespace

void InitJitAsync(Napi::Env env, Napi::Object exports) {
  exports.Set("jitCallAsync", Napi::Function::New(env, JitCallAsync, "jitCallAsync"));
}

}  // namespace torch_node
