// Every krun_* export called with bad arguments: NULL pointers, unknown
// context ids, absurd sizes, malformed strings. Each must answer with the
// negative errno docs/libkrun.md gives, and never crash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "capi/header_functions_testing.h"
#include "capi/testing/capi_test_support.h"
#include "libkrun.h"

namespace vk::capi {
namespace {

using testing::Ctx;
using testing::kUnknownCtx;

constexpr uint32_t U = kUnknownCtx;
uint8_t g_mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

struct BadCall {
  const char* function;
  const char* what;
  int expected;                           // a negative errno
  std::function<int32_t(uint32_t)> call;  // receives a fresh, valid context
};

std::string Long(size_t bytes) { return std::string(bytes, 'a'); }

// A NULL-terminated array of `count` copies of `entry`.
struct Array {
  Array(size_t count, std::string entry) : text(std::move(entry)), pointers(count, nullptr) {
    for (auto& p : pointers) p = text.c_str();
    pointers.push_back(nullptr);
  }
  const char* const* get() const { return pointers.data(); }
  std::string text;
  std::vector<const char*> pointers;
};

// A pseudo-terminal master: isatty() is true for it.
int OpenPty() { return ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC); }

std::vector<BadCall> ContextAndLogCalls() {
  return {
      {"krun_free_ctx", "unknown id", -ENOENT, [](uint32_t) { return krun_free_ctx(U); }},
      {"krun_set_vm_config", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_vm_config(U, 1, 512); }},
      {"krun_set_vm_config", "0 vcpus", -EINVAL,
       [](uint32_t c) { return krun_set_vm_config(c, 0, 512); }},
      {"krun_set_vm_config", "0 MiB", -EINVAL,
       [](uint32_t c) { return krun_set_vm_config(c, 1, 0); }},
      {"krun_set_vm_config", "255 vcpus", -EINVAL,
       [](uint32_t c) { return krun_set_vm_config(c, 255, 512); }},
      {"krun_set_vm_config", "4 PiB", -EINVAL,
       [](uint32_t c) { return krun_set_vm_config(c, 1, UINT32_MAX); }},
      {"krun_has_feature", "number 3", -EINVAL, [](uint32_t) { return krun_has_feature(3); }},
      {"krun_has_feature", "number 5", -EINVAL, [](uint32_t) { return krun_has_feature(5); }},
      {"krun_has_feature", "huge number", -EINVAL,
       [](uint32_t) { return krun_has_feature(UINT64_MAX); }},
      {"krun_init_log", "fd 0", -EINVAL, [](uint32_t) { return krun_init_log(0, 0, 0, 0); }},
      {"krun_init_log", "fd -2", -EINVAL, [](uint32_t) { return krun_init_log(-2, 0, 0, 0); }},
      {"krun_init_log", "style 3", -EINVAL, [](uint32_t) { return krun_init_log(-1, 0, 3, 0); }},
      {"krun_init_log", "option bit 2", -EINVAL,
       [](uint32_t) { return krun_init_log(-1, 0, 0, 2); }},
      {"krun_get_shutdown_eventfd", "unknown id", -ENOENT,
       [](uint32_t) { return krun_get_shutdown_eventfd(U); }},
      {"krun_set_nested_virt", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_nested_virt(U, true); }},
      {"krun_split_irqchip", "unknown id", -ENOENT,
       [](uint32_t) { return krun_split_irqchip(U, true); }},
      {"krun_start_enter", "unknown id", -ENOENT, [](uint32_t) { return krun_start_enter(U); }},
      {"krun_start_enter", "no root", -EINVAL, [](uint32_t c) { return krun_start_enter(c); }},
      {"krun_start_enter", "two roots", -EINVAL,
       [](uint32_t c) {
         krun_set_root(c, "/tmp");
         krun_add_virtiofs(c, KRUN_FS_ROOT_TAG, "/srv");
         return krun_start_enter(c);
       }},
  };
}

