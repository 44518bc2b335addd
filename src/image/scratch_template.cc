#include "image/scratch_template.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/sparse_copy.h"
#include "image/build.h"

namespace vk::image {
namespace {

// Bump when CreateScratchDisk's output changes.
constexpr char kTemplateFormat[] = "virtkit-scratch-3";

}  // namespace

std::string ScratchTemplateName(uint64_t size_bytes) {
  return fmt::format("{}-{}.ext4", kTemplateFormat, size_bytes);
}

bool IsCurrentScratchTemplate(std::string_view file_name) {
  const std::string prefix = std::string(kTemplateFormat) + "-";
  return file_name.starts_with(prefix) && file_name.ends_with(".ext4");
}

Result<void> CreateScratchDiskFromTemplate(const std::string& template_dir,
                                           const std::string& output, uint64_t size_bytes) {
  std::string path = template_dir + "/" + ScratchTemplateName(size_bytes);
  struct stat st;
  bool usable = ::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == size_bytes;
  if (!usable) {
    std::error_code error;
    std::filesystem::create_directories(template_dir, error);
    if (error) return Error(fmt::format("create {}: {}", template_dir, error.message()));
    // Written to a temp file and renamed: concurrent runs that both make it
    // write the same bytes, and a reader never sees half of it.
    VK_TRY_CTX(CreateScratchDisk(path, size_bytes), "scratch disk template");
  }
  return CopySparseFile(path, output);
}

}  // namespace vk::image
