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
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::build {

enum class ProgressMode { kAuto, kTty, kPlain, kQuiet };
Result<ProgressMode> ParseProgressMode(std::string_view text);  // auto|tty|plain|quiet

class BuildProgress {
 public:
  explicit BuildProgress(ProgressMode mode, std::FILE* out = stderr);

  void Begin(std::string label);  // a step starts
  void Output(std::string_view bytes);
  void Cached();                     // the step was found in the cache
  void Done();                       // it ran and succeeded
  void Failed();                     // it ran and failed
  void Note(std::string_view line);  // a line of its own ("writing image ...")
  // The last lines the running (or failed) step printed.
  std::string Tail() const;

  // Lines kept for Tail() and shown folded on a terminal.
  static constexpr size_t kTailLines = 12;
  static constexpr size_t kFoldedLines = 6;

 private:
  double Elapsed() const;
  void Redraw();
  void EraseFold();
  void Finish(std::string_view how);

  ProgressMode mode_;
  std::FILE* out_;
  int step_ = 0;
  std::string label_;
  std::chrono::steady_clock::time_point started_;
  std::deque<std::string> tail_;
  std::string partial_;  // output after the last newline
  size_t folded_drawn_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace vk::build
