#include "virtio/console/multiport_console_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>

#include "base/terminal_resize.h"
#include "base/unique_fd.h"
#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::FakeDeviceContext;
using testing::FakeGuest;
using testing::FakeVirtqueue;
using vcon::ControlHeader;

constexpr uint32_t kControlBuffer = 4096;  // what Linux posts (PAGE_SIZE)

std::vector<uint8_t> Message(uint32_t id, uint16_t event, uint16_t value,
                             std::string_view tail = {}) {
  ControlHeader header{.id = id, .event = event, .value = value};
  std::vector<uint8_t> bytes(sizeof(header) + tail.size());
  std::memcpy(bytes.data(), &header, sizeof(header));
  // (not vector::insert: g++ 12 -O2 reports a false -Warray-bounds there)
  if (!tail.empty()) std::memcpy(bytes.data() + sizeof(header), tail.data(), tail.size());
  return bytes;
}

std::pair<UniqueFd, UniqueFd> Pipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string ReadAll(int fd) {
  char buffer[256];
  ssize_t n = ::read(fd, buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

// Everything a non-blocking fd has to read now.
std::string Drain(int fd) {
  std::string out;
  char buffer[8192];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

// Shrinks a non-blocking pipe to one page and fills it; returns the bytes
// it took.
size_t FillPipe(int write_fd) {
  EXPECT_GE(::fcntl(write_fd, F_SETPIPE_SZ, 4096), 0);
  std::vector<uint8_t> filler(4096, 'f');
  size_t total = 0;
  for (size_t chunk : {filler.size(), size_t{1}}) {
    ssize_t n;
    while ((n = ::write(write_fd, filler.data(), chunk)) > 0) total += static_cast<size_t>(n);
    EXPECT_EQ(errno, EAGAIN);
  }
  return total;
}

size_t OpenFds() {
  auto fds = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<size_t>(std::distance(begin(fds), end(fds)));
}

std::vector<uint8_t> Bytes(size_t count, char c) { return std::vector<uint8_t>(count, c); }

// Three ports: 0 an hvc console with input and output pipes, 1 a named
// port with separate pipes, 2 a named port on one socket (in and out).
class MultiportConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::tie(in0_read_, in0_write_) = Pipe();
    std::tie(out0_read_, out0_write_) = Pipe();
    std::tie(in1_read_, in1_write_) = Pipe();
    std::tie(out1_read_, out1_write_) = Pipe();
    int sockets[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sockets), 0);
    socket_device_.Reset(sockets[0]);
    socket_peer_.Reset(sockets[1]);
    loop_ = std::move(EventLoop::Create().value());
    MultiportConsoleConfig config;
    config.ports = {
        {.input_fd = in0_read_.get(), .output_fd = out0_write_.get(), .console = true},
        {.name = "org.vk.exec", .input_fd = in1_read_.get(), .output_fd = out1_write_.get()},
        {.name = "agent", .input_fd = socket_device_.get(), .output_fd = socket_device_.get()},
    };
    auto created = CreateMultiportConsoleDevice(std::move(config));
    ASSERT_TRUE(created.ok()) << created.error().message();
    device_ = std::move(*created);
    for (size_t i = 0; i < queues_.size(); ++i) {
      vqs_.push_back(std::make_unique<FakeVirtqueue>(guest_, queues_[i]));
    }
    context_ = std::make_unique<FakeDeviceContext>(guest_, std::span(queues_), loop_.get());
    ASSERT_TRUE(device_->Activate(context_->context).ok());
  }
  void TearDown() override { device_.reset(); }

  FakeVirtqueue& vq(size_t index) { return *vqs_[index]; }
  void Send(const std::vector<uint8_t>& message) {
    vq(vcon::kControlTransmitQueue).AddChain({message}, {});
    device_->ProcessQueue(vcon::kControlTransmitQueue);
  }
  void PostControlBuffers(int count) {
    for (int i = 0; i < count; ++i) vq(vcon::kControlReceiveQueue).AddChain({}, {kControlBuffer});
    device_->ProcessQueue(vcon::kControlReceiveQueue);
  }
  // The control messages the device returned since the last call.
  std::vector<std::vector<uint8_t>> Received() {
    std::vector<std::vector<uint8_t>> messages;
    FakeVirtqueue& rx = vq(vcon::kControlReceiveQueue);
    while (auto used = rx.NextUsed()) {
      auto bytes = rx.Written(static_cast<uint16_t>(used->id));
      bytes.resize(used->length);
      messages.push_back(bytes);
    }
    return messages;
  }
  // Driver side of add_port for `id` (PORT_READY), optionally opened by a
  // guest process (PORT_OPEN 1).
  void AddPort(uint32_t id, bool open) {
    Send(Message(id, vcon::kPortReady, 1));
    if (open) Send(Message(id, vcon::kPortOpen, 1));
  }
  void RunLoop() {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop_->RunOnce(10).ok());
  }

  UniqueFd in0_read_, in0_write_, out0_read_, out0_write_;
  UniqueFd in1_read_, in1_write_, out1_read_, out1_write_;
  UniqueFd socket_device_, socket_peer_;
  FakeGuest guest_;
  std::vector<Queue> queues_ = std::vector<Queue>(8, Queue(64));
  std::vector<std::unique_ptr<FakeVirtqueue>> vqs_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeDeviceContext> context_;
  std::unique_ptr<VirtioDevice> device_;
};

