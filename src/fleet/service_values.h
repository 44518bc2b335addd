// Scalar service settings shared by the compose file and the command line:
// restart policies, memory sizes and CPU counts, in compose's spellings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

// "no", "always", "unless-stopped", "on-failure", "on-failure:N".
Result<RestartPolicy> ParseRestartPolicy(std::string_view text);
std::string RestartPolicyText(const RestartPolicy& policy);

// docker's byte values: a number of bytes, or with b, k, kb, m, mb, g, gb
// (any case; binary multiples): "512m", "1gb", "1073741824".
Result<uint64_t> ParseByteSize(std::string_view text);

// compose `cpus`: a fraction of host CPUs, "0.5" or "2"; 0 means unset.
Result<double> ParseCpus(std::string_view text);

std::string_view DependConditionName(DependCondition condition);

}  // namespace vk::fleet
