// torch.distributed on libtorch's c10d: stores (TCPStore, FileStore, PrefixStore), ProcessGroup
// with the Gloo backend, collectives and point-to-point, each returning a c10d::Work to wait on.
//
// Handles: stores, process groups and works live in per-kind tables keyed by integers (the JS side
// frees them). Every collective starts its Work on the JS thread and returns its handle; waiting is
// either workWait (blocks the JS thread until done, like Python's blocking call) or workWaitAsync
// (a Promise settled from libuv's pool, so the event loop keeps turning). Tensors cross as ids; a
// Work holds its own references to them until it is freed.
//
// Sync, all throw TorchError, except workWaitAsync (returns a Promise, rejected with a TorchError).
#include "convert.h"
#include "registry.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#include <torch/csrc/autograd/custom_function.h>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupWrapper.hpp>
#endif

#include <dlfcn.h>

#include <chrono>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace torch_node {

bool CudaAvailable();  // cuda.cc
std::string CudaUnavailableReason();

namespace {

using std::chrono::milliseconds;

template <typename T>
class HandleTable {
 public:
  int Put(c10::intrusive_ptr<T> p) {
    int id = next_++;
    items_.emplace(id, std::move(p));
    return id;
  }
  const c10::intrusive_ptr<T>& Get(Napi::Env env, const Napi::Value& v, const char* what) {
    auto it = items_.find(v.As<Napi::Number>().Int32Value());
    if (it == items_.end()) ThrowTorchError(env, std::string(what) + " was destroyed", "", "ERR_TORCH_DIST");
    return it->second;
  }
  void Free(int id) { items_.erase(id); }
  void Clear() { items_.clear(); }

 private:
  int next_ = 1;
  std::unordered_map<int, c10::intrusive_ptr<T>> items_;
};

// A Work and the tensors it reads and writes (kept alive until the handle is freed).
struct WorkEntry : c10::intrusive_ptr_target {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> keep;
};

HandleTable<c10d::Store> g_stores;
HandleTable<c10d::ProcessGroup> g_groups;
HandleTable<WorkEntry> g_works;
// Groups with an NCCL backend: destroying one shuts NCCL down first, as Python's
// destroy_process_group does (_shutdown_backend), so its communicators and watchdog are released.
std::unordered_set<int> g_nccl_groups;

milliseconds Ms(const Napi::Value& v) { return milliseconds(static_cast<int64_t>(v.As<Napi::Number>().DoubleValue())); }

std::vector<at::Tensor> TensorList(Napi::Env env, const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(GetTensor(env, arr.Get(i)));
  return out;
}

Napi::Value PutWork(Napi::Env env, c10::intrusive_ptr<c10d::Work> work, std::vector<at::Tensor> keep) {
  auto e = c10::make_intrusive<WorkEntry>();
  e->work = std::move(work);
  e->keep = std::move(keep);
  return Napi::Number::New(env, g_works.Put(e));
}

c10d::ReduceOp::RedOpType RedOp(Napi::Env env, const Napi::Value& v) {
  int op = v.As<Napi::Number>().Int32Value();
  if (op < 0 || op > 7) ThrowTorchError(env, "unknown ReduceOp " + std::to_string(op), "", "ERR_TORCH_ARG");
  return static_cast<c10d::ReduceOp::RedOpType>(op);
}

// ---- availability -------------------------------------------------------------------------------
// distInfo() -> [glooAvailable, reason | null]
Napi::Value DistInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Array::New(env, 2);
#ifdef USE_C10D_GLOO
  out.Set(0u, Napi::Boolean::New(env, true));
  out.Set(1u, env.Null());
#else
  out.Set(0u, Napi::Boolean::New(env, false));
  out.Set(1u, Napi::String::New(env, TORCH_NODE_NO_GLOO_REASON));
#endif
  return out;
}

