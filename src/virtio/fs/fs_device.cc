#include "virtio/fs/fs_device.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "virtio/fs/passthrough.h"
#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

// virtio 1.2 §5.11.4: struct virtio_fs_config.
constexpr size_t kTagBytes = 36;
struct Config {
  char tag[kTagBytes];  // UTF-8, NUL-padded; not terminated when 36 bytes long
  uint32_t num_request_queues;
} __attribute__((packed));
static_assert(sizeof(Config) == 40);

// §5.11.2: queue 0 is hiprio (FORGET, INTERRUPT), then the request queues.
constexpr uint16_t kQueueSize = 256;
// Abuse bound (host side): request queues we will ever serve.
constexpr uint32_t kMaxRequestQueues = 16;
// Largest reply: out header + the biggest READ payload.
constexpr size_t kMaxReplyBytes = fs::kMaxReadWrite + 4096;

class FsDevice : public VirtioDevice {
 public:
  FsDevice(const FsOptions& options, std::unique_ptr<fs::FuseServer> server)
      : server_(std::move(server)), num_request_queues_(options.num_request_queues) {
    std::memset(&config_, 0, sizeof(config_));
    std::memcpy(config_.tag, options.tag.data(), options.tag.size());
    config_.num_request_queues = num_request_queues_;
  }

  DeviceType type() const override { return DeviceType::kFs; }
  std::string_view name() const override { return "virtio-fs"; }
  uint64_t features() const override { return 0; }  // no VIRTIO_FS_F_NOTIFICATION
  std::vector<uint16_t> queue_max_sizes() const override {
    return std::vector<uint16_t>(1 + num_request_queues_, kQueueSize);
  }

  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&config_);
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = offset + i < sizeof(config_) ? bytes[offset + i] : 0;
    }
  }

  Result<void> Activate(const DeviceContext& context) override {
    if (context.queues.size() != 1 + num_request_queues_) {
      return Error("virtio-fs: expected " + std::to_string(1 + num_request_queues_) + " queues");
    }
    context_ = context;
    return Ok();
  }

  void Reset() override { server_->Reset(); }

  void ProcessQueue(size_t index) override {
    if (index >= context_.queues.size()) return;
    DrainQueue(context_, index, name(),
               [this](const DescriptorChain& chain) { return HandleChain(chain); });
  }

  // A live FUSE session is open host files and node IDs the guest kernel
  // caches: none of it can be recreated in another process yet, so a VM
  // with a mounted share is refused whole rather than restored into a
  // session that answers the guest's node IDs with ENOENT/EIO.
  Result<void> SaveState(StateWriter& out) override {
    if (server_->initialized()) {
      return Error("virtio-fs share '" + Tag() +
                   "' is mounted in the guest: a VM with mounted shares cannot be snapshotted "
                   "yet (unmount it first)");
    }
    out.BeginRecord("fs", 1);
    out.Bool(false);  // no FUSE session: the guest sends INIT when it mounts
    return Ok();
  }
  Result<void> RestoreState(StateReader& in) override {
    VK_TRY(in.ExpectRecord("fs", 1));
    if (VK_TRY(in.Bool())) return Error("virtio-fs: saved state holds a FUSE session");
    return Ok();
  }

 private:
  // One FUSE request per chain (§5.11.6.1): readable = fuse_in_header +
  // args, writable = fuse_out_header + reply. Returns the bytes written.
  uint32_t HandleChain(const DescriptorChain& chain) {
    const GuestMemory& memory = *context_.memory;
    ChainReader reader(memory, chain);
    auto header = reader.Read<fuse_in_header>();
    if (!header.ok()) return 0;  // no header: nothing to answer
    // guest-controlled len: read what is there, up to our bound; the server
    // answers EINVAL if it does not match.
    size_t size = std::min<uint64_t>({std::max<uint64_t>(header->len, sizeof(*header)),
                                      chain.readable_bytes(), fs::kMaxRequestBytes});
    request_.resize(size);
    std::memcpy(request_.data(), &*header, sizeof(*header));
    auto body = std::span(request_).subspan(sizeof(*header));
    if (!reader.Read(body).ok()) return 0;
    reply_.resize(kMaxReplyBytes);
    size_t reply_size = std::min<uint64_t>(chain.writable_bytes(), kMaxReplyBytes);
    size_t length = server_->Handle(request_, std::span(reply_).first(reply_size));
    if (length == 0) return 0;
    ChainWriter writer(memory, chain);
    if (!writer.Write(std::span<const uint8_t>(reply_).first(length)).ok()) return 0;
    return static_cast<uint32_t>(length);
  }

  std::string Tag() const { return std::string(config_.tag, strnlen(config_.tag, kTagBytes)); }

  std::unique_ptr<fs::FuseServer> server_;
  uint32_t num_request_queues_;
  Config config_;
  DeviceContext context_;
  std::vector<uint8_t> request_;  // reused: requests are handled one at a time
  std::vector<uint8_t> reply_;
};

}  // namespace

Result<std::unique_ptr<VirtioDevice>> CreateFsDevice(const FsOptions& options) {
  if (options.tag.empty() || options.tag.size() > kTagBytes) {
    return Error("virtio-fs: tag must be 1 to 36 bytes: '" + options.tag + "'");
  }
  if (options.num_request_queues == 0 || options.num_request_queues > kMaxRequestQueues) {
    return Error("virtio-fs: num_request_queues must be 1 to " + std::to_string(kMaxRequestQueues));
  }
  auto access = options.read_only ? fs::Access::kReadOnly : fs::Access::kReadWrite;
  auto server = VK_TRY_CTX(
      fs::FuseServer::Create(options.shared_dir, access, options.virtual_entries), "virtio-fs");
  return std::unique_ptr<VirtioDevice>(new FsDevice(options, std::move(server)));
}

}  // namespace vk::virtio
