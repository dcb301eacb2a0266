// ExportedModule.forwardAsync: an exported graph (lib/export/graph.ts compiles it) as a plan that
// runs natively on libuv's pool, under InferenceMode, while the event loop turns.
//
// A plan is a list of instructions over numbered value slots (tensors, or the ints, floats and
// bools of symbolic sizes): an operator call through the dispatcher, with each argument a slot, a
// constant converted once when the plan is made (by the operator's schema, as callOp converts), a
// list of those, None, the schema's default, or a slot's number as a 0-dim tensor; or a Python
// operator on symbolic values (`_operator.mul`, `torch.sym_max`, ...). The JS side makes a plan only
// for graphs without control flow and without mutations (eval-mode exports); the rest run with
// forward(). Plans are freed with the module. No C++ exception leaves this file.
#include "convert.h"
#include "registry.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <memory>
#include <unordered_map>

namespace torch_node {

const c10::OperatorHandle& OperatorAt(Napi::Env env, const Napi::Value& v);  // ops/dispatch.cc

namespace {

struct ArgSpec {
  enum Kind { kSlot, kConst, kList, kNone, kDefault, kScalarTensor } kind = kNone;
  int slot = -1;
  c10::IValue value;                               // kConst (already of the schema's type), kDefault
  std::vector<ArgSpec> items;                      // kList
  c10::TypePtr type;                               // the schema type this argument converts to (kSlot, kList)
  c10::ScalarType dtype = c10::ScalarType::Float;  // kScalarTensor
};

enum class SymOp {
  Add,
  Sub,
  Mul,
  FloorDiv,
  Mod,
  Pow,
  TrueDiv,
  Neg,
  Pos,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Not,
  Max,
  Min,
  Int,
  Float,
  Trunc,
  Ite,
  Sqrt,
  And,
  Or
};

struct Instr {
  bool sym = false;
  const c10::OperatorHandle* op = nullptr;
  SymOp sym_op = SymOp::Add;
  std::vector<ArgSpec> args;
  std::vector<std::vector<int>> outs;  // per return: its slot, or the slots of a list's elements
  std::string where;
};

struct Plan {
  int slots = 0;
  std::vector<int> inputs;
  std::vector<Instr> instrs;
  std::vector<ArgSpec> outputs;
};

std::unordered_map<int, std::shared_ptr<const Plan>> g_plans;
int g_next_plan = 1;

const std::unordered_map<std::string, SymOp>& SymOps() {
  static const std::unordered_map<std::string, SymOp> m = {
      {"_operator.add", SymOp::Add},         {"_operator.sub", SymOp::Sub},
      {"_operator.mul", SymOp::Mul},         {"_operator.floordiv", SymOp::FloorDiv},
      {"_operator.mod", SymOp::Mod},         {"_operator.pow", SymOp::Pow},
      {"_operator.truediv", SymOp::TrueDiv}, {"_operator.neg", SymOp::Neg},
      {"_operator.pos", SymOp::Pos},         {"_operator.eq", SymOp::Eq},
      {"_operator.ne", SymOp::Ne},           {"_operator.lt", SymOp::Lt},
      {"_operator.le", SymOp::Le},           {"_operator.gt", SymOp::Gt},
      {"_operator.ge", SymOp::Ge},           {"torch.sym_not", SymOp::Not},
      {"torch.sym_max", SymOp::Max},         {"torch.sym_min", SymOp::Min},
      {"torch.sym_int", SymOp::Int},         {"torch.sym_float", SymOp::Float},
      {"math.trunc", SymOp::Trunc},          {"torch.sym_ite", SymOp::Ite},
      {"torch.sym_sqrt", SymOp::Sqrt},       {"torch._sym_sqrt", SymOp::Sqrt},
      {"_operator.and_", SymOp::And},        {"_operator.or_", SymOp::Or},
  };
  return m;
}

c10::TypePtr Unoptional(const c10::TypePtr& t) {
  return t->kind() == c10::TypeKind::OptionalType ? t->castRaw<c10::OptionalType>()->getElementType() : t;
}

// argSpec (JS): ['s', slot] | ['c', value] | ['l', [specs]] | ['n'] | ['d'] | ['st', slot, dtypeCode]
ArgSpec ReadArg(Napi::Env env, const Napi::Value& v, const c10::Argument& arg, const c10::TypePtr& type) {
  auto a = v.As<Napi::Array>();
  std::string k = a.Get(0u).As<Napi::String>().Utf8Value();
  ArgSpec s;
  s.type = type;
  if (k == "s") {
    s.kind = ArgSpec::kSlot;
    s.slot = a.Get(1u).As<Napi::Number>().Int32Value();
  } else if (k == "c") {
    s.kind = ArgSpec::kConst;
    Napi::Value c = a.Get(1u);
    if (type->kind() == c10::TypeKind::AnyType) {
      // A symbolic operator's operand or a graph output: a plain number or boolean.
      if (c.IsBoolean())
        s.value = c.As<Napi::Boolean>().Value();
      else if (c.IsNumber()) {
        double d = c.As<Napi::Number>().DoubleValue();
        s.value = std::trunc(d) == d && std::abs(d) < 9e15 ? c10::IValue(static_cast<int64_t>(d)) : c10::IValue(d);
      } else if (!c.IsNull() && !c.IsUndefined()) {
        ThrowTorchError(env, "graph plan: a constant of this kind is not supported here", "", "ERR_TORCH_UNSUPPORTED");
      }
    } else {
      s.value = ToIValue(env, c, ValueType(env, c), c10::Argument(arg.name(), type, arg.N()));
    }
  } else if (k == "l") {
    s.kind = ArgSpec::kList;
    auto elem = Unoptional(type);
    if (elem->kind() != c10::TypeKind::ListType)
      ThrowTorchError(env, "graph plan: argument '" + arg.name() + "' is not a list (" + type->str() + ")");
    auto et = elem->castRaw<c10::ListType>()->getElementType();
    auto items = a.Get(1u).As<Napi::Array>();
    for (uint32_t i = 0; i < items.Length(); i++) s.items.push_back(ReadArg(env, items.Get(i), arg, et));
  } else if (k == "n") {
    s.kind = ArgSpec::kNone;
  } else if (k == "d") {
    s.kind = ArgSpec::kDefault;
    if (arg.default_value()) s.value = *arg.default_value();
  } else if (k == "st") {
    s.kind = ArgSpec::kScalarTensor;
    s.slot = a.Get(1u).As<Napi::Number>().Int32Value();
    s.dtype = ToScalarType(env, a.Get(2u));
  } else {
    ThrowTorchError(env, "graph plan: unknown argument kind " + k);
  }
  return s;
}

// ---- running ---------------------------------------------------------------------------------
c10::IValue Convert(const c10::IValue& v, const c10::TypePtr& type) {
  using K = c10::TypeKind;
  auto t = Unoptional(type);
  if (v.isNone()) return v;
  switch (t->kind()) {
    case K::FloatType:
    case K::SymFloatType:
      return v.isInt() ? c10::IValue(static_cast<double>(v.toInt())) : v;
    case K::IntType:
    case K::SymIntType:
      return v.isBool() ? c10::IValue(static_cast<int64_t>(v.toBool())) : v;
    default:
      return v;
  }
}

c10::IValue Materialize(const ArgSpec& s, const std::vector<c10::IValue>& slots) {
  using K = c10::TypeKind;
  switch (s.kind) {
    case ArgSpec::kSlot:
      return Convert(slots[s.slot], s.type);
    case ArgSpec::kConst:
    case ArgSpec::kDefault:
      return s.value;
    case ArgSpec::kNone:
      return c10::IValue();
    case ArgSpec::kScalarTensor:
      return at::scalar_tensor(slots[s.slot].toScalar(), at::TensorOptions().dtype(s.dtype));
    case ArgSpec::kList: {
      auto et = Unoptional(s.type)->castRaw<c10::ListType>()->getElementType();
      auto ek = et->kind();
      if (ek == K::IntType || ek == K::SymIntType) {
        c10::List<int64_t> out;
        for (const auto& i : s.items) out.push_back(Materialize(i, slots).toInt());
        return out;
      }
      if (ek == K::TensorType) {
        c10::List<at::Tensor> out;
        for (const auto& i : s.items) out.push_back(Materialize(i, slots).toTensor());
        return out;
      }
      if (ek == K::OptionalType) {
        c10::List<std::optional<at::Tensor>> out;
        for (const auto& i : s.items) {
          auto x = Materialize(i, slots);
          out.push_back(x.isNone() ? std::nullopt : std::optional<at::Tensor>(x.toTensor()));
        }
        return out;
      }
      if (ek == K::FloatType) {
        c10::List<double> out;
        for (const auto& i : s.items) out.push_back(Convert(Materialize(i, slots), et).toDouble());
        return out;
      }
      if (ek == K::BoolType) {
        c10::List<bool> out;
        for (const auto& i : s.items) out.push_back(Materialize(i, slots).toBool());
        return out;
      }
      TORCH_CHECK(false, "graph plan: a list of ", et->str(), " is not supported");
    }
  }
  return c10::IValue();
}

int64_t PyFloorDiv(int64_t a, int64_t b) {
  TORCH_CHECK(b != 0, "integer division by zero in a symbolic size");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

c10::IValue RunSym(SymOp op, const std::vector<c10::IValue>& a) {
  auto num = [](const c10::IValue& v) {
    return v.isDouble() ? v.toDouble() : static_cast<double>(v.isBool() ? v.toBool() : v.toInt());
  };
  auto isint = [](const c10::IValue& v) { return v.isInt() || v.isBool(); };
  auto i = [](const c10::IValue& v) { return v.isBool() ? static_cast<int64_t>(v.toBool()) : v.toInt(); };
  auto arith = [&](auto fi, auto fd) -> c10::IValue {
    if (isint(a[0]) && isint(a[1])) return fi(i(a[0]), i(a[1]));
    return fd(num(a[0]), num(a[1]));
  };
  switch (op) {
    case SymOp::Add:
      return arith([](int64_t x, int64_t y) { return x + y; }, [](double x, double y) { return x + y; });
    case SymOp::Sub:
      return arith([](int64_t x, int64_t y) { return x - y; }, [](double x, double y) { return x - y; });
    case SymOp::Mul:
      return arith([](int64_t x, int64_t y) { return x * y; }, [](double x, double y) { return x * y; });
    case SymOp::FloorDiv:
      return arith([](int64_t x, int64_t y) { return PyFloorDiv(x, y); },
                   [](double x, double y) { return std::floor(x / y); });
    case SymOp::Mod:
      return arith([](int64_t x, int64_t y) { return x - PyFloorDiv(x, y) * y; },
                   [](double x, double y) { return x - std::floor(x / y) * y; });
    case SymOp::Pow:
      return arith([](int64_t x, int64_t y) { return static_cast<int64_t>(std::llround(std::pow(x, y))); },
                   [](double x, double y) { return std::pow(x, y); });
    case SymOp::TrueDiv:
      TORCH_CHECK(num(a[1]) != 0, "division by zero in a symbolic value");
      return num(a[0]) / num(a[1]);
    case SymOp::Neg:
      return isint(a[0]) ? c10::IValue(-i(a[0])) : c10::IValue(-num(a[0]));
    case SymOp::Pos:
      return isint(a[0]) ? c10::IValue(i(a[0])) : c10::IValue(num(a[0]));
    case SymOp::Eq:
      return num(a[0]) == num(a[1]);
    case SymOp::Ne:
      return num(a[0]) != num(a[1]);
    case SymOp::Lt:
      return num(a[0]) < num(a[1]);
    case SymOp::Le:
      return num(a[0]) <= num(a[1]);
    case SymOp::Gt:
      return num(a[0]) > num(a[1]);
    case SymOp::Ge:
      return num(a[0]) >= num(a[1]);
    case SymOp::Not:
      return !(num(a[0]) != 0);
    case SymOp::Max:
      return arith([](int64_t x, int64_t y) { return std::max(x, y); },
                   [](double x, double y) { return std::max(x, y); });
    case SymOp::Min:
      return arith([](int64_t x, int64_t y) { return std::min(x, y); },
                   [](double x, double y) { return std::min(x, y); });
    case SymOp::Int:
    case SymOp::Trunc:
      return static_cast<int64_t>(std::trunc(num(a[0])));
    case SymOp::Float:
      return num(a[0]);
    case SymOp::Ite:
      return num(a[0]) != 0 ? a[1] : a[2];
    case SymOp::Sqrt:
      return std::sqrt(num(a[0]));
    case SymOp::And:
      return (a[0].isBool() && a[1].isBool()) ? c10::IValue(a[0].toBool() && a[1].toBool())
                                              : c10::IValue(i(a[0]) & i(a[1]));
    case SymOp::Or:
      return (a[0].isBool() && a[1].isBool()) ? c10::IValue(a[0].toBool() || a[1].toBool())
                                              : c10::IValue(i(a[0]) | i(a[1]));
  }
  return c10::IValue();
}

std::vector<c10::IValue> RunPlan(const Plan& p, std::vector<c10::IValue> inputs) {
  std::vector<c10::IValue> slots(p.slots);
  for (size_t i = 0; i < p.inputs.size(); i++) slots[p.inputs[i]] = std::move(inputs[i]);
  for (const auto& ins : p.instrs) {
    try {
      if (ins.sym) {
        std::vector<c10::IValue> args;
        for (const auto& a : ins.args) args.push_back(Materialize(a, slots));
        slots[ins.outs[0][0]] = RunSym(ins.sym_op, args);
        continue;
      }
      torch::jit::Stack stack;
      stack.reserve(ins.args.size());
      for (const auto& a : ins.args) stack.push_back(Materialize(a, slots));
      ins.op->callBoxed(&stack);
      for (size_t r = 0; r < ins.outs.size() && r < stack.size(); r++) {
        const auto& out = ins.outs[r];
        if (out.size() == 1 && out[0] >= 0 && !stack[r].isTensorList() && !stack[r].isList()) {
          slots[out[0]] = std::move(stack[r]);
        } else if (stack[r].isTensorList() || stack[r].isList()) {
          auto list = stack[r].toListRef();
          for (size_t j = 0; j < out.size() && j < list.size(); j++) {
            if (out[j] >= 0) slots[out[j]] = list[j];
          }
        }
      }
    } catch (const c10::Error& e) {
      throw std::runtime_error(ins.where + ": " + C10Message(e));
    }
  }
  std::vector<c10::IValue> outs;
  for (const auto& o : p.outputs) outs.push_back(Materialize(o, slots));
  return outs;
}

// ---- entry points ------------------------------------------------------------------------------
// planCreate({ slots, inputs: [slot], instrs: [['op', handle, [argSpec per schema position], [[slot...] per return],
// where]
//             | ['sym', name, [argSpec], slot, where]], outputs: [argSpec] }) -> plan id
Napi::Value PlanCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto o = info[0].As<Napi::Object>();
  auto plan = std::make_shared<Plan>();
  plan->slots = o.Get("slots").As<Napi::Number>().Int32Value();
  auto inputs = o.Get("inputs").As<Napi::Array>();
  for (uint32_t i = 0; i < inputs.Length(); i++) plan->inputs.push_back(inputs.Get(i).As<Napi::Number>().Int32Value());
  auto instrs = o.Get("instrs").As<Napi::Array>();
  auto any = c10::AnyType::get();
  for (uint32_t n = 0; n < instrs.Length(); n++) {
    auto a = instrs.Get(n).As<Napi::Array>();
    Instr ins;
    std::string kind = a.Get(0u).As<Napi::String>().Utf8Value();
    ins.where = a.Get(4u).As<Napi::String>().Utf8Value();
    auto args = a.Get(2u).As<Napi::Array>();
    if (kind == "sym") {
      ins.sym = true;
      std::string name = a.Get(1u).As<Napi::String>().Utf8Value();
      auto it = SymOps().find(name);
      if (it == SymOps().end())
        ThrowTorchError(env, ins.where + ": the symbolic operator " + name + " does not run in forwardAsync", "",
                        "ERR_TORCH_UNSUPPORTED");
      ins.sym_op = it->second;
      c10::Argument arg("x", any);
      for (uint32_t i = 0; i < args.Length(); i++) ins.args.push_back(ReadArg(env, args.Get(i), arg, any));
      ins.outs.push_back({a.Get(3u).As<Napi::Number>().Int32Value()});
    } else {
      ins.op = &OperatorAt(env, a.Get(1u));
      const auto& schema = ins.op->schema();
      const auto& sargs = schema.arguments();
      if (args.Length() > sargs.size()) ThrowTorchError(env, ins.where + ": more arguments than the schema takes");
      for (uint32_t i = 0; i < sargs.size(); i++) {
        if (i < args.Length())
          ins.args.push_back(ReadArg(env, args.Get(i), sargs[i], sargs[i].type()));
        else {
          ArgSpec d;
          d.kind = sargs[i].default_value() ? ArgSpec::kDefault : ArgSpec::kNone;
          if (sargs[i].default_value()) d.value = *sargs[i].default_value();
          ins.args.push_back(d);
        }
      }
      auto outs = a.Get(3u).As<Napi::Array>();
      for (uint32_t r = 0; r < outs.Length(); r++) {
        std::vector<int> slots;
        auto so = outs.Get(r).As<Napi::Array>();
        for (uint32_t j = 0; j < so.Length(); j++) slots.push_back(so.Get(j).As<Napi::Number>().Int32Value());
        ins.outs.push_back(std::move(slots));
      }
    }
    plan->instrs.push_back(std::move(ins));
  }
  auto outputs = o.Get("outputs").As<Napi::Array>();
  c10::Argument out_arg("output", any);
  for (uint32_t i = 0; i < outputs.Length(); i++) plan->outputs.push_back(ReadArg(env, outputs.Get(i), out_arg, any));
  int id = g_next_plan++;
  g_plans.emplace(id, std::move(plan));
  return Napi::Number::New(env, id);
  TORCH_GUARD_END(env)
}

Napi::Value PlanFree(const Napi::CallbackInfo& info) {
  g_plans.erase(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

class PlanWorker final : public PromiseWorker {
 public:
  PlanWorker(Napi::Env env, std::shared_ptr<const Plan> plan, std::vector<c10::IValue> inputs)
      : PromiseWorker(env, "torch-node.exportForwardAsync"), plan_(std::move(plan)), inputs_(std::move(inputs)) {}

 protected:
  void Run() override {
    at::init_num_threads();
    c10::InferenceMode guard;
    outputs_ = RunPlan(*plan_, std::move(inputs_));
  }
  // Tagged, so a tensor's id and a symbolic int cannot be told apart wrongly: [isTensor, value].
  Napi::Value Settle(Napi::Env env) override {
    auto out = Napi::Array::New(env, outputs_.size());
    for (size_t i = 0; i < outputs_.size(); i++) {
      auto pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::Boolean::New(env, outputs_[i].isTensor()));
      pair.Set(1u, FromIValue(env, std::move(outputs_[i])));
      out.Set(static_cast<uint32_t>(i), pair);
    }
    outputs_.clear();
    SyncExternalMemory(env);
    return out;
  }

 private:
  std::shared_ptr<const Plan> plan_;
  std::vector<c10::IValue> inputs_;
  std::vector<c10::IValue> outputs_;
};

// planRunAsync(plan, inputs: tensor ids[]) -> Promise<[isTensor, tensor id | number | boolean | null][]>
Napi::Value PlanRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto it = g_plans.find(info[0].As<Napi::Number>().Int32Value());
  if (it == g_plans.end()) ThrowTorchError(env, "the module's plan was freed", "", "ERR_TORCH_DISPOSED");
  auto arr = info[1].As<Napi::Array>();
  std::vector<c10::IValue> inputs;
  if (arr.Length() != it->second->inputs.size()) ThrowTorchError(env, "planRunAsync: wrong number of inputs");
  for (uint32_t i = 0; i < arr.Length(); i++) inputs.emplace_back(GetTensor(env, arr.Get(i)));
  return (new PlanWorker(env, it->second, std::move(inputs)))->Start();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitGraphPlan(Napi::Env env, Napi::Object exports) {
  exports.Set("planCreate", Napi::Function::New(env, PlanCreate, "planCreate"));
  exports.Set("planFree", Napi::Function::New(env, PlanFree, "planFree"));
  exports.Set("planRunAsync", Napi::Function::New(env, PlanRunAsync, "planRunAsync"));
  env.AddCleanupHook([] { g_plans.clear(); });
}

}  // namespace torch_node
