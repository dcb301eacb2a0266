// Autograd and grad mode. Grad mode and InferenceMode are thread-local in libtorch: the guards here
// hold for the duration of a JS callback on this thread; async workers set their own in Execute().
// Sync; all throw TorchError.
#include "convert.h"
#include "registry.h"

#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/function.h>

#include <ATen/ThreadLocalState.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace torch_node {
namespace {

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  t.requires_grad_(info[1].ToBoolean().Value());
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// grad(id) -> id | null (a new id aliasing the .grad tensor)
Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Wrap(env, GetTensor(env, info[0]).grad());
  TORCH_GUARD_END(env)
}

// gradIs(id, otherId) -> whether otherId is (a handle on) the tensor's current .grad
Napi::Value GradIs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& g = GetTensor(env, info[0]).grad();
  const at::Tensor& other = GetTensor(env, info[1]);
  return Napi::Boolean::New(env, g.defined() && g.unsafeGetTensorImpl() == other.unsafeGetTensorImpl());
  TORCH_GUARD_END(env)
}

// setGrad(id, gradId | null)
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  if (info[1].IsNull() || info[1].IsUndefined()) {
    t.mutable_grad().reset();
  } else {
    const at::Tensor& g = GetTensor(env, info[1]);
    if (!g.sizes().equals(t.sizes())) {
      ThrowTorchError(env, "grad: assigned grad has shape " + c10::str(g.sizes()) + " but the tensor has shape " +
                               c10::str(t.sizes()));
    }
    if (g.scalar_type() != t.scalar_type()) {
      ThrowTorchError(env, std::string("grad: assigned grad has dtype ") + c10::toString(g.scalar_type()) +
                               " but the tensor has dtype " + c10::toString(t.scalar_type()) +
                               "; a gradient must have the tensor's dtype");
    }
    if (g.device() != t.device()) {
      ThrowTorchError(env, "grad: assigned grad is on " + g.device().str() + " but the tensor is on " +
                               t.device().str() + "; a gradient must be on the tensor's device");
    }
    t.mutable_grad() = g;
  }
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// setData(id, dataId): PyTorch's `param.data = new` — the tensor keeps its identity (and autograd
// leaf status) and takes the other tensor's data, shape, dtype and device. Module.to() uses it so that
// optimizers holding the parameter keep working.
Napi::Value SetData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  const at::Tensor& d = GetTensor(env, info[1]);
  const_cast<at::Tensor&>(t).set_data(d);
  SyncExternalMemory(env);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  GetTensor(env, info[0]).retain_grad();
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// Tensor hooks are JS functions; autograd may reach them on any thread (the caller's for CPU work,
// its device threads for CUDA work). While any JS hook is alive, backward() runs the graph on a
// worker thread and the JS thread serves hook calls from a queue until the graph is done (the
// "trampoline"), so a hook always runs on the JS thread, whichever thread autograd reached it on.
// With no JS hook alive, backward() runs on the JS thread as before. The function reference is
// released on the JS thread; one dropped elsewhere, or after the env's teardown began, is left to
// the env.
std::atomic<bool> g_env_closing{false};
std::atomic<int> g_live_js_hooks{0};
std::thread::id g_js_thread;  // set by InitAutograd, on the JS thread

struct Trampoline {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> tasks;
  bool done = false;
};
std::atomic<Trampoline*> g_trampoline{nullptr};

struct JsHook {
  napi_env env;
  napi_ref ref = nullptr;
  JsHook(napi_env e, napi_value fn) : env(e) {
    napi_create_reference(e, fn, 1, &ref);
    g_live_js_hooks++;
  }
  ~JsHook() {
    g_live_js_hooks--;
    if (ref && !g_env_closing.load() && std::this_thread::get_id() == g_js_thread) napi_delete_reference(env, ref);
  }
  // On the JS thread: calls the function with the gradient; a JS throw propagates as Napi::Error.
  at::Tensor CallHere(const at::Tensor& grad) {
    Napi::Env henv(env);
    Napi::HandleScope scope(henv);
    napi_value fn;
    napi_get_reference_value(env, ref, &fn);
    Napi::Value r = Napi::Function(henv, fn).Call({Wrap(henv, grad)});
    if (r.IsNumber()) return GetTensor(henv, r);
    return at::Tensor();
  }
};

