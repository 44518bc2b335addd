// How much of a range of this process's address space is resident in its
// own page tables (the "present" bit of /proc/self/pagemap), as opposed to
// mincore(), which for a file mapping reports pages in the page cache even
// when this process never touched them. For the VMM's memory figures: the
// guest memory restored from a snapshot is a MAP_PRIVATE file mapping.
#pragma once

#include <cstdint>
#include <span>

namespace vk {

// Pages whose pagemap entry has the present bit (63) set
// (Documentation/admin-guide/mm/pagemap.rst).
uint64_t CountPresentPages(std::span<const uint64_t> pagemap_entries);

// Bytes of [start, start + size) present in this process's page tables
// (0 if /proc/self/pagemap cannot be read).
uint64_t MappedResidentBytes(uintptr_t start, uint64_t size);

}  // namespace vk
