// vk-agent as PID 1 (docs/protocol.md, "Boot flow"): set up the machine,
// switch to the root disk, call the host over vsock for the command, serve
// it, then power off. Never returns.
#pragma once

namespace vk::agent {

[[noreturn]] void RunInit();

}  // namespace vk::agent
