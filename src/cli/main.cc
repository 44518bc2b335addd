#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "cli/command.h"

namespace vk::cli {
namespace {

struct Entry {
  const char* name;
  const char* description;
  Setup setup;
  Listing listing;
};

std::vector<std::string>& TrailingArgs() {
  static std::vector<std::string> args;
  return args;
}

std::vector<Entry>& Registry() {
  static std::vector<Entry> registry;
  return registry;
}

}  // namespace

const std::vector<std::string>& GuestCommand() { return TrailingArgs(); }

Command::Command(const char* name, const char* description, Setup setup, Listing listing) {
  Registry().push_back({name, description, setup, listing});
}

int Main(int argc, char** argv) {
  log::SetLevelFromEnvironment();
  CLI::App app{"vk: rootless microVMs with the workflow of containers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vk 0.1.0");
  // Split at the first `--` ourselves: CLI11 would hand those arguments to
  // the top-level app rather than to the subcommand's command positional.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      TrailingArgs().assign(argv + i + 1, argv + argc);
      break;
    }
    args.emplace_back(argv[i]);
  }
  // Only the subcommand named (the first word: the top level has no option
  // taking a value) gets its options; the others are listed by name. Setting
  // up all of them costs every `vk` process ~40 fresh heap pages, a page
  // fault each (bench/library.sh).
  auto named = std::find_if(args.begin(), args.end(),
                            [](const std::string& arg) { return arg.rfind('-', 0) != 0; });
  std::map<CLI::App*, Runner> runners;
  for (const Entry& entry : Registry()) {
    CLI::App* sub = app.add_subcommand(entry.name, entry.description);
    if (entry.listing == Listing::kHidden) sub->group("");
    if (named != args.end() && *named == entry.name) runners[sub] = entry.setup(*sub);
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  for (auto& [sub, runner] : runners) {
    if (sub->parsed()) return runner();
  }
  return kExitUsage;
}

}  // namespace vk::cli

int main(int argc, char** argv) { return vk::cli::Main(argc, argv); }