TEST_F(MultiportConsoleTest, FeaturesQueuesAndConfigSpace) {
  EXPECT_EQ(device_->features(), vcon::kFeatureMultiport);
  EXPECT_EQ(device_->queue_max_sizes().size(), 8u);
  uint8_t config[12];
  std::memset(config, 0xff, sizeof(config));
  device_->ReadConfig(0, config);
  const uint8_t expected[12] = {0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::memcmp(config, expected, sizeof(config)), 0);
  uint8_t max_nr_ports[4];
  device_->ReadConfig(4, max_nr_ports);
  EXPECT_EQ(max_nr_ports[0], 3);
  uint8_t beyond[4] = {1, 1, 1, 1};
  device_->ReadConfig(12, beyond);
  EXPECT_EQ(beyond[0] | beyond[1] | beyond[2] | beyond[3], 0);
  EXPECT_EQ(vcon::ReceiveQueue(2), 6u);
  EXPECT_EQ(vcon::TransmitQueue(2), 7u);
}

TEST_F(MultiportConsoleTest, Handshake) {
  PostControlBuffers(16);
  Send(Message(0, vcon::kDeviceReady, 1));
  auto added = Received();
  ASSERT_EQ(added.size(), 3u);
  for (uint32_t id = 0; id < 3; ++id) EXPECT_EQ(added[id], Message(id, vcon::kDeviceAdd, 1));

  Send(Message(0, vcon::kPortReady, 1));
  auto console = Received();
  ASSERT_EQ(console.size(), 2u);
  EXPECT_EQ(console[0], Message(0, vcon::kConsolePort, 1));
  EXPECT_EQ(console[1], Message(0, vcon::kPortOpen, 1));

  Send(Message(1, vcon::kPortReady, 1));
  auto named = Received();
  ASSERT_EQ(named.size(), 2u);
  // The name follows the header in the same buffer, without a NUL.
  EXPECT_EQ(named[0], Message(1, vcon::kPortName, 1, "org.vk.exec"));
  EXPECT_EQ(named[0].size(), 8u + 11u);
  EXPECT_EQ(named[1], Message(1, vcon::kPortOpen, 1));

  // The driver's own notes are consumed without a reply.
  Send(Message(1, vcon::kPortOpen, 1));
  Send(Message(2, vcon::kPortReady, 0));  // the guest failed to add port 2
  EXPECT_TRUE(Received().empty());
  EXPECT_EQ(vq(vcon::kControlTransmitQueue).UsedIdx(), 5);
}

