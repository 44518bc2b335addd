// Every inode and open handle the guest holds is a host fd of the VMM, which
// also needs fds of its own: for `vk exec` and `vk stop` connections (the
// vsock listeners), disks, logs. The table bounds (kMaxInodes, kMaxHandles)
// are far above a usual RLIMIT_NOFILE (1024 soft), so they alone would let a
// guest that looks files up and never forgets them use every fd the process
// has. Hence a second bound: an fd for the guest is kept only while at least
// kFdReserve descriptors stay below the soft limit.
//
// fds are allocated lowest-first (POSIX), so a new fd numbered n means fds
// 0..n-1 are all in use: n >= limit - reserve means at most `reserve` remain.
#pragma once

#include <sys/resource.h>

namespace vk::virtio::fs {

inline constexpr int kFdReserve = 128;

// Whether `fd`, just opened for the guest, eats into the VMM's reserve.
inline bool InFdReserve(int fd) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  return static_cast<rlim_t>(fd) + kFdReserve >= limit.rlim_cur;
}

}  // namespace vk::virtio::fs
