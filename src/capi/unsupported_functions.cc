// What virtkit does not have: GPU, displays, input, vhost-user, firmware,
// TEE, SMBIOS, libkrun's init blob. Each answers as docs/libkrun.md lists:
// as libkrun built without that feature does, so common clients proceed.
#include <cerrno>

#include "capi/c_args.h"
#include "capi/context_store.h"
#include "libkrun.h"

using vk::capi::EditContext;
using vk::capi::KrunConfig;
using vk::capi::Refuse;

namespace {

// Accepted and ignored after the id check (libkrun without the feature
// stores the value and nothing reads it).
int32_t Ignore(const char* function, uint32_t ctx_id) {
  return EditContext(function, ctx_id, [](KrunConfig&) { return 0; });
}

int32_t NotSupported(const char* function, const char* what) {
  return Refuse(function, ENOTSUP, std::string(what) + " is not supported by virtkit");
}

}  // namespace

extern "C" int32_t krun_set_gpu_options(uint32_t ctx_id, uint32_t virgl_flags) {
  (void)virgl_flags;
  return Ignore("krun_set_gpu_options", ctx_id);
}

extern "C" int32_t krun_set_gpu_options2(uint32_t ctx_id, uint32_t virgl_flags, uint64_t shm_size) {
  (void)virgl_flags;
  (void)shm_size;
  return Ignore("krun_set_gpu_options2", ctx_id);
}

extern "C" int32_t krun_add_display(uint32_t, uint32_t, uint32_t) {
  return NotSupported("krun_add_display", "a display");
}

extern "C" int32_t krun_display_set_edid(uint32_t, uint32_t, const uint8_t*, size_t) {
  return NotSupported("krun_display_set_edid", "a display");
}

extern "C" int32_t krun_display_set_dpi(uint32_t, uint32_t, uint32_t) {
  return NotSupported("krun_display_set_dpi", "a display");
}

extern "C" int32_t krun_display_set_physical_size(uint32_t, uint32_t, uint16_t, uint16_t) {
  return NotSupported("krun_display_set_physical_size", "a display");
}

extern "C" int32_t krun_display_set_refresh_rate(uint32_t, uint32_t, uint32_t) {
  return NotSupported("krun_display_set_refresh_rate", "a display");
}

extern "C" int32_t krun_set_display_backend(uint32_t, const void*, size_t) {
  return NotSupported("krun_set_display_backend", "a display backend");
}

extern "C" int krun_add_input_device(uint32_t, const void*, size_t, const void*, size_t) {
  return NotSupported("krun_add_input_device", "an input device");
}

extern "C" int krun_add_input_device_fd(uint32_t, int) {
  return NotSupported("krun_add_input_device_fd", "an input device");
}

extern "C" int32_t krun_add_vhost_user_device(uint32_t, uint32_t, const char*, const char*,
                                              uint16_t, const uint16_t*) {
  return NotSupported("krun_add_vhost_user_device", "a vhost-user device");
}

extern "C" int32_t krun_set_firmware(uint32_t, const char*) {
  return NotSupported("krun_set_firmware", "booting firmware");
}

extern "C" int32_t krun_set_tee_config_file(uint32_t, const char*) {
  return NotSupported("krun_set_tee_config_file", "confidential computing (TEE)");
}

extern "C" int32_t krun_set_smbios_oem_strings(uint32_t ctx_id, const char* const oem_strings[]) {
  auto strings = vk::capi::ReadStringArray(oem_strings);
  if (!strings) return Refuse("krun_set_smbios_oem_strings", strings.error());
  return Ignore("krun_set_smbios_oem_strings", ctx_id);
}

extern "C" int32_t krun_disable_implicit_init(uint32_t ctx_id) {
  // Nothing is injected into the root (the agent lives in the initramfs).
  return Ignore("krun_disable_implicit_init", ctx_id);
}

extern "C" int32_t krun_get_default_init(const uint8_t** data_out, size_t* len_out) {
  (void)data_out;
  (void)len_out;
  // As libkrun built without its init blob: no checks (lib.rs:2722).
  return -ENOTSUP;
}