TEST_F(MultiportConsoleTest, ControlMessagesWaitForReceiveBuffers) {
  Send(Message(0, vcon::kDeviceReady, 1));
  EXPECT_TRUE(Received().empty());
  PostControlBuffers(2);
  auto first = Received();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], Message(0, vcon::kDeviceAdd, 1));
  EXPECT_EQ(first[1], Message(1, vcon::kDeviceAdd, 1));
  PostControlBuffers(2);
  auto rest = Received();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], Message(2, vcon::kDeviceAdd, 1));
}

TEST_F(MultiportConsoleTest, PendingControlMessagesAreBounded) {
  // A driver repeating DEVICE_READY without posting buffers.
  for (int i = 0; i < 200; ++i) Send(Message(0, vcon::kDeviceReady, 1));
  PostControlBuffers(64);
  PostControlBuffers(64);
  PostControlBuffers(64);
  EXPECT_EQ(Received().size(), 5u * kMaxConsolePorts);
}

TEST_F(MultiportConsoleTest, GuestOutputReachesEachPortsFd) {
  auto bytes = [](std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  vq(vcon::TransmitQueue(0)).AddChain({bytes("boot log\n")}, {});
  vq(vcon::TransmitQueue(1)).AddChain({bytes("exec "), bytes("reply")}, {});
  vq(vcon::TransmitQueue(2)).AddChain({bytes("to the agent socket")}, {});
  for (uint32_t id = 0; id < 3; ++id) device_->ProcessQueue(vcon::TransmitQueue(id));
  EXPECT_EQ(ReadAll(out0_read_.get()), "boot log\n");
  EXPECT_EQ(ReadAll(out1_read_.get()), "exec reply");
  EXPECT_EQ(ReadAll(socket_peer_.get()), "to the agent socket");
  for (uint32_t id = 0; id < 3; ++id) EXPECT_TRUE(vq(vcon::TransmitQueue(id)).NextUsed());
}

TEST_F(MultiportConsoleTest, FullNonBlockingOutputHoldsChainsBackAndLosesNothing) {
  size_t filled = FillPipe(out1_write_.get());
  FakeVirtqueue& tx = vq(vcon::TransmitQueue(1));
  std::string expected;
  for (char c : {'a', 'b', 'c'}) {
    tx.AddChain({Bytes(3000, c)}, {});
    expected += std::string(3000, c);
  }
  device_->ProcessQueue(vcon::TransmitQueue(1));
  // The first chain is taken, its bytes kept on the host; the others stay
  // in the ring, so the guest cannot outrun the pipe.
  ASSERT_TRUE(tx.NextUsed());
  EXPECT_FALSE(tx.NextUsed());
  RunLoop();  // the pipe is still full: nothing moves
  EXPECT_FALSE(tx.NextUsed());
  ASSERT_EQ(Drain(out1_read_.get()), std::string(filled, 'f'));

  std::string out;
  int used = 1;
  for (int i = 0; i < 100 && out.size() < expected.size(); ++i) {
    ASSERT_TRUE(loop_->RunOnce(10).ok());
    out += Drain(out1_read_.get());
    while (tx.NextUsed()) ++used;
  }
  ASSERT_EQ(out.size(), expected.size());
  EXPECT_TRUE(out == expected);  // in order, nothing lost
  EXPECT_EQ(used, 3);
}

TEST_F(MultiportConsoleTest, BlockingOutputTakesWholeChainsAtOnce) {
  // Port 1's pipe made blocking (the flag belongs to the open pipe, so the
  // device's fd blocks too), smaller than the chain, with a reader.
  ASSERT_EQ(::fcntl(out1_write_.get(), F_SETFL, 0), 0);
  ASSERT_EQ(::fcntl(out1_read_.get(), F_SETFL, 0), 0);
  ASSERT_GE(::fcntl(out1_write_.get(), F_SETPIPE_SZ, 4096), 0);
  std::string expected = std::string(20000, 'x') + "tail";
  std::string out;
  std::thread reader([&] {
    char buffer[4096];
    pollfd readable{.fd = out1_read_.get(), .events = POLLIN};
    while (out.size() < expected.size() && ::poll(&readable, 1, 2000) == 1) {
      ssize_t n = ::read(out1_read_.get(), buffer, sizeof(buffer));
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
  });
  FakeVirtqueue& tx = vq(vcon::TransmitQueue(1));
  tx.AddChain({Bytes(20000, 'x')}, {});
  tx.AddChain({{'t', 'a', 'i', 'l'}}, {});
  device_->ProcessQueue(vcon::TransmitQueue(1));  // returns once the pipe took it all
  EXPECT_TRUE(tx.NextUsed());
  EXPECT_TRUE(tx.NextUsed());
  reader.join();
  EXPECT_TRUE(out == expected);
}

TEST_F(MultiportConsoleTest, ResetDropsPendingOutputAndItsWatch) {
  size_t fds = OpenFds();
  FillPipe(out1_write_.get());
  FakeVirtqueue& tx = vq(vcon::TransmitQueue(1));
  tx.AddChain({Bytes(3000, 'a')}, {});
  tx.AddChain({Bytes(100, 'b')}, {});
  device_->ProcessQueue(vcon::TransmitQueue(1));
  ASSERT_TRUE(tx.NextUsed());
  ASSERT_FALSE(tx.NextUsed());
  EXPECT_EQ(OpenFds(), fds + 1);  // the dup of the output fd watched for EPOLLOUT
  device_->Reset();
  EXPECT_EQ(OpenFds(), fds);
  Drain(out1_read_.get());
  // Writable now, but nothing is watched any more: the loop idles out its
  // timeout (a stale EPOLLOUT registration would wake it at once) and
  // writes nothing.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(loop_->RunOnce(100).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90));
  EXPECT_EQ(Drain(out1_read_.get()), "");
  // The next activation writes again (the fake ring, unlike a reset
  // transport's, still holds the second chain).
  ASSERT_TRUE(device_->Activate(context_->context).ok());
  device_->ProcessQueue(vcon::TransmitQueue(1));
  EXPECT_EQ(Drain(out1_read_.get()), std::string(100, 'b'));
  EXPECT_TRUE(tx.NextUsed());
}

TEST_F(MultiportConsoleTest, HostInputWaitsForTheGuestToOpenAPort) {
  PostControlBuffers(16);
  Send(Message(0, vcon::kDeviceReady, 1));
  AddPort(1, /*open=*/false);
  FakeVirtqueue& rx = vq(vcon::ReceiveQueue(1));
  uint16_t head = rx.AddChain({}, {64});
  device_->ProcessQueue(vcon::ReceiveQueue(1));
  ASSERT_EQ(::write(in1_write_.get(), "typed", 5), 5);
  RunLoop();
  // Linux's in_intr would discard it (discard_port_data): it stays in the pipe.
  EXPECT_FALSE(rx.NextUsed());
  Send(Message(1, vcon::kPortOpen, 1));
  RunLoop();
  auto used = rx.NextUsed();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, head);
  ASSERT_EQ(used->length, 5u);
  auto written = rx.Written(head);
  EXPECT_EQ(std::string(written.begin(), written.begin() + 5), "typed");
  // No other port got it.
  EXPECT_FALSE(vq(vcon::ReceiveQueue(0)).NextUsed());
  EXPECT_FALSE(vq(vcon::ReceiveQueue(2)).NextUsed());
}

TEST_F(MultiportConsoleTest, HostInputPausesWithoutBuffersAndResumes) {
  PostControlBuffers(16);
  AddPort(2, /*open=*/true);
  FakeVirtqueue& rx = vq(vcon::ReceiveQueue(2));
  ASSERT_EQ(::write(socket_peer_.get(), "first", 5), 5);
  RunLoop();  // no buffer posted: input pauses, the bytes stay in the socket
  EXPECT_FALSE(rx.NextUsed());
  uint16_t head = rx.AddChain({}, {3});
  device_->ProcessQueue(vcon::ReceiveQueue(2));
  RunLoop();
  auto used = rx.NextUsed();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->length, 3u);
  auto written = rx.Written(head);
  EXPECT_EQ(std::string(written.begin(), written.end()), "fir");
  RunLoop();  // the rest waits for the next buffer
  EXPECT_FALSE(rx.NextUsed());
  head = rx.AddChain({}, {64});
  device_->ProcessQueue(vcon::ReceiveQueue(2));
  RunLoop();
  used = rx.NextUsed();
  ASSERT_TRUE(used);
  ASSERT_EQ(used->length, 2u);
  written = rx.Written(head);
  EXPECT_EQ(std::string(written.begin(), written.begin() + 2), "st");
}

