// A service's health check as it runs: the compose file's `healthcheck:`
// over the image's HEALTHCHECK, field by field, as docker's daemon does it
// (compose passes the file's values on and leaves the rest to the image):
//
// - no `healthcheck:` in the file: the image's, all of it;
// - `disable: true` or a test of NONE: no check, whatever the image says;
// - a `healthcheck:` without `test`: the image's test (no check when the
//   image has none) with the file's timings;
// - each timing (interval, timeout, start_period, start_interval, retries)
//   that the file leaves unset or zero is the image's, and where the image
//   has none either, docker's default: 30 s, 30 s, 0 s, 5 s, 3.
// - a timing over a year is a year (an image's comes from a registry; see
//   kMaxTiming in the .cc).
//
// An image test of NONE, an empty one, or one starting with neither CMD nor
// CMD-SHELL is no check (docker ignores such a test too).
#pragma once

#include <optional>
#include <string_view>

#include "base/result.h"
#include "build/build_config.h"
#include "fleet/fleet_spec.h"
#include "image/store.h"

namespace vk::fleet {

// True when the file's health check leaves something to the image: then the
// image's HEALTHCHECK must be read.
bool InheritsFromImage(const std::optional<Healthcheck>& service);

// The check that runs, every timing filled in; nullopt: none runs.
std::optional<Healthcheck> EffectiveHealthcheck(const std::optional<Healthcheck>& service,
                                                const std::optional<build::HealthConfig>& image);

// The HEALTHCHECK of `image` (the reference the service names) as stored in
// `store`; nullopt when the image has none. The image must be stored already
// (it is once the service's VM booted from it): this never pulls.
Result<std::optional<build::HealthConfig>> ReadImageHealthcheck(image::Store& store,
                                                                std::string_view image);
// The same in the store `vk` and the library use by default, where the
// fleet's VMs boot from.
Result<std::optional<build::HealthConfig>> ReadImageHealthcheck(std::string_view image);

}  // namespace vk::fleet
