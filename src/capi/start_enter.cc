#include "capi/start_enter.h"

#include <cerrno>

#include "base/log.h"

namespace vk::capi {

int StartEnter(KrunConfig config) {
  (void)config;
  log::Error("krun_start_enter: starting a VM is not implemented yet in virtkit's libkrun");
  return -ENOSYS;
}

}  // namespace vk::capi
