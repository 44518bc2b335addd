// Options as the RunSpec JSON `vk supervise` reads on stdin (version 1,
// docs/protocol.md "vk supervise"; src/runtime/run_spec.h decodes it).
#pragma once

#include <string>
#include <string_view>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

// `name` is the VM's (generated when the options have none); `staged` the
// rootfs hooks' output (nullptr for none). Options must be validated.
Result<std::string> EncodeRunSpec(std::string_view image, const Options& options,
                                  const std::string& name, const Rootfs* staged);

// A fresh VM name: "vm-" and six hex digits.
std::string GenerateName();

}  // namespace virtkit::internal
