#include "base/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/strings.h"

namespace vk {
namespace {

std::string Hex(const Sha256Digest& digest) { return BytesToHex(digest.data(), digest.size()); }

// FIPS 180-2 appendix B and the NIST example values.
TEST(Sha256Test, MatchesTheStandardsExamples) {
  EXPECT_EQ(Hex(Sha256Of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(Sha256Of(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// The padding's edges: the length fits in the last block (55), just does
// not (56), and messages of one block less a byte, a whole block and more.
TEST(Sha256Test, PadsAtEveryBlockEdge) {
  const std::vector<std::pair<size_t, std::string>> cases = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
  };
  for (const auto& [length, digest] : cases) {
    EXPECT_EQ(Hex(Sha256Of(std::string(length, 'a'))), digest) << length << " bytes";
  }
}

TEST(Sha256Test, PiecesHashLikeTheWhole) {
  std::string text;
  for (int i = 0; i < 300; ++i) text.push_back(static_cast<char>(i * 7 + 3));
  const Sha256Digest whole = Sha256Of(text);
  for (size_t split = 0; split <= text.size(); split += 13) {
    Sha256Hasher hasher;
    hasher.Update(std::string_view(text).substr(0, split));
    hasher.Update(std::string_view(text).substr(split, 1));
    hasher.Update(std::string_view(text).substr(split + std::min<size_t>(1, text.size() - split)));
    EXPECT_EQ(hasher.Finish(), whole) << "split at " << split;
  }
  EXPECT_NE(Sha256Of(text.substr(1)), whole);
}

}  // namespace
}  // namespace vk
