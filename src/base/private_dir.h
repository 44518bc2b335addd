// Where virtkit keeps per-user state, and the rules for those directories.
//
// State directories hold sockets that reach a guest's root shell, so they
// must be private: directories we create are 0700 and files 0600 whatever
// the umask; an existing directory that another user owns, or that others
// may write to, is refused (someone could swap its entries); and we never
// fall back to a shared place such as /tmp when HOME is unset.
#pragma once

#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

// $VIRTKIT_HOME, else $HOME/.local/share/virtkit. An error when neither is set.
Result<std::string> DataDirectory();

// $XDG_RUNTIME_DIR/virtkit when XDG_RUNTIME_DIR is set, else DataDirectory().
Result<std::string> RuntimeDirectory();
// The same for a process whose data directory is `data_dir` (a `vk` started
// with VIRTKIT_HOME=data_dir): lets a program find VMs it started that way.
std::string RuntimeDirectoryFor(const std::string& data_dir);

// mkdir -p `path`; every directory it creates is 0700. The final directory
// must be ours and not writable by group or others (else an error that
// says how to fix it).
Result<void> EnsurePrivateDirectory(const std::string& path);

// The ownership/mode rule alone, for a directory that must already exist.
Result<void> CheckPrivateDirectory(const std::string& path);

// Creates `path` as a new directory, 0700; fails with EEXIST kept in the
// error when it exists (the caller decides what an existing one means).
Result<void> CreatePrivateDirectory(const std::string& path);

// Opens (creating) a file for writing with mode 0600 whatever the umask,
// never through a symlink. `flags` adds O_TRUNC or O_APPEND.
Result<UniqueFd> OpenPrivateFile(const std::string& path, int flags);

// Writes `contents` to a new or truncated 0600 file.
Result<void> WritePrivateFile(const std::string& path, const std::string& contents);

// Writes a 0600 file readers see whole or not at all (a temporary file
// renamed over `path`): for caches several vk processes fill at once.
Result<void> WritePrivateFileAtomically(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace vk
