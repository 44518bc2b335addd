#include "base/progress.h"

#include <fmt/format.h>
#include <unistd.h>

namespace vk {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

}  // namespace

Progress::Progress(Style style, std::FILE* out) : style_(style), out_(out) {
  if (style_ == Style::kAuto) style_ = ::isatty(::fileno(out_)) ? Style::kTty : Style::kLines;
}

Progress::~Progress() {
  std::lock_guard lock(mutex_);
  if (style_ == Style::kTty) RedrawLocked(true);
}

std::string Progress::FormatBytes(uint64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  const char* units[] = {"kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1000;
  int unit = 0;
  while (value >= 1000 && unit < 3) {
    value /= 1000;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

size_t Progress::Add(std::string label, uint64_t total, Meter meter) {
  std::lock_guard lock(mutex_);
  tasks_.push_back({std::move(label), 0, total, {}, meter, std::chrono::steady_clock::now()});
  if (style_ == Style::kTty) RedrawLocked(true);
  return tasks_.size() - 1;
}

void Progress::Update(size_t task, uint64_t done, uint64_t total) {
  std::lock_guard lock(mutex_);
  if (task >= tasks_.size()) return;
  tasks_[task].done = done;
  if (total != 0) tasks_[task].total = total;
  if (style_ == Style::kTty) RedrawLocked(false);
}

void Progress::Finish(size_t task, std::string status) {
  std::lock_guard lock(mutex_);
  if (task >= tasks_.size()) return;
  tasks_[task].status = std::move(status);
  if (style_ == Style::kTty) {
    RedrawLocked(true);
  } else if (style_ == Style::kLines) {
    fmt::print(out_, "{}\n", LineFor(tasks_[task]));
    std::fflush(out_);
  }
}

namespace {

// " 12.5 MB/s, 0:42 left" once a rate can be measured.
std::string RateText(uint64_t done, uint64_t total, std::chrono::steady_clock::time_point started) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (done == 0 || seconds < 0.2) return {};
  double rate = static_cast<double>(done) / seconds;
  std::string text = " " + Progress::FormatBytes(static_cast<uint64_t>(rate)) + "/s";
  if (total > done) {
    auto left = static_cast<uint64_t>(static_cast<double>(total - done) / rate);
    text += fmt::format(", {}:{:02} left", left / 60, left % 60);
  }
  return text;
}

}  // namespace

std::string Progress::LineFor(const Task& t) const {
  if (!t.status.empty()) return fmt::format("{}: {}", t.label, t.status);
  std::string rate = t.meter == Meter::kRate ? RateText(t.done, t.total, t.started) : "";
  if (t.total == 0) return fmt::format("{}: {}{}", t.label, FormatBytes(t.done), rate);
  int filled = static_cast<int>(kBarWidth * std::min(t.done, t.total) / t.total);
  return fmt::format("{}: [{}{}] {}/{}{}", t.label, std::string(filled, '='),
                     std::string(kBarWidth - filled, ' '), FormatBytes(t.done),
                     FormatBytes(t.total), rate);
}

void Progress::RedrawLocked(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  std::string text;
  if (lines_drawn_ > 0) text += fmt::format("\x1b[{}A", lines_drawn_);  // back to our first line
  for (const Task& t : tasks_) text += "\r\x1b[2K" + LineFor(t) + "\n";
  lines_drawn_ = tasks_.size();
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace vk
