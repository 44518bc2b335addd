// Image references as users type them, normalised the way docker does
// (`alpine` -> docker.io/library/alpine:latest), plus the local sources
// `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` and `docker-archive:FILE[:REF]`.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::image {

struct Reference {
  std::string registry;    // "docker.io", "ghcr.io", "localhost:5000"
  std::string repository;  // "library/alpine", "o/r"
  std::string tag;         // "latest" when neither tag nor digest was given
  std::string digest;      // "sha256:<64 hex>" or empty

  // docker.io -> registry-1.docker.io (where its API lives); others as is.
  std::string ApiHost() const;
  // "docker.io/library/alpine:latest", "ghcr.io/o/r@sha256:...",
  // "ghcr.io/o/r:v1@sha256:..." when both were given.
  std::string Canonical() const;
  // Tag or digest as the manifest endpoint takes it (digest wins).
  std::string ManifestReference() const;
  // docker's short form for listings: "alpine:latest", "ghcr.io/o/r:v1".
  std::string Familiar() const;
};

// Parses a registry reference. Rejects what docker rejects: upper case in
// the repository, empty components, bad tag characters, tags over 128
// bytes, digests that are not sha256:<64 lower-case hex>, names over 255.
Result<Reference> ParseReference(std::string_view text);

enum class SourceKind { kRegistry, kOciLayout, kOciArchive, kDockerArchive };

struct ImageSource {
  SourceKind kind = SourceKind::kRegistry;
  Reference reference;  // kRegistry
  std::string path;     // local kinds: the directory or archive file
  std::string tag;      // local kinds: the tag/ref inside it (may be empty)

  // As the user would type it again (for messages and `vk image ls`).
  std::string Display() const;
};

// "oci:DIR[:TAG]", "oci-archive:FILE[:TAG]", "docker-archive:FILE[:REF]",
// anything else is a registry reference.
Result<ImageSource> ParseImageSource(std::string_view text);

// "sha256:<64 lower-case hex>" (the only algorithm we accept).
bool IsValidDigest(std::string_view digest);

}  // namespace vk::image
