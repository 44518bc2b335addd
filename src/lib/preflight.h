// Preflight: the built-in checks (virtkit::preflight::*) and running a list
// of checks before anything is pulled or started.
#pragma once

#include <vector>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

// Free disk the data directory needs beyond the image: the VM's writable
// layer and logs start small but a pull or base conversion needs room.
inline constexpr uint64_t kMinFreeDiskBytes = 1ull << 30;

// The built-ins for `options` (unless disabled), then options.preflight.
std::vector<PreflightCheck> ChecksFor(const Options& options, const std::string& data_dir);

// Runs every check; the required ones that fail are reported together in
// one ErrorKind::kPreflight error; advisory failures go to `on_warning`.
Result<void> RunPreflight(const std::vector<PreflightCheck>& checks,
                          const std::function<void(std::string_view)>& on_warning);

}  // namespace virtkit::internal
