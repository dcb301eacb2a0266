// torch.jit.trace for JS modules and functions: libtorch's own tracer (torch::jit::tracer::trace)
// records the ATen ops that a JS forward calls. Our ops reach ATen through the dispatcher on the
// calling thread, and the tracer's state and its Tracer dispatch key are thread-local, so while the
// JS callback runs inside tracer::trace every op it calls is recorded, exactly as for PyTorch's
// Python bindings.
//
// As PyTorch's torch.jit.trace does for an nn.Module, the JS module tree is mirrored as a
// torch::jit::Module tree first (one class per module; its parameters and buffers registered as
// attributes holding the very same tensors), and the tracer is started with that module as `self`:
// the parameters then appear in the graph as prim::GetAttr of self, not as constants, so the result
// shares weights with the JS module and saves to an archive Python's torch.jit.load reads.
// lib/jit.ts (trace) validates arguments, calls the JS forward and checks the result.
// Sync; all throw TorchError (a JS exception thrown by forward propagates as itself).
#include "script_module.h"

#include "registry.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/frontend/tracer.h>

#include <memory>

namespace torch_node {
namespace {

namespace tracer = torch::jit::tracer;

// ---- JS <-> IValue for trace inputs and outputs ---------------------------------------------------
// Inputs and outputs of a trace are tensors, tuples of them (JS arrays) and dicts with string keys
// ({__d: [[key, value], ...]}), as in PyTorch; tensors are table ids.
c10::IValue TraceValue(Napi::Env env, const Napi::Value& v, const std::string& where) {
  if (v.IsNumber()) return GetTensor(env, v);
  if (v.IsArray()) {
    auto arr = v.As<Napi::Array>();
    std::vector<c10::IValue> items;
    items.reserve(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      items.push_back(TraceValue(env, arr.Get(i), where + "[" + std::to_string(i) + "]"));
    }
    return c10::ivalue::Tuple::create(std::move(items));
  }
  if (v.IsObject() && v.As<Napi::Object>().Has("__d")) {
    auto pairs = v.As<Napi::Object>().Get("__d").As<Napi::Array>();
    c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
    for (uint32_t i = 0; i < pairs.Length(); ++i) {
      auto pair = pairs.Get(i).As<Napi::Array>();
      std::string key = pair.Get(0u).As<Napi::String>().Utf8Value();
      Napi::Value value = pair.Get(1u);
      if (!value.IsNumber()) {
        ThrowTorchError(env, where + "['" + key + "']: a dict in a trace holds tensors only", "", "ERR_TORCH_ARG");
      }
      dict.insert_or_assign(key, GetTensor(env, value));
    }
    return dict;
  }
  ThrowTorchError(env,
                  where + ": a trace takes and returns tensors, arrays (tuples) of them and Maps of string to tensor",
                  "", "ERR_TORCH_ARG");
}

// ---- the module tree ------------------------------------------------------------------------------
// specs[i] = [className, training, params [[name, id]], buffers [[name, id, persistent]],
//             children [[name, specIndex]]]; specs[0] is the root. lib/jit.ts makes them (each JS
// module once, no cycles).
torch::jit::Module BuildModules(Napi::Env env, const Napi::Array& specs) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  uint32_t n = specs.Length();
  std::vector<torch::jit::Module> mods;
  mods.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    auto spec = specs.Get(i).As<Napi::Array>();
    std::string cls = spec.Get(0u).As<Napi::String>().Utf8Value();
    // Mangled when a class name repeats (two Linear layers are two TorchScript classes, as in PyTorch).
    mods.emplace_back(c10::QualifiedName("__torch__.torch_node." + cls), cu, /*shouldMangle=*/true);
  }
  for (uint32_t i = 0; i < n; ++i) {
    auto spec = specs.Get(i).As<Napi::Array>();
    auto& m = mods[i];
    m.register_attribute("training", c10::BoolType::get(), spec.Get(1u).ToBoolean().Value());
    auto params = spec.Get(2u).As<Napi::Array>();
    for (uint32_t j = 0; j < params.Length(); ++j) {
      auto p = params.Get(j).As<Napi::Array>();
      m.register_parameter(p.Get(0u).As<Napi::String>().Utf8Value(), GetTensor(env, p.Get(1u)), /*is_buffer=*/false);
    }
    auto buffers = spec.Get(3u).As<Napi::Array>();
    for (uint32_t j = 0; j < buffers.Length(); ++j) {
      auto b = buffers.Get(j).As<Napi::Array>();
      std::string name = b.Get(0u).As<Napi::String>().Utf8Value();
      const at::Tensor& t = GetTensor(env, b.Get(1u));
      if (b.Get(2u).ToBoolean().Value()) {
        m.register_buffer(name, t);
      } else {
        // A non-persistent buffer: a plain tensor attribute, so it stays out of the state dict.
        m.register_attribute(name, c10::TensorType::get(), t);
      }
    }
    auto children = spec.Get(4u).As<Napi::Array>();
    for (uint32_t j = 0; j < children.Length(); ++j) {
      auto c = children.Get(j).As<Napi::Array>();
      uint32_t k = c.Get(1u).As<Napi::Number>().Uint32Value();
      if (k >= n) ThrowTorchError(env, "jitTrace: bad module spec");
      m.register_module(c.Get(0u).As<Napi::String>().Utf8Value(), mods[k]);
    }
  }
  return mods.at(0);
}

