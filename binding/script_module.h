// What the TorchScript files share: the module handle table and the JS <-> IValue conversions
// (script_module.cc), used by jit_trace.cc (torch.jit.trace) and jit_async.cc (forwardAsync).
// All of these run on the main thread only: the handle table and the tensor table are not
// thread-safe, and N-API values cannot be touched from a worker.
#pragma once

#include "common.h"

#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include <string>
#include <vector>

namespace torch_node {

// Stores a module and returns its handle (an index; JS holds it).
int32_t KeepModule(torch::jit::Module m);
// The module of a live handle; throws TorchError (ERR_TORCH_DISPOSED) for a freed or unknown one.
torch::jit::Module& ModuleAt(Napi::Env env, const Napi::Value& handle);

// The method `name` of `m` and its arguments converted from a JS array by its schema (defaults
// filled in); throws TorchError (ERR_TORCH_ARG) for an unknown method or bad arguments.
std::pair<torch::jit::Method, std::vector<c10::IValue>> MethodCall(Napi::Env env, torch::jit::Module& m,
                                                                   const std::string& name, const Napi::Array& given);

// An IValue as tagged JS: a tensor becomes {__t: id} (stored in the tensor table), a dict
// {__d: [[k, v], ...]}, lists and tuples arrays, scalars themselves.
Napi::Value FromScriptValue(Napi::Env env, const c10::IValue& v);

}  // namespace torch_node
