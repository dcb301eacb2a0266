// Any ATen operator, called through the dispatcher by schema name.
//
// lib/ looks an operator up once (findOp('aten::sum', 'dim_IntList') -> handle) and calls it with
// JS values; the schema says how each is converted (ToIValue) and supplies the defaults of missing
// trailing arguments. Autograd, grad mode and InferenceMode apply exactly as for a direct call.
// This keeps the C++ layer from mirroring every op by hand: the per-op code lives in lib/ only.
// Sync: findOp, callOp, callOpInplace. Throws TorchError (schema mismatch, libtorch errors).
#include "../convert.h"
#include "../registry.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <deque>

namespace torch_node {
namespace {

// A deque: handles stay valid as it grows; lookups happen once per op per process.
std::deque<c10::OperatorHandle> g_ops;

Napi::Value FindOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    ThrowTorchError(env, "libtorch has no operator " + name + (overload.empty() ? "" : "." + overload));
  }
  g_ops.push_back(*handle);
  return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
  TORCH_GUARD_END(env)
}

const c10::OperatorHandle& OpFor(Napi::Env env, const Napi::Value& v) {
  int32_t h = v.As<Napi::Number>().Int32Value();
  if (h < 0 || static_cast<size_t>(h) >= g_ops.size()) ThrowTorchError(env, "unknown operator handle");
  return g_ops[h];
}

std::string OpName(const c10::FunctionSchema& s) {
  return s.overload_name().empty() ? s.name() : s.name() + "." + s.overload_name();
}

// Builds the stack from info[first..] and runs the operator; returns the output stack.
torch::jit::Stack Run(const Napi::CallbackInfo& info, const c10::OperatorHandle& op, size_t first) {
  Napi::Env env = info.Env();
  const auto& schema = op.schema();
  const auto& args = schema.arguments();
  size_t given = info.Length() - first;
  if (given > args.size()) {
    ThrowTorchError(env, OpName(schema) + ": takes " + std::to_string(args.size()) + " arguments, got " +
                             std::to_string(given));
  }
  torch::jit::Stack stack;
  stack.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (i < given && !info[first + i].IsUndefined()) {
      stack.push_back(ToIValue(env, info[first + i], arg));
    } else if (arg.default_value()) {
      stack.push_back(*arg.default_value());
    } else if (arg.type()->kind() == c10::TypeKind::OptionalType) {
      stack.emplace_back();
    } else {
      ThrowTorchError(env, OpName(schema) + ": missing argument '" + arg.name() + "'");
    }
  }
  op.callBoxed(&stack);
  return stack;
}

// callOp(handle, ...args): the op's result (a tensor id, an array for several outputs).
Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const auto& op = OpFor(env, info[0]);
  auto stack = Run(info, op, 1);
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return FromIValue(env, std::move(stack[0]));
  Napi::Array out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, std::move(stack[i])));
  return out;
  TORCH_GUARD_END(env)
}

// callOpInplace(handle, ...args): for in-place ops, whose result is their first argument; nothing
// new is stored in the table.
Napi::Value CallOpInplace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const auto& op = OpFor(env, info[0]);
  Run(info, op, 1);
  SyncExternalMemory(env);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::ostringstream os;
  os << OpFor(env, info[0]).schema();
  return Napi::String::New(env, os.str());
  TORCH_GUARD_END(env)
}

}  // namespace

void InitDispatch(Napi::Env env, Napi::Object exports) {
  exports.Set("findOp", Napi::Function::New(env, FindOp, "findOp"));
  exports.Set("callOp", Napi::Function::New(env, CallOp, "callOp"));
  exports.Set("callOpInplace", Napi::Function::New(env, CallOpInplace, "callOpInplace"));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema, "opSchema"));
}

}  // namespace torch_node
