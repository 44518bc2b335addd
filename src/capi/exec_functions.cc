// The workload: krun_set_exec, krun_set_env, krun_set_workdir,
// krun_set_rlimits, krun_setuid, krun_setgid, krun_set_kernel.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "capi/c_args.h"
#include "capi/context_store.h"
#include "capi/rlimit_spec.h"
#include "libkrun.h"
#include "vmm/layout.h"

using vk::capi::EditContext;
using vk::capi::KrunConfig;
using vk::capi::Refuse;

namespace {

// envp: the caller's strings, or (NULL) the calling process's environment,
// copied now as libkrun does (lib.rs:1454).
vk::Result<std::vector<std::string>> ReadEnvironment(const char* const envp[]) {
  if (envp == nullptr) return vk::capi::ReadOwnEnvironment();
  return vk::capi::ReadStringArray(envp);
}

// Guest paths go to the agent over vsock: bounded like host paths.
constexpr size_t kMaxGuestPathBytes = vk::capi::kMaxPathBytes;

vk::Result<vk::capi::KernelFormat> ReadKernelFormat(uint32_t format) {
  switch (format) {
    case KRUN_KERNEL_FORMAT_RAW:
    case KRUN_KERNEL_FORMAT_ELF:
    case KRUN_KERNEL_FORMAT_IMAGE_BZ2:
    case KRUN_KERNEL_FORMAT_IMAGE_GZ:
    case KRUN_KERNEL_FORMAT_IMAGE_ZSTD: return static_cast<vk::capi::KernelFormat>(format);
    case KRUN_KERNEL_FORMAT_PE_GZ:
      return vk::Error("KRUN_KERNEL_FORMAT_PE_GZ is an arm64 format", EINVAL);
    default: return vk::Error(fmt::format("unknown kernel format {}", format), EINVAL);
  }
}

// The initramfs must exist now (libkrun stat()s it at the call).
vk::Result<std::string> ReadInitramfs(const char* initramfs) {
  if (initramfs == nullptr) return std::string();
  std::string path = VK_TRY(vk::capi::ReadPath(initramfs));
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return vk::Error("initramfs " + path + ": " + strerror(errno), EINVAL);
  }
  return path;
}

vk::Result<vk::capi::KernelConfig> ReadKernel(const char* kernel_path, uint32_t kernel_format,
                                              const char* initramfs, const char* cmdline) {
  vk::capi::KernelConfig kernel;
  kernel.path = VK_TRY(vk::capi::ReadPath(kernel_path));
  kernel.format = VK_TRY(ReadKernelFormat(kernel_format));
  kernel.initramfs = VK_TRY(ReadInitramfs(initramfs));
  if (cmdline != nullptr) {
    // The boot protocol's cmdline_size we announce, NUL included.
    kernel.cmdline = VK_TRY(vk::capi::ReadString(cmdline, vk::layout::kCmdlineMax - 1));
  }
  return kernel;
}

}  // namespace

extern "C" int32_t krun_set_exec(uint32_t ctx_id, const char* exec_path, const char* const argv[],
                                 const char* const envp[]) {
  constexpr const char* kFunction = "krun_set_exec";
  auto path = vk::capi::ReadString(exec_path, kMaxGuestPathBytes);
  if (!path) return Refuse(kFunction, path.error());
  if (path->empty()) return Refuse(kFunction, EINVAL, "exec_path is empty");
  std::vector<std::string> args;
  if (argv != nullptr) {
    auto read = vk::capi::ReadStringArray(argv);
    if (!read) return Refuse(kFunction, read.error());
    args = std::move(*read);
  }
  auto env = ReadEnvironment(envp);
  if (!env) return Refuse(kFunction, env.error());
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    config.exec_path = std::move(*path);
    config.args = std::move(args);
    config.env = std::move(*env);
    return 0;
  });
}

extern "C" int32_t krun_set_env(uint32_t ctx_id, const char* const envp[]) {
  auto env = ReadEnvironment(envp);
  if (!env) return Refuse("krun_set_env", env.error());
  return EditContext("krun_set_env", ctx_id, [&](KrunConfig& config) {
    config.env = std::move(*env);
    return 0;
  });
}

extern "C" int32_t krun_set_workdir(uint32_t ctx_id, const char* workdir_path) {
  auto path = vk::capi::ReadString(workdir_path, kMaxGuestPathBytes);
  if (!path) return Refuse("krun_set_workdir", path.error());
  if (path->empty()) return Refuse("krun_set_workdir", EINVAL, "the directory is empty");
  return EditContext("krun_set_workdir", ctx_id, [&](KrunConfig& config) {
    config.workdir = std::move(*path);
    return 0;
  });
}

extern "C" int32_t krun_set_rlimits(uint32_t ctx_id, const char* const rlimits[]) {
  auto entries = vk::capi::ReadStringArray(rlimits);
  if (!entries) return Refuse("krun_set_rlimits", entries.error());
  std::vector<vk::capi::Rlimit> parsed;
  std::vector<std::string> malformed;
  for (std::string& entry : *entries) {
    // libkrun's guest skips a malformed entry with a console message and
    // applies the rest; the call itself succeeds.
    auto rlimit = vk::capi::ParseRlimit(entry);
    if (rlimit) {
      parsed.push_back(*rlimit);
    } else {
      vk::log::Warn("krun_set_rlimits: {}: skipped", rlimit.error().message());
      malformed.push_back(std::move(entry));
    }
  }
  return EditContext("krun_set_rlimits", ctx_id, [&](KrunConfig& config) {
    config.rlimits = std::move(parsed);
    config.malformed_rlimits = std::move(malformed);
    return 0;
  });
}

extern "C" int32_t krun_setuid(uint32_t ctx_id, uid_t uid) {
  return vk::capi::StoreSetting("krun_setuid", ctx_id, &KrunConfig::uid, uid);
}

extern "C" int32_t krun_setgid(uint32_t ctx_id, gid_t gid) {
  return vk::capi::StoreSetting("krun_setgid", ctx_id, &KrunConfig::gid, gid);
}

extern "C" int32_t krun_set_kernel(uint32_t ctx_id, const char* kernel_path, uint32_t kernel_format,
                                   const char* initramfs, const char* cmdline) {
  auto kernel = ReadKernel(kernel_path, kernel_format, initramfs, cmdline);
  if (!kernel) return Refuse("krun_set_kernel", kernel.error());
  return EditContext("krun_set_kernel", ctx_id, [&](KrunConfig& config) {
    config.kernel = std::move(*kernel);
    return 0;
  });
}