// ---- stores -------------------------------------------------------------------------------------
// storeTcp(host, port, isServer, worldSize | null, timeoutMs, waitWorkers, multiTenant) -> [id, port]
Napi::Value StoreTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
  o.isServer = info[2].ToBoolean().Value();
  if (info[3].IsNumber()) o.numWorkers = info[3].As<Napi::Number>().Uint32Value();
  o.timeout = Ms(info[4]);
  o.waitWorkers = info[5].ToBoolean().Value();
  o.multiTenant = info[6].ToBoolean().Value();
  o.useLibUV = false;  // libtorch's bundled libuv must not serve inside Node's process
  auto store = c10::make_intrusive<c10d::TCPStore>(info[0].As<Napi::String>().Utf8Value(), o);
  int port = store->getPort();
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, g_stores.Put(store)));
  out.Set(1u, Napi::Number::New(env, port));
  return out;
  TORCH_GUARD_END(env)
}

// storeFile(path, worldSize, timeoutMs) -> id
Napi::Value StoreFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto store = c10::make_intrusive<c10d::FileStore>(info[0].As<Napi::String>().Utf8Value(),
                                                    info[1].As<Napi::Number>().Int32Value());
  store->setTimeout(Ms(info[2]));
  return Napi::Number::New(env, g_stores.Put(store));
  TORCH_GUARD_END(env)
}

// storePrefix(prefix, storeId) -> id
Napi::Value StorePrefix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto base = g_stores.Get(env, info[1], "the store");
  return Napi::Number::New(
      env, g_stores.Put(c10::make_intrusive<c10d::PrefixStore>(info[0].As<Napi::String>().Utf8Value(), base)));
  TORCH_GUARD_END(env)
}

// storeSet(id, key, Uint8Array)
Napi::Value StoreSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto buf = info[2].As<Napi::Uint8Array>();
  std::vector<uint8_t> value(buf.Data(), buf.Data() + buf.ByteLength());
  g_stores.Get(env, info[0], "the store")->set(info[1].As<Napi::String>().Utf8Value(), value);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// storeGet(id, key) -> Buffer (waits for the key up to the store's timeout)
Napi::Value StoreGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto v = g_stores.Get(env, info[0], "the store")->get(info[1].As<Napi::String>().Utf8Value());
  return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size());
  TORCH_GUARD_END(env)
}

// storeAdd(id, key, amount) -> the new value
Napi::Value StoreAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  int64_t r = g_stores.Get(env, info[0], "the store")
                  ->add(info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int64Value());
  return Napi::Number::New(env, static_cast<double>(r));
  TORCH_GUARD_END(env)
}

std::vector<std::string> Keys(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < arr.Length(); i++) keys.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  return keys;
}

// storeWait(id, keys[], timeoutMs | null)
Napi::Value StoreWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto& store = g_stores.Get(env, info[0], "the store");
  if (info[2].IsNumber())
    store->wait(Keys(info[1]), Ms(info[2]));
  else
    store->wait(Keys(info[1]));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// storeCheck(id, keys[]) -> bool
Napi::Value StoreCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Boolean::New(env, g_stores.Get(env, info[0], "the store")->check(Keys(info[1])));
  TORCH_GUARD_END(env)
}

// storeDeleteKey(id, key) -> bool
Napi::Value StoreDeleteKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Boolean::New(env,
                            g_stores.Get(env, info[0], "the store")->deleteKey(info[1].As<Napi::String>().Utf8Value()));
  TORCH_GUARD_END(env)
}

// storeNumKeys(id) -> number
Napi::Value StoreNumKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Number::New(env, static_cast<double>(g_stores.Get(env, info[0], "the store")->getNumKeys()));
  TORCH_GUARD_END(env)
}

