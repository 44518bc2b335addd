// Which stage builds when: each once the stages it needs are built,
// independent ones at the same time, at most `jobs` at once. BuildKit's
// solver runs independent steps concurrently; podman build bounds it with
// --jobs, as `vk build --jobs` does.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "base/result.h"

namespace vk::build {

struct StageTask {
  size_t index = 0;           // the stage's index in the Dockerfile
  std::vector<size_t> needs;  // stage indexes it uses, each one of the tasks too
};

// Calls `build(index)` for every task once each of its needs succeeded: on
// the calling thread in the tasks' order when `jobs` is 1, else on up to
// `jobs` threads. After the first failure no further task starts and
// `cancel()` is called once (running builds may stop early); the first
// error is returned as it was.
Result<void> RunStages(const std::vector<StageTask>& tasks, size_t jobs,
                       const std::function<Result<void>(size_t)>& build,
                       const std::function<void()>& cancel);

}  // namespace vk::build
