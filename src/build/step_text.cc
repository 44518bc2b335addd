#include "build/step_text.h"

#include <nlohmann/json.hpp>

#include "build/ascii.h"

namespace vk::build {
namespace {

using Json = nlohmann::json;

Json CommandJson(const CommandLine& command) {
  return {{"exec", command.form == CommandForm::kExec}, {"args", command.args}};
}

Json InlineJson(const std::vector<InlineSource>& sources) {
  Json out = Json::array();
  for (const InlineSource& s : sources) out.push_back({s.name, s.data, s.expand});
  return out;
}

Json HeredocJson(const std::vector<Heredoc>& heredocs) {
  Json out = Json::array();
  for (const Heredoc& h : heredocs) out.push_back({h.name, h.Body(), h.expand, h.fd});
  return out;
}

Json PairsJson(const std::vector<KeyValue>& pairs) {
  Json out = Json::array();
  for (const KeyValue& kv : pairs) out.push_back({kv.key, kv.value});
  return out;
}

struct Canonical {
  Json operator()(const RunInstruction& r) const {
    return {CommandJson(r.command), r.mount_specs, static_cast<int>(r.network),
            static_cast<int>(r.security), HeredocJson(r.heredocs)};
  }
  Json operator()(const CopyInstruction& c) const {
    return {c.sources,     InlineJson(c.inline_sources),
            c.destination, c.from,
            c.chown,       c.chmod,
            c.link,        c.parents,
            c.excludes};
  }
  Json operator()(const AddInstruction& a) const {
    return {a.sources,
            InlineJson(a.inline_sources),
            a.destination,
            a.chown,
            a.chmod,
            a.checksum,
            a.link,
            a.keep_git_dir.value_or(false),
            a.unpack.value_or(true),
            a.excludes};
  }
  Json operator()(const ArgInstruction& a) const {
    Json out = Json::array();
    for (const ArgDeclaration& d : a.args) out.push_back({d.name, d.default_value.value_or("")});
    return out;
  }
  Json operator()(const EnvInstruction& e) const { return PairsJson(e.vars); }
  Json operator()(const LabelInstruction& l) const { return PairsJson(l.labels); }
  Json operator()(const WorkdirInstruction& w) const { return w.path; }
  Json operator()(const UserInstruction& u) const { return u.user; }
  Json operator()(const ExposeInstruction& e) const { return e.ports; }
  Json operator()(const VolumeInstruction& v) const { return v.paths; }
  Json operator()(const CmdInstruction& c) const { return CommandJson(c.command); }
  Json operator()(const EntrypointInstruction& e) const { return CommandJson(e.command); }
  Json operator()(const ShellInstruction& s) const { return s.shell; }
  Json operator()(const StopSignalInstruction& s) const { return s.signal; }
  Json operator()(const HealthcheckInstruction& h) const {
    return {h.test,
            h.interval.count(),
            h.timeout.count(),
            h.start_period.count(),
            h.start_interval.count(),
            h.retries};
  }
  Json operator()(const MaintainerInstruction& m) const { return m.maintainer; }
  Json operator()(const OnbuildInstruction& o) const { return o.expression; }
};

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

std::string CanonicalText(const Instruction& instruction) {
  return AsciiUpper(instruction.keyword) + " " + Dump(std::visit(Canonical{}, instruction.args));
}

std::string HistoryText(const Instruction& instruction, const BuildConfig& config) {
  if (const auto* run = std::get_if<RunInstruction>(&instruction.args)) {
    std::vector<std::string> argv = run->command.args;
    if (run->command.form == CommandForm::kShell) {
      argv = config.Shell();
      argv.insert(argv.end(), run->command.args.begin(), run->command.args.end());
    }
    return "RUN " + Joined(argv) + " # buildkit";
  }
  return DisplayText(instruction) + " # buildkit";
}

std::string DisplayText(const Instruction& instruction) {
  std::string text = instruction.text;
  size_t space = text.find_first_of(" \t");
  std::string rest = space == std::string::npos ? "" : text.substr(space);
  return AsciiUpper(instruction.keyword) + rest;
}

}  // namespace vk::build
