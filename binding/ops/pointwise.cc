// The hot path: pointwise and matrix ops with a dedicated entry point each kind of call, so that
// `a.add(b)` costs one table lookup, one ATen call and one table insert. Op codes are indexes into
// the tables below, which are built from pointwise.def; lib/ops/codes.ts is generated from the same
// file (scripts/gen-ops.js) and checked against fastPathNames() at load.
// Sync. Throws TorchError (shape/dtype/device mismatch from libtorch).
#include "../convert.h"
#include "../registry.h"

#include <ATen/Functions.h>
#include <ATen/ScalarOps.h>

#include <map>
#include <string>
#include <vector>

namespace torch_node {
namespace {

using T = at::Tensor;
using Bin = T (*)(const T&, const T&);
using BinS = T (*)(const T&, const c10::Scalar&);
using Un = T (*)(const T&);
using BinIn = void (*)(const T&, const T&);
using BinSIn = void (*)(const T&, const c10::Scalar&);
using UnIn = void (*)(const T&);
using Red = T (*)(const T&, at::IntArrayRef, bool);

// A scalar as a 0-dim "wrapped number" tensor, which takes part in type promotion like a Python
// number. Calling the Tensor overload with it is what PyTorch's Python binding does for `a * 2`: the
// Scalar overloads (mul.Scalar, ...) are composites that build this tensor and dispatch again.
T Wrapped(const c10::Scalar& s) {
  T t = c10::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

// The tables, built from pointwise.def: one lambda per line of each kind, in the file's order.
#define NONE(name, expr, py, inputs)
#define BINARY NONE
#define SCALAR NONE
#define UNARY NONE
#define BINARY_INPLACE NONE
#define SCALAR_INPLACE NONE
#define UNARY_INPLACE NONE
#define REDUCE NONE

#undef BINARY
#define BINARY(name, expr, py, inputs) [](const T& a, const T& b) -> T { return expr; },
const Bin kBinary[] = {
#include "pointwise.def"
};
#undef BINARY
#define BINARY NONE

#undef SCALAR
#define SCALAR(name, expr, py, inputs) [](const T& a, const c10::Scalar& s) -> T { return expr; },
const BinS kScalar[] = {
#include "pointwise.def"
};
#undef SCALAR
#define SCALAR NONE

#undef UNARY
#define UNARY(name, expr, py, inputs) [](const T& a) -> T { return expr; },
const Un kUnary[] = {
#include "pointwise.def"
};
#undef UNARY
#define UNARY NONE

#undef BINARY_INPLACE
#define BINARY_INPLACE(name, expr, py, inputs) [](const T& a, const T& b) { expr; },
const BinIn kBinaryInplace[] = {
#include "pointwise.def"
};
#undef BINARY_INPLACE
#define BINARY_INPLACE NONE

#undef SCALAR_INPLACE
#define SCALAR_INPLACE(name, expr, py, inputs) [](const T& a, const c10::Scalar& s) { expr; },
const BinSIn kScalarInplace[] = {
#include "pointwise.def"
};
#undef SCALAR_INPLACE
#define SCALAR_INPLACE NONE

#undef UNARY_INPLACE
#define UNARY_INPLACE(name, expr, py, inputs) [](const T& a) { expr; },
const UnIn kUnaryInplace[] = {
#include "pointwise.def"
};
#undef UNARY_INPLACE
#define UNARY_INPLACE NONE

#undef REDUCE
#define REDUCE(name, expr, py, inputs) [](const T& a, at::IntArrayRef d, bool k) -> T { return expr; },
const Red kReduce[] = {
#include "pointwise.def"
};
#undef REDUCE
#undef UNARY_INPLACE

// The names of each table's entries, in order, for the JS side to check its generated codes against
// (a stale build or a stale lib/ops/codes.ts is an error at load, not a wrong op).
#undef BINARY
#undef SCALAR
#undef UNARY
#undef BINARY_INPLACE
#undef SCALAR_INPLACE
#define BINARY(name, expr, py, inputs) kinds["binary"].push_back(#name);
#define SCALAR(name, expr, py, inputs) kinds["scalar"].push_back(#name);
#define UNARY(name, expr, py, inputs) kinds["unary"].push_back(#name);
#define BINARY_INPLACE(name, expr, py, inputs) kinds["binaryInplace"].push_back(#name);
#define SCALAR_INPLACE(name, expr, py, inputs) kinds["scalarInplace"].push_back(#name);
#define UNARY_INPLACE(name, expr, py, inputs) kinds["unaryInplace"].push_back(#name);
#define REDUCE(name, expr, py, inputs) kinds["reduce"].push_back(#name);
std::map<std::string, std::vector<std::string>> TableNames() {
  std::map<std::string, std::vector<std::string>> kinds;
#include "pointwise.def"
  return kinds;
}
#undef BINARY
#undef SCALAR
#undef UNARY
#undef BINARY_INPLACE
#undef SCALAR_INPLACE
#undef UNARY_INPLACE
#undef REDUCE
#undef NONE

// fastPathNames() -> { binary: [...], scalar: [...], unary: [...], binaryInplace, scalarInplace, unaryInplace }
Napi::Value FastPathNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  for (const auto& [kind, names] : TableNames()) {
    auto arr = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
    out.Set(kind, arr);
  }
  return out;
}

template <typename Table>
auto Pick(Napi::Env env, const Table& table, const Napi::Value& v) {
  uint32_t code = v.As<Napi::Number>().Uint32Value();
  if (code >= std::size(table)) ThrowTorchError(env, "unknown op code " + std::to_string(code));
  return table[code];
}

// The three hottest entry points use the C N-API directly (Guarded in common.h).
template <size_t N>
void Args(napi_env env, napi_callback_info cb, napi_value (&argv)[N]) {
  size_t argc = N;
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc < N) ThrowTorchError(Napi::Env(env), "native call with too few arguments");
}

int32_t Int(napi_env env, napi_value v) {
  int32_t out;
  if (napi_get_value_int32(env, v, &out) != napi_ok) ThrowTorchError(Napi::Env(env), "expected a number");
  return out;
}

const T& TensorAt(napi_env env, napi_value v) { return tl_table->Get(Napi::Env(env), Int(env, v)); }

napi_value WrapRaw(napi_env raw_env, T t) {
  napi_value out;
  napi_create_int32(raw_env, tl_table->Put(std::move(t)), &out);
  SyncExternalMemory(Napi::Env(raw_env));
  return out;
}

// binary(code, a, b) -> id
napi_value Binary(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[3];
    Args(raw_env, cb, argv);
    uint32_t code = static_cast<uint32_t>(Int(raw_env, argv[0]));
    if (code >= std::size(kBinary)) ThrowTorchError(env, "unknown op code " + std::to_string(code));
    return WrapRaw(raw_env, kBinary[code](TensorAt(raw_env, argv[1]), TensorAt(raw_env, argv[2])));
  });
}

