// A running fleet's state directory and every name in it. Nothing outside
// this type spells a fleet state file's name:
//
//   $XDG_RUNTIME_DIR/virtkit/fleets/<name>/   (base/private_dir.h rules)
//     controller.json   the controller's pid and start time (who owns the fleet)
//     controller.sock   requests from `vk fleet` (docs/protocol.md, "virtctl port")
//     controller.log    the controller's own output
//     lan.sock          the fleet LAN's switch port; every service VM joins it
//     logs/<service>.log  a service's output across its runs (`vk fleet logs`)
//
// A service's VM is named "<fleet>-<service>" (docker compose's container
// name without the replica number: a fleet runs one VM per service).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace vk::fleet {

class FleetDir {
 public:
  // The directory every fleet's directory is in.
  static Result<std::string> Root();
  // Fleet `name`'s directory (which may not exist); the name is checked
  // (base/names.h) before any path is built from it.
  static Result<FleetDir> Named(const std::string& name);

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  // Creates the directory and logs/ (0700); an existing one is reused.
  Result<void> Create() const;
  // Removes the directory (within Root(), never through a symlink).
  Result<void> Remove() const;

  std::string Record() const { return path_ + "/controller.json"; }
  std::string ControllerSocket() const { return path_ + "/controller.sock"; }
  std::string ControllerLog() const { return path_ + "/controller.log"; }
  std::string LanSocket() const { return path_ + "/lan.sock"; }
  std::string ServiceLog(const std::string& service) const;
  // The services with a log here, sorted: every service whose VM this
  // fleet started (a unit notes "starting" in its log before it boots the
  // VM). What `down` and `logs` go by when no compose file is read (-p).
  std::vector<std::string> LoggedServices() const;

 private:
  FleetDir(std::string root, std::string name);
  std::string root_;
  std::string name_;
  std::string path_;
};

// "<fleet>-<service>", checked as a VM name (kUsage when too long).
Result<std::string> ServiceVmName(const std::string& fleet, const std::string& service);

// The controller that owns a fleet: its record, written once it listens.
struct ControllerRecord {
  pid_t pid = 0;
  unsigned long long start_time = 0;  // /proc/PID/stat field 22: tells a reused pid apart
};
Result<void> WriteControllerRecord(const FleetDir& dir);
// The record when its controller process still runs; nullopt otherwise
// (none written yet, or a stale one left by a crash).
std::optional<ControllerRecord> LiveController(const FleetDir& dir);

}  // namespace vk::fleet
