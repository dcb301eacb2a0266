// Shared by every binding file: includes, the error guard, and the per-env instance data.
//
// Every native entry point runs inside TORCH_GUARD: c10::Error -> TorchError (message without the
// C++ backtrace, which goes on .nativeStack), std::exception -> TorchError, anything else ->
// TorchError('unknown native error'). Napi::Error (a JS exception already pending) passes through.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <string>

namespace torch_node {

struct InstanceData {
  Napi::FunctionReference torch_error;  // lib/errors.ts TorchError, handed over by setErrorClass()
};

// Throws a JS TorchError (or a plain Error before lib/ has handed the class over) as a C++
// Napi::Error, which node-addon-api turns into a pending JS exception at the boundary.
[[noreturn]] void ThrowTorchError(Napi::Env env, const std::string& message,
                                  const std::string& native_stack = "",
                                  const char* code = "ERR_TORCH");

// Splits a c10::Error into the user-facing message and the backtrace.
std::string C10Message(const c10::Error& e);

}  // namespace torch_node

#define TORCH_GUARD_BEGIN try {
#define TORCH_GUARD_END(env)                                                   \
  }                                                                            \
  catch (const Napi::Error&) {                                                 \
    throw;                                                                     \
  }                                                                            \
  catch (const c10::Error& e) {                                                \
    ::torch_node::ThrowTorchError(env, ::torch_node::C10Message(e),            \
                                  e.what());                                   \
  }                                                                            \
  catch (const std::exception& e) {                                            \
    ::torch_node::ThrowTorchError(env, e.what());                              \
  }                                                                            \
  catch (...) {                                                                \
    ::torch_node::ThrowTorchError(env, "unknown native error");                \
  }
