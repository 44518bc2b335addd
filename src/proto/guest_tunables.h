// glibc tunables for guests on PVM hosts, shared by the VMM (kernel command
// line) and vk-agent (its fallback when the variable is missing).
//
// Under PVM, guest user space runs natively with the host's XCR0, so CPUID
// and XGETBV report AVX/AVX-512 as usable, but the guest kernel must boot
// "noxsave" and then switches only x87/SSE registers between processes:
// two processes using YMM/ZMM registers corrupt each other (measured in
// docs/security.md). The host's XCR0 stays in force while the guest runs
// whatever the VMM sets with KVM_SET_XCRS (tried and measured), so the
// registers cannot be taken away; glibc can at least be told not to pick
// AVX code. Passed as a plain KEY=VALUE on the kernel command line, the
// kernel hands it to the agent (PID 1) as an environment variable, so the
// agent's own string functions avoid AVX from its first instruction.
#pragma once

namespace vk::proto {

inline constexpr char kPvmGlibcTunables[] =
    "glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-FMA,-F16C,"
    "-XSAVE,-XSAVEC";

}  // namespace vk::proto
