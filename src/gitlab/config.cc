#include "gitlab/config.h"

// toml++ as a header-only library with its noexcept API: parse errors are
// values (parse_result), so nothing here can throw.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <sstream>

#include "base/file_io.h"
#include "base/private_dir.h"
#include "base/strings.h"

namespace vk::gitlab {
namespace {

// The administrator's file; bounded all the same.
constexpr uint64_t kMaxConfigBytes = 1 << 20;
// What a CPU or job count may be: far beyond any host, far below overflow.
constexpr int64_t kMaxCount = 4096;

using Setter = std::function<Result<void>(const toml::node&, Config&)>;

Error BadValue(std::string_view key, std::string_view want) {
  return Error(ErrorKind::kUsage, std::string(key) + ": expected " + std::string(want));
}

Result<std::string> StringOf(std::string_view key, const toml::node& node) {
  auto value = node.value_exact<std::string>();
  if (!value) return BadValue(key, "a string");
  return *value;
}

Result<unsigned> CountOf(std::string_view key, const toml::node& node) {
  auto value = node.value_exact<int64_t>();
  if (!value || *value < 1 || *value > kMaxCount) return BadValue(key, "a whole number >= 1");
  return static_cast<unsigned>(*value);
}

Result<uint64_t> SizeOf(std::string_view key, const toml::node& node) {
  std::string text = VK_TRY(StringOf(key, node));
  return ParseSize(text).WithKind(ErrorKind::kUsage).Context(key);
}

Result<std::chrono::seconds> DurationOf(std::string_view key, const toml::node& node) {
  if (auto seconds = node.value_exact<int64_t>()) {
    if (*seconds < 0) return BadValue(key, "a duration >= 0");
    return std::chrono::seconds(*seconds);
  }
  std::string text = VK_TRY(StringOf(key, node));
  return ParseDuration(text).Context(key);
}

Result<std::vector<std::string>> StringsOf(std::string_view key, const toml::node& node) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return BadValue(key, "an array of strings");
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    auto value = item.value_exact<std::string>();
    if (!value || value->empty()) return BadValue(key, "an array of non-empty strings");
    out.push_back(*value);
  }
  return out;
}

Result<std::vector<uint16_t>> PortsOf(std::string_view key, const toml::node& node) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return BadValue(key, "an array of port numbers");
  std::vector<uint16_t> out;
  for (const toml::node& item : *array) {
    auto value = item.value_exact<int64_t>();
    if (!value || *value < 1 || *value > 65535) return BadValue(key, "port numbers 1-65535");
    out.push_back(static_cast<uint16_t>(*value));
  }
  return out;
}

Result<std::string> HostDirOf(std::string_view key, const toml::node& node) {
  std::string dir = VK_TRY(StringOf(key, node));
  if (!dir.empty() && dir.front() != '/') return BadValue(key, "an absolute host directory");
  return dir;
}

const std::map<std::string, Setter, std::less<>>& Setters() {
  static const auto* setters = new std::map<std::string, Setter, std::less<>>{
      {"default_image",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.default_image = VK_TRY(StringOf("default_image", n));
         return Ok();
       }},
      {"allowed_images",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.allowed_images = VK_TRY(StringsOf("allowed_images", n));
         return Ok();
       }},
      {"cpus",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.cpus = VK_TRY(CountOf("cpus", n));
         return Ok();
       }},
      {"max_cpus",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.max_cpus = VK_TRY(CountOf("max_cpus", n));
         return Ok();
       }},
      {"memory",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.memory_bytes = VK_TRY(SizeOf("memory", n));
         return Ok();
       }},
      {"max_memory",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.max_memory_bytes = VK_TRY(SizeOf("max_memory", n));
         return Ok();
       }},
      {"user",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.user = VK_TRY(StringOf("user", n));
         return Ok();
       }},
      {"egress_allow",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.egress_allow = VK_TRY(StringsOf("egress_allow", n));
         return Ok();
       }},
      {"host_ports",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.host_ports = VK_TRY(PortsOf("host_ports", n));
         return Ok();
       }},
      {"max_jobs",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.max_jobs = VK_TRY(CountOf("max_jobs", n));
         return Ok();
       }},
      {"slot_wait",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.slot_wait = VK_TRY(DurationOf("slot_wait", n));
         return Ok();
       }},
      {"stray_age",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.stray_age = VK_TRY(DurationOf("stray_age", n));
         return Ok();
       }},
      {"boot_timeout",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.boot_timeout = VK_TRY(DurationOf("boot_timeout", n));
         return Ok();
       }},
      {"cold_boot",
       [](const toml::node& n, Config& c) -> Result<void> {
         auto value = n.value_exact<bool>();
         if (!value) return BadValue("cold_boot", "true or false");
         c.cold_boot = *value;
         return Ok();
       }},
      {"builds_dir",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.builds_dir = VK_TRY(StringOf("builds_dir", n));
         if (c.builds_dir.size() < 2 || c.builds_dir.front() != '/')
           return BadValue("builds_dir", "an absolute guest directory other than /");
         return Ok();
       }},
      {"cache_dir",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.cache_dir = VK_TRY(HostDirOf("cache_dir", n));
         return Ok();
       }},
      {"artifacts_dir",
       [](const toml::node& n, Config& c) -> Result<void> {
         c.artifacts_dir = VK_TRY(HostDirOf("artifacts_dir", n));
         return Ok();
       }},
  };
  return *setters;
}

// Limits that only make sense together.
Result<void> CheckConsistent(const Config& config) {
  if (config.cpus > config.max_cpus) return BadValue("cpus", "at most max_cpus");
  if (config.memory_bytes > config.max_memory_bytes) {
    return BadValue("memory", "at most max_memory");
  }
  return Ok();
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  int64_t unit = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: unit = 0; break;
    }
    if (unit != 0) digits.remove_suffix(1);
    if (unit == 0) unit = 1;
  }
  auto value = ParseUint(digits);
  // A year bounds it: far past any job, far below overflow.
  if (!value || *value > static_cast<uint64_t>(366 * 86400 / unit)) {
    return Error(ErrorKind::kUsage,
                 "invalid duration '" + std::string(text) + "': use e.g. 90s, 10m, 3h or 2d");
  }
  return std::chrono::seconds(static_cast<int64_t>(*value) * unit);
}

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  const std::string where(source);
  toml::parse_result parsed = toml::parse(text, where);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    std::ostringstream message;
    message << where << ":" << error.source().begin.line << ":" << error.source().begin.column
            << ": " << error.description();
    return Error(ErrorKind::kUsage, message.str());
  }
  Config config;
  for (auto&& [key, node] : parsed.table()) {
    auto setter = Setters().find(key.str());
    if (setter == Setters().end()) {
      return Error(ErrorKind::kUsage, where + ": unknown key '" + std::string(key.str()) +
                                          "' (docs/gitlab.md lists the keys)");
    }
    VK_TRY_CTX(setter->second(node, config), where);
  }
  VK_TRY_CTX(CheckConsistent(config), where);
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  std::string file = path;
  if (file.empty()) {
    file = VK_TRY(DataDirectory()) + "/gitlab.toml";
    if (::access(file.c_str(), F_OK) != 0) return Config{};
  }
  auto bytes = ReadFileBytes(file, kMaxConfigBytes);
  if (!bytes.ok()) return std::move(bytes).error().WithKind(ErrorKind::kNotFound);
  return ParseConfig(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()),
                     file);
}

}  // namespace vk::gitlab