// storeSetTimeout(id, timeoutMs)
Napi::Value StoreSetTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  g_stores.Get(env, info[0], "the store")->setTimeout(Ms(info[1]));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value StoreFree(const Napi::CallbackInfo& info) {
  g_stores.Free(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// ---- NCCL (binding/nccl/: an optional library, dlopened where CUDA is) --------------------------
using NcclNewFn = void* (*)(const void*, int, int, int64_t, const char*, const int64_t*, int, char*, size_t);
using NcclVersionFn = int (*)(char*, size_t);
NcclNewFn g_nccl_new = nullptr;
std::string g_nccl_reason = "not loaded";
std::string g_nccl_version;
bool g_nccl_tried = false;

// ncclInfo(libraryPath) -> [available, reason | null, version | null]. The library is looked for next
// to the addon (the JS side knows where the addon came from); it is loaded once, only where CUDA is.
Napi::Value NcclInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  if (!g_nccl_tried) {
    g_nccl_tried = true;
#ifdef TORCH_NODE_NO_NCCL_REASON
    g_nccl_reason = std::string("this build of torch-node has no NCCL backend: ") + TORCH_NODE_NO_NCCL_REASON;
#else
    std::string path = info[0].As<Napi::String>().Utf8Value();
    if (!CudaAvailable()) {
      g_nccl_reason = "CUDA is not available: " + CudaUnavailableReason();
    } else if (void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL); !lib) {
      const char* e = dlerror();
      g_nccl_reason = "the NCCL backend library could not be loaded: " + std::string(e ? e : path);
    } else {
      g_nccl_new = reinterpret_cast<NcclNewFn>(dlsym(lib, "torch_node_nccl_new"));
      auto version = reinterpret_cast<NcclVersionFn>(dlsym(lib, "torch_node_nccl_version"));
      char buf[256] = {0};
      if (!g_nccl_new || !version) {
        g_nccl_new = nullptr;
        g_nccl_reason = path + " is not torch-node's NCCL backend library (symbols missing)";
      } else if (version(buf, sizeof buf) != 0) {
        g_nccl_new = nullptr;
        g_nccl_reason = std::string("NCCL does not work here: ") + buf;
      } else {
        g_nccl_version = buf;
        g_nccl_reason.clear();
      }
    }
#endif
  }
  auto out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Boolean::New(env, g_nccl_new != nullptr));
  out.Set(1u, g_nccl_new ? env.Null() : Napi::String::New(env, g_nccl_reason));
  out.Set(2u, g_nccl_new ? Napi::String::New(env, g_nccl_version) : env.Null());
  return out;
  TORCH_GUARD_END(env)
}

// ---- process groups -----------------------------------------------------------------------------
c10::intrusive_ptr<c10d::Backend> NewBackend(Napi::Env env, const std::string& kind,
                                             const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                             milliseconds timeout, const std::string& name,
                                             const std::vector<int64_t>& ranks) {
  if (kind == "nccl") {
    if (!g_nccl_new)
      ThrowTorchError(env, "torch.distributed's NCCL backend is not available: " + g_nccl_reason, "",
                      "ERR_TORCH_DIST_UNAVAILABLE");
    char err[1024] = {0};
    void* p = g_nccl_new(&store, rank, size, timeout.count(), name.c_str(), ranks.data(),
                         static_cast<int>(ranks.size()), err, sizeof err);
    if (!p) ThrowTorchError(env, std::string("ProcessGroupNCCL: ") + err, "", "ERR_TORCH_DIST");
    auto* holder = static_cast<c10::intrusive_ptr<c10d::Backend>*>(p);
    c10::intrusive_ptr<c10d::Backend> backend = std::move(*holder);
    delete holder;
    return backend;
  }
#ifdef USE_C10D_GLOO
  auto opts = c10d::ProcessGroupGloo::Options::create_default(timeout);
  opts->group_name = name;
  opts->global_ranks_in_group.assign(ranks.begin(), ranks.end());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
#else
  ThrowTorchError(env,
                  std::string("torch.distributed's Gloo backend is not in this build: ") + TORCH_NODE_NO_GLOO_REASON,
                  "", "ERR_TORCH_DIST_UNAVAILABLE");
#endif
}