// ---- exports ------------------------------------------------------------------------------------
// jitTrace(specs, inputs[], fn, argNames[], strict) -> handle of a torch::jit::Module whose forward
// is the traced graph. fn(...taggedInputs) runs the JS forward and returns its output encoded as
// TraceValue reads it.
Napi::Value JitTrace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  torch::jit::Module root = BuildModules(env, info[0].As<Napi::Array>());
  auto given = info[1].As<Napi::Array>();
  torch::jit::Stack inputs;
  for (uint32_t i = 0; i < given.Length(); ++i) {
    inputs.push_back(TraceValue(env, given.Get(i), "exampleInputs[" + std::to_string(i) + "]"));
  }
  auto fn = info[2].As<Napi::Function>();
  std::vector<std::string> arg_names;
  auto names = info[3].As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length(); ++i) arg_names.push_back(names.Get(i).As<Napi::String>().Utf8Value());
  bool strict = info[4].ToBoolean().Value();

  auto traced_fn = [&](torch::jit::Stack traced_inputs) -> torch::jit::Stack {
    // The inputs as the tracer sees them (the same tensors, or views where one was given twice).
    std::vector<napi_value> args;
    args.reserve(traced_inputs.size());
    for (const auto& v : traced_inputs) args.push_back(FromScriptValue(env, v));
    Napi::Value out = fn.Call(args);  // a JS exception comes back as a Napi::Error: tracer::trace abandons
    return {TraceValue(env, out, "forward() output")};
  };
  auto [state, outputs] = tracer::trace(
      std::move(inputs), traced_fn, [](const at::Tensor&) { return std::string(); }, strict, /*force_outplace=*/false,
      &root, arg_names);
  // As PyTorch's Module._create_method_from_trace: the graph becomes the class's forward.
  auto* method = root._ivalue()->compilation_unit()->create_function(
      c10::QualifiedName(*root.type()->name(), "forward"), state->graph);
  root.type()->addMethod(method);
  return Napi::Number::New(env, KeepModule(std::move(root)));
  TORCH_GUARD_END(env)
}

// jitUntraced(fn): runs fn with the tracer paused (no-op when not tracing). lib/jit.ts wraps the
// entry points that fill tensors from JS memory (fromData: at::empty + memcpy) with it during a
// trace, so that their results enter the graph as constants holding the data, as torch.tensor()
// does in PyTorch, rather than as an aten::empty whose contents the graph never sees.
Napi::Value JitUntraced(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto fn = info[0].As<Napi::Function>();
  std::shared_ptr<tracer::TracingState> state = tracer::getTracingState();
  if (!state) return fn.Call({});
  tracer::setTracingState(nullptr);
  struct Resume {
    std::shared_ptr<tracer::TracingState> state;
    ~Resume() { tracer::setTracingState(std::move(state)); }
  } resume{std::move(state)};
  return fn.Call({});
  TORCH_GUARD_END(env)
}

// jitGraph(handle) -> the forward graph as text (for tests and for reading what a trace recorded).
Napi::Value JitGraph(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto method = ModuleAt(env, info[0]).find_method(info[1].As<Napi::String>().Utf8Value());
  if (!method) return env.Null();
  return Napi::String::New(env, method->graph()->toString());
  TORCH_GUARD_END(env)
}

}  // namespace

void InitJitTrace(Napi::Env env, Napi::Object exports) {
  exports.Set("jitTrace", Napi::Function::New(env, JitTrace, "jitTrace"));
  exports.Set("jitUntraced", Napi::Function::New(env, JitUntraced, "jitUntraced"));
  exports.Set("jitGraph", Napi::Function::New(env, JitGraph, "jitGraph"));
}

}  // namespace torch_node
