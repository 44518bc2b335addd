#include "proto/virtctl_text.h"

#include <algorithm>
#include <array>
#include <utility>

namespace vk::proto {
namespace {

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string Join(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : ", ") + item;
  return joined;
}

// "45s", "2m5s", "1h2m3s", "3d0h0m7s".
std::string FormatDuration(uint64_t seconds) {
  constexpr std::array<std::pair<uint64_t, char>, 3> kUnits = {
      {{86400, 'd'}, {3600, 'h'}, {60, 'm'}}};
  std::string text;
  for (const auto& [size, letter] : kUnits) {
    if (seconds >= size || !text.empty()) text += std::to_string(seconds / size) + letter;
    seconds %= size;
  }
  return text + std::to_string(seconds) + "s";
}

}  // namespace

std::string FormatUnitTable(const std::vector<UnitInfo>& units) {
  using Row = std::array<std::string, 7>;
  std::vector<Row> rows = {{"NAME", "VM", "STATE", "HEALTH", "ADDRESS", "RESTARTS", "PORTS"}};
  for (const UnitInfo& unit : units) {
    std::string state = OrDash(unit.state);
    if (unit.state == "exited" && unit.exit_code)
      state += "(" + std::to_string(*unit.exit_code) + ")";
    rows.push_back({unit.name + (unit.dev ? "*" : ""), OrDash(unit.vm), state, OrDash(unit.health),
                    OrDash(unit.address), std::to_string(unit.restarts), Join(unit.ports)});
  }
  std::array<size_t, 7> widths{};
  for (const Row& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const Row& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i] + std::string(widths[i] - row[i].size() + 2, ' ');
    }
    text += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
  }
  return text;
}

std::string FormatUnitStatus(const UnitInfo& unit) {
  std::string text = "name: " + unit.name + "\nstate: " + OrDash(unit.state) +
                     "\nhealth: " + OrDash(unit.health) + "\naddress: " + OrDash(unit.address) +
                     "\nvm: " + OrDash(unit.vm) + "\nports: " + OrDash(Join(unit.ports)) +
                     "\nrestarts: " + std::to_string(unit.restarts) + "\n";
  if (unit.exit_code) text += "exit_code: " + std::to_string(*unit.exit_code) + "\n";
  text += "uptime: " + FormatDuration(unit.uptime_seconds) + "\n";
  return text + "dev: " + (unit.dev ? "yes" : "no") + "\n";
}

}  // namespace vk::proto
