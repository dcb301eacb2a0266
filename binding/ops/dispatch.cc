// Any ATen operator, called through the dispatcher by schema name.
//
// lib/ looks an operator up once (findOp('aten::sum', 'dim_IntList') -> handle) and calls it with
// JS values; the schema says how each is converted (ToIValue) and supplies the defaults of missing
// trailing arguments. Autograd, grad mode and InferenceMode apply exactly as for a direct call.
// This keeps the C++ layer from mirroring every op by hand: the per-op code lives in lib/ only.
// Sync: findOp, callOp, callOpInplace. Throws TorchError (schema mismatch, libtorch errors).
#include "../convert.h"
#include "../registry.h"
#include "typed_call.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <cmath>
#include <deque>

namespace torch_node {
namespace {

// How an argument is read, decided once per operator from its schema (the plan below): the common
// kinds are read with one N-API call each and no type switch; anything else, and any value that is
// not of the expected JS type (null for an optional, a wrong type for the error message), goes
// through ToIValue, the schema-driven conversion in convert.cc.
enum class Kind : uint8_t { kTensor, kInt, kDouble, kBool, kIntList, kScalarType, kOther };

struct Arg {
  Kind kind;
  bool optional;
};

struct Op {
  c10::OperatorHandle handle;
  std::vector<Arg> plan;
  typed::CallFn typed;  // the unboxed caller for this schema's shape (typed_call.h), or nullptr
};

Arg PlanOf(const c10::Argument& a) {
  using K = c10::TypeKind;
  c10::TypePtr t = a.type();
  bool optional = t->kind() == K::OptionalType;
  if (optional) t = t->castRaw<c10::OptionalType>()->getElementType();
  switch (t->kind()) {
    case K::TensorType:
      return {Kind::kTensor, optional};
    case K::IntType:
    case K::SymIntType:
      return {Kind::kInt, optional};
    case K::FloatType:
    case K::SymFloatType:
      return {Kind::kDouble, optional};
    case K::BoolType:
    case K::SymBoolType:
      return {Kind::kBool, optional};
    case K::ScalarTypeType:
      return {Kind::kScalarType, optional};
    case K::ListType: {
      auto ek = t->castRaw<c10::ListType>()->getElementType()->kind();
      if (ek == K::IntType || ek == K::SymIntType) return {Kind::kIntList, optional};
      return {Kind::kOther, optional};
    }
    default:
      return {Kind::kOther, optional};
  }
}

// A deque: handles stay valid as it grows; lookups happen once per op per process.
std::deque<Op> g_ops;

Napi::Value FindOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    ThrowTorchError(env, "libtorch has no operator " + name + (overload.empty() ? "" : "." + overload));
  }
  Op op{*handle, {}, typed::Find(*handle)};
  for (const auto& a : handle->schema().arguments()) op.plan.push_back(PlanOf(a));
  g_ops.push_back(std::move(op));
  return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
  TORCH_GUARD_END(env)
}

const Op& EntryFor(Napi::Env env, napi_value v) {
  int32_t h = -1;
  napi_get_value_int32(env, v, &h);
  if (h < 0 || static_cast<size_t>(h) >= g_ops.size()) ThrowTorchError(env, "unknown operator handle");
  return g_ops[h];
}

const c10::OperatorHandle& OpFor(Napi::Env env, const Napi::Value& v) { return EntryFor(env, v).handle; }

std::string OpName(const c10::FunctionSchema& s) {
  return s.overload_name().empty() ? s.name() : s.name() + "." + s.overload_name();
}