// binaryScalar(code, a, number|boolean) -> id
napi_value BinaryScalar(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[3];
    Args(raw_env, cb, argv);
    uint32_t code = static_cast<uint32_t>(Int(raw_env, argv[0]));
    if (code >= std::size(kScalar)) ThrowTorchError(env, "unknown op code " + std::to_string(code));
    return WrapRaw(raw_env, kScalar[code](TensorAt(raw_env, argv[1]), ToScalar(env, Napi::Value(env, argv[2]))));
  });
}

// unary(code, a) -> id
napi_value Unary(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[2];
    Args(raw_env, cb, argv);
    uint32_t code = static_cast<uint32_t>(Int(raw_env, argv[0]));
    if (code >= std::size(kUnary)) ThrowTorchError(env, "unknown op code " + std::to_string(code));
    return WrapRaw(raw_env, kUnary[code](TensorAt(raw_env, argv[1])));
  });
}

// reduceDims(code, a, dims[], keepdim) -> id
napi_value ReduceDims(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[4];
    Args(raw_env, cb, argv);
    uint32_t code = static_cast<uint32_t>(Int(raw_env, argv[0]));
    if (code >= std::size(kReduce)) ThrowTorchError(env, "unknown op code " + std::to_string(code));
    uint32_t n = 0;
    if (napi_get_array_length(raw_env, argv[2], &n) != napi_ok || n > 64) ThrowTorchError(env, "reduceDims: dims must be an array of at most 64 integers");
    int64_t dims[64];
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      napi_get_element(raw_env, argv[2], i, &e);
      if (napi_get_value_int64(raw_env, e, &dims[i]) != napi_ok) ThrowTorchError(env, "reduceDims: dims must be integers");
    }
    bool keepdim = false;
    napi_get_value_bool(raw_env, argv[3], &keepdim);
    return WrapRaw(raw_env, kReduce[code](TensorAt(raw_env, argv[1]), at::IntArrayRef(dims, n), keepdim));
  });
}

Napi::Value BinaryInplace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  Pick(env, kBinaryInplace, info[0])(GetTensor(env, info[1]), GetTensor(env, info[2]));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value ScalarInplace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  Pick(env, kScalarInplace, info[0])(GetTensor(env, info[1]), ToScalar(env, info[2]));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value UnaryInplace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  Pick(env, kUnaryInplace, info[0])(GetTensor(env, info[1]));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitPointwise(Napi::Env env, Napi::Object exports) {
  ExportRaw(env, exports, "binary", Binary);
  ExportRaw(env, exports, "binaryScalar", BinaryScalar);
  ExportRaw(env, exports, "unary", Unary);
  ExportRaw(env, exports, "reduceDims", ReduceDims);
  exports.Set("binaryInplace", Napi::Function::New(env, BinaryInplace, "binaryInplace"));
  exports.Set("scalarInplace", Napi::Function::New(env, ScalarInplace, "scalarInplace"));
  exports.Set("unaryInplace", Napi::Function::New(env, UnaryInplace, "unaryInplace"));
  exports.Set("fastPathNames", Napi::Function::New(env, FastPathNames, "fastPathNames"));
}

}  // namespace torch_node
