// Registry credentials where docker keeps them, so `docker login` works for
// vk and `vk login` works for docker: config.json's credHelpers, credsStore
// (docker-credential-<name> programs) and auths entries.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::image {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (then password is empty)
};

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::string DockerConfigPath();

// Credentials for `registry` as the user names it ("docker.io",
// "localhost:5000", "ghcr.io"), nullopt when none are configured. Precedence
// as docker: credHelpers[registry], then credsStore, then auths[registry].
// Errors: unreadable or malformed config.json, a missing or failing helper.
Result<std::optional<Credentials>> LookupCredentials(std::string_view registry);

// `vk login`: saves to the configured helper, else to auths in config.json
// (rewritten atomically, mode 0600, every other key kept).
Result<void> StoreCredentials(std::string_view registry, const Credentials& credentials);

// `vk logout`: erases from the configured helper (if any) and from auths.
// Erasing credentials that do not exist succeeds.
Result<void> EraseCredentials(std::string_view registry);

}  // namespace vk::image
