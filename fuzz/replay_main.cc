// A fuzz target's main() for builds without libFuzzer (the `asan` preset,
// g++): runs LLVMFuzzerTestOneInput once per input file, as libFuzzer does
// when given files instead of a corpus to grow. scripts/fuzz.sh replays the
// seed corpora with these binaries in CI, so the seeds run under ASan and
// UBSan without a second (clang) build of the libraries; the `fuzz` preset
// still builds the real libFuzzer targets for bench/fuzz.sh.
//
// Arguments as libFuzzer takes them: `-timeout=N` limits one input to N
// seconds (SIGALRM's default action ends the process: a hang fails the run);
// other `-name=value` flags are libFuzzer's and ignored; the rest are input
// files.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr std::string_view kTimeoutFlag = "-timeout=";

bool ReadWholeFile(const char* path, std::vector<uint8_t>& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes.assign(std::istreambuf_iterator<char>(in), {});
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  unsigned timeout_seconds = 0;
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with(kTimeoutFlag)) {
      timeout_seconds = static_cast<unsigned>(std::atoi(argv[i] + kTimeoutFlag.size()));
      continue;
    }
    if (arg.starts_with("-")) continue;
    std::vector<uint8_t> bytes;
    if (!ReadWholeFile(argv[i], bytes)) {
      std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 1;
    }
    std::fprintf(stderr, "Running: %s\n", argv[i]);
    ::alarm(timeout_seconds);
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ::alarm(0);
    ++ran;
  }
  std::fprintf(stderr, "Executed %d inputs\n", ran);
  return 0;
}