// An integer as IntOf in convert.cc accepts it: a finite number without a fraction (a safe integer).
bool IntFrom(napi_env env, napi_value v, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

// The planned kinds, read directly; false when the value is not what the plan expects (then
// ToIValue decides: None for an optional's null, or the error that names the argument).
bool Planned(Napi::Env env, napi_value v, Kind kind, torch::jit::Stack& stack) {
  switch (kind) {
    case Kind::kTensor: {
      int32_t id;
      if (napi_get_value_int32(env, v, &id) != napi_ok) return false;
      stack.emplace_back(tl_table->Get(env, id));
      return true;
    }
    case Kind::kInt: {
      int64_t x;
      if (!IntFrom(env, v, &x)) return false;
      stack.emplace_back(x);
      return true;
    }
    case Kind::kDouble: {
      double d;
      if (napi_get_value_double(env, v, &d) != napi_ok) return false;
      stack.emplace_back(d);
      return true;
    }
    case Kind::kBool: {
      bool b;
      if (napi_get_value_bool(env, v, &b) != napi_ok) return false;
      stack.emplace_back(b);
      return true;
    }
    case Kind::kIntList: {
      bool is_array = false;
      if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) return false;  // a number: ToIValue repeats it
      uint32_t n = 0;
      napi_get_array_length(env, v, &n);
      c10::List<int64_t> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        napi_value e;
        int64_t x;
        if (napi_get_element(env, v, i, &e) != napi_ok || !IntFrom(env, e, &x)) return false;
        out.push_back(x);
      }
      stack.emplace_back(std::move(out));
      return true;
    }
    case Kind::kScalarType: {  // a dtype code (lib/dtype.ts); ToIValue gives the error for a bad one
      int32_t code;
      if (napi_get_value_int32(env, v, &code) != napi_ok || code < 0 ||
          code >= static_cast<int32_t>(c10::ScalarType::NumOptions)) {
        return false;
      }
      stack.emplace_back(static_cast<int64_t>(code));
      return true;
    }
    case Kind::kOther:
      return false;
  }
  return false;
}

// Builds the stack from argv and runs the operator; the outputs are left on `stack`.
void Run(Napi::Env env, const Op& op, const napi_value* argv, size_t given, torch::jit::Stack& stack) {
  const auto& schema = op.handle.schema();
  const auto& args = schema.arguments();
  if (given > args.size()) {
    ThrowTorchError(
        env, OpName(schema) + ": takes " + std::to_string(args.size()) + " arguments, got " + std::to_string(given));
  }
  stack.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (i < given && Planned(env, argv[i], op.plan[i].kind, stack)) continue;
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
  op.handle.callBoxed(&stack);
}

// Reads (handle, ...args) with the C N-API — at most kMaxArgs values, no allocation — and runs
// the operator.
constexpr size_t kMaxArgs = 16;

// One stack per thread, reused (its capacity kept, so no allocation per call); a nested call (a
// kernel calling back into callOp) gets its own.
thread_local bool tl_stack_busy = false;

class StackLease {
 public:
  StackLease() : stack_(tl_stack_busy ? &own_ : &Reused()), leased_(!tl_stack_busy) { tl_stack_busy = true; }
  ~StackLease() {
    stack_->clear();
    if (leased_) tl_stack_busy = false;
  }
  StackLease(const StackLease&) = delete;
  StackLease& operator=(const StackLease&) = delete;
  torch::jit::Stack& operator*() { return *stack_; }

 private:
  static torch::jit::Stack& Reused() {
    thread_local torch::jit::Stack stack;
    return stack;
  }
  torch::jit::Stack own_;
  torch::jit::Stack* stack_;
  bool leased_;
};

// Reads (handle, ...args) with the C N-API — at most kMaxArgs values, no allocation — and runs the
// operator: unboxed when its shape has a typed caller and the arguments read as its types, else
// boxed on `stack`. Returns the typed call's JS result, or nullptr after a boxed call (its outputs
// are left on the stack).
napi_value RunFromCallback(Napi::Env env, napi_callback_info cb, const char* what, bool want_result,
                           StackLease& lease) {
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  if (argc == 0) ThrowTorchError(env, std::string(what) + ": missing operator handle");
  if (argc > kMaxArgs) ThrowTorchError(env, std::string(what) + ": more than 15 arguments");
  const Op& op = EntryFor(env, argv[0]);
  if (op.typed && argc - 1 <= op.plan.size()) {
    if (napi_value r = op.typed(env, op.handle, argv + 1, argc - 1, want_result)) return r;
  }
  Run(env, op, argv + 1, argc - 1, *lease);
  return nullptr;
}

// callOp(handle, ...args): the op's result (a tensor id, an array for several outputs).
napi_value CallOp(napi_env raw_env, napi_callback_info cb) {
  return Guarded(raw_env, [&](Napi::Env env) -> napi_value {
    StackLease lease;
    if (napi_value typed = RunFromCallback(env, cb, "callOp", true, lease)) return typed;
    torch::jit::Stack& stack = *lease;
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
    StackLease lease;
    RunFromCallback(env, cb, "callOpInplace", false, lease);
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

// opOverloads(name) -> the overload names of operator `name` ('aten::add' -> ['Tensor', 'Scalar', 'out', ...]; '' is
// the default)
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
