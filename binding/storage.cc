// Raw storage access for torch.save / torch.load (lib/serialization/): tensors from raw
// little-endian bytes of any dtype (copied, or zero-copy over a memory-mapped file), and a tensor's
// storage as bytes with an identity key, so views that share a storage are saved once and loaded
// as views of one storage again. Sync; all throw TorchError.
#include "convert.h"
#include "crc32.h"
#include "registry.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

namespace torch_node {
namespace {

// fromBytes(u8, dtypeCode, numel) -> id: a 1-D tensor whose bytes are a copy of u8.
Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto u8 = info[0].As<Napi::TypedArray>();
  auto dtype = ToScalarType(env, info[1]);
  int64_t numel = info[2].As<Napi::Number>().Int64Value();
  size_t elem = c10::elementSize(dtype);
  if (numel < 0 || static_cast<uint64_t>(numel) > u8.ByteLength() / elem ||
      u8.ByteLength() != static_cast<size_t>(numel) * elem) {
    ThrowTorchError(env, "fromBytes: " + std::to_string(u8.ByteLength()) + " bytes do not hold " +
                             std::to_string(numel) + " elements of " + c10::toString(dtype));
  }
  at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
  if (numel)
    std::memcpy(t.data_ptr(), static_cast<uint8_t*>(u8.ArrayBuffer().Data()) + u8.ByteOffset(), u8.ByteLength());
  return Wrap(env, std::move(t));
  TORCH_GUARD_END(env)
}

// crc32(u8, crc = 0) -> the zip CRC-32 of the bytes, continuing from crc (binding/crc32.cc).
Napi::Value Crc32Js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto u8 = info[0].As<Napi::TypedArray>();
  uint32_t crc = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 0;
  const auto* p = static_cast<const uint8_t*>(u8.ArrayBuffer().Data()) + u8.ByteOffset();
  return Napi::Number::New(env, static_cast<double>(Crc32(crc, p, u8.ByteLength())));
  TORCH_GUARD_END(env)
}

// startWriteback(fd, offset, length): asks the kernel to start writing that range of a file to disk
// now (sync_file_range with SYNC_FILE_RANGE_WRITE: it does not wait for the data to reach the disk),
// so that a save's final fsync overlaps the writes instead of following them. Linux only; elsewhere
// and on failure (a filesystem without it) a no-op: the fsync still makes the save durable.
Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
#ifdef __linux__
  int fd = info[0].As<Napi::Number>().Int32Value();
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  int64_t length = info[2].As<Napi::Number>().Int64Value();
  if (fd >= 0 && offset >= 0 && length > 0) sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#endif
  return info.Env().Undefined();
}

// One stored (uncompressed) zip record read straight from a file into a new 1-D tensor, in one
// pass: pread in 1 MiB chunks, each chunk checksummed right after it arrives, while it is in cache.
// No N-API here, so it runs on a worker thread too. On failure `error` says why (an I/O error or a
// file that ended early: the caller's TorchError code is ERR_TORCH_IO).
struct StoredRead {
  int fd;
  int64_t offset;
  int64_t nbytes;
  c10::ScalarType dtype;
  int64_t numel;
  bool want_crc;
  at::Tensor tensor;
  uint32_t crc = 0;
  std::string error;

