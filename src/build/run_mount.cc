#include "build/run_mount.h"

#include <cmath>
#include <string>
#include <vector>

#include "base/strings.h"
#include "build/ascii.h"
#include "build/suggest.h"

namespace vk::build {
namespace {

Error MountError(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

// One CSV record: fields split at commas; a field may be double-quoted, with
// "" standing for a quote inside it.
Result<std::vector<std::string>> CsvFields(std::string_view text) {
  std::vector<std::string> fields;
  size_t pos = 0;
  while (true) {
    std::string field;
    if (pos < text.size() && text[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= text.size())
          return MountError("unterminated quoted field in \"" + std::string(text) + "\"");
        if (text[pos] == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field += text[pos++];
      }
      if (pos < text.size() && text[pos] != ',') {
        return MountError("text after a closing quote in \"" + std::string(text) + "\"");
      }
    } else {
      size_t end = text.find(',', pos);
      if (end == std::string_view::npos) end = text.size();
      field = std::string(text.substr(pos, end - pos));
      if (field.find('"') != std::string::npos) {
        return MountError("bare \" in field \"" + field + "\"; quote the whole field");
      }
      pos = end;
    }
    fields.push_back(std::move(field));
    if (pos >= text.size()) break;
    ++pos;  // the comma
  }
  return fields;
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  std::string lower = AsciiLower(value);
  if (lower == "1" || lower == "t" || lower == "true") return true;
  if (lower == "0" || lower == "f" || lower == "false") return false;
  return MountError("invalid value for " + std::string(key) + ": " + std::string(value));
}

Result<uint32_t> ParseId(std::string_view key, std::string_view value, int base) {
  std::optional<uint64_t> number = ParseUint(value, base);
  if (!number || *number > UINT32_MAX) {
    return MountError("invalid value " + std::string(value) + " for " + std::string(key));
  }
  return static_cast<uint32_t>(*number);
}

const std::vector<std::string>& AllKeys() {
  static const std::vector<std::string> keys = {
      "type",        "from", "source", "target",    "readonly", "id",  "sharing",
      "required",    "size", "mode",   "uid",       "gid",      "src", "dst",
      "destination", "ro",   "rw",     "readwrite", "env"};
  return keys;
}

struct MountBuilder {
  Mount mount;
  bool read_only_given = false;
  bool deferred = false;  // some value waits for expansion: skip the cross-checks

  Result<void> Flag(std::string_view key);
  Result<void> Set(const std::string& key, const std::string& value);
  Result<void> Check() const;
};

Result<void> MountBuilder::Flag(std::string_view key) {
  if (key == "readonly" || key == "ro") {
    mount.read_only = true;
  } else if (key == "readwrite" || key == "rw") {
    mount.read_only = false;
  } else if (key == "required") {
    if (mount.type != MountType::kSecret && mount.type != MountType::kSsh) {
      return MountError(
          "unexpected key 'required' for this mount type; only secret and ssh mounts take it");
    }
    mount.required = true;
    return Ok();
  } else {
    return MountError("invalid field '" + std::string(key) + "' must be a key=value pair");
  }
  read_only_given = true;
  return Ok();
}

Result<void> MountBuilder::Set(const std::string& key, const std::string& value) {
  if (key == "type") {
    std::string type = AsciiLower(value);
    if (type == "bind")
      mount.type = MountType::kBind;
    else if (type == "cache")
      mount.type = MountType::kCache;
    else if (type == "tmpfs")
      mount.type = MountType::kTmpfs;
    else if (type == "secret")
      mount.type = MountType::kSecret;
    else if (type == "ssh")
      mount.type = MountType::kSsh;
    else
      return MountError("unsupported mount type \"" + value + "\"" +
                        DidYouMean(type, {"bind", "cache", "tmpfs", "secret", "ssh"}));
  } else if (key == "from") {
    mount.from = value;
  } else if (key == "source" || key == "src") {
    mount.source = value;
  } else if (key == "target" || key == "dst" || key == "destination") {
    mount.target = value;
  } else if (key == "readonly" || key == "ro") {
    mount.read_only = VK_TRY(ParseBool(key, value));
    read_only_given = true;
  } else if (key == "readwrite" || key == "rw") {
    mount.read_only = !VK_TRY(ParseBool(key, value));
    read_only_given = true;
  } else if (key == "required") {
    if (mount.type != MountType::kSecret && mount.type != MountType::kSsh) {
      return MountError("unexpected key 'required'; only secret and ssh mounts take it");
    }
    mount.required = VK_TRY(ParseBool(key, value));
  } else if (key == "size") {
    if (mount.type != MountType::kTmpfs)
      return MountError("unexpected key 'size'; only tmpfs mounts take it");
    mount.size = VK_TRY(ParseMemorySize(value));
  } else if (key == "id") {
    mount.id = value;
  } else if (key == "sharing") {
    std::string sharing = AsciiLower(value);
    if (sharing == "shared")
      mount.sharing = MountSharing::kShared;
    else if (sharing == "private")
      mount.sharing = MountSharing::kPrivate;
    else if (sharing == "locked")
      mount.sharing = MountSharing::kLocked;
    else
      return MountError("unsupported sharing value \"" + value + "\"" +
                        DidYouMean(sharing, {"shared", "private", "locked"}));
    if (mount.type != MountType::kCache) return MountError("sharing= is only for cache mounts");
  } else if (key == "mode") {
    mount.mode = VK_TRY(ParseId(key, value, 8));
  } else if (key == "uid") {
    mount.uid = VK_TRY(ParseId(key, value, 10));
  } else if (key == "gid") {
    mount.gid = VK_TRY(ParseId(key, value, 10));
  } else if (key == "env") {
    mount.env = value;
  } else {
    return MountError("unexpected key '" + key + "' in --mount" + DidYouMean(key, AllKeys()));
  }
  return Ok();
}

Result<void> MountBuilder::Check() const {
  bool file_info = mount.type == MountType::kSecret || mount.type == MountType::kSsh ||
                   mount.type == MountType::kCache;
  if (!file_info && (mount.mode || mount.uid || mount.gid)) {
    return MountError("mode, uid and gid are only for cache, secret and ssh mounts");
  }
  if (mount.type == MountType::kSecret) {
    if (!mount.from.empty()) return MountError("secret mount should not have a from");
    if (mount.source.empty() && mount.target.empty() && mount.id.empty()) {
      return MountError("invalid secret mount: give id=, source= or target=");
    }
    if (!mount.source.empty() && !mount.id.empty()) {
      return MountError("secret mount: give source= or id=, not both");
    }
  }
  return Ok();
}

}  // namespace

Result<Mount> ParseMount(std::string_view spec, const VariableLookup* lookup) {
  std::vector<std::string> fields = VK_TRY(CsvFields(spec));
  MountBuilder builder;
  for (const std::string& field : fields) {
    size_t eq = field.find('=');
    std::string key = AsciiLower(std::string_view(field).substr(0, eq));
    if (eq == std::string::npos) {
      VK_TRY(builder.Flag(key));
      continue;
    }
    std::string value = field.substr(eq + 1);
    if (lookup) {
      value = VK_TRY(ExpandWord(value, *lookup));
    } else if (key == "from") {
      size_t dollar = value.find('$');
      if (dollar != std::string::npos && dollar + 1 != value.size()) {
        return MountError(
            "'from' doesn't support variable expansion; define an alias stage with FROM instead");
      }
    } else if (value.find('$') != std::string::npos) {
      builder.deferred = true;  // checked again once the builder expands it
      if (key == "type") continue;
      if (key != "source" && key != "src" && key != "target" && key != "dst" &&
          key != "destination" && key != "id" && key != "env") {
        continue;
      }
    }
    VK_TRY(builder.Set(key, value));
  }
  if (!builder.read_only_given) {
    builder.mount.read_only =
        builder.mount.type != MountType::kCache && builder.mount.type != MountType::kTmpfs;
  }
  if (!builder.deferred) VK_TRY(builder.Check());
  return builder.mount;
}

Result<uint64_t> ParseMemorySize(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) ++pos;
  std::string number(text.substr(0, pos));
  if (number.empty() || number.front() == '.' || number.back() == '.') {
    return MountError("invalid size \"" + std::string(text) + "\"; write e.g. 64m or 1g");
  }
  std::string_view unit = text.substr(pos);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  std::string lower = AsciiLower(unit);
  static const std::string kUnits = "kmgtp";
  double multiplier = 1;
  if (!lower.empty() && kUnits.find(lower[0]) != std::string::npos) {
    multiplier = std::pow(1024.0, static_cast<double>(kUnits.find(lower[0]) + 1));
    lower.erase(0, 1);
  }
  if (!lower.empty() && lower[0] == 'i') lower.erase(0, 1);
  if (!lower.empty() && lower[0] == 'b') lower.erase(0, 1);
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (!lower.empty() || end != number.c_str() + number.size() || value * multiplier >= 1.8e19) {
    return MountError("invalid size \"" + std::string(text) + "\"; write e.g. 64m or 1g");
  }
  return static_cast<uint64_t>(value * multiplier);
}

}  // namespace vk::build
