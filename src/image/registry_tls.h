// Per-registry TLS trust, the way docker and podman/skopeo users set it up
// (docker docs "Verify repository client with certificates",
// containers-certs.d(5)): for a registry HOST[:PORT] every root below holds
// an optional directory HOST:PORT (HOST alone for port 443) where
//   *.crt          are extra CA certificates, trusted on top of the system's
//   *.cert + *.key are a client certificate and its key (same base name)
// Roots: VIRTKIT_CERTS_DIRS (colon list) when set, else /etc/docker/certs.d,
// /etc/containers/certs.d and ~/.config/containers/certs.d.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::image {

inline constexpr std::string_view kCertsDirsVariable = "VIRTKIT_CERTS_DIRS";

struct TlsSettings {
  std::string ca_bundle;    // PEM: the system bundle plus the extra CAs; empty: system only
  std::string client_cert;  // path of a *.cert, or empty
  std::string client_key;   // its *.key
};

std::vector<std::string> CertsDirRoots();

// What the certs.d directories say for `authority` ("host:port" as
// UrlAuthority gives it). A *.cert without its *.key (or the reverse) is an
// error, as in docker.
Result<TlsSettings> LoadTlsSettings(std::string_view authority);

// The directories for `authority` where a CA certificate would be read,
// for messages ("put ca.crt in ...").
std::vector<std::string> CertsDirsFor(std::string_view authority);

}  // namespace vk::image
