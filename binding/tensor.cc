// Tensor data in and out, metadata, device/dtype moves. Sync; all throw TorchError.
#include "convert.h"
#include "registry.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <cstring>
#include <sstream>

namespace torch_node {
namespace {

// fromData(typedArray, carrierDtype, shape, dtype, device?) -> id
// The typed array's bytes are copied into a tensor of the carrier dtype (the typed array's own
// element type), which is then converted to `dtype` and moved to `device` when they differ.
Napi::Value FromData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto ta = info[0].As<Napi::TypedArray>();
  auto carrier = ToScalarType(env, info[1]);
  auto shape = ToInt64Vector(env, info[2], "shape");
  auto dtype = ToScalarType(env, info[3]);
  size_t bytes = ta.ByteLength();
  size_t elem = c10::elementSize(carrier);
  int64_t numel = 1;
  for (auto s : shape) {
    if (s < 0) ThrowTorchError(env, "shape: negative dimension " + std::to_string(s));
    // Stop before numel * elem can overflow: it must fit the data given anyway.
    if (s != 0 && numel > static_cast<int64_t>(bytes / elem) / s) {
      ThrowTorchError(env, "shape " + c10::str(c10::IntArrayRef(shape)) + " needs more elements than the " +
                               std::to_string(bytes / elem) + " given");
    }
    numel *= s;
  }
  if (bytes != static_cast<size_t>(numel) * elem) {
    ThrowTorchError(env,
                    "data has " + std::to_string(bytes / elem) + " elements but shape needs " + std::to_string(numel));
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(carrier));
  if (bytes) {
    auto* src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    std::memcpy(t.data_ptr(), src, bytes);
  }
  if (dtype != carrier) t = t.to(dtype);
  if (info.Length() > 4 && info[4].IsString()) {
    auto device = ToDevice(env, info[4]);
    if (device != t.device()) t = t.to(device);
  }
  return Wrap(env, std::move(t));
  TORCH_GUARD_END(env)
}

// toBuffer(id) -> ArrayBuffer with the elements in row-major order, in the dtype's carrier type:
// float16/bfloat16 as float32, bool as uint8, others as themselves. Works for any device/layout.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  at::Tensor t = GetTensor(env, info[0]);
  {
    c10::InferenceMode guard;
    t = t.detach();
    if (t.device().type() != c10::DeviceType::CPU) t = t.cpu();
    auto st = t.scalar_type();
    if (st == c10::ScalarType::Half || st == c10::ScalarType::BFloat16) t = t.to(c10::ScalarType::Float);
    if (st == c10::ScalarType::Bool) t = t.to(c10::ScalarType::Byte);
    if (t.is_conj()) t = t.resolve_conj();
    t = t.contiguous();
  }
  size_t bytes = t.nbytes();
  auto ab = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(ab.Data(), t.const_data_ptr(), bytes);
  return ab;
  TORCH_GUARD_END(env)
}

// item(id) -> number | boolean (one-element tensors only)
Napi::Value Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  if (t.numel() != 1) {
    ThrowTorchError(env, "item(): a tensor with " + std::to_string(t.numel()) +
                             " elements cannot be converted to a number; it needs exactly one element");
  }
  c10::Scalar s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
  if (s.isIntegral(false)) return Napi::Number::New(env, static_cast<double>(s.toLong()));
  return Napi::Number::New(env, s.toDouble());
  TORCH_GUARD_END(env)
}

// meta(id) -> [shape[], dtypeCode, deviceString, requiresGrad]
Napi::Value Meta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, FromIntArray(env, t.sizes()));
  out.Set(1u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
  out.Set(2u, Napi::String::New(env, t.device().str()));
  out.Set(3u, Napi::Boolean::New(env, t.requires_grad()));
  return out;
  TORCH_GUARD_END(env)
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return FromIntArray(env, GetTensor(env, info[0]).sizes());
  TORCH_GUARD_END(env)
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return FromIntArray(env, GetTensor(env, info[0]).strides());
  TORCH_GUARD_END(env)
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, static_cast<int>(GetTensor(env, info[0]).scalar_type()));
  TORCH_GUARD_END(env)
}

