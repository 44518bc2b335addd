// A job's state on the host, one directory per job VM:
//
//   $VIRTKIT_HOME/gitlab/jobs/<vm name>/    0700; its existence is the job's slot
//     job.json    when prepare started, and the shell and user it chose
//     scripts/    stage scripts on their way into the VM (shared read-only)
//   $VIRTKIT_HOME/gitlab/jobs.lock          held while slots are counted or taken
//
// prepare creates it before the VM starts and cleanup removes it after the
// VM, so a job VM without a directory is always a stray.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/file_lock.h"
#include "base/remove_tree.h"
#include "base/result.h"

namespace vk::gitlab {

struct JobRecord {
  int64_t created = 0;  // unix seconds
  std::string shell;    // what runs the stage scripts in the VM; empty until the VM is up
  std::string user;     // the scripts' user (empty: the image's)
};

class JobStates {
 public:
  explicit JobStates(const std::string& data_dir);

  // The lock every slot decision is made under (created on first use).
  Result<FileLock> Lock() const;
  // The job's directory with its scripts dir and record; an existing one is
  // an ErrorKind::kConflict.
  Result<void> Create(const std::string& name, const JobRecord& record) const;
  Result<JobRecord> Read(const std::string& name) const;
  Result<void> Write(const std::string& name, const JobRecord& record) const;
  Result<RemoveOutcome> Remove(const std::string& name) const;
  // The names of every job with a directory.
  std::vector<std::string> Names() const;

  std::string Path(const std::string& name) const { return root_ + "/" + name; }
  std::string ScriptsDir(const std::string& name) const { return Path(name) + "/scripts"; }

 private:
  std::string root_;       // .../gitlab/jobs
  std::string lock_path_;  // .../gitlab/jobs.lock
};

}  // namespace vk::gitlab
