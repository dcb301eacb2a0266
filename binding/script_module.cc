// TorchScript modules (torch.jit.load / save): a table of torch::jit::Module handles. lib/jit.ts
// wraps each in a ScriptModule (an nn.Module) whose parameters and buffers are the module's own
// tensors (same TensorImpl: gradients, optimizers and in-place loads reach the module).
// Method arguments are converted by the method's schema; results come back tagged so JS can tell a
// tensor from an int ({__t: id}) and a dict from a list ({__d: [[k, v], ...]}).
// Sync; all throw TorchError. torch.jit.trace is in jit_trace.cc, forwardAsync in jit_async.cc.
#include "script_module.h"

#include "convert.h"
#include "registry.h"

#include <torch/csrc/jit/serialization/import.h>

#include <cmath>
#include <deque>

namespace torch_node {
namespace {

std::deque<std::optional<torch::jit::Module>> g_modules;

}  // namespace

int32_t KeepModule(torch::jit::Module m) {
  g_modules.emplace_back(std::move(m));
  return static_cast<int32_t>(g_modules.size() - 1);
}

torch::jit::Module& ModuleAt(Napi::Env env, const Napi::Value& v) {
  int32_t h = v.As<Napi::Number>().Int32Value();
  if (h < 0 || static_cast<size_t>(h) >= g_modules.size() || !g_modules[h]) {
    ThrowTorchError(env, "TorchScript module was disposed (or never existed)", "", "ERR_TORCH_DISPOSED");
  }
  return *g_modules[h];
}

namespace {

// ---- JS -> IValue by TorchScript type ------------------------------------------------------------
[[noreturn]] void Expected(Napi::Env env, const std::string& where, const c10::TypePtr& type, const Napi::Value& v) {
  std::string got = v.IsNull()        ? "null"
                    : v.IsUndefined() ? "undefined"
                    : v.IsArray()     ? "an array"
                    : v.IsNumber()    ? "a number"
                    : v.IsString()    ? "a string"
                    : v.IsBoolean()   ? "a boolean"
                                      : "an object";
  ThrowTorchError(env, where + ": expected " + type->annotation_str() + ", got " + got, "", "ERR_TORCH_ARG");
}

c10::IValue ToScriptValue(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const std::string& where) {
  using K = c10::TypeKind;
  switch (type->kind()) {
    case K::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return ToScriptValue(env, v, type->castRaw<c10::OptionalType>()->getElementType(), where);
    case K::TensorType:
      if (!v.IsNumber()) Expected(env, where, type, v);
      return GetTensor(env, v);
    case K::IntType:
    case K::SymIntType: {
      if (!v.IsNumber()) Expected(env, where, type, v);
      double d = v.As<Napi::Number>().DoubleValue();
      if (d != std::trunc(d)) Expected(env, where, type, v);
      return static_cast<int64_t>(d);
    }
    case K::FloatType:
      if (!v.IsNumber()) Expected(env, where, type, v);
      return v.As<Napi::Number>().DoubleValue();
    case K::NumberType:
      if (!v.IsNumber() && !v.IsBoolean()) Expected(env, where, type, v);
      return ToScalar(env, v);
    case K::BoolType:
      if (!v.IsBoolean()) Expected(env, where, type, v);
      return v.As<Napi::Boolean>().Value();
    case K::StringType:
      if (!v.IsString()) Expected(env, where, type, v);
      return v.As<Napi::String>().Utf8Value();
    case K::NoneType:
      return c10::IValue();
    case K::ListType: {
      if (!v.IsArray()) Expected(env, where, type, v);
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto arr = v.As<Napi::Array>();
      c10::impl::GenericList list(elem);
      list.reserve(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        list.push_back(ToScriptValue(env, arr.Get(i), elem, where + "[" + std::to_string(i) + "]"));
      }
      return list;
    }
    case K::TupleType: {
      if (!v.IsArray()) Expected(env, where, type, v);
      const auto& elems = type->castRaw<c10::TupleType>()->elements();
      auto arr = v.As<Napi::Array>();
      if (arr.Length() != elems.size()) {
        ThrowTorchError(env,
                        where + ": expected a tuple of " + std::to_string(elems.size()) + " items, got " +
                            std::to_string(arr.Length()),
                        "", "ERR_TORCH_ARG");
      }
      std::vector<c10::IValue> items;
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        items.push_back(ToScriptValue(env, arr.Get(i), elems[i], where + "[" + std::to_string(i) + "]"));
      }
      return c10::ivalue::Tuple::create(std::move(items));
    }
    case K::DictType: {
      // From JS: an array of [key, value] pairs (lib/jit.ts turns Maps and objects into that).
      if (!v.IsArray()) Expected(env, where, type, v);
      auto dt = type->castRaw<c10::DictType>();
      c10::impl::GenericDict dict(dt->getKeyType(), dt->getValueType());
      auto arr = v.As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        auto pair = arr.Get(i).As<Napi::Array>();
        dict.insert_or_assign(ToScriptValue(env, pair.Get(0u), dt->getKeyType(), where + " key"),
                              ToScriptValue(env, pair.Get(1u), dt->getValueType(), where + " value"));
      }
      return dict;
    }
    default:
      break;
  }
  ThrowTorchError(env, where + ": TorchScript type " + type->annotation_str() + " cannot be passed from JS yet");
}

}  // namespace