  void Run() {
    tensor = at::empty({numel}, at::TensorOptions().dtype(dtype));
    auto* dst = static_cast<uint8_t*>(tensor.data_ptr());
    constexpr int64_t kChunk = int64_t{1} << 20;
    for (int64_t done = 0; done < nbytes;) {
      int64_t want = std::min(kChunk, nbytes - done);
      for (int64_t got = 0; got < want;) {
        ssize_t n =
            pread(fd, dst + done + got, static_cast<size_t>(want - got), static_cast<off_t>(offset + done + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          error = n < 0 ? std::string("read failed: ") + std::strerror(errno)
                        : "the file ended at byte " + std::to_string(offset + done + got) + " while reading " +
                              std::to_string(nbytes) + " bytes at " + std::to_string(offset) +
                              " (was it truncated while loading?)";
          tensor.reset();
          return;
        }
        got += n;
      }
      if (want_crc) crc = Crc32(crc, dst + done, static_cast<size_t>(want));
      done += want;
    }
  }
};

// The arguments (fd, offset, nbytes, dtypeCode, numel, wantCrc), checked.
StoredRead StoredReadArgs(Napi::Env env, const Napi::CallbackInfo& info) {
  StoredRead r{info[0].As<Napi::Number>().Int32Value(),
               info[1].As<Napi::Number>().Int64Value(),
               info[2].As<Napi::Number>().Int64Value(),
               ToScalarType(env, info[3]),
               info[4].As<Napi::Number>().Int64Value(),
               info[5].ToBoolean().Value(),
               {},
               0,
               {}};
  size_t elem = c10::elementSize(r.dtype);
  if (r.offset < 0 || r.numel < 0 || r.nbytes < 0 ||
      static_cast<uint64_t>(r.numel) > static_cast<uint64_t>(r.nbytes) / elem ||
      static_cast<uint64_t>(r.nbytes) != static_cast<uint64_t>(r.numel) * elem) {
    ThrowTorchError(env, "readStored: " + std::to_string(r.nbytes) + " bytes do not hold " + std::to_string(r.numel) +
                             " elements of " + c10::toString(r.dtype));
  }
  return r;
}

Napi::Value StoredResult(Napi::Env env, StoredRead& r) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Wrap(env, std::move(r.tensor)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(r.crc)));
  return out;
}

// readStored(fd, offset, nbytes, dtypeCode, numel, wantCrc) -> [id, crc32] (crc32 is 0 unless
// wantCrc). The caller compares the CRC.
Napi::Value ReadStored(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  StoredRead r = StoredReadArgs(env, info);
  r.Run();
  if (!r.error.empty()) ThrowTorchError(env, r.error, "", "ERR_TORCH_IO");
  return StoredResult(env, r);
  TORCH_GUARD_END(env)
}

// readStoredAsync(...) -> Promise<[id, crc32]>: readStored on libuv's thread pool (torch.loadAsync).
// The tensor is stored in the table on the main thread, when the read is done.
class StoredReadWorker final : public PromiseWorker {
 public:
  StoredReadWorker(Napi::Env env, StoredRead r) : PromiseWorker(env, "torch-node.loadAsync"), r_(std::move(r)) {}

 protected:
  void Run() override {
    try {
      r_.Run();
    } catch (...) {
      r_.tensor.reset();
      throw;  // a libtorch error: ERR_TORCH, as the synchronous read gives it
    }
    if (!r_.error.empty()) {
      r_.tensor.reset();
      Fail(r_.error, "", "ERR_TORCH_IO");
    }
  }
  Napi::Value Settle(Napi::Env env) override { return StoredResult(env, r_); }

 private:
  StoredRead r_;
};

Napi::Value ReadStoredAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  return (new StoredReadWorker(env, StoredReadArgs(env, info)))->Start();
  TORCH_GUARD_END(env)
}

// storageInfo(id) -> [key, nbytes, storageOffset (elements), dtypeCode, device]
// key identifies the storage (its data pointer) while the tensor lives: equal keys = shared storage.
Napi::Value StorageInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  const auto& storage = t.storage();
  char key[32];
  std::snprintf(key, sizeof key, "%p", storage.data());
  Napi::Array out = Napi::Array::New(env, 5);
  out.Set(0u, Napi::String::New(env, storage.data() ? key : "empty"));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(storage.nbytes())));
  out.Set(2u, Napi::Number::New(env, static_cast<double>(t.storage_offset())));
  out.Set(3u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
  out.Set(4u, Napi::String::New(env, t.device().str()));
  return out;
  TORCH_GUARD_END(env)
}