TEST_F(MultiportConsoleTest, ConsolePortTakesInputWithoutAnOpen) {
  PostControlBuffers(16);
  Send(Message(0, vcon::kPortReady, 1));  // an hvc: Linux counts it connected
  FakeVirtqueue& rx = vq(vcon::ReceiveQueue(0));
  uint16_t head = rx.AddChain({}, {16});
  ASSERT_EQ(::write(in0_write_.get(), "ls\n", 3), 3);
  RunLoop();
  auto used = rx.NextUsed();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->length, 3u);
  auto written = rx.Written(head);
  EXPECT_EQ(std::string(written.begin(), written.begin() + 3), "ls\n");
}

TEST_F(MultiportConsoleTest, EndOfInputClosesTheHostSide) {
  PostControlBuffers(16);
  AddPort(2, /*open=*/true);
  Received();
  vq(vcon::ReceiveQueue(2)).AddChain({}, {64});
  socket_peer_.Reset();
  RunLoop();
  auto closed = Received();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0], Message(2, vcon::kPortOpen, 0));
  // The buffer stays with the device unused: a 0-byte buffer is no EOF signal.
  EXPECT_FALSE(vq(vcon::ReceiveQueue(2)).NextUsed());
  // Output to the closed socket is EPIPE, not a SIGPIPE ending the process.
  vq(vcon::TransmitQueue(2)).AddChain({{'l', 'a', 't', 'e'}}, {});
  device_->ProcessQueue(vcon::TransmitQueue(2));
  EXPECT_TRUE(vq(vcon::TransmitQueue(2)).NextUsed());
}