// pgNew(groupStoreId, rank, size, timeoutMs, checkCollectives, backends, defaultKind, name, globalRanks) -> id
// backends: [[kind ('gloo' | 'nccl'), storeId, helperStoreId | null, devices ('cpu' | 'cuda')[]], ...].
// The stores follow init_process_group's layout (the JS side builds the prefixes: "<name>/<device>/").
// With checkCollectives (TORCH_DISTRIBUTED_DEBUG=DETAIL), each backend is wrapped in c10d's
// ProcessGroupWrapper, which first compares each collective's shapes and dtypes across ranks over a
// helper Gloo group, so a mismatch is an error on every rank instead of an abort inside the backend.
Napi::Value PgNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto group_store = g_stores.Get(env, info[0], "the store");
  int rank = info[1].As<Napi::Number>().Int32Value();
  int size = info[2].As<Napi::Number>().Int32Value();
  auto timeout = Ms(info[3]);
  bool check = info[4].ToBoolean().Value();
  auto specs = info[5].As<Napi::Array>();
  std::string default_kind = info[6].As<Napi::String>().Utf8Value();
  std::string name = info[7].As<Napi::String>().Utf8Value();
  std::vector<int64_t> ranks;
  auto rs = info[8].As<Napi::Array>();
  for (uint32_t i = 0; i < rs.Length(); i++) ranks.push_back(rs.Get(i).As<Napi::Number>().Int64Value());
  auto type_of = [](const std::string& k) {
    return k == "nccl" ? c10d::ProcessGroup::BackendType::NCCL : c10d::ProcessGroup::BackendType::GLOO;
  };
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(group_store, rank, size);
  pg->setDefaultBackend(type_of(default_kind));
  bool has_nccl = false;
  for (uint32_t i = 0; i < specs.Length(); i++) {
    auto spec = specs.Get(i).As<Napi::Array>();
    std::string kind = spec.Get(0u).As<Napi::String>().Utf8Value();
    has_nccl = has_nccl || kind == "nccl";
    auto backend =
        NewBackend(env, kind, g_stores.Get(env, spec.Get(1u), "the store"), rank, size, timeout, name, ranks);
    if (check) {
#ifdef USE_C10D_GLOO
      auto helper =
          c10::make_intrusive<c10d::ProcessGroupGloo>(g_stores.Get(env, spec.Get(2u), "the store"), rank, size,
                                                      c10d::ProcessGroupGloo::Options::create_default(timeout));
      backend = c10::make_intrusive<c10d::ProcessGroupWrapper>(backend, helper);
#endif
    }
    auto devices = spec.Get(3u).As<Napi::Array>();
    for (uint32_t d = 0; d < devices.Length(); d++) {
      auto dev = devices.Get(d).As<Napi::String>().Utf8Value() == "cuda" ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
      pg->setBackend(dev, type_of(kind), backend);
    }
  }
  int id = g_groups.Put(pg);
  if (has_nccl) g_nccl_groups.insert(id);
  return Napi::Number::New(env, id);
  TORCH_GUARD_END(env)
}

Napi::Value PgFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  if (g_nccl_groups.erase(id)) {
    try {
      g_groups.Get(env, info[0], "the process group")->shutdown();
    } catch (...) {
      // A failed shutdown (a dead peer) changes nothing for the caller: the group is gone either way.
    }
  }
  g_groups.Free(id);
  return env.Undefined();
}

#define PG(i) g_groups.Get(env, info[i], "the process group")

// pgAllreduce(pg, ids[], op) -> work
Napi::Value PgAllreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto ts = TensorList(env, info[1]);
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp(RedOp(env, info[2]));
  auto w = PG(0)->allreduce(ts, o);
  return PutWork(env, w, ts);
  TORCH_GUARD_END(env)
}

