// How many guest exits per second the VMM handles: a tiny guest writes to an
// I/O port N times (each write is a KVM_EXIT_IO handled in vk's vCPU loop),
// then powers off. Host-side cost, meaningful on PVM hosts too.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vmm/machine.h"
#include "vmm/testing/tiny_elf.h"

namespace {

std::vector<uint8_t> LoopingGuest(uint32_t iterations) {
  std::vector<uint8_t> code = {0xb9};  // mov ecx, iterations
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(iterations >> (8 * i)));
  const uint8_t body[] = {
      0xe6, 0x80,  // loop: out 0x80, al (the POST port: no device, just an exit)
      0xff, 0xc9,  // dec ecx
      0x75, 0xfa,  // jnz loop
      0xb0, 0x00,  // mov al, 0
      0xe6, 0xf4,  // out 0xf4, al: power off
      0xf4,        // hlt
  };
  code.insert(code.end(), std::begin(body), std::end(body));
  return vk::testing::TinyElfKernel(code);
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t iterations = argc > 1 ? static_cast<uint32_t>(std::atoi(argv[1])) : 200000;
  std::vector<uint8_t> kernel = LoopingGuest(iterations);
  vk::MachineConfig config;
  config.kernel = kernel;
  config.memory_bytes = 64ull << 20;
  auto machine = vk::Machine::Create(config);
  if (!machine.ok() || !(*machine)->Start().ok()) {
    std::fprintf(stderr, "exit_rate: cannot start a VM (needs /dev/kvm)\n");
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  vk::MachineExit exit = (*machine)->Wait();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (exit.kind != vk::ExitKind::kPowerOff) {
    std::fprintf(stderr, "exit_rate: guest ended unexpectedly: %s\n", exit.detail.c_str());
    return 1;
  }
  uint64_t exits = (*machine)->stats().exits;
  std::printf("%lu exits in %.3f s: %.0f exits/s handled\n", static_cast<unsigned long>(exits),
              seconds, exits / seconds);
  return 0;
}