std::vector<BadCall> DiskAndFsCalls() {
  return {
      {"krun_set_root", "unknown id", -ENOENT, [](uint32_t) { return krun_set_root(U, "/tmp"); }},
      {"krun_set_root", "NULL", -EINVAL, [](uint32_t c) { return krun_set_root(c, nullptr); }},
      {"krun_set_root", "empty", -EINVAL, [](uint32_t c) { return krun_set_root(c, ""); }},
      {"krun_set_root", "5000-byte path", -EINVAL,
       [](uint32_t c) { return krun_set_root(c, Long(5000).c_str()); }},
      {"krun_set_root_disk", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_root_disk(U, "/d.img"); }},
      {"krun_set_root_disk", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_root_disk(c, nullptr); }},
      {"krun_set_data_disk", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_data_disk(U, "/d.img"); }},
      {"krun_set_data_disk", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_data_disk(c, nullptr); }},
      {"krun_add_disk", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_disk(U, "a", "/d.img", false); }},
      {"krun_add_disk", "NULL id", -EINVAL,
       [](uint32_t c) { return krun_add_disk(c, nullptr, "/d.img", false); }},
      {"krun_add_disk", "NULL path", -EINVAL,
       [](uint32_t c) { return krun_add_disk(c, "a", nullptr, false); }},
      {"krun_add_disk", "65 disks", -ENOSPC,
       [](uint32_t c) {
         for (int i = 0; i < 64; ++i) krun_add_disk(c, "a", "/d.img", false);
         return krun_add_disk(c, "a", "/d.img", false);
       }},
      {"krun_add_disk2", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_disk2(U, "a", "/d.img", KRUN_DISK_FORMAT_RAW, false); }},
      {"krun_add_disk2", "qcow2", -ENOTSUP,
       [](uint32_t c) { return krun_add_disk2(c, "a", "/d.img", KRUN_DISK_FORMAT_QCOW2, false); }},
      {"krun_add_disk2", "vmdk", -ENOTSUP,
       [](uint32_t c) { return krun_add_disk2(c, "a", "/d.img", KRUN_DISK_FORMAT_VMDK, false); }},
      {"krun_add_disk2", "format 7", -EINVAL,
       [](uint32_t c) { return krun_add_disk2(c, "a", "/d.img", 7, false); }},
      {"krun_add_disk2", "NULL path", -EINVAL,
       [](uint32_t c) { return krun_add_disk2(c, "a", nullptr, 0, false); }},
      {"krun_add_disk3", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_disk3(U, "a", "/d.img", 0, false, false, 0); }},
      {"krun_add_disk3", "sync 3", -EINVAL,
       [](uint32_t c) { return krun_add_disk3(c, "a", "/d.img", 0, false, false, 3); }},
      {"krun_add_disk3", "qcow2", -ENOTSUP,
       [](uint32_t c) { return krun_add_disk3(c, "a", "/d.img", 1, false, false, 0); }},
      {"krun_add_disk3", "NULL id", -EINVAL,
       [](uint32_t c) { return krun_add_disk3(c, nullptr, "/d.img", 0, false, false, 0); }},
      {"krun_set_root_disk_remount", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_root_disk_remount(U, "/dev/vda", nullptr, nullptr); }},
      {"krun_set_root_disk_remount", "no disk", -EINVAL,
       [](uint32_t c) { return krun_set_root_disk_remount(c, "/dev/vda", nullptr, nullptr); }},
      {"krun_set_root_disk_remount", "NULL device", -EINVAL,
       [](uint32_t c) { return krun_set_root_disk_remount(c, nullptr, "ext4", nullptr); }},
      {"krun_set_root_disk_remount", "not /dev", -EINVAL,
       [](uint32_t c) {
         krun_add_disk(c, "a", "/d.img", false);
         return krun_set_root_disk_remount(c, "vda", nullptr, nullptr);
       }},
      {"krun_set_root_disk_remount", "root dir set", -EINVAL,
       [](uint32_t c) {
         krun_add_disk(c, "a", "/d.img", false);
         krun_set_root(c, "/tmp");
         return krun_set_root_disk_remount(c, "/dev/vda", nullptr, nullptr);
       }},
      {"krun_set_mapped_volumes", "always", -EINVAL,
       [](uint32_t c) {
         const char* volumes[] = {"/a:/b", nullptr};
         return krun_set_mapped_volumes(c, volumes);
       }},
      {"krun_set_mapped_volumes", "NULL, unknown id", -EINVAL,
       [](uint32_t) { return krun_set_mapped_volumes(U, nullptr); }},
      {"krun_add_virtiofs", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_virtiofs(U, "t", "/tmp"); }},
      {"krun_add_virtiofs", "NULL tag", -EINVAL,
       [](uint32_t c) { return krun_add_virtiofs(c, nullptr, "/tmp"); }},
      {"krun_add_virtiofs", "empty tag", -EINVAL,
       [](uint32_t c) { return krun_add_virtiofs(c, "", "/tmp"); }},
      {"krun_add_virtiofs", "37-byte tag", -EINVAL,
       [](uint32_t c) { return krun_add_virtiofs(c, Long(37).c_str(), "/tmp"); }},
      {"krun_add_virtiofs2", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_virtiofs2(U, "t", "/tmp", 1 << 20); }},
      {"krun_add_virtiofs2", "NULL tag", -EINVAL,
       [](uint32_t c) { return krun_add_virtiofs2(c, nullptr, "/tmp", UINT64_MAX); }},
      {"krun_add_virtiofs3", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_virtiofs3(U, "t", "/tmp", 0, true); }},
      {"krun_add_virtiofs3", "NULL tag", -EINVAL,
       [](uint32_t c) { return krun_add_virtiofs3(c, nullptr, "/tmp", 0, true); }},
      {"krun_fs_add_overlay_file", "unknown id", -ENOENT,
       [](uint32_t) {
         static const uint8_t data[] = {1, 2};
         return krun_fs_add_overlay_file(U, "t", "f", data, 2, 0100644, false);
       }},
      {"krun_fs_add_overlay_file", "NULL tag", -EINVAL,
       [](uint32_t c) {
         return krun_fs_add_overlay_file(c, nullptr, "f", nullptr, 0, 0100644, false);
       }},
      {"krun_fs_add_overlay_file", "NULL data, 5 bytes", -EINVAL,
       [](uint32_t c) { return krun_fs_add_overlay_file(c, "t", "f", nullptr, 5, 0, false); }},
      {"krun_fs_add_overlay_file", "no share tagged t", -ENOENT,
       [](uint32_t c) { return krun_fs_add_overlay_file(c, "t", "f", nullptr, 0, 0, true); }},
      {"krun_fs_add_overlay_file", "/dev/root without a root", -ENOENT,
       [](uint32_t c) {
         return krun_fs_add_overlay_file(c, "/dev/root", "f", nullptr, 0, 0100644, false);
       }},
      {"krun_fs_add_overlay_file", "missing parent directory", -ENOENT,
       [](uint32_t c) {
         krun_add_virtiofs3(c, "t", nullptr, 0, false);
         return krun_fs_add_overlay_file(c, "t", "etc/hostname", nullptr, 0, 0100644, false);
       }},
      {"krun_fs_add_overlay_file", "parent is a file", -ENOTDIR,
       [](uint32_t c) {
         krun_add_virtiofs3(c, "t", nullptr, 0, false);
         krun_fs_add_overlay_file(c, "t", "etc", nullptr, 0, 0100644, false);
         return krun_fs_add_overlay_file(c, "t", "etc/hostname", nullptr, 0, 0100644, false);
       }},
      {"krun_fs_add_overlay_file", "empty component", -EINVAL,
       [](uint32_t c) {
         krun_add_virtiofs3(c, "t", nullptr, 0, false);
         krun_fs_add_overlay_dir(c, "t", "etc", 040755);
         return krun_fs_add_overlay_file(c, "t", "etc//hostname", nullptr, 0, 0100644, false);
       }},
      {"krun_fs_add_overlay_dir", "unknown id", -ENOENT,
       [](uint32_t) { return krun_fs_add_overlay_dir(U, "t", "d", 040755); }},
      {"krun_fs_add_overlay_dir", "NULL path", -EINVAL,
       [](uint32_t c) { return krun_fs_add_overlay_dir(c, "t", nullptr, 040755); }},
  };
}