// torch.distributed.nn.functional.all_reduce: an all-reduce autograd sees. Forward: a contiguous copy
// reduced across ranks; backward: the incoming gradient reduced across ranks with the same op (as
// Python's _AllReduce). Blocking both ways. The group rides in the graph as a capsule, so backward
// (on autograd's thread) needs no handle table.
struct AllReduceFn : public torch::autograd::Function<AllReduceFn> {
  static at::Tensor Reduce(const c10::intrusive_ptr<c10d::ProcessGroup>& pg, const at::Tensor& t, int64_t op) {
    std::vector<at::Tensor> v{t.clone(at::MemoryFormat::Contiguous)};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp(static_cast<c10d::ReduceOp::RedOpType>(op));
    pg->allreduce(v, o)->wait();
    return v[0];
  }
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, c10::IValue pg, int64_t op) {
    ctx->saved_data["pg"] = pg;
    ctx->saved_data["op"] = op;
    return Reduce(c10::static_intrusive_pointer_cast<c10d::ProcessGroup>(pg.toCapsule()), x, op);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto pg = c10::static_intrusive_pointer_cast<c10d::ProcessGroup>(ctx->saved_data["pg"].toCapsule());
    return {Reduce(pg, grads[0], ctx->saved_data["op"].toInt()), at::Tensor(), at::Tensor()};
  }
};

// pgAllreduceAutograd(pg, id, op) -> id
Napi::Value PgAllreduceAutograd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const auto& pg = PG(0);
  const at::Tensor& x = GetTensor(env, info[1]);
  auto op = RedOp(env, info[2]);
  return Wrap(env, AllReduceFn::apply(x, c10::IValue::make_capsule(pg), static_cast<int64_t>(op)));
  TORCH_GUARD_END(env)
}

// pgBroadcast(pg, ids[], src) -> work
Napi::Value PgBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto ts = TensorList(env, info[1]);
  c10d::BroadcastOptions o;
  o.rootRank = info[2].As<Napi::Number>().Int32Value();
  auto w = PG(0)->broadcast(ts, o);
  return PutWork(env, w, ts);
  TORCH_GUARD_END(env)
}

// pgReduce(pg, ids[], dst, op) -> work
Napi::Value PgReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto ts = TensorList(env, info[1]);
  c10d::ReduceOptions o;
  o.rootRank = info[2].As<Napi::Number>().Int32Value();
  o.reduceOp = c10d::ReduceOp(RedOp(env, info[3]));
  auto w = PG(0)->reduce(ts, o);
  return PutWork(env, w, ts);
  TORCH_GUARD_END(env)
}

// pgAllgather(pg, outIds[], inId) -> work
Napi::Value PgAllgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::vector<std::vector<at::Tensor>> outs{TensorList(env, info[1])};
  std::vector<at::Tensor> in{GetTensor(env, info[2])};
  auto w = PG(0)->allgather(outs, in);
  auto keep = outs[0];
  keep.push_back(in[0]);
  return PutWork(env, w, keep);
  TORCH_GUARD_END(env)
}

// pgGather(pg, outIds[] (empty off the root), inId, dst) -> work
Napi::Value PgGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto list = TensorList(env, info[1]);
  std::vector<std::vector<at::Tensor>> outs;
  if (!list.empty()) outs.push_back(list);
  std::vector<at::Tensor> in{GetTensor(env, info[2])};
  c10d::GatherOptions o;
  o.rootRank = info[3].As<Napi::Number>().Int32Value();
  auto w = PG(0)->gather(outs, in, o);
  list.push_back(in[0]);
  return PutWork(env, w, list);
  TORCH_GUARD_END(env)
}

// pgScatter(pg, outId, inIds[] (empty off the root), src) -> work
Napi::Value PgScatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::vector<at::Tensor> out{GetTensor(env, info[1])};
  auto list = TensorList(env, info[2]);
  std::vector<std::vector<at::Tensor>> ins;
  if (!list.empty()) ins.push_back(list);
  c10d::ScatterOptions o;
  o.rootRank = info[3].As<Napi::Number>().Int32Value();
  auto w = PG(0)->scatter(out, ins, o);
  list.push_back(out[0]);
  return PutWork(env, w, list);
  TORCH_GUARD_END(env)
}