TEST_F(MultiportConsoleTest, EndOfInputKeepsAPortWithItsOwnOutputOpen) {
  PostControlBuffers(16);
  AddPort(1, /*open=*/true);
  Received();
  vq(vcon::ReceiveQueue(1)).AddChain({}, {64});
  in1_write_.Reset();
  RunLoop();
  EXPECT_TRUE(Received().empty());  // guest writes must not block
}

TEST_F(MultiportConsoleTest, BadControlMessagesAreIgnored) {
  PostControlBuffers(16);
  FakeVirtqueue& tx = vq(vcon::kControlTransmitQueue);
  tx.AddChain({{1, 2, 3, 4}}, {});                     // short
  tx.AddChain({}, {8});                                // nothing readable
  tx.AddChain({Message(3, vcon::kPortReady, 1)}, {});  // no such port
  tx.AddChain({Message(0xffffffff, vcon::kPortOpen, 1)}, {});
  tx.AddChain({Message(1, 42, 1)}, {});                  // unknown event
  tx.AddChain({Message(1, vcon::kConsolePort, 1)}, {});  // device-to-driver only
  tx.AddChain({Message(0, vcon::kDeviceReady, 0)}, {});  // driver failure
  device_->ProcessQueue(vcon::kControlTransmitQueue);
  EXPECT_EQ(tx.UsedIdx(), 7);
  EXPECT_TRUE(Received().empty());
  // Split across descriptors is still one message.
  auto ready = Message(0, vcon::kDeviceReady, 1);
  tx.AddChain({{ready.begin(), ready.begin() + 3}, {ready.begin() + 3, ready.end()}}, {});
  device_->ProcessQueue(vcon::kControlTransmitQueue);
  EXPECT_EQ(Received().size(), 3u);
}

