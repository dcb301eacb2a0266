// The tensor table: JS holds a tensor as an integer id into this table, never as a native object.
//
// Why: a JS wrapper object created from C++ (ObjectWrap) or a napi finalizer per result costs more
// than the libtorch call itself (measured in the foundation issue's prototypes: 2.0-2.7 us per op
// against 1.25-1.5 us with ids, Python 1.46 us; LIBTORCH-NOTES). Here an op returns a plain number; the JS
// Tensor is built in JS; the slot is freed by dispose()/tidy(), and a FinalizationRegistry in
// lib/scope.ts frees tensors that escape every scope. One table per Node environment (thread).
#pragma once

#include "common.h"

#include <vector>

namespace torch_node {

class TensorTable {
 public:
  int32_t Put(at::Tensor t);
  // Returns the tensor for a live id; throws TorchError for a freed or unknown id.
  const at::Tensor& Get(Napi::Env env, int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= slots_.size() || !slots_[id].defined()) {
      ThrowTorchError(env, "tensor was disposed (or never existed): it cannot be used any more", "",
                      "ERR_TORCH_DISPOSED");
    }
    return slots_[id];
  }
  // Frees a slot; false when it was already free.
  bool Release(int32_t id);
  int64_t live() const { return live_; }
  void Clear();

 private:
  std::vector<at::Tensor> slots_;
  std::vector<int32_t> free_;
  int64_t live_ = 0;
};

// The table of the environment running on this thread (set at addon init).
extern thread_local TensorTable* tl_table;

inline const at::Tensor& GetTensor(Napi::Env env, const Napi::Value& v) {
  return tl_table->Get(env, v.As<Napi::Number>().Int32Value());
}

// Stores a result and returns its id as a JS number (null for an undefined tensor).
Napi::Value Wrap(Napi::Env env, at::Tensor t);

// Tells V8 about CPU memory held by tensors, in steps of at least 1 MiB (cheap to call per op).
void SyncExternalMemory(Napi::Env env);

void InitRegistry(Napi::Env env, Napi::Object exports);

}  // namespace torch_node