std::vector<BadCall> NetCalls() {
  return {
      {"krun_add_net_unixstream", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_net_unixstream(U, "/tmp/s", -1, g_mac, 0, 0); }},
      {"krun_add_net_unixstream", "neither path nor fd", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixstream(c, nullptr, -1, g_mac, 0, 0); }},
      {"krun_add_net_unixstream", "path and fd", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixstream(c, "/tmp/s", 5, g_mac, 0, 0); }},
      {"krun_add_net_unixstream", "NULL mac", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixstream(c, "/tmp/s", -1, nullptr, 0, 0); }},
      {"krun_add_net_unixstream", "unknown feature", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixstream(c, "/tmp/s", -1, g_mac, 1 << 20, 0); }},
      {"krun_add_net_unixstream", "VFKIT flag", -EINVAL,
       [](uint32_t c) {
         return krun_add_net_unixstream(c, "/tmp/s", -1, g_mac, 0, NET_FLAG_VFKIT);
       }},
      {"krun_add_net_unixstream", "200-byte path", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixstream(c, Long(200).c_str(), -1, g_mac, 0, 0); }},
      {"krun_add_net_unixgram", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_net_unixgram(U, "/tmp/s", -1, g_mac, 0, 0); }},
      {"krun_add_net_unixgram", "neither path nor fd", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixgram(c, nullptr, -1, g_mac, 0, 0); }},
      {"krun_add_net_unixgram", "unknown flag", -EINVAL,
       [](uint32_t c) { return krun_add_net_unixgram(c, "/tmp/s", -1, g_mac, 0, 1 << 5); }},
      {"krun_add_net_tap", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_net_tap(U, const_cast<char*>("tap0"), g_mac, 0, 0); }},
      {"krun_add_net_tap", "NULL name", -EINVAL,
       [](uint32_t c) { return krun_add_net_tap(c, nullptr, g_mac, 0, 0); }},
      {"krun_add_net_tap", "16-byte name", -EINVAL,
       [](uint32_t c) { return krun_add_net_tap(c, Long(16).data(), g_mac, 0, 0); }},
      {"krun_add_net_tap", "TSO4 without GUEST_CSUM", -EINVAL,
       [](uint32_t c) {
         return krun_add_net_tap(c, const_cast<char*>("tap0"), g_mac, NET_FEATURE_GUEST_TSO4, 0);
       }},
      {"krun_add_net_tap", "VFKIT flag", -EINVAL,
       [](uint32_t c) {
         return krun_add_net_tap(c, const_cast<char*>("tap0"), g_mac, 0, NET_FLAG_VFKIT);
       }},
      {"krun_add_net_tap", "NULL mac", -EINVAL,
       [](uint32_t c) { return krun_add_net_tap(c, const_cast<char*>("tap0"), nullptr, 0, 0); }},
      {"krun_set_passt_fd", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_passt_fd(U, 1); }},
      {"krun_set_passt_fd", "fd -1", -EINVAL, [](uint32_t c) { return krun_set_passt_fd(c, -1); }},
      {"krun_set_passt_fd", "after krun_add_net_*", -EINVAL,
       [](uint32_t c) {
         krun_add_net_unixstream(c, "/tmp/s", -1, g_mac, 0, 0);
         return krun_set_passt_fd(c, 1);
       }},
      {"krun_set_gvproxy_path", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_gvproxy_path(U, const_cast<char*>("/tmp/g")); }},
      {"krun_set_gvproxy_path", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_gvproxy_path(c, nullptr); }},
      {"krun_set_net_mac", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_net_mac(U, g_mac); }},
      {"krun_set_net_mac", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_net_mac(c, nullptr); }},
  };
}

