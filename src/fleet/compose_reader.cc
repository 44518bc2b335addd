#include "fleet/compose_reader.h"

#include <cstdlib>

namespace vk::fleet {
namespace {

// Merge chains are followed this deep; anchors can make them cyclic.
constexpr int kMaxMergeDepth = 16;

const char* TypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace

std::string ComposeReader::Where(const YAML::Node& node) const {
  NodeOrigin origin = origins_.Find(node);
  if (origin.mark.is_null()) return *origin.file;
  return *origin.file + ":" + std::to_string(origin.mark.line + 1) + ":" +
         std::to_string(origin.mark.column + 1);
}

std::string ComposeReader::Line(const YAML::Node& node) const {
  NodeOrigin origin = origins_.Find(node);
  if (origin.mark.is_null()) return "";
  return *origin.file + ":" + std::to_string(origin.mark.line + 1);
}

Error ComposeReader::At(const YAML::Node& node, std::string_view message) const {
  return Error(ErrorKind::kUsage, Where(node) + ": " + std::string(message));
}

Error ComposeReader::At(const YAML::Node& node, const Error& error) const {
  return Error(error.kind(), Where(node) + ": " + error.message());
}

Result<std::string> ComposeReader::String(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    return At(node, std::string(what) + " must be a string, not " + TypeName(node));
  }
  std::vector<std::string> unset;
  auto value = Interpolate(node.Scalar(), lookup_, &unset);
  if (!value.ok()) return At(node, value.error());
  for (const std::string& name : unset) {
    Warn("variable " + name + " is not set: substituting an empty string");
  }
  return value;
}

Result<std::vector<std::string>> ComposeReader::Strings(const YAML::Node& node,
                                                        std::string_view what) {
  if (!node.IsSequence()) {
    return At(node, std::string(what) + " must be a list, not " + TypeName(node));
  }
  std::vector<std::string> out;
  for (const YAML::Node& item : node) out.push_back(VK_TRY(String(item, what)));
  return out;
}

Result<bool> ComposeReader::Bool(const YAML::Node& node, std::string_view what) {
  std::string text = Lower(VK_TRY(String(node, what)));
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  return At(node, std::string(what) + " must be true or false, not \"" + text + "\"");
}

Result<int64_t> ComposeReader::Integer(const YAML::Node& node, std::string_view what, int64_t min,
                                       int64_t max) {
  std::string text = VK_TRY(String(node, what));
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min || value > max) {
    return At(node, std::string(what) + " must be a whole number from " + std::to_string(min) +
                        " to " + std::to_string(max) + ", not \"" + text + "\"");
  }
  return static_cast<int64_t>(value);
}

Result<std::vector<MapEntry>> ComposeReader::Map(const YAML::Node& node, std::string_view what) {
  if (!node.IsMap()) {
    return At(node, std::string(what) + " must be a mapping, not " + TypeName(node));
  }
  std::vector<MapEntry> entries;
  std::vector<YAML::Node> merges;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: `it->` yields a temporary pair, which a reference (or a
    // range-for over a member of it) would outlive.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar())
      return At(key_node, "a key in " + std::string(what) + " must be a string");
    const std::string key = key_node.Scalar();
    if (key == "<<" && key_node.Tag() != "!") {
      if (value.IsSequence()) {
        for (const YAML::Node& merged : value) merges.push_back(merged);
      } else {
        merges.push_back(value);
      }
      continue;
    }
    for (const MapEntry& seen : entries) {
      if (seen.key == key) {
        return At(key_node, "duplicate key \"" + key + "\" in " + std::string(what) +
                                " (first at " + Where(seen.key_node) + ")");
      }
    }
    entries.push_back({key, key_node, value});
  }
  // Explicit keys win over merged ones; earlier merged maps over later ones.
  for (const YAML::Node& merged : merges) {
    if (!merged.IsMap()) return At(merged, "a merge key (<<) takes a mapping or a list of them");
    if (++merge_depth_ > kMaxMergeDepth) return At(merged, "merge keys (<<) nested too deeply");
    auto merged_entries = Map(merged, what);
    --merge_depth_;
    if (!merged_entries.ok()) return std::move(merged_entries).error();
    for (MapEntry& entry : *merged_entries) {
      bool present = false;
      for (const MapEntry& seen : entries) present = present || seen.key == entry.key;
      if (!present) entries.push_back(std::move(entry));
    }
  }
  return entries;
}

Result<KeyValues> ComposeReader::KeyValueList(const YAML::Node& node, std::string_view what) {
  KeyValues out;
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      std::string text = VK_TRY(String(item, what));
      size_t equals = text.find('=');
      if (equals == 0 || text.empty())
        return At(item, "expected KEY=VALUE in " + std::string(what));
      if (equals == std::string::npos)
        out.emplace_back(text, std::nullopt);
      else
        out.emplace_back(text.substr(0, equals), text.substr(equals + 1));
    }
    return out;
  }
  if (!node.IsMap()) {
    return At(node, std::string(what) + " must be a mapping or a list of KEY=VALUE, not " +
                        TypeName(node));
  }
  for (const MapEntry& entry : VK_TRY(Map(node, what))) {
    if (entry.value.IsNull())
      out.emplace_back(entry.key, std::nullopt);
    else
      out.emplace_back(entry.key, VK_TRY(String(entry.value, entry.key)));
  }
  return out;
}

void ComposeReader::Warn(const std::string& message) {
  if (warned_.insert(message).second) warnings_.push_back(message);
}

}  // namespace vk::fleet
