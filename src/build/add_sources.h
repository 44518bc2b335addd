// What ADD does beyond COPY: a local tar archive (plain, gzip, xz or zstd) is
// unpacked into the destination, keeping the archive's owners and modes;
// an http(s) URL is downloaded (never unpacked, as docker does) and checked
// against --checksum when given. Archive and download contents are
// untrusted: paths go through the same normalization as image layers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "build/source_files.h"

namespace vk::build {

bool IsUrl(std::string_view source);

// Downloads `url` into `work_dir` as one file source named after the URL's
// last path element; mode 0600 as docker gives it. `checksum` ("sha256:HEX")
// is checked when not empty. Redirects are followed (at most 10).
Result<SourceMatch> DownloadSource(const std::string& url, std::string_view checksum,
                                   const std::string& work_dir);

// The archive behind a local file source, unpacked into `work_dir` as a
// directory match (its entries' paths relative to the destination), or
// nullopt when the file is not a tar archive (then it is copied as it is).
Result<std::optional<SourceMatch>> UnpackArchive(const SourceFile& file,
                                                 const std::string& work_dir);

// Largest download ADD takes: bounds a hostile or runaway server.
inline constexpr uint64_t kMaxDownloadBytes = 16ull << 30;

}  // namespace vk::build
