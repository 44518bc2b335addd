#include "vmm/vm_state.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/strings.h"

namespace vk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

}  // namespace

std::string VmsDirectory() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && *runtime != '\0') return std::string(runtime) + "/virtkit/vms";
  const char* home = std::getenv("VIRTKIT_HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/vms";
  const char* user_home = std::getenv("HOME");
  return std::string(user_home ? user_home : "/tmp") + "/.local/share/virtkit/vms";
}

std::string VmDirectory(const std::string& name) { return VmsDirectory() + "/" + name; }

Result<void> CheckVmName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  }
  if (!ok) return Error("invalid VM name '" + name + "': use letters, digits, '-', '_' and '.'");
  return Ok();
}

Result<void> WriteVmRecord(const std::string& dir, const VmRecord& r) {
  json j = {{"name", r.name},      {"disk", r.disk},
            {"cpus", r.cpus},      {"memory_bytes", r.memory_bytes},
            {"pid", r.pid},        {"pid_start_time", r.pid_start_time},
            {"created", r.created}};
  if (r.exit_code) j["exit_code"] = *r.exit_code;
  std::string tmp = dir + "/vm.json.tmp";
  {
    std::ofstream file(tmp, std::ios::trunc);
    file << j.dump(2) << "\n";
    if (!file) return Error("cannot write " + tmp);
  }
  std::error_code error;
  fs::rename(tmp, dir + "/vm.json", error);  // atomic: readers never see half a file
  if (error) return Error("cannot write " + dir + "/vm.json: " + error.message());
  return Ok();
}

Result<VmRecord> ReadVmRecord(const std::string& dir) {
  std::ifstream file(dir + "/vm.json");
  if (!file) return Error("no VM state in " + dir);
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
    return r;
  } catch (const json::exception& e) {
    return Error(dir + "/vm.json is corrupt: " + e.what());
  }
}

std::vector<VmRecord> ListVms() {
  std::vector<VmRecord> records;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(VmsDirectory(), error)) {
    auto record = ReadVmRecord(entry.path().string());
    if (record.ok()) records.push_back(std::move(*record));
  }
  std::sort(records.begin(), records.end(),
            [](const VmRecord& a, const VmRecord& b) { return a.name < b.name; });
  return records;
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), {});
  size_t end_of_comm = stat.rfind(')');  // the command name may contain spaces
  if (end_of_comm == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(end_of_comm + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return ParseUint(field);
  }
  return std::nullopt;
}

bool VmmAlive(const VmRecord& record) {
  if (record.pid <= 0 || ::kill(record.pid, 0) != 0) return false;
  auto start = ProcessStartTime(record.pid);
  return start && *start == record.pid_start_time;
}

VmState StateOf(const VmRecord& record) {
  if (VmmAlive(record)) return VmState::kRunning;
  return record.exit_code ? VmState::kExited : VmState::kDead;
}

}  // namespace vk
