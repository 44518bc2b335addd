// One stage of a build: FROM, then each instruction through the cache. The
// steps live in three files: stage_builder.cc (the flow and the config
// instructions), stage_copy.cc (COPY, ADD), stage_run.cc (RUN).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "build/bind_source.h"
#include "build/build_secrets.h"
#include "build/build_session.h"
#include "build/copy_plan.h"
#include "build/layer_tar.h"
#include "build/run_step.h"
#include "runtime/launch.h"

namespace vk::build {

class StageBuilder {
 public:
  StageBuilder(BuildSession& session, size_t index);
  Result<StageState> Build();

 private:
  Result<void> From();
  Result<void> FromImage(const std::string& reference);
  Result<void> Step(const Instruction& written, size_t number, size_t total);
  // Extra key parts an instruction's result depends on beyond its text.
  Result<void> KeyInputs(const Instruction& instruction, CacheKey& key);
  // Runs a step that missed the cache; changes state_.
  Result<void> Execute(const Instruction& instruction);
  void ApplyConfig(const Instruction& instruction);
  Result<void> Workdir(const std::string& path);

  // stage_copy.cc
  Result<std::string> FromKey(const std::string& ref);
  Result<StageFiles*> FromFiles(const std::string& ref);
  Result<std::string> CopyKey(const CopyInstruction& copy);
  Result<std::string> AddKey(const AddInstruction& add);
  Result<void> Copy(const CopyInstruction& copy);
  Result<void> Add(const AddInstruction& add);
  Result<std::vector<SourceMatch>> InlineSources(const std::vector<InlineSource>& sources);
  Result<void> CommitCopy(CopyRequest request, const std::string& chown, const std::string& chmod);

  // stage_run.cc
  Result<void> Run(const RunInstruction& run);
  Result<SourceMatch> BindSelection(const Mount& mount, const std::string& extract_dir);
  Result<void> StageBind(const Mount& mount, size_t index, RunStepSpec& spec);
  Result<SharedDir> CacheShare(const Mount& mount);
  Result<std::string> BindKey(const Mount& mount);
  Result<StagedSecrets> RunMounts(const RunInstruction& run, RunStepSpec& spec);
  Result<std::vector<std::string>> MountStubs(const RunStepSpec& spec);
  std::vector<std::string> RunArgv(const RunInstruction& run) const;
  std::vector<std::string> RunEnv() const;

  // A layer this step made (nothing when empty), with its history entry.
  Result<void> CommitLayer(const LayerTar& layer);
  void AddHistory(bool empty_layer);

  BuildSession& s_;
  Stage stage_;
  std::string name_;  // for progress labels
  StageState state_;
  VariableScope scope_;
  const Instruction* current_ = nullptr;  // the step being executed
  BuildProgress::StepId step_ = 0;        // its progress line
  bool cmd_set_ = false;                  // this stage wrote CMD (ENTRYPOINT keeps it)
  std::vector<SourceMatch> prepared_;     // COPY/ADD sources hashed for the key
};

}  // namespace vk::build
