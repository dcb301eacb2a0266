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
  for (size_t i = 0; i < a.size(); ++i)
    out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(a[i])));
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

// One napi_typeof per value: the checks below switch on it instead of asking V8 again and again.
napi_valuetype TypeOf(Napi::Env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) ThrowTorchError(env, "cannot read an argument's type");
  return t;
}

int64_t IntOf(Napi::Env env, napi_value v, napi_valuetype t, const c10::Argument& arg) {
  if (t != napi_number) BadArg(env, arg, "an integer");
  double d;
  napi_get_value_double(env, v, &d);
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) BadArg(env, arg, "an integer");
  return static_cast<int64_t>(d);
}

int32_t IdOf(Napi::Env env, napi_value v, napi_valuetype t, const c10::Argument& arg, const char* expected) {
  if (t != napi_number) BadArg(env, arg, expected);
  int32_t id;
  napi_get_value_int32(env, v, &id);
  return id;
}

c10::IValue ToIValueOfType(Napi::Env env, napi_value v, napi_valuetype vt, const c10::TypePtr& type,
                           const c10::Argument& arg) {
  using K = c10::TypeKind;
  if (type->kind() == K::OptionalType) {
    if (vt == napi_null || vt == napi_undefined) return c10::IValue();
    return ToIValueOfType(env, v, vt, type->castRaw<c10::OptionalType>()->getElementType(), arg);
  }
  switch (type->kind()) {
    case K::TensorType:
      return tl_table->Get(env, IdOf(env, v, vt, arg, "a tensor"));
    case K::IntType:
    case K::SymIntType:
      return IntOf(env, v, vt, arg);
    case K::FloatType:
    case K::SymFloatType: {
      if (vt != napi_number) BadArg(env, arg, "a number");
      double d;
      napi_get_value_double(env, v, &d);
      return d;
    }
    case K::BoolType:
    case K::SymBoolType: {
      if (vt != napi_boolean) BadArg(env, arg, "a boolean");
      bool b;
      napi_get_value_bool(env, v, &b);
      return b;
    }
    case K::NumberType:
      if (vt != napi_number && vt != napi_boolean) BadArg(env, arg, "a number");
      return ToScalar(env, Napi::Value(env, v));
    case K::StringType:
      if (vt != napi_string) BadArg(env, arg, "a string");
      return Napi::Value(env, v).As<Napi::String>().Utf8Value();
    case K::ScalarTypeType:
      return static_cast<int64_t>(ToScalarType(env, Napi::Value(env, v)));
    case K::LayoutType:
    case K::MemoryFormatType:
      return IntOf(env, v, vt, arg);
    case K::DeviceObjType:
      return ToDevice(env, Napi::Value(env, v));
    case K::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto ek = elem->kind();
      bool int_list = ek == K::IntType || ek == K::SymIntType;
      // int[2] kernel_size=3 style: one number stands for every element, as in Python.
      if (int_list && vt == napi_number) {
        int64_t x = IntOf(env, v, vt, arg);
        c10::List<int64_t> out;
        size_t n = arg.N() ? *arg.N() : 1;
        out.reserve(n);
        for (size_t i = 0; i < n; ++i) out.push_back(x);
        return out;
      }
      bool is_array = false;
      napi_is_array(env, v, &is_array);
      if (!is_array) BadArg(env, arg, int_list ? "an integer or an array of integers" : "an array");
      uint32_t n = 0;
      napi_get_array_length(env, v, &n);
      auto element = [&](uint32_t i, napi_valuetype& t) {
        napi_value e;
        napi_get_element(env, v, i, &e);
        t = TypeOf(env, e);
        return e;
      };
      napi_valuetype et;
      if (int_list) {
        c10::List<int64_t> out;
        out.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          napi_value e = element(i, et);
          out.push_back(IntOf(env, e, et, arg));
        }
        return out;
      }
      if (ek == K::TensorType) {
        c10::List<at::Tensor> out;
        out.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          napi_value e = element(i, et);
          out.push_back(tl_table->Get(env, IdOf(env, e, et, arg, "an array of tensors")));
        }
        return out;
      }
      if (ek == K::OptionalType) {
        c10::List<std::optional<at::Tensor>> out;
        out.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          napi_value e = element(i, et);
          if (et == napi_null || et == napi_undefined)
            out.push_back(std::nullopt);
          else
            out.push_back(tl_table->Get(env, IdOf(env, e, et, arg, "an array of tensors or nulls")));
        }
        return out;
      }
      if (ek == K::FloatType) {
        c10::List<double> out;
        for (uint32_t i = 0; i < n; ++i) {
          napi_value e = element(i, et);
          if (et != napi_number) BadArg(env, arg, "an array of numbers");
          double d;
          napi_get_value_double(env, e, &d);
          out.push_back(d);
        }
        return out;
      }
      if (ek == K::BoolType) {
        c10::List<bool> out;
        for (uint32_t i = 0; i < n; ++i) {
          napi_value e = element(i, et);
          if (et != napi_boolean) BadArg(env, arg, "an array of booleans");
          bool b;
          napi_get_value_bool(env, e, &b);
          out.push_back(b);
        }
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

c10::IValue ToIValue(Napi::Env env, napi_value v, napi_valuetype vt, const c10::Argument& arg) {
  return ToIValueOfType(env, v, vt, arg.type(), arg);
}

napi_valuetype ValueType(Napi::Env env, napi_value v) { return TypeOf(env, v); }

}  // namespace torch_node