Napi::Value DeviceOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::String::New(env, GetTensor(env, info[0]).device().str());
  TORCH_GUARD_END(env)
}

Napi::Value Dim(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, static_cast<double>(GetTensor(env, info[0]).dim()));
  TORCH_GUARD_END(env)
}

Napi::Value Numel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, static_cast<double>(GetTensor(env, info[0]).numel()));
  TORCH_GUARD_END(env)
}

// flags(id) -> bit set: 1 contiguous, 2 is_leaf, 4 requires_grad, 8 retains_grad
Napi::Value Flags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  int f =
      (t.is_contiguous() ? 1 : 0) | (t.is_leaf() ? 2 : 0) | (t.requires_grad() ? 4 : 0) | (t.retains_grad() ? 8 : 0);
  return Napi::Number::New(env, f);
  TORCH_GUARD_END(env)
}

Napi::Value StorageOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, static_cast<double>(GetTensor(env, info[0]).storage_offset()));
  TORCH_GUARD_END(env)
}

// sameStorage(a, b) -> bool: whether two tensors view one storage.
Napi::Value SameStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& a = GetTensor(env, info[0]);
  const at::Tensor& b = GetTensor(env, info[1]);
  return Napi::Boolean::New(env, a.storage().is_alias_of(b.storage()));
  TORCH_GUARD_END(env)
}

// to(id, dtypeCode | null, device | null, copy) -> id
Napi::Value To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  auto dtype = info[1].IsNumber() ? ToScalarType(env, info[1]) : t.scalar_type();
  auto device = info[2].IsString() ? ToDevice(env, info[2]) : t.device();
  bool copy = info.Length() > 3 && info[3].ToBoolean().Value();
  return Wrap(env, t.to(device, dtype, /*non_blocking=*/false, copy));
  TORCH_GUARD_END(env)
}

// alias(id) -> a new id for the same tensor (what `keep`-style APIs and in-place returns need)
Napi::Value Alias(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Wrap(env, GetTensor(env, info[0]));
  TORCH_GUARD_END(env)
}

// repr(id) -> libtorch's own printout (used by tests and debugging; toString() is PyTorch-style in lib/)
Napi::Value NativeRepr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::ostringstream os;
  os << GetTensor(env, info[0]);
  return Napi::String::New(env, os.str());
  TORCH_GUARD_END(env)
}

}  // namespace

void InitTensor(Napi::Env env, Napi::Object exports) {
  exports.Set("fromData", Napi::Function::New(env, FromData, "fromData"));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer, "toBuffer"));
  exports.Set("item", Napi::Function::New(env, Item, "item"));
  exports.Set("meta", Napi::Function::New(env, Meta, "meta"));
  exports.Set("shape", Napi::Function::New(env, Shape, "shape"));
  exports.Set("strides", Napi::Function::New(env, Strides, "strides"));
  exports.Set("dtype", Napi::Function::New(env, Dtype, "dtype"));
  exports.Set("device", Napi::Function::New(env, DeviceOf, "device"));
  exports.Set("dim", Napi::Function::New(env, Dim, "dim"));
  exports.Set("numel", Napi::Function::New(env, Numel, "numel"));
  exports.Set("flags", Napi::Function::New(env, Flags, "flags"));
  exports.Set("storageOffset", Napi::Function::New(env, StorageOffset, "storageOffset"));
  exports.Set("sameStorage", Napi::Function::New(env, SameStorage, "sameStorage"));
  exports.Set("to", Napi::Function::New(env, To, "to"));
  exports.Set("alias", Napi::Function::New(env, Alias, "alias"));
  exports.Set("nativeRepr", Napi::Function::New(env, NativeRepr, "nativeRepr"));
}

}  // namespace torch_node