// storageBytes(id) -> ArrayBuffer: a copy of the whole storage under the tensor (CPU or CUDA).
Napi::Value StorageBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  c10::InferenceMode guard;
  size_t nbytes = t.storage().nbytes();
  size_t elem = t.element_size();
  // The whole storage as a 1-D tensor of the same dtype, moved to CPU if needed.
  at::Tensor all = at::empty({0}, t.options()).set_(t.storage(), 0, {static_cast<int64_t>(nbytes / elem)}, {1});
  if (!all.device().is_cpu()) all = all.cpu();
  auto ab = Napi::ArrayBuffer::New(env, nbytes);
  if (nbytes) std::memcpy(ab.Data(), all.const_data_ptr(), nbytes);
  return ab;
  TORCH_GUARD_END(env)
}

// storageView(id) -> ArrayBuffer over a CPU tensor's whole storage, without copying (the storage is
// kept alive until V8 collects the buffer), or null where that is not possible (not on CPU, or a
// runtime that forbids external buffers): callers then use storageBytes. For writing files only —
// the view aliases the tensor's memory.
Napi::Value StorageView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& t = GetTensor(env, info[0]);
  if (!t.device().is_cpu() || t.storage().nbytes() == 0 || !t.storage().data()) return env.Null();
  auto* keep = new c10::Storage(t.storage());
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(
      env, const_cast<void*>(keep->data()), keep->nbytes(),
      [](napi_env, void*, void* hint) { delete static_cast<c10::Storage*>(hint); }, keep, &ab);
  if (st != napi_ok) {
    delete keep;
    // A pending exception from a refused external buffer must not leak out: clear it and fall back.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return env.Null();
  }
  return Napi::Value(env, ab);
  TORCH_GUARD_END(env)
}

// onStorage(baseId, storageOffset, sizes, strides) -> id: a new tensor over the base tensor's whole
// storage, as Python's torch.load rebuilds one (torch.empty((0,), dtype, device).set_(storage,
// offset, size, stride)): not a view, so tensors saved sharing a storage share it again. One call
// instead of empty + set_ through the dispatcher; set_ checks that the extent fits the storage.
Napi::Value OnStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  const at::Tensor& base = GetTensor(env, info[0]);
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  std::vector<int64_t> sizes = ToInt64Vector(env, info[2], "sizes");
  std::vector<int64_t> strides = ToInt64Vector(env, info[3], "strides");
  at::Tensor t = at::empty({0}, base.options()).set_(base.storage(), offset, sizes, strides);
  return Wrap(env, std::move(t));
  TORCH_GUARD_END(env)
}

// ---- memory-mapped files --------------------------------------------------------------------
struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr && addr != MAP_FAILED) munmap(addr, size);
  }
};

// Open mappings by handle; a tensor made from one holds its own shared_ptr, so closing the handle
// only drops the table's reference and the file stays mapped while tensors use it.
std::deque<std::shared_ptr<Mapping>> g_maps;

// mmapOpen(path) -> [handle, size]
Napi::Value MmapOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowTorchError(env, "mmap: cannot open " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    ThrowTorchError(env, "mmap: cannot stat " + path + ": " + std::strerror(e));
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size) {
    // Private and writable: writing to a tensor copies the page (copy-on-write), never the file.
    m->addr = mmap(nullptr, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m->addr == MAP_FAILED) {
      int e = errno;
      close(fd);
      ThrowTorchError(env, "mmap: cannot map " + path + ": " + std::strerror(e));
    }
  }
  close(fd);
  g_maps.push_back(m);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(g_maps.size() - 1)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(m->size)));
  return out;
  TORCH_GUARD_END(env)
}

