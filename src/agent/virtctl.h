// `virtctl`: vk-agent run under that name (a fleet's `vm-symlinks` expose it
// as /usr/local/bin/virtctl) or as `vk-agent virtctl ARGS...`. Inside a
// `vk fleet` VM it asks the fleet controller on the host to list, inspect,
// start, stop, restart or tail the fleet's units (proto/virtctl.h; the host
// decides who may: only the dev VM may change units).
//
//   virtctl list                     NAME STATE HEALTH ADDRESS RESTARTS PORTS
//   virtctl status UNIT              key: value lines
//   virtctl start|stop|restart UNIT  the controller's message
//   virtctl logs [-f] UNIT           the unit's output, raw, to stdout
//   virtctl down                     stops the whole fleet
//
// It connects to the host (vsock CID 2) on proto::kVirtctlPort, or to the
// unix socket named by $VIRTCTL_SOCKET when that is set (tests; a host-side
// stand-in). Exit status: 0 done, 1 refused or unreachable, 2 bad usage.
#pragma once

#include <string_view>

namespace vk::agent {

inline constexpr char kVirtctlSocketEnv[] = "VIRTCTL_SOCKET";

// Whether argv[0] calls for virtctl: its base name is "virtctl".
bool InvokedAsVirtctl(std::string_view argv0);

// argv[0] is the program name ("virtctl"); the rest as in the usage above.
int RunVirtctl(int argc, char** argv);

}  // namespace vk::agent
