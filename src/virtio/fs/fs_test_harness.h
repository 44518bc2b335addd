// Test/bench harness: drives a real virtio-fs device through a fake
// virtqueue with hand-built FUSE requests. Buffers are fixed guest regions
// reused by every call, so millions of calls fit in the fake guest RAM.
//
//   FsHarness fs({.shared_dir = dir, .tag = "share"});
//   fs.Init();
//   auto entry = fs.Lookup(FUSE_ROOT_ID, "file");
#pragma once

#include <linux/fuse.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "virtio/fs/fs_device.h"
#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio::fs::testing {

// A fresh directory under /tmp, removed (without following symlinks) at exit.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/vk-fs-test.XXXXXX";
    if (::mkdtemp(name) == nullptr) std::abort();
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Descriptors 0.. of `vq` as the Linux driver lays out a FUSE request: the
// header, the rest of the request (if any) in a second readable
// descriptor, then a writable buffer of `reply_size` bytes for the reply.
inline void SetFuseChain(virtio::testing::FakeVirtqueue& vq, uint64_t request_area,
                         size_t request_size, uint64_t reply_area, uint32_t reply_size) {
  using virtio::testing::FakeVirtqueue;
  uint32_t first = static_cast<uint32_t>(std::min(request_size, sizeof(fuse_in_header)));
  uint16_t index = 0;
  vq.SetDescriptor(index, request_area, first, FakeVirtqueue::kNext, 1);
  if (request_size > first) {
    ++index;
    vq.SetDescriptor(index, request_area + first, static_cast<uint32_t>(request_size - first),
                     FakeVirtqueue::kNext, 2);
  }
  vq.SetDescriptor(index + 1, reply_area, reply_size, FakeVirtqueue::kWrite, 0);
}

