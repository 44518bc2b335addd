#include "build/instruction_expansion.h"

#include "build/port_spec.h"
#include "build/run_mount.h"

namespace vk::build {
namespace {

class Expander {
 public:
  Expander(const VariableLookup& lookup, char escape) : lookup_(lookup) {
    options_.escape = escape;
  }

  Result<void> Word(std::string& word) const {
    word = VK_TRY(ExpandWord(word, lookup_, options_));
    return Ok();
  }
  Result<void> Words(std::vector<std::string>& words) const {
    for (std::string& word : words) VK_TRY(Word(word));
    return Ok();
  }
  Result<void> Pairs(std::vector<KeyValue>& pairs) const {
    for (KeyValue& pair : pairs) {
      VK_TRY(Word(pair.key));
      VK_TRY(Word(pair.value));
    }
    return Ok();
  }
  // Heredoc bodies: quotes are ordinary text and the escape is always the
  // backslash (BuildKit's raw expansion).
  Result<void> Inline(std::vector<InlineSource>& sources) const {
    ShellWordOptions raw;
    raw.skip_quotes = true;
    for (InlineSource& source : sources) {
      if (source.expand) source.data = VK_TRY(ExpandWord(source.data, lookup_, raw));
    }
    return Ok();
  }

  Result<void> operator()(CopyInstruction& copy) const;
  Result<void> operator()(AddInstruction& add) const;
  Result<void> operator()(RunInstruction& run) const;
  Result<void> operator()(ExposeInstruction& expose) const;
  Result<void> operator()(EnvInstruction& env) const { return Pairs(env.vars); }
  Result<void> operator()(LabelInstruction& label) const { return Pairs(label.labels); }
  Result<void> operator()(WorkdirInstruction& workdir) const { return Word(workdir.path); }
  Result<void> operator()(UserInstruction& user) const { return Word(user.user); }
  Result<void> operator()(StopSignalInstruction& signal) const { return Word(signal.signal); }
  Result<void> operator()(VolumeInstruction& volume) const { return Words(volume.paths); }
  template <typename Other>
  Result<void> operator()(Other&) const {
    return Ok();
  }

 private:
  const VariableLookup& lookup_;
  ShellWordOptions options_;
};

Result<void> Expander::operator()(CopyInstruction& copy) const {
  // --from is looked up, never expanded: docker refuses variables there.
  ShellWordOptions plain = options_;
  std::string from = VK_TRY(ExpandWord(copy.from, NoVariables(), plain));
  if (from != copy.from) {
    return Error(ErrorKind::kUsage,
                 "variable expansion is not supported for --from; define a stage with FROM "
                 "using a global ARG and copy from that stage");
  }
  VK_TRY(Words(copy.sources));
  VK_TRY(Word(copy.destination));
  VK_TRY(Word(copy.chown));
  VK_TRY(Word(copy.chmod));
  return Inline(copy.inline_sources);
}

Result<void> Expander::operator()(AddInstruction& add) const {
  VK_TRY(Words(add.sources));
  VK_TRY(Word(add.destination));
  VK_TRY(Word(add.chown));
  VK_TRY(Word(add.chmod));
  VK_TRY(Word(add.checksum));
  return Inline(add.inline_sources);
}

Result<void> Expander::operator()(RunInstruction& run) const {
  run.mounts.clear();
  for (const std::string& spec : run.mount_specs) {
    run.mounts.push_back(VK_TRY(ParseMount(spec, &lookup_).Context("--mount=" + spec)));
  }
  return Ok();
}

// One EXPOSE word may expand to several ports ("$PORTS").
Result<void> Expander::operator()(ExposeInstruction& expose) const {
  std::vector<std::string> ports;
  for (const std::string& word : expose.ports) {
    for (std::string& port : VK_TRY(ExpandWords(word, lookup_, options_))) {
      VK_TRY(ParsePortSpec(port));
      ports.push_back(std::move(port));
    }
  }
  expose.ports = std::move(ports);
  return Ok();
}

Error AtLine(std::string_view file_name, int line, const Error& error) {
  return Error(ErrorKind::kUsage,
               std::string(file_name) + ":" + std::to_string(line) + ": " + error.message());
}

}  // namespace

Result<void> ExpandInstruction(Instruction& instruction, const VariableLookup& lookup, char escape,
                               std::string_view file_name) {
  Result<void> result = std::visit(Expander(lookup, escape), instruction.args);
  if (!result.ok()) return AtLine(file_name, instruction.lines.first, result.error());
  return Ok();
}

Result<void> ExpandFrom(Stage& stage, const VariableLookup& global, char escape,
                        std::string_view file_name) {
  ShellWordOptions options;
  options.escape = escape;
  auto base = ExpandWord(stage.base, global, options);
  if (!base.ok()) return AtLine(file_name, stage.lines.first, base.error());
  if (base->empty()) {
    return DockerfileError(file_name, stage.lines.first,
                           "base name (" + stage.base + ") should not be blank",
                           "declare the ARG it uses before the first FROM or pass --build-arg");
  }
  stage.base = std::move(base).value();
  if (stage.platform.empty()) return Ok();
  auto platform = ExpandWord(stage.platform, global, options);
  if (!platform.ok()) return AtLine(file_name, stage.lines.first, platform.error());
  if (platform->empty()) {
    return DockerfileError(file_name, stage.lines.first,
                           "empty platform value from expression " + stage.platform,
                           "declare the ARG it uses before the first FROM");
  }
  stage.platform = std::move(platform).value();
  return Ok();
}

}  // namespace vk::build
