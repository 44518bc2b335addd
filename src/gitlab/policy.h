// The runner administrator's limits applied to what a job asks for.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gitlab/config.h"

namespace vk::gitlab {

// Whether the job may boot `image`: the default image always may; else it
// must match one of allowed_images (fnmatch(3), `*` also spans '/'), or the
// list is empty.
bool ImageAllowed(std::string_view image, const Config& config);

// Whether the administrator's allowlist entry `allowed` lets a job ask for
// `asked`: the same entry, or a name (or wildcard) under an allowed
// "*.domain". A CIDR is covered by the same CIDR only.
bool EgressCovers(std::string_view allowed, std::string_view asked);

// The job VM's egress allowlist. `admin` is the runner's policy (empty: no
// limit); `asked` is the job's MICROVM_EGRESS_ALLOW, comma-separated (empty:
// none). A job may narrow the policy, never widen it: an entry the policy
// does not cover is a kUsage error.
Result<std::vector<std::string>> EgressFor(const std::vector<std::string>& admin,
                                           std::string_view asked);

}  // namespace vk::gitlab
