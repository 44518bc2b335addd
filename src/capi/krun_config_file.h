// /.krun_config.json: the workload description libkrun's guest init reads
// from the root before it starts the workload (docs/libkrun.md,
// "/.krun_config.json"). virtkit reads it on the host, from the root
// directory, and merges it into the launch with libkrun's precedence.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::capi {

// The file's size limit: a workload description, not data.
inline constexpr size_t kMaxKrunConfigFileBytes = 1u << 20;

struct KrunConfigFile {
  std::vector<std::string> argv;        // Entrypoint + Cmd (or args); empty: none given
  std::vector<std::string> env;         // "NAME=value"
  std::optional<std::string> workdir;   // WorkingDir / Cwd / cwd
  std::optional<std::string> tmpfs_at;  // the first tmpfs mount's destination
};

// Parses the file's text. Keys as libkrun's Rust init matches them: exact
// names, at the top level or, for an OCI runtime config, under "process".
// Entries of the wrong type are skipped, as libkrun's init skips them; text
// that is not a JSON object is an error (the caller then ignores the file).
Result<KrunConfigFile> ParseKrunConfigFile(std::string_view text);

// Reads `guest_path` ("/.krun_config.json", or $KRUN_CONFIG) under the root
// directory `root_dir`. nullopt when the file is missing, unreadable or not
// valid: libkrun ignores such a file silently.
std::optional<KrunConfigFile> ReadKrunConfigFile(const std::string& root_dir,
                                                 std::string_view guest_path);

}  // namespace vk::capi
