#include "build/build_progress.h"

#include <unistd.h>

namespace vk::build {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr size_t kMaxLineBytes = 4096;  // one output line kept: a binary dump has no newlines

// Terminal output must not carry the command's control sequences.
std::string Printable(std::string_view line, size_t width) {
  std::string out;
  for (char c : line) {
    if (out.size() >= width) break;
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return out;
}

}  // namespace

Result<ProgressMode> ParseProgressMode(std::string_view text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "tty") return ProgressMode::kTty;
  if (text == "plain") return ProgressMode::kPlain;
  if (text == "quiet") return ProgressMode::kQuiet;
  return Error(ErrorKind::kUsage,
               "--progress must be auto, tty, plain or quiet (got \"" + std::string(text) + "\")");
}

BuildProgress::BuildProgress(ProgressMode mode, std::FILE* out) : mode_(mode), out_(out) {
  if (mode_ == ProgressMode::kAuto)
    mode_ = ::isatty(::fileno(out_)) ? ProgressMode::kTty : ProgressMode::kPlain;
}

double BuildProgress::Elapsed(const Step& step) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - step.started).count();
}

BuildProgress::StepId BuildProgress::Begin(std::string label) {
  std::lock_guard lock(mutex_);
  StepId id = ++last_id_;
  Step& step = running_[id];
  step.label = std::move(label);
  step.started = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::kPlain) std::fprintf(out_, "#%d %s\n", id, step.label.c_str());
  if (mode_ == ProgressMode::kTty) Redraw();
  std::fflush(out_);
  return id;
}

void BuildProgress::Output(StepId id, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  auto it = running_.find(id);
  if (it == running_.end()) return;
  Step& step = it->second;
  for (char c : bytes) {
    if (c != '\n') {
      if (step.partial.size() < kMaxLineBytes) step.partial += c;
      continue;
    }
    if (mode_ == ProgressMode::kPlain) std::fprintf(out_, "#%d %s\n", id, step.partial.c_str());
    step.tail.push_back(std::move(step.partial));
    step.partial.clear();
    if (step.tail.size() > kTailLines) step.tail.pop_front();
  }
  if (mode_ == ProgressMode::kTty &&
      std::chrono::steady_clock::now() - last_draw_ >= kRedrawInterval)
    Redraw();
  std::fflush(out_);
}

// Every running step's line with its elapsed time, then its last output
// lines dimmed, drawn over what was drawn before.
void BuildProgress::Redraw() {
  EraseDrawn();
  size_t folded = running_.empty() ? 0 : std::max(kMinFoldedLines, kFoldedLines / running_.size());
  for (const auto& [id, step] : running_) {
    std::fprintf(out_, "\r\033[K=> %s  %.1fs\n", Printable(step.label, 100).c_str(), Elapsed(step));
    ++drawn_lines_;
    size_t first = step.tail.size() > folded ? step.tail.size() - folded : 0;
    for (size_t i = first; i < step.tail.size(); ++i, ++drawn_lines_)
      std::fprintf(out_, "\033[K\033[2m   %s\033[0m\n", Printable(step.tail[i], 110).c_str());
  }
  last_draw_ = std::chrono::steady_clock::now();
}

void BuildProgress::EraseDrawn() {
  for (; drawn_lines_ > 0; --drawn_lines_) std::fprintf(out_, "\033[1A\033[K");
}

void BuildProgress::Finish(StepId id, std::string_view how) {
  std::lock_guard lock(mutex_);
  auto it = running_.find(id);
  if (it == running_.end()) return;
  Step step = std::move(it->second);
  running_.erase(it);
  if (!step.partial.empty()) {
    if (mode_ == ProgressMode::kPlain) std::fprintf(out_, "#%d %s\n", id, step.partial.c_str());
    step.tail.push_back(std::move(step.partial));
    step.partial.clear();
  }
  if (mode_ == ProgressMode::kPlain) {
    if (how == "CACHED")
      std::fprintf(out_, "#%d CACHED\n", id);
    else
      std::fprintf(out_, "#%d %s %.1fs\n", id, std::string(how).c_str(), Elapsed(step));
  } else if (mode_ == ProgressMode::kTty) {
    EraseDrawn();
    if (how == "CACHED")
      std::fprintf(out_, "=> CACHED %s\n", Printable(step.label, 100).c_str());
    else
      std::fprintf(out_, "=> %s  %.1fs%s\n", Printable(step.label, 100).c_str(), Elapsed(step),
                   how == "ERROR" ? "  ERROR" : "");
    Redraw();
  }
  if (how == "ERROR") failed_[id] = std::move(step);
  std::fflush(out_);
}

void BuildProgress::Cached(StepId step) { Finish(step, "CACHED"); }
void BuildProgress::Done(StepId step) { Finish(step, "DONE"); }
void BuildProgress::Failed(StepId step) { Finish(step, "ERROR"); }

void BuildProgress::Note(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::kQuiet) return;
  if (mode_ == ProgressMode::kTty) EraseDrawn();
  std::fprintf(out_, "%s%s\n", mode_ == ProgressMode::kTty ? "=> " : "#  ",
               std::string(line).c_str());
  if (mode_ == ProgressMode::kTty) Redraw();
  std::fflush(out_);
}

std::string BuildProgress::Tail(StepId id) const {
  std::lock_guard lock(mutex_);
  const Step* step = nullptr;
  if (auto it = running_.find(id); it != running_.end()) step = &it->second;
  if (auto it = failed_.find(id); it != failed_.end()) step = &it->second;
  if (step == nullptr) return {};
  std::string out;
  for (const std::string& line : step->tail) out += line + "\n";
  if (!step->partial.empty()) out += step->partial + "\n";
  return out;
}

}  // namespace vk::build
