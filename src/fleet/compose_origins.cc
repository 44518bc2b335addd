#include "fleet/compose_origins.h"

namespace vk::fleet {
namespace {

bool Same(const YAML::Node& a, const YAML::Node& b) { return a.is(b); }

}  // namespace

void NodeOrigins::AddDocument(std::string file, const YAML::Node& root) {
  files_.push_back({std::move(file), root});
  indexed_ = false;
}

void NodeOrigins::AddMade(const YAML::Node& made, const YAML::Node& like) {
  made_.emplace_back(made, like);
}

std::string NodeOrigins::Files() const {
  std::string out;
  for (const File& f : files_) out += (out.empty() ? "" : ", ") + f.name;
  return out;
}

// Every node of the document once: a node met again is an alias (`*name`),
// whose subtree is indexed already, so aliases cost nothing however often
// they repeat it.
void NodeOrigins::IndexDocument(size_t file) const {
  std::vector<YAML::Node> pending = {files_[file].root};
  while (!pending.empty()) {
    YAML::Node node = pending.back();
    pending.pop_back();
    YAML::Mark mark = node.Mark();
    if (mark.is_null()) continue;
    Key key{mark.line, mark.column};
    bool seen = false;
    for (auto [it, end] = index_.equal_range(key); it != end && !seen; ++it)
      seen = it->second.second == file && Same(it->second.first, node);
    if (seen) continue;
    index_.emplace(key, std::make_pair(node, file));
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) pending.push_back(item);
    } else if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        pending.push_back(it->first);
        pending.push_back(it->second);
      }
    }
  }
}

void NodeOrigins::BuildIndex() const {
  if (indexed_) return;
  index_.clear();
  // The first file's nodes are what is not found: they need no entries.
  for (size_t file = 1; file < files_.size(); ++file) IndexDocument(file);
  indexed_ = true;
}

NodeOrigin NodeOrigins::Find(const YAML::Node& node) const {
  YAML::Node at = node;
  // A made node has no mark of its own; it may be made like another made one.
  for (size_t hops = 0; at.Mark().is_null() && hops <= made_.size(); ++hops) {
    bool found = false;
    for (auto it = made_.rbegin(); it != made_.rend() && !found; ++it) {
      if (Same(it->first, at)) {
        at.reset(it->second);  // `at = ...` would rewrite the node `at` holds
        found = true;
      }
    }
    if (!found) break;
  }
  NodeOrigin origin{&files_.front().name, at.Mark()};
  if (files_.size() == 1 || origin.mark.is_null()) return origin;
  BuildIndex();
  for (auto [it, end] = index_.equal_range({origin.mark.line, origin.mark.column}); it != end;
       ++it) {
    if (Same(it->second.first, at)) origin.file = &files_[it->second.second].name;
  }
  return origin;
}

}  // namespace vk::fleet
