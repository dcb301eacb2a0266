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

#include <atomic>
#include <memory>
#include <mutex>
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
  t.backward(g, retain, create);
  SyncExternalMemory(env);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// A JS function held by a tensor hook. Hooks run where autograd runs the node: on the thread that
// called backward() for CPU work, which is the JS thread, so the function is called directly (and
// may call back into torch). A hook reached on another thread (autograd's CUDA device threads)
// cannot call JS: it fails the backward with an error that says so. The reference is released on
// the JS thread; one dropped elsewhere, or after the env's teardown began, is left to the env.
std::atomic<bool> g_env_closing{false};

struct JsHook {
  napi_env env;
  napi_ref ref = nullptr;
  std::thread::id thread = std::this_thread::get_id();
  JsHook(napi_env e, napi_value fn) : env(e) { napi_create_reference(e, fn, 1, &ref); }
  ~JsHook() {
    if (ref && !g_env_closing.load() && std::this_thread::get_id() == thread) napi_delete_reference(env, ref);
  }
};

// registerHook(id, fn) -> the hook's handle for removeHook. fn(gradId) returns a tensor id that
// replaces the gradient, or anything else to keep it (PyTorch's Tensor.register_hook).
Napi::Value RegisterHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  if (!t.requires_grad()) {
    ThrowTorchError(env, "registerHook(): cannot register a hook on a tensor that doesn't require gradient",
                    "", "ERR_TORCH_ARG");
  }
  auto hook = std::make_shared<JsHook>(env, info[1]);
  unsigned pos = t.register_hook([hook](const at::Tensor& grad) -> at::Tensor {
    TORCH_CHECK(std::this_thread::get_id() == hook->thread,
                "a tensor hook is a JavaScript function and runs on the thread that called backward(); this "
                "gradient was computed on one of autograd's device threads (CUDA), which cannot call "
                "JavaScript. Register hooks on CPU tensors, or read .grad after backward()");
    Napi::Env henv(hook->env);
    Napi::HandleScope scope(henv);
    napi_value fn;
    napi_get_reference_value(hook->env, hook->ref, &fn);
    Napi::Value gid = Wrap(henv, grad);
    Napi::Value r = Napi::Function(henv, fn).Call({gid});  // a JS throw propagates as Napi::Error
    if (r.IsNumber()) return GetTensor(henv, r);
    return at::Tensor();
  });
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
