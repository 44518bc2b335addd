// Checks that a guest kernel preserves user-space vector registers across
// context switches: N processes each fill the AVX2 (ymm0-15) or AVX-512
// (zmm0-31) registers with their own pattern, yield the CPU, and check the
// registers still hold it. Prints one line per width:
//   vector-check avx2 rounds=R corrupted=C
// Exit 0 always when the check ran (the caller judges the counts), 2 when the
// CPU or OS lacks the feature.
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

// Fills ymm0-15 with `pattern`, yields (a syscall that lets the other
// processes run on this CPU), spins a little, then stores ymm0-15 to `out`.
static void YmmRound(uint32_t pattern, uint8_t out[16][32]) {
  __asm__ volatile(
      "vmovd %[p], %%xmm0\n\t"
      "vpbroadcastd %%xmm0, %%ymm0\n\t"
      "vmovdqa %%ymm0, %%ymm1\n\t vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm0, %%ymm3\n\t"
      "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm0, %%ymm5\n\t vmovdqa %%ymm0, %%ymm6\n\t"
      "vmovdqa %%ymm0, %%ymm7\n\t vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm0, %%ymm9\n\t"
      "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm0, %%ymm11\n\t vmovdqa %%ymm0, %%ymm12\n\t"
      "vmovdqa %%ymm0, %%ymm13\n\t vmovdqa %%ymm0, %%ymm14\n\t vmovdqa %%ymm0, %%ymm15\n\t"
      "mov $24, %%eax\n\t syscall\n\t"  // sched_yield
      "mov $200000, %%ecx\n1:\n\t dec %%ecx\n\t jnz 1b\n\t"
      "vmovdqu %%ymm0, 0(%[o])\n\t vmovdqu %%ymm1, 32(%[o])\n\t vmovdqu %%ymm2, 64(%[o])\n\t"
      "vmovdqu %%ymm3, 96(%[o])\n\t vmovdqu %%ymm4, 128(%[o])\n\t vmovdqu %%ymm5, 160(%[o])\n\t"
      "vmovdqu %%ymm6, 192(%[o])\n\t vmovdqu %%ymm7, 224(%[o])\n\t vmovdqu %%ymm8, 256(%[o])\n\t"
      "vmovdqu %%ymm9, 288(%[o])\n\t vmovdqu %%ymm10, 320(%[o])\n\t vmovdqu %%ymm11, 352(%[o])\n\t"
      "vmovdqu %%ymm12, 384(%[o])\n\t vmovdqu %%ymm13, 416(%[o])\n\t vmovdqu %%ymm14, 448(%[o])\n\t"
      "vmovdqu %%ymm15, 480(%[o])\n\t"
      "vzeroupper\n\t"
      :
      : [p] "r"(pattern), [o] "r"(out)
      : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
        "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void ZmmRound(uint32_t pattern, uint8_t out[32][64]) {
  __asm__ volatile(
      "vpbroadcastd %[p], %%zmm0\n\t"
      ".irp r,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
      "vmovdqa64 %%zmm0, %%zmm\\r\n\t"
      ".endr\n\t"
      "mov $24, %%eax\n\t syscall\n\t"
      "mov $200000, %%ecx\n1:\n\t dec %%ecx\n\t jnz 1b\n\t"
      ".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
      "vmovdqu64 %%zmm\\r, \\r*64(%[o])\n\t"
      ".endr\n\t"
      "vzeroupper\n\t"
      :
      : [p] "r"(pattern), [o] "r"(out)
      : "rax", "rcx", "r11", "memory");
}

static int CountBad(const uint8_t* bytes, size_t size, uint32_t pattern) {
  for (size_t i = 0; i < size; i += 4) {
    uint32_t v;
    memcpy(&v, bytes + i, 4);
    if (v != pattern) return 1;
  }
  return 0;
}

static long RunChild(int zmm, uint32_t pattern, int rounds) {
  static uint8_t out[32][64] __attribute__((aligned(64)));
  long bad = 0;
  for (int i = 0; i < rounds; ++i) {
    memset(out, 0, sizeof(out));
    if (zmm) {
      ZmmRound(pattern, out);
      bad += CountBad(&out[0][0], 32 * 64, pattern);
    } else {
      YmmRound(pattern, (uint8_t(*)[32])out);
      bad += CountBad(&out[0][0], 16 * 32, pattern);
    }
  }
  return bad;
}

static void Check(const char* name, int zmm, int processes, int rounds) {
  long* results = mmap(NULL, sizeof(long) * processes, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (int p = 0; p < processes; ++p) {
    if (fork() == 0) {
      results[p] = RunChild(zmm, 0x11111111u * (uint32_t)(p + 1) ^ 0xa5a5a5a5u, rounds);
      _exit(0);
    }
  }
  for (int p = 0; p < processes; ++p) wait(NULL);
  long bad = 0;
  for (int p = 0; p < processes; ++p) bad += results[p];
  printf("vector-check %s processes=%d rounds=%ld corrupted=%ld\n", name, processes,
         (long)processes * rounds, bad);
}

int main(int argc, char** argv) {
  int processes = argc > 1 ? atoi(argv[1]) : 3;
  int rounds = argc > 2 ? atoi(argv[2]) : 200;
  __builtin_cpu_init();
  int ran = 0;
  if (__builtin_cpu_supports("avx2")) Check("avx2", 0, processes, rounds), ran = 1;
  else printf("vector-check avx2 unsupported\n");
  if (__builtin_cpu_supports("avx512f")) Check("avx512", 1, processes, rounds), ran = 1;
  else printf("vector-check avx512 unsupported\n");
  fflush(stdout);
  return ran ? 0 : 2;
}