// Builds one request: fuse_in_header (len and unique filled in) + args.
class Req {
 public:
  Req(uint32_t opcode, uint64_t nodeid) : bytes_(sizeof(fuse_in_header)) {
    fuse_in_header header{};
    header.opcode = opcode;
    header.nodeid = nodeid;
    std::memcpy(bytes_.data(), &header, sizeof(header));
  }
  template <typename T>
  Req& Arg(const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  Req& Str(std::string_view text) {
    bytes_.insert(bytes_.end(), text.begin(), text.end());
    bytes_.push_back(0);
    return *this;
  }
  Req& Raw(std::span<const uint8_t> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  std::vector<uint8_t> Build(uint64_t unique) const {
    std::vector<uint8_t> out = bytes_;
    uint32_t len = static_cast<uint32_t>(out.size());
    std::memcpy(out.data(), &len, 4);
    std::memcpy(out.data() + offsetof(fuse_in_header, unique), &unique, 8);
    return out;
  }

 private:
  std::vector<uint8_t> bytes_;
};

struct Reply {
  bool used = false;      // the chain came back
  uint32_t used_len = 0;  // bytes the device said it wrote
  int error = 0;          // positive errno from out_header
  uint64_t unique = 0;
  std::vector<uint8_t> body;  // payload after fuse_out_header
  template <typename T>
  T As(size_t offset = 0) const {
    T value{};
    if (body.size() >= offset + sizeof(T)) std::memcpy(&value, body.data() + offset, sizeof(T));
    return value;
  }
};

class FsHarness {
 public:
  static constexpr size_t kArea = 2 << 20;

  explicit FsHarness(const FsOptions& options) : guest_(16 << 20) {
    auto device = CreateFsDevice(options);
    if (!device.ok()) std::abort();
    device_ = std::move(*device);
    for (uint16_t size : device_->queue_max_sizes()) queues_.emplace_back(size);
    for (auto& queue : queues_)
      vqs_.push_back(std::make_unique<virtio::testing::FakeVirtqueue>(guest_, queue));
    context_ = std::make_unique<virtio::testing::FakeDeviceContext>(guest_, std::span(queues_));
    if (!device_->Activate(context_->context).ok()) std::abort();
    request_area_ = guest_.Alloc(kArea, 4096);
    reply_area_ = guest_.Alloc(kArea, 4096);
  }

  VirtioDevice& device() { return *device_; }

  // Copies a request into the fixed request area (what the guest does).
  void Place(std::span<const uint8_t> request) { guest_.Write(request_area_, request); }

  // Submits the placed request (split after the header into a second
  // readable descriptor) with a writable buffer of `reply_size` bytes, and
  // returns the used length, or -1 if the chain did not come back.
  int64_t Submit(size_t request_size, uint32_t reply_size, size_t queue = 1) {
    auto& vq = *vqs_.at(queue);
    SetFuseChain(vq, request_area_, request_size, reply_area_, reply_size);
    vq.Publish(0);
    device_->ProcessQueue(queue);
    auto used = vq.NextUsed();
    return used ? static_cast<int64_t>(used->length) : -1;
  }

  // Sends raw request bytes and parses the reply.
  Reply Send(std::span<const uint8_t> request, uint32_t reply_size = 8192, size_t queue = 1) {
    Place(request);
    int64_t length = Submit(request.size(), reply_size, queue);
    Reply reply;
    if (length < 0) return reply;
    reply.used = true;
    reply.used_len = static_cast<uint32_t>(length);
    if (reply.used_len >= sizeof(fuse_out_header)) {
      auto bytes = guest_.Read(reply_area_, reply.used_len);
      fuse_out_header header;
      std::memcpy(&header, bytes.data(), sizeof(header));
      reply.error = -header.error;
      reply.unique = header.unique;
      reply.body.assign(bytes.begin() + sizeof(header), bytes.end());
    }
    return reply;
  }
  Reply Call(const Req& request, uint32_t reply_size = 8192, size_t queue = 1) {
    return Send(request.Build(++unique_), reply_size, queue);
  }

  // --- Typed helpers for common opcodes ---
  Reply Init(uint32_t minor = FUSE_KERNEL_MINOR_VERSION) {
    fuse_init_in in{};
    in.major = FUSE_KERNEL_VERSION;
    in.minor = minor;
    in.max_readahead = 128 << 10;
    in.flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_POSIX_LOCKS;
    return Call(Req(FUSE_INIT, 0).Arg(in));
  }
  Reply Lookup(uint64_t parent, std::string_view name) {
    return Call(Req(FUSE_LOOKUP, parent).Str(name));
  }
  Reply GetAttr(uint64_t node) { return Call(Req(FUSE_GETATTR, node).Arg(fuse_getattr_in{})); }
  Reply Mkdir(uint64_t parent, std::string_view name, uint32_t mode = 0755) {
    return Call(Req(FUSE_MKDIR, parent).Arg(fuse_mkdir_in{mode, 0}).Str(name));
  }
  Reply Create(uint64_t parent, std::string_view name, uint32_t flags = 02 /*O_RDWR*/,
               uint32_t mode = 0644) {
    fuse_create_in in{};
    in.flags = flags | 0100 /*O_CREAT*/;
    in.mode = 0100000 | mode;
    return Call(Req(FUSE_CREATE, parent).Arg(in).Str(name));
  }
  Reply Open(uint64_t node, uint32_t flags) {
    fuse_open_in in{};
    in.flags = flags;
    return Call(Req(FUSE_OPEN, node).Arg(in));
  }
  Reply Write(uint64_t fh, uint64_t offset, std::span<const uint8_t> data) {
    fuse_write_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = static_cast<uint32_t>(data.size());
    return Call(Req(FUSE_WRITE, 0).Arg(in).Raw(data));
  }
  Reply Read(uint64_t fh, uint64_t offset, uint32_t size) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = size;
    return Call(Req(FUSE_READ, 0).Arg(in), size + sizeof(fuse_out_header));
  }
  Reply Release(uint64_t fh, uint32_t opcode = FUSE_RELEASE) {
    fuse_release_in in{};
    in.fh = fh;
    return Call(Req(opcode, 0).Arg(in));
  }

 private:
  virtio::testing::FakeGuest guest_;
  std::vector<Queue> queues_;
  std::vector<std::unique_ptr<virtio::testing::FakeVirtqueue>> vqs_;
  std::unique_ptr<virtio::testing::FakeDeviceContext> context_;
  std::unique_ptr<VirtioDevice> device_;
  uint64_t request_area_ = 0;
  uint64_t reply_area_ = 0;
  uint64_t unique_ = 0;
};

}  // namespace vk::virtio::fs::testing
