// krun_set_log_level, krun_init_log (log_settings.h does the work).
#include "capi/log_settings.h"
#include "capi/refusal.h"
#include "libkrun.h"

extern "C" int32_t krun_set_log_level(uint32_t level) {
  vk::capi::SetKrunLogLevel(level);
  return 0;
}

extern "C" int32_t krun_init_log(int target_fd, uint32_t level, uint32_t style, uint32_t options) {
  auto done = vk::capi::InitKrunLog(target_fd, level, style, options);
  if (!done) return vk::capi::Refuse("krun_init_log", done.error());
  return 0;
}
