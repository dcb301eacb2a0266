// The hot path: pointwise and matrix ops with a dedicated entry point each kind of call, so that
// `a.add(b)` costs one table lookup, one ATen call and one table insert. Op codes are indexes into
// the tables below, which are built from pointwise.def; lib/ops/codes.ts is generated from the same
// file (scripts/gen-ops.js) and checked against fastPathNames() at load.
// Sync. Throws TorchError (shape/dtype/device mismatch from libtorch).
#include "../convert.h"
#include "../registry.h"

#include <ATen/Functions.h>
#include <ATen/ScalarOps.h>
#include <c10/core/GradMode.h>
#include <c10/util/SmallVector.h>

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
using Dim = T (*)(const T&, int64_t);
using Ints = T (*)(const T&, const int64_t*);
using Shape = T (*)(const T&, at::IntArrayRef);
using ListOp = T (*)(at::TensorList, int64_t);
using OptT = std::optional<T>;
using Conv = T (*)(const T&, const T&, const OptT&, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, int64_t);
using Ternary = T (*)(const T&, const T&, const OptT&);
using Pool = T (*)(const T&, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, bool);

// INTS: what JS's null becomes, and back to an optional for the ops that take one.
constexpr int64_t kNone = INT64_MIN;
std::optional<int64_t> Opt(int64_t v) { return v == kNone ? std::nullopt : std::optional<int64_t>(v); }
int64_t Or(int64_t v, int64_t otherwise) { return v == kNone ? otherwise : v; }

// max_pool2d. ATen's kernel for a contiguous (NCHW) input is scalar over the window; its kernel for
// a channels-last input is vectorized over the channels and computes the same values (NaN and inf
// included: both take the max with NaN propagation). So a float input of 8 or more channels that
// needs no gradient is pooled in channels-last order and given back contiguous, as the plain call
// would: ResNet-18's stem pooling (1x64x112x112) 6.0 ms -> 1.6 ms. Everything else (a gradient to
// record, a layout the caller chose, few channels, where the copies cost more) is the plain call.
T MaxPool2d(const T& x, at::IntArrayRef k, at::IntArrayRef st, at::IntArrayRef pd, at::IntArrayRef dl, bool ceil) {
  bool fast = x.dim() == 4 && x.size(1) >= 8 && x.device().is_cpu() && x.layout() == at::kStrided &&
              at::isFloatingType(x.scalar_type()) && x.is_contiguous() &&
              !(x.requires_grad() && c10::GradMode::is_enabled());
  if (!fast) return at::max_pool2d(x, k, st, pd, dl, ceil);
  return at::max_pool2d(x.contiguous(at::MemoryFormat::ChannelsLast), k, st, pd, dl, ceil).contiguous();
}

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
#define DIM NONE
#define INTS NONE
#define SHAPE NONE
#define LIST NONE
#define CONV NONE
#define TERNARY NONE
#define POOL NONE

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
#define REDUCE NONE

#undef DIM
#define DIM(name, expr, py, inputs) [](const T& a, int64_t d) -> T { return expr; },
const Dim kDim[] = {
#include "pointwise.def"
};
#undef DIM
#define DIM NONE

#undef INTS
#define INTS(name, expr, py, inputs) [](const T& a, const int64_t* v) -> T { return expr; },
const Ints kInts[] = {
#include "pointwise.def"
};
#undef INTS
#define INTS NONE

#undef SHAPE
#define SHAPE(name, expr, py, inputs) [](const T& a, at::IntArrayRef s) -> T { return expr; },
const Shape kShape[] = {
#include "pointwise.def"
};
#undef SHAPE
#define SHAPE NONE

#undef LIST
#define LIST(name, expr, py, inputs) [](at::TensorList ts, int64_t d) -> T { return expr; },
const ListOp kList[] = {
#include "pointwise.def"
};
#undef LIST
#define LIST NONE

#undef CONV
#define CONV(name, expr, py, inputs)                                                                    \
  [](const T& x, const T& w, const OptT& c, at::IntArrayRef st, at::IntArrayRef pd, at::IntArrayRef dl, \
     int64_t g) -> T { return expr; },
const Conv kConv[] = {
#include "pointwise.def"
};
#undef CONV
#define CONV NONE

#undef TERNARY
#define TERNARY(name, expr, py, inputs) [](const T& a, const T& b, const OptT& c) -> T { return expr; },
const Ternary kTernary[] = {
#include "pointwise.def"
};
#undef TERNARY
#define TERNARY NONE

