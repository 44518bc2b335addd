// Contexts, the machine's shape, host queries and krun_start_enter.
#include <sys/eventfd.h>

#include <cerrno>

#include "base/log.h"
#include "capi/config_validation.h"
#include "capi/context_store.h"
#include "capi/host_queries.h"
#include "capi/start_enter.h"
#include "libkrun.h"
#include "runtime/machine_size.h"

using vk::capi::EditContext;
using vk::capi::KrunConfig;
using vk::capi::Refuse;

extern "C" int32_t krun_create_ctx(void) {
  int32_t id = vk::capi::Contexts().Create();
  if (id < 0) return Refuse("krun_create_ctx", -id, "every context id was used");
  return id;
}

extern "C" int32_t krun_free_ctx(uint32_t ctx_id) {
  if (!vk::capi::Contexts().Free(ctx_id)) return Refuse("krun_free_ctx", ENOENT, "no such context");
  return 0;
}

extern "C" int32_t krun_set_vm_config(uint32_t ctx_id, uint8_t num_vcpus, uint32_t ram_mib) {
  constexpr const char* kFunction = "krun_set_vm_config";
  if (num_vcpus == 0 || ram_mib == 0) return Refuse(kFunction, EINVAL, "0 vCPUs or 0 MiB");
  // Without /dev/kvm now the start fails later; only our own cap applies.
  auto kvm_max = vk::capi::MaxVcpus();
  unsigned max_vcpus = kvm_max ? *kvm_max : vk::kMaxVcpus;
  if (num_vcpus > max_vcpus) {
    return Refuse(kFunction, EINVAL, fmt::format("{} vCPUs, at most {}", num_vcpus, max_vcpus));
  }
  auto memory = vk::CheckMemory(uint64_t{ram_mib} << 20);
  if (!memory) return Refuse(kFunction, EINVAL, memory.error().message());
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    config.vcpus = num_vcpus;
    config.ram_mib = ram_mib;
    return 0;
  });
}

extern "C" int32_t krun_get_max_vcpus(void) {
  auto max = vk::capi::MaxVcpus();
  if (!max) return Refuse("krun_get_max_vcpus", max.error());
  return static_cast<int32_t>(*max);
}

extern "C" int32_t krun_has_feature(uint64_t feature) {
  switch (feature) {
    case KRUN_FEATURE_NET:
    case KRUN_FEATURE_BLK: return 1;
    case KRUN_FEATURE_GPU:
    case KRUN_FEATURE_INPUT:
    case KRUN_FEATURE_TEE:
    case KRUN_FEATURE_AMD_SEV:
    case KRUN_FEATURE_INTEL_TDX:
    case KRUN_FEATURE_AWS_NITRO:
    case KRUN_FEATURE_VIRGL_RESOURCE_MAP2:
    case KRUN_FEATURE_INIT_BLOB: return 0;
    default: return -EINVAL;  // libkrun refuses numbers it does not know, silently
  }
}

extern "C" int32_t krun_check_nested_virt(void) { return vk::capi::NestedVirtAvailable() ? 1 : 0; }

extern "C" int32_t krun_set_nested_virt(uint32_t ctx_id, bool enabled) {
  return vk::capi::StoreSetting("krun_set_nested_virt", ctx_id, &KrunConfig::nested_virt, enabled);
}

extern "C" int32_t krun_split_irqchip(uint32_t ctx_id, bool enable) {
  return vk::capi::StoreSetting("krun_split_irqchip", ctx_id, &KrunConfig::split_irqchip, enable);
}

extern "C" int32_t krun_get_shutdown_eventfd(uint32_t ctx_id) {
  return EditContext("krun_get_shutdown_eventfd", ctx_id, [](KrunConfig& config) -> int32_t {
    if (!config.shutdown_eventfd) {
      int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fd < 0) return Refuse("krun_get_shutdown_eventfd", errno, "eventfd failed");
      config.shutdown_eventfd.Reset(fd);
    }
    return config.shutdown_eventfd.get();
  });
}

extern "C" int32_t krun_start_enter(uint32_t ctx_id) {
  constexpr const char* kFunction = "krun_start_enter";
  // Taken out first: libkrun consumes the context even when the start fails.
  std::optional<KrunConfig> config = vk::capi::Contexts().Take(ctx_id);
  if (!config) return Refuse(kFunction, ENOENT, "no such context");
  auto valid = vk::capi::ValidateConfig(*config);
  if (!valid) return Refuse(kFunction, valid.error());
  return vk::capi::StartEnter(std::move(*config));
}
