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

double BuildProgress::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void BuildProgress::Begin(std::string label) {
  ++step_;
  label_ = std::move(label);
  started_ = std::chrono::steady_clock::now();
  tail_.clear();
  partial_.clear();
  if (mode_ == ProgressMode::kPlain) std::fprintf(out_, "#%d %s\n", step_, label_.c_str());
  if (mode_ == ProgressMode::kTty) Redraw();
  std::fflush(out_);
}

void BuildProgress::Output(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      if (partial_.size() < kMaxLineBytes) partial_ += c;
      continue;
    }
    if (mode_ == ProgressMode::kPlain) std::fprintf(out_, "#%d %s\n", step_, partial_.c_str());
    tail_.push_back(std::move(partial_));
    partial_.clear();
    if (tail_.size() > kTailLines) tail_.pop_front();
  }
  if (mode_ == ProgressMode::kTty &&
      std::chrono::steady_clock::now() - last_draw_ >= kRedrawInterval)
    Redraw();
  std::fflush(out_);
}

// The step's line with its elapsed time, then its last output lines dimmed,
// drawn over what was drawn before.
void BuildProgress::Redraw() {
  EraseFold();
  std::fprintf(out_, "\r\033[K=> %s  %.1fs\n", Printable(label_, 100).c_str(), Elapsed());
  size_t first = tail_.size() > kFoldedLines ? tail_.size() - kFoldedLines : 0;
  folded_drawn_ = 1;
  for (size_t i = first; i < tail_.size(); ++i, ++folded_drawn_)
    std::fprintf(out_, "\033[K\033[2m   %s\033[0m\n", Printable(tail_[i], 110).c_str());
  last_draw_ = std::chrono::steady_clock::now();
}

void BuildProgress::EraseFold() {
  for (; folded_drawn_ > 0; --folded_drawn_) std::fprintf(out_, "\033[1A\033[K");
}

void BuildProgress::Finish(std::string_view how) {
  if (!partial_.empty()) {
    if (mode_ == ProgressMode::kPlain) std::fprintf(out_, "#%d %s\n", step_, partial_.c_str());
    tail_.push_back(std::move(partial_));
    partial_.clear();
  }
  if (mode_ == ProgressMode::kPlain) {
    if (how == "CACHED")
      std::fprintf(out_, "#%d CACHED\n", step_);
    else
      std::fprintf(out_, "#%d %s %.1fs\n", step_, std::string(how).c_str(), Elapsed());
  } else if (mode_ == ProgressMode::kTty) {
    EraseFold();
    if (how == "CACHED")
      std::fprintf(out_, "=> CACHED %s\n", Printable(label_, 100).c_str());
    else
      std::fprintf(out_, "=> %s  %.1fs%s\n", Printable(label_, 100).c_str(), Elapsed(),
                   how == "ERROR" ? "  ERROR" : "");
  }
  std::fflush(out_);
}

void BuildProgress::Cached() { Finish("CACHED"); }
void BuildProgress::Done() { Finish("DONE"); }
void BuildProgress::Failed() { Finish("ERROR"); }

void BuildProgress::Note(std::string_view line) {
  if (mode_ == ProgressMode::kQuiet) return;
  std::fprintf(out_, "%s%s\n", mode_ == ProgressMode::kTty ? "=> " : "#  ",
               std::string(line).c_str());
  std::fflush(out_);
}

std::string BuildProgress::Tail() const {
  std::string out;
  for (const std::string& line : tail_) out += line + "\n";
  if (!partial_.empty()) out += partial_ + "\n";
  return out;
}

}  // namespace vk::build
