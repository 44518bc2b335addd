#include "fleet/fleet_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/names.h"
#include "base/private_dir.h"
#include "base/remove_tree.h"
#include "runtime/vm_state.h"

namespace vk::fleet {

// Abuse bound: a controller.json is a few dozen bytes.
constexpr uint64_t kMaxRecordBytes = 4096;

FleetDir::FleetDir(std::string root, std::string name)
    : root_(std::move(root)), name_(std::move(name)), path_(root_ + "/" + name_) {}

Result<std::string> FleetDir::Root() { return VK_TRY(RuntimeDirectory()) + "/fleets"; }

Result<FleetDir> FleetDir::Named(const std::string& name) {
  VK_TRY(CheckName(name, NameKind::kFleet));
  return FleetDir(VK_TRY(Root()), name);
}

Result<void> FleetDir::Create() const {
  VK_TRY(EnsurePrivateDirectory(path_));
  return EnsurePrivateDirectory(path_ + "/logs");
}

Result<void> FleetDir::Remove() const {
  VK_TRY_CTX(RemoveTreeWithin(root_, path_), "remove " + path_);
  return Ok();
}

std::string FleetDir::ServiceLog(const std::string& service) const {
  return path_ + "/logs/" + service + ".log";  // service names are checked by fleet_validate
}

std::vector<std::string> FleetDir::LoggedServices() const {
  std::vector<std::string> services;
  std::error_code ec;
  // increment(ec), not ++: nothing here may throw.
  std::filesystem::directory_iterator it(path_ + "/logs", ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::filesystem::path file = it->path();
    std::error_code entry_ec;  // one unreadable entry ends nothing
    bool regular = it->symlink_status(entry_ec).type() == std::filesystem::file_type::regular;
    if (file.extension() != ".log" || !regular) continue;
    std::string service = file.stem().string();
    if (CheckName(service, NameKind::kVm).ok()) services.push_back(service);
  }
  std::sort(services.begin(), services.end());
  return services;
}

Result<std::string> ServiceVmName(const std::string& fleet, const std::string& service) {
  std::string name = fleet + "-" + service;
  VK_TRY_CTX(CheckName(name, NameKind::kVm),
             "service \"" + service + "\" of fleet \"" + fleet +
                 "\": its VM name is too long; shorten the fleet's or the service's name");
  return name;
}

Result<void> WriteControllerRecord(const FleetDir& dir) {
  pid_t pid = ::getpid();
  nlohmann::json record = {{"pid", pid}, {"start_time", ProcessStartTime(pid).value_or(0)}};
  std::string temporary = dir.Record() + ".tmp";
  VK_TRY(WritePrivateFile(temporary, record.dump() + "\n"));
  if (::rename(temporary.c_str(), dir.Record().c_str()) != 0) {
    return Error::FromErrno("rename " + temporary);
  }
  return Ok();
}

std::optional<ControllerRecord> LiveController(const FleetDir& dir) {
  auto bytes = ReadFileBytes(dir.Record(), kMaxRecordBytes);
  if (!bytes.ok()) return std::nullopt;
  nlohmann::json json = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!json.is_object() || !json["pid"].is_number_integer() ||
      !json["start_time"].is_number_unsigned())
    return std::nullopt;
  ControllerRecord record{json["pid"].get<pid_t>(), json["start_time"].get<unsigned long long>()};
  if (record.pid <= 0 || ProcessStartTime(record.pid) != record.start_time) return std::nullopt;
  return record;
}

}  // namespace vk::fleet