TEST_F(MultiportConsoleTest, ControlBufferTooSmallDropsTheMessage) {
  vq(vcon::kControlReceiveQueue).AddChain({}, {4});
  PostControlBuffers(1);
  Send(Message(0, vcon::kDeviceReady, 1));
  auto messages = Received();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].empty());
  EXPECT_EQ(messages[1], Message(1, vcon::kDeviceAdd, 1));
}

TEST_F(MultiportConsoleTest, ResetForgetsStateAndReactivates) {
  PostControlBuffers(4);
  AddPort(2, /*open=*/true);
  device_->Reset();
  EXPECT_TRUE(device_->Activate(context_->context).ok());
  Received();
  PostControlBuffers(4);
  Send(Message(0, vcon::kDeviceReady, 1));
  EXPECT_EQ(Received().size(), 3u);
}

TEST_F(MultiportConsoleTest, CannotBeCheckpointed) {
  StateWriter out;
  auto saved = device_->SaveState(out);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().message(), "a multiport console cannot be checkpointed");
  StateReader in({});
  EXPECT_FALSE(device_->RestoreState(in).ok());
}

TEST(MultiportConsoleSinglePortTest, WithoutMultiportPortZeroIsAPlainConsole) {
  FakeGuest guest;
  std::vector<Queue> queues(4, Queue(64));
  FakeVirtqueue rx(guest, queues[0]), tx(guest, queues[1]);
  auto loop = std::move(EventLoop::Create().value());
  FakeDeviceContext context(guest, std::span(queues), loop.get());
  context.context.driver_features = kFeatureVersion1;
  auto [in_read, in_write] = Pipe();
  auto device = CreateMultiportConsoleDevice({.ports = {{.input_fd = in_read.get()}}});
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE((*device)->Activate(context.context).ok());
  uint16_t head = rx.AddChain({}, {16});
  ASSERT_EQ(::write(in_write.get(), "x", 1), 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop->RunOnce(10).ok());
  auto used = rx.NextUsed();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->length, 1u);
}

