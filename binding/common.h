// Shared by every binding file: includes, the error guard, and the per-env instance data.
//
// Every native entry point runs inside TORCH_GUARD: c10::Error -> TorchError (message without the
// C++ backtrace, which goes on .nativeStack), std::exception -> TorchError, anything else ->
// TorchError('unknown native error'). Napi::Error (a JS exception already pending) passes through.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <string>

namespace torch_node {

struct InstanceData {
  Napi::FunctionReference torch_error;  // lib/errors.ts TorchError, handed over by setErrorClass()
};

// Throws a JS TorchError (or a plain Error before lib/ has handed the class over) as a C++
// Napi::Error, which node-addon-api turns into a pending JS exception at the boundary.
[[noreturn]] void ThrowTorchError(Napi::Env env, const std::string& message, const std::string& native_stack = "",
                                  const char* code = "ERR_TORCH");

// Splits a c10::Error into the user-facing message and the backtrace.
std::string C10Message(const c10::Error& e);

}  // namespace torch_node

#define TORCH_GUARD_BEGIN try {
#define TORCH_GUARD_END(env)                                                   \
  }                                                                            \
  catch (const Napi::Error&) {                                                 \
    throw;                                                                     \
  }                                                                            \
  catch (const c10::Error& e) {                                                \
    ::torch_node::ThrowTorchError(env, ::torch_node::C10Message(e), e.what()); \
  }                                                                            \
  catch (const std::exception& e) {                                            \
    ::torch_node::ThrowTorchError(env, e.what());                              \
  }                                                                            \
  catch (...) {                                                                \
    ::torch_node::ThrowTorchError(env, "unknown native error");                \
  }

namespace torch_node {

// Runs `body(env)` for an entry point written against the C N-API (the hot ones, where
// node-addon-api's CallbackInfo costs measurable time): the same guard as TORCH_GUARD, and a
// pending JS exception instead of a C++ one at the boundary.
template <typename F>
napi_value Guarded(napi_env raw_env, F&& body) {
  Napi::Env env(raw_env);
  try {
    TORCH_GUARD_BEGIN
    return body(env);
    TORCH_GUARD_END(env)
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// The base of every AsyncWorker here: its completion never lets a C++ exception escape. When the
// env is going away while the work runs (a worker_thread terminated in the middle of a
// forwardAsync), libuv still completes the work during the env's cleanup, where no JS can run:
// settling the promise fails, node-addon-api turns that into a throw from inside its own catch, and
// the process would abort. There is nobody left to tell, so the failure is dropped; the worker is
// deleted either way.
class SafeAsyncWorker : public Napi::AsyncWorker {
 public:
  using Napi::AsyncWorker::AsyncWorker;

 protected:
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    SuppressDestruct();  // the base would delete this before returning; we do it after the catch
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
    }
    Destroy();
  }
};

// The async calls (forwardAsync, loadAsync, a collective's wait, ...): Run() on libuv's pool — its
// exception, or Fail(), becomes the rejection, the same TorchError (class, .code, .nativeStack) a
// synchronous call would throw — then Settle(env) on the JS thread gives the value the promise
// resolves with. Start() queues it (it deletes itself when done) and returns the promise.
class PromiseWorker : public SafeAsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name, const char* code = "ERR_TORCH")
      : SafeAsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), code_(code) {}
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Settle(Napi::Env env) = 0;
  // Records a failure from Run() (an empty message would read as success to node-addon-api).
  void Fail(std::string message, std::string native_stack = "", const char* code = nullptr) {
    message_ = message.empty() ? "unknown native error" : std::move(message);
    native_stack_ = std::move(native_stack);
    if (code) code_ = code;
    SetError(message_);
  }

 private:
  void Execute() override {
    try {
      Run();
    } catch (const c10::Error& e) {
      Fail(C10Message(e), e.what());
    } catch (const std::exception& e) {
      Fail(e.what());
    } catch (...) {
      Fail("unknown native error");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(Settle(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      Reject(env, e.what(), "");
    }
  }
  void OnError(const Napi::Error&) override { Reject(Env(), message_, native_stack_); }
  void Reject(Napi::Env env, const std::string& message, const std::string& native_stack) {
    try {
      ThrowTorchError(env, message, native_stack, code_);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  const char* code_;
  std::string message_;
  std::string native_stack_;
};

// exports[name] = a function over a C N-API callback.
inline void ExportRaw(Napi::Env env, Napi::Object exports, const char* name, napi_callback fn) {
  napi_value f;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f));
  exports.Set(name, Napi::Value(env, f));
}

}  // namespace torch_node