// pgReduceScatter(pg, outId, inIds[], op) -> work
Napi::Value PgReduceScatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::vector<at::Tensor> out{GetTensor(env, info[1])};
  std::vector<std::vector<at::Tensor>> ins{TensorList(env, info[2])};
  c10d::ReduceScatterOptions o;
  o.reduceOp = c10d::ReduceOp(RedOp(env, info[3]));
  auto w = PG(0)->reduce_scatter(out, ins, o);
  auto keep = ins[0];
  keep.push_back(out[0]);
  return PutWork(env, w, keep);
  TORCH_GUARD_END(env)
}

// pgP2P(pg, id, peer, tag, isRecv) -> work: send to / receive from one rank.
Napi::Value PgP2P(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::vector<at::Tensor> ts{GetTensor(env, info[1])};
  int peer = info[2].As<Napi::Number>().Int32Value();
  int tag = info[3].As<Napi::Number>().Int32Value();
  auto& pg = PG(0);
  auto w = info[4].ToBoolean().Value() ? pg->recv(ts, peer, tag) : pg->send(ts, peer, tag);
  return PutWork(env, w, ts);
  TORCH_GUARD_END(env)
}

// pgBarrier(pg, timeoutMs | null) -> work
Napi::Value PgBarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  c10d::BarrierOptions o;
  if (info[1].IsNumber()) o.timeout = Ms(info[1]);
  return PutWork(env, PG(0)->barrier(o), {});
  TORCH_GUARD_END(env)
}

// ---- works --------------------------------------------------------------------------------------
// workWait(work): blocks until the work is done; its error (a timeout, a dead peer) is thrown.
Napi::Value WorkWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  g_works.Get(env, info[0], "the work")->work->wait();
  SyncExternalMemory(env);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// workIsCompleted(work) -> bool
Napi::Value WorkIsCompleted(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Boolean::New(env, g_works.Get(env, info[0], "the work")->work->isCompleted());
  TORCH_GUARD_END(env)
}

