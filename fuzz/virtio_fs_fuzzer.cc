// Fuzzes the virtio-fs FUSE server: the input is a sequence of requests
// (each prefixed by a u16 length) sent after a real FUSE_INIT to a server
// over a fresh temp directory holding a file, a directory and a symlink
// pointing out of it, with virtual entries on top (a file, a directory
// holding a file, a one_shot file). Must never crash, hang or touch
// anything outside.
#include <linux/fuse.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "virtio/fs/passthrough.h"

namespace {

// Bounds time per input.
constexpr size_t kMaxRequests = 64;

struct Share {
  Share() {
    char name[] = "/tmp/vk-fs-fuzz.XXXXXX";
    if (::mkdtemp(name) == nullptr) std::abort();
    root = name;
  }
  ~Share() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
  std::string root;
};

void Populate(const std::string& root) {
  std::filesystem::create_directory(root + "/d");
  if (FILE* f = std::fopen((root + "/f").c_str(), "w")) {
    std::fputs("fuzz", f);
    std::fclose(f);
  }
  (void)::symlink("/etc/passwd", (root + "/evil").c_str());
}

// Virtual entries' data must outlive the server: static.
constexpr uint8_t kVirtualData[] = "virtual fuzz data";

std::vector<vk::virtio::fs::VirtualEntry> VirtualEntries() {
  using vk::virtio::fs::VirtualEntry;
  std::span<const uint8_t> data(kVirtualData, sizeof(kVirtualData) - 1);
  std::vector<VirtualEntry> root;
  root.push_back(VirtualEntry{"vf", S_IFREG | 0444, data, false, {}});
  root.push_back(VirtualEntry{"vd", S_IFDIR | 0555, {}, false, {}});
  root.back().children.push_back(VirtualEntry{"x", S_IFREG | 0600, data, false, {}});
  root.push_back(VirtualEntry{"once", S_IFREG | 0400, data, true, {}});
  return root;
}

void SendInit(vk::virtio::fs::FuseServer& server, std::span<uint8_t> reply) {
  std::vector<uint8_t> request(sizeof(fuse_in_header) + sizeof(fuse_init_in));
  fuse_in_header header{};
  header.len = static_cast<uint32_t>(request.size());
  header.opcode = FUSE_INIT;
  fuse_init_in init{};
  init.major = FUSE_KERNEL_VERSION;
  init.minor = FUSE_KERNEL_MINOR_VERSION;
  init.flags = ~0u;
  std::memcpy(request.data(), &header, sizeof(header));
  std::memcpy(request.data() + sizeof(header), &init, sizeof(init));
  (void)server.Handle(request, reply);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Share share;
  Populate(share.root);
  static const auto entries = VirtualEntries();
  auto server =
      vk::virtio::fs::FuseServer::Create(share.root, vk::virtio::fs::Access::kReadWrite, entries);
  if (!server.ok()) return 0;
  static std::vector<uint8_t> reply(vk::virtio::fs::kMaxReadWrite + 4096);
  SendInit(**server, reply);
  std::span<const uint8_t> input(data, size);
  for (size_t i = 0; i < kMaxRequests && input.size() >= 2; ++i) {
    size_t length = std::min<size_t>(input[0] | (input[1] << 8), input.size() - 2);
    // The low bits of the length also pick the reply buffer size, so short
    // reply buffers are exercised too.
    size_t reply_size = (length & 1) ? 4096 : reply.size();
    (void)(*server)->Handle(input.subspan(2, length), std::span(reply).first(reply_size));
    input = input.subspan(2 + length);
  }
  return 0;
}