#undef POOL
#define POOL(name, expr, py, inputs)                                                                              \
  [](const T& x, at::IntArrayRef k, at::IntArrayRef st, at::IntArrayRef pd, at::IntArrayRef dl, bool ceil) -> T { \
    return expr;                                                                                                  \
  },
const Pool kPool[] = {
#include "pointwise.def"
};
#undef POOL
#undef TERNARY
#undef DIM
#undef INTS
#undef SHAPE
#undef LIST
#undef CONV
#undef UNARY_INPLACE
#undef REDUCE

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
#define DIM(name, expr, py, inputs) kinds["dim"].push_back(#name);
#define INTS(name, expr, py, inputs) kinds["ints"].push_back(#name);
#define SHAPE(name, expr, py, inputs) kinds["shape"].push_back(#name);
#define LIST(name, expr, py, inputs) kinds["list"].push_back(#name);
#define CONV(name, expr, py, inputs) kinds["conv"].push_back(#name);
#define TERNARY(name, expr, py, inputs) kinds["ternary"].push_back(#name);
#define POOL(name, expr, py, inputs) kinds["pool"].push_back(#name);
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
#undef DIM
#undef INTS
#undef SHAPE
#undef LIST
#undef CONV
#undef TERNARY
#undef POOL
#undef NONE

// fastPathNames() -> { binary: [...], scalar: [...], unary: [...], binaryInplace, scalarInplace, unaryInplace, reduce,
// dim, ints, shape, list, conv, ternary, pool }
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
    if (napi_get_array_length(raw_env, argv[2], &n) != napi_ok || n > 64)
      ThrowTorchError(env, "reduceDims: dims must be an array of at most 64 integers");
    int64_t dims[64];
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      napi_get_element(raw_env, argv[2], i, &e);
      if (napi_get_value_int64(raw_env, e, &dims[i]) != napi_ok)
        ThrowTorchError(env, "reduceDims: dims must be integers");
    }
    bool keepdim = false;
    napi_get_value_bool(raw_env, argv[3], &keepdim);
    return WrapRaw(raw_env, kReduce[code](TensorAt(raw_env, argv[1]), at::IntArrayRef(dims, n), keepdim));
  });
}

// The kinds after REDUCE: their codes, integers, int lists and optional tensors, read with the C N-API.
template <typename Table>
auto CodeIn(Napi::Env env, const Table& table, napi_value v) {
  uint32_t code = static_cast<uint32_t>(Int(env, v));
  if (code >= std::size(table)) ThrowTorchError(env, "unknown op code " + std::to_string(code));
  return table[code];
}

napi_valuetype TypeOf(napi_env env, napi_value v) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  return t;
}

// An integer; null or undefined is kNone (the JS side passes null only where the op takes an optional).
int64_t Int64(napi_env env, napi_value v) {
  int64_t out;
  if (napi_get_value_int64(env, v, &out) == napi_ok) return out;  // one N-API call for a number
  napi_valuetype t = TypeOf(env, v);
  if (t == napi_null || t == napi_undefined) return kNone;
  ThrowTorchError(Napi::Env(env), "expected an integer");
}

OptT OptTensorAt(napi_env env, napi_value v) {
  napi_valuetype t = TypeOf(env, v);
  if (t == napi_null || t == napi_undefined) return std::nullopt;
  return TensorAt(env, v);
}

// The list arguments of these entry points come as trailing arguments, not as JS arrays: reading
// an array's elements takes a generic property lookup per element (napi_get_element), several times
// the cost of the arguments N-API has already collected (measured: conv2d's three int lists cost
// ~250 ns that way).
constexpr size_t kMaxList = 64;

template <size_t N>
size_t ArgsUpTo(napi_env env, napi_callback_info cb, napi_value (&argv)[N], size_t min) {
  size_t argc = N;
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc < min) ThrowTorchError(Napi::Env(env), "native call with too few arguments");
  if (argc > N) ThrowTorchError(Napi::Env(env), "native call with more than " + std::to_string(N) + " arguments");
  return argc;
}

void Ints64(napi_env env, const napi_value* v, size_t n, int64_t* out) {
  for (size_t i = 0; i < n; i++) {
    if (napi_get_value_int64(env, v[i], &out[i]) != napi_ok) ThrowTorchError(Napi::Env(env), "expected integers");
  }
}

// dimOp(code, a, d) -> id
napi_value DimOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[3];
    Args(raw_env, cb, argv);
    return WrapRaw(raw_env, CodeIn(env, kDim, argv[0])(TensorAt(raw_env, argv[1]), Int64(raw_env, argv[2])));
  });
}

