#include "fleet/compose_merge.h"

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vk::fleet {
namespace {

// The merge rules: the compose spec's "Merge" page, docker's "Merge Compose
// files" page and compose-go (their implementation) where the pages are
// silent. "Earlier" is what the files before merged to, "later" the file
// merged over it.
//
// - Mappings merge key by key: a key one side lacks is taken as written; a
//   key both have merges the two values by these rules.
// - Sequences are appended: the later entries after the earlier ones.
// - Scalars are replaced by the later value, whatever its kind. A later list
//   or scalar over an earlier mapping, or a mapping or scalar over a list, is
//   an error, except where a rule below accepts both forms.
// - A later null (`key:` with nothing) leaves the earlier value; a later
//   value tagged `!reset` removes the key, one tagged `!override` replaces
//   the earlier value whole. (Tags are read where a later file meets an
//   earlier value, not inside what only one file has.)
// - YAML merge keys (`<<: *anchor`) are applied within each file first:
//   anchors are a file's own.
//
// Under services.NAME:
// - command, entrypoint, healthcheck.test: replaced, never appended: each is
//   one command line.
// - ports, expose, dns, dns_opt, dns_search, tmpfs, external_links, links,
//   cap_add, cap_drop, profiles: appended, a later entry equal to an earlier
//   one (once interpolated) taking its place; long-syntax ports are equal
//   when host_ip, published, target and protocol are. dns, dns_search and
//   tmpfs may be one string.
// - environment, labels, annotations, sysctls, extra_hosts, build.args,
//   build.labels, build.extra_hosts, deploy.labels: by key, each side a list
//   of KEY=VALUE (HOST:IP for extra_hosts) or a mapping; a later key's value
//   takes the earlier one's place. The result is a mapping.
// - volumes: by target (the container path), the later entry in the earlier
//   one's place. env_file: by path; may be one string.
// - depends_on: by service, each side a list or a mapping; a list entry is
//   {condition: service_started, required: true} (as compose-go makes it),
//   merged with the earlier entry's mapping. networks: by name, likewise,
//   a list entry being null.
// - build: a string is {context: STRING}; then merged as a mapping.
//
// Interpolation: compose interpolates each file, with the same variables,
// before merging. Interpolating is a function of a value's text and those
// variables, so interpolating the merged values once, when they are read
// (compose_reader.h), gives the same values, provided that the merge compares
// interpolated text: it does (list entries, list keys, ports, volume
// targets). What the merge writes from interpolated text (a KEY=VALUE entry's
// value, made a mapping value) has each `$` doubled, so reading it gives the
// text back unchanged.

enum class Rule {
  kDefault,
  kReplace,
  kUniqueValues,
  kPorts,
  kKeyValues,
  kVolumes,
  kEnvFiles,
  kDependsOn,
  kNetworks,
  kBuild,
};

// Bounds what files whose YAML aliases repeat a part over and over cost to
// merge (each repetition is merged again, as compose expands aliases): about
// a quarter of a second. Files written by hand merge far fewer values.
constexpr uint64_t kMaxMergeSteps = 1 << 18;

bool In(std::string_view key, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (k == key) return true;
  }
  return false;
}

Rule ServiceKeyRule(std::string_view key) {
  if (In(key, {"command", "entrypoint"})) return Rule::kReplace;
  if (key == "ports") return Rule::kPorts;
  if (In(key, {"expose", "dns", "dns_opt", "dns_search", "tmpfs", "external_links", "links",
               "cap_add", "cap_drop", "profiles"}))
    return Rule::kUniqueValues;
  if (In(key, {"environment", "labels", "annotations", "sysctls", "extra_hosts"}))
    return Rule::kKeyValues;
  if (key == "volumes") return Rule::kVolumes;
  if (key == "env_file") return Rule::kEnvFiles;
  if (key == "depends_on") return Rule::kDependsOn;
  if (key == "networks") return Rule::kNetworks;
  if (key == "build") return Rule::kBuild;
  return Rule::kDefault;
}

// `path`: the keys from the document's root to the value being merged.
Rule RuleFor(const std::vector<std::string>& path) {
  if (path.size() < 3 || path[0] != "services") return Rule::kDefault;
  if (path.size() == 3) return ServiceKeyRule(path[2]);
  if (path.size() == 4) {
    if (path[2] == "healthcheck" && path[3] == "test") return Rule::kReplace;
    if (path[2] == "build" && In(path[3], {"args", "labels", "extra_hosts"}))
      return Rule::kKeyValues;
    if (path[2] == "deploy" && path[3] == "labels") return Rule::kKeyValues;
  }
  return Rule::kDefault;
}

const char* Kind(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "a scalar";
}

std::string DoubleDollars(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '$' ? std::string("$$") : std::string(1, c);
  return out;
}

// One entry of a merged mapping. Values are rebound with reset(), never
// assigned: assigning a yaml-cpp node rewrites the node it held, which
// belongs to one of the files.
struct Slot {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  bool removed = false;
};

// The key a list entry is unique by; nullopt: none (the entry is kept).
using KeyOf = std::function<Result<std::optional<std::string>>(const YAML::Node&)>;

class Merger {
 public:
  explicit Merger(ComposeReader& reader) : reader_(reader) {}

  Result<YAML::Node> Merge(const YAML::Node& base, const YAML::Node& over);

 private:
  Result<YAML::Node> ByRule(Rule rule, const YAML::Node& base, const YAML::Node& over);
  Result<YAML::Node> Mappings(const YAML::Node& base, const YAML::Node& over);
  Result<YAML::Node> Append(const YAML::Node& base, const YAML::Node& over);
  Result<YAML::Node> Unique(const YAML::Node& base, const YAML::Node& over, const KeyOf& key_of);
  Result<YAML::Node> KeyValues(const YAML::Node& base, const YAML::Node& over);
  Result<void> AddKeyValues(const YAML::Node& node, std::vector<Slot>& slots);
  Result<YAML::Node> AsMapping(const YAML::Node& node, Rule rule);
  Result<std::optional<std::string>> Value(const YAML::Node& item);
  Result<std::optional<std::string>> Field(const YAML::Node& node, std::string_view field);
  Result<std::optional<std::string>> PortKey(const YAML::Node& item);
  Result<std::optional<std::string>> VolumeTarget(const YAML::Node& item);
  Result<std::optional<std::string>> EnvFilePath(const YAML::Node& item);
  YAML::Node Made(const YAML::Node& like, YAML::NodeType::value type);
  YAML::Node Made(const YAML::Node& like, const std::string& scalar);
  YAML::Node Keep(YAML::Node made, const YAML::Node& like);
  YAML::Node MakeMapping(const std::vector<Slot>& slots, const YAML::Node& like);
  Result<void> Step(const YAML::Node& at);
  Error Conflict(const YAML::Node& base, const YAML::Node& over) const;
  std::string What() const;

  ComposeReader& reader_;
  std::vector<std::string> path_;
  uint64_t steps_ = 0;
  YAML::Node arena_{YAML::NodeType::Sequence};  // every node made (Keep)
};

Result<YAML::Node> Merger::Merge(const YAML::Node& base, const YAML::Node& over) {
  VK_TRY(Step(over));
  if (over.IsNull()) return base;
  Rule rule = RuleFor(path_);
  if (over.Tag() == "!override" || rule == Rule::kReplace || base.IsNull()) return over;
  return ByRule(rule, base, over);
}

// Which forms each rule accepts: a rule's own, else both sides alike.
bool Accepts(Rule rule, const std::string& key, const YAML::Node& node) {
  switch (rule) {
    case Rule::kUniqueValues:
    case Rule::kPorts:
    case Rule::kVolumes:
    case Rule::kEnvFiles:
      return node.IsSequence() ||
             (node.IsScalar() && In(key, {"dns", "dns_search", "tmpfs", "env_file"}));
    case Rule::kKeyValues:
    case Rule::kDependsOn:
    case Rule::kNetworks: return node.IsSequence() || node.IsMap();
    case Rule::kBuild: return node.IsScalar() || node.IsMap();
    default: return true;
  }
}

Result<YAML::Node> Merger::ByRule(Rule rule, const YAML::Node& base, const YAML::Node& over) {
  std::string key = path_.empty() ? "" : path_.back();
  if (!Accepts(rule, key, base) || !Accepts(rule, key, over)) return Conflict(base, over);
  switch (rule) {
    case Rule::kUniqueValues: return Unique(base, over, [this](auto& i) { return Value(i); });
    case Rule::kPorts: return Unique(base, over, [this](auto& i) { return PortKey(i); });
    case Rule::kVolumes: return Unique(base, over, [this](auto& i) { return VolumeTarget(i); });
    case Rule::kEnvFiles: return Unique(base, over, [this](auto& i) { return EnvFilePath(i); });
    case Rule::kKeyValues: return KeyValues(base, over);
    case Rule::kDependsOn:
    case Rule::kNetworks:
    case Rule::kBuild: {
      // One at a time: a VK_TRY return inside a call's arguments may skip
      // destroying the arguments already made.
      YAML::Node base_mapping = VK_TRY(AsMapping(base, rule));
      YAML::Node over_mapping = VK_TRY(AsMapping(over, rule));
      return Mappings(base_mapping, over_mapping);
    }
    default: break;
  }
  if (base.IsMap()) return over.IsMap() ? Mappings(base, over) : Conflict(base, over);
  if (base.IsSequence()) return over.IsSequence() ? Append(base, over) : Conflict(base, over);
  return over;
}

Result<YAML::Node> Merger::Mappings(const YAML::Node& base, const YAML::Node& over) {
  std::vector<Slot> slots;
  for (const MapEntry& e : VK_TRY(reader_.Map(base, What())))
    slots.push_back({e.key, e.key_node, e.value});
  for (const MapEntry& e : VK_TRY(reader_.Map(over, What()))) {
    Slot* same = nullptr;
    for (Slot& slot : slots) same = !slot.removed && slot.key == e.key ? &slot : same;
    if (e.value.Tag() == "!reset") {
      if (same != nullptr) same->removed = true;
      continue;
    }
    if (same == nullptr) {
      slots.push_back({e.key, e.key_node, e.value});
      continue;
    }
    path_.push_back(e.key);
    auto merged = Merge(same->value, e.value);
    path_.pop_back();
    if (!merged.ok()) return std::move(merged).error();
    same->value.reset(*merged);
  }
  return MakeMapping(slots, over);
}

Result<YAML::Node> Merger::Append(const YAML::Node& base, const YAML::Node& over) {
  YAML::Node out = Made(over, YAML::NodeType::Sequence);
  for (const YAML::Node& item : base) out.push_back(item);
  for (const YAML::Node& item : over) out.push_back(item);
  return out;
}

// Both sides' entries in order, a later entry with the key of an earlier
// one in its place. A scalar side is a list of one (`dns: 8.8.8.8`).
Result<YAML::Node> Merger::Unique(const YAML::Node& base, const YAML::Node& over,
                                  const KeyOf& key_of) {
  std::vector<YAML::Node> items;
  std::vector<std::optional<std::string>> keys;
  auto add = [&](const YAML::Node& item) -> Result<void> {
    VK_TRY(Step(item));
    std::optional<std::string> key = VK_TRY(key_of(item));
    for (size_t i = 0; key && i < items.size(); ++i) {
      if (keys[i] == key) {
        items[i].reset(item);
        return Ok();
      }
    }
    items.push_back(item);
    keys.push_back(std::move(key));
    return Ok();
  };
  for (const YAML::Node* side : {&base, &over}) {
    if (side->IsScalar()) VK_TRY(add(*side));
    for (const YAML::Node& item : *side) VK_TRY(add(item));
  }
  YAML::Node out = Made(over, YAML::NodeType::Sequence);
  for (const YAML::Node& item : items) out.push_back(item);
  return out;
}

Result<YAML::Node> Merger::KeyValues(const YAML::Node& base, const YAML::Node& over) {
  std::vector<Slot> slots;
  VK_TRY(AddKeyValues(base, slots));
  VK_TRY(AddKeyValues(over, slots));
  return MakeMapping(slots, over);
}

// A mapping's entries as they are; a list's KEY=VALUE entries interpolated
// (compose splits them after interpolating) and made mapping entries.
Result<void> Merger::AddKeyValues(const YAML::Node& node, std::vector<Slot>& slots) {
  auto add = [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
    Slot* same = nullptr;
    for (Slot& slot : slots) same = !slot.removed && slot.key == key ? &slot : same;
    bool reset = value.Tag() == "!reset";
    if (same != nullptr) {
      same->removed = reset;
      same->value.reset(value);
    } else if (!reset) {
      slots.push_back({key, key_node, value});
    }
  };
  if (node.IsMap()) {
    for (const MapEntry& e : VK_TRY(reader_.Map(node, What()))) add(e.key, e.key_node, e.value);
    return Ok();
  }
  bool hosts = path_.back() == "extra_hosts";
  for (const YAML::Node& item : node) {
    VK_TRY(Step(item));
    std::string text = VK_TRY(reader_.String(item, What()));
    size_t split = text.find('=');
    if (hosts && split == std::string::npos) split = text.find(':');
    if (text.empty() || split == 0) return reader_.At(item, "expected KEY=VALUE in " + What());
    std::string key = text.substr(0, split);
    YAML::Node value = split == std::string::npos
                           ? Made(item, YAML::NodeType::Null)
                           : Made(item, DoubleDollars(text.substr(split + 1)));
    add(key, Made(item, key), value);
  }
  return Ok();
}

// depends_on and networks written as a list, or build as a string, in their
// mapping form. A list's names are interpolated (they are values); the
// mapping's keys made of them are not read again that way (keys never are).
Result<YAML::Node> Merger::AsMapping(const YAML::Node& node, Rule rule) {
  if (node.IsMap()) return node;
  YAML::Node out = Made(node, YAML::NodeType::Map);
  if (rule == Rule::kBuild) {
    out.force_insert(Made(node, std::string("context")), node);
    return out;
  }
  for (const YAML::Node& item : node) {
    YAML::Node value =
        Made(item, rule == Rule::kDependsOn ? YAML::NodeType::Map : YAML::NodeType::Null);
    if (rule == Rule::kDependsOn) {
      value.force_insert(Made(item, "condition"), Made(item, "service_started"));
      value.force_insert(Made(item, "required"), Made(item, "true"));
    }
    std::string name = VK_TRY(reader_.String(item, What()));
    out.force_insert(Made(item, name), value);
  }
  return out;
}

Result<std::optional<std::string>> Merger::Value(const YAML::Node& item) {
  if (!item.IsScalar()) return std::optional<std::string>();
  return std::optional<std::string>(VK_TRY(reader_.String(item, What())));
}

// A long-syntax entry's scalar field, interpolated; nullopt when missing.
Result<std::optional<std::string>> Merger::Field(const YAML::Node& node, std::string_view field) {
  for (const MapEntry& e : VK_TRY(reader_.Map(node, What()))) {
    if (e.key == field && e.value.IsScalar())
      return std::optional<std::string>(VK_TRY(reader_.String(e.value, What() + "." + e.key)));
  }
  return std::optional<std::string>();
}

// The spec's unique key of a port: {host_ip, published, target, protocol}.
Result<std::optional<std::string>> Merger::PortKey(const YAML::Node& item) {
  if (!item.IsMap()) return Value(item);
  std::string key;
  for (std::string_view field : {"host_ip", "published", "target", "protocol"}) {
    std::optional<std::string> value = VK_TRY(Field(item, field));
    if (field == "target" && !value) return std::optional<std::string>();
    key += value.value_or(field == "protocol" ? "tcp" : "") + "|";
  }
  return std::optional<std::string>(key);
}

// The container path of a volume: SOURCE:TARGET[:MODE], TARGET, or `target:`.
Result<std::optional<std::string>> Merger::VolumeTarget(const YAML::Node& item) {
  if (item.IsMap()) return Field(item, "target");
  std::optional<std::string> text = VK_TRY(Value(item));
  if (!text) return text;
  size_t first = text->find(':');
  if (first == std::string::npos) return text;
  size_t second = text->find(':', first + 1);
  return std::optional<std::string>(text->substr(first + 1, second - first - 1));
}

Result<std::optional<std::string>> Merger::EnvFilePath(const YAML::Node& item) {
  return item.IsMap() ? Field(item, "path") : Value(item);
}

YAML::Node Merger::Made(const YAML::Node& like, YAML::NodeType::value type) {
  return Keep(YAML::Node(type), like);
}

YAML::Node Merger::Made(const YAML::Node& like, const std::string& scalar) {
  return Keep(YAML::Node(scalar), like);
}

// A made node joins arena_ before anything is put in it. yaml-cpp keeps
// nodes alive through memory sets: a node made alone has a set of its own,
// and putting a file's node into it copies that file's whole set (and all
// the merge made so far). In arena_'s set, each file's set is copied once,
// not once per node made, which made merging quadratic. The node is located
// where `like` is (compose_origins.h).
YAML::Node Merger::Keep(YAML::Node made, const YAML::Node& like) {
  arena_.push_back(made);
  reader_.origins().AddMade(made, like);
  return made;
}

YAML::Node Merger::MakeMapping(const std::vector<Slot>& slots, const YAML::Node& like) {
  YAML::Node out = Made(like, YAML::NodeType::Map);
  for (const Slot& slot : slots) {
    if (!slot.removed) out.force_insert(slot.key_node, slot.value);
  }
  return out;
}

Result<void> Merger::Step(const YAML::Node& at) {
  if (++steps_ > kMaxMergeSteps)
    return reader_.At(at, "more than " + std::to_string(kMaxMergeSteps) +
                              " values to merge: do YAML aliases repeat a large part?");
  return Ok();
}

Error Merger::Conflict(const YAML::Node& base, const YAML::Node& over) const {
  return reader_.At(over, What() + ": " + Kind(over) + " cannot be merged into " + Kind(base) +
                              " (" + reader_.Where(base) +
                              "): write both the same way, or tag this one !override to "
                              "replace it");
}

std::string Merger::What() const {
  if (path_.empty()) return "the file";
  std::string out;
  for (const std::string& key : path_) out += (out.empty() ? "" : ".") + key;
  return out;
}

}  // namespace

Result<YAML::Node> MergeComposeDocuments(const std::vector<YAML::Node>& documents,
                                         ComposeReader& reader) {
  if (documents.empty()) return Error(ErrorKind::kUsage, "no compose file to merge");
  try {
    Merger merger(reader);  // one for all: one arena
    YAML::Node merged(documents.front());
    // reset(), not `=`: assigning would rewrite the first file's root node.
    for (size_t i = 1; i < documents.size(); ++i)
      merged.reset(VK_TRY(merger.Merge(merged, documents[i])));
    return merged;
  } catch (const YAML::Exception& e) {  // yaml-cpp's exceptions stop at this module's edge
    return Error(ErrorKind::kUsage, reader.origins().Files() + ": cannot merge: " + e.msg);
  }
}

}  // namespace vk::fleet
