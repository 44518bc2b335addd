#include "build/stage_scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace vk::build {
namespace {

Result<void> RunInOrder(const std::vector<StageTask>& tasks,
                        const std::function<Result<void>(size_t)>& build) {
  for (const StageTask& task : tasks) VK_TRY(build(task.index));
  return Ok();
}

class Scheduler {
 public:
  Scheduler(const std::vector<StageTask>& tasks, size_t jobs,
            const std::function<Result<void>(size_t)>& build)
      : tasks_(tasks), jobs_(jobs), build_(build) {}

  Result<void> Run(const std::function<void()>& cancel) {
    std::unique_lock lock(mutex_);
    bool cancelled = false;
    for (;;) {
      if (!failure_) StartReady();
      if (running_ == 0) break;
      changed_.wait(lock);
      if (failure_ && !cancelled) {
        cancelled = true;
        lock.unlock();
        cancel();
        lock.lock();
      }
    }
    lock.unlock();
    for (std::thread& thread : threads_) thread.join();
    if (failure_) return std::move(*failure_);
    if (done_.size() != tasks_.size())
      return Error(ErrorKind::kInternal, "stages left unbuilt: their dependencies form a cycle");
    return Ok();
  }

 private:
  bool Ready(const StageTask& task) const {
    return !started_.count(task.index) &&
           std::all_of(task.needs.begin(), task.needs.end(),
                       [this](size_t need) { return done_.count(need) > 0; });
  }

  // Called with mutex_ held.
  void StartReady() {
    for (const StageTask& task : tasks_) {
      if (running_ >= jobs_) return;
      if (!Ready(task)) continue;
      started_.insert(task.index);
      ++running_;
      threads_.emplace_back([this, index = task.index] { Finished(index, build_(index)); });
    }
  }

  void Finished(size_t index, Result<void> result) {
    std::lock_guard lock(mutex_);
    --running_;
    if (result.ok())
      done_.insert(index);
    else if (!failure_)
      failure_ = std::move(result).error();
    changed_.notify_all();
  }

  const std::vector<StageTask>& tasks_;
  const size_t jobs_;
  const std::function<Result<void>(size_t)>& build_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<size_t> started_, done_;
  size_t running_ = 0;
  std::optional<Error> failure_;
  std::vector<std::thread> threads_;
};

}  // namespace

Result<void> RunStages(const std::vector<StageTask>& tasks, size_t jobs,
                       const std::function<Result<void>(size_t)>& build,
                       const std::function<void()>& cancel) {
  if (jobs <= 1) return RunInOrder(tasks, build);
  return Scheduler(tasks, jobs, build).Run(cancel);
}

}  // namespace vk::build