// intsOp(code, a, v0, v1, v2, v3) -> id; a null v is kNone (those not passed too).
napi_value IntsOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[6];
    size_t argc = ArgsUpTo(raw_env, cb, argv, 3);
    int64_t v[4] = {kNone, kNone, kNone, kNone};  // those not passed
    for (size_t i = 2; i < argc; i++) v[i - 2] = Int64(raw_env, argv[i]);
    return WrapRaw(raw_env, CodeIn(env, kInts, argv[0])(TensorAt(raw_env, argv[1]), v));
  });
}

// shapeOp(code, a, ...ints) -> id
napi_value ShapeOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[2 + kMaxList];
    size_t n = ArgsUpTo(raw_env, cb, argv, 2) - 2;
    int64_t s[kMaxList];
    Ints64(raw_env, argv + 2, n, s);
    return WrapRaw(raw_env, CodeIn(env, kShape, argv[0])(TensorAt(raw_env, argv[1]), at::IntArrayRef(s, n)));
  });
}

// listOp(code, d, ...ids) -> id
napi_value ListOpFn(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[2 + kMaxList];
    size_t n = ArgsUpTo(raw_env, cb, argv, 2) - 2;
    c10::SmallVector<T, 8> ts;
    ts.reserve(n);
    for (size_t i = 0; i < n; i++) ts.push_back(TensorAt(raw_env, argv[2 + i]));
    return WrapRaw(raw_env, CodeIn(env, kList, argv[0])(at::TensorList(ts.data(), ts.size()), Int64(raw_env, argv[1])));
  });
}

// convOp(code, x, w, bias|null, groups, ...stride, ...padding, ...dilation) -> id: the three lists
// have the same length (the convolution's dimensions).
napi_value ConvOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[5 + 3 * 3];
    size_t argc = ArgsUpTo(raw_env, cb, argv, 8);
    if ((argc - 5) % 3 != 0) ThrowTorchError(env, "convOp: stride, padding and dilation must have the same length");
    size_t n = (argc - 5) / 3;
    int64_t ints[9];
    Ints64(raw_env, argv + 5, 3 * n, ints);
    return WrapRaw(raw_env, CodeIn(env, kConv, argv[0])(TensorAt(raw_env, argv[1]), TensorAt(raw_env, argv[2]),
                                                        OptTensorAt(raw_env, argv[3]), at::IntArrayRef(ints, n),
                                                        at::IntArrayRef(ints + n, n), at::IntArrayRef(ints + 2 * n, n),
                                                        Int64(raw_env, argv[4])));
  });
}

// ternary(code, a, b, c|null) -> id
napi_value TernaryOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[4];
    Args(raw_env, cb, argv);
    return WrapRaw(raw_env, CodeIn(env, kTernary, argv[0])(TensorAt(raw_env, argv[1]), TensorAt(raw_env, argv[2]),
                                                           OptTensorAt(raw_env, argv[3])));
  });
}

// poolOp(code, x, ceil, k0, k1, st0, st1, pd0, pd1, dl0, dl1) -> id (2-D pooling: two of each)
napi_value PoolOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) {
    napi_value argv[11];
    Args(raw_env, cb, argv);
    bool ceil = false;
    if (napi_get_value_bool(raw_env, argv[2], &ceil) != napi_ok) ThrowTorchError(env, "poolOp: ceil must be a boolean");
    int64_t v[8];
    Ints64(raw_env, argv + 3, 8, v);
    return WrapRaw(raw_env, CodeIn(env, kPool, argv[0])(TensorAt(raw_env, argv[1]), at::IntArrayRef(v, 2),
                                                        at::IntArrayRef(v + 2, 2), at::IntArrayRef(v + 4, 2),
                                                        at::IntArrayRef(v + 6, 2), ceil));
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
  ExportRaw(env, exports, "dimOp", DimOp);
  ExportRaw(env, exports, "intsOp", IntsOp);
  ExportRaw(env, exports, "shapeOp", ShapeOp);
  ExportRaw(env, exports, "listOp", ListOpFn);
  ExportRaw(env, exports, "convOp", ConvOp);
  ExportRaw(env, exports, "ternary", TernaryOp);
  ExportRaw(env, exports, "poolOp", PoolOp);
  exports.Set("binaryInplace", Napi::Function::New(env, BinaryInplace, "binaryInplace"));
  exports.Set("scalarInplace", Napi::Function::New(env, ScalarInplace, "scalarInplace"));
  exports.Set("unaryInplace", Napi::Function::New(env, UnaryInplace, "unaryInplace"));
  exports.Set("fastPathNames", Napi::Function::New(env, FastPathNames, "fastPathNames"));
}

}  // namespace torch_node
