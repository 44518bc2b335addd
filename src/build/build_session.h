// What one build shares between its stages (builder.cc) and the steps of
// each stage (stage_builder.cc): the store and cache, the parsed Dockerfile,
// the global ARG scope, the stages built so far and a work directory in the
// store's tmp/ for extracted files and disks (removed when the build ends).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "build/build_cache.h"
#include "build/build_progress.h"
#include "build/builder.h"
#include "build/dockerfile.h"
#include "build/source_files.h"
#include "build/stage_files.h"
#include "build/variables.h"
#include "image/pull.h"
#include "image/store.h"

namespace vk::build {

// A stage's state: what the cache records, its key and (made on demand) the
// index of its files.
struct StageState {
  StageSnapshot snapshot;
  std::string key;
  std::unique_ptr<StageFiles> files;

  // The index of the stage's files, brought up to date with its layers.
  Result<StageFiles*> Files(const image::Store& store);
};

struct BuildSession {
  const BuildRequest& request;
  BuildProgress& progress;
  image::Store& store;
  BuildCache cache;
  Dockerfile dockerfile;
  BuildContext context;
  VariableScope global;
  std::map<size_t, StageState> stages;  // built stages by index
  std::string work_dir;                 // inside store tmp/
  BuildOutcome outcome;
  size_t work_counter = 0;

  std::map<std::string, std::unique_ptr<StageFiles>> image_files;  // by manifest digest
  // Held by a stage's thread for all its host work (everything above is
  // shared); a RUN step releases it while its VM runs (run_step.h).
  std::mutex host_work;
  std::atomic<bool> cancelled{false};  // a stage failed: running RUN VMs stop

  // A new empty directory inside work_dir.
  Result<std::string> MakeWorkDir(std::string_view hint);
  // A built stage, and the index of its files (made on first use).
  const StageState& Stage(size_t index) const;
  Result<StageFiles*> StageFilesOf(size_t index);
  // The index of an image's files (COPY --from=IMAGE, bind from=IMAGE).
  Result<StageFiles*> ImageFilesOf(const image::ImageRecord& record);
};

// Builds stage `index` (its dependencies are built) into session.stages.
Result<void> BuildStage(BuildSession& session, size_t index);

// "2026-12-03T06:11:19Z": history and config timestamps.
std::string NowRfc3339();

}  // namespace vk::build