int32_t SetPortMap(uint32_t ctx, std::vector<const char*> entries) {
  entries.push_back(nullptr);
  return krun_set_port_map(ctx, entries.data());
}

std::vector<BadCall> PortMapCalls() {
  return {
      {"krun_set_port_map", "unknown id", -ENOENT,
       [](uint32_t) { return SetPortMap(U, {"8080:80"}); }},
      {"krun_set_port_map", "malformed, unknown id (parsed first)", -EINVAL,
       [](uint32_t) { return SetPortMap(U, {"8080"}); }},
      {"krun_set_port_map", "no colon", -EINVAL, [](uint32_t c) { return SetPortMap(c, {"80"}); }},
      {"krun_set_port_map", "letters", -EINVAL,
       [](uint32_t c) { return SetPortMap(c, {"80:http"}); }},
      {"krun_set_port_map", "port 70000", -EINVAL,
       [](uint32_t c) { return SetPortMap(c, {"70000:80"}); }},
      {"krun_set_port_map", "empty entry", -EINVAL, [](uint32_t c) { return SetPortMap(c, {""}); }},
      {"krun_set_port_map", "host twice", -EINVAL,
       [](uint32_t c) {
         return SetPortMap(c, {"8080:80", "8080:81"});
       }},
      {"krun_set_port_map", "guest twice", -EINVAL,
       [](uint32_t c) {
         return SetPortMap(c, {"8080:80", "8081:80"});
       }},
      {"krun_set_port_map", "5000 entries", -EINVAL,
       [](uint32_t c) { return krun_set_port_map(c, Array(5000, "1:1").get()); }},
      {"krun_set_port_map", "after krun_add_net_*", -EINVAL,
       [](uint32_t c) {
         krun_add_net_unixstream(c, "/tmp/s", -1, g_mac, 0, 0);
         return SetPortMap(c, {"8080:80"});
       }},
      {"krun_set_port_map", "vsock disabled", -ENODEV,
       [](uint32_t c) {
         krun_disable_implicit_vsock(c);
         return SetPortMap(c, {"8080:80"});
       }},
  };
}

