// Pieces shared by the local importers (local_oci.cc,
// local_docker_archive.cc); not part of the image module's interface.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "image/tar_stream.h"

struct archive_entry;

namespace vk::image::local {

// oci-layout is a one-line JSON object; anything bigger is not one.
inline constexpr size_t kMaxLayoutFileBytes = 64 << 10;

// The source as typed, without its tag: the prefix of error messages.
std::string Where(const ImageSource& source);

// The entry's name, without the "./" that `tar -C DIR .` puts in front; empty
// for anything but a plain regular file (links, directories, devices).
std::string_view RegularEntryName(archive_entry* entry);

// Feeds the current entry's data to `sink` in order. Sparse entries (holes)
// are refused: no image tool writes them and a hole would bypass the hash.
Result<void> ForEachBlock(TarStream& tar,
                          const std::function<Result<void>(const void*, size_t)>& sink);

// The current entry's data, refused when over `max_bytes`.
Result<std::string> ReadEntry(TarStream& tar, archive_entry* entry, size_t max_bytes);

// Opens a local archive (a regular file: it is read twice, by offset).
Result<UniqueFd> OpenArchiveFile(const std::string& path);

// Writes the image record for `manifest` (stored as `manifest_digest`, its
// config and layers already in the store) and returns it.
Result<ImageRecord> RecordImage(Store& store, const ImageSource& source,
                                const std::string& manifest_digest, const Manifest& manifest);

Result<ImageRecord> ImportOciLayout(Store& store, const ImageSource& source,
                                    const Platform& platform);
Result<ImageRecord> ImportOciArchive(Store& store, const ImageSource& source,
                                     const Platform& platform);
Result<ImageRecord> ImportDockerArchive(Store& store, const ImageSource& source);

}  // namespace vk::image::local