std::shared_ptr<Mapping>& MapAt(Napi::Env env, const Napi::Value& v) {
  int32_t h = v.As<Napi::Number>().Int32Value();
  if (h < 0 || static_cast<size_t>(h) >= g_maps.size() || !g_maps[h])
    ThrowTorchError(env, "mmap: closed or unknown mapping");
  return g_maps[h];
}

// fromMapped(handle, byteOffset, dtypeCode, numel) -> id: a 1-D tensor over the
// mapping, no copy. The pages are private (copy-on-write), so writing to the tensor never touches
// the file.
Napi::Value FromMapped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto m = MapAt(env, info[0]);
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  auto dtype = ToScalarType(env, info[2]);
  int64_t numel = info[3].As<Napi::Number>().Int64Value();
  size_t elem = c10::elementSize(dtype);
  if (offset < 0 || numel < 0 || static_cast<uint64_t>(offset) > m->size ||
      static_cast<uint64_t>(numel) > (m->size - static_cast<uint64_t>(offset)) / elem) {
    ThrowTorchError(env, "mmap: " + std::to_string(numel) + " elements at byte " + std::to_string(offset) +
                             " run past the end of the file (" + std::to_string(m->size) + " bytes)");
  }
  if (offset % static_cast<int64_t>(elem) != 0) {
    ThrowTorchError(env, "mmap: byte offset " + std::to_string(offset) + " is not aligned for " + c10::toString(dtype));
  }
  void* data = static_cast<uint8_t*>(m->addr) + offset;
  auto* keep = new std::shared_ptr<Mapping>(m);
  at::Tensor t = at::from_blob(data, {numel}, [keep](void*) { delete keep; }, at::TensorOptions().dtype(dtype));
  return Wrap(env, std::move(t));
  TORCH_GUARD_END(env)
}

// mmapRead(handle, byteOffset, length) -> Buffer copy of part of the mapping (headers, pickles).
Napi::Value MmapRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  auto m = MapAt(env, info[0]);
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  int64_t length = info[2].As<Napi::Number>().Int64Value();
  if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) > m->size ||
      static_cast<uint64_t>(length) > m->size - static_cast<uint64_t>(offset)) {
    ThrowTorchError(env, "mmap: read of " + std::to_string(length) + " bytes at " + std::to_string(offset) +
                             " runs past the end of the file (" + std::to_string(m->size) + " bytes)");
  }
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(m->addr) + offset, static_cast<size_t>(length));
  TORCH_GUARD_END(env)
}

Napi::Value MmapClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TORCH_GUARD_BEGIN
  MapAt(env, info[0]).reset();
  return env.Undefined();
  TORCH_GUARD_END(env)
}

}  // namespace

void InitStorage(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBytes", Napi::Function::New(env, FromBytes, "fromBytes"));
  exports.Set("storageInfo", Napi::Function::New(env, StorageInfo, "storageInfo"));
  exports.Set("storageBytes", Napi::Function::New(env, StorageBytes, "storageBytes"));
  exports.Set("startWriteback", Napi::Function::New(env, StartWriteback, "startWriteback"));
  exports.Set("crc32", Napi::Function::New(env, Crc32Js, "crc32"));
  exports.Set("readStored", Napi::Function::New(env, ReadStored, "readStored"));
  exports.Set("readStoredAsync", Napi::Function::New(env, ReadStoredAsync, "readStoredAsync"));
  exports.Set("storageView", Napi::Function::New(env, StorageView, "storageView"));
  exports.Set("onStorage", Napi::Function::New(env, OnStorage, "onStorage"));
  exports.Set("mmapOpen", Napi::Function::New(env, MmapOpen, "mmapOpen"));
  exports.Set("fromMapped", Napi::Function::New(env, FromMapped, "fromMapped"));
  exports.Set("mmapRead", Napi::Function::New(env, MmapRead, "mmapRead"));
  exports.Set("mmapClose", Napi::Function::New(env, MmapClose, "mmapClose"));
}

}  // namespace torch_node
