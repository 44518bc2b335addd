// What a long-running VMM gives back once it has set itself up. Parsing the
// command line, resolving the image, checking the template, loading the
// ELF, building the sandbox: that code runs once, but its pages (and every
// page of the executable and libraries that the kernel's fault-around
// mapped next to them) stay in the process's RSS for the VM's whole life.
// Dropping them costs nothing the VM needs: a page it touches again is
// mapped back from the page cache (a minor fault), so what stays resident
// is the code the running VM actually uses (docs/snapshots.md, "Memory").
#pragma once

#include <cstdint>
#include <vector>

namespace vk {

struct AddressRange {
  uintptr_t start = 0;  // page-aligned
  uintptr_t end = 0;    // page-aligned, exclusive
};

// The pages of every read-only PT_LOAD segment (code, read-only data) of
// the executable and each loaded library. Such pages are never written, so
// the mapping holds nothing but the file's pages. Left out: writable
// segments (RELRO too: relocated, so private), objects with text
// relocations (written at load time), and the vDSO (not a file).
std::vector<AddressRange> ReadOnlyImageRanges();

// For a process about to run for long: blocks of 128 KiB and more get a
// mapping of their own, unmapped when freed, and an arena whose free top
// passes 128 KiB gives it back. glibc otherwise raises both thresholds to
// the largest block freed so far (up to 32 MiB), after which such a block
// (e.g. the scratch disk copy's 1 MiB buffer, on a thread of its own) stays
// resident in that thread's arena: malloc_trim never shrinks an arena's top
// except the main one's.
void FixMallocThresholds();

// Drops the pages of ReadOnlyImageRanges() from this process's page tables
// (MADV_DONTNEED; they stay in the page cache) and returns the malloc heap's
// free pages to the kernel (malloc_trim). Safe while other threads run:
// their next instruction on a dropped page faults it back in.
void DropSetupMemory();

}  // namespace vk