// ---- IValue -> tagged JS ------------------------------------------------------------------------
Napi::Value FromScriptValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("__t", Wrap(env, v.toTensor()));
    return o;
  }
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isList()) {
    auto list = v.toListRef();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), FromScriptValue(env, list[i]));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    Napi::Array out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) out.Set(static_cast<uint32_t>(i), FromScriptValue(env, elems[i]));
    return out;
  }
  if (v.isGenericDict()) {
    auto dict = v.toGenericDict();
    Napi::Array pairs = Napi::Array::New(env, dict.size());
    uint32_t i = 0;
    for (const auto& entry : dict) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, FromScriptValue(env, entry.key()));
      pair.Set(1u, FromScriptValue(env, entry.value()));
      pairs.Set(i++, pair);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("__d", pairs);
    return o;
  }
  ThrowTorchError(env, std::string("a TorchScript result of kind ") + v.tagKind() + " cannot be returned to JS yet");
}

std::pair<torch::jit::Method, std::vector<c10::IValue>> MethodCall(Napi::Env env, torch::jit::Module& m,
                                                                   const std::string& name, const Napi::Array& given) {
  auto method = m.find_method(name);
  if (!method) ThrowTorchError(env, "TorchScript module has no method '" + name + "'", "", "ERR_TORCH_ARG");
  const auto& schema = method->function().getSchema();
  const auto& args = schema.arguments();  // args[0] is self
  size_t want = args.size() - 1;
  if (given.Length() > want) {
    ThrowTorchError(env,
                    name + "() takes " + std::to_string(want) + " arguments, got " + std::to_string(given.Length()), "",
                    "ERR_TORCH_ARG");
  }
  std::vector<c10::IValue> inputs;
  inputs.reserve(want);
  for (size_t i = 0; i < want; ++i) {
    const auto& arg = args[i + 1];
    if (i < given.Length() && !given.Get(i).IsUndefined()) {
      inputs.push_back(ToScriptValue(env, given.Get(i), arg.type(), name + "(): argument '" + arg.name() + "'"));
    } else if (arg.default_value()) {
      inputs.push_back(*arg.default_value());
    } else {
      ThrowTorchError(env, name + "(): missing argument '" + arg.name() + "' (" + arg.type()->annotation_str() + ")",
                      "", "ERR_TORCH_ARG");
    }
  }
  return {std::move(*method), std::move(inputs)};
}

namespace {

// ---- exports ------------------------------------------------------------------------------------
// jitLoad(path, device | null) -> handle
Napi::Value JitLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::optional<c10::Device> device;
  if (info[1].IsString()) device = ToDevice(env, info[1]);
  return Napi::Number::New(env, KeepModule(torch::jit::load(path, device)));
  TORCH_GUARD_END(env)
}