// The JS error a hook threw while served from the queue: kept on the JS thread (a Napi::Error must
// not cross threads) and rethrown there when backward() returns.
std::optional<Napi::Error> g_hook_error;

at::Tensor RunHook(const std::shared_ptr<JsHook>& hook, const at::Tensor& grad) {
  if (std::this_thread::get_id() == g_js_thread) return hook->CallHere(grad);
  Trampoline* tr = g_trampoline.load();
  TORCH_CHECK(tr != nullptr,
              "a tensor hook is a JavaScript function and autograd reached it on another thread outside "
              "backward(); call backward() from JavaScript");
  at::Tensor result;
  std::string failure;
  bool finished = false;
  std::mutex done_mu;
  std::condition_variable done_cv;
  {
    std::lock_guard<std::mutex> lock(tr->mu);
    tr->tasks.emplace_back([&] {
      try {
        result = hook->CallHere(grad);
      } catch (const Napi::Error& e) {
        if (!g_hook_error) g_hook_error.emplace(e);
        failure = "a tensor hook threw";
      } catch (const std::exception& e) {
        failure = e.what();
      }
      std::lock_guard<std::mutex> l(done_mu);
      finished = true;
      done_cv.notify_all();
    });
  }
  tr->cv.notify_all();
  std::unique_lock<std::mutex> l(done_mu);
  done_cv.wait(l, [&] { return finished; });
  TORCH_CHECK(failure.empty(), failure);
  return result;
}

// backward on a worker thread while the JS thread serves hook calls (see above).
void BackwardServingHooks(const at::Tensor& t, const at::Tensor& g, std::optional<bool> retain, bool create) {
  Trampoline tr;
  // A backward() called from inside a hook nests: hooks reached meanwhile, from any thread, are
  // served by this innermost loop (all on the JS thread).
  Trampoline* outer = g_trampoline.exchange(&tr);
  std::exception_ptr err;
  at::ThreadLocalState tls;
  std::thread worker([&] {
    try {
      at::ThreadLocalStateGuard guard(tls);
      t.backward(g, retain, create);
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(tr.mu);
      tr.done = true;
    }
    tr.cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(tr.mu);
    for (;;) {
      tr.cv.wait(lock, [&] { return tr.done || !tr.tasks.empty(); });
      if (!tr.tasks.empty()) {
        auto task = std::move(tr.tasks.front());
        tr.tasks.pop_front();
        lock.unlock();
        task();
        lock.lock();
        continue;
      }
      if (tr.done) break;
    }
  }
  worker.join();
  g_trampoline.store(outer);
  if (g_hook_error) {
    Napi::Error e = std::move(*g_hook_error);
    g_hook_error.reset();
    throw e;
  }
  if (err) std::rethrow_exception(err);
}

// backward(id, gradId | null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  at::Tensor g;
  if (info[1].IsNumber()) g = GetTensor(env, info[1]);
  std::optional<bool> retain;
  if (info[2].IsBoolean()) retain = info[2].As<Napi::Boolean>().Value();
  bool create = info[3].ToBoolean().Value();
  // With JS hooks alive, the JS thread serves them while a worker runs the graph.
  if (g_live_js_hooks.load() > 0)
    BackwardServingHooks(t, g, retain, create);
  else
    t.backward(g, retain, create);
  SyncExternalMemory(env);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// registerHook(id, fn) -> the hook's handle for removeHook. fn(gradId) returns a tensor id that
// replaces the gradient, or anything else to keep it (PyTorch's Tensor.register_hook).
Napi::Value RegisterHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  if (!t.requires_grad()) {
    ThrowTorchError(env, "registerHook(): cannot register a hook on a tensor that doesn't require gradient", "",
                    "ERR_TORCH_ARG");
  }
  auto hook = std::make_shared<JsHook>(env, info[1]);
  unsigned pos = t.register_hook([hook](const at::Tensor& grad) -> at::Tensor { return RunHook(hook, grad); });
  return Napi::Number::New(env, pos);
  TORCH_GUARD_END(env)
}

