// virtio-fs through the vhost-user back end: the operations of
// bench/fs_server.cc (vk_fs_bench) as FUSE requests to a real
// VhostUserBackend hosting CreateFsDevice, whose EventLoop runs on a thread
// of its own, fed by the shared fake front end
// (virtio/vhost_user/testing/fake_front_end.h) over a unix socket. Each
// request is a chain in the ring, a kick eventfd write, and a wait for the
// call eventfd, so the rate includes two thread wake-ups per request.
//
// BM_FsEventfd* is the built-in device with that same round trip: the
// device on its own EventLoop thread, kicked through an eventfd and
// signalling through one, as our VMM's ioeventfd and irqfd do (vk_fs_bench
// calls ProcessQueue directly on the caller's thread). All times are wall
// time (UseRealTime): the work happens on the device thread.
//
//   build/release/vk_virtiofsd_bench [--benchmark_filter=Read]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "virtio/fs/fs_device.h"
#include "virtio/fs/fs_test_harness.h"
#include "virtio/testing/fake_virtqueue.h"
#include "virtio/vhost_user/backend.h"
#include "virtio/vhost_user/server.h"
#include "virtio/vhost_user/testing/fake_front_end.h"

namespace {

using vk::EventLoop;
using vk::virtio::fs::testing::Req;
using vk::virtio::fs::testing::TempDir;
namespace vu = vk::virtio::vhost_user;
namespace fake = vk::virtio::vhost_user::testing;

constexpr size_t kFileSize = 8 << 20;
constexpr uint64_t kArea = 2 << 20;  // request and reply buffers, as FsHarness
constexpr uint16_t kRingSize = 8;
constexpr size_t kRequestQueue = 1;  // 0 is the high-priority queue
constexpr int kTimeoutMs = 5000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "virtiofsd_bench: %s\n", what.c_str());
  std::abort();
}

// A share holding one 8 MiB file.
struct Share {
  Share() {
    std::vector<char> data(kFileSize, 'x');
    int fd = ::open((dir / "file").c_str(), O_CREAT | O_WRONLY, 0644);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) Die("write");
    ::close(fd);
  }
  std::unique_ptr<vk::virtio::VirtioDevice> CreateDevice() const {
    auto device = vk::virtio::CreateFsDevice({.shared_dir = dir.path(), .tag = "bench"});
    if (!device.ok()) Die(device.error().message());
    return std::move(*device);
  }
  TempDir dir;
};

// What both paths share: request/reply areas, FUSE setup (INIT, LOOKUP and
// OPEN of the file, as vk_fs_bench's fixture), and Send over Submit.
template <typename Path>
class Session {
 public:
  void Setup() {
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = FUSE_KERNEL_MINOR_VERSION;
    init.max_readahead = 128 << 10;
    init.flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_POSIX_LOCKS;
    Send(Req(FUSE_INIT, 0).Arg(init).Build(1), nullptr, 0);
    Send(Req(FUSE_LOOKUP, FUSE_ROOT_ID).Str("file").Build(2), &node, 0);
    fuse_open_in open{};
    open.flags = O_RDWR;
    Send(Req(FUSE_OPEN, node).Arg(open).Build(3), &fh, 0);
  }
  // A request whose reply must succeed; *out gets the u64 at `offset` of its body.
  void Send(std::span<const uint8_t> request, uint64_t* out, size_t offset) {
    auto& path = static_cast<Path&>(*this);
    path.Place(request);
    if (path.Submit(request.size(), 8192) < static_cast<int64_t>(sizeof(fuse_out_header))) {
      Die("setup request not answered");
    }
    fuse_out_header header;
    path.ReadReply(&header, sizeof(header), 0);
    if (header.error != 0) Die("setup request failed: " + std::to_string(header.error));
    if (out) path.ReadReply(out, 8, sizeof(header) + offset);
  }

  uint64_t node = 0, fh = 0;
};

// The vhost-user path: back end thread + server socket + fake front end.
class VhostUserPath : public Session<VhostUserPath> {
 public:
  VhostUserPath() : memory_(16 << 20) {
    auto device = share_.CreateDevice();
    const size_t queues = device->queue_max_sizes().size();
    loop_ = std::move(EventLoop::Create().value());
    backend_ = std::make_unique<vu::VhostUserBackend>(std::move(device), loop_.get());
    const std::string path = sockets_ / "fs.sock";
    auto server = vu::VhostUserServer::Listen(path, backend_.get(), loop_.get());
    if (!server.ok()) Die(server.error().message());
    server_ = std::move(*server);
    thread_ = std::thread([this] { (void)loop_->Run(); });
    auto front = fake::FakeFrontEnd::Connect(path);
    if (!front.ok()) Die(front.error().message());
    front_ = std::make_unique<fake::FakeFrontEnd>(std::move(*front));
    front_->set_on_error([](const std::string& message) { Die(message); });
    for (size_t i = 0; i < queues; ++i) {
      rings_.push_back(std::make_unique<fake::DriverRing>(
          memory_, memory_.Alloc(fake::DriverRing::Footprint(kRingSize), 4096), kRingSize));
      fds_.push_back(std::make_unique<fake::RingFds>());
    }
    Start();
    request_area_ = memory_.Alloc(kArea, 4096);
    reply_area_ = memory_.Alloc(kArea, 4096);
    Setup();
  }
  ~VhostUserPath() {
    front_.reset();  // the VMM goes away
    loop_->Stop();
    thread_.join();
    server_.reset();
    backend_.reset();
  }