std::vector<BadCall> UnsupportedCalls() {
  return {
      {"krun_set_gpu_options", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_gpu_options(U, VIRGLRENDERER_VENUS); }},
      {"krun_set_gpu_options2", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_gpu_options2(U, 0, UINT64_MAX); }},
      {"krun_add_display", "any", -ENOTSUP,
       [](uint32_t c) { return krun_add_display(c, UINT32_MAX, 0); }},
      {"krun_display_set_edid", "NULL blob", -ENOTSUP,
       [](uint32_t c) { return krun_display_set_edid(c, 0, nullptr, SIZE_MAX); }},
      {"krun_display_set_dpi", "any", -ENOTSUP,
       [](uint32_t) { return krun_display_set_dpi(U, 99, 0); }},
      {"krun_display_set_physical_size", "any", -ENOTSUP,
       [](uint32_t c) { return krun_display_set_physical_size(c, 0, 0, 0); }},
      {"krun_display_set_refresh_rate", "any", -ENOTSUP,
       [](uint32_t c) { return krun_display_set_refresh_rate(c, 0, UINT32_MAX); }},
      {"krun_set_display_backend", "NULL", -ENOTSUP,
       [](uint32_t c) { return krun_set_display_backend(c, nullptr, SIZE_MAX); }},
      {"krun_add_input_device", "NULL", -ENOTSUP,
       [](uint32_t c) { return krun_add_input_device(c, nullptr, SIZE_MAX, nullptr, 0); }},
      {"krun_add_input_device_fd", "fd -1", -ENOTSUP,
       [](uint32_t c) { return krun_add_input_device_fd(c, -1); }},
      {"krun_add_vhost_user_device", "NULL", -ENOTSUP,
       [](uint32_t c) {
         return krun_add_vhost_user_device(c, KRUN_VIRTIO_DEVICE_RNG, nullptr, nullptr, 0xffff,
                                           nullptr);
       }},
      {"krun_set_firmware", "NULL", -ENOTSUP,
       [](uint32_t c) { return krun_set_firmware(c, nullptr); }},
      {"krun_set_tee_config_file", "NULL", -ENOTSUP,
       [](uint32_t c) { return krun_set_tee_config_file(c, nullptr); }},
      {"krun_set_smbios_oem_strings", "unknown id", -ENOENT,
       [](uint32_t) {
         const char* strings[] = {"a", nullptr};
         return krun_set_smbios_oem_strings(U, strings);
       }},
      {"krun_set_smbios_oem_strings", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_smbios_oem_strings(c, nullptr); }},
      {"krun_disable_implicit_init", "unknown id", -ENOENT,
       [](uint32_t) { return krun_disable_implicit_init(U); }},
      {"krun_get_default_init", "NULL", -ENOTSUP,
       [](uint32_t) { return krun_get_default_init(nullptr, nullptr); }},
  };
}

