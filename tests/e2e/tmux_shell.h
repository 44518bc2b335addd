// Drives an interactive guest shell through tmux as a user would: wait for
// the prompt, type, resize the terminal, ^C a sleep, and `exit 3`. Shared by
// `vk exec -it` and `vk run --shell` tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "e2e/vk_process.h"

namespace vk::e2e {

// Polls the pane until it shows `text`: guest commands are slow on PVM, a
// fork+exec takes seconds when the host is loaded.
inline bool PaneShows(const std::string& session, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    ProcessResult pane = RunProcess({"tmux", "capture-pane", "-p", "-t", session});
    if (pane.out.find(text) != std::string::npos) return true;
    last = pane.out + pane.err;
    ::usleep(500000);
  }
  ADD_FAILURE() << "tmux pane never showed '" << text << "'; it shows:\n" << last;
  return false;
}

// Starts `command` in a 100x30 tmux session; its exit status goes to
// `status_file`. Then checks the shell end to end and ends it with `exit 3`
// (the caller checks that 3 came back). `prompt` as tmux prints it (trailing
// space trimmed), e.g. "~ #".
inline void ExerciseShell(const std::string& session, const std::string& command,
                          const std::string& status_file, const std::string& prompt) {
  ASSERT_EQ(RunProcess({"tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                        command + "; echo $? > " + status_file + "; sleep 30"})
                .exit_code,
            0);
  ASSERT_TRUE(PaneShows(session, prompt));  // input is read from now on
  RunProcess({"tmux", "send-keys", "-t", session, "echo typed-$((6*7))", "Enter"});
  EXPECT_TRUE(PaneShows(session, "typed-42"));
  RunProcess({"tmux", "resize-window", "-t", session, "-x", "120", "-y", "40"});
  ::usleep(500000);
  RunProcess({"tmux", "send-keys", "-t", session, "stty size", "Enter"});
  EXPECT_TRUE(PaneShows(session, "40 120"));
  // ^C only once the command runs (it says so): sent while the shell still
  // forks it (seconds on a loaded PVM host), it would reach the shell alone.
  RunProcess({"tmux", "send-keys", "-t", session, "sh -c 'echo sleeping-$((2+3)); exec sleep 1000'",
              "Enter"});
  ASSERT_TRUE(PaneShows(session, "sleeping-5"));
  RunProcess({"tmux", "send-keys", "-t", session, "C-c"});
  // Only an interrupted sleep lets the shell run the next line in time.
  RunProcess({"tmux", "send-keys", "-t", session, "echo back-$((1+1))", "Enter"});
  EXPECT_TRUE(PaneShows(session, "back-2"));
  RunProcess({"tmux", "send-keys", "-t", session, "exit 3", "Enter"});
  for (int i = 0; i < 240 && RunProcess({"cat", status_file}).out.empty(); ++i) ::usleep(500000);
  EXPECT_EQ(RunProcess({"cat", status_file}).out, "3\n");
  RunProcess({"tmux", "kill-session", "-t", session});
}

}  // namespace vk::e2e
