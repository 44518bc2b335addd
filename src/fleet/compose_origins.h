// Which compose file a YAML node came from. yaml-cpp's marks carry a line
// and a column but no file name, and a fleet read from several files is one
// merged document (compose_merge.h) that mixes their nodes with a few the
// merge made; errors must still say "compose.override.yaml:4:7".
//
// Nodes are told apart by identity (YAML::Node::is). The nodes of every file
// but the first are indexed by position once, on the first question, so a
// question costs a lookup, not a walk; a single file needs no index.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vk::fleet {

struct NodeOrigin {
  const std::string* file = nullptr;  // never null
  YAML::Mark mark;                    // null for a node made from no position
};

class NodeOrigins {
 public:
  explicit NodeOrigins(std::string file) { files_.push_back({std::move(file), YAML::Node()}); }

  // The parsed document of another file (or the first file's, which needs no index).
  void AddDocument(std::string file, const YAML::Node& root);
  // A node the merge made: it is reported where `like` is.
  void AddMade(const YAML::Node& made, const YAML::Node& like);

  const std::string& first_file() const { return files_.front().name; }
  // The files in the order they were added, joined with ", ".
  std::string Files() const;

  NodeOrigin Find(const YAML::Node& node) const;

 private:
  struct File {
    std::string name;
    YAML::Node root;
  };
  using Key = std::pair<int, int>;  // line, column
  void BuildIndex() const;
  void IndexDocument(size_t file) const;

  std::vector<File> files_;
  std::vector<std::pair<YAML::Node, YAML::Node>> made_;  // made, like
  mutable bool indexed_ = false;
  mutable std::multimap<Key, std::pair<YAML::Node, size_t>> index_;  // node, file
};

}  // namespace vk::fleet
