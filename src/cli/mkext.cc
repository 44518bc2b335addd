// `vk mkext-tar`, `vk mkext`, `vk fingerprint`: rootless, reproducible ext4
// images from tar archives / OCI layers / a host directory, and a freshness
// check of an image against its inputs.
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "base/strings.h"
#include "cli/command.h"
#include "image/build.h"

namespace vk::cli {
namespace {

// `vk fingerprint` exit codes.
constexpr int kFresh = 0;
constexpr int kStale = 1;
constexpr int kFingerprintError = 2;

struct MkextArgs {
  std::vector<std::string> positionals;  // inputs..., output
  std::string size;
  std::string uuid;
  bool oci_layers = false;
  uint64_t max_entries = image::Limits{}.max_entries;
  std::string max_bytes;
};

void AddCommonOptions(CLI::App& app, MkextArgs& a) {
  app.add_option("--size", a.size, "Image size, e.g. 2G (default: content + headroom)");
  app.add_option("--uuid", a.uuid, "Filesystem UUID (default: the build fingerprint)");
  app.add_option("--max-entries", a.max_entries, "Refuse inputs with more entries");
  app.add_option("--max-bytes", a.max_bytes, "Refuse inputs with more file data, e.g. 64G");
}

Result<image::BuildOptions> ParseOptions(const MkextArgs& a) {
  image::BuildOptions o;
  if (!a.size.empty()) o.size_bytes = VK_TRY_CTX(ParseSize(a.size), "--size");
  if (!a.uuid.empty()) o.uuid = VK_TRY_CTX(image::ParseUuid(a.uuid), "--uuid");
  o.limits.max_entries = a.max_entries;
  if (!a.max_bytes.empty())
    o.limits.max_total_bytes = VK_TRY_CTX(ParseSize(a.max_bytes), "--max-bytes");
  return o;
}

int Report(const char* command, const Result<image::BuildResult>& result) {
  if (!result.ok()) {
    std::fprintf(stderr, "vk %s: %s\n", command, result.error().message().c_str());
    return kExitUsage;
  }
  std::printf("uuid %s size %llu fingerprint sha256:%s\n", image::FormatUuid(result->uuid).c_str(),
              static_cast<unsigned long long>(result->size_bytes),
              image::DigestHex(result->fingerprint).c_str());
  return 0;
}

int RunMkextTar(const MkextArgs& a) {
  auto options = ParseOptions(a);
  if (!options.ok() || a.positionals.size() < 2) {
    std::fprintf(stderr, "vk mkext-tar: %s\n",
                 options.ok() ? "usage: vk mkext-tar IN.tar|- [IN2.tar...] OUT.ext4"
                              : options.error().message().c_str());
    return kExitUsage;
  }
  std::vector<std::string> inputs(a.positionals.begin(), a.positionals.end() - 1);
  auto whiteouts = a.oci_layers ? image::Whiteouts::kOci : image::Whiteouts::kLiteral;
  return Report("mkext-tar",
                image::BuildExt4FromTars(inputs, whiteouts, a.positionals.back(), *options));
}

int RunMkext(const MkextArgs& a) {
  auto options = ParseOptions(a);
  if (!options.ok() || a.positionals.size() != 2) {
    std::fprintf(stderr, "vk mkext: %s\n",
                 options.ok() ? "usage: vk mkext DIR OUT.ext4" : options.error().message().c_str());
    return kExitUsage;
  }
  return Report("mkext", image::BuildExt4FromDir(a.positionals[0], a.positionals[1], *options));
}

int RunFingerprint(const MkextArgs& a) {
  if (a.positionals.size() < 2) {
    std::fprintf(stderr, "vk fingerprint: usage: vk fingerprint IMG INPUT...\n");
    return kFingerprintError;
  }
  std::vector<std::string> inputs(a.positionals.begin() + 1, a.positionals.end());
  struct stat st;
  bool is_dir = inputs.size() == 1 && ::stat(inputs[0].c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  image::InputKind kind = is_dir         ? image::InputKind::kDirectory
                          : a.oci_layers ? image::InputKind::kOciLayers
                                         : image::InputKind::kTar;
  auto size = a.size.empty() ? Result<uint64_t>(0) : ParseSize(a.size);
  auto uuid = image::ReadImageUuid(a.positionals[0]);
  auto fingerprint = size.ok() ? image::FingerprintInputs(kind, inputs, *size)
                               : Result<image::Digest>(size.error());
  if (!uuid.ok() || !fingerprint.ok()) {
    std::fprintf(stderr, "vk fingerprint: %s\n",
                 (!uuid.ok() ? uuid.error() : fingerprint.error()).message().c_str());
    return kFingerprintError;
  }
  image::Uuid want = image::UuidFromFingerprint(*fingerprint);
  bool fresh = want == *uuid;
  std::printf("%s: %s (image %s, inputs %s)\n", a.positionals[0].c_str(), fresh ? "fresh" : "stale",
              image::FormatUuid(*uuid).c_str(), image::FormatUuid(want).c_str());
  return fresh ? kFresh : kStale;
}

Runner SetupMkextTar(CLI::App& app) {
  auto a = std::make_shared<MkextArgs>();
  app.add_option("args", a->positionals, "IN.tar|- [IN2.tar...] OUT.ext4")->required();
  app.add_flag("--oci-layers", a->oci_layers,
               "Inputs are OCI layers (lowest first): apply whiteouts");
  AddCommonOptions(app, *a);
  return [a] { return RunMkextTar(*a); };
}

Runner SetupMkext(CLI::App& app) {
  auto a = std::make_shared<MkextArgs>();
  app.add_option("args", a->positionals, "DIR OUT.ext4")->required();
  AddCommonOptions(app, *a);
  return [a] { return RunMkext(*a); };
}

Runner SetupFingerprint(CLI::App& app) {
  auto a = std::make_shared<MkextArgs>();
  app.add_option("args", a->positionals, "IMG INPUT... (tars, layers or one directory)")
      ->required();
  app.add_flag("--oci-layers", a->oci_layers, "The image was built with --oci-layers");
  app.add_option("--size", a->size, "The --size the image was built with");
  app.footer("Exit status: 0 fresh, 1 stale, 2 error.");
  return [a] { return RunFingerprint(*a); };
}

Command kMkextTar("mkext-tar", "Build an ext4 image from tar archives (rootless)", &SetupMkextTar);
Command kMkext("mkext", "Build an ext4 image from a directory (rootless)", &SetupMkext);
Command kFingerprint("fingerprint", "Check an image's UUID against its inputs", &SetupFingerprint);

}  // namespace
}  // namespace vk::cli
