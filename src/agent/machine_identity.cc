#include "agent/machine_identity.h"

#include <fcntl.h>
#include <linux/random.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "base/file_io.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

constexpr char kInterface[] = "eth0";
constexpr char kSysfs[] = "/sys";
constexpr char kDevPrefix[] = "/dev/";
// The host attaches the files right after the restore; 10 s is a host that
// forgot, not a slow one.
constexpr auto kDiskWait = std::chrono::seconds(10);
constexpr auto kDiskPollStep = std::chrono::milliseconds(5);
constexpr uint64_t kSizeFileMax = 64;  // a decimal sector count and a newline
constexpr uint64_t kNsPerSecond = 1'000'000'000;

// The sector count in a sysfs `size` file; nullopt when unreadable.
std::optional<uint64_t> ReadSectors(const std::string& path, std::string& why) {
  auto bytes = ReadFileBytes(path, kSizeFileMax);
  if (!bytes.ok()) {
    why = bytes.error().message();
    return std::nullopt;
  }
  std::string text(bytes->begin(), bytes->end());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto sectors = ParseUint(text);
  if (!sectors) why = StrFormat("{} holds '{}', not a number", path, text);
  return sectors;
}

}  // namespace

Result<void> AddEntropy(std::span<const uint8_t> entropy) {
  UniqueFd random(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (!random) return Error::FromErrno("open /dev/urandom");
  // struct rand_pool_info: entropy_count (bits), buf_size (bytes), buf.
  std::vector<uint32_t> storage(2 + (entropy.size() + 3) / 4);
  auto* info = reinterpret_cast<rand_pool_info*>(storage.data());
  info->entropy_count = static_cast<int>(entropy.size() * 8);
  info->buf_size = static_cast<int>(entropy.size());
  std::memcpy(info->buf, entropy.data(), entropy.size());
  if (::ioctl(random.get(), RNDADDENTROPY, info) < 0) {
    return Error::FromErrno(StrFormat("add {} bytes of entropy (RNDADDENTROPY)", entropy.size()));
  }
  if (::ioctl(random.get(), RNDRESEEDCRNG) < 0) {
    return Error::FromErrno("reseed the kernel's CRNG (RNDRESEEDCRNG)");
  }
  return Ok();
}

Result<void> SetWallClock(uint64_t ns_since_epoch) {
  timespec now{};
  now.tv_sec = static_cast<time_t>(ns_since_epoch / kNsPerSecond);
  now.tv_nsec = static_cast<long>(ns_since_epoch % kNsPerSecond);
  if (::clock_settime(CLOCK_REALTIME, &now) < 0) {
    return Error::FromErrno(StrFormat("set the clock to {} s since the epoch", now.tv_sec));
  }
  return Ok();
}

Result<void> SetMacAddress(const std::string& interface, std::span<const uint8_t> mac) {
  ifreq request{};
  if (mac.size() != proto::kMacSize || interface.size() >= IFNAMSIZ) {
    return Error(StrFormat("set {}'s MAC: {} bytes", interface, mac.size()));
  }
  std::memcpy(request.ifr_name, interface.data(), interface.size());
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno("socket for setting a MAC address");
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) < 0) {
    return Error::FromErrno(StrFormat("find interface {} (VM without a network?)", interface));
  }
  // A running link would have announced the template's address already.
  if ((request.ifr_flags & IFF_UP) != 0) {
    return Error(StrFormat("set {}'s MAC: the link is already up", interface));
  }
  request.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(request.ifr_hwaddr.sa_data, mac.data(), mac.size());
  if (::ioctl(sock.get(), SIOCSIFHWADDR, &request) < 0) {
    return Error::FromErrno(StrFormat("set {}'s MAC (SIOCSIFHWADDR)", interface));
  }
  return Ok();
}

Result<void> WaitForDiskCapacity(const std::string& sysfs_root, const std::string& device,
                                 std::chrono::milliseconds timeout) {
  const std::string name = StartsWith(device, kDevPrefix) ? device.substr(5) : "";
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return Error(StrFormat("disk {} is not /dev/NAME", device));
  }
  const std::string path = sysfs_root + "/class/block/" + name + "/size";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string why = "capacity 0";
  while (true) {
    auto sectors = ReadSectors(path, why);
    if (sectors && *sectors != 0) return Ok();
    if (sectors) why = "capacity 0";
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kDiskPollStep);
  }
  return Error(StrFormat("disk {} not ready after {} ms ({}): did the host attach its file?",
                         device, timeout.count(), why));
}

Result<void> ApplyAssignmentToMachine(const proto::Assignment& assignment,
                                      const InitParams& params) {
  VK_TRY(AddEntropy(assignment.entropy));
  VK_TRY(SetWallClock(assignment.wall_clock_ns));
  if (!assignment.mac.empty()) VK_TRY(SetMacAddress(kInterface, assignment.mac));
  for (const std::string& disk : {params.root, params.overlay}) {
    if (StartsWith(disk, kDevPrefix)) {
      VK_TRY(WaitForDiskCapacity(kSysfs, disk,
                                 std::chrono::duration_cast<std::chrono::milliseconds>(kDiskWait)));
    }
  }
  return Ok();
}

}  // namespace vk::agent
