// Fuzzes what QEMU sends the supervising vk over QMP (runtime/qmp_client.h):
// the input is the byte stream after the handshake, events and replies as
// QEMU writes them, one JSON object per line. A QEMU that runs a hostile
// guest is not trusted to be well-formed: every line must either become an
// event or a sticky error, never a crash or unbounded memory.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "base/unique_fd.h"
#include "runtime/qmp_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A socket buffer holds the whole input only when it is small; the
  // client reads lines, so 64 KiB covers every shape of line and event.
  if (size > 64 * 1024) return 0;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return 0;
  vk::UniqueFd ours(pair[0]), qemu(pair[1]);
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(qemu.get(), data + done, size - done);
    if (n <= 0) return 0;
    done += static_cast<size_t>(n);
  }
  qemu.Reset();  // QEMU exits: EOF after the input
  auto client = vk::QmpClient::AdoptNegotiated(std::move(ours));
  if (!client.ok()) return 0;
  for (int i = 0; i < 64 && !client->closed(); ++i) {
    if (!client->ReadEvents().ok()) break;
  }
  return 0;
}