// removeHook(id, handle): unregisters a hook; removing one already removed is a no-op.
Napi::Value RemoveHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  t.remove_hook(info[1].As<Napi::Number>().Uint32Value());
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// gradFn(id) -> name of the node that made it ('AddBackward0'), or null for leaves
Napi::Value GradFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const auto& fn = GetTensor(env, info[0]).grad_fn();
  if (!fn) return env.Null();
  std::string name = fn->name();
  // libtorch reports C++ names ('torch::autograd::AddBackward0'); PyTorch prints the last part.
  auto pos = name.rfind("::");
  return Napi::String::New(env, pos == std::string::npos ? name : name.substr(pos + 2));
  TORCH_GUARD_END(env)
}

// withGradMode(enabled, fn): runs fn with grad mode set, restoring it afterwards (also on throw).
Napi::Value WithGradMode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  bool enabled = info[0].ToBoolean().Value();
  at::AutoGradMode guard(enabled);
  return info[1].As<Napi::Function>().Call({});
  TORCH_GUARD_END(env)
}

// inferenceMode(fn): runs fn under c10::InferenceMode.
Napi::Value WithInferenceMode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  c10::InferenceMode guard(info.Length() < 2 || info[1].ToBoolean().Value());
  return info[0].As<Napi::Function>().Call({});
  TORCH_GUARD_END(env)
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  at::GradMode::set_enabled(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value IsInferenceModeEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::InferenceMode::is_enabled());
}

// manualSeed(seed): the CPU generator, and every CUDA device's when CUDA is on (as torch.manual_seed).
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  if (at::globalContext().hasCUDA()) {
    auto n = at::detail::getCUDAHooks().deviceCount();
    for (c10::DeviceIndex i = 0; i < n; ++i) {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, i));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
  }
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// getRngState() -> id of a uint8 tensor with the CPU generator's state (torch.get_rng_state()).
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return Wrap(env, at::Tensor(gen.get_state()));
  TORCH_GUARD_END(env)
}

// setRngState(id): torch.set_rng_state(state); libtorch checks the state's size and dtype.
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& state = GetTensor(env, info[0]);
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad, "setRequiresGrad"));
  exports.Set("grad", Napi::Function::New(env, Grad, "grad"));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad, "setGrad"));
  exports.Set("gradIs", Napi::Function::New(env, GradIs, "gradIs"));
  exports.Set("retainGrad", Napi::Function::New(env, RetainGrad, "retainGrad"));
  exports.Set("setData", Napi::Function::New(env, SetData, "setData"));
  exports.Set("backward", Napi::Function::New(env, Backward, "backward"));
  exports.Set("gradFn", Napi::Function::New(env, GradFn, "gradFn"));
  exports.Set("registerHook", Napi::Function::New(env, RegisterHook, "registerHook"));
  exports.Set("removeHook", Napi::Function::New(env, RemoveHook, "removeHook"));
  g_js_thread = std::this_thread::get_id();
  env.AddCleanupHook([] { g_env_closing.store(true); });
  exports.Set("withGradMode", Napi::Function::New(env, WithGradMode, "withGradMode"));
  exports.Set("withInferenceMode", Napi::Function::New(env, WithInferenceMode, "withInferenceMode"));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled, "isGradEnabled"));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled, "setGradEnabled"));
  exports.Set("isInferenceModeEnabled", Napi::Function::New(env, IsInferenceModeEnabled, "isInferenceModeEnabled"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("getRngState", Napi::Function::New(env, GetRngState, "getRngState"));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState, "setRngState"));
}

}  // namespace torch_node