Napi::Value WorkFree(const Napi::CallbackInfo& info) {
  g_works.Free(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

class WaitWorker final : public PromiseWorker {
 public:
  WaitWorker(Napi::Env env, c10::intrusive_ptr<WorkEntry> entry)
      : PromiseWorker(env, "torch-node:distributed.wait", "ERR_TORCH_DIST"), entry_(std::move(entry)) {}

 protected:
  void Run() override { entry_->work->wait(); }
  Napi::Value Settle(Napi::Env env) override { return env.Undefined(); }

 private:
  c10::intrusive_ptr<WorkEntry> entry_;
};

// workWaitAsync(work) -> Promise<void>: waits on libuv's pool.
Napi::Value WorkWaitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return (new WaitWorker(env, g_works.Get(env, info[0], "the work")))->Start();
  TORCH_GUARD_END(env)
}

// ---- DistributedDataParallel's engine: c10d::Reducer -------------------------------------------
// In Python's order (torch/nn/parallel/distributed.py): verify the parameters' shapes across ranks,
// broadcast rank 0's parameters and buffers, assign buckets (one bucket until the first backward
// rebuilds them in gradient order, unless findUnusedParameters), reversed, then the Reducer, which
// registers autograd hooks that all-reduce each bucket as its gradients are ready and average them.
struct ReducerEntry : c10::intrusive_ptr_target {
  std::shared_ptr<c10d::Reducer> reducer;
};
HandleTable<ReducerEntry> g_reducers;

// ddpVerify(pg, paramIds[]): the same number and shapes of parameters on every rank, else an error.
Napi::Value DdpVerify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto params = TensorList(env, info[1]);
  c10d::verify_params_across_processes(PG(0), params, std::nullopt);
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// ddpBroadcastCoalesced(pg, ids[], bufferBytes, src): Python's dist._broadcast_coalesced.
Napi::Value DdpBroadcastCoalesced(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto ts = TensorList(env, info[1]);
  if (!ts.empty()) {
    at::NoGradGuard no_grad;
    c10d::broadcast_coalesced(PG(0), ts, static_cast<size_t>(info[2].As<Napi::Number>().Int64Value()),
                              info[3].As<Napi::Number>().Int32Value());
  }
  return env.Undefined();
  TORCH_GUARD_END(env)
}

// ddpReducer(pg, paramIds[], names[], bucketCapBytes, findUnused, gradAsBucketView) -> reducer
Napi::Value DdpReducer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto params = TensorList(env, info[1]);
  auto names = info[2].As<Napi::Array>();
  int64_t cap = info[3].As<Napi::Number>().Int64Value();
  bool find_unused = info[4].ToBoolean().Value();
  bool as_view = info[5].ToBoolean().Value();
  std::vector<bool> sparse(params.size(), false);
  std::vector<size_t> limits;
  if (!find_unused)
    limits = {std::numeric_limits<size_t>::max()};
  else if (c10d::kDefaultFirstBucketBytes < cap)
    limits = {static_cast<size_t>(c10d::kDefaultFirstBucketBytes), static_cast<size_t>(cap)};
  else
    limits = {static_cast<size_t>(cap)};
  auto [buckets, per_bucket] = c10d::compute_bucket_assignment_by_size(params, limits, sparse);
  std::reverse(buckets.begin(), buckets.end());
  std::unordered_map<size_t, std::string> param_names;
  for (uint32_t i = 0; i < names.Length(); i++) param_names[i] = names.Get(i).As<Napi::String>().Utf8Value();
  auto e = c10::make_intrusive<ReducerEntry>();
  e->reducer = std::make_shared<c10d::Reducer>(params, buckets, PG(0), sparse, cap, find_unused, as_view, param_names,
                                               c10d::kDefaultFirstBucketBytes, /*skip_all_reduce_unused_params=*/false,
                                               /*use_python_reducer=*/false, std::vector<int64_t>{});
  return Napi::Number::New(env, g_reducers.Put(e));
  TORCH_GUARD_END(env)
}

#define REDUCER(i) g_reducers.Get(env, info[i], "the DistributedDataParallel reducer")->reducer

// ddpPrepareForward(reducer, gradEnabled) -> whether the buckets were rebuilt
Napi::Value DdpPrepareForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto& r = REDUCER(0);
  bool rebuilt = false;
  if (info[1].ToBoolean().Value()) {
    r->prepare_for_forward();
    rebuilt = r->rebuild_buckets();
  }
  return Napi::Boolean::New(env, rebuilt);
  TORCH_GUARD_END(env)
}

// ddpRebuildBuckets(reducer) -> bool (also when prepare_for_forward is skipped, as under noSync)
Napi::Value DdpRebuildBuckets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return Napi::Boolean::New(env, REDUCER(0)->rebuild_buckets());
  TORCH_GUARD_END(env)
}

// ddpPrepareForBackward(reducer, outputIds[])
Napi::Value DdpPrepareForBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  REDUCER(0)->prepare_for_backward(TensorList(env, info[1]));
  return env.Undefined();
  TORCH_GUARD_END(env)
}

