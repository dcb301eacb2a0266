// Unboxed dispatcher calls for the commonest schema shapes (ops/dispatch.cc).
//
// A boxed call (callOp's general path) builds an IValue stack and goes through the kernel's boxing
// adapter, which converts every IValue back to its C++ type; PyTorch's Python binding instead calls
// the operator's unboxed entry with C++ values. For an operator whose schema has one of the shapes
// below, findOp picks the matching C++ signature (checked against the operator's own with typed(),
// so a mismatch is never called) and callOp reads the JS arguments straight into C++ values and
// calls it unboxed through the dispatcher: the same kernels, autograd, and dispatch keys. A value of
// an unexpected type (or a missing argument whose default is not a plain one) makes Read return
// false, and the call takes the boxed path, which gives the error message it always gave.
//
// Adding a shape: one line in kTypedShapes (its key from ShapeKey, and the signature).
#pragma once

#include "../registry.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/util/SmallVector.h>

#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

namespace torch_node {
namespace typed {

// The schema's shape as a short key: argument types, comma-separated, then the return type.
//   T tensor, T? optional tensor, T! a tensor written to (an in-place self), i int/SymInt (and a
//   dtype: the schema's type of `ScalarType? dtype` is an int), f float, b bool, S Scalar, iL? optional
//   int list; anything else '#'. Shapes that share a key differ in C++ types (int64_t or SymInt,
//   an int or a dtype): Find tries each, and typed() says which is the operator's.
inline std::string ShapeKey(const c10::FunctionSchema& s) {
  using K = c10::TypeKind;
  auto key = [](const c10::TypePtr& type, bool written) -> std::string {
    c10::TypePtr t = type;
    bool opt = t->kind() == K::OptionalType;
    if (opt) t = t->castRaw<c10::OptionalType>()->getElementType();
    std::string k;
    switch (t->kind()) {
      case K::TensorType:
        k = written ? "T!" : "T";
        break;
      case K::IntType:
      case K::SymIntType:
        k = "i";
        break;
      case K::FloatType:
        k = "f";
        break;
      case K::BoolType:
        k = "b";
        break;
      case K::NumberType:
        k = "S";
        break;
      case K::ListType: {
        auto ek = t->castRaw<c10::ListType>()->getElementType()->kind();
        k = ek == K::IntType ? "iL" : "#";
        break;
      }
      default:
        k = "#";
    }
    return opt ? k + "?" : k;
  };
  std::string out;
  for (const auto& a : s.arguments()) {
    if (!out.empty()) out += ",";
    out += key(a.type(), a.alias_info() && a.alias_info()->isWrite());
  }
  out += "->";
  for (const auto& r : s.returns()) out += key(r.type(), r.alias_info() && r.alias_info()->isWrite());
  return out;
}

// ---- reading one argument into its C++ type ------------------------------------------------------
// Read(env, v, arg): v is the JS value, or nullptr when the caller gave none (then the schema's
// default, if it is a plain one). False: not this type; the boxed path decides.

inline bool IntOfJs(napi_env env, napi_value v, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

inline bool IsNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

template <typename T>
struct Arg;

template <>
struct Arg<const at::Tensor&> {
  const at::Tensor* t = nullptr;
  bool Read(napi_env env, napi_value v, const c10::Argument&) {
    int32_t id;
    if (v == nullptr || napi_get_value_int32(env, v, &id) != napi_ok) return false;
    t = &tl_table->Get(Napi::Env(env), id);
    return true;
  }
  const at::Tensor& get() { return *t; }
};

// An in-place op's self (Tensor(a!)): the table's tensor, written to.
template <>
struct Arg<at::Tensor&> {
  at::Tensor* t = nullptr;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    Arg<const at::Tensor&> r;
    if (!r.Read(env, v, a)) return false;
    t = const_cast<at::Tensor*>(r.t);
    return true;
  }
  at::Tensor& get() { return *t; }
};

template <>
struct Arg<const std::optional<at::Tensor>&> {
  std::optional<at::Tensor> t;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) return a.default_value() && a.default_value()->isNone();
    if (IsNullish(env, v)) return true;
    Arg<const at::Tensor&> r;
    if (!r.Read(env, v, a)) return false;
    t = *r.t;
    return true;
  }
  const std::optional<at::Tensor>& get() { return t; }
};

