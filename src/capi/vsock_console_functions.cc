// vsock (krun_add_vsock_port*, krun_add_vsock, krun_disable_implicit_vsock)
// and consoles (krun_set_console_output, krun_set_kernel_console,
// krun_disable_implicit_console, krun_add_*_console_*, krun_add_console_port_*).
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "capi/c_args.h"
#include "capi/context_store.h"
#include "libkrun.h"

using vk::capi::ConsoleKind;
using vk::capi::ConsolePort;
using vk::capi::ConsolePortKind;
using vk::capi::EditContext;
using vk::capi::KrunConfig;
using vk::capi::Refuse;
using vk::capi::VsockMode;

namespace {

// sockaddr_un's sun_path holds 107 bytes and the NUL.
constexpr size_t kMaxSocketPathBytes = 107;
// Bounds on what a loop of calls can make us hold.
constexpr size_t kMaxVsockPorts = 1024;
constexpr size_t kMaxConsoles = 16;
using vk::capi::kMaxConsolePortNameBytes;
using vk::capi::kMaxConsolePorts;
using vk::capi::kMaxSerialConsoles;
constexpr size_t kMaxConsoleIdBytes = 32;

// A console name goes into the kernel command line as one "console=" word.
bool IsConsoleWord(const std::string& word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ',' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

int32_t AddVirtioConsole(const char* function, uint32_t ctx_id, vk::capi::VirtioConsole console) {
  return EditContext(function, ctx_id, [&](KrunConfig& config) -> int32_t {
    if (config.virtio_consoles.size() >= kMaxConsoles) {
      return Refuse(function, ENOSPC, fmt::format("more than {} consoles", kMaxConsoles));
    }
    config.virtio_consoles.push_back(std::move(console));
    return static_cast<int32_t>(config.virtio_consoles.size() - 1);
  });
}

int32_t AddConsolePort(const char* function, uint32_t ctx_id, uint32_t console_id, const char* name,
                       ConsolePort port) {
  if (name != nullptr) {
    auto text = vk::capi::ReadString(name, kMaxConsolePortNameBytes);
    if (!text) return Refuse(function, text.error());
    port.name = std::move(*text);
  }
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    if (console_id >= config.virtio_consoles.size() ||
        config.virtio_consoles[console_id].kind != ConsoleKind::kMultiport) {
      return Refuse(function, EINVAL, fmt::format("console {} is not a multiport", console_id));
    }
    auto& ports = config.virtio_consoles[console_id].ports;
    if (ports.size() >= kMaxConsolePorts) {
      return Refuse(function, ENOSPC, fmt::format("more than {} ports", kMaxConsolePorts));
    }
    ports.push_back(std::move(port));
    return 0;
  });
}

}  // namespace

extern "C" int32_t krun_add_vsock_port(uint32_t ctx_id, uint32_t port, const char* c_filepath) {
  return krun_add_vsock_port2(ctx_id, port, c_filepath, false);
}

extern "C" int32_t krun_add_vsock_port2(uint32_t ctx_id, uint32_t port, const char* c_filepath,
                                        bool listen) {
  constexpr const char* kFunction = "krun_add_vsock_port2";
  auto path = vk::capi::ReadString(c_filepath, kMaxSocketPathBytes);
  if (!path) return Refuse(kFunction, path.error());
  if (path->empty()) return Refuse(kFunction, EINVAL, "c_filepath is empty");
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    if (!config.HasVsock()) return Refuse(kFunction, ENODEV, "the vsock device is disabled");
    struct stat info {};
    if (listen && ::lstat(path->c_str(), &info) == 0) {
      return Refuse(kFunction, EEXIST, *path + " exists: the library creates the socket");
    }
    if (!config.vsock_ports.contains(port) && config.vsock_ports.size() >= kMaxVsockPorts) {
      return Refuse(kFunction, ENOSPC, fmt::format("more than {} ports", kMaxVsockPorts));
    }
    config.vsock_ports[port] = vk::capi::VsockPort{port, std::move(*path), listen};
    return 0;
  });
}

extern "C" int32_t krun_add_vsock(uint32_t ctx_id, uint32_t tsi_features) {
  constexpr const char* kFunction = "krun_add_vsock";
  if ((tsi_features & ~(KRUN_TSI_HIJACK_INET | KRUN_TSI_HIJACK_UNIX)) != 0) {
    return Refuse(kFunction, EINVAL, fmt::format("unknown TSI bits {:#x}", tsi_features));
  }
  if ((tsi_features & KRUN_TSI_HIJACK_UNIX) != 0) {
    return Refuse(kFunction, ENOTSUP, "KRUN_TSI_HIJACK_UNIX is not supported");
  }
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    if (config.vsock_mode != VsockMode::kDisabled) {
      return Refuse(kFunction, EEXIST, "a vsock device exists (krun_disable_implicit_vsock first)");
    }
    config.vsock_mode = VsockMode::kExplicit;
    config.tsi_features = tsi_features;
    return 0;
  });
}