std::vector<BadCall> WorkloadCalls() {
  return {
      {"krun_set_rlimits", "unknown id", -ENOENT,
       [](uint32_t) {
         const char* limits[] = {"7=1:2", nullptr};
         return krun_set_rlimits(U, limits);
       }},
      {"krun_set_rlimits", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_rlimits(c, nullptr); }},
      {"krun_set_rlimits", "5000 entries", -EINVAL,
       [](uint32_t c) { return krun_set_rlimits(c, Array(5000, "7=1:2").get()); }},
      {"krun_set_workdir", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_workdir(U, "/"); }},
      {"krun_set_workdir", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_workdir(c, nullptr); }},
      {"krun_set_workdir", "empty", -EINVAL, [](uint32_t c) { return krun_set_workdir(c, ""); }},
      {"krun_set_exec", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_exec(U, "/bin/sh", nullptr, nullptr); }},
      {"krun_set_exec", "NULL path", -EINVAL,
       [](uint32_t c) { return krun_set_exec(c, nullptr, nullptr, nullptr); }},
      {"krun_set_exec", "4097 arguments", -EINVAL,
       [](uint32_t c) { return krun_set_exec(c, "/bin/sh", Array(4097, "x").get(), nullptr); }},
      {"krun_set_exec", "200 KiB argument", -EINVAL,
       [](uint32_t c) {
         return krun_set_exec(c, "/bin/sh", Array(1, Long(200 << 10)).get(), nullptr);
       }},
      {"krun_set_exec", "3 MiB of environment", -EINVAL,
       [](uint32_t c) {
         return krun_set_exec(c, "/bin/sh", nullptr, Array(30, Long(100 << 10)).get());
       }},
      {"krun_set_env", "unknown id", -ENOENT, [](uint32_t) { return krun_set_env(U, nullptr); }},
      {"krun_set_env", "4097 entries", -EINVAL,
       [](uint32_t c) { return krun_set_env(c, Array(4097, "A=1").get()); }},
      {"krun_set_kernel", "unknown id", -ENOENT,
       [](uint32_t) {
         return krun_set_kernel(U, "/vmlinux", KRUN_KERNEL_FORMAT_ELF, nullptr, nullptr);
       }},
      {"krun_set_kernel", "NULL path", -EINVAL,
       [](uint32_t c) {
         return krun_set_kernel(c, nullptr, KRUN_KERNEL_FORMAT_ELF, nullptr, nullptr);
       }},
      {"krun_set_kernel", "PE_GZ", -EINVAL,
       [](uint32_t c) {
         return krun_set_kernel(c, "/vmlinux", KRUN_KERNEL_FORMAT_PE_GZ, nullptr, nullptr);
       }},
      {"krun_set_kernel", "format 99", -EINVAL,
       [](uint32_t c) { return krun_set_kernel(c, "/vmlinux", 99, nullptr, nullptr); }},
      {"krun_set_kernel", "missing initramfs", -EINVAL,
       [](uint32_t c) {
         return krun_set_kernel(c, "/vmlinux", KRUN_KERNEL_FORMAT_ELF, "/no/such/initrd", nullptr);
       }},
      {"krun_set_kernel", "5000-byte cmdline", -EINVAL,
       [](uint32_t c) {
         return krun_set_kernel(c, "/vmlinux", KRUN_KERNEL_FORMAT_ELF, nullptr, Long(5000).c_str());
       }},
      {"krun_setuid", "unknown id", -ENOENT, [](uint32_t) { return krun_setuid(U, 1000); }},
      {"krun_setgid", "unknown id", -ENOENT, [](uint32_t) { return krun_setgid(U, 1000); }},
  };
}

std::vector<BadCall> VsockCalls() {
  return {
      {"krun_add_vsock_port", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_vsock_port(U, 1234, "/tmp/v"); }},
      {"krun_add_vsock_port", "NULL", -EINVAL,
       [](uint32_t c) { return krun_add_vsock_port(c, 1234, nullptr); }},
      {"krun_add_vsock_port", "200-byte path", -EINVAL,
       [](uint32_t c) { return krun_add_vsock_port(c, 1234, Long(200).c_str()); }},
      {"krun_add_vsock_port2", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_vsock_port2(U, 1234, "/tmp/v", true); }},
      {"krun_add_vsock_port2", "listen on an existing path", -EEXIST,
       [](uint32_t c) { return krun_add_vsock_port2(c, 1234, "/", true); }},
      {"krun_add_vsock_port2", "vsock disabled", -ENODEV,
       [](uint32_t c) {
         krun_disable_implicit_vsock(c);
         return krun_add_vsock_port2(c, 1234, "/tmp/v", false);
       }},
      {"krun_add_vsock", "unknown id", -ENOENT, [](uint32_t) { return krun_add_vsock(U, 0); }},
      {"krun_add_vsock", "implicit device exists", -EEXIST,
       [](uint32_t c) { return krun_add_vsock(c, 0); }},
      {"krun_add_vsock", "added twice", -EEXIST,
       [](uint32_t c) {
         krun_disable_implicit_vsock(c);
         krun_add_vsock(c, 0);
         return krun_add_vsock(c, KRUN_TSI_HIJACK_INET);
       }},
      {"krun_add_vsock", "HIJACK_UNIX", -ENOTSUP,
       [](uint32_t c) { return krun_add_vsock(c, KRUN_TSI_HIJACK_UNIX); }},
      {"krun_add_vsock", "unknown bit", -EINVAL,
       [](uint32_t c) { return krun_add_vsock(c, 1 << 7); }},
      {"krun_disable_implicit_vsock", "unknown id", -ENOENT,
       [](uint32_t) { return krun_disable_implicit_vsock(U); }},
  };
}

