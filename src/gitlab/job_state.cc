#include "gitlab/job_state.h"

#include <dirent.h>
#include <sys/stat.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/names.h"
#include "base/private_dir.h"

namespace vk::gitlab {
namespace {

// A record is a few lines we wrote; anything larger was not written by us.
constexpr uint64_t kMaxRecordBytes = 64 << 10;

std::string RecordPath(const std::string& dir) { return dir + "/job.json"; }

}  // namespace

JobStates::JobStates(const std::string& data_dir)
    : root_(data_dir + "/gitlab/jobs"), lock_path_(data_dir + "/gitlab/jobs.lock") {}

Result<FileLock> JobStates::Lock() const {
  VK_TRY(EnsurePrivateDirectory(root_));
  return FileLock::Acquire(lock_path_);
}

Result<void> JobStates::Create(const std::string& name, const JobRecord& record) const {
  VK_TRY(CheckName(name, NameKind::kJob));
  VK_TRY(EnsurePrivateDirectory(root_));
  auto created = CreatePrivateDirectory(Path(name));
  if (!created.ok()) {
    if (created.error().errno_value() == EEXIST) {
      return Error(ErrorKind::kConflict, "the job " + name + " has state already");
    }
    return created;
  }
  // The guest reads the scripts through virtio-fs as any user: the job
  // directory above (0700) keeps other host users out.
  if (::mkdir(ScriptsDir(name).c_str(), 0755) != 0 || ::chmod(ScriptsDir(name).c_str(), 0755)) {
    return Error::FromErrno("create " + ScriptsDir(name));
  }
  return Write(name, record);
}

Result<JobRecord> JobStates::Read(const std::string& name) const {
  VK_TRY(CheckName(name, NameKind::kJob));
  auto bytes = ReadFileBytes(RecordPath(Path(name)), kMaxRecordBytes);
  if (!bytes.ok()) {
    return Error(ErrorKind::kNotFound,
                 "no state for the job " + name + ": " + bytes.error().message());
  }
  auto json = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(ErrorKind::kInternal, RecordPath(Path(name)) + " is not a job record");
  }
  JobRecord record;
  auto created = json.find("created");
  if (created != json.end() && created->is_number_integer()) record.created = *created;
  auto shell = json.find("shell");
  if (shell != json.end() && shell->is_string()) record.shell = *shell;
  auto user = json.find("user");
  if (user != json.end() && user->is_string()) record.user = *user;
  return record;
}

Result<void> JobStates::Write(const std::string& name, const JobRecord& record) const {
  VK_TRY(CheckName(name, NameKind::kJob));
  nlohmann::json json = {
      {"created", record.created}, {"shell", record.shell}, {"user", record.user}};
  const std::string path = RecordPath(Path(name));
  VK_TRY(WritePrivateFile(path + ".tmp", json.dump() + "\n"));
  if (::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
    return Error::FromErrno("rename " + path);
  }
  return Ok();
}

Result<RemoveOutcome> JobStates::Remove(const std::string& name) const {
  VK_TRY(CheckName(name, NameKind::kJob));
  struct stat st {};
  if (::lstat(root_.c_str(), &st) != 0 && errno == ENOENT) return RemoveOutcome::kAbsent;
  return RemoveTreeWithin(root_, Path(name));
}

std::vector<std::string> JobStates::Names() const {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(root_.c_str()), &::closedir);
  if (!dir) return names;
  while (const dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    bool dir_entry = entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN;
    if (dir_entry && CheckName(name, NameKind::kJob).ok()) names.push_back(name);
  }
  return names;
}

}  // namespace vk::gitlab