// A console port on a host terminal: the guest's hvc gets the terminal's
// size once the port exists, and again on every SIGWINCH (here the
// handler's call, NotifyTerminalResized). A non-console port on a terminal
// gets none: Linux resizes hvc ports only.
TEST(MultiportConsoleTerminalTest, ConsolePortsOnATerminalFollowItsSize) {
  int master = -1, slave = -1;
  winsize size{.ws_row = 30, .ws_col = 100};
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, &size), 0);
  UniqueFd pty_master(master), pty_slave(slave);
  int other_master = -1, other_slave = -1;
  ASSERT_EQ(::openpty(&other_master, &other_slave, nullptr, nullptr, &size), 0);
  UniqueFd other_pty_master(other_master), other_pty_slave(other_slave);
  FakeGuest guest;
  std::vector<Queue> queues(6, Queue(64));
  std::vector<std::unique_ptr<FakeVirtqueue>> vqs;
  for (Queue& queue : queues) vqs.push_back(std::make_unique<FakeVirtqueue>(guest, queue));
  auto loop = std::move(EventLoop::Create().value());
  FakeDeviceContext context(guest, std::span(queues), loop.get());
  MultiportConsoleConfig config;
  config.ports = {{.input_fd = slave, .output_fd = slave, .console = true},
                  {.name = "tty", .input_fd = other_slave, .output_fd = other_slave}};
  auto device = CreateMultiportConsoleDevice(std::move(config));
  ASSERT_TRUE(device.ok()) << device.error().message();
  // Without F_SIZE Linux ignores every size (resize_console).
  EXPECT_EQ((*device)->features(), vcon::kFeatureMultiport | vcon::kFeatureSize);
  uint8_t space[4];
  (*device)->ReadConfig(0, space);  // cols, rows: port 0's terminal
  EXPECT_EQ(space[0] | space[1] << 8, 100);
  EXPECT_EQ(space[2] | space[3] << 8, 30);
  ASSERT_TRUE((*device)->Activate(context.context).ok());
  FakeVirtqueue& control_rx = *vqs[vcon::kControlReceiveQueue];
  for (int i = 0; i < 16; ++i) control_rx.AddChain({}, {kControlBuffer});
  (*device)->ProcessQueue(vcon::kControlReceiveQueue);
  auto send = [&](const std::vector<uint8_t>& message) {
    vqs[vcon::kControlTransmitQueue]->AddChain({message}, {});
    (*device)->ProcessQueue(vcon::kControlTransmitQueue);
  };
  auto received = [&] {
    std::vector<std::vector<uint8_t>> messages;
    while (auto used = control_rx.NextUsed()) {
      auto bytes = control_rx.Written(static_cast<uint16_t>(used->id));
      bytes.resize(used->length);
      messages.push_back(bytes);
    }
    return messages;
  };
  // struct virtio_console_resize: le16 cols, le16 rows.
  auto resize = [](uint16_t cols, uint16_t rows) {
    char tail[4] = {static_cast<char>(cols & 0xff), static_cast<char>(cols >> 8),
                    static_cast<char>(rows & 0xff), static_cast<char>(rows >> 8)};
    return Message(0, vcon::kResize, 0, std::string_view(tail, 4));
  };
  send(Message(0, vcon::kDeviceReady, 1));
  EXPECT_EQ(received().size(), 2u);  // DEVICE_ADD of both ports
  send(Message(0, vcon::kPortReady, 1));
  auto console = received();
  ASSERT_EQ(console.size(), 3u);
  EXPECT_EQ(console[0], Message(0, vcon::kConsolePort, 1));
  EXPECT_EQ(console[1], Message(0, vcon::kPortOpen, 1));
  EXPECT_EQ(console[2], resize(100, 30));
  send(Message(1, vcon::kPortReady, 1));
  EXPECT_EQ(received().size(), 2u);  // PORT_NAME, PORT_OPEN: no RESIZE

  size = {.ws_row = 50, .ws_col = 132};
  ASSERT_EQ(::ioctl(master, TIOCSWINSZ, &size), 0);
  ASSERT_EQ(::ioctl(other_master, TIOCSWINSZ, &size), 0);
  NotifyTerminalResized();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop->RunOnce(10).ok());
  auto resized = received();
  ASSERT_EQ(resized.size(), 1u);
  EXPECT_EQ(resized[0], resize(132, 50));

  // After a reset the device no longer watches: a resize reaches nobody.
  (*device)->Reset();
  NotifyTerminalResized();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop->RunOnce(10).ok());
  EXPECT_TRUE(received().empty());
}

TEST(MultiportConsoleCreateTest, RejectsBadConfigs) {
  MultiportConsoleConfig most;
  most.ports.resize(kMaxConsolePorts);
  most.ports[0].name = std::string(kMaxConsolePortNameBytes, 'n');
  EXPECT_TRUE(CreateMultiportConsoleDevice(most).ok());

  MultiportConsoleConfig too_many;
  too_many.ports.resize(kMaxConsolePorts + 1);
  EXPECT_FALSE(CreateMultiportConsoleDevice(too_many).ok());

  EXPECT_FALSE(CreateMultiportConsoleDevice({}).ok());
  auto with = [](std::vector<ConsolePortSpec> ports) {
    return CreateMultiportConsoleDevice({.ports = std::move(ports)}).ok();
  };
  EXPECT_FALSE(with({{.name = std::string(kMaxConsolePortNameBytes + 1, 'n')}}));
  EXPECT_FALSE(with({{.name = std::string("a\0b", 3)}}));
  EXPECT_FALSE(with({{.name = "same"}, {.name = "same"}}));
  EXPECT_FALSE(with({{.input_fd = 5}, {.input_fd = 5}}));
  EXPECT_TRUE(with({{.input_fd = 5, .output_fd = 5}, {.output_fd = 5}}));
}

}  // namespace
}  // namespace vk::virtio
