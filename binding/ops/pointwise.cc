// The hot path: pointwise and matrix ops with a dedicated entry point each kind of call, so that
// `a.add(b)` costs one table lookup, one ATen call and one table insert. Op codes are indexes into
// the tables below; lib/ops/codes.ts lists the same names in the same order.
// Sync. Throws TorchError (shape/dtype/device mismatch from libtorch).
#include "../convert.h"
#include "../registry.h"

#include <ATen/Functions.h>
#include <ATen/ScalarOps.h>

namespace torch_node {
namespace {

using T = at::Tensor;
using Bin = T (*)(const T&, const T&);
using BinS = T (*)(const T&, const c10::Scalar&);
using Un = T (*)(const T&);
using BinIn = void (*)(const T&, const T&);
using BinSIn = void (*)(const T&, const c10::Scalar&);
using UnIn = void (*)(const T&);

const Bin kBinary[] = {
    [](const T& a, const T& b) { return at::add(a, b); },
    [](const T& a, const T& b) { return at::sub(a, b); },
    [](const T& a, const T& b) { return at::mul(a, b); },
    [](const T& a, const T& b) { return at::div(a, b); },
    [](const T& a, const T& b) { return at::pow(a, b); },
    [](const T& a, const T& b) { return at::remainder(a, b); },
    [](const T& a, const T& b) { return at::fmod(a, b); },
    [](const T& a, const T& b) { return at::floor_divide(a, b); },
    [](const T& a, const T& b) { return at::maximum(a, b); },
    [](const T& a, const T& b) { return at::minimum(a, b); },
    [](const T& a, const T& b) { return at::eq(a, b); },
    [](const T& a, const T& b) { return at::ne(a, b); },
    [](const T& a, const T& b) { return at::lt(a, b); },
    [](const T& a, const T& b) { return at::le(a, b); },
    [](const T& a, const T& b) { return at::gt(a, b); },
    [](const T& a, const T& b) { return at::ge(a, b); },
    [](const T& a, const T& b) { return at::atan2(a, b); },
    [](const T& a, const T& b) { return at::logical_and(a, b); },
    [](const T& a, const T& b) { return at::logical_or(a, b); },
    [](const T& a, const T& b) { return at::logical_xor(a, b); },
    [](const T& a, const T& b) { return at::bitwise_and(a, b); },
    [](const T& a, const T& b) { return at::bitwise_or(a, b); },
    [](const T& a, const T& b) { return at::bitwise_xor(a, b); },
    [](const T& a, const T& b) { return at::matmul(a, b); },
    [](const T& a, const T& b) { return at::mm(a, b); },
    [](const T& a, const T& b) { return at::bmm(a, b); },
};

// A scalar as a 0-dim "wrapped number" tensor, which takes part in type promotion like a Python
// number. Calling the Tensor overload with it is what PyTorch's Python binding does for `a * 2`: the
// Scalar overloads (mul.Scalar, ...) are composites that build this tensor and dispatch again.
T Wrapped(const c10::Scalar& s) {
  T t = c10::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

// Tensor (op) scalar; the last three are scalar (op) tensor.
const BinS kScalar[] = {
    [](const T& a, const c10::Scalar& s) { return at::add(a, Wrapped(s)); },
    [](const T& a, const c10::Scalar& s) { return at::sub(a, Wrapped(s)); },
    [](const T& a, const c10::Scalar& s) { return at::mul(a, Wrapped(s)); },
    [](const T& a, const c10::Scalar& s) { return at::div(a, Wrapped(s)); },
    [](const T& a, const c10::Scalar& s) { return at::pow(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::remainder(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::fmod(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::floor_divide(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::clamp_min(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::clamp_max(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::eq(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::ne(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::lt(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::le(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::gt(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::ge(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::rsub(a, s); },
    [](const T& a, const c10::Scalar& s) { return at::mul(at::reciprocal(a), s); },
    [](const T& a, const c10::Scalar& s) { return at::pow(s, a); },
};

const Un kUnary[] = {
    [](const T& a) { return at::neg(a); },        [](const T& a) { return at::abs(a); },
    [](const T& a) { return at::exp(a); },        [](const T& a) { return at::log(a); },
    [](const T& a) { return at::sqrt(a); },       [](const T& a) { return at::sin(a); },
    [](const T& a) { return at::cos(a); },        [](const T& a) { return at::tan(a); },
    [](const T& a) { return at::tanh(a); },       [](const T& a) { return at::sigmoid(a); },
    [](const T& a) { return at::relu(a); },       [](const T& a) { return at::floor(a); },
    [](const T& a) { return at::ceil(a); },       [](const T& a) { return at::round(a); },
    [](const T& a) { return at::sign(a); },       [](const T& a) { return at::reciprocal(a); },
    [](const T& a) { return at::rsqrt(a); },      [](const T& a) { return at::log1p(a); },
    [](const T& a) { return at::expm1(a); },      [](const T& a) { return at::logical_not(a); },
    [](const T& a) { return at::isnan(a); },      [](const T& a) { return at::clone(a); },
    [](const T& a) { return a.detach(); },        [](const T& a) { return a.contiguous(); },
    [](const T& a) { return at::square(a); },     [](const T& a) { return at::log2(a); },
    [](const T& a) { return at::log10(a); },      [](const T& a) { return at::trunc(a); },
    [](const T& a) { return at::erf(a); },        [](const T& a) { return at::asin(a); },
    [](const T& a) { return at::acos(a); },       [](const T& a) { return at::atan(a); },
    [](const T& a) { return at::sinh(a); },       [](const T& a) { return at::cosh(a); },
    [](const T& a) { return at::isinf(a); },      [](const T& a) { return at::isfinite(a); },
    [](const T& a) { return at::bitwise_not(a); },[](const T& a) { return at::frac(a); },
    [](const T& a) { return at::silu(a); },       [](const T& a) { return at::gelu(a); },
    [](const T& a) { return at::t(a); },         [](const T& a) { return at::sum(a); },
    [](const T& a) { return at::mean(a); },
};

const BinIn kBinaryInplace[] = {
    [](const T& a, const T& b) { a.add_(b); },  [](const T& a, const T& b) { a.sub_(b); },
    [](const T& a, const T& b) { a.mul_(b); },  [](const T& a, const T& b) { a.div_(b); },
    [](const T& a, const T& b) { a.pow_(b); },  [](const T& a, const T& b) { a.remainder_(b); },
    [](const T& a, const T& b) { a.fmod_(b); }, [](const T& a, const T& b) { a.floor_divide_(b); },
    [](const T& a, const T& b) { a.copy_(b); },
};

const BinSIn kScalarInplace[] = {
    [](const T& a, const c10::Scalar& s) { a.add_(s); },       [](const T& a, const c10::Scalar& s) { a.sub_(s); },
    [](const T& a, const c10::Scalar& s) { a.mul_(s); },       [](const T& a, const c10::Scalar& s) { a.div_(s); },
    [](const T& a, const c10::Scalar& s) { a.pow_(s); },       [](const T& a, const c10::Scalar& s) { a.remainder_(s); },
    [](const T& a, const c10::Scalar& s) { a.fmod_(s); },      [](const T& a, const c10::Scalar& s) { a.fill_(s); },
    [](const T& a, const c10::Scalar& s) { a.clamp_min_(s); }, [](const T& a, const c10::Scalar& s) { a.clamp_max_(s); },
};

const UnIn kUnaryInplace[] = {
    [](const T& a) { a.neg_(); },     [](const T& a) { a.abs_(); },     [](const T& a) { a.exp_(); },
    [](const T& a) { a.log_(); },     [](const T& a) { a.sqrt_(); },    [](const T& a) { a.sin_(); },
    [](const T& a) { a.cos_(); },     [](const T& a) { a.tan_(); },     [](const T& a) { a.tanh_(); },
    [](const T& a) { a.sigmoid_(); }, [](const T& a) { a.relu_(); },    [](const T& a) { a.floor_(); },
    [](const T& a) { a.ceil_(); },    [](const T& a) { a.round_(); },   [](const T& a) { a.sign_(); },
    [](const T& a) { a.reciprocal_(); }, [](const T& a) { a.rsqrt_(); }, [](const T& a) { a.log1p_(); },
    [](const T& a) { a.expm1_(); },   [](const T& a) { a.zero_(); },
};

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
  exports.Set("binaryInplace", Napi::Function::New(env, BinaryInplace, "binaryInplace"));
  exports.Set("scalarInplace", Napi::Function::New(env, ScalarInplace, "scalarInplace"));
  exports.Set("unaryInplace", Napi::Function::New(env, UnaryInplace, "unaryInplace"));
}

}  // namespace torch_node