template <>
struct Arg<int64_t> {
  int64_t x = 0;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) {
      if (!a.default_value() || !a.default_value()->isInt()) return false;
      x = a.default_value()->toInt();
      return true;
    }
    return IntOfJs(env, v, &x);
  }
  int64_t get() { return x; }
};

template <>
struct Arg<double> {
  double x = 0;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) {
      if (!a.default_value() || !a.default_value()->isDouble()) return false;
      x = a.default_value()->toDouble();
      return true;
    }
    return napi_get_value_double(env, v, &x) == napi_ok;
  }
  double get() { return x; }
};

template <>
struct Arg<bool> {
  bool x = false;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) {
      if (!a.default_value() || !a.default_value()->isBool()) return false;
      x = a.default_value()->toBool();
      return true;
    }
    return napi_get_value_bool(env, v, &x) == napi_ok;
  }
  bool get() { return x; }
};

template <>
struct Arg<const c10::Scalar&> {
  c10::Scalar x;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) {
      if (!a.default_value() || !a.default_value()->isScalar()) return false;
      x = a.default_value()->toScalar();
      return true;
    }
    bool b;
    if (napi_get_value_bool(env, v, &b) == napi_ok) {
      x = c10::Scalar(b);
      return true;
    }
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok) return false;
    // As ToScalar: an integral number is an integer Scalar (type promotion as Python's int).
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) <= 9007199254740991.0) {
      x = c10::Scalar(static_cast<int64_t>(d));
    } else {
      x = c10::Scalar(d);
    }
    return true;
  }
  const c10::Scalar& get() { return x; }
};

template <>
struct Arg<std::optional<int64_t>> {
  std::optional<int64_t> x;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) return a.default_value() && a.default_value()->isNone();
    if (IsNullish(env, v)) return true;
    int64_t i;
    if (!IntOfJs(env, v, &i)) return false;
    x = i;
    return true;
  }
  std::optional<int64_t> get() { return x; }
};

template <>
struct Arg<std::optional<at::ScalarType>> {
  std::optional<at::ScalarType> x;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) return a.default_value() && a.default_value()->isNone();
    if (IsNullish(env, v)) return true;
    int32_t code;
    if (napi_get_value_int32(env, v, &code) != napi_ok || code < 0 ||
        code >= static_cast<int32_t>(c10::ScalarType::NumOptions)) {
      return false;
    }
    x = static_cast<at::ScalarType>(code);
    return true;
  }
  std::optional<at::ScalarType> get() { return x; }
};

// int[N]? (sum's dims): an array, one number (N of it, as Python's int[2]), or null.
template <>
struct Arg<at::OptionalIntArrayRef> {
  c10::SmallVector<int64_t, 8> xs;
  bool present = false;
  bool Read(napi_env env, napi_value v, const c10::Argument& a) {
    if (v == nullptr) return a.default_value() && a.default_value()->isNone();
    if (IsNullish(env, v)) return true;
    int64_t one;
    if (IntOfJs(env, v, &one)) {
      xs.assign(a.N() ? *a.N() : 1, one);
      present = true;
      return true;
    }
    bool is_array = false;
    if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) return false;
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    xs.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      napi_value e;
      if (napi_get_element(env, v, i, &e) != napi_ok || !IntOfJs(env, e, &xs[i])) return false;
    }
    present = true;
    return true;
  }
  at::OptionalIntArrayRef get() { return present ? at::OptionalIntArrayRef(at::IntArrayRef(xs)) : std::nullopt; }
};

// ---- the call --------------------------------------------------------------------------------------
// Returns nullptr when an argument did not read (the caller then takes the boxed path); otherwise
// the JS result as the boxed path's FromIValue gives it (want_result: callOp), or undefined
// (callOpInplace).
template <typename Sig>
struct Caller;

