// The descriptor of a NIC that krun_start_enter opens itself, just before
// the VM starts: a unix datagram socket named by path (krun_add_net_unixgram,
// krun_set_gvproxy_path) or a tap device named by interface
// (krun_add_net_tap). NICs given as an fd, and stream sockets by path (the
// runtime connects those), need none.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"
#include "capi/krun_config.h"

namespace vk::capi {

// An invalid fd when the context's NIC needs no descriptor from us. A
// unixgram socket is bound to $TMPDIR/krun-net-PID-N.sock (the peer answers
// there; libkrun's name, net/unixgram.rs) and greets with "VFKT" when the
// NIC has NET_FLAG_VFKIT or is gvproxy's. Errors carry the host's errno
// (EPERM for a tap the caller may not use).
Result<UniqueFd> OpenNicLink(const KrunConfig& config);

}  // namespace vk::capi
