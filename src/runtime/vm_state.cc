#include "runtime/vm_state.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/private_dir.h"
#include "base/strings.h"

namespace vk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

}  // namespace

Result<void> WriteVmRecord(const VmDir& dir, const VmRecord& r) {
  json j = {{"name", r.name},      {"disk", r.disk},
            {"cpus", r.cpus},      {"memory_bytes", r.memory_bytes},
            {"pid", r.pid},        {"pid_start_time", r.pid_start_time},
            {"created", r.created}};
  if (r.exit_code) j["exit_code"] = *r.exit_code;
  if (r.checkpointed) j["checkpointed"] = true;
  if (!r.publish.empty()) j["publish"] = r.publish;
  if (!r.vmm.empty()) j["vmm"] = r.vmm;
  if (!r.env.empty()) j["env"] = r.env;
  std::string tmp = dir.Record() + ".tmp";
  VK_TRY(WritePrivateFile(tmp, j.dump(2) + "\n"));
  std::error_code error;
  fs::rename(tmp, dir.Record(), error);  // atomic: readers never see half a file
  if (error) return Error("cannot write " + dir.Record() + ": " + error.message());
  return Ok();
}

Result<VmRecord> ReadVmRecord(const VmDir& dir) {
  std::ifstream file(dir.Record());
  if (!file) return Error(ErrorKind::kNotFound, "no VM state in " + dir.path());
  try {
    json j = json::parse(file);
    VmRecord r;
    r.name = j.at("name").get<std::string>();
    r.disk = j.value("disk", "");
    r.cpus = j.value("cpus", 1u);
    r.memory_bytes = j.value("memory_bytes", uint64_t{0});
    r.pid = j.at("pid").get<pid_t>();
    r.pid_start_time = j.value("pid_start_time", uint64_t{0});
    r.created = j.value("created", int64_t{0});
    if (j.contains("exit_code")) r.exit_code = j["exit_code"].get<int>();
    r.checkpointed = j.value("checkpointed", false);
    r.publish = j.value("publish", std::vector<std::string>{});
    r.vmm = j.value("vmm", std::string());
    r.env = j.value("env", std::vector<std::string>{});
    return r;
  } catch (const json::exception& e) {
    return Error(dir.Record() + " is corrupt: " + e.what());
  }
}

namespace {

// /proc/PID/stat from field 3 (the state) on, or "" when there is no such
// process.
std::string StatFieldsAfterComm(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), {});
  size_t end_of_comm = stat.rfind(')');  // the command name may contain spaces
  if (end_of_comm == std::string::npos || end_of_comm + 2 >= stat.size()) return "";
  return stat.substr(end_of_comm + 2);
}

}  // namespace

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  std::istringstream fields(StatFieldsAfterComm(pid));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return ParseUint(field);
  }
  return std::nullopt;
}

bool VmmAlive(const VmRecord& record) {
  if (record.pid <= 0 || ::kill(record.pid, 0) != 0) return false;
  // An exited VMM not yet reaped by its parent (a detached one's is whoever
  // adopted it) is gone: its state is already recorded.
  std::string fields = StatFieldsAfterComm(record.pid);
  if (fields.empty() || fields[0] == 'Z' || fields[0] == 'X') return false;
  auto start = ProcessStartTime(record.pid);
  return start && *start == record.pid_start_time;
}

VmState StateOf(const VmRecord& record) {
  if (VmmAlive(record)) return VmState::kRunning;
  if (record.checkpointed) return VmState::kCheckpointed;
  return record.exit_code ? VmState::kExited : VmState::kDead;
}

}  // namespace vk
