// Options as the RunSpec JSON `vk supervise` reads on stdin (version 1,
// docs/protocol.md "vk supervise"; src/runtime/run_spec.h decodes it).
#pragma once

#include <string>
#include <string_view>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

// `name` is the VM's (generated when the options have none); `layer_dir`
// the staged rootfs hook output ("" for none). Options must be validated.
Result<std::string> EncodeRunSpec(std::string_view image, const Options& options,
                                  const std::string& name, const std::string& layer_dir);

// A fresh VM name: "vm-" and six hex digits.
std::string GenerateName();

}  // namespace virtkit::internal
