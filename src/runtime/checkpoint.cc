#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "base/file_io.h"
#include "base/private_dir.h"
#include "base/remove_tree.h"
#include "base/sparse_copy.h"
#include "base/unix_socket.h"
#include "proto/control_line.h"

namespace vk {
namespace {

constexpr char kSpecFile[] = "spec.json";
// Abuse bound: a spec is a few hundred bytes; a huge file is not one.
constexpr uint64_t kMaxSpecBytes = 1 << 20;

// Makes `from` the checkpoint: renamed into place, or swapped with an
// older one (renameat2 RENAME_EXCHANGE) which is then removed.
Result<void> Publish(const VmDir& state_dir, const std::string& from) {
  std::string to = state_dir.Checkpoint();
  if (::rename(from.c_str(), to.c_str()) == 0) return Ok();
  if (errno != ENOTEMPTY && errno != EEXIST) return Error::FromErrno("rename into " + to);
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) != 0) {
    return Error::FromErrno("replace " + to);
  }
  (void)RemoveTreeWithin(state_dir.path(), from);  // the older checkpoint, now under `from`
  return Ok();
}

Result<void> CopyDisks(const CheckpointSpec& spec, const std::string& dir) {
  for (const WritableDisk& disk : WritableDisks(spec)) {
    VK_TRY_CTX(CopySparseFile(disk.path, dir + "/" + disk.file), "copy the VM's disk");
  }
  return Ok();
}

// One request on the agent's control port, and its "ok" or error reply.
Result<void> SendControlRequest(const std::string& control_socket,
                                const proto::ControlRequest& request) {
  UniqueFd fd = VK_TRY(ConnectUnix(control_socket));
  // The agent answers at once, but a restored guest on a loaded PVM host
  // first faults its pages back in (seen: over 10 s); a stuck guest must
  // still not hold vk.
  timeval timeout{30, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string line = proto::FormatControlRequest(request);
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    return Error::FromErrno("send to the guest agent");
  }
  std::string reply;
  char c;
  while (reply.size() < 256 && ::recv(fd.get(), &c, 1, 0) == 1 && c != '\n') reply += c;
  if (reply == "ok") return Ok();
  if (reply.empty()) return Error("the guest agent did not answer");
  return Error("the guest agent: " + reply);
}

}  // namespace

std::string CheckpointSnapshotDirectory(const VmDir& state_dir) {
  return state_dir.Checkpoint() + "/snapshot";
}

Result<std::string> WriteCheckpoint(Machine& machine, CheckpointSpec spec, const VmDir& state_dir,
                                    const PausedHook& while_paused) {
  std::string temp = state_dir.CheckpointInProgress();
  VK_TRY(RemoveTreeWithin(state_dir.path(), temp));  // left by a VMM that died while writing one
  VK_TRY(CreatePrivateDirectory(temp));
  auto written = [&]() -> Result<void> {
    VK_TRY(machine.SaveSnapshot(temp + "/snapshot"));
    if (while_paused) VK_TRY(while_paused(spec));
    VK_TRY(CopyDisks(spec, temp));  // the devices are held: no request changes them
    VK_TRY(WritePrivateFile(temp + "/" + kSpecFile, EncodeCheckpointSpec(spec)));
    return Publish(state_dir, temp);
  }();
  if (!written.ok()) (void)RemoveTreeWithin(state_dir.path(), temp);
  VK_TRY(std::move(written));
  return state_dir.Checkpoint();
}

Result<CheckpointSpec> ReadCheckpointSpec(const VmDir& state_dir) {
  std::string path = state_dir.Checkpoint() + "/" + kSpecFile;
  if (::access(path.c_str(), F_OK) != 0) return Error("it has no checkpoint");
  std::vector<uint8_t> bytes = VK_TRY(ReadFileBytes(path, kMaxSpecBytes));
  return DecodeCheckpointSpec(
             std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))
      .Context(path);
}

Result<void> RecordFinalCommandProgress(const VmDir& state_dir,
                                        const proto::AttachRequest& progress) {
  CheckpointSpec spec = VK_TRY(ReadCheckpointSpec(state_dir));
  if (!spec.command || spec.command->pid != progress.pid ||
      spec.command->stdout_bytes > progress.stdout_bytes ||
      spec.command->stderr_bytes > progress.stderr_bytes) {
    return Ok();
  }
  spec.command = progress;
  const std::string path = state_dir.Checkpoint() + "/" + kSpecFile;
  const std::string temp = path + ".tmp";
  VK_TRY(WritePrivateFile(temp, EncodeCheckpointSpec(spec)));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto error = Error::FromErrno("replace " + path);
    ::unlink(temp.c_str());
    return error;
  }
  return Ok();
}

Result<void> RestoreCheckpointDisks(const CheckpointSpec& spec, const VmDir& state_dir) {
  for (const WritableDisk& disk : WritableDisks(spec)) {
    std::string copy = state_dir.Checkpoint() + "/" + disk.file;
    std::string temp = disk.path + ".vk-restore";
    ::unlink(temp.c_str());  // left by an interrupted restore
    VK_TRY_CTX(CopySparseFile(copy, temp), "put back " + disk.path);
    // A user's own disk keeps its permissions (a copy is 0600).
    struct stat st;
    if (::stat(disk.path.c_str(), &st) == 0) (void)::chmod(temp.c_str(), st.st_mode & 07777);
    if (::rename(temp.c_str(), disk.path.c_str()) != 0) {
      auto error = Error::FromErrno("replace " + disk.path);
      ::unlink(temp.c_str());
      return error;
    }
  }
  return Ok();
}

Result<void> RefreshRestoredGuest(const std::string& control_socket) {
  // First, so a reader blocked on a dead connection wakes up at once; its
  // failure does not keep the guest from being reseeded and set.
  proto::ControlRequest reset_tcp{proto::ControlRequest::Kind::kResetTcp, 0, {}};
  auto reset = SendControlRequest(control_socket, reset_tcp)
                   .Context("reset the guest's connections to the outside");
  proto::ControlRequest entropy{proto::ControlRequest::Kind::kEntropy, 0, {}};
  entropy.entropy.resize(proto::kMaxControlEntropy);
  if (::getrandom(entropy.entropy.data(), entropy.entropy.size(), 0) !=
      static_cast<ssize_t>(entropy.entropy.size())) {
    return Error::FromErrno("getrandom");
  }
  VK_TRY_CTX(SendControlRequest(control_socket, entropy), "reseed the guest's CRNG");
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  proto::ControlRequest clock{
      proto::ControlRequest::Kind::kClock, static_cast<uint64_t>(now.count()), {}};
  VK_TRY_CTX(SendControlRequest(control_socket, clock), "set the guest's clock");
  return reset;
}

}  // namespace vk
