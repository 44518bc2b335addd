// What `vk build` prints while it works, as BuildKit does. On a terminal:
// one line per step ("=> [app 2/5] RUN make  12.3s", "=> CACHED [app 1/5]
// ..."), the running step's last output lines shown folded under it and
// erased when it ends. Otherwise (--progress plain, pipes): numbered lines,
// "#3 [app 2/5] RUN make", the output prefixed "#3 ", "#3 DONE 12.3s" or
// "#3 CACHED". A failing step's output tail is kept for the error.
#pragma once

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::build {

enum class ProgressMode { kAuto, kTty, kPlain, kQuiet };
Result<ProgressMode> ParseProgressMode(std::string_view text);  // auto|tty|plain|quiet

// Thread-safe: stages that build in parallel each have a running step, and
// their lines interleave as BuildKit's do (plain lines carry the step's
// number; a terminal shows every running step with its folded output).
class BuildProgress {
 public:
  using StepId = int;

  explicit BuildProgress(ProgressMode mode, std::FILE* out = stderr);

  StepId Begin(std::string label);  // a step starts
  void Output(StepId step, std::string_view bytes);
  void Cached(StepId step);          // the step was found in the cache
  void Done(StepId step);            // it ran and succeeded
  void Failed(StepId step);          // it ran and failed
  void Note(std::string_view line);  // a line of its own ("writing image ...")
  // The last lines a running or failed step printed.
  std::string Tail(StepId step) const;

  // Lines kept for Tail() and shown folded on a terminal (divided between
  // the running steps, at least kMinFoldedLines each).
  static constexpr size_t kTailLines = 12;
  static constexpr size_t kFoldedLines = 6;
  static constexpr size_t kMinFoldedLines = 2;

 private:
  struct Step {
    std::string label;
    std::chrono::steady_clock::time_point started;
    std::deque<std::string> tail;
    std::string partial;  // output after the last newline
  };

  static double Elapsed(const Step& step);
  void Redraw();
  void EraseDrawn();
  void Finish(StepId id, std::string_view how);

  mutable std::mutex mutex_;
  ProgressMode mode_;
  std::FILE* out_;
  StepId last_id_ = 0;
  std::map<StepId, Step> running_;
  std::map<StepId, Step> failed_;  // kept for Tail()
  size_t drawn_lines_ = 0;         // lines of the last Redraw, erased by the next
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace vk::build
