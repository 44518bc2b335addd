// The client half of the virtctl protocol (virtctl.h), shared by the
// in-guest `virtctl` (over vsock) and the host's `vk fleet` (over the
// fleet's controller.sock): send one request on a connected stream, pass
// log chunks on as they come, return the final reply.
#pragma once

#include <functional>
#include <string_view>

#include "base/result.h"
#include "proto/virtctl.h"

namespace vk::proto {

// `on_log` gets each log chunk's text (logs requests); lines past
// kMaxVirtctlLine or a stream that ends before the final reply are errors.
Result<VirtctlReply> ExchangeVirtctl(int fd, const VirtctlRequest& request,
                                     const std::function<void(std::string_view)>& on_log);

}  // namespace vk::proto
