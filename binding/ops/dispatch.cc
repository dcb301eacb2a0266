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

// Builds the stack from argv and runs the operator; returns the output stack.
torch::jit::Stack Run(Napi::Env env, const c10::OperatorHandle& op, const napi_value* argv, size_t given) {
  const auto& schema = op.schema();
  const auto& args = schema.arguments();
  if (given > args.size()) {
    ThrowTorchError(env, OpName(schema) + ": takes " + std::to_string(args.size()) + " arguments, got " +
                             std::to_string(given));
  }
  torch::jit::Stack stack;
  stack.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    napi_valuetype vt = i < given ? ValueType(env, argv[i]) : napi_undefined;
    if (vt != napi_undefined) {
      stack.push_back(ToIValue(env, argv[i], vt, arg));
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

// Reads (handle, ...args) with the C N-API — at most kMaxArgs values, no allocation — and runs
// the operator.
constexpr size_t kMaxArgs = 16;

torch::jit::Stack RunFromCallback(Napi::Env env, napi_callback_info cb, const char* what) {
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc == 0) ThrowTorchError(env, std::string(what) + ": missing operator handle");
  if (argc > kMaxArgs) ThrowTorchError(env, std::string(what) + ": more than 15 arguments");
  return Run(env, OpFor(env, Napi::Value(env, argv[0])), argv + 1, argc - 1);
}

// callOp(handle, ...args): the op's result (a tensor id, an array for several outputs).
napi_value CallOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) -> napi_value {
    auto stack = RunFromCallback(env, cb, "callOp");
    if (stack.empty()) return env.Undefined();
    if (stack.size() == 1) return FromIValue(env, std::move(stack[0]));
    Napi::Array out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, std::move(stack[i])));
    return out;
  });
}

// callOpInplace(handle, ...args): for in-place ops, whose result is their first argument; nothing
// new is stored in the table.
napi_value CallOpInplace(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) -> napi_value {
    RunFromCallback(env, cb, "callOpInplace");
    SyncExternalMemory(env);
    return env.Undefined();
  });
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::ostringstream os;
  os << OpFor(env, info[0]).schema();
  return Napi::String::New(env, os.str());
  TORCH_GUARD_END(env)
}

// opOverloads(name) -> the overload names of operator `name` ('aten::add' -> ['Tensor', 'Scalar', 'out', ...]; '' is the default)
Napi::Value OpOverloads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::string name = info[0].As<Napi::String>().Utf8Value();
  auto out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const auto& op : c10::Dispatcher::singleton().getAllOpNames()) {
    if (op.name == name) out.Set(n++, Napi::String::New(env, op.overload_name));
  }
  return out;
  TORCH_GUARD_END(env)
}

}  // namespace

// For graph_plan.cc: the operator behind a handle from findOp.
const c10::OperatorHandle& OperatorAt(Napi::Env env, const Napi::Value& v) { return OpFor(env, v); }

void InitDispatch(Napi::Env env, Napi::Object exports) {
  exports.Set("findOp", Napi::Function::New(env, FindOp, "findOp"));
  ExportRaw(env, exports, "callOp", CallOp);
  ExportRaw(env, exports, "callOpInplace", CallOpInplace);
  exports.Set("opSchema", Napi::Function::New(env, OpSchema, "opSchema"));
  exports.Set("opOverloads", Napi::Function::New(env, OpOverloads, "opOverloads"));
}

}  // namespace torch_node
