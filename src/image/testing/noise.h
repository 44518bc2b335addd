// Incompressible, reproducible bytes for registry and transfer tests (a blob
// that takes a while to cross the network, a disk that does not dedupe).
#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace vk::image::testing {

inline std::string NoiseBytes(size_t size, unsigned seed) {
  std::mt19937_64 random(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(random());
  return out;
}

}  // namespace vk::image::testing
