// Progress: one line per task (a layer download, a conversion). On a TTY the
// lines are redrawn in place at most 10 times a second; otherwise only a
// line per finished task is printed, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace vk {

class Progress {
 public:
  enum class Style { kAuto, kTty, kLines, kQuiet };
  explicit Progress(Style style = Style::kAuto, std::FILE* out = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // kRate adds the transfer rate and, with a total, the time left.
  enum class Meter { kBytes, kRate };
  // Returns a task id; total 0 means unknown.
  size_t Add(std::string label, uint64_t total, Meter meter = Meter::kBytes);
  void Update(size_t task, uint64_t done, uint64_t total);
  void Finish(size_t task, std::string status);

  // "1.5 MB", "700 kB" (SI, as docker prints sizes).
  static std::string FormatBytes(uint64_t bytes);

 private:
  struct Task {
    std::string label;
    uint64_t done = 0;
    uint64_t total = 0;
    std::string status;  // set when finished
    Meter meter = Meter::kBytes;
    std::chrono::steady_clock::time_point started;
  };
  void RedrawLocked(bool force);
  std::string LineFor(const Task& task) const;

  Style style_;
  std::FILE* out_;
  std::mutex mutex_;
  std::vector<Task> tasks_;
  size_t lines_drawn_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace vk
