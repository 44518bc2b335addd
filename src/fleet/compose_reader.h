// Typed, located access to a parsed compose document (yaml-cpp nodes):
// every error names FILE:LINE:COLUMN (the file each node came from, when the
// document merges several: compose_origins.h), scalar values are
// interpolated when read, merge keys (`<<: *anchor`, which yaml-cpp leaves
// as a plain key) are applied, and warnings are collected once each.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "fleet/compose_origins.h"
#include "fleet/interpolation.h"

namespace vk::fleet {

struct MapEntry {
  std::string key;
  YAML::Node key_node;  // for errors about the key itself
  YAML::Node value;
};

// "K=V" / map forms of environment and build args: nullopt is a bare K.
using KeyValues = std::vector<std::pair<std::string, std::optional<std::string>>>;

class ComposeReader {
 public:
  ComposeReader(std::string file, VariableLookup lookup)
      : origins_(std::move(file)), lookup_(std::move(lookup)) {}
  ComposeReader(NodeOrigins origins, VariableLookup lookup)
      : origins_(std::move(origins)), lookup_(std::move(lookup)) {}

  // The first (or only) file.
  const std::string& file() const { return origins_.first_file(); }
  NodeOrigins& origins() { return origins_; }
  const VariableLookup& lookup() const { return lookup_; }

  // "FILE:LINE:COLUMN" (1-based), or FILE for a node without a position.
  std::string Where(const YAML::Node& node) const;
  // "FILE:LINE", for what is checked once the fleet is whole
  // (fleet_validate.h); empty for a node without a position.
  std::string Line(const YAML::Node& node) const;
  // kUsage "WHERE: message".
  Error At(const YAML::Node& node, std::string_view message) const;
  // `error` located at `node`, keeping its kind.
  Error At(const YAML::Node& node, const Error& error) const;

  // A scalar, interpolated. `what` names the value in the type error.
  Result<std::string> String(const YAML::Node& node, std::string_view what);
  // A sequence of scalars.
  Result<std::vector<std::string>> Strings(const YAML::Node& node, std::string_view what);
  Result<bool> Bool(const YAML::Node& node, std::string_view what);
  Result<int64_t> Integer(const YAML::Node& node, std::string_view what, int64_t min, int64_t max);
  // A mapping's entries in file order, merge keys applied; duplicate keys
  // are an error (YAML says keys are unique; yaml-cpp keeps both).
  Result<std::vector<MapEntry>> Map(const YAML::Node& node, std::string_view what);
  // A mapping of scalars (null: bare) or a list of "K=V" / "K".
  Result<KeyValues> KeyValueList(const YAML::Node& node, std::string_view what);

  // Adds a warning unless the same text was already given.
  void Warn(const std::string& message);
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }

 private:
  NodeOrigins origins_;
  VariableLookup lookup_;
  std::vector<std::string> warnings_;
  std::set<std::string> warned_;
  int merge_depth_ = 0;
};

}  // namespace vk::fleet