std::vector<BadCall> ConsoleCalls() {
  return {
      {"krun_set_console_output", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_console_output(U, "/tmp/c.log"); }},
      {"krun_set_console_output", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_console_output(c, nullptr); }},
      {"krun_set_console_output", "second call", -EINVAL,
       [](uint32_t c) {
         krun_set_console_output(c, "/tmp/c.log");
         return krun_set_console_output(c, "/tmp/d.log");
       }},
      {"krun_set_kernel_console", "unknown id", -ENOENT,
       [](uint32_t) { return krun_set_kernel_console(U, "ttyS0"); }},
      {"krun_set_kernel_console", "NULL", -EINVAL,
       [](uint32_t c) { return krun_set_kernel_console(c, nullptr); }},
      {"krun_set_kernel_console", "extra kernel words", -EINVAL,
       [](uint32_t c) { return krun_set_kernel_console(c, "ttyS0 init=/bin/sh"); }},
      {"krun_set_kernel_console", "empty", -EINVAL,
       [](uint32_t c) { return krun_set_kernel_console(c, ""); }},
      {"krun_disable_implicit_console", "unknown id", -ENOENT,
       [](uint32_t) { return krun_disable_implicit_console(U); }},
      {"krun_add_virtio_console_default", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_virtio_console_default(U, 0, 1, 2); }},
      {"krun_add_virtio_console_default", "fd -2", -EINVAL,
       [](uint32_t c) { return krun_add_virtio_console_default(c, -2, 1, 2); }},
      {"krun_add_serial_console_default", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_serial_console_default(U, 0, 1); }},
      {"krun_add_serial_console_default", "fd -5", -EINVAL,
       [](uint32_t c) { return krun_add_serial_console_default(c, 0, -5); }},
      {"krun_add_serial_console_default", "fifth port", -ENOSPC,
       [](uint32_t c) {
         for (int i = 0; i < 4; ++i) krun_add_serial_console_default(c, -1, 1);
         return krun_add_serial_console_default(c, -1, 1);
       }},
      {"krun_add_virtio_console_multiport", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_virtio_console_multiport(U); }},
      {"krun_add_console_port_tty", "fd -1", -EINVAL,
       [](uint32_t c) { return krun_add_console_port_tty(c, 0, "tty", -1); }},
      {"krun_add_console_port_tty", "not a terminal", -ENOTTY,
       [](uint32_t c) {
         int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
         int32_t result = krun_add_console_port_tty(c, 0, "tty", fd);
         ::close(fd);
         return result;
       }},
      {"krun_add_console_port_tty", "unknown id", -ENOENT,
       [](uint32_t) {
         int fd = OpenPty();
         int32_t result = krun_add_console_port_tty(U, 0, "tty", fd);
         ::close(fd);
         return result;
       }},
      {"krun_add_console_port_tty", "no such console", -EINVAL,
       [](uint32_t c) {
         int fd = OpenPty();
         int32_t result = krun_add_console_port_tty(c, 7, "tty", fd);
         ::close(fd);
         return result;
       }},
      {"krun_add_console_port_inout", "unknown id", -ENOENT,
       [](uint32_t) { return krun_add_console_port_inout(U, 0, "p", 0, 1); }},
      {"krun_add_console_port_inout", "no such console", -EINVAL,
       [](uint32_t c) { return krun_add_console_port_inout(c, 3, "p", 0, 1); }},
      {"krun_add_console_port_inout", "a default console", -EINVAL,
       [](uint32_t c) {
         krun_add_virtio_console_default(c, -1, 1, 2);
         return krun_add_console_port_inout(c, 0, "p", 0, 1);
       }},
      {"krun_add_console_port_inout", "256-byte name", -EINVAL,
       [](uint32_t c) {
         krun_add_virtio_console_multiport(c);
         return krun_add_console_port_inout(c, 0, Long(256).c_str(), 0, 1);
       }},
  };
}

