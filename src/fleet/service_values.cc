#include "fleet/service_values.h"

#include <cmath>
#include <cstdlib>

#include "base/strings.h"

namespace vk::fleet {

Result<RestartPolicy> ParseRestartPolicy(std::string_view text) {
  RestartPolicy policy;
  if (text == "no") return policy;
  if (text == "always") {
    policy.mode = RestartMode::kAlways;
    return policy;
  }
  if (text == "unless-stopped") {
    policy.mode = RestartMode::kUnlessStopped;
    return policy;
  }
  if (text == "on-failure" || StartsWith(text, "on-failure:")) {
    policy.mode = RestartMode::kOnFailure;
    if (text.size() > 10) {
      auto retries = ParseUint(text.substr(11));
      if (!retries || *retries > 1000000) {
        return Error(ErrorKind::kUsage, "invalid restart policy \"" + std::string(text) +
                                            "\": on-failure:N takes a count of retries");
      }
      policy.max_retries = static_cast<int>(*retries);
    }
    return policy;
  }
  return Error(ErrorKind::kUsage,
               "invalid restart policy \"" + std::string(text) +
                   "\": use no, always, unless-stopped, on-failure or on-failure:N");
}

std::string RestartPolicyText(const RestartPolicy& policy) {
  switch (policy.mode) {
    case RestartMode::kNo: return "no";
    case RestartMode::kAlways: return "always";
    case RestartMode::kUnlessStopped: return "unless-stopped";
    case RestartMode::kOnFailure:
      return policy.max_retries ? "on-failure:" + std::to_string(policy.max_retries) : "on-failure";
  }
  return "no";
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  std::string lower;
  for (char c : text) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  std::string_view rest = lower;
  if (!rest.empty() && rest.back() == 'b') rest.remove_suffix(1);  // "1gb", "100b"
  auto bytes = ParseSize(rest);
  if (rest.empty() || !bytes.ok()) {
    return Error(ErrorKind::kUsage, "invalid memory size \"" + std::string(text) +
                                        "\": write bytes or a number with k, m or g, e.g. 512m");
  }
  return *bytes;
}

Result<double> ParseCpus(std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  double cpus = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(cpus) || cpus < 0 ||
      cpus > 1024) {
    return Error(ErrorKind::kUsage,
                 "invalid cpus \"" + copy + "\": write a number of CPUs such as 2 or 0.5");
  }
  return cpus;
}

std::string_view DependConditionName(DependCondition condition) {
  switch (condition) {
    case DependCondition::kStarted: return "service_started";
    case DependCondition::kHealthy: return "service_healthy";
    case DependCondition::kCompletedSuccessfully: return "service_completed_successfully";
  }
  return "service_started";
}

}  // namespace vk::fleet
