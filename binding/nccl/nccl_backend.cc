// torch.distributed's NCCL backend, as a separate shared library (torch_node_nccl.so) that the addon
// dlopens only where CUDA is loaded. It holds the only code that needs CUDA and NCCL headers
// (ProcessGroupNCCL.hpp includes cuda_runtime.h and nccl.h); the addon talks to it through plain C
// symbols, so the addon itself builds and runs without either. Built by CMakeLists.txt when
// scripts/cuda-headers.js finds the headers; linked against libtorch_cuda.so, which exports
// ProcessGroupNCCL.
//
// No C++ exception leaves this file: each entry point catches and writes the message into `err`.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {
void Fail(char* err, size_t n, const std::string& msg) {
  if (!err || n == 0) return;
  std::strncpy(err, msg.c_str(), n - 1);
  err[n - 1] = '\0';
}
}  // namespace

extern "C" {

// Python's _create_nccl_process_group: ProcessGroupNCCL over `store` (the caller's PrefixStore
// "<group>/cuda/"), is_high_priority_stream false, the group's timeout, name and global ranks.
// Returns a heap c10::intrusive_ptr<c10d::Backend>* (the caller deletes it) or null with `err` set.
__attribute__((visibility("default"))) void* torch_node_nccl_new(const void* store, int rank, int size,
                                                                 int64_t timeout_ms, const char* group_name,
                                                                 const int64_t* ranks, int nranks, char* err,
                                                                 size_t errlen) {
  try {
    const auto& s = *static_cast<const c10::intrusive_ptr<c10d::Store>*>(store);
    auto opts = c10d::ProcessGroupNCCL::Options::create(/*is_high_priority_stream=*/false);
    opts->timeout = std::chrono::milliseconds(timeout_ms);
    opts->group_name = group_name ? group_name : "";
    opts->global_ranks_in_group = std::vector<uint64_t>(ranks, ranks + nranks);
    c10::intrusive_ptr<c10d::Backend> pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(s, rank, size, opts);
    return new c10::intrusive_ptr<c10d::Backend>(std::move(pg));
  } catch (const std::exception& e) {
    Fail(err, errlen, e.what());
  } catch (...) {
    Fail(err, errlen, "unknown error creating ProcessGroupNCCL");
  }
  return nullptr;
}

// NCCL's version ("2.27.5"), written into `out`; 0 on success, -1 with `out` holding the error.
__attribute__((visibility("default"))) int torch_node_nccl_version(char* out, size_t n) {
  try {
    Fail(out, n, c10d::getNcclVersion());
    return 0;
  } catch (const std::exception& e) {
    Fail(out, n, e.what());
  } catch (...) {
    Fail(out, n, "unknown error");
  }
  return -1;
}

}  // extern "C"