  void Place(std::span<const uint8_t> request) { memory_.Write(request_area_, request); }
  // The placed request (split after its header, as FsHarness does) and a
  // reply buffer: used length, or -1 when the chain did not come back.
  int64_t Submit(size_t request_size, uint32_t reply_size) {
    const uint32_t first = static_cast<uint32_t>(std::min(request_size, sizeof(fuse_in_header)));
    fake::Buffer readable[2] = {
        {request_area_, first},
        {request_area_ + first, static_cast<uint32_t>(request_size - first)}};
    fake::Buffer writable[1] = {{reply_area_, reply_size}};
    auto used =
        front_->Call(*rings_[kRequestQueue], *fds_[kRequestQueue],
                     std::span(readable, request_size > first ? 2 : 1), writable, kTimeoutMs);
    return used ? static_cast<int64_t>(used->length) : -1;
  }
  void ReadReply(void* out, size_t bytes, size_t offset) {
    std::memcpy(out, memory_.host(reply_area_ + offset), bytes);
  }

 private:
  // QEMU's start sequence; EVENT_IDX is not negotiated, so every used
  // buffer is signalled.
  void Start() {
    auto offered = front_->Negotiate(vk::virtio::kFeatureVersion1 | vu::kFeatureProtocolFeatures);
    if (!offered.ok || !front_->SetMemTable(memory_)) Die("negotiation failed");
    for (uint32_t i = 0; i < rings_.size(); ++i) {
      if (!front_->StartRing(i, *rings_[i], *fds_[i])) Die("ring start failed");
    }
    for (uint32_t i = 0; i < rings_.size(); ++i) {
      if (!front_->EnableRing(i)) Die("ring enable failed");
    }
    if (!backend_->activated()) Die("device not activated");
  }

  Share share_;
  TempDir sockets_;
  fake::SharedMemory memory_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<vu::VhostUserBackend> backend_;
  std::unique_ptr<vu::VhostUserServer> server_;
  std::thread thread_;
  std::unique_ptr<fake::FakeFrontEnd> front_;
  std::vector<std::unique_ptr<fake::DriverRing>> rings_;
  std::vector<std::unique_ptr<fake::RingFds>> fds_;
  uint64_t request_area_ = 0, reply_area_ = 0;
};

// The built-in device with the VMM's notification path: a kick eventfd
// (ioeventfd) wakes the device thread, which processes the queue under the
// device lock and writes a call eventfd (irqfd).
class EventfdPath : public Session<EventfdPath> {
 public:
  EventfdPath() : guest_(16 << 20) {
    device_ = share_.CreateDevice();
    for (uint16_t size : device_->queue_max_sizes()) queues_.emplace_back(size);
    for (auto& queue : queues_) {
      vqs_.push_back(std::make_unique<vk::virtio::testing::FakeVirtqueue>(guest_, queue));
    }
    loop_ = std::move(EventLoop::Create().value());
    vk::virtio::DeviceContext context;
    context.memory = &guest_.memory();
    context.queues = queues_;
    context.interrupt = &interrupt_;
    context.loop = loop_.get();
    context.lock = &lock_;
    context.driver_features = vk::virtio::kFeatureVersion1;
    if (!device_->Activate(context).ok()) Die("activate");
    auto added = loop_->Add(fds_.kick(), EPOLLIN, [this](uint32_t) { OnKick(); });
    if (!added.ok()) Die(added.error().message());
    thread_ = std::thread([this] { (void)loop_->Run(); });
    request_area_ = guest_.Alloc(kArea, 4096);
    reply_area_ = guest_.Alloc(kArea, 4096);
    Setup();
  }
  ~EventfdPath() {
    loop_->Stop();
    thread_.join();
    loop_->Remove(fds_.kick());
  }

  void Place(std::span<const uint8_t> request) { guest_.Write(request_area_, request); }
  int64_t Submit(size_t request_size, uint32_t reply_size) {
    auto& vq = *vqs_.at(kRequestQueue);
    vk::virtio::fs::testing::SetFuseChain(vq, request_area_, request_size, reply_area_, reply_size);
    std::atomic_thread_fence(std::memory_order_release);
    vq.Publish(0);
    fds_.Kick();
    if (!fds_.WaitCall(kTimeoutMs)) return -1;
    std::atomic_thread_fence(std::memory_order_acquire);
    auto used = vq.NextUsed();
    return used ? static_cast<int64_t>(used->length) : -1;
  }
  void ReadReply(void* out, size_t bytes, size_t offset) {
    std::memcpy(out, guest_.host(reply_area_ + offset), bytes);
  }

