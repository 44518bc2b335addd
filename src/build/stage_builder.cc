#include "build/stage_builder.h"

#include <sys/stat.h>

#include <ctime>

#include "build/ascii.h"
#include "build/build_config.h"
#include "build/dockerfile_parser.h"
#include "build/instruction_expansion.h"
#include "build/step_text.h"
#include "image/pull.h"
#include "image/reference.h"

namespace vk::build {
namespace {

// A base image's config is read whole; 8 MiB bounds a hostile one.
constexpr size_t kMaxBaseConfigBytes = kMaxBuildConfigBytes;

std::string CleanAbsolute(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string part(path.substr(start, end - start));
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out;
  for (const std::string& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

// CMD/ENTRYPOINT in shell form run with the stage's SHELL.
std::vector<std::string> CommandArgv(const CommandLine& command, const BuildConfig& config) {
  if (command.form == CommandForm::kExec) return command.args;
  std::vector<std::string> argv = config.Shell();
  argv.insert(argv.end(), command.args.begin(), command.args.end());
  return argv;
}

VariableMap EnvMap(const BuildConfig& config) {
  VariableMap map;
  for (const std::string& kv : config.env) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) map[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return map;
}

}  // namespace

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

Result<StageFiles*> StageState::Files(const image::Store& store) {
  if (!files) files = VK_TRY(StageFiles::Index({}));
  for (size_t i = files->layer_count(); i < snapshot.layers.size(); ++i)
    VK_TRY(files->AddLayer(store.BlobPath(snapshot.layers[i].digest)));
  return files.get();
}

const StageState& BuildSession::Stage(size_t index) const { return stages.at(index); }

Result<StageFiles*> BuildSession::StageFilesOf(size_t index) {
  return stages.at(index).Files(store);
}

Result<StageFiles*> BuildSession::ImageFilesOf(const image::ImageRecord& record) {
  std::unique_ptr<StageFiles>& files = image_files[record.manifest_digest];
  if (!files) files = VK_TRY(StageFiles::Index(image::LayerPaths(store, record)));
  return files.get();
}

Result<std::string> BuildSession::MakeWorkDir(std::string_view hint) {
  std::string dir = work_dir + "/" + std::string(hint) + "-" + std::to_string(++work_counter);
  if (::mkdir(dir.c_str(), 0700) != 0) return Error::FromErrno("create " + dir);
  return dir;
}

StageBuilder::StageBuilder(BuildSession& session, size_t index)
    : s_(session),
      stage_(session.dockerfile.stages.at(index)),
      name_(stage_.name.empty() ? "stage-" + std::to_string(index) : stage_.name),
      scope_(VariableScope::Stage(session.request.build_args, session.global, {})) {}

Result<StageState> StageBuilder::Build() {
  VK_TRY(From());
  std::vector<Instruction> steps = stage_.instructions;
  // ONBUILD triggers of the base run first, as if written after FROM.
  if (!state_.snapshot.config.onbuild.empty()) {
    std::string text = "FROM scratch\n";
    for (const std::string& trigger : state_.snapshot.config.onbuild) text += trigger + "\n";
    Dockerfile triggers = VK_TRY(ParseDockerfile(text, "ONBUILD of " + stage_.base));
    steps.insert(steps.begin(), triggers.stages.at(0).instructions.begin(),
                 triggers.stages.at(0).instructions.end());
    state_.snapshot.config.onbuild.clear();
  }
  for (size_t i = 0; i < steps.size(); ++i) VK_TRY(Step(steps[i], i + 2, steps.size() + 1));
  return std::move(state_);
}

Result<void> StageBuilder::From() {
  VK_TRY(ExpandFrom(stage_, s_.global.Lookup(), s_.dockerfile.directives.escape));
  std::string label = "[" + name_ + " 1/" + std::to_string(stage_.instructions.size() + 1) +
                      "] FROM " + stage_.base;
  step_ = s_.progress.Begin(label);
  for (size_t i = 0; i < stage_.index; ++i) {
    const Stage& earlier = s_.dockerfile.stages[i];
    if (earlier.name.empty() || earlier.name != stage_.base) continue;
    const StageState& built = s_.Stage(i);
    state_.snapshot = built.snapshot;
    state_.key = CacheKey("stage").Add(built.key).Hex();
    scope_ = VariableScope::Stage(s_.request.build_args, s_.global, EnvMap(state_.snapshot.config));
    s_.progress.Cached(step_);
    return Ok();
  }
  if (AsciiLower(stage_.base) == "scratch") {
    // docker's empty image (BuildKit's dockerfile2llb emptyImage): the
    // default PATH, so ENV PATH=$PATH:... and `docker run` find programs,
    // and "/" as the working directory.
    state_.snapshot.config.env = {std::string("PATH=") + kDefaultPath};
    state_.snapshot.config.working_dir = "/";
    scope_ = VariableScope::Stage(s_.request.build_args, s_.global, EnvMap(state_.snapshot.config));
    state_.key = CacheKey("scratch").Add(stage_.platform).Add(kDefaultPath).Hex();
    s_.progress.Cached(step_);
    return Ok();
  }
  // An image already in the store is used as it is (CACHED); else pulled.
  bool stored = false;
  if (auto source = image::ParseImageSource(stage_.base); source.ok()) {
    auto found = s_.store.FindImage(image::StoreName(*source));
    stored = found.ok() && found->has_value();
  }
  auto resolved = FromImage(stage_.base);
  if (!resolved.ok()) {
    s_.progress.Failed(step_);
    return resolved;
  }
  if (stored) {
    s_.progress.Cached(step_);
  } else {
    s_.progress.Done(step_);
  }
  return Ok();
}

Result<void> StageBuilder::FromImage(const std::string& reference) {
  image::PullOptions pull;
  if (!stage_.platform.empty()) pull.platform = VK_TRY(image::ParsePlatform(stage_.platform));
  image::ImageRecord record = VK_TRY(
      image::ResolveImage(s_.store, reference, image::PullPolicy::kMissing, pull).Context("FROM"));
  std::string config = VK_TRY(s_.store.ReadBlob(record.config_digest, kMaxBaseConfigBytes));
  state_.snapshot.config = VK_TRY(ParseBuildConfig(config).Context("FROM " + reference));
  for (const std::string& layer : record.layers) {
    struct stat st {};
    if (::stat(s_.store.BlobPath(layer).c_str(), &st) != 0)
      return Error(ErrorKind::kImage, "layer " + layer + " of " + reference +
                                          " is missing: run `vk image pull " + reference + "`");
    state_.snapshot.layers.push_back({layer, static_cast<uint64_t>(st.st_size)});
  }
  state_.key = CacheKey("image").Add(record.manifest_digest).Hex();
  scope_ = VariableScope::Stage(s_.request.build_args, s_.global, EnvMap(state_.snapshot.config));
  return Ok();
}

Result<void> StageBuilder::Step(const Instruction& written, size_t number, size_t total) {
  char escape = s_.dockerfile.directives.escape;
  if (const auto* arg = std::get_if<ArgInstruction>(&written.args)) {
    VK_TRY(scope_.Declare(*arg, escape));
    CacheKey key(state_.key);
    for (const ArgDeclaration& d : arg->args) key.Add(d.name).Add(scope_.Get(d.name).value_or(""));
    state_.key = key.Hex();
    return Ok();
  }
  Instruction instruction = written;
  VK_TRY(ExpandInstruction(instruction, scope_.Lookup(), escape));
  CacheKey key(state_.key);
  key.Add(CanonicalText(instruction));
  step_ = s_.progress.Begin("[" + name_ + " " + std::to_string(number) + "/" +
                            std::to_string(total) + "] " + DisplayText(instruction));
  ++s_.outcome.steps;
  auto keyed = KeyInputs(instruction, key);
  if (!keyed.ok()) {
    s_.progress.Failed(step_);
    return std::move(keyed).error();
  }
  state_.key = key.Hex();
  if (const auto* env = std::get_if<EnvInstruction>(&instruction.args)) scope_.SetEnv(*env);
  if (!s_.request.no_cache) {
    if (auto hit = s_.cache.Find(state_.key)) {
      state_.snapshot = std::move(*hit);
      ++s_.outcome.cached;
      s_.progress.Cached(step_);
      return Ok();
    }
  }
  current_ = &instruction;
  auto executed = Execute(instruction);
  current_ = nullptr;
  prepared_.clear();
  if (!executed.ok()) {
    s_.progress.Failed(step_);
    return std::move(executed).error().WithContext(DisplayText(instruction));
  }
  VK_TRY(s_.cache.Put(state_.key, state_.snapshot));
  s_.progress.Done(step_);
  return Ok();
}

Result<void> StageBuilder::KeyInputs(const Instruction& instruction, CacheKey& key) {
  if (const auto* copy = std::get_if<CopyInstruction>(&instruction.args))
    key.Add(VK_TRY(CopyKey(*copy)));
  if (const auto* add = std::get_if<AddInstruction>(&instruction.args))
    key.Add(VK_TRY(AddKey(*add)));
  if (std::holds_alternative<RunInstruction>(instruction.args)) {
    // Everything in scope reaches the command's environment.
    for (const std::string& kv : RunEnv()) key.Add(kv);
    key.Add(s_.request.network ? "net" : "no-net");
    for (const Mount& mount : std::get<RunInstruction>(instruction.args).mounts)
      if (mount.type == MountType::kBind) key.Add(VK_TRY(BindKey(mount)));
  }
  return Ok();
}

Result<void> StageBuilder::Execute(const Instruction& instruction) {
  if (const auto* copy = std::get_if<CopyInstruction>(&instruction.args)) return Copy(*copy);
  if (const auto* add = std::get_if<AddInstruction>(&instruction.args)) return Add(*add);
  if (const auto* run = std::get_if<RunInstruction>(&instruction.args)) return Run(*run);
  if (const auto* workdir = std::get_if<WorkdirInstruction>(&instruction.args))
    return Workdir(workdir->path);
  ApplyConfig(instruction);
  AddHistory(/*empty_layer=*/true);
  return Ok();
}

void StageBuilder::ApplyConfig(const Instruction& instruction) {
  BuildConfig& c = state_.snapshot.config;
  std::visit(
      [&](const auto& args) {
        using T = std::decay_t<decltype(args)>;
        if constexpr (std::is_same_v<T, EnvInstruction>) {
          for (const KeyValue& kv : args.vars) c.SetEnv(kv.key, kv.value);
        } else if constexpr (std::is_same_v<T, LabelInstruction>) {
          for (const KeyValue& kv : args.labels) c.labels[kv.key] = kv.value;
        } else if constexpr (std::is_same_v<T, MaintainerInstruction>) {
          c.labels["maintainer"] = args.maintainer;
        } else if constexpr (std::is_same_v<T, UserInstruction>) {
          c.user = args.user;
        } else if constexpr (std::is_same_v<T, ExposeInstruction>) {
          for (const std::string& port : args.ports)
            c.exposed_ports.insert(port.find('/') == std::string::npos ? port + "/tcp" : port);
        } else if constexpr (std::is_same_v<T, VolumeInstruction>) {
          for (const std::string& path : args.paths) c.volumes.insert(path);
        } else if constexpr (std::is_same_v<T, CmdInstruction>) {
          c.cmd = CommandArgv(args.command, c);
          cmd_set_ = true;
        } else if constexpr (std::is_same_v<T, EntrypointInstruction>) {
          c.entrypoint = CommandArgv(args.command, c);
          // docker: an ENTRYPOINT resets the Cmd inherited from the base.
          if (!cmd_set_) c.cmd.clear();
        } else if constexpr (std::is_same_v<T, ShellInstruction>) {
          c.shell = args.shell;
        } else if constexpr (std::is_same_v<T, StopSignalInstruction>) {
          c.stop_signal = args.signal;
        } else if constexpr (std::is_same_v<T, HealthcheckInstruction>) {
          HealthConfig h{args.test,
                         args.interval.count(),
                         args.timeout.count(),
                         args.start_period.count(),
                         args.start_interval.count(),
                         args.retries};
          c.healthcheck = std::move(h);
        } else if constexpr (std::is_same_v<T, OnbuildInstruction>) {
          c.onbuild.push_back(args.expression);
        }
      },
      instruction.args);
}

// WORKDIR: relative paths join the current one; a missing directory is
// made in a layer of its own (root-owned 0755, as BuildKit does).
Result<void> StageBuilder::Workdir(const std::string& path) {
  BuildConfig& c = state_.snapshot.config;
  std::string joined = !path.empty() && path[0] == '/'
                           ? path
                           : (c.working_dir.empty() ? "/" : c.working_dir) + "/" + path;
  c.working_dir = CleanAbsolute(joined);
  StageFiles* files = VK_TRY(state_.Files(s_.store));
  const image::Inode* existing = files->Lookup(c.working_dir);
  if (existing != nullptr && existing->type == image::FileType::kDirectory) {
    AddHistory(/*empty_layer=*/true);
    return Ok();
  }
  LayerTar layer;
  CopyRequest request;
  SourceMatch dir;
  dir.directory = true;
  image::EntryMeta meta;
  meta.type = image::FileType::kDirectory;
  meta.permissions = 0755;
  dir.files.push_back(SourceFile{"", meta, ""});
  request.matches.push_back(std::move(dir));
  request.destination = c.working_dir;
  VK_TRY(PlanCopy(request, *files, layer));
  return CommitLayer(layer);
}

Result<void> StageBuilder::CommitLayer(const LayerTar& layer) {
  if (layer.empty()) {
    AddHistory(/*empty_layer=*/true);
    return Ok();
  }
  LayerBlob blob = VK_TRY(layer.Commit(s_.store));
  state_.snapshot.layers.push_back(blob);
  AddHistory(/*empty_layer=*/false);
  return Ok();
}

void StageBuilder::AddHistory(bool empty_layer) {
  BuildConfig& c = state_.snapshot.config;
  HistoryEntry entry;
  entry.created = NowRfc3339();
  entry.created_by = current_ ? HistoryText(*current_, c) : "";
  entry.comment = "buildkit.dockerfile.v0";
  entry.empty_layer = empty_layer;
  c.history.push_back(std::move(entry));
  c.created = c.history.back().created;
}

}  // namespace vk::build