extern "C" int32_t krun_disable_implicit_vsock(uint32_t ctx_id) {
  return EditContext("krun_disable_implicit_vsock", ctx_id, [](KrunConfig& config) {
    config.vsock_mode = VsockMode::kDisabled;
    config.tsi_features = 0;
    return 0;
  });
}

extern "C" int32_t krun_set_console_output(uint32_t ctx_id, const char* c_filepath) {
  constexpr const char* kFunction = "krun_set_console_output";
  auto path = vk::capi::ReadPath(c_filepath);
  if (!path) return Refuse(kFunction, path.error());
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    if (config.console_output) return Refuse(kFunction, EINVAL, "the console output is set");
    config.console_output = std::move(*path);
    return 0;
  });
}

extern "C" int32_t krun_set_kernel_console(uint32_t ctx_id, const char* console_id) {
  constexpr const char* kFunction = "krun_set_kernel_console";
  auto word = vk::capi::ReadString(console_id, kMaxConsoleIdBytes);
  if (!word) return Refuse(kFunction, word.error());
  // Anything else could add kernel parameters of its own to the command line.
  if (!IsConsoleWord(*word)) return Refuse(kFunction, EINVAL, "not a console name: " + *word);
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    config.kernel_console = std::move(*word);
    return 0;
  });
}

extern "C" int32_t krun_disable_implicit_console(uint32_t ctx_id) {
  return EditContext("krun_disable_implicit_console", ctx_id, [](KrunConfig& config) {
    config.implicit_console = false;
    return 0;
  });
}

extern "C" int32_t krun_add_virtio_console_default(uint32_t ctx_id, int input_fd, int output_fd,
                                                   int err_fd) {
  constexpr const char* kFunction = "krun_add_virtio_console_default";
  if (input_fd < -1 || output_fd < -1 || err_fd < -1) {
    return Refuse(kFunction, EINVAL, "a descriptor below -1");
  }
  int32_t id = AddVirtioConsole(kFunction, ctx_id,
                                {.kind = ConsoleKind::kDefault,
                                 .input_fd = input_fd,
                                 .output_fd = output_fd,
                                 .err_fd = err_fd});
  return id < 0 ? id : 0;
}

extern "C" int32_t krun_add_serial_console_default(uint32_t ctx_id, int input_fd, int output_fd) {
  constexpr const char* kFunction = "krun_add_serial_console_default";
  if (input_fd < -1 || output_fd < -1) return Refuse(kFunction, EINVAL, "a descriptor below -1");
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    if (config.serial_consoles.size() >= kMaxSerialConsoles) {
      return Refuse(kFunction, ENOSPC, "ttyS0-ttyS3 are all in use");
    }
    config.serial_consoles.push_back({input_fd, output_fd});
    return 0;
  });
}

extern "C" int32_t krun_add_virtio_console_multiport(uint32_t ctx_id) {
  return AddVirtioConsole("krun_add_virtio_console_multiport", ctx_id,
                          {.kind = ConsoleKind::kMultiport});
}

extern "C" int32_t krun_add_console_port_tty(uint32_t ctx_id, uint32_t console_id, const char* name,
                                             int tty_fd) {
  constexpr const char* kFunction = "krun_add_console_port_tty";
  // Checked before the context is looked up, as libkrun does (lib.rs:2860).
  if (tty_fd < 0) return Refuse(kFunction, EINVAL, "tty_fd < 0");
  if (!::isatty(tty_fd)) return Refuse(kFunction, ENOTTY, "tty_fd is not a terminal");
  return AddConsolePort(kFunction, ctx_id, console_id, name,
                        {.kind = ConsolePortKind::kTty, .input_fd = tty_fd, .output_fd = tty_fd});
}

extern "C" int32_t krun_add_console_port_inout(uint32_t ctx_id, uint32_t console_id,
                                               const char* name, int input_fd, int output_fd) {
  return AddConsolePort(
      "krun_add_console_port_inout", ctx_id, console_id, name,
      {.kind = ConsolePortKind::kInOut, .input_fd = input_fd, .output_fd = output_fd});
}
