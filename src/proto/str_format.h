// StrFormat("read {} bytes from {}", n, name): "{}" placeholders only.
// The agent is a static binary that must stay small; fmt's locale support
// alone would pull the whole std::locale machinery into it, so the code shared
// with the agent (proto/, agent/) formats its messages with this instead.
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>

namespace vk::proto {
namespace detail {

inline void AppendText(std::string& out, std::string_view text) { out += text; }
inline void AppendText(std::string& out, const char* text) { out += text; }
inline void AppendText(std::string& out, const std::string& text) { out += text; }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void AppendText(std::string& out,
                                                                           T value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

inline void AppendFormatted(std::string& out, std::string_view pattern) { out += pattern; }

template <typename First, typename... Rest>
void AppendFormatted(std::string& out, std::string_view pattern, const First& first,
                     const Rest&... rest) {
  const size_t slot = pattern.find("{}");
  if (slot == std::string_view::npos) {
    out += pattern;
    return;
  }
  out += pattern.substr(0, slot);
  AppendText(out, first);
  AppendFormatted(out, pattern.substr(slot + 2), rest...);
}

}  // namespace detail

template <typename... Args>
std::string StrFormat(std::string_view pattern, const Args&... args) {
  std::string out;
  detail::AppendFormatted(out, pattern, args...);
  return out;
}

}  // namespace vk::proto
