#include "convert.h"

#include "registry.h"

#include <ATen/core/function_schema.h>
#include <ATen/core/jit_type.h>

#include <cmath>

namespace torch_node {

c10::ScalarType ToScalarType(Napi::Env env, const Napi::Value& v) {
  if (!v.IsNumber()) ThrowTorchError(env, "dtype: expected a dtype code (number)");
  int32_t code = v.As<Napi::Number>().Int32Value();
  if (code < 0 || code >= static_cast<int32_t>(c10::ScalarType::NumOptions)) {
    ThrowTorchError(env, "dtype: unknown dtype code " + std::to_string(code));
  }
  return static_cast<c10::ScalarType>(code);
}

c10::Device ToDevice(Napi::Env env, const Napi::Value& v) {
  if (!v.IsString()) ThrowTorchError(env, "device: expected a string such as 'cpu' or 'cuda:0'");
  return c10::Device(v.As<Napi::String>().Utf8Value());  // throws c10::Error on a bad string
}

static int64_t ToInt64(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) ThrowTorchError(env, std::string(what) + ": expected an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) {
    ThrowTorchError(env, std::string(what) + ": expected an integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

std::vector<int64_t> ToInt64Vector(Napi::Env env, const Napi::Value& v, const char* what) {
  std::vector<int64_t> out;
  if (v.IsNumber()) {
    out.push_back(ToInt64(env, v, what));
    return out;
  }
  if (!v.IsArray()) ThrowTorchError(env, std::string(what) + ": expected an array of integers");
  auto arr = v.As<Napi::Array>();
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(ToInt64(env, arr.Get(i), what));
  return out;
}

c10::Scalar ToScalar(Napi::Env env, const Napi::Value& v) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (!v.IsNumber()) ThrowTorchError(env, "expected a number or boolean scalar");
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) <= 9007199254740991.0) {
    return c10::Scalar(static_cast<int64_t>(d));
  }
  return c10::Scalar(d);
}

Napi::Array FromIntArray(Napi::Env env, c10::IntArrayRef a) {
  Napi::Array out = Napi::Array::New(env, a.size());
  for (size_t i = 0; i < a.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(a[i])));
  return out;
}

Napi::Value FromIValue(Napi::Env env, c10::IValue v) {
  if (v.isTensor()) return Wrap(env, std::move(v).toTensor());
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isSymInt()) return Napi::Number::New(env, static_cast<double>(v.toSymInt().guard_int(__FILE__, __LINE__)));
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTensorList()) {
    auto list = v.toTensorVector();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, std::move(list[i])));
    return out;
  }
  if (v.isIntList()) return FromIntArray(env, v.toIntVector());
  if (v.isList()) {
    auto list = v.toList();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, list.get(i)));
    return out;
  }
  if (v.isTuple()) {
    auto& elems = v.toTupleRef().elements();
    Napi::Array out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, elems[i]));
    return out;
  }
  if (v.isScalar()) {
    auto s = v.toScalar();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    return Napi::Number::New(env, s.toDouble());
  }
  ThrowTorchError(env, std::string("cannot convert a native ") + v.tagKind() + " result to JS");
}

namespace {

[[noreturn]] void BadArg(Napi::Env env, const c10::Argument& arg, const char* expected) {
  ThrowTorchError(env, "argument '" + arg.name() + "': expected " + expected, "", "ERR_TORCH_ARG");
}

c10::IValue ToIValueOfType(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type,
                           const c10::Argument& arg) {
  using K = c10::TypeKind;
  if (type->kind() == K::OptionalType) {
    if (v.IsNull() || v.IsUndefined()) return c10::IValue();
    return ToIValueOfType(env, v, type->castRaw<c10::OptionalType>()->getElementType(), arg);
  }
  switch (type->kind()) {
    case K::TensorType:
      if (!v.IsNumber()) BadArg(env, arg, "a tensor");
      return GetTensor(env, v);
    case K::IntType:
    case K::SymIntType:
      if (!v.IsNumber()) BadArg(env, arg, "an integer");
      return ToInt64(env, v, arg.name().c_str());
    case K::FloatType:
    case K::SymFloatType:
      if (!v.IsNumber()) BadArg(env, arg, "a number");
      return v.As<Napi::Number>().DoubleValue();
    case K::BoolType:
    case K::SymBoolType:
      if (!v.IsBoolean()) BadArg(env, arg, "a boolean");
      return v.As<Napi::Boolean>().Value();
    case K::NumberType:
      if (!v.IsNumber() && !v.IsBoolean()) BadArg(env, arg, "a number");
      return ToScalar(env, v);
    case K::StringType:
      if (!v.IsString()) BadArg(env, arg, "a string");
      return v.As<Napi::String>().Utf8Value();
    case K::ScalarTypeType:
      return static_cast<int64_t>(ToScalarType(env, v));
    case K::LayoutType:
    case K::MemoryFormatType:
      if (!v.IsNumber()) BadArg(env, arg, "an enum code");
      return ToInt64(env, v, arg.name().c_str());
    case K::DeviceObjType:
      return ToDevice(env, v);
    case K::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto ek = elem->kind();
      if (ek == K::IntType || ek == K::SymIntType) {
        // int[2] kernel_size=3 style: one number stands for every element, as in Python.
        if (v.IsNumber() && arg.N()) {
          return c10::List<int64_t>(std::vector<int64_t>(*arg.N(), ToInt64(env, v, arg.name().c_str())));
        }
        return c10::List<int64_t>(ToInt64Vector(env, v, arg.name().c_str()));
      }
      if (!v.IsArray()) BadArg(env, arg, "an array");
      auto arr = v.As<Napi::Array>();
      uint32_t n = arr.Length();
      if (ek == K::TensorType) {
        c10::List<at::Tensor> out;
        out.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          Napi::Value e = arr.Get(i);
          if (!e.IsNumber()) BadArg(env, arg, "an array of tensors");
          out.push_back(GetTensor(env, e));
        }
        return out;
      }
      if (ek == K::OptionalType) {
        c10::List<std::optional<at::Tensor>> out;
        out.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          Napi::Value e = arr.Get(i);
          if (e.IsNull() || e.IsUndefined()) out.push_back(std::nullopt);
          else out.push_back(GetTensor(env, e));
        }
        return out;
      }
      if (ek == K::FloatType) {
        c10::List<double> out;
        for (uint32_t i = 0; i < n; ++i) out.push_back(arr.Get(i).As<Napi::Number>().DoubleValue());
        return out;
      }
      if (ek == K::BoolType) {
        c10::List<bool> out;
        for (uint32_t i = 0; i < n; ++i) out.push_back(arr.Get(i).ToBoolean().Value());
        return out;
      }
      break;
    }
    default:
      break;
  }
  ThrowTorchError(env, "argument '" + arg.name() + "' of type " + type->str() + " is not supported from JS");
}

}  // namespace

c10::IValue ToIValue(Napi::Env env, const Napi::Value& v, const c10::Argument& arg) {
  return ToIValueOfType(env, v, arg.type(), arg);
}

}  // namespace torch_node