 private:
  class CallInterrupt : public vk::virtio::Interrupt {
   public:
    explicit CallInterrupt(const fake::RingFds* fds) : fds_(fds) {}
    void Trigger(Reason) override {
      const uint64_t one = 1;
      ssize_t written = ::write(fds_->call(), &one, sizeof(one));
      (void)written;
    }

   private:
    const fake::RingFds* fds_;  // non-owning
  };
  void OnKick() {
    uint64_t count;
    while (::read(fds_.kick(), &count, sizeof(count)) > 0) {
    }
    std::lock_guard lock(lock_);
    device_->ProcessQueue(kRequestQueue);
  }

  Share share_;
  vk::virtio::testing::FakeGuest guest_;
  std::vector<vk::virtio::Queue> queues_;
  std::vector<std::unique_ptr<vk::virtio::testing::FakeVirtqueue>> vqs_;
  fake::RingFds fds_;  // the request queue's kick and call
  CallInterrupt interrupt_{&fds_};
  std::mutex lock_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<vk::virtio::VirtioDevice> device_;
  std::thread thread_;
  uint64_t request_area_ = 0, reply_area_ = 0;
};

// The operations of bench/fs_server.cc, on either path.
template <typename Path>
void LookupGetattr(benchmark::State& state) {
  Path f;
  auto lookup = Req(FUSE_LOOKUP, FUSE_ROOT_ID).Str("file").Build(1);
  auto getattr = Req(FUSE_GETATTR, f.node).Arg(fuse_getattr_in{}).Build(2);
  for (auto _ : state) {
    f.Place(lookup);
    benchmark::DoNotOptimize(f.Submit(lookup.size(), 4096));
    f.Place(getattr);
    benchmark::DoNotOptimize(f.Submit(getattr.size(), 4096));
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Path>
void Read(benchmark::State& state) {
  Path f;
  const uint32_t size = static_cast<uint32_t>(state.range(0));
  uint64_t offset = 0;
  for (auto _ : state) {
    auto read = Req(FUSE_READ, f.node).Arg(fuse_read_in{f.fh, offset, size, 0, 0, 0, 0}).Build(3);
    f.Place(read);
    if (f.Submit(read.size(), size + sizeof(fuse_out_header)) != size + 16) Die("short read");
    offset = (offset + size) % kFileSize;
  }
  state.SetBytesProcessed(state.iterations() * size);
}

template <typename Path>
void Write(benchmark::State& state) {
  Path f;
  const uint32_t size = static_cast<uint32_t>(state.range(0));
  std::vector<uint8_t> data(size, 'w');
  // The payload is placed once; each iteration rewrites only the header+args.
  auto write = Req(FUSE_WRITE, f.node).Arg(fuse_write_in{f.fh, 0, size, 0, 0, 0, 0}).Raw(data);
  auto bytes = write.Build(4);
  f.Place(bytes);
  uint64_t offset = 0;
  constexpr size_t kArgs = sizeof(fuse_in_header) + sizeof(fuse_write_in);
  for (auto _ : state) {
    std::memcpy(bytes.data() + sizeof(fuse_in_header) + 8, &offset, 8);
    f.Place(std::span(bytes).first(kArgs));
    if (f.Submit(bytes.size(), 4096) <= 0) Die("write failed");
    offset = (offset + size) % kFileSize;
  }
  state.SetBytesProcessed(state.iterations() * size);
}

void BM_VhostUserLookupGetattr(benchmark::State& state) { LookupGetattr<VhostUserPath>(state); }
void BM_VhostUserRead(benchmark::State& state) { Read<VhostUserPath>(state); }
void BM_VhostUserWrite(benchmark::State& state) { Write<VhostUserPath>(state); }
void BM_FsEventfdLookupGetattr(benchmark::State& state) { LookupGetattr<EventfdPath>(state); }
void BM_FsEventfdRead(benchmark::State& state) { Read<EventfdPath>(state); }
void BM_FsEventfdWrite(benchmark::State& state) { Write<EventfdPath>(state); }

BENCHMARK(BM_VhostUserLookupGetattr)->UseRealTime();
BENCHMARK(BM_VhostUserRead)->Arg(4096)->Arg(1 << 20)->UseRealTime();
BENCHMARK(BM_VhostUserWrite)->Arg(4096)->Arg(1 << 20)->UseRealTime();
BENCHMARK(BM_FsEventfdLookupGetattr)->UseRealTime();
BENCHMARK(BM_FsEventfdRead)->Arg(4096)->Arg(1 << 20)->UseRealTime();
BENCHMARK(BM_FsEventfdWrite)->Arg(4096)->Arg(1 << 20)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
