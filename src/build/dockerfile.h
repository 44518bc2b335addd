// A parsed Dockerfile: typed instructions grouped into stages, as BuildKit's
// frontend/dockerfile/instructions package produces them. Arguments are kept
// as written (variables unexpanded): the builder expands them with
// ExpandInstruction (instruction_expansion.h) once it knows the values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "build/dockerfile_lexer.h"

namespace vk::build {

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

struct ArgDeclaration {
  std::string name;
  std::optional<std::string> default_value;  // ARG NAME has none, ARG NAME= an empty one
  bool operator==(const ArgDeclaration&) const = default;
};

// RUN/CMD/ENTRYPOINT: ["a", "b"] (exec) or a shell command line (one string,
// run with the stage's SHELL).
enum class CommandForm { kShell, kExec };
struct CommandLine {
  CommandForm form = CommandForm::kShell;
  std::vector<std::string> args;  // shell form: zero or one element
  bool operator==(const CommandLine&) const = default;
};

enum class MountType { kBind, kCache, kTmpfs, kSecret, kSsh };
enum class MountSharing { kShared, kPrivate, kLocked };

// One RUN --mount=type=...,key=value,... (BuildKit's keys and defaults).
struct Mount {
  MountType type = MountType::kBind;
  std::string from;    // stage name/index or image for bind/cache
  std::string source;  // path in `from` (bind/cache) or secret id source
  std::string target;
  bool read_only = true;         // default: read-only for bind/secret/ssh, writable for cache/tmpfs
  std::optional<uint64_t> size;  // tmpfs size in bytes
  std::string id;                // cache id / secret id
  MountSharing sharing = MountSharing::kShared;
  bool required = false;           // secret/ssh
  std::optional<std::string> env;  // secret exposed as this environment variable
  std::optional<uint32_t> mode, uid, gid;
  bool operator==(const Mount&) const = default;
};

enum class NetworkMode { kDefault, kNone, kHost };
enum class SecurityMode { kSandbox, kInsecure };

struct RunInstruction {
  CommandLine command;
  std::vector<std::string> mount_specs;  // as written, for ExpandInstruction
  std::vector<Mount> mounts;  // parsed from mount_specs (values holding '$' parsed after expansion)
  NetworkMode network = NetworkMode::kDefault;
  SecurityMode security = SecurityMode::kSandbox;
  std::vector<Heredoc> heredocs;  // RUN <<EOF: files the command reads
};

// A COPY/ADD source written as a heredoc: COPY <<EOF /file.
struct InlineSource {
  std::string name;  // the delimiter, used as the file name
  std::string data;  // the body, <<- tabs already stripped
  bool expand = true;
  bool operator==(const InlineSource&) const = default;
};

struct CopyInstruction {
  std::vector<std::string> sources;
  std::vector<InlineSource> inline_sources;
  std::string destination;
  std::string from;  // --from: stage name, stage index or image
  std::string chown, chmod;
  bool link = false;
  bool parents = false;
  std::vector<std::string> excludes;
};

struct AddInstruction {
  std::vector<std::string> sources;
  std::vector<InlineSource> inline_sources;
  std::string destination;
  std::string chown, chmod, checksum;
  bool link = false;
  std::optional<bool> keep_git_dir;
  std::optional<bool> unpack;
  std::vector<std::string> excludes;
};

struct ArgInstruction {
  std::vector<ArgDeclaration> args;
};
struct EnvInstruction {
  std::vector<KeyValue> vars;
};
struct LabelInstruction {
  std::vector<KeyValue> labels;
};
struct WorkdirInstruction {
  std::string path;
};
struct UserInstruction {
  std::string user;
};
struct ExposeInstruction {
  std::vector<std::string> ports;  // "80", "53/udp", "8000-8010/tcp"
};
struct VolumeInstruction {
  std::vector<std::string> paths;
};
struct CmdInstruction {
  CommandLine command;
};
struct EntrypointInstruction {
  CommandLine command;
};
struct ShellInstruction {
  std::vector<std::string> shell;  // JSON form only
};
struct StopSignalInstruction {
  std::string signal;
};

struct HealthcheckInstruction {
  // {"NONE"}, {"CMD", argv...} (exec form) or {"CMD-SHELL", command} as in the
  // image config's Healthcheck.Test.
  std::vector<std::string> test;
  std::chrono::nanoseconds interval{0}, timeout{0}, start_period{0}, start_interval{0};
  int retries = 0;
};

// MAINTAINER is deprecated: the builder records it as the "maintainer" label.
struct MaintainerInstruction {
  std::string maintainer;
};

struct Instruction;

// Recorded in the image and run when a later build uses it as its base.
struct OnbuildInstruction {
  std::string expression;            // the trigger as written: "RUN make"
  std::vector<Instruction> trigger;  // exactly one: the parsed trigger
};

using InstructionArgs =
    std::variant<RunInstruction, CopyInstruction, AddInstruction, ArgInstruction, EnvInstruction,
                 LabelInstruction, WorkdirInstruction, UserInstruction, ExposeInstruction,
                 VolumeInstruction, CmdInstruction, EntrypointInstruction, ShellInstruction,
                 StopSignalInstruction, HealthcheckInstruction, MaintainerInstruction,
                 OnbuildInstruction>;

struct Instruction {
  std::string keyword;  // as written: "RUN", "run"
  LineRange lines;
  std::string text;               // the logical line, continuations joined and trimmed
  std::vector<Heredoc> heredocs;  // as read, for CacheText
  InstructionArgs args;

  // What the build cache hashes for this step: the text plus heredoc bodies.
  std::string CacheText() const;
};

struct Stage {
  std::string base;      // FROM image, earlier stage name, or "scratch" (unexpanded)
  std::string platform;  // --platform (unexpanded), empty when not given
  std::string name;      // AS name, lower-cased; empty when unnamed
  size_t index = 0;      // position in the file, for COPY --from=0
  std::string text;      // the FROM line
  LineRange lines;
  std::vector<Instruction> instructions;
};

struct Dockerfile {
  Directives directives;
  std::vector<Instruction> global_args;  // ARG instructions before the first FROM
  std::vector<Stage> stages;
  std::vector<LexWarning> warnings;
};

}  // namespace vk::build
