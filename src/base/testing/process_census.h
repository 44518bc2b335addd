// Test helper for soak tests: counts what a process holds (open fds,
// threads, memory mappings, resident memory, child processes) and the files
// under a directory, so a test can compare a baseline with the state after
// many create/destroy cycles and name the counter that grew.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace vk::testing {

struct ProcessCensus {
  int64_t fds = 0;
  int64_t threads = 0;
  int64_t mappings = 0;  // lines of /proc/self/maps: catches unmapped-but-not-resident leaks
  int64_t rss_kib = 0;
  int64_t children = 0;  // live or zombie processes whose parent is this process
  int64_t files = 0;     // regular files, sockets and dirs under the watched directory
};

// Entries an iterator of `dir` visits; 0 when it does not exist.
template <typename Iterator>
int64_t CountVisited(const std::string& dir) {
  std::error_code error;
  int64_t count = 0;
  for (auto it = Iterator(dir, error); !error && it != Iterator(); it.increment(error)) ++count;
  return count;
}

// Entries of one directory (e.g. a /proc listing).
inline int64_t CountEntries(const std::string& dir) {
  return CountVisited<std::filesystem::directory_iterator>(dir);
}

// Open fds; the directory iterator's own fd is listed too, so one less.
inline int64_t CountOpenFds() { return CountEntries("/proc/self/fd") - 1; }

inline int64_t CountLines(const std::string& path) {
  std::ifstream in(path);
  int64_t count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  return count;
}

inline int64_t ResidentKib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// Processes whose parent is us, found by reading every /proc/PID/stat: the
// field after the parenthesised command name (which may hold spaces) is the
// state, then the parent pid.
inline int64_t CountChildren() {
  const pid_t self = ::getpid();
  int64_t count = 0;
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    std::string name = it->path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(it->path() / "stat");
    std::string stat;
    std::getline(in, stat);
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long parent = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &parent) == 2 && parent == self)
      ++count;
  }
  return count;
}

// Every entry below `dir` (recursively); 0 when it does not exist.
inline int64_t CountFilesUnder(const std::string& dir) {
  return CountVisited<std::filesystem::recursive_directory_iterator>(dir);
}

inline ProcessCensus TakeCensus(const std::string& watched_dir) {
  ProcessCensus census;
  census.fds = CountOpenFds();
  census.threads = CountEntries("/proc/self/task");
  census.mappings = CountLines("/proc/self/maps");
  census.rss_kib = ResidentKib();
  census.children = CountChildren();
  census.files = CountFilesUnder(watched_dir);
  return census;
}

}  // namespace vk::testing
