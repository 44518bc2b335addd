#include "image/rootfs_image.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>

#include "image/fingerprint.h"
#include "image/pull.h"
#include "image/reference.h"

extern char** environ;

namespace vk::image {
namespace {

Result<void> RunProgram(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (err != 0) {
    return Error::FromErrno("run " + argv[0] + " (install it: apt-get install " + argv[0] + ")",
                            err);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::FromErrno("wait for " + argv[0]);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error(argv[0] + " failed (exit status " + std::to_string(WEXITSTATUS(status)) +
                 "); its messages are above");
  return Ok();
}

}  // namespace

Result<ImageRecord> StoreRootfsTar(Store& store, const std::string& name,
                                   const std::string& tar_path, ImageConfig config) {
  ImageSource source = VK_TRY(ParseImageSource(name));
  if (source.kind != SourceKind::kRegistry)
    return Error("name an image like NAME[:TAG], not " + name);
  FileLock gc = VK_TRY(store.LockForWriting());
  std::string layer = "sha256:" + DigestHex(VK_TRY(DigestFile(tar_path)));
  struct stat st;
  if (::stat(tar_path.c_str(), &st) != 0) return Error::FromErrno("stat " + tar_path);
  ::chmod(tar_path.c_str(), 0444);
  VK_TRY_CTX(store.AdoptBlob(tar_path, layer), "move " + tar_path + " into the store");
  config.diff_ids = {layer};
  std::string config_json = SerializeImageConfig(config);
  Descriptor config_descriptor{std::string(kOciConfig),
                               VK_TRY(store.PutBlob(config_json)),
                               config_json.size(),
                               std::nullopt,
                               {}};
  Descriptor layer_descriptor{
      std::string(kOciLayer), layer, static_cast<uint64_t>(st.st_size), std::nullopt, {}};
  std::string manifest = SerializeOciManifest(config_descriptor, {layer_descriptor});
  ImageRecord record;
  record.name = StoreName(source);
  record.source = name;
  record.manifest_digest = VK_TRY(store.PutBlob(manifest));
  record.config_digest = config_descriptor.digest;
  record.layers = {layer};
  record.size = config_json.size() + static_cast<uint64_t>(st.st_size);
  record.platform = config.os + "/" + config.architecture;
  record.created = std::time(nullptr);
  VK_TRY(store.WriteImage(record));
  return record;
}

Result<ImageRecord> ImageFromDebian(Store& store, const std::string& name,
                                    const DebianOptions& options) {
  std::string tar = store.TempPath("debian") + ".tar";
  std::vector<std::string> argv = {"mmdebstrap", "--variant=minbase", "--format=tar",
                                   "--mode=auto"};
  std::string include;
  for (const std::string& p : options.packages) include += (include.empty() ? "" : ",") + p;
  if (!include.empty()) argv.push_back("--include=" + include);
  argv.push_back(options.suite);
  argv.push_back(tar);
  if (!options.mirror.empty()) argv.push_back(options.mirror);
  auto built = RunProgram(argv);
  if (!built.ok()) {
    ::unlink(tar.c_str());
    return std::move(built).error().WithContext("build a Debian " + options.suite + " root");
  }
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  config.cmd = {"bash"};
  auto record = StoreRootfsTar(store, name, tar, config);
  if (!record.ok()) ::unlink(tar.c_str());
  return record;
}

}  // namespace vk::image
