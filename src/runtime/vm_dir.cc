#include "runtime/vm_dir.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <utility>

#include "base/names.h"
#include "base/private_dir.h"

namespace vk {

Result<std::string> VmDir::Root() { return VK_TRY(RuntimeDirectory()) + "/vms"; }

std::string VmDir::RootFor(const std::string& data_dir) {
  return RuntimeDirectoryFor(data_dir) + "/vms";
}

Result<VmDir> VmDir::Named(const std::string& name, const std::string& root) {
  VK_TRY(CheckName(name, NameKind::kVm));
  std::string in = root.empty() ? VK_TRY(Root()) : root;
  return VmDir(in, in + "/" + name, Ownership::kKept);
}

Result<VmDir> VmDir::CreateNamed(const std::string& name) {
  VK_TRY(CheckName(name, NameKind::kVm));
  std::string root = VK_TRY(Root());
  VK_TRY(EnsurePrivateDirectory(root));
  std::string dir = root + "/" + name;
  auto created = CreatePrivateDirectory(dir);
  if (!created.ok() && created.error().errno_value() == EEXIST) {
    return Error(ErrorKind::kConflict,
                 "a VM named " + name + " exists: pick another --name or remove it with `vk rm " +
                     name + "`");
  }
  VK_TRY(std::move(created));
  return VmDir(root, dir, Ownership::kRemovedUnlessKept);
}

Result<VmDir> VmDir::CreateTemporary() {
  namespace fs = std::filesystem;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  fs::path base = runtime && *runtime ? fs::path(runtime) : fs::temp_directory_path();
  std::string pattern = (base / "vk-launch.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return Error::FromErrno("create " + pattern);
  return VmDir(base.string(), pattern, Ownership::kRemovedUnlessKept);
}

VmDir VmDir::At(std::string path) { return VmDir("", std::move(path), Ownership::kKept); }

VmDir::VmDir(std::string root, std::string path, Ownership ownership)
    : root_(std::move(root)), path_(std::move(path)), ownership_(ownership) {}

VmDir::VmDir(VmDir&& other) noexcept
    : root_(std::move(other.root_)),
      path_(std::exchange(other.path_, "")),
      ownership_(std::exchange(other.ownership_, Ownership::kKept)) {}

VmDir& VmDir::operator=(VmDir&& other) noexcept {
  if (this != &other) {
    this->~VmDir();
    new (this) VmDir(std::move(other));
  }
  return *this;
}

VmDir::~VmDir() {
  if (path_.empty() || ownership_ == Ownership::kKept) return;
  if (auto removed = RemoveTreeWithin(root_, path_); !removed.ok()) {
    std::fprintf(stderr, "vk: %s\n", removed.error().message().c_str());
  }
}

Result<RemoveOutcome> VmDir::Remove() {
  if (root_.empty()) return Error("cannot remove " + path_ + ": not a VM's state directory");
  RemoveOutcome outcome = VK_TRY(RemoveTreeWithin(root_, path_));
  ownership_ = Ownership::kKept;  // gone: nothing left to remove
  return outcome;
}

std::string VmDir::GuestConnectSocket(uint32_t port) const {
  return path_ + "/vsock.sock_" + std::to_string(port);
}

}  // namespace vk