// jitInfo(handle) -> [qualifiedTypeName, training, methodNames[]]
Napi::Value JitInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto& m = ModuleAt(env, info[0]);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::String::New(env, m.type()->name() ? m.type()->name()->qualifiedName() : "Module"));
  out.Set(1u, Napi::Boolean::New(env, m.is_training()));
  auto methods = m.get_methods();
  Napi::Array names = Napi::Array::New(env, methods.size());
  for (size_t i = 0; i < methods.size(); ++i)
    names.Set(static_cast<uint32_t>(i), Napi::String::New(env, methods[i].name()));
  out.Set(2u, names);
  return out;
  TORCH_GUARD_END(env)
}

// jitMembers(handle) -> [[name, childHandle]...], [[name, id]...] params, [[name, id]...] buffers
// (this module's own, in registration order)
Napi::Value JitMembers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto& m = ModuleAt(env, info[0]);
  Napi::Array children = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& c : m.named_children()) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, c.name));
    pair.Set(1u, Napi::Number::New(env, KeepModule(c.value)));
    children.Set(i++, pair);
  }
  auto tensors = [&](auto list) {
    Napi::Array out = Napi::Array::New(env);
    uint32_t j = 0;
    for (const auto& p : list) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::String::New(env, p.name));
      pair.Set(1u, Wrap(env, p.value));
      out.Set(j++, pair);
    }
    return out;
  };
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, children);
  out.Set(1u, tensors(m.named_parameters(/*recurse=*/false)));
  out.Set(2u, tensors(m.named_buffers(/*recurse=*/false)));
  return out;
  TORCH_GUARD_END(env)
}

// jitCall(handle, methodName, args[]) -> tagged result
Napi::Value JitCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto [method, inputs] =
      MethodCall(env, ModuleAt(env, info[0]), info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Array>());
  c10::IValue result = method(std::move(inputs));
  SyncExternalMemory(env);
  return FromScriptValue(env, result);
  TORCH_GUARD_END(env)
}

Napi::Value JitTrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  ModuleAt(env, info[0]).train(info[1].ToBoolean().Value());
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// jitSetTensor(handle, name, id, kind): kind 'parameter' | 'buffer' — registers or replaces
// (new shapes allowed). Parameters get requires_grad (register_parameter does not set it).
Napi::Value JitSetTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto& m = ModuleAt(env, info[0]);
  std::string name = info[1].As<Napi::String>().Utf8Value();
  at::Tensor t = GetTensor(env, info[2]);
  bool is_buffer = info[3].As<Napi::String>().Utf8Value() == "buffer";
  if (!is_buffer && !t.requires_grad() && t.is_floating_point()) t.requires_grad_(true);
  m.register_parameter(name, t, is_buffer);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value JitSave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  ModuleAt(env, info[0]).save(info[1].As<Napi::String>().Utf8Value());
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value JitCode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto& m = ModuleAt(env, info[0]);
  auto method = m.find_method("forward");
  if (!method) return env.Null();
  std::ostringstream os;
  os << method->function().getSchema();
  return Napi::String::New(env, os.str());
  TORCH_GUARD_END(env)
}

Napi::Value JitFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  int32_t h = info[0].As<Napi::Number>().Int32Value();
  if (h >= 0 && static_cast<size_t>(h) < g_modules.size()) g_modules[h].reset();
  return env.Undefined();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitScriptModule(Napi::Env env, Napi::Object exports) {
  exports.Set("jitLoad", Napi::Function::New(env, JitLoad, "jitLoad"));
  exports.Set("jitInfo", Napi::Function::New(env, JitInfo, "jitInfo"));
  exports.Set("jitMembers", Napi::Function::New(env, JitMembers, "jitMembers"));
  exports.Set("jitCall", Napi::Function::New(env, JitCall, "jitCall"));
  exports.Set("jitTrain", Napi::Function::New(env, JitTrain, "jitTrain"));
  exports.Set("jitSetTensor", Napi::Function::New(env, JitSetTensor, "jitSetTensor"));
  exports.Set("jitSave", Napi::Function::New(env, JitSave, "jitSave"));
  exports.Set("jitSchema", Napi::Function::New(env, JitCode, "jitSchema"));
  exports.Set("jitFree", Napi::Function::New(env, JitFree, "jitFree"));
}

}  // namespace torch_node
