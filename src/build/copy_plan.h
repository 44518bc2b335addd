// COPY/ADD destination rules (BuildKit's dispatchCopy): where each selected
// file lands in the image, with which owner and mode, as entries of the
// step's layer. Parent directories that exist in the stage keep their
// metadata (a COPY into /tmp must not make it 0755); missing ones are made
// root-owned 0755, or the --chown owner's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/layer_tar.h"
#include "build/source_files.h"
#include "build/stage_files.h"

namespace vk::build {

struct CopyOwner {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct CopyRequest {
  std::vector<SourceMatch> matches;  // in source order
  std::string destination;           // as written (expanded), relative to `workdir` if not absolute
  std::string workdir;               // the stage's WORKDIR ("/" when unset)
  std::optional<CopyOwner> owner;    // --chown; else what the source says (0:0 for the context)
  std::optional<uint32_t> mode;      // --chmod
  bool several_sources = false;      // more than one source argument
};

// Adds the copied entries to `layer`; `stage` answers which destination
// paths exist. kUsage errors say what to change in the Dockerfile.
Result<void> PlanCopy(const CopyRequest& request, StageFiles& stage, LayerTar& layer);

// --chmod=0755 (octal; BuildKit also takes symbolic modes, which are refused
// here with a message).
Result<uint32_t> ParseChmod(std::string_view text);

// --chown=USER[:GROUP] with names looked up in the stage's /etc/passwd and
// /etc/group (numbers taken as they are); USER alone takes its primary group.
Result<CopyOwner> ResolveChown(std::string_view text, StageFiles& stage);

}  // namespace vk::build
