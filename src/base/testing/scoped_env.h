// ScopedEnv: sets (or unsets) one environment variable for a test's scope
// and puts the old value back, so tests that point vk at private
// directories (VIRTKIT_HOME, XDG_RUNTIME_DIR) leave none of it behind.
#pragma once

#include <stdlib.h>

#include <optional>
#include <string>

namespace vk::testing {

class ScopedEnv {
 public:
  // `value` nullopt: unset for the scope.
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (saved_) {
      ::setenv(name_, saved_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

}  // namespace vk::testing