Napi::Value DdpFree(const Napi::CallbackInfo& info) {
  g_reducers.Free(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

void InitDistributed(Napi::Env env, Napi::Object exports) {
  auto d = Napi::Object::New(env);
  d.Set("info", Napi::Function::New(env, DistInfo, "info"));
  d.Set("storeTcp", Napi::Function::New(env, StoreTcp, "storeTcp"));
  d.Set("storeFile", Napi::Function::New(env, StoreFile, "storeFile"));
  d.Set("storePrefix", Napi::Function::New(env, StorePrefix, "storePrefix"));
  d.Set("storeSet", Napi::Function::New(env, StoreSet, "storeSet"));
  d.Set("storeGet", Napi::Function::New(env, StoreGet, "storeGet"));
  d.Set("storeAdd", Napi::Function::New(env, StoreAdd, "storeAdd"));
  d.Set("storeWait", Napi::Function::New(env, StoreWait, "storeWait"));
  d.Set("storeCheck", Napi::Function::New(env, StoreCheck, "storeCheck"));
  d.Set("storeDeleteKey", Napi::Function::New(env, StoreDeleteKey, "storeDeleteKey"));
  d.Set("storeNumKeys", Napi::Function::New(env, StoreNumKeys, "storeNumKeys"));
  d.Set("storeSetTimeout", Napi::Function::New(env, StoreSetTimeout, "storeSetTimeout"));
  d.Set("storeFree", Napi::Function::New(env, StoreFree, "storeFree"));
  d.Set("ncclInfo", Napi::Function::New(env, NcclInfo, "ncclInfo"));
  d.Set("pgNew", Napi::Function::New(env, PgNew, "pgNew"));
  d.Set("pgFree", Napi::Function::New(env, PgFree, "pgFree"));
  d.Set("pgAllreduce", Napi::Function::New(env, PgAllreduce, "pgAllreduce"));
  d.Set("pgAllreduceAutograd", Napi::Function::New(env, PgAllreduceAutograd, "pgAllreduceAutograd"));
  d.Set("pgBroadcast", Napi::Function::New(env, PgBroadcast, "pgBroadcast"));
  d.Set("pgReduce", Napi::Function::New(env, PgReduce, "pgReduce"));
  d.Set("pgAllgather", Napi::Function::New(env, PgAllgather, "pgAllgather"));
  d.Set("pgGather", Napi::Function::New(env, PgGather, "pgGather"));
  d.Set("pgScatter", Napi::Function::New(env, PgScatter, "pgScatter"));
  d.Set("pgReduceScatter", Napi::Function::New(env, PgReduceScatter, "pgReduceScatter"));
  d.Set("pgP2P", Napi::Function::New(env, PgP2P, "pgP2P"));
  d.Set("pgBarrier", Napi::Function::New(env, PgBarrier, "pgBarrier"));
  d.Set("workWait", Napi::Function::New(env, WorkWait, "workWait"));
  d.Set("workWaitAsync", Napi::Function::New(env, WorkWaitAsync, "workWaitAsync"));
  d.Set("workIsCompleted", Napi::Function::New(env, WorkIsCompleted, "workIsCompleted"));
  d.Set("workFree", Napi::Function::New(env, WorkFree, "workFree"));
  d.Set("ddpVerify", Napi::Function::New(env, DdpVerify, "ddpVerify"));
  d.Set("ddpBroadcastCoalesced", Napi::Function::New(env, DdpBroadcastCoalesced, "ddpBroadcastCoalesced"));
  d.Set("ddpReducer", Napi::Function::New(env, DdpReducer, "ddpReducer"));
  d.Set("ddpPrepareForward", Napi::Function::New(env, DdpPrepareForward, "ddpPrepareForward"));
  d.Set("ddpRebuildBuckets", Napi::Function::New(env, DdpRebuildBuckets, "ddpRebuildBuckets"));
  d.Set("ddpPrepareForBackward", Napi::Function::New(env, DdpPrepareForBackward, "ddpPrepareForBackward"));
  d.Set("ddpFree", Napi::Function::New(env, DdpFree, "ddpFree"));
  exports.Set("distributed", d);
  // Works, groups and stores go before the env: their threads must not outlive it.
  env.AddCleanupHook([] {
    g_reducers.Clear();
    g_works.Clear();
    g_groups.Clear();
    g_stores.Clear();
  });
}

}  // namespace torch_node
