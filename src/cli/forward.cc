// `vk forward [--vsock] NAME [HOSTIP:]HOSTPORT:GUESTPORT`: a host TCP port
// forwarded to a guest TCP port (through the agent's relay) or, with --vsock,
// to a guest vsock port; one byte pump per connection, until interrupted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "base/fd_io.h"
#include "base/strings.h"
#include "cli/command.h"
#include "cli/guest_port.h"

namespace vk::cli {
namespace {

struct Spec {
  std::string host_ip = "127.0.0.1";
  uint16_t host_port = 0;
  uint32_t guest_port = 0;
};

Result<Spec> ParseSpec(const std::string& text) {
  std::vector<std::string> parts = Split(text, ':');
  Spec spec;
  if (parts.size() == 3) spec.host_ip = parts[0], parts.erase(parts.begin());
  auto host = parts.size() == 2 ? ParseUint(parts[0]) : std::nullopt;
  auto guest = parts.size() == 2 ? ParseUint(parts[1]) : std::nullopt;
  if (!host || !guest || *host == 0 || *host > 65535 || *guest == 0 || *guest > 0xffffffffu) {
    return Error("expected [HOSTIP:]HOSTPORT:GUESTPORT, got " + text);
  }
  spec.host_port = static_cast<uint16_t>(*host);
  spec.guest_port = static_cast<uint32_t>(*guest);
  return spec;
}

Result<UniqueFd> ListenTcp(const Spec& spec) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(spec.host_port);
  if (::inet_pton(AF_INET, spec.host_ip.c_str(), &address.sin_addr) != 1) {
    return Error("bad host address " + spec.host_ip);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd.get(), 64) != 0) {
    return Error::FromErrno("listen on " + spec.host_ip + ":" + std::to_string(spec.host_port));
  }
  return fd;
}

int Run(const std::string& name, const std::string& text, bool vsock) {
  auto spec = ParseSpec(text);
  auto listener = spec.ok() ? ListenTcp(*spec) : Result<UniqueFd>(spec.error());
  if (!listener.ok()) {
    std::fprintf(stderr, "vk forward: %s\n", listener.error().message().c_str());
    return kExitUsage;
  }
  if (!vsock && spec->guest_port > 65535) {
    std::fprintf(stderr, "vk forward: guest TCP port %u is out of range\n", spec->guest_port);
    return kExitUsage;
  }
  std::fprintf(stderr, "vk forward: %s:%u -> %s %s port %u (Ctrl-C to stop)\n",
               spec->host_ip.c_str(), spec->host_port, name.c_str(), vsock ? "vsock" : "TCP",
               spec->guest_port);
  while (true) {
    UniqueFd client(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    std::thread([name, vsock, port = spec->guest_port, client = std::move(client)]() mutable {
      auto guest =
          vsock ? ConnectGuestPort(name, port) : ConnectGuestTcp(name, static_cast<uint16_t>(port));
      if (!guest.ok()) {
        std::fprintf(stderr, "vk forward: %s\n", guest.error().message().c_str());
        return;
      }
      RelayBytes(client.get(), client.get(), guest->get());
    }).detach();
  }
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto spec = std::make_shared<std::string>();
  app.add_option("name", *name, "The VM")->required();
  auto vsock = std::make_shared<bool>(false);
  app.add_option("ports", *spec, "[HOSTIP:]HOSTPORT:GUESTPORT")->required();
  app.add_flag("--vsock", *vsock, "GUESTPORT is a guest vsock port, not a TCP port");
  return [=] { return Run(*name, *spec, *vsock); };
}

Command kForward("forward", "Forward a host TCP port to a guest TCP (or vsock) port", &Setup);

}  // namespace
}  // namespace vk::cli
