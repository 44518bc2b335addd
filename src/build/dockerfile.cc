#include "build/dockerfile.h"

namespace vk::build {

// Heredoc bodies are part of what the step does, so they are part of its
// key; appended the way BuildKit records ONBUILD triggers.
std::string Instruction::CacheText() const {
  std::string out = text;
  for (const Heredoc& heredoc : heredocs) out += "\n" + heredoc.content + heredoc.name;
  return out;
}

}  // namespace vk::build