std::vector<BadCall> AllBadCalls() {
  std::vector<BadCall> all;
  for (auto group : {ContextAndLogCalls(), DiskAndFsCalls(), NetCalls(), PortMapCalls(),
                     UnsupportedCalls(), WorkloadCalls(), VsockCalls(), ConsoleCalls()}) {
    for (auto& call : group) all.push_back(std::move(call));
  }
  return all;
}

// Functions that take no argument that could be wrong.
const std::set<std::string> kNoBadArguments = {"krun_create_ctx", "krun_get_max_vcpus",
                                               "krun_check_nested_virt", "krun_set_log_level"};

TEST(BadArgumentsTest, EveryCallAnswersItsNegativeErrno) {
  krun_set_log_level(KRUN_LOG_LEVEL_OFF);
  for (const BadCall& bad : AllBadCalls()) {
    Ctx ctx;
    EXPECT_EQ(bad.call(ctx), bad.expected) << bad.function << " (" << bad.what << ")";
  }
}

TEST(BadArgumentsTest, TheTableCoversEveryFunctionOfTheHeader) {
  std::set<std::string> header = HeaderFunctions();
  ASSERT_EQ(header.size(), 67u);
  std::set<std::string> covered = kNoBadArguments;
  for (const BadCall& bad : AllBadCalls()) covered.insert(bad.function);
  EXPECT_EQ(covered, header);
}

TEST(BadArgumentsTest, ArgumentFreeFunctionsAnswerSanely) {
  int32_t max = krun_get_max_vcpus();
  EXPECT_TRUE(max == -EINVAL || (max >= 1 && max <= 64)) << max;
  int32_t nested = krun_check_nested_virt();
  EXPECT_TRUE(nested == 0 || nested == 1);
  EXPECT_EQ(krun_set_log_level(UINT32_MAX), 0);
  EXPECT_EQ(krun_set_log_level(KRUN_LOG_LEVEL_OFF), 0);
  int32_t id = krun_create_ctx();
  EXPECT_GE(id, 0);
  EXPECT_EQ(krun_free_ctx(static_cast<uint32_t>(id)), 0);
}

TEST(BadArgumentsTest, AStartConsumesTheContextEvenWhenItFails) {
  krun_set_log_level(KRUN_LOG_LEVEL_OFF);
  int32_t id = krun_create_ctx();
  ASSERT_GE(id, 0);
  EXPECT_EQ(krun_start_enter(static_cast<uint32_t>(id)), -EINVAL);  // no root
  EXPECT_EQ(krun_free_ctx(static_cast<uint32_t>(id)), -ENOENT);
  // A root that is no directory fails before anything starts.
  int32_t rooted = krun_create_ctx();
  ASSERT_EQ(krun_set_root(static_cast<uint32_t>(rooted), "/nonexistent/virtkit-root"), 0);
  EXPECT_EQ(krun_start_enter(static_cast<uint32_t>(rooted)), -EINVAL);
  EXPECT_EQ(krun_set_root(static_cast<uint32_t>(rooted), "/tmp"), -ENOENT);
  // So does a setting virtkit's libkrun does not run.
  int32_t with_console = krun_create_ctx();
  ASSERT_EQ(krun_set_root(static_cast<uint32_t>(with_console), "/tmp"), 0);
  ASSERT_EQ(krun_set_kernel(static_cast<uint32_t>(with_console), "/proc/self/exe",
                            KRUN_KERNEL_FORMAT_RAW, nullptr, nullptr),
            0);
  EXPECT_EQ(krun_start_enter(static_cast<uint32_t>(with_console)), -ENOTSUP);
  // And a vsock port the agent uses itself, refused before anything is made.
  int32_t agent_port = krun_create_ctx();
  ASSERT_EQ(krun_set_root(static_cast<uint32_t>(agent_port), "/tmp"), 0);
  ASSERT_EQ(krun_add_vsock_port(static_cast<uint32_t>(agent_port), 1024, "/tmp/vk-test-1024.sock"),
            0);
  EXPECT_EQ(krun_start_enter(static_cast<uint32_t>(agent_port)), -EINVAL);
}

}  // namespace
}  // namespace vk::capi
