#include <map>

#include "build/heredoc_words.h"
#include "build/instruction_request.h"
#include "build/run_mount.h"

namespace vk::build {
namespace {

using Kind = InstructionFlags::Kind;

struct Sources {
  std::vector<std::string> paths;
  std::vector<InlineSource> inline_sources;
  std::string destination;
};

// The last argument is the destination; a source written as <<NAME is the
// body of the heredoc of that name.
Result<Sources> SourcesAndDestination(const InstructionRequest& request) {
  std::vector<std::string> args = VK_TRY(ListArguments(request));
  if (args.size() < 2) {
    return InstructionError(request.upper + " requires at least two arguments, but only " +
                                std::to_string(args.size()) + " was provided",
                            "give the sources and then the destination");
  }
  Sources sources;
  sources.destination = args.back();
  args.pop_back();
  auto heredoc_of = [](const std::string& word) {
    auto heredoc = HeredocOfWord(word);
    return heredoc.ok() ? std::move(heredoc).value() : std::nullopt;
  };
  if (heredoc_of(sources.destination)) {
    return InstructionError(request.upper + " cannot accept a heredoc as a destination");
  }
  for (std::string& arg : args) {
    std::optional<Heredoc> heredoc = heredoc_of(arg);
    if (!heredoc) {
      sources.paths.push_back(std::move(arg));
      continue;
    }
    InlineSource source{heredoc->name, "", heredoc->expand};
    for (const Heredoc& body : request.line->heredocs) {
      if (body.name == heredoc->name)
        source.data = Heredoc{body.name, body.content, body.expand, heredoc->chomp, 0}.Body();
    }
    sources.inline_sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace

Result<InstructionArgs> ParseRun(const InstructionRequest& request) {
  InstructionFlags flags = VK_TRY(CheckFlags(
      request, {{"mount", Kind::kList}, {"network", Kind::kString}, {"security", Kind::kString}}));
  RunInstruction run;
  run.command = VK_TRY(CommandArguments(request));
  if (run.command.form == CommandForm::kShell && run.command.args.empty()) {
    return InstructionError("RUN requires at least one argument", "give the command to run");
  }
  static const std::map<std::string, NetworkMode, std::less<>> kNetworks = {
      {"default", NetworkMode::kDefault},
      {"none", NetworkMode::kNone},
      {"host", NetworkMode::kHost}};
  if (flags.Used("network")) {
    auto it = kNetworks.find(flags.String("network"));
    if (it == kNetworks.end()) {
      return InstructionError("invalid network mode \"" + flags.String("network") + "\"",
                              "use default, none or host");
    }
    run.network = it->second;
  }
  if (flags.Used("security")) {
    std::string security = flags.String("security");
    if (security != "sandbox" && security != "insecure") {
      return InstructionError("security \"" + security + "\" is not valid",
                              "use sandbox or insecure");
    }
    run.security = security == "insecure" ? SecurityMode::kInsecure : SecurityMode::kSandbox;
  }
  run.mount_specs = flags.List("mount");
  for (const std::string& spec : run.mount_specs) {
    run.mounts.push_back(VK_TRY(ParseMount(spec, nullptr).Context("--mount=" + spec)));
  }
  run.heredocs = request.line->heredocs;
  return InstructionArgs(std::move(run));
}

Result<InstructionArgs> ParseCopy(const InstructionRequest& request) {
  InstructionFlags flags = VK_TRY(CheckFlags(request, {{"chown", Kind::kString},
                                                       {"from", Kind::kString},
                                                       {"chmod", Kind::kString},
                                                       {"link", Kind::kBool},
                                                       {"exclude", Kind::kList},
                                                       {"parents", Kind::kBool}}));
  Sources sources = VK_TRY(SourcesAndDestination(request));
  CopyInstruction copy;
  copy.sources = std::move(sources.paths);
  copy.inline_sources = std::move(sources.inline_sources);
  copy.destination = std::move(sources.destination);
  copy.from = flags.String("from");
  copy.chown = flags.String("chown");
  copy.chmod = flags.String("chmod");
  copy.link = flags.Bool("link");
  copy.parents = flags.Bool("parents");
  copy.excludes = flags.List("exclude");
  return InstructionArgs(std::move(copy));
}

Result<InstructionArgs> ParseAdd(const InstructionRequest& request) {
  InstructionFlags flags = VK_TRY(CheckFlags(request, {{"chown", Kind::kString},
                                                       {"chmod", Kind::kString},
                                                       {"link", Kind::kBool},
                                                       {"keep-git-dir", Kind::kBool},
                                                       {"checksum", Kind::kString},
                                                       {"unpack", Kind::kBool},
                                                       {"exclude", Kind::kList}}));
  Sources sources = VK_TRY(SourcesAndDestination(request));
  AddInstruction add;
  add.sources = std::move(sources.paths);
  add.inline_sources = std::move(sources.inline_sources);
  add.destination = std::move(sources.destination);
  add.chown = flags.String("chown");
  add.chmod = flags.String("chmod");
  add.checksum = flags.String("checksum");
  add.link = flags.Bool("link");
  if (flags.Used("keep-git-dir")) add.keep_git_dir = flags.Bool("keep-git-dir");
  if (flags.Used("unpack")) add.unpack = flags.Bool("unpack");
  add.excludes = flags.List("exclude");
  return InstructionArgs(std::move(add));
}
}  // namespace vk::build