template <typename R, typename... A>
struct Caller<R(A...)> {
  static napi_value Call(Napi::Env env, const c10::OperatorHandle& op, const napi_value* argv, size_t given,
                         bool want_result) {
    return Impl(env, op, argv, given, want_result, std::index_sequence_for<A...>{});
  }

  template <size_t... I>
  static napi_value Impl(Napi::Env env, const c10::OperatorHandle& op, const napi_value* argv, size_t given,
                         bool want_result, std::index_sequence<I...>) {
    const auto& args = op.schema().arguments();
    std::tuple<Arg<A>...> in;
    bool ok = (std::get<I>(in).Read(env, I < given ? argv[I] : nullptr, args[I]) && ...);
    if (!ok) return nullptr;
    if constexpr (std::is_same_v<R, at::Tensor&>) {
      at::Tensor& self = op.typed<R(A...)>().call(std::get<I>(in).get()...);
      // The boxed path's callOp gives the written tensor a new id too (callOpInplace none).
      return want_result ? static_cast<napi_value>(Wrap(env, self)) : static_cast<napi_value>(env.Undefined());
    } else {
      R r = op.typed<R(A...)>().call(std::get<I>(in).get()...);
      return want_result ? static_cast<napi_value>(Wrap(env, std::move(r))) : static_cast<napi_value>(env.Undefined());
    }
  }

  // Whether the operator's registered C++ signature is this one (typed() checks; it throws if not).
  static bool Matches(const c10::OperatorHandle& op) {
    try {
      op.typed<R(A...)>();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
};

using CallFn = napi_value (*)(Napi::Env, const c10::OperatorHandle&, const napi_value*, size_t, bool);

struct Shape {
  const char* key;
  CallFn call;
  bool (*matches)(const c10::OperatorHandle&);
};

template <typename Sig>
constexpr Shape Entry(const char* key) {
  return {key, &Caller<Sig>::Call, &Caller<Sig>::Matches};
}

using T = at::Tensor;
using CT = const at::Tensor&;
using OT = const std::optional<at::Tensor>&;
using CS = const c10::Scalar&;
using ST = std::optional<at::ScalarType>;

// The shapes: the commonest among the operators lib/ calls by name (unary and binary ops without a
// fast-path entry, reductions with dims and a dtype, softmax-likes with a dtype, norms, dropout,
// losses, in-place activations).
inline const Shape kTypedShapes[] = {
    Entry<T(CT)>("T->T"),
    Entry<T(CT, CT)>("T,T->T"),
    Entry<T(CT, CS)>("T,S->T"),
    Entry<T(CT, CS, CS)>("T,S,S->T"),
    Entry<T(CT, int64_t)>("T,i->T"),
    Entry<T(CT, int64_t, bool)>("T,i,b->T"),
    Entry<T(CT, double, bool)>("T,f,b->T"),
    Entry<T(CT, ST)>("T,i?->T"),
    Entry<T(CT, int64_t, ST)>("T,i,i?->T"),
    Entry<T(CT, int64_t, bool, ST)>("T,i,b,i?->T"),
    Entry<T(CT, std::optional<int64_t>, bool)>("T,i?,b->T"),
    Entry<T(CT, at::OptionalIntArrayRef, bool, ST)>("T,iL?,b,i?->T"),
    Entry<T(CT, CT, int64_t)>("T,T,i->T"),
    Entry<T(CT, OT, OT, OT, OT, bool, double, double, bool)>("T,T?,T?,T?,T?,b,f,f,b->T"),
    Entry<at::Tensor&(at::Tensor&)>("T!->T!"),
    Entry<at::Tensor&(at::Tensor&, CS)>("T!,S->T!"),
    Entry<at::Tensor&(at::Tensor&, double, bool)>("T!,f,b->T!"),
};

// The unboxed caller for an operator, or nullptr (then every call is boxed).
inline CallFn Find(const c10::OperatorHandle& op) {
  std::string key = ShapeKey(op.schema());
  for (const Shape& s : kTypedShapes) {
    if (key == s.key && s.matches(op)) return s.call;
  }
  return nullptr;
}

}  // namespace typed
}  // namespace torch_node
